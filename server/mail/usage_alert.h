// The e-mail of a usage alert (store.h UsageAlert): a feature at 80 % or 100 % of a hard limit,
// or over a soft one. Plain text: the feature, used/limit with the percent, the plan, when the
// period ends, what happens at the limit and the upgrade link. Stores never compose mail text:
// they call the ComposeUsageAlert they were given and queue what it returns in the outbox under
// UsageAlertMessageId, in the transaction that records the alert.
#pragma once

#include <string>

#include "sima/catalog.h"
#include "store.h"

namespace sima::server {

// The e-mail of `alert` to `to`, linking to `upgrade_url` (the page where the organization
// upgrades; an empty one leaves the link out).
ReminderMail UsageAlertEmail(const Catalog& catalog, const UsageAlert& alert, const std::string& to,
                             const std::string& upgrade_url);

// Composes every alert with `upgrade_url`. `catalog` must outlive it. Pure, thread-safe.
ComposeUsageAlert UsageAlertComposer(const Catalog& catalog, std::string upgrade_url);

}  // namespace sima::server
