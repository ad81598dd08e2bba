// Every guarantee holds across processes, not just threads: three sima-server processes on one
// PostgreSQL, requests spread over them as a load balancer would.
#include <filesystem>
#include <set>
#include <thread>

#include "multi_instance_harness.h"

namespace sima::integration {
namespace {

constexpr int kInstances = 3;

class IntegrationMultiInstance : public MultiInstanceTest {
 protected:
  void SetUp() override {
    MultiInstanceTest::SetUp();
    if (HasFatalFailure()) return;
    // Many gateway checks at once meet the simulator's listen backlog (see RaceTest).
    server_env_["KHALTI_TIMEOUT_MS"] = "5000";
    server_env_["ESEWA_TIMEOUT_MS"] = "5000";
  }
};

TEST_F(IntegrationMultiInstance, ThreeHundredCreatesOnAFreeOrgOverThreeServersMakeExactlyTen) {
  ASSERT_NO_FATAL_FAILURE(StartInstances(kInstances));
  const std::string key = NewOrg();
  constexpr int kCreates = 300;
  std::vector<int> status(kCreates);
  std::vector<std::string> code(kCreates);
  std::vector<std::function<void(httplib::Client&)>> calls;
  for (int i = 0; i < kCreates; ++i) {
    calls.emplace_back([&, i](httplib::Client& cli) {
      auto r = cli.Post("/invoices/", {{"Authorization", "Bearer " + key}},
                        Json{{"amount_paisa", 1000 + i}, {"description", "race"}}.dump(),
                        "application/json");
      status[i] = r ? r->status : 0;
      if (r) code[i] = Json::parse(r->body, nullptr, false).value("code", "");
    });
  }
  RunAtOnce(calls, ports_);

  int created = 0, refused = 0;
  std::set<int> servers_that_created;
  for (int i = 0; i < kCreates; ++i) {
    if (status[i] == 201) {
      ++created;
      servers_that_created.insert(i % kInstances);
    } else {
      EXPECT_EQ(status[i], 403) << "call " << i;
      EXPECT_EQ(code[i], "limit_reached") << "call " << i;
      ++refused;
    }
  }
  EXPECT_EQ(created, 10);
  EXPECT_EQ(refused, kCreates - 10);
  EXPECT_EQ(CountRows("SELECT COUNT(*) FROM invoices"), 10);
  EXPECT_EQ(CountRows("SELECT SUM(used) FROM usage_counters WHERE feature = 'invoices'"), 10);
  for (size_t i = 0; i < ports_.size(); ++i) {
    Response usage = CallOn(i, "GET", "/billing/usage/", key);
    EXPECT_EQ(usage.body["usage"]["invoices"].value("used", int64_t{-1}), 10) << "instance " << i;
  }
}

// Seats freed while others are taken: the allocation counter stays equal to the rows and the
// rows never pass PRO's 10, whichever server creates or deletes.
TEST_F(IntegrationMultiInstance,
       ThreeHundredCreatesAndDeletesOfMembersOverThreeServersKeepTheCount) {
  ASSERT_NO_FATAL_FAILURE(StartInstances(kInstances));
  const std::string key = NewOrg("owner@acme.test", "PRO");
  constexpr int kCalls = 300;
  std::vector<int> created(kCalls), deleted(kCalls), seen(kCalls);
  std::vector<std::function<void(httplib::Client&)>> calls;
  const httplib::Headers auth = {{"Authorization", "Bearer " + key}};
  for (int i = 0; i < kCalls; ++i) {
    calls.emplace_back([&, i](httplib::Client& cli) {
      auto r =
          cli.Post("/team-members/", auth,
                   Json{{"email", "m" + std::to_string(i) + "@acme.test"}, {"name", "M"}}.dump(),
                   "application/json");
      created[i] = r ? r->status : 0;
      if (created[i] != 201) return;
      const std::string id = Json::parse(r->body, nullptr, false).value("id", "");
      // How many members exist right after this one was added.
      auto list = cli.Get("/team-members/?limit=100", auth);
      if (list) seen[i] = static_cast<int>(Json::parse(list->body, nullptr, false)["items"].size());
      if (i % 2 == 0) {
        auto d = cli.Delete("/team-members/" + id + "/", auth);
        deleted[i] = d ? d->status : 0;
      }
    });
  }
  RunAtOnce(calls, ports_);

  int kept = 0, refused = 0;
  for (int i = 0; i < kCalls; ++i) {
    if (created[i] == 201) {
      EXPECT_LE(seen[i], 10) << "call " << i;
      if (i % 2 == 0) {
        EXPECT_EQ(deleted[i], 204) << "call " << i;
      } else {
        ++kept;
      }
    } else {
      EXPECT_EQ(created[i], 403) << "call " << i;
      ++refused;
    }
  }
  EXPECT_GT(refused, 0);
  const int64_t rows = CountRows("SELECT COUNT(*) FROM team_members");
  EXPECT_EQ(rows, kept);
  EXPECT_LE(rows, 10);
  EXPECT_EQ(CountRows("SELECT used FROM allocations WHERE feature = 'team_members'"), rows);
  for (size_t i = 0; i < ports_.size(); ++i) {
    Response usage = CallOn(i, "GET", "/billing/usage/", key);
    EXPECT_EQ(usage.body["usage"]["team_members"].value("used", int64_t{-1}), rows)
        << "instance " << i;
  }
}

TEST_F(IntegrationMultiInstance, SixtyKhaltiVerifiesAndCallbacksOverThreeServersActivateOnce) {
  ASSERT_NO_FATAL_FAILURE(StartInstances(kInstances));
  const std::string key = NewOrg();
  RaceKhaltiConfirmations(key, 40, 20, ports_);
  EXPECT_EQ(CountRows("SELECT COUNT(*) FROM subscriptions WHERE plan = 'PRO'"), 1);
  for (size_t i = 0; i < ports_.size(); ++i) {
    EXPECT_EQ(CallOn(i, "GET", "/billing/usage/", key).body.value("plan", ""), "PRO");
  }
}

TEST_F(IntegrationMultiInstance, SixtyEsewaCallbacksVerifiesAndFailureTargetsActivateOnce) {
  ASSERT_NO_FATAL_FAILURE(StartInstances(kInstances));
  RaceEsewaConfirmations(NewOrg(), 20, ports_);
}

// Each instance runs its reconciler every 20 ms over the same pending payments: a payment due
// is looked up by exactly one of them per pass, never by two at once.
TEST_F(IntegrationMultiInstance, ReconcilersOfThreeServersLookUpEachDuePaymentOncePerPass) {
  server_env_["SIMA_RECONCILE_INTERVAL_MS"] = "20";
  ASSERT_NO_FATAL_FAILURE(StartInstances(kInstances));
  constexpr int kOrgs = 8;
  for (int i = 0; i < kOrgs; ++i) {
    const std::string key = NewOrg("owner" + std::to_string(i) + "@acme.test");
    Response khalti =
        CallOn(i % kInstances, "POST", "/billing/khalti/init/", key, {{"plan", "PRO"}});
    ASSERT_EQ(khalti.status, 201) << khalti.raw;
    Response esewa =
        CallOn((i + 1) % kInstances, "POST", "/billing/esewa/init/", key, {{"plan", "PRO"}});
    ASSERT_EQ(esewa.status, 201) << esewa.raw;
    ASSERT_EQ(EsewaPostForm(esewa.body["fields"]), 200);  // the simulator knows it: PENDING
  }
  ASSERT_EQ(GatewayLookups(), std::make_pair(int64_t{0}, int64_t{0}));

  // The first look comes 5 s after init, the next 5 s after that: in between, every payment
  // has been looked up once, and exactly once.
  ASSERT_TRUE(WaitFor(
      [&] {
        return CountRows("SELECT COUNT(*) FROM payments WHERE check_attempts >= 1") == 2 * kOrgs;
      },
      20000));
  EXPECT_EQ(GatewayLookups(), std::make_pair(int64_t{kOrgs}, int64_t{kOrgs}));
  EXPECT_EQ(CountRows("SELECT COUNT(*) FROM payments WHERE check_attempts = 1"), 2 * kOrgs);
  EXPECT_EQ(CountRows("SELECT COUNT(*) FROM payments WHERE status = 'PENDING'"), 2 * kOrgs);

  // The second pass, again once each.
  ASSERT_TRUE(WaitFor(
      [&] {
        return CountRows("SELECT COUNT(*) FROM payments WHERE check_attempts >= 2") == 2 * kOrgs;
      },
      30000));
  EXPECT_EQ(GatewayLookups(), std::make_pair(int64_t{2 * kOrgs}, int64_t{2 * kOrgs}));
  EXPECT_EQ(CountRows("SELECT COUNT(*) FROM payments WHERE check_attempts = 2"), 2 * kOrgs);
}

// Each instance runs its outbox sender every 10 ms into its own mail folder: an e-mail sent by
// two of them would be two files.
TEST_F(IntegrationMultiInstance, OutboxSendersOfThreeServersSendEachEmailOnce) {
  server_env_["SIMA_OUTBOX_INTERVAL_MS"] = "10";
  ASSERT_NO_FATAL_FAILURE(StartInstances(kInstances));
  constexpr int kPayers = 9;
  for (int i = 0; i < kPayers; ++i) {
    const std::string key = NewOrg("payer" + std::to_string(i) + "@acme.test");
    Response init = CallOn(i % kInstances, "POST", "/billing/khalti/init/", key, {{"plan", "PRO"}});
    ASSERT_EQ(init.status, 201) << init.raw;
    Pay(init.body["pidx"]);
    Response verify = CallOn((i + 1) % kInstances, "POST", "/billing/khalti/verify/", key,
                             {{"payment_id", init.body["payment_id"]}});
    ASSERT_EQ(verify.status, 200) << verify.raw;
  }
  ASSERT_TRUE(WaitFor(
      [&] { return CountRows("SELECT COUNT(*) FROM outbox WHERE sent_at IS NOT NULL") == kPayers; },
      10000));
  std::this_thread::sleep_for(std::chrono::milliseconds{300});  // a second send would show now
  EXPECT_EQ(CountRows("SELECT COUNT(*) FROM outbox"), kPayers);
  EXPECT_EQ(MailCount(), kPayers);
  std::set<std::string> names;
  for (int i = 0; i < kInstances; ++i) {
    std::error_code ec;
    for (const auto& e :
         std::filesystem::directory_iterator(dir_ + "/mail-" + std::to_string(i), ec)) {
      EXPECT_TRUE(names.insert(e.path().filename().string()).second) << e.path();
    }
  }
}

TEST_F(IntegrationMultiInstance, AnIdempotencyKeyOnThreeServersCountsOnceAndAnswersAlike) {
  ASSERT_NO_FATAL_FAILURE(StartInstances(kInstances));
  const std::string key = NewOrg();
  constexpr int kCalls = 30;
  std::vector<int> status(kCalls);
  std::vector<Json> answers(kCalls);
  std::vector<std::string> replayed(kCalls);
  std::vector<std::function<void(httplib::Client&)>> calls;
  for (int i = 0; i < kCalls; ++i) {
    calls.emplace_back([&, i](httplib::Client& cli) {
      auto r = cli.Post("/usage/invoices/", {{"Authorization", "Bearer " + key}},
                        Json{{"quantity", 3}, {"idempotency_key", "import-2026-12-01"}}.dump(),
                        "application/json");
      status[i] = r ? r->status : 0;
      if (!r) return;
      answers[i] = Json::parse(r->body, nullptr, false);
      replayed[i] = r->get_header_value("Idempotent-Replayed");
    });
  }
  RunAtOnce(calls, ports_);

  int first = 0;
  for (int i = 0; i < kCalls; ++i) {
    ASSERT_EQ(status[i], 200) << answers[i].dump();
    EXPECT_EQ(answers[i], answers[0]);
    if (replayed[i] != "true") ++first;
  }
  EXPECT_EQ(first, 1);
  EXPECT_EQ(answers[0].value("used", int64_t{-1}), 3);
  EXPECT_EQ(CountRows("SELECT COUNT(*) FROM usage_events"), 1);
  // The same key once more on each server: the first answer again, nothing counted.
  for (size_t i = 0; i < ports_.size(); ++i) {
    Response again = CallOn(i, "POST", "/usage/invoices/", key,
                            {{"quantity", 3}, {"idempotency_key", "import-2026-12-01"}});
    EXPECT_EQ(again.status, 200);
    EXPECT_EQ(again.body, answers[0]);
    EXPECT_EQ(again.header("Idempotent-Replayed"), "true");
    Response usage = CallOn(i, "GET", "/billing/usage/", key);
    EXPECT_EQ(usage.body["usage"]["invoices"].value("used", int64_t{-1}), 3) << "instance " << i;
  }
}

}  // namespace
}  // namespace sima::integration
