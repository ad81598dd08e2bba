#include "sima/lifecycle.h"

namespace sima {
namespace {

int64_t PriceOf(const Catalog& catalog, std::string_view plan) {
  const Plan* p = catalog.FindPlan(plan);
  return p == nullptr ? 0 : p->price_paisa;
}

// The plan the next renewal buys.
std::string RenewalPlan(const Subscription& sub) { return sub.next_plan.value_or(sub.plan); }

}  // namespace

std::string_view to_string(SubscriptionState state) {
  switch (state) {
    case SubscriptionState::kFree: return "free";
    case SubscriptionState::kTrialing: return "trialing";
    case SubscriptionState::kActive: return "active";
    case SubscriptionState::kRenewalDue: return "renewal_due";
    case SubscriptionState::kGrace: return "grace";
    case SubscriptionState::kCanceled: return "canceled";
    case SubscriptionState::kExpired: return "expired";
  }
  return "free";
}

Lifecycle LifecycleAt(const Catalog& catalog, const Subscription& sub, Time now) {
  Lifecycle lc;
  if (sub.plan == kFreePlan) return lc;
  if (!sub.end) {  // a paid plan without its dates (a browser snapshot)
    lc.state = SubscriptionState::kActive;
    lc.plan = sub.plan;
    lc.renewal_plan = RenewalPlan(sub);
    return lc;
  }
  const Time end = *sub.end;
  if (sub.trial || sub.cancel_at_period_end) {
    lc.ends_at = end;
    if (now >= end) {
      lc.state = SubscriptionState::kExpired;
      return lc;
    }
    lc.state = sub.trial ? SubscriptionState::kTrialing : SubscriptionState::kCanceled;
    lc.plan = sub.plan;
    return lc;
  }
  lc.renewal_plan = RenewalPlan(sub);
  if (!catalog.renewal_notice_days().empty()) {
    lc.renewal_due_from = end - Days{catalog.renewal_notice_days().front()};
  }
  lc.grace_until = end + Days{catalog.grace_days()};
  lc.ends_at = lc.grace_until;
  if (now >= *lc.grace_until) {
    lc.state = SubscriptionState::kExpired;
  } else if (now >= end) {
    lc.state = SubscriptionState::kGrace;
    lc.plan = lc.renewal_plan;
  } else {
    lc.state = lc.renewal_due_from && now >= *lc.renewal_due_from ? SubscriptionState::kRenewalDue
                                                                  : SubscriptionState::kActive;
    lc.plan = sub.plan;
  }
  return lc;
}

std::string_view PlanInForce(const Catalog& catalog, const Subscription& sub, Time now) {
  // LifecycleAt(...).plan without building the rest (tests hold the two equal).
  if (sub.plan == kFreePlan || !sub.end || now < *sub.end) return sub.plan;
  if (sub.trial || sub.cancel_at_period_end) return kFreePlan;
  if (now >= *sub.end + Days{catalog.grace_days()}) return kFreePlan;
  return sub.next_plan ? std::string_view(*sub.next_plan) : std::string_view(sub.plan);
}

Result<Activation> ActivateWithGrace(const Catalog& catalog, const Subscription& sub,
                                     std::string_view plan, Time now) {
  const Plan* wanted = catalog.FindPlan(plan);
  if (wanted == nullptr) return Status::InvalidPlan("unknown plan \"" + std::string(plan) + "\"");
  if (wanted->is_free()) {
    return Status::InvalidPlan("plan \"" + std::string(plan) + "\" is free and cannot be bought");
  }
  const Days period{catalog.period_days()};
  const Activation started{Subscription{std::string(plan), now, now + period},
                           ActivationKind::kStarted};
  const Lifecycle lc = LifecycleAt(catalog, sub, now);
  const bool pricier = wanted->price_paisa > PriceOf(catalog, sub.plan);
  switch (lc.state) {
    case SubscriptionState::kFree:
    case SubscriptionState::kExpired: return started;
    case SubscriptionState::kTrialing: {
      if (plan != sub.plan) return started;
      return Activation{Subscription{sub.plan, sub.start, *sub.end + period},
                        ActivationKind::kExtended};
    }
    case SubscriptionState::kGrace: {
      if (pricier) return started;
      const Time start = plan == sub.plan ? sub.start : *sub.end;
      return Activation{Subscription{std::string(plan), start, *sub.end + period},
                        ActivationKind::kExtended};
    }
    case SubscriptionState::kActive:
    case SubscriptionState::kRenewalDue:
    case SubscriptionState::kCanceled: {
      if (plan == sub.plan) {
        if (!sub.end) return started;  // no known end to extend from (as Activate)
        return Activation{Subscription{sub.plan, sub.start, *sub.end + period},
                          ActivationKind::kExtended};
      }
      if (pricier) return started;
      if (sub.next_plan == plan && sub.end) {
        return Status::Conflict("plan " + std::string(plan) + " is scheduled to start at " +
                                FormatTime(*sub.end) + "; it can be paid from then");
      }
      break;
    }
  }
  const std::string until = sub.end ? " until " + FormatTime(*sub.end) : "";
  return Status::Conflict("plan " + sub.plan + " is active" + until + "; the lower plan " +
                          std::string(plan) + " cannot be bought while it lasts");
}

Status CanBuyWithGrace(const Catalog& catalog, const Subscription& sub, std::string_view plan,
                       Time now) {
  return ActivateWithGrace(catalog, sub, plan, now).status();
}

Result<Activation> GrantTrial(const Catalog& catalog, const Subscription& sub,
                              std::string_view plan, int days, Time now) {
  const Plan* wanted = catalog.FindPlan(plan);
  if (wanted == nullptr) return Status::InvalidPlan("unknown plan \"" + std::string(plan) + "\"");
  if (wanted->is_free()) {
    return Status::InvalidPlan("plan \"" + std::string(plan) + "\" is free: no trial needed");
  }
  if (days < 1 || days > catalog.period_days()) {
    return Status::InvalidArgument("a trial lasts 1 to " + std::to_string(catalog.period_days()) +
                                   " days, got " + std::to_string(days));
  }
  const Lifecycle lc = LifecycleAt(catalog, sub, now);
  switch (lc.state) {
    case SubscriptionState::kFree:
    case SubscriptionState::kExpired:
    case SubscriptionState::kTrialing: break;
    case SubscriptionState::kActive:
    case SubscriptionState::kRenewalDue:
    case SubscriptionState::kGrace:
    case SubscriptionState::kCanceled: {
      const std::string until = lc.ends_at ? " until " + FormatTime(*lc.ends_at) : "";
      return Status::Conflict("plan " + sub.plan + " is paid" + until +
                              "; a trial cannot replace it");
    }
  }
  Subscription trial{wanted->code, now, now + Days{days}};
  trial.trial = true;
  return Activation{std::move(trial), ActivationKind::kStarted};
}

std::string_view to_string(ChangeKind kind) {
  switch (kind) {
    case ChangeKind::kSwitch: return "switch";
    case ChangeKind::kCancel: return "cancel";
    case ChangeKind::kUndo: return "undo";
  }
  return "undo";
}

std::optional<ChangeKind> ChangeKindFromString(std::string_view text) {
  for (ChangeKind kind : {ChangeKind::kSwitch, ChangeKind::kCancel, ChangeKind::kUndo}) {
    if (to_string(kind) == text) return kind;
  }
  return std::nullopt;
}

Result<Subscription> ScheduleChange(const Catalog& catalog, const Subscription& sub,
                                    ChangeKind kind, std::string_view plan, Time now) {
  const Lifecycle lc = LifecycleAt(catalog, sub, now);
  switch (lc.state) {
    case SubscriptionState::kFree:
    case SubscriptionState::kExpired:
      return Status::Conflict("no paid plan is active; there is nothing to change at its end");
    case SubscriptionState::kTrialing:
      return Status::Conflict("a trial ends by itself at " + FormatTime(*sub.end) +
                              "; pay for a plan to go on after it");
    case SubscriptionState::kGrace:
      return Status::Conflict("the period ended on " + FormatTime(*sub.end) +
                              "; pay for a plan or let it end");
    case SubscriptionState::kActive:
    case SubscriptionState::kRenewalDue:
    case SubscriptionState::kCanceled: break;
  }
  Subscription out = sub;
  out.cancel_at_period_end = false;
  out.next_plan = std::nullopt;
  if (kind == ChangeKind::kCancel) {
    out.cancel_at_period_end = true;
  } else if (kind == ChangeKind::kSwitch && plan != sub.plan) {
    const Plan* wanted = catalog.FindPlan(plan);
    if (wanted == nullptr) {
      return Status::InvalidPlan("unknown plan \"" + std::string(plan) + "\"");
    }
    if (wanted->is_free()) {
      return Status::InvalidPlan("plan \"" + std::string(plan) +
                                 "\" is free: cancel instead to fall to it at the end");
    }
    if (wanted->price_paisa > PriceOf(catalog, sub.plan)) {
      return Status::Conflict("plan " + wanted->code + " costs more than " + sub.plan +
                              ": upgrade now instead (the unused time is credited)");
    }
    out.next_plan = wanted->code;
  }
  return out;
}

}  // namespace sima
