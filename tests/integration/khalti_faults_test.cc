// Every fault switch of the simulator, and a crash of sima-server between init and verify.
#include <signal.h>

#include "harness.h"

namespace sima::integration {
namespace {

class IntegrationKhaltiFaults : public IntegrationTest {
 protected:
  void SetUp() override {
    IntegrationTest::SetUp();
    if (HasFatalFailure()) return;
    StartServer();
  }
  std::pair<int64_t, std::string> Start(const std::string& key) {
    Response r = Init(key);
    EXPECT_EQ(r.status, 201) << r.raw;
    return {r.body.value("payment_id", int64_t{0}), r.body.value("pidx", "")};
  }
};

// Lookup faults leave the payment PENDING (never FAILED, never activated); once Khalti
// answers again the same verify activates.
TEST_F(IntegrationKhaltiFaults, LookupFaultsLeaveThePaymentPending) {
  struct Case {
    Json fault;
    int http;
    std::string code;
  };
  const std::vector<Case> cases = {
      {{{"lookup_delay_ms", 2500}}, 504, "gateway_timeout"},
      {{{"lookup_reset", true}}, 504, "gateway_timeout"},
      {{{"lookup_http_500", true}}, 502, "gateway_error"},
      {{{"lookup_malformed", true}}, 502, "gateway_error"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.fault.dump());
    const std::string key = NewOrg();
    auto [id, pidx] = Start(key);
    Pay(pidx);
    SetFaults(c.fault);
    Response v = Verify(key, id);
    EXPECT_EQ(v.status, c.http) << v.raw;
    EXPECT_EQ(v.code(), c.code);
    EXPECT_EQ(v.body["status"], "PENDING");
    EXPECT_EQ(v.body["success"], false);
    EXPECT_EQ(v.body["retry_after"], 5);
    EXPECT_EQ(GetPayment(key, id).body["status"], "PENDING");
    EXPECT_EQ(Plan(key), "FREE");
    SetFaults({{"lookup_delay_ms", 0},
               {"lookup_reset", false},
               {"lookup_http_500", false},
               {"lookup_malformed", false}});
    EXPECT_EQ(Verify(key, id).status, 200);
    EXPECT_EQ(Plan(key), "PRO");
  }
}

TEST_F(IntegrationKhaltiFaults, CallbackDuringAnOutageSaysPendingThenVerifyActivates) {
  const std::string key = NewOrg();
  auto [id, pidx] = Start(key);
  const std::string redirect = Pay(pidx);
  SetFaults({{"lookup_http_500", true}});
  Response cb = FollowToServer(redirect);
  EXPECT_EQ(cb.header("Location"), "http://app.test/demo/success.html?payment_id=" +
                                       std::to_string(id) + "&status=PENDING");
  SetFaults({{"lookup_http_500", false}});
  EXPECT_EQ(Verify(key, id).status, 200);
}

TEST_F(IntegrationKhaltiFaults, AmountMismatchFailsAndNeedsAttention) {
  const std::string key = NewOrg();
  auto [id, pidx] = Start(key);
  SetFaults({{"amount_delta_paisa", -100}});
  Pay(pidx);
  Response v = Verify(key, id);
  EXPECT_EQ(v.status, 400);
  EXPECT_EQ(v.code(), "payment_failed");
  EXPECT_EQ(v.body["reason"], "amount_mismatch");
  Response p = GetPayment(key, id);
  EXPECT_EQ(p.body["status"], "FAILED");
  EXPECT_EQ(p.body["needs_attention"], true);
  EXPECT_EQ(Plan(key), "FREE");
}

TEST_F(IntegrationKhaltiFaults, InitiateFaultsFailThePaymentAndAnswer502Or504) {
  const std::string key = NewOrg();
  SetFaults({{"initiate_http_500", true}});
  Response err = Init(key);
  EXPECT_EQ(err.status, 502) << err.raw;
  EXPECT_EQ(err.code(), "gateway_error");
  EXPECT_EQ(err.body["status"], "FAILED");
  SetFaults({{"initiate_http_500", false}, {"initiate_delay_ms", 2500}});
  Response slow = Init(key);
  EXPECT_EQ(slow.status, 504) << slow.raw;
  EXPECT_EQ(slow.code(), "gateway_timeout");
  SetFaults({{"initiate_delay_ms", 0}});
  Response list = Call("GET", "/billing/payments/", key);
  ASSERT_EQ(list.body["items"].size(), 2u);
  EXPECT_EQ(list.body["items"][0]["status"], "FAILED");
  EXPECT_EQ(list.body["items"][0]["reason"], "gateway_timeout");
  EXPECT_EQ(list.body["items"][1]["status"], "FAILED");
  EXPECT_EQ(list.body["items"][1]["reason"], "gateway_error");
  EXPECT_EQ(Plan(key), "FREE");
  // Khalti refusing the request (wrong key) is a 502 with Khalti's message as the reason.
}

TEST_F(IntegrationKhaltiFaults, RedirectTwiceActivatesOnce) {
  const std::string key = NewOrg();
  auto [id, pidx] = Start(key);
  SetFaults({{"redirect_mode", "twice"}, {"duplicate_delay_ms", 10}});
  const std::string redirect = Pay(pidx);
  // The simulator itself delivers the duplicate; this is the browser's.
  EXPECT_EQ(FollowToServer(redirect).status, 302);
  EXPECT_TRUE(WaitFor(
      [&] {
        return CountRows("SELECT COUNT(*) FROM payment_events WHERE cause = 'callback'") >= 1;
      },
      3000));
  EXPECT_EQ(Plan(key), "PRO");
  EXPECT_EQ(CountRows("SELECT COUNT(*) FROM plan_changes"), 1);
  EXPECT_TRUE(WaitFor([&] { return MailCount() == 1; }, 5000));
}

TEST_F(IntegrationKhaltiFaults, NoRedirectIsFinishedByTheReconciler) {
  const std::string key = NewOrg();
  auto [id, pidx] = Start(key);
  SetFaults({{"redirect_mode", "never"}});
  EXPECT_TRUE(Pay(pidx).empty());
  EXPECT_TRUE(WaitFor([&] { return GetPayment(key, id).body["status"] == "SUCCESS"; }, 15000));
  EXPECT_EQ(Plan(key), "PRO");
  EXPECT_EQ(CountRows("SELECT COUNT(*) FROM payment_events WHERE cause = 'reconciler' AND "
                      "to_status = 'SUCCESS'"),
            1);
}

TEST_F(IntegrationKhaltiFaults, PendingThenCompleteIsPendingFirstThenSuccess) {
  const std::string key = NewOrg();
  auto [id, pidx] = Start(key);
  SetFaults({{"redirect_mode", "pending_then_complete"}, {"pending_complete_ms", 800}});
  Response cb = FollowToServer(Pay(pidx));
  EXPECT_EQ(cb.header("Location"), "http://app.test/demo/success.html?payment_id=" +
                                       std::to_string(id) + "&status=PENDING");
  EXPECT_EQ(Verify(key, id).status, 202);
  EXPECT_TRUE(WaitFor([&] { return Verify(key, id).status == 200; }, 5000));
  EXPECT_EQ(Plan(key), "PRO");
}

TEST_F(IntegrationKhaltiFaults, WrongSecretKeyIsAGatewayErrorAndNeverLogged) {
  KillServer();
  server_env_["KHALTI_SECRET_KEY"] = "live_secret_key_wrong_wrong_wrong";
  StartServer();
  const std::string key = NewOrg();
  Response r = Init(key);
  EXPECT_EQ(r.status, 502) << r.raw;
  EXPECT_EQ(r.code(), "gateway_error");
  EXPECT_NE(r.body["reason"].get<std::string>().find("Invalid token"), std::string::npos);
  KillServer(SIGTERM);
  const std::string logs = ReadFile(access_log_) + ReadFile(server_stderr_);
  EXPECT_EQ(logs.find("live_secret_key_wrong"), std::string::npos);
}

TEST_F(IntegrationKhaltiFaults, KillDashNineBetweenInitAndVerifyIsRecoveredByTheReconciler) {
  const std::string key = NewOrg();
  auto [id, pidx] = Start(key);
  Pay(pidx);  // the browser never comes back
  KillServer(SIGKILL);
  StartServer();  // same database
  EXPECT_TRUE(WaitFor([&] { return GetPayment(key, id).body["status"] == "SUCCESS"; }, 20000));
  EXPECT_EQ(Plan(key), "PRO");
  EXPECT_EQ(Used(key, "invoices"), 0);
  EXPECT_TRUE(WaitFor([&] { return MailCount() == 1; }, 5000));
  EXPECT_EQ(CountRows("SELECT COUNT(*) FROM plan_changes"), 1);
  EXPECT_EQ(Verify(key, id).status, 200);
  EXPECT_EQ(MailCount(), 1);
}

}  // namespace
}  // namespace sima::integration
