// PgStore: payments, their audit trail and the e-mail outbox. Every rule (can this plan be
// bought, what a gateway answer does to a payment and the subscription) is sdk/'s: this file
// loads, asks, and writes the answer in one transaction.
#include <algorithm>
#include <chrono>

#include "mail/confirmation.h"
#include "pg_store.h"
#include "settlement_input.h"
#include "sima/crypto.h"
#include "sima/quote.h"
#include "sima/settlement.h"
#include "store_rows.h"

namespace sima::server {
namespace {

using pg::Conn;
using pg::Row;

std::string SelectPayments(std::string_view rest) {
  return "SELECT " + std::string(kPaymentColumns) + " FROM payments " + std::string(rest);
}

Payment ReadPayment(const Row& r) { return ReadPaymentRow(r); }

std::vector<Payment> ReadPayments(const std::vector<Row>& rows) {
  std::vector<Payment> out;
  out.reserve(rows.size());
  for (const Row& r : rows) out.push_back(ReadPayment(r));
  return out;
}

ExpectedDone InsertEvent(Conn& c, const Payment& p, Time now, PaymentCause cause,
                         std::optional<PaymentStatus> from, PaymentStatus to,
                         const std::string& detail) {
  std::optional<std::string_view> from_text;
  if (from) from_text = to_string(*from);
  auto r = c.Run(
      "INSERT INTO payment_events(payment_id, org_id, at, cause, from_status, to_status, detail) "
      "VALUES ($1, $2, $3, $4, $5, $6, $7)",
      p.id, p.org_id, ToUnixSeconds(now), to_string(cause), from_text, to_string(to), detail);
  if (!r) return r.error();
  return Done{};
}

Error RateLimited(std::string message, int64_t retry_after) {
  Error e{ErrorKind::kRateLimited, std::move(message)};
  e.extra = {{"retry_after", std::max<int64_t>(retry_after, 1)}};
  return e;
}

}  // namespace

Expected<Payment> PgStore::LoadPayment(Conn& c, int64_t payment_id, bool lock) {
  auto row = c.One(SelectPayments(lock ? "WHERE id = $1 FOR UPDATE" : "WHERE id = $1"), payment_id);
  if (!row) return row.error();
  if (!*row) return Error::NotFound("no payment with this id");
  return ReadPayment(**row);
}

Expected<Payment> PgStore::CreatePayment(const std::string& org_id, Provider provider,
                                         const std::string& plan, const std::string& order_nonce,
                                         Time first_check, Time now) {
  return Tx<Payment>([&](Conn& c) -> Expected<Payment> {
    auto state = LoadUsage(c, org_id, now, {kApiCalls}, /*lock=*/true);
    if (!state) return state.error();
    if (auto r = CountCall(c, org_id, state.value(), now); !r) return r.error();
    auto quote = QuotePayment(catalog_, state->subscription, plan, now, kMinimumPaymentPaisa);
    if (!quote) return Error::FromStatus(quote.status());
    return InsertPayment(c, org_id, provider, *quote, order_nonce, first_check, now);
  });
}

Expected<Payment> PgStore::InsertPayment(Conn& c, const std::string& org_id, Provider provider,
                                         const UpgradeQuote& quote, const std::string& order_nonce,
                                         Time first_check, Time now) {
  // The id is drawn first, so the order id that names it is written with the row.
  auto row = c.One(
      "INSERT INTO payments(id, org_id, provider, plan, amount_paisa, status, purchase_order_id, "
      "created_at, updated_at, next_check_at, ref, amount_breakdown) "
      "SELECT n, $1, $2, $3, $4, 'PENDING', 'pay_' || n || '_' || $5, $6, $6, $7, $8, $9 "
      "FROM (SELECT nextval(pg_get_serial_sequence('payments', 'id')) AS n) AS next RETURNING " +
          std::string(kPaymentColumns),
      org_id, to_string(provider), quote.to_plan, quote.amount_paisa, order_nonce,
      ToUnixSeconds(now), ToUnixSeconds(first_check), "pay_" + crypto::RandomToken(22),
      BreakdownToText(quote.breakdown));
  if (!row) return row.error();
  if (!*row) return Error::Internal("the payment was not stored");
  Payment payment = ReadPayment(**row);
  if (auto r = InsertEvent(
          c, payment, now, PaymentCause::kInit, std::nullopt, PaymentStatus::kPending,
          "created: " + payment.plan + " for " + std::to_string(payment.amount_paisa) + " paisa");
      !r) {
    return r.error();
  }
  return payment;
}

Expected<Payment> PgStore::AttachGatewayReference(int64_t payment_id,
                                                  const std::string& reference_id,
                                                  std::optional<Time> expires_at,
                                                  Time next_check_at, Time now,
                                                  const std::optional<std::string>& payment_url) {
  return Tx<Payment>([&](Conn& c) -> Expected<Payment> {
    auto row = c.One(
        "UPDATE payments SET reference_id = $1, expires_at = $2, next_check_at = $3, "
        "updated_at = $4, payment_url = $5 WHERE id = $6 AND status = 'PENDING' AND "
        "reference_id IS NULL RETURNING " +
            std::string(kPaymentColumns),
        reference_id, expires_at, ToUnixSeconds(next_check_at), ToUnixSeconds(now), payment_url,
        payment_id);
    if (!row) return row.error();
    if (!*row) {
      auto p = LoadPayment(c, payment_id);
      if (!p) return p;
      return Error::Conflict("the payment is no longer waiting for a gateway reference");
    }
    Payment p = ReadPayment(**row);
    if (auto r = InsertEvent(c, p, now, PaymentCause::kInit, PaymentStatus::kPending,
                             PaymentStatus::kPending, "initiated: reference " + reference_id);
        !r) {
      return r.error();
    }
    return p;
  });
}

Expected<AppliedOutcome> PgStore::ApplyPaymentOutcome(int64_t payment_id,
                                                      const std::optional<std::string>& org_id,
                                                      const GatewayAnswer& answer,
                                                      PaymentCause cause, Time now) {
  return Tx<AppliedOutcome>([&](Conn& c) -> Expected<AppliedOutcome> {
    // The payment's org first (unlocked), then the organization's lock, then the payment's
    // row: every payment transaction takes them in this order.
    auto owner = c.One("SELECT org_id FROM payments WHERE id = $1", payment_id);
    if (!owner) return owner.error();
    if (!*owner || (org_id && *org_id != (*owner)->Text(0))) {
      return Error::NotFound("no payment with this id");
    }
    const std::string org = (*owner)->Text(0);
    auto usage = LoadUsage(c, org, now, {}, /*lock=*/true);
    if (!usage) return usage.error();
    auto loaded = LoadPayment(c, payment_id, /*lock=*/true);
    if (!loaded) return loaded.error();
    Payment payment = std::move(loaded).value();
    auto billing = c.One("SELECT name, billing_email FROM organizations WHERE id = $1", org);
    if (!billing) return billing.error();
    if (!*billing) return Error::NotFound("no such organization");
    const std::string org_name = (*billing)->Text(0);
    const std::optional<std::string> email = (*billing)->OptText(1);

    // The core decides; the rest of this function writes what it said.
    const Settlement s = Settle(SettleInputFor(payment, answer, usage->subscription,
                                               email.has_value(), catalog_, cause, now));
    AppliedOutcome out;
    out.state.subscription = usage->subscription;
    out.changed = s.changed();
    if (s.kind == SettleKind::kMoved) {
      auto moved = c.Run(
          "UPDATE payments SET status = $1, reason = $2, needs_attention = $3, "
          "transaction_id = COALESCE($4, transaction_id), updated_at = $5, next_check_at = NULL "
          "WHERE id = $6 AND status = $7",
          to_string(s.to), s.reason, s.needs_attention, s.transaction_id, ToUnixSeconds(now),
          payment.id, to_string(s.from));
      if (!moved) return moved.error();
      if (*moved != 1) return Error::Internal("the payment changed under its transaction");
    } else if (s.writes()) {
      // Flagged or illegal: nothing moves, a human must look.
      auto flagged =
          c.Run("UPDATE payments SET needs_attention = $1, updated_at = $2 WHERE id = $3",
                s.needs_attention, ToUnixSeconds(now), payment.id);
      if (!flagged) return flagged.error();
    }
    if (s.activation && s.plan_change) {
      const Subscription& after = s.activation->subscription;
      if (auto r =
              SaveActivation(c, org, after, s.reset_usage_from, *s.plan_change, payment.id, now);
          !r) {
        return r.error();
      }
      out.activated = true;
      out.state.subscription = after;
    }
    auto stored = s.writes() ? LoadPayment(c, payment.id) : Expected<Payment>(payment);
    if (!stored) return stored.error();
    out.state.payment = std::move(stored).value();
    if (auto r = AppendEvents(c, org,
                              webhook::SettlementEvents(catalog_, payment, s, out.state.payment,
                                                        out.state.subscription, now),
                              now);
        !r) {
      return r.error();
    }
    for (const AuditEvent& event : s.audit) {
      if (auto r =
              InsertEvent(c, out.state.payment, now, cause, event.from, event.to, event.detail);
          !r) {
        return r.error();
      }
    }
    if (s.notify && email) {
      // One confirmation per payment: outbox.payment_id is UNIQUE.
      const ConfirmationText text =
          options_.confirmation(org_name, out.state.payment, out.state.subscription);
      if (auto r =
              c.Run("INSERT INTO outbox(org_id, payment_id, message_id, to_addr, subject, body, "
                    "created_at, next_attempt_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $7) "
                    "ON CONFLICT (payment_id) DO NOTHING",
                    org, payment.id, ConfirmationMessageId(payment.id), *email, text.subject,
                    text.body, ToUnixSeconds(now));
          !r) {
        return r.error();
      }
    }
    return out;
  });
}

Expected<PaymentState> PgStore::GetPayment(const std::string& org_id, int64_t payment_id,
                                           Time now) {
  return Tx<PaymentState>([&](Conn& c) -> Expected<PaymentState> {
    // The payment first: each statement reads what was committed when it started, and the
    // transaction that moved the payment also activated the plan, so a payment read as
    // SUCCESS is never paired with the subscription from before its activation.
    auto payment = LoadPayment(c, payment_id);
    if (!payment) return payment.error();
    if (payment->org_id != org_id) return Error::NotFound("no payment with this id");
    auto state = LoadUsage(c, org_id, now, {kApiCalls});
    if (!state) return state.error();
    if (auto r = CountCall(c, org_id, state.value(), now); !r) return r.error();
    return PaymentState{std::move(payment).value(), state->subscription};
  });
}

Expected<Page<Payment>> PgStore::ListPayments(const std::string& org_id, const PageRequest& page,
                                              Time now) {
  return OrgCall<Page<Payment>>(org_id, now, [&](Conn& c, UsageState&) -> Expected<Page<Payment>> {
    // Keyset by id (it only grows): one row more than asked tells whether a next page exists.
    const int64_t after = page.after ? page.after->at : INT64_MAX;
    auto rows = c.All(SelectPayments("WHERE org_id = $1 AND id < $2 ORDER BY id DESC LIMIT $3"),
                      org_id, after, page.limit + 1);
    if (!rows) return rows.error();
    Page<Payment> out;
    out.items = ReadPayments(*rows);
    if (static_cast<int64_t>(out.items.size()) > page.limit) {
      out.items.resize(static_cast<size_t>(page.limit));
      out.next = PageKey{out.items.back().id, 0};
    }
    return out;
  });
}

Expected<Payment> PgStore::FindPayment(int64_t payment_id) {
  return Read<Payment>([&](Conn& c) { return LoadPayment(c, payment_id); });
}

Expected<Payment> PgStore::FindPaymentByReference(Provider provider,
                                                  const std::string& reference_id) {
  return Read<Payment>([&](Conn& c) -> Expected<Payment> {
    auto row = c.One(SelectPayments("WHERE provider = $1 AND reference_id = $2"),
                     to_string(provider), reference_id);
    if (!row) return row.error();
    if (!*row) return Error::NotFound("no payment with this reference");
    return ReadPayment(**row);
  });
}

Expected<Payment> PgStore::FindPaymentByRef(const std::string& ref) {
  return Read<Payment>([&](Conn& c) -> Expected<Payment> {
    auto row = c.One(SelectPayments("WHERE ref = $1"), ref);
    if (!row) return row.error();
    if (!*row) return Error::NotFound("no payment with this reference");
    return ReadPayment(**row);
  });
}

Expected<std::vector<Payment>> PgStore::DuePendingPayments(Time now, int64_t limit,
                                                           int64_t per_org) {
  return Tx<std::vector<Payment>>([&](Conn& c) -> Expected<std::vector<Payment>> {
    // Round-robin across organizations (every organization's earliest due payment, then every
    // one's second, ...), then claimed: rows another instance holds are skipped, and each
    // claimed row's next check moves past the lease in the same statement.
    auto rows = c.All(
        "WITH ranked AS (SELECT id, next_check_at, ROW_NUMBER() OVER (PARTITION BY org_id "
        "ORDER BY next_check_at, id) AS turn FROM payments WHERE status = 'PENDING' AND "
        "next_check_at IS NOT NULL AND next_check_at <= $1), "
        "picked AS (SELECT p.id AS pid, r.turn, r.next_check_at AS due FROM payments p "
        "JOIN ranked r ON r.id = p.id WHERE r.turn <= $2 AND p.status = 'PENDING' AND "
        "p.next_check_at <= $1 ORDER BY r.turn, r.next_check_at, r.id LIMIT $3 "
        "FOR UPDATE OF p SKIP LOCKED), "
        "claimed AS (UPDATE payments SET next_check_at = $4 FROM picked "
        "WHERE payments.id = picked.pid RETURNING payments.id) " +
            SelectPayments("JOIN picked ON picked.pid = payments.id "
                           "ORDER BY picked.turn, picked.due, payments.id"),
        ToUnixSeconds(now), per_org, limit, ToUnixSeconds(now + options_.claim_lease));
    if (!rows) return rows.error();
    return ReadPayments(*rows);
  });
}

Expected<OpenedPayment> PgStore::OpenPayment(const std::string& org_id, Provider provider,
                                             const std::string& plan,
                                             const std::string& order_nonce, Time first_check,
                                             const PaymentLimits& limits, Time now) {
  return Tx<OpenedPayment>([&](Conn& c) -> Expected<OpenedPayment> {
    auto state = LoadUsage(c, org_id, now, {kApiCalls}, /*lock=*/true);
    if (!state) return state.error();
    if (auto r = CountCall(c, org_id, state.value(), now); !r) return r.error();
    auto quote = QuotePayment(catalog_, state->subscription, plan, now, kMinimumPaymentPaisa);
    if (!quote) return Error::FromStatus(quote.status());
    const std::string& code = quote->to_plan;
    // The payer's open payment for the same thing, if it can still be paid and is for what a
    // new one would cost now: offered again.
    auto open = c.All(SelectPayments("WHERE org_id = $1 AND status = 'PENDING' AND provider = $2 "
                                     "AND plan = $3 AND reference_id IS NOT NULL "
                                     "ORDER BY id DESC LIMIT 20"),
                      org_id, to_string(provider), code);
    if (!open) return open.error();
    for (const Payment& p : ReadPayments(*open)) {
      if (provider == Provider::kKhalti && !p.payment_url) continue;
      if (p.amount_paisa != quote->amount_paisa) continue;
      if (PayerMayStillPay(p.provider, p.created_at, p.expires_at, now, limits.timing.esewa_session,
                           limits.timing.reuse_margin)) {
        return OpenedPayment{p, true};
      }
    }
    // The same payment being started right now (its gateway reference is on its way).
    auto starting = c.One(
        "SELECT COUNT(*) FROM payments WHERE org_id = $1 AND status = 'PENDING' AND "
        "provider = $2 AND plan = $3 AND reference_id IS NULL AND created_at > $4",
        org_id, to_string(provider), code, ToUnixSeconds(now - limits.timing.starting_window));
    if (!starting) return starting.error();
    if ((*starting)->Int(0) > 0) {
      return RateLimited("a payment of this plan is being started; retry in a moment",
                         limits.timing.starting_retry_after.count());
    }
    auto recent = c.One(
        "SELECT COUNT(*), MIN(created_at) FROM payments WHERE org_id = $1 AND created_at > $2",
        org_id, ToUnixSeconds(now - limits.timing.init_rate_window));
    if (!recent) return recent.error();
    if ((*recent)->Int(0) >= limits.per_minute) {
      const Time oldest = (*recent)->OptAt(1).value_or(now);
      return RateLimited(
          "too many payments started; at most " + std::to_string(limits.per_minute) + " a minute",
          limits.timing.InitRateRetryAfter(oldest, now).count());
    }
    auto pending =
        c.One("SELECT COUNT(*) FROM payments WHERE org_id = $1 AND status = 'PENDING'", org_id);
    if (!pending) return pending.error();
    if ((*pending)->Int(0) >= limits.open_max) {
      return RateLimited("too many open payments; at most " + std::to_string(limits.open_max) +
                             " may wait to be paid at once: pay or abandon one first",
                         limits.timing.open_cap_retry_after.count());
    }
    auto created = InsertPayment(c, org_id, provider, *quote, order_nonce, first_check, now);
    if (!created) return created.error();
    return OpenedPayment{std::move(created).value(), false};
  });
}

Expected<bool> PgStore::ClaimLookup(int64_t payment_id, std::chrono::seconds window, Time now,
                                    bool late) {
  const int64_t since = ToUnixSeconds(now) - window.count();
  const std::string column = late ? "last_late_check_at" : "last_checked_at";
  return Tx<bool>([&](Conn& c) -> Expected<bool> {
    auto claimed = c.One("UPDATE payments SET " + column + " = $1 WHERE id = $2 AND (" + column +
                             " IS NULL OR " + column + " <= $3) RETURNING id",
                         ToUnixSeconds(now), payment_id, since);
    if (!claimed) return claimed.error();
    if (*claimed) return true;
    auto exists = c.One("SELECT 1 FROM payments WHERE id = $1", payment_id);
    if (!exists) return exists.error();
    if (!*exists) return Error::NotFound("no payment with this id");
    return false;
  });
}

Expected<bool> PgStore::AuditPaymentOnce(int64_t payment_id, PaymentCause cause,
                                         const std::string& detail, bool needs_attention,
                                         std::chrono::seconds window, Time now) {
  const int64_t since = ToUnixSeconds(now) - window.count();
  return Tx<bool>([&](Conn& c) -> Expected<bool> {
    // Locked: whether this call is the one that flags it decides its event.
    auto p = LoadPayment(c, payment_id, /*lock=*/true);
    if (!p) return p.error();
    auto stamped = c.Run(
        "UPDATE payments SET last_audit_at = $1, needs_attention = needs_attention OR $2 "
        "WHERE id = $3 AND (last_audit_at IS NULL OR last_audit_at <= $4)",
        ToUnixSeconds(now), needs_attention, payment_id, since);
    if (!stamped) return stamped.error();
    if (*stamped != 1) return false;
    if (auto r = InsertEvent(c, *p, now, cause, p->status, p->status, detail); !r) {
      return r.error();
    }
    if (needs_attention && !p->needs_attention) {
      if (auto r = AppendAttention(c, payment_id, detail, now); !r) return r.error();
    }
    return true;
  });
}

ExpectedDone PgStore::AuditPayment(int64_t payment_id, PaymentCause cause,
                                   const std::string& detail, bool needs_attention, Time now) {
  return Tx<Done>([&](Conn& c) -> ExpectedDone {
    // Locked: whether this call is the one that flags it decides its event.
    auto p = LoadPayment(c, payment_id, /*lock=*/true);
    if (!p) return p.error();
    if (needs_attention && !p->needs_attention) {
      auto r = c.Run("UPDATE payments SET needs_attention = true, updated_at = $1 WHERE id = $2",
                     ToUnixSeconds(now), payment_id);
      if (!r) return r.error();
      if (auto e = AppendAttention(c, payment_id, detail, now); !e) return e;
    }
    return InsertEvent(c, *p, now, cause, p->status, p->status, detail);
  });
}

ExpectedDone PgStore::ScheduleRecheck(int64_t payment_id, std::optional<Time> next_check_at,
                                      Time now) {
  return Tx<Done>([&](Conn& c) -> ExpectedDone {
    auto before =
        c.One("SELECT needs_attention FROM payments WHERE id = $1 FOR UPDATE", payment_id);
    if (!before) return before.error();
    const bool flagged = *before && (*before)->Bool(0);
    auto r = c.Run(
        "UPDATE payments SET next_check_at = $1, check_attempts = check_attempts + 1, "
        "needs_attention = needs_attention OR $1::bigint IS NULL, updated_at = $2 "
        "WHERE id = $3 AND status = 'PENDING'",
        next_check_at, ToUnixSeconds(now), payment_id);
    if (!r) return r.error();
    if (*r == 0 || next_check_at || flagged) return Done{};
    return AppendAttention(c, payment_id, std::string(webhook::kRechecksStopped), now);
  });
}

Expected<std::vector<OutboxEmail>> PgStore::ClaimDueEmails(Time now, Time lease_until,
                                                           int64_t limit) {
  return Tx<std::vector<OutboxEmail>>([&](Conn& c) -> Expected<std::vector<OutboxEmail>> {
    // Oldest first; rows another instance is claiming are skipped, and the claim (the next
    // attempt moved to lease_until) is written by the same statement.
    auto rows = c.All(
        "WITH picked AS (SELECT id, next_attempt_at FROM outbox WHERE sent_at IS NULL AND "
        "next_attempt_at <= $1 ORDER BY next_attempt_at, id LIMIT $2 FOR UPDATE SKIP LOCKED) "
        "UPDATE outbox o SET next_attempt_at = $3 FROM picked WHERE o.id = picked.id "
        "RETURNING o.id, o.org_id, o.payment_id, o.message_id, o.to_addr, o.subject, o.body, "
        "o.created_at, o.attempts, picked.next_attempt_at",
        ToUnixSeconds(now), limit, ToUnixSeconds(lease_until));
    if (!rows) return rows.error();
    std::vector<std::pair<std::pair<int64_t, int64_t>, OutboxEmail>> sorted;
    for (const Row& r : *rows) {
      OutboxEmail e;
      e.id = r.Int(0);
      e.org_id = r.Text(1);
      e.payment_id = r.OptInt(2);
      e.message_id = r.Text(3);
      e.to = r.Text(4);
      e.subject = r.Text(5);
      e.body = r.Text(6);
      e.created_at = r.At(7);
      e.attempts = r.Int(8);
      sorted.push_back({{r.Int(9), e.id}, std::move(e)});
    }
    std::sort(sorted.begin(), sorted.end(),
              [](const auto& a, const auto& b) { return a.first < b.first; });
    std::vector<OutboxEmail> out;
    for (auto& [key, e] : sorted) out.push_back(std::move(e));
    return out;
  });
}

ExpectedDone PgStore::MarkEmailSent(int64_t email_id, Time now) {
  return Tx<Done>([&](Conn& c) -> ExpectedDone {
    auto r = c.Run(
        "UPDATE outbox SET sent_at = $1, attempts = attempts + 1, last_error = NULL WHERE id = $2",
        ToUnixSeconds(now), email_id);
    if (!r) return r.error();
    return Done{};
  });
}

ExpectedDone PgStore::MarkEmailFailed(int64_t email_id, const std::string& error,
                                      Time next_attempt_at) {
  return Tx<Done>([&](Conn& c) -> ExpectedDone {
    auto r = c.Run(
        "UPDATE outbox SET attempts = attempts + 1, last_error = $1, next_attempt_at = $2 "
        "WHERE id = $3 AND sent_at IS NULL",
        error.substr(0, 500), ToUnixSeconds(next_attempt_at), email_id);
    if (!r) return r.error();
    return Done{};
  });
}

}  // namespace sima::server
