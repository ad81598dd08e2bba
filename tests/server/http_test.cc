// Every endpoint, credential case and error code of docs/api.md over real HTTP.
#include <fstream>

#include "server_fixture.h"
#include "sima/json.h"

namespace sima::server::testing {
namespace {

using ServerHttp = ServerTest;

TEST_F(ServerHttp, HealthzAnswersOk) {
  Response r = Get("/healthz");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, Json({{"status", "ok"}}));
  EXPECT_EQ(r.headers.find("Content-Type")->second, "application/json; charset=utf-8");
}

TEST_F(ServerHttp, PlansAreTheCatalogTheServerEnforces) {
  Response r = Get("/billing/plans/");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, CatalogToJson(Catalog::Default()));
  EXPECT_EQ(r.body["plans"][2]["code"], "PRO");
  EXPECT_EQ(r.body["plans"][2]["limits"]["invoices"], -1);
}

TEST_F(ServerHttp, TrailingSlashIsOptional) {
  EXPECT_EQ(Get("/billing/plans").status, 200);
  EXPECT_EQ(Get("/billing/plans/").status, 200);
  EXPECT_EQ(Get("/healthz/").status, 200);
  EXPECT_EQ(Get("/billing/plans//").status, 404);
}

TEST_F(ServerHttp, UnknownRouteIsJson404) {
  Response r = Get("/nope/");
  EXPECT_EQ(r.status, 404);
  EXPECT_EQ(r.code(), "not_found");
  EXPECT_TRUE(r.body["error"].is_string());
}

TEST_F(ServerHttp, WrongMethodIs405WithAllow) {
  Response r = Send("DELETE", "/invoices/", NewKey());
  EXPECT_EQ(r.status, 405);
  EXPECT_EQ(r.code(), "method_not_allowed");
  EXPECT_EQ(r.headers.find("Allow")->second, "POST, GET");
  EXPECT_EQ(Send("PUT", "/healthz", "").status, 405);
}

TEST_F(ServerHttp, AdminCreatesOrganizationWithKeyShownOnce) {
  Response r = Post("/admin/orgs/", kAdminToken, {{"name", "Acme"}});
  ASSERT_EQ(r.status, 201);
  EXPECT_EQ(r.body["name"], "Acme");
  EXPECT_EQ(r.body["plan"], "FREE");
  EXPECT_TRUE(HasIdShape(r.body["org_id"].get<std::string>(), "org"));
  EXPECT_TRUE(HasIdShape(r.body["api_key"].get<std::string>(), "sk", 48));
  // The key is stored only as a hash.
  EXPECT_TRUE(app_->store().FindSecretKey(Sha256Hex(r.body["api_key"].get<std::string>())).ok());
  EXPECT_FALSE(app_->store().FindSecretKey(r.body["api_key"].get<std::string>()).ok());
}

TEST_F(ServerHttp, AdminCanStartAnOrganizationOnAPaidPlan) {
  Json org = CreateOrg("Big", "PRO");
  EXPECT_EQ(org["plan"], "PRO");
  Response usage = Get("/billing/usage/", org["api_key"]);
  EXPECT_EQ(usage.body["plan"], "PRO");
  EXPECT_EQ(usage.body["subscription"]["is_active"], true);
  EXPECT_EQ(usage.body["subscription"]["end_date"], FormatTime(Start() + Days{30}));
}

TEST_F(ServerHttp, AdminRefusesUnknownOrFreePlansAndBadNames) {
  EXPECT_EQ(Post("/admin/orgs/", kAdminToken, {{"name", "A"}, {"plan", "GOLD"}}).code(),
            "invalid_plan");
  EXPECT_EQ(Post("/admin/orgs/", kAdminToken, {{"name", "A"}, {"plan", "FREE"}}).status, 201);
  Response r = Post("/admin/orgs/", kAdminToken, {{"name", ""}});
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(r.code(), "validation_error");
  EXPECT_EQ(r.body["field"], "name");
  EXPECT_EQ(Post("/admin/orgs/", kAdminToken, Json::object()).body["field"], "name");
}

