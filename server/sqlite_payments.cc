// SqliteStore: payments, their audit trail and the e-mail outbox. Every rule (can this plan be
// bought, what does a gateway answer do to a payment, what does activation do to the
// subscription) is sdk/'s; this file only stores the results, in one transaction each.
#include <algorithm>
#include <chrono>

#include "mail/confirmation.h"
#include "settlement_input.h"
#include "sima/crypto.h"
#include "sima/quote.h"
#include "sima/settlement.h"
#include "sqlite_store.h"
#include "store_rows.h"
#include "webhook/outbox.h"

namespace sima::server {
namespace {

using sqlite::Db;
using sqlite::Row;

// Every Payment field, in the order ReadPaymentRow (store_rows.h) reads them.
const std::string kSelectPayments = "SELECT " + std::string(kPaymentColumns) + " ";

Payment ReadPayment(const Row& r) { return ReadPaymentRow(r); }

// The payments `from` selects ("FROM payments WHERE ..." with `args` bound), in its order.
template <typename... Args>
Expected<std::vector<Payment>> QueryPayments(Db& db, const std::string& from, const Args&... args) {
  auto rows = db.All(kSelectPayments + from, args...);
  if (!rows) return rows.error();
  std::vector<Payment> out;
  out.reserve(rows->size());
  for (const Row& r : *rows) out.push_back(ReadPayment(r));
  return out;
}

// The one payment `from` selects; kNotFound saying `missing` when none.
template <typename... Args>
Expected<Payment> QueryPayment(Db& db, std::string_view missing, const std::string& from,
                               const Args&... args) {
  auto row = db.One(kSelectPayments + from, args...);
  if (!row) return row.error();
  if (!*row) return Error::NotFound(std::string(missing));
  return ReadPayment(**row);
}

ExpectedDone InsertEvent(Db& db, const Payment& p, Time now, PaymentCause cause,
                         std::optional<PaymentStatus> from, PaymentStatus to,
                         const std::string& detail) {
  const auto from_text = from ? std::optional(to_string(*from)) : std::nullopt;
  return db.Run(
      "INSERT INTO payment_events(payment_id, org_id, at, cause, from_status, to_status, detail) "
      "VALUES (?, ?, ?, ?, ?, ?, ?)",
      p.id, p.org_id, now, to_string(cause), from_text, to_string(to), detail);
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
  return QueryPayment(db, "no payment with this id", "FROM payments WHERE id = ?", payment_id);
}

ExpectedDone SqliteStore::AppendAttention(Db& db, int64_t payment_id, const std::string& why,
                                          Time now) {
  auto payment = LoadPayment(db, payment_id);
  if (!payment) return payment.error();
  auto sub = LoadSubscription(db, payment->org_id);
  if (!sub) return sub.error();
  const webhook::NewEvent e = webhook::AttentionEvent(catalog_, *payment, *sub, why, now);
  return AppendEvent(db, payment->org_id, e.type, e.data, now);
}

Expected<Payment> SqliteStore::CreatePayment(const std::string& org_id, Provider provider,
                                             const std::string& plan,
                                             const std::string& order_nonce, Time first_check,
                                             Time now) {
  return Write<Payment>(Durability::kFull, [&](Db& db) -> Expected<Payment> {
    auto state = LoadUsage(db, org_id, now);
    if (!state) return state.error();
    if (auto r = CountCall(db, org_id, state.value(), now); !r) return r.error();
    auto quote = QuotePayment(catalog_, state->subscription, plan, now, kMinimumPaymentPaisa);
    if (!quote) return Error::FromStatus(quote.status());
    return InsertPayment(db, org_id, provider, *quote, order_nonce, first_check, now);
  });
}

Expected<Payment> SqliteStore::InsertPayment(Db& db, const std::string& org_id, Provider provider,
                                             const UpgradeQuote& quote,
                                             const std::string& order_nonce, Time first_check,
                                             Time now) {
  // A placeholder order id keeps the UNIQUE column satisfied until the id is known.
  if (auto r = db.Run(
          "INSERT INTO payments(org_id, provider, plan, amount_paisa, status, purchase_order_id, "
          "created_at, updated_at, next_check_at, ref, amount_breakdown) "
          "VALUES (?, ?, ?, ?, 'PENDING', ?, ?, ?, ?, ?, ?)",
          org_id, to_string(provider), quote.to_plan, quote.amount_paisa, "new_" + order_nonce, now,
          now, first_check, "pay_" + crypto::RandomToken(22), BreakdownToText(quote.breakdown));
      !r) {
    return r.error();
  }
  const int64_t id = db.last_insert_rowid();
  if (auto r = db.Run("UPDATE payments SET purchase_order_id = ? WHERE id = ?",
                      "pay_" + std::to_string(id) + "_" + order_nonce, id);
      !r) {
    return r.error();
  }
  auto payment = LoadPayment(db, id);
  if (!payment) return payment;
  if (auto r = InsertEvent(
          db, *payment, now, PaymentCause::kInit, std::nullopt, PaymentStatus::kPending,
          "created: " + payment->plan + " for " + std::to_string(payment->amount_paisa) + " paisa");
      !r) {
    return r.error();
  }
  return payment;
}

Expected<Payment> SqliteStore::AttachGatewayReference(
    int64_t payment_id, const std::string& reference_id, std::optional<Time> expires_at,
    Time next_check_at, Time now, const std::optional<std::string>& payment_url) {
  return Write<Payment>(Durability::kFull, [&](Db& db) -> Expected<Payment> {
    if (auto r = db.Run("UPDATE payments SET reference_id = ?, expires_at = ?, next_check_at = ?, "
                        "updated_at = ?, payment_url = ? "
                        "WHERE id = ? AND status = 'PENDING' AND reference_id IS NULL",
                        reference_id, expires_at, next_check_at, now, payment_url, payment_id);
        !r) {
      return r.error();
    }
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
    auto org = db.One("SELECT name, billing_email FROM organizations WHERE id = ?", payment.org_id);
    if (!org) return org.error();
    if (!*org) return Error::NotFound("no such organization");
    const std::string org_name = (*org)->Text(0);
    const std::optional<std::string> email = (*org)->OptText(1);

    // The core decides; the rest of this function writes what it said.
    const Settlement s = Settle(SettleInputFor(payment, answer, usage->subscription,
                                               email.has_value(), catalog_, cause, now));
    AppliedOutcome out{{payment, usage->subscription}, s.changed(), s.activated()};
    if (!s.writes()) return out;

    if (s.changed()) {
      // Guarded by the previous status: a lost race cannot go unnoticed.
      if (auto r = db.Run("UPDATE payments SET status = ?, reason = ?, needs_attention = ?, "
                          "transaction_id = COALESCE(?, transaction_id), updated_at = ?, "
                          "next_check_at = NULL WHERE id = ? AND status = ?",
                          to_string(s.to), s.reason, s.needs_attention, s.transaction_id, now,
                          payment.id, to_string(s.from));
          !r) {
        return r.error();
      }
      if (db.changes() != 1) return Error::Internal("the payment changed under its transaction");
    } else {
      // Flagged or illegal: nothing moves, a human must look.
      if (auto r = db.Run(
              "UPDATE payments SET needs_attention = 1, updated_at = ? WHERE id = ? AND status = ?",
              now, payment.id, to_string(s.from));
          !r) {
        return r.error();
      }
    }
    for (const AuditEvent& e : s.audit) {
      if (auto r = InsertEvent(db, payment, now, cause, e.from, e.to, e.detail); !r) {
        return r.error();
      }
    }
    if (s.activation && s.plan_change) {
      out.state.subscription = s.activation->subscription;
      if (auto r = SaveActivation(db, payment.org_id, out.state.subscription, s.reset_usage_from,
                                  *s.plan_change, payment.id, now);
          !r) {
        return r.error();
      }
    }

    auto stored = LoadPayment(db, payment.id);
    if (!stored) return stored.error();
    out.state.payment = std::move(stored).value();
    if (auto r = AppendEvents(db, payment.org_id,
                              webhook::SettlementEvents(catalog_, payment, s, out.state.payment,
                                                        out.state.subscription, now),
                              now);
        !r) {
      return r.error();
    }

    if (s.notify && email) {
      // One confirmation per payment: outbox.payment_id is UNIQUE.
      const ConfirmationText text =
          options_.confirmation(org_name, out.state.payment, out.state.subscription);
      if (auto r =
              db.Run("INSERT INTO outbox(org_id, payment_id, message_id, to_addr, subject, body, "
                     "created_at, next_attempt_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?) "
                     "ON CONFLICT(payment_id) DO NOTHING",
                     payment.org_id, payment.id, ConfirmationMessageId(payment.id), *email,
                     text.subject, text.body, now, now);
          !r) {
        return r.error();
      }
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
    auto rows =
        QueryPayments(db, "FROM payments WHERE org_id = ? AND id < ? ORDER BY id DESC LIMIT ?",
                      org_id, after, page.limit + 1);
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
  return QueryPayment(*db_, "no payment with this reference",
                      "FROM payments WHERE provider = ? AND reference_id = ?", to_string(provider),
                      reference_id);
}

Expected<std::vector<Payment>> SqliteStore::DuePendingPayments(Time now, int64_t limit,
                                                               int64_t per_org) {
  std::lock_guard lock(write_mu_);
  // Round-robin across organizations: rank each organization's due payments by when they
  // fell due, then take every organization's first, then every one's second, ...
  return QueryPayments(
      *db_,
      "FROM (SELECT *, ROW_NUMBER() OVER (PARTITION BY org_id ORDER BY next_check_at, id) "
      "AS turn FROM payments WHERE status = 'PENDING' AND next_check_at IS NOT NULL AND "
      "next_check_at <= ?) WHERE turn <= ? ORDER BY turn, next_check_at, id LIMIT ?",
      now, per_org, limit);
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
    auto quote = QuotePayment(catalog_, state->subscription, plan, now, kMinimumPaymentPaisa);
    if (!quote) return Error::FromStatus(quote.status());
    const std::string& code = quote->to_plan;
    // The payer's open payment for the same thing, if it can still be paid and is for what a
    // new one would cost now: offered again.
    auto open = QueryPayments(db,
                              "FROM payments WHERE org_id = ? AND status = 'PENDING' AND "
                              "provider = ? AND plan = ? AND reference_id IS NOT NULL "
                              "ORDER BY id DESC LIMIT 20",
                              org_id, to_string(provider), code);
    if (!open) return open.error();
    for (const Payment& p : open.value()) {
      if (provider == Provider::kKhalti && !p.payment_url) continue;
      if (p.amount_paisa != quote->amount_paisa) continue;
      if (PayerMayStillPay(p.provider, p.created_at, p.expires_at, now, limits.timing.esewa_session,
                           limits.timing.reuse_margin)) {
        return OpenedPayment{p, true};
      }
    }
    // The same payment being started right now (its gateway reference is on its way): the
    // payer is asked to come back in a moment and is then offered it, instead of a second one.
    auto starting = db.QueryInt(
        "SELECT COUNT(*) FROM payments WHERE org_id = ? AND status = 'PENDING' AND "
        "provider = ? AND plan = ? AND reference_id IS NULL AND created_at > ?",
        org_id, to_string(provider), code, now - limits.timing.starting_window);
    if (!starting) return starting.error();
    if (*starting > 0) {
      return rate_limited("a payment of this plan is being started; retry in a moment",
                          limits.timing.starting_retry_after.count());
    }
    // New payments per minute, per organization.
    auto minute =
        db.One("SELECT COUNT(*), MIN(created_at) FROM payments WHERE org_id = ? AND created_at > ?",
               org_id, now - limits.timing.init_rate_window);
    if (!minute) return minute.error();
    if (*minute && (*minute)->Int(0) >= limits.per_minute) {
      const Time oldest = (*minute)->OptAt(1).value_or(now);
      return rate_limited(
          "too many payments started; at most " + std::to_string(limits.per_minute) + " a minute",
          limits.timing.InitRateRetryAfter(oldest, now).count());
    }
    // Open payments at once, per organization.
    auto open_count = db.QueryInt(
        "SELECT COUNT(*) FROM payments WHERE org_id = ? AND status = 'PENDING'", org_id);
    if (!open_count) return open_count.error();
    if (*open_count >= limits.open_max) {
      return rate_limited("too many open payments; at most " + std::to_string(limits.open_max) +
                              " may wait to be paid at once: pay or abandon one first",
                          limits.timing.open_cap_retry_after.count());
    }
    auto created = InsertPayment(db, org_id, provider, *quote, order_nonce, first_check, now);
    if (!created) return created.error();
    return OpenedPayment{std::move(created).value(), false};
  });
}

Expected<Payment> SqliteStore::FindPaymentByRef(const std::string& ref) {
  std::lock_guard lock(write_mu_);
  return QueryPayment(*db_, "no payment with this reference", "FROM payments WHERE ref = ?", ref);
}

Expected<bool> SqliteStore::StampedSince(const std::string& column, int64_t payment_id,
                                         Time since) {
  std::lock_guard lock(write_mu_);
  auto row = db_->One("SELECT " + column + " FROM payments WHERE id = ?", payment_id);
  if (!row) return row.error();
  if (!*row) return Error::NotFound("no payment with this id");
  const std::optional<Time> stamp = (*row)->OptAt(0);
  return stamp && *stamp > since;
}

Expected<bool> SqliteStore::ClaimLookup(int64_t payment_id, std::chrono::seconds window, Time now,
                                        bool late) {
  const Time since = now - window;
  const std::string column = late ? "last_late_check_at" : "last_checked_at";
  // Most repeats stop here, without joining the write queue.
  if (auto recent = StampedSince(column, payment_id, since); !recent || *recent) {
    return recent ? Expected<bool>(false) : Expected<bool>(recent.error());
  }
  return Write<bool>(Durability::kNormal, [&](Db& db) -> Expected<bool> {
    if (auto r = db.Run("UPDATE payments SET " + column + " = ? WHERE id = ? AND (" + column +
                            " IS NULL OR " + column + " <= ?)",
                        now, payment_id, since);
        !r) {
      return r.error();
    }
    return db.changes() == 1;
  });
}

Expected<bool> SqliteStore::AuditPaymentOnce(int64_t payment_id, PaymentCause cause,
                                             const std::string& detail, bool needs_attention,
                                             std::chrono::seconds window, Time now) {
  const Time since = now - window;
  if (auto recent = StampedSince("last_audit_at", payment_id, since); !recent || *recent) {
    return recent ? Expected<bool>(false) : Expected<bool>(recent.error());
  }
  return Write<bool>(Durability::kFull, [&](Db& db) -> Expected<bool> {
    auto p = LoadPayment(db, payment_id);
    if (!p) return p.error();
    if (auto r = db.Run("UPDATE payments SET last_audit_at = ?, "
                        "needs_attention = CASE WHEN ? THEN 1 ELSE needs_attention END "
                        "WHERE id = ? AND (last_audit_at IS NULL OR last_audit_at <= ?)",
                        now, needs_attention, payment_id, since);
        !r) {
      return r.error();
    }
    if (db.changes() != 1) return false;
    if (auto r = InsertEvent(db, *p, now, cause, p->status, p->status, detail); !r) {
      return r.error();
    }
    if (needs_attention && !p->needs_attention) {
      if (auto r = AppendAttention(db, payment_id, detail, now); !r) return r.error();
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
      if (auto r = db.Run("UPDATE payments SET needs_attention = 1, updated_at = ? WHERE id = ?",
                          now, payment_id);
          !r) {
        return r.error();
      }
      if (auto r = AppendAttention(db, payment_id, detail, now); !r) return r;
    }
    return InsertEvent(db, *p, now, cause, p->status, p->status, detail);
  });
}

ExpectedDone SqliteStore::ScheduleRecheck(int64_t payment_id, std::optional<Time> next_check_at,
                                          Time now) {
  return Write<Done>(Durability::kNormal, [&](Db& db) -> ExpectedDone {
    auto before = db.One("SELECT needs_attention FROM payments WHERE id = ?", payment_id);
    if (!before) return before.error();
    const bool flagged = *before && (*before)->Bool(0);
    if (auto r =
            db.Run("UPDATE payments SET next_check_at = ?1, check_attempts = check_attempts + 1, "
                   "needs_attention = CASE WHEN ?1 IS NULL THEN 1 ELSE needs_attention END, "
                   "updated_at = ?2 WHERE id = ?3 AND status = 'PENDING'",
                   next_check_at, now, payment_id);
        !r) {
      return r;
    }
    if (db.changes() == 0 || next_check_at || flagged) return Done{};
    return AppendAttention(db, payment_id, std::string(webhook::kRechecksStopped), now);
  });
}

Expected<std::vector<OutboxEmail>> SqliteStore::ClaimDueEmails(Time now, Time lease_until,
                                                               int64_t limit) {
  return Write<std::vector<OutboxEmail>>(
      Durability::kNormal, [&](Db& db) -> Expected<std::vector<OutboxEmail>> {
        auto rows = db.All(
            "SELECT id, org_id, payment_id, message_id, to_addr, subject, body, created_at, "
            "attempts FROM outbox WHERE sent_at IS NULL AND next_attempt_at <= ? "
            "ORDER BY next_attempt_at, id LIMIT ?",
            now, limit);
        if (!rows) return rows.error();
        std::vector<OutboxEmail> out;
        for (const Row& r : *rows) {
          out.push_back({r.Int(0), r.Text(1), r.OptInt(2), r.Text(3), r.Text(4), r.Text(5),
                         r.Text(6), r.At(7), r.Int(8)});
          if (auto lease = db.Run("UPDATE outbox SET next_attempt_at = ? WHERE id = ?", lease_until,
                                  out.back().id);
              !lease) {
            return lease.error();
          }
        }
        return out;
      });
}

ExpectedDone SqliteStore::MarkEmailSent(int64_t email_id, Time now) {
  return Write<Done>(Durability::kNormal, [&](Db& db) -> ExpectedDone {
    return db.Run(
        "UPDATE outbox SET sent_at = ?, attempts = attempts + 1, last_error = NULL WHERE id = ?",
        now, email_id);
  });
}

ExpectedDone SqliteStore::MarkEmailFailed(int64_t email_id, const std::string& error,
                                          Time next_attempt_at) {
  return Write<Done>(Durability::kNormal, [&](Db& db) -> ExpectedDone {
    return db.Run(
        "UPDATE outbox SET attempts = attempts + 1, last_error = ?, next_attempt_at = ? "
        "WHERE id = ? AND sent_at IS NULL",
        error.substr(0, 500), next_attempt_at, email_id);
  });
}

}  // namespace sima::server
