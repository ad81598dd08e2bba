#include "sima/overrides.h"

namespace sima {

bool Override::AppliesTo(std::string_view in_force, Time now) const {
  return (!plan || *plan == in_force) && (!until || now < *until);
}

EffectiveLimit ResolveLimit(const Catalog& catalog, const Plan& plan, size_t feature_index,
                            const Overrides& overrides, Time now) {
  const std::string& key = catalog.features()[feature_index].key;
  for (const Override& o : overrides) {
    if (o.feature == key && o.AppliesTo(plan.code, now)) return {o.limit, &o};
  }
  return {plan.limits[feature_index], nullptr};
}

Status ValidateOverride(const Catalog& catalog, const Override& o) {
  const auto index = catalog.FeatureIndex(o.feature);
  if (!index) {
    return Status::UnknownFeature("feature \"" + o.feature + "\" is not in the catalog");
  }
  const Feature& f = catalog.features()[*index];
  if (f.kind == FeatureKind::kBoolean && o.limit != Limit::Switch(o.limit.on())) {
    return Status::InvalidArgument("limit must be true or false for the boolean feature \"" +
                                   f.key + "\"");
  }
  if (o.plan && catalog.FindPlan(*o.plan) == nullptr) {
    return Status::InvalidPlan("plan \"" + *o.plan + "\" is not in the catalog");
  }
  return Status::Ok();
}

}  // namespace sima
