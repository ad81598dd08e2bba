// SqliteStore: the webhook outbox (events, their deliveries and the delivery log) and the
// endpoints they go to. Events are written by AppendEvent inside the transaction of the change
// that causes them; SQLite's single writer commits them in seq order.
#include "sqlite_store.h"
#include "webhook/event.h"

namespace sima::server {

using sqlite::Db;

ExpectedDone SqliteStore::AppendEvent(Db& db, const std::string& org_id, std::string_view type,
                                      const Json& data, Time now) {
  const std::string id = webhook::NewEventId();
  if (auto r = db.Run("INSERT INTO webhook_events(id, org_id, type, data, created_at) "
                      "VALUES (?, ?, ?, ?, ?)",
                      id, org_id, type, data.dump(-1, ' ', false, Json::error_handler_t::replace),
                      now);
      !r) {
    return r;
  }
  const int64_t seq = db.last_insert_rowid();
  return db.Run(
      "INSERT INTO webhook_deliveries(event_seq, endpoint_id, org_id, status, next_attempt_at, "
      "created_at) SELECT ?, id, ?, 'pending', ?, ? FROM webhook_endpoints WHERE enabled = 1 AND "
      "deleted_at IS NULL AND (org_id IS NULL OR org_id = ?)",
      seq, org_id, now, now, org_id);
}

// --- not built yet (the webhook-store branch) ---
namespace {
Error NotBuilt() { return Error::Internal("webhooks are not built yet"); }
}  // namespace

Expected<WebhookEndpoint> SqliteStore::CreateWebhookEndpoint(const NewWebhookEndpoint&, Time) {
  return NotBuilt();
}
Expected<std::vector<WebhookEndpoint>> SqliteStore::ListWebhookEndpoints(
    const std::optional<std::string>&) {
  return NotBuilt();
}
Expected<WebhookEndpoint> SqliteStore::GetWebhookEndpoint(const std::string&) { return NotBuilt(); }
Expected<WebhookEndpoint> SqliteStore::UpdateWebhookEndpoint(const std::string&,
                                                             const WebhookEndpointPatch&, Time) {
  return NotBuilt();
}
Expected<WebhookEndpoint> SqliteStore::RotateWebhookSecret(const std::string&, const std::string&,
                                                           Time, Time) {
  return NotBuilt();
}
ExpectedDone SqliteStore::DeleteWebhookEndpoint(const std::string&, Time) { return NotBuilt(); }
Expected<Page<WebhookEvent>> SqliteStore::ListWebhookEvents(const std::optional<std::string>&,
                                                            const PageRequest&) {
  return NotBuilt();
}
Expected<WebhookEventDetail> SqliteStore::GetWebhookEvent(const std::string&) { return NotBuilt(); }
Expected<WebhookEventDetail> SqliteStore::ResendWebhookEvent(const std::string&,
                                                             const std::optional<std::string>&,
                                                             Time) {
  return NotBuilt();
}
Expected<std::vector<DueDelivery>> SqliteStore::ClaimDueDeliveries(Time, Time, int64_t) {
  return NotBuilt();
}
ExpectedDone SqliteStore::CompleteDelivery(int64_t, const std::string&, const DeliveryResult&,
                                           Time) {
  return NotBuilt();
}

}  // namespace sima::server
