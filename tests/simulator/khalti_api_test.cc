// Khalti initiate and lookup as Khalti's ePayment docs describe them.
#include "sim_fixture.h"

namespace sima::simulator::testing {
namespace {

class SimKhalti : public SimTest {};

const json kNotProvided = {{"detail", "Authentication credentials were not provided."},
                           {"status_code", 401}};

TEST_F(SimKhalti, RejectsInitiateWithoutAuthorization) {
  auto res = PostJson("/api/v2/epayment/initiate/", InitiateBody(), "");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 401);
  EXPECT_EQ(json::parse(res->body), kNotProvided);
}

TEST_F(SimKhalti, RejectsInitiateWithoutKeyPrefix) {
  auto res = PostJson("/api/v2/epayment/initiate/", InitiateBody(), kKhaltiKey);
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 401);
  EXPECT_EQ(json::parse(res->body), kNotProvided);
  res = PostJson("/api/v2/epayment/initiate/", InitiateBody(), std::string("Bearer ") + kKhaltiKey);
  ASSERT_TRUE(res);
  EXPECT_EQ(json::parse(res->body), kNotProvided);
}

TEST_F(SimKhalti, RejectsAWrongKeyAsInvalidToken) {
  auto res = PostJson("/api/v2/epayment/initiate/", InitiateBody(), "Key live_secret_key_wrong");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 401);
  EXPECT_EQ(json::parse(res->body), (json{{"detail", "Invalid token."}, {"status_code", 401}}));
  res = Lookup("whatever");  // the right key still works for lookup
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 404);
}

TEST_F(SimKhalti, AcceptsTheLowercaseKeyPrefixOfTheDocSamples) {
  auto res =
      PostJson("/api/v2/epayment/initiate/", InitiateBody(), std::string("key ") + kKhaltiKey);
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200) << res->body;
}

TEST_F(SimKhalti, ReportsEveryBlankFieldInOneBody) {
  auto res = PostJson("/api/v2/epayment/initiate/",
                      {{"return_url", ""}, {"website_url", "  "}, {"amount", 1000}});
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 400);
  const json blank = {"This field may not be blank."};
  EXPECT_EQ(json::parse(res->body), (json{{"return_url", blank},
                                          {"website_url", blank},
                                          {"purchase_order_id", blank},
                                          {"purchase_order_name", blank},
                                          {"error_key", "validation_error"}}));
}

TEST_F(SimKhalti, RejectsInvalidUrls) {
  json body = InitiateBody();
  body["return_url"] = "not a url";
  body["website_url"] = "shop.example.com";
  auto res = PostJson("/api/v2/epayment/initiate/", body);
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 400);
  EXPECT_EQ(json::parse(res->body), (json{{"return_url", {"Enter a valid URL."}},
                                          {"website_url", {"Enter a valid URL."}},
                                          {"error_key", "validation_error"}}));
}

TEST_F(SimKhalti, AcceptsLocalhostAndPortsInUrls) {
  json body = InitiateBody();
  body["return_url"] = "http://localhost:8080/billing/khalti/callback/?org=1";
  body["website_url"] = "http://127.0.0.1:8080";
  EXPECT_FALSE(Initiate(body).empty());
}

TEST_F(SimKhalti, RejectsANonIntegerAmount) {
  for (json amount : {json("ten"), json(1000.5), json("1000.5"), json::array()}) {
    json body = InitiateBody();
    body["amount"] = amount;
    auto res = PostJson("/api/v2/epayment/initiate/", body);
    ASSERT_TRUE(res);
    EXPECT_EQ(res->status, 400);
    EXPECT_EQ(json::parse(res->body), (json{{"amount", {"A valid integer is required."}},
                                            {"error_key", "validation_error"}}))
        << amount.dump();
  }
}

TEST_F(SimKhalti, RejectsAnAmountBelowTenRupees) {
  json body = InitiateBody();
  body["amount"] = 999;
  auto res = PostJson("/api/v2/epayment/initiate/", body);
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 400);
  EXPECT_EQ(json::parse(res->body),
            (json{{"amount", {"Amount should be greater than Rs. 10, that is 1000 paisa."}},
                  {"error_key", "validation_error"}}));
}

TEST_F(SimKhalti, AcceptsANumericStringAmount) {
  json body = InitiateBody();
  body["amount"] = "1000";
  const std::string pidx = Initiate(body);
  auto res = Lookup(pidx);
  ASSERT_TRUE(res);
  EXPECT_EQ(json::parse(res->body)["total_amount"], 1000);
}

