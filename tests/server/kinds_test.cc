// Feature kinds over real HTTP: deletes that free allocations, releases, switches and values at
// POST /usage/{feature}/, and per-organization overrides through the admin API (docs/api.md).
#include <fstream>

#include "server_fixture.h"
#include "sima/json.h"

namespace sima::server::testing {
namespace {

class ServerKinds : public ServerTest {
 protected:
  Response Put(const std::string& path, const std::string& token, const Json& body) {
    return Send("PUT", path, token, body.dump());
  }
  Response Delete(const std::string& path, const std::string& token) {
    return Send("DELETE", path, token);
  }
  // PUT /admin/orgs/{org}/overrides/{feature}/.
  Response SetOverride(const std::string& org, const std::string& feature, const Json& body) {
    return Put("/admin/orgs/" + org + "/overrides/" + feature + "/", kAdminToken, body);
  }
  Response Overrides(const std::string& org) {
    return Get("/admin/orgs/" + org + "/overrides/", kAdminToken);
  }
  Json Row(const std::string& key, const std::string& feature) {
    return Get("/billing/usage/", key).body["usage"][feature];
  }
  std::string AddMember(const std::string& key, const std::string& email) {
    Response r = Post("/team-members/", key, {{"email", email}});
    return r.status == 201 ? r.body["id"].get<std::string>() : std::to_string(r.status);
  }
  // Restarts on a catalog with an allocation the server does not keep itself ("projects").
  void UseCatalogWithProjects() {
    StopServer();
    const std::string path = dir_.path() + "/catalog.json";
    std::ofstream(path) << R"({"currency":"NPR","period_days":30,
      "features":[{"key":"projects","label":"Projects","kind":"allocation","enforcement":"hard"},
                  {"key":"api_calls","label":"API calls","enforcement":"soft"}],
      "plans":[{"code":"FREE","name":"Free","price":0,"limits":{"projects":3,"api_calls":100}},
               {"code":"TEAM","name":"Team","price":500,"limits":{"projects":20,"api_calls":-1}}]})";
    config_.catalog = path;
    StartServer();
  }
};

// --- deletes ---

TEST_F(ServerKinds, DeletingATeamMemberFreesTheSeatForTheNextOne) {
  const std::string key = NewKey();  // FREE: 1 seat
  const std::string sita = AddMember(key, "sita@x.np");
  ASSERT_EQ(Post("/team-members/", key, {{"email", "gita@x.np"}}).code(), "limit_reached");
  Response gone = Delete("/team-members/" + sita + "/", key);
  EXPECT_EQ(gone.status, 204);
  EXPECT_TRUE(gone.raw.empty());
  EXPECT_EQ(Get("/team-members/" + sita + "/", key).status, 404);
  EXPECT_EQ(Row(key, "team_members")["text"], "0/1 seats (0%)");
  const std::string gita = AddMember(key, "gita@x.np");
  EXPECT_TRUE(HasIdShape(gita, "tm")) << gita;
  EXPECT_EQ(Used(key, "team_members"), 1);
  // Someone who left may join again.
  ASSERT_EQ(Delete("/team-members/" + gita + "/", key).status, 204);
  EXPECT_EQ(Post("/team-members/", key, {{"email", "sita@x.np"}}).status, 201);
}

