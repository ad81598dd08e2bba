#include "sima/usage_alerts.h"

namespace sima {

std::string_view to_string(UsageThreshold threshold) {
  switch (threshold) {
    case UsageThreshold::k80: return "80";
    case UsageThreshold::k100: return "100";
    case UsageThreshold::kOver: return "over";
  }
  return "80";
}

int64_t ThresholdCount(UsageThreshold threshold, Limit limit) {
  const int64_t cap = limit.count();
  switch (threshold) {
    case UsageThreshold::k80:
      // ceil(cap * 4 / 5) without overflowing near INT64_MAX.
      return cap / 5 * 4 + (cap % 5 * 4 + 4) / 5;
    case UsageThreshold::k100: return cap;
    case UsageThreshold::kOver: return cap == INT64_MAX ? INT64_MAX : cap + 1;
  }
  return cap;
}

std::vector<UsageThreshold> ThresholdsReached(const Feature& feature, Limit limit, int64_t before,
                                              int64_t after) {
  std::vector<UsageThreshold> out;
  if (!feature.counted() || limit.unlimited() || after <= before) return out;
  if (feature.enforcement == Enforcement::kSoft) {
    if (after > limit.count()) out.push_back(UsageThreshold::kOver);
    return out;
  }
  if (limit.count() > 0 && after >= ThresholdCount(UsageThreshold::k80, limit)) {
    out.push_back(UsageThreshold::k80);
  }
  if (after >= limit.count()) out.push_back(UsageThreshold::k100);
  return out;
}

}  // namespace sima
