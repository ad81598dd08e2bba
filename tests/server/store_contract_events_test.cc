// What live usage events read and how instances tell each other (store.h: PeekUsage,
// AnnounceChange, WatchChanges), in every store. PeekUsage is what the events show, so it must
// be ReadUsage's state without the call ReadUsage counts. Instances on one PostgreSQL database
// hear each other's announcements (NOTIFY), never their own, and keep hearing them after their
// listening connection is killed.
#include <gtest/gtest.h>

#include <chrono>
#include <functional>
#include <mutex>
#include <set>
#include <thread>

#include "pg_store.h"
#include "store_contract.h"

namespace sima::server::testing {
namespace {

using namespace std::chrono_literals;

// The organizations a store's watcher heard, in a form a test can wait on.
struct Heard {
  std::mutex mu;
  std::set<std::string> orgs;
  std::function<void(const std::string&)> Hook() {
    return [this](const std::string& org) {
      std::lock_guard lock(mu);
      orgs.insert(org);
    };
  }
  bool Has(const std::string& org) {
    std::lock_guard lock(mu);
    return orgs.count(org) != 0;
  }
};

// Waits (up to 20 s, a bound for a loaded machine, not a measured time) until `done`.
bool WaitFor(const std::function<bool()>& done) {
  const auto until = std::chrono::steady_clock::now() + 20s;
  while (!done()) {
    if (std::chrono::steady_clock::now() > until) return false;
    std::this_thread::sleep_for(5ms);
  }
  return true;
}

constexpr const char* kOneInstance = "one SQLite file has one instance: nothing to announce";

class StoreEvents : public StoreContract {
 protected:
  void Announce(Store& store, const std::string& org) {
    auto r = store.AnnounceChange(org);
    ASSERT_TRUE(r.ok()) << r.error().message;
  }
};

INSTANTIATE_TEST_SUITE_P(Stores, StoreEvents,
                         ::testing::Values(StoreKind::kSqlite, StoreKind::kPostgres), StoreName);

TEST_P(StoreEvents, PeekUsageIsReadUsagesStateAndCountsNoCall) {
  const std::string org = NewOrgId("PRO");
  ASSERT_TRUE(store_->CreateInvoice(org, Inv(), now_).ok());
  ASSERT_TRUE(
      store_->CreateCustomer(org, {NewId("cus").value(), "C", "c@x.test", now_}, now_).ok());
  const Override twelve{"invoices", Limit::Of(12), std::nullopt, std::nullopt};
  ASSERT_TRUE(store_->SetOverride(org, twelve, "deal", now_).ok());

  auto read = store_->ReadUsage(org, now_);  // counts itself: api_calls includes this read
  ASSERT_TRUE(read.ok()) << read.error().message;
  auto peek = store_->PeekUsage(org, now_);
  ASSERT_TRUE(peek.ok()) << peek.error().message;
  EXPECT_EQ(peek->subscription.plan, read->subscription.plan);
  EXPECT_EQ(peek->subscription.start, read->subscription.start);
  EXPECT_EQ(peek->subscription.end, read->subscription.end);
  EXPECT_EQ(peek->period.start, read->period.start);
  EXPECT_EQ(peek->period.end, read->period.end);
  EXPECT_EQ(peek->usage, read->usage);
  EXPECT_EQ(peek->overrides, read->overrides);
  EXPECT_EQ(peek->usage.at("invoices"), 1);
  EXPECT_EQ(peek->usage.at("customers"), 1);

  // Peeking again and again counts nothing: the next counted read is one more than the last.
  const int64_t calls = read->usage.at("api_calls");
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(store_->PeekUsage(org, now_).ok());
  EXPECT_EQ(store_->PeekUsage(org, now_)->usage.at("api_calls"), calls);
  EXPECT_EQ(store_->ReadUsage(org, now_)->usage.at("api_calls"), calls + 1);
}

TEST_P(StoreEvents, PeekUsageOfAnUnknownOrganizationIsNotFound) {
  auto peek = store_->PeekUsage("org_nobody", now_);
  ASSERT_FALSE(peek.ok());
  EXPECT_EQ(peek.error().kind, ErrorKind::kNotFound);
}

TEST_P(StoreEvents, AnAnnouncementIsHeardByTheOtherInstanceNotByItsOwn) {
  if (GetParam() == StoreKind::kSqlite) GTEST_SKIP() << kOneInstance;
  std::unique_ptr<Store> other = OpenStore(2);
  ASSERT_NE(other, nullptr);
  Heard here, there;
  ASSERT_TRUE(store_->WatchChanges(here.Hook()).ok());
  ASSERT_TRUE(other->WatchChanges(there.Hook()).ok());
  // Both listen once their connection has run LISTEN.
  auto* pg_here = dynamic_cast<PgStore*>(store_.get());
  auto* pg_there = dynamic_cast<PgStore*>(other.get());
  ASSERT_TRUE(WaitFor([&] { return pg_here->watcher_backend_pid() != 0; }));
  ASSERT_TRUE(WaitFor([&] { return pg_there->watcher_backend_pid() != 0; }));

  const std::string org = NewOrgId();
  Announce(*other, org);
  ASSERT_TRUE(WaitFor([&] { return here.Has(org); }));
  // Notifications arrive in commit order: once `other` hears a later announcement of
  // store_'s, it would already have heard its own if it heard them at all.
  const std::string later = NewOrgId();
  Announce(*store_, later);
  ASSERT_TRUE(WaitFor([&] { return there.Has(later); }));
  EXPECT_FALSE(there.Has(org));
  EXPECT_FALSE(here.Has(later));
}

TEST_P(StoreEvents, TheWatcherComesBackAfterItsBackendIsTerminated) {
  if (GetParam() == StoreKind::kSqlite) GTEST_SKIP() << kOneInstance;
  std::unique_ptr<Store> other = OpenStore(2);
  ASSERT_NE(other, nullptr);
  Heard here;
  ASSERT_TRUE(store_->WatchChanges(here.Hook()).ok());
  auto* pg_here = dynamic_cast<PgStore*>(store_.get());
  ASSERT_TRUE(WaitFor([&] { return pg_here->watcher_backend_pid() != 0; }));
  const int first = pg_here->watcher_backend_pid();

  EXPECT_EQ(
      Count("SELECT COUNT(*) FROM (SELECT pg_terminate_backend(" + std::to_string(first) + ")) t"),
      1);
  ASSERT_TRUE(WaitFor([&] {
    const int pid = pg_here->watcher_backend_pid();
    return pid != 0 && pid != first;
  })) << "the watcher did not reconnect";

  const std::string org = NewOrgId();
  Announce(*other, org);
  EXPECT_TRUE(WaitFor([&] { return here.Has(org); }));
}

TEST_P(StoreEvents, AStoreTakesOneWatcher) {
  if (GetParam() == StoreKind::kSqlite) GTEST_SKIP() << kOneInstance;
  Heard here;
  ASSERT_TRUE(store_->WatchChanges(here.Hook()).ok());
  auto again = store_->WatchChanges(here.Hook());
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.error().kind, ErrorKind::kInternal);
}

}  // namespace
}  // namespace sima::server::testing