TEST_F(ServerKinds, DeletingACustomerFreesItsPlaceAndHidesItFromLists) {
  const std::string key = NewKey();  // FREE: 5 customers
  std::vector<std::string> ids;
  for (int i = 0; i < 5; ++i) {
    ids.push_back(Post("/customers/", key, {{"name", "C"}, {"email", "c@x.np"}}).body["id"]);
  }
  ASSERT_EQ(Post("/customers/", key, {{"name", "C"}, {"email", "c@x.np"}}).status, 403);
  ASSERT_EQ(Post("/invoices/", key, {{"amount_paisa", 1}, {"customer_id", ids[0]}}).status, 201);
  EXPECT_EQ(Delete("/customers/" + ids[0] + "/", key).status, 204);
  EXPECT_EQ(Used(key, "customers"), 4);
  EXPECT_EQ(Get("/customers/", key).body["items"].size(), 4u);
  // The invoice that named it keeps its customer_id; a new invoice cannot name it.
  EXPECT_EQ(Get("/invoices/", key).body["items"][0]["customer_id"], ids[0]);
  EXPECT_EQ(Post("/invoices/", key, {{"amount_paisa", 1}, {"customer_id", ids[0]}}).body["field"],
            "customer_id");
  EXPECT_EQ(Post("/customers/", key, {{"name", "D"}, {"email", "d@x.np"}}).status, 201);
}

TEST_F(ServerKinds, AnotherOrganizationsOrAMissingObjectIs404AndNothingChanges) {
  const std::string a = NewKey(), b = NewKey();
  const std::string cus = Post("/customers/", a, {{"name", "X"}, {"email", "x@y.np"}}).body["id"];
  const std::string tm = AddMember(a, "t@y.np");
  EXPECT_EQ(Delete("/customers/" + cus + "/", b).code(), "not_found");
  EXPECT_EQ(Delete("/team-members/" + tm + "/", b).code(), "not_found");
  EXPECT_EQ(Delete("/customers/cus_00000000000000000000/", a).status, 404);
  EXPECT_EQ(Delete("/team-members/not-an-id/", a).status, 404);
  EXPECT_EQ(Get("/customers/" + cus, a).status, 200);
  EXPECT_EQ(Used(a, "customers"), 1);
  EXPECT_EQ(Used(a, "team_members"), 1);
  EXPECT_EQ(Delete("/customers/" + cus + "/", a).status, 204);
  EXPECT_EQ(Delete("/customers/" + cus + "/", a).status, 404);  // once
  EXPECT_EQ(Used(a, "customers"), 0);
}

TEST_F(ServerKinds, ADeleteCountsOneApiCall) {
  const std::string key = NewKey();
  const std::string tm = AddMember(key, "t@y.np");
  const int64_t before = Used(key, "api_calls");  // the read itself counts after it answers
  ASSERT_EQ(Delete("/team-members/" + tm + "/", key).status, 204);
  EXPECT_EQ(Used(key, "api_calls"), before + 2);  // the delete and the previous read
  ASSERT_EQ(Delete("/team-members/" + tm + "/", key).status, 404);
  EXPECT_EQ(Used(key, "api_calls"), before + 3);  // a 404 counts nothing; the read does
}

TEST_F(ServerKinds, ADeleteTakesNoBodyFields) {
  const std::string key = NewKey();
  const std::string tm = AddMember(key, "t@y.np");
  Response r = Send("DELETE", "/team-members/" + tm + "/", key, R"({"force":true})");
  EXPECT_EQ(r.body["field"], "force");
  EXPECT_EQ(Send("DELETE", "/team-members/" + tm + "/", key, "{}").status, 204);
}

// --- POST /usage/{feature}/ by kind ---

TEST_F(ServerKinds, AnAllocationIsCountedAndReleased) {
  UseCatalogWithProjects();
  const std::string key = NewKey();
  Response add = Post("/usage/projects/", key, {{"quantity", 3}});
  ASSERT_EQ(add.status, 200) << add.raw;
  EXPECT_EQ(add.body["kind"], "allocation");
  EXPECT_EQ(add.body["used"], 3);
  EXPECT_EQ(add.body["limit"], 3);
  EXPECT_EQ(add.body["override"], nullptr);
  EXPECT_EQ(Post("/usage/projects/", key, {{"quantity", 1}}).code(), "limit_reached");
  Response release = Post("/usage/projects/", key, {{"quantity", -2}});
  EXPECT_EQ(release.status, 200);
  EXPECT_EQ(release.body["used"], 1);
  Response too_many = Post("/usage/projects/", key, {{"quantity", -2}});
  EXPECT_EQ(too_many.status, 409);
  EXPECT_EQ(too_many.code(), "conflict");
  EXPECT_EQ(too_many.body["field"], "quantity");
  EXPECT_EQ(Post("/usage/projects/", key, {{"quantity", 0}}).body["field"], "quantity");
  EXPECT_EQ(Used(key, "projects"), 1);
}

