#include "sima/json.h"

#include <gtest/gtest.h>

#include "test_clock.h"

namespace sima {
namespace {

using testing::At;

TEST(Json, CatalogMatchesTheSpecShape) {
  const Json j = CatalogToJson(Catalog::Default());
  EXPECT_EQ(j["currency"], "NPR");
  EXPECT_EQ(j["period_days"], 30);
  EXPECT_EQ(j["renewal_notice_days"], Json::parse("[7,3,1]"));
  EXPECT_EQ(j["grace_days"], 3);
  EXPECT_EQ(j["features"][0], Json::parse(R"({"key":"invoices","label":"Invoices","kind":"metered",
                            "enforcement":"hard","unit":""})"));
  EXPECT_EQ(j["features"][2]["unit"], "seats");
  EXPECT_EQ(j["features"][4]["kind"], "boolean");
  EXPECT_EQ(j["features"][3]["enforcement"], "soft");
  EXPECT_EQ(j["plans"][0], Json::parse(R"({"code":"FREE","name":"Free","price":0,"price_paisa":0,
      "limits":{"invoices":10,"customers":5,"team_members":1,"api_calls":100,
                "pdf_export":false,"custom_branding":false,"attachment_mb":5}})"));
  EXPECT_EQ(j["plans"][2]["limits"]["invoices"], -1);
  EXPECT_EQ(j["plans"][2]["price"], 3900);
}

TEST(Json, CatalogRoundTrips) {
  const auto back = CatalogFromJson(CatalogToJson(Catalog::Default()));
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(CatalogToJson(*back), CatalogToJson(Catalog::Default()));
}

TEST(Json, CatalogReadsRenewalSettingsOrTakesTheDefaults) {
  const std::string rest =
      R"("features":[{"key":"seats"}],"plans":[{"code":"FREE","price":0,"limits":{"seats":1}}]})";
  const auto given = ParseCatalog(R"({"renewal_notice_days":[1,10],"grace_days":0,)" + rest);
  ASSERT_TRUE(given.ok()) << given.status().ToString();
  EXPECT_EQ(given->renewal_notice_days(), (std::vector<int>{10, 1}));
  EXPECT_EQ(given->grace_days(), 0);
  EXPECT_EQ(CatalogToJson(*given)["renewal_notice_days"], Json::parse("[10,1]"));
  const auto defaults = ParseCatalog("{" + rest);
  ASSERT_TRUE(defaults.ok()) << defaults.status().ToString();
  EXPECT_EQ(defaults->renewal_notice_days(), (std::vector<int>{7, 3, 1}));
  EXPECT_EQ(defaults->grace_days(), 3);
  const auto short_period = ParseCatalog(R"({"period_days":2,)" + rest);
  ASSERT_TRUE(short_period.ok()) << short_period.status().ToString();
  EXPECT_EQ(CatalogToJson(*short_period)["renewal_notice_days"], Json::parse("[1]"));
  EXPECT_EQ(CatalogToJson(*short_period)["grace_days"], 2);
}

TEST(Json, CatalogAcceptsRupeePrices) {
  const auto c = ParseCatalog(R"({"features":[{"key":"seats"}],
      "plans":[{"code":"FREE","price":0,"limits":{"seats":1}},
               {"code":"TEAM","price":500,"limits":{"seats":-1}}]})");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->FindPlan("TEAM")->price_paisa, 50000);
  EXPECT_TRUE(c->FindPlan("TEAM")->limits[0].unlimited());
  EXPECT_EQ(c->features()[0].label, "seats");
}

TEST(Json, RefusesEachBadCatalogNamingTheProblem) {
  const std::string features =
      R"("features":[{"key":"invoices","label":"Invoices","enforcement":"hard"}])";
  struct Case {
    std::string text;
    Code code;
    const char* message;
  };
  const Case cases[] = {
      {"{", Code::kInvalidJson, "the catalog is not valid JSON"},
      {"[]", Code::kInvalidCatalog, "a catalog must be a JSON object"},
      {"{" + features + R"(,"plans":[{"code":"PRO","price_paisa":100,"limits":{"invoices":1}}]})",
       Code::kInvalidCatalog, "the catalog has no FREE plan"},
      {"{" + features + R"(,"plans":[{"code":"FREE","price_paisa":0,"limits":{"invoices":1}},
          {"code":"PRO","price_paisa":-100,"limits":{"invoices":1}}]})",
       Code::kInvalidCatalog, "plan \"PRO\" has a negative price (-100 paisa)"},
      {"{" + features + R"(,"plans":[{"code":"FREE","price_paisa":0,"limits":{"invoices":-2}}]})",
       Code::kInvalidCatalog,
       "plan \"FREE\" limit for \"invoices\" is -2; it must be -1 (unlimited) or more"},
      {"{" + features + R"(,"plans":[{"code":"FREE","price_paisa":0,"limits":{"invoices":1}},
          {"code":"FREE","price_paisa":0,"limits":{"invoices":2}}]})",
       Code::kInvalidCatalog, "duplicate plan \"FREE\""},
      {"{" + features +
           R"(,"plans":[{"code":"FREE","price_paisa":0,"limits":{"invoices":1,"widgets":3}}]})",
       Code::kInvalidCatalog, "plan \"FREE\" has a limit for unknown feature \"widgets\""},
      {"{" + features + R"(,"plans":[{"code":"FREE","price_paisa":0,"limits":{}}]})",
       Code::kInvalidCatalog, "plan \"FREE\" has no limit for feature \"invoices\""},
      {"{" + features + R"(,"plans":[{"code":"FREE","price_paisa":0,"limits":{"invoices":1.5}}]})",
       Code::kInvalidCatalog,
       "plan \"FREE\" limit for \"invoices\" must be an integer, -1 for unlimited (a metered "
       "feature)"},
      {"{" + features + R"(,"plans":[{"code":"FREE","limits":{"invoices":1}}]})",
       Code::kInvalidCatalog, "plan \"FREE\" has no price_paisa (or price)"},
      {"{" + features + R"(,"plans":[{"price_paisa":0,"limits":{"invoices":1}}]})",
       Code::kInvalidCatalog, "plans[0].code must be a non-empty string"},
      {R"({"features":[{"key":"a","enforcement":"medium"}],"plans":[]})", Code::kInvalidCatalog,
       "features[0].enforcement must be \"hard\" or \"soft\""},
      {R"({"features":{},"plans":[]})", Code::kInvalidCatalog, "features must be an array"},
      {R"({"period_days":0,"features":[],"plans":[]})", Code::kInvalidCatalog,
       "period_days must be an integer from 1 to 3660"},
      {R"({"renewal_notice_days":7,"features":[],"plans":[]})", Code::kInvalidCatalog,
       "renewal_notice_days must be an array of whole days"},
      {R"({"renewal_notice_days":[7,"3"],"features":[],"plans":[]})", Code::kInvalidCatalog,
       "renewal_notice_days[1] must be a whole number of days from 1 to period_days (30)"},
      {R"({"period_days":5,"renewal_notice_days":[7],"features":[],"plans":[]})",
       Code::kInvalidCatalog,
       "renewal_notice_days[0] must be a whole number of days from 1 to period_days (5)"},
      {"{" + features +
           R"(,"renewal_notice_days":[3,3],"plans":[{"code":"FREE","price":0,"limits":{"invoices":1}}]})",
       Code::kInvalidCatalog, "renewal_notice_days: 3 is given twice"},
      {R"({"grace_days":-1,"features":[],"plans":[]})", Code::kInvalidCatalog,
       "grace_days must be a whole number of days from 0 to period_days (30)"},
      {R"({"grace_days":1.5,"features":[],"plans":[]})", Code::kInvalidCatalog,
       "grace_days must be a whole number of days from 0 to period_days (30)"},
      {"{" + features +
           R"(,"plans":[{"code":"FREE","price_paisa":18446744073709551615,"limits":{"invoices":1}}]})",
       Code::kInvalidCatalog, "plan \"FREE\" price_paisa must be an integer"},
  };
  for (const Case& c : cases) {
    const auto result = ParseCatalog(c.text);
    ASSERT_FALSE(result.ok()) << c.text;
    EXPECT_EQ(result.status().code(), c.code) << c.text;
    EXPECT_EQ(result.status().message(), c.message) << c.text;
  }
}

