// "A payment must never be lost", over the real simulator and server: a payer who is slow to
// reach eSewa keeps a PENDING payment; a verified paid answer after a failure activates for
// review; anonymous callers name payments only by unguessable references and share gateway
// lookups; forged callbacks write bounded audit rows; inits are reused, capped and rate
// limited per organization; the reconciler is fair across organizations.
#include <sqlite3.h>

#include <fstream>
#include <set>
#include <sstream>
#include <thread>

#include "harness.h"
#include "sima/crypto.h"
#include "sima/esewa_signature.h"
#include "sima/text.h"

namespace sima::integration {
namespace {

// eSewa success data signed with `key` (the merchant's unless a test forges it).
std::string SignedData(const std::string& uuid, const std::string& total, const std::string& status,
                       const std::string& key = kEsewaKey) {
  return SignedEsewaData(uuid, total, status, kEsewaResponseNames, key);
}

class IntegrationPaymentSafety : public IntegrationTest {
 protected:
  std::string Self() const { return "http://127.0.0.1:" + std::to_string(server_port_); }
  std::string App(const std::string& page, const std::string& query) const {
    return "http://app.test/demo/" + page + "?" + query;
  }
  std::string Generic() const {
    return App("failure.html", "status=UNKNOWN&reason=unknown_payment");
  }
  std::string Status(const std::string& key, int64_t id) {
    return GetPayment(key, id).body.value("status", "");
  }
  // Lookups the simulator has answered so far.
  int64_t KhaltiLookups() { return SimCall("GET", "/_sim/stats").body.value("khalti_lookups", -1); }
  int64_t EsewaChecks() {
    return SimCall("GET", "/_sim/stats").body.value("esewa_status_checks", -1);
  }
  Response EsewaCallback(const std::string& data) {
    return FollowToServer(Self() + "/billing/esewa/callback/?data=" + PercentEncode(data));
  }
  // Runs SQL against the server's database from outside (setting up a backlog).
  void Exec(const std::string& sql) {
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open(db_path_.c_str(), &db), SQLITE_OK);
    sqlite3_busy_timeout(db, 10000);
    char* err = nullptr;
    const int rc = sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &err);
    const std::string message = err != nullptr ? err : "";
    sqlite3_free(err);
    sqlite3_close(db);
    ASSERT_EQ(rc, SQLITE_OK) << message;
  }
};

// The issue's reproduction: the payer takes longer than the first reconciler pass (and opens
// the failure target) before reaching eSewa. eSewa says NOT_FOUND throughout; the payment must
// stay PENDING, and the payment made afterwards activates the plan with nothing to review.
TEST_F(IntegrationPaymentSafety,
       EsewaNotFoundBeforeTheSessionEndsKeepsPendingThenPaysAndActivates) {
  StartServer();
  const std::string key = NewOrg();
  Response init = EsewaInit(key);
  ASSERT_EQ(init.status, 201) << init.raw;
  const int64_t id = init.body["payment_id"];
  const Json fields = init.body["fields"];
  const std::string uuid = fields["transaction_uuid"];

  // The failure target before paying: eSewa does not know the uuid yet.
  const std::string pending =
      App("failure.html", "payment_id=" + std::to_string(id) + "&status=PENDING&reason=");
  EXPECT_EQ(FollowToServer(fields["failure_url"]).header("Location"), pending);
  EXPECT_EQ(Status(key, id), "PENDING");
  // The reconciler's first look-up (5 s after init) also hears NOT_FOUND.
  ASSERT_TRUE(WaitFor(
      [&] {
        return CountRows("SELECT check_attempts FROM payments WHERE id = " + std::to_string(id)) >=
               1;
      },
      15000));
  Response v = EsewaVerify(key, id);
  EXPECT_EQ(v.status, 202) << v.raw;
  EXPECT_EQ(Status(key, id), "PENDING");
  EXPECT_EQ(CountRows("SELECT COUNT(*) FROM payment_events WHERE to_status = 'FAILED'"), 0);

  // Now the payer reaches eSewa and pays.
  ASSERT_EQ(EsewaPostForm(fields), 200);
  const std::string redirect = EsewaPay(uuid);
  EXPECT_EQ(FollowToServer(redirect).header("Location"),
            App("success.html", "payment_id=" + std::to_string(id) + "&status=SUCCESS"));
  Response got = GetPayment(key, id);
  EXPECT_EQ(got.body["status"], "SUCCESS");
  EXPECT_EQ(got.body["needs_attention"], false);
  ExpectActivatedOnce(key, "PRO");
}

