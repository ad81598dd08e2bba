// MigrateStore (migrate_store.h) on the store level: what a SQLite store holds about feature
// kinds and overrides (allocations, soft-deleted customers, overrides and their history, the
// override a metering answer remembers) and about the subscription's lifecycle (trials,
// scheduled changes, a payment's quote lines, the reminders already sent, the pay-link secret)
// and about webhooks (endpoints, events, deliveries, the delivery log) reads the same from
// PostgreSQL after the copy.
#include "migrate_store.h"

#include <gtest/gtest.h>

#include <map>

#include "auth.h"
#include "pg.h"
#include "pg_store.h"
#include "pg_test_cluster.h"
#include "server_fixture.h"
#include "sqlite_store.h"

namespace sima::server::testing {
namespace {

class ServerMigrateStore : public ::testing::Test {
 protected:
  void TearDown() override { DropTestSchema(schema_); }

  std::unique_ptr<Store> OpenSqlite() {
    auto s = SqliteStore::Open({path_}, Catalog::Default());
    EXPECT_TRUE(s.ok()) << s.error().message;
    return s ? std::move(s).value() : nullptr;
  }
  std::unique_ptr<Store> OpenPg() {
    PgStore::Options options;
    options.url = TestPgUrl();
    options.schema = schema_;
    options.pool_size = 2;
    auto s = PgStore::Open(options, Catalog::Default());
    EXPECT_TRUE(s.ok()) << s.error().message;
    return s ? std::move(s).value() : nullptr;
  }
  // The test cluster's URL with this test's (created) schema first on the search path.
  std::string TargetUrl() {
    auto info = pg::ConnInfo::Parse(TestPgUrl());
    EXPECT_TRUE(info.ok());
    auto conn = pg::Conn::Open(*info);
    EXPECT_TRUE(conn.ok()) << conn.error().message;
    EXPECT_TRUE((*conn)->Script("CREATE SCHEMA " + schema_).ok());
    const std::string& url = TestPgUrl();
    return url + (url.find('?') == std::string::npos ? "?" : "&") + "options=-csearch_path%3D" +
           schema_;
  }