TEST(Json, LimitReachedBodyIsTheSeedsPlusTheUpgrade) {
  const auto d = Check(Catalog::Default(), "FREE", {{"invoices", 10}}, "invoices");
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(LimitReachedBody(*d), Json::parse(R"({"error":"Limit reached","code":"limit_reached",
      "feature":"invoices","kind":"metered","current":10,"limit":10,"plan":"FREE","override":null,
      "upgrade":{"plan":"BASIC","limit":1000,"price":1900,"price_paisa":190000}})"));
}

TEST(Json, LimitReachedBodyHasNullUpgradeWhenNoPlanFits) {
  const auto d = Check(Catalog::Default(), "PRO", {{"team_members", 10}}, "team_members");
  EXPECT_TRUE(LimitReachedBody(*d)["upgrade"].is_null());
}

TEST(Json, DecisionShowsUnlimitedRemainingAsNull) {
  const auto d = Check(Catalog::Default(), "PRO", {{"invoices", 3000}}, "invoices");
  const Json j = DecisionToJson(*d);
  EXPECT_EQ(j["allowed"], true);
  EXPECT_EQ(j["limit"], -1);
  EXPECT_TRUE(j["remaining"].is_null());
  EXPECT_TRUE(j["upgrade"].is_null());
}

TEST(Json, UsageRowsMatchTheSpec) {
  const auto rows = UsageView(Catalog::Default(), "FREE", {{"invoices", 8}, {"api_calls", 450}});
  const Json j = UsageRowsToJson(*rows);
  EXPECT_EQ(j["invoices"]["used"], 8);
  EXPECT_EQ(j["invoices"]["limit"], 10);
  EXPECT_EQ(j["invoices"]["percent"], 80);
  EXPECT_EQ(j["invoices"]["status"], "warning");
  EXPECT_EQ(j["invoices"]["text"], "8/10 (80%)");
  EXPECT_EQ(j["api_calls"]["status"], "over");
  const auto pro = UsageView(Catalog::Default(), "PRO", {});
  EXPECT_TRUE(UsageRowsToJson(*pro)["invoices"]["percent"].is_null());
  EXPECT_EQ(UsageRowsToJson(*pro)["invoices"]["limit"], -1);
}

