#include "multi_instance_harness.h"

#include <unistd.h>

#include <cstdio>
#include <filesystem>
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
  return true;
}

bool PgCluster::Crash() { return RunPgCluster("crash " + dir_, nullptr); }

bool PgCluster::Resume() { return RunPgCluster("start " + dir_, nullptr); }

void PgCluster::Stop() {
  if (!dir_.empty()) RunPgCluster("stop " + dir_, nullptr);
  dir_.clear();
}

bool PgCluster::Recreate(std::string* error) {
  std::string port;
  {
    std::FILE* f = std::fopen((dir_ + "/port").c_str(), "r");
    if (f == nullptr) return false;
    char buf[16] = {};
    port = std::fgets(buf, sizeof(buf), f) ? buf : "";
    std::fclose(f);
    while (!port.empty() && port.back() == '\n') port.pop_back();
  }
  const std::string super = "postgresql://postgres@/postgres?host=" + dir_ + "&port=" + port;
  return QueryOne(super, "DROP DATABASE IF EXISTS sima WITH (FORCE)", error) &&
         QueryOne(super, "CREATE DATABASE sima OWNER sima", error);
}

int64_t PgCluster::QueryInt(const std::string& sql) const {
  auto v = QueryOne(url_, sql);
  if (!v || v->empty()) return -1;
  return std::stoll(*v);
}

PgCluster* MultiInstanceTest::cluster_ = nullptr;

void MultiInstanceTest::SetUpTestSuite() {
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
  ASSERT_TRUE(cluster_->Recreate(&error)) << error;
  db_path_ = cluster_->url();
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
      if (e.path().extension() == ".eml") ++n;
    }
  }
  return n;
}

int64_t MultiInstanceTest::CountRows(const std::string& sql) { return cluster_->QueryInt(sql); }

std::pair<int64_t, int64_t> MultiInstanceTest::GatewayLookups() {
  Response r = SimCall("GET", "/_sim/stats");
  return {r.body.value("khalti_lookups", int64_t{-1}),
          r.body.value("esewa_status_checks", int64_t{-1})};
}

}  // namespace sima::integration
