// Lists walk every item: keyset cursors on every list endpoint.
#include <set>

#include "server_fixture.h"

namespace sima::server::testing {
namespace {

using ServerLists = ServerTest;

TEST_F(ServerLists, CursorWalksEveryInvoiceOnceInOrderWhileInsertsHappen) {
  const Json org = CreateOrg("Big", "PRO");
  const std::string key = org["api_key"], org_id = org["org_id"];
  // 2,500 invoices over several seconds (several share a second: both halves of the key).
  std::vector<std::string> created;
  for (int i = 0; i < 2500; ++i) {
    if (i % 400 == 0) clock_.Advance(std::chrono::seconds{1});
    Invoice inv{NewId("inv").value(), i, std::nullopt, "", clock_.Now()};
    auto r = app_->store().CreateInvoice(org_id, inv, clock_.Now());
    ASSERT_TRUE(r.ok()) << r.error().message;
    created.push_back(inv.id);
  }
  std::vector<std::string> seen;
  std::string cursor;
  int pages = 0;
  for (;;) {
    Response r = Get("/invoices/?limit=300" + (cursor.empty() ? "" : "&cursor=" + cursor), key);
    ASSERT_EQ(r.status, 200) << r.raw;
    for (const Json& item : r.body["items"]) seen.push_back(item["id"]);
    ++pages;
    // New invoices between pages: newer than every page so far, never in a later one.
    for (int j = 0; j < 3; ++j) {
      ASSERT_EQ(Post("/invoices/", key, {{"amount_paisa", 1}}).status, 201);
    }
    if (r.body["next_cursor"].is_null()) break;
    cursor = r.body["next_cursor"];
    ASSERT_LE(pages, 10);
  }
  EXPECT_EQ(pages, 9);
  ASSERT_EQ(seen.size(), created.size());
  // Newest first: exactly the creation order reversed, each once.
  EXPECT_TRUE(std::equal(seen.begin(), seen.end(), created.rbegin()));
  EXPECT_EQ(std::set<std::string>(seen.begin(), seen.end()).size(), 2500u);
}

TEST_F(ServerLists, EveryListPagesWithACursor) {
  const Json org = CreateOrg("Acme", "PRO");
  const std::string key = org["api_key"];
  for (int i = 0; i < 3; ++i) {
    ASSERT_EQ(Post("/customers/", key, {{"name", "C"}, {"email", "c@example.com"}}).status, 201);
    ASSERT_EQ(
        Post("/team-members/", key, {{"email", "t" + std::to_string(i) + "@example.com"}}).status,
        201);
  }
  for (const std::string path : {"/customers/", "/team-members/"}) {
    Response first = Get(path + "?limit=2", key);
    ASSERT_EQ(first.status, 200) << first.raw;
    ASSERT_EQ(first.body["items"].size(), 2u);
    ASSERT_TRUE(first.body["next_cursor"].is_string()) << path;
    Response rest =
        Get(path + "?limit=2&cursor=" + first.body["next_cursor"].get<std::string>(), key);
    ASSERT_EQ(rest.body["items"].size(), 1u) << path;
    EXPECT_EQ(rest.body["next_cursor"], nullptr);
    EXPECT_NE(rest.body["items"][0]["id"], first.body["items"][1]["id"]);
  }
  Response all = Get("/invoices/", key);
  EXPECT_EQ(all.body["items"].size(), 0u);
  EXPECT_EQ(all.body["next_cursor"], nullptr);
  Response payments = Get("/billing/payments/", key);
  ASSERT_EQ(payments.status, 200) << payments.raw;
  EXPECT_EQ(payments.body["next_cursor"], nullptr);
}

TEST_F(ServerLists, BadCursorIsAValidationErrorOnEveryList) {
  const Json org = CreateOrg();
  const std::string key = org["api_key"];
  const std::string keys_path = "/admin/orgs/" + org["org_id"].get<std::string>() + "/keys/";
  for (const std::string bad :
       {"nonsense", "djE6MTo!", "djI6MTox", "djE6LTE6MQ", "djE6MDE6MQ", "%00"}) {
    for (const std::string path :
         {"/invoices/", "/customers/", "/team-members/", "/billing/payments/"}) {
      Response r = Get(path + "?cursor=" + bad, key);
      EXPECT_EQ(r.status, 400) << path << " " << bad;
      EXPECT_EQ(r.code(), "validation_error");
      EXPECT_EQ(r.body["field"], "cursor");
    }
    Response r = Get(keys_path + "?cursor=" + bad, kAdminToken);
    EXPECT_EQ(r.body["field"], "cursor") << bad;
  }
  // "djE6MTox" is the cursor v1:1:1 — well formed, so it is a position, not an error.
  EXPECT_EQ(Get("/invoices/?cursor=djE6MTox", key).status, 200);
  EXPECT_EQ(Used(key, "api_calls"), 2);  // refused calls changed nothing
}

}  // namespace
}  // namespace sima::server::testing