TEST(Json, SubscriptionAndPeriod) {
  const Subscription pro{"PRO", At("2026-11-23T10:00:00Z"), At("2026-12-23T10:00:00Z")};
  EXPECT_EQ(SubscriptionToJson(pro, At("2026-11-24T00:00:00Z")),
            Json::parse(R"({"plan":"PRO","is_active":true,"start_date":"2026-11-23T10:00:00Z",
                            "end_date":"2026-12-23T10:00:00Z"})"));
  EXPECT_EQ(SubscriptionToJson(pro, At("2027-01-01T00:00:00Z"))["plan"], "FREE");
  EXPECT_EQ(SubscriptionToJson(pro, At("2027-01-01T00:00:00Z"))["is_active"], false);
  const Subscription free{"FREE", At("2026-01-01T00:00:00Z"), std::nullopt};
  EXPECT_TRUE(SubscriptionToJson(free, At("2026-02-01T00:00:00Z"))["end_date"].is_null());
  EXPECT_EQ(PeriodToJson({At("2026-01-01T00:00:00Z"), At("2026-01-31T00:00:00Z")}),
            Json::parse(R"({"start":"2026-01-01T00:00:00Z","end":"2026-01-31T00:00:00Z"})"));
}

TEST(Json, ReadsAUsageSnapshotFromTheUsageAnswer) {
  const auto snap =
      UsageSnapshotFromJson(Catalog::Default(), Json::parse(R"({"org_id":"org_1","plan":"FREE",
      "usage":{"invoices":{"used":8,"limit":10,"percent":80,"status":"warning"},"api_calls":{"used":450}}})"));
  ASSERT_TRUE(snap.ok()) << snap.status().ToString();
  EXPECT_EQ(snap->plan, "FREE");
  EXPECT_EQ(snap->usage.at("invoices"), 8);
  EXPECT_EQ(snap->usage.at("api_calls"), 450);
  // No subscription in the answer: the plan, with no known dates.
  EXPECT_EQ(snap->subscription, (Subscription{"FREE", Time{}, std::nullopt}));
}

TEST(Json, ReadsTheSubscriptionOfAUsageSnapshot) {
  const Subscription pro{"PRO", At("2026-11-01T00:00:00Z"), At("2026-12-01T00:00:00Z")};
  Json body = Json::parse(R"({"plan":"PRO","usage":{}})");
  body["subscription"] = SubscriptionToJson(pro, At("2026-11-10T00:00:00Z"));
  const auto snap = UsageSnapshotFromJson(Catalog::Default(), body);
  ASSERT_TRUE(snap.ok()) << snap.status().ToString();
  EXPECT_EQ(snap->subscription, pro);
  const Subscription free{"FREE", At("2026-01-01T00:00:00Z"), std::nullopt};
  EXPECT_EQ(SubscriptionFromJson(SubscriptionToJson(free, At("2026-02-01T00:00:00Z"))).value(),
            free);
}

TEST(Json, RefusesABadSubscription) {
  struct Case {
    const char* text;
    const char* message;
  };
  const Case cases[] = {
      {R"([])", "subscription must be an object"},
      {R"({"start_date":"2026-11-01T00:00:00Z"})", "subscription.plan must be a non-empty string"},
      {R"({"plan":"PRO"})", "subscription.start_date must be an RFC 3339 time"},
      {R"({"plan":"PRO","start_date":"yesterday"})",
       "subscription.start_date must be an RFC 3339 time"},
      {R"({"plan":"PRO","start_date":"2026-11-01T00:00:00Z","end_date":5})",
       "subscription.end_date must be an RFC 3339 time or null"},
  };
  for (const Case& c : cases) {
    const auto sub = SubscriptionFromJson(Json::parse(c.text));
    ASSERT_FALSE(sub.ok()) << c.text;
    EXPECT_EQ(sub.status().message(), c.message) << c.text;
    Json body = Json::parse(R"({"plan":"PRO","usage":{}})");
    body["subscription"] = Json::parse(c.text);
    EXPECT_EQ(UsageSnapshotFromJson(Catalog::Default(), body).status().message(),
              std::string("usage snapshot: ") + c.message)
        << c.text;
  }
}