TEST_F(ServerKinds, AnAllocationReleaseIsIdempotentToo) {
  UseCatalogWithProjects();
  const std::string key = NewKey();
  ASSERT_EQ(Post("/usage/projects/", key, {{"quantity", 2}}).status, 200);
  Json release = {{"quantity", -1}, {"idempotency_key", "drop-1"}};
  EXPECT_EQ(Post("/usage/projects/", key, release).body["used"], 1);
  Response again = Post("/usage/projects/", key, release);
  EXPECT_EQ(again.body["used"], 1);
  EXPECT_EQ(again.headers.find("Idempotent-Replayed")->second, "true");
  EXPECT_EQ(Used(key, "projects"), 1);
}

TEST_F(ServerKinds, AnAllocationSurvivesAnUpgradeAndANewPeriod) {
  UseCatalogWithProjects();
  const std::string key = NewKey("TEAM");
  ASSERT_EQ(Post("/usage/projects/", key, {{"quantity", 5}}).status, 200);
  clock_.Advance(Days{34});  // a new period; TEAM ended and its grace too: FREE, 5 projects on 3
  Json row = Row(key, "projects");
  EXPECT_EQ(row["used"], 5);
  EXPECT_EQ(row["status"], "over");
  EXPECT_EQ(row["note"], "5 in use, 3 allowed on Free: remove 2 to add more");
  EXPECT_EQ(Post("/usage/projects/", key, {{"quantity", 1}}).code(), "limit_reached");
  EXPECT_EQ(Post("/usage/projects/", key, {{"quantity", -3}}).body["used"], 2);
}

TEST_F(ServerKinds, AMeteredFeatureCannotBeReleased) {
  const std::string key = NewKey();
  ASSERT_EQ(Post("/usage/invoices/", key, {{"quantity", 2}}).status, 200);
  Response r = Post("/usage/invoices/", key, {{"quantity", -1}});
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(r.code(), "validation_error");
  EXPECT_EQ(r.body["field"], "quantity");
  EXPECT_EQ(r.body["error"], "a metered feature cannot be released");
  EXPECT_EQ(Used(key, "invoices"), 2);
}

TEST_F(ServerKinds, TheServersOwnResourcesAreCountedByCreatingAndDeletingThem) {
  const std::string key = NewKey();
  for (const char* feature : {"customers", "team_members"}) {
    for (int q : {1, -1}) {
      Response r = Post(std::string("/usage/") + feature + "/", key, {{"quantity", q}});
      EXPECT_EQ(r.status, 409) << feature << " " << q;
      EXPECT_EQ(r.code(), "conflict");
    }
    EXPECT_EQ(Used(key, feature), 0);
  }
}

TEST_F(ServerKinds, ASwitchThatIsOffIsRefusedNamingThePlanThatTurnsItOn) {
  const std::string key = NewKey();
  Response r = Post("/usage/pdf_export/", key, Json::object());
  EXPECT_EQ(r.status, 403);
  EXPECT_EQ(r.code(), "limit_reached");
  EXPECT_EQ(r.body["feature"], "pdf_export");
  EXPECT_EQ(r.body["kind"], "boolean");
  EXPECT_EQ(r.body["current"], 0);
  EXPECT_EQ(r.body["limit"], false);
  EXPECT_EQ(r.body["plan"], "FREE");
  EXPECT_EQ(r.body["override"], nullptr);
  EXPECT_EQ(r.body["upgrade"],
            Json::parse(R"({"plan":"BASIC","limit":true,"price":1900,"price_paisa":190000})"));
  EXPECT_EQ(Post("/usage/custom_branding/", key, Json::object()).body["upgrade"]["plan"], "PRO");
  Json row = Row(key, "pdf_export");
  EXPECT_EQ(row["text"], "Off");
  EXPECT_EQ(row["unlock"]["plan"], "BASIC");
}

