// The store contract (store.h) against every store: SQLite and PostgreSQL (store_contract.h).
// Concurrent tests spread their callers over three stores on one database, as three
// sima-server instances would be.
#include "store_contract.h"

#include <gtest/gtest.h>

#include <atomic>
#include <set>
#include <thread>

#include "auth.h"

namespace sima::server::testing {
namespace {

INSTANTIATE_TEST_SUITE_P(Stores, StoreContract,
                         ::testing::Values(StoreKind::kSqlite, StoreKind::kPostgres), StoreName);

TEST_P(StoreContract, SecretKeysResolveUntilRevoked) {
  const std::string org = NewOrgId();
  auto c = store_->FindSecretKey(Sha256Hex(org));
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->org_id, org);
  ASSERT_TRUE(store_->RevokeSecretKey(Sha256Hex(org), now_).ok());
  EXPECT_EQ(store_->FindSecretKey(Sha256Hex(org)).error().kind, ErrorKind::kUnauthorized);
  EXPECT_EQ(store_->RevokeSecretKey(Sha256Hex(org), now_).error().kind, ErrorKind::kNotFound);
}

TEST_P(StoreContract, SessionsExpire) {
  const std::string org = NewOrgId();
  ASSERT_TRUE(store_->CreateSession(org, "key_x", "h", now_ + std::chrono::seconds{10}, now_).ok());
  EXPECT_TRUE(store_->FindSession("h", now_ + std::chrono::seconds{9}).ok());
  EXPECT_FALSE(store_->FindSession("h", now_ + std::chrono::seconds{10}).ok());
}

TEST_P(StoreContract, CreateInvoiceRefusesTheEleventhOnFree) {
  const std::string org = NewOrgId();
  for (int i = 0; i < 10; ++i) ASSERT_TRUE(store_->CreateInvoice(org, Inv(), now_).ok());
  auto r = store_->CreateInvoice(org, Inv(), now_);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().kind, ErrorKind::kLimitReached);
  EXPECT_EQ(r.error().extra["current"], 10);
  auto usage = store_->ReadUsage(org, now_);
  EXPECT_EQ(usage->usage.at("invoices"), 10);
  EXPECT_EQ(usage->usage.at("api_calls"), 11);  // 10 creates + the read
}

TEST_P(StoreContract, UnknownOrganizationIsNotFound) {
  EXPECT_EQ(store_->CreateInvoice("org_missing", Inv(), now_).error().kind, ErrorKind::kNotFound);
  EXPECT_EQ(store_->ReadUsage("org_missing", now_).error().kind, ErrorKind::kNotFound);
}

TEST_P(StoreContract, RecordUsageReplaysByKey) {
  const std::string org = NewOrgId();
  auto a = store_->RecordUsage(org, {"customers", 2, "k1"}, now_);
  ASSERT_TRUE(a.ok());
  EXPECT_FALSE(a->replayed);
  auto b = store_->RecordUsage(org, {"customers", 2, "k1"}, now_);
  ASSERT_TRUE(b.ok());
  EXPECT_TRUE(b->replayed);
  EXPECT_EQ(b->used, 2);
  EXPECT_EQ(store_->RecordUsage(org, {"nope", 1, std::nullopt}, now_).error().kind,
            ErrorKind::kNotFound);
}

TEST_P(StoreContract, DataSurvivesReopening) {
  const std::string org = NewOrgId("PRO");
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(store_->CreateInvoice(org, Inv(), now_).ok());
  Reopen();
  EXPECT_EQ(store_->ListInvoices(org, {100, std::nullopt}, now_)->items.size(), 3u);
  EXPECT_EQ(store_->ReadUsage(org, now_)->subscription.plan, "PRO");
}

// Runs `call(store, i)` for i in [0, n) on n threads spread over three stores on this database.
template <typename F>
void OverThreeInstances(std::unique_ptr<Store>& first, int n, F call, std::unique_ptr<Store> second,
                        std::unique_ptr<Store> third) {
  Store* stores[] = {first.get(), second.get(), third.get()};
  std::vector<std::thread> threads;
  for (int i = 0; i < n; ++i) threads.emplace_back([&, i] { call(*stores[i % 3], i); });
  for (auto& t : threads) t.join();
}

