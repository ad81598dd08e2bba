// Usage threshold alerts in every store (store.h UsageAlert): a count going up records each
// threshold it reaches once per organization, feature, period and threshold, and with each new
// one writes one usage.threshold_crossed event and, when there is a billing e-mail, one e-mail
// in the outbox — in the same transaction, whichever calls race.
#include <gtest/gtest.h>

#include <atomic>
#include <thread>
#include <vector>

#include "clock.h"
#include "sima/json.h"
#include "store_contract.h"

namespace sima::server::testing {
namespace {

class StoreAlerts : public StoreContract {
 protected:
  int64_t Alerts(const std::string& org, const std::string& where = "true") {
    return Count("SELECT COUNT(*) FROM usage_alerts WHERE org_id = '" + org + "' AND " + where);
  }
  int64_t Events(const std::string& org) {
    return Count("SELECT COUNT(*) FROM webhook_events WHERE org_id = '" + org +
                 "' AND type = 'usage.threshold_crossed'");
  }
  int64_t Emails(const std::string& org) {
    return Count("SELECT COUNT(*) FROM outbox WHERE org_id = '" + org +
                 "' AND message_id LIKE 'usage-%'");
  }
  void Invoices(const std::string& org, int n, Time at) {
    for (int i = 0; i < n; ++i) {
      auto r = store_->CreateInvoice(org, Inv(), at);
      ASSERT_TRUE(r.ok()) << r.error().message;
    }
  }
};

INSTANTIATE_TEST_SUITE_P(Stores, StoreAlerts,
                         ::testing::Values(StoreKind::kSqlite, StoreKind::kPostgres), StoreName);

TEST_P(StoreAlerts, EightyThenHundredAlertOnceEachPerPeriod) {
  const std::string org = NewOrgId("FREE");  // 10 invoices a period, hard
  Invoices(org, 7, now_);
  EXPECT_EQ(Alerts(org), 0);
  EXPECT_EQ(Events(org), 0);
  EXPECT_EQ(Emails(org), 0);

  Invoices(org, 1, now_);  // 8/10
  EXPECT_EQ(Alerts(org, "threshold = '80' AND used = 8 AND limit_value = 10"), 1);
  EXPECT_EQ(Events(org), 1);
  EXPECT_EQ(Emails(org), 1);
  const Json data = ParseJson(
      Text("SELECT data FROM webhook_events WHERE org_id = '" + org + "' ORDER BY seq LIMIT 1"));
  ASSERT_TRUE(data.is_object()) << data;
  EXPECT_EQ(data["usage"]["feature"], "invoices");
  EXPECT_EQ(data["usage"]["kind"], "metered");
  EXPECT_EQ(data["usage"]["threshold"], "80");
  EXPECT_EQ(data["usage"]["used"], 8);
  EXPECT_EQ(data["usage"]["limit"], 10);
  EXPECT_EQ(data["usage"]["plan"], "FREE");
  EXPECT_EQ(data["usage"]["period"]["start"], FormatTime(now_));
  EXPECT_EQ(data["usage"]["period"]["end"], FormatTime(now_ + Days{30}));
  EXPECT_EQ(data["subscription"]["plan"], "FREE");
  const std::string subject = Text("SELECT subject FROM outbox WHERE org_id = '" + org + "'");
  EXPECT_NE(subject.find("80% of its Invoices"), std::string::npos) << subject;
  EXPECT_EQ(Text("SELECT message_id FROM outbox WHERE org_id = '" + org + "'"),
            "usage-" + org + "-invoices-" + std::to_string(ToUnixSeconds(now_)) + "-80");

  Invoices(org, 1, now_);  // 9/10: still 80 %, nothing new
  EXPECT_EQ(Alerts(org), 1);
  EXPECT_EQ(Events(org), 1);
  EXPECT_EQ(Emails(org), 1);

  Invoices(org, 1, now_);  // 10/10
  EXPECT_EQ(Alerts(org, "threshold = '100' AND used = 10"), 1);
  EXPECT_EQ(Alerts(org), 2);
  EXPECT_EQ(Events(org), 2);
  EXPECT_EQ(Emails(org), 2);
  EXPECT_EQ(store_->CreateInvoice(org, Inv(), now_).error().kind, ErrorKind::kLimitReached);
  EXPECT_EQ(Alerts(org), 2);

  // The next period counts from zero and alerts again.
  const Time next = now_ + Days{30};
  Invoices(org, 8, next);
  EXPECT_EQ(Alerts(org), 3);
  EXPECT_EQ(
      Alerts(org, "threshold = '80' AND period_start = " + std::to_string(ToUnixSeconds(next))), 1);
  EXPECT_EQ(Events(org), 3);
  EXPECT_EQ(Emails(org), 3);
}

TEST_P(StoreAlerts, ASoftLimitAlertsOverOnceAndNever80Or100) {
  const std::string org = NewOrgId("FREE");  // 100 API calls a period, soft
  auto r = store_->RecordUsage(org, {"api_calls", 90, std::nullopt}, now_);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(Alerts(org), 0);
  r = store_->RecordUsage(org, {"api_calls", 50, std::nullopt}, now_);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(Alerts(org, "threshold = 'over'"), 1);
  EXPECT_EQ(Alerts(org), 1);
  for (int i = 0; i < 5; ++i) {
    ASSERT_TRUE(store_->RecordUsage(org, {"api_calls", 1, std::nullopt}, now_).ok());
  }
  EXPECT_EQ(Alerts(org), 1);
  EXPECT_EQ(Events(org), 1);
  EXPECT_EQ(Emails(org), 1);
}

TEST_P(StoreAlerts, UnlimitedFeaturesNeverAlert) {
  const std::string org = NewOrgId("PRO");  // invoices and customers unlimited
  Invoices(org, 30, now_);
  for (int i = 0; i < 12; ++i) {
    ASSERT_TRUE(
        store_->CreateCustomer(org, {NewId("cus").value(), "C", "c@x.test", now_}, now_).ok());
  }
  EXPECT_EQ(Alerts(org), 0);
  EXPECT_EQ(Events(org), 0);
  EXPECT_EQ(Emails(org), 0);
}

TEST_P(StoreAlerts, AnAllocationAlertsOncePerBillingPeriod) {
  const std::string org = NewOrgId("FREE");  // 5 customers, hard
  std::vector<std::string> ids;
  for (int i = 0; i < 5; ++i) {
    ids.push_back(NewId("cus").value());
    auto c = store_->CreateCustomer(org, {ids.back(), "C", "c@x.test", now_}, now_);
    ASSERT_TRUE(c.ok()) << c.error().message;
    EXPECT_EQ(Alerts(org), i < 3 ? 0 : i - 2) << "after " << i + 1 << " customers";
  }
  EXPECT_EQ(Alerts(org, "feature = 'customers' AND threshold = '80' AND used = 4"), 1);
  EXPECT_EQ(Alerts(org, "feature = 'customers' AND threshold = '100' AND used = 5"), 1);
  // Down and up again in the same period: nothing new.
  ASSERT_TRUE(store_->DeleteCustomer(org, ids.back(), now_).ok());
  ASSERT_TRUE(
      store_->CreateCustomer(org, {NewId("cus").value(), "C", "c@x.test", now_}, now_).ok());
  EXPECT_EQ(Alerts(org), 2);
  // The next billing period: the same count reached again alerts again.
  const Time next = now_ + Days{30};
  ASSERT_TRUE(store_->DeleteCustomer(org, ids.front(), next).ok());
  ASSERT_TRUE(
      store_->CreateCustomer(org, {NewId("cus").value(), "C", "c@x.test", next}, next).ok());
  EXPECT_EQ(Alerts(org, "period_start = " + std::to_string(ToUnixSeconds(next))), 2);
  EXPECT_EQ(Events(org), 4);
}

TEST_P(StoreAlerts, NoBillingEmailRecordsTheAlertAndItsEventOnly) {
  const std::string org = NewOrgId("FREE", std::nullopt);
  Invoices(org, 8, now_);
  EXPECT_EQ(Alerts(org), 1);
  EXPECT_EQ(Events(org), 1);
  EXPECT_EQ(Emails(org), 0);
}

TEST_P(StoreAlerts, AnOverrideIsTheLimitAlertsUse) {
  const std::string org = NewOrgId("FREE");
  const Override twenty{"invoices", Limit::Of(20), std::nullopt, std::nullopt};
  ASSERT_TRUE(store_->SetOverride(org, twenty, "deal", now_).ok());
  Invoices(org, 15, now_);
  EXPECT_EQ(Alerts(org), 0);
  Invoices(org, 1, now_);  // 16/20
  EXPECT_EQ(Alerts(org, "threshold = '80' AND used = 16 AND limit_value = 20"), 1);
}

// Threads racing past a threshold (a hard limit under the organization's lock, and a soft one
// whose PostgreSQL counters take no lock): exactly one row, one event, one e-mail each.
TEST_P(StoreAlerts, CallsRacingPastAThresholdAlertOnce) {
  const std::string org = NewOrgId("FREE");
  Invoices(org, 6, now_);
  std::vector<std::unique_ptr<Store>> stores;
  constexpr int kThreads = 8;
  // PostgreSQL: each thread another instance. SQLite: one instance per file, shared.
  if (GetParam() == StoreKind::kPostgres) {
    for (int i = 0; i < kThreads; ++i) stores.push_back(OpenStore(4));
  }
  auto store = [&](int i) -> Store& { return stores.empty() ? *store_ : *stores[i]; };
  std::atomic<int> go{0};
  std::atomic<int> created{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < kThreads; ++i) {
    threads.emplace_back([&, i] {
      go.fetch_add(1);
      while (go.load() < kThreads) std::this_thread::yield();
      if (store(i).CreateInvoice(org, Inv(), now_).ok()) created.fetch_add(1);
      for (int k = 0; k < 5; ++k) {
        (void)store(i).RecordUsage(org, {"api_calls", 7, std::nullopt}, now_);
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(created.load(), 4);  // 6 + 4 = the limit of 10
  EXPECT_EQ(Alerts(org, "feature = 'invoices' AND threshold = '80'"), 1);
  EXPECT_EQ(Alerts(org, "feature = 'invoices' AND threshold = '100'"), 1);
  EXPECT_EQ(Alerts(org, "feature = 'api_calls' AND threshold = 'over'"), 1);
  EXPECT_EQ(Alerts(org), 3);
  EXPECT_EQ(Events(org), 3);
  EXPECT_EQ(Emails(org), 3);
}

}  // namespace
}  // namespace sima::server::testing
