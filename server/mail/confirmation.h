// The e-mail that confirms a paid plan. Stores never compose mail text: when a settlement says
// "notify", a store calls the ConfirmationRenderer it was given and queues what it returns in
// the outbox under ConfirmationMessageId, in the activation's transaction.
#pragma once

#include <cstdint>
#include <functional>
#include <string>

#include "sima/catalog.h"
#include "sima/subscription.h"
#include "store.h"

namespace sima::server {

struct ConfirmationText {
  std::string subject;
  std::string body;
};

// Subject and plain-text body for `payment` (now SUCCESS) that put the organization on
// `subscription`. `org_name` greets the reader.
ConfirmationText ConfirmationEmail(const Catalog& catalog, const std::string& org_name,
                                   const Payment& payment, const Subscription& subscription);

// What a store is given to render a confirmation: the organization's name, the payment as
// stored after it activated, and the subscription it bought. Must be pure (it runs inside
// the store's transaction) and safe to call from any thread.
using ConfirmationRenderer = std::function<ConfirmationText(
    const std::string& org_name, const Payment& payment, const Subscription& subscription)>;

// ConfirmationEmail over `catalog`, which must outlive the renderer.
ConfirmationRenderer CatalogConfirmation(const Catalog& catalog);

// The outbox's message id of a payment's one confirmation: "payment-<id>-confirmation". Stable
// across retries (the Message-ID and the .eml file name).
std::string ConfirmationMessageId(int64_t payment_id);

}  // namespace sima::server
