// Settlement: what one gateway answer does to one payment, computed as a plain value.
//
// A store loads the payment and the organization's subscription, calls Settle() and writes
// what the Settlement says in one transaction; it decides nothing itself (the shape of
// LevelDB's WriteBatch: build the change purely, apply it atomically). Every rule lives here:
//  - the move is sima::Apply's; an illegal one moves nothing but flags needs_attention and is
//    audited "illegal: ...";
//  - a payment still PENDING with an answer that needs a human (an unknown status) is flagged
//    and audited once; every other repeat or still-pending answer writes nothing;
//  - needs_attention is sticky: once set, no settlement clears it;
//  - the first move to SUCCESS activates the plan (sima::Activate): started or extended. A
//    refusal (a pricier plan became active meanwhile) leaves the payment SUCCESS, the money
//    having been taken, with needs_attention, reason "plan_conflict: refund due" and the plan
//    unchanged. A paid answer for a FAILED payment activates too and is audited with the
//    reason it had failed;
//  - a started plan resets usage (the counters of the new period's start are cleared) and
//    every activation records a plan change;
//  - one confirmation per activation, when the organization has a billing e-mail; without
//    one the trail says so.
// Pure: no I/O, no clock, no exceptions.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "sima/catalog.h"
#include "sima/payment.h"
#include "sima/subscription.h"
#include "sima/time.h"

namespace sima {

struct SettleInput {
  // The payment as stored now.
  PaymentStatus status = PaymentStatus::kPending;
  std::string reason;            // why it FAILED/REFUNDED, or ""
  bool needs_attention = false;  // sticky: never cleared by a settlement
  std::string plan;              // the plan the payment buys

  // What the gateway said: the mapped outcome and the facts for the record.
  Outcome outcome;
  std::string detail;                         // e.g. "khalti status=Completed total=390000"
  std::optional<std::string> transaction_id;  // the gateway's transaction, if it named one

  // The organization's subscription as stored now, and whether it has a billing e-mail.
  Subscription subscription;
  bool has_billing_email = false;

  // REQUIRES: non-null; the catalog the payment was priced from.
  const Catalog* catalog = nullptr;
  std::string cause;  // who asks: "callback", "verify", "reconciler", ...
  Time now{};
};

enum class SettleKind {
  kUnchanged,  // a repeat, or still pending: nothing to write
  kFlagged,    // still PENDING, a human must look: set needs_attention, audit once
  kIllegal,    // the machine refuses the move: nothing moves; set needs_attention, audit
  kMoved,      // the payment moves from `from` to `to` (guarded by `from`)
};

std::string_view to_string(SettleKind kind);  // "unchanged", "flagged", "illegal", "moved"

// One line of the payment's audit trail, in the order written.
struct AuditEvent {
  PaymentStatus from = PaymentStatus::kPending;
  PaymentStatus to = PaymentStatus::kPending;
  std::string detail;
  bool operator==(const AuditEvent&) const = default;
};

// The plan_changes row of an activation (the store adds the organization and the payment).
struct PlanChange {
  Time at{};
  std::string cause;
  std::string from_plan;  // the plan in force before, at `now`
  std::string to_plan;
  Time start{};
  std::optional<Time> end;
  ActivationKind kind = ActivationKind::kStarted;
  bool operator==(const PlanChange&) const = default;
};

struct Settlement {
  SettleKind kind = SettleKind::kUnchanged;

  // The payment afterwards: `to` == `from` unless kMoved. `reason` and `needs_attention` are
  // the values to store (for kUnchanged, the stored ones).
  PaymentStatus from = PaymentStatus::kPending;
  PaymentStatus to = PaymentStatus::kPending;
  std::string reason;
  bool needs_attention = false;
  // kMoved: the gateway's transaction to store (nullopt keeps the stored one). A move also
  // ends the reconciler's schedule.
  std::optional<std::string> transaction_id;

  // The subscription to save after an activation (started or extended); nullopt otherwise.
  std::optional<Activation> activation;
  // True when the move asked to activate and sima::Activate refused (see the top).
  bool activation_refused = false;
  // A started plan: clear the usage counters of the period starting here.
  std::optional<Time> reset_usage_from;
  std::optional<PlanChange> plan_change;
  // Queue the one confirmation e-mail of this payment.
  bool notify = false;

  std::vector<AuditEvent> audit;  // in order

  bool changed() const { return kind == SettleKind::kMoved; }
  bool activated() const { return activation.has_value(); }
  // Whether the store has anything to write.
  bool writes() const { return kind != SettleKind::kUnchanged; }
};

// What `in.outcome` does to the payment (see the top of this file).
// REQUIRES: in.catalog != nullptr.
Settlement Settle(const SettleInput& in);

}  // namespace sima
