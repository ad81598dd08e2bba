#include "sima/decision.h"

#include <gtest/gtest.h>

#include <vector>

#include "test_clock.h"

namespace sima {
namespace {

using testing::Active;
using testing::At;
using testing::Free;

const Catalog& C() { return Catalog::Default(); }

TEST(Decision, AllowsTheTenthInvoiceOnFree) {
  const auto d = Check(C(), "FREE", {{"invoices", 9}}, "invoices");
  ASSERT_TRUE(d.ok());
  EXPECT_TRUE(d->allowed);
  EXPECT_EQ(d->current, 9);
  EXPECT_EQ(d->remaining, 1);
  EXPECT_FALSE(d->upgrade.has_value());
}

TEST(Decision, RefusesTheEleventhInvoiceOnFree) {
  const auto d = Check(C(), "FREE", {{"invoices", 10}}, "invoices");
  ASSERT_TRUE(d.ok());
  EXPECT_FALSE(d->allowed);
  EXPECT_EQ(d->feature, "invoices");
  EXPECT_EQ(d->current, 10);
  EXPECT_EQ(d->limit, Limit::Of(10));
  EXPECT_EQ(d->plan, "FREE");
  EXPECT_EQ(d->remaining, 0);
  ASSERT_TRUE(d->upgrade.has_value());
  EXPECT_EQ(*d->upgrade, (Upgrade{"BASIC", Limit::Of(1000), 190000}));
}

TEST(Decision, AllowsThreeThousandInvoicesOnPro) {
  for (int64_t used : {0, 10, 2999, 1000000}) {
    const auto d = Check(C(), "PRO", {{"invoices", used}}, "invoices");
    ASSERT_TRUE(d.ok());
    EXPECT_TRUE(d->allowed) << used;
    EXPECT_FALSE(d->remaining.has_value()) << "unlimited has no remaining count";
  }
}

TEST(Decision, SuggestsTheCheapestPlanThatFitsTheWholeRequest) {
  // 5 customers used on FREE; 60 more fit neither FREE (5) nor BASIC (50): PRO.
  const auto d = Check(C(), "FREE", {{"customers", 5}}, "customers", 60);
  ASSERT_TRUE(d.ok());
  EXPECT_FALSE(d->allowed);
  ASSERT_TRUE(d->upgrade.has_value());
  EXPECT_EQ(d->upgrade->plan, "PRO");
  EXPECT_TRUE(d->upgrade->limit.unlimited());
}

TEST(Decision, SuggestsNothingWhenNoPlanAllowsIt) {
  const auto d = Check(C(), "PRO", {{"team_members", 10}}, "team_members");
  ASSERT_TRUE(d.ok());
  EXPECT_FALSE(d->allowed);
  EXPECT_FALSE(d->upgrade.has_value());
}

TEST(Decision, NeverSuggestsACheaperPlanAsAnUpgrade) {
  const auto d = Check(C(), "BASIC", {{"team_members", 3}}, "team_members");
  ASSERT_TRUE(d.ok());
  ASSERT_TRUE(d->upgrade.has_value());
  EXPECT_EQ(d->upgrade->plan, "PRO");
}

TEST(Decision, SoftFeaturesAreAllowedButReportOver) {
  const auto under = Check(C(), "FREE", {{"api_calls", 99}}, "api_calls");
  ASSERT_TRUE(under.ok());
  EXPECT_TRUE(under->allowed);
  EXPECT_FALSE(under->over);

  const auto d = Check(C(), "FREE", {{"api_calls", 450}}, "api_calls");
  ASSERT_TRUE(d.ok());
  EXPECT_TRUE(d->allowed);
  EXPECT_TRUE(d->over);
  EXPECT_EQ(d->remaining, 0);
  ASSERT_TRUE(d->upgrade.has_value());
  EXPECT_EQ(d->upgrade->plan, "BASIC");
}

TEST(Decision, MissingUsageCountsAsZero) {
  const auto d = Check(C(), "FREE", {}, "team_members");
  ASSERT_TRUE(d.ok());
  EXPECT_TRUE(d->allowed);
  EXPECT_EQ(d->current, 0);
  EXPECT_FALSE(Check(C(), "FREE", {}, "team_members", 2)->allowed);
}

TEST(Decision, HugeRequestsDoNotOverflow) {
  const auto d = Check(C(), "BASIC", {{"invoices", INT64_MAX - 1}}, "invoices", INT64_MAX);
  ASSERT_TRUE(d.ok());
  EXPECT_FALSE(d->allowed);
  EXPECT_EQ(d->upgrade->plan, "PRO");
}

TEST(Decision, RefusesUnknownFeaturePlanAndQuantity) {
  const auto feature = Check(C(), "FREE", {}, "widgets");
  EXPECT_EQ(feature.status().code(), Code::kUnknownFeature);
  EXPECT_EQ(feature.status().message(), "unknown feature \"widgets\"");
  const auto plan = Check(C(), "GOLD", {}, "invoices");
  EXPECT_EQ(plan.status().code(), Code::kInvalidPlan);
  EXPECT_EQ(plan.status().message(), "unknown plan \"GOLD\"");
  for (int64_t n : {int64_t{0}, int64_t{-1}, INT64_MIN}) {
    const auto q = Check(C(), "FREE", {}, "invoices", n);
    EXPECT_EQ(q.status().code(), Code::kInvalidArgument) << n;
  }
}

TEST(Decision, KeepsThePlanThroughTheGraceThenUsesFree) {
  const Subscription pro{"PRO", At("2026-11-01T00:00:00Z"), At("2026-12-01T00:00:00Z")};
  const Usage usage{{"invoices", 10}};
  EXPECT_TRUE(Check(C(), pro, At("2026-11-30T23:59:59Z"), usage, "invoices")->allowed);
  // The period ended; for the catalog's 3 days of grace the plan still applies.
  const auto grace = Check(C(), pro, At("2026-12-03T23:59:59Z"), usage, "invoices");
  ASSERT_TRUE(grace.ok());
  EXPECT_TRUE(grace->allowed);
  EXPECT_EQ(grace->plan, "PRO");
  const auto after = Check(C(), pro, At("2026-12-04T00:00:00Z"), usage, "invoices");
  ASSERT_TRUE(after.ok());
  EXPECT_FALSE(after->allowed);
  EXPECT_EQ(after->plan, "FREE");
}

TEST(UpgradeOptions, ListsThePricierPlansCheapestFirstAndMarksTheSuggestion) {
  const auto options = UpgradeOptions(C(), "FREE", {{"invoices", 10}}, "invoices");
  ASSERT_TRUE(options.ok());
  EXPECT_EQ(*options, (std::vector<UpgradeOption>{
                          {"BASIC", "Basic", Limit::Of(1000), 190000, true, true},
                          {"PRO", "Pro", Limit::Unlimited(), 390000, true, false},
                      }));
}

TEST(UpgradeOptions, SuggestsThePlanThatFitsTheWholeRequest) {
  // 5 customers used on FREE; 60 more do not fit BASIC (50): only PRO allows them.
  const auto options = UpgradeOptions(C(), "FREE", {{"customers", 5}}, "customers", 60);
  ASSERT_TRUE(options.ok());
  ASSERT_EQ(options->size(), 2u);
  EXPECT_EQ((*options)[0].plan, "BASIC");
  EXPECT_FALSE((*options)[0].allows);
  EXPECT_FALSE((*options)[0].suggested);
  EXPECT_EQ((*options)[1].plan, "PRO");
  EXPECT_TRUE((*options)[1].allows);
  EXPECT_TRUE((*options)[1].suggested);
}

TEST(UpgradeOptions, OffersOnlyPlansPricierThanTheCurrentOne) {
  const auto basic = UpgradeOptions(C(), "BASIC", {{"team_members", 3}}, "team_members");
  ASSERT_TRUE(basic.ok());
  ASSERT_EQ(basic->size(), 1u);
  EXPECT_EQ((*basic)[0], (UpgradeOption{"PRO", "Pro", Limit::Of(10), 390000, true, true}));
  const auto pro = UpgradeOptions(C(), "PRO", {{"team_members", 10}}, "team_members");
  ASSERT_TRUE(pro.ok());
  EXPECT_TRUE(pro->empty());
}

TEST(UpgradeOptions, SuggestsTheCheapestFittingPlanEvenWhileTheCurrentOneAllows) {
  const auto options = UpgradeOptions(C(), "FREE", {}, "invoices");
  ASSERT_TRUE(options.ok());
  ASSERT_EQ(options->size(), 2u);
  EXPECT_TRUE((*options)[0].suggested);
  EXPECT_FALSE((*options)[1].suggested);
}

TEST(UpgradeOptions, NoPlanIsSuggestedWhenNoneAllows) {
  const auto options = UpgradeOptions(C(), "FREE", {{"team_members", 10}}, "team_members");
  ASSERT_TRUE(options.ok());
  ASSERT_EQ(options->size(), 2u);
  for (const UpgradeOption& o : *options) {
    EXPECT_FALSE(o.allows) << o.plan;
    EXPECT_FALSE(o.suggested) << o.plan;
  }
}

TEST(UpgradeOptions, HugeRequestsDoNotOverflow) {
  const auto options =
      UpgradeOptions(C(), "FREE", {{"invoices", INT64_MAX - 1}}, "invoices", INT64_MAX);
  ASSERT_TRUE(options.ok());
  ASSERT_EQ(options->size(), 2u);
  EXPECT_FALSE((*options)[0].allows);
  EXPECT_TRUE((*options)[1].allows);
  EXPECT_TRUE((*options)[1].suggested);
}

TEST(UpgradeOptions, RefusesWhatCheckRefuses) {
  EXPECT_EQ(UpgradeOptions(C(), "FREE", {}, "widgets").status().message(),
            "unknown feature \"widgets\"");
  EXPECT_EQ(UpgradeOptions(C(), "GOLD", {}, "invoices").status().code(), Code::kInvalidPlan);
  EXPECT_EQ(UpgradeOptions(C(), "FREE", {}, "invoices", 0).status().code(), Code::kInvalidArgument);
}

// Every kind, with and without overrides, one decision per line:
// "<allowed|refused|over> <current>+<requested> of <limit>[ by override][ -> <plan> <limit>]".
const Time kNow = At("2026-12-01T00:00:00Z");

std::string Show(FeatureKind kind, Limit limit) {
  if (kind == FeatureKind::kBoolean) return limit.on() ? "on" : "off";
  return limit.unlimited() ? "unlimited" : std::to_string(limit.count());
}

std::string Line(const Result<Decision>& d) {
  if (!d) return d.status().ToString();
  std::string out = d->over ? "over" : d->allowed ? "allowed" : "refused";
  out += " " + std::to_string(d->current) + "+" + std::to_string(d->requested) + " of " +
         Show(d->kind, d->limit);
  if (d->override) out += " by override";
  if (d->upgrade) out += " -> " + d->upgrade->plan + " " + Show(d->kind, d->upgrade->limit);
  return out;
}

// `plan` in force at kNow: FREE never ends, a paid plan runs 2026-11-15..2026-12-15.
Subscription On(const std::string& plan) { return plan == "FREE" ? Free() : Active(plan); }

std::string Decide(const std::string& plan, int64_t used, const std::string& feature, int64_t n = 1,
                   const Overrides& overrides = {}) {
  return Line(Check(C(), On(plan), kNow, {{feature, used}}, feature, n, overrides));
}

Override Deal(std::string feature, Limit limit, std::optional<std::string> plan = std::nullopt,
              std::optional<Time> until = std::nullopt) {
  return {std::move(feature), limit, std::move(plan), until};
}

TEST(Decision, EachKindDecidesOnItsOwnTerms) {
  struct Case {
    std::string plan;
    int64_t used;
    std::string feature;
    int64_t n;
    std::string want;
  };
  const Case cases[] = {
      // metered: current + n against the period's limit
      {"FREE", 9, "invoices", 1, "allowed 9+1 of 10"},
      {"FREE", 10, "invoices", 1, "refused 10+1 of 10 -> BASIC 1000"},
      {"PRO", 1000000, "invoices", 1, "allowed 1000000+1 of unlimited"},
      {"FREE", 99, "api_calls", 1, "allowed 99+1 of 100"},
      {"FREE", 100, "api_calls", 1, "over 100+1 of 100 -> BASIC 10000"},
      {"PRO", 100000, "api_calls", 5, "over 100000+5 of 100000"},
      // allocation: live count + n; more than the limit in use (after a downgrade) refuses
      {"FREE", 0, "team_members", 1, "allowed 0+1 of 1"},
      {"FREE", 1, "team_members", 1, "refused 1+1 of 1 -> BASIC 3"},
      {"FREE", 3, "team_members", 1, "refused 3+1 of 1 -> PRO 10"},
      {"FREE", 5, "customers", 46, "refused 5+46 of 5 -> PRO unlimited"},
      {"PRO", 10, "team_members", 1, "refused 10+1 of 10"},
      // boolean: on or off, whatever n and the usage say; the upgrade turns it on
      {"FREE", 0, "pdf_export", 1, "refused 0+1 of off -> BASIC on"},
      {"FREE", 7, "pdf_export", 5, "refused 0+1 of off -> BASIC on"},
      {"BASIC", 0, "pdf_export", 1, "allowed 0+1 of on"},
      {"FREE", 0, "custom_branding", 1, "refused 0+1 of off -> PRO on"},
      {"BASIC", 0, "custom_branding", 1, "refused 0+1 of off -> PRO on"},
      {"PRO", 0, "custom_branding", 1, "allowed 0+1 of on"},
      // value: n itself against the plan's number; nothing is counted
      {"FREE", 0, "attachment_mb", 0, "allowed 0+0 of 5"},
      {"FREE", 0, "attachment_mb", 5, "allowed 0+5 of 5"},
      {"FREE", 4, "attachment_mb", 5, "allowed 0+5 of 5"},
      {"FREE", 0, "attachment_mb", 6, "refused 0+6 of 5 -> BASIC 25"},
      {"FREE", 0, "attachment_mb", 30, "refused 0+30 of 5 -> PRO 100"},
      {"PRO", 0, "attachment_mb", 101, "refused 0+101 of 100"},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(Decide(c.plan, c.used, c.feature, c.n), c.want)
        << c.plan << " " << c.feature << " used " << c.used << " n " << c.n;
  }
}

TEST(Decision, OverridesReplaceThePlansLimitWhileInForce) {
  const Time before = At("2026-11-30T00:00:00Z");
  const Time after = At("2026-12-02T00:00:00Z");
  struct Case {
    std::string plan;
    int64_t used;
    std::string feature;
    int64_t n;
    Override deal;
    std::string want;
  };
  const Case cases[] = {
      // unscoped, no end: in force on every plan
      {"FREE", 10, "invoices", 1, Deal("invoices", Limit::Of(5000)),
       "allowed 10+1 of 5000 by override"},
      {"PRO", 5, "invoices", 1, Deal("invoices", Limit::Of(5)), "refused 5+1 of 5 by override"},
      {"FREE", 2, "team_members", 1, Deal("team_members", Limit::Of(2)),
       "refused 2+1 of 2 by override"},
      {"FREE", 0, "pdf_export", 1, Deal("pdf_export", Limit::Switch(true)),
       "allowed 0+1 of on by override"},
      {"PRO", 0, "custom_branding", 1, Deal("custom_branding", Limit::Switch(false)),
       "refused 0+1 of off by override"},
      {"FREE", 0, "attachment_mb", 200, Deal("attachment_mb", Limit::Of(500)),
       "allowed 0+200 of 500 by override"},
      {"FREE", 0, "attachment_mb", 1 << 30, Deal("attachment_mb", Limit::Unlimited()),
       "allowed 0+1073741824 of unlimited by override"},
      // scoped to a plan: only while that plan is in force; upgrades use the target's terms
      {"BASIC", 4999, "invoices", 1, Deal("invoices", Limit::Of(5000), "BASIC"),
       "allowed 4999+1 of 5000 by override"},
      {"BASIC", 5000, "invoices", 1, Deal("invoices", Limit::Of(5000), "BASIC"),
       "refused 5000+1 of 5000 by override -> PRO unlimited"},
      {"FREE", 10, "invoices", 1, Deal("invoices", Limit::Of(5000), "BASIC"),
       "refused 10+1 of 10 -> BASIC 5000"},
      {"FREE", 3, "team_members", 1, Deal("team_members", Limit::Of(50), "PRO"),
       "refused 3+1 of 1 -> PRO 50"},
      {"FREE", 0, "attachment_mb", 200, Deal("attachment_mb", Limit::Of(500), "BASIC"),
       "refused 0+200 of 5 -> BASIC 500"},
      {"FREE", 0, "custom_branding", 1, Deal("custom_branding", Limit::Switch(true), "BASIC"),
       "refused 0+1 of off -> BASIC on"},
      // with an end: in force before it, the plan's limit from then on
      {"FREE", 10, "invoices", 1, Deal("invoices", Limit::Of(20), std::nullopt, after),
       "allowed 10+1 of 20 by override"},
      {"FREE", 10, "invoices", 1, Deal("invoices", Limit::Of(20), std::nullopt, kNow),
       "refused 10+1 of 10 -> BASIC 1000"},
      {"FREE", 10, "invoices", 1, Deal("invoices", Limit::Of(20), std::nullopt, before),
       "refused 10+1 of 10 -> BASIC 1000"},
      // another feature's override changes nothing
      {"FREE", 10, "invoices", 1, Deal("customers", Limit::Unlimited()),
       "refused 10+1 of 10 -> BASIC 1000"},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(Decide(c.plan, c.used, c.feature, c.n, {c.deal}), c.want)
        << c.plan << " " << c.feature << " used " << c.used << " n " << c.n;
  }
}

TEST(Decision, CarriesTheOverrideInForce) {
  const Override deal = Deal("invoices", Limit::Of(5000), "BASIC", At("2027-01-01T00:00:00Z"));
  const Overrides overrides = {Deal("customers", Limit::Of(1)), deal};
  const auto d = Check(C(), On("BASIC"), kNow, {{"invoices", 10}}, "invoices", 1, overrides);
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->override, deal);
  EXPECT_EQ(d->limit, Limit::Of(5000));
  EXPECT_EQ(d->remaining, 4990);
  EXPECT_EQ(d->kind, FeatureKind::kMetered);
  // The same override once the subscription has expired (past its end and the grace): the org
  // is on FREE, the deal was BASIC's.
  const auto ended = Check(C(), On("BASIC"), At("2027-01-15T00:00:00Z"), {{"invoices", 10}},
                           "invoices", 1, overrides);
  ASSERT_TRUE(ended.ok());
  EXPECT_EQ(ended->plan, "FREE");
  EXPECT_FALSE(ended->override.has_value());
  EXPECT_FALSE(ended->allowed);
}

TEST(Decision, SwitchesAndValuesHaveNoCountOrRemaining) {
  const auto pdf = Check(C(), "BASIC", {{"pdf_export", 4}}, "pdf_export", 3);
  ASSERT_TRUE(pdf.ok());
  EXPECT_EQ(pdf->kind, FeatureKind::kBoolean);
  EXPECT_EQ(pdf->current, 0);
  EXPECT_EQ(pdf->requested, 1);
  EXPECT_FALSE(pdf->remaining.has_value());
  const auto mb = Check(C(), "BASIC", {{"attachment_mb", 24}}, "attachment_mb", 25);
  ASSERT_TRUE(mb.ok());
  EXPECT_EQ(mb->kind, FeatureKind::kValue);
  EXPECT_EQ(mb->current, 0);
  EXPECT_EQ(mb->requested, 25);
  EXPECT_FALSE(mb->remaining.has_value());
  EXPECT_TRUE(mb->allowed);
}

TEST(Decision, RefusesAQuantityBelowWhatTheKindTakes) {
  EXPECT_EQ(Line(Check(C(), "FREE", {}, "attachment_mb", -1)),
            "validation_error: quantity must be at least 0, got -1");
  EXPECT_EQ(Line(Check(C(), "FREE", {}, "pdf_export", 0)),
            "validation_error: quantity must be at least 1, got 0");
  EXPECT_EQ(Line(Check(C(), "FREE", {}, "customers", 0)),
            "validation_error: quantity must be at least 1, got 0");
}

TEST(UpgradeOptions, EachKindListsWhatEveryPricierPlanAllows) {
  // "<plan> <limit> allows|-[ suggested]" per option.
  const auto render = [](const std::string& plan, const std::string& feature, int64_t used,
                         int64_t n, const Overrides& overrides = {}) {
    const auto options = UpgradeOptions(C(), plan, {{feature, used}}, feature, n, overrides, kNow);
    if (!options) return options.status().ToString();
    const FeatureKind kind = C().features()[*C().FeatureIndex(feature)].kind;
    std::string out;
    for (const UpgradeOption& o : *options) {
      if (!out.empty()) out += ", ";
      out += o.plan + " " + Show(kind, o.limit) + (o.allows ? " allows" : " -") +
             (o.suggested ? " suggested" : "");
    }
    return out;
  };
  EXPECT_EQ(render("FREE", "pdf_export", 0, 1), "BASIC on allows suggested, PRO on allows");
  EXPECT_EQ(render("FREE", "custom_branding", 0, 1), "BASIC off -, PRO on allows suggested");
  EXPECT_EQ(render("BASIC", "custom_branding", 0, 1), "PRO on allows suggested");
  EXPECT_EQ(render("FREE", "attachment_mb", 0, 30), "BASIC 25 -, PRO 100 allows suggested");
  EXPECT_EQ(render("FREE", "team_members", 1, 1), "BASIC 3 allows suggested, PRO 10 allows");
  EXPECT_EQ(render("FREE", "team_members", 5, 1), "BASIC 3 -, PRO 10 allows suggested");
  // With overrides: a deal scoped to BASIC shows on BASIC; an unscoped one on every plan.
  EXPECT_EQ(
      render("FREE", "attachment_mb", 0, 200, {Deal("attachment_mb", Limit::Of(500), "BASIC")}),
      "BASIC 500 allows suggested, PRO 100 -");
  EXPECT_EQ(
      render("FREE", "custom_branding", 0, 1, {Deal("custom_branding", Limit::Switch(false))}),
      "BASIC off -, PRO off -");
  EXPECT_EQ(render("FREE", "attachment_mb", 0, -1),
            "validation_error: quantity must be at least 0, got -1");
}

}  // namespace
}  // namespace sima
