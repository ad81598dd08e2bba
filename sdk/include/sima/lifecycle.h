// The life of a paid subscription after its first payment: renewal reminders before the end,
// a few days of grace after it, then FREE. Khalti and eSewa cannot charge a customer without
// the customer, so every renewal is a payment the customer makes; sima computes, from the
// subscription and the time alone, where it stands and what paying does.
//
//   paid ──────────── active ──────────── renewal_due ─────── end ─── grace ─── grace_until
//                                   end - notice_days[0]               plan still applies
//                                                                                 └─ expired (FREE)
//   trial ─────────── trialing ────────────────────────────── end ─── expired (FREE)
//   cancel_at_period_end ─ canceled ───────────────────────── end ─── expired (FREE)
//   FREE ──────────── free
//
// The catalog holds notice_days and grace_days (RenewalSettings in sima/catalog.h).
//
// Which functions the server uses: PlanInForce instead of EffectivePlan, and
// ActivateWithGrace / CanBuyWithGrace instead of Activate / CanBuy (sima/subscription.h). The
// old ones keep their meaning (FREE from `end` on, no grace) until every caller has switched.
// Beside this file: what an upgrade costs (sima/quote.h), which reminder is due
// (sima/reminders.h), and the subscription's JSON with its state (SubscriptionToJson with the
// catalog, sima/json.h).
// Pure: no I/O, no clock, no exceptions.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "sima/catalog.h"
#include "sima/status.h"
#include "sima/subscription.h"
#include "sima/time.h"

namespace sima {

enum class SubscriptionState {
  kFree,        // on FREE
  kTrialing,    // a trial, before its end
  kActive,      // paid, before renewal_due_from
  kRenewalDue,  // paid, from renewal_due_from to the end: reminders, a pay button
  kGrace,       // after the end, before grace_until: the plan still applies, marked as such
  kCanceled,    // canceled, before the end: the plan applies until it, then FREE
  kExpired,     // past the end (and the grace): FREE applies
};

// "free", "trialing", "active", "renewal_due", "grace", "canceled", "expired".
std::string_view to_string(SubscriptionState state);

// Where a subscription stands at a time, and the dates a person is shown.
struct Lifecycle {
  SubscriptionState state = SubscriptionState::kFree;
  // The plan whose limits apply: the subscription's plan while trialing, active, renewal_due
  // and canceled; in grace the plan the renewal is for (next_plan when one is scheduled, else
  // the plan); FREE when free or expired.
  std::string plan{kFreePlan};
  // The plan a renewal buys (next_plan or plan) for a paid plan that renews; "" otherwise
  // (free, trial, canceled, and an expired one that was a trial or canceled).
  std::string renewal_plan;
  // When renewal reminders start: end - the first notice day. Only for a paid plan that
  // renews (not a trial, not canceled) and a catalog with notice days; nullopt otherwise.
  std::optional<Time> renewal_due_from;
  // end + grace_days for a paid plan that renews (== end when grace_days is 0); nullopt
  // otherwise (no grace for a trial or a canceled plan).
  std::optional<Time> grace_until;
  // When FREE takes (or took, once expired) over unless paid: grace_until for a plan that
  // renews, the end for a trial or a canceled plan; nullopt for FREE and for a paid plan
  // without a known end (a browser snapshot without dates: active, no dates).
  std::optional<Time> ends_at;
  bool operator==(const Lifecycle&) const = default;
};

// Where `sub` stands at `now`. The period's end is `sub.end`; the moments are half-open:
// renewal_due from renewal_due_from inclusive, grace from the end inclusive, expired from
// ends_at inclusive. A subscription whose plan is not FREE is treated as paid even when the
// catalog no longer has the plan (its limits are then the caller's business, as today).
Lifecycle LifecycleAt(const Catalog& catalog, const Subscription& sub, Time now);

// The plan whose limits apply at `now`: LifecycleAt(...).plan. Unlike EffectivePlan, a plan
// in grace still applies. Every decision asks it, so it builds nothing: the view points into
// `sub` (or is kFreePlan) and lives as long as `sub`.
std::string_view PlanInForce(const Catalog& catalog, const Subscription& sub, Time now);

// The subscription after a paid `plan` is activated at `now`, with renewals and grace:
//  - free or expired: a new period starts now (started: usage reset);
//  - the subscription's plan while active, renewal_due or canceled: the end moves
//    period_days on from the current end, usage kept (extended); a cancel or a scheduled
//    change is undone (the customer paid to go on);
//  - in grace, the plan or a cheaper one (the scheduled next plan, say): the period goes on
//    from the old end, no gap and no double period (extended, usage kept; a different plan
//    starts at the old end);
//  - a trial's plan while trialing: the paid period follows the trial (extended; trial ends);
//  - a pricier plan than the paid one (an upgrade), or any plan over a trial: a new period
//    starts now (started). What the upgrade costs is QuoteUpgrade's (sima/quote.h).
// Errors: kInvalidPlan for an unknown or free plan; kConflict for a cheaper plan while a paid
// one lasts (active, renewal_due, canceled): "plan PRO is active until ...; the lower plan
// BASIC cannot be bought while it lasts", or for the scheduled next plan "plan BASIC is
// scheduled to start at <end>; it can be paid from then".
// The server must switch from Activate to this one.
Result<Activation> ActivateWithGrace(const Catalog& catalog, const Subscription& sub,
                                     std::string_view plan, Time now);

// Whether `plan` may be bought at `now`: ActivateWithGrace's errors, or OK.
Status CanBuyWithGrace(const Catalog& catalog, const Subscription& sub, std::string_view plan,
                       Time now);

// The subscription after the admin grants a trial of `plan` for `days` days at `now`: a new
// period now..now+days marked trial (started: usage reset). Allowed on FREE, after expiry and
// over another trial (which it replaces).
// Errors: kInvalidPlan for an unknown or free plan; kInvalidArgument for days outside
// 1..period_days; kConflict while a paid plan applies (active, renewal_due, grace, canceled):
// "plan PRO is paid until ...; a trial cannot replace it".
Result<Activation> GrantTrial(const Catalog& catalog, const Subscription& sub,
                              std::string_view plan, int days, Time now);

// A change the customer schedules for the end of the period (POST /billing/subscription/).
enum class ChangeKind {
  kSwitch,  // renew on a cheaper plan: the next renewal is for it
  kCancel,  // fall to FREE at the end: no reminders, no grace
  kUndo,    // neither: renew the plan as it is
};

// "switch", "cancel", "undo"; ChangeKindFromString is the inverse (nullopt for anything else).
std::string_view to_string(ChangeKind kind);
std::optional<ChangeKind> ChangeKindFromString(std::string_view text);

// The subscription with `kind` scheduled at `now` (`plan` only for kSwitch). Allowed while a
// paid plan is active, renewal_due or canceled; scheduling replaces an earlier change. A
// switch to the subscription's own plan is an undo.
// Errors: kConflict while free, expired, in grace ("the period ended on ...; pay for a plan or
// let it end") or trialing ("a trial ends by itself at ..."), and for a switch to a pricier
// plan ("upgrade now instead"); kInvalidPlan for a switch to an unknown or free plan ("FREE":
// use cancel).
Result<Subscription> ScheduleChange(const Catalog& catalog, const Subscription& sub,
                                    ChangeKind kind, std::string_view plan, Time now);

}  // namespace sima
