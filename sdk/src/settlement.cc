#include "sima/settlement.h"

#include <utility>

#include "sima/lifecycle.h"

namespace sima {
namespace {

std::string Join(const std::string& a, const std::string& b) {
  if (a.empty()) return b;
  if (b.empty()) return a;
  return a + "; " + b;
}

constexpr std::string_view kPlanConflict = "plan_conflict: refund due";
constexpr std::string_view kNoBillingEmail =
    "no confirmation e-mail: the organization has no billing_email";

}  // namespace

std::string_view to_string(SettleKind kind) {
  switch (kind) {
    case SettleKind::kUnchanged: return "unchanged";
    case SettleKind::kFlagged: return "flagged";
    case SettleKind::kIllegal: return "illegal";
    case SettleKind::kMoved: return "moved";
  }
  return "unknown";
}

Settlement Settle(const SettleInput& in) {
  Settlement out;
  out.from = in.status;
  out.to = in.status;
  out.reason = in.reason;
  out.needs_attention = in.needs_attention;
  // What the gateway said, for the trail: its facts and the outcome's reason.
  const std::string gateway = Join(in.detail, in.outcome.reason);

  auto transition = Apply(in.status, in.outcome);
  if (!transition) {
    // E.g. the gateway says Completed for a REFUNDED payment: money may have been taken for
    // nothing. Nothing moves; a human must look.
    out.kind = SettleKind::kIllegal;
    out.needs_attention = true;
    out.audit.push_back(
        {in.status, in.status, Join("illegal: " + transition.status().message(), gateway)});
    return out;
  }
  const Transition& t = transition.value();
  if (!t.changed) {
    // Still pending (or a repeat). Only an unknown status is worth flagging and recording,
    // once; a repeat of a decided outcome changes nothing at all.
    if (in.outcome.needs_attention && in.status == PaymentStatus::kPending && !in.needs_attention) {
      out.kind = SettleKind::kFlagged;
      out.needs_attention = true;
      out.audit.push_back({in.status, in.status, Join("needs attention", gateway)});
    }
    return out;
  }

  // The move. A late payment of a FAILED one (t.needs_attention) activates and asks for review.
  out.kind = SettleKind::kMoved;
  out.to = t.to;
  out.reason = t.reason;
  out.needs_attention = in.needs_attention || in.outcome.needs_attention || t.needs_attention;
  out.transaction_id = in.transaction_id;
  if (t.activate) {
    auto a = ActivateWithGrace(*in.catalog, in.subscription, in.plan, in.now);
    if (a) {
      out.activation = std::move(a).value();
    } else {
      out.activation_refused = true;
      out.needs_attention = true;
      out.reason = std::string(kPlanConflict);
    }
  }

  std::string detail = gateway;
  if (t.from == PaymentStatus::kFailed && t.to == PaymentStatus::kSuccess) {
    detail = Join(detail, "paid after it had failed (" +
                              (in.reason.empty() ? std::string("no reason") : in.reason) +
                              "): activated, needs review");
  }
  if (out.activation_refused) detail = Join(detail, out.reason + " (a pricier plan is active)");
  out.audit.push_back({t.from, t.to, std::move(detail)});

  if (out.activation) {
    const Subscription& after = out.activation->subscription;
    if (out.activation->reset_usage()) {
      // The new period starts now. Counters already keyed by this start (an organization
      // created in this same second) belong to the old plan: the reset clears them too.
      out.reset_usage_from = CurrentPeriod(after, in.catalog->period_days(), in.now).start;
    }
    out.plan_change = PlanChange{in.now,
                                 in.cause,
                                 std::string(PlanInForce(*in.catalog, in.subscription, in.now)),
                                 after.plan,
                                 after.start,
                                 after.end,
                                 out.activation->kind};
    // One confirmation per payment; without an address the trail says why there is none.
    out.notify = in.has_billing_email;
    if (!in.has_billing_email) out.audit.push_back({t.to, t.to, std::string(kNoBillingEmail)});
  }
  return out;
}

}  // namespace sima
