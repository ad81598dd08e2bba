// `sima-server migrate-store`: a SQLite database written by a real server, moved into
// PostgreSQL, then served from PostgreSQL as if nothing happened.
#include <cstdio>

#include "multi_instance_harness.h"
#include "sqlite.h"

namespace sima::integration {
namespace {

class IntegrationMigrateStore : public MultiInstanceTest {
 protected:
  // Runs `sima-server migrate-store args`; its exit status and everything it printed.
  std::pair<int, std::string> MigrateStore(const std::string& args) {
    const std::string command =
        std::string(SIMA_SERVER_BINARY) + " migrate-store " + args + " 2>&1";
    FILE* pipe = ::popen(command.c_str(), "r");
    if (pipe == nullptr) return {-1, ""};
    std::string text;
    char buf[512];
    while (size_t n = std::fread(buf, 1, sizeof(buf), pipe)) text.append(buf, n);
    const int rc = ::pclose(pipe);
    return {WIFEXITED(rc) ? WEXITSTATUS(rc) : -1, text};
  }

  int64_t SqliteCount(const std::string& path, const std::string& table) {
    auto db = server::sqlite::Db::Open(path, true);
    if (!db) return -1;
    auto n = (*db)->QueryInt("SELECT COUNT(*) FROM " + table);
    return n ? *n : -1;
  }

