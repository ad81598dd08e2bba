// Khalti's hosted payment page and the §1.5 redirect to return_url.
#include "sim_fixture.h"

namespace sima::simulator::testing {
namespace {

class SimKhaltiPage : public SimTest {
 protected:
  httplib::Result Submit(const std::string& pidx, const std::string& action,
                         const std::string& id = "9800000904" /* not a test ID */,
                         const std::string& mpin = "1111", const std::string& otp = "987654") {
    return PostForm(
        "/khalti/pay/",
        {{"pidx", pidx}, {"khalti_id", id}, {"mpin", mpin}, {"otp", otp}, {"action", action}});
  }
  std::string StatusOf(const std::string& pidx) {
    return json::parse(Lookup(pidx)->body)["status"];
  }
};

TEST_F(SimKhaltiPage, ShowsTheOrderTheFormAndTheSandboxHint) {
  json body = InitiateBody();
  body["purchase_order_name"] = "PRO <plan> & \"more\"";
  const std::string pidx = Initiate(body);
  auto res = HttpClient().Get("/khalti/pay/?pidx=" + pidx);
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200);
  const std::string& html = res->body;
  EXPECT_NE(html.find("PRO &lt;plan&gt; &amp; &quot;more&quot;"), std::string::npos);
  EXPECT_EQ(html.find("<plan>"), std::string::npos);
  EXPECT_NE(html.find("Rs. 3,900.00"), std::string::npos);
  EXPECT_NE(html.find("shop.example.com"), std::string::npos);
  EXPECT_NE(html.find("Sandbox: use <code>9800000001</code> / <code>1111</code> / "
                      "<code>987654</code>"),
            std::string::npos);
  for (const char* id : {"khalti_id", "mpin", "otp"}) {
    EXPECT_NE(html.find(std::string("<label for=\"") + id + "\">"), std::string::npos) << id;
    EXPECT_NE(html.find(std::string("<input id=\"") + id + "\""), std::string::npos) << id;
  }
  EXPECT_NE(html.find("value=\"pay\""), std::string::npos);
  EXPECT_NE(html.find("value=\"cancel\" formnovalidate"), std::string::npos);
  EXPECT_EQ(html.find("<script"), std::string::npos);
  EXPECT_NE(html.find("memory only"), std::string::npos);
}

TEST_F(SimKhaltiPage, UnknownPidxShowsNotFound) {
  auto res = HttpClient().Get("/khalti/pay/?pidx=nope");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 404);
  EXPECT_NE(res->body.find("Payment not found"), std::string::npos);
}

TEST_F(SimKhaltiPage, WrongCredentialsShowThePageAgainWithAnError) {
  const std::string pidx = Initiate();
  for (auto [id, mpin, otp] :
       {std::tuple{"9800000006", "1111", "987654"}, std::tuple{"9800000001", "2222", "987654"},
        std::tuple{"9800000001", "1111", "123456"}}) {
    auto res = Submit(pidx, "pay", id, mpin, otp);
    ASSERT_TRUE(res);
    EXPECT_EQ(res->status, 400);
    EXPECT_NE(res->body.find("role=\"alert\">Incorrect Khalti ID, MPIN or OTP"), std::string::npos);
    EXPECT_NE(res->body.find("value=\"" + std::string(id) + "\""), std::string::npos);
  }
  EXPECT_EQ(StatusOf(pidx), "Initiated");
}

TEST_F(SimKhaltiPage, PayRedirectsWithTheDocumentedParameters) {
  json body = InitiateBody();
  body["return_url"] = "http://shop.example.com/khalti/callback/?payment_id=42";
  body["purchase_order_name"] = "PRO plan";
  const std::string pidx = Initiate(body);
  auto res = Submit(pidx, "pay", "9800000904");
  // 9800000904 is not a test ID; use one that is.
  ASSERT_EQ(res->status, 400);
  res = Submit(pidx, "pay", "9800000004");
  ASSERT_TRUE(res);
  ASSERT_EQ(res->status, 302);
  const std::string location = res->get_header_value("Location");
  EXPECT_EQ(location.rfind("http://shop.example.com/khalti/callback/?payment_id=42&pidx=", 0), 0U)
      << location;
  // (httplib 0.11.4's client percent-decodes header values, so the exact
  // encoding on the wire is checked through the control API below.)
  const Location loc = ParseLocation(location);
  std::vector<std::string> names;
  for (const auto& [k, v] : loc.params) names.push_back(k);
  EXPECT_EQ(names, (std::vector<std::string>{
                       "payment_id", "pidx", "txnId", "amount", "total_amount", "status", "mobile",
                       "tidx", "purchase_order_id", "purchase_order_name", "transaction_id"}));
  const std::string txn = loc.Param("transaction_id");
  EXPECT_EQ(loc.Param("payment_id"), "42");
  EXPECT_EQ(loc.Param("pidx"), pidx);
  EXPECT_TRUE(MadeOf(txn, kBase57, 22)) << txn;
  EXPECT_EQ(loc.Param("txnId"), txn);
  EXPECT_EQ(loc.Param("tidx"), txn);
  EXPECT_EQ(loc.Param("amount"), "390000");
  EXPECT_EQ(loc.Param("total_amount"), "390000");
  EXPECT_EQ(loc.Param("status"), "Completed");
  EXPECT_EQ(loc.Param("mobile"), "98XXXXX004");
  EXPECT_EQ(loc.Param("purchase_order_id"), "pay-42");
  EXPECT_EQ(loc.Param("purchase_order_name"), "PRO plan");

  auto looked = Lookup(pidx);
  ASSERT_EQ(looked->status, 200);
  EXPECT_EQ(json::parse(looked->body)["status"], "Completed");
  EXPECT_EQ(json::parse(looked->body)["transaction_id"], txn);
  // Paying twice is refused: the page says it is already done.
  res = Submit(pidx, "pay", "9800000004");
  EXPECT_EQ(res->status, 409);
  EXPECT_NE(res->body.find("already"), std::string::npos);
}

