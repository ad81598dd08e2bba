// The limit decision: may an organization do N more of a feature, and if not, which plan
// would let it. The server asks this inside its transaction; the browser asks it to decide
// instantly. Both get the same answer for the same inputs.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "sima/catalog.h"
#include "sima/overrides.h"
#include "sima/status.h"
#include "sima/subscription.h"

namespace sima {

// Counts by feature key: metered features' counts in the current period, allocations' live
// counts (not tied to a period). A missing key counts as 0. Switches and values have none.
using Usage = std::map<std::string, int64_t, std::less<>>;

// The cheapest plan that would allow an action.
struct Upgrade {
  std::string plan;                  // plan code
  Limit limit = Limit::Unlimited();  // its effective limit (a switch: Limit::Switch(true))
  int64_t price_paisa = 0;
  bool operator==(const Upgrade&) const = default;
};

// What each kind decides for `n`:
//  - metered, allocation: n more (n >= 1): allowed when current + n fits the limit, or always
//    for a soft feature (then `over` says it goes past);
//  - boolean: allowed when the switch is on (n >= 1 is ignored; requested = 1, current = 0);
//  - value: allowed when n (n >= 0, e.g. an upload's MB) fits the limit (current = 0).
struct Decision {
  bool allowed = false;
  std::string feature;
  FeatureKind kind = FeatureKind::kMetered;
  std::string plan;                  // the plan the decision was made on
  int64_t current = 0;               // used before the action (metered, allocation); 0 otherwise
  int64_t requested = 0;             // n
  Limit limit = Limit::Unlimited();  // the effective limit (an override's when one is in force)
  // Before the action, never negative; nullopt = unlimited, and always for switches and values.
  std::optional<int64_t> remaining;
  bool over = false;  // soft feature only: allowed, but the action takes usage past the limit
  // The override in force for this feature, if any (its limit is `limit`).
  std::optional<Override> override;
  // For a refusal, or a soft feature going over: the cheapest pricier plan whose effective
  // limit allows it (for a switch: the cheapest that turns it on). nullopt when no plan does.
  std::optional<Upgrade> upgrade;
};

// The decision for `n` of `feature` on `plan` with `usage` (no overrides).
// Errors: kUnknownFeature; kInvalidPlan (no such plan); kInvalidArgument (n < 1; for a value
// n < 0).
Result<Decision> Check(const Catalog& catalog, std::string_view plan, const Usage& usage,
                       std::string_view feature, int64_t n = 1);

// As above on the plan in force at `now` (FREE once the subscription has ended), with the
// organization's overrides in force at `now`.
Result<Decision> Check(const Catalog& catalog, const Subscription& sub, Time now,
                       const Usage& usage, std::string_view feature, int64_t n = 1,
                       const Overrides& overrides = {});

// The cheapest plan pricier than `current_plan` whose effective limit (with `overrides` at
// `now`) for feature `feature_index` allows `total`; nullopt when none does.
std::optional<Upgrade> SuggestUpgrade(const Catalog& catalog, std::string_view current_plan,
                                      size_t feature_index, int64_t total,
                                      const Overrides& overrides = {}, Time now = {});

// One plan an upgrade prompt can offer for an action.
struct UpgradeOption {
  std::string plan;  // plan code
  std::string name;
  Limit limit = Limit::Unlimited();  // the plan's effective limit for the feature
  int64_t price_paisa = 0;
  bool allows = false;     // the plan's limit allows the action (as Check decides it)
  bool suggested = false;  // the plan SuggestUpgrade picks (at most one option)
  bool operator==(const UpgradeOption&) const = default;
};

// Every plan pricier than `plan`, cheapest first, for `n` of `feature` with `usage` (and
// `overrides` at `now`): what an upgrade prompt lists. Empty when `plan` is the priciest.
// Errors: as Check().
Result<std::vector<UpgradeOption>> UpgradeOptions(const Catalog& catalog, std::string_view plan,
                                                  const Usage& usage, std::string_view feature,
                                                  int64_t n = 1, const Overrides& overrides = {},
                                                  Time now = {});

}  // namespace sima
