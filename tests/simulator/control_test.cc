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

TEST_F(SimControl, TheClockMovesForwardAndPaymentsAgeWithIt) {
  auto c = HttpClient();
  auto res = c.Get("/_sim/clock");
  ASSERT_TRUE(res);
  EXPECT_EQ(json::parse(res->body),
            (json{{"now", FormatTime(FixedStart())}, {"offset_seconds", 0}}));
  const std::string pidx = Initiate();
  res = c.Post("/_sim/clock", R"({"advance_seconds":1799})", "application/json");
  ASSERT_EQ(res->status, 200);
  EXPECT_EQ(json::parse(Lookup(pidx)->body)["status"], "Initiated");
  res = c.Post("/_sim/clock", R"({"advance_seconds":86400})", "application/json");
  ASSERT_EQ(res->status, 200);
  EXPECT_EQ(json::parse(res->body),
            (json{{"now", FormatTime(FixedStart() + std::chrono::seconds(88199))},
                  {"offset_seconds", 88199}}));
  EXPECT_EQ(json::parse(Lookup(pidx)->body)["status"], "Expired");
  // A new payment lives its whole lifetime from the moved clock.
  EXPECT_EQ(json::parse(Lookup(Initiate())->body)["status"], "Initiated");
  // Reset forgets payments, not the time: the clock never goes back.
  Control("/_sim/reset");
  EXPECT_EQ(json::parse(c.Get("/_sim/clock")->body)["offset_seconds"], 88199);
}

TEST_F(SimControl, TheClockRefusesAnythingButAForwardStepOfAtMost400Days) {
  auto c = HttpClient();
  for (const char* body : {R"({})", R"({"advance_seconds":0})", R"({"advance_seconds":-5})",
                           R"({"advance_seconds":1.5})", R"({"advance_seconds":"60"})",
                           R"({"advance_seconds":34560001})"}) {
    auto res = c.Post("/_sim/clock", body, "application/json");
    ASSERT_TRUE(res);
    EXPECT_EQ(res->status, 400) << body;
    EXPECT_EQ(json::parse(res->body)["error"],
              "expected {\"advance_seconds\": n}, n a whole number from 1 to 34560000 (400 days)")
        << body;
  }
  EXPECT_EQ(c.Post("/_sim/clock", "nope", "application/json")->status, 400);
  EXPECT_EQ(json::parse(c.Get("/_sim/clock")->body)["offset_seconds"], 0);
  EXPECT_EQ(c.Post("/_sim/clock", R"({"advance_seconds":34560000})", "application/json")->status,
            200);
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
