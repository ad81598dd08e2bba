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

}  // namespace
}  // namespace sima
