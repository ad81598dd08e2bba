// Exactly once under races: the same eSewa success redirect, verifies and the failure target
// for one paid payment, all at the same time.
#include <thread>

#include "harness.h"

namespace sima::integration {
namespace {

class IntegrationEsewaRace : public IntegrationTest {
 protected:
  void SetUp() override {
    IntegrationTest::SetUp();
    if (HasFatalFailure()) return;
    // Many status checks at once against the simulator's small listen backlog.
    server_env_["KHALTI_TIMEOUT_MS"] = "5000";
    StartServer();
  }
};

TEST_F(IntegrationEsewaRace, ConcurrentCallbacksVerifiesAndFailureTargetsActivateOnce) {
  const std::string key = NewOrg();
  Response init = EsewaInit(key);
  ASSERT_EQ(init.status, 201) << init.raw;
  const int64_t id = init.body["payment_id"];
  const Json fields = init.body["fields"];
  ASSERT_EQ(EsewaPostForm(fields), 200);
  const std::string redirect = EsewaPay(fields["transaction_uuid"]);
  const std::string callback = redirect.substr(redirect.find("/billing/"));
  const std::string failure_url = fields["failure_url"];
  const std::string failure = failure_url.substr(failure_url.find("/billing/"));

  constexpr int kEach = 15;
  std::vector<std::string> callbacks(kEach), failures(kEach), verifies(kEach);
  std::vector<int> verify_status(kEach);
  std::atomic<bool> go{false};
  std::vector<std::thread> threads;
  for (int i = 0; i < kEach; ++i) {
    threads.emplace_back([&, i] {
      httplib::Client cli("127.0.0.1", server_port_);
      cli.set_read_timeout(std::chrono::seconds{30});
      while (!go) std::this_thread::yield();
      auto r = cli.Get(callback);
      callbacks[i] = r ? r->get_header_value("Location") : "";
    });
    threads.emplace_back([&, i] {
      httplib::Client cli("127.0.0.1", server_port_);
      cli.set_read_timeout(std::chrono::seconds{30});
      while (!go) std::this_thread::yield();
      auto r = cli.Get(failure);
      failures[i] = r ? r->get_header_value("Location") : "";
    });
    threads.emplace_back([&, i] {
      httplib::Client cli("127.0.0.1", server_port_);
      cli.set_read_timeout(std::chrono::seconds{30});
      while (!go) std::this_thread::yield();
      auto r = cli.Post("/billing/esewa/verify/", {{"Authorization", "Bearer " + key}},
                        Json{{"payment_id", id}}.dump(), "application/json");
      verify_status[i] = r ? r->status : 0;
      verifies[i] = r ? r->body : "";
    });
  }
  go = true;
  for (auto& t : threads) t.join();

  const std::string success =
      "http://app.test/demo/success.html?payment_id=" + std::to_string(id) + "&status=SUCCESS";
  for (int i = 0; i < kEach; ++i) {
    EXPECT_EQ(callbacks[i], success);
    EXPECT_EQ(failures[i], success);
    EXPECT_EQ(verify_status[i], 200) << verifies[i];
    EXPECT_EQ(verifies[i], verifies[0]);
  }
  EXPECT_EQ(Plan(key), "PRO");
  EXPECT_EQ(CountRows("SELECT COUNT(*) FROM plan_changes"), 1);
  EXPECT_EQ(CountRows("SELECT COUNT(*) FROM outbox"), 1);
  EXPECT_EQ(CountRows("SELECT COUNT(*) FROM payment_events WHERE to_status = 'SUCCESS' AND "
                      "from_status = 'PENDING'"),
            1);
  EXPECT_TRUE(WaitFor([&] { return MailCount() == 1; }, 5000));
  std::this_thread::sleep_for(std::chrono::milliseconds{300});
  EXPECT_EQ(MailCount(), 1);
}

}  // namespace
}  // namespace sima::integration
