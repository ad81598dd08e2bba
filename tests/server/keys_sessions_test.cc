// Secret keys (list, rotate, revoke) and browser sessions (end one's own, per-key cap).
#include "server_fixture.h"

namespace sima::server::testing {
namespace {

class ServerKeys : public ServerTest {
 protected:
  std::string Session(const std::string& key) {
    Response r = Send("POST", "/sessions/", key, "");
    EXPECT_EQ(r.status, 201) << r.raw;
    return r.body.value("token", "");
  }
  int Status(const std::string& token) { return Get("/billing/usage/", token).status; }
  std::string KeysPath(const std::string& org) { return "/admin/orgs/" + org + "/keys/"; }
  Response NewOrgKey(const std::string& org) {
    return Send("POST", KeysPath(org), kAdminToken, "");
  }
  Response Revoke(const std::string& org, const std::string& key_id) {
    return Send("DELETE", KeysPath(org) + key_id + "/", kAdminToken);
  }
};

TEST_F(ServerKeys, RevokedKeyIsRefusedAtOnceAndEveryItsSessionEnds) {
  const Json org = CreateOrg();
  const std::string old_key = org["api_key"], org_id = org["org_id"];
  const std::string s1 = Session(old_key), s2 = Session(old_key);
  // Used once, so a cache would hold them.
  ASSERT_EQ(Status(old_key), 200);
  ASSERT_EQ(Status(s1), 200);
  Response fresh = NewOrgKey(org_id);
  ASSERT_EQ(fresh.status, 201) << fresh.raw;
  const std::string new_key = fresh.body["api_key"];
  const std::string s3 = Session(new_key);

  Response r = Revoke(org_id, org["key_id"]);
  ASSERT_EQ(r.status, 200) << r.raw;
  EXPECT_EQ(r.body["key_id"], org["key_id"]);
  EXPECT_EQ(r.body["sessions_ended"], 2);
  EXPECT_EQ(r.body["revoked_at"], "2026-01-01T00:00:00Z");

  EXPECT_EQ(Status(old_key), 401);
  EXPECT_EQ(Status(s1), 401);
  EXPECT_EQ(Status(s2), 401);
  EXPECT_EQ(Send("POST", "/sessions/", old_key, "").status, 401);
  // The other key and its session are untouched.
  EXPECT_EQ(Status(new_key), 200);
  EXPECT_EQ(Status(s3), 200);
}

TEST_F(ServerKeys, AnotherInstanceRefusesARevokedKeyWithinOneSecond) {
  const Json org = CreateOrg();
  const std::string key = org["api_key"];
  const std::string session = Session(key);
  // A second server on the same database, as behind a load balancer.
  App::Options options;
  options.config = config_;
  options.now = clock_.AsFn();
  options.access_log = [](std::string_view) {};
  options.background = false;
  auto other = App::Create(options);
  ASSERT_TRUE(other.ok()) << other.error().message;
  auto other_port = (*other)->Bind();
  ASSERT_TRUE(other_port.ok());
  std::thread serving([&] { (*other)->Listen(); });
  httplib::Client cli("127.0.0.1", *other_port);
  auto status = [&](const std::string& token) {
    auto r = cli.Get("/billing/usage/", {{"Authorization", "Bearer " + token}});
    return r ? r->status : 0;
  };
  while (!(*other)->running()) std::this_thread::sleep_for(std::chrono::milliseconds(2));
  EXPECT_EQ(status(key), 200);  // now cached there
  EXPECT_EQ(status(session), 200);
  ASSERT_EQ(Revoke(org["org_id"], org["key_id"]).status, 200);
  clock_.Advance(std::chrono::seconds{1});  // the stated bound
  EXPECT_EQ(status(key), 401);
  EXPECT_EQ(status(session), 401);
  (*other)->Stop();
  serving.join();
}

TEST_F(ServerKeys, RotationKeepsBothKeysUntilTheOldOneIsRevoked) {
  const Json org = CreateOrg();
  const std::string org_id = org["org_id"];
  clock_.Advance(std::chrono::seconds{5});
  Response fresh = NewOrgKey(org_id);
  ASSERT_EQ(fresh.status, 201) << fresh.raw;
  EXPECT_EQ(fresh.body["created_at"], "2026-01-01T00:00:05Z");
  const std::string new_key = fresh.body["api_key"];
  EXPECT_NE(new_key, org["api_key"]);
  EXPECT_EQ(Status(org["api_key"]), 200);
  EXPECT_EQ(Status(new_key), 200);

  Response list = Get(KeysPath(org_id), kAdminToken);
  ASSERT_EQ(list.status, 200) << list.raw;
  ASSERT_EQ(list.body["items"].size(), 2u);
  EXPECT_EQ(list.body["next_cursor"], nullptr);
  EXPECT_EQ(list.body["items"][0]["key_id"], fresh.body["key_id"]);  // newest first
  EXPECT_EQ(list.body["items"][0]["prefix"], new_key.substr(0, 7) + "\u2026");
  EXPECT_EQ(list.body["items"][1]["key_id"], org["key_id"]);
  EXPECT_EQ(list.body["items"][1]["revoked_at"], nullptr);
  EXPECT_EQ(list.raw.find(new_key), std::string::npos);  // never the key itself

  ASSERT_EQ(Revoke(org_id, org["key_id"]).status, 200);
  EXPECT_EQ(Status(new_key), 200);
  EXPECT_EQ(Status(org["api_key"]), 401);
  list = Get(KeysPath(org_id), kAdminToken);
  EXPECT_EQ(list.body["items"][1]["revoked_at"], "2026-01-01T00:00:05Z");
  EXPECT_EQ(list.body["items"][0]["revoked_at"], nullptr);
}

TEST_F(ServerKeys, AnotherOrganizationsKeyIsNotFoundAndStaysValid) {
  const Json a = CreateOrg("A"), b = CreateOrg("B");
  Response r = Revoke(b["org_id"], a["key_id"]);
  EXPECT_EQ(r.status, 404) << r.raw;
  EXPECT_EQ(r.code(), "not_found");
  EXPECT_EQ(Status(a["api_key"]), 200);
  EXPECT_EQ(Revoke("org_00000000000000000000", a["key_id"]).status, 404);
  EXPECT_EQ(Revoke(a["org_id"], "key_00000000000000000000").status, 404);
  EXPECT_EQ(Revoke(a["org_id"], "nonsense").status, 404);
  EXPECT_EQ(Get(KeysPath("org_00000000000000000000"), kAdminToken).status, 404);
  EXPECT_EQ(NewOrgKey("org_00000000000000000000").status, 404);
}

TEST_F(ServerKeys, RevokingTwiceAnswersTheFirstRevocation) {
  const Json org = CreateOrg();
  Session(org["api_key"]);
  Response first = Revoke(org["org_id"], org["key_id"]);
  ASSERT_EQ(first.body["sessions_ended"], 1);
  clock_.Advance(std::chrono::seconds{60});
  Response again = Revoke(org["org_id"], org["key_id"]);
  EXPECT_EQ(again.status, 200);
  EXPECT_EQ(again.body["revoked_at"], first.body["revoked_at"]);
  EXPECT_EQ(again.body["sessions_ended"], 0);
}

TEST_F(ServerKeys, KeyCallsNeedTheAdminToken) {
  const Json org = CreateOrg();
  const std::string key = org["api_key"];
  EXPECT_EQ(Get(KeysPath(org["org_id"]), key).status, 403);
  EXPECT_EQ(Send("POST", KeysPath(org["org_id"]), key, "").status, 403);
  EXPECT_EQ(
      Send("DELETE", KeysPath(org["org_id"]) + org["key_id"].get<std::string>() + "/", key).status,
      403);
  EXPECT_EQ(Status(key), 200);
  EXPECT_EQ(Post(KeysPath(org["org_id"]), kAdminToken, {{"name", "x"}}).code(), "validation_error");
}

TEST_F(ServerKeys, EndingASessionEndsOnlyThatSession) {
  const std::string key = NewKey();
  const std::string s1 = Session(key), s2 = Session(key);
  ASSERT_EQ(Status(s1), 200);
  Response r = Send("DELETE", "/sessions/current/", s1);
  EXPECT_EQ(r.status, 204) << r.raw;
  EXPECT_TRUE(r.raw.empty());
  EXPECT_EQ(Status(s1), 401);
  EXPECT_EQ(Status(s2), 200);
  EXPECT_EQ(Status(key), 200);
  EXPECT_EQ(Send("DELETE", "/sessions/current/", s1).status, 401);
  // A secret key is not a session: ending "its session" is refused and changes nothing.
  EXPECT_EQ(Send("DELETE", "/sessions/current/", key).status, 403);
  EXPECT_EQ(Status(key), 200);
}

TEST_F(ServerKeys, MintingPastTheCapEndsTheKeysOldestSession) {
  config_.sessions_per_key = 3;
  Restart();
  const std::string key = NewKey(), other_key = NewKey();
  const std::string other = Session(other_key);
  std::vector<std::string> sessions;
  for (int i = 0; i < 3; ++i) {
    sessions.push_back(Session(key));
    clock_.Advance(std::chrono::seconds{1});
  }
  for (const auto& s : sessions) ASSERT_EQ(Status(s), 200);
  sessions.push_back(Session(key));
  EXPECT_EQ(Status(sessions[0]), 401);  // the oldest
  EXPECT_EQ(Status(sessions[1]), 200);
  EXPECT_EQ(Status(sessions[2]), 200);
  EXPECT_EQ(Status(sessions[3]), 200);
  EXPECT_EQ(Status(other), 200);  // another key's sessions are not counted
  sessions.push_back(Session(key));
  EXPECT_EQ(Status(sessions[1]), 401);
  EXPECT_EQ(Status(sessions[4]), 200);
}

}  // namespace
}  // namespace sima::server::testing
