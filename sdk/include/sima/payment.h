// The payment state machine and what each gateway answer means for it.
//
//   PENDING ──activate──> SUCCESS ──refund──> REFUNDED
//      └──────fail──────> FAILED
//
// A gateway answer is first mapped to an Outcome (FromKhaltiLookup, FromEsewaStatus,
// GatewayUnreachable); Apply() then moves a payment, refusing illegal moves and reporting a
// repeated outcome as a no-op. Only the first move to SUCCESS activates a plan.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "sima/status.h"

namespace sima {

enum class PaymentStatus { kPending, kSuccess, kFailed, kRefunded };
enum class Provider { kKhalti, kEsewa };

std::string_view to_string(PaymentStatus status);  // "PENDING", "SUCCESS", ...
std::string_view to_string(Provider provider);     // "KHALTI", "ESEWA"
std::optional<PaymentStatus> ParsePaymentStatus(std::string_view text);
std::optional<Provider> ParseProvider(std::string_view text);

// What a gateway's answer asks us to do with a payment.
enum class Action {
  kKeepPending,  // not decided yet (or unknowable now): look again later
  kActivate,     // paid in full for exactly the expected amount
  kFail,         // the user did not pay; `reason` says why
  kRefund,       // the gateway returned the money
};

std::string_view to_string(Action action);

struct Outcome {
  Action action = Action::kKeepPending;
  // Why: the gateway's status text ("Expired", "User canceled", "NOT_FOUND"), or one of
  // "amount_mismatch", "gateway_unavailable", "unknown_status".
  std::string reason;
  // A human must look: an unknown status, an amount mismatch, a partial refund.
  bool needs_attention = false;
};

// Khalti ePayment lookup: `status` as Khalti spells it (compared without case), the
// lookup's total_amount and the amount we stored, both in paisa. Only "Completed" for
// exactly the stored amount activates.
Outcome FromKhaltiLookup(std::string_view status, int64_t reported_paisa, int64_t expected_paisa);

// eSewa status check: `status` is nullopt for the outage body that has no status.
Outcome FromEsewaStatus(std::optional<std::string_view> status, int64_t reported_paisa,
                        int64_t expected_paisa);

// No usable answer (timeout, 5xx, malformed body): nothing is decided.
Outcome GatewayUnreachable(std::string reason);

struct Transition {
  PaymentStatus from = PaymentStatus::kPending;
  PaymentStatus to = PaymentStatus::kPending;
  bool changed = false;   // false: a no-op; `note` says why
  bool activate = false;  // true exactly on the move PENDING -> SUCCESS
  std::string reason;     // the failure/refund reason carried to the payment
  std::string note;       // e.g. "already SUCCESS", "still pending"
};

// Moves a payment in `current` by `outcome`. Errors: kIllegalTransition for moves the
// machine forbids (SUCCESS -> FAILED, FAILED -> SUCCESS, REFUNDED -> anything but itself);
// the message names both states.
Result<Transition> Apply(PaymentStatus current, const Outcome& outcome);

}  // namespace sima
