// The text of the e-mail that confirms a paid plan. A pure function: the store calls it inside
// the activation transaction and queues the result in the outbox.
#pragma once

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

}  // namespace sima::server
