// Fault switches of the gateway simulator: ways to make the simulated Khalti
// and eSewa misbehave the way real gateways and networks do.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "sima/status.h"

namespace sima::simulator {

// A fault that is off, on until turned off, or on for the next N uses only.
// JSON form: false / true / N (N > 0 means "the next N uses"; 0 means off).
class Switch {
 public:
  Switch() = default;
  static Switch Off() { return Switch(0); }
  static Switch Always() { return Switch(-1); }
  static Switch Times(int n) { return Switch(n < 0 ? 0 : n); }

  // True while the fault is armed.
  bool armed() const { return remaining_ != 0; }
  // Uses the fault once: returns true if it fires now, and counts a limited
  // switch down (it turns off after its last use).
  bool Take();
  nlohmann::json ToJson() const;

 private:
  explicit Switch(int remaining) : remaining_(remaining) {}
  int remaining_ = 0;  // -1: always, 0: off, N: next N uses
};

// What happens after the user presses Pay (or Cancel) on a hosted page.
enum class RedirectMode {
  kNormal,               // one 302 to the merchant
  kTwice,                // the 302, and the simulator itself GETs the same URL once more
  kNever,                // no redirect: the page says the payment was received
  kPendingThenComplete,  // Khalti only: Pay leaves the payment Pending, it completes
                         // after pending_complete_ms; the redirect says status=Pending
};

struct Faults {
  // Khalti
  Switch initiate_http_500;
  int initiate_delay_ms = 0;
  int lookup_delay_ms = 0;         // lookup answers only after this delay
  Switch lookup_http_500;          // lookup answers 500 with an HTML body
  Switch lookup_malformed;         // lookup answers 200 with a truncated JSON body
  Switch lookup_reset;             // lookup closes the connection before any body byte
  int64_t amount_delta_paisa = 0;  // lookup reports total_amount + delta
  RedirectMode redirect_mode = RedirectMode::kNormal;
  int pending_complete_ms = 2000;
  // Refund API (POST /api/merchant-transaction/{transaction_id}/refund/)
  int refund_delay_ms = 0;  // the refund is made, its answer comes only after this delay
  Switch refund_http_500;   // answers 500 with an HTML body; nothing is refunded
  Switch refund_refuse;     // answers 400 {"detail": ...}; nothing is refunded
  // Shared: delay before the duplicate delivery of redirect_mode "twice".
  int duplicate_delay_ms = 200;
  // eSewa
  Switch esewa_status_outage;  // 200 {"code":0,"error_message":"Service is currently unavailable"}
  Switch esewa_status_http_500;
  int esewa_status_delay_ms = 0;
  Switch esewa_status_malformed;
  Switch esewa_status_reset;
  RedirectMode esewa_redirect_mode = RedirectMode::kNormal;  // normal | twice | never
  int64_t esewa_amount_delta_paisa = 0;  // success data and status report total + delta
  Switch esewa_thousands_separator;  // success data total_amount "2,700.0", signed without comma
  Switch esewa_data_raw;  // success ?data= carries raw Base64 instead of percent-encoding it
};

nlohmann::json FaultsToJson(const Faults& faults);

// Applies a partial update such as {"lookup_http_500": 2, "redirect_mode": "twice"}.
// Returns an invalid_argument Status (and changes nothing) if the patch is not an object,
// names an unknown fault or holds a value of the wrong kind.
Status ApplyFaultPatch(Faults& faults, const nlohmann::json& patch);

// One line of documentation per fault, in declaration order: for --help and README.
struct FaultInfo {
  std::string name;
  std::string kind;  // "switch", "ms", "paisa", "mode"
  std::string help;
};
const std::vector<FaultInfo>& FaultCatalog();

}  // namespace sima::simulator