TEST_F(SimKhaltiPage, AReturnUrlWithoutQueryGetsAQuestionMark) {
  const std::string pidx = Initiate();
  auto res = Submit(pidx, "pay", "9800000001");
  ASSERT_EQ(res->status, 302);
  EXPECT_EQ(res->get_header_value("Location")
                .rfind("http://shop.example.com/khalti/callback/?pidx=" + pidx + "&txnId=", 0),
            0U);
}

TEST_F(SimKhaltiPage, CancelRedirectsWithUserCanceledAndEmptyIds) {
  const std::string pidx = Initiate();
  auto res = Submit(pidx, "cancel", "", "", "");
  ASSERT_TRUE(res);
  ASSERT_EQ(res->status, 302);
  const Location loc = ParseLocation(res->get_header_value("Location"));
  EXPECT_EQ(loc.Param("status"), "User canceled");
  EXPECT_EQ(loc.Param("transaction_id"), "");
  EXPECT_EQ(loc.Param("tidx"), "");
  EXPECT_EQ(loc.Param("mobile"), "");
  EXPECT_FALSE(loc.Has("txnId"));
  auto looked = Lookup(pidx);
  EXPECT_EQ(looked->status, 400);
  EXPECT_EQ(json::parse(looked->body)["status"], "User canceled");
}

TEST_F(SimKhaltiPage, RedirectsAreExactlyEncoded) {
  const std::string pidx = Initiate();
  auto res = Control("/_sim/khalti/" + pidx + "/cancel");
  ASSERT_EQ(res->status, 200);
  EXPECT_EQ(json::parse(res->body)["redirect_url"],
            "http://shop.example.com/khalti/callback/?pidx=" + pidx +
                "&transaction_id=&tidx=&amount=390000&total_amount=390000&mobile="
                "&status=User%20canceled&purchase_order_id=pay-42"
                "&purchase_order_name=PRO%20plan");
  const std::string paid = Initiate();
  res = Control("/_sim/khalti/" + paid + "/pay");
  const std::string url = json::parse(res->body)["redirect_url"];
  const std::string txn = ParseLocation(url).Param("transaction_id");
  EXPECT_EQ(url, "http://shop.example.com/khalti/callback/?pidx=" + paid + "&txnId=" + txn +
                     "&amount=390000&total_amount=390000&status=Completed&mobile=98XXXXX001"
                     "&tidx=" +
                     txn +
                     "&purchase_order_id=pay-42&purchase_order_name=PRO%20plan"
                     "&transaction_id=" +
                     txn);
}

TEST_F(SimKhaltiPage, ControlPayAnswersTheRedirectWithoutFollowingIt) {
  const std::string pidx = Initiate();
  auto res = Control("/_sim/khalti/" + pidx + "/pay", {{"mobile", "9800000002"}});
  ASSERT_TRUE(res);
  ASSERT_EQ(res->status, 200) << res->body;
  const json body = json::parse(res->body);
  EXPECT_EQ(body["status"], "Completed");
  const Location loc = ParseLocation(body["redirect_url"]);
  EXPECT_EQ(loc.base, "http://shop.example.com/khalti/callback/");
  EXPECT_EQ(loc.Param("mobile"), "98XXXXX002");
  EXPECT_EQ(loc.Param("status"), "Completed");
  res = Control("/_sim/khalti/" + pidx + "/pay");
  EXPECT_EQ(res->status, 409);
  res = Control("/_sim/khalti/nope/pay");
  EXPECT_EQ(res->status, 404);
}

TEST_F(SimKhaltiPage, ControlCancelAnswersTheCancelRedirect) {
  const std::string pidx = Initiate();
  auto res = Control("/_sim/khalti/" + pidx + "/cancel");
  ASSERT_EQ(res->status, 200);
  EXPECT_EQ(ParseLocation(json::parse(res->body)["redirect_url"]).Param("status"), "User canceled");
}

}  // namespace
}  // namespace sima::simulator::testing