// Money taken for a payment we had FAILED: the gateway confirms it, the plan activates once,
// the payment asks for review, the audit trail says so; never answered from the stored FAILED.
TEST_F(IntegrationPaymentSafety, VerifiedCompleteAfterFailedActivatesOnceForReview) {
  StartServer();
  // eSewa: CANCELED, then eSewa's signed COMPLETE and its status check agree it was paid.
  const std::string key = NewOrg();
  Response init = EsewaInit(key);
  ASSERT_EQ(init.status, 201) << init.raw;
  const int64_t id = init.body["payment_id"];
  const Json fields = init.body["fields"];
  const std::string uuid = fields["transaction_uuid"];
  ASSERT_EQ(EsewaPostForm(fields), 200);
  EsewaForceStatus(uuid, "CANCELED");
  // The browser lands on the failure target: FAILED. Moments later eSewa's signed COMPLETE
  // arrives: the failure target's lookup just now does not keep it from being asked.
  EXPECT_EQ(
      FollowToServer(fields["failure_url"]).header("Location"),
      App("failure.html", "payment_id=" + std::to_string(id) + "&status=FAILED&reason=CANCELED"));
  EsewaForceStatus(uuid, "COMPLETE");
  const std::string success =
      App("success.html", "payment_id=" + std::to_string(id) + "&status=SUCCESS");
  EXPECT_EQ(EsewaCallback(SignedData(uuid, "3900.0", "COMPLETE")).header("Location"), success);
  Response got = GetPayment(key, id);
  EXPECT_EQ(got.body["status"], "SUCCESS");
  EXPECT_EQ(got.body["needs_attention"], true);
  EXPECT_EQ(got.body["reason"], "paid_after_failure");
  EXPECT_EQ(Plan(key), "PRO");
  // Again: the same answer, nothing more written.
  const int64_t events = CountRows("SELECT COUNT(*) FROM payment_events");
  EXPECT_EQ(EsewaCallback(SignedData(uuid, "3900.0", "COMPLETE")).header("Location"), success);
  EXPECT_EQ(CountRows("SELECT COUNT(*) FROM payment_events"), events);
  EXPECT_EQ(
      CountRows("SELECT COUNT(*) FROM payment_events WHERE payment_id = " + std::to_string(id) +
                " AND from_status = 'FAILED' AND to_status = 'SUCCESS' AND detail LIKE "
                "'%paid after it had failed (CANCELED)%'"),
      1);
  EXPECT_EQ(CountRows("SELECT COUNT(*) FROM plan_changes WHERE payment_id = " + std::to_string(id)),
            1);

  // Khalti: Expired, then Khalti's lookup says Completed after all.
  const std::string other = NewOrg("other@acme.test");
  Response k = Init(other);
  ASSERT_EQ(k.status, 201) << k.raw;
  const int64_t kid = k.body["payment_id"];
  const std::string pidx = k.body["pidx"];
  ForceStatus(pidx, "Expired");
  EXPECT_EQ(Verify(other, kid).body["status"], "FAILED");
  ForceStatus(pidx, "Completed");
  EXPECT_EQ(FollowToServer(Self() + "/billing/khalti/callback/?pidx=" + pidx + "&status=Completed")
                .header("Location"),
            App("success.html", "payment_id=" + std::to_string(kid) + "&status=SUCCESS"));
  Response kgot = GetPayment(other, kid);
  EXPECT_EQ(kgot.body["status"], "SUCCESS");
  EXPECT_EQ(kgot.body["needs_attention"], true);
  EXPECT_EQ(Plan(other), "PRO");
  EXPECT_EQ(
      CountRows("SELECT COUNT(*) FROM payment_events WHERE payment_id = " + std::to_string(kid) +
                " AND from_status = 'FAILED' AND to_status = 'SUCCESS'"),
      1);
}

