#include "harness.h"

#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "sima/crypto.h"
#include "sima/esewa_signature.h"
#include "sqlite.h"

extern char** environ;

namespace sima::integration {
namespace {

Response FromResult(const httplib::Result& res) {
  Response out;
  if (!res) return out;
  out.status = res->status;
  out.headers = res->headers;
  out.raw = res->body;
  out.body = Json::parse(res->body, nullptr, false);
  return out;
}

}  // namespace

int FreePort() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
  socklen_t len = sizeof(addr);
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  const int port = ntohs(addr.sin_port);
  ::close(fd);
  return port;
}

bool Healthy(int port, const std::string& path) {
  httplib::Client cli("127.0.0.1", port);
  cli.set_connection_timeout(std::chrono::milliseconds{200});
  auto res = cli.Get(path);
  return res && res->status == 200;
}

bool Child::Start(const std::string& binary, const std::vector<std::string>& args,
                  const std::map<std::string, std::string>& env, const std::string& log_prefix) {
  std::vector<std::string> envs;
  for (char** e = environ; *e != nullptr; ++e) {
    const std::string kv = *e;
    if (env.count(kv.substr(0, kv.find('='))) == 0) envs.push_back(kv);
  }
  for (const auto& [k, v] : env) envs.push_back(k + "=" + v);
  std::vector<char*> envp;
  for (auto& s : envs) envp.push_back(s.data());
  envp.push_back(nullptr);
  std::vector<std::string> argv_s = {binary};
  argv_s.insert(argv_s.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (auto& s : argv_s) argv.push_back(s.data());
  argv.push_back(nullptr);
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  const std::string out = log_prefix + ".out";
  const std::string err = log_prefix + ".err";
  posix_spawn_file_actions_addopen(&fa, 1, out.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0600);
  posix_spawn_file_actions_addopen(&fa, 2, err.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0600);
  const int rc = posix_spawn(&pid_, binary.c_str(), &fa, nullptr, argv.data(), envp.data());
  posix_spawn_file_actions_destroy(&fa);
  if (rc != 0) pid_ = -1;
  return rc == 0;
}

void Child::Kill(int signal) {
  if (pid_ <= 0) return;
  ::kill(pid_, signal);
  int status = 0;
  ::waitpid(pid_, &status, 0);
  pid_ = -1;
}

void IntegrationTest::SetUp() {
  std::string tmpl = (std::filesystem::temp_directory_path() / "sima-integration-XXXXXX").string();
  ASSERT_NE(::mkdtemp(tmpl.data()), nullptr);
  dir_ = tmpl;
  db_path_ = dir_ + "/sima.db";
  mail_dir_ = dir_ + "/mail";
  access_log_ = dir_ + "/access.log";
  server_stderr_ = dir_ + "/server.err";
  StartSim();
}

void IntegrationTest::TearDown() {
  server_.Kill();
  sim_.Kill();
  if (HasFailure()) {
    std::cerr << "--- server stderr (" << server_stderr_ << ") ---\n"
              << ReadFile(server_stderr_).substr(0, 4000) << "\n";
  }
  std::error_code ec;
  if (!HasFailure()) std::filesystem::remove_all(dir_, ec);
}

void IntegrationTest::StartSim() {
  sim_port_ = FreePort();
  ASSERT_TRUE(sim_.Start(SIMA_SIM_BINARY,
                         {"--listen", "127.0.0.1:" + std::to_string(sim_port_), "--quiet"}, {},
                         dir_ + "/sim"));
  ASSERT_TRUE(WaitFor([&] { return Healthy(sim_port_, "/_sim/health"); }, 10000))
      << "the simulator did not start";
}

void IntegrationTest::StartServer() {
  if (server_port_ == 0) server_port_ = FreePort();
  ++server_starts_;
  ASSERT_TRUE(server_.Start(SIMA_SERVER_BINARY, {}, ServerEnv(server_port_), dir_ + "/server"));
  ASSERT_TRUE(WaitFor([&] { return Healthy(server_port_, "/healthz"); }, 15000))
      << "sima-server did not start: " << ReadFile(server_stderr_);
}

std::map<std::string, std::string> IntegrationTest::ServerEnv(int port) const {
  const std::string self = "http://127.0.0.1:" + std::to_string(port);
  std::map<std::string, std::string> env = {
      {"SIMA_LISTEN", "127.0.0.1:" + std::to_string(port)},
      {"SIMA_DB", db_path_},
      {"SIMA_PUBLIC_URL", self},
      {"SIMA_APP_URL", "http://app.test/demo"},
      {"SIMA_CORS_ORIGINS", "http://127.0.0.1:5173, http://other.test"},
      {"SIMA_ADMIN_TOKEN", kAdminToken},
      {"SIMA_ACCESS_LOG", access_log_},
      {"SIMA_MAIL_DIR", mail_dir_},
      {"SIMA_RECONCILE_INTERVAL_MS", "200"},
      {"SIMA_OUTBOX_INTERVAL_MS", "100"},
      {"KHALTI_BASE_URL", "http://127.0.0.1:" + std::to_string(sim_port_) + "/api/v2/"},
      {"KHALTI_SECRET_KEY", kKhaltiKey},
      {"KHALTI_TIMEOUT_MS", "1000"},
      {"ESEWA_FORM_URL",
       "http://127.0.0.1:" + std::to_string(sim_port_) + "/api/epay/main/v2/form"},
      {"ESEWA_STATUS_URL",
       "http://127.0.0.1:" + std::to_string(sim_port_) + "/api/epay/transaction/status/"},
      {"ESEWA_PRODUCT_CODE", "EPAYTEST"},
      {"ESEWA_SECRET_KEY", kEsewaKey},
      {"ESEWA_TIMEOUT_MS", "1000"},
  };
  for (const auto& [k, v] : server_env_) env[k] = v;
  return env;
}

Response IntegrationTest::CallAt(int port, const std::string& method, const std::string& path,
                                 const std::string& token, const Json& body,
                                 const httplib::Headers& headers) {
  httplib::Client cli("127.0.0.1", port);
  cli.set_read_timeout(std::chrono::seconds{30});
  httplib::Headers h = headers;
  if (!token.empty()) h.emplace("Authorization", "Bearer " + token);
  if (method == "GET") return FromResult(cli.Get(path, h));
  if (method == "OPTIONS") return FromResult(cli.Options(path, h));
  if (method == "DELETE") return FromResult(cli.Delete(path, h));
  const std::string text = body.is_null() ? "" : body.dump();
  if (method == "PUT") return FromResult(cli.Put(path, h, text, "application/json"));
  return FromResult(cli.Post(path, h, text, "application/json"));
}

Response IntegrationTest::SimCall(const std::string& method, const std::string& path,
                                  const Json& body) {
  httplib::Client cli("127.0.0.1", sim_port_);
  cli.set_read_timeout(std::chrono::seconds{30});
  if (method == "GET") return FromResult(cli.Get(path));
  const std::string text = body.is_null() ? "{}" : body.dump();
  if (method == "PUT") return FromResult(cli.Put(path, text, "application/json"));
  return FromResult(cli.Post(path, text, "application/json"));
}

std::string IntegrationTest::NewOrg(const std::string& email, const std::string& plan) {
  Json body = {{"name", "Acme"}};
  if (!email.empty()) body["billing_email"] = email;
  if (!plan.empty()) body["plan"] = plan;
  Response r = Call("POST", "/admin/orgs/", kAdminToken, body);
  EXPECT_EQ(r.status, 201) << r.raw;
  return r.body.value("api_key", "");
}

std::string IntegrationTest::Plan(const std::string& key) {
  Response r = Call("GET", "/billing/usage/", key);
  return r.body.is_object() ? r.body.value("plan", "") : "";
}

int64_t IntegrationTest::Used(const std::string& key, const std::string& feature) {
  Response r = Call("GET", "/billing/usage/", key);
  return r.body["usage"][feature].value("used", int64_t{-1});
}

std::string IntegrationTest::Pay(const std::string& pidx) {
  Response r = SimCall("POST", "/_sim/khalti/" + pidx + "/pay", {{"mobile", "9800000001"}});
  EXPECT_EQ(r.status, 200) << r.raw;
  const Json& url = r.body["redirect_url"];
  return url.is_string() ? url.get<std::string>() : "";
}

Response IntegrationTest::FollowToServer(const std::string& url) {
  const std::string origin = "http://127.0.0.1:" + std::to_string(server_port_);
  EXPECT_EQ(url.rfind(origin, 0), 0u) << url;
  httplib::Client cli("127.0.0.1", server_port_);
  cli.set_read_timeout(std::chrono::seconds{30});
  cli.set_follow_location(false);
  return FromResult(cli.Get(url.substr(origin.size())));
}

int IntegrationTest::EsewaPostForm(const Json& fields) {
  httplib::Params form;
  for (const auto& [name, value] : fields.items()) {
    form.emplace(name, value.is_string() ? value.get<std::string>() : value.dump());
  }
  httplib::Client cli("127.0.0.1", sim_port_);
  cli.set_read_timeout(std::chrono::seconds{30});
  cli.set_follow_location(false);
  auto r = cli.Post("/api/epay/main/v2/form", form);
  return r ? r->status : 0;
}

std::string IntegrationTest::EsewaPay(const std::string& uuid) {
  Response r = SimCall("POST", "/_sim/esewa/" + uuid + "/pay", Json::object());
  EXPECT_EQ(r.status, 200) << r.raw;
  const Json& url = r.body["redirect_url"];
  return url.is_string() ? url.get<std::string>() : "";
}

void IntegrationTest::EsewaForceStatus(const std::string& uuid, const std::string& status) {
  Response r = SimCall("POST", "/_sim/esewa/" + uuid + "/status", {{"status", status}});
  ASSERT_EQ(r.status, 200) << r.raw;
}

void IntegrationTest::SetFaults(const Json& faults) {
  Response r = SimCall("PUT", "/_sim/faults", faults);
  ASSERT_EQ(r.status, 200) << r.raw;
}

void IntegrationTest::ForceStatus(const std::string& pidx, const std::string& status) {
  Response r = SimCall("POST", "/_sim/khalti/" + pidx + "/status", {{"status", status}});
  ASSERT_EQ(r.status, 200) << r.raw;
}

namespace {
// .eml files in `dir` whose name does or does not start with "usage-" (UsageAlertMessageId).
int CountEml(const std::string& dir, bool usage_alerts) {
  int n = 0;
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator(dir, ec)) {
    if (e.path().extension() != ".eml") continue;
    if (e.path().filename().string().starts_with("usage-") == usage_alerts) ++n;
  }
  return n;
}
}  // namespace