TEST_F(ServerKinds, ASwitchThatIsOnIsAllowedAndCountsNothing) {
  const std::string key = NewKey("BASIC");
  Response r = Post("/usage/pdf_export/", key, {{"quantity", 1}});
  ASSERT_EQ(r.status, 200) << r.raw;
  EXPECT_EQ(r.body["allowed"], true);
  EXPECT_EQ(r.body["kind"], "boolean");
  EXPECT_EQ(r.body["limit"], true);
  EXPECT_EQ(r.body["used"], 0);
  EXPECT_EQ(Row(key, "pdf_export")["text"], "On");
  EXPECT_EQ(Post("/usage/pdf_export/", key, {{"quantity", 2}}).body["field"], "quantity");
  EXPECT_EQ(Post("/usage/custom_branding/", key, Json::object()).code(), "limit_reached");
}

TEST_F(ServerKinds, AValueFitsOrNamesThePlanWhereItDoes) {
  const std::string key = NewKey();  // FREE: 5 MB
  Response fits = Post("/usage/attachment_mb/", key, {{"quantity", 5}});
  ASSERT_EQ(fits.status, 200) << fits.raw;
  EXPECT_EQ(fits.body["kind"], "value");
  EXPECT_EQ(fits.body["limit"], 5);
  EXPECT_EQ(fits.body["used"], 0);
  EXPECT_EQ(Post("/usage/attachment_mb/", key, {{"quantity", 0}}).status, 200);
  Response big = Post("/usage/attachment_mb/", key, {{"quantity", 20}});
  EXPECT_EQ(big.code(), "limit_reached");
  EXPECT_EQ(big.body["kind"], "value");
  EXPECT_EQ(big.body["limit"], 5);
  EXPECT_EQ(big.body["upgrade"]["plan"], "BASIC");
  EXPECT_EQ(big.body["upgrade"]["limit"], 25);
  EXPECT_EQ(Post("/usage/attachment_mb/", key, {{"quantity", 80}}).body["upgrade"]["plan"], "PRO");
  EXPECT_EQ(Post("/usage/attachment_mb/", key, {{"quantity", 500}}).body["upgrade"], nullptr);
  EXPECT_EQ(Post("/usage/attachment_mb/", key, {{"quantity", -1}}).body["field"], "quantity");
  EXPECT_EQ(Row(key, "attachment_mb")["text"], "5 MB");
}

TEST_F(ServerKinds, TheUsageAnswerHasARowForEveryFeatureOfTheCatalog) {
  const std::string key = NewKey();
  Response r = Get("/billing/usage/", key);
  ASSERT_EQ(r.status, 200);
  std::vector<std::string> keys;
  for (const auto& [k, row] : r.body["usage"].items()) {
    keys.push_back(k);
    for (const char* field : {"kind", "label", "used", "limit", "percent", "status", "text",
                              "enforcement", "unit", "override", "unlock", "note"}) {
      EXPECT_TRUE(row.contains(field)) << k << " has no " << field;
    }
  }
  EXPECT_EQ(keys.size(), Catalog::Default().features().size());
  EXPECT_EQ(r.body["usage"]["custom_branding"]["limit"], false);
  EXPECT_EQ(r.body["usage"]["attachment_mb"]["unit"], "MB");
  EXPECT_EQ(r.body["overrides"], Json::array());
  Json plans = Get("/billing/plans/").body;
  EXPECT_EQ(plans["features"][4]["kind"], "boolean");
  EXPECT_EQ(plans["plans"][1]["limits"]["pdf_export"], true);
}

// --- overrides ---

