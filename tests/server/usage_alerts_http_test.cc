// Usage alerts through the HTTP API: invoices created up to 80 % of the plan's limit write one
// usage.threshold_crossed event and one e-mail with the upgrade link (SIMA_UPGRADE_URL, else
// SIMA_APP_URL); more calls at the same threshold write nothing more.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "outbox_sender.h"
#include "server_fixture.h"
#include "sqlite.h"

namespace sima::server::testing {
namespace {

class UsageAlertsHttp : public ServerTest {
 protected:
  void SetUp() override {
    config_.mail_dir = dir_.path() + "/mail";
    config_.upgrade_url = "https://acme.example/billing/upgrade";
    background_ = false;  // the test runs the outbox itself
    ServerTest::SetUp();
  }
  int64_t Rows(const std::string& sql) {
    auto db = sqlite::Db::Open(config_.db, true);
    EXPECT_TRUE(db.ok());
    auto n = (*db)->QueryInt(sql);
    EXPECT_TRUE(n.ok()) << n.error().message;
    return n ? *n : -1;
  }
  std::vector<std::string> Mails() {
    app_->outbox().RunOnce();
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
};

TEST_F(UsageAlertsHttp, InvoicesUpTo80PercentWriteOneEventAndOneEmailWithTheLink) {
  Response org = Post("/admin/orgs/", kAdminToken,
                      {{"name", "Acme"}, {"plan", "FREE"}, {"billing_email", "owner@acme.test"}});
  ASSERT_EQ(org.status, 201) << org.raw;
  const std::string key = org.body["api_key"];
  const std::string id = org.body["org_id"];
  const Json invoice = {{"amount_paisa", 100}};
  for (int i = 0; i < 7; ++i) ASSERT_EQ(Post("/invoices/", key, invoice).status, 201);
  EXPECT_EQ(Rows("SELECT COUNT(*) FROM webhook_events WHERE type = 'usage.threshold_crossed'"), 0);
  EXPECT_TRUE(Mails().empty());

  ASSERT_EQ(Post("/invoices/", key, invoice).status, 201);  // 8 of 10
  EXPECT_EQ(Rows("SELECT COUNT(*) FROM webhook_events WHERE type = 'usage.threshold_crossed' AND "
                 "org_id = '" +
                 id + "'"),
            1);
  EXPECT_EQ(Rows("SELECT COUNT(*) FROM usage_alerts WHERE threshold = '80'"), 1);
  auto mails = Mails();
  ASSERT_EQ(mails.size(), 1u);
  const std::string mail = Read(mails[0]);
  EXPECT_NE(mail.find("To: owner@acme.test"), std::string::npos) << mail;
  EXPECT_NE(mail.find("Subject: Acme has used 80% of its Invoices on Free"), std::string::npos)
      << mail;
  EXPECT_NE(mail.find("8/10 (80%)"), std::string::npos) << mail;
  EXPECT_NE(mail.find("\r\nhttps://acme.example/billing/upgrade\r\n"), std::string::npos) << mail;

  // A ninth invoice and a usage read: still 80 %, nothing new.
  ASSERT_EQ(Post("/invoices/", key, invoice).status, 201);
  ASSERT_EQ(Get("/billing/usage/", key).status, 200);
  EXPECT_EQ(Rows("SELECT COUNT(*) FROM webhook_events WHERE type = 'usage.threshold_crossed'"), 1);
  EXPECT_EQ(Mails().size(), 1u);
}

TEST_F(UsageAlertsHttp, WithoutAnUpgradeUrlTheMailLinksToTheApp) {
  StopServer();
  config_.upgrade_url.clear();
  StartServer();
  Response org = Post("/admin/orgs/", kAdminToken,
                      {{"name", "Acme"}, {"plan", "FREE"}, {"billing_email", "owner@acme.test"}});
  ASSERT_EQ(org.status, 201) << org.raw;
  const std::string key = org.body["api_key"];
  for (int i = 0; i < 8; ++i)
    ASSERT_EQ(Post("/invoices/", key, {{"amount_paisa", 100}}).status, 201);
  auto mails = Mails();
  ASSERT_EQ(mails.size(), 1u);
  EXPECT_NE(Read(mails[0]).find("\r\nhttp://app.example\r\n"), std::string::npos) << Read(mails[0]);
}

}  // namespace
}  // namespace sima::server::testing
