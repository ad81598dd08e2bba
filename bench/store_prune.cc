// Storage bounds measured in-process on a SqliteStore: bytes one idempotency key costs and
// what one pruning pass removes and how long it takes, with the server's batch sizes.
// Usage: store_prune [keys]   (default 200000; a temporary database)
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include "app.h"
#include "auth.h"
#include "sqlite_store.h"

using namespace sima;
using namespace sima::server;

namespace {

int64_t FileBytes(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 ? static_cast<int64_t>(st.st_size) : 0;
}

}  // namespace

int main(int argc, char** argv) {
  const int64_t keys = argc > 1 ? std::atoll(argv[1]) : 200000;
  char dir[] = "/tmp/sima-prune-XXXXXX";
  if (::mkdtemp(dir) == nullptr) return 1;
  const std::string path = std::string(dir) + "/prune.db";
  const Time start{std::chrono::seconds{1767225600}};
  SqliteStore::Options options{path};
  {
    auto opened = SqliteStore::Open(options, Catalog::Default());
    if (!opened) return std::fprintf(stderr, "%s\n", opened.error().message.c_str()), 1;
    auto store = std::move(opened).value();
    const std::string org = NewId("org").value();
    if (!store->CreateOrg({org, "Bench", "hash", {"FREE", start, std::nullopt}, start})) return 1;
    store.reset();
    const int64_t before = FileBytes(path);
    auto again = SqliteStore::Open(options, Catalog::Default());
    if (!again) return 1;
    auto reopened = std::move(again).value();
    // Concurrent callers share commits, as under real load.
    std::vector<std::thread> threads;
    const int n_threads = 16;
    for (int t = 0; t < n_threads; ++t) {
      threads.emplace_back([&, t] {
        for (int64_t i = t; i < keys; i += n_threads) {
          MeterRequest req{"api_calls", 1, "key-" + std::to_string(i)};
          (void)reopened->RecordUsage(org, req, start);
        }
      });
    }
    for (auto& th : threads) th.join();
    for (int64_t i = 0; i < 5000; ++i) {
      (void)reopened->CreateSession(org, "key_bench", "session-" + std::to_string(i),
                                    start + std::chrono::seconds{60}, start);
    }
    reopened.reset();  // final checkpoint: the database file holds everything
    const int64_t after = FileBytes(path);
    std::printf("idempotency keys stored: %lld, database grew %lld bytes: %.0f bytes per key\n",
                static_cast<long long>(keys), static_cast<long long>(after - before),
                static_cast<double>(after - before) / static_cast<double>(keys));
  }
  auto last = SqliteStore::Open(options, Catalog::Default());
  if (!last) return 1;
  auto store = std::move(last).value();
  const Time later = start + options.idempotency_ttl + std::chrono::seconds{1};
  for (int pass = 1;; ++pass) {
    const auto t0 = std::chrono::steady_clock::now();
    auto r = store->Prune(later, App::kPruneBatch, App::kPruneMaxBatches);
    const auto ms =
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0);
    if (!r) return std::fprintf(stderr, "%s\n", r.error().message.c_str()), 1;
    std::printf(
        "prune pass %d: %lld idempotency keys + %lld sessions in %.0f ms "
        "(batches of %lld, at most %lld rows per pass)\n",
        pass, static_cast<long long>(r->idempotency_keys), static_cast<long long>(r->sessions),
        ms.count(), static_cast<long long>(App::kPruneBatch),
        static_cast<long long>(App::kPruneBatch * App::kPruneMaxBatches));
    if (r->idempotency_keys + r->sessions == 0) break;
  }
  store.reset();
  std::error_code ec;
  std::filesystem::remove_all(dir, ec);
  return 0;
}
