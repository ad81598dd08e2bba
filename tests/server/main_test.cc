// The sima-server executable: --help, bad configuration, serving, and a graceful SIGTERM.
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>

#include "pg_test_cluster.h"
#include "server_fixture.h"

extern char** environ;

namespace sima::server::testing {
namespace {

// A running sima-server child with its stdout and stderr captured in files.
struct Child {
  pid_t pid = -1;
  std::string out, err;

  static Child Spawn(const TempDir& dir, std::vector<std::string> args) {
    Child c;
    c.out = dir.path() + "/out.txt";
    c.err = dir.path() + "/err.txt";
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 1, c.out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    posix_spawn_file_actions_addopen(&fa, 2, c.err.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    args.insert(args.begin(), SIMA_SERVER_BINARY);
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    if (posix_spawn(&c.pid, SIMA_SERVER_BINARY, &fa, nullptr, argv.data(), environ) != 0)
      c.pid = -1;
    posix_spawn_file_actions_destroy(&fa);
    return c;
  }
  // Waits up to `timeout` for the exit status; -1 if it is still running.
  int Wait(std::chrono::milliseconds timeout) {
    const auto end = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < end) {
      int status = 0;
      if (::waitpid(pid, &status, WNOHANG) == pid) {
        pid = -1;
        return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return -1;
  }
  static std::string Read(const std::string& path) {
    std::ifstream in(path);
    return std::string(std::istreambuf_iterator<char>(in), {});
  }
  ~Child() {
    if (pid > 0) {
      ::kill(pid, SIGKILL);
      ::waitpid(pid, nullptr, 0);
    }
  }
};

TEST(ServerMain, HelpListsTheSettings) {
  TempDir dir;
  Child c = Child::Spawn(dir, {"--help"});
  ASSERT_GT(c.pid, 0);
  EXPECT_EQ(c.Wait(std::chrono::seconds{10}), 0);
  const std::string help = Child::Read(c.out);
  EXPECT_NE(help.find("SIMA_LISTEN"), std::string::npos);
  EXPECT_NE(help.find("KHALTI_SECRET_KEY"), std::string::npos);
}

TEST(ServerMain, BadConfigurationExitsWithAMessage) {
  TempDir dir;
  Child flag = Child::Spawn(dir, {"--no-such-flag=1"});
  EXPECT_EQ(flag.Wait(std::chrono::seconds{10}), 2);
  EXPECT_NE(Child::Read(flag.err).find("unknown flag"), std::string::npos);
  Child catalog = Child::Spawn(dir, {"--catalog", dir.path() + "/missing.json", "--db",
                                     dir.path() + "/x.db", "--listen", "127.0.0.1:0"});
  EXPECT_EQ(catalog.Wait(std::chrono::seconds{10}), 1);
  EXPECT_NE(Child::Read(catalog.err).find("catalog"), std::string::npos);
}

TEST(ServerMain, TheDemoClockIsRefusedWithARealGateway) {
  TempDir dir;
  Child c = Child::Spawn(dir, {"--demo-clock=1", "--khalti-base-url=https://khalti.com/api/v2/",
                               "--db", dir.path() + "/x.db", "--listen", "127.0.0.1:0"});
  EXPECT_EQ(c.Wait(std::chrono::seconds{10}), 2);
  EXPECT_NE(Child::Read(c.err).find("SIMA_DEMO_CLOCK=1 is for demos on the local gateway "
                                    "simulator only, but KHALTI_BASE_URL is not a loopback "
                                    "address"),
            std::string::npos)
      << Child::Read(c.err);
}

// An unreachable PostgreSQL at start: a clear message, a non-zero exit, no password.
TEST(ServerMain, AnUnreachableDatabaseIsAClearStartupErrorWithoutThePassword) {
  TempDir dir;
  // A port nothing listens on. (An httplib::Server bound and destroyed still listens: the
  // server would wait out its 5 s connect timeout instead of being refused.)
  const int port = ClosedPort();
  const std::string url = "postgresql://sima:s3cret-pw@127.0.0.1:" + std::to_string(port) + "/sima";
  ::setenv("SIMA_DB", url.c_str(), 1);
  Child pg = Child::Spawn(dir, {"--listen=127.0.0.1:0"});
  ::unsetenv("SIMA_DB");
  EXPECT_EQ(pg.Wait(std::chrono::seconds{20}), 1);
  const std::string err = Child::Read(pg.err);
  EXPECT_NE(err.find("sima-server: unavailable: cannot connect to PostgreSQL at "
                     "postgresql://sima@127.0.0.1:" +
                     std::to_string(port) + "/sima: "),
            std::string::npos)
      << err;
  EXPECT_EQ(err.find("s3cret"), std::string::npos);
}

TEST(ServerMain, WhatItCannotOpenIsUnavailableAndABadValueIsAValidationError) {
  TempDir dir;
  Child value = Child::Spawn(dir, {"--threads=none"});
  EXPECT_EQ(value.Wait(std::chrono::seconds{10}), 2);
  EXPECT_NE(Child::Read(value.err).find("sima-server: validation_error: SIMA_THREADS must be"),
            std::string::npos)
      << Child::Read(value.err);
  Child secret = Child::Spawn(dir, {"--admin-token-file=" + dir.path() + "/missing"});
  EXPECT_EQ(secret.Wait(std::chrono::seconds{10}), 2);
  EXPECT_NE(Child::Read(secret.err).find("sima-server: unavailable: SIMA_ADMIN_TOKEN_FILE: cannot"),
            std::string::npos)
      << Child::Read(secret.err);
  Child catalog = Child::Spawn(dir, {"--catalog", dir.path() + "/missing.json", "--db",
                                     dir.path() + "/x.db", "--listen", "127.0.0.1:0"});
  EXPECT_EQ(catalog.Wait(std::chrono::seconds{10}), 1);
  EXPECT_NE(Child::Read(catalog.err).find("sima-server: unavailable: cannot read the catalog file"),
            std::string::npos)
      << Child::Read(catalog.err);
  Child log = Child::Spawn(dir, {"--db", dir.path() + "/y.db", "--listen", "127.0.0.1:0",
                                 "--access-log", dir.path() + "/no/such/dir/access.log"});
  EXPECT_EQ(log.Wait(std::chrono::seconds{10}), 1);
  EXPECT_NE(Child::Read(log.err).find("sima-server: unavailable: cannot open the access log"),
            std::string::npos)
      << Child::Read(log.err);
}

TEST(ServerMain, ServesAndStopsCleanlyOnSigterm) {
  TempDir dir;
  Child c = Child::Spawn(dir, {"--listen=127.0.0.1:0", "--db=" + dir.path() + "/s.db",
                               "--admin-token=" + std::string(kAdminToken)});
  ASSERT_GT(c.pid, 0);
  int port = 0;
  for (int i = 0; i < 500 && port == 0; ++i) {
    const std::string err = Child::Read(c.err);
    const auto at = err.find("\"addr\":\"127.0.0.1:");
    if (at != std::string::npos) port = std::atoi(err.c_str() + at + 18);
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  ASSERT_GT(port, 0) << Child::Read(c.err);
  httplib::Client cli("127.0.0.1", port);
  auto health = cli.Get("/healthz");
  ASSERT_TRUE(health);
  EXPECT_EQ(health->status, 200);
  auto org = cli.Post("/admin/orgs/", {{"Authorization", std::string("Bearer ") + kAdminToken}},
                      R"({"name":"A"})", "application/json");
  ASSERT_TRUE(org);
  EXPECT_EQ(org->status, 201);
  const std::string key = Json::parse(org->body)["api_key"];

  ::kill(c.pid, SIGTERM);
  EXPECT_EQ(c.Wait(std::chrono::seconds{20}), 0);
  const std::string err = Child::Read(c.err);
  EXPECT_NE(err.find("\"msg\":\"stopped\""), std::string::npos);
  // Access log lines are there, without the secrets.
  EXPECT_NE(err.find("\"path\":\"/admin/orgs/\""), std::string::npos);
  EXPECT_EQ(err.find(kAdminToken), std::string::npos);
  EXPECT_EQ(err.find(key), std::string::npos);
  // The WAL was checkpointed into the database file on the way out.
  std::error_code ec;
  EXPECT_EQ(std::filesystem::file_size(dir.path() + "/s.db-wal", ec) > 0 && !ec, false);
}

int PortOf(const Child& c) {
  for (int i = 0; i < 500; ++i) {
    const std::string err = Child::Read(c.err);
    const auto at = err.find("\"addr\":\"127.0.0.1:");
    if (at != std::string::npos) return std::atoi(err.c_str() + at + 18);
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return 0;
}

// Waits until `path` contains `text`.
bool Eventually(const std::string& path, const std::string& text) {
  for (int i = 0; i < 300; ++i) {
    if (Child::Read(path).find(text) != std::string::npos) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return false;
}

unsigned Mode(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return 0;
  return st.st_mode & 0777;
}

TEST(ServerMain, SighupReopensTheAccessLogAndFilesAreOwnerOnly) {
  TempDir dir;
  const std::string log = dir.path() + "/access.log";
  {
    std::ofstream token(dir.path() + "/admin-token");
    token << kAdminToken << "\n";
  }
  Child c = Child::Spawn(
      dir, {"--listen=127.0.0.1:0", "--db=" + dir.path() + "/s.db", "--access-log=" + log,
            "--admin-token-file=" + dir.path() + "/admin-token"});
  ASSERT_GT(c.pid, 0);
  const int port = PortOf(c);
  ASSERT_GT(port, 0) << Child::Read(c.err);
  httplib::Client cli("127.0.0.1", port);
  // The admin token came from its file (without the newline).
  auto org = cli.Post("/admin/orgs/", {{"Authorization", std::string("Bearer ") + kAdminToken}},
                      R"({"name":"A"})", "application/json");
  ASSERT_TRUE(org);
  EXPECT_EQ(org->status, 201);
  ASSERT_TRUE(Eventually(log, "/admin/orgs/"));

  // logrotate: rename, then SIGHUP; the next line lands in a new file of the old name.
  std::filesystem::rename(log, log + ".1");
  ::kill(c.pid, SIGHUP);
  ASSERT_TRUE(Eventually(c.err, "access log reopened"));
  auto health = cli.Get("/healthz/");
  ASSERT_TRUE(health);
  EXPECT_EQ(health->status, 200);
  EXPECT_TRUE(Eventually(log, "\"path\":\"/healthz/\""));
  EXPECT_EQ(Child::Read(log + ".1").find("/healthz/"), std::string::npos);
  EXPECT_EQ(c.Wait(std::chrono::milliseconds(100)), -1);  // still serving

  // umask 077: the database, its WAL and the logs are the owner's only.
  EXPECT_EQ(Mode(dir.path() + "/s.db"), 0600u);
  EXPECT_EQ(Mode(dir.path() + "/s.db-wal"), 0600u);
  EXPECT_EQ(Mode(log), 0600u);
  EXPECT_EQ(Mode(log + ".1"), 0600u);
  ::kill(c.pid, SIGTERM);
  EXPECT_EQ(c.Wait(std::chrono::seconds{20}), 0);
}

TEST(ServerMain, ASecretGivenAsAFlagIsWarnedAboutAndNeverPrinted) {
  TempDir dir;
  const std::string secret = "khalti-secret-4b1d9e0c77";
  Child c = Child::Spawn(dir, {"--listen=127.0.0.1:0", "--db=" + dir.path() + "/s.db",
                               "--khalti-secret-key=" + secret});
  ASSERT_GT(c.pid, 0);
  ASSERT_GT(PortOf(c), 0) << Child::Read(c.err);
  ::kill(c.pid, SIGTERM);
  EXPECT_EQ(c.Wait(std::chrono::seconds{20}), 0);
  const std::string err = Child::Read(c.err);
  EXPECT_NE(err.find("warning: --khalti-secret-key puts a secret on the command line"),
            std::string::npos)
      << err;
  EXPECT_NE(err.find("KHALTI_SECRET_KEY_FILE"), std::string::npos);
  EXPECT_EQ(err.find(secret), std::string::npos);
}

// On PostgreSQL the start-up line names the database without its password.
TEST(ServerMain, LogsThePostgresUrlWithoutItsPassword) {
  TempDir dir;
  const std::string url = TestPgUrl();
  ASSERT_FALSE(url.empty());
  const std::string password =
      url.substr(url.find(':', 14) + 1, url.find('@') - url.find(':', 14) - 1);
  ::setenv("SIMA_DB", url.c_str(), 1);
  Child c = Child::Spawn(dir, {"--listen=127.0.0.1:0", "--db-pool=2"});
  ::unsetenv("SIMA_DB");
  ASSERT_TRUE(Eventually(c.err, "\"msg\":\"listening\"")) << Child::Read(c.err);
  ::kill(c.pid, SIGTERM);
  EXPECT_EQ(c.Wait(std::chrono::seconds{20}), 0);
  const std::string err = Child::Read(c.err);
  EXPECT_NE(err.find("\"db\":\"postgresql://sima@127.0.0.1:"), std::string::npos) << err;
  EXPECT_EQ(err.find(password), std::string::npos);
}

}  // namespace
}  // namespace sima::server::testing
