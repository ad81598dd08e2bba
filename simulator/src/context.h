// The simulator's shared state: what every handler file works on.
#pragma once

#include <httplib.h>

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "courier.h"
#include "sima/simulator/simulator.h"
#include "sima/time.h"

namespace sima::simulator {

struct KhaltiPayment {
  std::string pidx;
  int64_t amount_paisa = 0;
  std::string return_url;
  std::string website_url;
  std::string purchase_order_id;
  std::string purchase_order_name;
  nlohmann::json customer_info;                              // null when not given
  nlohmann::json merchant_extra = nlohmann::json::object();  // the merchant_* keys
  std::string status = "Initiated";
  std::string transaction_id;  // set once paid
  std::string mobile;          // the payer's Khalti ID, unmasked
  int64_t refunded_paisa = 0;  // given back by the refund API
  Time created_at{};
  Time expires_at{};
  std::optional<Time> complete_at;  // Pending -> Completed (pending_then_complete)
};

struct EsewaPayment {
  std::string transaction_uuid;
  std::string product_code;
  int64_t total_paisa = 0;
  nlohmann::ordered_json form = nlohmann::ordered_json::object();  // the fields as posted
  std::string success_url;
  std::string failure_url;
  std::string status = "PENDING";
  std::string ref_id;  // the transaction_code, set once paid
  std::string payer;   // the eSewa ID used
  Time created_at{};
};

struct Simulator::Impl {
  explicit Impl(Options opts);

  // Options::now, or the system clock in whole seconds, moved on by POST /_sim/clock.
  Time Now() const {
    const Time base =
        options.now ? options.now() : std::chrono::floor<std::chrono::seconds>(Clock::now());
    return base + std::chrono::seconds{clock_offset.load()};
  }
  // Waits ms, returning early when the simulator stops.
  void Delay(int ms);
  // Forgets all payments, restores the faults given in Options and zeroes the counts.
  // REQUIRES: mu not held.
  void Reset();
  // Every payment with its state, as GET /_sim/payments. REQUIRES: mu not held.
  nlohmann::ordered_json PaymentsJson();
  // Records the bound port and derives public_url from it (or from Options::public_url).
  void Bound(int bound_port);

  Options options;
  std::string public_url;  // without a trailing '/'
  int port = -1;
  httplib::Server server;

  mutable std::mutex mu;  // guards faults, khalti and esewa
  Faults faults;
  std::map<std::string, KhaltiPayment> khalti;  // by pidx
  std::map<std::string, EsewaPayment> esewa;    // by transaction_uuid

  Courier courier;

  // Calls that reached the lookup APIs (GET /_sim/stats; reset by POST /_sim/reset), so tests
  // and benchmarks can count what a merchant asks.
  std::atomic<int64_t> khalti_lookups{0};
  std::atomic<int64_t> esewa_status_checks{0};
  // How far POST /_sim/clock moved the clock, in seconds; only grows.
  std::atomic<int64_t> clock_offset{0};

  std::mutex stop_mu;
  std::condition_variable stop_cv;
  bool stopping = false;
};

// Route installers, one per file.
void InstallKhaltiApi(Simulator::Impl& sim);
void InstallKhaltiPages(Simulator::Impl& sim);
void InstallEsewaForm(Simulator::Impl& sim);
void InstallEsewaStatus(Simulator::Impl& sim);
void InstallControl(Simulator::Impl& sim);

}  // namespace sima::simulator
