// Payers who pay two minutes after init, on both gateways at once: the reconciler looks both
// payments up several times meanwhile; eSewa answers NOT_FOUND until the payer reaches it, the
// failure target is opened on the way; neither payment may fail. The two minutes pass on the
// clock the server and the simulator share (InProcessTest), with a reconciler pass every second.
#include "in_process_harness.h"

namespace sima::integration {
namespace {

class IntegrationLatePayer : public InProcessTest {
 protected:
  void SetUp() override {
    InProcessTest::SetUp();
    if (HasFatalFailure()) return;
    StartServer();
  }
  std::string App(const std::string& page, const std::string& query) const {
    return "http://app.test/demo/" + page + "?" + query;
  }
  int64_t Attempts(int64_t id) {
    return CountRows("SELECT check_attempts FROM payments WHERE id = " + std::to_string(id));
  }
  // Lets `seconds` pass, one reconciler pass after each second, as the background one would.
  void Wait(int seconds) {
    for (int i = 0; i < seconds; ++i) {
      Advance(std::chrono::seconds{1});
      RunReconciler();
    }
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

  // On the way, the eSewa payer lands on the failure target once (eSewa knows nothing yet).
  Wait(10);
  EXPECT_EQ(FollowToServer(fields["failure_url"]).header("Location"),
            App("failure.html", "payment_id=" + std::to_string(eid) + "&status=PENDING&reason="));

  Wait(110);
  // The reconciler looked at both five times (at 5, 10, 20, 40 and 80 s: 5 s, then doubling)
  // and decided nothing.
  EXPECT_EQ(Attempts(eid), 5);
  EXPECT_EQ(Attempts(kid), 5);
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
