// The eSewa payment state machine, success data and redirects (eSewa ePay v2 docs).
// Every function here REQUIRES sim.mu held.
#pragma once

#include "context.h"

namespace sima::simulator {

// The six field names the success data signs, in order.
inline constexpr const char* kEsewaResponseSignedNames =
    "transaction_code,status,total_amount,transaction_uuid,product_code,signed_field_names";

// A PENDING payment left unpaid longer than the session becomes NOT_FOUND.
void EsewaRefresh(const Simulator::Impl& sim, EsewaPayment& p);

// The Base64 success data: JSON with keys transaction_code, status, total_amount
// (a one-decimal string), transaction_uuid, product_code, signed_field_names,
// signature, honouring esewa_amount_delta_paisa and esewa_thousands_separator.
std::string EsewaSuccessData(Simulator::Impl& sim, const EsewaPayment& p);

// Result of Pay/Cancel: where the browser goes (nullopt for redirect mode "never").
struct EsewaOutcome {
  std::optional<std::string> redirect_url;
  std::string data;  // the Base64 success data; empty on cancel
};
// The user paid as eSewa ID payer: COMPLETE with a new transaction_code; redirect
// to success_url with ?data=. REQUIRES: p.status == "PENDING".
EsewaOutcome EsewaPay(Simulator::Impl& sim, EsewaPayment& p, const std::string& payer);
// The user cancelled: CANCELED; redirect to failure_url with nothing added.
EsewaOutcome EsewaCancel(Simulator::Impl& sim, EsewaPayment& p);

// Forces a status (control API), upper-cased; statuses that carry a ref_id get one.
void EsewaForceStatus(EsewaPayment& p, const std::string& status);

// Everything about a payment, for the control API.
nlohmann::ordered_json EsewaPaymentJson(const EsewaPayment& p);

}  // namespace sima::simulator
