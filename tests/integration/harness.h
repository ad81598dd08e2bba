// Integration harness: starts the real sima-gateway-sim and sima-server as child processes
// on free ports in a temporary folder, waits for their health checks, and talks HTTP to both.
// Children are killed in TearDown.
#pragma once

#include <gtest/gtest.h>
#include <httplib.h>
#include <sys/types.h>

#include <functional>
#include <map>
#include <string>
#include <vector>

#include "sima/json.h"

namespace sima::integration {

inline constexpr const char* kAdminToken = "integration-admin-token-0123456789";
inline constexpr const char* kKhaltiKey = "live_secret_key_68791341fdd94846a146f0457ff7b455";
inline constexpr const char* kEsewaKey = "8gBm/:&EnhH.1/q";  // the UAT key the simulator uses

inline constexpr const char* kEsewaResponseNames =
    "transaction_code,status,total_amount,transaction_uuid,product_code,signed_field_names";

// eSewa success data (Base64 JSON, the keys in eSewa's order) signed with `key` over `names`:
// what eSewa puts in `?data=` after a payment.
std::string SignedEsewaData(const std::string& uuid, const std::string& total,
                            const std::string& status,
                            const std::string& names = kEsewaResponseNames,
                            const std::string& key = kEsewaKey,
                            const std::string& product = "EPAYTEST");

// A TCP port on 127.0.0.1 that was free a moment ago.
int FreePort();
// Whether GET `path` on 127.0.0.1:`port` answers 200 within 200 ms.
bool Healthy(int port, const std::string& path);

struct Response {
  int status = 0;  // 0: no answer
  Json body;
  httplib::Headers headers;
  std::string raw;
  std::string code() const { return body.is_object() ? body.value("code", "") : ""; }
  std::string header(const std::string& name) const {
    auto it = headers.find(name);
    return it == headers.end() ? "" : it->second;
  }
};

// A child process with stdout/stderr in files.
class Child {
 public:
  Child() = default;
  ~Child() { Kill(); }
  Child(const Child&) = delete;
  Child& operator=(const Child&) = delete;
  // Starts `binary` with `args` and the current environment plus `env`.
  bool Start(const std::string& binary, const std::vector<std::string>& args,
             const std::map<std::string, std::string>& env, const std::string& log_prefix);
  void Kill(int signal = 9);  // and reap
  bool alive() const { return pid_ > 0; }

 private:
  pid_t pid_ = -1;
};

class IntegrationTest : public ::testing::Test {
 protected:
  void SetUp() override;
  void TearDown() override;

  // Extra server environment before StartServer() (e.g. timeouts).
  std::map<std::string, std::string> server_env_;
  // Start the simulator (SetUp does) and the server: child processes here; InProcessTest
  // runs both in this process instead.
  virtual void StartSim();
  virtual void StartServer();
  // The environment StartServer() gives a sima-server listening on `port` (server_env_ applied).
  std::map<std::string, std::string> ServerEnv(int port) const;
  void KillServer(int signal = 9) { server_.Kill(signal); }

  // HTTP to sima-server / the simulator.
  Response Call(const std::string& method, const std::string& path, const std::string& token,
                const Json& body = nullptr, const httplib::Headers& headers = {}) {
    return CallAt(server_port_, method, path, token, body, headers);
  }
  // Call() to the sima-server listening on `port`.
  Response CallAt(int port, const std::string& method, const std::string& path,
                  const std::string& token, const Json& body = nullptr,
                  const httplib::Headers& headers = {});
  Response SimCall(const std::string& method, const std::string& path, const Json& body = nullptr);

