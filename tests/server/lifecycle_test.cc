// The second month over HTTP with a fake clock: renewals, reminders with pay links, grace,
// expiry, scheduled changes, prorated upgrades and trials. Khalti is the gateway simulator,
// in-process on the same fake clock; reminders go to .eml files in the mail folder.
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>

#include "mail/reminder.h"
#include "outbox_sender.h"
#include "pay_link.h"
#include "scheduler.h"
#include "server_fixture.h"
#include "sima/simulator/simulator.h"

namespace sima::server::testing {
namespace {

constexpr const char* kKhaltiKey = "live_secret_key_68791341fdd94846a146f0457ff7b455";

class ServerLifecycle : public ServerTest {
 protected:
  void SetUp() override {
    simulator::Options options;
    options.now = clock_.AsFn();
    sim_ = std::make_unique<simulator::Simulator>(options);
    const int port = sim_->BindToAnyPort();
    ASSERT_GT(port, 0);
    sim_thread_ = std::thread([this] { sim_->Listen(); });
    sim_->WaitUntilReady();
    sim_port_ = port;
    config_.khalti_base_url = "http://127.0.0.1:" + std::to_string(port) + "/api/v2/";
    config_.khalti_secret_key = kKhaltiKey;
    config_.mail_dir = dir_.path() + "/mail";
    // The test sends (Remind), never a background thread: a scheduler pass pokes the outbox
    // sender, whose thread would otherwise race the test's own outbox pass for the e-mail.
    background_ = false;
    ServerTest::SetUp();
  }
  void TearDown() override {
    ServerTest::TearDown();
    sim_->Stop();
    if (sim_thread_.joinable()) sim_thread_.join();
  }

  // An organization with a billing e-mail on `plan` (admin convenience): {org_id, api_key}.
  Json Org(const std::string& plan, const std::string& name = "Acme") {
    Response r = Post("/admin/orgs/", kAdminToken,
                      {{"name", name}, {"plan", plan}, {"billing_email", "owner@acme.test"}});
    EXPECT_EQ(r.status, 201) << r.raw;
    return r.body;
  }
  Json Subscription(const std::string& key) {
    Response r = Get("/billing/subscription/", key);
    EXPECT_EQ(r.status, 200) << r.raw;
    return r.body["subscription"];
  }
  // A scheduler pass, then the outbox: the .eml files written so far, sorted by name.
  Scheduler::Pass Remind() {
    const Scheduler::Pass pass = app_->scheduler().RunOnce();
    app_->outbox().RunOnce();
    return pass;
  }
  std::vector<std::string> Mails() {
    std::vector<std::string> out;
    std::error_code ec;
    for (const auto& e : std::filesystem::directory_iterator(config_.mail_dir, ec)) {
      if (e.path().extension() == ".eml") out.push_back(e.path().string());
    }
    std::sort(out.begin(), out.end());
    return out;
  }
  static std::string Read(const std::string& path) {
    std::ifstream in(path);
    std::stringstream text;
    text << in.rdbuf();
    return text.str();
  }
  // The mail whose text contains `needle`, or "".
  std::string MailWith(const std::string& needle) {
    for (const std::string& path : Mails()) {
      std::string text = Read(path);
      if (text.find(needle) != std::string::npos) return text;
    }
    return "";
  }
  // The path of the pay link in a mail ("/pay/<token>/").
  static std::string PayPath(const std::string& mail) {
    std::smatch m;
    if (!std::regex_search(mail, m,
                           std::regex("http://127\\.0\\.0\\.1:8080(/pay/[A-Za-z0-9_.-]+/)"))) {
      return "";
    }
    return m[1];
  }
  Response PostForm(const std::string& path, const std::string& form) {
    return Send("POST", path, "", form, "application/x-www-form-urlencoded");
  }
  Response SimPost(const std::string& path, const Json& body) {
    httplib::Client cli("127.0.0.1", sim_port_);
    auto r = cli.Post(path, body.dump(), "application/json");
    Response out;
    if (!r) return out;
    out.status = r->status;
    out.raw = r->body;
    out.body = Json::parse(r->body, nullptr, false);
    return out;
  }
  // Pays Khalti's payment_url at the simulator and verifies it: the verify answer.
  Response PayAndVerify(const std::string& key, const std::string& payment_url) {
    const std::string pidx = payment_url.substr(payment_url.find("pidx=") + 5);
    EXPECT_EQ(SimPost("/_sim/khalti/" + pidx + "/pay", {{"mobile", "9800000001"}}).status, 200);
    Response list = Get("/billing/payments/", key);
    const int64_t id = list.body["items"][0]["payment_id"];
    return Post("/billing/khalti/verify/", key, {{"payment_id", id}});
  }

