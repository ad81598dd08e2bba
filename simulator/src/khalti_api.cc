// Khalti ePayment API: POST /api/v2/epayment/initiate/ and /lookup/ (spec §1.2-§1.6).
#include <cctype>
#include <cmath>

#include "context.h"
#include "ids.h"
#include "khalti_flow.h"
#include "responses.h"
#include "timefmt.h"
#include "url.h"

namespace sima::sim {
namespace {

using json = nlohmann::json;

std::string trim(std::string s) {
  const auto first = s.find_first_not_of(" \t\r\n");
  if (first == std::string::npos) return "";
  return s.substr(first, s.find_last_not_of(" \t\r\n") - first + 1);
}

// DRF TokenAuthentication with keyword "Key" (case-insensitive, as the samples use "key").
// Returns the 401 body, or nullopt when the key is the configured one.
std::optional<json> auth_error(const httplib::Request& req, const std::string& secret) {
  const json not_provided = {{"detail", "Authentication credentials were not provided."},
                             {"status_code", 401}};
  const json invalid = {{"detail", "Invalid token."}, {"status_code", 401}};
  const std::string header = trim(req.get_header_value("Authorization"));
  const auto space = header.find(' ');
  if (space == std::string::npos) return not_provided;
  std::string scheme = header.substr(0, space);
  for (auto& c : scheme) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (scheme != "key") return not_provided;
  const std::string token = trim(header.substr(space + 1));
  if (token.empty()) return not_provided;
  if (token != secret) return invalid;
  return std::nullopt;
}

// DRF IntegerField: integers, integral floats, and strings like "1000" or "1000.0".
std::optional<long long> parse_integer(const json& v) {
  if (v.is_number_integer()) {
    if (v.is_number_unsigned() && v.get<unsigned long long>() > 1000000000000000ULL) {
      return std::nullopt;
    }
    return v.get<long long>();
  }
  if (v.is_number_float()) {
    const double d = v.get<double>();
    if (std::floor(d) != d || std::fabs(d) > 1e15) return std::nullopt;
    return static_cast<long long>(d);
  }
  if (v.is_string()) {
    const std::string s = trim(v.get<std::string>());
    std::size_t i = (!s.empty() && (s[0] == '+' || s[0] == '-')) ? 1 : 0;
    const std::size_t digits_start = i;
    while (i < s.size() && std::isdigit(static_cast<unsigned char>(s[i]))) ++i;
    const std::size_t digits = i - digits_start;
    if (digits == 0 || digits > 15) return std::nullopt;
    if (i < s.size()) {  // only ".0*" may follow
      if (s[i] != '.') return std::nullopt;
      for (++i; i < s.size(); ++i) {
        if (s[i] != '0') return std::nullopt;
      }
    }
    return std::stoll(s.substr(0, digits_start + digits));
  }
  return std::nullopt;
}

// A CharField value: strings trimmed, numbers as text; nullopt for objects/arrays.
std::optional<std::string> char_field(const json& body, const char* name) {
  if (!body.contains(name) || body[name].is_null()) return std::string();
  const json& v = body[name];
  if (v.is_string()) return trim(v.get<std::string>());
  if (v.is_number() || v.is_boolean()) return v.dump();
  return std::nullopt;
}

std::string type_name(const json& v) {
  if (v.is_array()) return "list";
  if (v.is_string()) return "str";
  if (v.is_boolean()) return "bool";
  if (v.is_number_integer()) return "int";
  if (v.is_number_float()) return "float";
  return "NoneType";
}

// Parses the body as DRF's JSONParser would; on failure writes the 400 and returns nullopt.
std::optional<json> parse_body(const httplib::Request& req, httplib::Response& res) {
  json body = json::parse(req.body, nullptr, false);
  if (body.is_discarded()) {
    std::string why = "Expecting value: line 1 column 1 (char 0)";
    try {
      const json strict = json::parse(req.body);
      (void)strict;
    } catch (const json::parse_error& e) {
      why = e.what();
    }
    send_json(res, 400, json{{"detail", "JSON parse error - " + why}});
    return std::nullopt;
  }
  if (!body.is_object()) {
    send_json(res, 400,
              json{{"non_field_errors",
                    {"Invalid data. Expected a dictionary, but got " + type_name(body) + "."}},
                   {"error_key", "validation_error"}});
    return std::nullopt;
  }
  return body;
}

void initiate(Simulator::Impl& sim, const httplib::Request& req, httplib::Response& res) {
  int delay_ms = 0;
  bool fail = false;
  {
    std::lock_guard<std::mutex> lock(sim.mu);
    delay_ms = sim.faults.initiate_delay_ms;
    fail = sim.faults.initiate_http_500.take();
  }
  sim.delay(delay_ms);
  if (fail) return send_server_error(res);
  if (auto error = auth_error(req, sim.options.khalti_secret_key))
    return send_json(res, 401, *error);
  auto parsed = parse_body(req, res);
  if (!parsed) return;
  const json& body = *parsed;

  json errors = json::object();
  auto add = [&errors](const std::string& field, const std::string& message) {
    errors[field].push_back(message);
  };
  const char* blank = "This field may not be blank.";
  std::string fields[4];
  const char* names[4] = {"return_url", "website_url", "purchase_order_id", "purchase_order_name"};
  for (int i = 0; i < 4; ++i) {
    auto value = char_field(body, names[i]);
    if (!value) {
      add(names[i], "Not a valid string.");
    } else if (value->empty()) {
      add(names[i], blank);
    } else if (i < 2 && !is_valid_url(*value)) {
      add(names[i], "Enter a valid URL.");
    } else {
      fields[i] = *value;
    }
  }
  std::optional<long long> amount;
  if (!body.contains("amount") || body["amount"].is_null()) {
    add("amount", "This field is required.");
  } else if (!(amount = parse_integer(body["amount"]))) {
    add("amount", "A valid integer is required.");
  } else if (*amount < 1000) {
    add("amount", "Amount should be greater than Rs. 10, that is 1000 paisa.");
  } else if (body.contains("amount_breakdown") && !body["amount_breakdown"].is_null()) {
    const json& parts = body["amount_breakdown"];
    long long sum = 0;
    bool ok = parts.is_array();
    if (ok) {
      for (const auto& part : parts) {
        std::optional<long long> a;
        if (part.is_object() && part.contains("amount")) a = parse_integer(part["amount"]);
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
    return send_json(res, 400, errors);
  }

  KhaltiPayment p;
  p.pidx = new_khalti_id();
  p.amount = *amount;
  p.return_url = fields[0];
  p.website_url = fields[1];
  p.purchase_order_id = fields[2];
  p.purchase_order_name = fields[3];
  if (body.contains("customer_info")) p.customer_info = body["customer_info"];
  for (const auto& [key, value] : body.items()) {
    if (key.rfind("merchant_", 0) == 0) p.merchant_extra[key] = value;
  }
  p.created_at = sim.now();
  p.expires_at = p.created_at + sim.options.khalti_expiry;

  nlohmann::ordered_json out;
  out["pidx"] = p.pidx;
  out["payment_url"] = sim.public_url + "/khalti/pay/?pidx=" + p.pidx;
  out["expires_at"] = format_npt(p.expires_at);
  out["expires_in"] = sim.options.khalti_expiry.count();
  {
    std::lock_guard<std::mutex> lock(sim.mu);
    sim.khalti[p.pidx] = std::move(p);
  }
  send_json(res, 200, out);
}

void lookup(Simulator::Impl& sim, const httplib::Request& req, httplib::Response& res) {
  ++sim.khalti_lookups;
  int delay_ms = 0;
  {
    std::lock_guard<std::mutex> lock(sim.mu);
    delay_ms = sim.faults.lookup_delay_ms;
  }
  sim.delay(delay_ms);
  std::unique_lock<std::mutex> lock(sim.mu);
  if (sim.faults.lookup_reset.take()) return send_reset(res);
  if (sim.faults.lookup_http_500.take()) return send_server_error(res);
  const bool malformed = sim.faults.lookup_malformed.take();
  const long long delta = sim.faults.amount_delta_paisa;
  lock.unlock();

  int status = 200;
  json body;
  nlohmann::ordered_json found;
  if (auto error = auth_error(req, sim.options.khalti_secret_key)) {
    status = 401;
    body = *error;
  } else if (auto parsed = parse_body(req, res); !parsed) {
    return;
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
      khalti_refresh(it->second, sim.now());
      found = khalti_lookup_body(it->second, delta);
      status = khalti_lookup_http_status(it->second.status);
    }
    lock.unlock();
  }
  const std::string text = found.is_null() ? body.dump() : found.dump();
  if (malformed) return send_truncated(res, text);
  res.status = status;
  res.set_content(text, "application/json");
}

}  // namespace

void install_khalti_api(Simulator::Impl& sim) {
  sim.server.Post(
      R"(/api/v2/epayment/initiate/?)",
      [&sim](const httplib::Request& req, httplib::Response& res) { initiate(sim, req, res); });
  sim.server.Post(
      R"(/api/v2/epayment/lookup/?)",
      [&sim](const httplib::Request& req, httplib::Response& res) { lookup(sim, req, res); });
}

}  // namespace sima::sim
