// Per-organization overrides: a sales deal ("this org gets 5,000 invoices on BASIC"), a switch
// turned on for one customer, a bigger upload size for a trial. An override replaces the plan's
// limit for one feature of one organization while it is in force; the decision, the usage view
// and the 403 body all use the effective limit and say that it is an override.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "sima/catalog.h"
#include "sima/status.h"
#include "sima/time.h"

namespace sima {

struct Override {
  std::string feature;  // a catalog feature key
  // The limit in force instead of the plan's: a count or unlimited (metered, allocation), a
  // number or unlimited (value), Limit::Switch(on) (boolean).
  Limit limit = Limit::Unlimited();
  // Only while this plan is in force ("5,000 invoices on BASIC": upgrading to PRO gives PRO's
  // limit, falling to FREE gives FREE's). nullopt: whatever the plan.
  std::optional<std::string> plan;
  // In force before this time; nullopt: until cleared.
  std::optional<Time> until;

  // In force for an organization on `plan` at `now`.
  bool AppliesTo(std::string_view plan, Time now) const;
  bool operator==(const Override&) const = default;
};

// An organization's overrides: at most one per feature.
using Overrides = std::vector<Override>;

// What a plan gives one feature for one organization at a time.
struct EffectiveLimit {
  Limit limit = Limit::Unlimited();
  const Override* override = nullptr;  // the override in force, or nullptr (the plan's limit)
};

// The limit `plan` gives feature `feature_index` of `catalog` with `overrides` at `now`.
// REQUIRES: plan belongs to catalog, feature_index < catalog.features().size().
EffectiveLimit ResolveLimit(const Catalog& catalog, const Plan& plan, size_t feature_index,
                            const Overrides& overrides, Time now);

// Whether `o` can be set on `catalog`. Errors (kInvalidArgument, message naming the field):
// unknown feature (kUnknownFeature), a switch override whose limit is not Limit::Switch, an
// unknown plan (kInvalidPlan).
Status ValidateOverride(const Catalog& catalog, const Override& o);

}  // namespace sima
