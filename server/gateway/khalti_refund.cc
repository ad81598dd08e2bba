#include "gateway/khalti_refund.h"

#include <httplib.h>

namespace sima::server {
using nlohmann::json;

KhaltiRefunds::KhaltiRefunds(const std::string& refund_base, const std::string& lookup_base,
                             const std::string& secret_key, GatewayTimeouts timeouts)
    : url_(SplitGatewayUrl(refund_base).value_or(GatewayUrl{})),
      authorization_("Key " + secret_key),
      timeouts_(timeouts),
      lookups_(lookup_base, secret_key, timeouts) {}

KhaltiRefunds::~KhaltiRefunds() = default;

Expected<std::string> KhaltiRefunds::RefundBase(const Config& config) {
  std::string base = config.khalti_refund_url;
  if (base.empty()) {
    base = config.khalti_base_url;
    if (!base.empty() && base.back() != '/') base += '/';
    const auto v2 = base.rfind("v2/");
    if (v2 != std::string::npos) base.replace(v2, 3, "merchant-transaction/");
  }
  if (!SplitGatewayUrl(base)) {
    return Error::Validation("KHALTI_REFUND_URL", "KHALTI_REFUND_URL must be an http(s) URL");
  }
  if (base.back() != '/') base += '/';
  return base;
}

KhaltiRefundAnswer KhaltiRefunds::Refund(const KhaltiRefundRequest& request) const {
  KhaltiRefundAnswer out;
  if (url_.origin.empty()) {
    out.detail = "the Khalti refund URL is not an http(s) URL";
    return out;
  }
  // Khalti's transaction ids are letters and digits: anything else is not sent in a path.
  const std::string& id = request.transaction_id;
  const bool plain = !id.empty() && id.size() <= 64 &&
                     id.find_first_not_of(
                         "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                         "0123456789_-") == std::string::npos;
  if (!plain) {
    out.outcome = KhaltiRefundOutcome::kRefused;
    out.detail = "the payment's Khalti transaction_id is not one Khalti gives";
    return out;
  }
  // Only an amount and a mobile go out: an empty body is Khalti's "refund it all".
  json body = json::object();
  if (request.amount) body["amount"] = *request.amount;
  if (request.mobile) body["mobile"] = *request.mobile;
  httplib::Client client(url_.origin);
  client.set_connection_timeout(timeouts_.connect);
  client.set_read_timeout(timeouts_.read);
  client.set_write_timeout(timeouts_.read);
  const httplib::Headers headers{{"Authorization", authorization_}};
  const std::string path = url_.path + id + "/refund/";
  const auto res = client.Post(path, headers, body.empty() ? "" : body.dump(), "application/json");
  if (!res) {
    out.detail = "Khalti did not answer the refund: " + httplib::to_string(res.error());
    return out;
  }
  out.http_status = res->status;
  const json answer = json::parse(res->body, nullptr, false);
  if (res->status >= 500) {
    out.detail = "Khalti answered the refund with HTTP " + std::to_string(res->status);
    return out;
  }
  if (res->status == 200) {
    if (answer.is_object() && answer.contains("detail") && answer["detail"].is_string()) {
      out.outcome = KhaltiRefundOutcome::kRefunded;
      out.detail = answer["detail"].get<std::string>();
    } else {
      out.detail = "Khalti's refund answer (HTTP 200) has no detail";
    }
    return out;
  }
  if (res->status >= 400 && res->status < 500) {
    out.outcome = KhaltiRefundOutcome::kRefused;
    out.detail = "Khalti refused the refund (HTTP " + std::to_string(res->status) +
                 "): " + KhaltiErrorText(answer);
    return out;
  }
  out.detail = "Khalti answered the refund with HTTP " + std::to_string(res->status);
  return out;
}

GatewayResult<KhaltiLookup> KhaltiRefunds::Lookup(const std::string& pidx) const {
  return lookups_.Lookup(pidx);
}

}  // namespace sima::server
