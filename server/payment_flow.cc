#include "payment_flow.h"

#include "events.h"

namespace sima::server {
namespace {

// After the commit: the organization's browsers learn what the outcome changed.
void Tell(ChangeFeed* changes, const AppliedOutcome& applied) {
  if (changes != nullptr && applied.changed) changes->Changed(applied.state.payment.org_id);
}

}  // namespace

Expected<Confirmation> ConfirmPayment(Store& store, const PaymentGateway& gateway,
                                      const Payment& payment, PaymentCause cause, Time now,
                                      bool recheck_failed, ChangeFeed* changes) {
  Confirmation out;
  out.state.payment = payment;
  const bool late = recheck_failed && payment.status == PaymentStatus::kFailed;
  if ((payment.status != PaymentStatus::kPending && !late) || !payment.reference_id) {
    if (payment.status == PaymentStatus::kPending) {
      out.failure = CallFailure::kRejected;
      out.detail = "the payment was not initiated at " + std::string(gateway.name());
    }
    return out;
  }
  // The gateway call happens outside any transaction: the write lock is never held meanwhile.
  const GatewayResult<GatewayAnswer> lookup = gateway.Lookup(payment, now);
  if (!lookup.ok()) {
    // Another request may have decided the payment meanwhile: then that decision is the answer.
    if (auto fresh = store.FindPayment(payment.id); fresh && fresh->status != payment.status) {
      auto same = store.ApplyPaymentOutcome(
          payment.id, std::nullopt,
          GatewayAnswer{GatewayUnreachable(std::string(to_string(lookup.failure))), lookup.detail,
                        std::nullopt},
          cause, now);
      if (!same) return same.error();
      Tell(changes, same.value());
      out.state = std::move(same).value().state;
      return out;
    }
    out.failure = lookup.failure;
    out.detail = lookup.detail;
    return out;
  }
  auto applied = store.ApplyPaymentOutcome(payment.id, std::nullopt, *lookup.value, cause, now);
  if (!applied) return applied.error();
  Tell(changes, applied.value());
  out.state = std::move(applied).value().state;
  return out;
}

GatewayAnswer InitiateFailed(std::string reason, std::string detail) {
  GatewayAnswer a;
  a.outcome = Outcome{Action::kFail, std::move(reason), false};
  a.detail = std::move(detail);
  return a;
}

Expected<Payment> ConfirmForRedirect(Store& store, const PaymentGateway* gateway,
                                     const PaymentTiming& timing, const Payment& payment, Time now,
                                     bool paid_claim, PaymentCause cause, ChangeFeed* changes) {
  const bool late = paid_claim && payment.status == PaymentStatus::kFailed;
  if ((payment.status != PaymentStatus::kPending && !late) || gateway == nullptr) return payment;
  // A FAILED payment the gateway could not confirm now: flagged, and not answered as FAILED.
  const auto shown_pending = [&](const Payment& p, const std::string& why) -> Expected<Payment> {
    auto audited = store.AuditPaymentOnce(p.id, PaymentCause::kCallback,
                                          "paid redirect for a FAILED payment; " + why, true,
                                          timing.rejected_audit_window, now);
    if (!audited) return audited.error();
    Payment shown = p;
    shown.status = PaymentStatus::kPending;
    return shown;
  };
  auto claimed = store.ClaimLookup(payment.id, timing.anonymous_lookup_window, now, late);
  if (!claimed) return claimed.error();
  if (!claimed.value()) {
    if (!late) return payment;
    // Another paid redirect for it asked the gateway moments ago: its answer, if stored, wins.
    if (auto fresh = store.FindPayment(payment.id);
        fresh && fresh->status != PaymentStatus::kFailed) {
      return fresh.value();
    }
    return shown_pending(payment, "the gateway was asked moments ago, look again");
  }
  auto confirmed = ConfirmPayment(store, *gateway, payment, cause, now, paid_claim, changes);
  if (!confirmed) return confirmed.error();
  if (late && confirmed->failure != CallFailure::kNone &&
      confirmed->state.payment.status == PaymentStatus::kFailed) {
    return shown_pending(confirmed->state.payment,
                         "the gateway could not be asked: " + confirmed->detail);
  }
  return confirmed->state.payment;
}

}  // namespace sima::server
