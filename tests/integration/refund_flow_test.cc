// Refunds against the real simulator and server: Khalti's refund API (full, partial, refused,
// an answer lost and settled by lookup on the repeat), a plan_conflict payment, an eSewa
// refund recorded by hand, idempotent repeats and bad input that changes nothing.
#include "harness.h"

namespace sima::integration {
namespace {

class IntegrationRefund : public IntegrationTest {
 protected:
  void SetUp() override {
    IntegrationTest::SetUp();
    if (HasFatalFailure()) return;
    StartServer();
  }
  // A Khalti payment of `plan`, paid and verified: its id and pidx.
  std::pair<int64_t, std::string> Paid(const std::string& key, const std::string& plan = "PRO") {
    auto [id, pidx] = Started(key, plan);
    PayAndVerify(key, id, pidx);
    return {id, pidx};
  }
  std::pair<int64_t, std::string> Started(const std::string& key, const std::string& plan) {
    Response r = Init(key, plan);
    EXPECT_EQ(r.status, 201) << r.raw;
    return {r.body.value("payment_id", int64_t{0}), r.body.value("pidx", "")};
  }
  void PayAndVerify(const std::string& key, int64_t id, const std::string& pidx) {
    EXPECT_FALSE(Pay(pidx).empty());
    Response v = Verify(key, id, pidx);
    EXPECT_EQ(v.status, 200) << v.raw;
  }
  Response Refund(int64_t id, const Json& body, const std::string& idempotency_key) {
    httplib::Headers headers;
    if (!idempotency_key.empty()) headers.emplace("Idempotency-Key", idempotency_key);
    return Call("POST", "/admin/payments/" + std::to_string(id) + "/refunds/", kAdminToken, body,
                headers);
  }
  int64_t Events(const std::string& type) {
    return CountRows("SELECT COUNT(*) FROM webhook_events WHERE type = '" + type + "'");
  }
  // The simulator's record of the Khalti payment `pidx`.
  Json SimPayment(const std::string& pidx) {
    Response all = SimCall("GET", "/_sim/payments");
    for (const Json& p : all.body.value("khalti", Json::array())) {
      if (p.value("pidx", "") == pidx) return p;
    }
    return Json::object();
  }
};

TEST_F(IntegrationRefund, AFullKhaltiRefundOfTheActivePlanFallsToFreeOnceWithItsEvents) {
  const std::string key = NewOrg();
  const auto [id, pidx] = Paid(key);
  ASSERT_EQ(Plan(key), "PRO");

  Response r = Refund(id, {{"reason", "the customer asked"}}, "refund-1");
  ASSERT_EQ(r.status, 201) << r.raw;
  EXPECT_EQ(r.body["refund"]["status"], "succeeded");
  EXPECT_EQ(r.body["refund"]["method"], "khalti");
  EXPECT_EQ(r.body["refund"]["amount_paisa"], 390000);
  EXPECT_EQ(r.body["refund"]["detail"], "Transaction refund successful.");
  EXPECT_EQ(r.body["payment"]["status"], "REFUNDED");
  EXPECT_EQ(r.body["payment"]["refunded_paisa"], 390000);
  EXPECT_EQ(Plan(key), "FREE");
  EXPECT_EQ(SimPayment(pidx).value("status", ""), "Refunded");
  EXPECT_EQ(SimPayment(pidx).value("refunded_paisa", 0), 390000);

  EXPECT_EQ(Events("payment.refunded"), 1);
  EXPECT_EQ(Events("subscription.expired"), 1);
  EXPECT_EQ(CountRows("SELECT COUNT(*) FROM payment_events WHERE cause = 'refund' AND "
                      "from_status = 'SUCCESS' AND to_status = 'REFUNDED'"),
            1);
  EXPECT_EQ(CountRows("SELECT COUNT(*) FROM plan_changes WHERE cause = 'refund' AND "
                      "kind = 'ended' AND to_plan = 'FREE'"),
            1);
  // The event's data is the payment, the refund and the subscription after the change.
  Response list = Call("GET", "/billing/payments/" + std::to_string(id) + "/", key);
  EXPECT_EQ(list.body["refunded_paisa"], 390000);

  // The same call again answers the same refund and writes nothing.
  Response again = Refund(id, {{"reason", "the customer asked"}}, "refund-1");
  ASSERT_EQ(again.status, 201) << again.raw;
  EXPECT_EQ(again.body["refund"]["refund_id"], r.body["refund"]["refund_id"]);
  EXPECT_EQ(CountRows("SELECT COUNT(*) FROM refunds"), 1);
  EXPECT_EQ(Events("payment.refunded"), 1);
  // A new refund of a REFUNDED payment is a conflict.
  Response more = Refund(id, {{"reason", "again"}, {"amount_paisa", 1000}}, "refund-2");
  EXPECT_EQ(more.status, 409) << more.raw;
  EXPECT_EQ(CountRows("SELECT COUNT(*) FROM refunds"), 1);

  Response listed = Call("GET", "/admin/payments/" + std::to_string(id) + "/refunds/", kAdminToken);
  ASSERT_EQ(listed.status, 200) << listed.raw;
  ASSERT_EQ(listed.body["items"].size(), 1u);
  Response admin_view = Call("GET", "/admin/payments/" + std::to_string(id) + "/", kAdminToken);
  ASSERT_EQ(admin_view.status, 200) << admin_view.raw;
  EXPECT_EQ(admin_view.body["status"], "REFUNDED");
  EXPECT_TRUE(admin_view.body["org_id"].is_string());
}

TEST_F(IntegrationRefund, APartialRefundWithKeepPlanKeepsTheProPlanAndRefusesAnOverRefund) {
  const std::string key = NewOrg();
  const auto [id, pidx] = Paid(key);
  Response r =
      Refund(id, {{"reason", "an outage day"}, {"amount_paisa", 100000}, {"keep_plan", true}},
             "partial-1");
  ASSERT_EQ(r.status, 201) << r.raw;
  EXPECT_EQ(r.body["payment"]["status"], "SUCCESS");
  EXPECT_EQ(r.body["payment"]["refunded_paisa"], 100000);
  EXPECT_EQ(r.body["refund"]["keep_plan"], true);
  EXPECT_EQ(Plan(key), "PRO");
  EXPECT_EQ(SimPayment(pidx).value("status", ""), "Partially Refunded");
  EXPECT_EQ(Events("payment.refunded"), 1);
  EXPECT_EQ(Events("subscription.expired"), 0);

  Response over = Refund(id, {{"reason", "too much"}, {"amount_paisa", 290001}}, "partial-2");
  EXPECT_EQ(over.status, 400) << over.raw;
  EXPECT_EQ(over.code(), "validation_error");
  EXPECT_EQ(over.body["field"], "amount_paisa");
  EXPECT_EQ(CountRows("SELECT COUNT(*) FROM refunds"), 1);
  EXPECT_EQ(SimPayment(pidx).value("refunded_paisa", 0), 100000);
  // The same key with another amount is a conflict, not a second refund.
  Response other = Refund(id, {{"reason", "x"}, {"amount_paisa", 5000}}, "partial-1");
  EXPECT_EQ(other.status, 409) << other.raw;
  EXPECT_EQ(other.body["field"], "idempotency_key");
}

TEST_F(IntegrationRefund, APlanConflictPaymentIsRefundedAndStopsNeedingAttention) {
  const std::string key = NewOrg();
  const auto [basic_id, basic_pidx] = Started(key, "BASIC");
  Paid(key, "PRO");
  PayAndVerify(key, basic_id, basic_pidx);  // paid while PRO is active: plan_conflict
  Response before = GetPayment(key, basic_id);
  ASSERT_EQ(before.body["reason"], "plan_conflict: refund due") << before.raw;
  ASSERT_EQ(before.body["needs_attention"], true);

  Response r = Refund(basic_id, {{"reason", "paid twice"}}, "conflict-1");
  ASSERT_EQ(r.status, 201) << r.raw;
  EXPECT_EQ(r.body["payment"]["status"], "REFUNDED");
  EXPECT_EQ(r.body["payment"]["needs_attention"], false);
  EXPECT_EQ(r.body["payment"]["reason"], "plan_conflict: refunded");
  EXPECT_EQ(Plan(key), "PRO");
  EXPECT_EQ(Events("payment.refunded"), 1);
  EXPECT_EQ(Events("subscription.expired"), 0);
  EXPECT_EQ(CountRows("SELECT COUNT(*) FROM plan_changes WHERE cause = 'refund'"), 0);
}

TEST_F(IntegrationRefund, KhaltisRefusalFailsTheRefundAndChangesNothingElse) {
  const std::string key = NewOrg();
  const auto [id, pidx] = Paid(key);
  SetFaults({{"refund_refuse", 1}});
  Response r = Refund(id, {{"reason", "asked"}}, "refused-1");
  EXPECT_EQ(r.status, 502) << r.raw;
  EXPECT_EQ(r.code(), "gateway_error");
  EXPECT_NE(r.body.value("error", "").find("Refund could not be processed."), std::string::npos)
      << r.raw;
  EXPECT_EQ(r.body["refund"]["status"], "failed");
  EXPECT_EQ(Plan(key), "PRO");
  EXPECT_EQ(GetPayment(key, id).body["status"], "SUCCESS");
  EXPECT_EQ(Events("payment.refunded"), 0);
  EXPECT_EQ(SimPayment(pidx).value("refunded_paisa", -1), 0);
  // A new key asks again, and this time Khalti refunds.
  Response next = Refund(id, {{"reason", "asked"}}, "refused-2");
  EXPECT_EQ(next.status, 201) << next.raw;
  EXPECT_EQ(Plan(key), "FREE");
}

TEST_F(IntegrationRefund, AnEsewaRefundIsRecordedByHandWithItsReference) {
  const std::string key = NewOrg();
  Response init = EsewaInit(key);
  ASSERT_EQ(init.status, 201) << init.raw;
  const int64_t id = init.body["payment_id"];
  ASSERT_EQ(EsewaPostForm(init.body["fields"]), 200);
  const std::string redirect = EsewaPay(init.body["fields"]["transaction_uuid"]);
  ASSERT_FALSE(redirect.empty());
  FollowToServer(redirect);
  ASSERT_EQ(Plan(key), "PRO");

  Response missing = Refund(id, {{"reason", "asked"}}, "esewa-1");
  EXPECT_EQ(missing.status, 400) << missing.raw;
  EXPECT_EQ(missing.body["field"], "reference");
  EXPECT_EQ(CountRows("SELECT COUNT(*) FROM refunds"), 0);

  Response r = Refund(id,
                      {{"reason", "asked"},
                       {"reference", "ESW-REF-0042"},
                       {"note", "refunded from the merchant portal"}},
                      "esewa-1");
  ASSERT_EQ(r.status, 201) << r.raw;
  EXPECT_EQ(r.body["refund"]["method"], "manual");
  EXPECT_EQ(r.body["refund"]["reference"], "ESW-REF-0042");
  EXPECT_EQ(r.body["payment"]["status"], "REFUNDED");
  EXPECT_EQ(Plan(key), "FREE");
  EXPECT_EQ(CountRows("SELECT COUNT(*) FROM payment_events WHERE cause = 'admin' AND "
                      "to_status = 'REFUNDED'"),
            1);
  EXPECT_EQ(Events("subscription.expired"), 1);
}

TEST_F(IntegrationRefund, BadInputIsRefusedAndChangesNothing) {
  const std::string key = NewOrg();
  const auto [id, pidx] = Paid(key);
  struct Case {
    Json body;
    std::string idempotency_key;
    std::string field;
  };
  const Case cases[] = {
      {{{"reason", "x"}}, "", "idempotency_key"},
      {Json::object(), "k", "reason"},
      {{{"reason", std::string(501, 'r')}}, "k", "reason"},
      {{{"reason", "x"}, {"amount_paisa", 0}}, "k", "amount_paisa"},
      {{{"reason", "x"}, {"amount_paisa", "100"}}, "k", "amount_paisa"},
      {{{"reason", "x"}, {"keep_plan", "yes"}}, "k", "keep_plan"},
      {{{"reason", "x"}, {"keep_plan", true}}, "k", "keep_plan"},  // a full refund
      {{{"reason", "x"}, {"amount_paisa", 390001}}, "k", "amount_paisa"},
      {{{"reason", "x"}, {"surprise", 1}}, "k", "surprise"},
      {{{"reason", "x"}, {"idempotency_key", "other"}}, "k", "idempotency_key"},
  };
  for (const Case& c : cases) {
    Response r = Refund(id, c.body, c.idempotency_key);
    EXPECT_EQ(r.status, 400) << c.body.dump() << " " << r.raw;
    EXPECT_EQ(r.code(), "validation_error") << r.raw;
    EXPECT_EQ(r.body.value("field", ""), c.field) << r.raw;
  }
  EXPECT_EQ(Refund(999999, {{"reason", "x"}}, "k").status, 404);
  EXPECT_EQ(Call("POST", "/admin/payments/" + std::to_string(id) + "/refunds/", key,
                 {{"reason", "x"}}, {{"Idempotency-Key", "k"}})
                .status,
            403);  // an organization's key cannot use the admin API
  EXPECT_EQ(CountRows("SELECT COUNT(*) FROM refunds"), 0);
  EXPECT_EQ(GetPayment(key, id).body["refunded_paisa"], 0);
  EXPECT_EQ(Plan(key), "PRO");
  EXPECT_EQ(SimPayment(pidx).value("refunded_paisa", -1), 0);
}

// Khalti makes the refund but its answer comes after the server stopped waiting.
class IntegrationRefundTimeout : public IntegrationRefund {
 protected:
  void SetUp() override {
    IntegrationTest::SetUp();
    if (HasFatalFailure()) return;
    server_env_["KHALTI_TIMEOUT_MS"] = "1000";
    StartServer();
  }
};

TEST_F(IntegrationRefundTimeout, ALostAnswerLeavesTheRefundPendingUntilTheRepeatLooksItUp) {
  const std::string key = NewOrg();
  const auto [id, pidx] = Paid(key);
  SetFaults({{"refund_delay_ms", 2500}});
  Response r = Refund(id, {{"reason", "asked"}}, "lost-1");
  ASSERT_EQ(r.status, 202) << r.raw;
  EXPECT_EQ(r.body["refund"]["status"], "pending");
  EXPECT_EQ(r.body["payment"]["status"], "SUCCESS");
  EXPECT_EQ(Plan(key), "PRO");  // never done on a lost answer...
  EXPECT_EQ(Events("payment.refunded"), 0);
  SetFaults({{"refund_delay_ms", 0}});
  // ... and never failed: the repeat looks the payment up and settles it, asking nothing twice.
  Response again = Refund(id, {{"reason", "asked"}}, "lost-1");
  ASSERT_EQ(again.status, 201) << again.raw;
  EXPECT_EQ(again.body["refund"]["status"], "succeeded");
  EXPECT_EQ(again.body["refund"]["detail"], "settled by lookup: khalti lookup status=Refunded");
  EXPECT_EQ(again.body["payment"]["status"], "REFUNDED");
  EXPECT_EQ(Plan(key), "FREE");
  EXPECT_EQ(SimPayment(pidx).value("refunded_paisa", 0), 390000);
  EXPECT_EQ(Events("payment.refunded"), 1);
}

}  // namespace
}  // namespace sima::integration
