// sima::simulator::Simulator: an in-memory Khalti ePayment (KPG-2) and eSewa ePay v2
// gateway that follows the vendors' docs, with hosted payment pages a person can
// click through and fault switches. All state lives in memory only.
//
// Typical in-process use (tests):
//   Simulator sim(options);
//   int port = sim.BindToAnyPort();
//   std::thread t([&] { sim.Listen(); });
//   sim.WaitUntilReady();
//   ... httplib::Client cli("127.0.0.1", port) ...
//   sim.Stop(); t.join();
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "sima/simulator/faults.h"
#include "sima/status.h"
#include "sima/time.h"

namespace sima::simulator {

struct Options {
  std::string host = "127.0.0.1";
  int port = 9090;
  // Where browsers and clients reach the simulator; builds payment_url and page
  // form actions. Empty: "http://<host>:<port>" once bound.
  std::string public_url;
  // The only Khalti secret key initiate and lookup accept (the published demo key).
  std::string khalti_secret_key = "live_secret_key_68791341fdd94846a146f0457ff7b455";
  // Lifetime of a pidx (production: 60 min; documented sample: 1800 s). Times are whole
  // seconds (sima::Time).
  std::chrono::seconds khalti_expiry{1800};
  std::string esewa_secret_key = "8gBm/:&EnhH.1/q";
  std::string esewa_product_code = "EPAYTEST";
  // An eSewa payment left unpaid this long reports NOT_FOUND (session expired).
  std::chrono::seconds esewa_session{1800};
  Faults faults;
  int threads = 16;  // HTTP worker threads
  // Current time for expiry and pending completion. Empty: the system clock.
  std::function<Time()> now;
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
  int BindToAnyPort();
  // Binds options.host:options.port. Returns false on failure.
  bool Bind();
  // Serves until Stop(). REQUIRES: a successful bind. Returns false on failure.
  bool Listen();
  // Blocks until Listen() is serving.
  void WaitUntilReady() const;
  // Stops serving; wakes delayed handlers. REQUIRES: WaitUntilReady() returned
  // if Listen() was started. Safe to call more than once.
  void Stop();

  int port() const;
  const std::string& public_url() const;

  Faults faults() const;
  void set_faults(const Faults& faults);
  // As PUT /_sim/faults: an invalid_argument Status, and nothing changed, on a bad patch.
  Status PatchFaults(const nlohmann::json& patch);
  // As POST /_sim/reset: forgets all payments, restores the faults given in Options and
  // zeroes the counts of GET /_sim/stats.
  void Reset();
  // Every payment with its state, as GET /_sim/payments.
  nlohmann::json Payments() const;

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace sima::simulator