TEST(Json, RefusesABadUsageSnapshot) {
  struct Case {
    const char* text;
    const char* message;
  };
  const Case cases[] = {
      {R"([])", "the usage snapshot must be a JSON object"},
      {R"({"usage":{}})", "usage snapshot: \"plan\" must be a non-empty string"},
      {R"({"plan":"FREE"})", "usage snapshot: \"usage\" must be an object"},
      {R"({"plan":"FREE","usage":{"invoices":{"used":-1}}})",
       "usage snapshot: usage.invoices.used must be a whole number of 0 or more"},
      {R"({"plan":"FREE","usage":{"invoices":{"used":"8"}}})",
       "usage snapshot: usage.invoices.used must be a whole number of 0 or more"},
      {R"({"plan":"FREE","usage":{"invoices":{}}})",
       "usage snapshot: usage.invoices.used must be a whole number of 0 or more"},
  };
  for (const Case& c : cases) {
    const auto snap = UsageSnapshotFromJson(Catalog::Default(), Json::parse(c.text));
    ASSERT_FALSE(snap.ok()) << c.text;
    EXPECT_EQ(snap.status().message(), c.message) << c.text;
  }
}

TEST(Json, LimitWireFormat) {
  EXPECT_EQ(LimitToWire(Limit::Unlimited()), -1);
  EXPECT_EQ(LimitToWire(Limit::Of(7)), 7);
  EXPECT_TRUE(LimitFromWire(-1)->unlimited());
  EXPECT_EQ(LimitFromWire(-2).status().code(), Code::kInvalidArgument);
}

TEST(Json, ReadsKindsAndUnits) {
  const auto c = ParseCatalog(R"({"features":[
      {"key":"seats","kind":"allocation","unit":"seats"},
      {"key":"sso","label":"Single sign-on","kind":"boolean"},
      {"key":"upload_mb","kind":"value","unit":"MB"},
      {"key":"exports","kind":"metered","enforcement":"soft"}],
    "plans":[{"code":"FREE","price":0,"limits":{"seats":1,"sso":false,"upload_mb":10,"exports":5}},
             {"code":"TEAM","price":500,"limits":{"seats":-1,"sso":true,"upload_mb":-1,"exports":-1}}]})");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  std::string kinds;
  for (const Feature& f : c->features()) {
    kinds += f.key + ":" + std::string(to_string(f.kind)) + ":" + f.unit + " ";
  }
  EXPECT_EQ(kinds, "seats:allocation:seats sso:boolean: upload_mb:value:MB exports:metered: ");
  EXPECT_EQ(c->FindPlan("FREE")->limits[1], Limit::Switch(false));
  EXPECT_EQ(c->FindPlan("TEAM")->limits[1], Limit::Switch(true));
  const Json back = CatalogToJson(*c);
  EXPECT_EQ(back["plans"][1]["limits"], Json::parse(R"({"seats":-1,"sso":true,"upload_mb":-1,
      "exports":-1})"));
  EXPECT_EQ(CatalogToJson(CatalogFromJson(back).value()), back);
}

TEST(Json, ACatalogWithoutKindsLoadsAsMetered) {
  // A catalog written before kinds existed: every feature is counted per period, as before.
  const auto c = ParseCatalog(R"({"features":[{"key":"invoices","label":"Invoices"},
      {"key":"team_members","enforcement":"hard"}],
    "plans":[{"code":"FREE","price":0,"limits":{"invoices":10,"team_members":1}}]})");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  for (const Feature& f : c->features()) {
    EXPECT_EQ(f.kind, FeatureKind::kMetered) << f.key;
    EXPECT_EQ(f.unit, "") << f.key;
  }
  EXPECT_EQ(CatalogToJson(*c)["features"][1],
            Json::parse(R"({"key":"team_members","label":"team_members","kind":"metered",
                            "enforcement":"hard","unit":""})"));
}

