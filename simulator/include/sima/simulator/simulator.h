// sima::sim::Simulator: an in-memory Khalti ePayment (KPG-2) and eSewa ePay v2
// gateway that follows the vendors' docs, with hosted payment pages a person can
// click through and fault switches. All state lives in memory only.
//
// Typical in-process use (tests):
//   Simulator sim(options);
//   int port = sim.bind_to_any_port();
//   std::thread t([&] { sim.listen_after_bind(); });
//   sim.wait_until_ready();
//   ... httplib::Client cli("127.0.0.1", port) ...
//   sim.stop(); t.join();
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "sima/sim/faults.h"

namespace sima::sim {

using TimePoint = std::chrono::system_clock::time_point;
using Clock = std::function<TimePoint()>;

struct Options {
  std::string host = "127.0.0.1";
  int port = 9090;
  // Where browsers and clients reach the simulator; builds payment_url and page
  // form actions. Empty: "http://<host>:<port>" once bound.
  std::string public_url;
  // The only Khalti secret key initiate and lookup accept (the published demo key).
  std::string khalti_secret_key = "live_secret_key_68791341fdd94846a146f0457ff7b455";
  // Lifetime of a pidx (production: 60 min; documented sample: 1800 s).
  std::chrono::seconds khalti_expiry{1800};
  std::string esewa_secret_key = "8gBm/:&EnhH.1/q";
  std::string esewa_product_code = "EPAYTEST";
  // An eSewa payment left unpaid this long reports NOT_FOUND (session expired).
  std::chrono::seconds esewa_session{1800};
  Faults faults;
  int threads = 16;  // HTTP worker threads
  // Current time for expiry and pending completion. Empty: the system clock.
  Clock clock;
  // Called with one line per answered request. Empty: silent.
  std::function<void(const std::string&)> log;
};

class Simulator {
 public:
  explicit Simulator(Options options);
  ~Simulator();  // stops the server and the background deliveries
  Simulator(const Simulator&) = delete;
  Simulator& operator=(const Simulator&) = delete;

  // Binds options.host on a free port and returns it, or -1 on failure.
  int bind_to_any_port();
  // Binds options.host:options.port. Returns false on failure.
  bool bind();
  // Serves until stop(). REQUIRES: a successful bind. Returns false on failure.
  bool listen_after_bind();
  // Blocks until listen_after_bind() is serving.
  void wait_until_ready() const;
  // Stops serving; wakes delayed handlers. REQUIRES: wait_until_ready() returned
  // if listen_after_bind() was started. Safe to call more than once.
  void stop();

  int port() const;
  const std::string& public_url() const;

  Faults faults() const;
  void set_faults(const Faults& faults);
  // As PUT /_sim/faults: returns an error message and changes nothing on a bad patch.
  std::optional<std::string> patch_faults(const nlohmann::json& patch);
  // Forgets all payments and restores the faults given in Options.
  void reset();
  // Every payment with its state, as GET /_sim/payments.
  nlohmann::json payments() const;

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace sima::sim
