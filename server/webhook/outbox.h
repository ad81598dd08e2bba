// The rules both stores share for the webhook outbox: which events a change writes (type and
// data, computed from plain values, so SQLite and PostgreSQL write the same ones), how much of a
// receiver's answer the delivery log keeps, and how many endpoints a scope may have. Stores only
// write what these return (AppendEvent), in the transaction of the change.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "sima/catalog.h"
#include "sima/json.h"
#include "sima/lifecycle.h"
#include "sima/reminders.h"
#include "sima/settlement.h"
#include "sima/subscription.h"
#include "sima/time.h"
#include "store.h"

namespace sima::server::webhook {

// Endpoints one organization may have, and the server-wide ones (deleted ones not counted).
inline constexpr int64_t kMaxEndpointsPerScope = 16;
// Bytes of a receiver's answer the delivery log keeps.
inline constexpr size_t kLoggedBodyBytes = 1024;
// Bytes of an attempt's error (and a delivery's last_error) kept.
inline constexpr size_t kLoggedErrorBytes = 500;

// One event a change writes.
struct NewEvent {
  std::string_view type;
  Json data;
};

// The events one ApplyPaymentOutcome writes, in order, from the payment before it, what Settle
// decided and the payment and subscription after it. None when the settlement wrote nothing:
//  - payment.succeeded on the first move to SUCCESS; payment.failed on a move to FAILED;
//  - payment.needs_attention when needs_attention becomes true (a plan conflict that needs a
//    refund, money seen taken after a failure, an answer a human must read), with "attention":
//    why;
//  - subscription.activated (a started period) or subscription.renewed (an extension) when the
//    payment activated the plan, with the payment's id.
std::vector<NewEvent> SettlementEvents(const Catalog& catalog, const Payment& before,
                                       const Settlement& settlement, const Payment& after,
                                       const Subscription& subscription, Time now);

// The "attention" of a payment flagged because its gateway never gave a final answer in time
// (Store::ScheduleRecheck with no next check).
inline constexpr std::string_view kRechecksStopped =
    "the gateway gave no final answer in time: no more automatic lookups";

// payment.needs_attention for a payment an audit or a recheck newly flagged (`why` says what a
// human should look at).
NewEvent AttentionEvent(const Catalog& catalog, const Payment& payment,
                        const Subscription& subscription, std::string_view why, Time now);

// The event of a reminder sent: subscription.renewal_due (renewal notices, a trial ending),
// subscription.grace_started or subscription.expired, with the reminder under "reminder".
NewEvent ReminderEvent(const Catalog& catalog, const Subscription& subscription,
                       const Reminder& reminder, Time now);

// subscription.changed for a scheduled change (switch, cancel, undo) of `before`.
NewEvent ChangeEvent(const Catalog& catalog, const Subscription& before, const Subscription& after,
                     ChangeKind kind, Time now);

// A granted trial: subscription.activated when it puts another plan in force, else (a trial
// replacing a trial of the same plan) subscription.changed with "change": "trial".
NewEvent TrialEvent(const Catalog& catalog, const Subscription& after, const PlanChange& change,
                    Time now);

// What the delivery log keeps of a receiver's answer: its first kLoggedBodyBytes bytes (or
// `max_bytes`), never a character cut in two, each byte that is not part of valid UTF-8 made
// U+FFFD (PostgreSQL refuses invalid text; the admin API renders it as JSON).
std::string LoggedText(std::string_view bytes, size_t max_bytes = kLoggedBodyBytes);

}  // namespace sima::server::webhook
