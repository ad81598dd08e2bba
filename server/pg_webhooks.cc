// PgStore: the webhook outbox (events, their deliveries and the delivery log) and the endpoints
// they go to. Events are written by AppendEvent inside the transaction of the change that causes
// them, under a transaction-scoped advisory lock of the organization taken before the event's
// seq is drawn: two transactions of one organization draw their seqs in commit order.
#include "pg_store.h"
#include "webhook/event.h"

namespace sima::server {

using pg::Conn;

ExpectedDone PgStore::AppendEvent(Conn& c, const std::string& org_id, std::string_view type,
                                  const Json& data, Time now) {
  if (auto r = c.Run("SELECT pg_advisory_xact_lock(hashtextextended('sima_events:' || $1, 0))",
                     org_id);
      !r) {
    return r.error();
  }
  auto row = c.One(
      "INSERT INTO webhook_events(id, org_id, type, data, created_at) VALUES ($1, $2, $3, $4, $5) "
      "RETURNING seq",
      webhook::NewEventId(), org_id, std::string(type),
      data.dump(-1, ' ', false, Json::error_handler_t::replace), ToUnixSeconds(now));
  if (!row) return row.error();
  if (!*row) return Error::Internal("the event was not stored");
  const int64_t seq = (*row)->Int(0);
  if (auto r = c.Run(
          "INSERT INTO webhook_deliveries(event_seq, endpoint_id, org_id, status, next_attempt_at, "
          "created_at) SELECT $1, id, $2, 'pending', $3, $3 FROM webhook_endpoints WHERE enabled "
          "AND deleted_at IS NULL AND (org_id IS NULL OR org_id = $2)",
          seq, org_id, ToUnixSeconds(now));
      !r) {
    return r.error();
  }
  return Done{};
}

// --- not built yet (the webhook-store branch) ---
namespace {
Error NotBuilt() { return Error::Internal("webhooks are not built yet"); }
}  // namespace

Expected<WebhookEndpoint> PgStore::CreateWebhookEndpoint(const NewWebhookEndpoint&, Time) {
  return NotBuilt();
}
Expected<std::vector<WebhookEndpoint>> PgStore::ListWebhookEndpoints(
    const std::optional<std::string>&) {
  return NotBuilt();
}
Expected<WebhookEndpoint> PgStore::GetWebhookEndpoint(const std::string&) { return NotBuilt(); }
Expected<WebhookEndpoint> PgStore::UpdateWebhookEndpoint(const std::string&,
                                                             const WebhookEndpointPatch&, Time) {
  return NotBuilt();
}
Expected<WebhookEndpoint> PgStore::RotateWebhookSecret(const std::string&, const std::string&,
                                                           Time, Time) {
  return NotBuilt();
}
ExpectedDone PgStore::DeleteWebhookEndpoint(const std::string&, Time) { return NotBuilt(); }
Expected<Page<WebhookEvent>> PgStore::ListWebhookEvents(const std::optional<std::string>&,
                                                            const PageRequest&) {
  return NotBuilt();
}
Expected<WebhookEventDetail> PgStore::GetWebhookEvent(const std::string&) { return NotBuilt(); }
Expected<WebhookEventDetail> PgStore::ResendWebhookEvent(const std::string&,
                                                             const std::optional<std::string>&,
                                                             Time) {
  return NotBuilt();
}
Expected<std::vector<DueDelivery>> PgStore::ClaimDueDeliveries(Time, Time, int64_t) {
  return NotBuilt();
}
ExpectedDone PgStore::CompleteDelivery(int64_t, const std::string&, const DeliveryResult&,
                                           Time) {
  return NotBuilt();
}

}  // namespace sima::server
