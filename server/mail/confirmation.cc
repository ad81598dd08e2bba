#include "mail/confirmation.h"

#include "sima/money.h"
#include "sima/time.h"

namespace sima::server {

ConfirmationText ConfirmationEmail(const Catalog& catalog, const std::string& org_name,
                                   const Payment& payment, const Subscription& subscription) {
  const Plan* plan = catalog.FindPlan(payment.plan);
  const std::string plan_name = plan != nullptr ? plan->name : payment.plan;
  ConfirmationText out;
  out.subject = "Your " + plan_name + " plan is active";
  out.body = "Hello " + org_name + ",\n\n";
  out.body += "we received your payment of NPR " +
              FormatRupees(payment.amount_paisa, kRupeesForPeople) + " with " +
              std::string(to_string(payment.provider)) + " (payment #" +
              std::to_string(payment.id) + ", reference " +
              payment.reference_id.value_or(payment.purchase_order_id) + ").\n\n";
  out.body += "Plan: " + plan_name + "\n";
  out.body += "Valid from: " + FormatTime(subscription.start) + "\n";
  if (subscription.end) out.body += "Valid until: " + FormatTime(*subscription.end) + "\n";
  out.body += "\nThank you.\n-- sima billing\n";
  return out;
}

ConfirmationRenderer CatalogConfirmation(const Catalog& catalog) {
  return [&catalog](const std::string& org_name, const Payment& payment,
                    const Subscription& subscription) {
    return ConfirmationEmail(catalog, org_name, payment, subscription);
  };
}

std::string ConfirmationMessageId(int64_t payment_id) {
  return "payment-" + std::to_string(payment_id) + "-confirmation";
}

}  // namespace sima::server
