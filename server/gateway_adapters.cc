#include "gateway_adapters.h"

#include "sima/money.h"

namespace sima::server {

GatewayLookup KhaltiGateway::Lookup(const Payment& payment, Time now) const {
  GatewayLookup out;
  const auto lookup = client_.Lookup(payment.reference_id.value_or(""));
  if (!lookup.ok() && lookup.failure == CallFailure::kRejected &&
      (lookup.http_status == 404 || lookup.detail.find("Not found.") != std::string::npos)) {
    // Khalti does not know the pidx it gave us: not proof of failure before it expires.
    GatewayAnswer a;
    a.outcome = FromKhaltiNotFound(payment.expires_at, payment.created_at, now, kPidxLifetime,
                                   kNotFoundGrace);
    a.detail = "khalti lookup: Not found.";
    out.answer = std::move(a);
    return out;
  }
  if (!lookup.ok()) {
    out.failure = lookup.failure;
    out.detail = lookup.detail;
    return out;
  }
  const KhaltiLookup& k = *lookup.value;
  GatewayAnswer a;
  a.outcome = FromKhaltiLookup(k.status, k.total_amount, payment.amount_paisa);
  a.detail = "khalti status=" + k.status + " total_amount=" + std::to_string(k.total_amount);
  a.transaction_id = k.transaction_id;
  out.answer = std::move(a);
  return out;
}

GatewayLookup EsewaGateway::Lookup(const Payment& payment, Time now) const {
  GatewayLookup out;
  const auto checked =
      CheckEsewaStatus(config_, timeouts_, payment.amount_paisa, payment.reference_id.value_or(""));
  if (!checked.ok()) {
    out.failure = checked.failure;
    out.detail = checked.detail;
    return out;
  }
  const EsewaStatusAnswer& e = *checked.value;
  GatewayAnswer a;
  // The outage body has no status: the sdk keeps the payment pending for the reconciler.
  // NOT_FOUND within the payer's session is "not there yet", not a failure.
  a.outcome =
      FromEsewaStatusAt(e.status ? std::optional<std::string_view>(*e.status) : std::nullopt,
                        e.total_paisa, payment.amount_paisa, payment.created_at, now, session_);
  a.detail = "esewa status=" + e.status.value_or("(none: service unavailable)") +
             " total_amount=" + FormatRupees(e.total_paisa) +
             (e.ref_id ? " ref_id=" + *e.ref_id : "");
  a.transaction_id = e.ref_id;
  out.answer = std::move(a);
  return out;
}

}  // namespace sima::server
