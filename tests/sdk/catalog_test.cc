#include "sima/catalog.h"

#include <gtest/gtest.h>

namespace sima {
namespace {

std::vector<Feature> TwoFeatures() {
  return {{"invoices", "Invoices", Enforcement::kHard},
          {"api_calls", "API calls", Enforcement::kSoft}};
}

Plan MakePlan(std::string code, int64_t price, std::vector<Limit> limits) {
  return Plan{code, code, price, std::move(limits)};
}

TEST(Catalog, DefaultMatchesTheSpecTable) {
  const Catalog& c = Catalog::Default();
  EXPECT_EQ(c.currency(), "NPR");
  EXPECT_EQ(c.period_days(), 30);
  // key, label, kind, enforcement, unit
  std::vector<std::string> features;
  for (const Feature& f : c.features()) {
    features.push_back(f.key + " " + f.label + " " + std::string(to_string(f.kind)) + " " +
                       std::string(to_string(f.enforcement)) + " " + f.unit);
  }
  EXPECT_EQ(features, (std::vector<std::string>{
                          "invoices Invoices metered hard ",
                          "customers Customers allocation hard ",
                          "team_members Team members allocation hard seats",
                          "api_calls API calls metered soft ",
                          "pdf_export Export to PDF boolean hard ",
                          "custom_branding Custom branding boolean hard ",
                          "attachment_mb Attachment size value hard MB",
                      }));

  const Plan* free = c.FindPlan("FREE");
  const Plan* basic = c.FindPlan("BASIC");
  const Plan* pro = c.FindPlan("PRO");
  ASSERT_TRUE(free && basic && pro);
  EXPECT_EQ(free->price_paisa, 0);
  EXPECT_EQ(basic->price_rupees(), 1900);
  EXPECT_EQ(pro->price_paisa, 390000);
  const Limit on = Limit::Switch(true);
  const Limit off = Limit::Switch(false);
  EXPECT_EQ(free->limits, (std::vector<Limit>{Limit::Of(10), Limit::Of(5), Limit::Of(1),
                                              Limit::Of(100), off, off, Limit::Of(5)}));
  EXPECT_EQ(basic->limits, (std::vector<Limit>{Limit::Of(1000), Limit::Of(50), Limit::Of(3),
                                               Limit::Of(10000), on, off, Limit::Of(25)}));
  EXPECT_EQ(pro->limits, (std::vector<Limit>{Limit::Unlimited(), Limit::Unlimited(), Limit::Of(10),
                                             Limit::Of(100000), on, on, Limit::Of(100)}));
}

TEST(Catalog, OrdersPlansCheapestFirstWithFreeFirst) {
  auto c = Catalog::Create("NPR", 30, TwoFeatures(),
                           {MakePlan("PRO", 500, {Limit::Unlimited(), Limit::Of(9)}),
                            MakePlan("FREE", 0, {Limit::Of(1), Limit::Of(1)}),
                            MakePlan("MID", 200, {Limit::Of(5), Limit::Of(5)})});
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->plans()[0].code, "FREE");
  EXPECT_EQ(c->plans()[1].code, "MID");
  EXPECT_EQ(c->plans()[2].code, "PRO");
  EXPECT_EQ(c->free_plan().code, "FREE");
}

TEST(Catalog, UnlimitedIsAStateNotANumber) {
  EXPECT_TRUE(Limit::Unlimited().unlimited());
  EXPECT_TRUE(Limit::Unlimited().Allows(INT64_MAX));
  EXPECT_FALSE(Limit::Of(10).unlimited());
  EXPECT_TRUE(Limit::Of(10).Allows(10));
  EXPECT_FALSE(Limit::Of(10).Allows(11));
  EXPECT_TRUE(Limit::Of(0).Allows(0));
  EXPECT_FALSE(Limit::Of(0).Allows(1));
}

struct BadCatalog {
  const char* name;
  std::function<Result<Catalog>()> make;
  const char* message_part;
};

TEST(Catalog, RefusesEachBadCatalogNamingTheProblem) {
  const Limit one = Limit::Of(1);
  const std::vector<BadCatalog> cases = {
      {"no FREE plan",
       [&] {
         return Catalog::Create("NPR", 30, TwoFeatures(), {MakePlan("PRO", 100, {one, one})});
       },
       "no FREE plan"},
      {"negative price",
       [&] {
         return Catalog::Create("NPR", 30, TwoFeatures(),
                                {MakePlan("FREE", 0, {one, one}), MakePlan("PRO", -5, {one, one})});
       },
       "\"PRO\" has a negative price"},
      {"priced FREE",
       [&] {
         return Catalog::Create("NPR", 30, TwoFeatures(), {MakePlan("FREE", 10, {one, one})});
       },
       "FREE plan must cost 0"},
      {"duplicate plan",
       [&] {
         return Catalog::Create("NPR", 30, TwoFeatures(),
                                {MakePlan("FREE", 0, {one, one}), MakePlan("PRO", 9, {one, one}),
                                 MakePlan("PRO", 10, {one, one})});
       },
       "duplicate plan \"PRO\""},
      {"duplicate feature",
       [&] {
         return Catalog::Create("NPR", 30,
                                {{"a", "A", Enforcement::kHard}, {"a", "A", Enforcement::kHard}},
                                {MakePlan("FREE", 0, {one, one})});
       },
       "duplicate feature \"a\""},
      {"missing limit",
       [&] { return Catalog::Create("NPR", 30, TwoFeatures(), {MakePlan("FREE", 0, {one})}); },
       "has 1 limits for 2 features"},
      {"zero period",
       [&] {
         return Catalog::Create("NPR", 0, TwoFeatures(), {MakePlan("FREE", 0, {one, one})});
       },
       "period_days must be at least 1"},
      {"no features", [&] { return Catalog::Create("NPR", 30, {}, {MakePlan("FREE", 0, {})}); },
       "at least one feature"},
      {"paid plan at 0",
       [&] {
         return Catalog::Create("NPR", 30, TwoFeatures(),
                                {MakePlan("FREE", 0, {one, one}), MakePlan("GIFT", 0, {one, one})});
       },
       "\"GIFT\" is paid but has price 0"},
      {"soft switch",
       [&] {
         return Catalog::Create("NPR", 30,
                                {{"pdf", "PDF", Enforcement::kSoft, FeatureKind::kBoolean}},
                                {MakePlan("FREE", 0, {Limit::Switch(false)})});
       },
       "feature \"pdf\" is a boolean feature and cannot be soft (switches and values are always "
       "hard)"},
      {"soft value",
       [&] {
         return Catalog::Create("NPR", 30,
                                {{"mb", "MB", Enforcement::kSoft, FeatureKind::kValue, "MB"}},
                                {MakePlan("FREE", 0, {one})});
       },
       "feature \"mb\" is a value feature and cannot be soft"},
      {"switch with a count",
       [&] {
         return Catalog::Create(
             "NPR", 30, {{"pdf", "PDF", Enforcement::kHard, FeatureKind::kBoolean}},
             {MakePlan("FREE", 0, {Limit::Switch(false)}), MakePlan("PRO", 9, {Limit::Of(5)})});
       },
       "plan \"PRO\" limit for \"pdf\" must be true or false (a boolean feature)"},
      {"empty code",
       [&] {
         return Catalog::Create("NPR", 30, TwoFeatures(), {MakePlan("", 0, {one, one})});
       },
       "empty code"},
  };
  for (const auto& c : cases) {
    const auto result = c.make();
    ASSERT_FALSE(result.ok()) << c.name;
    EXPECT_EQ(result.status().code(), Code::kInvalidCatalog) << c.name;
    EXPECT_NE(result.status().message().find(c.message_part), std::string::npos)
        << c.name << ": " << result.status().message();
  }
}

// "notice 7,3,1 grace 3" or the refusal's message.
std::string Renewal(int period_days, RenewalSettings renewal) {
  const auto c = Catalog::Create("NPR", period_days, TwoFeatures(),
                                 {MakePlan("FREE", 0, {Limit::Of(1), Limit::Of(1)})}, renewal);
  if (!c.ok()) return c.status().ToString();
  std::string out = "notice";
  for (size_t i = 0; i < c->renewal_notice_days().size(); ++i) {
    out += (i == 0 ? " " : ",") + std::to_string(c->renewal_notice_days()[i]);
  }
  return out + " grace " + std::to_string(c->grace_days());
}

TEST(Catalog, RenewalSettingsDefaultToNoticeOnDays7_3_1AndThreeDaysOfGrace) {
  EXPECT_EQ(Catalog::Default().renewal_notice_days(), (std::vector<int>{7, 3, 1}));
  EXPECT_EQ(Catalog::Default().grace_days(), 3);
  EXPECT_EQ(Renewal(30, {}), "notice 7,3,1 grace 3");
  // A short period keeps the defaults that fit in it.
  EXPECT_EQ(Renewal(5, {}), "notice 3,1 grace 3");
  EXPECT_EQ(Renewal(2, {}), "notice 1 grace 2");
  EXPECT_EQ(Renewal(1, {}), "notice 1 grace 1");
}

TEST(Catalog, RenewalSettingsAreCheckedAndKeptLargestFirst) {
  EXPECT_EQ(Renewal(30, {{{1, 14, 3}}, 5}), "notice 14,3,1 grace 5");
  EXPECT_EQ(Renewal(30, {{{30}}, 30}), "notice 30 grace 30");
  EXPECT_EQ(Renewal(30, {{std::vector<int>{}}, 0}), "notice grace 0");
  EXPECT_EQ(Renewal(30, {{{7, 0}}, {}}),
            "invalid_catalog: renewal_notice_days: 0 is not a day from 1 to period_days "
            "(period_days is 30)");
  EXPECT_EQ(Renewal(30, {{{31}}, {}}),
            "invalid_catalog: renewal_notice_days: 31 is not a day from 1 to period_days "
            "(period_days is 30)");
  EXPECT_EQ(Renewal(30, {{{3, 7, 3}}, {}}),
            "invalid_catalog: renewal_notice_days: 3 is given twice");
  EXPECT_EQ(Renewal(30, {{}, -1}),
            "invalid_catalog: grace_days must be from 0 to period_days, got -1 (period_days is "
            "30)");
  EXPECT_EQ(Renewal(7, {{}, 8}),
            "invalid_catalog: grace_days must be from 0 to period_days, got 8 (period_days is 7)");
}

TEST(Catalog, FindsFeaturesAndPlansByName) {
  const Catalog& c = Catalog::Default();
  EXPECT_EQ(c.FeatureIndex("team_members"), 2u);
  EXPECT_FALSE(c.FeatureIndex("widgets").has_value());
  EXPECT_EQ(c.FindPlan("ENTERPRISE"), nullptr);
}

TEST(Catalog, NamesEnforcementAsTheJsonDoes) {
  EXPECT_EQ(to_string(Enforcement::kHard), "hard");
  EXPECT_EQ(to_string(Enforcement::kSoft), "soft");
}

TEST(Catalog, NamesFeatureKindsAsTheJsonDoes) {
  const std::pair<FeatureKind, const char*> names[] = {
      {FeatureKind::kMetered, "metered"},
      {FeatureKind::kAllocation, "allocation"},
      {FeatureKind::kBoolean, "boolean"},
      {FeatureKind::kValue, "value"},
  };
  for (const auto& [kind, name] : names) {
    EXPECT_EQ(to_string(kind), name);
    EXPECT_EQ(FeatureKindFromString(name), kind);
  }
  EXPECT_FALSE(FeatureKindFromString("Metered").has_value());
  EXPECT_FALSE(FeatureKindFromString("").has_value());
}

TEST(Catalog, OnlyMeteredAndAllocationFeaturesAreCounted) {
  std::string counted;
  for (const Feature& f : Catalog::Default().features()) {
    if (f.counted()) counted += f.key + " ";
  }
  EXPECT_EQ(counted, "invoices customers team_members api_calls ");
}

TEST(Catalog, ASwitchIsOnOrOff) {
  EXPECT_TRUE(Limit::Switch(true).on());
  EXPECT_TRUE(Limit::Switch(true).Allows(1));
  EXPECT_FALSE(Limit::Switch(false).on());
  EXPECT_FALSE(Limit::Switch(false).Allows(1));
  EXPECT_EQ(Limit::Switch(false), Limit::Of(0));
}

}  // namespace
}  // namespace sima
