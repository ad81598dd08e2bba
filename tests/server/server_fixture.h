// An in-process sima-server for tests: a temporary database, a fake clock, a free port, the
// server in a thread, stopped in TearDown. Requests go over real HTTP.
#pragma once

#include <gtest/gtest.h>
#include <httplib.h>

#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "app.h"
#include "clock.h"
#include "sima/json.h"

namespace sima::server::testing {

inline constexpr const char* kAdminToken = "test-admin-token-0123456789";

struct Response {
  int status = 0;  // 0: no answer at all
  Json body;       // discarded JSON when the body was not JSON
  httplib::Headers headers;
  std::string raw;
  std::string code() const { return body.is_object() ? body.value("code", "") : ""; }
};

// A fresh temporary folder, removed with everything in it on destruction.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

class ServerTest : public ::testing::Test {
 protected:
  // 2026-01-01T00:00:00Z.
  static Time Start() { return Time{std::chrono::seconds{1767225600}}; }

  void SetUp() override { StartServer(); }
  void TearDown() override { StopServer(); }

  // Starts on a free port with the current config_ (db in the temp folder).
  void StartServer();
  void StopServer();
  void Restart() {
    StopServer();
    StartServer();
  }

  // One request. `body` is sent as given with `content_type` (empty: no body).
  Response Send(const std::string& method, const std::string& path, const std::string& token,
                const std::string& body = "", const std::string& content_type = "application/json",
                const httplib::Headers& headers = {});
  Response Get(const std::string& path, const std::string& token = "") {
    return Send("GET", path, token);
  }
  Response Post(const std::string& path, const std::string& token, const Json& body) {
    return Send("POST", path, token, body.dump());
  }
  // Raw bytes on a new connection; the answer parsed as HTTP/1.1.
  Response SendRaw(const std::string& bytes);

  // POST /admin/orgs/ and return {org_id, api_key...}.
  Json CreateOrg(const std::string& name = "Acme", const std::string& plan = "");
  std::string NewKey(const std::string& plan = "") { return CreateOrg("Acme", plan)["api_key"]; }
  // GET /billing/usage/ "used" of a feature.
  int64_t Used(const std::string& token, const std::string& feature);
  // The access log lines so far.
  std::vector<std::string> LogLines();

  TempDir dir_;
  FakeClock clock_{Start()};
  Config config_ = DefaultConfig();
  // Run the background threads (reconciler, outbox, pruner, scheduler); a test that drives
  // them by hand turns them off, so a poked thread cannot take its work first.
  bool background_ = true;
  std::unique_ptr<App> app_;
  std::thread thread_;
  int port_ = 0;

 private:
  Config DefaultConfig();
  std::mutex log_mu_;
  std::vector<std::string> log_;
};

}  // namespace sima::server::testing
