#include "usage_alerts.h"

#include "clock.h"
#include "sima/lifecycle.h"
#include "sima/overrides.h"

namespace sima::server {

std::vector<UsageAlert> ReachedAlerts(const Catalog& catalog, const std::string& org_id,
                                      const UsageState& state, std::string_view feature,
                                      int64_t before, int64_t after) {
  std::vector<UsageAlert> out;
  if (after <= before) return out;
  const auto index = catalog.FeatureIndex(feature);
  if (!index) return out;
  const Feature& f = catalog.features()[*index];
  if (!f.counted()) return out;
  const std::string_view plan_code = PlanInForce(catalog, state.subscription, state.now);
  const Plan* plan = catalog.FindPlan(plan_code);
  if (plan == nullptr) return out;
  const Limit limit = ResolveLimit(catalog, *plan, *index, state.overrides, state.now).limit;
  for (UsageThreshold t : ThresholdsReached(f, limit, before, after)) {
    out.push_back(UsageAlert{.org_id = org_id,
                             .org_name = {},
                             .feature = f.key,
                             .threshold = t,
                             .used = after,
                             .limit = limit.count(),
                             .plan = plan->code,
                             .period = state.period,
                             .at = state.now});
  }
  return out;
}

Json UsageAlertEventData(const Catalog& catalog, const UsageAlert& alert,
                         const Subscription& subscription, Time now) {
  const auto index = catalog.FeatureIndex(alert.feature);
  const FeatureKind kind = index ? catalog.features()[*index].kind : FeatureKind::kMetered;
  return {{"usage",
           {{"feature", alert.feature},
            {"kind", to_string(kind)},
            {"threshold", to_string(alert.threshold)},
            {"used", alert.used},
            {"limit", alert.limit},
            {"plan", alert.plan},
            {"period", PeriodToJson(alert.period)}}},
          {"subscription", SubscriptionToJson(catalog, subscription, now)}};
}

std::string RecordedAlerts::Key(const UsageAlert& alert) {
  std::string key = alert.org_id;
  key += '\n';
  key += alert.feature;
  key += '\n';
  key += std::to_string(ToUnixSeconds(alert.period.start));
  key += '\n';
  key += to_string(alert.threshold);
  return key;
}

bool RecordedAlerts::Contains(const UsageAlert& alert) const {
  const std::string key = Key(alert);
  std::lock_guard lock(mu_);
  return keys_.contains(key);
}

void RecordedAlerts::Add(const UsageAlert& alert) {
  std::string key = Key(alert);
  std::lock_guard lock(mu_);
  // Forgetting is always safe (the table decides), so a full set starts again.
  if (keys_.size() >= capacity_) keys_.clear();
  keys_.insert(std::move(key));
}

void RecordedAlerts::Clear() {
  std::lock_guard lock(mu_);
  keys_.clear();
}

}  // namespace sima::server