TEST_F(SimKhalti, ChecksTheAmountBreakdownSum) {
  json body = InitiateBody();
  body["amount_breakdown"] = {{{"label", "Mark Price"}, {"amount", 300000}},
                              {{"label", "VAT"}, {"amount", 80000}}};
  auto res = PostJson("/api/v2/epayment/initiate/", body);
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 400);
  EXPECT_EQ(json::parse(res->body),
            (json{{"amount", {"Amount Breakdown mismatch."}}, {"error_key", "validation_error"}}));
  body["amount_breakdown"][1]["amount"] = 90000;
  EXPECT_FALSE(Initiate(body).empty());
}

TEST_F(SimKhalti, RejectsABodyThatIsNotJson) {
  auto c = HttpClient();
  auto res = c.Post("/api/v2/epayment/initiate/",
                    httplib::Headers{{"Authorization", std::string("Key ") + kKhaltiKey}},
                    "amount=1000", "application/json");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 400);
  const std::string detail = json::parse(res->body)["detail"];
  EXPECT_EQ(detail.rfind("JSON parse error", 0), 0U) << detail;
}

TEST_F(SimKhalti, InitiateAnswersPidxPaymentUrlAndExpiry) {
  auto res = PostJson("/api/v2/epayment/initiate/", InitiateBody());
  ASSERT_TRUE(res);
  ASSERT_EQ(res->status, 200);
  const json body = json::parse(res->body);
  const std::string pidx = body["pidx"];
  EXPECT_TRUE(MadeOf(pidx, kBase57, 22)) << pidx;
  EXPECT_EQ(body["payment_url"], sim_->public_url() + "/khalti/pay/?pidx=" + pidx);
  // The fake clock says 15:45:00 Nepal time; the lifetime is 1800 s.
  EXPECT_EQ(body["expires_at"], "2026-11-23T16:15:00.000000+05:45");
  EXPECT_EQ(body["expires_in"], 1800);
  std::vector<std::string> keys;
  const auto ordered = nlohmann::ordered_json::parse(res->body);
  for (const auto& [k, v] : ordered.items()) keys.push_back(k);
  EXPECT_EQ(keys, (std::vector<std::string>{"pidx", "payment_url", "expires_at", "expires_in"}));
}

TEST_F(SimKhalti, LookupOfANewPaymentSaysInitiated) {
  const std::string pidx = Initiate();
  auto res = Lookup(pidx);
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200);
  EXPECT_EQ(res->body, "{\"pidx\":\"" + pidx +
                           "\",\"total_amount\":390000,\"status\":\"Initiated\",\"transaction_id\":"
                           "null,\"fee\":0,\"refunded\":false}");
}

TEST_F(SimKhalti, LookupAnswersEachStatusWithItsHttpCode) {
  struct Case {
    const char* status;
    int http;
    bool has_transaction;
    bool refunded;
  };
  for (const Case& c :
       {Case{"Initiated", 200, false, false}, Case{"Pending", 200, false, false},
        Case{"Completed", 200, true, false}, Case{"Refunded", 200, true, true},
        Case{"Partially Refunded", 200, true, true}, Case{"Expired", 400, false, false},
        Case{"User canceled", 400, false, false}}) {
    const std::string pidx = Initiate();
    auto forced = Control("/_sim/khalti/" + pidx + "/status", {{"status", c.status}});
    ASSERT_TRUE(forced);
    ASSERT_EQ(forced->status, 200) << forced->body;
    auto res = Lookup(pidx);
    ASSERT_TRUE(res);
    EXPECT_EQ(res->status, c.http) << c.status;
    const json body = json::parse(res->body);
    EXPECT_EQ(body["status"], c.status);
    EXPECT_EQ(body["transaction_id"].is_string(), c.has_transaction) << c.status;
    EXPECT_EQ(body["refunded"], c.refunded) << c.status;
    EXPECT_EQ(body["total_amount"], 390000);
  }
}

TEST_F(SimKhalti, LookupOfAnUnknownPidxIsNotFound) {
  auto res = Lookup("bZQLD9wRVWo4CdESSfuSsB");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 404);
  EXPECT_EQ(json::parse(res->body),
            (json{{"detail", "Not found."}, {"error_key", "validation_error"}}));
}

