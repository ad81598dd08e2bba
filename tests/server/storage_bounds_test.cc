// Storage an attacker cannot grow without bound: idempotency keys expire, expired sessions and
// keys are pruned in bounded batches, the WAL is cut back by the writer.
#include <sys/stat.h>

#include "auth.h"
#include "migrations.h"
#include "server_fixture.h"
#include "sqlite_store.h"

namespace sima::server::testing {
namespace {

class ServerBounds : public ServerTest {
 protected:
  int64_t Rows(const std::string& table) {
    auto db = sqlite::Db::Open(config_.db, true);
    EXPECT_TRUE(db.ok());
    auto n = (*db)->QueryInt("SELECT COUNT(*) FROM " + table);
    EXPECT_TRUE(n.ok());
    return n.ok() ? *n : -1;
  }
};

TEST_F(ServerBounds, RepeatedIdempotencyKeyAfterItsTtlCountsAgain) {
  config_.idempotency_ttl_seconds = 600;
  Restart();
  const std::string key = NewKey();
  const Json body = {{"quantity", 1}, {"idempotency_key", "order-1"}};
  ASSERT_EQ(Post("/usage/invoices/", key, body).body["used"], 1);
  clock_.Advance(std::chrono::seconds{599});
  Response replay = Post("/usage/invoices/", key, body);
  EXPECT_EQ(replay.body["used"], 1);
  EXPECT_EQ(replay.headers.count("Idempotent-Replayed"), 1u);
  clock_.Advance(std::chrono::seconds{1});
  Response counted = Post("/usage/invoices/", key, body);
  EXPECT_EQ(counted.body["used"], 2);
  EXPECT_EQ(counted.headers.count("Idempotent-Replayed"), 0u);
  // From then on the key is remembered afresh.
  EXPECT_EQ(Post("/usage/invoices/", key, body).body["used"], 2);
  EXPECT_EQ(Post("/usage/invoices/", key, {{"quantity", 2}, {"idempotency_key", "order-1"}}).status,
            409);
}

TEST_F(ServerBounds, PruneRemovesExpiredSessionsAndIdempotencyKeysOnly) {
  config_.idempotency_ttl_seconds = 3600;
  config_.session_ttl_seconds = 600;
  Restart();
  const std::string key = NewKey("PRO");
  for (int i = 0; i < 5; ++i) ASSERT_EQ(Send("POST", "/sessions/", key, "").status, 201);
  for (int i = 0; i < 7; ++i) {
    ASSERT_EQ(
        Post("/usage/invoices/", key, {{"idempotency_key", "old-" + std::to_string(i)}}).status,
        200);
  }
  clock_.Advance(std::chrono::seconds{601});  // the sessions have expired, the keys not yet
  const std::string live = Send("POST", "/sessions/", key, "").body["token"];
  auto first = app_->PruneOnce();
  ASSERT_TRUE(first.ok()) << first.error().message;
  EXPECT_EQ(first->sessions, 5);
  EXPECT_EQ(first->idempotency_keys, 0);
  EXPECT_EQ(Rows("sessions"), 1);
  EXPECT_EQ(Get("/billing/usage/", live).status, 200);

  ASSERT_EQ(Post("/usage/invoices/", key, {{"idempotency_key", "new"}}).status, 200);
  clock_.Advance(std::chrono::seconds{3000});  // the old keys are past the TTL, "new" is not
  auto second = app_->PruneOnce();
  ASSERT_TRUE(second.ok());
  EXPECT_EQ(second->idempotency_keys, 7);
  EXPECT_EQ(second->sessions, 1);  // `live` expired meanwhile
  EXPECT_EQ(Rows("usage_events"), 1);
}

TEST_F(ServerBounds, PruneWorksInBoundedBatches) {
  const std::string org = CreateOrg()["org_id"];
  for (int i = 0; i < 25; ++i) {
    ASSERT_TRUE(
        app_->store()
            .CreateSession(org, "key_x", "h" + std::to_string(i), clock_.Now(), clock_.Now())
            .ok());
  }
  auto pass = app_->store().Prune(clock_.Now(), 10, 2);  // at most 20 rows this pass
  ASSERT_TRUE(pass.ok());
  EXPECT_EQ(pass->sessions, 20);
  EXPECT_EQ(Rows("sessions"), 5);
  EXPECT_EQ(app_->store().Prune(clock_.Now(), 10, 2)->sessions, 5);
  EXPECT_EQ(Rows("sessions"), 0);
}

TEST(ServerStoreWal, StaysWithinTheLimitUnderConcurrentWrites) {
  TempDir dir;
  SqliteStore::Options options{dir.path() + "/wal.db"};
  options.wal_limit = 1024 * 1024;
  auto store = SqliteStore::Open(options, Catalog::Default());
  ASSERT_TRUE(store.ok()) << store.error().message;
  const Time now{std::chrono::seconds{1767225600}};
  const std::string org = NewId("org").value();
  Subscription sub{"PRO", now, now + Days{30}};
  ASSERT_TRUE((*store)->CreateOrg({org, "Acme", "hash", sub, now}).ok());
  const std::string wal = options.path + "-wal";
  std::atomic<int64_t> largest{0};
  std::vector<std::thread> writers;
  for (int t = 0; t < 8; ++t) {
    writers.emplace_back([&] {
      for (int i = 0; i < 400; ++i) {
        Invoice inv{NewId("inv").value(), i, std::nullopt, std::string(500, 'x'), now};
        ASSERT_TRUE((*store)->CreateInvoice(org, inv, now).ok());
        struct stat st {};
        if (::stat(wal.c_str(), &st) == 0) {
          int64_t seen = largest.load();
          while (st.st_size > seen && !largest.compare_exchange_weak(seen, st.st_size)) {
          }
        }
      }
    });
  }
  for (auto& w : writers) w.join();
  // One batch may land past the limit before the writer cuts the WAL back.
  EXPECT_LE(largest.load(), options.wal_limit + 2 * 1024 * 1024);
  EXPECT_GT(largest.load(), 0);
}

TEST(ServerBoundsConfig, SettingsComeFromTheEnvironmentAndFlagsWithinRange) {
  auto env = [](const char* name) -> const char* {
    if (std::string_view(name) == "SIMA_WAL_LIMIT") return "2097152";
    if (std::string_view(name) == "SIMA_IDEMPOTENCY_TTL") return "600";
    return nullptr;
  };
  auto c = LoadConfig({"--sessions-per-key=3"}, env);
  ASSERT_TRUE(c.ok()) << c.error().message;
  EXPECT_EQ(c->config.wal_limit_bytes, 2097152);
  EXPECT_EQ(c->config.idempotency_ttl_seconds, 600);
  EXPECT_EQ(c->config.sessions_per_key, 3);
  auto defaults = LoadConfig({}, [](const char*) -> const char* { return nullptr; });
  EXPECT_EQ(defaults->config.wal_limit_bytes, 64 * 1024 * 1024);
  EXPECT_EQ(defaults->config.idempotency_ttl_seconds, 86400);
  EXPECT_EQ(defaults->config.sessions_per_key, 1000);
  EXPECT_FALSE(LoadConfig({"--sessions-per-key=0"}, env).ok());
  EXPECT_FALSE(LoadConfig({"--wal-limit=1000"}, env).ok());
  EXPECT_FALSE(LoadConfig({"--idempotency-ttl=5"}, env).ok());
}

TEST(ServerMigrations, KeysOfAnOlderDatabaseGetIdsAndRevokingEndsTheirSessions) {
  TempDir dir;
  const std::string path = dir.path() + "/old.db";
  {
    auto db = sqlite::Db::Open(path);
    ASSERT_TRUE(db.ok());
    ASSERT_TRUE(Migrate(**db, Migrations().first(2)).ok());  // a database from before keys had ids
    ASSERT_TRUE((*db)
                    ->Exec("INSERT INTO organizations(id, name, created_at) VALUES "
                           "('org_00000000000000000001', 'Old', 1);"
                           "INSERT INTO api_keys(key_hash, org_id, created_at) VALUES "
                           "('h1', 'org_00000000000000000001', 1);"
                           "INSERT INTO sessions(token_hash, org_id, created_at, expires_at) "
                           "VALUES ('s1', 'org_00000000000000000001', 1, 4000000000)")
                    .ok());
  }
  auto store = SqliteStore::Open({path}, Catalog::Default());
  ASSERT_TRUE(store.ok()) << store.error().message;
  auto keys = (*store)->ListSecretKeys("org_00000000000000000001", {});
  ASSERT_TRUE(keys.ok());
  ASSERT_EQ(keys->items.size(), 1u);
  EXPECT_TRUE(HasIdShape(keys->items[0].key_id, "key"));
  EXPECT_EQ(keys->items[0].prefix, "sk_");
  EXPECT_EQ((*store)->FindSecretKey("h1")->key_id, keys->items[0].key_id);
  const Time now{std::chrono::seconds{1767225600}};
  auto revoked = (*store)->RevokeKeyById("org_00000000000000000001", keys->items[0].key_id, now);
  ASSERT_TRUE(revoked.ok());
  EXPECT_EQ(revoked->ended_session_hashes, std::vector<std::string>{"s1"});
  EXPECT_FALSE((*store)->FindSession("s1", now).ok());
}

TEST(ServerMigrations, AVersionBelowTheNewestAppliedIsStillApplied) {
  TempDir dir;
  auto db = sqlite::Db::Open(dir.path() + "/m.db");
  ASSERT_TRUE(db.ok());
  const Migration without3[] = {{1, "one", "CREATE TABLE a(x)"}, {4, "four", "CREATE TABLE d(y)"}};
  ASSERT_TRUE(Migrate(**db, without3).ok());
  const Migration merged[] = {{1, "one", "CREATE TABLE a(x)"},
                              {3, "three", "CREATE TABLE c(z)"},
                              {4, "four", "CREATE TABLE d(y)"}};
  ASSERT_TRUE(Migrate(**db, merged).ok());  // would fail if 1 or 4 ran again
  EXPECT_EQ(*(*db)->QueryInt("SELECT COUNT(*) FROM schema_migrations"), 3);
  EXPECT_TRUE((*db)->Exec("INSERT INTO c(z) VALUES (1)").ok());
}

}  // namespace
}  // namespace sima::server::testing
