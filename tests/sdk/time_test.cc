#include "sima/time.h"

#include <gtest/gtest.h>

#include "test_clock.h"

namespace sima {
namespace {

using testing::At;

TEST(Time, FormatsUtcWithZ) {
  EXPECT_EQ(FormatTime(Time{std::chrono::seconds{0}}), "1970-01-01T00:00:00Z");
  EXPECT_EQ(FormatTime(At("2026-11-23T10:00:00Z")), "2026-11-23T10:00:00Z");
}

TEST(Time, ParsesOffsetsAndDropsFractions) {
  // Khalti's expires_at: microseconds and a +05:45 offset.
  EXPECT_EQ(FormatTime(At("2023-05-25T16:26:16.471649+05:45")), "2023-05-25T10:41:16Z");
  EXPECT_EQ(FormatTime(At("2026-01-01T00:30:00-01:00")), "2026-01-01T01:30:00Z");
}

TEST(Time, RoundTripsLeapDay) {
  EXPECT_EQ(FormatTime(At("2028-02-29T23:59:59Z")), "2028-02-29T23:59:59Z");
}

TEST(Time, RefusesWhatIsNotRfc3339) {
  for (const char* bad :
       {"", "2026-11-23", "2026-11-23 10:00:00Z", "2026-13-01T00:00:00Z", "2026-02-30T00:00:00Z",
        "2026-11-23T25:00:00Z", "2026-11-23T10:00:00", "2026-11-23T10:00:00Zjunk",
        "2026-11-23T10:00:00.Z", "2026-11-23T10:00:00+0545", "abcd-11-23T10:00:00Z"}) {
    EXPECT_FALSE(ParseTime(bad).has_value()) << bad;
  }
}

}  // namespace
}  // namespace sima
