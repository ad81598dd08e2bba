// Limits hold under concurrency: many real HTTP clients at once, one limit.
#include <atomic>
#include <barrier>

#include "server_fixture.h"

namespace sima::server::testing {
namespace {

using ServerLimitRace = ServerTest;

// One request of a race.
struct RaceCall {
  std::string method;  // "POST" or "DELETE"
  std::string path;
  std::string body;
};

// Runs `n` clients that each send one request at (nearly) the same moment; returns statuses.
std::vector<int> Race(int port, int n, const std::string& key,
                      const std::function<RaceCall(int)>& call) {
  std::vector<int> status(static_cast<size_t>(n), 0);
  std::barrier start(n);
  std::vector<std::thread> threads;
  for (int i = 0; i < n; ++i) {
    threads.emplace_back([&, i] {
      httplib::Client cli("127.0.0.1", port);
      cli.set_connection_timeout(10);
      cli.set_read_timeout(30);
      const httplib::Headers h = {{"Authorization", "Bearer " + key}};
      const RaceCall c = call(i);
      start.arrive_and_wait();
      auto res = c.method == "DELETE" ? cli.Delete(c.path, h)
                                      : cli.Post(c.path, h, c.body, "application/json");
      status[static_cast<size_t>(i)] = res ? res->status : -1;
    });
  }
  for (auto& t : threads) t.join();
  return status;
}

// `n` POSTs of body(i) to `path` at once.
std::vector<int> Race(int port, int n, const std::string& path, const std::string& key,
                      const std::function<std::string(int)>& body) {
  return Race(port, n, key, [&](int i) { return RaceCall{"POST", path, body(i)}; });
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

// Creates and deletes of one allocation at once: a seat freed by a delete is taken by at most
// one create, the limit is never passed, and the counter the usage answer shows equals the
// rows the list shows.
class ServerAllocationRace : public ServerTest {
 protected:
  void CreatesAndDeletesAtOnceKeepCounterAndRows(const std::string& key, const std::string& path,
                                                 const std::string& feature, int limit,
                                                 const std::function<Json(int)>& body) {
    std::vector<std::string> ids;
    for (int i = 0; i < limit; ++i) {
      Response r = Send("POST", path, key, body(1000 + i).dump());
      ASSERT_EQ(r.status, 201) << r.raw;
      ids.push_back(r.body["id"]);
    }
    // 100 deletes (each existing object named by 100 / limit of them) and 100 creates.
    auto status = Race(port_, 200, key, [&](int i) {
      if (i % 2 == 0)
        return RaceCall{"DELETE", path + ids[static_cast<size_t>(i / 2) % ids.size()] + "/", ""};
      return RaceCall{"POST", path, body(i).dump()};
    });
    int created = 0, deleted = 0, refused = 0, missing = 0;
    for (int i = 0; i < 200; ++i) {
      const int s = status[static_cast<size_t>(i)];
      if (i % 2 == 0) {
        deleted += s == 204;
        missing += s == 404;
      } else {
        created += s == 201;
        refused += s == 403;
      }
    }
    EXPECT_EQ(deleted, limit);  // each object once
    EXPECT_EQ(missing, 100 - limit);
    EXPECT_EQ(created + refused, 100);
    EXPECT_LE(created, limit);  // only the freed seats
    const int64_t rows = static_cast<int64_t>(Get(path + "?limit=1000", key).body["items"].size());
    EXPECT_EQ(rows, created);
    EXPECT_LE(rows, limit);
    Response usage = Get("/billing/usage/", key);
    EXPECT_EQ(usage.body["usage"][feature]["used"], rows);
    // The counter still decides: exactly the free seats can be taken now.
    int more = 0;
    for (int i = 0; i < limit + 1; ++i) {
      more += Send("POST", path, key, body(2000 + i).dump()).status == 201;
    }
    EXPECT_EQ(more, limit - rows);
    EXPECT_EQ(static_cast<int64_t>(Get(path + "?limit=1000", key).body["items"].size()), limit);
  }
};

TEST_F(ServerAllocationRace, TeamMembersCreatedAndDeletedAtOnceNeverPassTheLimit) {
  CreatesAndDeletesAtOnceKeepCounterAndRows(NewKey("PRO"), "/team-members/", "team_members", 10,
                                            [](int i) {
                                              return Json({{"email", Email("m", i)}});
                                            });
}

TEST_F(ServerAllocationRace, CustomersCreatedAndDeletedAtOnceNeverPassTheLimit) {
  CreatesAndDeletesAtOnceKeepCounterAndRows(NewKey(), "/customers/", "customers", 5, [](int i) {
    return Json({{"name", "C"}, {"email", Email("c", i)}});
  });
}

}  // namespace
}  // namespace sima::server::testing