  std::unique_ptr<simulator::Simulator> sim_;
  std::thread sim_thread_;
  int sim_port_ = 0;
};

TEST_F(ServerLifecycle, ThePlansAnswerShowsNoticeDaysAndGrace) {
  Response r = Get("/billing/plans/");
  EXPECT_EQ(r.body["renewal_notice_days"], Json::parse("[7,3,1]"));
  EXPECT_EQ(r.body["grace_days"], 3);
}

TEST_F(ServerLifecycle, TheSubscriptionCarriesItsStateAndTheDatesThatMatter) {
  const std::string key = Org("BASIC")["api_key"];
  Json sub = Subscription(key);
  EXPECT_EQ(sub["state"], "active");
  EXPECT_EQ(sub["plan"], "BASIC");
  EXPECT_EQ(sub["renewal_plan"], "BASIC");
  EXPECT_EQ(sub["end_date"], FormatTime(Start() + Days{30}));
  EXPECT_EQ(sub["renewal_due_from"], FormatTime(Start() + Days{23}));
  EXPECT_EQ(sub["grace_until"], FormatTime(Start() + Days{33}));
  EXPECT_EQ(Get("/billing/usage/", key).body["subscription"], sub);
  clock_.Advance(Days{23});
  EXPECT_EQ(Subscription(key)["state"], "renewal_due");
}

TEST_F(ServerLifecycle, ASwitchOrCancelIsScheduledForTheEndAndCanBeUndone) {
  const std::string key = Org("PRO")["api_key"];
  Response r = Post("/billing/subscription/", key, {{"change", "switch"}, {"plan", "BASIC"}});
  ASSERT_EQ(r.status, 200) << r.raw;
  EXPECT_EQ(r.body["subscription"]["scheduled_change"],
            Json::parse(R"({"kind":"switch","plan":"BASIC"})"));
  EXPECT_EQ(r.body["subscription"]["renewal_plan"], "BASIC");
  r = Post("/billing/subscription/", key, {{"change", "cancel"}});
  EXPECT_EQ(r.body["subscription"]["state"], "canceled");
  EXPECT_EQ(r.body["subscription"]["grace_until"], nullptr);
  r = Post("/billing/subscription/", key, {{"change", "undo"}});
  EXPECT_EQ(r.body["subscription"]["state"], "active");
  EXPECT_EQ(r.body["subscription"]["scheduled_change"], nullptr);
  EXPECT_EQ(Subscription(key), r.body["subscription"]);

  r = Post("/billing/subscription/", key, {{"change", "switch"}});
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(r.body["field"], "plan");
  r = Post("/billing/subscription/", key, {{"change", "pause"}});
  EXPECT_EQ(r.body["field"], "change");
  EXPECT_EQ(Post("/billing/subscription/", key, {{"change", "switch"}, {"plan", "GOLD"}}).code(),
            "invalid_plan");
  const std::string basic = Org("BASIC")["api_key"];
  r = Post("/billing/subscription/", basic, {{"change", "switch"}, {"plan", "PRO"}});
  EXPECT_EQ(r.status, 409);
  EXPECT_EQ(r.code(), "conflict");
  clock_.Advance(Days{31});  // in grace: nothing to schedule
  EXPECT_EQ(Post("/billing/subscription/", key, {{"change", "cancel"}}).status, 409);
}

TEST_F(ServerLifecycle, AnUpgradeMidPeriodChargesTheQuoteWithItsBreakdown) {
  const std::string key = Org("BASIC")["api_key"];
  clock_.Advance(Days{10});
  Response quote = Get("/billing/quote/?plan=PRO", key);
  ASSERT_EQ(quote.status, 200) << quote.raw;
  EXPECT_EQ(quote.body["from_plan"], "BASIC");
  const int64_t amount = quote.body["amount_paisa"];
  EXPECT_LT(amount, 390000);
  EXPECT_GE(amount, 390000 - 190000);
  int64_t sum = 0;
  for (const Json& line : quote.body["amount_breakdown"]) sum += line["amount"].get<int64_t>();
  EXPECT_EQ(sum, amount);
  EXPECT_EQ(quote.body["amount_breakdown"].size(), 2u);

  // The simulator refuses a breakdown that does not sum to the amount: a 201 means it agreed.
  Response init = Post("/billing/khalti/init/", key, {{"plan", "PRO"}});
  ASSERT_EQ(init.status, 201) << init.raw;
  EXPECT_EQ(init.body["amount_paisa"], amount);
  EXPECT_EQ(init.body["amount_breakdown"], quote.body["amount_breakdown"]);
  Response verified = PayAndVerify(key, init.body["payment_url"]);
  ASSERT_EQ(verified.status, 200) << verified.raw;
  EXPECT_EQ(verified.body["subscription"]["plan"], "PRO");
  EXPECT_EQ(verified.body["subscription"]["end_date"], FormatTime(Start() + Days{40}));
  Response payment =
      Get("/billing/payments/" + std::to_string(init.body["payment_id"].get<int64_t>()) + "/", key);
  EXPECT_EQ(payment.body["amount_breakdown"], quote.body["amount_breakdown"]);

  EXPECT_EQ(Get("/billing/quote/?plan=BASIC", key).code(), "conflict");
  EXPECT_EQ(Get("/billing/quote/?plan=GOLD", key).code(), "invalid_plan");
  EXPECT_EQ(Get("/billing/quote/", key).body["field"], "plan");
}

TEST_F(ServerLifecycle, ARenewalReminderCarriesAPayLinkThatExtendsFromTheOldEnd) {
  const Json org = Org("BASIC");
  const std::string key = org["api_key"];
  clock_.Advance(Days{23});
  EXPECT_EQ(Remind().sent, 1);
  const std::string mail = MailWith("Subject: Your Basic plan ends on 2026-01-31 00:00 UTC");
  ASSERT_FALSE(mail.empty());
  EXPECT_NE(mail.find("To: owner@acme.test"), std::string::npos);
  EXPECT_NE(mail.find("NPR 1,900.00"), std::string::npos);
  EXPECT_EQ(mail.find(kKhaltiKey), std::string::npos);
  const std::string link = PayPath(mail);
  ASSERT_FALSE(link.empty()) << mail;

  // GET shows the page and starts nothing (mail scanners fetch links).
  Response page = Get(link);
  ASSERT_EQ(page.status, 200) << page.raw;
  EXPECT_NE(page.raw.find("Acme"), std::string::npos);
  EXPECT_NE(page.raw.find("Pay with Khalti"), std::string::npos);
  EXPECT_EQ(page.raw.find("Pay with eSewa"), std::string::npos);  // eSewa is off here
  EXPECT_NE(page.raw.find("NPR 1,900.00"), std::string::npos);
  EXPECT_NE(page.raw.find("2026-01-31 00:00 UTC to 2026-03-02 00:00 UTC"), std::string::npos);
  EXPECT_EQ(Get("/billing/payments/", key).body["items"].size(), 0u);

  Response go = PostForm(link, "provider=khalti");
  ASSERT_EQ(go.status, 303) << go.raw;
  const std::string url = go.headers.find("Location")->second;
  EXPECT_NE(url.find("pidx="), std::string::npos);
  Response verified = PayAndVerify(key, url);
  ASSERT_EQ(verified.status, 200) << verified.raw;
  EXPECT_EQ(verified.body["subscription"]["end_date"], FormatTime(Start() + Days{60}));
  EXPECT_EQ(verified.body["subscription"]["start_date"], FormatTime(Start()));

  // Paid: the link is used up.
  Response again = Get(link);
  EXPECT_EQ(again.status, 410);
  EXPECT_NE(again.raw.find("already been paid"), std::string::npos);
  EXPECT_EQ(PostForm(link, "provider=khalti").status, 410);
  // The access log never holds the token.
  for (const std::string& line : LogLines()) {
    EXPECT_EQ(line.find(link.substr(link.find('.') + 1, 20)), std::string::npos) << line;
  }
}

TEST_F(ServerLifecycle, GraceKeepsThePlanThenExpiryFallsToFreeAndSaysWhy) {
  const std::string key = Org("BASIC")["api_key"];
  for (int i = 0; i < 6; ++i) {
    ASSERT_EQ(Post("/customers/", key,
                   {{"name", "C" + std::to_string(i)},
                    {"email", "c" + std::to_string(i) + "@example.np"}})
                  .status,
              201);
  }
  clock_.Advance(Days{30});
  EXPECT_EQ(Remind().sent, 1);  // grace_started supersedes the notices missed meanwhile
  EXPECT_FALSE(MailWith("still applies until 2026-02-03 00:00 UTC").empty());
  Response usage = Get("/billing/usage/", key);
  EXPECT_EQ(usage.body["plan"], "BASIC");
  EXPECT_EQ(usage.body["subscription"]["state"], "grace");

  clock_.Advance(Days{3});
  EXPECT_EQ(Remind().sent, 1);
  EXPECT_FALSE(MailWith("you are on Free now").empty());
  EXPECT_EQ(Mails().size(), 2u);
  usage = Get("/billing/usage/", key);
  EXPECT_EQ(usage.body["plan"], "FREE");
  EXPECT_EQ(usage.body["subscription"]["state"], "expired");
  EXPECT_EQ(usage.body["subscription"]["subscribed_plan"], "BASIC");
  EXPECT_EQ(usage.body["usage"]["customers"]["status"], "over");
  EXPECT_EQ(usage.body["usage"]["customers"]["note"],
            "6 in use, 5 allowed on Free: remove 1 to add more");
  EXPECT_EQ(Remind().sent, 0);
}

TEST_F(ServerLifecycle, RemindersAreSentOnceAcrossPassesAndARestart) {
  Org("PRO");
  clock_.Advance(Days{23});
  EXPECT_EQ(Remind().sent, 1);
  EXPECT_EQ(Remind().sent, 0);
  Restart();
  EXPECT_EQ(Remind().sent, 0);
  EXPECT_EQ(Mails().size(), 1u);
  clock_.Advance(Days{4});  // the 3-day notice
  EXPECT_EQ(Remind().sent, 1);
  Restart();
  EXPECT_EQ(Remind().sent, 0);
  EXPECT_EQ(Mails().size(), 2u);
}

TEST_F(ServerLifecycle, ATrialEndsWithAReminderThenFree) {
  const Json org = Org("FREE");
  const std::string id = org["org_id"], key = org["api_key"];
  const std::string path = "/admin/orgs/" + id + "/trial/";
  Response r = Post(path, kAdminToken, {{"plan", "PRO"}, {"days", 14}});
  ASSERT_EQ(r.status, 200) << r.raw;
  EXPECT_EQ(r.body["subscription"]["state"], "trialing");
  EXPECT_EQ(r.body["subscription"]["trial"], true);
  EXPECT_EQ(r.body["subscription"]["ends_at"], FormatTime(Start() + Days{14}));
  EXPECT_EQ(Post(path, kAdminToken, {{"plan", "PRO"}, {"days", 0}}).body["field"], "days");
  EXPECT_EQ(Post(path, kAdminToken, {{"plan", "FREE"}, {"days", 3}}).code(), "invalid_plan");
  EXPECT_EQ(Post("/admin/orgs/org_00000000000000000000/trial/", kAdminToken,
                 {{"plan", "PRO"}, {"days", 3}})
                .status,
            404);
  EXPECT_EQ(Post(path, key, {{"plan", "PRO"}, {"days", 3}}).status, 403);
  const std::string paid = Org("BASIC")["org_id"];
  EXPECT_EQ(
      Post("/admin/orgs/" + paid + "/trial/", kAdminToken, {{"plan", "PRO"}, {"days", 3}}).code(),
      "conflict");

  clock_.Advance(Days{13});
  Remind();
  EXPECT_FALSE(MailWith("Subject: Your Pro trial ends on 2026-01-15 00:00 UTC").empty());
  clock_.Advance(Days{1});
  Remind();
  EXPECT_FALSE(MailWith("Subject: Your Pro trial has expired").empty());
  EXPECT_EQ(Get("/billing/usage/", key).body["plan"], "FREE");
}

TEST_F(ServerLifecycle, APayLinkThatIsNotOursExpiredOrTamperedGetsAClearPage) {
  const std::string id = Org("BASIC", "<script>alert(1)</script> & Co")["org_id"];
  clock_.Advance(Days{23});
  Remind();
  const std::string link = PayPath(MailWith("Subject: Your Basic plan ends"));
  ASSERT_FALSE(link.empty());
  Response page = Get(link);
  EXPECT_EQ(page.status, 200);
  EXPECT_EQ(page.raw.find("<script>alert"), std::string::npos);
  EXPECT_NE(page.raw.find("&lt;script&gt;alert(1)&lt;/script&gt; &amp; Co"), std::string::npos);
  EXPECT_NE(page.headers.find("Content-Type")->second.find("text/html"), std::string::npos);

  // One byte changed, anywhere: not a link.
  for (size_t at : {std::size_t{6}, link.size() / 2, link.size() - 3}) {
    std::string tampered = link;
    tampered[at] = tampered[at] == 'A' ? 'B' : 'A';
    Response r = Get(tampered);
    EXPECT_EQ(r.status, 404) << at;
    EXPECT_NE(r.raw.find("not a valid pay link"), std::string::npos);
    EXPECT_TRUE(r.body.is_discarded());  // a page, not JSON
  }
  // Signed with another database's secret.
  Reminder reminder;
  reminder.plan = "BASIC";
  reminder.period_end = Start() + Days{30};
  reminder.until = reminder.ends_at = Start() + Days{33};
  const PayLink forged = PayLinkFor(id, reminder);
  EXPECT_EQ(Get("/pay/" + PayLinks("another-secret", "").Token(forged) + "/").status, 404);
  EXPECT_EQ(Get("/pay/garbage/").status, 404);
  EXPECT_EQ(PostForm("/pay/garbage/", "provider=khalti").status, 404);
  // The real link, for a gateway that does not exist.
  EXPECT_EQ(PostForm(link, "provider=paypal").status, 400);

  clock_.Advance(Days{10});  // past grace_until: the link expired, nothing was paid
  Response expired = Get(link);
  EXPECT_EQ(expired.status, 410);
  EXPECT_NE(expired.raw.find("expired"), std::string::npos);
}

}  // namespace
}  // namespace sima::server::testing
