// SqliteStore: refunds of payments (asked of a gateway or recorded by hand) and what they do to
// the payment and the subscription. The rule is sima/refund.h; this file loads, asks and writes
// the answer in one transaction. SQLite's single writer serializes refunds of one payment, so
// two racing for the last rupees see each other's pending rows.
#include "refund_rules.h"
#include "sima/crypto.h"
#include "sqlite_store.h"
#include "store_rows.h"

namespace sima::server {
namespace {

using sqlite::Db;

const std::string kSelectRefunds = "SELECT " + std::string(kRefundColumns) + " FROM refunds ";

template <typename... Args>
Expected<std::optional<Refund>> QueryRefund(Db& db, const std::string& where, const Args&... args) {
  auto row = db.One(kSelectRefunds + where, args...);
  if (!row) return row.error();
  if (!*row) return std::optional<Refund>();
  return std::optional<Refund>(ReadRefundRow(**row));
}

Expected<Refund> LoadRefund(Db& db, const std::string& id) {
  auto r = QueryRefund(db, "WHERE id = ?", id);
  if (!r) return r.error();
  if (!*r) return Error::NotFound("no refund with this id");
  return **r;
}

// What the payment's other refunds not settled yet hold back.
Expected<int64_t> PendingPaisa(Db& db, int64_t payment_id, const std::string& except_id) {
  return db.QueryInt(
      "SELECT COALESCE(SUM(amount_paisa), 0) FROM refunds WHERE payment_id = ? AND "
      "status = 'pending' AND id <> ?",
      payment_id, except_id);
}

ExpectedDone AuditRefund(Db& db, const Payment& p, const Refund& r, PaymentStatus to,
                         const std::string& detail, Time now) {
  return db.Run(
      "INSERT INTO payment_events(payment_id, org_id, at, cause, from_status, to_status, detail) "
      "VALUES (?, ?, ?, ?, ?, ?, ?)",
      p.id, p.org_id, now, RefundCause(r), to_string(p.status), to_string(to),
      detail + " [" + r.id + ": " + r.reason + "]");
}

}  // namespace

Expected<Refund> SqliteStore::BeginRefund(const Refund& refund, Time now) {
  return Write<Refund>(Durability::kFull, [&](Db& db) -> Expected<Refund> {
    auto payment = LoadPayment(db, refund.payment_id);
    if (!payment) return payment.error();
    if (refund.idempotency_key) {
      auto first = QueryRefund(db, "WHERE payment_id = ? AND idempotency_key = ?",
                               refund.payment_id, *refund.idempotency_key);
      if (!first) return first.error();
      if (*first) {
        if (auto same = SameRefund(**first, refund); !same) return same.error();
        Refund again = **first;
        again.replayed = true;
        return again;
      }
    }
    auto count = db.QueryInt("SELECT COUNT(*) FROM refunds WHERE payment_id = ?", payment->id);
    if (!count) return count.error();
    if (*count >= kMaxRefundsPerPayment) return TooManyRefunds();
    auto pending = PendingPaisa(db, payment->id, "");
    if (!pending) return pending.error();
    const Status check =
        CheckRefund(RefundInputFor(catalog_, *payment, Subscription{}, std::nullopt,
                                   refund.amount_paisa, *pending, refund.keep_plan, now));
    if (!check.ok()) return RefundError(check);
    const std::string id = refund.id.empty() ? "rf_" + crypto::RandomToken(22) : refund.id;
    if (auto r = db.Run(
            "INSERT INTO refunds(id, payment_id, org_id, amount_paisa, method, status, reason, "
            "reference, note, keep_plan, idempotency_key, created_at, updated_at) "
            "VALUES (?, ?, ?, ?, ?, 'pending', ?, ?, ?, ?, ?, ?, ?)",
            id, payment->id, payment->org_id, refund.amount_paisa, to_string(refund.method),
            refund.reason, refund.reference, refund.note, refund.keep_plan, refund.idempotency_key,
            now, now);
        !r) {
      return r.error();
    }
    return LoadRefund(db, id);
  });
}

Expected<Refund> SqliteStore::SettleRefund(const std::string& refund_id, RefundStatus status,
                                           const std::string& detail,
                                           const std::optional<std::string>& reference, Time now) {
  return Write<Refund>(Durability::kFull, [&](Db& db) -> Expected<Refund> {
    auto loaded = LoadRefund(db, refund_id);
    if (!loaded) return loaded;
    const Refund refund = std::move(loaded).value();
    if (refund.status != RefundStatus::kPending) return refund;
    auto payment = LoadPayment(db, refund.payment_id);
    if (!payment) return payment.error();
    if (status != RefundStatus::kSucceeded) {
      if (auto r = db.Run("UPDATE refunds SET status = ?, detail = ?, "
                          "reference = COALESCE(?, reference), updated_at = ? WHERE id = ?",
                          to_string(status), detail, reference, now, refund.id);
          !r) {
        return r.error();
      }
      if (status == RefundStatus::kFailed) {
        if (auto r = AuditRefund(
                db, *payment, refund, payment->status,
                "refund of " + std::to_string(refund.amount_paisa) + " paisa failed: " + detail,
                now);
            !r) {
          return r.error();
        }
      }
      return LoadRefund(db, refund.id);
    }

    auto sub = LoadSubscription(db, payment->org_id);
    if (!sub) return sub.error();
    auto latest_row = db.One(
        "SELECT payment_id, kind, end_at FROM plan_changes WHERE org_id = ? ORDER BY id DESC "
        "LIMIT 1",
        payment->org_id);
    if (!latest_row) return latest_row.error();
    std::optional<LatestPlanChange> latest;
    if (*latest_row) {
      latest = LatestPlanChange{(*latest_row)->OptInt(0), (*latest_row)->Text(1),
                                (*latest_row)->OptAt(2)};
    }
    auto pending = PendingPaisa(db, payment->id, refund.id);
    if (!pending) return pending.error();
    // The core decides; the rest of this function writes what it said.
    auto decided = DecideRefund(RefundInputFor(
        catalog_, *payment, *sub, latest, refund.amount_paisa, *pending, refund.keep_plan, now));
    if (!decided) return RefundError(decided.status());
    const RefundDecision& d = decided.value();

    // Guarded by what was read: a lost race cannot go unnoticed.
    if (auto r = db.Run("UPDATE payments SET status = ?, reason = ?, needs_attention = ?, "
                        "refunded_paisa = ?, updated_at = ? WHERE id = ? AND status = 'SUCCESS' "
                        "AND refunded_paisa = ?",
                        to_string(d.status), d.reason, d.needs_attention, d.refunded_paisa, now,
                        payment->id, payment->refunded_paisa);
        !r) {
      return r.error();
    }
    if (db.changes() != 1) return Error::Internal("the payment changed under its transaction");
    if (auto r = db.Run("UPDATE refunds SET status = 'succeeded', detail = ?, "
                        "reference = COALESCE(?, reference), updated_at = ? WHERE id = ?",
                        detail, reference, now, refund.id);
        !r) {
      return r.error();
    }
    if (auto r = AuditRefund(db, *payment, refund, d.status, d.audit, now); !r) return r.error();
    Subscription after = *sub;
    if (d.subscription) {
      after = *d.subscription;
      if (auto r = SaveSubscription(db, payment->org_id, after, now); !r) return r.error();
      if (auto r =
              db.Run("INSERT INTO plan_changes(org_id, at, cause, payment_id, from_plan, to_plan, "
                     "start_at, end_at, kind) VALUES (?, ?, 'refund', ?, ?, ?, ?, ?, ?)",
                     payment->org_id, now, payment->id, d.from_plan, after.plan, after.start,
                     after.end, to_string(d.effect));
          !r) {
        return r.error();
      }
    }
    auto stored = LoadPayment(db, payment->id);
    if (!stored) return stored.error();
    auto settled = LoadRefund(db, refund.id);
    if (!settled) return settled;
    for (auto& [type, data] : RefundEvents(catalog_, *stored, *settled, after, d, now)) {
      if (auto r = AppendEvent(db, payment->org_id, type, data, now); !r) return r.error();
    }
    return settled;
  });
}

Expected<std::vector<Refund>> SqliteStore::ListRefunds(int64_t payment_id) {
  std::lock_guard lock(write_mu_);
  if (auto p = LoadPayment(*db_, payment_id); !p) return p.error();
  // BeginRefund keeps a payment to kMaxRefundsPerPayment.
  auto rows =
      db_->All(kSelectRefunds + "WHERE payment_id = ? ORDER BY created_at, rowid", payment_id);
  if (!rows) return rows.error();
  std::vector<Refund> out;
  out.reserve(rows->size());
  for (const auto& r : *rows) out.push_back(ReadRefundRow(r));
  return out;
}

}  // namespace sima::server
