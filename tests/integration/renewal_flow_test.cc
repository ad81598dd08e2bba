// The second month through the real binaries: sima-server with SIMA_DEMO_CLOCK=1 and the
// gateway simulator. A renewal reminder's .eml holds a pay link; following it and paying with
// Khalti on the simulator extends the plan from the old end.
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>

#include "harness.h"

namespace sima::integration {
namespace {

class IntegrationRenewal : public IntegrationTest {
 protected:
  void SetUp() override {
    IntegrationTest::SetUp();
    if (HasFatalFailure()) return;
    server_env_["SIMA_DEMO_CLOCK"] = "1";
    server_env_["SIMA_OUTBOX_INTERVAL_MS"] = "10";
    StartServer();
  }
  Response Jump(int64_t seconds) {
    return Call("POST", "/demo/clock/", kAdminToken, {{"advance_seconds", seconds}});
  }
  // The text of the one .eml whose subject starts with `subject`, or "".
  std::string Mail(const std::string& subject) {
    std::error_code ec;
    for (const auto& e : std::filesystem::directory_iterator(mail_dir_, ec)) {
      const std::string text = ReadFile(e.path().string());
      if (text.find("Subject: " + subject) != std::string::npos) return text;
    }
    return "";
  }
  Response Page(const std::string& method, const std::string& path, const std::string& form = "") {
    httplib::Client cli("127.0.0.1", server_port_);
    cli.set_follow_location(false);
    auto r =
        method == "GET" ? cli.Get(path) : cli.Post(path, form, "application/x-www-form-urlencoded");
    Response out;
    if (!r) return out;
    out.status = r->status;
    out.raw = r->body;
    out.headers = r->headers;
    return out;
  }
};

TEST_F(IntegrationRenewal, AReminderPayLinkPaysWithKhaltiAndExtendsFromTheOldEnd) {
  const std::string key = NewOrg("owner@acme.test", "BASIC");
  const Json before = Call("GET", "/billing/subscription/", key).body["subscription"];
  const Time end = ParseTime(before["end_date"].get<std::string>()).value();
  ASSERT_EQ(Jump(int64_t{23} * 86400 + 60).status, 200);
  std::string mail;
  ASSERT_TRUE(WaitFor([&] { return !(mail = Mail("Your Basic plan ends on")).empty(); }, 10000));
  std::smatch m;
  ASSERT_TRUE(std::regex_search(mail, m,
                                std::regex("http://127\\.0\\.0\\.1:[0-9]+(/pay/[A-Za-z0-9_.-]+/)")))
      << mail;
  const std::string link = m[1];

  Response page = Page("GET", link);
  ASSERT_EQ(page.status, 200) << page.raw;
  EXPECT_NE(page.raw.find("Pay with Khalti"), std::string::npos);
  EXPECT_NE(page.raw.find("Pay with eSewa"), std::string::npos);
  Response go = Page("POST", link, "provider=khalti");
  ASSERT_EQ(go.status, 303) << go.raw;
  const std::string url = go.header("Location");
  const std::string pidx = url.substr(url.find("pidx=") + 5);
  const std::string back = Pay(pidx);
  ASSERT_FALSE(back.empty());
  EXPECT_EQ(FollowToServer(back).status, 302);

  const Json after = Call("GET", "/billing/subscription/", key).body["subscription"];
  EXPECT_EQ(after["end_date"], FormatTime(end + Days{30}));
  EXPECT_EQ(after["state"], "active");
  EXPECT_EQ(Page("GET", link).status, 410);
  EXPECT_EQ(ReadFile(access_log_).find(link.substr(link.find('.') + 1, 30)), std::string::npos);
}

TEST_F(IntegrationRenewal, AProratedUpgradeChargesTheQuoteAtTheSimulator) {
  const std::string key = NewOrg("owner@acme.test", "BASIC");
  ASSERT_EQ(Jump(int64_t{12} * 86400).status, 200);
  Response quote = Call("GET", "/billing/quote/?plan=PRO", key);
  ASSERT_EQ(quote.status, 200) << quote.raw;
  // The simulator refuses an amount_breakdown that does not sum to the amount.
  Response init = Init(key, "PRO");
  ASSERT_EQ(init.status, 201) << init.raw;
  EXPECT_EQ(init.body["amount_paisa"], quote.body["amount_paisa"]);
  EXPECT_EQ(init.body["amount_breakdown"], quote.body["amount_breakdown"]);
  Response sim = SimCall("GET", "/_sim/khalti/" + init.body["pidx"].get<std::string>());
  EXPECT_EQ(sim.body.value("amount", int64_t{0}), quote.body["amount_paisa"].get<int64_t>())
      << sim.raw;
  Pay(init.body["pidx"]);
  Response v = Verify(key, init.body["payment_id"]);
  ASSERT_EQ(v.status, 200) << v.raw;
  EXPECT_EQ(v.body["subscription"]["plan"], "PRO");
}

}  // namespace
}  // namespace sima::integration
