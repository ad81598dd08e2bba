// eSewa ePay v2 behind PaymentGateway: no initiate API — a payment gets a fresh
// transaction_uuid and the browser posts a signed form; eSewa redirects back with signed
// `data` (success) or to the failure target; the status check, asked with the STORED amount,
// decides.
#include "config.h"
#include "gateway/esewa.h"
#include "gateway_adapters.h"
#include "sima/money.h"

namespace sima::server {
namespace {

// A success redirect's `data` longer than this is not eSewa's.
constexpr size_t kMaxData = 8192;

class EsewaGateway final : public PaymentGateway {
 public:
  EsewaGateway(EsewaConfig config, GatewayTimeouts timeouts, const PaymentTiming& timing)
      : config_(std::move(config)), timeouts_(timeouts), timing_(timing) {}

  Provider provider() const override { return Provider::kEsewa; }
  std::string_view name() const override { return "eSewa"; }

  // Unique per attempt (a retry is a new payment), letters, digits and '-' only. The payer can
  // pay until their eSewa session can have ended (ESEWA_SESSION_MINUTES).
  GatewayResult<Begun> Begin(const Payment& payment, const BeginRequest& request,
                             Time /*now*/) const override {
    return GatewayResult<Begun>::Ok(
        Begun{std::to_string(payment.id) + "-" + request.nonce,
              EsewaSessionEnd(payment.created_at, timing_.esewa_session), std::nullopt});
  }

  // The signed form for the payment's transaction_uuid; its failure_url names the payment by
  // its unguessable ref (never the sequential id).
  Checkout CheckoutFor(const Payment& payment, const ReturnUrls& urls) const override {
    return Checkout{config_.form_url,
                    EsewaFormFields(config_, payment.amount_paisa,
                                    payment.reference_id.value_or(""), urls.success, urls.failure)};
  }

  // The signed data only routes us to a payment: it must verify (signature over the literal
  // texts, covered fields, our product code) or it proves nothing.
  ReturnVisit ReadReturn(const std::map<std::string, std::string>& query) const override {
    ReturnVisit visit;
    const auto data = query.find("data");
    if (data == query.end() || data->second.empty() || data->second.size() > kMaxData) {
      visit.rejected = "invalid_signature";
      visit.why = "no data";
      return visit;
    }
    EsewaSuccessCheck checked = CheckEsewaSuccess(config_, data->second);
    if (!checked.value) {
      visit.rejected = "invalid_signature";
      visit.why = std::move(checked.error);
      visit.claimed_reference = std::move(checked.claimed_uuid);
      return visit;
    }
    visit.reference = checked.value->transaction_uuid;
    visit.paid_claim = checked.value->status == "COMPLETE";
    visit.claimed_paisa = checked.value->total_paisa;
    return visit;
  }

  GatewayResult<GatewayAnswer> Lookup(const Payment& payment, Time now) const override {
    const auto checked = CheckEsewaStatus(config_, timeouts_, payment.amount_paisa,
                                          payment.reference_id.value_or(""));
    if (!checked.ok()) return GatewayResult<GatewayAnswer>::Failed(checked);
    const EsewaStatusAnswer& e = *checked.value;
    GatewayAnswer a;
    // The outage body has no status: the sdk keeps the payment pending for the reconciler.
    // NOT_FOUND within the payer's session is "not there yet", not a failure.
    a.outcome = FromEsewaStatusAt(
        e.status ? std::optional<std::string_view>(*e.status) : std::nullopt, e.total_paisa,
        payment.amount_paisa, payment.created_at, now, timing_.esewa_session);
    a.detail = "esewa status=" + e.status.value_or("(none: service unavailable)") +
               " total_amount=" + FormatRupees(e.total_paisa) +
               (e.ref_id ? " ref_id=" + *e.ref_id : "");
    a.transaction_id = e.ref_id;
    return GatewayResult<GatewayAnswer>::Ok(std::move(a));
  }

 private:
  EsewaConfig config_;
  GatewayTimeouts timeouts_;
  PaymentTiming timing_;
};

}  // namespace

Expected<std::unique_ptr<PaymentGateway>> OpenEsewaGateway(const Config& config,
                                                           const PaymentTiming& timing) {
  // Without its secret key eSewa stays off: data signed with an empty key proves nothing.
  if (config.esewa_secret_key.empty()) return std::unique_ptr<PaymentGateway>();
  if (!SplitGatewayUrl(config.esewa_status_url)) {
    return Error::Validation("ESEWA_STATUS_URL", "ESEWA_STATUS_URL must be an http(s) URL");
  }
  if (!SplitGatewayUrl(config.esewa_form_url)) {
    return Error::Validation("ESEWA_FORM_URL", "ESEWA_FORM_URL must be an http(s) URL");
  }
  return std::unique_ptr<PaymentGateway>(std::make_unique<EsewaGateway>(
      EsewaConfig{config.esewa_form_url, config.esewa_status_url, config.esewa_product_code,
                  config.esewa_secret_key},
      GatewayTimeouts::Reading(std::chrono::milliseconds{config.esewa_timeout_ms}), timing));
}

}  // namespace sima::server
