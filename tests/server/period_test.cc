// Usage periods roll over lazily at the 30-day boundary (fake clock, no sleeps).
#include "server_fixture.h"

namespace sima::server::testing {
namespace {

using ServerPeriod = ServerTest;

TEST_F(ServerPeriod, CountersResetAtTheThirtyDayBoundary) {
  const std::string key = NewKey();
  for (int i = 0; i < 10; ++i)
    ASSERT_EQ(Post("/invoices/", key, {{"amount_paisa", 1}}).status, 201);
  clock_.Advance(Days{30} - std::chrono::seconds{1});
  EXPECT_EQ(Post("/invoices/", key, {{"amount_paisa", 1}}).status, 403);
  clock_.Advance(std::chrono::seconds{1});
  Response usage = Get("/billing/usage/", key);
  EXPECT_EQ(usage.body["period"]["start"], FormatTime(Start() + Days{30}));
  EXPECT_EQ(usage.body["usage"]["invoices"]["used"], 0);
  EXPECT_EQ(usage.body["usage"]["api_calls"]["used"], 1);
  EXPECT_EQ(Post("/invoices/", key, {{"amount_paisa", 1}}).status, 201);
  EXPECT_EQ(Used(key, "invoices"), 1);
  // The invoices themselves stay.
  EXPECT_EQ(Get("/invoices/?limit=1000", key).body["items"].size(), 11u);
}

TEST_F(ServerPeriod, SeveralPeriodsLaterStillAnchoredAtTheStart) {
  const std::string key = NewKey();
  clock_.Advance(Days{95});
  Response usage = Get("/billing/usage/", key);
  EXPECT_EQ(usage.body["period"]["start"], FormatTime(Start() + Days{90}));
  EXPECT_EQ(usage.body["period"]["end"], FormatTime(Start() + Days{120}));
}

TEST_F(ServerPeriod, PaidPlanEndsAndFreeLimitsApply) {
  const std::string key = NewKey("BASIC");
  for (int i = 0; i < 12; ++i)
    ASSERT_EQ(Post("/invoices/", key, {{"amount_paisa", 1}}).status, 201);
  clock_.Advance(Days{33});  // past the end and the 3 days of grace
  Response usage = Get("/billing/usage/", key);
  EXPECT_EQ(usage.body["plan"], "FREE");
  EXPECT_EQ(usage.body["subscription"]["is_active"], false);
  for (int i = 0; i < 10; ++i)
    ASSERT_EQ(Post("/invoices/", key, {{"amount_paisa", 1}}).status, 201);
  Response r = Post("/invoices/", key, {{"amount_paisa", 1}});
  EXPECT_EQ(r.status, 403);
  EXPECT_EQ(r.body["plan"], "FREE");
}

TEST_F(ServerPeriod, APaidPlanStillAppliesInGraceUntilItsLastSecond) {
  const std::string key = NewKey("BASIC");
  clock_.Advance(Days{30});  // the period ended: grace, a new usage period
  for (int i = 0; i < 12; ++i)
    ASSERT_EQ(Post("/invoices/", key, {{"amount_paisa", 1}}).status, 201);
  Response usage = Get("/billing/usage/", key);
  EXPECT_EQ(usage.body["plan"], "BASIC");
  EXPECT_EQ(usage.body["subscription"]["state"], "grace");
  EXPECT_EQ(usage.body["subscription"]["is_active"], true);
  EXPECT_EQ(usage.body["subscription"]["grace_until"], FormatTime(Start() + Days{33}));
  clock_.Advance(Days{3} - std::chrono::seconds{1});
  EXPECT_EQ(Get("/billing/usage/", key).body["plan"], "BASIC");
  clock_.Advance(std::chrono::seconds{1});
  usage = Get("/billing/usage/", key);
  EXPECT_EQ(usage.body["plan"], "FREE");
  EXPECT_EQ(usage.body["subscription"]["state"], "expired");
  Response r = Post("/invoices/", key, {{"amount_paisa", 1}});
  EXPECT_EQ(r.status, 403);
  EXPECT_EQ(r.body["plan"], "FREE");
}

}  // namespace
}  // namespace sima::server::testing
