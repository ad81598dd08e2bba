#include "pg_test_cluster.h"

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <mutex>

#include "auth.h"
#include "pg.h"

namespace sima::server::testing {
namespace {

std::string ReadLine(const std::string& path) {
  std::ifstream in(path);
  std::string line;
  std::getline(in, line);
  return line;
}

std::string own_cluster;  // the folder of a cluster this process started

void StopOwnCluster() {
  if (own_cluster.empty()) return;
  const std::string cmd = PgClusterScript() + " stop '" + own_cluster + "' >/dev/null 2>&1";
  (void)std::system(cmd.c_str());
}

}  // namespace

std::string PgClusterScript() { return SIMA_PG_CLUSTER_SCRIPT; }

const std::string& TestPgUrl() {
  static std::once_flag once;
  static std::string url;
  std::call_once(once, [] {
    if (const char* env = std::getenv("SIMA_TEST_PG_URL"); env != nullptr && *env != '\0') {
      url = env;
      return;
    }
    url = ReadLine(std::string(SIMA_TEST_PG_CLUSTER) + "/url");
    if (!url.empty()) {
      auto info = pg::ConnInfo::Parse(url);
      if (info && pg::Conn::Open(*info)) return;  // the ctest fixture's cluster is up
    }
    // Nobody started one: this process does, and removes it at exit.
    char dir[] = "/tmp/sima-pg-test-XXXXXX";
    if (mkdtemp(dir) == nullptr) return;
    own_cluster = dir;
    std::atexit(StopOwnCluster);
    const std::string cmd = PgClusterScript() + " start '" + own_cluster + "' >/dev/null";
    if (std::system(cmd.c_str()) != 0) return;
    url = ReadLine(own_cluster + "/url");
  });
  return url;
}

std::string NewTestSchema() { return "t_" + NewId("s").value().substr(2); }

void DropTestSchema(const std::string& schema) {
  auto info = pg::ConnInfo::Parse(TestPgUrl());
  if (!info) return;
  auto conn = pg::Conn::Open(*info);
  if (!conn) return;
  auto quoted = (*conn)->One("SELECT quote_ident($1)", schema);
  if (quoted && *quoted) (void)(*conn)->Script("DROP SCHEMA " + (*quoted)->Text(0) + " CASCADE");
}

int ClosedPort() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  socklen_t len = sizeof addr;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  ::close(fd);
  return ntohs(addr.sin_port);
}

}  // namespace sima::server::testing
