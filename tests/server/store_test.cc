// SqliteStore on its own: schema, migrations, pragmas and its write queue. What every store
// must do is in the contract suite (store_contract.h), run against SQLite there too.
#include <gtest/gtest.h>

#include "auth.h"
#include "migrations.h"
#include "server_fixture.h"
#include "sqlite_store.h"

namespace sima::server::testing {
namespace {

class ServerStore : public ::testing::Test {
 protected:
  void SetUp() override {
    auto s = SqliteStore::Open({path_}, Catalog::Default());
    ASSERT_TRUE(s.ok()) << s.error().message;
    store_ = std::move(s).value();
  }
  std::string NewOrgId(const std::string& plan = "FREE") {
    const std::string id = NewId("org").value();
    Subscription sub{plan, now_, std::nullopt};
    if (plan != "FREE") sub.end = now_ + Days{30};
    EXPECT_TRUE(store_->CreateOrg({id, "Acme", Sha256Hex(id), sub, now_}).ok());
    return id;
  }
  Invoice Inv() { return Invoice{NewId("inv").value(), 100, std::nullopt, "", now_}; }

  TempDir dir_;
  std::string path_ = dir_.path() + "/store.db";
  Time now_ = Time{std::chrono::seconds{1767225600}};
  std::unique_ptr<SqliteStore> store_;
};

TEST_F(ServerStore, OpensInWalWithForeignKeysAndRecordsMigrations) {
  auto db = sqlite::Db::Open(path_, true);
  ASSERT_TRUE(db.ok());
  auto mode = (*db)->Prepare("PRAGMA journal_mode");
  ASSERT_TRUE(mode.ok());
  ASSERT_TRUE((*mode)->Step().ok());
  EXPECT_EQ((*mode)->Text(0), "wal");
  EXPECT_EQ(*SchemaVersion(**db), Migrations().back().version);
  // Foreign keys: a counter for an organization that does not exist is refused.
  auto r = store_->Write<Done>(SqliteStore::Durability::kNormal, [](sqlite::Db& d) -> ExpectedDone {
    return d.Exec("INSERT INTO usage_counters VALUES ('org_none', 0, 'invoices', 1)");
  });
  EXPECT_FALSE(r.ok());
}

TEST_F(ServerStore, MigrateAppliesOnlyNewVersionsAndRefusesNewerDatabases) {
  const std::string path = dir_.path() + "/m.db";
  auto db = sqlite::Db::Open(path);
  ASSERT_TRUE(db.ok());
  const Migration v1[] = {{1, "one", "CREATE TABLE a(x)"}};
  const Migration v2[] = {{1, "one", "CREATE TABLE a(x)"}, {2, "two", "CREATE TABLE b(y)"}};
  ASSERT_TRUE(Migrate(**db, v1).ok());
  ASSERT_TRUE(Migrate(**db, v2).ok());  // would fail if 1 ran again
  EXPECT_EQ(*SchemaVersion(**db), 2);
  auto old = Migrate(**db, v1);
  ASSERT_FALSE(old.ok());
  EXPECT_NE(old.error().message.find("newer"), std::string::npos);
  const Migration bad[] = {{1, "one", ""}, {2, "two", ""}, {3, "broken", "CREATE TABLE ("}};
  auto failed = Migrate(**db, bad);
  ASSERT_FALSE(failed.ok());
  EXPECT_NE(failed.error().message.find("migration 3 (broken)"), std::string::npos);
  EXPECT_EQ(*SchemaVersion(**db), 2);
}

// A database from before feature kinds: its organizations keep their customers and team
// members as live counts, whatever period the old counters were in.
TEST_F(ServerStore, AnOlderDatabaseKeepsItsCustomersAndMembersAsAllocations) {
  const std::string path = dir_.path() + "/old.db";
  const std::string org = "org_00000000000000000001";
  {
    auto db = sqlite::Db::Open(path);
    ASSERT_TRUE(db.ok());
    ASSERT_TRUE(Migrate(**db, Migrations().first(4)).ok());
    ASSERT_TRUE(
        (*db)
            ->Run("INSERT INTO organizations(id, name, created_at) VALUES (?, 'Old', ?)", org, now_)
            .ok());
    ASSERT_TRUE((*db)
                    ->Run("INSERT INTO subscriptions(org_id, plan, start_at, updated_at) "
                          "VALUES (?, 'FREE', ?, ?)",
                          org, now_, now_)
                    .ok());
    for (const char* id : {"cus_1", "cus_2", "cus_3"}) {
      ASSERT_TRUE((*db)
                      ->Run("INSERT INTO customers(id, org_id, name, email, created_at) "
                            "VALUES (?, ?, 'C', 'c@x.test', ?)",
                            id, org, now_)
                      .ok());
    }
    ASSERT_TRUE((*db)
                    ->Run("INSERT INTO team_members(id, org_id, email, email_key, name, "
                          "created_at) VALUES ('tm_1', ?, 'a@x.test', 'a@x.test', 'A', ?)",
                          org, now_)
                    .ok());
    // Counted two periods ago: an allocation is not tied to a period.
    ASSERT_TRUE(
        (*db)
            ->Run("INSERT INTO usage_counters VALUES (?, ?, 'customers', 3)", org, now_ - Days{60})
            .ok());
  }
  auto opened = SqliteStore::Open({path}, Catalog::Default());
  ASSERT_TRUE(opened.ok()) << opened.error().message;
  SqliteStore& store = **opened;
  auto usage = store.ReadUsage(org, now_);
  ASSERT_TRUE(usage.ok()) << usage.error().message;
  EXPECT_EQ(usage->usage.at("customers"), 3);
  EXPECT_EQ(usage->usage.at("team_members"), 1);
  EXPECT_EQ(store.CreateTeamMember(org, {"tm_2", "b@x.test", "B", now_}, now_).error().kind,
            ErrorKind::kLimitReached);  // FREE allows 1
  ASSERT_TRUE(store.DeleteCustomer(org, "cus_1", now_).ok());
  EXPECT_EQ(store.ReadUsage(org, now_)->usage.at("customers"), 2);
  EXPECT_EQ(store.ListCustomers(org, {100, std::nullopt}, now_)->items.size(), 2u);
}

// A database from before the lifecycle (migration 5): a paid organization keeps what its
// subscription meant, a paid period that renews (no trial, no cancel, no next plan), and its
// payments read with no breakdown.
TEST_F(ServerStore, AnOlderDatabaseKeepsItsPaidSubscriptionsMeaning) {
  const std::string path = dir_.path() + "/v5.db";
  const std::string org = "org_00000000000000000005";
  const Time end = now_ + Days{30};
  {
    auto db = sqlite::Db::Open(path);
    ASSERT_TRUE(db.ok());
    ASSERT_TRUE(Migrate(**db, Migrations().first(5)).ok());
    ASSERT_TRUE((*db)
                    ->Run("INSERT INTO organizations(id, name, created_at, billing_email) "
                          "VALUES (?, 'Old', ?, 'old@x.test')",
                          org, now_)
                    .ok());
    ASSERT_TRUE((*db)
                    ->Run("INSERT INTO subscriptions(org_id, plan, start_at, end_at, updated_at) "
                          "VALUES (?, 'PRO', ?, ?, ?)",
                          org, now_, end, now_)
                    .ok());
    ASSERT_TRUE((*db)
                    ->Run("INSERT INTO payments(org_id, provider, plan, amount_paisa, status, "
                          "purchase_order_id, created_at, updated_at, ref) VALUES "
                          "(?, 'KHALTI', 'PRO', 390000, 'SUCCESS', 'pay_1_x', ?, ?, 'pay_old')",
                          org, now_, now_)
                    .ok());
  }
  auto opened = SqliteStore::Open({path}, Catalog::Default());
  ASSERT_TRUE(opened.ok()) << opened.error().message;
  SqliteStore& store = **opened;
  auto sub = store.GetSubscription(org, now_);
  ASSERT_TRUE(sub.ok()) << sub.error().message;
  EXPECT_EQ(*sub, (Subscription{"PRO", now_, end}));
  EXPECT_FALSE(sub->trial);
  EXPECT_FALSE(sub->cancel_at_period_end);
  EXPECT_EQ(sub->next_plan, std::nullopt);
  // It renews: reminders before the end, grace after it.
  EXPECT_EQ(store.ReminderCandidates(end - Days{1}, "", 10).value(), std::vector<std::string>{org});
  EXPECT_EQ(store.RecordUsage(org, {"invoices", 1, std::nullopt}, end + Days{1})->plan, "PRO");
  auto reminded = store.SendDueReminder(
      org, end + Days{1},
      [](const std::string&, const std::string& to, const Subscription&, const Reminder& r) {
        return ReminderMail{to, r.key, ""};
      });
  ASSERT_TRUE(reminded.ok() && reminded->has_value());
  EXPECT_EQ((*reminded)->reminder.kind, ReminderKind::kGraceStarted);
  auto payment = store.FindPaymentByRef("pay_old");
  ASSERT_TRUE(payment.ok());
  EXPECT_EQ(payment->amount_paisa, 390000);
  EXPECT_TRUE(payment->breakdown.empty());
}

// ReminderCandidates reads only its partial index, in org id order: no FREE or canceled
// subscription is visited and no page is sorted.
TEST_F(ServerStore, ReminderCandidatesWalkTheirIndexWithoutSorting) {
  auto db = sqlite::Db::Open(path_, true);
  ASSERT_TRUE(db.ok());
  auto plan = (*db)->All("EXPLAIN QUERY PLAN " + std::string(SqliteStore::kReminderCandidatesSql),
                         "", now_, now_, 10);
  ASSERT_TRUE(plan.ok()) << plan.error().message;
  std::string steps;
  for (const sqlite::Row& r : *plan) steps += r.Text(3) + "\n";
  EXPECT_NE(steps.find("subscriptions_reminders"), std::string::npos) << steps;
  EXPECT_EQ(steps.find("TEMP B-TREE"), std::string::npos) << steps;
}

TEST_F(ServerStore, WriteRollsBackOnError) {
  const std::string org = NewOrgId();
  auto r = store_->Write<Done>(SqliteStore::Durability::kFull, [&](sqlite::Db& db) -> ExpectedDone {
    auto state = store_->LoadUsage(db, org, now_);
    if (!state) return state.error();
    if (auto c = store_->Count(db, org, state.value(), "invoices", 5); !c) return c;
    return Error::Conflict("changed my mind");
  });
  EXPECT_EQ(r.error().kind, ErrorKind::kConflict);
  EXPECT_EQ(store_->ReadUsage(org, now_)->usage.count("invoices"), 0u);
}

}  // namespace
}  // namespace sima::server::testing

