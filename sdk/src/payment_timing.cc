#include "sima/payment_timing.h"

#include <algorithm>

namespace sima {

std::chrono::seconds PaymentTiming::RecheckBackoff(int64_t attempts) const {
  // 2^n grows past any sane maximum long before it overflows: stop doubling at the cap.
  std::chrono::seconds delay = backoff_start;
  for (int64_t i = 0; i < attempts && delay < backoff_max; ++i) delay *= 2;
  return std::min(delay, backoff_max);
}

std::optional<Time> PaymentTiming::NextCheck(int64_t attempts, std::optional<Time> expires_at,
                                             Time now) const {
  if (expires_at && now > *expires_at + give_up_after_expiry) return std::nullopt;
  return now + RecheckBackoff(attempts);
}

std::chrono::seconds PaymentTiming::InitRateRetryAfter(Time oldest, Time now) const {
  // The oldest payment stops counting one second after it leaves the window (whole seconds).
  const auto wait = oldest + init_rate_window + std::chrono::seconds{1} - now;
  return std::max(std::chrono::duration_cast<std::chrono::seconds>(wait), std::chrono::seconds{1});
}

}  // namespace sima
