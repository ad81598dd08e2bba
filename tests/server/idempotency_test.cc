// POST /usage/{feature}/ with idempotency keys.
#include "server_fixture.h"

namespace sima::server::testing {
namespace {

using ServerIdempotency = ServerTest;

TEST_F(ServerIdempotency, MetersAFeature) {
  const std::string key = NewKey();
  Response r = Post("/usage/invoices/", key, {{"quantity", 3}});
  ASSERT_EQ(r.status, 200) << r.raw;
  EXPECT_EQ(r.body["allowed"], true);
  EXPECT_EQ(r.body["feature"], "invoices");
  EXPECT_EQ(r.body["used"], 3);
  EXPECT_EQ(r.body["limit"], 10);
  EXPECT_EQ(r.body["plan"], "FREE");
  EXPECT_EQ(Post("/usage/invoices/", key, Json::object()).body["used"], 4);  // quantity 1
}

TEST_F(ServerIdempotency, RepeatedKeyCountsOnceAndReturnsTheFirstAnswer) {
  const std::string key = NewKey();
  const Json body = {{"quantity", 2}, {"idempotency_key", "order-42"}};
  Response first = Post("/usage/invoices/", key, body);
  ASSERT_EQ(first.status, 200);
  Post("/usage/invoices/", key, {{"quantity", 1}});  // used is now 3
  Response again = Post("/usage/invoices/", key, body);
  EXPECT_EQ(again.status, 200);
  EXPECT_EQ(again.body, first.body);
  EXPECT_EQ(again.headers.find("Idempotent-Replayed")->second, "true");
  EXPECT_EQ(Used(key, "invoices"), 3);
}

TEST_F(ServerIdempotency, KeysBelongToOneOrganization) {
  const std::string a = NewKey(), b = NewKey();
  const Json body = {{"quantity", 1}, {"idempotency_key", "k"}};
  EXPECT_EQ(Post("/usage/invoices/", a, body).body["used"], 1);
  EXPECT_EQ(Post("/usage/invoices/", b, body).body["used"], 1);
  EXPECT_EQ(Used(b, "invoices"), 1);
}

TEST_F(ServerIdempotency, SameKeyForAnotherRequestIsConflict) {
  const std::string key = NewKey();
  Post("/usage/invoices/", key, {{"quantity", 1}, {"idempotency_key", "k"}});
  Response r = Post("/usage/invoices/", key, {{"quantity", 2}, {"idempotency_key", "k"}});
  EXPECT_EQ(r.status, 409);
  EXPECT_EQ(r.body["field"], "idempotency_key");
  EXPECT_EQ(Post("/usage/customers/", key, {{"quantity", 1}, {"idempotency_key", "k"}}).status,
            409);
  EXPECT_EQ(Used(key, "invoices"), 1);
}

TEST_F(ServerIdempotency, ConcurrentRepeatsCountOnce) {
  const std::string key = NewKey("PRO");
  std::vector<std::thread> threads;
  std::atomic<int> ok{0};
  for (int i = 0; i < 30; ++i) {
    threads.emplace_back([&] {
      if (Post("/usage/invoices/", key, {{"quantity", 5}, {"idempotency_key", "same"}}).status ==
          200) {
        ++ok;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(ok.load(), 30);
  EXPECT_EQ(Used(key, "invoices"), 5);
}

TEST_F(ServerIdempotency, RefusalIsNotRememberedSoARetryAfterUpgradeCanPass) {
  const std::string key = NewKey();
  Response r = Post("/usage/invoices/", key, {{"quantity", 11}, {"idempotency_key", "big"}});
  EXPECT_EQ(r.status, 403);
  EXPECT_EQ(r.body["current"], 0);
  EXPECT_EQ(r.body["upgrade"]["plan"], "BASIC");
  EXPECT_EQ(Post("/usage/invoices/", key, {{"quantity", 10}, {"idempotency_key", "big"}}).status,
            200);
}

TEST_F(ServerIdempotency, SoftFeatureGoesOver) {
  const std::string key = NewKey();
  Response r = Post("/usage/api_calls/", key, {{"quantity", 500}});
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body["over"], true);
  EXPECT_EQ(r.body["used"], 501);  // this call counts itself too
}

TEST_F(ServerIdempotency, UnknownFeatureIs404) {
  Response r = Post("/usage/rockets/", NewKey(), {{"quantity", 1}});
  EXPECT_EQ(r.status, 404);
  EXPECT_EQ(r.code(), "not_found");
}

}  // namespace
}  // namespace sima::server::testing
