// Limits hold under concurrency: many real HTTP clients at once, one limit.
#include <atomic>
#include <barrier>

#include "server_fixture.h"

namespace sima::server::testing {
namespace {

using ServerLimitRace = ServerTest;

// Runs `n` clients that each send one request at (nearly) the same moment; returns statuses.
std::vector<int> Race(int port, int n, const std::string& path, const std::string& key,
                      const std::function<std::string(int)>& body) {
  std::vector<int> status(static_cast<size_t>(n), 0);
  std::barrier start(n);
  std::vector<std::thread> threads;
  for (int i = 0; i < n; ++i) {
    threads.emplace_back([&, i] {
      httplib::Client cli("127.0.0.1", port);
      cli.set_connection_timeout(10);
      cli.set_read_timeout(30);
      const httplib::Headers h = {{"Authorization", "Bearer " + key}};
      const std::string b = body(i);
      start.arrive_and_wait();
      auto res = cli.Post(path, h, b, "application/json");
      status[static_cast<size_t>(i)] = res ? res->status : -1;
    });
  }
  for (auto& t : threads) t.join();
  return status;
}

TEST_F(ServerLimitRace, TwoHundredInvoicesAtOnceMakeExactlyTenOnFree) {
  const std::string key = NewKey();
  auto status = Race(port_, 200, "/invoices/", key, [](int i) {
    return Json({{"amount_paisa", i}}).dump();
  });
  EXPECT_EQ(std::count(status.begin(), status.end(), 201), 10);
  EXPECT_EQ(std::count(status.begin(), status.end(), 403), 190);
  EXPECT_EQ(Get("/invoices/?limit=1000", key).body["items"].size(), 10u);
  EXPECT_EQ(Used(key, "invoices"), 10);
  EXPECT_EQ(Used(key, "api_calls"), 10 + 3);  // the creates, the list and two usage reads
}

// "<prefix><i>@x.np". (Built with append: GCC 12 -O2 warns falsely on "c" + to_string(i).)
std::string Email(const char* prefix, int i) {
  std::string email(prefix);
  email.append(std::to_string(i)).append("@x.np");
  return email;
}

TEST_F(ServerLimitRace, CustomersAndTeamMembersHoldToo) {
  const std::string key = NewKey();
  auto customers = Race(port_, 60, "/customers/", key, [](int i) {
    return Json({{"name", "C"}, {"email", Email("c", i)}}).dump();
  });
  EXPECT_EQ(std::count(customers.begin(), customers.end(), 201), 5);
  auto members = Race(port_, 60, "/team-members/", key, [](int i) {
    return Json({{"email", Email("m", i)}}).dump();
  });
  EXPECT_EQ(std::count(members.begin(), members.end(), 201), 1);
  EXPECT_EQ(Used(key, "customers"), 5);
  EXPECT_EQ(Used(key, "team_members"), 1);
  EXPECT_EQ(Get("/customers/", key).body["items"].size(), 5u);
}

TEST_F(ServerLimitRace, SameEmailAtOnceJoinsOnce) {
  const std::string key = NewKey("PRO");
  auto status = Race(port_, 40, "/team-members/", key, [](int) {
    return Json({{"email", "same@x.np"}}).dump();
  });
  EXPECT_EQ(std::count(status.begin(), status.end(), 201), 1);
  EXPECT_EQ(std::count(status.begin(), status.end(), 409), 39);
}

TEST_F(ServerLimitRace, CounterEqualsRowsOnProUnderLoad) {
  const std::string key = NewKey("PRO");
  auto status = Race(port_, 150, "/invoices/", key, [](int i) {
    return Json({{"amount_paisa", i}}).dump();
  });
  EXPECT_EQ(std::count(status.begin(), status.end(), 201), 150);
  EXPECT_EQ(Used(key, "invoices"), 150);
  EXPECT_EQ(Get("/invoices/?limit=1000", key).body["items"].size(), 150u);
}

}  // namespace
}  // namespace sima::server::testing