TEST_F(ServerHttp, AdminNeedsTheAdminToken) {
  EXPECT_EQ(Post("/admin/orgs/", "", {{"name", "A"}}).code(), "unauthorized");
  EXPECT_EQ(Post("/admin/orgs/", "wrong", {{"name", "A"}}).status, 401);
  EXPECT_EQ(Post("/admin/orgs/", NewKey(), {{"name", "A"}}).code(), "forbidden");
}

TEST_F(ServerHttp, AdminApiIsOffWithoutAToken) {
  StopServer();
  config_.admin_token.clear();
  StartServer();
  Response r = Post("/admin/orgs/", kAdminToken, {{"name", "A"}});
  EXPECT_EQ(r.status, 403);
  EXPECT_EQ(r.code(), "forbidden");
}

TEST_F(ServerHttp, OrganizationRoutesNeedACredential) {
  for (const char* path : {"/billing/usage/", "/invoices/", "/customers/", "/team-members/"}) {
    Response missing = Get(path);
    EXPECT_EQ(missing.status, 401) << path;
    EXPECT_EQ(missing.code(), "unauthorized");
    EXPECT_EQ(Get(path, "sk_" + std::string(48, '0')).status, 401) << path;  // unknown
    EXPECT_EQ(Get(path, "sk_short").status, 401) << path;                    // malformed
    EXPECT_EQ(Get(path, kAdminToken).code(), "forbidden") << path;           // wrong kind
  }
  EXPECT_EQ(Send("GET", "/invoices/", "", "", "", {{"Authorization", "Basic dXNlcjpwYXNz"}}).status,
            401);
}

TEST_F(ServerHttp, SessionsAreMintedWithTheSecretKeyOnly) {
  const std::string key = NewKey();
  Response s = Send("POST", "/sessions/", key, "");
  ASSERT_EQ(s.status, 201) << s.raw;
  const std::string token = s.body["token"];
  EXPECT_TRUE(HasIdShape(token, "st", 48));
  EXPECT_EQ(s.body["expires_at"], FormatTime(Start() + std::chrono::seconds{3600}));
  EXPECT_EQ(Get("/billing/usage/", token).status, 200);
  Response again = Send("POST", "/sessions/", token, "");
  EXPECT_EQ(again.status, 403);
  EXPECT_EQ(again.code(), "forbidden");
  EXPECT_EQ(Post("/sessions/", key, Json::object()).status, 201);
}

TEST_F(ServerHttp, SessionExpiresAtItsTime) {
  const std::string token = Send("POST", "/sessions/", NewKey(), "").body["token"];
  clock_.Advance(std::chrono::seconds{3599});
  EXPECT_EQ(Get("/billing/usage/", token).status, 200);
  clock_.Advance(std::chrono::seconds{1});
  Response r = Get("/billing/usage/", token);
  EXPECT_EQ(r.status, 401);
  EXPECT_EQ(r.code(), "unauthorized");
}

TEST_F(ServerHttp, RevokedKeyIsRefusedOnceForgotten) {
  const std::string key = NewKey();
  EXPECT_EQ(Get("/invoices/", key).status, 200);
  ASSERT_TRUE(app_->store().RevokeSecretKey(Sha256Hex(key), clock_.Now()).ok());
  app_->auth().Forget(Sha256Hex(key));
  EXPECT_EQ(Get("/invoices/", key).status, 401);
}

TEST_F(ServerHttp, UsageViewHasEveryFeature) {
  const std::string key = NewKey();
  for (int i = 0; i < 8; ++i)
    ASSERT_EQ(Post("/invoices/", key, {{"amount_paisa", 100}}).status, 201);
  Response r = Get("/billing/usage/", key);
  ASSERT_EQ(r.status, 200);
  EXPECT_TRUE(HasIdShape(r.body["org_id"].get<std::string>(), "org"));
  EXPECT_EQ(r.body["plan"], "FREE");
  EXPECT_EQ(r.body["subscription"]["plan"], "FREE");
  EXPECT_EQ(r.body["subscription"]["is_active"], false);
  EXPECT_EQ(r.body["period"]["start"], FormatTime(Start()));
  EXPECT_EQ(r.body["period"]["end"], FormatTime(Start() + Days{30}));
  const Json& inv = r.body["usage"]["invoices"];
  EXPECT_EQ(inv["used"], 8);
  EXPECT_EQ(inv["limit"], 10);
  EXPECT_EQ(inv["percent"], 80);
  EXPECT_EQ(inv["status"], "warning");
  EXPECT_EQ(r.body["usage"]["api_calls"]["used"], 9);  // 8 creates + this call
  EXPECT_EQ(r.body["usage"]["customers"]["status"], "ok");
}

