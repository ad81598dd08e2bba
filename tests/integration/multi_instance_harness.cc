#include "multi_instance_harness.h"

#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <random>

#include "pg.h"

namespace sima::integration {
namespace {

// Runs scripts/pg-cluster with `args`; its stdout (and stderr) and whether it exited 0.
bool RunPgCluster(const std::string& args, std::string* out) {
  const std::string command = std::string(SIMA_PG_CLUSTER) + " " + args + " 2>&1";
  FILE* pipe = ::popen(command.c_str(), "r");
  if (pipe == nullptr) return false;
  std::string text;
  char buf[512];
  while (size_t n = std::fread(buf, 1, sizeof(buf), pipe)) text.append(buf, n);
  const int rc = ::pclose(pipe);
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.pop_back();
  if (out != nullptr) *out = text;
  return rc == 0;
}

// Runs `sql` on the database at `url`; the first column of the first row ("" when none), or
// nullopt with the reason in `error`.
std::optional<std::string> QueryOne(const std::string& url, const std::string& sql,
                                    std::string* error = nullptr) {
  const auto fail = [&](const server::Error& e) {
    if (error != nullptr) *error = e.message;
    return std::nullopt;
  };
  auto info = server::pg::ConnInfo::Parse(url);
  if (!info) return fail(info.error());
  auto conn = server::pg::Conn::Open(*info);
  if (!conn) return fail(conn.error());
  auto row = (*conn)->One(sql);
  if (!row) return fail(row.error());
  return *row ? (*row)->Text(0) : std::string();
}

std::string ReadLine(const std::string& path) {
  std::ifstream in(path);
  std::string line;
  std::getline(in, line);
  return line;
}

}  // namespace

bool PgCluster::Start(std::string* error) {
  // Under the temp directory itself: as root the cluster runs as `postgres`, which must be
  // able to reach the folder (a test's own 0700 folder would not do).
  std::random_device rd;
  dir_ = (std::filesystem::temp_directory_path() /
          ("sima-pg-" + std::to_string(::getpid()) + "-" + std::to_string(rd() % 1000000)))
             .string();
  std::string out;
  if (!RunPgCluster("start " + dir_, &out)) {
    if (error != nullptr) *error = out;
    return false;
  }
  url_ = out.substr(out.rfind('\n') == std::string::npos ? 0 : out.rfind('\n') + 1);
  owned_ = true;
  return true;
}

bool PgCluster::Attach(const std::string& dir) {
  dir_ = dir;
  url_ = ReadLine(dir + "/url");
  owned_ = false;
  return !url_.empty() && QueryOne(url_, "SELECT 1").has_value();
}

bool PgCluster::Crash() { return RunPgCluster("crash " + dir_, nullptr); }

bool PgCluster::Resume() { return RunPgCluster("start " + dir_, nullptr); }

void PgCluster::Stop() {
  if (owned_ && !dir_.empty()) RunPgCluster("stop " + dir_, nullptr);
  dir_.clear();
}

std::string PgCluster::SuperuserUrl() const {
  return "postgresql://postgres@/postgres?host=" + dir_ + "&port=" + ReadLine(dir_ + "/port");
}

std::string PgCluster::NewDatabase(std::string* error) {
  std::random_device rd;
  char name[24];
  std::snprintf(name, sizeof(name), "t_%08x%08x", rd(), rd());
  if (!QueryOne(SuperuserUrl(), std::string("CREATE DATABASE ") + name + " OWNER sima", error)) {
    return "";
  }
  return url_.substr(0, url_.rfind('/') + 1) + name;
}

void PgCluster::DropDatabase(const std::string& url) {
  const std::string name = url.substr(url.rfind('/') + 1);
  (void)QueryOne(SuperuserUrl(), "DROP DATABASE IF EXISTS " + name + " WITH (FORCE)");
}

PgCluster* MultiInstanceTest::cluster_ = nullptr;

void MultiInstanceTest::SetUpTestSuite() {
  auto* cluster = new PgCluster();
  if (cluster->Attach(SIMA_TEST_PG_CLUSTER)) {
    cluster_ = cluster;
    return;
  }
  delete cluster;
  StartOwnCluster();
}

void MultiInstanceTest::StartOwnCluster() {
  auto* cluster = new PgCluster();
  std::string error;
  if (!cluster->Start(&error)) {
    delete cluster;
    GTEST_FAIL() << "cannot start a PostgreSQL cluster with scripts/pg-cluster: " << error;
  }
  cluster_ = cluster;
}

void MultiInstanceTest::TearDownTestSuite() {
  if (cluster_ != nullptr) cluster_->Stop();
  delete cluster_;
  cluster_ = nullptr;
}

void MultiInstanceTest::SetUp() {
  ASSERT_NE(cluster_, nullptr) << "no PostgreSQL cluster";
  IntegrationTest::SetUp();
  if (HasFatalFailure()) return;
  std::string error;
  pg_url_ = cluster_->NewDatabase(&error);
  ASSERT_FALSE(pg_url_.empty()) << error;
  db_path_ = pg_url_;
}

void MultiInstanceTest::TearDown() {
  for (auto& child : instances_) child->Kill();
  if (HasFailure()) {
    for (size_t i = 0; i < instances_.size(); ++i) {
      std::cerr << "--- instance " << i << " stderr ---\n"
                << ReadFile(dir_ + "/server-" + std::to_string(i) + ".err").substr(0, 3000) << "\n";
    }
  }
  IntegrationTest::TearDown();
  if (!pg_url_.empty()) cluster_->DropDatabase(pg_url_);
}

void MultiInstanceTest::StartInstances(int n) {
  for (int i = 0; i < n; ++i) {
    const int port = FreePort();
    const std::string name = std::to_string(i);
    auto env = ServerEnv(port);
    env["SIMA_MAIL_DIR"] = dir_ + "/mail-" + name;
    env["SIMA_ACCESS_LOG"] = dir_ + "/access-" + name + ".log";
    auto child = std::make_unique<Child>();
    ASSERT_TRUE(child->Start(SIMA_SERVER_BINARY, {}, env, dir_ + "/server-" + name));
    ports_.push_back(port);
    instances_.push_back(std::move(child));
  }
  for (int i = 0; i < n; ++i) {
    ASSERT_TRUE(WaitFor([&] { return Healthy(ports_[i], "/healthz"); }, 20000))
        << "instance " << i
        << " did not start: " << ReadFile(dir_ + "/server-" + std::to_string(i) + ".err");
  }
  server_port_ = ports_[0];  // Call(), Plan(), Used() go to the first one
}

int MultiInstanceTest::MailCount() {
  int n = 0;
  for (size_t i = 0; i < instances_.size(); ++i) {
    std::error_code ec;
    for (const auto& e :
         std::filesystem::directory_iterator(dir_ + "/mail-" + std::to_string(i), ec)) {
      const bool alert = e.path().filename().string().starts_with("usage-");
      if (e.path().extension() == ".eml" && !alert) ++n;
    }
  }
  return n;
}

int64_t MultiInstanceTest::CountRows(const std::string& sql) {
  auto v = QueryOne(pg_url_, sql);
  if (!v || v->empty()) return -1;
  return std::stoll(*v);
}

std::pair<int64_t, int64_t> MultiInstanceTest::GatewayLookups() {
  Response r = SimCall("GET", "/_sim/stats");
  return {r.body.value("khalti_lookups", int64_t{-1}),
          r.body.value("esewa_status_checks", int64_t{-1})};
}

}  // namespace sima::integration
