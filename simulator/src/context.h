// The simulator's shared state: what every handler file works on.
#pragma once

#include <httplib.h>

#include <atomic>
#include <condition_variable>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "courier.h"
#include "sima/sim/simulator.h"

namespace sima::sim {

struct KhaltiPayment {
  std::string pidx;
  long long amount = 0;  // paisa
  std::string return_url;
  std::string website_url;
  std::string purchase_order_id;
  std::string purchase_order_name;
  nlohmann::json customer_info;                              // null when not given
  nlohmann::json merchant_extra = nlohmann::json::object();  // the merchant_* keys
  std::string status = "Initiated";
  std::string transaction_id;  // set once paid
  std::string mobile;          // the payer's Khalti ID, unmasked
  TimePoint created_at;
  TimePoint expires_at;
  std::optional<TimePoint> complete_at;  // Pending -> Completed (pending_then_complete)
};

struct EsewaPayment {
  std::string transaction_uuid;
  std::string product_code;
  long long total_paisa = 0;
  nlohmann::ordered_json form = nlohmann::ordered_json::object();  // the fields as posted
  std::string success_url;
  std::string failure_url;
  std::string status = "PENDING";
  std::string ref_id;  // the transaction_code, set once paid
  std::string payer;   // the eSewa ID used
  TimePoint created_at;
};

struct Simulator::Impl {
  explicit Impl(Options opts);

  TimePoint now() const {
    return options.clock ? options.clock() : std::chrono::system_clock::now();
  }
  // Waits ms, returning early when the simulator stops.
  void delay(int ms);

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
  std::atomic<long long> khalti_lookups{0};
  std::atomic<long long> esewa_status_checks{0};

  std::mutex stop_mu;
  std::condition_variable stop_cv;
  bool stopping = false;
};

// Route installers, one per file.
void install_khalti_api(Simulator::Impl& sim);
void install_khalti_pages(Simulator::Impl& sim);
void install_esewa_form(Simulator::Impl& sim);
void install_esewa_status(Simulator::Impl& sim);
void install_control(Simulator::Impl& sim);

}  // namespace sima::sim
