#include "gateway/khalti_client.h"

#include <httplib.h>

namespace sima::server {
namespace {

using nlohmann::json;

std::optional<int64_t> Paisa(const json& v) {
  if (v.is_number_integer()) return v.get<int64_t>();
  if (v.is_string()) {  // the docs' samples send amounts as strings
    const std::string& s = v.get_ref<const std::string&>();
    if (s.empty() || s.size() > 18 || s.find_first_not_of("0123456789") != std::string::npos) {
      return std::nullopt;
    }
    return std::stoll(s);
  }
  return std::nullopt;
}

}  // namespace

// Khalti's error bodies: {"detail": "..."} or {"field": ["message"], "error_key": ...}.
std::string KhaltiErrorText(const json& body) {
  if (!body.is_object()) return "no error text";
  if (auto it = body.find("detail"); it != body.end() && it->is_string())
    return it->get<std::string>();
  std::string text;
  for (const auto& [field, value] : body.items()) {
    if (field == "error_key" || field == "status_code") continue;
    if (!text.empty()) text += "; ";
    text += field + ": ";
    if (value.is_array() && !value.empty() && value[0].is_string()) {
      text += value[0].get<std::string>();
    } else if (value.is_string()) {
      text += value.get<std::string>();
    } else {
      text += "invalid";
    }
  }
  return text.empty() ? "no error text" : text;
}

struct KhaltiClient::Raw {
  CallFailure failure = CallFailure::kNone;
  int status = 0;
  json body;
  std::string detail;
};

KhaltiClient::KhaltiClient(const std::string& base_url, std::string secret_key,
                           GatewayTimeouts timeouts)
    : url_(SplitGatewayUrl(base_url).value_or(GatewayUrl{})),
      authorization_("Key " + std::move(secret_key)),
      timeouts_(timeouts) {}

KhaltiClient::~KhaltiClient() = default;

KhaltiClient::Raw KhaltiClient::Post(const std::string& path, const json& body) const {
  Raw raw;
  if (url_.origin.empty()) {
    raw.failure = CallFailure::kUnreachable;
    raw.detail = "KHALTI_BASE_URL is not an http(s) URL";
    return raw;
  }
  httplib::Client client(url_.origin);
  client.set_connection_timeout(timeouts_.connect);
  client.set_read_timeout(timeouts_.read);
  client.set_write_timeout(timeouts_.read);
  const httplib::Headers headers{{"Authorization", authorization_}};
  const auto res = client.Post(url_.path + path, headers, body.dump(), "application/json");
  if (!res) {
    const auto err = res.error();
    raw.failure = FailureOfTransport(static_cast<int>(err));
    raw.detail = "Khalti did not answer: " + httplib::to_string(err);
    return raw;
  }
  raw.status = res->status;
  if (res->status >= 500) {
    raw.failure = CallFailure::kServerError;
    raw.detail = "Khalti answered HTTP " + std::to_string(res->status);
    return raw;
  }
  raw.body = json::parse(res->body, nullptr, false);
  if (raw.body.is_discarded() || !raw.body.is_object()) {
    raw.failure = CallFailure::kMalformed;
    raw.detail = "Khalti's answer (HTTP " + std::to_string(res->status) + ") is not a JSON object";
    raw.body = json();
  }
  return raw;
}

GatewayResult<KhaltiInitiated> KhaltiClient::Initiate(const KhaltiInitiateRequest& r) const {
  json body = {{"return_url", r.return_url},
               {"website_url", r.website_url},
               {"amount", r.amount_paisa},
               {"purchase_order_id", r.purchase_order_id},
               {"purchase_order_name", r.purchase_order_name}};
  if (r.customer_info) body["customer_info"] = *r.customer_info;
  if (!r.amount_breakdown.empty()) {
    json lines = json::array();
    for (const QuoteLine& line : r.amount_breakdown) {
      lines.push_back({{"label", line.label}, {"amount", line.paisa}});
    }
    body["amount_breakdown"] = std::move(lines);
  }
  Raw raw = Post("epayment/initiate/", body);
  GatewayResult<KhaltiInitiated> out{std::nullopt, raw.failure, raw.status, raw.detail};
  if (raw.failure != CallFailure::kNone) return out;
  if (raw.status != 200) {
    out.failure = CallFailure::kRejected;
    out.detail = "Khalti refused the payment (HTTP " + std::to_string(raw.status) +
                 "): " + KhaltiErrorText(raw.body);
    return out;
  }
  const auto pidx = raw.body.find("pidx");
  const auto url = raw.body.find("payment_url");
  if (pidx == raw.body.end() || !pidx->is_string() || pidx->get_ref<const std::string&>().empty() ||
      url == raw.body.end() || !url->is_string()) {
    out.failure = CallFailure::kMalformed;
    out.detail = "Khalti's initiate answer has no pidx or payment_url";
    return out;
  }
  KhaltiInitiated v{pidx->get<std::string>(), url->get<std::string>(), std::nullopt};
  if (auto e = raw.body.find("expires_at"); e != raw.body.end() && e->is_string()) {
    v.expires_at = ParseTime(e->get<std::string>());
  }
  out.value = std::move(v);
  return out;
}

GatewayResult<KhaltiLookup> KhaltiClient::Lookup(const std::string& pidx) const {
  Raw raw = Post("epayment/lookup/", json{{"pidx", pidx}});
  GatewayResult<KhaltiLookup> out{std::nullopt, raw.failure, raw.status, raw.detail};
  if (raw.failure != CallFailure::kNone) return out;
  const auto status = raw.body.find("status");
  // Expired and User canceled come with HTTP 400 and the usual body: an answer.
  if (status == raw.body.end() || !status->is_string()) {
    out.failure = raw.status == 200 ? CallFailure::kMalformed : CallFailure::kRejected;
    out.detail = raw.status == 200
                     ? "Khalti's lookup answer has no status"
                     : "Khalti refused the lookup (HTTP " + std::to_string(raw.status) +
                           "): " + KhaltiErrorText(raw.body);
    return out;
  }
  KhaltiLookup v;
  v.pidx = pidx;
  v.status = status->get<std::string>();
  if (auto a = raw.body.find("total_amount"); a != raw.body.end()) {
    const auto paisa = Paisa(*a);
    if (!paisa) {
      out.failure = CallFailure::kMalformed;
      out.detail = "Khalti's lookup answer has an unreadable total_amount";
      return out;
    }
    v.total_amount = *paisa;
  }
  if (auto t = raw.body.find("transaction_id"); t != raw.body.end() && t->is_string()) {
    v.transaction_id = t->get<std::string>();
  }
  if (auto f = raw.body.find("refunded"); f != raw.body.end() && f->is_boolean()) {
    v.refunded = f->get<bool>();
  }
  out.value = std::move(v);
  return out;
}

}  // namespace sima::server
