// eSewa status check (eSewa ePay v2 docs) and its faults.
#include "sim_fixture.h"

namespace sima::simulator::testing {
namespace {

class SimEsewaStatus : public SimTest {
 protected:
  void SetUp() override {
    SimTest::SetUp();
    ASSERT_EQ(PostForm("/api/epay/main/v2/form", EsewaFields("s-1", "100", "0", "100"))->status,
              200);
  }
  httplib::Result CheckStatus(const std::string& uuid = "s-1", const std::string& total = "100",
                              int read_timeout_ms = 5000) {
    return HttpClient(read_timeout_ms)
        .Get("/api/epay/transaction/status/?product_code=EPAYTEST&total_amount=" + total +
             "&transaction_uuid=" + uuid);
  }
};

TEST_F(SimEsewaStatus, ReportsEveryStatus) {
  auto res = CheckStatus();
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200);
  EXPECT_EQ(
      res->body,
      R"({"product_code":"EPAYTEST","transaction_uuid":"s-1","total_amount":100.0,"status":"PENDING","ref_id":null})");
  for (const char* s : {"COMPLETE", "FULL_REFUND", "PARTIAL_REFUND", "AMBIGUOUS", "CANCELED",
                        "NOT_FOUND", "PENDING"}) {
    ASSERT_EQ(Control("/_sim/esewa/s-1/status", {{"status", s}})->status, 200);
    res = CheckStatus();
    ASSERT_TRUE(res);
    EXPECT_EQ(res->status, 200);
    const json body = json::parse(res->body);
    EXPECT_EQ(body["status"], s);
    EXPECT_EQ(body["total_amount"], 100.0);
    if (std::string(s) != "PENDING" && std::string(s) != "NOT_FOUND") {
      EXPECT_TRUE(body["ref_id"].is_string()) << s;
    }
  }
}

TEST_F(SimEsewaStatus, PaidPaymentCarriesItsTransactionCode) {
  auto paid = Control("/_sim/esewa/s-1/pay");
  const json d =
      json::parse(*sima::crypto::Base64Decode(json::parse(paid->body)["data"].get<std::string>()));
  const json body = json::parse(CheckStatus("s-1", "100.0")->body);
  EXPECT_EQ(body["status"], "COMPLETE");
  EXPECT_EQ(body["ref_id"], d["transaction_code"]);
}

TEST_F(SimEsewaStatus, UnknownUuidOrWrongTotalIsNotFound) {
  EXPECT_EQ(json::parse(CheckStatus("other")->body)["status"], "NOT_FOUND");
  const json body = json::parse(CheckStatus("s-1", "99")->body);
  EXPECT_EQ(body["status"], "NOT_FOUND");
  EXPECT_TRUE(body["ref_id"].is_null());
}

TEST_F(SimEsewaStatus, AnUnpaidSessionExpiresToNotFound) {
  Advance(std::chrono::seconds(1800));
  EXPECT_EQ(json::parse(CheckStatus()->body)["status"], "NOT_FOUND");
  auto page = HttpClient().Get("/esewa/pay/?transaction_uuid=s-1");
  EXPECT_EQ(page->status, 410);
}

TEST_F(SimEsewaStatus, OutageAnswers200WithoutAStatus) {
  SetFaults({{"esewa_status_outage", 1}});
  auto res = CheckStatus();
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200);
  EXPECT_EQ(res->body, R"({"code":0,"error_message":"Service is currently unavailable"})");
  EXPECT_EQ(json::parse(CheckStatus()->body)["status"], "PENDING");
}

TEST_F(SimEsewaStatus, Http500MalformedResetAndDelay) {
  SetFaults({{"esewa_status_http_500", 1}});
  EXPECT_EQ(CheckStatus()->status, 500);
  SetFaults({{"esewa_status_malformed", 1}});
  auto res = CheckStatus();
  ASSERT_TRUE(res);
  EXPECT_TRUE(json::parse(res->body, nullptr, false).is_discarded());
  SetFaults({{"esewa_status_reset", 1}});
  EXPECT_FALSE(CheckStatus());
  SetFaults({{"esewa_status_delay_ms", 3000}});
  EXPECT_FALSE(CheckStatus("s-1", "100", 200));
  SetFaults({{"esewa_status_delay_ms", 0}});
  EXPECT_EQ(CheckStatus()->status, 200);
}

TEST_F(SimEsewaStatus, AmountDeltaChangesTheReportedTotal) {
  SetFaults({{"esewa_amount_delta_paisa", 50}});
  EXPECT_EQ(json::parse(CheckStatus()->body)["total_amount"], 100.5);
}

}  // namespace
}  // namespace sima::simulator::testing
