// The webhook tables as both stores read and write them: rows read into the Store's types (as
// store_rows.h: `RowT` is a sqlite::Row or a pg::Row; each reader expects the columns its
// constant lists, in that order, starting at column `at`), the statements both stores run
// (written for PostgreSQL; Sqlite() turns their $n into SQLite's ?n), and the errors both give.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "store.h"
#include "webhook/outbox.h"

namespace sima::server::webhook {

// webhook_endpoints, as the admin API shows an endpoint (never its secrets).
inline constexpr std::string_view kEndpointColumns =
    "id, org_id, url, description, enabled, created_at, updated_at, previous_secret_until";
template <typename RowT>
WebhookEndpoint ReadEndpointRow(const RowT& r, int at = 0) {
  WebhookEndpoint e;
  e.id = r.Text(at);
  e.org_id = r.OptText(at + 1);
  e.url = r.Text(at + 2);
  e.description = r.Text(at + 3);
  e.enabled = r.Bool(at + 4);
  e.created_at = r.At(at + 5);
  e.updated_at = r.At(at + 6);
  e.previous_secret_until = r.OptAt(at + 7);
  return e;
}

// webhook_events.
inline constexpr std::string_view kEventColumns = "seq, id, org_id, type, data, created_at";
template <typename RowT>
WebhookEvent ReadEventRow(const RowT& r, int at = 0) {
  return {r.Int(at), r.Text(at + 1), r.Text(at + 2), r.Text(at + 3), r.Text(at + 4), r.At(at + 5)};
}

inline DeliveryStatus DeliveryStatusFrom(std::string_view text) {
  if (text == "delivered") return DeliveryStatus::kDelivered;
  if (text == "failed") return DeliveryStatus::kFailed;
  return DeliveryStatus::kPending;
}
// webhook_deliveries d joined with its event ev: d.id, d.event_seq, ev.id (the event's id),
// d.endpoint_id, d.org_id, d.status, d.attempts, d.next_attempt_at, d.last_status, d.last_error,
// d.created_at, d.completed_at.
template <typename RowT>
WebhookDelivery ReadDeliveryRow(const RowT& r, int at = 0) {
  WebhookDelivery d;
  d.id = r.Int(at);
  d.event_seq = r.Int(at + 1);
  d.event_id = r.Text(at + 2);
  d.endpoint_id = r.Text(at + 3);
  d.org_id = r.Text(at + 4);
  d.status = DeliveryStatusFrom(r.Text(at + 5));
  d.attempts = r.Int(at + 6);
  if (d.status == DeliveryStatus::kPending) d.next_attempt_at = r.OptAt(at + 7);
  if (auto status = r.OptInt(at + 8)) d.last_status = static_cast<int>(*status);
  d.last_error = r.Text(at + 9);
  d.created_at = r.At(at + 10);
  d.completed_at = r.OptAt(at + 11);
  return d;
}

// webhook_attempts: delivery_id, at, status_code, duration_ms, response_body, error.
template <typename RowT>
DeliveryAttempt ReadAttemptRow(const RowT& r, int at = 0) {
  DeliveryAttempt a;
  a.delivery_id = r.Int(at);
  a.at = r.At(at + 1);
  if (auto code = r.OptInt(at + 2)) a.status_code = static_cast<int>(*code);
  a.duration_ms = r.Int(at + 3);
  a.response_body = r.Text(at + 4);
  a.error = r.Text(at + 5);
  return a;
}

// An event's deliveries (ReadDeliveryRow) and their attempts (ReadAttemptRow), oldest first;
// each binds the event's seq.
inline constexpr std::string_view kEventDeliveriesSql =
    "SELECT d.id, d.event_seq, ev.id, d.endpoint_id, d.org_id, d.status, d.attempts, "
    "d.next_attempt_at, d.last_status, d.last_error, d.created_at, d.completed_at "
    "FROM webhook_deliveries d JOIN webhook_events ev ON ev.seq = d.event_seq "
    "WHERE d.event_seq = $1 ORDER BY d.id";
inline constexpr std::string_view kEventAttemptsSql =
    "SELECT delivery_id, at, status_code, duration_ms, response_body, error FROM "
    "webhook_attempts WHERE delivery_id IN (SELECT id FROM webhook_deliveries WHERE "
    "event_seq = $1) ORDER BY id";
// The event of `row` (kEventColumns) with its deliveries and attempts, read with
// `all(sql, seq)`: the store's every-row query of a statement below (`sql`) for one seq.
template <typename RowT, typename All>
Expected<WebhookEventDetail> ReadEventDetail(const RowT& row, All&& all) {
  WebhookEventDetail out;
  out.event = ReadEventRow(row);
  auto deliveries = all(kEventDeliveriesSql, out.event.seq);
  if (!deliveries) return deliveries.error();
  for (const auto& r : *deliveries) out.deliveries.push_back(ReadDeliveryRow(r));
  auto attempts = all(kEventAttemptsSql, out.event.seq);
  if (!attempts) return attempts.error();
  for (const auto& r : *attempts) out.attempts.push_back(ReadAttemptRow(r));
  return out;
}

// A statement below with SQLite's ?n for PostgreSQL's $n (same numbers, same binding order).
inline std::string Sqlite(std::string_view sql) {
  std::string out(sql);
  for (char& c : out) {
    if (c == '$') c = '?';
  }
  return out;
}

// A claimed delivery with its event and endpoint; binds the delivery id.
inline constexpr std::string_view kDueDeliverySql =
    "SELECT d.id, d.event_seq, ev.id, d.endpoint_id, d.org_id, d.status, d.attempts, "
    "d.next_attempt_at, d.last_status, d.last_error, d.created_at, d.completed_at, "
    "ev.seq, ev.id, ev.org_id, ev.type, ev.data, ev.created_at, "
    "w.url, w.secret, w.previous_secret, w.previous_secret_until "
    "FROM webhook_deliveries d JOIN webhook_events ev ON ev.seq = d.event_seq "
    "JOIN webhook_endpoints w ON w.id = d.endpoint_id WHERE d.id = $1";
// A row of kDueDeliverySql claimed under `lease`: the previous secret only while it still signs.
template <typename RowT>
DueDelivery ReadDueDeliveryRow(const RowT& r, const std::string& lease, Time now) {
  DueDelivery out;
  out.delivery = ReadDeliveryRow(r, 0);
  out.event = ReadEventRow(r, 12);
  out.url = r.Text(18);
  out.secret = r.Text(19);
  const std::optional<Time> until = r.OptAt(21);
  if (until && *until > now) out.previous_secret = r.OptText(20);
  out.lease = lease;
  return out;
}

// Deleting an endpoint fails its pending deliveries; binds now, the endpoint id.
inline constexpr std::string_view kFailDeletedEndpointSql =
    "UPDATE webhook_deliveries SET status = 'failed', last_error = 'endpoint deleted', "
    "completed_at = $1, next_attempt_at = NULL, lease = NULL "
    "WHERE endpoint_id = $2 AND status = 'pending'";

// Resending an event (Store::ResendWebhookEvent): binds the event's seq, its organization, now
// and the one endpoint asked for (NULL: every endpoint that has a delivery of it, and every
// enabled endpoint of its scope). Each such delivery becomes pending and due now (one in
// flight keeps its lease: it is being sent already); a missing one is made.
inline constexpr std::string_view kResendSql =
    "INSERT INTO webhook_deliveries(event_seq, endpoint_id, org_id, status, next_attempt_at, "
    "created_at) SELECT CAST($1 AS BIGINT), w.id, CAST($2 AS TEXT), 'pending', "
    "CAST($3 AS BIGINT), CAST($3 AS BIGINT) FROM webhook_endpoints w WHERE w.deleted_at IS NULL "
    "AND (CASE WHEN CAST($4 AS TEXT) IS NULL THEN (w.enabled = true AND (w.org_id IS NULL OR "
    "w.org_id = $2)) OR EXISTS (SELECT 1 FROM webhook_deliveries x WHERE x.event_seq = $1 AND "
    "x.endpoint_id = w.id) ELSE w.id = $4 END) "
    "ON CONFLICT (event_seq, endpoint_id) DO UPDATE SET status = 'pending', completed_at = NULL, "
    "next_attempt_at = CASE WHEN webhook_deliveries.status = 'pending' AND "
    "webhook_deliveries.lease IS NOT NULL AND webhook_deliveries.next_attempt_at > $3 "
    "THEN webhook_deliveries.next_attempt_at ELSE $3 END";

// What CompleteDelivery writes for one try.
struct Completion {
  std::string status;  // "delivered", "pending" (retry), "failed"
  std::optional<int> last_status;
  std::string error;  // cut to kLoggedErrorBytes
  std::string body;   // cut to kLoggedBodyBytes
  std::optional<Time> next_attempt_at;
  std::optional<Time> completed_at;
};
inline Completion CompletionOf(const DeliveryResult& result, Time now) {
  Completion c;
  c.last_status = result.attempt.status_code;
  c.error = LoggedText(result.attempt.error, kLoggedErrorBytes);
  c.body = LoggedText(result.attempt.response_body);
  if (result.delivered) {
    c.status = "delivered";
    c.completed_at = now;
  } else if (result.retry_at) {
    c.status = "pending";
    c.next_attempt_at = result.retry_at;
  } else {
    c.status = "failed";
    c.completed_at = now;
  }
  return c;
}
// Binds the Completion's last_status, error, status, next_attempt_at, completed_at, then the
// delivery id and the lease: changes nothing unless the delivery is pending under that lease.
inline constexpr std::string_view kCompleteSql =
    "UPDATE webhook_deliveries SET attempts = attempts + 1, last_status = $1, last_error = $2, "
    "status = $3, next_attempt_at = $4, completed_at = $5, lease = NULL "
    "WHERE id = $6 AND lease = $7 AND status = 'pending'";
// Binds the delivery id, then the attempt's at, status_code, duration_ms, and the Completion's
// body and error.
inline constexpr std::string_view kInsertAttemptSql =
    "INSERT INTO webhook_attempts(delivery_id, at, status_code, duration_ms, response_body, "
    "error) VALUES ($1, $2, $3, $4, $5, $6)";

inline Error TooManyEndpoints(const std::optional<std::string>& org_id) {
  const std::string n = std::to_string(kMaxEndpointsPerScope);
  return Error::Conflict(
      org_id ? "this organization already has " + n + " webhook endpoints; delete one first"
             : "there are already " + n + " server-wide webhook endpoints; delete one first");
}
inline Error OutOfScope(const std::string& org_id) {
  return Error::Conflict("this endpoint does not receive the events of organization " + org_id);
}
inline Error LeaseLost() {
  return Error::Conflict("the delivery's lease is no longer this claim's: another sender has it");
}

}  // namespace sima::server::webhook