TEST_P(StoreContract, ThreeHundredConcurrentCreatesOnFreeMakeExactlyTen) {
  const std::string org = NewOrgId();
  std::atomic<int> created{0}, refused{0}, other{0};
  OverThreeInstances(
      store_, 300,
      [&](Store& store, int) {
        auto r = store.CreateInvoice(org, Inv(), now_);
        if (r.ok()) {
          ++created;
        } else if (r.error().kind == ErrorKind::kLimitReached) {
          ++refused;
        } else {
          ++other;
          ADD_FAILURE() << r.error().message;
        }
      },
      OpenStore(), OpenStore());
  EXPECT_EQ(created.load(), 10);
  EXPECT_EQ(refused.load(), 290);
  EXPECT_EQ(Count("SELECT COUNT(*) FROM invoices"), 10);
  auto usage = store_->ReadUsage(org, now_);
  ASSERT_TRUE(usage.ok());
  EXPECT_EQ(usage->usage.at("invoices"), 10);
  EXPECT_EQ(usage->usage.at("api_calls"), 11);  // refusals change nothing; + this read
}

TEST_P(StoreContract, CountersEqualRowsOnProUnderConcurrentCreates) {
  const std::string org = NewOrgId("PRO");
  std::atomic<int> created{0};
  OverThreeInstances(
      store_, 150,
      [&](Store& store, int i) {
        const bool ok =
            i % 2 ? store.CreateInvoice(org, Inv(), now_).ok()
                  : store.CreateCustomer(org, {NewId("cus").value(), "C", "c@x.test", now_}, now_)
                        .ok();
        if (ok) ++created;
      },
      OpenStore(), OpenStore());
  EXPECT_EQ(created.load(), 150);
  auto usage = store_->ReadUsage(org, now_);
  ASSERT_TRUE(usage.ok());
  EXPECT_EQ(usage->usage.at("invoices"), Count("SELECT COUNT(*) FROM invoices"));
  EXPECT_EQ(usage->usage.at("customers"), Count("SELECT COUNT(*) FROM customers"));
  EXPECT_EQ(usage->usage.at("invoices") + usage->usage.at("customers"), 150);
  EXPECT_EQ(usage->usage.at("api_calls"), 151);
}

TEST_P(StoreContract, AnIdempotencyKeyCountsOnceAcrossInstances) {
  const std::string org = NewOrgId("BASIC");
  std::atomic<int> fresh{0}, replayed{0};
  std::mutex mu;
  std::set<int64_t> answers;
  OverThreeInstances(
      store_, 30,
      [&](Store& store, int) {
        auto r = store.RecordUsage(org, {"customers", 3, "same-key"}, now_);
        ASSERT_TRUE(r.ok()) << r.error().message;
        (r->replayed ? replayed : fresh)++;
        std::lock_guard lock(mu);
        answers.insert(r->used);
      },
      OpenStore(), OpenStore());
  EXPECT_EQ(fresh.load(), 1);
  EXPECT_EQ(replayed.load(), 29);
  EXPECT_EQ(answers, std::set<int64_t>{3});
  EXPECT_EQ(store_->ReadUsage(org, now_)->usage.at("customers"), 3);
}

TEST_P(StoreContract, TeamMemberEmailsAreUniqueWithoutCase) {
  const std::string org = NewOrgId("PRO");
  ASSERT_TRUE(
      store_->CreateTeamMember(org, {NewId("tm").value(), "Ann@X.test", "Ann", now_}, now_).ok());
  auto again =
      store_->CreateTeamMember(org, {NewId("tm").value(), "ann@x.TEST", "Ann", now_}, now_);
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.error().kind, ErrorKind::kConflict);
  EXPECT_EQ(store_->ReadUsage(org, now_)->usage.at("team_members"), 1);
}

TEST_P(StoreContract, ListsPageNewestFirstWithoutRepeats) {
  const std::string org = NewOrgId("PRO");
  std::vector<std::string> ids;
  for (int i = 0; i < 7; ++i) {
    Invoice inv = Inv();
    ids.push_back(inv.id);
    ASSERT_TRUE(store_->CreateInvoice(org, inv, now_ + std::chrono::seconds{i / 2}).ok());
  }
  std::vector<std::string> seen;
  PageRequest page{3, std::nullopt};
  for (;;) {
    auto p = store_->ListInvoices(org, page, now_ + std::chrono::seconds{10});
    ASSERT_TRUE(p.ok()) << p.error().message;
    for (const Invoice& inv : p->items) seen.push_back(inv.id);
    if (!p->next) break;
    page.after = p->next;
  }
  std::reverse(ids.begin(), ids.end());
  EXPECT_EQ(seen, ids);
  EXPECT_EQ(store_->GetInvoice(NewOrgId(), ids[0], now_).error().kind, ErrorKind::kNotFound);
}

TEST_P(StoreContract, ReadsAndWritesAnswerHealthChecks) { EXPECT_TRUE(store_->CheckHealth().ok()); }

}  // namespace
}  // namespace sima::server::testing
