// PgStore: the webhook outbox (events, their deliveries and the delivery log) and the endpoints
// they go to. Events are written by AppendEvent inside the transaction of the change that causes
// them, under a transaction-scoped advisory lock of the organization taken before the event's
// seq is drawn: two transactions of one organization draw their seqs in commit order.
#include <algorithm>

#include "pg_store.h"
#include "sima/crypto.h"
#include "store_rows.h"
#include "webhook/event.h"
#include "webhook/outbox.h"
#include "webhook/rows.h"

namespace sima::server {

using pg::Conn;
using pg::Row;

namespace {

const std::string kSelectEndpoint =
    "SELECT " + std::string(webhook::kEndpointColumns) + " FROM webhook_endpoints ";
const std::string kSelectEvent =
    "SELECT " + std::string(webhook::kEventColumns) + " FROM webhook_events ";

// An endpoint not deleted; kNotFound otherwise.
Expected<WebhookEndpoint> LoadEndpoint(Conn& c, const std::string& endpoint_id) {
  auto row = c.One(kSelectEndpoint + "WHERE id = $1 AND deleted_at IS NULL", endpoint_id);
  if (!row) return row.error();
  if (!*row) return Error::NotFound("no webhook endpoint with this id");
  return webhook::ReadEndpointRow(**row);
}

// The event with its deliveries and their attempts (oldest first); kNotFound when none.
// `lock`: the event's row is locked to the commit (a resend against a prune).
Expected<WebhookEventDetail> LoadEventDetail(Conn& c, const std::string& event_id,
                                             bool lock = false) {
  auto row = c.One(kSelectEvent + "WHERE id = $1" + (lock ? " FOR UPDATE" : ""), event_id);
  if (!row) return row.error();
  if (!*row) return Error::NotFound("no webhook event with this id");
  return webhook::ReadEventDetail(
      **row, [&](std::string_view sql, int64_t seq) { return c.All(std::string(sql), seq); });
}

}  // namespace

ExpectedDone PgStore::AppendEvent(Conn& c, const std::string& org_id, std::string_view type,
                                  const Json& data, Time now) {
  if (auto r =
          c.Run("SELECT pg_advisory_xact_lock(hashtextextended('sima_events:' || $1, 0))", org_id);
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

ExpectedDone PgStore::AppendEvents(Conn& c, const std::string& org_id,
                                   const std::vector<webhook::NewEvent>& events, Time now) {
  for (const webhook::NewEvent& e : events) {
    if (auto r = AppendEvent(c, org_id, e.type, e.data, now); !r) return r;
  }
  return Done{};
}

ExpectedDone PgStore::AppendAttention(Conn& c, int64_t payment_id, const std::string& why,
                                      Time now) {
  auto payment = LoadPayment(c, payment_id);
  if (!payment) return payment.error();
  auto row =
      c.One("SELECT " + std::string(kSubscriptionColumns) + " FROM subscriptions WHERE org_id = $1",
            payment->org_id);
  if (!row) return row.error();
  if (!*row) return Error::NotFound("no such organization");
  const webhook::NewEvent e =
      webhook::AttentionEvent(catalog_, *payment, ReadSubscriptionRow(**row), why, now);
  return AppendEvent(c, payment->org_id, e.type, e.data, now);
}

Expected<WebhookEndpoint> PgStore::CreateWebhookEndpoint(const NewWebhookEndpoint& endpoint,
                                                         Time now) {
  return Tx<WebhookEndpoint>([&](Conn& c) -> Expected<WebhookEndpoint> {
    // One creation per scope at a time, so two instances cannot both pass the cap.
    if (auto r = c.Run("SELECT pg_advisory_xact_lock(hashtextextended("
                       "'sima_webhook_endpoints:' || $1, 0))",
                       endpoint.org_id.value_or(""));
        !r) {
      return r.error();
    }
    if (endpoint.org_id) {
      auto org = c.One("SELECT 1 FROM organizations WHERE id = $1", *endpoint.org_id);
      if (!org) return org.error();
      if (!*org) return Error::NotFound("no such organization");
    }
    auto count = c.One(
        "SELECT COUNT(*) FROM webhook_endpoints WHERE org_id IS NOT DISTINCT FROM $1 AND "
        "deleted_at IS NULL",
        endpoint.org_id);
    if (!count) return count.error();
    if ((*count)->Int(0) >= webhook::kMaxEndpointsPerScope) {
      return webhook::TooManyEndpoints(endpoint.org_id);
    }
    if (auto r = c.Run("INSERT INTO webhook_endpoints(id, org_id, url, description, secret, "
                       "created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $6)",
                       endpoint.id, endpoint.org_id, endpoint.url, endpoint.description,
                       endpoint.secret, ToUnixSeconds(now));
        !r) {
      return r.error();
    }
    return LoadEndpoint(c, endpoint.id);
  });
}

Expected<std::vector<WebhookEndpoint>> PgStore::ListWebhookEndpoints(
    const std::optional<std::string>& org_id) {
  return Read<std::vector<WebhookEndpoint>>([&](Conn& c) -> Expected<std::vector<WebhookEndpoint>> {
    auto rows = c.All(kSelectEndpoint +
                          "WHERE org_id IS NOT DISTINCT FROM $1 AND deleted_at IS NULL "
                          "ORDER BY created_at, id",
                      org_id);
    if (!rows) return rows.error();
    std::vector<WebhookEndpoint> out;
    for (const Row& r : *rows) out.push_back(webhook::ReadEndpointRow(r));
    return out;
  });
}

Expected<WebhookEndpoint> PgStore::GetWebhookEndpoint(const std::string& endpoint_id) {
  return Read<WebhookEndpoint>([&](Conn& c) { return LoadEndpoint(c, endpoint_id); });
}

Expected<WebhookEndpoint> PgStore::UpdateWebhookEndpoint(const std::string& endpoint_id,
                                                         const WebhookEndpointPatch& patch,
                                                         Time now) {
  return Tx<WebhookEndpoint>([&](Conn& c) -> Expected<WebhookEndpoint> {
    if (auto r =
            c.Run("UPDATE webhook_endpoints SET url = COALESCE($1, url), "
                  "description = COALESCE($2, description), "
                  "enabled = COALESCE($3, enabled), updated_at = $4 "
                  "WHERE id = $5 AND deleted_at IS NULL",
                  patch.url, patch.description, patch.enabled, ToUnixSeconds(now), endpoint_id);
        !r) {
      return r.error();
    }
    return LoadEndpoint(c, endpoint_id);
  });
}

Expected<WebhookEndpoint> PgStore::RotateWebhookSecret(const std::string& endpoint_id,
                                                       const std::string& new_secret,
                                                       Time previous_until, Time now) {
  return Tx<WebhookEndpoint>([&](Conn& c) -> Expected<WebhookEndpoint> {
    if (auto r = c.Run("UPDATE webhook_endpoints SET previous_secret = secret, secret = $1, "
                       "previous_secret_until = $2, updated_at = $3 "
                       "WHERE id = $4 AND deleted_at IS NULL",
                       new_secret, ToUnixSeconds(previous_until), ToUnixSeconds(now), endpoint_id);
        !r) {
      return r.error();
    }
    return LoadEndpoint(c, endpoint_id);
  });
}

ExpectedDone PgStore::DeleteWebhookEndpoint(const std::string& endpoint_id, Time now) {
  return Tx<Done>([&](Conn& c) -> ExpectedDone {
    auto deleted = c.Run(
        "UPDATE webhook_endpoints SET deleted_at = $1, enabled = false, "
        "updated_at = $1 WHERE id = $2 AND deleted_at IS NULL",
        ToUnixSeconds(now), endpoint_id);
    if (!deleted) return deleted.error();
    if (*deleted == 0) return Error::NotFound("no webhook endpoint with this id");
    auto failed =
        c.Run(std::string(webhook::kFailDeletedEndpointSql), ToUnixSeconds(now), endpoint_id);
    if (!failed) return failed.error();
    return Done{};
  });
}

Expected<Page<WebhookEvent>> PgStore::ListWebhookEvents(const std::optional<std::string>& org_id,
                                                        const PageRequest& page) {
  return Read<Page<WebhookEvent>>([&](Conn& c) -> Expected<Page<WebhookEvent>> {
    // Keyset by seq (it only grows): one row more than asked tells whether a next page exists.
    const int64_t after = page.after ? page.after->at : INT64_MAX;
    auto rows = org_id ? c.All(kSelectEvent +
                                   "WHERE org_id = $1 AND seq < $2 ORDER BY seq DESC "
                                   "LIMIT $3",
                               *org_id, after, page.limit + 1)
                       : c.All(kSelectEvent + "WHERE seq < $1 ORDER BY seq DESC LIMIT $2", after,
                               page.limit + 1);
    if (!rows) return rows.error();
    Page<WebhookEvent> out;
    for (const Row& r : *rows) out.items.push_back(webhook::ReadEventRow(r));
    if (static_cast<int64_t>(out.items.size()) > page.limit) {
      out.items.resize(static_cast<size_t>(page.limit));
      out.next = PageKey{out.items.back().seq, 0};
    }
    return out;
  });
}

Expected<WebhookEventDetail> PgStore::GetWebhookEvent(const std::string& event_id) {
  return Read<WebhookEventDetail>([&](Conn& c) { return LoadEventDetail(c, event_id); });
}

Expected<WebhookEventDetail> PgStore::ResendWebhookEvent(
    const std::string& event_id, const std::optional<std::string>& endpoint_id, Time now) {
  return Tx<WebhookEventDetail>([&](Conn& c) -> Expected<WebhookEventDetail> {
    auto event = LoadEventDetail(c, event_id, /*lock=*/true);
    if (!event) return event;
    const WebhookEvent& e = event->event;
    if (endpoint_id) {
      auto endpoint = LoadEndpoint(c, *endpoint_id);
      if (!endpoint) return endpoint.error();
      if (endpoint->org_id && *endpoint->org_id != e.org_id) return webhook::OutOfScope(e.org_id);
    }
    if (auto r = c.Run(std::string(webhook::kResendSql), e.seq, e.org_id, ToUnixSeconds(now),
                       endpoint_id);
        !r) {
      return r.error();
    }
    return LoadEventDetail(c, event_id);
  });
}

Expected<std::vector<DueDelivery>> PgStore::ClaimDueDeliveries(Time now, Time lease_until,
                                                               int64_t limit) {
  if (limit <= 0) return std::vector<DueDelivery>();  // PostgreSQL refuses a negative LIMIT
  const std::string lease = crypto::RandomToken(32);
  return Tx<std::vector<DueDelivery>>([&](Conn& c) -> Expected<std::vector<DueDelivery>> {
    // The heads of the (endpoint, organization) lines that are due, every organization's first
    // before any organization's second; rows another instance is claiming are skipped (and the
    // line behind one is not a head: its head is still pending). The claim (lease and next
    // attempt moved to lease_until) is written by the same statement.
    auto rows = c.All(
        "WITH heads AS (SELECT d.id, d.next_attempt_at AS due, ROW_NUMBER() OVER "
        "(PARTITION BY d.org_id ORDER BY d.next_attempt_at, d.id) AS turn "
        "FROM webhook_deliveries d JOIN webhook_endpoints w ON w.id = d.endpoint_id "
        "WHERE d.status = 'pending' AND d.next_attempt_at <= $1 AND w.enabled AND "
        "w.deleted_at IS NULL AND NOT EXISTS (SELECT 1 FROM webhook_deliveries h WHERE "
        "h.endpoint_id = d.endpoint_id AND h.org_id = d.org_id AND h.status = 'pending' AND "
        "h.event_seq < d.event_seq)), "
        "picked AS (SELECT d.id, heads.turn, heads.due FROM webhook_deliveries d JOIN heads ON "
        "heads.id = d.id WHERE d.status = 'pending' AND d.next_attempt_at <= $1 "
        "ORDER BY heads.turn, heads.due, d.id LIMIT $2 FOR UPDATE OF d SKIP LOCKED), "
        "claimed AS (UPDATE webhook_deliveries u SET lease = $3, next_attempt_at = $4 "
        "FROM picked WHERE u.id = picked.id RETURNING u.id, u.event_seq, u.endpoint_id, "
        "u.org_id, u.status, u.attempts, u.next_attempt_at, u.last_status, u.last_error, "
        "u.created_at, u.completed_at, picked.turn, picked.due) "
        "SELECT c.id, c.event_seq, ev.id, c.endpoint_id, c.org_id, c.status, c.attempts, "
        "c.next_attempt_at, c.last_status, c.last_error, c.created_at, c.completed_at, "
        "ev.seq, ev.id, ev.org_id, ev.type, ev.data, ev.created_at, "
        "w.url, w.secret, w.previous_secret, w.previous_secret_until "
        "FROM claimed c JOIN webhook_events ev ON ev.seq = c.event_seq "
        "JOIN webhook_endpoints w ON w.id = c.endpoint_id ORDER BY c.turn, c.due, c.id",
        ToUnixSeconds(now), limit, lease, ToUnixSeconds(lease_until));
    if (!rows) return rows.error();
    std::vector<DueDelivery> out;
    for (const Row& r : *rows) out.push_back(webhook::ReadDueDeliveryRow(r, lease, now));
    return out;
  });
}

ExpectedDone PgStore::CompleteDelivery(int64_t delivery_id, const std::string& lease,
                                       const DeliveryResult& result, Time now) {
  const webhook::Completion done = webhook::CompletionOf(result, now);
  return Tx<Done>([&](Conn& c) -> ExpectedDone {
    auto changed = c.Run(std::string(webhook::kCompleteSql), done.last_status, done.error,
                         done.status, done.next_attempt_at, done.completed_at, delivery_id, lease);
    if (!changed) return changed.error();
    if (*changed == 0) {
      auto exists = c.One("SELECT 1 FROM webhook_deliveries WHERE id = $1", delivery_id);
      if (!exists) return exists.error();
      if (!*exists) return Error::NotFound("no webhook delivery with this id");
      return webhook::LeaseLost();
    }
    auto logged = c.Run(std::string(webhook::kInsertAttemptSql), delivery_id,
                        ToUnixSeconds(result.attempt.at), result.attempt.status_code,
                        result.attempt.duration_ms, done.body, done.error);
    if (!logged) return logged.error();
    return Done{};
  });
}

}  // namespace sima::server