TEST_F(ServerHttp, ApiCallsAreSoftAndGoOver) {
  const std::string key = NewKey();
  for (int i = 0; i < 101; ++i) ASSERT_EQ(Get("/invoices/", key).status, 200);
  Response r = Get("/billing/usage/", key);
  EXPECT_EQ(r.body["usage"]["api_calls"]["used"], 102);
  EXPECT_EQ(r.body["usage"]["api_calls"]["status"], "over");
}

TEST_F(ServerHttp, InvoiceLifecycle) {
  const std::string key = NewKey();
  const std::string cus =
      Post("/customers/", key, {{"name", "Ram"}, {"email", "ram@example.com"}}).body["id"];
  Response created = Post("/invoices/", key,
                          {{"amount_paisa", 250000}, {"customer_id", cus}, {"description", "Web"}});
  ASSERT_EQ(created.status, 201) << created.raw;
  EXPECT_EQ(created.body["amount_paisa"], 250000);
  EXPECT_EQ(created.body["customer_id"], cus);
  EXPECT_EQ(created.body["description"], "Web");
  EXPECT_EQ(created.body["created_at"], FormatTime(Start()));
  const std::string id = created.body["id"];
  EXPECT_EQ(Get("/invoices/" + id + "/", key).body, created.body);
  Response list = Get("/invoices/", key);
  ASSERT_EQ(list.body["items"].size(), 1u);
  EXPECT_EQ(list.body["items"][0], created.body);
  EXPECT_EQ(Get("/invoices/inv_00000000000000000000/", key).status, 404);
  EXPECT_EQ(Get("/invoices/nonsense/", key).status, 404);
}

TEST_F(ServerHttp, InvoiceWithUnknownCustomerIsValidationError) {
  const std::string key = NewKey();
  Response r =
      Post("/invoices/", key, {{"amount_paisa", 1}, {"customer_id", "cus_00000000000000000000"}});
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(r.body["field"], "customer_id");
  EXPECT_EQ(Used(key, "invoices"), 0);
}

TEST_F(ServerHttp, AnotherOrganizationsObjectsAreNotFound) {
  const std::string a = NewKey(), b = NewKey();
  const std::string inv = Post("/invoices/", a, {{"amount_paisa", 1}}).body["id"];
  const std::string cus = Post("/customers/", a, {{"name", "X"}, {"email", "x@y.np"}}).body["id"];
  const std::string tm = Post("/team-members/", a, {{"email", "t@y.np"}}).body["id"];
  EXPECT_EQ(Get("/invoices/" + inv, b).code(), "not_found");
  EXPECT_EQ(Get("/customers/" + cus, b).code(), "not_found");
  EXPECT_EQ(Get("/team-members/" + tm, b).code(), "not_found");
  EXPECT_EQ(Get("/invoices/", b).body["items"].size(), 0u);
  EXPECT_EQ(Post("/invoices/", b, {{"amount_paisa", 1}, {"customer_id", cus}}).body["field"],
            "customer_id");
  EXPECT_EQ(Get("/invoices/" + inv, a).status, 200);
}