TEST_F(ServerKinds, AnOverrideChangesTheUsageAnswerAndTheRefusal) {
  Json org = CreateOrg();
  const std::string key = org["api_key"], id = org["org_id"];
  Response set = SetOverride(id, "invoices", {{"limit", 12}, {"reason", "deal #42"}});
  ASSERT_EQ(set.status, 200) << set.raw;
  EXPECT_EQ(set.body["feature"], "invoices");
  EXPECT_EQ(set.body["kind"], "metered");
  EXPECT_EQ(set.body["limit"], 12);
  EXPECT_EQ(set.body["plan"], nullptr);
  EXPECT_EQ(set.body["until"], nullptr);
  EXPECT_EQ(set.body["reason"], "deal #42");
  EXPECT_EQ(set.body["updated_at"], FormatTime(Start()));
  for (int i = 0; i < 12; ++i)
    ASSERT_EQ(Post("/invoices/", key, {{"amount_paisa", 1}}).status, 201);
  Response refused = Post("/invoices/", key, {{"amount_paisa", 1}});
  EXPECT_EQ(refused.status, 403);
  EXPECT_EQ(refused.body["limit"], 12);
  EXPECT_EQ(refused.body["override"], Json::parse(R"({"limit":12,"plan":null,"until":null})"));
  EXPECT_EQ(refused.body["upgrade"], nullptr);  // on every plan: no upgrade helps
  Response usage = Get("/billing/usage/", key);
  EXPECT_EQ(usage.body["usage"]["invoices"]["text"], "12/12 (100%)");
  EXPECT_EQ(usage.body["usage"]["invoices"]["override"]["limit"], 12);
  EXPECT_EQ(usage.body["overrides"],
            Json::parse(R"([{"feature":"invoices","limit":12,"plan":null,"until":null}])"));
}

TEST_F(ServerKinds, AnOverrideForAnotherPlanIsListedButNotInForce) {
  Json org = CreateOrg();
  const std::string key = org["api_key"], id = org["org_id"];
  ASSERT_EQ(SetOverride(id, "invoices", {{"limit", 5000}, {"plan", "BASIC"}}).status, 200);
  Response usage = Get("/billing/usage/", key);
  EXPECT_EQ(usage.body["usage"]["invoices"]["limit"], 10);
  EXPECT_EQ(usage.body["usage"]["invoices"]["override"], nullptr);
  EXPECT_EQ(usage.body["overrides"][0]["plan"], "BASIC");
  for (int i = 0; i < 10; ++i)
    ASSERT_EQ(Post("/invoices/", key, {{"amount_paisa", 1}}).status, 201);
  Response refused = Post("/invoices/", key, {{"amount_paisa", 1}});
  EXPECT_EQ(refused.body["override"], nullptr);
  EXPECT_EQ(refused.body["upgrade"]["plan"], "BASIC");
  EXPECT_EQ(refused.body["upgrade"]["limit"], 5000);  // BASIC's limit for this organization
}

TEST_F(ServerKinds, AnOverrideEndsAtItsUntilAndThenLeavesTheUsageAnswer) {
  Json org = CreateOrg();
  const std::string key = org["api_key"], id = org["org_id"];
  const std::string until = FormatTime(Start() + std::chrono::hours{1});
  Response set = SetOverride(id, "pdf_export", {{"limit", true}, {"until", until}});
  ASSERT_EQ(set.status, 200) << set.raw;
  EXPECT_EQ(set.body["limit"], true);
  EXPECT_EQ(set.body["until"], until);
  Response on = Post("/usage/pdf_export/", key, Json::object());
  EXPECT_EQ(on.status, 200);
  EXPECT_EQ(on.body["limit"], true);
  EXPECT_EQ(on.body["override"]["until"], until);
  EXPECT_EQ(Row(key, "pdf_export")["text"], "On");
  clock_.Advance(std::chrono::hours{1});
  EXPECT_EQ(Post("/usage/pdf_export/", key, Json::object()).code(), "limit_reached");
  Response usage = Get("/billing/usage/", key);
  EXPECT_EQ(usage.body["usage"]["pdf_export"]["text"], "Off");
  EXPECT_EQ(usage.body["overrides"], Json::array());
  EXPECT_EQ(Overrides(id).body["items"].size(), 1u);  // the admin still sees what it was
}

