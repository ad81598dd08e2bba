// Every Khalti fault switch, seen from the client's side.
#include "sim_fixture.h"

namespace sima::simulator::testing {
namespace {

class SimKhaltiFaults : public SimTest {};

TEST_F(SimKhaltiFaults, LookupDelayMakesAClientTimeOut) {
  const std::string pidx = Initiate();
  SetFaults({{"lookup_delay_ms", 3000}});
  auto res = Lookup(pidx, 200);
  ASSERT_FALSE(res);
  EXPECT_EQ(res.error(), httplib::Error::Read);
  SetFaults({{"lookup_delay_ms", 0}});
  EXPECT_TRUE(Lookup(pidx));
}

TEST_F(SimKhaltiFaults, LookupHttp500ForTheNextTwoLookups) {
  const std::string pidx = Initiate();
  SetFaults({{"lookup_http_500", 2}});
  for (int i = 0; i < 2; ++i) {
    auto res = Lookup(pidx);
    ASSERT_TRUE(res);
    EXPECT_EQ(res->status, 500);
    EXPECT_NE(res->body.find("Server Error (500)"), std::string::npos);
  }
  auto res = Lookup(pidx);
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200);
  EXPECT_EQ(json::parse(HttpClient().Get("/_sim/faults")->body)["lookup_http_500"], false);
}

TEST_F(SimKhaltiFaults, LookupMalformedAnswers200WithABodyThatIsNotJson) {
  const std::string pidx = Initiate();
  SetFaults({{"lookup_malformed", true}});
  auto res = Lookup(pidx);
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200);
  EXPECT_EQ(res->body.rfind("{\"pidx\":", 0), 0U);
  EXPECT_TRUE(json::parse(res->body, nullptr, false).is_discarded()) << res->body;
}

TEST_F(SimKhaltiFaults, LookupResetIsAClientSideError) {
  const std::string pidx = Initiate();
  SetFaults({{"lookup_reset", 1}});
  auto res = Lookup(pidx);
  EXPECT_FALSE(res);
  EXPECT_TRUE(Lookup(pidx));  // used once only
}

TEST_F(SimKhaltiFaults, InitiateHttp500) {
  SetFaults({{"initiate_http_500", true}});
  auto res = PostJson("/api/v2/epayment/initiate/", InitiateBody());
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 500);
  EXPECT_EQ(json::parse(HttpClient().Get("/_sim/payments")->body)["khalti"].size(), 0U);
}

TEST_F(SimKhaltiFaults, AmountDeltaChangesTheLookupTotal) {
  const std::string pidx = Initiate();
  SetFaults({{"amount_delta_paisa", -100}});
  EXPECT_EQ(json::parse(Lookup(pidx)->body)["total_amount"], 389900);
}

TEST_F(SimKhaltiFaults, RedirectTwiceDeliversTheSameGetAgain) {
  CountingServer merchant;
  json body = InitiateBody();
  body["return_url"] = merchant.Url("/khalti/callback/");
  const std::string pidx = Initiate(body);
  SetFaults({{"redirect_mode", "twice"}, {"duplicate_delay_ms", 0}});
  auto res = Control("/_sim/khalti/" + pidx + "/pay");
  ASSERT_EQ(res->status, 200);
  EXPECT_EQ(merchant.WaitFor(1), 1);  // the simulator's own delivery
  const Location loc = ParseLocation(json::parse(res->body)["redirect_url"]);
  httplib::Client browser("127.0.0.1", std::stoi(loc.base.substr(loc.base.rfind(':') + 1)));
  const std::string url = json::parse(res->body)["redirect_url"];
  ASSERT_TRUE(browser.Get(url.substr(url.find("/khalti/callback/"))));
  EXPECT_EQ(merchant.WaitFor(2), 2);
}

TEST_F(SimKhaltiFaults, RedirectNeverShowsAClosingPage) {
  const std::string pidx = Initiate();
  SetFaults({{"redirect_mode", "never"}});
  auto res = PostForm("/khalti/pay/", {{"pidx", pidx},
                                       {"khalti_id", "9800000001"},
                                       {"mpin", "1111"},
                                       {"otp", "987654"},
                                       {"action", "pay"}});
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200);
  EXPECT_FALSE(res->has_header("Location"));
  EXPECT_NE(res->body.find("Payment received. You may close this window."), std::string::npos);
  EXPECT_EQ(json::parse(Lookup(pidx)->body)["status"], "Completed");
  const std::string other = Initiate();
  res = Control("/_sim/khalti/" + other + "/pay");
  EXPECT_TRUE(json::parse(res->body)["redirect_url"].is_null());
}

TEST_F(SimKhaltiFaults, PendingThenCompleteCompletesAfterTheDelay) {
  const std::string pidx = Initiate();
  SetFaults({{"redirect_mode", "pending_then_complete"}, {"pending_complete_ms", 5000}});
  auto res = Control("/_sim/khalti/" + pidx + "/pay");
  ASSERT_EQ(res->status, 200);
  const Location loc = ParseLocation(json::parse(res->body)["redirect_url"]);
  EXPECT_EQ(loc.Param("status"), "Pending");
  EXPECT_EQ(loc.Param("transaction_id"), "");
  auto looked = json::parse(Lookup(pidx)->body);
  EXPECT_EQ(looked["status"], "Pending");
  EXPECT_TRUE(looked["transaction_id"].is_null());
  Advance(std::chrono::milliseconds(4999));
  EXPECT_EQ(json::parse(Lookup(pidx)->body)["status"], "Pending");
  Advance(std::chrono::milliseconds(1));
  looked = json::parse(Lookup(pidx)->body);
  EXPECT_EQ(looked["status"], "Completed");
  EXPECT_TRUE(looked["transaction_id"].is_string());
}

class SimKhaltiStartupFaults : public SimTest {
  void Configure(Options& o) override { o.faults.lookup_http_500 = Switch::Always(); }
};

TEST_F(SimKhaltiStartupFaults, FaultsGivenAtStartApplyAndSurviveReset) {
  const std::string pidx = Initiate();
  EXPECT_EQ(Lookup(pidx)->status, 500);
  SetFaults({{"lookup_http_500", false}});
  EXPECT_EQ(Lookup(pidx)->status, 200);
  ASSERT_EQ(Control("/_sim/reset")->status, 200);
  EXPECT_EQ(json::parse(HttpClient().Get("/_sim/faults")->body)["lookup_http_500"], true);
  EXPECT_EQ(Lookup(pidx)->status, 500);
}

}  // namespace
}  // namespace sima::simulator::testing
