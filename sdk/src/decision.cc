#include "sima/decision.h"

#include <cstdint>

namespace sima {
namespace {

int64_t Used(const Usage& usage, std::string_view feature) {
  const auto it = usage.find(feature);
  return it == usage.end() ? 0 : it->second;
}

}  // namespace

std::optional<Upgrade> SuggestUpgrade(const Catalog& catalog, std::string_view current_plan,
                                      size_t feature_index, int64_t total) {
  const Plan* current = catalog.FindPlan(current_plan);
  const int64_t floor_price = current == nullptr ? -1 : current->price_paisa;
  for (const Plan& p : catalog.plans()) {  // cheapest first
    if (p.price_paisa <= floor_price) continue;
    const Limit limit = p.limits[feature_index];
    if (limit.Allows(total)) return Upgrade{p.code, limit, p.price_paisa};
  }
  return std::nullopt;
}

Result<Decision> Check(const Catalog& catalog, std::string_view plan, const Usage& usage,
                       std::string_view feature, int64_t n) {
  const auto index = catalog.FeatureIndex(feature);
  if (!index) return Status::UnknownFeature("unknown feature \"" + std::string(feature) + "\"");
  const Plan* p = catalog.FindPlan(plan);
  if (p == nullptr) return Status::InvalidPlan("unknown plan \"" + std::string(plan) + "\"");
  if (n < 1)
    return Status::InvalidArgument("quantity must be at least 1, got " + std::to_string(n));

  Decision d;
  d.feature = catalog.features()[*index].key;
  d.plan = p->code;
  d.current = Used(usage, feature);
  d.requested = n;
  d.limit = p->limits[*index];
  const int64_t total = d.current > INT64_MAX - n ? INT64_MAX : d.current + n;
  const bool fits = d.limit.Allows(total);
  if (!d.limit.unlimited()) {
    d.remaining = d.current >= d.limit.count() ? 0 : d.limit.count() - d.current;
  }
  const bool soft = catalog.features()[*index].enforcement == Enforcement::kSoft;
  d.allowed = fits || soft;
  d.over = soft && !fits;
  if (!fits) d.upgrade = SuggestUpgrade(catalog, p->code, *index, total);
  return d;
}

Result<Decision> Check(const Catalog& catalog, const Subscription& sub, Time now,
                       const Usage& usage, std::string_view feature, int64_t n) {
  return Check(catalog, EffectivePlan(sub, now), usage, feature, n);
}

Result<std::vector<UpgradeOption>> UpgradeOptions(const Catalog& catalog, std::string_view plan,
                                                  const Usage& usage, std::string_view feature,
                                                  int64_t n) {
  const auto d = Check(catalog, plan, usage, feature, n);
  if (!d) return d.status();
  const size_t index = *catalog.FeatureIndex(feature);
  const int64_t total = d->current > INT64_MAX - n ? INT64_MAX : d->current + n;
  const int64_t floor_price = catalog.FindPlan(plan)->price_paisa;
  const auto suggested = SuggestUpgrade(catalog, plan, index, total);
  std::vector<UpgradeOption> options;
  for (const Plan& p : catalog.plans()) {  // cheapest first
    if (p.price_paisa <= floor_price) continue;
    const Limit limit = p.limits[index];
    options.push_back({p.code, p.name, limit, p.price_paisa, limit.Allows(total),
                       suggested && suggested->plan == p.code});
  }
  return options;
}

}  // namespace sima
