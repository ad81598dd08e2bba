// Khalti ePayment API: POST /api/v2/epayment/initiate/ and /lookup/ (spec §1.2-§1.6), and the
// refund API POST /api/merchant-transaction/{transaction_id}/refund/ (spec §6).
#include <charconv>
#include <cmath>
#include <cstdint>

#include "context.h"
#include "ids.h"
#include "khalti_flow.h"
#include "responses.h"
#include "sima/expected.h"
#include "sima/text.h"
#include "timefmt.h"
#include "url.h"

namespace sima::simulator {
namespace {

using json = nlohmann::json;

// What DRF strips from a field (Python's str.strip() on the characters seen in practice).
constexpr std::string_view kDrfSpace = " \t\r\n";

std::string DrfTrim(std::string_view text) { return std::string(Trim(text, kDrfSpace)); }

// An answer refusing the request: the HTTP status and the JSON body DRF would send.
struct Refusal {
  int status = 400;
  json body;
};

// DRF TokenAuthentication with keyword "Key" (case-insensitive, as the samples use "key").
// Returns the 401 body, or nullopt when the key is the configured one.
std::optional<json> AuthError(const httplib::Request& req, const std::string& secret) {
  const json not_provided = {{"detail", "Authentication credentials were not provided."},
                             {"status_code", 401}};
  const json invalid = {{"detail", "Invalid token."}, {"status_code", 401}};
  const std::string header = DrfTrim(req.get_header_value("Authorization"));
  const auto space = header.find(' ');
  if (space == std::string::npos) return not_provided;
  if (!EqualsIgnoreCase(header.substr(0, space), "key")) return not_provided;
  const std::string token = DrfTrim(header.substr(space + 1));
  if (token.empty()) return not_provided;
  if (token != secret) return invalid;
  return std::nullopt;
}

// DRF IntegerField: integers, integral floats, and strings like "1000" or "1000.0".
std::optional<int64_t> ParseInteger(const json& v) {
  if (v.is_number_integer()) {
    if (v.is_number_unsigned() && v.get<uint64_t>() > 1000000000000000ULL) return std::nullopt;
    return v.get<int64_t>();
  }
  if (v.is_number_float()) {
    const double d = v.get<double>();
    if (std::floor(d) != d || std::fabs(d) > 1e15) return std::nullopt;
    return static_cast<int64_t>(d);
  }
  if (v.is_string()) {
    const std::string s = DrfTrim(v.get<std::string>());
    std::size_t i = (!s.empty() && (s[0] == '+' || s[0] == '-')) ? 1 : 0;
    const std::size_t digits_start = i;
    while (i < s.size() && IsAsciiDigit(s[i])) ++i;
    const std::size_t digits = i - digits_start;
    if (digits == 0 || digits > 15) return std::nullopt;
    if (i < s.size()) {  // only ".0*" may follow
      if (s[i] != '.') return std::nullopt;
      for (++i; i < s.size(); ++i) {
        if (s[i] != '0') return std::nullopt;
      }
    }
    // At most 15 digits after an optional sign: always fits. from_chars takes no '+'.
    int64_t n = 0;
    std::from_chars(s.data() + (s[0] == '+' ? 1 : 0), s.data() + digits_start + digits, n);
    return n;
  }
  return std::nullopt;
}

// A CharField value: strings trimmed, numbers as text; nullopt for objects/arrays.
std::optional<std::string> CharField(const json& body, const char* name) {
  if (!body.contains(name) || body[name].is_null()) return std::string();
  const json& v = body[name];
  if (v.is_string()) return DrfTrim(v.get<std::string>());
  if (v.is_number() || v.is_boolean()) return v.dump();
  return std::nullopt;
}

std::string TypeName(const json& v) {
  if (v.is_array()) return "list";
  if (v.is_string()) return "str";
  if (v.is_boolean()) return "bool";
  if (v.is_number_integer()) return "int";
  if (v.is_number_float()) return "float";
  return "NoneType";
}

// The parser's own words on why `text` is not JSON, read without exceptions (a SAX handler
// that only listens for the error).
std::string ParseErrorOf(const std::string& text) {
  struct ErrorOnly final : nlohmann::json_sax<json> {
    bool null() override { return true; }
    bool boolean(bool) override { return true; }
    bool number_integer(number_integer_t) override { return true; }
    bool number_unsigned(number_unsigned_t) override { return true; }
    bool number_float(number_float_t, const string_t&) override { return true; }
    bool string(string_t&) override { return true; }
    bool binary(binary_t&) override { return true; }
    bool start_object(std::size_t) override { return true; }
    bool key(string_t&) override { return true; }
    bool end_object() override { return true; }
    bool start_array(std::size_t) override { return true; }
    bool end_array() override { return true; }
    bool parse_error(std::size_t, const std::string&,
                     const nlohmann::detail::exception& e) override {
      what = e.what();
      return false;
    }
    std::string what = "Expecting value: line 1 column 1 (char 0)";
  } sax;
  json::sax_parse(text, &sax);
  return sax.what;
}

// The body as DRF's JSONParser reads it, or the 400 it answers.
Expected<json, Refusal> ParseBody(const httplib::Request& req) {
  json body = json::parse(req.body, nullptr, false);
  if (body.is_discarded()) {
    return Refusal{400, json{{"detail", "JSON parse error - " + ParseErrorOf(req.body)}}};
  }
  if (!body.is_object()) {
    return Refusal{400,
                   json{{"non_field_errors",
                         {"Invalid data. Expected a dictionary, but got " + TypeName(body) + "."}},
                        {"error_key", "validation_error"}}};
  }
  return body;
}

void Initiate(Simulator::Impl& sim, const httplib::Request& req, httplib::Response& res) {
  int delay_ms = 0;
  bool fail = false;
  {
    std::lock_guard<std::mutex> lock(sim.mu);
    delay_ms = sim.faults.initiate_delay_ms;
    fail = sim.faults.initiate_http_500.Take();
  }
  sim.Delay(delay_ms);
  if (fail) return SendServerError(res);
  if (auto error = AuthError(req, sim.options.khalti_secret_key)) return SendJson(res, 401, *error);
  const auto parsed = ParseBody(req);
  if (!parsed) return SendJson(res, parsed.error().status, parsed.error().body);
  const json& body = *parsed;

  json errors = json::object();
  auto add = [&errors](const std::string& field, const std::string& message) {
    errors[field].push_back(message);
  };
  const char* blank = "This field may not be blank.";
  std::string fields[4];
  const char* names[4] = {"return_url", "website_url", "purchase_order_id", "purchase_order_name"};
  for (int i = 0; i < 4; ++i) {
    auto value = CharField(body, names[i]);
    if (!value) {
      add(names[i], "Not a valid string.");
    } else if (value->empty()) {
      add(names[i], blank);
    } else if (i < 2 && !IsValidUrl(*value)) {
      add(names[i], "Enter a valid URL.");
    } else {
      fields[i] = *value;
    }
  }
  std::optional<int64_t> amount;
  if (!body.contains("amount") || body["amount"].is_null()) {
    add("amount", "This field is required.");
  } else if (!(amount = ParseInteger(body["amount"]))) {
    add("amount", "A valid integer is required.");
  } else if (*amount < 1000) {
    add("amount", "Amount should be greater than Rs. 10, that is 1000 paisa.");
  } else if (body.contains("amount_breakdown") && !body["amount_breakdown"].is_null()) {
    const json& parts = body["amount_breakdown"];
    int64_t sum = 0;
    bool ok = parts.is_array();
    if (ok) {
      for (const auto& part : parts) {
        std::optional<int64_t> a;
        if (part.is_object() && part.contains("amount")) a = ParseInteger(part["amount"]);
        if (!a)
          ok = false;
        else
          sum += *a;
      }
    }
    if (!ok || sum != *amount) add("amount", "Amount Breakdown mismatch.");
  }
  if (!errors.empty()) {
    errors["error_key"] = "validation_error";
    return SendJson(res, 400, errors);
  }

  KhaltiPayment p;
  p.pidx = NewKhaltiId();
  p.amount_paisa = *amount;
  p.return_url = fields[0];
  p.website_url = fields[1];
  p.purchase_order_id = fields[2];
  p.purchase_order_name = fields[3];
  if (body.contains("customer_info")) p.customer_info = body["customer_info"];
  for (const auto& [key, value] : body.items()) {
    if (key.rfind("merchant_", 0) == 0) p.merchant_extra[key] = value;
  }
  p.created_at = sim.Now();
  p.expires_at = p.created_at + sim.options.khalti_expiry;

  nlohmann::ordered_json out;
  out["pidx"] = p.pidx;
  out["payment_url"] = sim.public_url + "/khalti/pay/?pidx=" + p.pidx;
  out["expires_at"] = FormatNepalTime(p.expires_at);
  out["expires_in"] = sim.options.khalti_expiry.count();
  {
    std::lock_guard<std::mutex> lock(sim.mu);
    sim.khalti[p.pidx] = std::move(p);
  }
  SendJson(res, 200, out);
}

void Lookup(Simulator::Impl& sim, const httplib::Request& req, httplib::Response& res) {
  ++sim.khalti_lookups;
  int delay_ms = 0;
  {
    std::lock_guard<std::mutex> lock(sim.mu);
    delay_ms = sim.faults.lookup_delay_ms;
  }
  sim.Delay(delay_ms);
  std::unique_lock<std::mutex> lock(sim.mu);
  if (sim.faults.lookup_reset.Take()) return SendReset(res);
  if (sim.faults.lookup_http_500.Take()) return SendServerError(res);
  const bool malformed = sim.faults.lookup_malformed.Take();
  const int64_t delta_paisa = sim.faults.amount_delta_paisa;
  lock.unlock();

  int status = 200;
  json body;
  nlohmann::ordered_json found;
  if (auto error = AuthError(req, sim.options.khalti_secret_key)) {
    status = 401;
    body = *error;
  } else if (const auto parsed = ParseBody(req); !parsed) {
    return SendJson(res, parsed.error().status, parsed.error().body);
  } else if (!parsed->contains("pidx") || !(*parsed)["pidx"].is_string() ||
             (*parsed)["pidx"].get<std::string>().empty()) {
    status = 400;
    body = {{"pidx", {"This field is required."}}, {"error_key", "validation_error"}};
  } else {
    lock.lock();
    auto it = sim.khalti.find((*parsed)["pidx"].get<std::string>());
    if (it == sim.khalti.end()) {
      status = 404;
      body = {{"detail", "Not found."}, {"error_key", "validation_error"}};
    } else {
      KhaltiRefresh(it->second, sim.Now());
      found = KhaltiLookupBody(it->second, delta_paisa);
      status = KhaltiLookupHttpStatus(it->second.status);
    }
    lock.unlock();
  }
  const std::string text = found.is_null() ? body.dump() : found.dump();
  if (malformed) return SendTruncated(res, text);
  res.status = status;
  res.set_content(text, "application/json");
}

// Refund (spec §6): an empty body refunds what is left, {"amount": paisa} a part; `mobile` is
// accepted (Khalti asks it for bank payments; the simulator does not tell bank from wallet).
// Khalti does not publish its error bodies: these are DRF-shaped, and a test can read them.
void Refund(Simulator::Impl& sim, const httplib::Request& req, httplib::Response& res) {
  int delay_ms = 0;
  bool fail = false;
  bool refuse = false;
  {
    std::lock_guard<std::mutex> lock(sim.mu);
    delay_ms = sim.faults.refund_delay_ms;
    fail = sim.faults.refund_http_500.Take();
    refuse = !fail && sim.faults.refund_refuse.Take();
  }
  if (fail) return SendServerError(res);
  if (auto error = AuthError(req, sim.options.khalti_secret_key)) return SendJson(res, 401, *error);
  json body = json::object();
  if (!DrfTrim(req.body).empty()) {
    const auto parsed = ParseBody(req);
    if (!parsed) return SendJson(res, parsed.error().status, parsed.error().body);
    body = *parsed;
  }
  std::optional<int64_t> amount;
  if (body.contains("amount") && !body["amount"].is_null()) {
    amount = ParseInteger(body["amount"]);
    if (!amount || *amount <= 0) {
      return SendJson(
          res, 400,
          json{{"amount", {"A valid integer is required."}}, {"error_key", "validation_error"}});
    }
  }
  if (refuse) {
    return SendJson(
        res, 400,
        json{{"detail", "Refund could not be processed."}, {"error_key", "validation_error"}});
  }
  const std::string transaction_id = req.matches[1];
  {
    std::lock_guard<std::mutex> lock(sim.mu);
    KhaltiPayment* found = nullptr;
    for (auto& [pidx, p] : sim.khalti) {
      if (!p.transaction_id.empty() && p.transaction_id == transaction_id) found = &p;
    }
    if (found == nullptr) {
      return SendJson(res, 404, json{{"detail", "Not found."}, {"error_key", "validation_error"}});
    }
    KhaltiPayment& p = *found;
    KhaltiRefresh(p, sim.Now());
    if (p.status == "Refunded") {
      return SendJson(
          res, 400,
          json{{"detail", "Transaction already refunded."}, {"error_key", "validation_error"}});
    }
    if (p.status != "Completed" && p.status != "Partially Refunded") {
      return SendJson(
          res, 400,
          json{{"detail", "Transaction is not refundable."}, {"error_key", "validation_error"}});
    }
    const int64_t left = p.amount_paisa - p.refunded_paisa;
    const int64_t give = amount.value_or(left);
    if (give > left) {
      return SendJson(res, 400,
                      json{{"amount", {"Refund amount exceeds the refundable amount."}},
                           {"error_key", "validation_error"}});
    }
    p.refunded_paisa += give;
    p.status = p.refunded_paisa == p.amount_paisa ? "Refunded" : "Partially Refunded";
  }
  // Made: a client that gives up before the answer does not know it (the unknown case).
  sim.Delay(delay_ms);
  SendJson(res, 200, json{{"detail", "Transaction refund successful."}});
}

}  // namespace

void InstallKhaltiApi(Simulator::Impl& sim) {
  sim.server.Post(
      R"(/api/v2/epayment/initiate/?)",
      [&sim](const httplib::Request& req, httplib::Response& res) { Initiate(sim, req, res); });
  sim.server.Post(
      R"(/api/v2/epayment/lookup/?)",
      [&sim](const httplib::Request& req, httplib::Response& res) { Lookup(sim, req, res); });
  sim.server.Post(
      R"(/api/merchant-transaction/([^/]+)/refund/?)",
      [&sim](const httplib::Request& req, httplib::Response& res) { Refund(sim, req, res); });
}

}  // namespace sima::simulator
