#include "gateway/esewa.h"

#include <httplib.h>

#include <algorithm>

#include "sima/crypto.h"
#include "sima/esewa_signature.h"
#include "sima/money.h"

namespace sima::server {
namespace {

using nlohmann::json;

constexpr RupeeFormat kFormAmount{.thousands = false, .min_decimals = 0};

}  // namespace

std::vector<std::pair<std::string, std::string>> EsewaFormFields(
    const EsewaConfig& config, int64_t amount_paisa, const std::string& transaction_uuid,
    const std::string& success_url, const std::string& failure_url) {
  const std::string amount = FormatRupees(amount_paisa, kFormAmount);
  const std::string names = "total_amount,transaction_uuid,product_code";
  const std::string message = "total_amount=" + amount + ",transaction_uuid=" + transaction_uuid +
                              ",product_code=" + config.product_code;
  return {{"amount", amount},
          {"tax_amount", "0"},
          {"product_service_charge", "0"},
          {"product_delivery_charge", "0"},
          {"total_amount", amount},
          {"transaction_uuid", transaction_uuid},
          {"product_code", config.product_code},
          {"success_url", success_url},
          {"failure_url", failure_url},
          {"signed_field_names", names},
          {"signature", crypto::EsewaSign(config.secret_key, message)}};
}

EsewaSuccessCheck CheckEsewaSuccess(const EsewaConfig& config, std::string data) {
  EsewaSuccessCheck out;
  std::replace(data.begin(), data.end(), ' ', '+');
  const auto decoded = crypto::Base64Decode(data);
  if (!decoded) {
    out.error = "data is not Base64";
    return out;
  }
  const json j = json::parse(*decoded, nullptr, false);
  if (j.is_discarded() || !j.is_object()) {
    out.error = "data is not a JSON object";
    return out;
  }
  if (const auto uuid = j.find("transaction_uuid"); uuid != j.end() && uuid->is_string()) {
    const std::string& claimed = uuid->get_ref<const std::string&>();
    if (!claimed.empty() && claimed.size() <= 200) out.claimed_uuid = claimed;
  }
  const auto text = [&j](std::string_view name) -> std::optional<std::string> {
    const auto it = j.find(name);
    if (it == j.end()) return std::nullopt;
    if (it->is_string()) return it->get<std::string>();
    if (it->is_number_integer()) return std::to_string(it->get<int64_t>());
    return std::nullopt;  // a float has no literal text left to check a signature over
  };
  const auto names_text = text("signed_field_names");
  const auto signature = text("signature");
  if (!names_text || !signature) {
    out.error = "data has no signed_field_names or signature";
    return out;
  }
  const auto names = crypto::SplitSignedFieldNames(*names_text);
  for (const char* must : {"transaction_uuid", "total_amount", "product_code", "status"}) {
    if (std::find(names.begin(), names.end(), must) == names.end()) {
      out.error = std::string("signed_field_names does not cover ") + must;
      return out;
    }
  }
  const auto message = crypto::EsewaSigningMessage(names, text);
  if (!message) {
    out.error = "signed_field_names names a field the data does not have";
    return out;
  }
  bool verified = crypto::EsewaVerify(config.secret_key, *message, *signature);
  const std::string total_text = text("total_amount").value_or("");
  if (!verified && total_text.find(',') != std::string::npos) {
    std::string plain = total_text;
    std::erase(plain, ',');
    const auto without_commas = crypto::EsewaSigningMessage(
        names, [&](std::string_view name) -> std::optional<std::string> {
          return name == "total_amount" ? std::optional<std::string>(plain) : text(name);
        });
    verified =
        without_commas && crypto::EsewaVerify(config.secret_key, *without_commas, *signature);
  }
  if (!verified) {
    out.error = "the signature does not match";
    return out;
  }
  EsewaSuccess s;
  s.transaction_code = text("transaction_code").value_or("");
  s.status = text("status").value_or("");
  s.transaction_uuid = text("transaction_uuid").value_or("");
  s.product_code = text("product_code").value_or("");
  const auto paisa = ParseRupees(total_text, /*allow_thousands=*/true);
  if (!paisa) {
    out.error = "total_amount is not an amount";
    return out;
  }
  s.total_paisa = *paisa;
  if (s.product_code != config.product_code) {
    out.error = "product_code is not ours";
    return out;
  }
  out.value = std::move(s);
  return out;
}

GatewayResult<EsewaStatusAnswer> CheckEsewaStatus(const EsewaConfig& config,
                                                  GatewayTimeouts timeouts, int64_t total_paisa,
                                                  const std::string& transaction_uuid) {
  GatewayResult<EsewaStatusAnswer> out;
  const auto url = SplitGatewayUrl(config.status_url);
  if (!url) {
    out.failure = CallFailure::kUnreachable;
    out.detail = "ESEWA_STATUS_URL is not an http(s) URL";
    return out;
  }
  httplib::Client client(url->origin);
  client.set_connection_timeout(timeouts.connect);
  client.set_read_timeout(timeouts.read);
  const httplib::Params query{{"product_code", config.product_code},
                              {"total_amount", FormatRupees(total_paisa, kFormAmount)},
                              {"transaction_uuid", transaction_uuid}};
  const auto res = client.Get(url->path, query, httplib::Headers{});
  if (!res) {
    const auto err = res.error();
    out.failure = FailureOfTransport(static_cast<int>(err));
    out.detail = "eSewa did not answer: " + httplib::to_string(err);
    return out;
  }
  out.http_status = res->status;
  if (res->status >= 500) {
    out.failure = CallFailure::kServerError;
    out.detail = "eSewa answered HTTP " + std::to_string(res->status);
    return out;
  }
  const json j = json::parse(res->body, nullptr, false);
  if (j.is_discarded() || !j.is_object()) {
    out.failure = CallFailure::kMalformed;
    out.detail =
        "eSewa's status answer (HTTP " + std::to_string(res->status) + ") is not a JSON object";
    return out;
  }
  EsewaStatusAnswer a;
  // An answer about another payment or merchant must never decide this one.
  for (const auto& [field, ours] :
       {std::pair<const char*, const std::string*>{"transaction_uuid", &transaction_uuid},
        {"product_code", &config.product_code}}) {
    const auto it = j.find(field);
    if (it != j.end() && (!it->is_string() || it->get_ref<const std::string&>() != *ours)) {
      out.failure = CallFailure::kMalformed;
      out.detail = std::string("eSewa's status answer names another ") + field;
      return out;
    }
  }
  if (const auto s = j.find("status"); s != j.end()) {
    if (!s->is_string()) {
      out.failure = CallFailure::kMalformed;
      out.detail = "eSewa's status is not a string";
      return out;
    }
    a.status = s->get<std::string>();
  } else if (res->status != 200 || !j.contains("error_message")) {
    out.failure = res->status == 200 ? CallFailure::kMalformed : CallFailure::kRejected;
    out.detail = "eSewa's status answer (HTTP " + std::to_string(res->status) + ") has no status";
    return out;
  }
  // The outage body {"code":0,"error_message":...} has no status: a.status stays nullopt.
  if (const auto t = j.find("total_amount"); t != j.end()) {
    if (t->is_number()) {
      // A JSON number such as 100.0: round to paisa (it is a decimal rupee amount).
      a.total_paisa =
          static_cast<int64_t>(t->get<double>() * 100.0 + (t->get<double>() >= 0 ? 0.5 : -0.5));
    } else if (t->is_string()) {
      a.total_paisa = ParseRupees(t->get<std::string>(), true).value_or(-1);
    }
  }
  if (const auto r = j.find("ref_id"); r != j.end() && r->is_string())
    a.ref_id = r->get<std::string>();
  out.value = std::move(a);
  return out;
}

}  // namespace sima::server
