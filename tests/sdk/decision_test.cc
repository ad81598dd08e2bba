#include "sima/decision.h"

#include <gtest/gtest.h>

#include <vector>

#include "test_clock.h"

namespace sima {
namespace {

using testing::At;

const Catalog& C() { return Catalog::Default(); }

TEST(Decision, AllowsTheTenthInvoiceOnFree) {
  const auto d = Check(C(), "FREE", {{"invoices", 9}}, "invoices");
  ASSERT_TRUE(d.ok());
  EXPECT_TRUE(d->allowed);
  EXPECT_EQ(d->current, 9);
  EXPECT_EQ(d->remaining, 1);
  EXPECT_FALSE(d->upgrade.has_value());
}

TEST(Decision, RefusesTheEleventhInvoiceOnFree) {
  const auto d = Check(C(), "FREE", {{"invoices", 10}}, "invoices");
  ASSERT_TRUE(d.ok());
  EXPECT_FALSE(d->allowed);
  EXPECT_EQ(d->feature, "invoices");
  EXPECT_EQ(d->current, 10);
  EXPECT_EQ(d->limit, Limit::Of(10));
  EXPECT_EQ(d->plan, "FREE");
  EXPECT_EQ(d->remaining, 0);
  ASSERT_TRUE(d->upgrade.has_value());
  EXPECT_EQ(*d->upgrade, (Upgrade{"BASIC", Limit::Of(1000), 190000}));
}

TEST(Decision, AllowsThreeThousandInvoicesOnPro) {
  for (int64_t used : {0, 10, 2999, 1000000}) {
    const auto d = Check(C(), "PRO", {{"invoices", used}}, "invoices");
    ASSERT_TRUE(d.ok());
    EXPECT_TRUE(d->allowed) << used;
    EXPECT_FALSE(d->remaining.has_value()) << "unlimited has no remaining count";
  }
}

TEST(Decision, SuggestsTheCheapestPlanThatFitsTheWholeRequest) {
  // 5 customers used on FREE; 60 more fit neither FREE (5) nor BASIC (50): PRO.
  const auto d = Check(C(), "FREE", {{"customers", 5}}, "customers", 60);
  ASSERT_TRUE(d.ok());
  EXPECT_FALSE(d->allowed);
  ASSERT_TRUE(d->upgrade.has_value());
  EXPECT_EQ(d->upgrade->plan, "PRO");
  EXPECT_TRUE(d->upgrade->limit.unlimited());
}

TEST(Decision, SuggestsNothingWhenNoPlanAllowsIt) {
  const auto d = Check(C(), "PRO", {{"team_members", 10}}, "team_members");
  ASSERT_TRUE(d.ok());
  EXPECT_FALSE(d->allowed);
  EXPECT_FALSE(d->upgrade.has_value());
}

TEST(Decision, NeverSuggestsACheaperPlanAsAnUpgrade) {
  const auto d = Check(C(), "BASIC", {{"team_members", 3}}, "team_members");
  ASSERT_TRUE(d.ok());
  ASSERT_TRUE(d->upgrade.has_value());
  EXPECT_EQ(d->upgrade->plan, "PRO");
}

TEST(Decision, SoftFeaturesAreAllowedButReportOver) {
  const auto under = Check(C(), "FREE", {{"api_calls", 99}}, "api_calls");
  ASSERT_TRUE(under.ok());
  EXPECT_TRUE(under->allowed);
  EXPECT_FALSE(under->over);

  const auto d = Check(C(), "FREE", {{"api_calls", 450}}, "api_calls");
  ASSERT_TRUE(d.ok());
  EXPECT_TRUE(d->allowed);
  EXPECT_TRUE(d->over);
  EXPECT_EQ(d->remaining, 0);
  ASSERT_TRUE(d->upgrade.has_value());
  EXPECT_EQ(d->upgrade->plan, "BASIC");
}

TEST(Decision, MissingUsageCountsAsZero) {
  const auto d = Check(C(), "FREE", {}, "team_members");
  ASSERT_TRUE(d.ok());
  EXPECT_TRUE(d->allowed);
  EXPECT_EQ(d->current, 0);
  EXPECT_FALSE(Check(C(), "FREE", {}, "team_members", 2)->allowed);
}

TEST(Decision, HugeRequestsDoNotOverflow) {
  const auto d = Check(C(), "BASIC", {{"invoices", INT64_MAX - 1}}, "invoices", INT64_MAX);
  ASSERT_TRUE(d.ok());
  EXPECT_FALSE(d->allowed);
  EXPECT_EQ(d->upgrade->plan, "PRO");
}

TEST(Decision, RefusesUnknownFeaturePlanAndQuantity) {
  const auto feature = Check(C(), "FREE", {}, "widgets");
  EXPECT_EQ(feature.status().code(), Code::kUnknownFeature);
  EXPECT_EQ(feature.status().message(), "unknown feature \"widgets\"");
  const auto plan = Check(C(), "GOLD", {}, "invoices");
  EXPECT_EQ(plan.status().code(), Code::kInvalidPlan);
  EXPECT_EQ(plan.status().message(), "unknown plan \"GOLD\"");
  for (int64_t n : {int64_t{0}, int64_t{-1}, INT64_MIN}) {
    const auto q = Check(C(), "FREE", {}, "invoices", n);
    EXPECT_EQ(q.status().code(), Code::kInvalidArgument) << n;
  }
}

TEST(Decision, UsesFreeOnceTheSubscriptionHasEnded) {
  const Subscription pro{"PRO", At("2026-11-01T00:00:00Z"), At("2026-12-01T00:00:00Z")};
  const Usage usage{{"invoices", 10}};
  EXPECT_TRUE(Check(C(), pro, At("2026-11-30T23:59:59Z"), usage, "invoices")->allowed);
  const auto after = Check(C(), pro, At("2026-12-01T00:00:00Z"), usage, "invoices");
  ASSERT_TRUE(after.ok());
  EXPECT_FALSE(after->allowed);
  EXPECT_EQ(after->plan, "FREE");
}

TEST(UpgradeOptions, ListsThePricierPlansCheapestFirstAndMarksTheSuggestion) {
  const auto options = UpgradeOptions(C(), "FREE", {{"invoices", 10}}, "invoices");
  ASSERT_TRUE(options.ok());
  EXPECT_EQ(*options, (std::vector<UpgradeOption>{
                          {"BASIC", "Basic", Limit::Of(1000), 190000, true, true},
                          {"PRO", "Pro", Limit::Unlimited(), 390000, true, false},
                      }));
}

TEST(UpgradeOptions, SuggestsThePlanThatFitsTheWholeRequest) {
  // 5 customers used on FREE; 60 more do not fit BASIC (50): only PRO allows them.
  const auto options = UpgradeOptions(C(), "FREE", {{"customers", 5}}, "customers", 60);
  ASSERT_TRUE(options.ok());
  ASSERT_EQ(options->size(), 2u);
  EXPECT_EQ((*options)[0].plan, "BASIC");
  EXPECT_FALSE((*options)[0].allows);
  EXPECT_FALSE((*options)[0].suggested);
  EXPECT_EQ((*options)[1].plan, "PRO");
  EXPECT_TRUE((*options)[1].allows);
  EXPECT_TRUE((*options)[1].suggested);
}

TEST(UpgradeOptions, OffersOnlyPlansPricierThanTheCurrentOne) {
  const auto basic = UpgradeOptions(C(), "BASIC", {{"team_members", 3}}, "team_members");
  ASSERT_TRUE(basic.ok());
  ASSERT_EQ(basic->size(), 1u);
  EXPECT_EQ((*basic)[0], (UpgradeOption{"PRO", "Pro", Limit::Of(10), 390000, true, true}));
  const auto pro = UpgradeOptions(C(), "PRO", {{"team_members", 10}}, "team_members");
  ASSERT_TRUE(pro.ok());
  EXPECT_TRUE(pro->empty());
}

TEST(UpgradeOptions, SuggestsTheCheapestFittingPlanEvenWhileTheCurrentOneAllows) {
  const auto options = UpgradeOptions(C(), "FREE", {}, "invoices");
  ASSERT_TRUE(options.ok());
  ASSERT_EQ(options->size(), 2u);
  EXPECT_TRUE((*options)[0].suggested);
  EXPECT_FALSE((*options)[1].suggested);
}

TEST(UpgradeOptions, NoPlanIsSuggestedWhenNoneAllows) {
  const auto options = UpgradeOptions(C(), "FREE", {{"team_members", 10}}, "team_members");
  ASSERT_TRUE(options.ok());
  ASSERT_EQ(options->size(), 2u);
  for (const UpgradeOption& o : *options) {
    EXPECT_FALSE(o.allows) << o.plan;
    EXPECT_FALSE(o.suggested) << o.plan;
  }
}

TEST(UpgradeOptions, HugeRequestsDoNotOverflow) {
  const auto options =
      UpgradeOptions(C(), "FREE", {{"invoices", INT64_MAX - 1}}, "invoices", INT64_MAX);
  ASSERT_TRUE(options.ok());
  ASSERT_EQ(options->size(), 2u);
  EXPECT_FALSE((*options)[0].allows);
  EXPECT_TRUE((*options)[1].allows);
  EXPECT_TRUE((*options)[1].suggested);
}

TEST(UpgradeOptions, RefusesWhatCheckRefuses) {
  EXPECT_EQ(UpgradeOptions(C(), "FREE", {}, "widgets").status().message(),
            "unknown feature \"widgets\"");
  EXPECT_EQ(UpgradeOptions(C(), "GOLD", {}, "invoices").status().code(), Code::kInvalidPlan);
  EXPECT_EQ(UpgradeOptions(C(), "FREE", {}, "invoices", 0).status().code(), Code::kInvalidArgument);
}

}  // namespace
}  // namespace sima
