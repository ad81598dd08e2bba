// The reminder e-mails of the subscription's lifecycle (sima/reminders.h): renewal notices,
// a trial ending, grace started, expired. Plain text; each says the plan, the date, what
// happens next and carries the reminder's pay link (the only secret in it). The scheduler
// hands ReminderComposer to Store::SendDueReminder, which queues the result in the outbox in
// the transaction that records the reminder.
#pragma once

#include <string>

#include "pay_link.h"
#include "sima/catalog.h"
#include "sima/reminders.h"
#include "sima/subscription.h"
#include "store.h"

namespace sima::server {

// "2026-12-15 00:00 UTC": a time as e-mails and pages show it to people.
std::string HumanTime(Time t);

// The e-mail of `reminder` for `sub` to `to`, with the pay link `pay_url`.
ReminderMail ReminderEmail(const Catalog& catalog, const Subscription& sub,
                           const Reminder& reminder, const std::string& to,
                           const std::string& pay_url);

// Composes every reminder with its pay link (PayLinkFor, signed by `links`). `catalog` and
// `links` must outlive it. Pure, thread-safe.
ComposeReminder ReminderComposer(const Catalog& catalog, const PayLinks& links);

}  // namespace sima::server