  // POST /admin/orgs/ -> api_key.
  std::string NewOrg(const std::string& email = "owner@acme.test", const std::string& plan = "");
  std::string Plan(const std::string& key);
  int64_t Used(const std::string& key, const std::string& feature);
  Response Init(const std::string& key, const std::string& plan = "PRO") {
    return Call("POST", "/billing/khalti/init/", key, {{"plan", plan}});
  }
  Response Verify(const std::string& key, int64_t id, const std::string& pidx = "") {
    Json body = {{"payment_id", id}};
    if (!pidx.empty()) body["pidx"] = pidx;
    return Call("POST", "/billing/khalti/verify/", key, body);
  }
  Response GetPayment(const std::string& key, int64_t id) {
    return Call("GET", "/billing/payments/" + std::to_string(id) + "/", key);
  }
  // Pays at the simulator as the user would; returns the redirect URL (empty: none).
  std::string Pay(const std::string& pidx);
  // GETs a gateway redirect URL on sima-server (without following its 302); the Location.
  Response FollowToServer(const std::string& url);
  // eSewa: init; the browser's form post of init's `fields` to the simulator (so it knows the
  // payment; the HTTP status of the form page); pay at the simulator -> the redirect URL with
  // `data` (empty: none).
  Response EsewaInit(const std::string& key, const std::string& plan = "PRO") {
    return Call("POST", "/billing/esewa/init/", key, {{"plan", plan}});
  }
  Response EsewaVerify(const std::string& key, int64_t id) {
    return Call("POST", "/billing/esewa/verify/", key, {{"payment_id", id}});
  }
  int EsewaPostForm(const Json& fields);
  std::string EsewaPay(const std::string& uuid);
  void EsewaForceStatus(const std::string& uuid, const std::string& status);
  void SetFaults(const Json& faults);
  void ForceStatus(const std::string& pidx, const std::string& status);

  // .eml files in the mail folder other than usage alerts (a test that reaches a limit gets
  // those as well: UsageAlertMailCount); rows of a table in the server's database.
  virtual int MailCount();
  int UsageAlertMailCount();
  virtual int64_t CountRows(const std::string& sql);
  // Polls `pred` every 50 ms for at most `ms`.
  bool WaitFor(const std::function<bool()>& pred, int ms);
  // Sends every call at once: each gets its own connection to sima-server (call i to
  // ports[i % ports.size()], by default this test's server) and all are released together;
  // returns when all have answered.
  void RunAtOnce(const std::vector<std::function<void(httplib::Client&)>>& calls,
                 const std::vector<int>& ports = {});
  // What one activation leaves behind, and nothing more: the plan, one plan change, one
  // PENDING -> SUCCESS event, one queued and one written e-mail.
  void ExpectActivatedOnce(const std::string& key, const std::string& plan);
  std::string ReadFile(const std::string& path);
  // Pays a new Khalti PRO payment of `key`, then races `verifies` verifies and `callbacks`
  // redirects for it (RunAtOnce over `ports`) and expects: every verify 200 with the same
  // answer, every redirect on the success page (SUCCESS, or PENDING a moment before: anonymous
  // callers share one lookup per few seconds), one activation. Returns the verify answer.
  Json RaceKhaltiConfirmations(const std::string& key, int verifies, int callbacks,
                               const std::vector<int>& ports = {});
  // The same for eSewa: `each` success redirects, failure-target hits and verifies; every
  // server in `ports` gets each kind of call.
  void RaceEsewaConfirmations(const std::string& key, int each, const std::vector<int>& ports = {});

  std::string dir_;
  std::string db_path_;
  std::string mail_dir_;
  std::string access_log_;
  std::string server_stderr_;
  int sim_port_ = 0;
  int server_port_ = 0;
  Child sim_;
  Child server_;
  int server_starts_ = 0;
};

// Races many requests for one payment against each other. Many gateway checks at once meet the
// simulator's listen backlog of 5, where a dropped SYN is retried after 1 s: the server's
// gateway timeout must be longer than that.
class RaceTest : public IntegrationTest {
 protected:
  void SetUp() override {
    IntegrationTest::SetUp();
    if (HasFatalFailure()) return;
    server_env_["KHALTI_TIMEOUT_MS"] = "5000";
    server_env_["ESEWA_TIMEOUT_MS"] = "5000";
    StartServer();
  }
};

}  // namespace sima::integration