namespace sima::server::testing {
namespace {

TEST_F(ServerStore, ConcurrentWritesShareCommitsButFailAlone) {
  const std::string org = NewOrgId("PRO");
  std::vector<std::thread> threads;
  std::atomic<int> ok{0}, failed{0};
  for (int i = 0; i < 64; ++i) {
    threads.emplace_back([&, i] {
      auto r = store_->Write<Done>(
          SqliteStore::Durability::kNormal, [&](sqlite::Db& db) -> ExpectedDone {
            auto state = store_->LoadUsage(db, org, now_);
            if (!state) return state.error();
            if (auto c = store_->Count(db, org, state.value(), "customers", 1); !c) return c;
            if (i % 2 == 1) return Error::Conflict("odd ones change their mind");
            return Done{};
          });
      (r.ok() ? ok : failed)++;
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(ok.load(), 32);
  EXPECT_EQ(failed.load(), 32);
  EXPECT_EQ(store_->ReadUsage(org, now_)->usage.at("customers"), 32);
}

TEST_F(ServerStore, FullDurabilityWriteCommits) {
  const std::string org = NewOrgId();
  auto r = store_->Write<int>(SqliteStore::Durability::kFull, [&](sqlite::Db& db) -> Expected<int> {
    auto state = store_->LoadUsage(db, org, now_);
    if (!state) return state.error();
    if (auto c = store_->Count(db, org, state.value(), "invoices", 2); !c) return c.error();
    return 7;
  });
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(*r, 7);
  EXPECT_EQ(store_->ReadUsage(org, now_)->usage.at("invoices"), 2);
}

}  // namespace
}  // namespace sima::server::testing

namespace sima::server::testing {
namespace {

// The shape payments will use: one kFull transaction that activates with sdk/ and saves.
TEST_F(ServerStore, ActivationInOneTransactionResetsUsage) {
  const std::string org = NewOrgId();
  for (int i = 0; i < 10; ++i) ASSERT_TRUE(store_->CreateInvoice(org, Inv(), now_).ok());
  const Time later = now_ + Days{3};
  auto r = store_->Write<Subscription>(
      SqliteStore::Durability::kFull, [&](sqlite::Db& db) -> Expected<Subscription> {
        auto state = store_->LoadUsage(db, org, later);
        if (!state) return state.error();
        auto activation =
            ActivateWithGrace(Catalog::Default(), state->subscription, "BASIC", later);
        if (!activation) return Error::FromStatus(activation.status());
        if (auto s = store_->SaveSubscription(db, org, activation->subscription, later); !s) {
          return s.error();
        }
        return activation->subscription;
      });
  ASSERT_TRUE(r.ok()) << r.error().message;
  auto usage = store_->ReadUsage(org, later);
  EXPECT_EQ(usage->subscription.plan, "BASIC");
  EXPECT_EQ(usage->period.start, later);
  EXPECT_EQ(usage->usage.count("invoices"), 0u);
  EXPECT_TRUE(store_->CreateInvoice(org, Inv(), later).ok());
}

}  // namespace
}  // namespace sima::server::testing
