// The PostgreSQL server the tests use, real and local: SIMA_TEST_PG_URL when set, else the
// cluster ctest's fixture "pg" started (scripts/pg-cluster, see tests/CMakeLists.txt), else
// one this process starts with scripts/pg-cluster and removes when it exits — so a test
// binary run by hand needs nothing set up either.
#pragma once

#include <string>

namespace sima::server::testing {

// postgresql://user:password@127.0.0.1:port/db of the test cluster (started on first use).
const std::string& TestPgUrl();

// The path of scripts/pg-cluster: tests that stop and restart PostgreSQL run a cluster of
// their own with it.
std::string PgClusterScript();

// A fresh schema name for one test ("t_" + random hex): tests share the cluster, not tables.
std::string NewTestSchema();

// Drops a test's schema and everything in it. Failures are ignored (the cluster is throwaway).
void DropTestSchema(const std::string& schema);

// A loopback port nothing listens on: bound, then closed (a PostgreSQL that is not there
// refuses at once, where a port still listening would hold a client for its connect timeout).
int ClosedPort();

}  // namespace sima::server::testing
