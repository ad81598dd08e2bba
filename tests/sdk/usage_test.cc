#include "sima/usage.h"

#include <gtest/gtest.h>

#include "test_clock.h"

namespace sima {
namespace {

using testing::At;

const Catalog& C() { return Catalog::Default(); }

UsageRow Row(const std::vector<UsageRow>& rows, std::string_view feature) {
  for (const auto& r : rows) {
    if (r.feature == feature) return r;
  }
  ADD_FAILURE() << "no row for " << feature;
  return {};
}

TEST(UsageView, DrawsTheSeedsTexts) {
  const auto rows = UsageView(C(), "FREE", {{"invoices", 8}, {"api_calls", 450}, {"customers", 2}});
  ASSERT_TRUE(rows.ok());
  ASSERT_EQ(rows->size(), 7u);
  const UsageRow invoices = Row(*rows, "invoices");
  EXPECT_EQ(invoices.text, "8/10 (80%)");
  EXPECT_EQ(invoices.percent, 80);
  EXPECT_EQ(invoices.status, UsageStatus::kWarning);
  const UsageRow calls = Row(*rows, "api_calls");
  EXPECT_EQ(calls.text, "450/100 (450%)");
  EXPECT_EQ(calls.status, UsageStatus::kOver);
  EXPECT_EQ(calls.enforcement, Enforcement::kSoft);
  EXPECT_EQ(Row(*rows, "customers").status, UsageStatus::kOk);
  EXPECT_EQ(Row(*rows, "customers").text, "2/5 (40%)");
  EXPECT_EQ(Row(*rows, "team_members").text, "0/1 seats (0%)");
}

TEST(UsageView, ShowsUnlimitedWithoutPercent) {
  const auto rows = UsageView(C(), "PRO", {{"invoices", 12}});
  ASSERT_TRUE(rows.ok());
  const UsageRow r = Row(*rows, "invoices");
  EXPECT_EQ(r.text, "12/\u221e");
  EXPECT_FALSE(r.percent.has_value());
  EXPECT_EQ(r.status, UsageStatus::kOk);
}

TEST(UsageView, StatusBoundaries) {
  const Feature f{"x", "X", Enforcement::kHard};
  const Plan& plan = C().free_plan();
  EXPECT_EQ(MakeUsageRow(f, 7, {Limit::Of(10)}, plan).status, UsageStatus::kOk);
  EXPECT_EQ(MakeUsageRow(f, 79, {Limit::Of(100)}, plan).status, UsageStatus::kOk);
  EXPECT_EQ(MakeUsageRow(f, 80, {Limit::Of(100)}, plan).status, UsageStatus::kWarning);
  EXPECT_EQ(MakeUsageRow(f, 9, {Limit::Of(10)}, plan).status, UsageStatus::kWarning);
  EXPECT_EQ(MakeUsageRow(f, 10, {Limit::Of(10)}, plan).status, UsageStatus::kFull);
  EXPECT_EQ(MakeUsageRow(f, 11, {Limit::Of(10)}, plan).status, UsageStatus::kOver);
  // A single slot: 0 of 1 is fine, 1 of 1 is full.
  EXPECT_EQ(MakeUsageRow(f, 0, {Limit::Of(1)}, plan).status, UsageStatus::kOk);
  EXPECT_EQ(MakeUsageRow(f, 1, {Limit::Of(1)}, plan).status, UsageStatus::kFull);
  // A zero limit allows nothing, so it is full from the start.
  const UsageRow zero = MakeUsageRow(f, 0, {Limit::Of(0)}, plan);
  EXPECT_EQ(zero.status, UsageStatus::kFull);
  EXPECT_EQ(zero.text, "0/0 (100%)");
}

TEST(UsageView, PercentRoundsDown) {
  const Feature f{"x", "X", Enforcement::kHard};
  const Plan& plan = C().free_plan();
  EXPECT_EQ(MakeUsageRow(f, 2, {Limit::Of(3)}, plan).text, "2/3 (66%)");
}

TEST(UsageView, AfterUpgradeDrawsTodaysCountsAgainstTheNewPlan) {
  // A BASIC org extending BASIC keeps its period's counts.
  const Subscription basic{"BASIC", At("2026-11-01T00:00:00Z"), At("2026-12-01T00:00:00Z")};
  const auto rows = UsageAfterUpgrade(C(), basic, At("2026-11-20T00:00:00Z"),
                                      {{"invoices", 10}, {"api_calls", 450}}, "BASIC");
  ASSERT_TRUE(rows.ok());
  EXPECT_EQ(Row(*rows, "invoices").text, "10/1000 (1%)");
  EXPECT_EQ(Row(*rows, "invoices").status, UsageStatus::kOk);
  EXPECT_EQ(Row(*rows, "api_calls").text, "450/10000 (4%)");
}

TEST(UsageView, RefusesAnUnknownPlan) {
  const auto rows = UsageView(C(), "GOLD", {});
  EXPECT_EQ(rows.status().code(), Code::kInvalidPlan);
}

TEST(UsageView, StatusNames) {
  EXPECT_EQ(to_string(UsageStatus::kOk), "ok");
  EXPECT_EQ(to_string(UsageStatus::kWarning), "warning");
  EXPECT_EQ(to_string(UsageStatus::kFull), "full");
  EXPECT_EQ(to_string(UsageStatus::kOver), "over");
}

}  // namespace
}  // namespace sima
