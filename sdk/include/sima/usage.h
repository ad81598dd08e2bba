// The usage view: what a usage panel draws for each feature ("8/10 (80%)").
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "sima/catalog.h"
#include "sima/decision.h"
#include "sima/overrides.h"
#include "sima/status.h"

namespace sima {

enum class UsageStatus {
  kOk,       // under 80 % (and every switch and value)
  kWarning,  // 80 % or more, still below the limit
  kFull,     // at the limit
  kOver,     // past the limit (soft features, or hard ones after a plan ended or a downgrade)
};

std::string_view to_string(UsageStatus status);

// One row of a usage panel. Texts by kind:
//  - metered, allocation: "8/10 (80%)", "450/100 (450%)", "12/∞", with the unit after the
//    numbers when the feature has one ("3/10 seats (30%)");
//  - boolean: "On", or "Off" when off (`unlock` names the cheapest plan that turns it on);
//  - value: "25 MB", "Unlimited".
struct UsageRow {
  std::string feature;
  std::string label;
  FeatureKind kind = FeatureKind::kMetered;
  Enforcement enforcement = Enforcement::kHard;
  std::string unit;
  int64_t used = 0;                  // metered, allocation; 0 for switches and values
  Limit limit = Limit::Unlimited();  // effective (an override's when one is in force)
  std::optional<int64_t>
      percent;  // floor(used * 100 / limit); nullopt when unlimited, switch, value
  UsageStatus status = UsageStatus::kOk;
  std::string text;
  std::optional<Override> override;  // the override in force for this feature, if any
  // A switch that is off: the cheapest pricier plan that turns it on (nullopt: none does).
  std::optional<Upgrade> unlock;
  // Why a hard feature is over its limit, e.g. "11 in use, 10 allowed on Free: remove 1 to add
  // more" (allocation) or "12 used, 10 allowed on Free" (metered); empty otherwise.
  std::string note;
};

// One row per catalog feature, in catalog order, for `usage` on `plan` with `overrides` in
// force at `now`. Errors: kInvalidPlan.
Result<std::vector<UsageRow>> UsageView(const Catalog& catalog, std::string_view plan,
                                        const Usage& usage, const Overrides& overrides = {},
                                        Time now = {});

// What the usage panel would show right after buying `target_plan` at `now` (sima::Activate):
// allocations are kept (a FREE org with 1 member sees "1/10" on PRO), metered counts start at
// zero when the purchase starts a new period and are kept when it extends the plan in force;
// switches and values are the target plan's; overrides that would be in force apply. A plan that
// cannot be bought at `now` (FREE, or a lower plan while a pricier one lasts) is drawn against
// the counts as they are. Errors: kInvalidPlan (unknown target).
Result<std::vector<UsageRow>> UsageAfterUpgrade(const Catalog& catalog, const Subscription& sub,
                                                Time now, const Usage& usage,
                                                std::string_view target_plan,
                                                const Overrides& overrides = {});

// The row for one feature with `used` against the effective limit (used by UsageView). `plan`
// names the plan in notes; `unlock` is the switch's cheapest plan that turns it on.
UsageRow MakeUsageRow(const Feature& feature, int64_t used, const EffectiveLimit& limit,
                      const Plan& plan, std::optional<Upgrade> unlock = std::nullopt);

}  // namespace sima
