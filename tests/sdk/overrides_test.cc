#include "sima/overrides.h"

#include <gtest/gtest.h>

#include "test_clock.h"

namespace sima {
namespace {

using testing::At;

const Catalog& C() { return Catalog::Default(); }

TEST(Override, AppliesOnItsPlanBeforeItsEnd) {
  const Time until = At("2026-12-15T00:00:00Z");
  struct Case {
    std::optional<std::string> plan;
    std::optional<Time> until;
    std::string on;
    const char* at;
    bool applies;
  };
  const Case cases[] = {
      {std::nullopt, std::nullopt, "FREE", "2030-01-01T00:00:00Z", true},
      {std::nullopt, std::nullopt, "PRO", "2026-01-01T00:00:00Z", true},
      {"BASIC", std::nullopt, "BASIC", "2026-12-01T00:00:00Z", true},
      {"BASIC", std::nullopt, "PRO", "2026-12-01T00:00:00Z", false},
      {"BASIC", std::nullopt, "FREE", "2026-12-01T00:00:00Z", false},
      {std::nullopt, until, "FREE", "2026-12-14T23:59:59Z", true},
      {std::nullopt, until, "FREE", "2026-12-15T00:00:00Z", false},
      {std::nullopt, until, "FREE", "2027-01-01T00:00:00Z", false},
      {"BASIC", until, "BASIC", "2026-12-01T00:00:00Z", true},
      {"BASIC", until, "BASIC", "2026-12-20T00:00:00Z", false},
      {"BASIC", until, "PRO", "2026-12-01T00:00:00Z", false},
  };
  for (const Case& c : cases) {
    const Override o{"invoices", Limit::Of(5000), c.plan, c.until};
    EXPECT_EQ(o.AppliesTo(c.on, At(c.at)), c.applies)
        << c.plan.value_or("any plan") << " until " << (c.until ? FormatTime(*c.until) : "never")
        << ", on " << c.on << " at " << c.at;
  }
}

TEST(ResolveLimit, TakesTheOverrideInForceOrThePlansLimit) {
  const Plan& free = *C().FindPlan("FREE");
  const Plan& basic = *C().FindPlan("BASIC");
  const size_t invoices = *C().FeatureIndex("invoices");
  const Time now = At("2026-12-01T00:00:00Z");
  const Overrides overrides = {
      {"customers", Limit::Unlimited(), std::nullopt, std::nullopt},
      {"invoices", Limit::Of(5000), "BASIC", At("2027-01-01T00:00:00Z")},
  };
  const EffectiveLimit on_basic = ResolveLimit(C(), basic, invoices, overrides, now);
  EXPECT_EQ(on_basic.limit, Limit::Of(5000));
  EXPECT_EQ(on_basic.override, &overrides[1]);
  const EffectiveLimit on_free = ResolveLimit(C(), free, invoices, overrides, now);
  EXPECT_EQ(on_free.limit, Limit::Of(10));
  EXPECT_EQ(on_free.override, nullptr);
  const EffectiveLimit later =
      ResolveLimit(C(), basic, invoices, overrides, At("2027-01-01T00:00:00Z"));
  EXPECT_EQ(later.limit, Limit::Of(1000));
  EXPECT_EQ(later.override, nullptr);
  const EffectiveLimit none = ResolveLimit(C(), basic, invoices, {}, now);
  EXPECT_EQ(none.limit, Limit::Of(1000));
  EXPECT_EQ(none.override, nullptr);
}

TEST(ValidateOverride, RefusesWhatTheCatalogCannotTake) {
  struct Case {
    Override o;
    std::string want;
  };
  const Case cases[] = {
      {{"invoices", Limit::Of(5000), "BASIC", std::nullopt}, "OK"},
      {{"pdf_export", Limit::Switch(true), std::nullopt, std::nullopt}, "OK"},
      {{"pdf_export", Limit::Switch(false), "PRO", std::nullopt}, "OK"},
      {{"attachment_mb", Limit::Unlimited(), std::nullopt, std::nullopt}, "OK"},
      {{"widgets", Limit::Of(1), std::nullopt, std::nullopt},
       "unknown_feature: feature \"widgets\" is not in the catalog"},
      {{"pdf_export", Limit::Of(5), std::nullopt, std::nullopt},
       "validation_error: limit must be true or false for the boolean feature \"pdf_export\""},
      {{"invoices", Limit::Of(5), "GOLD", std::nullopt},
       "invalid_plan: plan \"GOLD\" is not in the catalog"},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(ValidateOverride(C(), c.o).ToString(), c.want) << c.o.feature;
  }
}

}  // namespace
}  // namespace sima
