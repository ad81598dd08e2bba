// Reminders exactly once across processes: two sima-server processes on one PostgreSQL run their
// scheduler passes at the same moment (each demo clock jumps at once; a jump runs a pass before
// it answers, and SIMA_SCHEDULER_INTERVAL=1 runs more), and every reminder leaves one e-mail.
#include <set>

#include "multi_instance_harness.h"

namespace sima::integration {
namespace {

constexpr int kOrgs = 12;

class IntegrationMultiInstanceReminders : public MultiInstanceTest {
 protected:
  void SetUp() override {
    MultiInstanceTest::SetUp();
    if (HasFatalFailure()) return;
    server_env_["SIMA_DEMO_CLOCK"] = "1";
    server_env_["SIMA_SCHEDULER_INTERVAL"] = "1";
    server_env_["SIMA_OUTBOX_INTERVAL_MS"] = "10";
  }
  // Both servers' clocks jump `seconds` at the same moment; each runs a scheduler pass.
  void JumpBoth(int64_t seconds) {
    std::vector<std::function<void(httplib::Client&)>> calls;
    for (size_t i = 0; i < ports_.size(); ++i) {
      calls.emplace_back([seconds](httplib::Client& cli) {
        const httplib::Headers auth{{"Authorization", std::string("Bearer ") + kAdminToken}};
        auto r = cli.Post("/demo/clock/", auth, Json{{"advance_seconds", seconds}}.dump(),
                          "application/json");
        EXPECT_TRUE(r && r->status == 200) << (r ? r->body : "no answer");
      });
    }
    RunAtOnce(calls, ports_);
  }
};

TEST_F(IntegrationMultiInstanceReminders, TwoSchedulersAtOnceSendEachReminderOnce) {
  ASSERT_NO_FATAL_FAILURE(StartInstances(2));
  for (int i = 0; i < kOrgs; ++i) {
    ASSERT_FALSE(NewOrg("org" + std::to_string(i) + "@acme.test", "BASIC").empty());
  }
  JumpBoth(int64_t{23} * 86400);  // the 7-day notice of every organization
  JumpBoth(1);                    // both look again: nothing more is due
  ASSERT_TRUE(WaitFor([&] { return MailCount() == kOrgs; }, 10000)) << MailCount();
  EXPECT_EQ(CountRows("SELECT COUNT(*) FROM outbox"), kOrgs);

  JumpBoth(int64_t{4} * 86400);  // the 3-day notice
  JumpBoth(1);
  ASSERT_TRUE(WaitFor([&] { return MailCount() == 2 * kOrgs; }, 10000)) << MailCount();
  EXPECT_EQ(CountRows("SELECT COUNT(*) FROM outbox"), 2 * kOrgs);
  EXPECT_EQ(CountRows("SELECT COUNT(DISTINCT message_id) FROM outbox"), 2 * kOrgs);
}

}  // namespace
}  // namespace sima::integration
