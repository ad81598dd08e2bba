// The gateway adapters: the only gateway-specific part of confirming a payment. An adapter
// looks one stored payment up at its gateway (outside any transaction) and maps the answer
// with the sdk (sima::FromKhaltiLookup, sima::FromEsewaStatus) into a GatewayAnswer. What
// happens next — apply exactly once, answer verify, redirect a browser, reschedule — is the
// shared path in payment_flow.h, the same for every gateway.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "gateway/esewa.h"
#include "gateway/gateway_call.h"
#include "gateway/khalti_client.h"
#include "store.h"

namespace sima::server {

// One look-up: `answer` when the gateway said something the sdk could map (that includes
// "still pending" and eSewa's outage body), else `failure` with a `detail` safe to log and show.
struct GatewayLookup {
  std::optional<GatewayAnswer> answer;
  CallFailure failure = CallFailure::kNone;
  std::string detail;
};

class PaymentGateway {
 public:
  virtual ~PaymentGateway() = default;
  virtual Provider provider() const = 0;
  virtual std::string_view name() const = 0;  // "Khalti", "eSewa": for messages
  // Looks `payment` up by its stored reference and amount at `now` (a "not paid yet" answer
  // fails it only once its payer can no longer pay: sima::FromEsewaStatusAt,
  // sima::FromKhaltiNotFound). REQUIRES: payment.reference_id.
  virtual GatewayLookup Lookup(const Payment& payment, Time now) const = 0;
};

// Khalti ePayment: lookup by pidx.
class KhaltiGateway final : public PaymentGateway {
 public:
  explicit KhaltiGateway(const KhaltiClient& client) : client_(client) {}
  Provider provider() const override { return Provider::kKhalti; }
  std::string_view name() const override { return "Khalti"; }
  GatewayLookup Lookup(const Payment& payment, Time now) const override;
  const KhaltiClient& client() const { return client_; }
  // A pidx without a known expiry lives this long (Khalti's documented production default);
  // "Not found." fails a payment only this long past its expiry.
  static constexpr std::chrono::seconds kPidxLifetime{3600};
  static constexpr std::chrono::seconds kNotFoundGrace{600};

 private:
  const KhaltiClient& client_;
};

// eSewa ePay v2: the status check by transaction_uuid with the STORED amount.
class EsewaGateway final : public PaymentGateway {
 public:
  // `session`: how long after init eSewa's NOT_FOUND may still mean "not there yet"
  // (ESEWA_SESSION_MINUTES).
  EsewaGateway(EsewaConfig config, GatewayTimeouts timeouts,
               std::chrono::seconds session = std::chrono::minutes{60})
      : config_(std::move(config)), timeouts_(timeouts), session_(session) {}
  Provider provider() const override { return Provider::kEsewa; }
  std::string_view name() const override { return "eSewa"; }
  GatewayLookup Lookup(const Payment& payment, Time now) const override;
  const EsewaConfig& config() const { return config_; }
  std::chrono::seconds session() const { return session_; }

 private:
  EsewaConfig config_;
  GatewayTimeouts timeouts_;
  std::chrono::seconds session_;
};

// The adapters the server runs with; a null one is a gateway that is off.
struct PaymentGateways {
  const KhaltiGateway* khalti = nullptr;
  const EsewaGateway* esewa = nullptr;
  const PaymentGateway* For(Provider provider) const {
    switch (provider) {
      case Provider::kKhalti: return khalti;
      case Provider::kEsewa: return esewa;
    }
    return nullptr;
  }
};

}  // namespace sima::server
