// Prints ns per limit decision and per usage view of the rules core, natively.
// Run: cmake --preset release && cmake --build --preset release --target sdk_bench &&
//      build/release/bench/sdk_bench
#include <benchmark/benchmark.h>

#include "sima/decision.h"
#include "sima/json.h"
#include "sima/usage.h"

namespace {

const sima::Usage kUsage{
    {"invoices", 8}, {"customers", 3}, {"team_members", 1}, {"api_calls", 450}};

void BM_CheckAllowed(benchmark::State& state) {
  const auto& catalog = sima::Catalog::Default();
  for (auto _ : state) {
    auto d = sima::Check(catalog, "FREE", kUsage, "invoices");
    benchmark::DoNotOptimize(d);
  }
}
BENCHMARK(BM_CheckAllowed);

void BM_CheckRefusedWithUpgrade(benchmark::State& state) {
  const auto& catalog = sima::Catalog::Default();
  const sima::Usage full{{"invoices", 10}};
  for (auto _ : state) {
    auto d = sima::Check(catalog, "FREE", full, "invoices");
    benchmark::DoNotOptimize(d);
  }
}
BENCHMARK(BM_CheckRefusedWithUpgrade);

void BM_UsageView(benchmark::State& state) {
  const auto& catalog = sima::Catalog::Default();
  for (auto _ : state) {
    auto rows = sima::UsageView(catalog, "FREE", kUsage);
    benchmark::DoNotOptimize(rows);
  }
}
BENCHMARK(BM_UsageView);

void BM_UsageViewToJson(benchmark::State& state) {
  const auto& catalog = sima::Catalog::Default();
  for (auto _ : state) {
    auto text = sima::UsageRowsToJson(sima::UsageView(catalog, "FREE", kUsage).value()).dump();
    benchmark::DoNotOptimize(text);
  }
}
BENCHMARK(BM_UsageViewToJson);

}  // namespace

BENCHMARK_MAIN();
