#include "mail/usage_alert.h"

#include "mail/reminder.h"

namespace sima::server {
namespace {

// floor(used * 100 / limit), 100 for a limit of 0 (full from the start), as usage panels draw it.
int64_t Percent(int64_t used, int64_t limit) {
  if (limit <= 0) return 100;
  return (used > INT64_MAX / 100 ? INT64_MAX : used * 100) / limit;
}

}  // namespace

ReminderMail UsageAlertEmail(const Catalog& catalog, const UsageAlert& alert, const std::string& to,
                             const std::string& upgrade_url) {
  const auto index = catalog.FeatureIndex(alert.feature);
  const Feature* feature = index ? &catalog.features()[*index] : nullptr;
  const std::string label = feature != nullptr ? feature->label : alert.feature;
  const std::string unit = feature != nullptr && !feature->unit.empty() ? " " + feature->unit : "";
  const Plan* plan = catalog.FindPlan(alert.plan);
  const std::string plan_name = plan != nullptr ? plan->name : alert.plan;
  const bool allocation = feature != nullptr && feature->kind == FeatureKind::kAllocation;
  const std::string counts = std::to_string(alert.used) + "/" + std::to_string(alert.limit) + unit +
                             " (" + std::to_string(Percent(alert.used, alert.limit)) + "%)";
  const std::string end = HumanTime(alert.period.end);
  const std::string who = alert.org_name.empty() ? "your organization" : alert.org_name;

  ReminderMail mail{to, "", ""};
  std::string& b = mail.body;
  b = "Hello,\n\n";
  switch (alert.threshold) {
    case UsageThreshold::k80:
      mail.subject = who + " has used " + std::to_string(Percent(alert.used, alert.limit)) +
                     "% of its " + label + " on " + plan_name;
      b += who + " has used " + counts + " of the " + label + " the " + plan_name +
           " plan allows.\n\n";
      break;
    case UsageThreshold::k100:
      mail.subject = who + " has reached its " + label + " limit on " + plan_name;
      b += who + " has reached the " + label + " limit of the " + plan_name + " plan: " + counts +
           ".\n\n";
      break;
    case UsageThreshold::kOver:
      mail.subject = who + " is over its " + label + " allowance on " + plan_name;
      b += who + " is over the " + label + " the " + plan_name + " plan includes: " + counts +
           ".\n\n";
      break;
  }
  if (alert.threshold == UsageThreshold::kOver) {
    b += label + " is not refused past the allowance: usage over it is counted and shown as " +
         "over, and may be billed as your agreement says.\n";
  } else if (allocation) {
    b += "At the limit, adding more " + label + " is refused until some are removed or the " +
         "plan is upgraded.\n";
  } else {
    b += "At the limit, more " + label + " are refused until the period ends or the plan is " +
         "upgraded.\n";
  }
  if (allocation) {
    b += "This is counted across periods; the current billing period ends on " + end + ".\n";
  } else {
    b += "The count starts again when the period ends, on " + end + ".\n";
  }
  if (!upgrade_url.empty()) b += "\nUpgrade for higher limits:\n" + upgrade_url + "\n";
  b += "\nYou get this e-mail once per period for each limit reached.\n-- sima billing\n";
  return mail;
}

ComposeUsageAlert UsageAlertComposer(const Catalog& catalog, std::string upgrade_url) {
  return [&catalog, url = std::move(upgrade_url)](const UsageAlert& alert, const std::string& to) {
    return UsageAlertEmail(catalog, alert, to, url);
  };
}

}  // namespace sima::server
