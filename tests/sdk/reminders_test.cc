#include "sima/reminders.h"

#include <gtest/gtest.h>

#include "test_clock.h"

namespace sima {
namespace {

using testing::At;
using Sent = std::set<std::string, std::less<>>;

// PRO paid for 2026-11-15..2026-12-15 (notices 7, 3, 1 days before; 3 days of grace).
Subscription Pro() { return {"PRO", At("2026-11-15T00:00:00Z"), At("2026-12-15T00:00:00Z")}; }

const Catalog& C() { return Catalog::Default(); }

// The reminder's key and plan ("renewal_notice:7:2026-12-15T00:00:00Z PRO") or "none".
std::string Due(const Subscription& sub, std::string_view now, const Sent& sent = {},
                const Catalog& catalog = C()) {
  const auto r = DueReminder(catalog, sub, At(now), sent);
  if (!r) return "none";
  return r->key + " " + r->plan + (r->trial ? " (trial)" : "");
}

TEST(Reminders, ARenewingPlanGetsEachNoticeThenGraceThenExpired) {
  EXPECT_EQ(Due(Pro(), "2026-12-07T23:59:59Z"), "none");
  EXPECT_EQ(Due(Pro(), "2026-12-08T00:00:00Z"), "renewal_notice:7:2026-12-15T00:00:00Z PRO");
  EXPECT_EQ(Due(Pro(), "2026-12-11T23:59:59Z"), "renewal_notice:7:2026-12-15T00:00:00Z PRO");
  EXPECT_EQ(Due(Pro(), "2026-12-12T00:00:00Z"), "renewal_notice:3:2026-12-15T00:00:00Z PRO");
  EXPECT_EQ(Due(Pro(), "2026-12-14T00:00:00Z"), "renewal_notice:1:2026-12-15T00:00:00Z PRO");
  EXPECT_EQ(Due(Pro(), "2026-12-14T23:59:59Z"), "renewal_notice:1:2026-12-15T00:00:00Z PRO");
  EXPECT_EQ(Due(Pro(), "2026-12-15T00:00:00Z"), "grace_started:2026-12-15T00:00:00Z PRO");
  EXPECT_EQ(Due(Pro(), "2026-12-17T23:59:59Z"), "grace_started:2026-12-15T00:00:00Z PRO");
  EXPECT_EQ(Due(Pro(), "2026-12-18T00:00:00Z"), "expired:2026-12-15T00:00:00Z PRO");
  EXPECT_EQ(Due(Pro(), "2027-01-16T23:59:59Z"), "expired:2026-12-15T00:00:00Z PRO");
  // A month after the plan fell to FREE, an unsent "expired" is stale: never sent.
  EXPECT_EQ(Due(Pro(), "2027-01-17T00:00:00Z"), "none");
}

TEST(Reminders, CountWholeDaysAcrossTheEndOfFebruaryInALeapYear) {
  const Subscription leap{"BASIC", At("2028-02-01T10:00:00Z"), At("2028-03-02T10:00:00Z")};
  EXPECT_EQ(Due(leap, "2028-02-24T09:59:59Z"), "none");
  EXPECT_EQ(Due(leap, "2028-02-24T10:00:00Z"), "renewal_notice:7:2028-03-02T10:00:00Z BASIC");
  EXPECT_EQ(Due(leap, "2028-02-28T10:00:00Z"), "renewal_notice:3:2028-03-02T10:00:00Z BASIC");
  EXPECT_EQ(Due(leap, "2028-03-01T10:00:00Z"), "renewal_notice:1:2028-03-02T10:00:00Z BASIC");
  EXPECT_EQ(Due(leap, "2028-03-05T10:00:00Z"), "expired:2028-03-02T10:00:00Z BASIC");
}

TEST(Reminders, EachIsSentOnceWhateverTheSchedulerDoes) {
  // Twice at the same time, or again after a restart: the key is in the sent set.
  EXPECT_EQ(Due(Pro(), "2026-12-08T00:00:00Z", {"renewal_notice:7:2026-12-15T00:00:00Z"}), "none");
  EXPECT_EQ(Due(Pro(), "2026-12-10T00:00:00Z", {"renewal_notice:7:2026-12-15T00:00:00Z"}), "none");
  // Down from before the first notice until the 3-day one: only the latest is sent.
  EXPECT_EQ(Due(Pro(), "2026-12-13T00:00:00Z"), "renewal_notice:3:2026-12-15T00:00:00Z PRO");
  // Down through the whole grace: only "expired".
  EXPECT_EQ(Due(Pro(), "2026-12-20T00:00:00Z", {"renewal_notice:3:2026-12-15T00:00:00Z"}),
            "expired:2026-12-15T00:00:00Z PRO");
  // The clock goes back after the 1-day notice was sent: the 3-day one does not come back.
  EXPECT_EQ(Due(Pro(), "2026-12-12T12:00:00Z", {"renewal_notice:1:2026-12-15T00:00:00Z"}), "none");
  EXPECT_EQ(Due(Pro(), "2026-12-16T00:00:00Z", {"expired:2026-12-15T00:00:00Z"}), "none");
}

TEST(Reminders, ARenewalStartsANewSequence) {
  Subscription renewed = Pro();
  renewed.end = At("2027-01-14T00:00:00Z");
  const Sent sent = {"renewal_notice:7:2026-12-15T00:00:00Z", "grace_started:2026-12-15T00:00:00Z"};
  EXPECT_EQ(Due(renewed, "2026-12-16T00:00:00Z", sent), "none");
  EXPECT_EQ(Due(renewed, "2027-01-07T00:00:00Z", sent),
            "renewal_notice:7:2027-01-14T00:00:00Z PRO");
}

TEST(Reminders, ATrialGetsTrialEndingNoticesThenExpiredWithoutGrace) {
  Subscription trial = Pro();
  trial.trial = true;
  EXPECT_EQ(Due(trial, "2026-12-08T00:00:00Z"), "trial_ending:7:2026-12-15T00:00:00Z PRO (trial)");
  EXPECT_EQ(Due(trial, "2026-12-14T00:00:00Z"), "trial_ending:1:2026-12-15T00:00:00Z PRO (trial)");
  EXPECT_EQ(Due(trial, "2026-12-15T00:00:00Z"), "expired:2026-12-15T00:00:00Z PRO (trial)");
  // A 5-day trial: the 7-day notice would come before it started; it is skipped.
  trial.start = At("2026-12-10T00:00:00Z");
  EXPECT_EQ(Due(trial, "2026-12-10T00:00:00Z"), "none");
  EXPECT_EQ(Due(trial, "2026-12-12T00:00:00Z"), "trial_ending:3:2026-12-15T00:00:00Z PRO (trial)");
}

TEST(Reminders, ACanceledPlanOrFreeGetsNone) {
  Subscription canceled = Pro();
  canceled.cancel_at_period_end = true;
  for (const char* now : {"2026-12-08T00:00:00Z", "2026-12-15T00:00:00Z", "2026-12-18T00:00:00Z"}) {
    EXPECT_EQ(Due(canceled, now), "none") << now;
    EXPECT_EQ(Due(Subscription{"FREE", At("2026-11-01T00:00:00Z"), std::nullopt}, now), "none")
        << now;
  }
  EXPECT_TRUE(PeriodReminders(C(), canceled).empty());
}

TEST(Reminders, AScheduledCheaperPlanIsFirstRemindedAtTheEnd) {
  Subscription switching = Pro();
  switching.next_plan = "BASIC";
  EXPECT_EQ(Due(switching, "2026-12-10T00:00:00Z"), "none");
  EXPECT_EQ(Due(switching, "2026-12-15T00:00:00Z"), "grace_started:2026-12-15T00:00:00Z BASIC");
  EXPECT_EQ(Due(switching, "2026-12-18T00:00:00Z"), "expired:2026-12-15T00:00:00Z BASIC");
}

TEST(Reminders, FollowTheCatalogsSettings) {
  const Catalog& d = Catalog::Default();
  const Catalog none = Catalog::Create(d.currency(), d.period_days(), d.features(), d.plans(),
                                       {{std::vector<int>{}}, 0})
                           .value();
  EXPECT_TRUE(PeriodReminders(none, Pro()).size() == 1);
  EXPECT_EQ(Due(Pro(), "2026-12-14T00:00:00Z", {}, none), "none");
  EXPECT_EQ(Due(Pro(), "2026-12-15T00:00:00Z", {}, none), "expired:2026-12-15T00:00:00Z PRO");
}

TEST(Reminders, PeriodRemindersListTheSequenceWithItsWindows) {
  std::string out;
  for (const Reminder& r : PeriodReminders(C(), Pro())) {
    out += std::string(to_string(r.kind)) + " " + FormatTime(r.due_at).substr(5, 5) + ".." +
           FormatTime(r.until).substr(5, 5) + " ends " + FormatTime(r.ends_at).substr(5, 5) + "; ";
  }
  EXPECT_EQ(out,
            "renewal_notice 12-08..12-12 ends 12-18; renewal_notice 12-12..12-14 ends 12-18; "
            "renewal_notice 12-14..12-15 ends 12-18; grace_started 12-15..12-18 ends 12-18; "
            "expired 12-18..01-17 ends 12-18; ");
}

TEST(Reminders, EveryDueReminderIsOfASubscriptionWhoseEndIsInTheWindow) {
  // Ends an hour apart over two months around `now`, renewing and trial: whenever a reminder
  // is due, the end lies in ReminderEndsAt's window (the scheduler asks about no other).
  const Time now = At("2026-12-15T12:00:00Z");
  const ReminderEnds window = ReminderEndsAt(C(), now);
  EXPECT_EQ(window.from, At("2026-11-12T12:00:00Z"));
  EXPECT_EQ(window.to, At("2026-12-22T12:00:00Z"));
  int due = 0;
  for (Time end = now - Days{40}; end <= now + Days{20}; end += std::chrono::hours{1}) {
    for (bool trial : {false, true}) {
      Subscription sub{"PRO", end - Days{30}, end};
      sub.trial = trial;
      if (!DueReminder(C(), sub, now, {})) continue;
      ++due;
      EXPECT_GE(end, window.from) << FormatTime(end);
      EXPECT_LE(end, window.to) << FormatTime(end);
    }
  }
  EXPECT_GT(due, 0);
}

}  // namespace
}  // namespace sima
