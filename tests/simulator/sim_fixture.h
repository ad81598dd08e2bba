// Runs a Simulator in-process on a free port with a fake clock, plus small
// helpers to talk to it the way a merchant server and a browser would.
#pragma once

#include <gtest/gtest.h>
#include <httplib.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include "sima/crypto.h"
#include "sima/simulator/simulator.h"
#include "sima/text.h"

namespace sima::simulator::testing {

using json = nlohmann::json;
using Params = QueryParams;

inline constexpr const char* kKhaltiKey = "live_secret_key_68791341fdd94846a146f0457ff7b455";
inline constexpr const char* kEsewaKey = "8gBm/:&EnhH.1/q";

// 2026-11-23T10:00:00Z, i.e. 15:45:00 in Nepal.
inline Time FixedStart() {
  using namespace std::chrono;
  return sys_days{year{2026} / November / 23} + hours{10};
}

// True if s has exactly length characters, all from alphabet.
inline bool MadeOf(const std::string& s, std::string_view alphabet, std::size_t length) {
  return s.size() == length && s.find_first_not_of(alphabet) == std::string::npos;
}
inline constexpr std::string_view kBase57 =
    "23456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz";

// "http://x/cb?a=1&b=c%20d" -> base "http://x/cb", params [(a,1),(b,c d)] in order.
struct Location {
  std::string base;
  Params params;
  std::string Param(const std::string& name) const {
    for (const auto& [k, v] : params) {
      if (k == name) return v;
    }
    return "<absent>";
  }
  bool Has(const std::string& name) const { return Param(name) != "<absent>"; }
};

inline Location ParseLocation(const std::string& url) {
  Location loc;
  const auto q = url.find('?');
  loc.base = url.substr(0, q);
  if (q != std::string::npos) loc.params = ParseQuery(url.substr(q + 1));
  return loc;
}

class SimTest : public ::testing::Test {
 protected:
  // Override to adjust options before the simulator starts.
  virtual void Configure(Options& /*options*/) {}

  void SetUp() override {
    Options options;
    // Whole seconds, as sima::Time: Advance(4999ms) is still the 4th second.
    options.now = [this] {
      return FixedStart() +
             std::chrono::floor<std::chrono::seconds>(std::chrono::milliseconds(offset_ms_.load()));
    };
    options.threads = 8;
    Configure(options);
    sim_ = std::make_unique<Simulator>(options);
    port_ = sim_->BindToAnyPort();
    ASSERT_GT(port_, 0);
    thread_ = std::thread([this] { sim_->Listen(); });
    sim_->WaitUntilReady();
  }

  void TearDown() override {
    sim_->Stop();
    thread_.join();
  }

  void Advance(std::chrono::milliseconds by) { offset_ms_ += by.count(); }

  httplib::Client HttpClient(int read_timeout_ms = 5000) const {
    httplib::Client c("127.0.0.1", port_);
    c.set_read_timeout(std::chrono::milliseconds(read_timeout_ms));
    return c;
  }

  httplib::Result PostJson(const std::string& path, const json& body,
                           const std::string& auth = std::string("Key ") + kKhaltiKey) {
    auto c = HttpClient();
    httplib::Headers headers;
    if (!auth.empty()) headers.emplace("Authorization", auth);
    return c.Post(path, headers, body.dump(), "application/json");
  }

  static json InitiateBody() {
    return {{"return_url", "http://shop.example.com/khalti/callback/"},
            {"website_url", "http://shop.example.com"},
            {"amount", 390000},
            {"purchase_order_id", "pay-42"},
            {"purchase_order_name", "PRO plan"}};
  }

  // Initiates a payment and returns its pidx.
  std::string Initiate(json body = InitiateBody()) {
    auto res = PostJson("/api/v2/epayment/initiate/", body);
    EXPECT_TRUE(res);
    if (!res) return "";
    EXPECT_EQ(res->status, 200) << res->body;
    return json::parse(res->body).value("pidx", "");
  }

  httplib::Result Lookup(const std::string& pidx, int read_timeout_ms = 5000) {
    auto c = HttpClient(read_timeout_ms);
    httplib::Headers headers{{"Authorization", std::string("Key ") + kKhaltiKey}};
    return c.Post("/api/v2/epayment/lookup/", headers, json{{"pidx", pidx}}.dump(),
                  "application/json");
  }

  httplib::Result PostForm(const std::string& path, const Params& fields) {
    auto c = HttpClient();
    httplib::Params params;
    for (const auto& [k, v] : fields) params.emplace(k, v);
    return c.Post(path, params);
  }

  httplib::Result Control(const std::string& path, const json& body = json::object()) {
    auto c = HttpClient();
    return c.Post(path, body.dump(), "application/json");
  }

  void SetFaults(const json& patch) {
    auto c = HttpClient();
    auto res = c.Put("/_sim/faults", patch.dump(), "application/json");
    ASSERT_TRUE(res);
    ASSERT_EQ(res->status, 200) << res->body;
  }

  // eSewa form fields for a total of amount rupees, signed with the UAT key.
  static Params EsewaFields(const std::string& uuid, const std::string& amount = "100",
                            const std::string& tax = "10", const std::string& total = "110") {
    Params f = {{"amount", amount},
                {"tax_amount", tax},
                {"total_amount", total},
                {"transaction_uuid", uuid},
                {"product_code", "EPAYTEST"},
                {"product_service_charge", "0"},
                {"product_delivery_charge", "0"},
                {"success_url", "http://shop.example.com/esewa/success/"},
                {"failure_url", "http://shop.example.com/esewa/failure/?payment_id=7"},
                {"signed_field_names", "total_amount,transaction_uuid,product_code"}};
    f.emplace_back("signature", sima::crypto::HmacSha256Base64(
                                    kEsewaKey, "total_amount=" + total + ",transaction_uuid=" +
                                                   uuid + ",product_code=EPAYTEST"));
    return f;
  }

  static void SetField(Params& fields, const std::string& name, const std::string& value) {
    for (auto& [k, v] : fields) {
      if (k == name) v = value;
    }
  }

  std::unique_ptr<Simulator> sim_;
  int port_ = -1;
  std::thread thread_;
  std::atomic<int64_t> offset_ms_{0};
};

// A merchant endpoint that counts the GETs it receives (for duplicate redirects).
class CountingServer {
 public:
  CountingServer() {
    server_.Get(".*", [this](const httplib::Request&, httplib::Response& res) {
      ++hits_;
      res.set_content("ok", "text/plain");
    });
    port_ = server_.bind_to_any_port("127.0.0.1");
    thread_ = std::thread([this] { server_.listen_after_bind(); });
    while (!server_.is_running()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  ~CountingServer() {
    server_.stop();
    thread_.join();
  }
  std::string Url(const std::string& path) const {
    return "http://127.0.0.1:" + std::to_string(port_) + path;
  }
  // Waits (up to 5 s) until at least n GETs arrived; returns the count.
  int WaitFor(int n) const {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    while (hits_.load() < n && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    return hits_.load();
  }
  int Hits() const { return hits_.load(); }

 private:
  httplib::Server server_;
  int port_ = -1;
  std::thread thread_;
  std::atomic<int> hits_{0};
};

}  // namespace sima::simulator::testing
