// Exactly once under races: many verifies and callbacks for one paid payment at the same time.
#include <set>
#include <thread>

#include "harness.h"

namespace sima::integration {
namespace {

class IntegrationKhaltiRace : public IntegrationTest {
 protected:
  void SetUp() override {
    IntegrationTest::SetUp();
    if (HasFatalFailure()) return;
    // 70 lookups at once against the simulator's listen backlog of 5: a dropped SYN is
    // retried after 1 s, so the connect timeout must be longer than that.
    server_env_["KHALTI_TIMEOUT_MS"] = "5000";
    StartServer();
  }
};

TEST_F(IntegrationKhaltiRace, FiftyVerifiesAndCallbacksActivateOnceAndAgree) {
  const std::string key = NewOrg();
  Response init = Init(key);
  ASSERT_EQ(init.status, 201);
  const int64_t id = init.body["payment_id"];
  const std::string pidx = init.body["pidx"];
  const std::string redirect = Pay(pidx);
  const std::string path = redirect.substr(redirect.find("/billing/"));

  constexpr int kVerifies = 50;
  constexpr int kCallbacks = 20;
  std::vector<std::string> verify_answers(kVerifies);
  std::vector<int> verify_status(kVerifies);
  std::vector<std::string> locations(kCallbacks);
  std::atomic<bool> go{false};
  std::vector<std::thread> threads;
  for (int i = 0; i < kVerifies; ++i) {
    threads.emplace_back([&, i] {
      httplib::Client cli("127.0.0.1", server_port_);
      cli.set_read_timeout(std::chrono::seconds{30});
      while (!go) std::this_thread::yield();
      auto r = cli.Post("/billing/khalti/verify/", {{"Authorization", "Bearer " + key}},
                        Json{{"payment_id", id}, {"pidx", pidx}}.dump(), "application/json");
      verify_status[i] = r ? r->status : 0;
      verify_answers[i] = r ? r->body : "";
    });
  }
  for (int i = 0; i < kCallbacks; ++i) {
    threads.emplace_back([&, i] {
      httplib::Client cli("127.0.0.1", server_port_);
      cli.set_read_timeout(std::chrono::seconds{30});
      while (!go) std::this_thread::yield();
      auto r = cli.Get(path);
      locations[i] = r ? r->get_header_value("Location") : "";
    });
  }
  go = true;
  for (auto& t : threads) t.join();

  for (int i = 0; i < kVerifies; ++i) {
    EXPECT_EQ(verify_status[i], 200) << verify_answers[i];
    EXPECT_EQ(verify_answers[i], verify_answers[0]);
  }
  const std::string success =
      "http://app.test/demo/success.html?payment_id=" + std::to_string(id) + "&status=SUCCESS";
  for (const std::string& l : locations) EXPECT_EQ(l, success);
  EXPECT_EQ(Plan(key), "PRO");
  EXPECT_EQ(CountRows("SELECT COUNT(*) FROM plan_changes"), 1);
  EXPECT_EQ(CountRows("SELECT COUNT(*) FROM outbox"), 1);
  EXPECT_EQ(CountRows("SELECT COUNT(*) FROM payment_events WHERE to_status = 'SUCCESS' AND "
                      "from_status = 'PENDING'"),
            1);
  const Json sub = Json::parse(verify_answers[0])["subscription"];
  EXPECT_EQ(CountRows("SELECT COUNT(*) FROM subscriptions WHERE plan = 'PRO'"), 1);
  EXPECT_TRUE(sub["end_date"].is_string());
  EXPECT_TRUE(WaitFor([&] { return MailCount() == 1; }, 5000));
  std::this_thread::sleep_for(std::chrono::milliseconds{300});
  EXPECT_EQ(MailCount(), 1);
}

}  // namespace
}  // namespace sima::integration
