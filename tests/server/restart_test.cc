// Everything survives a restart on the same database file.
#include "migrations.h"
#include "server_fixture.h"

namespace sima::server::testing {
namespace {

using ServerRestart = ServerTest;

TEST_F(ServerRestart, KeysSessionsAndCountsSurvive) {
  const std::string key = NewKey();
  const std::string token = Send("POST", "/sessions/", key, "").body["token"];
  for (int i = 0; i < 7; ++i) ASSERT_EQ(Post("/invoices/", key, {{"amount_paisa", 1}}).status, 201);
  const Json before = Get("/invoices/", key).body;
  Restart();
  EXPECT_EQ(Get("/invoices/", key).body, before);
  EXPECT_EQ(Get("/billing/usage/", token).status, 200);
  EXPECT_EQ(Used(key, "invoices"), 7);
  for (int i = 0; i < 3; ++i) ASSERT_EQ(Post("/invoices/", key, {{"amount_paisa", 1}}).status, 201);
  EXPECT_EQ(Post("/invoices/", key, {{"amount_paisa", 1}}).status, 403);
}

TEST_F(ServerRestart, MigrationsAreAppliedOnce) {
  Restart();
  Restart();
  auto db = sqlite::Db::Open(config_.db, true);
  ASSERT_TRUE(db.ok());
  auto count = (*db)->QueryInt("SELECT COUNT(*) FROM schema_migrations");
  ASSERT_TRUE(count.ok());
  EXPECT_EQ(*count, static_cast<int64_t>(Migrations().size()));
}

}  // namespace
}  // namespace sima::server::testing

namespace sima::server::testing {
namespace {

TEST_F(ServerRestart, StopLetsInFlightRequestsFinishAndEveryAnswerMatchesTheRows) {
  const std::string key = NewKey("PRO");
  std::atomic<int> created{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < 16; ++i) {
    threads.emplace_back([&] {
      httplib::Client cli("127.0.0.1", port_);
      cli.set_keep_alive(true);
      const httplib::Headers h = {{"Authorization", "Bearer " + key}};
      for (int j = 0; j < 200; ++j) {
        auto res = cli.Post("/invoices/", h, R"({"amount_paisa":1})", "application/json");
        if (!res) break;
        if (res->status == 201) ++created;
      }
    });
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  StopServer();  // while the clients are still sending
  for (auto& t : threads) t.join();
  StartServer();
  EXPECT_GT(created.load(), 0);
  EXPECT_EQ(Used(key, "invoices"), created.load());
  EXPECT_EQ(Get("/invoices/?limit=1000", key).body["items"].size(),
            static_cast<size_t>(std::min(created.load(), 1000)));
}

}  // namespace
}  // namespace sima::server::testing