TEST(Json, RefusesKindsMixedWrongly) {
  struct Case {
    std::string feature;  // one feature "f"
    std::string free;     // FREE's limit for it
    std::string message;
  };
  const Case cases[] = {
      {R"({"key":"f","kind":"boolean"})", "1",
       "plan \"FREE\" limit for \"f\" must be true or false (a boolean feature)"},
      {R"({"key":"f","kind":"boolean"})", "-1",
       "plan \"FREE\" limit for \"f\" must be true or false (a boolean feature)"},
      {R"({"key":"f","kind":"boolean"})", R"("true")",
       "plan \"FREE\" limit for \"f\" must be true or false (a boolean feature)"},
      {R"({"key":"f","kind":"value"})", "true",
       "plan \"FREE\" limit for \"f\" must be an integer, -1 for unlimited (a value feature)"},
      {R"({"key":"f","kind":"allocation"})", "false",
       "plan \"FREE\" limit for \"f\" must be an integer, -1 for unlimited (an allocation "
       "feature)"},
      {R"({"key":"f"})", "true",
       "plan \"FREE\" limit for \"f\" must be an integer, -1 for unlimited (a metered feature)"},
      {R"({"key":"f","kind":"value"})", "-3",
       "plan \"FREE\" limit for \"f\" is -3; it must be -1 (unlimited) or more"},
      {R"({"key":"f","kind":"boolean","enforcement":"soft"})", "true",
       "feature \"f\" is a boolean feature and cannot be soft (switches and values are always "
       "hard)"},
      {R"({"key":"f","kind":"value","enforcement":"soft"})", "3",
       "feature \"f\" is a value feature and cannot be soft (switches and values are always "
       "hard)"},
      {R"({"key":"f","kind":"seats"})", "1",
       "features[0].kind must be \"metered\", \"allocation\", \"boolean\" or \"value\""},
      {R"({"key":"f","kind":null})", "1",
       "features[0].kind must be \"metered\", \"allocation\", \"boolean\" or \"value\""},
      {R"({"key":"f","unit":5})", "1", "features[0].unit must be a string"},
  };
  for (const Case& c : cases) {
    const std::string text = R"({"features":[)" + c.feature +
                             R"(],"plans":[{"code":"FREE","price":0,"limits":{"f":)" + c.free +
                             "}}]}";
    const auto result = ParseCatalog(text);
    ASSERT_FALSE(result.ok()) << text;
    EXPECT_EQ(result.status().code(), Code::kInvalidCatalog) << text;
    EXPECT_EQ(result.status().message(), c.message) << text;
  }
}

TEST(Json, LimitsAsEachKindSpellsThem) {
  EXPECT_EQ(LimitToJson(FeatureKind::kBoolean, Limit::Switch(true)), Json(true));
  EXPECT_EQ(LimitToJson(FeatureKind::kBoolean, Limit::Switch(false)), Json(false));
  EXPECT_EQ(LimitToJson(FeatureKind::kValue, Limit::Of(25)), Json(25));
  EXPECT_EQ(LimitToJson(FeatureKind::kAllocation, Limit::Unlimited()), Json(-1));
  struct Case {
    FeatureKind kind;
    const char* json;
    std::string want;  // the limit as JSON again, or the error
  };
  const Case cases[] = {
      {FeatureKind::kBoolean, "true", "true"},
      {FeatureKind::kBoolean, "false", "false"},
      {FeatureKind::kBoolean, "1",
       "validation_error: must be true or false for the boolean feature \"f\""},
      {FeatureKind::kMetered, "-1", "-1"},
      {FeatureKind::kValue, "0", "0"},
      {FeatureKind::kAllocation, "5000", "5000"},
      {FeatureKind::kMetered, "-2",
       "validation_error: must be an integer of -1 (unlimited) or more for the metered feature "
       "\"f\""},
      {FeatureKind::kValue, "true",
       "validation_error: must be an integer of -1 (unlimited) or more for the value feature "
       "\"f\""},
      {FeatureKind::kValue, "2.5",
       "validation_error: must be an integer of -1 (unlimited) or more for the value feature "
       "\"f\""},
  };
  for (const Case& c : cases) {
    const auto limit = LimitFromJson(c.kind, Json::parse(c.json), "f");
    EXPECT_EQ(limit ? LimitToJson(c.kind, *limit).dump() : limit.status().ToString(), c.want)
        << c.json;
  }
}

TEST(Json, OverridesRoundTripAndRefuseWhatDoesNotFit) {
  const Catalog& c = Catalog::Default();
  const Override deal{"invoices", Limit::Of(5000), "BASIC", At("2027-01-01T00:00:00Z")};
  EXPECT_EQ(OverrideToJson(c, deal), Json::parse(R"({"feature":"invoices","limit":5000,
      "plan":"BASIC","until":"2027-01-01T00:00:00Z"})"));
  EXPECT_EQ(OverrideFromJson(c, OverrideToJson(c, deal)).value(), deal);
  const Override pdf{"pdf_export", Limit::Switch(true), std::nullopt, std::nullopt};
  EXPECT_EQ(OverrideToJson(c, pdf),
            Json::parse(R"({"feature":"pdf_export","limit":true,"plan":null,"until":null})"));
  EXPECT_EQ(OverrideFromJson(c, OverrideToJson(c, pdf)).value(), pdf);
  EXPECT_EQ(OverrideFromJson(c, Json::parse(R"({"feature":"pdf_export","limit":false})")).value(),
            (Override{"pdf_export", Limit::Switch(false), std::nullopt, std::nullopt}));

  struct Case {
    const char* json;
    const char* want;
  };
  const Case cases[] = {
      {R"([])", "validation_error: an override must be an object"},
      {R"({"limit":5})", "validation_error: feature must be a non-empty string"},
      {R"({"feature":"widgets","limit":5})",
       "unknown_feature: feature \"widgets\" is not in the catalog"},
      {R"({"feature":"invoices"})", "validation_error: limit is required"},
      {R"({"feature":"pdf_export","limit":1})",
       "validation_error: limit must be true or false for the boolean feature \"pdf_export\""},
      {R"({"feature":"attachment_mb","limit":true})",
       "validation_error: limit must be an integer of -1 (unlimited) or more for the value "
       "feature \"attachment_mb\""},
      {R"({"feature":"invoices","limit":5,"plan":"GOLD"})",
       "invalid_plan: plan \"GOLD\" is not in the catalog"},
      {R"({"feature":"invoices","limit":5,"plan":3})",
       "validation_error: plan must be a plan code or null"},
      {R"({"feature":"invoices","limit":5,"until":"soon"})",
       "validation_error: until must be an RFC 3339 time or null"},
  };
  for (const Case& k : cases) {
    EXPECT_EQ(OverrideFromJson(c, Json::parse(k.json)).status().ToString(), k.want) << k.json;
  }
}

