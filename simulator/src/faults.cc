#include "sima/sim/faults.h"

#include <functional>
#include <limits>

namespace sima::sim {

bool Switch::take() {
  if (remaining_ == 0) return false;
  if (remaining_ > 0) --remaining_;
  return true;
}

nlohmann::json Switch::to_json() const {
  if (remaining_ < 0) return true;
  if (remaining_ == 0) return false;
  return remaining_;
}

namespace {

const char* mode_name(RedirectMode m) {
  switch (m) {
    case RedirectMode::kNormal: return "normal";
    case RedirectMode::kTwice: return "twice";
    case RedirectMode::kNever: return "never";
    case RedirectMode::kPendingThenComplete: return "pending_then_complete";
  }
  return "normal";
}

std::optional<RedirectMode> parse_mode(const std::string& s, bool allow_pending) {
  if (s == "normal") return RedirectMode::kNormal;
  if (s == "twice") return RedirectMode::kTwice;
  if (s == "never") return RedirectMode::kNever;
  if (allow_pending && s == "pending_then_complete") return RedirectMode::kPendingThenComplete;
  return std::nullopt;
}

// Binds one fault name to its field: reads it as JSON, or sets it from JSON
// (returning an error message on a value of the wrong kind).
struct Binding {
  FaultInfo info;
  std::function<nlohmann::json(const Faults&)> get;
  std::function<std::optional<std::string>(Faults&, const nlohmann::json&)> set;
};

Binding switch_binding(std::string name, Switch Faults::*field, std::string help) {
  return {{name, "switch", std::move(help)},
          [field](const Faults& f) { return (f.*field).to_json(); },
          [field, name](Faults& f, const nlohmann::json& v) -> std::optional<std::string> {
            if (v.is_boolean()) {
              f.*field = v.get<bool>() ? Switch::always() : Switch::off();
            } else if (v.is_number_integer() && v.get<long long>() >= 0 &&
                       v.get<long long>() <= std::numeric_limits<int>::max()) {
              f.*field = Switch::times(static_cast<int>(v.get<long long>()));
            } else {
              return name + ": expected true, false or a count of uses >= 0";
            }
            return std::nullopt;
          }};
}

Binding ms_binding(std::string name, int Faults::*field, std::string help) {
  return {{name, "ms", std::move(help)},
          [field](const Faults& f) { return f.*field; },
          [field, name](Faults& f, const nlohmann::json& v) -> std::optional<std::string> {
            if (!v.is_number_integer() || v.get<long long>() < 0 || v.get<long long>() > 3600000) {
              return name + ": expected milliseconds between 0 and 3600000";
            }
            f.*field = static_cast<int>(v.get<long long>());
            return std::nullopt;
          }};
}

Binding paisa_binding(std::string name, long long Faults::*field, std::string help) {
  return {{name, "paisa", std::move(help)},
          [field](const Faults& f) { return f.*field; },
          [field, name](Faults& f, const nlohmann::json& v) -> std::optional<std::string> {
            if (!v.is_number_integer()) return name + ": expected an integer number of paisa";
            f.*field = v.get<long long>();
            return std::nullopt;
          }};
}

Binding mode_binding(std::string name, RedirectMode Faults::*field, bool allow_pending,
                     std::string help) {
  return {{name, "mode", std::move(help)},
          [field](const Faults& f) { return mode_name(f.*field); },
          [field, name, allow_pending](Faults& f,
                                       const nlohmann::json& v) -> std::optional<std::string> {
            std::optional<RedirectMode> m;
            if (v.is_string()) m = parse_mode(v.get<std::string>(), allow_pending);
            if (!m) {
              return name + (allow_pending
                                 ? ": expected normal, twice, never or pending_then_complete"
                                 : ": expected normal, twice or never");
            }
            f.*field = *m;
            return std::nullopt;
          }};
}

const std::vector<Binding>& bindings() {
  static const std::vector<Binding> all = {
      switch_binding("initiate_http_500", &Faults::initiate_http_500,
                     "Khalti initiate answers 500 with an HTML body"),
      ms_binding("initiate_delay_ms", &Faults::initiate_delay_ms,
                 "Khalti initiate answers only after this many ms"),
      ms_binding("lookup_delay_ms", &Faults::lookup_delay_ms,
                 "Khalti lookup answers only after this many ms (client timeouts)"),
      switch_binding("lookup_http_500", &Faults::lookup_http_500,
                     "Khalti lookup answers 500 with an HTML body"),
      switch_binding("lookup_malformed", &Faults::lookup_malformed,
                     "Khalti lookup answers 200 with a truncated, non-JSON body"),
      switch_binding("lookup_reset", &Faults::lookup_reset,
                     "Khalti lookup closes the connection before any body byte"),
      paisa_binding("amount_delta_paisa", &Faults::amount_delta_paisa,
                    "Khalti lookup reports total_amount plus this many paisa"),
      mode_binding("redirect_mode", &Faults::redirect_mode, true,
                   "Khalti after Pay/Cancel: normal | twice | never | pending_then_complete"),
      ms_binding("pending_complete_ms", &Faults::pending_complete_ms,
                 "pending_then_complete: a Pending payment completes after this many ms"),
      ms_binding("duplicate_delay_ms", &Faults::duplicate_delay_ms,
                 "redirect mode twice: the duplicate GET follows after this many ms"),
      switch_binding("esewa_status_outage", &Faults::esewa_status_outage,
                     "eSewa status answers 200 {\"code\":0,\"error_message\":...}"),
      switch_binding("esewa_status_http_500", &Faults::esewa_status_http_500,
                     "eSewa status answers 500 with an HTML body"),
      ms_binding("esewa_status_delay_ms", &Faults::esewa_status_delay_ms,
                 "eSewa status answers only after this many ms"),
      switch_binding("esewa_status_malformed", &Faults::esewa_status_malformed,
                     "eSewa status answers 200 with a truncated, non-JSON body"),
      switch_binding("esewa_status_reset", &Faults::esewa_status_reset,
                     "eSewa status closes the connection before any body byte"),
      mode_binding("esewa_redirect_mode", &Faults::esewa_redirect_mode, false,
                   "eSewa after Pay/Cancel: normal | twice | never"),
      paisa_binding("esewa_amount_delta_paisa", &Faults::esewa_amount_delta_paisa,
                    "eSewa success data and status report total plus this many paisa"),
      switch_binding("esewa_thousands_separator", &Faults::esewa_thousands_separator,
                     "eSewa success data total_amount like \"2,700.0\", signed without the comma"),
      switch_binding("esewa_data_raw", &Faults::esewa_data_raw,
                     "eSewa success ?data= is raw Base64 (+ / = not percent-encoded)"),
  };
  return all;
}

}  // namespace

nlohmann::json to_json(const Faults& faults) {
  nlohmann::json out = nlohmann::json::object();
  for (const auto& b : bindings()) out[b.info.name] = b.get(faults);
  return out;
}

std::optional<std::string> apply_patch(Faults& faults, const nlohmann::json& patch) {
  if (!patch.is_object()) return "expected a JSON object of fault names and values";
  Faults updated = faults;
  for (const auto& [key, value] : patch.items()) {
    const Binding* found = nullptr;
    for (const auto& b : bindings()) {
      if (b.info.name == key) found = &b;
    }
    if (!found) return "unknown fault '" + key + "'";
    if (auto error = found->set(updated, value)) return error;
  }
  faults = updated;
  return std::nullopt;
}

const std::vector<FaultInfo>& fault_catalog() {
  static const std::vector<FaultInfo> all = [] {
    std::vector<FaultInfo> v;
    for (const auto& b : bindings()) v.push_back(b.info);
    return v;
  }();
  return all;
}

}  // namespace sima::sim
