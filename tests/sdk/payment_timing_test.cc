#include "sima/payment_timing.h"

#include <gtest/gtest.h>

#include <string>

#include "test_clock.h"

namespace sima {
namespace {

using std::chrono::hours;
using std::chrono::minutes;
using std::chrono::seconds;
using testing::At;

// The delays of the first n background look-ups, as one line: "5 10 20 ...".
std::string Backoffs(const PaymentTiming& timing, int n) {
  std::string out;
  for (int i = 0; i < n; ++i) {
    if (!out.empty()) out += ' ';
    out += std::to_string(timing.RecheckBackoff(i).count());
  }
  return out;
}

TEST(PaymentTiming, DefaultsAreTheDocumentedOnes) {
  const PaymentTiming t;
  EXPECT_EQ(t.initiate_grace, minutes{15});
  EXPECT_EQ(t.first_check, seconds{5});
  EXPECT_EQ(t.reuse_margin, minutes{5});
  EXPECT_EQ(t.backoff_start, seconds{5});
  EXPECT_EQ(t.backoff_max, minutes{10});
  EXPECT_EQ(t.give_up_after_expiry, hours{24});
  EXPECT_EQ(t.retry_after, seconds{5});
  EXPECT_EQ(t.starting_retry_after, seconds{1});
  EXPECT_EQ(t.starting_window, seconds{30});
  EXPECT_EQ(t.init_rate_window, seconds{60});
  EXPECT_EQ(t.open_cap_retry_after, seconds{60});
  EXPECT_EQ(t.khalti_pidx_lifetime, hours{1});
  EXPECT_EQ(t.khalti_not_found_grace, minutes{10});
  EXPECT_EQ(t.esewa_session, hours{1});
  EXPECT_EQ(t.anonymous_lookup_window, seconds{5});
  EXPECT_EQ(t.rejected_audit_window, seconds{60});
}

TEST(PaymentTiming, BackoffDoublesFromFiveSecondsToTenMinutes) {
  const PaymentTiming t;
  EXPECT_EQ(Backoffs(t, 10), "5 10 20 40 80 160 320 600 600 600");
  EXPECT_EQ(t.RecheckBackoff(-3), seconds{5});
  EXPECT_EQ(t.RecheckBackoff(1'000'000'000), minutes{10});
}

TEST(PaymentTiming, BackoffFollowsItsSettings) {
  PaymentTiming t;
  t.backoff_start = seconds{1};
  t.backoff_max = seconds{6};
  EXPECT_EQ(Backoffs(t, 5), "1 2 4 6 6");
}

TEST(PaymentTiming, StartAndFirstCheckAreCountedFromNow) {
  const PaymentTiming t;
  const Time now = At("2026-11-23T10:00:00Z");
  EXPECT_EQ(t.InitiateDeadline(now), At("2026-11-23T10:15:00Z"));
  EXPECT_EQ(t.FirstCheck(now), At("2026-11-23T10:00:05Z"));
}

TEST(PaymentTiming, LooksAgainUntilADayPastExpiryThenGivesUp) {
  const PaymentTiming t;
  const Time expires = At("2026-11-23T11:00:00Z");
  EXPECT_EQ(t.NextCheck(2, expires, At("2026-11-23T10:00:00Z")), At("2026-11-23T10:00:20Z"));
  EXPECT_EQ(t.NextCheck(9, expires, At("2026-11-24T11:00:00Z")), At("2026-11-24T11:10:00Z"));
  EXPECT_EQ(t.NextCheck(9, expires, At("2026-11-24T11:00:01Z")), std::nullopt);
  // Without an expiry it keeps looking.
  EXPECT_EQ(t.NextCheck(0, std::nullopt, At("2030-01-01T00:00:00Z")), At("2030-01-01T00:00:05Z"));
}

TEST(PaymentTiming, InitRateRetryAfterWaitsForTheOldestToLeaveTheWindow) {
  const PaymentTiming t;
  const Time oldest = At("2026-11-23T10:00:00Z");
  EXPECT_EQ(t.InitRateRetryAfter(oldest, At("2026-11-23T10:00:00Z")), seconds{61});
  EXPECT_EQ(t.InitRateRetryAfter(oldest, At("2026-11-23T10:00:45Z")), seconds{16});
  EXPECT_EQ(t.InitRateRetryAfter(oldest, At("2026-11-23T10:05:00Z")), seconds{1});
}

}  // namespace
}  // namespace sima
