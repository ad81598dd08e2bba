#include "sima/decision.h"

#include <cstdint>

#include "sima/lifecycle.h"

namespace sima {
namespace {

int64_t Used(const Usage& usage, std::string_view feature) {
  const auto it = usage.find(feature);
  return it == usage.end() ? 0 : it->second;
}

// What the limit must allow for `n` of a feature of `kind` with `current` counted: the new total
// (counted kinds, saturating), one (a switch: on allows it, off does not), or n itself (a value).
int64_t Needed(FeatureKind kind, int64_t current, int64_t n) {
  switch (kind) {
    case FeatureKind::kMetered:
    case FeatureKind::kAllocation: return current > INT64_MAX - n ? INT64_MAX : current + n;
    case FeatureKind::kBoolean: return 1;
    case FeatureKind::kValue: return n;
  }
  return n;
}

// Everything Check() and UpgradeOptions() refuse alike.
Status CheckArguments(const Catalog& catalog, const Plan* plan, std::string_view plan_code,
                      std::optional<size_t> index, std::string_view feature, int64_t n) {
  if (!index) return Status::UnknownFeature("unknown feature \"" + std::string(feature) + "\"");
  if (plan == nullptr) {
    return Status::InvalidPlan("unknown plan \"" + std::string(plan_code) + "\"");
  }
  const int64_t least = catalog.features()[*index].kind == FeatureKind::kValue ? 0 : 1;
  if (n < least) {
    return Status::InvalidArgument("quantity must be at least " + std::to_string(least) + ", got " +
                                   std::to_string(n));
  }
  return Status::Ok();
}

Result<Decision> Decide(const Catalog& catalog, std::string_view plan, const Usage& usage,
                        std::string_view feature, int64_t n, const Overrides& overrides, Time now) {
  const auto index = catalog.FeatureIndex(feature);
  const Plan* p = catalog.FindPlan(plan);
  if (Status s = CheckArguments(catalog, p, plan, index, feature, n); !s.ok()) return s;

  const Feature& f = catalog.features()[*index];
  const EffectiveLimit effective = ResolveLimit(catalog, *p, *index, overrides, now);
  Result<Decision> result(std::in_place);  // filled in place: a Decision is large to move
  Decision& d = result.value();
  d.feature = f.key;
  d.kind = f.kind;
  d.plan = p->code;
  d.limit = effective.limit;
  if (effective.override != nullptr) d.override = *effective.override;
  d.requested = f.kind == FeatureKind::kBoolean ? 1 : n;
  if (f.counted()) {
    d.current = Used(usage, feature);
    if (!d.limit.unlimited()) {
      d.remaining = d.current >= d.limit.count() ? 0 : d.limit.count() - d.current;
    }
  }
  const int64_t needed = Needed(f.kind, d.current, n);
  const bool fits = d.limit.Allows(needed);
  const bool soft = f.enforcement == Enforcement::kSoft;  // only counted features are soft
  d.allowed = fits || soft;
  d.over = soft && !fits;
  if (!fits) d.upgrade = SuggestUpgrade(catalog, p->code, *index, needed, overrides, now);
  return result;
}

}  // namespace

std::optional<Upgrade> SuggestUpgrade(const Catalog& catalog, std::string_view current_plan,
                                      size_t feature_index, int64_t total,
                                      const Overrides& overrides, Time now) {
  const Plan* current = catalog.FindPlan(current_plan);
  const int64_t floor_price = current == nullptr ? -1 : current->price_paisa;
  for (const Plan& p : catalog.plans()) {  // cheapest first
    if (p.price_paisa <= floor_price) continue;
    const Limit limit = ResolveLimit(catalog, p, feature_index, overrides, now).limit;
    if (limit.Allows(total)) return Upgrade{p.code, limit, p.price_paisa};
  }
  return std::nullopt;
}

Result<Decision> Check(const Catalog& catalog, std::string_view plan, const Usage& usage,
                       std::string_view feature, int64_t n) {
  return Decide(catalog, plan, usage, feature, n, {}, Time{});
}

Result<Decision> Check(const Catalog& catalog, const Subscription& sub, Time now,
                       const Usage& usage, std::string_view feature, int64_t n,
                       const Overrides& overrides) {
  return Decide(catalog, PlanInForce(catalog, sub, now), usage, feature, n, overrides, now);
}

Result<std::vector<UpgradeOption>> UpgradeOptions(const Catalog& catalog, std::string_view plan,
                                                  const Usage& usage, std::string_view feature,
                                                  int64_t n, const Overrides& overrides, Time now) {
  const auto index = catalog.FeatureIndex(feature);
  const Plan* current = catalog.FindPlan(plan);
  if (Status s = CheckArguments(catalog, current, plan, index, feature, n); !s.ok()) return s;
  const Feature& f = catalog.features()[*index];
  const int64_t needed = Needed(f.kind, f.counted() ? Used(usage, feature) : 0, n);
  std::vector<UpgradeOption> options;
  bool suggested = false;  // the first (cheapest) plan that allows it is SuggestUpgrade's pick
  for (const Plan& p : catalog.plans()) {  // cheapest first
    if (p.price_paisa <= current->price_paisa) continue;
    const Limit limit = ResolveLimit(catalog, p, *index, overrides, now).limit;
    const bool allows = limit.Allows(needed);
    options.push_back({p.code, p.name, limit, p.price_paisa, allows, allows && !suggested});
    suggested = suggested || allows;
  }
  return options;
}

}  // namespace sima
