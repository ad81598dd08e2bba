// The usage alert e-mail (mail/usage_alert.h): what it says for each threshold and kind.
#include <gtest/gtest.h>

#include "clock.h"
#include "mail/usage_alert.h"

namespace sima::server {
namespace {

UsageAlert Alert(std::string feature, UsageThreshold threshold, int64_t used, int64_t limit) {
  const Time start{std::chrono::seconds{1767225600}};  // 2026-01-01
  return UsageAlert{.org_id = "org_1",
                    .org_name = "नेपाल टेक",
                    .feature = std::move(feature),
                    .threshold = threshold,
                    .used = used,
                    .limit = limit,
                    .plan = "FREE",
                    .period = {start, start + Days{30}},
                    .at = start};
}

bool Has(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

TEST(UsageAlertMail, EightyPercentOfAHardMeteredLimit) {
  const ReminderMail m =
      UsageAlertEmail(Catalog::Default(), Alert("invoices", UsageThreshold::k80, 8, 10),
                      "owner@acme.test", "https://app.example/upgrade");
  EXPECT_EQ(m.to, "owner@acme.test");
  EXPECT_EQ(m.subject, "नेपाल टेक has used 80% of its Invoices on Free");
  EXPECT_TRUE(Has(m.body, "8/10 (80%)")) << m.body;
  EXPECT_TRUE(Has(m.body, "Free plan")) << m.body;
  EXPECT_TRUE(Has(m.body, "refused until the period ends")) << m.body;
  EXPECT_TRUE(Has(m.body, "2026-01-31 00:00 UTC")) << m.body;
  EXPECT_TRUE(Has(m.body, "\nhttps://app.example/upgrade\n")) << m.body;
}

TEST(UsageAlertMail, AtTheLimitOfAnAllocationWithItsUnit) {
  const ReminderMail m =
      UsageAlertEmail(Catalog::Default(), Alert("team_members", UsageThreshold::k100, 1, 1),
                      "owner@acme.test", "https://app.example/upgrade");
  EXPECT_EQ(m.subject, "नेपाल टेक has reached its Team members limit on Free");
  EXPECT_TRUE(Has(m.body, "1/1 seats (100%)")) << m.body;
  EXPECT_TRUE(Has(m.body, "refused until some are removed")) << m.body;
  EXPECT_TRUE(Has(m.body, "current billing period ends on 2026-01-31 00:00 UTC")) << m.body;
}

TEST(UsageAlertMail, OverASoftLimitSaysItIsNotRefused) {
  const ReminderMail m = UsageAlertEmail(
      Catalog::Default(), Alert("api_calls", UsageThreshold::kOver, 150, 100), "o@a.test", "");
  EXPECT_EQ(m.subject, "नेपाल टेक is over its API calls allowance on Free");
  EXPECT_TRUE(Has(m.body, "150/100 (150%)")) << m.body;
  EXPECT_TRUE(Has(m.body, "is not refused")) << m.body;
  EXPECT_FALSE(Has(m.body, "Upgrade for higher limits")) << m.body;  // no link given
}

TEST(UsageAlertMail, TheComposerCarriesItsLink) {
  const ComposeUsageAlert compose = UsageAlertComposer(Catalog::Default(), "https://x.test/up");
  const ReminderMail m = compose(Alert("invoices", UsageThreshold::k100, 10, 10), "o@a.test");
  EXPECT_TRUE(Has(m.body, "https://x.test/up")) << m.body;
}

}  // namespace
}  // namespace sima::server
