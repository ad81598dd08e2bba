// Webhooks end to end: a real sima-server (SQLite) delivers to a receiver in this process that
// checks every signature (webhook_receiver.h). Retries after 500s, timeouts and a receiver that
// is down; an organization's events in sequence order; one event per change across a kill -9.
// The retries follow the real schedule (10 s, then 20 s): these tests take tens of seconds.
#include <atomic>
#include <map>
#include <thread>

#include "harness.h"
#include "webhook_receiver.h"

namespace sima::integration {
namespace {

using Answer = WebhookReceiver::Answer;

class WebhookTest : public IntegrationTest {
 protected:
  void SetUp() override {
    IntegrationTest::SetUp();
    if (HasFatalFailure()) return;
    server_env_["SIMA_WEBHOOK_ALLOW_PRIVATE"] = "1";
    server_env_["SIMA_WEBHOOK_INTERVAL_MS"] = "50";
    server_env_["SIMA_WEBHOOK_TIMEOUT_MS"] = "500";
    StartServer();
  }

  // A server-wide endpoint at `url`; its secret.
  std::string AddEndpoint(const std::string& url) {
    Response r = Call("POST", "/admin/webhooks/", kAdminToken, {{"url", url}});
    EXPECT_EQ(r.status, 201) << r.raw;
    return r.body.value("secret", "");
  }

