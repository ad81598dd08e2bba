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
#include "sima/time.h"

namespace sima {

enum class PaymentStatus { kPending, kSuccess, kFailed, kRefunded };
enum class Provider { kKhalti, kEsewa };

std::string_view to_string(PaymentStatus status);  // "PENDING", "SUCCESS", ...
std::string_view to_string(Provider provider);     // "KHALTI", "ESEWA"

// The smallest amount a payment may be for, whatever the gateway: Khalti refuses less than
// Rs 10 (1000 paisa). Quotes (sima/quote.h) never go below it, so the browser and the server
// show and charge the same amount for either gateway.
inline constexpr int64_t kMinimumPaymentPaisa = 1000;
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

// --- a payment never fails while its payer may still pay ---
//
// A gateway answer that means "not paid (yet)" fails a payment only once the payer can no
// longer pay it. The two gateways differ in what they tell us:
//  - eSewa answers NOT_FOUND both for a session that ended unpaid and for a transaction_uuid
//    it has not seen yet (the browser has not posted the form, the payer is still on eSewa's
//    login page). eSewa does not document how long its session lasts, so the server takes a
//    setting (ESEWA_SESSION_MINUTES): NOT_FOUND fails only once that long has passed since
//    init; before, the payment stays PENDING. CANCELED and the refunds are eSewa's own final
//    word and fail at once; PENDING and AMBIGUOUS never fail.
//  - Khalti says Expired itself, only after the pidx's lifetime: final. "User canceled" and
//    "Failed" are final too. A lookup answered "Not found." for a pidx Khalti gave us is not
//    proof of anything before that pidx expires: it stays PENDING; after expiry (plus
//    `grace`, for clocks that disagree) it fails as "not_found".

// The moment from which a NOT_FOUND may fail an eSewa payment created at `created_at`.
Time EsewaSessionEnd(Time created_at, std::chrono::seconds session);

// FromEsewaStatus with the payer's session taken into account: NOT_FOUND before
// EsewaSessionEnd(created_at, session) keeps the payment pending (reason "NOT_FOUND").
Outcome FromEsewaStatusAt(std::optional<std::string_view> status, int64_t reported_paisa,
                          int64_t expected_paisa, Time created_at, Time now,
                          std::chrono::seconds session);

// Khalti's lookup answered "Not found." for our pidx. `expires_at` is the pidx's expiry as
// Khalti gave it at initiate (nullopt: unknown, then `created_at + fallback_lifetime`).
Outcome FromKhaltiNotFound(std::optional<Time> expires_at, Time created_at, Time now,
                           std::chrono::seconds fallback_lifetime, std::chrono::seconds grace);

// Whether the payer of a PENDING payment may still complete it at the gateway at `now`: an
// open payment that may be offered again instead of a new one. Khalti: until `expires_at`
// (nullopt: never offered again); eSewa: until EsewaSessionEnd. `margin` is kept free at the
// end so a payer offered it has time to pay.
bool PayerMayStillPay(Provider provider, Time created_at, std::optional<Time> expires_at, Time now,
                      std::chrono::seconds esewa_session, std::chrono::seconds margin);

// No usable answer (timeout, 5xx, malformed body): nothing is decided.
Outcome GatewayUnreachable(std::string reason);

struct Transition {
  PaymentStatus from = PaymentStatus::kPending;
  PaymentStatus to = PaymentStatus::kPending;
  bool changed = false;   // false: a no-op; `note` says why
  bool activate = false;  // true on a move to SUCCESS (from PENDING, or a late FAILED one)
  std::string reason;     // the failure/refund reason carried to the payment
  std::string note;       // e.g. "already SUCCESS", "still pending"
  // A human must look at this move: a payment we had FAILED was paid after all (see Apply).
  bool needs_attention = false;
};

// Moves a payment in `current` by `outcome`. Errors: kIllegalTransition for moves the
// machine forbids (SUCCESS -> FAILED, REFUNDED -> anything but itself); the message names
// both states.
//
// A paid answer for a FAILED payment (the gateway confirms, for exactly the stored amount,
// that the money was taken after we had given up on it) moves it to SUCCESS and activates the
// plan, with needs_attention so an operator reviews why it had failed. The money was taken:
// the plan is what the payer paid for and expects, while refusing it would leave them charged
// with nothing until a human issues a refund. The earlier failure was ours to revise; the
// gateway's payment is not.
Result<Transition> Apply(PaymentStatus current, const Outcome& outcome);

}  // namespace sima