TEST(Json, DecisionsAndRefusalsCarryKindAndOverride) {
  const Catalog& c = Catalog::Default();
  const Subscription free{"FREE", At("2026-11-01T00:00:00Z"), std::nullopt};
  const Time now = At("2026-12-01T00:00:00Z");
  // A switch: 403 with current 0, limit false, and the plan that turns it on.
  const auto pdf = Check(c, free, now, {}, "pdf_export");
  EXPECT_EQ(LimitReachedBody(*pdf), Json::parse(R"({"error":"Limit reached",
      "code":"limit_reached","feature":"pdf_export","kind":"boolean","current":0,"limit":false,
      "plan":"FREE","override":null,
      "upgrade":{"plan":"BASIC","limit":true,"price":1900,"price_paisa":190000}})"));
  // A value over FREE's size.
  const auto mb = Check(c, free, now, {}, "attachment_mb", 30);
  EXPECT_EQ(DecisionToJson(*mb), Json::parse(R"({"allowed":false,"feature":"attachment_mb",
      "kind":"value","plan":"FREE","current":0,"requested":30,"limit":5,"remaining":null,
      "over":false,"override":null,
      "upgrade":{"plan":"PRO","limit":100,"price":3900,"price_paisa":390000}})"));
  // An override in force is named, without its feature.
  const Overrides deal = {{"invoices", Limit::Of(20), std::nullopt, At("2027-01-01T00:00:00Z")}};
  const auto invoices = Check(c, free, now, {{"invoices", 20}}, "invoices", 1, deal);
  EXPECT_EQ(LimitReachedBody(*invoices), Json::parse(R"({"error":"Limit reached",
      "code":"limit_reached","feature":"invoices","kind":"metered","current":20,"limit":20,
      "plan":"FREE","override":{"limit":20,"plan":null,"until":"2027-01-01T00:00:00Z"},
      "upgrade":null})"));
}

TEST(Json, UsageRowsHaveEveryFieldForEveryKind) {
  const Overrides deal = {{"customers", Limit::Of(3), "FREE", std::nullopt}};
  const auto rows = UsageView(Catalog::Default(), "FREE",
                              {{"invoices", 12}, {"customers", 4}, {"team_members", 1}}, deal,
                              At("2026-12-01T00:00:00Z"));
  ASSERT_TRUE(rows.ok());
  const Json j = UsageRowsToJson(*rows);
  EXPECT_EQ(j["invoices"], Json::parse(R"j({"kind":"metered","label":"Invoices","used":12,
      "limit":10,"percent":120,"status":"over","text":"12/10 (120%)","enforcement":"hard",
      "unit":"","override":null,"unlock":null,"note":"12 used, 10 allowed on Free"})j"));
  EXPECT_EQ(j["customers"], Json::parse(R"j({"kind":"allocation","label":"Customers","used":4,
      "limit":3,"percent":133,"status":"over","text":"4/3 (133%)","enforcement":"hard",
      "unit":"","override":{"limit":3,"plan":"FREE","until":null},"unlock":null,
      "note":"4 in use, 3 allowed on Free: remove 1 to add more"})j"));
  EXPECT_EQ(j["team_members"]["text"], "1/1 seats (100%)");
  EXPECT_EQ(j["team_members"]["unit"], "seats");
  EXPECT_EQ(j["pdf_export"], Json::parse(R"({"kind":"boolean","label":"Export to PDF","used":0,
      "limit":false,"percent":null,"status":"ok","text":"Off","enforcement":"hard","unit":"",
      "override":null,"unlock":{"plan":"BASIC","limit":true,"price":1900,"price_paisa":190000},
      "note":""})"));
  EXPECT_EQ(j["attachment_mb"], Json::parse(R"({"kind":"value","label":"Attachment size",
      "used":0,"limit":5,"percent":null,"status":"ok","text":"5 MB","enforcement":"hard",
      "unit":"MB","override":null,"unlock":null,"note":""})"));
}

