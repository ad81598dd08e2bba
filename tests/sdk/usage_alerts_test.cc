#include "sima/usage_alerts.h"

#include <gtest/gtest.h>

#include <string>

namespace sima {
namespace {

Feature Hard(FeatureKind kind = FeatureKind::kMetered) {
  return Feature{"invoices", "Invoices", Enforcement::kHard, kind};
}
Feature Soft(FeatureKind kind = FeatureKind::kMetered) {
  return Feature{"api_calls", "API calls", Enforcement::kSoft, kind};
}

// The thresholds as one line: "80,100", "over", "" (none).
std::string Reached(const Feature& f, Limit limit, int64_t before, int64_t after) {
  std::string out;
  for (UsageThreshold t : ThresholdsReached(f, limit, before, after)) {
    if (!out.empty()) out += ',';
    out += to_string(t);
  }
  return out;
}

TEST(UsageAlerts, HardLimitTable) {
  struct Case {
    int64_t limit, before, after;
    std::string want;
  };
  const Case cases[] = {
      {10, 0, 1, ""},        {10, 6, 7, ""},        {10, 7, 8, "80"},
      {10, 8, 9, "80"},      {10, 9, 10, "80,100"}, {10, 10, 11, "80,100"},
      {10, 0, 10, "80,100"}, {10, 5, 9, "80"},      {3, 1, 2, ""},
      {3, 2, 3, "80,100"},   {4, 2, 3, ""},         {4, 3, 4, "80,100"},
      {5, 3, 4, "80"},       {1, 0, 1, "80,100"},   {100, 79, 80, "80"},
      {100, 78, 79, ""},     {101, 79, 80, ""},     {101, 80, 81, "80"},
      {0, 0, 1, "100"},      {0, 3, 4, "100"},      {1000000, 799999, 800000, "80"},
      {10, 9, 9, ""},        {10, 11, 10, ""},      {10, 12, 11, ""},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(Reached(Hard(), Limit::Of(c.limit), c.before, c.after), c.want)
        << "limit " << c.limit << ", " << c.before << " -> " << c.after;
    EXPECT_EQ(Reached(Hard(FeatureKind::kAllocation), Limit::Of(c.limit), c.before, c.after),
              c.want)
        << "allocation, limit " << c.limit << ", " << c.before << " -> " << c.after;
  }
}

TEST(UsageAlerts, SoftLimitAlertsOnlyWhenOver) {
  struct Case {
    int64_t limit, before, after;
    std::string want;
  };
  const Case cases[] = {
      {10, 7, 8, ""},       {10, 9, 10, ""},   {10, 10, 11, "over"}, {10, 0, 50, "over"},
      {10, 20, 21, "over"}, {0, 0, 1, "over"}, {10, 12, 11, ""},     {10, 11, 11, ""},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(Reached(Soft(), Limit::Of(c.limit), c.before, c.after), c.want)
        << "limit " << c.limit << ", " << c.before << " -> " << c.after;
  }
}

TEST(UsageAlerts, UnlimitedSwitchesAndValuesNeverAlert) {
  EXPECT_EQ(Reached(Hard(), Limit::Unlimited(), 0, 1000000), "");
  EXPECT_EQ(Reached(Soft(), Limit::Unlimited(), 0, 1000000), "");
  EXPECT_EQ(Reached(Hard(FeatureKind::kBoolean), Limit::Switch(false), 0, 1), "");
  EXPECT_EQ(Reached(Hard(FeatureKind::kValue), Limit::Of(25), 0, 30), "");
}

TEST(UsageAlerts, ThresholdCountsRoundUpAndNeverOverflow) {
  EXPECT_EQ(ThresholdCount(UsageThreshold::k80, Limit::Of(10)), 8);
  EXPECT_EQ(ThresholdCount(UsageThreshold::k80, Limit::Of(3)), 3);  // 2.4 -> 3
  EXPECT_EQ(ThresholdCount(UsageThreshold::k80, Limit::Of(4)), 4);  // 3.2 -> 4
  EXPECT_EQ(ThresholdCount(UsageThreshold::k80, Limit::Of(5)), 4);
  EXPECT_EQ(ThresholdCount(UsageThreshold::k80, Limit::Of(101)), 81);  // 80.8 -> 81
  EXPECT_EQ(ThresholdCount(UsageThreshold::k80, Limit::Of(0)), 0);
  EXPECT_EQ(ThresholdCount(UsageThreshold::k80, Limit::Of(INT64_MAX)), 7378697629483820646);
  EXPECT_EQ(ThresholdCount(UsageThreshold::k100, Limit::Of(10)), 10);
  EXPECT_EQ(ThresholdCount(UsageThreshold::kOver, Limit::Of(10)), 11);
  EXPECT_EQ(ThresholdCount(UsageThreshold::kOver, Limit::Of(INT64_MAX)), INT64_MAX);
}

TEST(UsageAlerts, NamesAsTheEventSpellsThem) {
  EXPECT_EQ(to_string(UsageThreshold::k80), "80");
  EXPECT_EQ(to_string(UsageThreshold::k100), "100");
  EXPECT_EQ(to_string(UsageThreshold::kOver), "over");
}

}  // namespace
}  // namespace sima
