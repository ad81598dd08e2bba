// Prints ns per limit decision (each feature kind, allowed and refused, with and without an
// override in force) and per usage view of the rules core, natively.
// Run: cmake --preset release && cmake --build --preset release --target sdk_bench &&
//      build/release/bench/sdk_bench
#include <benchmark/benchmark.h>

#include <string>

#include "sima/decision.h"
#include "sima/json.h"
#include "sima/usage.h"

namespace {

const sima::Time kNow = sima::ParseTime("2026-12-01T00:00:00Z").value();
const sima::Subscription kFree{"FREE", sima::ParseTime("2026-11-01T00:00:00Z").value(),
                               std::nullopt};
const sima::Subscription kBasic{"BASIC", sima::ParseTime("2026-11-15T00:00:00Z").value(),
                                sima::ParseTime("2026-12-15T00:00:00Z").value()};

const sima::Usage kUsage{
    {"invoices", 8}, {"customers", 3}, {"team_members", 1}, {"api_calls", 450}};
const sima::Usage kFull{
    {"invoices", 10}, {"customers", 5}, {"team_members", 1}, {"api_calls", 450}};

// An organization with two deals: the decision looks through both for its feature.
sima::Overrides Deals(const std::string& feature, sima::Limit limit) {
  return {{"api_calls", sima::Limit::Of(500000), "PRO", std::nullopt},
          {feature, limit, std::nullopt, sima::ParseTime("2027-01-01T00:00:00Z")}};
}

// sima::Check as the server calls it: the plan in force at now, the org's overrides.
void BM_Check(benchmark::State& state, const sima::Subscription* sub, std::string feature,
              int64_t n, const sima::Usage* usage, sima::Overrides overrides) {
  const auto& catalog = sima::Catalog::Default();
  for (auto _ : state) {
    auto d = sima::Check(catalog, *sub, kNow, *usage, feature, n, overrides);
    benchmark::DoNotOptimize(d);
  }
}

void BM_UsageView(benchmark::State& state) {
  const auto& catalog = sima::Catalog::Default();
  const sima::Overrides overrides = Deals("invoices", sima::Limit::Of(5000));
  for (auto _ : state) {
    auto rows = sima::UsageView(catalog, "FREE", kUsage, overrides, kNow);
    benchmark::DoNotOptimize(rows);
  }
}
BENCHMARK(BM_UsageView);

void BM_UsageViewToJson(benchmark::State& state) {
  const auto& catalog = sima::Catalog::Default();
  const sima::Overrides overrides = Deals("invoices", sima::Limit::Of(5000));
  for (auto _ : state) {
    auto text =
        sima::UsageRowsToJson(sima::UsageView(catalog, "FREE", kUsage, overrides, kNow).value())
            .dump();
    benchmark::DoNotOptimize(text);
  }
}
BENCHMARK(BM_UsageViewToJson);

}  // namespace

int main(int argc, char** argv) {
  using sima::Limit;
  const sima::Overrides none;
  struct Case {
    const char* name;
    const sima::Subscription* sub;
    const char* feature;
    int64_t n;
    const sima::Usage* usage;
    sima::Overrides overrides;
  };
  // FREE: invoices 10 (metered), customers 5 (allocation), pdf_export off, attachment_mb 5.
  // BASIC: pdf_export on. "override": a deal for the feature is in force (and one that is not).
  const Case cases[] = {
      {"metered/allowed/plan", &kFree, "invoices", 1, &kUsage, none},
      {"metered/allowed/override", &kFree, "invoices", 1, &kFull,
       Deals("invoices", Limit::Of(5000))},
      {"metered/refused/plan", &kFree, "invoices", 1, &kFull, none},
      {"metered/refused/override", &kFree, "invoices", 1, &kFull, Deals("invoices", Limit::Of(10))},
      {"allocation/allowed/plan", &kFree, "customers", 1, &kUsage, none},
      {"allocation/allowed/override", &kFree, "customers", 1, &kFull,
       Deals("customers", Limit::Of(100))},
      {"allocation/refused/plan", &kFree, "customers", 1, &kFull, none},
      {"allocation/refused/override", &kFree, "customers", 1, &kFull,
       Deals("customers", Limit::Of(5))},
      {"boolean/allowed/plan", &kBasic, "pdf_export", 1, &kUsage, none},
      {"boolean/allowed/override", &kFree, "pdf_export", 1, &kUsage,
       Deals("pdf_export", Limit::Switch(true))},
      {"boolean/refused/plan", &kFree, "pdf_export", 1, &kUsage, none},
      {"boolean/refused/override", &kFree, "pdf_export", 1, &kUsage,
       Deals("pdf_export", Limit::Switch(false))},
      {"value/allowed/plan", &kFree, "attachment_mb", 5, &kUsage, none},
      {"value/allowed/override", &kFree, "attachment_mb", 200, &kUsage,
       Deals("attachment_mb", Limit::Of(500))},
      {"value/refused/plan", &kFree, "attachment_mb", 30, &kUsage, none},
      {"value/refused/override", &kFree, "attachment_mb", 30, &kUsage,
       Deals("attachment_mb", Limit::Of(10))},
  };
  for (const Case& c : cases) {
    benchmark::RegisterBenchmark((std::string("BM_Check/") + c.name).c_str(), BM_Check, c.sub,
                                 c.feature, c.n, c.usage, c.overrides);
  }
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
