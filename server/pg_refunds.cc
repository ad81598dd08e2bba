// PgStore: refunds of payments (asked of a gateway or recorded by hand) and what they do to
// the payment and the subscription. The rule is sima/refund.h; this file loads, asks and writes
// the answer in one transaction. Every refund transaction takes the organization's lock and
// then the payment's row, as the payment transactions do, so two instances racing for the
// last rupees of one payment take turns and the second sees the first's pending row.
#include "pg_store.h"
#include "refund_rules.h"
#include "sima/crypto.h"
#include "store_rows.h"

namespace sima::server {
namespace {

using pg::Conn;

const std::string kSelectRefunds = "SELECT " + std::string(kRefundColumns) + " FROM refunds ";

template <typename... Args>
Expected<std::optional<Refund>> QueryRefund(Conn& c, const std::string& where,
                                            const Args&... args) {
  auto row = c.One(kSelectRefunds + where, args...);
  if (!row) return row.error();
  if (!*row) return std::optional<Refund>();
  return std::optional<Refund>(ReadRefundRow(**row));
}

Expected<Refund> LoadRefund(Conn& c, const std::string& id) {
  auto r = QueryRefund(c, "WHERE id = $1", id);
  if (!r) return r.error();
  if (!*r) return Error::NotFound("no refund with this id");
  return **r;
}

// What the payment's other refunds not settled yet hold back.
Expected<int64_t> PendingPaisa(Conn& c, int64_t payment_id, const std::string& except_id) {
  auto row = c.One(
      "SELECT COALESCE(SUM(amount_paisa), 0)::BIGINT FROM refunds WHERE payment_id = $1 AND "
      "status = 'pending' AND id <> $2",
      payment_id, except_id);
  if (!row) return row.error();
  return *row ? (*row)->Int(0) : 0;
}

ExpectedDone AuditRefund(Conn& c, const Payment& p, const Refund& r, PaymentStatus to,
                         const std::string& detail, Time now) {
  auto done = c.Run(
      "INSERT INTO payment_events(payment_id, org_id, at, cause, from_status, to_status, detail) "
      "VALUES ($1, $2, $3, $4, $5, $6, $7)",
      p.id, p.org_id, now, RefundCause(r), to_string(p.status), to_string(to),
      detail + " [" + r.id + ": " + r.reason + "]");
  if (!done) return done.error();
  return Done{};
}

}  // namespace

Expected<Payment> PgStore::LockRefundedPayment(Conn& c, int64_t payment_id) {
  // The payment's org first (unlocked), then the organization's lock, then the payment's row:
  // every payment transaction takes them in this order.
  auto owner = c.One("SELECT org_id FROM payments WHERE id = $1", payment_id);
  if (!owner) return owner.error();
  if (!*owner) return Error::NotFound("no payment with this id");
  if (auto locked = LockSubscription(c, (*owner)->Text(0)); !locked) return locked.error();
  return LoadPayment(c, payment_id, /*lock=*/true);
}

Expected<Refund> PgStore::BeginRefund(const Refund& refund, Time now) {
  return Tx<Refund>([&](Conn& c) -> Expected<Refund> {
    auto payment = LockRefundedPayment(c, refund.payment_id);
    if (!payment) return payment.error();
    if (refund.idempotency_key) {
      auto first = QueryRefund(c, "WHERE payment_id = $1 AND idempotency_key = $2",
                               refund.payment_id, *refund.idempotency_key);
      if (!first) return first.error();
      if (*first) {
        if (auto same = SameRefund(**first, refund); !same) return same.error();
        Refund again = **first;
        again.replayed = true;
        return again;
      }
    }
    auto count = c.One("SELECT COUNT(*) FROM refunds WHERE payment_id = $1", payment->id);
    if (!count) return count.error();
    if (*count && (*count)->Int(0) >= kMaxRefundsPerPayment) return TooManyRefunds();
    auto pending = PendingPaisa(c, payment->id, "");
    if (!pending) return pending.error();
    const Status check =
        CheckRefund(RefundInputFor(catalog_, *payment, Subscription{}, std::nullopt,
                                   refund.amount_paisa, *pending, refund.keep_plan, now));
    if (!check.ok()) return RefundError(check);
    const std::string id = refund.id.empty() ? "rf_" + crypto::RandomToken(22) : refund.id;
    if (auto r = c.Run(
            "INSERT INTO refunds(id, payment_id, org_id, amount_paisa, method, status, reason, "
            "reference, note, keep_plan, idempotency_key, created_at, updated_at) "
            "VALUES ($1, $2, $3, $4, $5, 'pending', $6, $7, $8, $9, $10, $11, $12)",
            id, payment->id, payment->org_id, refund.amount_paisa, to_string(refund.method),
            refund.reason, refund.reference, refund.note, refund.keep_plan, refund.idempotency_key,
            now, now);
        !r) {
      return r.error();
    }
    return LoadRefund(c, id);
  });
}

Expected<Refund> PgStore::SettleRefund(const std::string& refund_id, RefundStatus status,
                                       const std::string& detail,
                                       const std::optional<std::string>& reference, Time now) {
  return Tx<Refund>([&](Conn& c) -> Expected<Refund> {
    auto unlocked = LoadRefund(c, refund_id);
    if (!unlocked) return unlocked;
    auto payment = LockRefundedPayment(c, unlocked->payment_id);
    if (!payment) return payment.error();
    // Read again under the locks: another instance may have settled it meanwhile.
    auto loaded = LoadRefund(c, refund_id);
    if (!loaded) return loaded;
    const Refund refund = std::move(loaded).value();
    if (refund.status != RefundStatus::kPending) return refund;
    if (status != RefundStatus::kSucceeded) {
      if (auto r = c.Run("UPDATE refunds SET status = $1, detail = $2, "
                         "reference = COALESCE($3, reference), updated_at = $4 WHERE id = $5",
                         to_string(status), detail, reference, now, refund.id);
          !r) {
        return r.error();
      }
      if (status == RefundStatus::kFailed) {
        if (auto r = AuditRefund(
                c, *payment, refund, payment->status,
                "refund of " + std::to_string(refund.amount_paisa) + " paisa failed: " + detail,
                now);
            !r) {
          return r.error();
        }
      }
      return LoadRefund(c, refund.id);
    }

    auto sub = c.One(
        "SELECT " + std::string(kSubscriptionColumns) + " FROM subscriptions WHERE org_id = $1",
        payment->org_id);
    if (!sub) return sub.error();
    if (!*sub) return Error::NotFound("no such organization");
    const Subscription before = ReadSubscriptionRow(**sub);
    auto latest_row = c.One(
        "SELECT payment_id, kind, end_at FROM plan_changes WHERE org_id = $1 ORDER BY id DESC "
        "LIMIT 1",
        payment->org_id);
    if (!latest_row) return latest_row.error();
    std::optional<LatestPlanChange> latest;
    if (*latest_row) {
      latest = LatestPlanChange{(*latest_row)->OptInt(0), (*latest_row)->Text(1),
                                (*latest_row)->OptAt(2)};
    }
    auto pending = PendingPaisa(c, payment->id, refund.id);
    if (!pending) return pending.error();
    // The core decides; the rest of this function writes what it said.
    auto decided = DecideRefund(RefundInputFor(
        catalog_, *payment, before, latest, refund.amount_paisa, *pending, refund.keep_plan, now));
    if (!decided) return RefundError(decided.status());
    const RefundDecision& d = decided.value();

    auto moved = c.Run(
        "UPDATE payments SET status = $1, reason = $2, needs_attention = $3, refunded_paisa = $4, "
        "updated_at = $5 WHERE id = $6 AND status = 'SUCCESS' AND refunded_paisa = $7",
        to_string(d.status), d.reason, d.needs_attention, d.refunded_paisa, now, payment->id,
        payment->refunded_paisa);
    if (!moved) return moved.error();
    if (*moved != 1) return Error::Internal("the payment changed under its transaction");
    if (auto r = c.Run("UPDATE refunds SET status = 'succeeded', detail = $1, "
                       "reference = COALESCE($2, reference), updated_at = $3 WHERE id = $4",
                       detail, reference, now, refund.id);
        !r) {
      return r.error();
    }
    if (auto r = AuditRefund(c, *payment, refund, d.status, d.audit, now); !r) return r.error();
    Subscription after = before;
    if (d.subscription) {
      after = *d.subscription;
      if (auto r = SaveSubscription(c, payment->org_id, after, now); !r) return r.error();
      if (auto r =
              c.Run("INSERT INTO plan_changes(org_id, at, cause, payment_id, from_plan, to_plan, "
                    "start_at, end_at, kind) VALUES ($1, $2, 'refund', $3, $4, $5, $6, $7, $8)",
                    payment->org_id, now, payment->id, d.from_plan, after.plan, after.start,
                    after.end, to_string(d.effect));
          !r) {
        return r.error();
      }
    }
    auto stored = LoadPayment(c, payment->id);
    if (!stored) return stored.error();
    auto settled = LoadRefund(c, refund.id);
    if (!settled) return settled;
    for (auto& [type, data] : RefundEvents(catalog_, *stored, *settled, after, d, now)) {
      if (auto r = AppendEvent(c, payment->org_id, type, data, now); !r) return r.error();
    }
    return settled;
  });
}

Expected<std::vector<Refund>> PgStore::ListRefunds(int64_t payment_id) {
  return Read<std::vector<Refund>>([&](Conn& c) -> Expected<std::vector<Refund>> {
    if (auto p = LoadPayment(c, payment_id); !p) return p.error();
    // BeginRefund keeps a payment to kMaxRefundsPerPayment.
    auto rows = c.All(kSelectRefunds + "WHERE payment_id = $1 ORDER BY created_at, id", payment_id);
    if (!rows) return rows.error();
    std::vector<Refund> out;
    out.reserve(rows->size());
    for (const auto& r : *rows) out.push_back(ReadRefundRow(r));
    return out;
  });
}

}  // namespace sima::server
