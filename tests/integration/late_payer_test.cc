// Payers who pay two minutes after init, on both gateways at once, in real time: the
// reconciler runs every 200 ms meanwhile (harness default) and looks both payments up several
// times; eSewa answers NOT_FOUND until the payer reaches it, the failure target is opened on
// the way; neither payment may fail. About two minutes: its own binary (label "slow").
#include <thread>

#include "harness.h"

namespace sima::integration {
namespace {

class IntegrationLatePayer : public IntegrationTest {
 protected:
  void SetUp() override {
    IntegrationTest::SetUp();
    if (HasFatalFailure()) return;
    StartServer();
  }
  std::string App(const std::string& page, const std::string& query) const {
    return "http://app.test/demo/" + page + "?" + query;
  }
  int64_t Attempts(int64_t id) {
    return CountRows("SELECT check_attempts FROM payments WHERE id = " + std::to_string(id));
  }
};

TEST_F(IntegrationLatePayer, PaysTwoMinutesAfterInitOnBothGateways) {
  const std::string esewa_key = NewOrg("esewa@acme.test");
  const std::string khalti_key = NewOrg("khalti@acme.test");
  Response e = EsewaInit(esewa_key);
  ASSERT_EQ(e.status, 201) << e.raw;
  Response k = Init(khalti_key);
  ASSERT_EQ(k.status, 201) << k.raw;
  const int64_t eid = e.body["payment_id"];
  const int64_t kid = k.body["payment_id"];
  const Json fields = e.body["fields"];
  const auto started = std::chrono::steady_clock::now();

  // On the way, the eSewa payer lands on the failure target once (eSewa knows nothing yet).
  std::this_thread::sleep_for(std::chrono::seconds{10});
  EXPECT_EQ(FollowToServer(fields["failure_url"]).header("Location"),
            App("failure.html", "payment_id=" + std::to_string(eid) + "&status=PENDING&reason="));

  std::this_thread::sleep_until(started + std::chrono::minutes{2});
  // The reconciler looked at both several times (5 s, then doubling) and decided nothing.
  EXPECT_GE(Attempts(eid), 4);
  EXPECT_GE(Attempts(kid), 4);
  EXPECT_EQ(GetPayment(esewa_key, eid).body["status"], "PENDING");
  EXPECT_EQ(GetPayment(khalti_key, kid).body["status"], "PENDING");

  // Both payers pay now.
  ASSERT_EQ(EsewaPostForm(fields), 200);
  const std::string esewa_redirect = EsewaPay(fields["transaction_uuid"]);
  const std::string khalti_redirect = Pay(k.body["pidx"]);
  EXPECT_EQ(FollowToServer(esewa_redirect).header("Location"),
            App("success.html", "payment_id=" + std::to_string(eid) + "&status=SUCCESS"));
  EXPECT_EQ(FollowToServer(khalti_redirect).header("Location"),
            App("success.html", "payment_id=" + std::to_string(kid) + "&status=SUCCESS"));
  for (const auto& [key, id] : {std::pair{esewa_key, eid}, std::pair{khalti_key, kid}}) {
    Response got = GetPayment(key, id);
    EXPECT_EQ(got.body["status"], "SUCCESS") << got.raw;
    EXPECT_EQ(got.body["needs_attention"], false) << got.raw;
    EXPECT_EQ(Plan(key), "PRO");
  }
  EXPECT_EQ(CountRows("SELECT COUNT(*) FROM payment_events WHERE to_status = 'FAILED'"), 0);
  EXPECT_EQ(CountRows("SELECT COUNT(*) FROM plan_changes"), 2);
}

}  // namespace
}  // namespace sima::integration
