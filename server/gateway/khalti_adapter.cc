// Khalti ePayment (KPG-2) behind PaymentGateway: initiate gives a pidx and a payment_url the
// browser is sent to; Khalti redirects back with ?pidx=&status=; the lookup API decides.
#include "config.h"
#include "gateway/khalti_client.h"
#include "gateway_adapters.h"

namespace sima::server {
namespace {

class KhaltiGateway final : public PaymentGateway {
 public:
  KhaltiGateway(const std::string& base_url, std::string secret_key, GatewayTimeouts timeouts,
                const PaymentTiming& timing)
      : client_(base_url, std::move(secret_key), timeouts), timing_(timing) {}

  Provider provider() const override { return Provider::kKhalti; }
  std::string_view name() const override { return "Khalti"; }
  std::string_view reference_field() const override { return "pidx"; }
  std::vector<std::string> reference_aliases() const override { return {"token"}; }

  GatewayResult<Begun> Begin(const Payment& payment, const BeginRequest& request,
                             Time /*now*/) const override {
    KhaltiInitiateRequest initiate;
    initiate.return_url = request.urls.success;
    initiate.website_url = request.urls.website;
    initiate.amount_paisa = payment.amount_paisa;
    initiate.purchase_order_id = payment.purchase_order_id;
    initiate.purchase_order_name = request.description;
    initiate.amount_breakdown = payment.breakdown;
    const auto initiated = client_.Initiate(initiate);
    if (!initiated.ok()) return GatewayResult<Begun>::Failed(initiated);
    const KhaltiInitiated& k = *initiated.value;
    return GatewayResult<Begun>::Ok(Begun{k.pidx, k.expires_at, k.payment_url});
  }

  Checkout CheckoutFor(const Payment& payment, const ReturnUrls& /*urls*/) const override {
    return Checkout{payment.payment_url.value_or(""), {}};
  }

  // Only the pidx counts (unguessable, Khalti's own); purchase_order_id and the rest of the
  // query are not trusted. status=Completed is a paid claim.
  ReturnVisit ReadReturn(const std::map<std::string, std::string>& query) const override {
    ReturnVisit visit;
    const auto pidx = query.find("pidx");
    if (pidx == query.end() || pidx->second.empty() || pidx->second.size() > 200) {
      visit.rejected = "unknown_payment";
      visit.why = "no pidx";
      return visit;
    }
    visit.reference = pidx->second;
    const auto status = query.find("status");
    visit.paid_claim = status != query.end() && status->second == "Completed";
    return visit;
  }

  GatewayResult<GatewayAnswer> Lookup(const Payment& payment, Time now) const override {
    const auto lookup = client_.Lookup(payment.reference_id.value_or(""));
    if (!lookup.ok() && lookup.failure == CallFailure::kRejected &&
        (lookup.http_status == 404 || lookup.detail.find("Not found.") != std::string::npos)) {
      // Khalti does not know the pidx it gave us: not proof of failure before it expires.
      GatewayAnswer a;
      a.outcome = FromKhaltiNotFound(payment.expires_at, payment.created_at, now,
                                     timing_.khalti_pidx_lifetime, timing_.khalti_not_found_grace);
      a.detail = "khalti lookup: Not found.";
      return GatewayResult<GatewayAnswer>::Ok(std::move(a));
    }
    if (!lookup.ok()) return GatewayResult<GatewayAnswer>::Failed(lookup);
    const KhaltiLookup& k = *lookup.value;
    GatewayAnswer a;
    a.outcome = FromKhaltiLookup(k.status, k.total_amount, payment.amount_paisa);
    a.detail = "khalti status=" + k.status + " total_amount=" + std::to_string(k.total_amount);
    a.transaction_id = k.transaction_id;
    return GatewayResult<GatewayAnswer>::Ok(std::move(a));
  }

 private:
  KhaltiClient client_;
  PaymentTiming timing_;
};

}  // namespace

Expected<std::unique_ptr<PaymentGateway>> OpenKhaltiGateway(const Config& config,
                                                            const PaymentTiming& timing) {
  if (!SplitGatewayUrl(config.khalti_base_url)) {
    return Error::Validation("KHALTI_BASE_URL", "KHALTI_BASE_URL must be an http(s) URL");
  }
  return std::unique_ptr<PaymentGateway>(std::make_unique<KhaltiGateway>(
      config.khalti_base_url, config.khalti_secret_key,
      GatewayTimeouts::Reading(std::chrono::milliseconds{config.khalti_timeout_ms}), timing));
}

}  // namespace sima::server