int IntegrationTest::MailCount() { return CountEml(mail_dir_, false); }

int IntegrationTest::UsageAlertMailCount() { return CountEml(mail_dir_, true); }

int64_t IntegrationTest::CountRows(const std::string& sql) {
  auto db = server::sqlite::Db::Open(db_path_, true);
  if (!db) return -1;
  (void)(*db)->Exec("PRAGMA busy_timeout=5000");
  auto n = (*db)->QueryInt(sql);
  return n ? *n : -1;
}

bool IntegrationTest::WaitFor(const std::function<bool()>& pred, int ms) {
  const auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds{ms};
  while (std::chrono::steady_clock::now() < until) {
    if (pred()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds{50});
  }
  return pred();
}

std::string IntegrationTest::ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

void IntegrationTest::RunAtOnce(const std::vector<std::function<void(httplib::Client&)>>& calls,
                                const std::vector<int>& ports) {
  std::atomic<bool> go{false};
  std::vector<std::thread> threads;
  threads.reserve(calls.size());
  for (size_t i = 0; i < calls.size(); ++i) {
    const int port = ports.empty() ? server_port_ : ports[i % ports.size()];
    threads.emplace_back([&, port, call = calls[i]] {
      httplib::Client cli("127.0.0.1", port);
      cli.set_read_timeout(std::chrono::seconds{30});
      while (!go) std::this_thread::yield();
      call(cli);
    });
  }
  go = true;
  for (auto& t : threads) t.join();
}

