#include "mail/confirmation.h"

#include "sima/time.h"

namespace sima::server {
namespace {

std::string Rupees(int64_t paisa) {
  std::string text = "NPR " + std::to_string(paisa / 100);
  if (paisa % 100 != 0) {
    const int64_t p = paisa % 100;
    text += (p < 10 ? ".0" : ".") + std::to_string(p);
  }
  return text;
}

}  // namespace

ConfirmationText ConfirmationEmail(const Catalog& catalog, const std::string& org_name,
                                   const Payment& payment, const Subscription& subscription) {
  const Plan* plan = catalog.FindPlan(payment.plan);
  const std::string plan_name = plan != nullptr ? plan->name : payment.plan;
  ConfirmationText out;
  out.subject = "Your " + plan_name + " plan is active";
  out.body = "Hello " + org_name + ",\n\n";
  out.body += "we received your payment of " + Rupees(payment.amount_paisa) + " with " +
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
