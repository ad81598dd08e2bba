// The store side of sima::Settle, the same for every Store: the input built from what a store
// loaded in its transaction. A store then writes the Settlement as it is (see
// SqliteStore::ApplyPaymentOutcome): stores write, the core decides.
#pragma once

#include "sima/catalog.h"
#include "sima/settlement.h"
#include "sima/subscription.h"
#include "sima/time.h"
#include "store.h"

namespace sima::server {

// `payment` and `subscription` as stored now, `answer` from the gateway adapter.
// `catalog` must outlive the returned input.
SettleInput SettleInputFor(const Payment& payment, const GatewayAnswer& answer,
                           const Subscription& subscription, bool has_billing_email,
                           const Catalog& catalog, PaymentCause cause, Time now);

}  // namespace sima::server
