// What the reminder scheduler's walk costs on a SqliteStore with many organizations: one
// organization in ten on a paid plan whose end lies anywhere from 30 days ago to 30 days ahead,
// the rest FREE. Walks Store::ReminderCandidates in pages, as the scheduler does, and prints
// how many candidates it found and how long the walk and one page took.
// Usage: reminder_walk [organizations] [page]   (default 1000000 and 500; a temporary database)
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include "sqlite_store.h"

using namespace sima;
using namespace sima::server;

namespace {

using Steady = std::chrono::steady_clock;

double MsSince(Steady::time_point t) {
  return std::chrono::duration<double, std::milli>(Steady::now() - t).count();
}

}  // namespace

int main(int argc, char** argv) {
  const int64_t orgs = argc > 1 ? std::atoll(argv[1]) : 1000000;
  const int64_t page = argc > 2 ? std::atoll(argv[2]) : 500;
  char dir[] = "/tmp/sima-reminders-XXXXXX";
  if (::mkdtemp(dir) == nullptr) return 1;
  const std::string path = std::string(dir) + "/walk.db";
  const Time now{std::chrono::seconds{1767225600}};
  auto opened = SqliteStore::Open({path}, Catalog::Default());
  if (!opened) return std::fprintf(stderr, "%s\n", opened.error().message.c_str()), 1;
  auto store = std::move(opened).value();

  auto t = Steady::now();
  auto made = store->Write<Done>(SqliteStore::Durability::kNormal, [&](sqlite::Db& db) {
    const std::string numbers =
        "WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i + 1 < ?) ";
    if (auto r = db.Run(numbers + "INSERT INTO organizations(id, name, created_at) "
                                  "SELECT printf('org_%09d', i), 'Bench', ? FROM n",
                        orgs, now);
        !r) {
      return r;
    }
    // Every tenth paid; its end spread over now - 30 days .. now + 30 days.
    return db.Run(numbers +
                      "INSERT INTO subscriptions(org_id, plan, start_at, end_at, updated_at) "
                      "SELECT printf('org_%09d', i), CASE WHEN i % 10 = 0 THEN 'PRO' ELSE "
                      "'FREE' END, ?, CASE WHEN i % 10 = 0 THEN ? + (i * 7919) % 5184000 END, ? "
                      "FROM n",
                  orgs, now - Days{60}, now - Days{30}, now);
  });
  if (!made) return std::fprintf(stderr, "%s\n", made.error().message.c_str()), 1;
  std::printf("organizations: %lld (%lld paid), made in %.0f ms\n", static_cast<long long>(orgs),
              static_cast<long long>((orgs + 9) / 10), MsSince(t));

  t = Steady::now();
  int64_t found = 0, pages = 0;
  double slowest = 0;
  std::string after;
  for (;;) {
    const auto p = Steady::now();
    auto batch = store->ReminderCandidates(now, after, page);
    slowest = std::max(slowest, MsSince(p));
    if (!batch) return std::fprintf(stderr, "%s\n", batch.error().message.c_str()), 1;
    if (batch->empty()) break;
    found += static_cast<int64_t>(batch->size());
    ++pages;
    after = batch->back();
  }
  const double walk = MsSince(t);
  std::printf(
      "walk: %lld candidates in %lld pages of %lld: %.0f ms (%.2f ms a page, slowest %.2f)\n",
      static_cast<long long>(found), static_cast<long long>(pages), static_cast<long long>(page),
      walk, pages > 0 ? walk / static_cast<double>(pages) : 0, slowest);
  store.reset();
  std::filesystem::remove_all(dir);
  return 0;
}