  struct Org {
    std::string id;
    std::string key;
  };
  Org NewPaidOrg() {
    Response r = Call("POST", "/admin/orgs/", kAdminToken,
                      {{"name", "Acme"}, {"billing_email", "owner@acme.test"}, {"plan", "PRO"}});
    EXPECT_EQ(r.status, 201) << r.raw;
    return {r.body.value("org_id", ""), r.body.value("api_key", "")};
  }
  // One subscription change (cancel at the end of the period, then undo it, ...): one event.
  Response Change(const Org& org, int n, int port = 0) {
    return CallAt(port == 0 ? server_port_ : port, "POST", "/billing/subscription/", org.key,
                  {{"change", n % 2 == 0 ? "cancel" : "undo"}});
  }
  int64_t Events() { return CountRows("SELECT COUNT(*) FROM webhook_events"); }
  // Waits until the receiver has answered 2xx to every event written so far.
  bool AllDelivered(WebhookReceiver& receiver, int ms = 60000) {
    return WaitFor([&] { return static_cast<int64_t>(receiver.delivered().size()) == Events(); },
                   ms);
  }
};

TEST_F(WebhookTest, SignedDeliveriesAreRetriedAfter500sUntilA2xx) {
  WebhookReceiver receiver;
  std::map<std::string, int> tries;
  receiver.set_decide([&](const WebhookReceiver::Delivery& d) {
    return ++tries[d.id] <= 2 ? Answer::kError : Answer::kOk;
  });
  receiver.set_secret(AddEndpoint(receiver.url()));
  const Org org = NewPaidOrg();
  ASSERT_EQ(Change(org, 0).status, 200);
  ASSERT_TRUE(AllDelivered(receiver)) << ReadFile(server_stderr_);
  EXPECT_TRUE(receiver.all_valid());
  const auto received = receiver.received();
  EXPECT_EQ(received.size(), 3 * receiver.delivered().size());
  // The log: two 500s, then the 200, for each event.
  EXPECT_EQ(CountRows("SELECT COUNT(*) FROM webhook_attempts WHERE status_code = 500"),
            2 * Events());
  EXPECT_EQ(CountRows("SELECT COUNT(*) FROM webhook_attempts WHERE status_code = 200"), Events());
  EXPECT_EQ(CountRows("SELECT COUNT(*) FROM webhook_deliveries WHERE status = 'delivered'"),
            Events());
  EXPECT_EQ(CountRows("SELECT COUNT(*) FROM webhook_attempts WHERE status_code = 500 AND "
                      "response_body = 'not now' AND error = 'HTTP 500'"),
            2 * Events());
}

TEST_F(WebhookTest, AReceiverThatHangsIsCutOffAtTheTimeoutAndRetried) {
  WebhookReceiver receiver;
  std::map<std::string, int> tries;
  receiver.set_decide([&](const WebhookReceiver::Delivery& d) {
    return ++tries[d.id] == 1 ? Answer::kHang : Answer::kOk;
  });
  receiver.set_secret(AddEndpoint(receiver.url()));
  const Org org = NewPaidOrg();
  ASSERT_EQ(Change(org, 0).status, 200);
  ASSERT_TRUE(AllDelivered(receiver)) << ReadFile(server_stderr_);
  EXPECT_TRUE(receiver.all_valid());
  EXPECT_EQ(CountRows("SELECT COUNT(*) FROM webhook_attempts WHERE status_code IS NULL AND "
                      "error LIKE '%timed out%' AND duration_ms >= 400 AND duration_ms < 5000"),
            Events());
}

TEST_F(WebhookTest, AReceiverThatIsDownGetsItsEventsWhenItComesUp) {
  const int port = FreePort();
  const std::string secret = AddEndpoint("http://127.0.0.1:" + std::to_string(port) + "/hooks");
  const Org org = NewPaidOrg();
  ASSERT_EQ(Change(org, 0).status, 200);
  // Refused, and retried: at least two tries in the log before the receiver starts.
  ASSERT_TRUE(WaitFor(
      [&] {
        return CountRows("SELECT COUNT(*) FROM webhook_attempts WHERE status_code IS NULL") >= 2;
      },
      30000));
  EXPECT_EQ(CountRows("SELECT COUNT(*) FROM webhook_deliveries WHERE status = 'pending'"),
            Events());
  WebhookReceiver receiver(port);
  receiver.set_secret(secret);
  ASSERT_TRUE(AllDelivered(receiver)) << ReadFile(server_stderr_);
  EXPECT_TRUE(receiver.all_valid());
}

TEST_F(WebhookTest, AnOrganizationsEventsArriveInSequenceOrderEvenWhenOneIsRetried) {
  WebhookReceiver receiver;
  std::atomic<bool> failed_once{false};
  receiver.set_decide([&](const WebhookReceiver::Delivery&) {
    // The first delivery of all fails: the rest of its organization's events wait for it.
    return failed_once.exchange(true) ? Answer::kOk : Answer::kError;
  });
  receiver.set_secret(AddEndpoint(receiver.url()));
  const Org a = NewPaidOrg();
  const Org b = NewPaidOrg();
  for (int i = 0; i < 6; ++i) {
    ASSERT_EQ(Change(a, i).status, 200);
    ASSERT_EQ(Change(b, i).status, 200);
  }
  ASSERT_TRUE(AllDelivered(receiver)) << ReadFile(server_stderr_);
  EXPECT_TRUE(receiver.all_valid());
  std::map<std::string, std::vector<int64_t>> order;  // accepted deliveries per organization
  for (const auto& d : receiver.received()) {
    if (d.answer == Answer::kOk) order[d.org_id].push_back(d.sequence);
  }
  ASSERT_EQ(order.size(), 2U);
  for (const auto& [org, seqs] : order) {
    EXPECT_TRUE(std::is_sorted(seqs.begin(), seqs.end())) << org;
    EXPECT_EQ(std::adjacent_find(seqs.begin(), seqs.end()), seqs.end()) << org;  // once each
  }
}

TEST_F(WebhookTest, EveryChangeIsOneEventAndEveryEventArrivesAcrossAKill9) {
  WebhookReceiver receiver;
  receiver.set_secret(AddEndpoint(receiver.url()));
  std::vector<Org> orgs;
  for (int i = 0; i < 4; ++i) orgs.push_back(NewPaidOrg());
  ASSERT_TRUE(AllDelivered(receiver));
  const int64_t before = Events();

  std::atomic<int> acknowledged{0};
  std::atomic<int> attempted{0};
  std::atomic<bool> stop{false};
  std::vector<std::thread> writers;
  for (const Org& org : orgs) {
    writers.emplace_back([&, org] {
      // Only a change the server answered moves on: an unanswered one may or may not have
      // committed, so it is tried again (the same kind, which is a no-op or the change).
      for (int n = 0; !stop;) {
        ++attempted;
        const Response r = Change(org, n);
        if (r.status == 200) {
          ++acknowledged;
          ++n;
        } else if (r.status == 409 || r.status == 400) {
          ++n;  // the previous unanswered one did commit
        }
      }
    });
  }
  ASSERT_TRUE(WaitFor([&] { return acknowledged >= 60; }, 30000));
  KillServer(9);  // mid-burst: changes and deliveries in flight
  stop = true;
  for (auto& w : writers) w.join();
  StartServer();

  ASSERT_TRUE(AllDelivered(receiver)) << ReadFile(server_stderr_);
  EXPECT_TRUE(receiver.all_valid());
  const int64_t changes = Events() - before;
  // Every acknowledged change wrote its event; an unanswered one at most one.
  EXPECT_GE(changes, acknowledged.load());
  EXPECT_LE(changes, attempted.load());
  // One event id per committed change: distinct ids seen == events written, whatever arrived
  // twice (a try in flight at the kill is tried again).
  EXPECT_EQ(static_cast<int64_t>(receiver.delivered().size()), Events());
  EXPECT_EQ(CountRows("SELECT COUNT(DISTINCT id) FROM webhook_events"), Events());
}

}  // namespace
}  // namespace sima::integration