TEST_F(SimKhalti, AnUnpaidPaymentExpiresAfterItsLifetime) {
  const std::string pidx = Initiate();
  Advance(std::chrono::seconds(1799));
  EXPECT_EQ(json::parse(Lookup(pidx)->body)["status"], "Initiated");
  Advance(std::chrono::seconds(1));
  auto res = Lookup(pidx);
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 400);
  EXPECT_EQ(json::parse(res->body)["status"], "Expired");
  auto page = HttpClient().Get("/khalti/pay/?pidx=" + pidx);
  ASSERT_TRUE(page);
  EXPECT_EQ(page->status, 410);
  EXPECT_NE(page->body.find("expired"), std::string::npos);
}

class SimKhaltiShortLife : public SimTest {
  void Configure(Options& o) override { o.khalti_expiry = std::chrono::seconds(60); }
};

TEST_F(SimKhaltiShortLife, HonoursAConfiguredLifetime) {
  auto res = PostJson("/api/v2/epayment/initiate/", InitiateBody());
  ASSERT_TRUE(res);
  EXPECT_EQ(json::parse(res->body)["expires_in"], 60);
  EXPECT_EQ(json::parse(res->body)["expires_at"], "2026-11-23T15:46:00.000000+05:45");
}

}  // namespace
}  // namespace sima::simulator::testing

namespace sima::simulator::testing {
namespace {

class SimKhaltiRefund : public SimTest {
 protected:
  // A Completed payment of Rs 3,900: its pidx and transaction_id.
  std::pair<std::string, std::string> Paid() {
    const std::string pidx = Initiate();
    auto forced = Control("/_sim/khalti/" + pidx + "/status", {{"status", "Completed"}});
    EXPECT_TRUE(forced && forced->status == 200);
    const json looked = json::parse(Lookup(pidx)->body);
    return {pidx, looked.value("transaction_id", "")};
  }
  httplib::Result Refund(const std::string& txn, const std::string& body,
                         const std::string& auth = std::string("Key ") + kKhaltiKey) {
    auto c = HttpClient();
    httplib::Headers headers;
    if (!auth.empty()) headers.emplace("Authorization", auth);
    return c.Post("/api/merchant-transaction/" + txn + "/refund/", headers, body,
                  "application/json");
  }
};

TEST_F(SimKhaltiRefund, APartThenTheRestLeavesTheLookupPartiallyRefundedThenRefunded) {
  const auto [pidx, txn] = Paid();
  auto part = Refund(txn, R"({"amount": 100000})");
  ASSERT_TRUE(part);
  EXPECT_EQ(part->status, 200);
  EXPECT_EQ(json::parse(part->body), (json{{"detail", "Transaction refund successful."}}));
  json looked = json::parse(Lookup(pidx)->body);
  EXPECT_EQ(looked["status"], "Partially Refunded");
  EXPECT_EQ(looked["refunded"], true);
  auto too_much = Refund(txn, R"({"amount": 290001})");
  EXPECT_EQ(too_much->status, 400);
  EXPECT_EQ(json::parse(too_much->body)["amount"][0],
            "Refund amount exceeds the refundable amount.");
  auto rest = Refund(txn, "");  // an empty body: all that is left
  EXPECT_EQ(rest->status, 200) << rest->body;
  EXPECT_EQ(json::parse(Lookup(pidx)->body)["status"], "Refunded");
  auto again = Refund(txn, "");
  EXPECT_EQ(again->status, 400);
  EXPECT_EQ(json::parse(again->body)["detail"], "Transaction already refunded.");
}

TEST_F(SimKhaltiRefund, RefusesAnUnknownTransactionAnUnpaidPaymentAndAWrongKey) {
  EXPECT_EQ(Refund("NoSuchTransaction", "")->status, 404);
  const auto [pidx, txn] = Paid();
  EXPECT_EQ(Refund(txn, "", "Key wrong")->status, 401);
  EXPECT_EQ(Refund(txn, R"({"amount": 0})")->status, 400);
  EXPECT_EQ(json::parse(Lookup(pidx)->body)["status"], "Completed");
}

TEST_F(SimKhaltiRefund, FaultsRefuseOrFailWithoutRefunding) {
  const auto [pidx, txn] = Paid();
  ASSERT_TRUE(sim_->PatchFaults({{"refund_refuse", 1}, {"refund_http_500", 1}}).ok());
  EXPECT_EQ(Refund(txn, "")->status, 500);
  auto refused = Refund(txn, "");
  EXPECT_EQ(refused->status, 400);
  EXPECT_EQ(json::parse(refused->body)["detail"], "Refund could not be processed.");
  EXPECT_EQ(json::parse(Lookup(pidx)->body)["status"], "Completed");
  EXPECT_EQ(Refund(txn, "")->status, 200);
}

}  // namespace
}  // namespace sima::simulator::testing