TEST(Json, ReadsTheOverridesOfAUsageSnapshot) {
  const auto snap = UsageSnapshotFromJson(Catalog::Default(), Json::parse(R"({"plan":"FREE",
      "usage":{"invoices":{"used":3}},
      "overrides":[{"feature":"invoices","limit":5000,"plan":"BASIC","until":null},
                   {"feature":"pdf_export","limit":true,"plan":null,
                    "until":"2027-01-01T00:00:00Z"}]})"));
  ASSERT_TRUE(snap.ok()) << snap.status().ToString();
  EXPECT_EQ(
      snap->overrides,
      (Overrides{{"invoices", Limit::Of(5000), "BASIC", std::nullopt},
                 {"pdf_export", Limit::Switch(true), std::nullopt, At("2027-01-01T00:00:00Z")}}));
  struct Case {
    const char* overrides;
    const char* want;
  };
  const Case cases[] = {
      {R"(null)", "OK"},
      {R"({})", "validation_error: usage snapshot: \"overrides\" must be an array"},
      {R"([5])", "validation_error: usage snapshot: overrides[0] must be an object"},
      {R"([{"feature":"invoices","limit":1},{"feature":"pdf_export","limit":3}])",
       "validation_error: usage snapshot: overrides[1].limit must be true or false for the "
       "boolean feature \"pdf_export\""},
      {R"([{"feature":"widgets","limit":1}])",
       "unknown_feature: usage snapshot: overrides[0].feature \"widgets\" is not in the catalog"},
      {R"([{"feature":"invoices","limit":1,"until":"2027"}])",
       "validation_error: usage snapshot: overrides[0].until must be an RFC 3339 time or null"},
  };
  for (const Case& c : cases) {
    Json body = Json::parse(R"({"plan":"FREE","usage":{}})");
    body["overrides"] = Json::parse(c.overrides);
    EXPECT_EQ(UsageSnapshotFromJson(Catalog::Default(), body).status().ToString(), c.want)
        << c.overrides;
  }
}

TEST(Json, TheSubscriptionCarriesItsStateAndDates) {
  const Subscription pro{"PRO", At("2026-11-15T00:00:00Z"), At("2026-12-15T00:00:00Z")};
  EXPECT_EQ(SubscriptionToJson(Catalog::Default(), pro, At("2026-12-16T00:00:00Z")),
            Json::parse(R"({"plan":"PRO","is_active":true,"start_date":"2026-11-15T00:00:00Z",
                "end_date":"2026-12-15T00:00:00Z","state":"grace","subscribed_plan":"PRO",
                "trial":false,"renewal_plan":"PRO","renewal_due_from":"2026-12-08T00:00:00Z",
                "grace_until":"2026-12-18T00:00:00Z","ends_at":"2026-12-18T00:00:00Z",
                "scheduled_change":null})"));
  const Json expired = SubscriptionToJson(Catalog::Default(), pro, At("2026-12-18T00:00:00Z"));
  EXPECT_EQ(expired["plan"], "FREE");
  EXPECT_EQ(expired["state"], "expired");
  EXPECT_EQ(expired["is_active"], false);
  EXPECT_EQ(expired["subscribed_plan"], "PRO");
  Subscription canceled = pro;
  canceled.cancel_at_period_end = true;
  const Json c = SubscriptionToJson(Catalog::Default(), canceled, At("2026-12-01T00:00:00Z"));
  EXPECT_EQ(c["state"], "canceled");
  EXPECT_EQ(c["scheduled_change"], Json::parse(R"({"kind":"cancel","plan":null})"));
  EXPECT_EQ(c["renewal_plan"], nullptr);
  EXPECT_EQ(c["grace_until"], nullptr);
  EXPECT_EQ(c["ends_at"], "2026-12-15T00:00:00Z");
  const Subscription free{"FREE", At("2026-11-01T00:00:00Z"), std::nullopt};
  EXPECT_EQ(SubscriptionToJson(Catalog::Default(), free, At("2026-12-01T00:00:00Z")),
            Json::parse(R"({"plan":"FREE","is_active":false,"start_date":"2026-11-01T00:00:00Z",
                "end_date":null,"state":"free","subscribed_plan":"FREE","trial":false,
                "renewal_plan":null,"renewal_due_from":null,"grace_until":null,"ends_at":null,
                "scheduled_change":null})"));
}

