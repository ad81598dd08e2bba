#include "gateway_adapters.h"

#include "config.h"

namespace sima::server {

std::string GatewaySlug(Provider provider) {
  std::string slug(to_string(provider));
  for (char& c : slug) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return slug;
}

void PaymentGateways::Add(std::unique_ptr<PaymentGateway> gateway) {
  if (gateway) gateways_.push_back(std::move(gateway));
}

const PaymentGateway* PaymentGateways::For(Provider provider) const {
  for (const auto& g : gateways_) {
    if (g->provider() == provider) return g.get();
  }
  return nullptr;
}

Expected<PaymentGateways> OpenGateways(const Config& config, const PaymentTiming& timing) {
  PaymentGateways out;
  for (auto open : {OpenKhaltiGateway, OpenEsewaGateway}) {
    auto gateway = open(config, timing);
    if (!gateway) return gateway.error();
    out.Add(std::move(gateway).value());
  }
  return out;
}

}  // namespace sima::server
