// The payment gateways behind one interface. An adapter per gateway (gateway/khalti_adapter.cc,
// gateway/esewa_adapter.cc) owns the whole conversation with it: starting a payment (Begin),
// what the payer's browser does next (CheckoutFor), reading the gateway's redirect back
// (ReadReturn) and looking a payment up (Lookup), each answer mapped with the sdk
// (sima::FromKhaltiLookup, sima::FromEsewaStatusAt, ...). Everything else — open a payment,
// attach its reference, apply an answer exactly once, answer verify, redirect a browser,
// reschedule — is the shared path (payment_flow.h, handlers_payments.cc, reconciler.h), the
// same for every gateway. Adding a gateway: one adapter file, its Provider in sdk/, its
// factory below and its routes (routes.cc).
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "gateway/gateway_call.h"
#include "sima/payment_timing.h"
#include "store.h"

namespace sima::server {

struct Config;

// Where the gateway sends the payer back (built by the shared init from SIMA_PUBLIC_URL and
// the gateway's routes /billing/{slug}/callback/ and /billing/{slug}/failure/).
struct ReturnUrls {
  std::string success;  // the redirect target after paying (or, for Khalti, any outcome)
  std::string failure;  // the failure target, naming the payment by its unguessable ref
  std::string website;  // the app (SIMA_APP_URL)
};

// What Begin is asked for, besides the payment itself.
struct BeginRequest {
  ReturnUrls urls;
  std::string description;  // shown to the payer: "PRO plan, 30 days"
  std::string nonce;        // fresh random hex, for a gateway id that must be new per attempt
};

// A payment started at its gateway: what to attach to it (Store::AttachGatewayReference).
struct Begun {
  std::string reference;                   // Khalti's pidx, eSewa's transaction_uuid
  std::optional<Time> expires_at;          // until when the payer can pay, if known
  std::optional<std::string> payment_url;  // kept to offer the payment again (redirect gateways)
};

// What the payer's browser does next.
struct Checkout {
  std::string url;
  // Empty: the browser is sent to `url`. Else it POSTs an HTML form with these fields, in
  // this order, to `url`.
  std::vector<std::pair<std::string, std::string>> form;
};

// A redirect back from the gateway (its callback), read by the adapter. Only what the gateway
// proves counts: the payment is found by `reference` and then looked up at the gateway.
struct ReturnVisit {
  std::string reference;                 // the payment's gateway reference; empty if rejected
  bool paid_claim = false;               // it says "paid": a FAILED payment is asked again
  std::optional<int64_t> claimed_paisa;  // an amount the gateway signed; another one is audited
  // Non-empty: the visit proves nothing. The reason shown on the app's failure page
  // ("unknown_payment", "invalid_signature"), why (for the log and the audit, no secrets), and
  // the reference it claims unproven, so the attempt goes on that payment's audit trail.
  std::string rejected;
  std::string why;
  std::optional<std::string> claimed_reference;
};

class PaymentGateway {
 public:
  virtual ~PaymentGateway() = default;
  virtual Provider provider() const = 0;
  virtual std::string_view name() const = 0;  // "Khalti", "eSewa": for messages
  // The payment's reference as init shows it and verify may name it ("pidx"); empty: init
  // does not show it and verify takes only payment_id.
  virtual std::string_view reference_field() const { return {}; }
  // Other names verify accepts for reference_field() ("token").
  virtual std::vector<std::string> reference_aliases() const { return {}; }

  // Starts `payment` at the gateway (for eSewa, which has no initiate API: a fresh
  // transaction_uuid). A failure means no reference reached the payer: nobody can pay it.
  virtual GatewayResult<Begun> Begin(const Payment& payment, const BeginRequest& request,
                                     Time now) const = 0;
  // The browser's next step for a started payment (a new one, or an open one offered again).
  // REQUIRES: payment.reference_id.
  virtual Checkout CheckoutFor(const Payment& payment, const ReturnUrls& urls) const = 0;
  // Reads the gateway's redirect back to /billing/{slug}/callback/ from its query.
  virtual ReturnVisit ReadReturn(const std::map<std::string, std::string>& query) const = 0;
  // Looks `payment` up by its stored reference and amount at `now`: `value` when the gateway
  // said something the sdk could map (including "still pending"); a "not paid yet" fails it
  // only once its payer can no longer pay (PaymentTiming). REQUIRES: payment.reference_id.
  virtual GatewayResult<GatewayAnswer> Lookup(const Payment& payment, Time now) const = 0;
};

// "khalti", "esewa": the gateway's part of its routes (/billing/{slug}/...) and of audit texts.
std::string GatewaySlug(Provider provider);

// The adapters the server runs with, by provider; a missing one is a gateway that is off.
// Copies share the adapters (they are immutable and thread-safe).
class PaymentGateways {
 public:
  void Add(std::unique_ptr<PaymentGateway> gateway);  // nullptr: nothing (a gateway that is off)
  const PaymentGateway* For(Provider provider) const;

 private:
  std::vector<std::shared_ptr<const PaymentGateway>> gateways_;
};

// Every gateway the configuration turns on, timed by `timing`. Errors (kValidation naming the
// setting): a gateway URL that is not http(s).
Expected<PaymentGateways> OpenGateways(const Config& config, const PaymentTiming& timing);

// The factories OpenGateways calls, one per adapter file. nullptr: the gateway is off.
Expected<std::unique_ptr<PaymentGateway>> OpenKhaltiGateway(const Config& config,
                                                            const PaymentTiming& timing);
Expected<std::unique_ptr<PaymentGateway>> OpenEsewaGateway(const Config& config,
                                                           const PaymentTiming& timing);

}  // namespace sima::server
