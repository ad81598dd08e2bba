// The one path every confirmation takes, whatever the gateway (verify, callback, failure
// redirect, init offering a payment again, reconciler): the gateway's adapter
// (gateway_adapters.h) looks the payment up outside any transaction and maps the answer with
// the sdk; Store::ApplyPaymentOutcome then moves the payment (and activates the plan) exactly
// once.
#pragma once

#include <string>

#include "gateway_adapters.h"
#include "store.h"

namespace sima::server {

class ChangeFeed;

struct Confirmation {
  PaymentState state;                        // as stored after this confirmation
  CallFailure failure = CallFailure::kNone;  // the gateway gave no usable answer: nothing decided
  std::string detail;                        // why, safe to show and log (no secrets)
};

// Looks `payment` up through `gateway` and applies the answer with `cause`. A payment that is
// not PENDING is returned as stored without calling the gateway, except a FAILED one when
// `recheck_failed` (a signed or claimed "paid" redirect for it): then the gateway is asked,
// and a paid answer activates it with needs_attention (sima::Apply). A payment without a
// gateway reference is left as is (failure kRejected). Errors: storage failures only.
// A payment this call moved is told to `changes` (its organization's open browsers see the
// plan it activated): callers without an organization's request behind them (callbacks, the
// reconciler, pay links) have no other way to tell it. nullptr: live usage is off.
// REQUIRES: gateway.provider() == payment.provider.
Expected<Confirmation> ConfirmPayment(Store& store, const PaymentGateway& gateway,
                                      const Payment& payment, PaymentCause cause, Time now,
                                      bool recheck_failed = false, ChangeFeed* changes = nullptr);

// A GatewayAnswer for a failure at initiate time: the payment can never be paid (no pidx
// reached anyone), so it fails with `reason`.
GatewayAnswer InitiateFailed(std::string reason, std::string detail);

// The shared end of a redirect target (a gateway's callback, the failure target) and of an
// init offering an open payment again: a PENDING payment is confirmed through `gateway` with
// `cause`; a gateway failure leaves it PENDING. `paid_claim`: the caller says it was paid
// (eSewa's signed COMPLETE, Khalti's status=Completed), so a FAILED payment is asked about
// again too and never answered from the stored FAILED. Anonymous callers share one look-up per
// payment per timing.anonymous_lookup_window; within it the stored payment answers. Paid claims
// for a FAILED payment share their own window (a failure-target hit moments before cannot keep
// them unasked); a repeat within it that finds the payment still FAILED is flagged and audited
// (once per timing.rejected_audit_window) and shown as PENDING, as is a FAILED payment the
// gateway could not be asked about. `gateway` null (off): the payment as stored. Returns the
// payment as stored, or as it must be shown. `changes` as ConfirmPayment's. Errors: storage
// failures only.
Expected<Payment> ConfirmForRedirect(Store& store, const PaymentGateway* gateway,
                                     const PaymentTiming& timing, const Payment& payment, Time now,
                                     bool paid_claim = false,
                                     PaymentCause cause = PaymentCause::kCallback,
                                     ChangeFeed* changes = nullptr);

}  // namespace sima::server