TEST_F(ServerHttp, LimitReachedBodyOffersTheUpgrade) {
  const std::string key = NewKey();
  for (int i = 0; i < 10; ++i)
    ASSERT_EQ(Post("/invoices/", key, {{"amount_paisa", 1}}).status, 201);
  Response r = Post("/invoices/", key, {{"amount_paisa", 1}});
  EXPECT_EQ(r.status, 403);
  EXPECT_EQ(r.body, Json::parse(R"({"error":"Limit reached","code":"limit_reached",
      "feature":"invoices","kind":"metered","current":10,"limit":10,"plan":"FREE",
      "override":null,
      "upgrade":{"plan":"BASIC","limit":1000,"price":1900,"price_paisa":190000}})"));
  EXPECT_EQ(Get("/invoices/?limit=1000", key).body["items"].size(), 10u);
}

TEST_F(ServerHttp, CustomersStopAtFiveOnFree) {
  const std::string key = NewKey();
  for (int i = 0; i < 5; ++i) {
    ASSERT_EQ(Post("/customers/", key, {{"name", "C"}, {"email", "c@d.np"}}).status, 201);
  }
  Response r = Post("/customers/", key, {{"name", "C"}, {"email", "c@d.np"}});
  EXPECT_EQ(r.code(), "limit_reached");
  EXPECT_EQ(r.body["feature"], "customers");
  EXPECT_EQ(Get("/customers/", key).body["items"].size(), 5u);
}

TEST_F(ServerHttp, TeamMemberEmailIsUniqueWithoutCase) {
  const std::string key = NewKey("BASIC");
  Response a = Post("/team-members/", key, {{"email", "Sita@Example.com"}, {"name", "Sita"}});
  ASSERT_EQ(a.status, 201);
  EXPECT_EQ(a.body["email"], "Sita@Example.com");
  Response dup = Post("/team-members/", key, {{"email", "sita@example.COM"}});
  EXPECT_EQ(dup.status, 409);
  EXPECT_EQ(dup.code(), "conflict");
  EXPECT_EQ(Used(key, "team_members"), 1);
  EXPECT_EQ(Post("/team-members/", key, {{"email", "hari@example.com"}}).status, 201);
  EXPECT_EQ(Post("/team-members/", key, {{"email", "gita@example.com"}}).status, 201);
  EXPECT_EQ(Post("/team-members/", key, {{"email", "x@example.com"}}).code(), "limit_reached");
  EXPECT_EQ(Get("/team-members/", key).body["items"].size(), 3u);
}

TEST_F(ServerHttp, ListsAreNewestFirstAndPaged) {
  const std::string key = NewKey("PRO");
  for (int i = 0; i < 5; ++i) {
    ASSERT_EQ(Post("/invoices/", key, {{"amount_paisa", i}}).status, 201);
    clock_.Advance(std::chrono::seconds{1});
  }
  Response r = Get("/invoices/?limit=2", key);
  ASSERT_EQ(r.body["items"].size(), 2u);
  EXPECT_EQ(r.body["items"][0]["amount_paisa"], 4);
  EXPECT_EQ(Get("/invoices/?limit=0", key).body["field"], "limit");
  EXPECT_EQ(Get("/invoices/?limit=abc", key).status, 400);
}

TEST_F(ServerHttp, ContentTypeMustBeJson) {
  const std::string key = NewKey();
  Response r = Send("POST", "/invoices/", key, R"({"amount_paisa":1})", "text/plain");
  EXPECT_EQ(r.status, 415);
  EXPECT_EQ(r.code(), "unsupported_media_type");
  EXPECT_EQ(
      Send("POST", "/invoices/", key, R"({"amount_paisa":1})", "application/json; charset=UTF-8")
          .status,
      201);
  EXPECT_EQ(
      Send("POST", "/invoices/", key, R"({"amount_paisa":1})", "application/json; charset=latin1")
          .status,
      415);
}

TEST_F(ServerHttp, BodyOverTheLimitIs413) {
  const std::string key = NewKey();
  Response r = Send("POST", "/invoices/", key, std::string(70000, ' '));
  EXPECT_EQ(r.status, 413);
  EXPECT_EQ(r.code(), "payload_too_large");
  EXPECT_EQ(Used(key, "invoices"), 0);
}

