#include "sima/reminders.h"

#include "sima/lifecycle.h"

namespace sima {

std::string_view to_string(ReminderKind kind) {
  switch (kind) {
    case ReminderKind::kRenewalNotice: return "renewal_notice";
    case ReminderKind::kTrialEnding: return "trial_ending";
    case ReminderKind::kGraceStarted: return "grace_started";
    case ReminderKind::kExpired: return "expired";
  }
  return "expired";
}

std::vector<Reminder> PeriodReminders(const Catalog& catalog, const Subscription& sub) {
  std::vector<Reminder> out;
  if (sub.plan == kFreePlan || !sub.end || sub.cancel_at_period_end) return out;
  const Time end = *sub.end;
  // The lifecycle's dates, read at the end (they do not depend on the time for a paid plan).
  const Lifecycle lc = LifecycleAt(catalog, sub, end);
  const Time ends_at = lc.ends_at.value_or(end);
  const std::string plan = sub.trial ? sub.plan : lc.renewal_plan;
  const auto add = [&](ReminderKind kind, int days, Time due, Time until) {
    Reminder r{kind, days, sub.trial, plan, end, due, until, ends_at, std::string(to_string(kind))};
    if (days > 0) r.key += ":" + std::to_string(days);
    r.key += ":" + FormatTime(end);
    out.push_back(std::move(r));
  };
  const bool switching = sub.next_plan && *sub.next_plan != sub.plan;
  if (sub.trial || !switching) {
    for (int days : catalog.renewal_notice_days()) {
      const Time due = end - Days{days};
      if (due < sub.start) continue;
      add(sub.trial ? ReminderKind::kTrialEnding : ReminderKind::kRenewalNotice, days, due, end);
    }
  }
  if (!sub.trial && ends_at > end) add(ReminderKind::kGraceStarted, 0, end, ends_at);
  add(ReminderKind::kExpired, 0, ends_at, ends_at + Days{catalog.period_days()});
  // A notice ends where the next one starts.
  for (size_t i = 0; i + 1 < out.size(); ++i) {
    if (out[i].kind == out[i + 1].kind) out[i].until = out[i + 1].due_at;
  }
  return out;
}

std::optional<Reminder> DueReminder(const Catalog& catalog, const Subscription& sub, Time now,
                                    const std::set<std::string, std::less<>>& sent) {
  const std::vector<Reminder> all = PeriodReminders(catalog, sub);
  for (size_t i = all.size(); i-- > 0;) {
    if (sent.contains(all[i].key)) return std::nullopt;  // it, or a later one, was sent
    if (all[i].due_at <= now) {
      if (now < all[i].until) return all[i];
      return std::nullopt;
    }
  }
  return std::nullopt;
}

ReminderEnds ReminderEndsAt(const Catalog& catalog, Time now) {
  const std::vector<int>& notice = catalog.renewal_notice_days();  // largest first
  const int ahead = notice.empty() ? 0 : notice.front();
  return {now - Days{catalog.grace_days() + catalog.period_days()}, now + Days{ahead}};
}

}  // namespace sima