void IntegrationTest::ExpectActivatedOnce(const std::string& key, const std::string& plan) {
  EXPECT_EQ(Plan(key), plan);
  EXPECT_EQ(CountRows("SELECT COUNT(*) FROM plan_changes"), 1);
  EXPECT_EQ(CountRows("SELECT COUNT(*) FROM outbox"), 1);
  EXPECT_EQ(CountRows("SELECT COUNT(*) FROM payment_events WHERE to_status = 'SUCCESS' AND "
                      "from_status = 'PENDING'"),
            1);
  EXPECT_TRUE(WaitFor([&] { return MailCount() == 1; }, 5000));
  std::this_thread::sleep_for(std::chrono::milliseconds{300});  // a second e-mail would show now
  EXPECT_EQ(MailCount(), 1);
}

Json IntegrationTest::RaceKhaltiConfirmations(const std::string& key, int verifies, int callbacks,
                                              const std::vector<int>& ports) {
  Response init = Init(key);
  EXPECT_EQ(init.status, 201) << init.raw;
  if (init.status != 201) return nullptr;
  const int64_t id = init.body["payment_id"];
  const std::string pidx = init.body["pidx"];
  const std::string redirect = Pay(pidx);
  const std::string path = redirect.substr(redirect.find("/billing/"));

  std::vector<std::string> verify_answers(static_cast<size_t>(verifies));
  std::vector<int> verify_status(static_cast<size_t>(verifies));
  std::vector<std::string> locations(static_cast<size_t>(callbacks));
  std::vector<std::function<void(httplib::Client&)>> calls;
  for (size_t i = 0; i < verify_answers.size(); ++i) {
    calls.emplace_back([&, i](httplib::Client& cli) {
      auto r = cli.Post("/billing/khalti/verify/", {{"Authorization", "Bearer " + key}},
                        Json{{"payment_id", id}, {"pidx", pidx}}.dump(), "application/json");
      verify_status[i] = r ? r->status : 0;
      verify_answers[i] = r ? r->body : "";
    });
  }
  for (size_t i = 0; i < locations.size(); ++i) {
    calls.emplace_back([&, i](httplib::Client& cli) {
      auto r = cli.Get(path);
      locations[i] = r ? r->get_header_value("Location") : "";
    });
  }
  RunAtOnce(calls, ports);

  for (size_t i = 0; i < verify_answers.size(); ++i) {
    EXPECT_EQ(verify_status[i], 200) << verify_answers[i];
    EXPECT_EQ(verify_answers[i], verify_answers[0]);
  }
  const std::string page = "http://app.test/demo/success.html?payment_id=" + std::to_string(id);
  for (const std::string& l : locations) {
    EXPECT_TRUE(l == page + "&status=SUCCESS" || l == page + "&status=PENDING") << l;
  }
  ExpectActivatedOnce(key, "PRO");
  return verify_answers.empty() ? Json() : Json::parse(verify_answers[0], nullptr, false);
}

