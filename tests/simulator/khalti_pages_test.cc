// Khalti's hosted payment page and the §1.5 redirect to return_url.
#include "sim_fixture.h"

namespace sima::sim::testing {
namespace {

class SimKhaltiPage : public SimTest {
 protected:
  httplib::Result submit(const std::string& pidx, const std::string& action,
                         const std::string& id = "9800000904" /* not a test ID */,
                         const std::string& mpin = "1111", const std::string& otp = "987654") {
    return post_form(
        "/khalti/pay/",
        {{"pidx", pidx}, {"khalti_id", id}, {"mpin", mpin}, {"otp", otp}, {"action", action}});
  }
  std::string status_of(const std::string& pidx) {
    return json::parse(lookup(pidx)->body)["status"];
  }
};

TEST_F(SimKhaltiPage, ShowsTheOrderTheFormAndTheSandboxHint) {
  json body = initiate_body();
  body["purchase_order_name"] = "PRO <plan> & \"more\"";
  const std::string pidx = initiate(body);
  auto res = client().Get("/khalti/pay/?pidx=" + pidx);
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
  auto res = client().Get("/khalti/pay/?pidx=nope");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 404);
  EXPECT_NE(res->body.find("Payment not found"), std::string::npos);
}

TEST_F(SimKhaltiPage, WrongCredentialsShowThePageAgainWithAnError) {
  const std::string pidx = initiate();
  for (auto [id, mpin, otp] :
       {std::tuple{"9800000006", "1111", "987654"}, std::tuple{"9800000001", "2222", "987654"},
        std::tuple{"9800000001", "1111", "123456"}}) {
    auto res = submit(pidx, "pay", id, mpin, otp);
    ASSERT_TRUE(res);
    EXPECT_EQ(res->status, 400);
    EXPECT_NE(res->body.find("role=\"alert\">Incorrect Khalti ID, MPIN or OTP"), std::string::npos);
    EXPECT_NE(res->body.find("value=\"" + std::string(id) + "\""), std::string::npos);
  }
  EXPECT_EQ(status_of(pidx), "Initiated");
}

TEST_F(SimKhaltiPage, PayRedirectsWithTheDocumentedParameters) {
  json body = initiate_body();
  body["return_url"] = "http://shop.example.com/khalti/callback/?payment_id=42";
  body["purchase_order_name"] = "PRO plan";
  const std::string pidx = initiate(body);
  auto res = submit(pidx, "pay", "9800000904");
  // 9800000904 is not a test ID; use one that is.
  ASSERT_EQ(res->status, 400);
  res = submit(pidx, "pay", "9800000004");
  ASSERT_TRUE(res);
  ASSERT_EQ(res->status, 302);
  const std::string location = res->get_header_value("Location");
  EXPECT_EQ(location.rfind("http://shop.example.com/khalti/callback/?payment_id=42&pidx=", 0), 0U)
      << location;
  // (httplib 0.11.4's client percent-decodes header values, so the exact
  // encoding on the wire is checked through the control API below.)
  const Location loc = parse_location(location);
  std::vector<std::string> names;
  for (const auto& [k, v] : loc.params) names.push_back(k);
  EXPECT_EQ(names, (std::vector<std::string>{
                       "payment_id", "pidx", "txnId", "amount", "total_amount", "status", "mobile",
                       "tidx", "purchase_order_id", "purchase_order_name", "transaction_id"}));
  const std::string txn = loc.param("transaction_id");
  EXPECT_EQ(loc.param("payment_id"), "42");
  EXPECT_EQ(loc.param("pidx"), pidx);
  EXPECT_TRUE(made_of(txn, kBase57, 22)) << txn;
  EXPECT_EQ(loc.param("txnId"), txn);
  EXPECT_EQ(loc.param("tidx"), txn);
  EXPECT_EQ(loc.param("amount"), "390000");
  EXPECT_EQ(loc.param("total_amount"), "390000");
  EXPECT_EQ(loc.param("status"), "Completed");
  EXPECT_EQ(loc.param("mobile"), "98XXXXX004");
  EXPECT_EQ(loc.param("purchase_order_id"), "pay-42");
  EXPECT_EQ(loc.param("purchase_order_name"), "PRO plan");

  auto looked = lookup(pidx);
  ASSERT_EQ(looked->status, 200);
  EXPECT_EQ(json::parse(looked->body)["status"], "Completed");
  EXPECT_EQ(json::parse(looked->body)["transaction_id"], txn);
  // Paying twice is refused: the page says it is already done.
  res = submit(pidx, "pay", "9800000004");
  EXPECT_EQ(res->status, 409);
  EXPECT_NE(res->body.find("already"), std::string::npos);
}

TEST_F(SimKhaltiPage, AReturnUrlWithoutQueryGetsAQuestionMark) {
  const std::string pidx = initiate();
  auto res = submit(pidx, "pay", "9800000001");
  ASSERT_EQ(res->status, 302);
  EXPECT_EQ(res->get_header_value("Location")
                .rfind("http://shop.example.com/khalti/callback/?pidx=" + pidx + "&txnId=", 0),
            0U);
}

TEST_F(SimKhaltiPage, CancelRedirectsWithUserCanceledAndEmptyIds) {
  const std::string pidx = initiate();
  auto res = submit(pidx, "cancel", "", "", "");
  ASSERT_TRUE(res);
  ASSERT_EQ(res->status, 302);
  const Location loc = parse_location(res->get_header_value("Location"));
  EXPECT_EQ(loc.param("status"), "User canceled");
  EXPECT_EQ(loc.param("transaction_id"), "");
  EXPECT_EQ(loc.param("tidx"), "");
  EXPECT_EQ(loc.param("mobile"), "");
  EXPECT_FALSE(loc.has("txnId"));
  auto looked = lookup(pidx);
  EXPECT_EQ(looked->status, 400);
  EXPECT_EQ(json::parse(looked->body)["status"], "User canceled");
}

TEST_F(SimKhaltiPage, RedirectsAreExactlyEncoded) {
  const std::string pidx = initiate();
  auto res = control("/_sim/khalti/" + pidx + "/cancel");
  ASSERT_EQ(res->status, 200);
  EXPECT_EQ(json::parse(res->body)["redirect_url"],
            "http://shop.example.com/khalti/callback/?pidx=" + pidx +
                "&transaction_id=&tidx=&amount=390000&total_amount=390000&mobile="
                "&status=User%20canceled&purchase_order_id=pay-42"
                "&purchase_order_name=PRO%20plan");
  const std::string paid = initiate();
  res = control("/_sim/khalti/" + paid + "/pay");
  const std::string url = json::parse(res->body)["redirect_url"];
  const std::string txn = parse_location(url).param("transaction_id");
  EXPECT_EQ(url, "http://shop.example.com/khalti/callback/?pidx=" + paid + "&txnId=" + txn +
                     "&amount=390000&total_amount=390000&status=Completed&mobile=98XXXXX001"
                     "&tidx=" +
                     txn +
                     "&purchase_order_id=pay-42&purchase_order_name=PRO%20plan"
                     "&transaction_id=" +
                     txn);
}

TEST_F(SimKhaltiPage, ControlPayAnswersTheRedirectWithoutFollowingIt) {
  const std::string pidx = initiate();
  auto res = control("/_sim/khalti/" + pidx + "/pay", {{"mobile", "9800000002"}});
  ASSERT_TRUE(res);
  ASSERT_EQ(res->status, 200) << res->body;
  const json body = json::parse(res->body);
  EXPECT_EQ(body["status"], "Completed");
  const Location loc = parse_location(body["redirect_url"]);
  EXPECT_EQ(loc.base, "http://shop.example.com/khalti/callback/");
  EXPECT_EQ(loc.param("mobile"), "98XXXXX002");
  EXPECT_EQ(loc.param("status"), "Completed");
  res = control("/_sim/khalti/" + pidx + "/pay");
  EXPECT_EQ(res->status, 409);
  res = control("/_sim/khalti/nope/pay");
  EXPECT_EQ(res->status, 404);
}

TEST_F(SimKhaltiPage, ControlCancelAnswersTheCancelRedirect) {
  const std::string pidx = initiate();
  auto res = control("/_sim/khalti/" + pidx + "/cancel");
  ASSERT_EQ(res->status, 200);
  EXPECT_EQ(parse_location(json::parse(res->body)["redirect_url"]).param("status"),
            "User canceled");
}

}  // namespace
}  // namespace sima::sim::testing
