#include "sima/quote.h"

#include <gtest/gtest.h>

#include "sima/lifecycle.h"
#include "test_clock.h"

namespace sima {
namespace {

using testing::At;

constexpr int64_t kKhaltiMinimum = 1000;  // Rs 10

// BASIC paid for 2026-11-15..`end` (30 days by default).
Subscription Basic(std::string_view end = "2026-12-15T00:00:00Z") {
  return {"BASIC", At("2026-11-15T00:00:00Z"), At(end)};
}

// "<amount> = <label> <paisa> + ... [unused <s>s] <start>..<end>" or the refusal.
std::string Describe(const Result<UpgradeQuote>& q) {
  if (!q.ok()) return q.status().ToString();
  std::string out = std::to_string(q->amount_paisa) + " =";
  int64_t sum = 0;
  for (size_t i = 0; i < q->breakdown.size(); ++i) {
    out += (i == 0 ? " " : " + ") + q->breakdown[i].label + " " +
           std::to_string(q->breakdown[i].paisa);
    sum += q->breakdown[i].paisa;
  }
  EXPECT_EQ(sum, q->amount_paisa) << out;
  EXPECT_EQ(q->price_paisa - q->credit_paisa, q->amount_paisa) << out;
  if (q->unused.count() != 0) out += " unused " + std::to_string(q->unused.count()) + "s";
  out += " from " + q->from_plan + " " + FormatTime(q->start).substr(0, 10) + ".." +
         FormatTime(q->end).substr(0, 10);
  return out;
}

std::string Quote(const Subscription& sub, std::string_view plan, std::string_view now,
                  int64_t minimum = kKhaltiMinimum) {
  return Describe(QuoteUpgrade(Catalog::Default(), sub, plan, At(now), minimum));
}

std::string Pay(const Subscription& sub, std::string_view plan, std::string_view now) {
  return Describe(QuotePayment(Catalog::Default(), sub, plan, At(now), kKhaltiMinimum));
}

TEST(QuoteUpgrade, CreditsTheUnusedPartOfThePaidPlanByTheSecond) {
  // Half of BASIC (Rs 1900) left: Rs 950 off PRO (Rs 3900).
  EXPECT_EQ(Quote(Basic(), "PRO", "2026-11-30T00:00:00Z"),
            "295000 = PRO, 30 days 390000 + Credit: unused BASIC until 2026-12-15 -95000 "
            "unused 1296000s from BASIC 2026-11-30..2026-12-30");
  // A second later the exact amount is Rs 2950.0007...: rounded down to whole rupees.
  EXPECT_EQ(Quote(Basic(), "PRO", "2026-11-30T00:00:01Z"),
            "295000 = PRO, 30 days 390000 + Credit: unused BASIC until 2026-12-15 -95000 "
            "unused 1295999s from BASIC 2026-11-30..2026-12-30");
  // All of it left, and one second left.
  EXPECT_EQ(Quote(Basic(), "PRO", "2026-11-15T00:00:00Z"),
            "200000 = PRO, 30 days 390000 + Credit: unused BASIC until 2026-12-15 -190000 "
            "unused 2592000s from BASIC 2026-11-15..2026-12-15");
  EXPECT_EQ(Quote(Basic(), "PRO", "2026-12-14T23:59:59Z"),
            "389900 = PRO, 30 days 390000 + Credit: unused BASIC until 2026-12-15 -100 "
            "unused 1s from BASIC 2026-12-14..2027-01-13");
}

TEST(QuoteUpgrade, CountsTimePaidAheadAndNeverGoesBelowTheMinimum) {
  // Two periods of BASIC paid: Rs 3800 of credit.
  EXPECT_EQ(Quote(Basic("2027-01-14T00:00:00Z"), "PRO", "2026-11-15T00:00:00Z"),
            "10000 = PRO, 30 days 390000 + Credit: unused BASIC until 2027-01-14 -380000 "
            "unused 5184000s from BASIC 2026-11-15..2026-12-15");
  // Three: the credit would pass the price; the gateway's minimum is charged.
  EXPECT_EQ(Quote(Basic("2027-02-13T00:00:00Z"), "PRO", "2026-11-15T00:00:00Z"),
            "1000 = PRO, 30 days 390000 + Credit: unused BASIC until 2027-02-13 -389000 "
            "unused 7776000s from BASIC 2026-11-15..2026-12-15");
  // A minimum that is not whole rupees is rounded up.
  EXPECT_EQ(Quote(Basic("2027-02-13T00:00:00Z"), "PRO", "2026-11-15T00:00:00Z", 1050),
            "1100 = PRO, 30 days 390000 + Credit: unused BASIC until 2027-02-13 -388900 "
            "unused 7776000s from BASIC 2026-11-15..2026-12-15");
}

TEST(QuoteUpgrade, CreditsACanceledPlanButNotGraceATrialOrFree) {
  Subscription canceled = Basic();
  canceled.cancel_at_period_end = true;
  EXPECT_EQ(Quote(canceled, "PRO", "2026-11-30T00:00:00Z"),
            "295000 = PRO, 30 days 390000 + Credit: unused BASIC until 2026-12-15 -95000 "
            "unused 1296000s from BASIC 2026-11-30..2026-12-30");
  EXPECT_EQ(Quote(Basic(), "PRO", "2026-12-16T00:00:00Z"),
            "390000 = PRO, 30 days 390000 from FREE 2026-12-16..2027-01-15");
  Subscription trial = Basic();
  trial.trial = true;
  EXPECT_EQ(Quote(trial, "PRO", "2026-11-30T00:00:00Z"),
            "390000 = PRO, 30 days 390000 from FREE 2026-11-30..2026-12-30");
  EXPECT_EQ(Quote(Basic(), "PRO", "2026-12-18T00:00:00Z"),
            "390000 = PRO, 30 days 390000 from FREE 2026-12-18..2027-01-17");
  const Subscription free{"FREE", At("2026-11-01T00:00:00Z"), std::nullopt};
  EXPECT_EQ(Quote(free, "BASIC", "2026-11-30T00:00:00Z"),
            "190000 = BASIC, 30 days 190000 from FREE 2026-11-30..2026-12-30");
}

TEST(QuoteUpgrade, RefusesWhatIsNotAnUpgrade) {
  const Subscription pro{"PRO", At("2026-11-15T00:00:00Z"), At("2026-12-15T00:00:00Z")};
  const char* now = "2026-11-30T00:00:00Z";
  EXPECT_EQ(Quote(pro, "BASIC", now), "conflict: plan BASIC is not an upgrade from PRO");
  EXPECT_EQ(Quote(pro, "PRO", now),
            "conflict: plan PRO is already active: paying for it renews it");
  EXPECT_EQ(Quote(pro, "PRO", "2026-12-16T00:00:00Z"),
            "conflict: plan PRO is already active: paying for it renews it");
  Subscription trial = pro;
  trial.trial = true;
  EXPECT_EQ(Quote(trial, "PRO", now),
            "conflict: plan PRO is the trial's: paying for it continues it");
  EXPECT_EQ(Quote(Basic(), "GOLD", now), "invalid_plan: unknown plan \"GOLD\"");
  EXPECT_EQ(Quote(Basic(), "FREE", now),
            "invalid_plan: plan \"FREE\" is free and cannot be bought");
  EXPECT_EQ(Quote(Basic(), "PRO", now, -1),
            "validation_error: the minimum amount must not be negative, got -1 paisa");
  EXPECT_EQ(Quote(Basic(), "PRO", now, 400000),
            "validation_error: plan PRO costs 390000 paisa, below the gateway minimum of 400000 "
            "paisa");
}

TEST(QuotePayment, PricesEveryPurchaseAsTheServerCharges) {
  const Subscription free{"FREE", At("2026-11-01T00:00:00Z"), std::nullopt};
  // A first plan: the price, a period from now.
  EXPECT_EQ(Pay(free, "BASIC", "2026-11-20T00:00:00Z"),
            "190000 = BASIC, 30 days 190000 from FREE 2026-11-20..2026-12-20");
  // A renewal while renewal is due: the price, the next period from the old end.
  EXPECT_EQ(Pay(Basic(), "BASIC", "2026-12-10T00:00:00Z"),
            "190000 = BASIC, 30 days 190000 from FREE 2026-12-15..2027-01-14");
  // In grace: still from the old end, no gap.
  EXPECT_EQ(Pay(Basic(), "BASIC", "2026-12-16T00:00:00Z"),
            "190000 = BASIC, 30 days 190000 from FREE 2026-12-15..2027-01-14");
  // After the grace: a new period now.
  EXPECT_EQ(Pay(Basic(), "BASIC", "2026-12-20T00:00:00Z"),
            "190000 = BASIC, 30 days 190000 from FREE 2026-12-20..2027-01-19");
  // An upgrade: QuoteUpgrade's prorated amount.
  EXPECT_EQ(Pay(Basic(), "PRO", "2026-11-30T00:00:00Z"),
            Quote(Basic(), "PRO", "2026-11-30T00:00:00Z"));
  // A cheaper plan while a paid one lasts, FREE, an unknown plan: refused as CanBuyWithGrace.
  const Subscription pro{"PRO", At("2026-11-15T00:00:00Z"), At("2026-12-15T00:00:00Z")};
  EXPECT_EQ(
      Pay(pro, "BASIC", "2026-11-30T00:00:00Z"),
      CanBuyWithGrace(Catalog::Default(), pro, "BASIC", At("2026-11-30T00:00:00Z")).ToString());
  EXPECT_NE(Pay(pro, "BASIC", "2026-11-30T00:00:00Z").find("conflict"), std::string::npos);
  EXPECT_NE(Pay(free, "FREE", "2026-11-30T00:00:00Z").find("invalid_plan"), std::string::npos);
}

}  // namespace
}  // namespace sima
