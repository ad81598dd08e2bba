// What every store does the same way around a refund (store.h BeginRefund / SettleRefund):
// the sdk's input from the rows it loaded, and the webhook events a succeeded refund writes.
// The rule itself is sima/refund.h.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "sima/catalog.h"
#include "sima/json.h"
#include "sima/refund.h"
#include "store.h"
#include "webhook/event.h"

namespace sima::server {

// The organization's latest plan_changes row, as far as a refund cares.
struct LatestPlanChange {
  std::optional<int64_t> payment_id;
  std::string kind;  // started, extended (activations); ended, shortened (refunds)
  std::optional<Time> end;
};

// The sdk's input for refunding `amount` of `payment`: `latest` tells whether the payment
// bought the plan in force (an extension's previous end is its end less one period, which is
// how sima::ActivateWithGrace extends). `pending` counts the other refunds not settled yet.
inline RefundInput RefundInputFor(const Catalog& catalog, const Payment& payment,
                                  const Subscription& subscription,
                                  const std::optional<LatestPlanChange>& latest, int64_t amount,
                                  int64_t pending, bool keep_plan, Time now) {
  RefundInput in;
  in.status = payment.status;
  in.amount_paisa = payment.amount_paisa;
  in.refunded_paisa = payment.refunded_paisa;
  in.pending_paisa = pending;
  in.reason = payment.reason;
  in.needs_attention = payment.needs_attention;
  in.subscription = subscription;
  in.refund_paisa = amount;
  in.keep_plan = keep_plan;
  in.catalog = &catalog;
  in.now = now;
  if (latest && latest->payment_id == payment.id) {
    if (latest->kind == "started") in.target = RefundTarget::kStarted;
    if (latest->kind == "extended") {
      in.target = RefundTarget::kExtended;
      if (latest->end) in.previous_end = *latest->end - Days{catalog.period_days()};
    }
  }
  return in;
}

// The events a succeeded refund writes, in order: payment.refunded {payment, refund,
// subscription}, then subscription.expired (the plan ended: FREE) or subscription.changed (an
// extension removed) with the plan in force before.
inline std::vector<std::pair<std::string_view, Json>> RefundEvents(
    const Catalog& catalog, const Payment& payment, const Refund& refund,
    const Subscription& subscription, const RefundDecision& d, Time now) {
  std::vector<std::pair<std::string_view, Json>> out;
  Json data = webhook::PaymentEventData(catalog, payment, subscription, now);
  data["refund"] = RefundToJson(refund);
  out.emplace_back(webhook::kPaymentRefunded, std::move(data));
  if (d.effect == RefundEffect::kEnded) {
    out.emplace_back(webhook::kSubscriptionExpired,
                     webhook::SubscriptionEventData(catalog, subscription, now, d.from_plan));
  } else if (d.effect == RefundEffect::kShortened) {
    out.emplace_back(webhook::kSubscriptionChanged,
                     webhook::SubscriptionEventData(catalog, subscription, now, d.from_plan));
  }
  return out;
}

// kConflict "idempotency_key" when the same key asked a different refund.
inline ExpectedDone SameRefund(const Refund& first, const Refund& asked) {
  if (first.amount_paisa == asked.amount_paisa && first.keep_plan == asked.keep_plan) return Done{};
  Error e = Error::Conflict("this Idempotency-Key was already used for a different refund");
  e.extra["field"] = "idempotency_key";
  return e;
}

// Refunds asked of one payment, failed ones included: a bound on what retries can pile up.
inline constexpr int64_t kMaxRefundsPerPayment = 50;
inline Error TooManyRefunds() {
  return Error::Conflict("this payment already has " + std::to_string(kMaxRefundsPerPayment) +
                         " refunds, the most allowed");
}

// A refusal of sima::CheckRefund as the API answers it: a validation error names its field.
inline Error RefundError(const Status& status) {
  Error e = Error::FromStatus(status);
  if (e.kind == ErrorKind::kValidation) {
    e.extra["field"] = status.message().starts_with("keep_plan") ? "keep_plan" : "amount_paisa";
  }
  return e;
}

// "refund" for a gateway's refund, "admin" for one recorded by hand (payment_events.cause).
inline std::string_view RefundCause(const Refund& r) {
  return r.method == RefundMethod::kManual ? "admin" : "refund";
}

}  // namespace sima::server