// Anonymous callers cannot name a payment by its sequential id, guess a ref, or learn anything
// about a payment; none of it reaches a gateway or the database.
TEST_F(IntegrationPaymentSafety, SequentialIdsAndUnknownRefsTakeNoLookupAndDiscloseNothing) {
  StartServer();
  const std::string key = NewOrg();
  Response init = EsewaInit(key);
  ASSERT_EQ(init.status, 201) << init.raw;
  const int64_t id = init.body["payment_id"];
  ASSERT_EQ(EsewaPostForm(init.body["fields"]), 200);
  EsewaForceStatus(init.body["fields"]["transaction_uuid"], "CANCELED");
  Response k = Init(key);
  ASSERT_EQ(k.status, 201) << k.raw;
  const std::string po = GetPayment(key, k.body["payment_id"]).body["purchase_order_id"];
  const int64_t events = CountRows("SELECT COUNT(*) FROM payment_events");
  const int64_t khalti = KhaltiLookups();
  const int64_t esewa = EsewaChecks();

  const std::string failure = Self() + "/billing/esewa/failure/";
  for (const std::string& url :
       {failure + "?payment_id=" + std::to_string(id), failure + "?payment_id=1",
        failure + "?ref=pay_0000000000000000000000", failure + "?ref=" + std::to_string(id),
        failure, Self() + "/billing/khalti/callback/?status=Completed&purchase_order_id=" + po,
        Self() + "/billing/khalti/callback/?pidx=" + std::to_string(id) + "&status=Completed"}) {
    Response r = FollowToServer(url);
    EXPECT_EQ(r.status, 302) << url;
    EXPECT_EQ(r.header("Location"), Generic()) << url;
  }
  EXPECT_EQ(KhaltiLookups(), khalti);
  EXPECT_EQ(EsewaChecks(), esewa);
  EXPECT_EQ(CountRows("SELECT COUNT(*) FROM payment_events"), events);
  EXPECT_EQ(Status(key, id), "PENDING");  // CANCELED at eSewa, but nobody anonymous decided it
}

// 50 hits on one failure target and 50 Khalti callbacks at once: at most one gateway lookup
// each within the window; 100 forged callbacks for one payment: one audit row; forged data
// for no payment: none.
TEST_F(IntegrationPaymentSafety, RepeatedAnonymousCallsShareOneLookupAndOneAuditRow) {
  server_env_["SIMA_RECONCILE_INTERVAL_MS"] = "3600000";  // only the anonymous paths look
  StartServer();
  const std::string key = NewOrg();
  Response init = EsewaInit(key);
  ASSERT_EQ(init.status, 201) << init.raw;
  const Json fields = init.body["fields"];
  ASSERT_EQ(EsewaPostForm(fields), 200);
  Response k = Init(key);
  ASSERT_EQ(k.status, 201) << k.raw;
  const std::string pidx = k.body["pidx"];

  const std::string failure_url = fields["failure_url"];
  const std::string failure = failure_url.substr(failure_url.find("/billing/"));
  const std::string callback = "/billing/khalti/callback/?pidx=" + pidx + "&status=Pending";
  const int64_t esewa = EsewaChecks();
  const int64_t khalti = KhaltiLookups();
  constexpr int kHits = 50;
  std::vector<std::string> locations(2 * kHits);
  std::vector<std::function<void(httplib::Client&)>> calls;
  for (int i = 0; i < kHits; ++i) {
    calls.emplace_back([&, i](httplib::Client& cli) {
      auto r = cli.Get(failure);
      locations[i] = r ? r->get_header_value("Location") : "";
    });
    calls.emplace_back([&, i](httplib::Client& cli) {
      auto r = cli.Get(callback);
      locations[kHits + i] = r ? r->get_header_value("Location") : "";
    });
  }
  RunAtOnce(calls);
  EXPECT_LE(EsewaChecks() - esewa, 1);
  EXPECT_LE(KhaltiLookups() - khalti, 1);
  for (const std::string& l : locations)
    EXPECT_NE(l.find("status=PENDING"), std::string::npos) << l;

  const std::string uuid = fields["transaction_uuid"];
  const int64_t events = CountRows("SELECT COUNT(*) FROM payment_events");
  for (int i = 0; i < 100; ++i) {
    EXPECT_EQ(EsewaCallback(SignedData(uuid, "3900.0", "COMPLETE", "not-the-merchant-key"))
                  .header("Location"),
              App("failure.html", "status=UNKNOWN&reason=invalid_signature"));
  }
  for (int i = 0; i < 100; ++i) {
    EsewaCallback(
        SignedData("no-such-" + std::to_string(i), "3900.0", "COMPLETE", "not-the-merchant-key"));
  }
  EXPECT_EQ(CountRows("SELECT COUNT(*) FROM payment_events"), events + 1);
  EXPECT_EQ(CountRows("SELECT COUNT(*) FROM payment_events WHERE detail LIKE "
                      "'rejected esewa data%'"),
            1);
}

