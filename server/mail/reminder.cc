#include "mail/reminder.h"

#include "sima/money.h"
#include "sima/time.h"

namespace sima::server {
namespace {

std::string PlanName(const Catalog& catalog, const std::string& code) {
  const Plan* plan = catalog.FindPlan(code);
  return plan != nullptr ? plan->name : code;
}

std::string Price(const Catalog& catalog, const std::string& code) {
  const Plan* plan = catalog.FindPlan(code);
  return "NPR " + FormatRupees(plan != nullptr ? plan->price_paisa : 0, kRupeesForPeople);
}

}  // namespace

std::string HumanTime(Time t) {
  const std::string text = FormatTime(t);  // 2026-12-15T00:00:00Z
  if (text.size() < 16) return text;
  return text.substr(0, 10) + " " + text.substr(11, 5) + " UTC";
}

ReminderMail ReminderEmail(const Catalog& catalog, const Subscription& sub,
                           const Reminder& reminder, const std::string& to,
                           const std::string& pay_url) {
  const std::string plan = PlanName(catalog, reminder.plan);
  const std::string current = PlanName(catalog, sub.plan);
  const std::string price = Price(catalog, reminder.plan);
  const std::string end = HumanTime(reminder.period_end);
  const std::string free = PlanName(catalog, std::string(kFreePlan));
  const std::string days = std::to_string(catalog.period_days());
  ReminderMail mail{to, "", ""};
  std::string& b = mail.body;
  b = "Hello,\n\n";
  switch (reminder.kind) {
    case ReminderKind::kRenewalNotice:
      mail.subject = "Your " + current + " plan ends on " + end + ": pay to renew";
      b += "your " + current + " plan ends on " + end + ". Khalti and eSewa cannot charge you " +
           "automatically, so the plan renews when you pay for it.\n\n";
      b += "Renew " + plan + " for " + days + " more days from " + end + " (" + price + "):\n" +
           pay_url + "\n\n";
      b += "If it is not paid by then, the plan still applies until " +
           HumanTime(reminder.ends_at) + "; after that the " + free + " plan's limits apply.\n";
      break;
    case ReminderKind::kTrialEnding:
      mail.subject = "Your " + current + " trial ends on " + end;
      b += "your " + current + " trial ends on " + end + ". To keep the plan, pay for " + days +
           " days (" + price + "):\n" + pay_url + "\n\n";
      b += "Otherwise the " + free + " plan's limits apply from " + end + ".\n";
      break;
    case ReminderKind::kGraceStarted:
      mail.subject = "Your " + current + " plan ended on " + end + ": it still applies until " +
                     HumanTime(reminder.ends_at);
      b += "your " + current + " plan ended on " + end + " and has not been renewed. It still " +
           "applies during " + std::to_string(catalog.grace_days()) + " days of grace, until " +
           HumanTime(reminder.ends_at) + ".\n\n";
      b += "Renew " + plan + " now for " + days + " days from " + end + ", with no gap (" + price +
           "):\n" + pay_url + "\n\n";
      b += "After " + HumanTime(reminder.ends_at) + " the " + free + " plan's limits apply.\n";
      break;
    case ReminderKind::kExpired:
      mail.subject = "Your " + plan + (reminder.trial ? " trial" : " plan") +
                     " has expired: you are on " + free + " now";
      b += "your " + plan + (reminder.trial ? " trial" : " plan") + " expired on " +
           HumanTime(reminder.ends_at) + ". The " + free + " plan's limits apply now; what " +
           "you created stays, but what is over a limit cannot grow.\n\n";
      b += "Pay for " + plan + " to start a new " + days + "-day period at once (" + price +
           "):\n" + pay_url + "\n";
      break;
  }
  b += "\nThe link pays only for this organization's " + plan +
       " plan; no login is needed. It stops working once paid.\n-- sima billing\n";
  return mail;
}

ComposeReminder ReminderComposer(const Catalog& catalog, const PayLinks& links) {
  return [&catalog, &links](const std::string& org_id, const std::string& to,
                            const Subscription& sub, const Reminder& reminder) {
    return ReminderEmail(catalog, sub, reminder, to, links.Url(PayLinkFor(org_id, reminder)));
  };
}

}  // namespace sima::server
