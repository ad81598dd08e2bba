// The webhook admin API over HTTP: endpoints (create, list, get, change, rotate, delete, caps,
// URL checks), secrets shown once, the event log (paging, detail) and re-sends; and the URL
// check itself (webhook/endpoint_url.h).
#include <fstream>
#include <regex>
#include <set>
#include <sstream>

#include "server_fixture.h"
#include "webhook/endpoint_url.h"

namespace sima::server::testing {
namespace {

constexpr const char* kHooks = "/admin/webhooks/";
constexpr const char* kEvents = "/admin/webhook-events/";
// A public name: it resolves to a public address where there is DNS, and not at all where there
// is none; either way it is accepted.
constexpr const char* kUrl = "https://hooks.example.com/sima?tenant=acme";

class ServerWebhooks : public ServerTest {
 protected:
  Response Create(const Json& body) { return Post(kHooks, kAdminToken, body); }
  Json CreateOk(const Json& body) {
    Response r = Create(body);
    EXPECT_EQ(r.status, 201) << r.raw;
    return r.body;
  }
  Response Patch(const std::string& id, const Json& body) {
    return Send("PATCH", std::string(kHooks) + id + "/", kAdminToken, body.dump());
  }
  Response List(const std::string& query = "") {
    return Get(std::string(kHooks) + query, kAdminToken);
  }
  // Everything the server said or logged so far, to look for secrets in.
  std::string Everything(const std::vector<Response>& answers) {
    std::string all;
    for (const Response& r : answers) all += r.raw + "\n";
    for (const std::string& line : LogLines()) all += line + "\n";
    return all;
  }
  // GET /admin/webhook-events/ of an organization, every page of `limit`.
  std::vector<Json> WalkEvents(const std::string& org_id, int limit) {
    std::vector<Json> out;
    std::string cursor;
    for (int pages = 0; pages < 100; ++pages) {
      Response r =
          Get(std::string(kEvents) + "?org_id=" + org_id + "&limit=" + std::to_string(limit) +
                  (cursor.empty() ? "" : "&cursor=" + cursor),
              kAdminToken);
      EXPECT_EQ(r.status, 200) << r.raw;
      if (r.status != 200) break;
      EXPECT_LE(r.body["items"].size(), static_cast<size_t>(limit));
      for (const Json& e : r.body["items"]) out.push_back(e);
      if (r.body["next_cursor"].is_null()) break;
      cursor = r.body["next_cursor"];
    }
    return out;
  }
  // A trial grant: one subscription change of the organization, so one event.
  void GrantTrial(const std::string& org_id, int days) {
    Response r =
        Post("/admin/orgs/" + org_id + "/trial/", kAdminToken, {{"plan", "PRO"}, {"days", days}});
    ASSERT_EQ(r.status, 200) << r.raw;
  }
};

TEST_F(ServerWebhooks, CreateAnswersTheEndpointAndItsSecretOnce) {
  const Json org = CreateOrg();
  const std::string org_id = org["org_id"];
  clock_.Advance(std::chrono::seconds{7});
  Response r = Create({{"url", kUrl}, {"description", "  billing backend  "}, {"org_id", org_id}});
  ASSERT_EQ(r.status, 201) << r.raw;
  const std::string secret = r.body["secret"];
  EXPECT_TRUE(std::regex_match(secret, std::regex("whsec_[A-Za-z0-9]{32}"))) << secret;
  const Json& e = r.body["endpoint"];
  EXPECT_TRUE(std::regex_match(e["id"].get<std::string>(), std::regex("we_[A-Za-z0-9]{22}")));
  EXPECT_EQ(e["org_id"], org_id);
  EXPECT_EQ(e["url"], kUrl);
  EXPECT_EQ(e["description"], "billing backend");
  EXPECT_EQ(e["enabled"], true);
  EXPECT_EQ(e["created_at"], "2026-01-01T00:00:07Z");
  EXPECT_EQ(e["updated_at"], "2026-01-01T00:00:07Z");
  EXPECT_EQ(e["previous_secret_expires_at"], nullptr);
  EXPECT_FALSE(e.contains("secret"));
  EXPECT_EQ(e.size(), 8u) << e.dump();

  // Never again: not by id, not in the list, not in the access log.
  Response got = Get(std::string(kHooks) + e["id"].get<std::string>() + "/", kAdminToken);
  ASSERT_EQ(got.status, 200) << got.raw;
  EXPECT_EQ(got.body, e);
  Response list = List("?org_id=" + org_id);
  ASSERT_EQ(list.status, 200) << list.raw;
  ASSERT_EQ(list.body["items"].size(), 1u);
  EXPECT_EQ(list.body["items"][0], e);
  EXPECT_EQ(Everything({got, list}).find(secret), std::string::npos);
  EXPECT_EQ(Everything({got, list}).find(secret.substr(6)), std::string::npos);
}

TEST_F(ServerWebhooks, AnEndpointWithoutOrganizationIsServerWide) {
  const Json org = CreateOrg();
  const std::string org_id = org["org_id"];
  const Json wide = CreateOk({{"url", kUrl}});
  const Json own = CreateOk({{"url", kUrl}, {"org_id", org_id}});
  EXPECT_EQ(wide["endpoint"]["org_id"], nullptr);
  EXPECT_EQ(wide["endpoint"]["description"], "");
  EXPECT_NE(wide["secret"], own["secret"]);

  Response all = List();
  ASSERT_EQ(all.status, 200) << all.raw;
  ASSERT_EQ(all.body["items"].size(), 1u);
  EXPECT_EQ(all.body["items"][0]["id"], wide["endpoint"]["id"]);
  EXPECT_EQ(List("?org_id=").body["items"].size(), 1u);  // empty is no org_id
  Response mine = List("?org_id=" + org_id);
  ASSERT_EQ(mine.body["items"].size(), 1u);
  EXPECT_EQ(mine.body["items"][0]["id"], own["endpoint"]["id"]);
  const Json other = CreateOrg("Other");
  EXPECT_EQ(List("?org_id=" + other["org_id"].get<std::string>()).body["items"].size(), 0u);
}

TEST_F(ServerWebhooks, ListsOldestFirst) {
  std::vector<std::string> ids;
  for (int i = 0; i < 3; ++i) {
    ids.push_back(CreateOk({{"url", kUrl}})["endpoint"]["id"]);
    clock_.Advance(std::chrono::seconds{1});
  }
  Response all = List();
  ASSERT_EQ(all.body["items"].size(), 3u) << all.raw;
  for (size_t i = 0; i < ids.size(); ++i) EXPECT_EQ(all.body["items"][i]["id"], ids[i]);
}

TEST_F(ServerWebhooks, PatchChangesWhatItNamesAndNothingElse) {
  const Json created = CreateOk({{"url", kUrl}, {"description", "first"}});
  const std::string id = created["endpoint"]["id"];
  clock_.Advance(std::chrono::seconds{60});

  Response r = Patch(id, {{"enabled", false}});
  ASSERT_EQ(r.status, 200) << r.raw;
  EXPECT_EQ(r.body["enabled"], false);
  EXPECT_EQ(r.body["url"], kUrl);
  EXPECT_EQ(r.body["description"], "first");
  EXPECT_EQ(r.body["created_at"], "2026-01-01T00:00:00Z");
  EXPECT_EQ(r.body["updated_at"], "2026-01-01T00:01:00Z");

  clock_.Advance(std::chrono::seconds{60});
  r = Patch(id,
            {{"url", "http://hooks.example.com:8443/v2"}, {"description", ""}, {"enabled", true}});
  ASSERT_EQ(r.status, 200) << r.raw;
  EXPECT_EQ(r.body["url"], "http://hooks.example.com:8443/v2");
  EXPECT_EQ(r.body["description"], "");
  EXPECT_EQ(r.body["enabled"], true);
  EXPECT_EQ(r.body["updated_at"], "2026-01-01T00:02:00Z");

  // Nothing named, nothing changed (updated_at included); null is the same as absent.
  clock_.Advance(std::chrono::seconds{60});
  Response same = Patch(id, Json::object());
  ASSERT_EQ(same.status, 200) << same.raw;
  EXPECT_EQ(same.body, r.body);
  EXPECT_EQ(Patch(id, {{"enabled", nullptr}, {"url", nullptr}}).body, r.body);
  EXPECT_EQ(Get(std::string(kHooks) + id + "/", kAdminToken).body, r.body);
}

TEST_F(ServerWebhooks, RotateAnswersANewSecretAndWhenTheOldOneStopsSigning) {
  const Json created = CreateOk({{"url", kUrl}});
  const std::string id = created["endpoint"]["id"];
  const std::string rotate = std::string(kHooks) + id + "/rotate/";
  clock_.Advance(std::chrono::seconds{10});

  Response r = Send("POST", rotate, kAdminToken, "");  // no body: the default overlap
  ASSERT_EQ(r.status, 200) << r.raw;
  const std::string second = r.body["secret"];
  EXPECT_TRUE(std::regex_match(second, std::regex("whsec_[A-Za-z0-9]{32}")));
  EXPECT_NE(second, created["secret"]);
  EXPECT_EQ(r.body["endpoint"]["id"], id);
  EXPECT_EQ(r.body["endpoint"]["previous_secret_expires_at"], "2026-01-02T00:00:10Z");
  EXPECT_EQ(r.body["endpoint"]["updated_at"], "2026-01-01T00:00:10Z");

  r = Post(rotate, kAdminToken, {{"overlap_hours", 168}});
  ASSERT_EQ(r.status, 200) << r.raw;
  const std::string third = r.body["secret"];
  EXPECT_EQ(r.body["endpoint"]["previous_secret_expires_at"], "2026-01-08T00:00:10Z");

  // 0: the old secret stops now, so there is no previous secret to show.
  r = Post(rotate, kAdminToken, {{"overlap_hours", 0}});
  ASSERT_EQ(r.status, 200) << r.raw;
  const std::string fourth = r.body["secret"];
  EXPECT_EQ(r.body["endpoint"]["previous_secret_expires_at"], nullptr);

  Response got = Get(std::string(kHooks) + id + "/", kAdminToken);
  const std::string all = Everything({got, List()});
  for (const std::string& s : {created["secret"].get<std::string>(), second, third, fourth}) {
    EXPECT_EQ(all.find(s), std::string::npos) << s;
  }
}

TEST_F(ServerWebhooks, RotateRefusesAnOverlapOutOfRangeAndKeepsTheSecret) {
  const std::string id = CreateOk({{"url", kUrl}})["endpoint"]["id"];
  const std::string rotate = std::string(kHooks) + id + "/rotate/";
  for (const Json& body : {Json{{"overlap_hours", 169}}, Json{{"overlap_hours", -1}},
                           Json{{"overlap_hours", "24"}}, Json{{"overlap_hours", 1.5}}}) {
    Response r = Post(rotate, kAdminToken, body);
    EXPECT_EQ(r.status, 400) << body.dump() << " " << r.raw;
    EXPECT_EQ(r.code(), "validation_error");
    EXPECT_EQ(r.body["field"], "overlap_hours");
    EXPECT_FALSE(r.body.contains("secret"));
  }
  Response r = Post(rotate, kAdminToken, {{"overlap", 1}});
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(r.body["field"], "overlap");
  EXPECT_EQ(Get(std::string(kHooks) + id + "/", kAdminToken).body["updated_at"],
            "2026-01-01T00:00:00Z");
}

TEST_F(ServerWebhooks, DeleteRemovesItAndItStaysGone) {
  const std::string keep = CreateOk({{"url", kUrl}})["endpoint"]["id"];
  const std::string id = CreateOk({{"url", kUrl}})["endpoint"]["id"];
  const std::string path = std::string(kHooks) + id + "/";
  Response r = Send("DELETE", path, kAdminToken);
  EXPECT_EQ(r.status, 204) << r.raw;
  EXPECT_EQ(Get(path, kAdminToken).status, 404);
  EXPECT_EQ(Send("DELETE", path, kAdminToken).status, 404);
  EXPECT_EQ(Patch(id, {{"enabled", true}}).status, 404);
  EXPECT_EQ(Send("POST", path + "rotate/", kAdminToken, "").status, 404);
  Response all = List();
  ASSERT_EQ(all.body["items"].size(), 1u);
  EXPECT_EQ(all.body["items"][0]["id"], keep);
}

TEST_F(ServerWebhooks, SixteenEndpointsPerScopeThenConflict) {
  const std::string org_id = CreateOrg()["org_id"];
  for (int i = 0; i < 16; ++i) {
    ASSERT_EQ(Create({{"url", kUrl}, {"org_id", org_id}}).status, 201) << i;
    ASSERT_EQ(Create({{"url", kUrl}}).status, 201) << i;
  }
  Response r = Create({{"url", kUrl}, {"org_id", org_id}});
  EXPECT_EQ(r.status, 409) << r.raw;
  EXPECT_EQ(r.code(), "conflict");
  EXPECT_FALSE(r.body.contains("secret"));
  EXPECT_EQ(Create({{"url", kUrl}}).status, 409);
  EXPECT_EQ(List("?org_id=" + org_id).body["items"].size(), 16u);
  EXPECT_EQ(List().body["items"].size(), 16u);
  // Another organization has its own 16; a deleted endpoint frees its place.
  EXPECT_EQ(Create({{"url", kUrl}, {"org_id", CreateOrg("B")["org_id"]}}).status, 201);
  const std::string first = List().body["items"][0]["id"];
  ASSERT_EQ(Send("DELETE", std::string(kHooks) + first + "/", kAdminToken).status, 204);
  EXPECT_EQ(Create({{"url", kUrl}}).status, 201);
}

TEST_F(ServerWebhooks, BadInputIsAValidationErrorNamingTheFieldAndChangesNothing) {
  const std::string org_id = CreateOrg()["org_id"];
  const std::string long_url = "https://hooks.example.com/" + std::string(2048 - 26 + 1, 'a');
  ASSERT_EQ(long_url.size(), 2049u);
  const std::vector<std::pair<Json, std::string>> cases = {
      {Json::object(), "url"},
      {{{"url", nullptr}}, "url"},
      {{{"url", 5}}, "url"},
      {{{"url", ""}}, "url"},
      {{{"url", "hooks.example.com/x"}}, "url"},
      {{{"url", "/relative"}}, "url"},
      {{{"url", "ftp://hooks.example.com/"}}, "url"},
      {{{"url", "javascript:alert(1)"}}, "url"},
      {{{"url", "https://user:pass@hooks.example.com/"}}, "url"},
      {{{"url", "https://hooks.example.com@127.0.0.1/"}}, "url"},
      {{{"url", "https://hooks.example.com/#frag"}}, "url"},
      {{{"url", "https://hooks.example.com/a b"}}, "url"},
      {{{"url", "https://hooks.example.com\\@evil/"}}, "url"},
      {{{"url", "https://h\u00f6oks.example.com/"}}, "url"},
      {{{"url", "https://hooks.example.com:0/"}}, "url"},
      {{{"url", "https://hooks.example.com:65536/"}}, "url"},
      {{{"url", "https://hooks.example.com:/"}}, "url"},
      {{{"url", "https://:443/"}}, "url"},
      {{{"url", "https://[::1/"}}, "url"},
      {{{"url", "https://[nope]/"}}, "url"},
      {{{"url", long_url}}, "url"},
      // Private and loopback addresses, however they are spelt.
      {{{"url", "http://127.0.0.1:8080/hook"}}, "url"},
      {{{"url", "http://127.1/"}}, "url"},
      {{{"url", "http://2130706433/"}}, "url"},
      {{{"url", "http://0x7f000001/"}}, "url"},
      {{{"url", "http://0177.0.0.1/"}}, "url"},
      {{{"url", "http://127.0.0.1./"}}, "url"},
      {{{"url", "http://0.0.0.0/"}}, "url"},
      {{{"url", "http://169.254.169.254/latest/meta-data/"}}, "url"},
      {{{"url", "http://10.1.2.3/"}}, "url"},
      {{{"url", "http://172.16.0.1/"}}, "url"},
      {{{"url", "http://192.168.1.1/"}}, "url"},
      {{{"url", "http://100.64.0.1/"}}, "url"},
      {{{"url", "http://[::1]:8080/"}}, "url"},
      {{{"url", "http://[::]/"}}, "url"},
      {{{"url", "http://[::ffff:127.0.0.1]/"}}, "url"},
      {{{"url", "http://[::ffff:a9fe:a9fe]/"}}, "url"},
      {{{"url", "http://[fd00::1]/"}}, "url"},
      {{{"url", "http://[fe80::1]/"}}, "url"},
      {{{"url", "http://localhost:3000/"}}, "url"},
      {{{"url", "http://LOCALHOST./"}}, "url"},
      {{{"url", "http://app.localhost/"}}, "url"},
      {{{"url", kUrl}, {"description", std::string(501, 'd')}}, "description"},
      {{{"url", kUrl}, {"description", "two\nlines"}}, "description"},
      {{{"url", kUrl}, {"description", 7}}, "description"},
      {{{"url", kUrl}, {"org_id", "acme"}}, "org_id"},
      {{{"url", kUrl}, {"org_id", 12}}, "org_id"},
      {{{"url", kUrl}, {"secret", "whsec_mine"}}, "secret"},
      {{{"url", kUrl}, {"enabled", false}}, "enabled"},
  };
  for (const auto& [body, field] : cases) {
    Response r = Create(body);
    EXPECT_EQ(r.status, 400) << body.dump() << " " << r.raw;
    EXPECT_EQ(r.code(), "validation_error") << body.dump();
    EXPECT_EQ(r.body["field"], field) << body.dump() << " " << r.raw;
    EXPECT_FALSE(r.body.contains("secret"));
  }
  Response unknown = Create({{"url", kUrl}, {"org_id", "org_00000000000000000000"}});
  EXPECT_EQ(unknown.status, 404) << unknown.raw;
  EXPECT_EQ(Send("POST", kHooks, kAdminToken, "{\"url\":").code(), "invalid_json");
  EXPECT_EQ(Send("POST", kHooks, kAdminToken, "[]").code(), "invalid_json");
  EXPECT_EQ(Send("POST", kHooks, kAdminToken, "url=x", "application/x-www-form-urlencoded").status,
            415);
  EXPECT_EQ(List().body["items"].size(), 0u);
  EXPECT_EQ(List("?org_id=" + org_id).body["items"].size(), 0u);

  // The same checks on a change; the endpoint stays as it was.
  const Json created = CreateOk({{"url", kUrl}, {"org_id", org_id}});
  const std::string id = created["endpoint"]["id"];
  for (const auto& [body, field] : std::vector<std::pair<Json, std::string>>{
           {{{"url", "http://127.0.0.1/"}}, "url"},
           {{{"url", ""}}, "url"},
           {{{"enabled", "yes"}}, "enabled"},
           {{{"enabled", 1}}, "enabled"},
           {{{"description", std::string(501, 'd')}}, "description"},
           {{{"org_id", org_id}}, "org_id"},
           {{{"url", kUrl}, {"enabled", false}, {"secret", "x"}}, "secret"}}) {
    Response r = Patch(id, body);
    EXPECT_EQ(r.status, 400) << body.dump() << " " << r.raw;
    EXPECT_EQ(r.body["field"], field) << body.dump();
  }
  EXPECT_EQ(Get(std::string(kHooks) + id + "/", kAdminToken).body, created["endpoint"]);
  EXPECT_EQ(List("?org_id=acme").body["field"], "org_id");
}

// A name the machine resolves to loopback (from /etc/hosts) is refused like the address.
TEST_F(ServerWebhooks, ANameThatResolvesToLoopbackIsRefused) {
  std::ifstream hosts("/etc/hosts");
  std::string line, name;
  while (name.empty() && std::getline(hosts, line)) {
    std::istringstream words(line);
    std::string address, word;
    words >> address;
    if (address.rfind("127.", 0) != 0 && address != "::1") continue;
    while (words >> word) {
      if (word[0] == '#') break;
      if (word.find("localhost") == std::string::npos &&
          std::regex_match(word, std::regex("[A-Za-z0-9.-]+"))) {
        name = word;
        break;
      }
    }
  }
  if (name.empty()) GTEST_SKIP() << "/etc/hosts names no loopback host but localhost";
  Response r = Create({{"url", "http://" + name + ":8080/hook"}});
  EXPECT_EQ(r.status, 400) << name << " " << r.raw;
  EXPECT_EQ(r.body["field"], "url");
  EXPECT_NE(r.body["error"].get<std::string>().find("resolves"), std::string::npos) << r.raw;
}

TEST_F(ServerWebhooks, AllowPrivateLetsLoopbackAndPrivateAddressesIn) {
  config_.webhook_allow_private = 1;
  Restart();
  for (const char* url : {"http://127.0.0.1:8080/hook", "http://localhost:3000/", "http://[::1]/",
                          "http://10.0.0.7/"}) {
    Response r = Create({{"url", url}});
    EXPECT_EQ(r.status, 201) << url << " " << r.raw;
  }
  // The form of the URL is still checked.
  EXPECT_EQ(Create({{"url", "http://user@127.0.0.1/"}}).body["field"], "url");
}

TEST_F(ServerWebhooks, UnknownOrMalformedIdsAreNotFound) {
  const std::string none = "we_AAAAAAAAAAAAAAAAAAAAAA";
  for (const std::string& id : {none, std::string("we_short"), std::string("nonsense"),
                                std::string("we_AAAAAAAAAAAAAAAAAAAAA-")}) {
    const std::string path = std::string(kHooks) + id + "/";
    EXPECT_EQ(Get(path, kAdminToken).status, 404) << id;
    EXPECT_EQ(Patch(id, {{"enabled", false}}).status, 404) << id;
    EXPECT_EQ(Send("POST", path + "rotate/", kAdminToken, "").status, 404) << id;
    EXPECT_EQ(Send("DELETE", path, kAdminToken).status, 404) << id;
  }
  for (const std::string& id : {std::string("evt_AAAAAAAAAAAAAAAAAAAAAA"), std::string("evt_x")}) {
    const std::string path = std::string(kEvents) + id + "/";
    Response r = Get(path, kAdminToken);
    EXPECT_EQ(r.status, 404) << id << " " << r.raw;
    EXPECT_EQ(r.code(), "not_found");
    EXPECT_EQ(Send("POST", path + "resend/", kAdminToken, "").status, 404) << id;
  }
  Response r = Get(std::string(kEvents) + "?limit=0", kAdminToken);
  EXPECT_EQ(r.body["field"], "limit");
  r = Get(std::string(kEvents) + "?cursor=nope", kAdminToken);
  EXPECT_EQ(r.body["field"], "cursor");
  r = Get(std::string(kEvents) + "?org_id=nope", kAdminToken);
  EXPECT_EQ(r.body["field"], "org_id");
}

TEST_F(ServerWebhooks, OnlyTheAdminTokenMayUseTheseRoutes) {
  const Json org = CreateOrg();
  const std::string key = org["api_key"];
  const std::string id = CreateOk({{"url", kUrl}})["endpoint"]["id"];
  const std::string one = std::string(kHooks) + id + "/";
  const std::string event = std::string(kEvents) + "evt_AAAAAAAAAAAAAAAAAAAAAA/";
  const std::vector<std::tuple<std::string, std::string, std::string>> calls = {
      {"POST", kHooks, Json{{"url", kUrl}}.dump()},
      {"GET", kHooks, ""},
      {"GET", one, ""},
      {"PATCH", one, Json{{"enabled", false}}.dump()},
      {"POST", one + "rotate/", "{}"},
      {"DELETE", one, ""},
      {"GET", kEvents, ""},
      {"GET", event, ""},
      {"POST", event + "resend/", "{}"},
  };
  for (const auto& [method, path, body] : calls) {
    Response none = Send(method, path, "", body);
    EXPECT_EQ(none.status, 401) << method << " " << path << " " << none.raw;
    EXPECT_EQ(none.code(), "unauthorized");
    EXPECT_EQ(Send(method, path, "wrong-admin-token", body).status, 401) << method << " " << path;
    Response org_key = Send(method, path, key, body);
    EXPECT_EQ(org_key.status, 403) << method << " " << path << " " << org_key.raw;
    EXPECT_EQ(org_key.code(), "forbidden");
  }
  // Nothing changed: still one endpoint, enabled, with its first secret.
  Response all = List();
  ASSERT_EQ(all.body["items"].size(), 1u);
  EXPECT_EQ(all.body["items"][0]["enabled"], true);
  EXPECT_EQ(all.body["items"][0]["updated_at"], all.body["items"][0]["created_at"]);
}

TEST_F(ServerWebhooks, TheAdminApiOffMeansForbidden) {
  config_.admin_token.clear();
  Restart();
  Response r = Get(kHooks, kAdminToken);
  EXPECT_EQ(r.status, 403) << r.raw;
  EXPECT_EQ(Get(kEvents, kAdminToken).status, 403);
}

// --- the event log (events come from the store's changes: here, trials) ---

TEST_F(ServerWebhooks, EventsPageNewestFirstAndEachIsSeenOnce) {
  const std::string org_id = CreateOrg()["org_id"];
  const std::string other = CreateOrg("Other")["org_id"];
  for (int i = 1; i <= 5; ++i) {
    GrantTrial(org_id, i);
    clock_.Advance(std::chrono::seconds{1});
  }
  GrantTrial(other, 3);

  Response all = Get(std::string(kEvents) + "?org_id=" + org_id + "&limit=1000", kAdminToken);
  ASSERT_EQ(all.status, 200) << all.raw;
  const Json& items = all.body["items"];
  ASSERT_GE(items.size(), 5u) << all.raw;
  EXPECT_EQ(all.body["next_cursor"], nullptr);
  std::set<std::string> ids;
  for (size_t i = 0; i < items.size(); ++i) {
    const Json& e = items[i];
    EXPECT_EQ(e["org_id"], org_id);
    EXPECT_TRUE(std::regex_match(e["id"].get<std::string>(), std::regex("evt_[A-Za-z0-9]{22}")));
    EXPECT_TRUE(e["type"].is_string());
    EXPECT_TRUE(e["data"].is_object()) << e.dump();
    EXPECT_TRUE(e["created"].is_string());
    EXPECT_EQ(e.size(), 6u) << e.dump();
    if (i > 0) {
      EXPECT_GT(items[i - 1]["sequence"].get<int64_t>(), e["sequence"].get<int64_t>());
    }
    ids.insert(e["id"].get<std::string>());
  }
  EXPECT_EQ(ids.size(), items.size());

  const std::vector<Json> walked = WalkEvents(org_id, 2);
  ASSERT_EQ(walked.size(), items.size());
  for (size_t i = 0; i < walked.size(); ++i) EXPECT_EQ(walked[i], items[i]) << i;

  // Without org_id: every organization's.
  Response every = Get(std::string(kEvents) + "?limit=1000", kAdminToken);
  ASSERT_EQ(every.status, 200) << every.raw;
  EXPECT_GT(every.body["items"].size(), items.size());
  std::set<std::string> orgs;
  for (const Json& e : every.body["items"]) orgs.insert(e["org_id"].get<std::string>());
  EXPECT_TRUE(orgs.count(org_id) && orgs.count(other));
}

TEST_F(ServerWebhooks, AnEventShowsItsDeliveriesAndAttempts) {
  background_ = false;  // nobody sends: the deliveries stay as this test leaves them
  Restart();
  const std::string org_id = CreateOrg()["org_id"];
  const Json own = CreateOk({{"url", kUrl}, {"org_id", org_id}});
  const Json wide = CreateOk({{"url", "https://all.example.com/hook"}});
  const Json off = CreateOk({{"url", kUrl}, {"org_id", org_id}});
  ASSERT_EQ(Patch(off["endpoint"]["id"], {{"enabled", false}}).status, 200);
  GrantTrial(org_id, 7);

  const std::vector<Json> events = WalkEvents(org_id, 100);
  ASSERT_FALSE(events.empty());
  const std::string event_id = events[0]["id"];
  Response r = Get(std::string(kEvents) + event_id + "/", kAdminToken);
  ASSERT_EQ(r.status, 200) << r.raw;
  for (const char* k : {"id", "type", "org_id", "sequence", "created", "data"}) {
    EXPECT_EQ(r.body[k], events[0][k]) << k;
  }
  // The two enabled endpoints of its scope, none to the disabled one.
  ASSERT_EQ(r.body["deliveries"].size(), 2u) << r.raw;
  std::set<std::string> to;
  for (const Json& d : r.body["deliveries"]) {
    to.insert(d["endpoint_id"].get<std::string>());
    EXPECT_EQ(d["status"], "pending");
    EXPECT_EQ(d["attempts"], 0);
    EXPECT_EQ(d["last_status"], nullptr);
    EXPECT_EQ(d["completed_at"], nullptr);
    EXPECT_TRUE(d["next_attempt_at"].is_string());
    EXPECT_TRUE(d["id"].is_number_integer());
  }
  EXPECT_EQ(to, (std::set<std::string>{own["endpoint"]["id"], wide["endpoint"]["id"]}));
  EXPECT_EQ(r.body["attempts"], Json::array());
  for (const Json& secret : {own["secret"], wide["secret"], off["secret"]}) {
    EXPECT_EQ(r.raw.find(secret.get<std::string>()), std::string::npos);
  }
}

// A try that was given up, then a re-send: the delivery is pending again and due now, the
// attempt stays in the log; a re-send to one endpoint reaches an endpoint added since.
TEST_F(ServerWebhooks, ResendMakesDeliveriesPendingAndKeepsTheLog) {
  background_ = false;
  Restart();
  const std::string org_id = CreateOrg()["org_id"];
  const std::string first = CreateOk({{"url", kUrl}, {"org_id", org_id}})["endpoint"]["id"];
  GrantTrial(org_id, 7);
  const std::string event_id = WalkEvents(org_id, 100).at(0)["id"];

  // The sender's part, by hand: each delivery is given up after one failed try (an
  // organization's deliveries are claimed one at a time, oldest first).
  Store& store = app_->store();
  bool found = false;
  for (int round = 0; round < 20; ++round) {
    auto claimed =
        store.ClaimDueDeliveries(clock_.Now(), clock_.Now() + std::chrono::seconds{60}, 100);
    ASSERT_TRUE(claimed.ok()) << claimed.error().message;
    if (claimed->empty()) break;
    for (const DueDelivery& due : *claimed) {
      DeliveryResult result;
      result.attempt = {due.delivery.id, clock_.Now(), 500, 42, "{\"oops\":true}", "HTTP 500"};
      result.delivered = false;
      result.retry_at = std::nullopt;
      ASSERT_TRUE(store.CompleteDelivery(due.delivery.id, due.lease, result, clock_.Now()).ok());
      found = found || due.event.id == event_id;
    }
  }
  ASSERT_TRUE(found);
  clock_.Advance(std::chrono::seconds{30});

  const std::string detail = std::string(kEvents) + event_id + "/";
  Response before = Get(detail, kAdminToken);
  ASSERT_EQ(before.status, 200) << before.raw;
  ASSERT_EQ(before.body["deliveries"].size(), 1u);
  EXPECT_EQ(before.body["deliveries"][0]["status"], "failed");
  EXPECT_EQ(before.body["deliveries"][0]["last_status"], 500);
  EXPECT_EQ(before.body["deliveries"][0]["completed_at"], "2026-01-01T00:00:00Z");
  ASSERT_EQ(before.body["attempts"].size(), 1u);
  const Json attempt = before.body["attempts"][0];
  EXPECT_EQ(attempt["delivery_id"], before.body["deliveries"][0]["id"]);
  EXPECT_EQ(attempt["status_code"], 500);
  EXPECT_EQ(attempt["duration_ms"], 42);
  EXPECT_EQ(attempt["response_body"], "{\"oops\":true}");
  EXPECT_EQ(attempt["error"], "HTTP 500");
  EXPECT_EQ(attempt["at"], "2026-01-01T00:00:00Z");

  Response again = Send("POST", detail + "resend/", kAdminToken, "");
  ASSERT_EQ(again.status, 200) << again.raw;
  ASSERT_EQ(again.body["deliveries"].size(), 1u);
  EXPECT_EQ(again.body["deliveries"][0]["status"], "pending");
  EXPECT_EQ(again.body["deliveries"][0]["next_attempt_at"], "2026-01-01T00:00:30Z");
  EXPECT_EQ(again.body["attempts"].size(), 1u);
  EXPECT_EQ(again.body["attempts"][0], attempt);
  EXPECT_EQ(again.body["id"], event_id);

  // An endpoint added later gets the event only when named.
  const std::string second = CreateOk({{"url", kUrl}, {"org_id", org_id}})["endpoint"]["id"];
  Response one = Post(detail + "resend/", kAdminToken, {{"endpoint_id", second}});
  ASSERT_EQ(one.status, 200) << one.raw;
  ASSERT_EQ(one.body["deliveries"].size(), 2u);
  std::set<std::string> to;
  for (const Json& d : one.body["deliveries"]) {
    to.insert(d["endpoint_id"].get<std::string>());
    EXPECT_EQ(d["status"], "pending");
  }
  EXPECT_EQ(to, (std::set<std::string>{first, second}));

  Response bad = Post(detail + "resend/", kAdminToken, {{"endpoint_id", "nope"}});
  EXPECT_EQ(bad.status, 400);
  EXPECT_EQ(bad.body["field"], "endpoint_id");
  EXPECT_EQ(
      Post(detail + "resend/", kAdminToken, {{"endpoint_id", "we_AAAAAAAAAAAAAAAAAAAAAA"}}).status,
      404);
  EXPECT_EQ(Post(detail + "resend/", kAdminToken, {{"to", "all"}}).body["field"], "to");
}

// --- the URL check itself ---

TEST(WebhookEndpointUrl, ParsesTheParts) {
  auto u = webhook::ParseEndpointUrl("HTTPS://Hooks.Example.COM:8443/a/b?c=d");
  ASSERT_TRUE(u.ok()) << u.error().message;
  EXPECT_EQ(u->scheme, "https");
  EXPECT_EQ(u->host, "hooks.example.com");
  EXPECT_EQ(u->port, 8443);
  EXPECT_FALSE(u->ipv6_literal);
  u = webhook::ParseEndpointUrl("http://[2001:DB8::1]/");
  ASSERT_TRUE(u.ok()) << u.error().message;
  EXPECT_EQ(u->host, "2001:db8::1");
  EXPECT_TRUE(u->ipv6_literal);
  EXPECT_EQ(u->port, 0);
  u = webhook::ParseEndpointUrl("http://example.com?x=1");
  ASSERT_TRUE(u.ok());
  EXPECT_EQ(u->host, "example.com");
}

TEST(WebhookEndpointUrl, PrivateAddressesAreThoseAWebhookMustNotReach) {
  const auto v4 = [](uint8_t a, uint8_t b, uint8_t c, uint8_t d) {
    const uint8_t bytes[4] = {a, b, c, d};
    return webhook::IsPrivateAddress(bytes, 4);
  };
  EXPECT_TRUE(v4(127, 0, 0, 1));
  EXPECT_TRUE(v4(169, 254, 169, 254));
  EXPECT_TRUE(v4(10, 0, 0, 1));
  EXPECT_TRUE(v4(172, 31, 255, 255));
  EXPECT_FALSE(v4(172, 32, 0, 1));
  EXPECT_TRUE(v4(192, 168, 0, 1));
  EXPECT_TRUE(v4(100, 127, 0, 1));
  EXPECT_FALSE(v4(100, 128, 0, 1));
  EXPECT_TRUE(v4(0, 0, 0, 0));
  EXPECT_TRUE(v4(224, 0, 0, 1));
  EXPECT_TRUE(v4(255, 255, 255, 255));
  EXPECT_FALSE(v4(93, 184, 216, 34));
  EXPECT_FALSE(v4(8, 8, 8, 8));
  const auto v6 = [](std::initializer_list<uint8_t> head, std::initializer_list<uint8_t> tail) {
    uint8_t bytes[16] = {};
    std::copy(head.begin(), head.end(), bytes);
    std::copy(tail.begin(), tail.end(), bytes + 16 - tail.size());
    return webhook::IsPrivateAddress(bytes, 16);
  };
  EXPECT_TRUE(v6({}, {1}));                                  // ::1
  EXPECT_TRUE(v6({}, {}));                                   // ::
  EXPECT_TRUE(v6({}, {0xff, 0xff, 127, 0, 0, 1}));           // ::ffff:127.0.0.1
  EXPECT_FALSE(v6({}, {0xff, 0xff, 8, 8, 8, 8}));            // ::ffff:8.8.8.8
  EXPECT_TRUE(v6({0x00, 0x64, 0xff, 0x9b}, {10, 0, 0, 1}));  // NAT64 of 10.0.0.1
  EXPECT_TRUE(v6({0x20, 0x02, 127, 0, 0, 1}, {}));           // 6to4 of 127.0.0.1
  EXPECT_TRUE(v6({0xfd}, {1}));
  EXPECT_TRUE(v6({0xfe, 0x80}, {1}));
  EXPECT_TRUE(v6({0xff, 0x02}, {1}));
  EXPECT_FALSE(v6({0x20, 0x01, 0x0d, 0xb8}, {1}));
  EXPECT_FALSE(v6({0x26, 0x06, 0x47, 0x00}, {0x11, 0x11}));
}

TEST(WebhookEndpointUrl, PublicAddressesPassAndAllowPrivateLetsEverythingWellFormedIn) {
  EXPECT_TRUE(webhook::CheckEndpointUrl("https://93.184.216.34/hook", false).ok());
  EXPECT_TRUE(webhook::CheckEndpointUrl("https://[2606:4700::1111]/hook", false).ok());
  EXPECT_TRUE(webhook::CheckEndpointUrl("https://no-such-host.invalid/hook", false).ok());
  EXPECT_TRUE(webhook::CheckEndpointUrl("http://127.0.0.1:9/hook", true).ok());
  EXPECT_FALSE(webhook::CheckEndpointUrl("http://127.0.0.1:9/hook", false).ok());
  auto refused = webhook::CheckEndpointUrl("http://[::ffff:7f00:1]/", false);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().extra["field"], "url");
  EXPECT_NE(refused.error().message.find("SIMA_WEBHOOK_ALLOW_PRIVATE"), std::string::npos);
}

}  // namespace
}  // namespace sima::server::testing
