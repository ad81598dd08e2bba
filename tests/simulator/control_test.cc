// The /_sim/ control API.
#include "sim_fixture.h"

namespace sima::simulator::testing {
namespace {

class SimControl : public SimTest {};

TEST_F(SimControl, FaultsCanBeReadAndPatched) {
  auto c = HttpClient();
  auto res = c.Get("/_sim/faults");
  ASSERT_TRUE(res);
  EXPECT_EQ(json::parse(res->body), FaultsToJson(Faults{}));
  res =
      c.Put("/_sim/faults", R"({"lookup_http_500":2,"redirect_mode":"twice"})", "application/json");
  ASSERT_EQ(res->status, 200);
  EXPECT_EQ(json::parse(res->body)["lookup_http_500"], 2);
  EXPECT_EQ(json::parse(res->body)["redirect_mode"], "twice");
  res = c.Post("/_sim/faults", R"({"esewa_status_outage":true})", "application/json");
  ASSERT_EQ(res->status, 200);
  EXPECT_EQ(json::parse(res->body)["lookup_http_500"], 2);  // partial update keeps the rest
  EXPECT_EQ(sim_->faults().esewa_status_outage.armed(), true);
}

TEST_F(SimControl, ABadFaultPatchIs400AndChangesNothing) {
  auto res =
      HttpClient().Put("/_sim/faults", R"({"lookup_reset":true,"bogus":1})", "application/json");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 400);
  EXPECT_EQ(json::parse(res->body)["error"], "unknown fault 'bogus'");
  EXPECT_FALSE(sim_->faults().lookup_reset.armed());
  res = HttpClient().Put("/_sim/faults", "nope", "application/json");
  EXPECT_EQ(res->status, 400);
}

TEST_F(SimControl, ResetForgetsPaymentsAndFaults) {
  const std::string pidx = Initiate();
  SetFaults({{"lookup_reset", true}});
  ASSERT_EQ(json::parse(HttpClient().Get("/_sim/payments")->body)["khalti"].size(), 1U);
  auto res = Control("/_sim/reset");
  ASSERT_EQ(res->status, 200);
  EXPECT_EQ(json::parse(HttpClient().Get("/_sim/payments")->body),
            (json{{"khalti", json::array()}, {"esewa", json::array()}}));
  EXPECT_EQ(Lookup(pidx)->status, 404);
}

TEST_F(SimControl, PaymentsListEveryPaymentWithItsState) {
  const std::string pidx = Initiate();
  ASSERT_EQ(PostForm("/api/epay/main/v2/form", EsewaFields("uuid-1"))->status, 200);
  const json all = json::parse(HttpClient().Get("/_sim/payments")->body);
  ASSERT_EQ(all["khalti"].size(), 1U);
  EXPECT_EQ(all["khalti"][0]["pidx"], pidx);
  EXPECT_EQ(all["khalti"][0]["status"], "Initiated");
  EXPECT_EQ(all["khalti"][0]["amount"], 390000);
  ASSERT_EQ(all["esewa"].size(), 1U);
  EXPECT_EQ(all["esewa"][0]["transaction_uuid"], "uuid-1");
  EXPECT_EQ(all["esewa"][0]["status"], "PENDING");
  EXPECT_EQ(sim_->Payments(), all);
  auto one = HttpClient().Get("/_sim/khalti/" + pidx);
  ASSERT_EQ(one->status, 200);
  EXPECT_EQ(json::parse(one->body)["pidx"], pidx);
}

TEST_F(SimControl, ForcingAStatusNeedsOne) {
  const std::string pidx = Initiate();
  EXPECT_EQ(Control("/_sim/khalti/" + pidx + "/status", json::object())->status, 400);
  EXPECT_EQ(Control("/_sim/khalti/nope/status", {{"status", "Completed"}})->status, 404);
  auto res = Control("/_sim/khalti/" + pidx + "/status", {{"status", "partially refunded"}});
  EXPECT_EQ(json::parse(res->body)["status"], "Partially Refunded");
}

TEST_F(SimControl, UnknownPathsAnswerJson404) {
  auto res = HttpClient().Get("/nothing/here");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 404);
  EXPECT_EQ(json::parse(res->body), (json{{"detail", "Not found."}}));
}

TEST_F(SimControl, IndexPageSaysStateIsInMemory) {
  auto res = HttpClient().Get("/");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200);
  EXPECT_NE(res->body.find("memory only"), std::string::npos);
}

}  // namespace
}  // namespace sima::simulator::testing
