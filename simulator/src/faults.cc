#include "sima/simulator/faults.h"

#include <functional>
#include <limits>
#include <optional>

namespace sima::simulator {

bool Switch::Take() {
  if (remaining_ == 0) return false;
  if (remaining_ > 0) --remaining_;
  return true;
}

nlohmann::json Switch::ToJson() const {
  if (remaining_ < 0) return true;
  if (remaining_ == 0) return false;
  return remaining_;
}

namespace {

const char* ModeName(RedirectMode m) {
  switch (m) {
    case RedirectMode::kNormal: return "normal";
    case RedirectMode::kTwice: return "twice";
    case RedirectMode::kNever: return "never";
    case RedirectMode::kPendingThenComplete: return "pending_then_complete";
  }
  return "normal";
}

std::optional<RedirectMode> ParseMode(const std::string& s, bool allow_pending) {
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
  std::function<Status(Faults&, const nlohmann::json&)> set;
};

Binding SwitchBinding(std::string name, Switch Faults::*field, std::string help) {
  return {
      {name, "switch", std::move(help)},
      [field](const Faults& f) { return (f.*field).ToJson(); },
      [field, name](Faults& f, const nlohmann::json& v) -> Status {
        if (v.is_boolean()) {
          f.*field = v.get<bool>() ? Switch::Always() : Switch::Off();
        } else if (v.is_number_integer() && v.get<int64_t>() >= 0 &&
                   v.get<int64_t>() <= std::numeric_limits<int>::max()) {
          f.*field = Switch::Times(static_cast<int>(v.get<int64_t>()));
        } else {
          return Status::InvalidArgument(name + ": expected true, false or a count of uses >= 0");
        }
        return Status::Ok();
      }};
}

Binding MsBinding(std::string name, int Faults::*field, std::string help) {
  return {
      {name, "ms", std::move(help)},
      [field](const Faults& f) { return f.*field; },
      [field, name](Faults& f, const nlohmann::json& v) -> Status {
        if (!v.is_number_integer() || v.get<int64_t>() < 0 || v.get<int64_t>() > 3600000) {
          return Status::InvalidArgument(name + ": expected milliseconds between 0 and 3600000");
        }
        f.*field = static_cast<int>(v.get<int64_t>());
        return Status::Ok();
      }};
}

Binding PaisaBinding(std::string name, int64_t Faults::*field, std::string help) {
  return {{name, "paisa", std::move(help)},
          [field](const Faults& f) { return f.*field; },
          [field, name](Faults& f, const nlohmann::json& v) -> Status {
            if (!v.is_number_integer())
              return Status::InvalidArgument(name + ": expected an integer number of paisa");
            f.*field = v.get<int64_t>();
            return Status::Ok();
          }};
}

Binding ModeBinding(std::string name, RedirectMode Faults::*field, bool allow_pending,
                    std::string help) {
  return {{name, "mode", std::move(help)},
          [field](const Faults& f) { return ModeName(f.*field); },
          [field, name, allow_pending](Faults& f, const nlohmann::json& v) -> Status {
            std::optional<RedirectMode> m;
            if (v.is_string()) m = ParseMode(v.get<std::string>(), allow_pending);
            if (!m) {
              return Status::InvalidArgument(
                  name + (allow_pending ? ": expected normal, twice, never or pending_then_complete"
                                        : ": expected normal, twice or never"));
            }
            f.*field = *m;
            return Status::Ok();
          }};
}

const std::vector<Binding>& Bindings() {
  static const std::vector<Binding> all = {
      SwitchBinding("initiate_http_500", &Faults::initiate_http_500,
                    "Khalti initiate answers 500 with an HTML body"),
      MsBinding("initiate_delay_ms", &Faults::initiate_delay_ms,
                "Khalti initiate answers only after this many ms"),
      MsBinding("lookup_delay_ms", &Faults::lookup_delay_ms,
                "Khalti lookup answers only after this many ms (client timeouts)"),
      SwitchBinding("lookup_http_500", &Faults::lookup_http_500,
                    "Khalti lookup answers 500 with an HTML body"),
      SwitchBinding("lookup_malformed", &Faults::lookup_malformed,
                    "Khalti lookup answers 200 with a truncated, non-JSON body"),
      SwitchBinding("lookup_reset", &Faults::lookup_reset,
                    "Khalti lookup closes the connection before any body byte"),
      PaisaBinding("amount_delta_paisa", &Faults::amount_delta_paisa,
                   "Khalti lookup reports total_amount plus this many paisa"),
      ModeBinding("redirect_mode", &Faults::redirect_mode, true,
                  "Khalti after Pay/Cancel: normal | twice | never | pending_then_complete"),
      MsBinding("pending_complete_ms", &Faults::pending_complete_ms,
                "pending_then_complete: a Pending payment completes after this many ms"),
      MsBinding("refund_delay_ms", &Faults::refund_delay_ms,
                "Khalti refund makes the refund, then answers only after this many ms"),
      SwitchBinding("refund_http_500", &Faults::refund_http_500,
                    "Khalti refund answers 500 with an HTML body and refunds nothing"),
      SwitchBinding("refund_refuse", &Faults::refund_refuse,
                    "Khalti refund answers 400 {\"detail\":...} and refunds nothing"),
      MsBinding("duplicate_delay_ms", &Faults::duplicate_delay_ms,
                "redirect mode twice: the duplicate GET follows after this many ms"),
      SwitchBinding("esewa_status_outage", &Faults::esewa_status_outage,
                    "eSewa status answers 200 {\"code\":0,\"error_message\":...}"),
      SwitchBinding("esewa_status_http_500", &Faults::esewa_status_http_500,
                    "eSewa status answers 500 with an HTML body"),
      MsBinding("esewa_status_delay_ms", &Faults::esewa_status_delay_ms,
                "eSewa status answers only after this many ms"),
      SwitchBinding("esewa_status_malformed", &Faults::esewa_status_malformed,
                    "eSewa status answers 200 with a truncated, non-JSON body"),
      SwitchBinding("esewa_status_reset", &Faults::esewa_status_reset,
                    "eSewa status closes the connection before any body byte"),
      ModeBinding("esewa_redirect_mode", &Faults::esewa_redirect_mode, false,
                  "eSewa after Pay/Cancel: normal | twice | never"),
      PaisaBinding("esewa_amount_delta_paisa", &Faults::esewa_amount_delta_paisa,
                   "eSewa success data and status report total plus this many paisa"),
      SwitchBinding("esewa_thousands_separator", &Faults::esewa_thousands_separator,
                    "eSewa success data total_amount like \"2,700.0\", signed without the comma"),
      SwitchBinding("esewa_data_raw", &Faults::esewa_data_raw,
                    "eSewa success ?data= is raw Base64 (+ / = not percent-encoded)"),
  };
  return all;
}

}  // namespace

nlohmann::json FaultsToJson(const Faults& faults) {
  nlohmann::json out = nlohmann::json::object();
  for (const auto& b : Bindings()) out[b.info.name] = b.get(faults);
  return out;
}

Status ApplyFaultPatch(Faults& faults, const nlohmann::json& patch) {
  if (!patch.is_object()) {
    return Status::InvalidArgument("expected a JSON object of fault names and values");
  }
  Faults updated = faults;
  for (const auto& [key, value] : patch.items()) {
    const Binding* found = nullptr;
    for (const auto& b : Bindings()) {
      if (b.info.name == key) found = &b;
    }
    if (!found) return Status::InvalidArgument("unknown fault '" + key + "'");
    if (Status s = found->set(updated, value); !s.ok()) return s;
  }
  faults = updated;
  return Status::Ok();
}

const std::vector<FaultInfo>& FaultCatalog() {
  static const std::vector<FaultInfo> all = [] {
    std::vector<FaultInfo> v;
    for (const auto& b : Bindings()) v.push_back(b.info);
    return v;
  }();
  return all;
}

}  // namespace sima::simulator
