#include "sima/refund.h"

#include "sima/lifecycle.h"

namespace sima {
namespace {

std::string Paisa(int64_t paisa) { return std::to_string(paisa) + " paisa"; }

// FREE from now on, in the same usage period: a refund gives no fresh allowance.
Subscription EndedNow(const Subscription& sub) {
  Subscription out;
  out.plan = std::string(kFreePlan);
  out.start = sub.start;
  return out;
}

}  // namespace

std::string_view to_string(RefundEffect effect) {
  switch (effect) {
    case RefundEffect::kNone: return "none";
    case RefundEffect::kEnded: return "ended";
    case RefundEffect::kShortened: return "shortened";
  }
  return "none";
}

Status CheckRefund(const RefundInput& in) {
  if (in.status != PaymentStatus::kSuccess) {
    return Status::Conflict("the payment is " + std::string(to_string(in.status)) +
                            "; only a SUCCESS payment can be refunded");
  }
  if (in.refund_paisa <= 0) {
    return Status::InvalidArgument("amount_paisa must be a positive number of paisa");
  }
  const int64_t left = in.amount_paisa - in.refunded_paisa - in.pending_paisa;
  if (left <= 0) {
    return Status::Conflict("nothing is left to refund: " + Paisa(in.refunded_paisa) +
                            " refunded and " + Paisa(in.pending_paisa) + " pending of " +
                            Paisa(in.amount_paisa));
  }
  if (in.refund_paisa > left) {
    return Status::InvalidArgument("amount_paisa " + std::to_string(in.refund_paisa) +
                                   " is more than is left to refund (" + Paisa(left) + ")");
  }
  if (in.keep_plan && in.refunded_paisa + in.pending_paisa + in.refund_paisa >= in.amount_paisa) {
    return Status::InvalidArgument(
        "keep_plan is only for a partial refund; this one leaves "
        "nothing of the payment");
  }
  return Status::Ok();
}

Result<RefundDecision> DecideRefund(const RefundInput& in) {
  if (Status s = CheckRefund(in); !s.ok()) return s;
  RefundDecision d;
  d.refunded_paisa = in.refunded_paisa + in.refund_paisa;
  d.full = d.refunded_paisa == in.amount_paisa;
  d.status = d.full ? PaymentStatus::kRefunded : PaymentStatus::kSuccess;
  d.reason = in.reason;
  d.needs_attention = in.needs_attention;
  const bool conflict = in.reason == kPlanConflictReason;
  if (conflict) {
    // The refund an operator was asked for has been made.
    d.needs_attention = false;
    d.reason = d.full ? "plan_conflict: refunded" : "plan_conflict: partly refunded";
  } else if (d.full) {
    d.reason = "refunded";
  }
  d.from_plan = std::string(PlanInForce(*in.catalog, in.subscription, in.now));
  d.audit = "refund " + Paisa(in.refund_paisa) + " (" + Paisa(d.refunded_paisa) + " of " +
            Paisa(in.amount_paisa) + " refunded)";

  const bool in_force = d.from_plan != kFreePlan;
  if (conflict || !in_force || (in.keep_plan && !d.full)) {
    if (in.keep_plan) d.audit += "; plan kept";
    return d;
  }
  switch (in.target) {
    case RefundTarget::kNothing: break;
    case RefundTarget::kStarted:
      d.effect = RefundEffect::kEnded;
      d.subscription = EndedNow(in.subscription);
      break;
    case RefundTarget::kExtended:
      if (in.previous_end && *in.previous_end > in.now) {
        d.effect = RefundEffect::kShortened;
        Subscription shorter = in.subscription;
        shorter.end = in.previous_end;
        d.subscription = shorter;
      } else {
        d.effect = RefundEffect::kEnded;
        d.subscription = EndedNow(in.subscription);
      }
      break;
  }
  if (d.effect == RefundEffect::kEnded) d.audit += "; plan " + d.from_plan + " ended: FREE";
  if (d.effect == RefundEffect::kShortened) {
    d.audit += "; extension removed: ends " + FormatTime(*d.subscription->end);
  }
  return d;
}

}  // namespace sima
