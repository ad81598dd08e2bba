// SqliteStore: the webhook outbox (events, their deliveries and the delivery log) and the
// endpoints they go to. Events are written by AppendEvent inside the transaction of the change
// that causes them; SQLite's single writer commits them in seq order.
#include "sima/crypto.h"
#include "sqlite_store.h"
#include "webhook/event.h"
#include "webhook/outbox.h"
#include "webhook/rows.h"

namespace sima::server {

using sqlite::Db;
using sqlite::Row;

namespace {

const std::string kSelectEndpoint =
    "SELECT " + std::string(webhook::kEndpointColumns) + " FROM webhook_endpoints ";
const std::string kSelectEvent =
    "SELECT " + std::string(webhook::kEventColumns) + " FROM webhook_events ";

// An endpoint not deleted; kNotFound otherwise.
Expected<WebhookEndpoint> LoadEndpoint(Db& db, const std::string& endpoint_id) {
  auto row = db.One(kSelectEndpoint + "WHERE id = ? AND deleted_at IS NULL", endpoint_id);
  if (!row) return row.error();
  if (!*row) return Error::NotFound("no webhook endpoint with this id");
  return webhook::ReadEndpointRow(**row);
}

// The event with its deliveries and their attempts (oldest first); kNotFound when none.
Expected<WebhookEventDetail> LoadEventDetail(Db& db, const std::string& event_id) {
  auto row = db.One(kSelectEvent + "WHERE id = ?", event_id);
  if (!row) return row.error();
  if (!*row) return Error::NotFound("no webhook event with this id");
  return webhook::ReadEventDetail(
      **row, [&](std::string_view sql, int64_t seq) { return db.All(webhook::Sqlite(sql), seq); });
}

}  // namespace

ExpectedDone SqliteStore::AppendEvent(Db& db, const std::string& org_id, std::string_view type,
                                      const Json& data, Time now) {
  const std::string id = webhook::NewEventId();
  if (auto r =
          db.Run("INSERT INTO webhook_events(id, org_id, type, data, created_at) "
                 "VALUES (?, ?, ?, ?, ?)",
                 id, org_id, type, data.dump(-1, ' ', false, Json::error_handler_t::replace), now);
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

ExpectedDone SqliteStore::AppendEvents(Db& db, const std::string& org_id,
                                       const std::vector<webhook::NewEvent>& events, Time now) {
  for (const webhook::NewEvent& e : events) {
    if (auto r = AppendEvent(db, org_id, e.type, e.data, now); !r) return r;
  }
  return Done{};
}

Expected<WebhookEndpoint> SqliteStore::CreateWebhookEndpoint(const NewWebhookEndpoint& endpoint,
                                                             Time now) {
  return Write<WebhookEndpoint>(Durability::kNormal, [&](Db& db) -> Expected<WebhookEndpoint> {
    if (endpoint.org_id) {
      auto org = db.One("SELECT 1 FROM organizations WHERE id = ?", *endpoint.org_id);
      if (!org) return org.error();
      if (!*org) return Error::NotFound("no such organization");
    }
    auto count = db.QueryInt(
        "SELECT COUNT(*) FROM webhook_endpoints WHERE org_id IS ? AND deleted_at IS NULL",
        endpoint.org_id);
    if (!count) return count.error();
    if (*count >= webhook::kMaxEndpointsPerScope) return webhook::TooManyEndpoints(endpoint.org_id);
    if (auto r = db.Run("INSERT INTO webhook_endpoints(id, org_id, url, description, secret, "
                        "created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                        endpoint.id, endpoint.org_id, endpoint.url, endpoint.description,
                        endpoint.secret, now, now);
        !r) {
      return r.error();
    }
    return LoadEndpoint(db, endpoint.id);
  });
}

Expected<std::vector<WebhookEndpoint>> SqliteStore::ListWebhookEndpoints(
    const std::optional<std::string>& org_id) {
  std::lock_guard lock(write_mu_);
  auto rows = db_->All(
      kSelectEndpoint + "WHERE org_id IS ? AND deleted_at IS NULL ORDER BY created_at, id", org_id);
  if (!rows) return rows.error();
  std::vector<WebhookEndpoint> out;
  for (const Row& r : *rows) out.push_back(webhook::ReadEndpointRow(r));
  return out;
}

Expected<WebhookEndpoint> SqliteStore::GetWebhookEndpoint(const std::string& endpoint_id) {
  std::lock_guard lock(write_mu_);
  return LoadEndpoint(*db_, endpoint_id);
}

Expected<WebhookEndpoint> SqliteStore::UpdateWebhookEndpoint(const std::string& endpoint_id,
                                                             const WebhookEndpointPatch& patch,
                                                             Time now) {
  return Write<WebhookEndpoint>(Durability::kNormal, [&](Db& db) -> Expected<WebhookEndpoint> {
    if (auto r = db.Run("UPDATE webhook_endpoints SET url = COALESCE(?, url), "
                        "description = COALESCE(?, description), enabled = COALESCE(?, enabled), "
                        "updated_at = ? WHERE id = ? AND deleted_at IS NULL",
                        patch.url, patch.description, patch.enabled, now, endpoint_id);
        !r) {
      return r.error();
    }
    return LoadEndpoint(db, endpoint_id);
  });
}

Expected<WebhookEndpoint> SqliteStore::RotateWebhookSecret(const std::string& endpoint_id,
                                                           const std::string& new_secret,
                                                           Time previous_until, Time now) {
  return Write<WebhookEndpoint>(Durability::kNormal, [&](Db& db) -> Expected<WebhookEndpoint> {
    if (auto r = db.Run("UPDATE webhook_endpoints SET previous_secret = secret, secret = ?, "
                        "previous_secret_until = ?, updated_at = ? "
                        "WHERE id = ? AND deleted_at IS NULL",
                        new_secret, previous_until, now, endpoint_id);
        !r) {
      return r.error();
    }
    return LoadEndpoint(db, endpoint_id);
  });
}

ExpectedDone SqliteStore::DeleteWebhookEndpoint(const std::string& endpoint_id, Time now) {
  return Write<Done>(Durability::kNormal, [&](Db& db) -> ExpectedDone {
    if (auto r = db.Run("UPDATE webhook_endpoints SET deleted_at = ?, enabled = 0, updated_at = ? "
                        "WHERE id = ? AND deleted_at IS NULL",
                        now, now, endpoint_id);
        !r) {
      return r;
    }
    if (db.changes() == 0) return Error::NotFound("no webhook endpoint with this id");
    return db.Run(webhook::Sqlite(webhook::kFailDeletedEndpointSql), now, endpoint_id);
  });
}

Expected<Page<WebhookEvent>> SqliteStore::ListWebhookEvents(
    const std::optional<std::string>& org_id, const PageRequest& page) {
  std::lock_guard lock(write_mu_);
  // Keyset by seq (it only grows): one row more than asked tells whether a next page exists.
  const int64_t after = page.after ? page.after->at : INT64_MAX;
  auto rows = org_id ? db_->All(kSelectEvent +
                                    "WHERE org_id = ? AND seq < ? ORDER BY seq DESC "
                                    "LIMIT ?",
                                *org_id, after, page.limit + 1)
                     : db_->All(kSelectEvent + "WHERE seq < ? ORDER BY seq DESC LIMIT ?", after,
                                page.limit + 1);
  if (!rows) return rows.error();
  Page<WebhookEvent> out;
  for (const Row& r : *rows) out.items.push_back(webhook::ReadEventRow(r));
  if (static_cast<int64_t>(out.items.size()) > page.limit) {
    out.items.resize(static_cast<size_t>(page.limit));
    out.next = PageKey{out.items.back().seq, 0};
  }
  return out;
}

Expected<WebhookEventDetail> SqliteStore::GetWebhookEvent(const std::string& event_id) {
  std::lock_guard lock(write_mu_);
  return LoadEventDetail(*db_, event_id);
}

Expected<WebhookEventDetail> SqliteStore::ResendWebhookEvent(
    const std::string& event_id, const std::optional<std::string>& endpoint_id, Time now) {
  return Write<WebhookEventDetail>(
      Durability::kNormal, [&](Db& db) -> Expected<WebhookEventDetail> {
        auto event = LoadEventDetail(db, event_id);
        if (!event) return event;
        const WebhookEvent& e = event->event;
        if (endpoint_id) {
          auto endpoint = LoadEndpoint(db, *endpoint_id);
          if (!endpoint) return endpoint.error();
          if (endpoint->org_id && *endpoint->org_id != e.org_id) {
            return webhook::OutOfScope(e.org_id);
          }
        }
        if (auto r =
                db.Run(webhook::Sqlite(webhook::kResendSql), e.seq, e.org_id, now, endpoint_id);
            !r) {
          return r.error();
        }
        return LoadEventDetail(db, event_id);
      });
}

Expected<std::vector<DueDelivery>> SqliteStore::ClaimDueDeliveries(Time now, Time lease_until,
                                                                   int64_t limit) {
  if (limit <= 0) return std::vector<DueDelivery>();  // SQLite reads LIMIT -1 as "all"
  return Write<std::vector<DueDelivery>>(
      Durability::kNormal, [&](Db& db) -> Expected<std::vector<DueDelivery>> {
        // Only the head of each (endpoint, organization) line, and every organization's first
        // head before any organization's second: one busy organization cannot starve the rest.
        auto heads = db.All(
            "SELECT id FROM (SELECT d.id, d.next_attempt_at AS due, ROW_NUMBER() OVER "
            "(PARTITION BY d.org_id ORDER BY d.next_attempt_at, d.id) AS turn "
            "FROM webhook_deliveries d JOIN webhook_endpoints w ON w.id = d.endpoint_id "
            "WHERE d.status = 'pending' AND d.next_attempt_at <= ? AND w.enabled = 1 AND "
            "w.deleted_at IS NULL AND d.event_seq = (SELECT MIN(h.event_seq) FROM "
            "webhook_deliveries h WHERE h.endpoint_id = d.endpoint_id AND h.org_id = d.org_id "
            "AND h.status = 'pending')) ORDER BY turn, due, id LIMIT ?",
            now, limit);
        if (!heads) return heads.error();
        const std::string lease = crypto::RandomToken(32);
        std::vector<DueDelivery> out;
        for (const Row& h : *heads) {
          if (auto r = db.Run("UPDATE webhook_deliveries SET lease = ?, next_attempt_at = ? "
                              "WHERE id = ?",
                              lease, lease_until, h.Int(0));
              !r) {
            return r.error();
          }
          auto row = db.One(webhook::Sqlite(webhook::kDueDeliverySql), h.Int(0));
          if (!row) return row.error();
          if (!*row) return Error::Internal("a claimed delivery vanished");
          out.push_back(webhook::ReadDueDeliveryRow(**row, lease, now));
        }
        return out;
      });
}

ExpectedDone SqliteStore::CompleteDelivery(int64_t delivery_id, const std::string& lease,
                                           const DeliveryResult& result, Time now) {
  const webhook::Completion done = webhook::CompletionOf(result, now);
  return Write<Done>(Durability::kNormal, [&](Db& db) -> ExpectedDone {
    if (auto r = db.Run(webhook::Sqlite(webhook::kCompleteSql), done.last_status, done.error,
                        done.status, done.next_attempt_at, done.completed_at, delivery_id, lease);
        !r) {
      return r;
    }
    if (db.changes() == 0) {
      auto exists = db.One("SELECT 1 FROM webhook_deliveries WHERE id = ?", delivery_id);
      if (!exists) return exists.error();
      if (!*exists) return Error::NotFound("no webhook delivery with this id");
      return webhook::LeaseLost();
    }
    return db.Run(webhook::Sqlite(webhook::kInsertAttemptSql), delivery_id, result.attempt.at,
                  result.attempt.status_code, result.attempt.duration_ms, done.body, done.error);
  });
}

}  // namespace sima::server
