// What only the PostgreSQL store has to show: claims that several instances share without
// double-processing, migrations by instances starting together, and its errors — an
// unreachable server, wrong credentials, a hostile URL (never the password), a database that
// goes away under a running server (503) and comes back (recovery without a restart).
#include "pg_store.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <set>
#include <thread>

#include "auth.h"
#include "pg.h"
#include "pg_migrations.h"
#include "pg_test_cluster.h"
#include "server_fixture.h"

namespace sima::server::testing {
namespace {

constexpr const char* kPassword = "hunter2-Secret";

// The test cluster's URL with another password.
std::string WithPassword(const std::string& url, const std::string& password) {
  const size_t colon = url.find(':', url.find("://") + 3);
  const size_t at = url.find('@');
  return url.substr(0, colon + 1) + password + url.substr(at);
}

class PgOnly : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_FALSE(TestPgUrl().empty());
    schema_ = NewTestSchema();
  }
  void TearDown() override { DropTestSchema(schema_); }
  std::unique_ptr<PgStore> Open(std::chrono::seconds lease = std::chrono::seconds{120}) {
    PgStore::Options options;
    options.url = TestPgUrl();
    options.schema = schema_;
    options.claim_lease = lease;
    auto s = PgStore::Open(options, Catalog::Default());
    EXPECT_TRUE(s.ok()) << s.error().message;
    return s ? std::move(s).value() : nullptr;
  }
  std::string schema_;
  Time now_ = Time{std::chrono::seconds{1767225600}};
};

