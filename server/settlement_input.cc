#include "settlement_input.h"

namespace sima::server {

SettleInput SettleInputFor(const Payment& payment, const GatewayAnswer& answer,
                           const Subscription& subscription, bool has_billing_email,
                           const Catalog& catalog, PaymentCause cause, Time now) {
  SettleInput in;
  in.status = payment.status;
  in.reason = payment.reason;
  in.needs_attention = payment.needs_attention;
  in.plan = payment.plan;
  in.outcome = answer.outcome;
  in.detail = answer.detail;
  in.transaction_id = answer.transaction_id;
  in.subscription = subscription;
  in.has_billing_email = has_billing_email;
  in.catalog = &catalog;
  in.cause = std::string(to_string(cause));
  in.now = now;
  return in;
}

}  // namespace sima::server
