// The Khalti round trip against the real simulator and server: the seed's testing checklist,
// every lookup status, forged and repeated redirects, other organizations, and the logs.
#include <thread>

#include "harness.h"

namespace sima::integration {
namespace {

class IntegrationKhalti : public IntegrationTest {
 protected:
  void SetUp() override {
    IntegrationTest::SetUp();
    if (HasFatalFailure()) return;
    StartServer();
  }
  // init PRO -> {payment_id, pidx}.
  std::pair<int64_t, std::string> Start(const std::string& key, const std::string& plan = "PRO") {
    Response r = Init(key, plan);
    EXPECT_EQ(r.status, 201) << r.raw;
    return {r.body.value("payment_id", int64_t{0}), r.body.value("pidx", "")};
  }
};

TEST_F(IntegrationKhalti, SeedChecklistFreeLimitPayVerifyProResetAndThreeThousandInvoices) {
  const std::string key = NewOrg();
  EXPECT_EQ(Plan(key), "FREE");
  for (int i = 0; i < 10; ++i) {
    ASSERT_EQ(Call("POST", "/invoices/", key, {{"amount_paisa", 1000}}).status, 201);
  }
  Response refused = Call("POST", "/invoices/", key, {{"amount_paisa", 1000}});
  EXPECT_EQ(refused.status, 403);
  EXPECT_EQ(refused.code(), "limit_reached");

  Response init = Init(key);
  ASSERT_EQ(init.status, 201) << init.raw;
  EXPECT_EQ(init.body["provider"], "KHALTI");
  EXPECT_EQ(init.body["plan"], "PRO");
  EXPECT_EQ(init.body["amount"], 3900);
  EXPECT_EQ(init.body["amount_paisa"], 390000);
  EXPECT_EQ(init.body["status"], "PENDING");
  EXPECT_TRUE(init.body["expires_at"].is_string());
  const int64_t id = init.body["payment_id"];
  const std::string pidx = init.body["pidx"];
  EXPECT_NE(init.body["payment_url"].get<std::string>().find(pidx), std::string::npos);

  const std::string redirect = Pay(pidx);
  ASSERT_FALSE(redirect.empty());
  Response cb = FollowToServer(redirect);
  EXPECT_EQ(cb.status, 302);
  EXPECT_EQ(cb.header("Location"), "http://app.test/demo/success.html?payment_id=" +
                                       std::to_string(id) + "&status=SUCCESS");

  Response v = Verify(key, id, pidx);
  ASSERT_EQ(v.status, 200) << v.raw;
  EXPECT_EQ(v.body["success"], true);
  EXPECT_EQ(v.body["status"], "SUCCESS");
  EXPECT_EQ(v.body["plan"], "PRO");
  EXPECT_EQ(v.body["subscription"]["plan"], "PRO");
  EXPECT_EQ(v.body["subscription"]["is_active"], true);

  EXPECT_EQ(Plan(key), "PRO");
  EXPECT_EQ(Used(key, "invoices"), 0);  // counters reset on activation

  // 3000 invoices on PRO (unlimited), four clients at once.
  std::atomic<int> created{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      httplib::Client cli("127.0.0.1", server_port_);
      const httplib::Headers h{{"Authorization", "Bearer " + key}};
      for (int i = 0; i < 750; ++i) {
        auto r = cli.Post("/invoices/", h, R"({"amount_paisa":500})", "application/json");
        if (r && r->status == 201) ++created;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(created.load(), 3000);
  EXPECT_EQ(Used(key, "invoices"), 3000);

  Response got = GetPayment(key, id);
  ASSERT_EQ(got.status, 200);
  EXPECT_EQ(got.body["status"], "SUCCESS");
  EXPECT_EQ(got.body["reference_id"], pidx);
  EXPECT_EQ(got.body["amount_paisa"], 390000);
  Response list = Call("GET", "/billing/payments/", key);
  ASSERT_EQ(list.status, 200);
  ASSERT_EQ(list.body["items"].size(), 1u);
  EXPECT_EQ(list.body["items"][0]["payment_id"], id);

  EXPECT_TRUE(WaitFor([&] { return MailCount() == 1; }, 5000));
  // FREE's invoices reached 80 % and 100 % on the way: one usage alert each.
  EXPECT_TRUE(WaitFor([&] { return UsageAlertMailCount() == 2; }, 5000));
  EXPECT_EQ(CountRows("SELECT COUNT(*) FROM plan_changes"), 1);
  EXPECT_EQ(CountRows("SELECT COUNT(*) FROM outbox WHERE sent_at IS NOT NULL"), 3);
  const std::string audit_sql =
      "SELECT COUNT(*) FROM payment_events WHERE payment_id = " + std::to_string(id) +
      " AND to_status = 'SUCCESS' AND from_status = 'PENDING'";
  EXPECT_EQ(CountRows(audit_sql + " AND cause = 'callback'"), 1);
}

TEST_F(IntegrationKhalti, InvalidTokenChangesNothingAndCancelFailsAndStaysFree) {
  const std::string key = NewOrg();
  auto [id, pidx] = Start(key);
  Response bad =
      Call("POST", "/billing/khalti/verify/", key, {{"payment_id", id}, {"token", "not-the-pidx"}});
  EXPECT_EQ(bad.status, 400);
  EXPECT_EQ(bad.code(), "validation_error");
  EXPECT_EQ(GetPayment(key, id).body["status"], "PENDING");

  ASSERT_EQ(SimCall("POST", "/_sim/khalti/" + pidx + "/cancel").status, 200);
  Response v = Call("POST", "/billing/khalti/verify/", key, {{"payment_id", id}, {"token", pidx}});
  EXPECT_EQ(v.status, 400);
  EXPECT_EQ(v.code(), "payment_failed");
  EXPECT_EQ(v.body["status"], "FAILED");
  EXPECT_EQ(v.body["success"], false);
  EXPECT_EQ(v.body["reason"], "User canceled");
  EXPECT_EQ(Plan(key), "FREE");
  EXPECT_EQ(GetPayment(key, id).body["status"], "FAILED");
  // Decided: the same answer again.
  Response again = Verify(key, id);
  EXPECT_EQ(again.status, 400);
  EXPECT_EQ(again.body, v.body);
}

TEST_F(IntegrationKhalti, EachKhaltiStatusMapsToItsDecision) {
  struct Case {
    std::string status;
    int http;
    std::string decided;
    bool attention;
  };
  const std::vector<Case> cases = {
      {"Initiated", 202, "PENDING", false},        {"Pending", 202, "PENDING", false},
      {"Completed", 200, "SUCCESS", false},        {"Refunded", 400, "FAILED", false},
      {"Partially Refunded", 400, "FAILED", true}, {"Expired", 400, "FAILED", false},
      {"User canceled", 400, "FAILED", false},     {"Something New", 202, "PENDING", true},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.status);
    const std::string key = NewOrg();
    auto [id, pidx] = Start(key);
    ForceStatus(pidx, c.status);
    Response v = Verify(key, id);
    EXPECT_EQ(v.status, c.http) << v.raw;
    EXPECT_EQ(v.body["status"], c.decided);
    if (c.http == 202) {
      EXPECT_EQ(v.body["retry_after"], 5);
    }
    Response p = GetPayment(key, id);
    EXPECT_EQ(p.body["status"], c.decided);
    EXPECT_EQ(p.body["needs_attention"], c.attention);
    EXPECT_EQ(Plan(key), c.decided == "SUCCESS" ? "PRO" : "FREE");
  }
}

TEST_F(IntegrationKhalti, ForgedCallbackActivatesNothing) {
  const std::string key = NewOrg();
  auto [id, pidx] = Start(key);
  Response order = GetPayment(key, id);
  const std::string po = order.body["purchase_order_id"];
  const std::string forged = "http://127.0.0.1:" + std::to_string(server_port_) +
                             "/billing/khalti/callback/?pidx=" + pidx +
                             "&status=Completed&transaction_id=FAKE&amount=390000"
                             "&total_amount=390000&purchase_order_id=" +
                             po;
  Response cb = FollowToServer(forged);
  EXPECT_EQ(cb.status, 302);
  EXPECT_EQ(cb.header("Location"), "http://app.test/demo/success.html?payment_id=" +
                                       std::to_string(id) + "&status=PENDING");
  EXPECT_EQ(Plan(key), "FREE");
  EXPECT_EQ(GetPayment(key, id).body["status"], "PENDING");

  // An unknown pidx: the failure page, nothing else.
  const std::string base = "http://127.0.0.1:" + std::to_string(server_port_) +
                           "/billing/khalti/callback/?status=Completed&pidx=";
  Response r = FollowToServer(base + "nope");
  EXPECT_EQ(r.status, 302);
  EXPECT_EQ(r.header("Location"),
            "http://app.test/demo/failure.html?status=UNKNOWN&reason=unknown_payment");
  // Only the pidx names the payment: another purchase_order_id is not believed either way.
  EXPECT_EQ(
      FollowToServer(base + pidx + "&purchase_order_id=pay_1_x").header("Location"),
      "http://app.test/demo/success.html?payment_id=" + std::to_string(id) + "&status=PENDING");
  EXPECT_EQ(Plan(key), "FREE");
  EXPECT_EQ(CountRows("SELECT COUNT(*) FROM plan_changes"), 0);
}

TEST_F(IntegrationKhalti, FailedPaymentRedirectsToFailurePageWithReason) {
  const std::string key = NewOrg();
  auto [id, pidx] = Start(key);
  Response cancel = SimCall("POST", "/_sim/khalti/" + pidx + "/cancel");
  ASSERT_EQ(cancel.status, 200);
  Response cb = FollowToServer(cancel.body["redirect_url"]);
  EXPECT_EQ(cb.status, 302);
  EXPECT_EQ(cb.header("Location"), "http://app.test/demo/failure.html?payment_id=" +
                                       std::to_string(id) + "&status=FAILED&reason=User canceled");
}

TEST_F(IntegrationKhalti, AnotherOrganizationsPaymentIsNotFound) {
  const std::string a = NewOrg();
  const std::string b = NewOrg("b@acme.test");
  auto [id, pidx] = Start(a);
  Pay(pidx);
  EXPECT_EQ(Verify(b, id, pidx).status, 404);
  EXPECT_EQ(GetPayment(b, id).status, 404);
  EXPECT_EQ(Verify(b, 999999).status, 404);
  EXPECT_EQ(Call("GET", "/billing/payments/", b).body["items"].size(), 0u);
  EXPECT_EQ(Plan(b), "FREE");
  EXPECT_EQ(Plan(a), "FREE");  // nothing confirmed yet for a either
  EXPECT_EQ(Verify(a, id, pidx).status, 200);
  EXPECT_EQ(Plan(a), "PRO");
  EXPECT_EQ(Plan(b), "FREE");
}

TEST_F(IntegrationKhalti, DuplicateRedirectsAnswerTheSameAndActivateOnce) {
  const std::string key = NewOrg();
  auto [id, pidx] = Start(key);
  const std::string redirect = Pay(pidx);
  std::string first;
  for (int i = 0; i < 4; ++i) {
    Response cb = FollowToServer(redirect);
    EXPECT_EQ(cb.status, 302);
    if (i == 0) first = cb.header("Location");
    EXPECT_EQ(cb.header("Location"), first);
  }
  EXPECT_NE(first.find("status=SUCCESS"), std::string::npos);
  EXPECT_EQ(CountRows("SELECT COUNT(*) FROM plan_changes"), 1);
  EXPECT_TRUE(WaitFor([&] { return MailCount() == 1; }, 5000));
}

TEST_F(IntegrationKhalti, PlansThatCannotBeBoughtAreRefused) {
  const std::string key = NewOrg();
  EXPECT_EQ(Init(key, "FREE").code(), "invalid_plan");
  EXPECT_EQ(Init(key, "GOLD").code(), "invalid_plan");
  EXPECT_EQ(Call("POST", "/billing/khalti/init/", key, {{"plan", "PRO"}, {"amount", 1}}).code(),
            "validation_error");  // the amount never comes from the client
  const std::string pro = NewOrg("p@acme.test", "PRO");
  Response lower = Init(pro, "BASIC");
  EXPECT_EQ(lower.status, 409);
  EXPECT_EQ(lower.code(), "conflict");
  EXPECT_EQ(Init(pro, "PRO").status, 201);  // the same plan extends
  EXPECT_EQ(CountRows("SELECT COUNT(*) FROM payments"), 1);
}

TEST_F(IntegrationKhalti, SessionTokenAndCorsForTheBrowser) {
  const std::string key = NewOrg();
  Response session = Call("POST", "/sessions/", key);
  ASSERT_EQ(session.status, 201);
  const std::string st = session.body["token"];
  auto [id, pidx] = Start(st);
  const httplib::Headers origin{{"Origin", "http://127.0.0.1:5173"}};
  Response got = Call("GET", "/billing/payments/" + std::to_string(id) + "/", st, nullptr, origin);
  EXPECT_EQ(got.status, 200);
  EXPECT_EQ(got.header("Access-Control-Allow-Origin"), "http://127.0.0.1:5173");
  Response pre =
      Call("OPTIONS", "/billing/khalti/verify/", "", nullptr, {{"Origin", "http://other.test"}});
  EXPECT_EQ(pre.status, 204);
  EXPECT_EQ(pre.header("Access-Control-Allow-Origin"), "http://other.test");
  Response foreign =
      Call("GET", "/billing/payments/", st, nullptr, {{"Origin", "http://evil.test"}});
  EXPECT_EQ(foreign.header("Access-Control-Allow-Origin"), "");
  Pay(pidx);
  EXPECT_EQ(Verify(st, id).status, 200);
}

TEST_F(IntegrationKhalti, NoSecretReachesTheLogs) {
  const std::string key = NewOrg();
  const std::string st = Call("POST", "/sessions/", key).body["token"];
  auto [id, pidx] = Start(st);
  Pay(pidx);
  FollowToServer("http://127.0.0.1:" + std::to_string(server_port_) +
                 "/billing/khalti/callback/?pidx=" + pidx);
  Verify(st, id);
  SetFaults({{"lookup_http_500", true}});
  auto [id2, pidx2] = Start(key);
  Verify(key, id2);
  // eSewa: init (signs the form), pay, the signed callback, verify, a forged callback.
  Response esewa = EsewaInit(st, "PRO");
  ASSERT_EQ(esewa.status, 201) << esewa.raw;
  EXPECT_EQ(esewa.raw.find(kEsewaKey), std::string::npos);
  const Json fields = esewa.body["fields"];
  EXPECT_EQ(EsewaPostForm(fields), 200);
  const std::string data_url = EsewaPay(fields["transaction_uuid"]);
  FollowToServer(data_url);
  EsewaVerify(st, esewa.body["payment_id"]);
  FollowToServer(data_url + "x");
  KillServer(SIGTERM);  // flushes the access log
  const std::string logs = ReadFile(access_log_) + ReadFile(server_stderr_);
  EXPECT_FALSE(logs.empty());
  EXPECT_EQ(logs.find(kKhaltiKey), std::string::npos);
  EXPECT_EQ(logs.find(kEsewaKey), std::string::npos);
  EXPECT_EQ(logs.find("Authorization"), std::string::npos);
  EXPECT_EQ(logs.find(key), std::string::npos);
  EXPECT_EQ(logs.find(st), std::string::npos);
  EXPECT_EQ(logs.find(kAdminToken), std::string::npos);
}

}  // namespace
}  // namespace sima::integration
