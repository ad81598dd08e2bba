#include "payment_flow.h"

#include <algorithm>

namespace sima::server {

Expected<Confirmation> ConfirmPayment(Store& store, const PaymentGateway& gateway,
                                      const Payment& payment, PaymentCause cause, Time now,
                                      bool recheck_failed) {
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
  const GatewayLookup lookup = gateway.Lookup(payment, now);
  if (!lookup.answer) {
    // Another request may have decided the payment meanwhile: then that decision is the answer.
    if (auto fresh = store.FindPayment(payment.id); fresh && fresh->status != payment.status) {
      auto same = store.ApplyPaymentOutcome(
          payment.id, std::nullopt,
          GatewayAnswer{GatewayUnreachable(std::string(to_string(lookup.failure))), lookup.detail,
                        std::nullopt},
          cause, now);
      if (!same) return same.error();
      out.state = std::move(same).value().state;
      return out;
    }
    out.failure = lookup.failure;
    out.detail = lookup.detail;
    return out;
  }
  auto applied = store.ApplyPaymentOutcome(payment.id, std::nullopt, *lookup.answer, cause, now);
  if (!applied) return applied.error();
  out.state = std::move(applied).value().state;
  return out;
}

GatewayAnswer InitiateFailed(std::string reason, std::string detail) {
  GatewayAnswer a;
  a.outcome = Outcome{Action::kFail, std::move(reason), false};
  a.detail = std::move(detail);
  return a;
}

std::chrono::seconds RecheckBackoff(int64_t attempts) {
  const int64_t shift = std::clamp<int64_t>(attempts, 0, 10);
  return std::chrono::seconds{std::min<int64_t>(int64_t{5} << shift, 600)};
}

}  // namespace sima::server