TEST_F(PgOnly, InstancesStartingTogetherMigrateOnce) {
  std::vector<std::thread> threads;
  std::atomic<int> opened{0};
  for (int i = 0; i < 3; ++i) {
    threads.emplace_back([&] {
      if (Open()) ++opened;
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(opened.load(), 3);
  auto info = pg::ConnInfo::Parse(TestPgUrl());
  info.value().set_schema(schema_);
  auto conn = pg::Conn::Open(*info);
  ASSERT_TRUE(conn.ok());
  auto n = (*conn)->One("SELECT COUNT(*), MAX(version) FROM schema_migrations");
  ASSERT_TRUE(n.ok() && *n);
  EXPECT_EQ((*n)->Int(0), static_cast<int64_t>(PgMigrations().size()));
  EXPECT_EQ((*n)->Int(1), PgMigrations().back().version);
}

// A database from before feature kinds: its organizations keep their customers and team
// members as live counts, whatever period the old counters were in.
TEST_F(PgOnly, AnOlderDatabaseKeepsItsCustomersAndMembersAsAllocations) {
  const std::string org = "org_00000000000000000001";
  {
    auto info = pg::ConnInfo::Parse(TestPgUrl());
    info.value().set_schema(schema_);
    auto conn = pg::Conn::Open(*info);
    ASSERT_TRUE(conn.ok());
    pg::Conn& c = **conn;
    ASSERT_TRUE(MigratePg(c, schema_, PgMigrations().first(4)).ok());
    ASSERT_TRUE(
        c.Run("INSERT INTO organizations(id, name, created_at) VALUES ($1, 'Old', $2)", org, now_)
            .ok());
    ASSERT_TRUE(c.Run("INSERT INTO subscriptions(org_id, plan, start_at, updated_at) "
                      "VALUES ($1, 'FREE', $2, $2)",
                      org, now_)
                    .ok());
    for (const char* id : {"cus_1", "cus_2", "cus_3"}) {
      ASSERT_TRUE(c.Run("INSERT INTO customers(id, org_id, name, email, created_at) "
                        "VALUES ($1, $2, 'C', 'c@x.test', $3)",
                        id, org, now_)
                      .ok());
    }
    ASSERT_TRUE(c.Run("INSERT INTO team_members(id, org_id, email, email_key, name, created_at) "
                      "VALUES ('tm_1', $1, 'a@x.test', 'a@x.test', 'A', $2)",
                      org, now_)
                    .ok());
    // Counted two periods ago, in two shards: an allocation is not tied to a period.
    ASSERT_TRUE(c.Run("INSERT INTO usage_counters VALUES ($1, $2, 'customers', 0, 2), "
                      "($1, $2, 'customers', 1, 1)",
                      org, now_ - Days{60})
                    .ok());
  }
  auto store = Open();
  ASSERT_TRUE(store);
  auto usage = store->ReadUsage(org, now_);
  ASSERT_TRUE(usage.ok()) << usage.error().message;
  EXPECT_EQ(usage->usage.at("customers"), 3);
  EXPECT_EQ(usage->usage.at("team_members"), 1);
  EXPECT_EQ(store->CreateTeamMember(org, {"tm_2", "b@x.test", "B", now_}, now_).error().kind,
            ErrorKind::kLimitReached);  // FREE allows 1
  ASSERT_TRUE(store->DeleteCustomer(org, "cus_1", now_).ok());
  EXPECT_EQ(store->ReadUsage(org, now_)->usage.at("customers"), 2);
  EXPECT_EQ(store->ListCustomers(org, {100, std::nullopt}, now_)->items.size(), 2u);
}

// The reconciler and the outbox run in every instance: what one claims, no other gets until
// the claim's lease runs out.
TEST_F(PgOnly, InstancesNeverClaimTheSamePaymentOrEmail) {
  auto a = Open();
  auto b = Open();
  ASSERT_TRUE(a && b);
  std::vector<int64_t> payments;
  for (int org = 0; org < 4; ++org) {
    const std::string id = NewId("org").value();
    ASSERT_TRUE(a->CreateOrg({id,
                              "Acme",
                              Sha256Hex(id),
                              {"FREE", now_, std::nullopt},
                              now_,
                              std::string("o@x.test")})
                    .ok());
    for (int i = 0; i < 5; ++i) {
      auto p = a->CreatePayment(id, Provider::kKhalti, i % 2 ? "PRO" : "BASIC", NewId("n").value(),
                                now_, now_);
      ASSERT_TRUE(p.ok()) << p.error().message;
      payments.push_back(p->id);
    }
  }
  // Both instances claim at once, many times over.
  std::mutex mu;
  std::vector<int64_t> claimed;
  std::vector<std::thread> threads;
  for (int i = 0; i < 8; ++i) {
    threads.emplace_back([&, i] {
      PgStore& store = i % 2 ? *a : *b;
      auto due = store.DuePendingPayments(now_, 3, 2);
      ASSERT_TRUE(due.ok()) << due.error().message;
      std::lock_guard lock(mu);
      for (const Payment& p : *due) claimed.push_back(p.id);
    });
  }
  for (auto& t : threads) t.join();
  std::set<int64_t> unique(claimed.begin(), claimed.end());
  EXPECT_EQ(unique.size(), claimed.size()) << "a payment was claimed twice";
  // Everything due is claimed once the passes end; nothing is due again within the lease...
  for (;;) {
    auto due = a->DuePendingPayments(now_, 100);
    ASSERT_TRUE(due.ok());
    if (due->empty()) break;
    for (const Payment& p : *due) unique.insert(p.id);
  }
  EXPECT_EQ(unique.size(), payments.size());
  EXPECT_TRUE(b->DuePendingPayments(now_ + std::chrono::seconds{119}, 100)->empty());
  // ...and a claim whose instance died comes back after it.
  EXPECT_EQ(b->DuePendingPayments(now_ + std::chrono::seconds{120}, 100)->size(), payments.size());

  // The outbox: two activations queue two e-mails; concurrent claims take each once.
  for (int64_t id : {payments[1], payments[6]}) {
    auto r = a->ApplyPaymentOutcome(id, std::nullopt,
                                    {FromKhaltiLookup("Completed", 390000, 390000), "k", "t"},
                                    PaymentCause::kReconciler, now_);
    ASSERT_TRUE(r.ok()) << r.error().message;
  }
  std::atomic<int> emails{0};
  threads.clear();
  for (int i = 0; i < 6; ++i) {
    threads.emplace_back([&, i] {
      PgStore& store = i % 2 ? *a : *b;
      auto got = store.ClaimDueEmails(now_, now_ + std::chrono::seconds{60}, 10);
      ASSERT_TRUE(got.ok()) << got.error().message;
      emails += static_cast<int>(got->size());
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(emails.load(), 2);
}

TEST_F(PgOnly, ConcurrentOutcomesOverThreeInstancesActivateOnce) {
  auto a = Open();
  auto b = Open();
  auto c = Open();
  const std::string org = NewId("org").value();
  ASSERT_TRUE(a->CreateOrg({org,
                            "Acme",
                            Sha256Hex(org),
                            {"FREE", now_, std::nullopt},
                            now_,
                            std::string("o@x.test")})
                  .ok());
  auto p = a->CreatePayment(org, Provider::kKhalti, "PRO", "n", now_, now_);
  ASSERT_TRUE(p.ok());
  PgStore* stores[] = {a.get(), b.get(), c.get()};
  std::atomic<int> activated{0}, changed{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < 60; ++i) {
    threads.emplace_back([&, i] {
      auto r = stores[i % 3]->ApplyPaymentOutcome(
          p->id, std::nullopt, {FromKhaltiLookup("Completed", 390000, 390000), "k", "t"},
          i % 2 ? PaymentCause::kCallback : PaymentCause::kVerify, now_);
      ASSERT_TRUE(r.ok()) << r.error().message;
      if (r->activated) ++activated;
      if (r->changed) ++changed;
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(activated.load(), 1);
  EXPECT_EQ(changed.load(), 1);
  EXPECT_EQ(a->ClaimDueEmails(now_, now_ + std::chrono::seconds{60}, 10)->size(), 1u);
}

TEST(PgErrors, AClosedPortIsAClearErrorWithoutThePassword) {
  const std::string port = std::to_string(ClosedPort());
  PgStore::Options options;
  options.url = "postgresql://sima:" + std::string(kPassword) + "@127.0.0.1:" + port + "/sima";
  auto s = PgStore::Open(options, Catalog::Default());
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().kind, ErrorKind::kUnavailable);
  EXPECT_EQ(
      s.error().message.rfind(
          "cannot connect to PostgreSQL at postgresql://sima@127.0.0.1:" + port + "/sima: ", 0),
      0u)
      << s.error().message;
  EXPECT_EQ(s.error().message.find(kPassword), std::string::npos);
}

TEST(PgErrors, WrongCredentialsAreAClearErrorWithoutThePassword) {
  PgStore::Options options;
  options.url = WithPassword(TestPgUrl(), kPassword);
  auto s = PgStore::Open(options, Catalog::Default());
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().kind, ErrorKind::kUnavailable);
  EXPECT_NE(s.error().message.find("cannot connect to PostgreSQL at postgresql://sima@127.0.0.1:"),
            std::string::npos);
  EXPECT_NE(s.error().message.find("password authentication failed"), std::string::npos)
      << s.error().message;
  EXPECT_EQ(s.error().message.find(kPassword), std::string::npos);
}

TEST(PgErrors, HostileUrlsAreRefusedWithoutThePassword) {
  for (const std::string url : {
           "postgresql://sima:hunter2-Secret@127.0.0.1:notaport/sima",
           "postgresql://sima:hunter2-Secret@127.0.0.1/sima?sslmode=hunter2-Secret",
           "postgresql://sima:hunter2%2DSecret@127.0.0.1/sima?nosuchoption=1",
           "postgres://sima:hunter2-Secret@[::1/sima",
           "postgresql://sima@127.0.0.1/sima?password=hunter2-Secret&connect_timeout=x",
       }) {
    PgStore::Options options;
    options.url = url;
    auto s = PgStore::Open(options, Catalog::Default());
    ASSERT_FALSE(s.ok()) << url;
    EXPECT_EQ(s.error().message.find(kPassword), std::string::npos) << s.error().message;
    EXPECT_EQ(s.error().message.find("hunter2"), std::string::npos) << s.error().message;
  }
}

// A running server whose database goes away: 503 `unavailable`, then service again when it
// returns, without a restart. On a cluster of its own (it is stopped and started).
class PgOutage : public ServerTest {
 protected:
  void SetUp() override {
    // Its own folder under /tmp: the cluster runs as another user where the caller is root.
    char dir[] = "/tmp/sima-pg-outage-XXXXXX";
    ASSERT_NE(mkdtemp(dir), nullptr);
    cluster_ = dir;
    ASSERT_EQ(Cluster("start"), 0);
    std::ifstream in(cluster_ + "/url");
    std::getline(in, config_.db);
    password_ = config_.db.substr(config_.db.find(':', 14) + 1);
    password_ = password_.substr(0, password_.find('@'));
    StartServer();
  }
  void TearDown() override {
    StopServer();
    Cluster("stop");
  }
  int Cluster(const std::string& command) {
    const std::string cmd = PgClusterScript() + " " + command + " '" + cluster_ + "' >/dev/null";
    return std::system(cmd.c_str());
  }
  std::string cluster_;
  std::string password_;
};

TEST_F(PgOutage, AnswersUnavailableWhileTheDatabaseIsDownAndRecoversWhenItReturns) {
  const std::string key = NewKey();
  EXPECT_EQ(Post("/invoices/", key, {{"amount_paisa", 100}}).status, 201);
  ASSERT_EQ(Cluster("pause"), 0);
  Response down = Post("/invoices/", key, {{"amount_paisa", 100}});
  EXPECT_EQ(down.status, 503);
  EXPECT_EQ(down.code(), "unavailable");
  EXPECT_EQ(down.raw.find(password_), std::string::npos);
  EXPECT_EQ(Get("/healthz").status, 503);
  ASSERT_EQ(Cluster("start"), 0);
  EXPECT_EQ(Get("/healthz").status, 200);
  EXPECT_EQ(Post("/invoices/", key, {{"amount_paisa", 100}}).status, 201);
  EXPECT_EQ(Used(key, "invoices"), 2);
}

}  // namespace
}  // namespace sima::server::testing