TEST(Json, TheSubscriptionWithItsLifecycleReadsBackAsItWas) {
  Subscription switching{"PRO", At("2026-11-15T00:00:00Z"), At("2026-12-15T00:00:00Z")};
  switching.next_plan = "BASIC";
  Subscription trial{"PRO", At("2026-11-15T00:00:00Z"), At("2026-12-15T00:00:00Z")};
  trial.trial = true;
  Subscription canceled{"BASIC", At("2026-11-15T00:00:00Z"), At("2026-12-15T00:00:00Z")};
  canceled.cancel_at_period_end = true;
  for (const Subscription& sub : {switching, trial, canceled}) {
    // In grace and after expiry "plan" is not the subscription's own: subscribed_plan is.
    for (const char* now :
         {"2026-12-01T00:00:00Z", "2026-12-16T00:00:00Z", "2027-02-01T00:00:00Z"}) {
      const auto back = SubscriptionFromJson(SubscriptionToJson(Catalog::Default(), sub, At(now)));
      ASSERT_TRUE(back.ok()) << back.status().ToString();
      EXPECT_EQ(*back, sub) << now;
    }
  }
}

TEST(Json, RefusesABadLifecycleInASubscription) {
  const std::string base = R"("plan":"PRO","start_date":"2026-11-15T00:00:00Z")";
  const std::pair<std::string, const char*> cases[] = {
      {R"("trial":"yes")", "subscription.trial must be true or false"},
      {R"("subscribed_plan":"")", "subscription.subscribed_plan must be a non-empty string"},
      {R"("scheduled_change":{"kind":"undo"})",
       "subscription.scheduled_change must be null, {\"kind\":\"cancel\"} or "
       "{\"kind\":\"switch\",\"plan\":...}"},
      {R"("scheduled_change":{"kind":"switch"})",
       "subscription.scheduled_change must be null, {\"kind\":\"cancel\"} or "
       "{\"kind\":\"switch\",\"plan\":...}"},
      {R"("scheduled_change":"cancel")",
       "subscription.scheduled_change must be null, {\"kind\":\"cancel\"} or "
       "{\"kind\":\"switch\",\"plan\":...}"},
  };
  for (const auto& [field, message] : cases) {
    const auto s = SubscriptionFromJson(Json::parse("{" + base + "," + field + "}"));
    EXPECT_EQ(s.status().ToString(), std::string("validation_error: ") + message) << field;
  }
}

TEST(Json, AQuoteCarriesKhaltisAmountBreakdown) {
  const Subscription basic{"BASIC", At("2026-11-15T00:00:00Z"), At("2026-12-15T00:00:00Z")};
  const auto q = QuoteUpgrade(Catalog::Default(), basic, "PRO", At("2026-11-30T00:00:00Z"), 1000);
  ASSERT_TRUE(q.ok()) << q.status().ToString();
  EXPECT_EQ(QuoteToJson(*q), Json::parse(R"({"plan":"PRO","from_plan":"BASIC","price":3900,
      "price_paisa":390000,"credit_paisa":95000,"amount":2950,"amount_paisa":295000,
      "unused_seconds":1296000,"start_date":"2026-11-30T00:00:00Z",
      "end_date":"2026-12-30T00:00:00Z",
      "amount_breakdown":[{"label":"PRO, 30 days","amount":390000},
                          {"label":"Credit: unused BASIC until 2026-12-15","amount":-95000}]})"));
}

TEST(Json, ReadsAScheduledChangeRequest) {
  const std::pair<const char*, std::string> cases[] = {
      {R"({"change":"switch","plan":"BASIC"})", "switch BASIC"},
      {R"({"change":"cancel"})", "cancel "},
      {R"({"change":"undo","plan":null})", "undo "},
      {R"({"change":"switch"})", "validation_error: plan must be a plan code for a switch"},
      {R"({"change":"cancel","plan":"BASIC"})", "validation_error: plan is only for a switch"},
      {R"({"change":"pause"})",
       "validation_error: change must be \"switch\", \"cancel\" or \"undo\""},
      {R"([])", "validation_error: the body must be a JSON object"},
  };
  for (const auto& [text, want] : cases) {
    const auto r = ChangeRequestFromJson(Json::parse(text));
    EXPECT_EQ(r.ok() ? std::string(to_string(r->kind)) + " " + r->plan : r.status().ToString(),
              want)
        << text;
  }
}

TEST(Json, ParseJsonIsStrictAndNeverThrows) {
  EXPECT_EQ(ParseJson(R"({"plan":"PRO","n":[1,2]})"), Json::parse(R"({"plan":"PRO","n":[1,2]})"));
  EXPECT_TRUE(ParseJson("").is_discarded());
  EXPECT_TRUE(ParseJson("{\"plan\":").is_discarded());
  EXPECT_TRUE(ParseJson("{} {}").is_discarded());
  EXPECT_TRUE(ParseJson("[1,]").is_discarded());
  EXPECT_FALSE(ParseJson(" 7 ").is_discarded());
}

}  // namespace
}  // namespace sima
