// sima-gateway-sim: the Khalti ePayment and eSewa ePay v2 simulator as a program.
// Flags override environment variables, which override defaults; --help lists them.
#include <charconv>
#include <csignal>
#include <cstdint>
#include <cstdlib>
#include <iostream>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "sima/simulator/faults.h"
#include "sima/simulator/simulator.h"

namespace {

using sima::simulator::Options;

struct Flag {
  const char* name;
  const char* env;
  const char* value_name;
  const char* help;
};

const std::vector<Flag> kFlags = {
    {"listen", "SIMA_SIM_LISTEN", "HOST:PORT", "address to listen on (default 127.0.0.1:9090)"},
    {"public-url", "SIMA_SIM_PUBLIC_URL", "URL",
     "where browsers reach the simulator; builds payment_url and form actions "
     "(default http://<listen>)"},
    {"khalti-secret-key", "SIMA_SIM_KHALTI_SECRET_KEY", "KEY",
     "the only key Khalti initiate/lookup accept "
     "(default live_secret_key_68791341fdd94846a146f0457ff7b455, the published demo key)"},
    {"khalti-expiry-seconds", "SIMA_SIM_KHALTI_EXPIRY_SECONDS", "N",
     "lifetime of a pidx; production is 3600, the documented sample 1800 (default 1800)"},
    {"esewa-secret-key", "SIMA_SIM_ESEWA_SECRET_KEY", "KEY",
     "HMAC key for eSewa signatures (default 8gBm/:&EnhH.1/q, the UAT key)"},
    {"esewa-product-code", "SIMA_SIM_ESEWA_PRODUCT_CODE", "CODE",
     "the merchant product_code the form accepts (default EPAYTEST)"},
    {"esewa-session-seconds", "SIMA_SIM_ESEWA_SESSION_SECONDS", "N",
     "an unpaid eSewa payment reports NOT_FOUND after this long (default 1800)"},
    {"threads", "SIMA_SIM_THREADS", "N", "HTTP worker threads (default 16)"},
    {"faults", "SIMA_SIM_FAULTS", "JSON",
     "initial faults as JSON, e.g. '{\"lookup_http_500\":2}' (default none)"},
    {"quiet", "SIMA_SIM_QUIET", "", "do not log requests to stderr (default: log)"},
    {"help", "", "", "show this help and exit"},
};

void PrintHelp() {
  std::cout << "sima-gateway-sim: a local Khalti ePayment (KPG-2) and eSewa ePay v2 simulator\n"
               "with hosted payment pages and fault switches. Not a real gateway: no money\n"
               "moves. All state is kept in memory only and is lost on restart.\n\n"
               "Usage: sima-gateway-sim [--flag VALUE | --flag=VALUE]...\n\nOptions (environment "
               "variable in brackets):\n";
  for (const auto& f : kFlags) {
    std::string left = std::string("  --") + f.name;
    if (*f.value_name) left += std::string(" ") + f.value_name;
    if (*f.env) left += std::string(" [") + f.env + "]";
    std::cout << left << "\n      " << f.help << "\n";
  }
  std::cout << "\nFaults (also settable at run time: PUT /_sim/faults). A switch takes no value "
               "(on),\n=true, =false, or =N for the next N uses only. All are off / 0 / normal by "
               "default,\nexcept pending_complete_ms=2000 and duplicate_delay_ms=200.\n";
  const auto defaults = sima::simulator::FaultsToJson(sima::simulator::Faults{});
  for (const auto& info : sima::simulator::FaultCatalog()) {
    std::string flag = info.name;
    for (auto& c : flag) c = c == '_' ? '-' : c;
    std::cout << "  --" << flag << (info.kind == "switch" ? "[=true|false|N]" : "=" + info.kind)
              << " (default " << defaults[info.name].dump() << ")\n      " << info.help << "\n";
  }
  std::cout << "\nEndpoints: Khalti API <public-url>/api/v2/, payment page /khalti/pay/?pidx=,\n"
               "eSewa form /api/epay/main/v2/form, eSewa status /api/epay/transaction/status/,\n"
               "control API /_sim/ (faults, reset, payments, khalti/{pidx}/status|pay|cancel,\n"
               "esewa/{uuid}/status|pay|cancel). See simulator/README.md.\n\n"
               "Test credentials: Khalti 9800000000..9800000005, MPIN 1111, OTP 987654;\n"
               "eSewa 9806800001..9806800005, password Nepal@123, token 123456.\n";
}

// The whole text as a decimal integer, or nullopt.
std::optional<int64_t> ParseInteger(std::string_view text) {
  int64_t n = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
  if (ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return n;
}

nlohmann::json ParseFaultValue(const std::string& text) {
  if (text == "true") return true;
  if (text == "false") return false;
  if (const auto n = ParseInteger(text)) return *n;
  return text;
}

[[noreturn]] void Die(const std::string& message) {
  std::cerr << "sima-gateway-sim: " << message << " (see --help)\n";
  std::exit(2);
}

int64_t ParseCount(const std::string& name, const std::string& text) {
  if (const auto n = ParseInteger(text); n && *n > 0) return *n;
  Die("--" + name + " expects a positive integer, got '" + text + "'");
}

}  // namespace

int main(int argc, char** argv) {
  Options options;
  std::string listen = "127.0.0.1:9090";
  bool quiet = false;
  nlohmann::json fault_patch = nlohmann::json::object();

  auto apply = [&](const std::string& name, const std::string& value) {
    if (name == "listen")
      listen = value;
    else if (name == "public-url")
      options.public_url = value;
    else if (name == "khalti-secret-key")
      options.khalti_secret_key = value;
    else if (name == "khalti-expiry-seconds")
      options.khalti_expiry = std::chrono::seconds(ParseCount(name, value));
    else if (name == "esewa-secret-key")
      options.esewa_secret_key = value;
    else if (name == "esewa-product-code")
      options.esewa_product_code = value;
    else if (name == "esewa-session-seconds")
      options.esewa_session = std::chrono::seconds(ParseCount(name, value));
    else if (name == "threads")
      options.threads = static_cast<int>(ParseCount(name, value));
    else if (name == "quiet")
      quiet = value != "0" && value != "false";
    else if (name == "faults") {
      auto j = nlohmann::json::parse(value, nullptr, false);
      if (j.is_discarded() || !j.is_object()) Die("--faults expects a JSON object");
      for (const auto& [k, v] : j.items()) fault_patch[k] = v;
    }
  };

  // Environment first, then flags.
  for (const auto& f : kFlags) {
    if (!*f.env) continue;
    if (const char* v = std::getenv(f.env); v != nullptr && *v) apply(f.name, v);
  }
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg.rfind("--", 0) != 0) Die("unexpected argument '" + arg + "'");
    arg = arg.substr(2);
    std::optional<std::string> value;
    if (const auto eq = arg.find('='); eq != std::string::npos) {
      value = arg.substr(eq + 1);
      arg = arg.substr(0, eq);
    }
    if (arg == "help") {
      PrintHelp();
      return 0;
    }
    if (arg == "quiet") {
      apply(arg, value.value_or("true"));
      continue;
    }
    bool known = false;
    for (const auto& f : kFlags) known = known || arg == f.name;
    if (known) {
      if (!value) {
        if (i + 1 >= argc) Die("--" + arg + " needs a value");
        value = argv[++i];
      }
      apply(arg, *value);
      continue;
    }
    std::string fault = arg;
    for (auto& c : fault) c = c == '-' ? '_' : c;
    const sima::simulator::FaultInfo* info = nullptr;
    for (const auto& fi : sima::simulator::FaultCatalog()) {
      if (fi.name == fault) info = &fi;
    }
    if (!info) Die("unknown flag --" + arg);
    if (!value) {
      if (info->kind == "switch")
        value = "true";
      else if (i + 1 < argc)
        value = argv[++i];
      else
        Die("--" + arg + " needs a value");
    }
    fault_patch[fault] = ParseFaultValue(*value);
  }
  if (const sima::Status s = sima::simulator::ApplyFaultPatch(options.faults, fault_patch);
      !s.ok()) {
    Die(s.message());
  }

  const auto colon = listen.rfind(':');
  if (colon == std::string::npos) Die("--listen expects HOST:PORT");
  options.host = listen.substr(0, colon);
  options.port = static_cast<int>(ParseCount("listen", listen.substr(colon + 1)));

  static std::mutex log_mu;
  if (!quiet) {
    options.log = [](const std::string& line) {
      std::lock_guard<std::mutex> lock(log_mu);
      std::cerr << line << "\n";
    };
  }

  // SIGINT/SIGTERM are handled by sigwait below; block them before any thread starts.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  sima::simulator::Simulator sim(options);
  if (!sim.Bind()) {
    std::cerr << "sima-gateway-sim: cannot listen on " << listen << "\n";
    return 1;
  }
  std::thread server([&sim] {
    if (!sim.Listen()) std::cerr << "sima-gateway-sim: server stopped with an error\n";
    kill(getpid(), SIGTERM);  // wake the main thread if the server ends by itself
  });
  sim.WaitUntilReady();
  const std::string& u = sim.public_url();
  std::cerr << "sima-gateway-sim listening on " << listen << " (public URL " << u << ")\n"
            << "  Khalti API      " << u << "/api/v2/\n"
            << "  eSewa form      " << u << "/api/epay/main/v2/form\n"
            << "  eSewa status    " << u << "/api/epay/transaction/status/\n"
            << "  control API     " << u << "/_sim/\n"
            << "  state is kept in memory only; faults: "
            << sima::simulator::FaultsToJson(sim.faults()).dump() << "\n";

  int received = 0;
  sigwait(&signals, &received);
  std::cerr << "sima-gateway-sim: stopping\n";
  sim.Stop();
  server.join();
  return 0;
}
