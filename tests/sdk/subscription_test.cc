#include "sima/subscription.h"

#include <gtest/gtest.h>

#include "test_clock.h"

namespace sima {
namespace {

using testing::At;

const Catalog& C() { return Catalog::Default(); }

Subscription Free(std::string_view since) { return Subscription{"FREE", At(since), std::nullopt}; }

TEST(Subscription, FreeNeverEndsAndIsNotActive) {
  const Subscription s = Free("2026-01-01T00:00:00Z");
  EXPECT_EQ(EffectivePlan(s, At("2030-01-01T00:00:00Z")), "FREE");
  EXPECT_FALSE(s.is_active(At("2026-06-01T00:00:00Z")));
}

TEST(Subscription, PaidPlanLastsUntilEndThenFree) {
  const Subscription s{"PRO", At("2026-11-01T00:00:00Z"), At("2026-12-01T00:00:00Z")};
  EXPECT_EQ(EffectivePlan(s, At("2026-11-30T23:59:59Z")), "PRO");
  EXPECT_TRUE(s.is_active(At("2026-11-30T23:59:59Z")));
  EXPECT_EQ(EffectivePlan(s, At("2026-12-01T00:00:00Z")), "FREE");
  EXPECT_FALSE(s.is_active(At("2026-12-01T00:00:00Z")));
}

TEST(Subscription, PeriodsAreThirtyDayWindowsAnchoredAtStart) {
  const Subscription s = Free("2026-01-15T09:30:00Z");
  EXPECT_EQ(CurrentPeriod(s, 30, At("2026-01-15T09:30:00Z")),
            (Period{At("2026-01-15T09:30:00Z"), At("2026-02-14T09:30:00Z")}));
  EXPECT_EQ(CurrentPeriod(s, 30, At("2026-02-14T09:29:59Z")).start, At("2026-01-15T09:30:00Z"));
  EXPECT_EQ(CurrentPeriod(s, 30, At("2026-02-14T09:30:00Z")).start, At("2026-02-14T09:30:00Z"));
  EXPECT_EQ(CurrentPeriod(s, 30, At("2026-05-01T00:00:00Z")),
            (Period{At("2026-04-15T09:30:00Z"), At("2026-05-15T09:30:00Z")}));
  // Before the anchor: the first period.
  EXPECT_EQ(CurrentPeriod(s, 30, At("2025-12-01T00:00:00Z")).start, At("2026-01-15T09:30:00Z"));
}

TEST(Subscription, UsageMustResetOnlyAfterABoundary) {
  const Subscription s = Free("2026-01-01T00:00:00Z");
  const Time counted = At("2026-01-01T00:00:00Z");
  EXPECT_FALSE(UsageMustReset(counted, s, 30, At("2026-01-30T23:59:59Z")));
  EXPECT_TRUE(UsageMustReset(counted, s, 30, At("2026-01-31T00:00:00Z")));
  EXPECT_TRUE(UsageMustReset(counted, s, 30, At("2026-06-01T00:00:00Z")));
}

TEST(Subscription, ExpiredPlanKeepsItsPeriodGrid) {
  const Subscription s{"PRO", At("2026-11-01T00:00:00Z"), At("2026-12-01T00:00:00Z")};
  // The first FREE period after PRO ends starts exactly at end_date.
  EXPECT_EQ(CurrentPeriod(s, 30, At("2026-12-05T00:00:00Z")).start, At("2026-12-01T00:00:00Z"));
}

TEST(Subscription, UpgradeFromFreeStartsANewPeriodAndResetsUsage) {
  const Time now = At("2026-11-23T10:00:00Z");
  const auto a = Activate(C(), Free("2026-01-01T00:00:00Z"), "PRO", now);
  ASSERT_TRUE(a.ok()) << a.status().ToString();
  EXPECT_EQ(a->kind, ActivationKind::kStarted);
  EXPECT_TRUE(a->reset_usage());
  EXPECT_EQ(a->subscription, (Subscription{"PRO", now, At("2026-12-23T10:00:00Z")}));
  EXPECT_TRUE(a->subscription.is_active(now));
}

TEST(Subscription, BuyingTheActivePlanExtendsByThirtyDaysWithoutReset) {
  const Subscription pro{"PRO", At("2026-11-01T00:00:00Z"), At("2026-12-01T00:00:00Z")};
  const auto a = Activate(C(), pro, "PRO", At("2026-11-20T00:00:00Z"));
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(a->kind, ActivationKind::kExtended);
  EXPECT_FALSE(a->reset_usage());
  EXPECT_EQ(a->subscription.start, At("2026-11-01T00:00:00Z"));
  EXPECT_EQ(a->subscription.end, At("2026-12-31T00:00:00Z"));
}

TEST(Subscription, UpgradeFromBasicToProStartsFresh) {
  const Subscription basic{"BASIC", At("2026-11-01T00:00:00Z"), At("2026-12-01T00:00:00Z")};
  const auto a = Activate(C(), basic, "PRO", At("2026-11-10T00:00:00Z"));
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(a->kind, ActivationKind::kStarted);
  EXPECT_EQ(a->subscription.end, At("2026-12-10T00:00:00Z"));
}

TEST(Subscription, RefusesALowerPlanWhileAHigherIsActive) {
  const Subscription pro{"PRO", At("2026-11-01T00:00:00Z"), At("2026-12-01T00:00:00Z")};
  const auto a = Activate(C(), pro, "BASIC", At("2026-11-10T00:00:00Z"));
  EXPECT_EQ(a.status().code(), Code::kConflict);
  EXPECT_EQ(a.status().message(),
            "plan PRO is active until 2026-12-01T00:00:00Z; the lower plan BASIC cannot be "
            "bought while it lasts");
  // Once PRO has ended, BASIC is an upgrade from FREE again.
  EXPECT_TRUE(Activate(C(), pro, "BASIC", At("2026-12-01T00:00:00Z")).ok());
}

TEST(Subscription, SamePlanAfterExpiryStartsANewSubscription) {
  const Subscription pro{"PRO", At("2026-11-01T00:00:00Z"), At("2026-12-01T00:00:00Z")};
  const auto a = Activate(C(), pro, "PRO", At("2026-12-02T00:00:00Z"));
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(a->kind, ActivationKind::kStarted);
  EXPECT_EQ(a->subscription.start, At("2026-12-02T00:00:00Z"));
}

TEST(Subscription, RefusesFreeAndUnknownPlans) {
  const Subscription s = Free("2026-01-01T00:00:00Z");
  const Time now = At("2026-11-23T10:00:00Z");
  const auto free = CanBuy(C(), s, "FREE", now);
  EXPECT_EQ(free.code(), Code::kInvalidPlan);
  EXPECT_EQ(free.message(), "plan \"FREE\" is free and cannot be bought");
  EXPECT_EQ(CanBuy(C(), s, "GOLD", now).code(), Code::kInvalidPlan);
  EXPECT_EQ(Activate(C(), s, "GOLD", now).status().message(), "unknown plan \"GOLD\"");
  EXPECT_TRUE(CanBuy(C(), s, "BASIC", now).ok());
}

TEST(Subscription, RefusesALowerPlanOverAPaidOneWithoutAKnownEnd) {
  // The browser core may hold a paid plan without its dates (a snapshot without them).
  const Subscription pro{"PRO", At("2026-11-01T00:00:00Z"), std::nullopt};
  const Status s = CanBuy(C(), pro, "BASIC", At("2026-11-10T00:00:00Z"));
  EXPECT_EQ(s.code(), Code::kConflict);
  EXPECT_EQ(s.message(),
            "plan PRO is active; the lower plan BASIC cannot be bought while it lasts");
}

}  // namespace
}  // namespace sima
