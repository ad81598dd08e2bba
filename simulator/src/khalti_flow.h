// The Khalti payment state machine and its redirects (Khalti ePayment docs).
// Every function here REQUIRES sim.mu held.
#pragma once

#include "context.h"

namespace sima::simulator {

// Applies what time has done: an unpaid Initiated payment past expires_at becomes
// Expired; a Pending one whose complete_at has passed becomes Completed.
void KhaltiRefresh(KhaltiPayment& p, Time now);

// The user paid with Khalti ID mobile (per the redirect_mode fault). Returns the
// URL the browser is sent to, or nullopt when redirect_mode is "never"; with
// "twice" it also queues the duplicate delivery.
// REQUIRES: p.status == "Initiated".
std::optional<std::string> KhaltiPay(Simulator::Impl& sim, KhaltiPayment& p,
                                     const std::string& mobile);
// The user pressed Cancel: status "User canceled". Returns the redirect as khalti_pay.
std::optional<std::string> KhaltiCancel(Simulator::Impl& sim, KhaltiPayment& p);

// Forces a status (control API). Known statuses are matched without case and
// stored in their documented spelling; paid ones get a transaction_id.
void KhaltiForceStatus(KhaltiPayment& p, const std::string& status);

// The lookup body {"pidx","total_amount","status","transaction_id","fee","refunded"}.
nlohmann::ordered_json KhaltiLookupBody(const KhaltiPayment& p, int64_t amount_delta_paisa);
// HTTP code of a lookup answer: 400 for Expired and User canceled, 200 otherwise.
int KhaltiLookupHttpStatus(const std::string& status);

// Everything about a payment, for the control API.
nlohmann::ordered_json KhaltiPaymentJson(const Simulator::Impl& sim, const KhaltiPayment& p);

// "9800000904" -> "98XXXXX904".
std::string MaskMobile(const std::string& mobile);

}  // namespace sima::simulator