  TempDir dir_;
  std::string path_ = dir_.path() + "/sima.db";
  std::string schema_ = NewTestSchema();
  Time now_ = Time{std::chrono::seconds{1767225600}};
};

TEST_F(ServerMigrateStore, AllocationsDeletesAndOverridesReadTheSameFromPostgres) {
  const std::string org = NewId("org").value();
  const Customer gone{NewId("cus").value(), "Gone", "g@x.test", now_};
  const Customer kept{NewId("cus").value(), "Kept", "k@x.test", now_};
  const Invoice inv{NewId("inv").value(), 100, gone.id, "", now_};
  const Override deal{"invoices", Limit::Of(12), "FREE", now_ + Days{90}};
  {
    auto store = OpenSqlite();
    ASSERT_NE(store, nullptr);
    ASSERT_TRUE(store
                    ->CreateOrg({org, "Acme", Sha256Hex(org),
                                 Subscription{"FREE", now_, std::nullopt}, now_, std::nullopt})
                    .ok());
    ASSERT_TRUE(store->CreateCustomer(org, gone, now_).ok());
    ASSERT_TRUE(store->CreateCustomer(org, kept, now_).ok());
    ASSERT_TRUE(store->CreateInvoice(org, inv, now_).ok());
    ASSERT_TRUE(store->DeleteCustomer(org, gone.id, now_).ok());
    ASSERT_TRUE(
        store->CreateTeamMember(org, {NewId("tm").value(), "a@x.test", "A", now_}, now_).ok());
    ASSERT_TRUE(store
                    ->SetOverride(org, {"invoices", Limit::Of(11), std::nullopt, std::nullopt},
                                  "first offer", now_)
                    .ok());
    ASSERT_TRUE(store->SetOverride(org, deal, "deal #42", now_).ok());
    ASSERT_TRUE(
        store
            ->SetOverride(org, {"custom_branding", Limit::Switch(true), std::nullopt, std::nullopt},
                          "trial", now_)
            .ok());
    ASSERT_TRUE(store->ClearOverride(org, "custom_branding", "trial over", now_).ok());
    ASSERT_TRUE(store->RecordUsage(org, {"invoices", 2, "k1"}, now_).ok());
  }

  auto copied = MigrateStore(path_, TargetUrl());
  ASSERT_TRUE(copied.ok()) << copied.error().message;
  std::map<std::string, int64_t> rows(copied->tables.begin(), copied->tables.end());
  EXPECT_EQ(rows["allocations"], 2);  // customers, team_members
  EXPECT_EQ(rows["overrides"], 1);
  EXPECT_EQ(rows["override_changes"], 4);

  auto sqlite = OpenSqlite();
  auto pg = OpenPg();
  ASSERT_NE(sqlite, nullptr);
  ASSERT_NE(pg, nullptr);
  // The same calls on both stores give the same answers.
  for (Store* store : {sqlite.get(), pg.get()}) {
    SCOPED_TRACE(store == pg.get() ? "postgres" : "sqlite");
    auto overrides = store->ListOverrides(org);
    ASSERT_TRUE(overrides.ok()) << overrides.error().message;
    ASSERT_EQ(overrides->overrides.size(), 1u);
    EXPECT_EQ(overrides->overrides[0].value, deal);
    EXPECT_EQ(overrides->overrides[0].reason, "deal #42");
    ASSERT_EQ(overrides->history.size(), 4u);
    EXPECT_EQ(overrides->history[0].after, std::nullopt);
    EXPECT_EQ(overrides->history[0].reason, "trial over");
    EXPECT_EQ(overrides->history[2].after, deal);
    EXPECT_EQ(overrides->history[3].before, std::nullopt);

    auto usage = store->ReadUsage(org, now_);
    ASSERT_TRUE(usage.ok()) << usage.error().message;
    EXPECT_EQ(usage->usage.at("customers"), 1);
    EXPECT_EQ(usage->usage.at("team_members"), 1);
    EXPECT_EQ(usage->usage.at("invoices"), 3);
    EXPECT_EQ(usage->overrides, Overrides{deal});

    EXPECT_EQ(store->GetCustomer(org, gone.id, now_).error().kind, ErrorKind::kNotFound);
    EXPECT_EQ(store->GetInvoice(org, inv.id, now_)->customer_id, gone.id);
    auto customers = store->ListCustomers(org, {100, std::nullopt}, now_);
    ASSERT_EQ(customers->items.size(), 1u);
    EXPECT_EQ(customers->items[0].id, kept.id);

    auto replayed = store->RecordUsage(org, {"invoices", 2, "k1"}, now_);
    ASSERT_TRUE(replayed.ok()) << replayed.error().message;
    EXPECT_TRUE(replayed->replayed);
    EXPECT_EQ(replayed->used, 3);
    EXPECT_EQ(replayed->override, deal);
    EXPECT_EQ(replayed->limit, Limit::Of(12));
  }
}

TEST_F(ServerMigrateStore, TheLifecycleReadsTheSameFromPostgresAndNoReminderIsSentTwice) {
  auto new_org = [&](Store& store, const std::string& plan) {
    const std::string id = NewId("org").value();
    Subscription sub{plan, now_, std::nullopt};
    if (plan != "FREE") sub.end = now_ + Days{30};
    EXPECT_TRUE(store.CreateOrg({id, "Acme", Sha256Hex(id), sub, now_, "owner@acme.test"}).ok());
    return id;
  };
  auto mail = [](const std::string&, const std::string& to, const Subscription&,
                 const Reminder& r) {
    return ReminderMail{to, r.key, "pay"};
  };
  const Time notice = now_ + Days{23};  // the 7-day renewal notice of a period ending at +30
  std::string trial, switched, canceled, renewing, upgrading;
  Payment upgrade;
  std::map<std::string, Subscription> subscriptions;
  {
    auto store = OpenSqlite();
    ASSERT_NE(store, nullptr);
    trial = new_org(*store, "FREE");
    switched = new_org(*store, "PRO");
    canceled = new_org(*store, "PRO");
    renewing = new_org(*store, "PRO");
    upgrading = new_org(*store, "BASIC");
    ASSERT_TRUE(store->GrantTrial(trial, "PRO", 7, now_).ok());
    ASSERT_TRUE(store->ChangeSubscription(switched, ChangeKind::kSwitch, "BASIC", now_).ok());
    ASSERT_TRUE(store->ChangeSubscription(canceled, ChangeKind::kCancel, "", now_).ok());
    auto created = store->CreatePayment(upgrading, Provider::kKhalti, "PRO", "n1",
                                        now_ + std::chrono::minutes{15}, now_ + Days{15});
    ASSERT_TRUE(created.ok()) << created.error().message;
    upgrade = *created;
    ASSERT_EQ(upgrade.breakdown.size(), 2u);  // the price and the credit for unused BASIC
    auto sent = store->SendDueReminder(renewing, notice, mail);
    ASSERT_TRUE(sent.ok()) << sent.error().message;
    ASSERT_TRUE(sent->has_value());
    ASSERT_EQ(store->PayLinkSecret(std::string(64, 'a')).value(), std::string(64, 'a'));
    for (const std::string& org : {trial, switched, canceled, renewing, upgrading}) {
      subscriptions[org] = store->GetSubscription(org, now_).value();
    }
  }
  EXPECT_TRUE(subscriptions[trial].trial);
  EXPECT_EQ(subscriptions[switched].next_plan, "BASIC");
  EXPECT_TRUE(subscriptions[canceled].cancel_at_period_end);

  auto copied = MigrateStore(path_, TargetUrl());
  ASSERT_TRUE(copied.ok()) << copied.error().message;
  std::map<std::string, int64_t> rows(copied->tables.begin(), copied->tables.end());
  EXPECT_EQ(rows["reminders_sent"], 1);
  EXPECT_EQ(rows["server_secrets"], 1);

  auto pg = OpenPg();
  ASSERT_NE(pg, nullptr);
  for (const auto& [org, sub] : subscriptions) {
    EXPECT_EQ(pg->GetSubscription(org, now_).value(), sub) << org;
  }
  auto found = pg->FindPayment(upgrade.id);
  ASSERT_TRUE(found.ok()) << found.error().message;
  EXPECT_EQ(found->amount_paisa, upgrade.amount_paisa);
  EXPECT_EQ(found->breakdown, upgrade.breakdown);
  // The reminder sent from SQLite is not sent again, and links signed before still verify.
  auto again = pg->SendDueReminder(renewing, notice, mail);
  ASSERT_TRUE(again.ok()) << again.error().message;
  EXPECT_FALSE(again->has_value());
  EXPECT_EQ(pg->PayLinkSecret(std::string(64, 'b')).value(), std::string(64, 'a'));
}

// The webhook outbox moves too: endpoints (with their secrets), events, deliveries and the
// delivery log read the same, and new events and deliveries continue the copied ones' numbers.
TEST_F(ServerMigrateStore, WebhooksReadTheSameFromPostgresAndTheirNumbersContinue) {
  const std::string org = NewId("org").value();
  const std::string endpoint = NewId("we").value();
  WebhookEventDetail before;
  {
    auto store = OpenSqlite();
    ASSERT_NE(store, nullptr);
    ASSERT_TRUE(store
                    ->CreateOrg({org,
                                 "Acme",
                                 Sha256Hex(org),
                                 {"PRO", now_, now_ + Days{30}},
                                 now_,
                                 "owner@acme.test"})
                    .ok());
    ASSERT_TRUE(
        store->CreateWebhookEndpoint({endpoint, org, "https://a.test/h", "d", "whsec_a"}, now_)
            .ok());
    ASSERT_TRUE(store->ChangeSubscription(org, ChangeKind::kCancel, "", now_).ok());
    ASSERT_TRUE(store->ChangeSubscription(org, ChangeKind::kUndo, "", now_).ok());
    auto claimed = store->ClaimDueDeliveries(now_, now_ + std::chrono::seconds{60}, 10);
    ASSERT_TRUE(claimed.ok()) << claimed.error().message;
    ASSERT_EQ(claimed->size(), 1u);
    const DueDelivery& d = (*claimed)[0];
    ASSERT_TRUE(store
                    ->CompleteDelivery(d.delivery.id, d.lease,
                                       {{0, now_, 200, 7, "ok", ""}, true, std::nullopt}, now_)
                    .ok());
    before = store->GetWebhookEvent(d.event.id).value();
  }
  auto copied = MigrateStore(path_, TargetUrl());
  ASSERT_TRUE(copied.ok()) << copied.error().message;
  std::map<std::string, int64_t> rows(copied->tables.begin(), copied->tables.end());
  EXPECT_EQ(rows["webhook_endpoints"], 1);
  EXPECT_EQ(rows["webhook_events"], 2);
  EXPECT_EQ(rows["webhook_deliveries"], 2);
  EXPECT_EQ(rows["webhook_attempts"], 1);

  auto pg = OpenPg();
  ASSERT_NE(pg, nullptr);
  auto after = pg->GetWebhookEvent(before.event.id);
  ASSERT_TRUE(after.ok()) << after.error().message;
  EXPECT_EQ(after->event.seq, before.event.seq);
  EXPECT_EQ(after->event.data, before.event.data);
  ASSERT_EQ(after->deliveries.size(), 1u);
  EXPECT_EQ(after->deliveries[0].id, before.deliveries[0].id);
  EXPECT_EQ(after->deliveries[0].status, DeliveryStatus::kDelivered);
  ASSERT_EQ(after->attempts.size(), 1u);
  EXPECT_EQ(after->attempts[0].response_body, "ok");
  EXPECT_TRUE(pg->GetWebhookEndpoint(endpoint).value().enabled);

  // The second event's delivery is next, signed with the copied secret; a new event follows it.
  auto next = pg->ClaimDueDeliveries(now_, now_ + std::chrono::seconds{60}, 10);
  ASSERT_TRUE(next.ok()) << next.error().message;
  ASSERT_EQ(next->size(), 1u);
  EXPECT_EQ((*next)[0].secret, "whsec_a");
  ASSERT_TRUE(pg->ChangeSubscription(org, ChangeKind::kCancel, "", now_).ok());
  auto events = pg->ListWebhookEvents(org, {10, std::nullopt});
  ASSERT_TRUE(events.ok()) << events.error().message;
  ASSERT_EQ(events->items.size(), 3u);
  EXPECT_GT(events->items[0].seq, events->items[1].seq);
  auto newest = pg->GetWebhookEvent(events->items[0].id);
  ASSERT_TRUE(newest.ok()) << newest.error().message;
  ASSERT_EQ(newest->deliveries.size(), 1u);
  EXPECT_GT(newest->deliveries[0].id, (*next)[0].delivery.id);
}

}  // namespace
}  // namespace sima::server::testing
