// Webhooks from several sima-server processes on one PostgreSQL: every event is delivered, no
// delivery is tried by two instances at once (the receiver sees no overlapping tries of one
// event), and the deliveries an instance held when it was killed are finished by another once
// their lease runs out.
#include <map>

#include "multi_instance_harness.h"
#include "webhook_receiver.h"

namespace sima::integration {
namespace {

using Answer = WebhookReceiver::Answer;

class MultiInstanceWebhookTest : public MultiInstanceTest {
 protected:
  void SetUp() override {
    MultiInstanceTest::SetUp();
    server_env_["SIMA_WEBHOOK_ALLOW_PRIVATE"] = "1";
    server_env_["SIMA_WEBHOOK_INTERVAL_MS"] = "50";
  }
  struct Org {
    std::string id;
    std::string key;
  };
  Org NewPaidOrg(size_t instance) {
    Response r = CallOn(instance, "POST", "/admin/orgs/", kAdminToken,
                        {{"name", "Acme"}, {"billing_email", "o@acme.test"}, {"plan", "PRO"}});
    EXPECT_EQ(r.status, 201) << r.raw;
    return {r.body.value("org_id", ""), r.body.value("api_key", "")};
  }
  Response Change(size_t instance, const Org& org, int n) {
    return CallAt(ports_[instance], "POST", "/billing/subscription/", org.key,
                  {{"change", n % 2 == 0 ? "cancel" : "undo"}});
  }
  int64_t Events() { return CountRows("SELECT COUNT(*) FROM webhook_events"); }
};

TEST_F(MultiInstanceWebhookTest, TwoInstancesDeliverEveryEventAndNeverTheSameOneAtOnce) {
  server_env_["SIMA_WEBHOOK_TIMEOUT_MS"] = "2000";
  StartInstances(2);
  WebhookReceiver receiver;
  Response created = CallOn(0, "POST", "/admin/webhooks/", kAdminToken, {{"url", receiver.url()}});
  ASSERT_EQ(created.status, 201) << created.raw;
  receiver.set_secret(created.body.value("secret", ""));
  std::vector<Org> orgs;
  for (size_t i = 0; i < 6; ++i) orgs.push_back(NewPaidOrg(i % 2));
  for (int n = 0; n < 10; ++n) {
    for (size_t i = 0; i < orgs.size(); ++i) {
      // Each organization's changes in order, spread over both instances.
      ASSERT_EQ(Change((i + static_cast<size_t>(n)) % 2, orgs[i], n).status, 200);
    }
  }
  ASSERT_TRUE(WaitFor([&] { return static_cast<int64_t>(receiver.delivered().size()) == Events(); },
                      60000));
  EXPECT_TRUE(receiver.all_valid());
  EXPECT_EQ(receiver.overlaps(), 0);
  // Each delivery was delivered by one try: no instance tried one another had.
  EXPECT_EQ(CountRows("SELECT COUNT(*) FROM webhook_attempts"), Events());
  EXPECT_EQ(static_cast<int64_t>(receiver.received().size()), Events());
}

TEST_F(MultiInstanceWebhookTest, AKilledInstancesDeliveriesAreFinishedByTheOtherAfterTheLease) {
  // Lease = 2 x 2 s + 5 s = 9 s. The receiver holds first tries 2.5 s: past the timeout, and
  // over long before any retry (8 s at the least after a 2 s timeout), so none overlaps one.
  server_env_["SIMA_WEBHOOK_TIMEOUT_MS"] = "2000";
  StartInstances(2);
  WebhookReceiver receiver;
  receiver.set_hang(std::chrono::milliseconds{2500});
  std::map<std::string, int> tries;
  receiver.set_decide([&](const WebhookReceiver::Delivery& d) {
    return ++tries[d.id] == 1 ? Answer::kHang : Answer::kOk;
  });
  Response created = CallOn(0, "POST", "/admin/webhooks/", kAdminToken, {{"url", receiver.url()}});
  ASSERT_EQ(created.status, 201) << created.raw;
  receiver.set_secret(created.body.value("secret", ""));
  std::vector<Org> orgs;
  for (size_t i = 0; i < 8; ++i) orgs.push_back(NewPaidOrg(i % 2));
  for (size_t i = 0; i < orgs.size(); ++i) ASSERT_EQ(Change(i % 2, orgs[i], 0).status, 200);
  // Both instances are in the middle of tries (the receiver holds every first one)...
  ASSERT_TRUE(WaitFor([&] { return receiver.received().size() >= 4; }, 20000));
  instances_[0]->Kill(9);  // ...and one dies with its leases.
  ASSERT_TRUE(
      WaitFor([&] { return static_cast<int64_t>(receiver.delivered().size()) == Events(); }, 60000))
      << "delivered " << receiver.delivered().size() << " of " << Events();
  EXPECT_TRUE(receiver.all_valid());
  EXPECT_EQ(receiver.overlaps(), 0);
  EXPECT_EQ(CountRows("SELECT COUNT(*) FROM webhook_deliveries WHERE status <> 'delivered'"), 0);
}

}  // namespace
}  // namespace sima::integration
