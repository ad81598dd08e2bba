// SqliteStore: payments, their audit trail and the e-mail outbox. Every rule (can this plan be
// bought, what does a gateway answer do to a payment, what does activation do to the
// subscription) is sdk/'s; this file only stores the results, in one transaction each.
#include <sqlite3.h>

#include <algorithm>
#include <chrono>

#include "mail/confirmation.h"
#include "settlement_input.h"
#include "sima/crypto.h"
#include "sima/settlement.h"
#include "sqlite_store.h"

namespace sima::server {
namespace {

using sqlite::Db;

int64_t Secs(Time t) { return t.time_since_epoch().count(); }
Time FromSecs(int64_t s) { return Time{std::chrono::seconds{s}}; }

constexpr const char* kPaymentColumns =
    "id, org_id, provider, plan, amount_paisa, status, reason, reference_id, purchase_order_id, "
    "transaction_id, needs_attention, expires_at, created_at, updated_at, next_check_at, "
    "check_attempts, ref, payment_url, last_checked_at";

std::optional<std::string> OptText(const sqlite::Stmt& s, int c) {
  if (s.IsNull(c)) return std::nullopt;
  return s.Text(c);
}
std::optional<Time> OptTime(const sqlite::Stmt& s, int c) {
  if (s.IsNull(c)) return std::nullopt;
  return FromSecs(s.Int(c));
}

Payment ReadPayment(const sqlite::Stmt& s) {
  Payment p;
  p.id = s.Int(0);
  p.org_id = s.Text(1);
  p.provider = ParseProvider(s.Text(2)).value_or(Provider::kKhalti);
  p.plan = s.Text(3);
  p.amount_paisa = s.Int(4);
  p.status = ParsePaymentStatus(s.Text(5)).value_or(PaymentStatus::kPending);
  p.reason = s.Text(6);
  p.reference_id = OptText(s, 7);
  p.purchase_order_id = s.Text(8);
  p.transaction_id = OptText(s, 9);
  p.needs_attention = s.Int(10) != 0;
  p.expires_at = OptTime(s, 11);
  p.created_at = FromSecs(s.Int(12));
  p.updated_at = FromSecs(s.Int(13));
  p.next_check_at = OptTime(s, 14);
  p.check_attempts = s.Int(15);
  p.ref = OptText(s, 16).value_or("");
  p.payment_url = OptText(s, 17);
  p.last_checked_at = OptTime(s, 18);
  return p;
}

// Every row of `q` (which selects kPaymentColumns) as a Payment.
Expected<std::vector<Payment>> ReadPayments(sqlite::Stmt& q) {
  std::vector<Payment> out;
  for (;;) {
    auto row = q.Step();
    if (!row) return row.error();
    if (!*row) break;
    out.push_back(ReadPayment(q));
  }
  return out;
}

template <typename Bind>
Expected<std::vector<Payment>> QueryPayments(Db& db, const std::string& where, Bind bind) {
  auto q = db.Prepare(std::string("SELECT ") + kPaymentColumns + " FROM payments " + where);
  if (!q) return q.error();
  bind(**q);
  return ReadPayments(**q);
}

ExpectedDone InsertEvent(Db& db, const Payment& p, Time now, PaymentCause cause,
                         std::optional<PaymentStatus> from, PaymentStatus to,
                         const std::string& detail) {
  auto q = db.Prepare(
      "INSERT INTO payment_events(payment_id, org_id, at, cause, from_status, to_status, detail) "
      "VALUES (?, ?, ?, ?, ?, ?, ?)");
  if (!q) return q.error();
  (*q)->Bind(1, p.id).Bind(2, p.org_id).Bind(3, Secs(now)).Bind(4, to_string(cause));
  if (from) {
    (*q)->Bind(5, to_string(*from));
  } else {
    (*q)->BindNull(5);
  }
  (*q)->Bind(6, to_string(to)).Bind(7, detail);
  return (*q)->Run();
}

}  // namespace

std::string_view to_string(PaymentCause cause) {
  switch (cause) {
    case PaymentCause::kInit: return "init";
    case PaymentCause::kCallback: return "callback";
    case PaymentCause::kVerify: return "verify";
    case PaymentCause::kReconciler: return "reconciler";
  }
  return "unknown";
}

Expected<Payment> SqliteStore::LoadPayment(Db& db, int64_t payment_id) {
  auto rows = QueryPayments(db, "WHERE id = ?", [&](sqlite::Stmt& q) { q.Bind(1, payment_id); });
  if (!rows) return rows.error();
  if (rows->empty()) return Error::NotFound("no payment with this id");
  return rows->front();
}

Expected<Payment> SqliteStore::CreatePayment(const std::string& org_id, Provider provider,
                                             const std::string& plan,
                                             const std::string& order_nonce, Time first_check,
                                             Time now) {
  return Write<Payment>(Durability::kFull, [&](Db& db) -> Expected<Payment> {
    auto state = LoadUsage(db, org_id, now);
    if (!state) return state.error();
    if (auto r = CountCall(db, org_id, state.value(), now); !r) return r.error();
    if (Status s = CanBuy(catalog_, state->subscription, plan, now); !s.ok()) {
      return Error::FromStatus(s);
    }
    return InsertPayment(db, org_id, provider, plan, order_nonce, first_check, now);
  });
}

Expected<Payment> SqliteStore::InsertPayment(Db& db, const std::string& org_id, Provider provider,
                                             const std::string& plan,
                                             const std::string& order_nonce, Time first_check,
                                             Time now) {
  {
    const Plan* priced = catalog_.FindPlan(plan);
    if (priced == nullptr) return Error{ErrorKind::kInvalidPlan, "unknown plan"};
    {
      // A placeholder order id keeps the UNIQUE column satisfied until the id is known.
      auto q = db.Prepare(
          "INSERT INTO payments(org_id, provider, plan, amount_paisa, status, purchase_order_id, "
          "created_at, updated_at, next_check_at, ref) "
          "VALUES (?, ?, ?, ?, 'PENDING', ?, ?, ?, ?, ?)");
      if (!q) return q.error();
      (*q)->Bind(1, org_id).Bind(2, to_string(provider)).Bind(3, priced->code);
      (*q)->Bind(4, priced->price_paisa).Bind(5, "new_" + order_nonce).Bind(6, Secs(now));
      (*q)->Bind(7, Secs(now)).Bind(8, Secs(first_check));
      (*q)->Bind(9, "pay_" + crypto::RandomToken(22));
      if (auto r = (*q)->Run(); !r) return r.error();
    }
    const int64_t id = sqlite3_last_insert_rowid(db.get());
    {
      auto q = db.Prepare("UPDATE payments SET purchase_order_id = ? WHERE id = ?");
      if (!q) return q.error();
      (*q)->Bind(1, "pay_" + std::to_string(id) + "_" + order_nonce).Bind(2, id);
      if (auto r = (*q)->Run(); !r) return r.error();
    }
    auto payment = LoadPayment(db, id);
    if (!payment) return payment;
    if (auto r = InsertEvent(db, *payment, now, PaymentCause::kInit, std::nullopt,
                             PaymentStatus::kPending,
                             "created: " + payment->plan + " for " +
                                 std::to_string(payment->amount_paisa) + " paisa");
        !r) {
      return r.error();
    }
    return payment;
  }
}

Expected<Payment> SqliteStore::AttachGatewayReference(
    int64_t payment_id, const std::string& reference_id, std::optional<Time> expires_at,
    Time next_check_at, Time now, const std::optional<std::string>& payment_url) {
  return Write<Payment>(Durability::kFull, [&](Db& db) -> Expected<Payment> {
    auto q = db.Prepare(
        "UPDATE payments SET reference_id = ?, expires_at = ?, next_check_at = ?, updated_at = ?, "
        "payment_url = ? WHERE id = ? AND status = 'PENDING' AND reference_id IS NULL");
    if (!q) return q.error();
    (*q)->Bind(1, reference_id);
    if (expires_at) {
      (*q)->Bind(2, Secs(*expires_at));
    } else {
      (*q)->BindNull(2);
    }
    (*q)->Bind(3, Secs(next_check_at)).Bind(4, Secs(now));
    (*q)->BindOptional(5, payment_url).Bind(6, payment_id);
    if (auto r = (*q)->Run(); !r) return r.error();
    if (db.changes() == 0) {
      auto p = LoadPayment(db, payment_id);
      if (!p) return p;
      return Error::Conflict("the payment is no longer waiting for a gateway reference");
    }
    auto p = LoadPayment(db, payment_id);
    if (!p) return p;
    if (auto r = InsertEvent(db, *p, now, PaymentCause::kInit, PaymentStatus::kPending,
                             PaymentStatus::kPending, "initiated: reference " + reference_id);
        !r) {
      return r.error();
    }
    return p;
  });
}

Expected<AppliedOutcome> SqliteStore::ApplyPaymentOutcome(int64_t payment_id,
                                                          const std::optional<std::string>& org_id,
                                                          const GatewayAnswer& answer,
                                                          PaymentCause cause, Time now) {
  return Write<AppliedOutcome>(Durability::kFull, [&](Db& db) -> Expected<AppliedOutcome> {
    auto loaded = LoadPayment(db, payment_id);
    if (!loaded) return loaded.error();
    const Payment& payment = loaded.value();
    if (org_id && *org_id != payment.org_id) return Error::NotFound("no payment with this id");
    auto usage = LoadUsage(db, payment.org_id, now);
    if (!usage) return usage.error();
    std::optional<std::string> email;
    std::string org_name;
    {
      auto org = db.Prepare("SELECT name, billing_email FROM organizations WHERE id = ?");
      if (!org) return org.error();
      (*org)->Bind(1, payment.org_id);
      auto row = (*org)->Step();
      if (!row) return row.error();
      if (!*row) return Error::NotFound("no such organization");
      org_name = (*org)->Text(0);
      email = OptText(**org, 1);
    }

    // The core decides; the rest of this function writes what it said.
    const Settlement s = Settle(SettleInputFor(payment, answer, usage->subscription,
                                               email.has_value(), catalog_, cause, now));
    AppliedOutcome out{{payment, usage->subscription}, s.changed(), s.activated()};
    if (!s.writes()) return out;

    if (s.changed()) {
      // Guarded by the previous status: a lost race cannot go unnoticed.
      auto q = db.Prepare(
          "UPDATE payments SET status = ?, reason = ?, needs_attention = ?, "
          "transaction_id = COALESCE(?, transaction_id), updated_at = ?, next_check_at = NULL "
          "WHERE id = ? AND status = ?");
      if (!q) return q.error();
      (*q)->Bind(1, to_string(s.to)).Bind(2, s.reason).Bind(3, int64_t{s.needs_attention ? 1 : 0});
      (*q)->BindOptional(4, s.transaction_id).Bind(5, Secs(now)).Bind(6, payment.id);
      (*q)->Bind(7, to_string(s.from));
      if (auto r = (*q)->Run(); !r) return r.error();
      if (db.changes() != 1) return Error::Internal("the payment changed under its transaction");
    } else {
      // Flagged or illegal: nothing moves, a human must look.
      auto q = db.Prepare(
          "UPDATE payments SET needs_attention = 1, updated_at = ? WHERE id = ? AND status = ?");
      if (!q) return q.error();
      (*q)->Bind(1, Secs(now)).Bind(2, payment.id).Bind(3, to_string(s.from));
      if (auto r = (*q)->Run(); !r) return r.error();
    }
    for (const AuditEvent& e : s.audit) {
      if (auto r = InsertEvent(db, payment, now, cause, e.from, e.to, e.detail); !r) {
        return r.error();
      }
    }
    if (s.activation) {
      out.state.subscription = s.activation->subscription;
      if (auto r = SaveSubscription(db, payment.org_id, out.state.subscription, now); !r) {
        return r.error();
      }
    }
    if (s.reset_usage_from) {
      auto q = db.Prepare("DELETE FROM usage_counters WHERE org_id = ? AND period_start = ?");
      if (!q) return q.error();
      (*q)->Bind(1, payment.org_id).Bind(2, Secs(*s.reset_usage_from));
      if (auto r = (*q)->Run(); !r) return r.error();
    }
    if (s.plan_change) {
      const PlanChange& c = *s.plan_change;
      auto q = db.Prepare(
          "INSERT INTO plan_changes(org_id, at, cause, payment_id, from_plan, to_plan, "
          "start_at, end_at, kind) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)");
      if (!q) return q.error();
      (*q)->Bind(1, payment.org_id).Bind(2, Secs(c.at)).Bind(3, c.cause);
      (*q)->Bind(4, payment.id).Bind(5, c.from_plan).Bind(6, c.to_plan).Bind(7, Secs(c.start));
      if (c.end) {
        (*q)->Bind(8, Secs(*c.end));
      } else {
        (*q)->BindNull(8);
      }
      (*q)->Bind(9, to_string(c.kind));
      if (auto r = (*q)->Run(); !r) return r.error();
    }

    auto stored = LoadPayment(db, payment.id);
    if (!stored) return stored.error();
    out.state.payment = std::move(stored).value();

    if (s.notify && email) {
      // One confirmation per payment: outbox.payment_id is UNIQUE.
      const ConfirmationText text =
          options_.confirmation(org_name, out.state.payment, out.state.subscription);
      auto q = db.Prepare(
          "INSERT INTO outbox(org_id, payment_id, message_id, to_addr, subject, body, "
          "created_at, next_attempt_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?) "
          "ON CONFLICT(payment_id) DO NOTHING");
      if (!q) return q.error();
      (*q)->Bind(1, payment.org_id).Bind(2, payment.id).Bind(3, ConfirmationMessageId(payment.id));
      (*q)->Bind(4, *email).Bind(5, text.subject).Bind(6, text.body).Bind(7, Secs(now));
      (*q)->Bind(8, Secs(now));
      if (auto r = (*q)->Run(); !r) return r.error();
    }
    return out;
  });
}

Expected<PaymentState> SqliteStore::GetPayment(const std::string& org_id, int64_t payment_id,
                                               Time now) {
  return Write<PaymentState>(Durability::kNormal, [&](Db& db) -> Expected<PaymentState> {
    auto state = LoadUsage(db, org_id, now);
    if (!state) return state.error();
    auto payment = LoadPayment(db, payment_id);
    if (!payment) return payment.error();
    if (payment->org_id != org_id) return Error::NotFound("no payment with this id");
    if (auto r = CountCall(db, org_id, state.value(), now); !r) return r.error();
    return PaymentState{std::move(payment).value(), state->subscription};
  });
}

Expected<Page<Payment>> SqliteStore::ListPayments(const std::string& org_id,
                                                  const PageRequest& page, Time now) {
  return Write<Page<Payment>>(Durability::kNormal, [&](Db& db) -> Expected<Page<Payment>> {
    auto state = LoadUsage(db, org_id, now);
    if (!state) return state.error();
    if (auto r = CountCall(db, org_id, state.value(), now); !r) return r.error();
    // Keyset by id (it only grows): one row more than asked tells whether a next page exists.
    const int64_t after = page.after ? page.after->at : INT64_MAX;
    auto rows = QueryPayments(
        db, "WHERE org_id = ? AND id < ? ORDER BY id DESC LIMIT ?",
        [&](sqlite::Stmt& q) { q.Bind(1, org_id).Bind(2, after).Bind(3, page.limit + 1); });
    if (!rows) return rows.error();
    Page<Payment> out;
    out.items = std::move(rows).value();
    if (static_cast<int64_t>(out.items.size()) > page.limit) {
      out.items.resize(static_cast<size_t>(page.limit));
      out.next = PageKey{out.items.back().id, 0};
    }
    return out;
  });
}

Expected<Payment> SqliteStore::FindPayment(int64_t payment_id) {
  std::lock_guard lock(write_mu_);
  return LoadPayment(*db_, payment_id);
}

Expected<Payment> SqliteStore::FindPaymentByReference(Provider provider,
                                                      const std::string& reference_id) {
  std::lock_guard lock(write_mu_);
  auto rows = QueryPayments(*db_, "WHERE provider = ? AND reference_id = ?", [&](sqlite::Stmt& q) {
    q.Bind(1, to_string(provider)).Bind(2, reference_id);
  });
  if (!rows) return rows.error();
  if (rows->empty()) return Error::NotFound("no payment with this reference");
  return rows->front();
}

Expected<std::vector<Payment>> SqliteStore::DuePendingPayments(Time now, int64_t limit,
                                                               int64_t per_org) {
  std::lock_guard lock(write_mu_);
  // Round-robin across organizations: rank each organization's due payments by when they
  // fell due, then take every organization's first, then every one's second, ...
  auto q = db_->Prepare(
      std::string("SELECT ") + kPaymentColumns +
      " FROM (SELECT *, ROW_NUMBER() OVER (PARTITION BY org_id ORDER BY next_check_at, id) "
      "AS turn FROM payments WHERE status = 'PENDING' AND next_check_at IS NOT NULL AND "
      "next_check_at <= ?) WHERE turn <= ? ORDER BY turn, next_check_at, id LIMIT ?");
  if (!q) return q.error();
  (*q)->Bind(1, Secs(now)).Bind(2, per_org).Bind(3, limit);
  return ReadPayments(**q);
}

Expected<OpenedPayment> SqliteStore::OpenPayment(const std::string& org_id, Provider provider,
                                                 const std::string& plan,
                                                 const std::string& order_nonce, Time first_check,
                                                 const PaymentLimits& limits, Time now) {
  const auto rate_limited = [](std::string message, int64_t retry_after) {
    Error e{ErrorKind::kRateLimited, std::move(message)};
    e.extra = {{"retry_after", std::max<int64_t>(retry_after, 1)}};
    return e;
  };
  return Write<OpenedPayment>(Durability::kFull, [&](Db& db) -> Expected<OpenedPayment> {
    auto state = LoadUsage(db, org_id, now);
    if (!state) return state.error();
    if (auto r = CountCall(db, org_id, state.value(), now); !r) return r.error();
    if (Status s = CanBuy(catalog_, state->subscription, plan, now); !s.ok()) {
      return Error::FromStatus(s);
    }
    const Plan* priced = catalog_.FindPlan(plan);
    if (priced == nullptr) return Error{ErrorKind::kInvalidPlan, "unknown plan"};
    // The payer's open payment for the same thing, if it can still be paid: offered again.
    auto open =
        QueryPayments(db,
                      "WHERE org_id = ? AND status = 'PENDING' AND provider = ? AND "
                      "plan = ? AND reference_id IS NOT NULL ORDER BY id DESC LIMIT 20",
                      [&](sqlite::Stmt& q) {
                        q.Bind(1, org_id).Bind(2, to_string(provider)).Bind(3, priced->code);
                      });
    if (!open) return open.error();
    for (const Payment& p : open.value()) {
      if (provider == Provider::kKhalti && !p.payment_url) continue;
      if (PayerMayStillPay(p.provider, p.created_at, p.expires_at, now, limits.esewa_session,
                           limits.reuse_margin)) {
        return OpenedPayment{p, true};
      }
    }
    // The same payment being started right now (its gateway reference is on its way): the
    // payer is asked to come back in a moment and is then offered it, instead of a second one.
    {
      auto q = db.Prepare(
          "SELECT COUNT(*) FROM payments WHERE org_id = ? AND status = 'PENDING' AND "
          "provider = ? AND plan = ? AND reference_id IS NULL AND created_at > ?");
      if (!q) return q.error();
      (*q)->Bind(1, org_id).Bind(2, to_string(provider)).Bind(3, priced->code);
      (*q)->Bind(4, Secs(now) - 30);
      auto row = (*q)->Step();
      if (!row) return row.error();
      if ((*q)->Int(0) > 0) {
        return rate_limited("a payment of this plan is being started; retry in a moment", 1);
      }
    }
    // New payments per minute, per organization.
    {
      auto q = db.Prepare(
          "SELECT COUNT(*), MIN(created_at) FROM payments WHERE org_id = ? AND created_at > ?");
      if (!q) return q.error();
      (*q)->Bind(1, org_id).Bind(2, Secs(now) - 60);
      auto row = (*q)->Step();
      if (!row) return row.error();
      const int64_t recent = (*q)->Int(0);
      if (recent >= limits.per_minute) {
        const int64_t oldest = (*q)->IsNull(1) ? Secs(now) : (*q)->Int(1);
        return rate_limited(
            "too many payments started; at most " + std::to_string(limits.per_minute) + " a minute",
            oldest + 61 - Secs(now));
      }
    }
    // Open payments at once, per organization.
    {
      auto q = db.Prepare("SELECT COUNT(*) FROM payments WHERE org_id = ? AND status = 'PENDING'");
      if (!q) return q.error();
      (*q)->Bind(1, org_id);
      auto row = (*q)->Step();
      if (!row) return row.error();
      if ((*q)->Int(0) >= limits.open_max) {
        return rate_limited("too many open payments; at most " + std::to_string(limits.open_max) +
                                " may wait to be paid at once: pay or abandon one first",
                            60);
      }
    }
    auto created = InsertPayment(db, org_id, provider, plan, order_nonce, first_check, now);
    if (!created) return created.error();
    return OpenedPayment{std::move(created).value(), false};
  });
}

Expected<Payment> SqliteStore::FindPaymentByRef(const std::string& ref) {
  std::lock_guard lock(write_mu_);
  auto rows = QueryPayments(*db_, "WHERE ref = ?", [&](sqlite::Stmt& q) { q.Bind(1, ref); });
  if (!rows) return rows.error();
  if (rows->empty()) return Error::NotFound("no payment with this reference");
  return rows->front();
}

Expected<bool> SqliteStore::StampedSince(const std::string& column, int64_t payment_id,
                                         int64_t since) {
  std::lock_guard lock(write_mu_);
  auto q = db_->Prepare("SELECT " + column + " FROM payments WHERE id = ?");
  if (!q) return q.error();
  (*q)->Bind(1, payment_id);
  auto row = (*q)->Step();
  if (!row) return row.error();
  if (!*row) return Error::NotFound("no payment with this id");
  return !(*q)->IsNull(0) && (*q)->Int(0) > since;
}

Expected<bool> SqliteStore::ClaimLookup(int64_t payment_id, std::chrono::seconds window, Time now,
                                        bool late) {
  const int64_t since = Secs(now) - window.count();
  const std::string column = late ? "last_late_check_at" : "last_checked_at";
  // Most repeats stop here, without joining the write queue.
  if (auto recent = StampedSince(column, payment_id, since); !recent || *recent) {
    return recent ? Expected<bool>(false) : Expected<bool>(recent.error());
  }
  return Write<bool>(Durability::kNormal, [&](Db& db) -> Expected<bool> {
    auto q = db.Prepare("UPDATE payments SET " + column + " = ? WHERE id = ? AND (" + column +
                        " IS NULL OR " + column + " <= ?)");
    if (!q) return q.error();
    (*q)->Bind(1, Secs(now)).Bind(2, payment_id).Bind(3, since);
    if (auto r = (*q)->Run(); !r) return r.error();
    return db.changes() == 1;
  });
}

Expected<bool> SqliteStore::AuditPaymentOnce(int64_t payment_id, PaymentCause cause,
                                             const std::string& detail, bool needs_attention,
                                             std::chrono::seconds window, Time now) {
  const int64_t since = Secs(now) - window.count();
  if (auto recent = StampedSince("last_audit_at", payment_id, since); !recent || *recent) {
    return recent ? Expected<bool>(false) : Expected<bool>(recent.error());
  }
  return Write<bool>(Durability::kFull, [&](Db& db) -> Expected<bool> {
    auto p = LoadPayment(db, payment_id);
    if (!p) return p.error();
    auto q = db.Prepare(
        "UPDATE payments SET last_audit_at = ?, "
        "needs_attention = CASE WHEN ? THEN 1 ELSE needs_attention END "
        "WHERE id = ? AND (last_audit_at IS NULL OR last_audit_at <= ?)");
    if (!q) return q.error();
    (*q)->Bind(1, Secs(now)).Bind(2, int64_t{needs_attention ? 1 : 0}).Bind(3, payment_id);
    (*q)->Bind(4, since);
    if (auto r = (*q)->Run(); !r) return r.error();
    if (db.changes() != 1) return false;
    if (auto r = InsertEvent(db, *p, now, cause, p->status, p->status, detail); !r) {
      return r.error();
    }
    return true;
  });
}

ExpectedDone SqliteStore::AuditPayment(int64_t payment_id, PaymentCause cause,
                                       const std::string& detail, bool needs_attention, Time now) {
  return Write<Done>(Durability::kFull, [&](Db& db) -> ExpectedDone {
    auto p = LoadPayment(db, payment_id);
    if (!p) return p.error();
    if (needs_attention && !p->needs_attention) {
      auto q = db.Prepare("UPDATE payments SET needs_attention = 1, updated_at = ? WHERE id = ?");
      if (!q) return q.error();
      (*q)->Bind(1, Secs(now)).Bind(2, payment_id);
      if (auto r = (*q)->Run(); !r) return r.error();
    }
    return InsertEvent(db, *p, now, cause, p->status, p->status, detail);
  });
}

ExpectedDone SqliteStore::ScheduleRecheck(int64_t payment_id, std::optional<Time> next_check_at,
                                          Time now) {
  return Write<Done>(Durability::kNormal, [&](Db& db) -> ExpectedDone {
    auto q = db.Prepare(
        "UPDATE payments SET next_check_at = ?, check_attempts = check_attempts + 1, "
        "needs_attention = CASE WHEN ? IS NULL THEN 1 ELSE needs_attention END, updated_at = ? "
        "WHERE id = ? AND status = 'PENDING'");
    if (!q) return q.error();
    if (next_check_at) {
      (*q)->Bind(1, Secs(*next_check_at)).Bind(2, Secs(*next_check_at));
    } else {
      (*q)->BindNull(1).BindNull(2);
    }
    (*q)->Bind(3, Secs(now)).Bind(4, payment_id);
    return (*q)->Run();
  });
}

Expected<std::vector<OutboxEmail>> SqliteStore::ClaimDueEmails(Time now, Time lease_until,
                                                               int64_t limit) {
  return Write<std::vector<OutboxEmail>>(
      Durability::kNormal, [&](Db& db) -> Expected<std::vector<OutboxEmail>> {
        std::vector<OutboxEmail> out;
        {
          auto q = db.Prepare(
              "SELECT id, org_id, payment_id, message_id, to_addr, subject, body, created_at, "
              "attempts FROM outbox WHERE sent_at IS NULL AND next_attempt_at <= ? "
              "ORDER BY next_attempt_at, id LIMIT ?");
          if (!q) return q.error();
          (*q)->Bind(1, Secs(now)).Bind(2, limit);
          for (;;) {
            auto row = (*q)->Step();
            if (!row) return row.error();
            if (!*row) break;
            OutboxEmail e;
            e.id = (*q)->Int(0);
            e.org_id = (*q)->Text(1);
            if (!(*q)->IsNull(2)) e.payment_id = (*q)->Int(2);
            e.message_id = (*q)->Text(3);
            e.to = (*q)->Text(4);
            e.subject = (*q)->Text(5);
            e.body = (*q)->Text(6);
            e.created_at = FromSecs((*q)->Int(7));
            e.attempts = (*q)->Int(8);
            out.push_back(std::move(e));
          }
        }
        for (const OutboxEmail& e : out) {
          auto q = db.Prepare("UPDATE outbox SET next_attempt_at = ? WHERE id = ?");
          if (!q) return q.error();
          (*q)->Bind(1, Secs(lease_until)).Bind(2, e.id);
          if (auto r = (*q)->Run(); !r) return r.error();
        }
        return out;
      });
}

ExpectedDone SqliteStore::MarkEmailSent(int64_t email_id, Time now) {
  return Write<Done>(Durability::kNormal, [&](Db& db) -> ExpectedDone {
    auto q = db.Prepare(
        "UPDATE outbox SET sent_at = ?, attempts = attempts + 1, last_error = NULL WHERE id = ?");
    if (!q) return q.error();
    (*q)->Bind(1, Secs(now)).Bind(2, email_id);
    return (*q)->Run();
  });
}

ExpectedDone SqliteStore::MarkEmailFailed(int64_t email_id, const std::string& error,
                                          Time next_attempt_at) {
  return Write<Done>(Durability::kNormal, [&](Db& db) -> ExpectedDone {
    auto q = db.Prepare(
        "UPDATE outbox SET attempts = attempts + 1, last_error = ?, next_attempt_at = ? "
        "WHERE id = ? AND sent_at IS NULL");
    if (!q) return q.error();
    (*q)->Bind(1, error.substr(0, 500)).Bind(2, Secs(next_attempt_at)).Bind(3, email_id);
    return (*q)->Run();
  });
}

}  // namespace sima::server