TEST_F(ServerHttp, CorsForTheAppOrigin) {
  Response pre = Send("OPTIONS", "/invoices/", "", "", "", {{"Origin", "http://app.example"}});
  EXPECT_EQ(pre.status, 204);
  EXPECT_EQ(pre.headers.find("Access-Control-Allow-Origin")->second, "http://app.example");
  Response other = Send("OPTIONS", "/invoices/", "", "", "", {{"Origin", "http://evil.example"}});
  EXPECT_EQ(other.headers.count("Access-Control-Allow-Origin"), 0u);
}

TEST_F(ServerHttp, AccessLogHasOneJsonLinePerRequestAndNoSecrets) {
  const std::string key = NewKey();
  const std::string token = Send("POST", "/sessions/", key, "").body["token"];
  Get("/billing/usage/?secret=shh", token);
  Post("/invoices/", key, {{"amount_paisa", "x"}});
  auto lines = LogLines();
  for (int i = 0; i < 200 && lines.size() < 4; ++i) {  // logged just after the answer is sent
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
    lines = LogLines();
  }
  ASSERT_EQ(lines.size(), 4u);
  for (const std::string& line : lines) {
    EXPECT_EQ(line.find(key), std::string::npos);
    EXPECT_EQ(line.find(token), std::string::npos);
    EXPECT_EQ(line.find(kAdminToken), std::string::npos);
    EXPECT_EQ(line.find("shh"), std::string::npos);
    Json j = Json::parse(line, nullptr, false);
    ASSERT_TRUE(j.is_object()) << line;
    EXPECT_TRUE(j.contains("status") && j.contains("path") && j.contains("method"));
  }
  // Lines are written just after each answer, so their order may differ from the requests'.
  int refused = 0;
  for (const std::string& line : lines) {
    Json j = Json::parse(line);
    if (j["status"] != 400) continue;
    ++refused;
    EXPECT_EQ(j["code"], "validation_error");
    EXPECT_TRUE(j["org"].is_string());
    EXPECT_EQ(j["path"], "/invoices/");
  }
  EXPECT_EQ(refused, 1);
}

}  // namespace
}  // namespace sima::server::testing

namespace sima::server::testing {
namespace {

TEST_F(ServerTest, CatalogFileIsServedAndEnforced) {
  StopServer();
  const std::string path = dir_.path() + "/catalog.json";
  std::ofstream(path) << R"({"currency":"NPR","period_days":7,
    "features":[{"key":"invoices","label":"Invoices","enforcement":"hard"}],
    "plans":[{"code":"FREE","name":"Free","price":0,"limits":{"invoices":2}},
             {"code":"TEAM","name":"Team","price":500,"limits":{"invoices":-1}}]})";
  config_.catalog = path;
  StartServer();
  Response plans = Get("/billing/plans/");
  EXPECT_EQ(plans.body["period_days"], 7);
  EXPECT_EQ(plans.body["plans"][1]["code"], "TEAM");
  const std::string key = NewKey();
  EXPECT_EQ(Post("/invoices/", key, {{"amount_paisa", 1}}).status, 201);
  EXPECT_EQ(Post("/invoices/", key, {{"amount_paisa", 1}}).status, 201);
  Response refused = Post("/invoices/", key, {{"amount_paisa", 1}});
  EXPECT_EQ(refused.status, 403);
  EXPECT_EQ(refused.body["upgrade"]["plan"], "TEAM");
  // No api_calls feature in this catalog: calls are simply not metered.
  EXPECT_EQ(Get("/billing/usage/", key).body["usage"].size(), 1u);
  EXPECT_EQ(Get("/billing/usage/", key).body["period"]["end"], FormatTime(Start() + Days{7}));
}

// docs/api.md: every answer is Cache-Control: no-store, also the errors httplib decides itself.
TEST_F(ServerHttp, ErrorsTheHttpLayerDecidesAreNotCachedEither) {
  Response r = Send("POST", "/invoices/", NewKey(), std::string(70000, ' '));
  ASSERT_EQ(r.status, 413);
  EXPECT_EQ(r.headers.count("Cache-Control"), 1u);
  EXPECT_EQ(r.headers.find("Cache-Control")->second, "no-store");
}

}  // namespace
}  // namespace sima::server::testing
