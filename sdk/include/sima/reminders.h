// Which reminder e-mail a subscription is due at a time, each sent exactly once.
//
// Every period of a paid plan has a fixed sequence of reminders, each with a key made of its
// kind and the period's end ("renewal_notice:7:2026-12-15T00:00:00Z"): keys are unique per
// subscription, period and kind, and a renewal (a new end) starts a new sequence. A scheduler
// that runs at any time, twice, after a restart or on several instances asks DueReminder with
// the keys already sent for the organization and sends what it returns, recording the key in
// the same transaction as the outbox message (a unique key per organization makes a second
// sender fail instead of sending twice). Only the latest reminder that applies is ever due:
// one missed while the scheduler was down is superseded, never sent late or out of order, and
// a clock going backwards never brings back one that was passed.
//
//   renewing plan: renewal_notice (each notice day, largest first, until the end)
//                  -> grace_started (end .. grace_until; none when grace_days is 0)
//                  -> expired (grace_until .. grace_until + period_days)
//   trial:         trial_ending (each notice day until the end) -> expired (end .. + period)
//   canceled, FREE: none.
// A plan with a different scheduled next plan gets no renewal notices (its next plan can be
// paid from the end): its first reminder is grace_started, whose pay link buys the next plan.
// A notice day that falls before the period's start (a short trial) is skipped.
// Pure: no I/O, no clock, no exceptions.
#pragma once

#include <functional>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "sima/catalog.h"
#include "sima/subscription.h"
#include "sima/time.h"

namespace sima {

enum class ReminderKind {
  kRenewalNotice,  // "your plan ends on ...; pay to renew" (with a pay link)
  kTrialEnding,    // "your trial ends on ...; pay to keep the plan" (with a pay link)
  kGraceStarted,   // "your plan ended; it still applies until grace_until" (with a pay link)
  kExpired,        // "your plan ended; you are on FREE now" (a pay link starts a new period)
};

// "renewal_notice", "trial_ending", "grace_started", "expired".
std::string_view to_string(ReminderKind kind);

struct Reminder {
  ReminderKind kind = ReminderKind::kRenewalNotice;
  int days_before = 0;  // notice kinds: the notice day (7, 3, 1) before the end; else 0
  bool trial = false;   // about a trial (trial_ending, or expired at the trial's end)
  // What the pay link buys: the renewal plan (next_plan or plan), a trial's plan, the plan
  // that expired.
  std::string plan;
  Time period_end{};  // the end of the period the reminder is about
  Time due_at{};      // from when it applies
  Time until{};       // until when it applies (exclusive); after that it is superseded or stale
  Time ends_at{};     // when FREE takes (took) over unless paid
  std::string key;    // "<kind>[:<days_before>]:<period_end>"
  bool operator==(const Reminder&) const = default;
};

// Every reminder of `sub`'s current period in the order they become due; empty for FREE, a
// canceled plan and a paid plan without a known end. The scheduler's next wake-up is the
// first due_at after now.
std::vector<Reminder> PeriodReminders(const Catalog& catalog, const Subscription& sub);

// The reminder to send at `now`, or nullopt: the latest of PeriodReminders with
// due_at <= now < until, unless its key or the key of any later one is in `sent`.
// The ends of the subscriptions that can have a reminder due at `now`, both inclusive: from
// now - grace_days - period_days (an expired reminder is due until grace_until + period_days)
// to now + the largest notice day (the first renewal notice). A scheduler asks only about
// subscriptions whose end lies in it.
struct ReminderEnds {
  Time from{};
  Time to{};
};
ReminderEnds ReminderEndsAt(const Catalog& catalog, Time now);

std::optional<Reminder> DueReminder(const Catalog& catalog, const Subscription& sub, Time now,
                                    const std::set<std::string, std::less<>>& sent);

}  // namespace sima
