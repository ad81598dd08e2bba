// Refunds: what giving back some or all of a SUCCESS payment does to the payment and to the
// organization's subscription, computed as a plain value (the store writes it, as it writes a
// Settlement).
//
// The rule:
//  - only a SUCCESS payment is refunded, by a positive amount of at most what is left
//    (amount - refunded - what pending refunds already hold); the payment becomes REFUNDED
//    once refunded in full, else it stays SUCCESS with the refunded amount recorded;
//  - a refund of the payment that started the plan in force ends that plan now: FREE, the
//    usage period kept (no fresh allowance);
//  - a refund of the payment that extended the plan in force (a renewal) removes that
//    extension: the end goes back to where it was before the payment; when that moment has
//    passed the plan ends now (FREE);
//  - a partial refund with keep_plan changes no subscription (the customer keeps what they
//    paid for at a discount); keep_plan with a refund that leaves nothing is refused;
//  - a payment that activated nothing (its plan_conflict: the money was taken while a pricier
//    plan was active), or whose plan has since been replaced, ended or extended by a later
//    payment, changes no subscription; a plan_conflict payment stops needing attention.
// Pure: no I/O, no clock, no exceptions.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "sima/catalog.h"
#include "sima/payment.h"
#include "sima/status.h"
#include "sima/subscription.h"
#include "sima/time.h"

namespace sima {

// The reason Settle gives a payment that took money while a pricier plan was active.
inline constexpr std::string_view kPlanConflictReason = "plan_conflict: refund due";

// What the payment did to the subscription as it stands: the store reads it from the
// organization's latest plan change (plan_changes.payment_id).
enum class RefundTarget {
  kNothing,   // not the latest activation (plan_conflict, or another change came after it)
  kStarted,   // it started the plan in force
  kExtended,  // it extended the plan in force; previous_end is the end before it
};

struct RefundInput {
  // The payment as stored now.
  PaymentStatus status = PaymentStatus::kPending;
  int64_t amount_paisa = 0;
  int64_t refunded_paisa = 0;  // refunds already succeeded
  int64_t pending_paisa = 0;   // refunds asked and not settled, other than this one
  std::string reason;
  bool needs_attention = false;

  RefundTarget target = RefundTarget::kNothing;
  std::optional<Time> previous_end;  // kExtended: the subscription's end before the payment
  Subscription subscription;         // as stored now

  int64_t refund_paisa = 0;  // this refund
  bool keep_plan = false;

  // REQUIRES: non-null.
  const Catalog* catalog = nullptr;
  Time now{};
};

enum class RefundEffect {
  kNone,       // the subscription is not touched
  kEnded,      // the plan ended now: FREE
  kShortened,  // an extension was removed: the end moved back
};

std::string_view to_string(RefundEffect effect);  // "none", "ended", "shortened"

struct RefundDecision {
  // The payment afterwards.
  PaymentStatus status = PaymentStatus::kSuccess;
  int64_t refunded_paisa = 0;  // after this refund
  std::string reason;
  bool needs_attention = false;
  bool full = false;  // nothing is left to refund

  RefundEffect effect = RefundEffect::kNone;
  // The subscription to save (effect != kNone), and the plan in force before, at `now`.
  std::optional<Subscription> subscription;
  std::string from_plan;
  // One line for the payment's audit trail.
  std::string audit;
};

// Whether a refund of `in.refund_paisa` may be asked now (the checks of DecideRefund, with
// `pending_paisa` counted as already refunded). kInvalidArgument: amount <= 0, more than is
// left, keep_plan on a refund that leaves nothing; kConflict: the payment is not SUCCESS, or
// nothing is left to refund. The messages name the amounts.
Status CheckRefund(const RefundInput& in);

// What a succeeded refund does (see the top of this file). Errors: CheckRefund's.
// REQUIRES: in.catalog != nullptr.
Result<RefundDecision> DecideRefund(const RefundInput& in);

}  // namespace sima
