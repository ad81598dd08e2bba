// Many sima-server processes on one PostgreSQL, as a load balancer would spread them: the
// throwaway cluster ctest's fixture "pg" started for every PostgreSQL suite (tests/CMakeLists.txt;
// a binary run by hand starts one of its own with scripts/pg-cluster), a fresh database per
// test, the gateway simulator, and N instances that differ only in their port, mail folder and
// access log.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "harness.h"

namespace sima::integration {

// A cluster in a folder, driven by scripts/pg-cluster.
class PgCluster {
 public:
  // Creates and starts a cluster in a new folder under the temp directory; false (with the
  // script's output in `error`) when it cannot. Stop() removes it.
  bool Start(std::string* error);
  // Uses the running cluster in `dir` (started by someone else: Stop() leaves it); false when
  // there is none or it does not answer.
  bool Attach(const std::string& dir);
  // SIGKILL of the postmaster and its children, as a crash would (`pg-cluster crash`).
  bool Crash();
  // Starts it again on the same port with the same data (crash recovery runs first).
  bool Resume();
  // Stops it and removes the folder, if Start() made it.
  void Stop();
  // The application's URL: postgresql://sima:PASSWORD@127.0.0.1:PORT/sima.
  const std::string& url() const { return url_; }
  // A new empty database `sima` owns (created by the superuser over the socket): its URL, the
  // application's with another database name; empty (the reason in `error`) when it cannot.
  std::string NewDatabase(std::string* error);
  // Drops a database NewDatabase() made, closing its connections.
  void DropDatabase(const std::string& url);

 private:
  std::string SuperuserUrl() const;
  std::string dir_;
  std::string url_;
  bool owned_ = false;
};

class MultiInstanceTest : public IntegrationTest {
 protected:
  // The shared cluster (see above).
  static void SetUpTestSuite();
  static void TearDownTestSuite();
  // A cluster of the suite's own, for suites that stop or kill PostgreSQL.
  static void StartOwnCluster();
  void SetUp() override;  // the simulator and an empty database (pg_url_, db_path_)
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
  std::string pg_url_;  // this test's database
  std::vector<int> ports_;
  std::vector<std::unique_ptr<Child>> instances_;
};

}  // namespace sima::integration
