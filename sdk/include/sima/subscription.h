// Subscriptions and their 30-day periods: which plan an organization is on at a time,
// which usage period `now` falls in, and what buying a plan does.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "sima/catalog.h"
#include "sima/status.h"
#include "sima/time.h"

namespace sima {

struct Subscription {
  std::string plan{kFreePlan};
  Time start{};             // anchors the usage periods
  std::optional<Time> end;  // nullopt: never ends (FREE)

  // How the period ends (sima/lifecycle.h). The defaults are a paid period that renews: every
  // subscription written before these existed keeps its meaning.
  // Granted without payment (the admin API): no grace, FREE at `end` unless paid.
  bool trial = false;
  // The customer canceled: FREE at `end`, no reminders, no grace. Undone before `end`.
  bool cancel_at_period_end = false;
  // A plan scheduled to replace `plan` at `end` (a cheaper one, chosen by the customer):
  // the next renewal is for it. Never FREE (that is cancel_at_period_end).
  std::optional<std::string> next_plan = std::nullopt;

  // True when a paid plan is in force at `now` (start <= now < end).
  bool is_active(Time now) const;
  bool operator==(const Subscription&) const = default;
};

// A usage period [start, end).
struct Period {
  Time start{};
  Time end{};
  bool operator==(const Period&) const = default;
};

// The plan in force at `now`: the subscription's plan until `end`, FREE from `end` on. Knows
// no grace, trial or cancel: PlanInForce (sima/lifecycle.h) is the one the server moves to.
std::string_view EffectivePlan(const Subscription& sub, Time now);

// The period that holds `now`: consecutive `period_days` windows anchored at `sub.start`.
// Before `sub.start` the first period is returned.
Period CurrentPeriod(const Subscription& sub, int period_days, Time now);

// True when counters that belong to the period starting at `counted_from` are stale at `now`
// and must be reset (a period boundary has passed since).
bool UsageMustReset(Time counted_from, const Subscription& sub, int period_days, Time now);

// Whether `plan` may be bought now. kInvalidPlan: unknown or free plan. kConflict: a pricier
// plan is active (a lower plan cannot be bought over it).
Status CanBuy(const Catalog& catalog, const Subscription& sub, std::string_view plan, Time now);

enum class ActivationKind {
  kStarted,   // a new plan (or the same after expiry): new period from now, usage reset
  kExtended,  // the plan already active: end_date moves 30 days on, usage kept
};

std::string_view to_string(ActivationKind kind);  // "started", "extended"

struct Activation {
  Subscription subscription;
  ActivationKind kind = ActivationKind::kStarted;
  bool reset_usage() const { return kind == ActivationKind::kStarted; }
};

// The subscription after a paid `plan` is activated at `now`. Errors as CanBuy. Knows no
// grace (a payment after `end` starts anew): ActivateWithGrace (sima/lifecycle.h) is the one
// the server moves to.
Result<Activation> Activate(const Catalog& catalog, const Subscription& sub, std::string_view plan,
                            Time now);

}  // namespace sima
