// Usage threshold alerts around the stores' counters: which alerts a count going up reaches
// (sima::ThresholdsReached on the plan in force with its overrides), the data of their
// usage.threshold_crossed event, and a bounded memory of the alerts already recorded so a
// count past a threshold does not try to record it again on every call.
#pragma once

#include <cstddef>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_set>
#include <vector>

#include "sima/catalog.h"
#include "sima/json.h"
#include "store.h"

namespace sima::server {

// The alerts `feature` of `org_id` reaches when its count goes from `before` to `after`, with
// the plan in force at state.now and the overrides in state (org_name left empty). Empty for a
// feature the catalog does not have, one that is not counted, an unlimited one, and a count
// that did not go up.
std::vector<UsageAlert> ReachedAlerts(const Catalog& catalog, const std::string& org_id,
                                      const UsageState& state, std::string_view feature,
                                      int64_t before, int64_t after);

// `data` of usage.threshold_crossed: {"usage": {"feature","kind","threshold","used","limit",
// "plan","period": {"start","end"}}, "subscription": the subscription at `now`}.
Json UsageAlertEventData(const Catalog& catalog, const UsageAlert& alert,
                         const Subscription& subscription, Time now);

// Alerts known to be recorded (their usage_alerts row is committed), consulted before trying to
// insert one. Only a hint: a miss costs one INSERT that does nothing, so it is bounded (cleared
// when full) and a store clears it whenever a commit may have been lost. Thread-safe.
class RecordedAlerts {
 public:
  explicit RecordedAlerts(size_t capacity = 100000) : capacity_(capacity) {}
  bool Contains(const UsageAlert& alert) const;
  void Add(const UsageAlert& alert);
  void Clear();

 private:
  static std::string Key(const UsageAlert& alert);
  mutable std::mutex mu_;
  std::unordered_set<std::string> keys_;
  size_t capacity_;
};

}  // namespace sima::server
