// Payments decided without any request of the organization's — the gateway's redirect, the
// reconciler, the failure target — reach its open browsers: each publishes the organization's
// live usage event (events.h) with the plan the payment activated. The feed is drained by hand
// (the server's background work is off in InProcessTest) into a sink that records what a
// stream would have carried.
#include <mutex>

#include "events.h"
#include "in_process_harness.h"

namespace sima::integration {
namespace {

class Recorder final : public server::EventSink {
 public:
  bool Wants(const std::string&) override { return true; }
  void Publish(const server::OrgEvent& event) override {
    std::lock_guard lock(mu_);
    events_.push_back(event);
  }
  // The events of `org_id` published since the last call, oldest first.
  std::vector<Json> Take(const std::string& org_id) {
    std::lock_guard lock(mu_);
    std::vector<Json> out;
    for (const server::OrgEvent& e : events_) {
      if (e.org_id == org_id) out.push_back(Json::parse(e.data));
    }
    events_.clear();
    return out;
  }

 private:
  std::mutex mu_;
  std::vector<server::OrgEvent> events_;
};

class IntegrationLivePayments : public InProcessTest {
 protected:
  void SetUp() override {
    InProcessTest::SetUp();
    if (HasFatalFailure()) return;
    StartServer();
    if (HasFatalFailure()) return;
    ASSERT_NE(app().changes(), nullptr) << "SIMA_EVENTS is on by default";
    app().changes()->AddSink(&recorder_);
  }
  std::string OrgOf(const std::string& key) {
    Response r = Call("GET", "/billing/usage/", key);
    EXPECT_EQ(r.status, 200) << r.raw;
    return r.body.value("org_id", "");
  }
  // What the feed publishes now for `org_id` (the requests' own changes drained first by
  // Settle()).
  std::vector<Json> Published(const std::string& org_id) {
    app().changes()->Flush();
    return recorder_.Take(org_id);
  }
  void Settle() {
    app().changes()->Flush();
    (void)recorder_.Take("");
  }

  Recorder recorder_;
};

TEST_F(IntegrationLivePayments, TheKhaltiRedirectPublishesTheActivatedPlan) {
  const std::string key = NewOrg();
  const std::string org = OrgOf(key);
  Response init = Init(key);
  ASSERT_EQ(init.status, 201) << init.raw;
  Settle();

  const std::string redirect = Pay(init.body["pidx"]);
  ASSERT_FALSE(redirect.empty());
  ASSERT_EQ(FollowToServer(redirect).status, 302);
  const std::vector<Json> events = Published(org);
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0]["org_id"], org);
  EXPECT_EQ(events[0]["plan"], "PRO");
  EXPECT_EQ(events[0]["subscription"]["plan"], "PRO");
  EXPECT_FALSE(server::VersionHash(events[0]["version"].get<std::string>()).empty());
  // A repeat of the redirect decides nothing new and publishes nothing.
  ASSERT_EQ(FollowToServer(redirect).status, 302);
  EXPECT_TRUE(Published(org).empty());
}

TEST_F(IntegrationLivePayments, TheReconcilerPublishesAPaymentItDecides) {
  const std::string key = NewOrg();
  const std::string org = OrgOf(key);
  Response init = Init(key);
  ASSERT_EQ(init.status, 201) << init.raw;
  ASSERT_FALSE(Pay(init.body["pidx"]).empty());  // the payer never comes back to us
  Settle();

  Advance(std::chrono::seconds{5});  // the first check is due
  ASSERT_EQ(RunReconciler(), 1);
  const std::vector<Json> events = Published(org);
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0]["plan"], "PRO");
}

TEST_F(IntegrationLivePayments, APassThatDecidesNothingPublishesNothing) {
  const std::string key = NewOrg();
  const std::string org = OrgOf(key);
  ASSERT_EQ(Init(key).status, 201);
  Settle();
  Advance(std::chrono::seconds{5});
  ASSERT_EQ(RunReconciler(), 1);  // still PENDING at Khalti
  EXPECT_TRUE(Published(org).empty());
}

}  // namespace
}  // namespace sima::integration
