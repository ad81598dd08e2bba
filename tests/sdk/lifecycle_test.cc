#include "sima/lifecycle.h"

#include <gtest/gtest.h>

#include "test_clock.h"

namespace sima {
namespace {

using testing::At;

// The default catalog with other renewal settings.
Catalog WithRenewal(RenewalSettings renewal) {
  const Catalog& d = Catalog::Default();
  return Catalog::Create(d.currency(), d.period_days(), d.features(), d.plans(), renewal).value();
}

// PRO paid for 2026-11-15..2026-12-15 (the default catalog: notices 7, 3, 1 days before the
// end, 3 days of grace).
Subscription Pro() { return {"PRO", At("2026-11-15T00:00:00Z"), At("2026-12-15T00:00:00Z")}; }
Subscription Trial() {
  Subscription s = Pro();
  s.trial = true;
  return s;
}
Subscription Canceled() {
  Subscription s = Pro();
  s.cancel_at_period_end = true;
  return s;
}
Subscription ProThenBasic() {
  Subscription s = Pro();
  s.next_plan = "BASIC";
  return s;
}

// "<state> <plan in force> [renew <plan>] [due <t>] [grace <t>] [ends <t>]".
std::string Line(const Catalog& catalog, const Subscription& sub, std::string_view now) {
  const Lifecycle lc = LifecycleAt(catalog, sub, At(now));
  std::string out = std::string(to_string(lc.state)) + " " + lc.plan;
  if (!lc.renewal_plan.empty()) out += " renew " + lc.renewal_plan;
  if (lc.renewal_due_from) out += " due " + FormatTime(*lc.renewal_due_from);
  if (lc.grace_until) out += " grace " + FormatTime(*lc.grace_until);
  if (lc.ends_at) out += " ends " + FormatTime(*lc.ends_at);
  EXPECT_EQ(PlanInForce(catalog, sub, At(now)), lc.plan);
  return out;
}
std::string Line(const Subscription& sub, std::string_view now) {
  return Line(Catalog::Default(), sub, now);
}

const char* kDates =
    " due 2026-12-08T00:00:00Z grace 2026-12-18T00:00:00Z ends 2026-12-18T00:00:00Z";

TEST(Lifecycle, APaidPlanIsActiveThenRenewalDueThenGraceThenExpiredToTheSecond) {
  const std::string d = kDates;
  EXPECT_EQ(Line(Pro(), "2026-11-15T00:00:00Z"), "active PRO renew PRO" + d);
  EXPECT_EQ(Line(Pro(), "2026-12-07T23:59:59Z"), "active PRO renew PRO" + d);
  EXPECT_EQ(Line(Pro(), "2026-12-08T00:00:00Z"), "renewal_due PRO renew PRO" + d);
  EXPECT_EQ(Line(Pro(), "2026-12-14T23:59:59Z"), "renewal_due PRO renew PRO" + d);
  EXPECT_EQ(Line(Pro(), "2026-12-15T00:00:00Z"), "grace PRO renew PRO" + d);
  EXPECT_EQ(Line(Pro(), "2026-12-17T23:59:59Z"), "grace PRO renew PRO" + d);
  EXPECT_EQ(Line(Pro(), "2026-12-18T00:00:00Z"), "expired FREE renew PRO" + d);
  EXPECT_EQ(Line(Pro(), "2027-06-01T00:00:00Z"), "expired FREE renew PRO" + d);
  // A clock before the start changes nothing: the end decides.
  EXPECT_EQ(Line(Pro(), "2026-11-01T00:00:00Z"), "active PRO renew PRO" + d);
}

TEST(Lifecycle, ATrialEndsAtItsEndWithoutGraceOrRenewal) {
  EXPECT_EQ(Line(Trial(), "2026-12-14T23:59:59Z"), "trialing PRO ends 2026-12-15T00:00:00Z");
  EXPECT_EQ(Line(Trial(), "2026-12-15T00:00:00Z"), "expired FREE ends 2026-12-15T00:00:00Z");
}

TEST(Lifecycle, ACanceledPlanLastsToItsEndWithoutGraceOrRenewal) {
  EXPECT_EQ(Line(Canceled(), "2026-12-10T00:00:00Z"), "canceled PRO ends 2026-12-15T00:00:00Z");
  EXPECT_EQ(Line(Canceled(), "2026-12-14T23:59:59Z"), "canceled PRO ends 2026-12-15T00:00:00Z");
  EXPECT_EQ(Line(Canceled(), "2026-12-15T00:00:00Z"), "expired FREE ends 2026-12-15T00:00:00Z");
}

TEST(Lifecycle, AScheduledCheaperPlanIsTheRenewalAndAppliesInGrace) {
  const std::string d = kDates;
  EXPECT_EQ(Line(ProThenBasic(), "2026-12-10T00:00:00Z"), "renewal_due PRO renew BASIC" + d);
  EXPECT_EQ(Line(ProThenBasic(), "2026-12-15T00:00:00Z"), "grace BASIC renew BASIC" + d);
  EXPECT_EQ(Line(ProThenBasic(), "2026-12-18T00:00:00Z"), "expired FREE renew BASIC" + d);
}

TEST(Lifecycle, FreeIsFreeAndAPaidPlanWithoutDatesIsActive) {
  const Subscription free{"FREE", At("2026-11-01T00:00:00Z"), std::nullopt};
  EXPECT_EQ(Line(free, "2026-12-01T00:00:00Z"), "free FREE");
  const Subscription snapshot{"BASIC", Time{}, std::nullopt};
  EXPECT_EQ(Line(snapshot, "2026-12-01T00:00:00Z"), "active BASIC renew BASIC");
}

TEST(Lifecycle, FollowsTheCatalogsNoticeAndGraceDays) {
  const Catalog none = WithRenewal({{std::vector<int>{}}, 0});
  EXPECT_EQ(Line(none, Pro(), "2026-12-14T23:59:59Z"),
            "active PRO renew PRO grace 2026-12-15T00:00:00Z ends 2026-12-15T00:00:00Z");
  EXPECT_EQ(Line(none, Pro(), "2026-12-15T00:00:00Z"),
            "expired FREE renew PRO grace 2026-12-15T00:00:00Z ends 2026-12-15T00:00:00Z");
  const Catalog long_notice = WithRenewal({{{14, 2}}, 10});
  EXPECT_EQ(Line(long_notice, Pro(), "2026-12-01T00:00:00Z"),
            "renewal_due PRO renew PRO due 2026-12-01T00:00:00Z grace 2026-12-25T00:00:00Z ends "
            "2026-12-25T00:00:00Z");
  EXPECT_EQ(Line(long_notice, Pro(), "2026-12-24T23:59:59Z"),
            "grace PRO renew PRO due 2026-12-01T00:00:00Z grace 2026-12-25T00:00:00Z ends "
            "2026-12-25T00:00:00Z");
}

TEST(Lifecycle, DatesCountWholeDaysAcrossTheEndOfFebruaryInALeapYear) {
  const Subscription leap{"BASIC", At("2028-02-01T10:00:00Z"), At("2028-03-02T10:00:00Z")};
  EXPECT_EQ(Line(leap, "2028-02-24T10:00:00Z"),
            "renewal_due BASIC renew BASIC due 2028-02-24T10:00:00Z grace 2028-03-05T10:00:00Z "
            "ends 2028-03-05T10:00:00Z");
  EXPECT_EQ(Line(leap, "2028-02-29T12:00:00Z"),
            "renewal_due BASIC renew BASIC due 2028-02-24T10:00:00Z grace 2028-03-05T10:00:00Z "
            "ends 2028-03-05T10:00:00Z");
}

TEST(Lifecycle, NamesStatesAsTheJsonDoes) {
  std::string names;
  for (auto s : {SubscriptionState::kFree, SubscriptionState::kTrialing, SubscriptionState::kActive,
                 SubscriptionState::kRenewalDue, SubscriptionState::kGrace,
                 SubscriptionState::kCanceled, SubscriptionState::kExpired}) {
    names += std::string(to_string(s)) + " ";
  }
  EXPECT_EQ(names, "free trialing active renewal_due grace canceled expired ");
}

// "started|extended <plan> <start>..<end>" or the refusal.
std::string Pay(const Subscription& sub, std::string_view plan, std::string_view now) {
  const auto a = ActivateWithGrace(Catalog::Default(), sub, plan, At(now));
  EXPECT_EQ(CanBuyWithGrace(Catalog::Default(), sub, plan, At(now)).ToString(),
            a.status().ToString());
  if (!a.ok()) return a.status().ToString();
  const Subscription& s = a->subscription;
  std::string out = std::string(to_string(a->kind)) + " " + s.plan + " " + FormatTime(s.start) +
                    ".." + (s.end ? FormatTime(*s.end) : "");
  if (s.trial || s.cancel_at_period_end || s.next_plan) out += " (flags kept!)";
  return out;
}

TEST(ActivateWithGrace, PayingBeforeTheEndOrInGraceExtendsFromTheEndWithoutAGap) {
  EXPECT_EQ(Pay(Pro(), "PRO", "2026-11-20T00:00:00Z"),
            "extended PRO 2026-11-15T00:00:00Z..2027-01-14T00:00:00Z");
  EXPECT_EQ(Pay(Pro(), "PRO", "2026-12-10T00:00:00Z"),
            "extended PRO 2026-11-15T00:00:00Z..2027-01-14T00:00:00Z");
  EXPECT_EQ(Pay(Pro(), "PRO", "2026-12-15T00:00:00Z"),
            "extended PRO 2026-11-15T00:00:00Z..2027-01-14T00:00:00Z");
  EXPECT_EQ(Pay(Pro(), "PRO", "2026-12-17T23:59:59Z"),
            "extended PRO 2026-11-15T00:00:00Z..2027-01-14T00:00:00Z");
}

TEST(ActivateWithGrace, PayingInGraceKeepsTheUsageCountedSinceTheEnd) {
  // The usage period that began at the old end goes on: nothing counted in grace is lost.
  const Time now = At("2026-12-16T00:00:00Z");
  const Time end = At("2026-12-15T00:00:00Z");
  for (const Subscription& sub : {Pro(), ProThenBasic()}) {
    const auto a =
        ActivateWithGrace(Catalog::Default(), sub, sub.next_plan.value_or(sub.plan), now);
    ASSERT_TRUE(a.ok()) << a.status().ToString();
    EXPECT_FALSE(a->reset_usage());
    EXPECT_EQ(CurrentPeriod(sub, 30, now).start, end);
    EXPECT_EQ(CurrentPeriod(a->subscription, 30, now).start, end);
    EXPECT_FALSE(UsageMustReset(end, a->subscription, 30, now));
    EXPECT_EQ(PlanInForce(Catalog::Default(), a->subscription, now), a->subscription.plan);
  }
}

TEST(ActivateWithGrace, PayingAfterExpiryStartsANewPeriodNow) {
  EXPECT_EQ(Pay(Pro(), "PRO", "2026-12-18T00:00:00Z"),
            "started PRO 2026-12-18T00:00:00Z..2027-01-17T00:00:00Z");
  EXPECT_EQ(Pay(Pro(), "BASIC", "2026-12-18T00:00:00Z"),
            "started BASIC 2026-12-18T00:00:00Z..2027-01-17T00:00:00Z");
  const Subscription free{"FREE", At("2026-11-01T00:00:00Z"), std::nullopt};
  EXPECT_EQ(Pay(free, "BASIC", "2026-12-01T00:00:00Z"),
            "started BASIC 2026-12-01T00:00:00Z..2026-12-31T00:00:00Z");
}

TEST(ActivateWithGrace, InGraceACheaperPlanGoesOnFromTheOldEndAndAPricierOneStartsNow) {
  Subscription basic = Pro();
  basic.plan = "BASIC";
  EXPECT_EQ(Pay(ProThenBasic(), "BASIC", "2026-12-16T00:00:00Z"),
            "extended BASIC 2026-12-15T00:00:00Z..2027-01-14T00:00:00Z");
  EXPECT_EQ(Pay(basic, "PRO", "2026-12-16T00:00:00Z"),
            "started PRO 2026-12-16T00:00:00Z..2027-01-15T00:00:00Z");
}

TEST(ActivateWithGrace, AnUpgradeStartsANewPeriodNow) {
  Subscription basic = Pro();
  basic.plan = "BASIC";
  EXPECT_EQ(Pay(basic, "PRO", "2026-11-20T00:00:00Z"),
            "started PRO 2026-11-20T00:00:00Z..2026-12-20T00:00:00Z");
}

TEST(ActivateWithGrace, PayingUndoesACancelOrAScheduledChangeAndEndsATrial) {
  EXPECT_EQ(Pay(Canceled(), "PRO", "2026-12-10T00:00:00Z"),
            "extended PRO 2026-11-15T00:00:00Z..2027-01-14T00:00:00Z");
  EXPECT_EQ(Pay(ProThenBasic(), "PRO", "2026-12-10T00:00:00Z"),
            "extended PRO 2026-11-15T00:00:00Z..2027-01-14T00:00:00Z");
  // The trial's plan: the paid period follows the trial. Another plan starts now.
  EXPECT_EQ(Pay(Trial(), "PRO", "2026-12-10T00:00:00Z"),
            "extended PRO 2026-11-15T00:00:00Z..2027-01-14T00:00:00Z");
  EXPECT_EQ(Pay(Trial(), "BASIC", "2026-12-10T00:00:00Z"),
            "started BASIC 2026-12-10T00:00:00Z..2027-01-09T00:00:00Z");
  // After the trial: a new period.
  EXPECT_EQ(Pay(Trial(), "PRO", "2026-12-15T00:00:00Z"),
            "started PRO 2026-12-15T00:00:00Z..2027-01-14T00:00:00Z");
}

TEST(ActivateWithGrace, RefusesACheaperPlanWhileAPaidOneLasts) {
  EXPECT_EQ(Pay(Pro(), "BASIC", "2026-12-10T00:00:00Z"),
            "conflict: plan PRO is active until 2026-12-15T00:00:00Z; the lower plan BASIC "
            "cannot be bought while it lasts");
  EXPECT_EQ(Pay(Canceled(), "BASIC", "2026-12-10T00:00:00Z"),
            "conflict: plan PRO is active until 2026-12-15T00:00:00Z; the lower plan BASIC "
            "cannot be bought while it lasts");
  EXPECT_EQ(Pay(ProThenBasic(), "BASIC", "2026-12-10T00:00:00Z"),
            "conflict: plan BASIC is scheduled to start at 2026-12-15T00:00:00Z; it can be paid "
            "from then");
  EXPECT_EQ(Pay(Pro(), "GOLD", "2026-12-10T00:00:00Z"), "invalid_plan: unknown plan \"GOLD\"");
  EXPECT_EQ(Pay(Pro(), "FREE", "2026-12-10T00:00:00Z"),
            "invalid_plan: plan \"FREE\" is free and cannot be bought");
}

TEST(ActivateWithGrace, TheOldActivateStillEndsAtTheEnd) {
  // Until the server switches: Activate knows no grace (a payment in grace starts anew).
  const auto a = Activate(Catalog::Default(), Pro(), "PRO", At("2026-12-16T00:00:00Z"));
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(a->kind, ActivationKind::kStarted);
  EXPECT_EQ(EffectivePlan(Pro(), At("2026-12-16T00:00:00Z")), "FREE");
}

// "started PRO <start>..<end> trial" or the refusal.
std::string Grant(const Subscription& sub, std::string_view plan, int days, std::string_view now) {
  const auto a = GrantTrial(Catalog::Default(), sub, plan, days, At(now));
  if (!a.ok()) return a.status().ToString();
  const Subscription& s = a->subscription;
  return std::string(to_string(a->kind)) + " " + s.plan + " " + FormatTime(s.start) + ".." +
         FormatTime(s.end.value_or(Time{})) + (s.trial ? " trial" : "");
}

TEST(GrantTrial, StartsATrialOnFreeAfterExpiryOrOverATrial) {
  const Subscription free{"FREE", At("2026-11-01T00:00:00Z"), std::nullopt};
  EXPECT_EQ(Grant(free, "PRO", 14, "2026-12-01T00:00:00Z"),
            "started PRO 2026-12-01T00:00:00Z..2026-12-15T00:00:00Z trial");
  EXPECT_EQ(Grant(Pro(), "BASIC", 7, "2026-12-18T00:00:00Z"),
            "started BASIC 2026-12-18T00:00:00Z..2026-12-25T00:00:00Z trial");
  EXPECT_EQ(Grant(Trial(), "PRO", 30, "2026-12-10T00:00:00Z"),
            "started PRO 2026-12-10T00:00:00Z..2027-01-09T00:00:00Z trial");
}

TEST(GrantTrial, RefusesOverAPaidPlanAndBadPlansOrDays) {
  EXPECT_EQ(Grant(Pro(), "PRO", 7, "2026-12-16T00:00:00Z"),
            "conflict: plan PRO is paid until 2026-12-18T00:00:00Z; a trial cannot replace it");
  EXPECT_EQ(Grant(Canceled(), "PRO", 7, "2026-12-01T00:00:00Z"),
            "conflict: plan PRO is paid until 2026-12-15T00:00:00Z; a trial cannot replace it");
  EXPECT_EQ(Grant(Pro(), "FREE", 7, "2027-01-01T00:00:00Z"),
            "invalid_plan: plan \"FREE\" is free: no trial needed");
  EXPECT_EQ(Grant(Pro(), "GOLD", 7, "2027-01-01T00:00:00Z"), "invalid_plan: unknown plan \"GOLD\"");
  EXPECT_EQ(Grant(Pro(), "PRO", 0, "2027-01-01T00:00:00Z"),
            "validation_error: a trial lasts 1 to 30 days, got 0");
  EXPECT_EQ(Grant(Pro(), "PRO", 31, "2027-01-01T00:00:00Z"),
            "validation_error: a trial lasts 1 to 30 days, got 31");
}

// The subscription after the change: "PRO ..2026-12-15 [cancel] [next BASIC]" or the refusal.
std::string Schedule(const Subscription& sub, ChangeKind kind, std::string_view plan,
                     std::string_view now) {
  const auto s = ScheduleChange(Catalog::Default(), sub, kind, plan, At(now));
  if (!s.ok()) return s.status().ToString();
  std::string out = s->plan + " .." + FormatTime(s->end.value_or(Time{})).substr(0, 10);
  if (s->cancel_at_period_end) out += " cancel";
  if (s->next_plan) out += " next " + *s->next_plan;
  return out;
}

TEST(ScheduleChange, SwitchesCancelsAndUndoesBeforeTheEnd) {
  const char* now = "2026-12-10T00:00:00Z";
  EXPECT_EQ(Schedule(Pro(), ChangeKind::kSwitch, "BASIC", now), "PRO ..2026-12-15 next BASIC");
  EXPECT_EQ(Schedule(Pro(), ChangeKind::kCancel, "", now), "PRO ..2026-12-15 cancel");
  EXPECT_EQ(Schedule(Canceled(), ChangeKind::kUndo, "", now), "PRO ..2026-12-15");
  EXPECT_EQ(Schedule(ProThenBasic(), ChangeKind::kUndo, "", now), "PRO ..2026-12-15");
  EXPECT_EQ(Schedule(ProThenBasic(), ChangeKind::kCancel, "", now), "PRO ..2026-12-15 cancel");
  EXPECT_EQ(Schedule(Canceled(), ChangeKind::kSwitch, "BASIC", now), "PRO ..2026-12-15 next BASIC");
  EXPECT_EQ(Schedule(ProThenBasic(), ChangeKind::kSwitch, "PRO", now), "PRO ..2026-12-15");
}

TEST(ScheduleChange, RefusesWhatCannotBeScheduled) {
  const char* now = "2026-12-10T00:00:00Z";
  Subscription basic = Pro();
  basic.plan = "BASIC";
  EXPECT_EQ(Schedule(basic, ChangeKind::kSwitch, "PRO", now),
            "conflict: plan PRO costs more than BASIC: upgrade now instead (the unused time is "
            "credited)");
  EXPECT_EQ(Schedule(Pro(), ChangeKind::kSwitch, "FREE", now),
            "invalid_plan: plan \"FREE\" is free: cancel instead to fall to it at the end");
  EXPECT_EQ(Schedule(Pro(), ChangeKind::kSwitch, "GOLD", now),
            "invalid_plan: unknown plan \"GOLD\"");
  EXPECT_EQ(Schedule(Pro(), ChangeKind::kCancel, "", "2026-12-16T00:00:00Z"),
            "conflict: the period ended on 2026-12-15T00:00:00Z; pay for a plan or let it end");
  EXPECT_EQ(Schedule(Pro(), ChangeKind::kCancel, "", "2026-12-18T00:00:00Z"),
            "conflict: no paid plan is active; there is nothing to change at its end");
  EXPECT_EQ(Schedule(Trial(), ChangeKind::kCancel, "", now),
            "conflict: a trial ends by itself at 2026-12-15T00:00:00Z; pay for a plan to go on "
            "after it");
}

TEST(ScheduleChange, NamesChangesAsTheJsonDoes) {
  for (auto kind : {ChangeKind::kSwitch, ChangeKind::kCancel, ChangeKind::kUndo}) {
    EXPECT_EQ(ChangeKindFromString(to_string(kind)), kind);
  }
  EXPECT_EQ(to_string(ChangeKind::kSwitch), "switch");
  EXPECT_FALSE(ChangeKindFromString("Cancel").has_value());
}

}  // namespace
}  // namespace sima
