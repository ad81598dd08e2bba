#include "sima/usage.h"

#include <gtest/gtest.h>

#include "test_clock.h"

namespace sima {
namespace {

using testing::Active;
using testing::At;
using testing::Expired;
using testing::Free;

const Catalog& C() { return Catalog::Default(); }

UsageRow Row(const std::vector<UsageRow>& rows, std::string_view feature) {
  for (const auto& r : rows) {
    if (r.feature == feature) return r;
  }
  ADD_FAILURE() << "no row for " << feature;
  return {};
}

TEST(UsageView, DrawsTheSeedsTexts) {
  const auto rows = UsageView(C(), "FREE", {{"invoices", 8}, {"api_calls", 450}, {"customers", 2}});
  ASSERT_TRUE(rows.ok());
  ASSERT_EQ(rows->size(), 7u);
  const UsageRow invoices = Row(*rows, "invoices");
  EXPECT_EQ(invoices.text, "8/10 (80%)");
  EXPECT_EQ(invoices.percent, 80);
  EXPECT_EQ(invoices.status, UsageStatus::kWarning);
  const UsageRow calls = Row(*rows, "api_calls");
  EXPECT_EQ(calls.text, "450/100 (450%)");
  EXPECT_EQ(calls.status, UsageStatus::kOver);
  EXPECT_EQ(calls.enforcement, Enforcement::kSoft);
  EXPECT_EQ(Row(*rows, "customers").status, UsageStatus::kOk);
  EXPECT_EQ(Row(*rows, "customers").text, "2/5 (40%)");
  EXPECT_EQ(Row(*rows, "team_members").text, "0/1 seats (0%)");
}

TEST(UsageView, ShowsUnlimitedWithoutPercent) {
  const auto rows = UsageView(C(), "PRO", {{"invoices", 12}});
  ASSERT_TRUE(rows.ok());
  const UsageRow r = Row(*rows, "invoices");
  EXPECT_EQ(r.text, "12/\u221e");
  EXPECT_FALSE(r.percent.has_value());
  EXPECT_EQ(r.status, UsageStatus::kOk);
}

TEST(UsageView, StatusBoundaries) {
  const Feature f{"x", "X", Enforcement::kHard};
  const Plan& plan = C().free_plan();
  EXPECT_EQ(MakeUsageRow(f, 7, {Limit::Of(10)}, plan).status, UsageStatus::kOk);
  EXPECT_EQ(MakeUsageRow(f, 79, {Limit::Of(100)}, plan).status, UsageStatus::kOk);
  EXPECT_EQ(MakeUsageRow(f, 80, {Limit::Of(100)}, plan).status, UsageStatus::kWarning);
  EXPECT_EQ(MakeUsageRow(f, 9, {Limit::Of(10)}, plan).status, UsageStatus::kWarning);
  EXPECT_EQ(MakeUsageRow(f, 10, {Limit::Of(10)}, plan).status, UsageStatus::kFull);
  EXPECT_EQ(MakeUsageRow(f, 11, {Limit::Of(10)}, plan).status, UsageStatus::kOver);
  // A single slot: 0 of 1 is fine, 1 of 1 is full.
  EXPECT_EQ(MakeUsageRow(f, 0, {Limit::Of(1)}, plan).status, UsageStatus::kOk);
  EXPECT_EQ(MakeUsageRow(f, 1, {Limit::Of(1)}, plan).status, UsageStatus::kFull);
  // A zero limit allows nothing, so it is full from the start.
  const UsageRow zero = MakeUsageRow(f, 0, {Limit::Of(0)}, plan);
  EXPECT_EQ(zero.status, UsageStatus::kFull);
  EXPECT_EQ(zero.text, "0/0 (100%)");
}

TEST(UsageView, PercentRoundsDown) {
  const Feature f{"x", "X", Enforcement::kHard};
  const Plan& plan = C().free_plan();
  EXPECT_EQ(MakeUsageRow(f, 2, {Limit::Of(3)}, plan).text, "2/3 (66%)");
}

TEST(UsageView, AfterUpgradeDrawsTodaysCountsAgainstTheNewPlan) {
  // A BASIC org extending BASIC keeps its period's counts.
  const Subscription basic{"BASIC", At("2026-11-01T00:00:00Z"), At("2026-12-01T00:00:00Z")};
  const auto rows = UsageAfterUpgrade(C(), basic, At("2026-11-20T00:00:00Z"),
                                      {{"invoices", 10}, {"api_calls", 450}}, "BASIC");
  ASSERT_TRUE(rows.ok());
  EXPECT_EQ(Row(*rows, "invoices").text, "10/1000 (1%)");
  EXPECT_EQ(Row(*rows, "invoices").status, UsageStatus::kOk);
  EXPECT_EQ(Row(*rows, "api_calls").text, "450/10000 (4%)");
}

TEST(UsageView, RefusesAnUnknownPlan) {
  const auto rows = UsageView(C(), "GOLD", {});
  EXPECT_EQ(rows.status().code(), Code::kInvalidPlan);
}

TEST(UsageView, StatusNames) {
  EXPECT_EQ(to_string(UsageStatus::kOk), "ok");
  EXPECT_EQ(to_string(UsageStatus::kWarning), "warning");
  EXPECT_EQ(to_string(UsageStatus::kFull), "full");
  EXPECT_EQ(to_string(UsageStatus::kOver), "over");
}

// The usage panel, one row per line: "<feature>: <text> [<status>][ override][ note: ..]
// [ unlock: <plan>]".
const Time kNow = At("2026-12-01T00:00:00Z");

std::vector<std::string> Lines(const Result<std::vector<UsageRow>>& rows) {
  if (!rows) return {rows.status().ToString()};
  std::vector<std::string> out;
  for (const UsageRow& r : *rows) {
    std::string line = r.feature + ": " + r.text + " [" + std::string(to_string(r.status)) + "]";
    if (r.override) line += " override";
    if (!r.note.empty()) line += " note: " + r.note;
    if (r.unlock) line += " unlock: " + r.unlock->plan;
    out.push_back(std::move(line));
  }
  return out;
}

using LinesT = std::vector<std::string>;

TEST(UsageView, DrawsEveryKind) {
  EXPECT_EQ(Lines(UsageView(C(), "FREE",
                            {{"invoices", 8},
                             {"customers", 2},
                             {"team_members", 1},
                             {"api_calls", 450},
                             {"pdf_export", 3},
                             {"attachment_mb", 4}})),
            (LinesT{
                "invoices: 8/10 (80%) [warning]",
                "customers: 2/5 (40%) [ok]",
                "team_members: 1/1 seats (100%) [full]",
                "api_calls: 450/100 (450%) [over]",
                "pdf_export: Off [ok] unlock: BASIC",
                "custom_branding: Off [ok] unlock: PRO",
                "attachment_mb: 5 MB [ok]",
            }));
  EXPECT_EQ(Lines(UsageView(C(), "BASIC", {{"team_members", 2}})),
            (LinesT{
                "invoices: 0/1000 (0%) [ok]",
                "customers: 0/50 (0%) [ok]",
                "team_members: 2/3 seats (66%) [ok]",
                "api_calls: 0/10000 (0%) [ok]",
                "pdf_export: On [ok]",
                "custom_branding: Off [ok] unlock: PRO",
                "attachment_mb: 25 MB [ok]",
            }));
  EXPECT_EQ(Lines(UsageView(C(), "PRO", {{"invoices", 12}, {"team_members", 10}})),
            (LinesT{
                "invoices: 12/\u221e [ok]",
                "customers: 0/\u221e [ok]",
                "team_members: 10/10 seats (100%) [full]",
                "api_calls: 0/100000 (0%) [ok]",
                "pdf_export: On [ok]",
                "custom_branding: On [ok]",
                "attachment_mb: 100 MB [ok]",
            }));
}

TEST(UsageView, SaysWhyAHardFeatureIsOverItsLimit) {
  // A PRO org fell back to FREE with 12 invoices this period, 11 customers and 4 members.
  EXPECT_EQ(Lines(UsageView(
                C(), "FREE",
                {{"invoices", 12}, {"customers", 11}, {"team_members", 4}, {"api_calls", 101}})),
            (LinesT{
                "invoices: 12/10 (120%) [over] note: 12 used, 10 allowed on Free",
                "customers: 11/5 (220%) [over] note: 11 in use, 5 allowed on Free: remove 6 to "
                "add more",
                "team_members: 4/1 seats (400%) [over] note: 4 in use, 1 allowed on Free: remove 3 "
                "to add more",
                "api_calls: 101/100 (101%) [over]",
                "pdf_export: Off [ok] unlock: BASIC",
                "custom_branding: Off [ok] unlock: PRO",
                "attachment_mb: 5 MB [ok]",
            }));
}

TEST(UsageView, DrawsOverridesInForce) {
  const Overrides overrides = {
      {"invoices", Limit::Of(5000), "FREE", std::nullopt},
      {"team_members", Limit::Unlimited(), std::nullopt, std::nullopt},
      {"pdf_export", Limit::Switch(true), std::nullopt, At("2027-01-01T00:00:00Z")},
      {"custom_branding", Limit::Switch(false), std::nullopt, std::nullopt},
      {"attachment_mb", Limit::Unlimited(), "BASIC", std::nullopt},
      {"customers", Limit::Of(1), std::nullopt, At("2026-11-01T00:00:00Z")},  // ended
  };
  EXPECT_EQ(Lines(UsageView(C(), "FREE", {{"invoices", 8}, {"team_members", 4}, {"customers", 2}},
                            overrides, kNow)),
            (LinesT{
                "invoices: 8/5000 (0%) [ok] override",
                "customers: 2/5 (40%) [ok]",
                "team_members: 4/\u221e seats [ok] override",
                "api_calls: 0/100 (0%) [ok]",
                "pdf_export: On [ok] override",
                "custom_branding: Off [ok] override",  // off on every plan: nothing unlocks it
                "attachment_mb: 5 MB [ok]",
            }));
  EXPECT_EQ(Lines(UsageView(C(), "BASIC", {}, overrides, kNow))[6],
            "attachment_mb: Unlimited [ok] override");
  const auto rows = UsageView(C(), "FREE", {}, overrides, kNow);
  ASSERT_TRUE(rows.ok());
  EXPECT_EQ((*rows)[0].override, overrides[0]);
  EXPECT_EQ((*rows)[0].limit, Limit::Of(5000));
}

TEST(UsageView, UnlocksASwitchWithTheCheapestPlanThatTurnsItOn) {
  const auto rows = UsageView(C(), "FREE", {});
  ASSERT_TRUE(rows.ok());
  const UsageRow pdf = Row(*rows, "pdf_export");
  EXPECT_EQ(pdf.kind, FeatureKind::kBoolean);
  EXPECT_EQ(pdf.unlock, (Upgrade{"BASIC", Limit::Switch(true), 190000}));
  EXPECT_FALSE(pdf.percent.has_value());
  EXPECT_EQ(pdf.used, 0);
  // A deal that turns branding on only on BASIC makes BASIC the plan that unlocks it.
  const auto deal = UsageView(
      C(), "FREE", {}, {{"custom_branding", Limit::Switch(true), "BASIC", std::nullopt}}, kNow);
  EXPECT_EQ(Row(*deal, "custom_branding").unlock->plan, "BASIC");
}

TEST(UsageAfterUpgrade, KeepsAllocationsAndStartsMeteredCountsAnew) {
  const Usage usage = {{"invoices", 8}, {"customers", 3}, {"team_members", 1}, {"api_calls", 450}};
  // FREE -> PRO starts a period: invoices and API calls from zero, customers and seats kept.
  EXPECT_EQ(Lines(UsageAfterUpgrade(C(), Free(), kNow, usage, "PRO")),
            (LinesT{
                "invoices: 0/\u221e [ok]",
                "customers: 3/\u221e [ok]",
                "team_members: 1/10 seats (10%) [ok]",
                "api_calls: 0/100000 (0%) [ok]",
                "pdf_export: On [ok]",
                "custom_branding: On [ok]",
                "attachment_mb: 100 MB [ok]",
            }));
  // One line per purchase: invoices, customers, team members after buying the plan.
  const auto three = [&](const Subscription& sub, const std::string& plan) {
    const LinesT all = Lines(UsageAfterUpgrade(C(), sub, kNow, usage, plan));
    if (all.size() < 3) return all.front();
    return all[0] + " | " + all[1] + " | " + all[2];
  };
  EXPECT_EQ(three(Active("BASIC"), "PRO"),  // started
            "invoices: 0/\u221e [ok] | customers: 3/\u221e [ok] | team_members: 1/10 seats "
            "(10%) [ok]");
  EXPECT_EQ(three(Active("BASIC"), "BASIC"),  // extended: the period goes on
            "invoices: 8/1000 (0%) [ok] | customers: 3/50 (6%) [ok] | team_members: 1/3 seats "
            "(33%) [ok]");
  EXPECT_EQ(three(Expired("BASIC"), "BASIC"),  // started again after expiry
            "invoices: 0/1000 (0%) [ok] | customers: 3/50 (6%) [ok] | team_members: 1/3 seats "
            "(33%) [ok]");
  // Plans that cannot be bought now are drawn against what is used now.
  EXPECT_EQ(three(Free(), "FREE"),
            "invoices: 8/10 (80%) [warning] | customers: 3/5 (60%) [ok] | team_members: 1/1 seats "
            "(100%) [full]");
  const Usage big = {{"team_members", 5}};
  EXPECT_EQ(Lines(UsageAfterUpgrade(C(), Active("PRO"), kNow, big, "BASIC"))[2],
            "team_members: 5/3 seats (166%) [over] note: 5 in use, 3 allowed on Basic: remove 2 to "
            "add more");
  EXPECT_EQ(Lines(UsageAfterUpgrade(C(), Free(), kNow, usage, "GOLD")),
            LinesT{"invalid_plan: unknown plan \"GOLD\""});
}

TEST(UsageAfterUpgrade, AppliesTheOverridesThatWouldBeInForce) {
  const Overrides overrides = {{"invoices", Limit::Of(5000), "BASIC", std::nullopt},
                               {"team_members", Limit::Of(2), std::nullopt, std::nullopt}};
  const LinesT basic =
      Lines(UsageAfterUpgrade(C(), Free(), kNow, {{"team_members", 1}}, "BASIC", overrides));
  EXPECT_EQ(basic[0], "invoices: 0/5000 (0%) [ok] override");
  EXPECT_EQ(basic[2], "team_members: 1/2 seats (50%) [ok] override");
  const LinesT pro =
      Lines(UsageAfterUpgrade(C(), Free(), kNow, {{"team_members", 1}}, "PRO", overrides));
  EXPECT_EQ(pro[0], "invoices: 0/\u221e [ok]");
  EXPECT_EQ(pro[2], "team_members: 1/2 seats (50%) [ok] override");
}

TEST(UsageView, CountsWithAUnitPutItAfterTheLimit) {
  const Feature seats{"seats", "Seats", Enforcement::kHard, FeatureKind::kAllocation, "seats"};
  const Plan& plan = C().free_plan();
  EXPECT_EQ(MakeUsageRow(seats, 1, {Limit::Of(10)}, plan).text, "1/10 seats (10%)");
  EXPECT_EQ(MakeUsageRow(seats, 12, {Limit::Unlimited()}, plan).text, "12/\u221e seats");
  const Feature mb{"mb", "MB", Enforcement::kHard, FeatureKind::kValue, "MB"};
  EXPECT_EQ(MakeUsageRow(mb, 0, {Limit::Of(25)}, plan).text, "25 MB");
  EXPECT_EQ(MakeUsageRow(mb, 0, {Limit::Unlimited()}, plan).text, "Unlimited");
  const Feature bare{"size", "Size", Enforcement::kHard, FeatureKind::kValue};
  EXPECT_EQ(MakeUsageRow(bare, 0, {Limit::Of(25)}, plan).text, "25");
}

}  // namespace
}  // namespace sima