void IntegrationTest::RaceEsewaConfirmations(const std::string& key, int each,
                                             const std::vector<int>& ports) {
  Response init = EsewaInit(key);
  ASSERT_EQ(init.status, 201) << init.raw;
  const int64_t id = init.body["payment_id"];
  const Json fields = init.body["fields"];
  ASSERT_EQ(EsewaPostForm(fields), 200);
  const std::string redirect = EsewaPay(fields["transaction_uuid"]);
  const std::string callback = redirect.substr(redirect.find("/billing/"));
  const std::string failure_url = fields["failure_url"];
  const std::string failure = failure_url.substr(failure_url.find("/billing/"));

  const size_t n = static_cast<size_t>(each);
  std::vector<std::string> callbacks(n), failures(n), verifies(n);
  std::vector<int> verify_status(n);
  std::vector<std::function<void(httplib::Client&)>> calls;
  for (size_t i = 0; i < n; ++i) {
    calls.emplace_back([&, i](httplib::Client& cli) {
      auto r = cli.Get(callback);
      callbacks[i] = r ? r->get_header_value("Location") : "";
    });
    calls.emplace_back([&, i](httplib::Client& cli) {
      auto r = cli.Get(failure);
      failures[i] = r ? r->get_header_value("Location") : "";
    });
    calls.emplace_back([&, i](httplib::Client& cli) {
      auto r = cli.Post("/billing/esewa/verify/", {{"Authorization", "Bearer " + key}},
                        Json{{"payment_id", id}}.dump(), "application/json");
      verify_status[i] = r ? r->status : 0;
      verifies[i] = r ? r->body : "";
    });
  }
  // Three kinds of call in turn: shift the servers by one every round, so that each gets each.
  std::vector<int> spread;
  for (size_t i = 0; i < 3 * ports.size(); ++i) {
    spread.push_back(ports[(i + i / 3) % ports.size()]);
  }
  RunAtOnce(calls, spread);

  const std::string id_text = std::to_string(id);
  const std::string success =
      "http://app.test/demo/success.html?payment_id=" + id_text + "&status=SUCCESS";
  const std::string pending =
      "http://app.test/demo/success.html?payment_id=" + id_text + "&status=PENDING";
  const std::string failure_pending =
      "http://app.test/demo/failure.html?payment_id=" + id_text + "&status=PENDING&reason=";
  for (size_t i = 0; i < n; ++i) {
    EXPECT_TRUE(callbacks[i] == success || callbacks[i] == pending) << callbacks[i];
    EXPECT_TRUE(failures[i] == success || failures[i] == failure_pending) << failures[i];
    EXPECT_EQ(verify_status[i], 200) << verifies[i];
    EXPECT_EQ(verifies[i], verifies[0]);
  }
  ExpectActivatedOnce(key, "PRO");
}

std::string SignedEsewaData(const std::string& uuid, const std::string& total,
                            const std::string& status, const std::string& names,
                            const std::string& key, const std::string& product) {
  nlohmann::ordered_json j;
  j["transaction_code"] = "000TEST";
  j["status"] = status;
  j["total_amount"] = total;
  j["transaction_uuid"] = uuid;
  j["product_code"] = product;
  j["signed_field_names"] = names;
  const auto message = crypto::EsewaSigningMessage(
      crypto::SplitSignedFieldNames(names), [&](std::string_view n) -> std::optional<std::string> {
        const auto it = j.find(std::string(n));
        if (it == j.end()) return std::nullopt;
        return it->get<std::string>();
      });
  j["signature"] = crypto::EsewaSign(key, message.value_or(""));
  return crypto::Base64Encode(j.dump());
}

}  // namespace sima::integration
