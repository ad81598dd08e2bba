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
#include "sima/status.h"
#include "sima/subscription.h"

namespace sima {

// Counts used in the current period, by feature key. A missing key counts as 0.
using Usage = std::map<std::string, int64_t, std::less<>>;

// The cheapest plan that would allow an action.
struct Upgrade {
  std::string plan;  // plan code
  Limit limit = Limit::Unlimited();
  int64_t price_paisa = 0;
  bool operator==(const Upgrade&) const = default;
};

struct Decision {
  bool allowed = false;
  std::string feature;
  std::string plan;       // the plan the decision was made on
  int64_t current = 0;    // used before the action
  int64_t requested = 0;  // n
  Limit limit = Limit::Unlimited();
  std::optional<int64_t> remaining;  // before the action, never negative; nullopt = unlimited
  bool over = false;  // soft feature only: allowed, but the action takes usage past the limit
  // For a refusal, or a soft feature going over: the cheapest pricier plan that allows
  // current + n. nullopt when no plan does.
  std::optional<Upgrade> upgrade;
};

// The decision for `n` more of `feature` on `plan` with `usage`.
// Errors: kUnknownFeature; kInvalidPlan (no such plan); kInvalidArgument (n < 1).
Result<Decision> Check(const Catalog& catalog, std::string_view plan, const Usage& usage,
                       std::string_view feature, int64_t n = 1);

// As above on the plan in force at `now` (FREE once the subscription has ended).
Result<Decision> Check(const Catalog& catalog, const Subscription& sub, Time now,
                       const Usage& usage, std::string_view feature, int64_t n = 1);

// The cheapest plan pricier than `current_plan` whose limit for feature `feature_index`
// allows `total`; nullopt when none does.
std::optional<Upgrade> SuggestUpgrade(const Catalog& catalog, std::string_view current_plan,
                                      size_t feature_index, int64_t total);

// One plan an upgrade prompt can offer for an action.
struct UpgradeOption {
  std::string plan;  // plan code
  std::string name;
  Limit limit = Limit::Unlimited();  // the plan's limit for the feature
  int64_t price_paisa = 0;
  bool allows = false;     // the plan's limit allows current + n
  bool suggested = false;  // the plan SuggestUpgrade picks (at most one option)
  bool operator==(const UpgradeOption&) const = default;
};

// Every plan pricier than `plan`, cheapest first, for `n` more of `feature` with `usage`:
// what an upgrade prompt lists. Empty when `plan` is the priciest.
// Errors: as Check() (kUnknownFeature, kInvalidPlan, kInvalidArgument for n < 1).
Result<std::vector<UpgradeOption>> UpgradeOptions(const Catalog& catalog, std::string_view plan,
                                                  const Usage& usage, std::string_view feature,
                                                  int64_t n = 1);

}  // namespace sima
