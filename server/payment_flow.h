// The one path every confirmation takes, whatever the gateway (verify, callback, failure
// redirect, reconciler): the gateway's adapter (gateway_adapters.h) looks the payment up
// outside any transaction and maps the answer with the sdk; Store::ApplyPaymentOutcome then
// moves the payment (and activates the plan) exactly once.
#pragma once

#include <chrono>
#include <string>

#include "gateway_adapters.h"
#include "store.h"

namespace sima::server {

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
// REQUIRES: gateway.provider() == payment.provider.
Expected<Confirmation> ConfirmPayment(Store& store, const PaymentGateway& gateway,
                                      const Payment& payment, PaymentCause cause, Time now,
                                      bool recheck_failed = false);

// A GatewayAnswer for a failure at initiate time: the payment can never be paid (no pidx
// reached anyone), so it fails with `reason`.
GatewayAnswer InitiateFailed(std::string reason, std::string detail);

// The reconciler's delay before the next look-up after `attempts` inconclusive ones:
// 5 s doubling, at most 10 minutes.
std::chrono::seconds RecheckBackoff(int64_t attempts);

}  // namespace sima::server