  // The org calls whose answers must not change with the store.
  std::vector<std::string> Views(int port, const std::string& key) {
    std::vector<std::string> out;
    for (const char* path : {"/invoices/", "/customers/", "/team-members/", "/billing/payments/"}) {
      out.push_back(CallAt(port, "GET", path, key).raw);
    }
    return out;
  }
};

TEST_F(IntegrationMigrateStore, ASqliteDatabaseMovesIntoPostgresAndServesTheSameOrganization) {
  const std::string pg_url = db_path_;
  const std::string sqlite_path = dir_ + "/sima.db";
  db_path_ = sqlite_path;
  ASSERT_NO_FATAL_FAILURE(StartServer());

  // An organization with everything: two keys (one revoked), a session, resources, usage with
  // an idempotency key, and payments in every state the API reaches.
  Response org = Call("POST", "/admin/orgs/", kAdminToken,
                      {{"name", "Himalayan Invoices"}, {"billing_email", "owner@acme.test"}});
  ASSERT_EQ(org.status, 201) << org.raw;
  const std::string org_id = org.body["org_id"];
  const std::string old_key = org.body["api_key"];
  const std::string old_key_id = org.body["key_id"];
  Response rotated = Call("POST", "/admin/orgs/" + org_id + "/keys/", kAdminToken);
  ASSERT_EQ(rotated.status, 201) << rotated.raw;
  const std::string key = rotated.body["api_key"];
  ASSERT_EQ(
      Call("DELETE", "/admin/orgs/" + org_id + "/keys/" + old_key_id + "/", kAdminToken).status,
      200);
  Response session = Call("POST", "/sessions/", key);
  ASSERT_EQ(session.status, 201) << session.raw;
  const std::string token = session.body["token"];
  Response customer =
      Call("POST", "/customers/", key, {{"name", "Everest Traders"}, {"email", "a@everest.test"}});
  ASSERT_EQ(customer.status, 201) << customer.raw;
  ASSERT_EQ(Call("POST", "/customers/", key, {{"name", "Annapurna"}, {"email", "b@annapurna.test"}})
                .status,
            201);
  for (int i = 0; i < 4; ++i) {
    Json invoice = {{"amount_paisa", 100000 + i},
                    {"description", "नमस्ते invoice " + std::to_string(i)}};
    if (i == 0) invoice["customer_id"] = customer.body["id"];
    ASSERT_EQ(Call("POST", "/invoices/", key, invoice).status, 201);
  }
  ASSERT_EQ(
      Call("POST", "/team-members/", key, {{"email", "sita@acme.test"}, {"name", "Sita"}}).status,
      201);
  // A customer deleted that an invoice names (its row stays, softly), and overrides with their
  // audit trail: one in force, one cleared.
  Response gone = Call("POST", "/customers/", key, {{"name", "Gone"}, {"email", "g@gone.test"}});
  ASSERT_EQ(gone.status, 201) << gone.raw;
  ASSERT_EQ(
      Call("POST", "/invoices/", key, {{"amount_paisa", 100}, {"customer_id", gone.body["id"]}})
          .status,
      201);
  ASSERT_EQ(Call("DELETE", "/customers/" + gone.body["id"].get<std::string>() + "/", key).status,
            204);
  const std::string overrides = "/admin/orgs/" + org_id + "/overrides/";
  ASSERT_EQ(Call("PUT", overrides + "invoices/", kAdminToken,
                 {{"limit", 5000}, {"plan", "PRO"}, {"reason", "deal #42"}})
                .status,
            200);
  ASSERT_EQ(Call("PUT", overrides + "custom_branding/", kAdminToken, {{"limit", true}}).status,
            200);
  ASSERT_EQ(Call("DELETE", overrides + "custom_branding/", kAdminToken).status, 204);
  ASSERT_EQ(
      Call("POST", "/usage/api_calls/", key, {{"quantity", 5}, {"idempotency_key", "batch-1"}})
          .status,
      200);
  // Payments: a cancelled one (FAILED), one an unknown status flags for a person (PENDING,
  // needs attention), one paid (SUCCESS: PRO, a plan change, an e-mail); for another
  // organization one paid through eSewa and one left open.
  Response cancelled = Init(key);
  ASSERT_EQ(cancelled.status, 201) << cancelled.raw;
  ForceStatus(cancelled.body["pidx"], "User canceled");
  ASSERT_EQ(Verify(key, cancelled.body["payment_id"]).status, 400);
  Response odd = Init(key, "BASIC");
  ASSERT_EQ(odd.status, 201) << odd.raw;
  ForceStatus(odd.body["pidx"], "Something New");
  ASSERT_EQ(Verify(key, odd.body["payment_id"]).status, 202);
  Response paid = Init(key);
  ASSERT_EQ(paid.status, 201) << paid.raw;
  Pay(paid.body["pidx"]);
  ASSERT_EQ(Verify(key, paid.body["payment_id"]).status, 200);
  const std::string other = NewOrg("other@acme.test");
  Response esewa = EsewaInit(other);
  ASSERT_EQ(esewa.status, 201) << esewa.raw;
  ASSERT_EQ(EsewaPostForm(esewa.body["fields"]), 200);
  EsewaPay(esewa.body["fields"]["transaction_uuid"]);
  ASSERT_EQ(EsewaVerify(other, esewa.body["payment_id"]).status, 200);
  ASSERT_EQ(Init(other).status, 201);
  ASSERT_TRUE(WaitFor([&] { return IntegrationTest::MailCount() == 2; }, 5000));

  const std::vector<std::string> views = Views(server_port_, key);
  Response usage = Call("GET", "/billing/usage/", key);
  ASSERT_EQ(usage.status, 200);
  Response deals = Call("GET", overrides, kAdminToken);
  ASSERT_EQ(deals.status, 200) << deals.raw;
  ASSERT_EQ(deals.body["history"].size(), 3u) << deals.raw;
  KillServer(SIGTERM);

  // The copy, then its counts, which agree with SQLite's.
  const std::string password =
      pg_url.substr(pg_url.find("sima:") + 5, pg_url.find('@') - pg_url.find("sima:") - 5);
  auto [rc, out] = MigrateStore("--from " + sqlite_path + " --to " + pg_url);
  ASSERT_EQ(rc, 0) << out;
  EXPECT_EQ(out.find(password), std::string::npos) << out;
  const std::vector<std::string> tables = {
      "organizations",  "api_keys",     "sessions",       "subscriptions",
      "usage_counters", "usage_events", "customers",      "invoices",
      "team_members",   "payments",     "payment_events", "plan_changes",
      "outbox",         "allocations",  "overrides",      "override_changes"};
  for (const std::string& table : tables) {
    const int64_t rows = SqliteCount(sqlite_path, table);
    EXPECT_GT(rows, 0) << table;
    EXPECT_EQ(CountRows("SELECT COUNT(*) FROM " + table), rows) << table;
    EXPECT_NE(out.find(table), std::string::npos) << out;
  }
  std::cout << out;

  // A second copy into the now non-empty database is refused and changes nothing.
  auto [again_rc, again] = MigrateStore("--from " + sqlite_path + " --to " + pg_url);
  EXPECT_EQ(again_rc, 1);
  EXPECT_NE(again.find("not empty"), std::string::npos) << again;
  EXPECT_EQ(again.find(password), std::string::npos) << again;
  EXPECT_EQ(CountRows("SELECT COUNT(*) FROM invoices"), 5);

  // sima-server on PostgreSQL: the same organization with the same key and the same usage.
  ASSERT_NO_FATAL_FAILURE(StartInstances(1));
  const int pg_port = ports_[0];
  Response after = CallAt(pg_port, "GET", "/billing/usage/", key);
  ASSERT_EQ(after.status, 200) << after.raw;
  EXPECT_EQ(after.body["plan"], usage.body["plan"]);
  EXPECT_EQ(after.body["plan"], "PRO");
  EXPECT_EQ(after.body["subscription"], usage.body["subscription"]);
  for (const char* feature : {"invoices", "customers", "team_members", "custom_branding"}) {
    EXPECT_EQ(after.body["usage"][feature], usage.body["usage"][feature]) << feature;
  }
  EXPECT_EQ(after.body["usage"]["customers"]["used"], 2);  // the deleted one stays freed
  EXPECT_EQ(after.body["usage"]["invoices"]["limit"], 5000);
  EXPECT_EQ(after.body["overrides"], usage.body["overrides"]);
  EXPECT_EQ(CallAt(pg_port, "GET", overrides, kAdminToken).raw, deals.raw);
  EXPECT_EQ(after.body["usage"]["api_calls"]["used"].get<int64_t>(),
            usage.body["usage"]["api_calls"]["used"].get<int64_t>() + 1);
  EXPECT_EQ(Views(pg_port, key), views);
  // The session still works, the revoked key still does not, the idempotency key is known.
  EXPECT_EQ(CallAt(pg_port, "GET", "/billing/usage/", token).status, 200);
  EXPECT_EQ(CallAt(pg_port, "GET", "/billing/usage/", old_key).status, 401);
  Response replay = CallAt(pg_port, "POST", "/usage/api_calls/", key,
                           {{"quantity", 5}, {"idempotency_key", "batch-1"}});
  EXPECT_EQ(replay.header("Idempotent-Replayed"), "true");
  // New rows get ids after the copied ones.
  const int64_t max_payment = CountRows("SELECT MAX(id) FROM payments");
  Response next = CallAt(pg_port, "POST", "/billing/esewa/init/", other, {{"plan", "PRO"}});
  ASSERT_EQ(next.status, 201) << next.raw;
  EXPECT_GT(next.body["payment_id"].get<int64_t>(), max_payment);
  Response invoice = CallAt(pg_port, "POST", "/invoices/", key, {{"amount_paisa", 1}});
  ASSERT_EQ(invoice.status, 201) << invoice.raw;
  Response invoices = CallAt(pg_port, "GET", "/invoices/", key);
  ASSERT_EQ(invoices.body["items"].size(), 6u) << invoices.raw;
  EXPECT_EQ(invoices.body["items"][0]["id"], invoice.body["id"]);  // newest first
}

TEST_F(IntegrationMigrateStore, BadArgumentsAndUnreachableTargetsSayWhyWithoutThePassword) {
  const std::string sqlite_path = dir_ + "/missing.db";
  auto [rc, out] = MigrateStore("--from " + sqlite_path + " --to " + db_path_);
  EXPECT_EQ(rc, 1);
  EXPECT_NE(out.find("no SQLite database"), std::string::npos) << out;

  // A real database, an unreachable server: the URL shown without its password.
  db_path_ = dir_ + "/sima.db";
  ASSERT_NO_FATAL_FAILURE(StartServer());
  KillServer(SIGTERM);
  const std::string url =
      "postgresql://sima:s3cret-Passw0rd@127.0.0.1:" + std::to_string(FreePort()) + "/sima";
  std::tie(rc, out) = MigrateStore("--from " + db_path_ + " --to " + url);
  EXPECT_EQ(rc, 1);
  EXPECT_NE(out.find("cannot connect"), std::string::npos) << out;
  EXPECT_EQ(out.find("s3cret"), std::string::npos) << out;

  std::tie(rc, out) = MigrateStore("--from " + db_path_ + " --to /tmp/other.db");
  EXPECT_EQ(rc, 1);
  EXPECT_NE(out.find("postgresql://"), std::string::npos) << out;
  std::tie(rc, out) = MigrateStore("--from " + db_path_);
  EXPECT_EQ(rc, 2);
  EXPECT_NE(out.find("usage:"), std::string::npos) << out;
}

}  // namespace
}  // namespace sima::integration