// Init: the open payment of the same plan and provider is offered again (200, same body);
// past SIMA_OPEN_PAYMENTS_MAX open ones or SIMA_INIT_PER_MINUTE new ones a minute: 429.
TEST_F(IntegrationPaymentSafety, InitReusesAnOpenPaymentAndLimitsEachOrganization) {
  server_env_["SIMA_OPEN_PAYMENTS_MAX"] = "2";
  server_env_["SIMA_INIT_PER_MINUTE"] = "3";
  StartServer();
  const std::string key = NewOrg();
  Response e1 = EsewaInit(key);
  ASSERT_EQ(e1.status, 201) << e1.raw;
  Response e2 = EsewaInit(key);
  EXPECT_EQ(e2.status, 200) << e2.raw;
  EXPECT_EQ(e2.body, e1.body);
  Response k1 = Init(key);
  ASSERT_EQ(k1.status, 201) << k1.raw;
  Response k2 = Init(key);
  EXPECT_EQ(k2.status, 200) << k2.raw;
  EXPECT_EQ(k2.body, k1.body);
  EXPECT_EQ(CountRows("SELECT COUNT(*) FROM payments"), 2);

  // Two open: a third is refused, and nothing is created.
  Response capped = Init(key, "BASIC");
  EXPECT_EQ(capped.status, 429) << capped.raw;
  EXPECT_EQ(capped.code(), "rate_limited");
  EXPECT_NE(capped.body["error"].get<std::string>().find("open payments"), std::string::npos);
  EXPECT_GE(capped.body.value("retry_after", 0), 1);
  EXPECT_EQ(capped.header("Retry-After"), std::to_string(capped.body.value("retry_after", 0)));
  EXPECT_EQ(CountRows("SELECT COUNT(*) FROM payments"), 2);

  // One decided (no longer open): room for one more; then the per-minute limit (3) holds.
  ForceStatus(k1.body["pidx"], "User canceled");
  EXPECT_EQ(Verify(key, k1.body["payment_id"]).body["status"], "FAILED");
  Response third = Init(key, "BASIC");
  EXPECT_EQ(third.status, 201) << third.raw;
  ForceStatus(third.body["pidx"], "User canceled");
  EXPECT_EQ(Verify(key, third.body["payment_id"]).body["status"], "FAILED");
  Response fourth = Init(key, "BASIC");
  EXPECT_EQ(fourth.status, 429) << fourth.raw;
  EXPECT_EQ(fourth.code(), "rate_limited");
  EXPECT_NE(fourth.body["error"].get<std::string>().find("a minute"), std::string::npos);
  const int64_t retry = fourth.body.value("retry_after", 0);
  EXPECT_TRUE(retry >= 1 && retry <= 61) << fourth.raw;
  EXPECT_EQ(fourth.header("Retry-After"), std::to_string(retry));
  // The open eSewa payment is still offered, limits or not; another org is not limited.
  EXPECT_EQ(EsewaInit(key).status, 200);
  EXPECT_EQ(Init(NewOrg("b@acme.test"), "BASIC").status, 201);
}

// A payment the payer cancelled at Khalti without coming back is not offered again: init asks
// Khalti first, and opens a new one.
TEST_F(IntegrationPaymentSafety, InitDoesNotOfferAgainAPaymentCancelledMeanwhile) {
  StartServer();
  const std::string key = NewOrg();
  Response first = Init(key);
  ASSERT_EQ(first.status, 201) << first.raw;
  Response cancel = SimCall("POST", "/_sim/khalti/" + first.body["pidx"].get<std::string>() +
                                        "/cancel");  // the redirect back is lost
  ASSERT_EQ(cancel.status, 200) << cancel.raw;
  Response second = Init(key);
  EXPECT_EQ(second.status, 201) << second.raw;
  EXPECT_NE(second.body["payment_id"], first.body["payment_id"]);
  EXPECT_NE(second.body["pidx"], first.body["pidx"]);
  Response old = GetPayment(key, first.body["payment_id"]);
  EXPECT_EQ(old.body["status"], "FAILED");
  EXPECT_EQ(old.body["reason"], "User canceled");
}