TEST_F(ServerKinds, AnOverrideBelowWhatExistsKeepsItAndRefusesMore) {
  Json org = CreateOrg();
  const std::string key = org["api_key"], id = org["org_id"];
  std::vector<std::string> ids;
  for (int i = 0; i < 3; ++i) {
    ids.push_back(Post("/customers/", key, {{"name", "C"}, {"email", "c@x.np"}}).body["id"]);
  }
  ASSERT_EQ(SetOverride(id, "customers", {{"limit", 2}}).status, 200);
  Json row = Row(key, "customers");
  EXPECT_EQ(row["used"], 3);
  EXPECT_EQ(row["status"], "over");
  EXPECT_EQ(row["note"], "3 in use, 2 allowed on Free: remove 1 to add more");
  Response refused = Post("/customers/", key, {{"name", "D"}, {"email", "d@x.np"}});
  EXPECT_EQ(refused.code(), "limit_reached");
  EXPECT_EQ(refused.body["current"], 3);
  EXPECT_EQ(refused.body["limit"], 2);
  EXPECT_EQ(refused.body["override"]["limit"], 2);
  EXPECT_EQ(Get("/customers/", key).body["items"].size(), 3u);  // nothing was removed
  ASSERT_EQ(Delete("/customers/" + ids[0] + "/", key).status, 204);
  EXPECT_EQ(Post("/customers/", key, {{"name", "D"}, {"email", "d@x.np"}}).status, 403);
  ASSERT_EQ(Delete("/customers/" + ids[1] + "/", key).status, 204);
  EXPECT_EQ(Post("/customers/", key, {{"name", "D"}, {"email", "d@x.np"}}).status, 201);
}

TEST_F(ServerKinds, AValueOverrideIsUsedByTheCheck) {
  Json org = CreateOrg();
  const std::string key = org["api_key"], id = org["org_id"];
  ASSERT_EQ(SetOverride(id, "attachment_mb", {{"limit", -1}}).status, 200);
  Response r = Post("/usage/attachment_mb/", key, {{"quantity", 1000000}});
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body["limit"], -1);
  EXPECT_EQ(Row(key, "attachment_mb")["text"], "Unlimited");
}

TEST_F(ServerKinds, EveryChangeIsAuditedNewestFirst) {
  const std::string id = CreateOrg()["org_id"];
  ASSERT_EQ(SetOverride(id, "invoices", {{"limit", 100}, {"reason", "trial"}}).status, 200);
  clock_.Advance(std::chrono::seconds{10});
  ASSERT_EQ(
      SetOverride(id, "invoices", {{"limit", 500}, {"plan", "BASIC"}, {"reason", "deal"}}).status,
      200);
  clock_.Advance(std::chrono::seconds{10});
  ASSERT_EQ(Send("DELETE", "/admin/orgs/" + id + "/overrides/invoices/", kAdminToken,
                 R"({"reason":"deal ended"})")
                .status,
            204);
  Response r = Overrides(id);
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(r.body["items"], Json::array());
  EXPECT_EQ(r.body["history"], Json::parse(R"([
    {"feature":"invoices","before":{"limit":500,"plan":"BASIC","until":null},"after":null,
     "reason":"deal ended","at":"2026-01-01T00:00:20Z"},
    {"feature":"invoices","before":{"limit":100,"plan":null,"until":null},
     "after":{"limit":500,"plan":"BASIC","until":null},"reason":"deal","at":"2026-01-01T00:00:10Z"},
    {"feature":"invoices","before":null,"after":{"limit":100,"plan":null,"until":null},
     "reason":"trial","at":"2026-01-01T00:00:00Z"}])"));
  EXPECT_EQ(Delete("/admin/orgs/" + id + "/overrides/invoices/", kAdminToken).status, 404);
}

