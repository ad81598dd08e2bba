// Paying for a plan with feature kinds, against the real simulator and server: the purchase
// starts a new period for metered counts and keeps allocations; switches and values are the new
// plan's; an override scoped to the old plan stops applying.
#include "harness.h"

namespace sima::integration {
namespace {

class IntegrationKinds : public IntegrationTest {
 protected:
  void SetUp() override {
    IntegrationTest::SetUp();
    if (HasFatalFailure()) return;
    StartServer();
  }
  Json Usage(const std::string& key) { return Call("GET", "/billing/usage/", key).body; }
};

TEST_F(IntegrationKinds, PayingForProKeepsSeatsAndCustomersAndStartsInvoicesAtZero) {
  const std::string key = NewOrg();
  const Response member = Call("POST", "/team-members/", key, {{"email", "sita@acme.test"}});
  ASSERT_EQ(member.status, 201) << member.raw;
  for (int i = 0; i < 3; ++i) {
    ASSERT_EQ(Call("POST", "/customers/", key, {{"name", "C"}, {"email", "c@acme.test"}}).status,
              201);
  }
  for (int i = 0; i < 4; ++i) {
    ASSERT_EQ(Call("POST", "/invoices/", key, {{"amount_paisa", 100}}).status, 201);
  }
  EXPECT_EQ(Call("POST", "/usage/pdf_export/", key, Json::object()).body["upgrade"]["plan"],
            "BASIC");

  Response init = Init(key, "PRO");
  ASSERT_EQ(init.status, 201) << init.raw;
  const std::string redirect = Pay(init.body["pidx"]);
  ASSERT_FALSE(redirect.empty());
  ASSERT_EQ(FollowToServer(redirect).status, 302);
  ASSERT_EQ(Plan(key), "PRO");

  const Json usage = Usage(key);
  EXPECT_EQ(usage["usage"]["team_members"]["used"], 1);
  EXPECT_EQ(usage["usage"]["team_members"]["text"], "1/10 seats (10%)");
  EXPECT_EQ(usage["usage"]["customers"]["used"], 3);
  EXPECT_EQ(usage["usage"]["invoices"]["used"], 0);
  EXPECT_EQ(usage["usage"]["pdf_export"]["text"], "On");
  EXPECT_EQ(usage["usage"]["custom_branding"]["text"], "On");
  EXPECT_EQ(usage["usage"]["attachment_mb"]["text"], "100 MB");
  EXPECT_EQ(Call("POST", "/usage/pdf_export/", key, Json::object()).status, 200);

  // Ten seats in all: the member who was there takes one of them.
  int added = 0;
  for (int i = 0; i < 10; ++i) {
    const std::string email = "m" + std::to_string(i) + "@acme.test";
    added += Call("POST", "/team-members/", key, {{"email", email}}).status == 201;
  }
  EXPECT_EQ(added, 9);
  const std::string sita = member.body["id"];
  EXPECT_EQ(Call("DELETE", "/team-members/" + sita + "/", key).status, 204);
  EXPECT_EQ(Call("POST", "/team-members/", key, {{"email", "gita@acme.test"}}).status, 201);
  Response full = Call("POST", "/team-members/", key, {{"email", "hari@acme.test"}});
  EXPECT_EQ(full.code(), "limit_reached");
  EXPECT_EQ(full.body["upgrade"], nullptr);  // PRO is the top plan
}

TEST_F(IntegrationKinds, ADealForTheOldPlanEndsWithIt) {
  Response org = Call("POST", "/admin/orgs/", kAdminToken, {{"name", "Deal"}, {"plan", "BASIC"}});
  ASSERT_EQ(org.status, 201) << org.raw;
  const std::string key = org.body["api_key"], id = org.body["org_id"];
  ASSERT_EQ(Call("PUT", "/admin/orgs/" + id + "/overrides/team_members/", kAdminToken,
                 {{"limit", 20}, {"plan", "BASIC"}, {"reason", "deal #7"}})
                .status,
            200);
  EXPECT_EQ(Usage(key)["usage"]["team_members"]["text"], "0/20 seats (0%)");

  Response init = Init(key, "PRO");
  ASSERT_EQ(init.status, 201) << init.raw;
  ASSERT_EQ(FollowToServer(Pay(init.body["pidx"])).status, 302);
  ASSERT_EQ(Plan(key), "PRO");
  const Json usage = Usage(key);
  EXPECT_EQ(usage["usage"]["team_members"]["text"], "0/10 seats (0%)");
  EXPECT_EQ(usage["usage"]["team_members"]["override"], nullptr);
  EXPECT_EQ(usage["overrides"][0]["plan"], "BASIC");  // still listed: it applies on BASIC
}

}  // namespace
}  // namespace sima::integration