// A double click, or a script: many inits of one plan at once make one payment. The ones that
// arrive while it is being started are asked to retry in a second, and are then offered it.
TEST_F(IntegrationPaymentSafety, ConcurrentInitsOfOnePlanMakeOnePayment) {
  StartServer();
  const std::string key = NewOrg();
  constexpr int kEach = 10;
  std::vector<int> status(2 * kEach);
  std::vector<Json> bodies(2 * kEach);
  std::vector<std::function<void(httplib::Client&)>> calls;
  for (int i = 0; i < 2 * kEach; ++i) {
    const std::string path = i < kEach ? "/billing/khalti/init/" : "/billing/esewa/init/";
    calls.emplace_back([&, i, path](httplib::Client& cli) {
      auto r = cli.Post(path, {{"Authorization", "Bearer " + key}}, R"({"plan":"PRO"})",
                        "application/json");
      status[i] = r ? r->status : 0;
      bodies[i] = r ? Json::parse(r->body, nullptr, false) : Json();
    });
  }
  RunAtOnce(calls);
  EXPECT_EQ(CountRows("SELECT COUNT(*) FROM payments"), 2);
  for (int i = 0; i < 2 * kEach; ++i) {
    EXPECT_TRUE(status[i] == 201 || status[i] == 200 || status[i] == 429) << bodies[i].dump();
    if (status[i] == 429) {
      EXPECT_EQ(bodies[i].value("code", ""), "rate_limited");
      EXPECT_GE(bodies[i].value("retry_after", 0), 1);
    }
  }
  std::this_thread::sleep_for(std::chrono::milliseconds{1100});
  Response k = Init(key);
  Response e = EsewaInit(key);
  EXPECT_EQ(k.status, 200) << k.raw;
  EXPECT_EQ(e.status, 200) << e.raw;
  for (int i = 0; i < 2 * kEach; ++i) {
    if (status[i] == 200 || status[i] == 201) {
      EXPECT_EQ(bodies[i]["payment_id"], (i < kEach ? k : e).body["payment_id"]);
    }
  }
  EXPECT_EQ(CountRows("SELECT COUNT(*) FROM payments"), 2);
}

// One organization's backlog of due payments does not delay another's: every reconciler pass
// takes at most 8 of one organization, round-robin, so org B's paid payment is looked at in
// a pass that also serves A's backlog.
TEST_F(IntegrationPaymentSafety, ReconcilerServesEveryOrganizationAlongsideABacklog) {
  StartServer();
  const std::string a = NewOrg("a@acme.test");
  Response seed = Init(a);
  ASSERT_EQ(seed.status, 201) << seed.raw;
  // A backlog of 400 due Khalti payments of A (pidx Khalti does not know: they stay pending).
  Exec(
      "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 400) "
      "INSERT INTO payments(org_id, provider, plan, amount_paisa, status, purchase_order_id, "
      "reference_id, ref, expires_at, created_at, updated_at, next_check_at) "
      "SELECT p.org_id, 'KHALTI', 'PRO', 390000, 'PENDING', 'seed_' || i, 'seedpidx' || i, "
      "'pay_seed' || i, CAST(strftime('%s','now') AS INTEGER) + 3600, "
      "CAST(strftime('%s','now') AS INTEGER), CAST(strftime('%s','now') AS INTEGER), "
      "CAST(strftime('%s','now') AS INTEGER) FROM n, payments p WHERE p.id = " +
      std::to_string(seed.body["payment_id"].get<int64_t>()));

  const std::string b = NewOrg("b@acme.test");
  Response init = Init(b);
  ASSERT_EQ(init.status, 201) << init.raw;
  const int64_t id = init.body["payment_id"];
  Pay(init.body["pidx"]);  // the payer never comes back: only the reconciler can activate it
  ASSERT_TRUE(WaitFor([&] { return Status(b, id) == "SUCCESS"; }, 30000));
  EXPECT_EQ(CountRows("SELECT COUNT(*) FROM payment_events WHERE payment_id = " +
                      std::to_string(id) + " AND to_status = 'SUCCESS' AND cause = 'reconciler'"),
            1);

  // The passes, from the server's log.
  std::istringstream log(ReadFile(server_stderr_));
  std::string line;
  int passes = 0;
  bool served_b = false;
  while (std::getline(log, line)) {
    const Json j = Json::parse(line, nullptr, false);
    if (!j.is_object() || j.value("msg", "") != "reconciler: pass") continue;
    ++passes;
    int64_t most = 0;
    for (const auto& [org, n] : j["orgs"].items()) most = std::max(most, n.get<int64_t>());
    EXPECT_LE(most, 8) << line;
    const auto& ids = j["payment_ids"];
    if (std::find(ids.begin(), ids.end(), Json(id)) != ids.end() && !served_b) {
      served_b = true;
      // A still had a backlog: 8 of A in the very pass that served B.
      EXPECT_EQ(j["orgs"].size(), 2u) << line;
      EXPECT_EQ(ids.size(), 9u) << line;
    }
  }
  EXPECT_TRUE(served_b);
  EXPECT_GT(passes, 1);
}

}  // namespace
}  // namespace sima::integration