TEST_F(ServerKinds, BadOverridesAreRefusedAndChangeNothing) {
  const std::string id = CreateOrg()["org_id"];
  const auto field = [&](const std::string& feature, const Json& body) {
    Response r = SetOverride(id, feature, body);
    EXPECT_EQ(r.status, 400) << feature << " " << body.dump() << " " << r.raw;
    return r.body.value("field", r.code());
  };
  EXPECT_EQ(field("invoices", {{"limit", "5"}}), "limit");
  EXPECT_EQ(field("invoices", {{"limit", true}}), "limit");
  EXPECT_EQ(field("invoices", {{"limit", -2}}), "limit");
  EXPECT_EQ(field("invoices", {{"limit", 1.5}}), "limit");
  EXPECT_EQ(field("invoices", Json::object()), "limit");
  EXPECT_EQ(field("pdf_export", {{"limit", 1}}), "limit");
  EXPECT_EQ(field("invoices", {{"limit", 5}, {"until", "2025-12-31T00:00:00Z"}}), "until");
  EXPECT_EQ(field("invoices", {{"limit", 5}, {"until", FormatTime(Start())}}), "until");
  EXPECT_EQ(field("invoices", {{"limit", 5}, {"until", "tomorrow"}}), "until");
  EXPECT_EQ(field("invoices", {{"limit", 5}, {"plan", "GOLD"}}), "invalid_plan");
  EXPECT_EQ(field("invoices", {{"limit", 5}, {"reason", std::string(501, 'r')}}), "reason");
  EXPECT_EQ(field("invoices", {{"limit", 5}, {"note", "x"}}), "note");
  EXPECT_EQ(SetOverride(id, "nope", {{"limit", 5}}).status, 404);
  EXPECT_EQ(SetOverride("org_00000000000000000000", "invoices", {{"limit", 5}}).status, 404);
  EXPECT_EQ(SetOverride("acme", "invoices", {{"limit", 5}}).status, 404);
  EXPECT_EQ(Delete("/admin/orgs/" + id + "/overrides/nope/", kAdminToken).status, 404);
  Response r = Overrides(id);
  EXPECT_EQ(r.body["items"], Json::array());
  EXPECT_EQ(r.body["history"], Json::array());
  EXPECT_EQ(Overrides("org_00000000000000000000").status, 404);
}

TEST_F(ServerKinds, OnlyTheAdminTokenSetsOverrides) {
  Json org = CreateOrg();
  const std::string id = org["org_id"];
  EXPECT_EQ(
      Put("/admin/orgs/" + id + "/overrides/invoices/", org["api_key"], {{"limit", 5}}).status,
      403);
  EXPECT_EQ(Put("/admin/orgs/" + id + "/overrides/invoices/", "", {{"limit", 5}}).status, 401);
  EXPECT_EQ(Get("/admin/orgs/" + id + "/overrides/", org["api_key"]).status, 403);
  EXPECT_EQ(Overrides(id).body["items"], Json::array());
}

TEST_F(ServerKinds, PutIsServedWithItsAllowAndCorsHeaders) {
  const std::string path = "/admin/orgs/org_00000000000000000000/overrides/invoices/";
  Response options = Send("OPTIONS", path, "", "", "", {{"Origin", "http://app.example"}});
  EXPECT_EQ(options.status, 204);
  EXPECT_EQ(options.headers.find("Allow")->second, "PUT, DELETE, OPTIONS");
  EXPECT_EQ(options.headers.find("Access-Control-Allow-Methods")->second, "PUT, DELETE, OPTIONS");
  Response post = Post(path, kAdminToken, {{"limit", 5}});
  EXPECT_EQ(post.status, 405);
  EXPECT_EQ(post.headers.find("Allow")->second, "PUT, DELETE");
  EXPECT_EQ(Send("PUT", "/invoices/", NewKey(), "{}").headers.find("Allow")->second, "POST, GET");
}

}  // namespace
}  // namespace sima::server::testing
