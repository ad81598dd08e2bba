// Many sima-server processes on one PostgreSQL, as a load balancer would spread them: a
// throwaway cluster per test suite (scripts/pg-cluster, the script every PostgreSQL suite
// uses), a fresh database per test, the gateway simulator, and N instances that differ only in
// their port, mail folder and access log.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "harness.h"

namespace sima::integration {

// A cluster in a folder of its own, driven by scripts/pg-cluster.
class PgCluster {
 public:
  // Creates and starts a cluster in a new folder under the temp directory; false (with the
  // script's output in `error`) when it cannot.
  bool Start(std::string* error);
  // SIGKILL of the postmaster and its children, as a crash would (`pg-cluster crash`).
  bool Crash();
  // Starts it again on the same port with the same data (crash recovery runs first).
  bool Resume();
  // Stops it and removes the folder.
  void Stop();
  // The application's URL: postgresql://sima:PASSWORD@127.0.0.1:PORT/sima.
  const std::string& url() const { return url_; }
  // An empty database `sima` again (dropped and created by the superuser over the socket).
  bool Recreate(std::string* error);
  // One integer from `sql` in database `sima`; -1 on any error.
  int64_t QueryInt(const std::string& sql) const;

 private:
  std::string dir_;
  std::string url_;
};

class MultiInstanceTest : public IntegrationTest {
 protected:
  static void SetUpTestSuite();
  static void TearDownTestSuite();
  void SetUp() override;  // the simulator and an empty database
  void TearDown() override;

  // Starts `n` sima-server processes on the cluster (ports_[i], mail folder mail-i, log
  // server-i.err), each with the environment StartServer() would use plus server_env_.
  void StartInstances(int n);
  // Call() on instance `i`.
  Response CallOn(size_t i, const std::string& method, const std::string& path,
                  const std::string& token, const Json& body = nullptr) {
    return CallAt(ports_[i], method, path, token, body);
  }
  // .eml files in every instance's mail folder: an e-mail sent twice by two instances is two.
  int MailCount() override;
  // Rows counted in PostgreSQL.
  int64_t CountRows(const std::string& sql) override;
  // The simulator's lookup counters: {khalti_lookups, esewa_status_checks}.
  std::pair<int64_t, int64_t> GatewayLookups();

  static PgCluster* cluster_;
  std::vector<int> ports_;
  std::vector<std::unique_ptr<Child>> instances_;
};

}  // namespace sima::integration
