// The one path every Khalti confirmation takes (verify, callback, reconciler): look the payment
// up at Khalti outside any transaction, map the answer with sima::FromKhaltiLookup, then let
// Store::ApplyPaymentOutcome move the payment (and activate the plan) exactly once.
#pragma once

#include <string>

#include "gateway/khalti_client.h"
#include "store.h"

namespace sima::server {

struct Confirmation {
  PaymentState state;                          // as stored after this confirmation
  CallFailure failure = CallFailure::kNone;    // Khalti gave no usable answer: nothing decided
  std::string detail;                          // why, safe to show and log (no secrets)
};

// Looks `payment` up at Khalti and applies the answer with `cause`. A payment that is not
// PENDING is returned as stored without calling Khalti. A payment without a pidx is left as is
// (failure kRejected). Errors: storage failures only.
Expected<Confirmation> ConfirmKhalti(Store& store, const KhaltiClient& khalti,
                                     const Payment& payment, PaymentCause cause, Time now);

// A GatewayAnswer for a failure at initiate time: the payment can never be paid (no pidx
// reached anyone), so it fails with `reason`.
GatewayAnswer InitiateFailed(std::string reason, std::string detail);

// The reconciler's delay before the next look-up after `attempts` inconclusive ones:
// 5 s doubling, at most 10 minutes.
std::chrono::seconds RecheckBackoff(int64_t attempts);

}  // namespace sima::server
