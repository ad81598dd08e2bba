// PostgreSQL killed under load and started again, while three sima-server processes serve:
// nothing acknowledged is lost, the servers say 503 `unavailable` meanwhile and recover by
// themselves.
#include <signal.h>

#include <atomic>
#include <thread>

#include "multi_instance_harness.h"

namespace sima::integration {
namespace {

class IntegrationPostgresFault : public MultiInstanceTest {
 protected:
  // It kills PostgreSQL: a cluster of its own, not the one the other suites share.
  static void SetUpTestSuite() { StartOwnCluster(); }
};

// What one client saw.
struct Tally {
  int64_t created = 0;      // 201: acknowledged, must survive
  int64_t unavailable = 0;  // 503 unavailable: may or may not have been written
  int64_t other = 0;        // anything else (no answer, another status or code)
  std::string last_other;
};

TEST_F(IntegrationPostgresFault, KilledMidLoadLosesNoAcknowledgedWriteAndServersRecoverAlone) {
  constexpr int kInstances = 3;
  constexpr int kClients = 6;
  ASSERT_NO_FATAL_FAILURE(StartInstances(kInstances));
  const std::string key = NewOrg("owner@acme.test", "PRO");
  ASSERT_FALSE(key.empty());

  std::atomic<bool> stop{false};
  std::vector<Tally> tallies(kClients);
  std::vector<std::thread> clients;
  for (int c = 0; c < kClients; ++c) {
    clients.emplace_back([&, c] {
      httplib::Client cli("127.0.0.1", ports_[c % kInstances]);
      cli.set_read_timeout(std::chrono::seconds{30});
      Tally& t = tallies[c];
      while (!stop) {
        auto r = cli.Post("/invoices/", {{"Authorization", "Bearer " + key}},
                          R"({"amount_paisa":250000,"description":"under a crash"})",
                          "application/json");
        const Json body = r ? Json::parse(r->body, nullptr, false) : Json();
        const std::string code = body.is_object() ? body.value("code", "") : "";
        if (r && r->status == 201) {
          ++t.created;
        } else if (r && r->status == 503 && code == "unavailable") {
          ++t.unavailable;
          std::this_thread::sleep_for(std::chrono::milliseconds{5});
        } else {
          ++t.other;
          t.last_other = r ? std::to_string(r->status) + " " + r->body : "no answer";
        }
      }
    });
  }
  const auto created = [&] {
    int64_t n = 0;
    for (const Tally& t : tallies) n += t.created;
    return n;
  };

  ASSERT_TRUE(WaitFor([&] { return created() >= 200; }, 20000)) << "no load: " << created();
  ASSERT_TRUE(cluster_->Crash());

  // Meanwhile every server says 503 unavailable, on /healthz and on the API.
  for (int i = 0; i < kInstances; ++i) {
    EXPECT_TRUE(WaitFor(
        [&] {
          Response h = CallOn(static_cast<size_t>(i), "GET", "/healthz", "");
          return h.status == 503 && h.code() == "unavailable";
        },
        10000))
        << "instance " << i;
    Response r = CallOn(static_cast<size_t>(i), "POST", "/invoices/", key, {{"amount_paisa", 1}});
    EXPECT_EQ(r.status, 503) << r.raw;
    EXPECT_EQ(r.code(), "unavailable") << r.raw;
  }
  std::this_thread::sleep_for(std::chrono::milliseconds{500});
  const int64_t before_restart = created();

  ASSERT_TRUE(cluster_->Resume());
  // The same processes, not restarted: each is healthy again and the clients' writes succeed.
  for (int i = 0; i < kInstances; ++i) {
    EXPECT_TRUE(WaitFor([&] { return Healthy(ports_[i], "/healthz"); }, 20000)) << "instance " << i;
  }
  EXPECT_TRUE(WaitFor([&] { return created() >= before_restart + 200; }, 20000));
  stop = true;
  for (auto& t : clients) t.join();

  int64_t acknowledged = 0, unavailable = 0;
  for (const Tally& t : tallies) {
    acknowledged += t.created;
    unavailable += t.unavailable;
    EXPECT_EQ(t.other, 0) << t.last_other;
  }
  EXPECT_GT(unavailable, 0);
  // A 503 may come after a commit whose answer the crash cut off: at most that many more rows.
  const int64_t rows = CountRows("SELECT COUNT(*) FROM invoices");
  EXPECT_GE(rows, acknowledged) << "acknowledged invoices were lost";
  EXPECT_LE(rows, acknowledged + unavailable);
  EXPECT_EQ(CountRows("SELECT SUM(used) FROM usage_counters WHERE feature = 'invoices'"), rows);
  for (int i = 0; i < kInstances; ++i) {
    Response usage = CallOn(static_cast<size_t>(i), "GET", "/billing/usage/", key);
    EXPECT_EQ(usage.body["usage"]["invoices"].value("used", int64_t{-1}), rows);
  }
  std::cout << "acknowledged " << acknowledged << ", 503 unavailable " << unavailable << ", rows "
            << rows << "\n";

  // The database password never reaches a log.
  const std::string url = cluster_->url();  // postgresql://sima:PASSWORD@host:port/sima
  const size_t from = url.find("sima:") + 5;
  const std::string password = url.substr(from, url.find('@') - from);
  ASSERT_GE(password.size(), 16u);
  for (int i = 0; i < kInstances; ++i) {
    for (const char* file : {".err", ".out"}) {
      const std::string log = ReadFile(dir_ + "/server-" + std::to_string(i) + file);
      EXPECT_EQ(log.find(password), std::string::npos) << "instance " << i << file;
    }
  }
}

}  // namespace
}  // namespace sima::integration
