// The webhook events sima sends: their types, the JSON body every delivery carries, and the
// data each type's body holds. Stores write events to their outbox in the same transaction as
// the change (AppendEvent in each store); the sender (webhook/sender.h) delivers them signed
// (webhook/signature.h). docs/webhooks.md documents every type and payload.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "resource_json.h"
#include "sima/catalog.h"
#include "sima/json.h"
#include "sima/subscription.h"
#include "sima/time.h"
#include "store.h"

namespace sima::server::webhook {

// Event types. Stable: integrators switch on them.
inline constexpr std::string_view kPaymentSucceeded = "payment.succeeded";
inline constexpr std::string_view kPaymentFailed = "payment.failed";
inline constexpr std::string_view kPaymentNeedsAttention = "payment.needs_attention";
inline constexpr std::string_view kPaymentRefunded = "payment.refunded";
inline constexpr std::string_view kSubscriptionActivated = "subscription.activated";
inline constexpr std::string_view kSubscriptionRenewed = "subscription.renewed";
inline constexpr std::string_view kSubscriptionRenewalDue = "subscription.renewal_due";
inline constexpr std::string_view kSubscriptionGraceStarted = "subscription.grace_started";
inline constexpr std::string_view kSubscriptionExpired = "subscription.expired";
inline constexpr std::string_view kSubscriptionChanged = "subscription.changed";
inline constexpr std::string_view kUsageThresholdCrossed = "usage.threshold_crossed";

// Every type above, in this order (docs and tests walk it).
inline constexpr std::string_view kEventTypes[] = {
    kPaymentSucceeded,       kPaymentFailed,
    kPaymentNeedsAttention,  kPaymentRefunded,
    kSubscriptionActivated,  kSubscriptionRenewed,
    kSubscriptionRenewalDue, kSubscriptionGraceStarted,
    kSubscriptionExpired,    kSubscriptionChanged,
    kUsageThresholdCrossed};

// A new event id: "evt_" + 22 base62 characters.
std::string NewEventId();

// The body of every delivery of `event`, the same bytes on every try and re-send:
// {"id","type","created" (RFC 3339),"org_id","sequence","data"} with `data` as stored.
std::string EventBody(const WebhookEvent& event);

// `data` of payment.* events: {"payment": ..., "subscription": ...} (the subscription as
// stored after the change, with its state at `now`).
Json PaymentEventData(const Catalog& catalog, const Payment& payment,
                      const Subscription& subscription, Time now);
// `data` of subscription.* events: {"subscription": ..., "previous_plan": plan in force before
// (null when not known)}.
Json SubscriptionEventData(const Catalog& catalog, const Subscription& subscription, Time now,
                           const std::optional<std::string>& previous_plan);

}  // namespace sima::server::webhook
