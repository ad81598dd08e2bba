// Usage threshold alerts: which thresholds a feature's count has reached after it went up, so
// the server can tell the organization once per period (a webhook event and an e-mail).
// A hard limit alerts at 80 % and at 100 %; a soft limit alerts when the count goes over it
// ("over"). Unlimited features, switches and values never alert.
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

#include "sima/catalog.h"

namespace sima {

enum class UsageThreshold {
  k80,    // a hard limit's count at 80 % or more (ceil(0.8 * limit))
  k100,   // a hard limit's count at the limit
  kOver,  // a soft limit's count past the limit
};

// "80", "100", "over": the threshold as the webhook event and the alerts table spell it.
std::string_view to_string(UsageThreshold threshold);

// The count at which `threshold` is reached for `limit`: ceil(0.8 * limit) for k80, limit for
// k100, limit + 1 for kOver. A limit of 0 reaches k80 and k100 at 0.
// REQUIRES: !limit.unlimited().
int64_t ThresholdCount(UsageThreshold threshold, Limit limit);

// The thresholds a count of `after` has reached, when the count went up from `before`
// (after > before): k80 and k100 for a hard limit, kOver for a soft one, in that order. Decided
// by `after` alone, not by a strict crossing: a count that jumped over 80 % by a concurrent
// change still reports k80 (the caller records each threshold once per period, so a repeat
// costs nothing but a look-up). A limit of 0 is reached at once: k100 only, since "80 % of
// nothing" tells the reader nothing more. Empty when the count did not go up, for an unlimited
// limit, and for switches and values (not counted).
std::vector<UsageThreshold> ThresholdsReached(const Feature& feature, Limit limit, int64_t before,
                                              int64_t after);

}  // namespace sima
