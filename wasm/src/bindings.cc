// The embind bindings of sima's core: free functions over a RawCore (a catalog and a usage
// snapshot) that answer through sima::Check, sima::UsageView and sima::UpgradeOptions. These
// names are private to the package; src/index.js is the public API.
//
// Contract with src/core.js:
// - A core is a handle (its address) from create(), freed by destroy(). REQUIRES: every other
//   call gets a live handle.
// - Nothing here throws or aborts on bad input. A fallible call returns false, -1, or "" and
//   leaves the Status in error() ("<code>\n<message>").
// - Numbers cross as doubles. A count must be a whole number in [-2^53, 2^53]; anything else
//   is a validation_error.
// - Answers that are numbers are written into an array of doubles at out() (read through
//   HEAPF64), so no JSON is written and no JS object is made here. out() is sized by
//   setCatalog() for every answer on that catalog and does not move until the next
//   setCatalog(). The layouts are below; src/core.js mirrors them.
// - Only parsing uses nlohmann/json: its serializer is not linked into the wasm.
#include <emscripten/bind.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "sima/catalog.h"
#include "sima/decision.h"
#include "sima/json.h"
#include "sima/status.h"
#include "sima/usage.h"

namespace sima::wasm {
namespace {

constexpr double kMaxCount = 9007199254740992.0;  // 2^53: the largest count JS holds exactly

// check(): out[0..kSlotCount).
enum Slot {
  kAllowed,       // 0 or 1
  kCurrent,       //
  kRequested,     //
  kLimit,         // -1 = unlimited
  kRemaining,     // -1 = unlimited (null)
  kOver,          // 0 or 1
  kUpgradePlan,   // index into the catalog's plans, -1 = no upgrade
  kUpgradeLimit,  // -1 = unlimited
  kUpgradePrice,  // whole rupees
  kUpgradePaisa,  //
  kSlotCount,
};
// usage(): kRowSize doubles per feature, in catalog order.
enum RowField {
  kRowUsed,         //
  kRowLimit,        // -1 = unlimited
  kRowPercent,      // -1 = unlimited (null)
  kRowStatus,       // sima::UsageStatus
  kRowEnforcement,  // sima::Enforcement
  kRowSize,
};
// upgradeOptions(): kOptionSize doubles per option, cheapest first.
enum OptionField {
  kOptPlan,       // index into the catalog's plans
  kOptLimit,      // -1 = unlimited
  kOptPrice,      // whole rupees
  kOptPaisa,      //
  kOptAllows,     // 0 or 1
  kOptSuggested,  // 0 or 1
  kOptionSize,
};
// catalogNumbers(): period_days, F features, P plans, F enforcements, then per plan (in the
// catalog's order, cheapest first) price, price_paisa and F limits.
constexpr size_t CatalogSize(size_t features, size_t plans) {
  return 3 + features + plans * (2 + features);
}
// catalogText(kind, i).
enum TextKind { kCurrency, kFeatureKey, kFeatureLabel, kPlanCode, kPlanName };

std::optional<int64_t> WholeCount(double value) {
  if (!std::isfinite(value) || value != std::floor(value) || value < -kMaxCount ||
      value > kMaxCount) {
    return std::nullopt;
  }
  return static_cast<int64_t>(value);
}

// A number for an error message. src/core.js refuses fractions before they get here, so
// only NaN, the infinities and whole numbers need words.
std::string Number(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "Infinity" : "-Infinity";
  if (v == std::floor(v) && std::fabs(v) < 9.2e18) return std::to_string(static_cast<int64_t>(v));
  return std::fabs(v) >= 9.2e18 ? "a number beyond 2^63" : "a fraction";
}

double Wire(Limit limit) { return static_cast<double>(LimitToWire(limit)); }

class RawCore {
 public:
  // Replaces the catalog (the JSON of GET /billing/plans/).
  bool setCatalog(const std::string& text) {
    auto catalog = ParseCatalog(text);
    if (!catalog) return Fail(catalog.status());
    catalog_.emplace(std::move(catalog).value());
    const size_t features = catalog_->features().size();
    const size_t plans = catalog_->plans().size();
    out_.assign(std::max({size_t{kSlotCount}, CatalogSize(features, plans), features * kRowSize,
                          plans * kOptionSize}),
                0.0);
    return true;
  }

  // Replaces the plan and the counts (the JSON of GET /billing/usage/).
  bool setUsage(const std::string& text) {
    const Json json = Json::parse(text.begin(), text.end(), nullptr, false);
    if (json.is_discarded())
      return Fail(Status::InvalidJson("the usage snapshot is not valid JSON"));
    auto snapshot = UsageSnapshotFromJson(json);
    if (!snapshot) return Fail(snapshot.status());
    if (!HasPlan(snapshot->plan)) return false;
    plan_ = std::move(snapshot.value().plan);
    usage_ = std::move(snapshot.value().usage);
    return true;
  }

  bool setPlan(const std::string& plan) {
    if (!HasPlan(plan)) return false;
    plan_ = plan;
    return true;
  }

  // Sets the count of one feature (the server's `current` in a 403 limit_reached body).
  bool setUsed(const std::string& feature, double used) {
    if (!KnownFeature(feature)) return false;
    const auto n = WholeCount(used);
    if (!n || *n < 0) {
      return Fail(
          Status::InvalidArgument("used must be a whole number of 0 or more, got " + Number(used)));
    }
    usage_.insert_or_assign(feature, *n);
    return true;
  }

  // Adds n to the count of a feature: the optimistic local count after the server accepted.
  bool record(const std::string& feature, double n) {
    if (!KnownFeature(feature)) return false;
    const auto count = WholeCount(n);
    if (!count || *count < 1) {
      return Fail(Status::InvalidArgument("quantity must be a whole number of at least 1, got " +
                                          Number(n)));
    }
    const auto it = usage_.find(feature);
    const int64_t before = it == usage_.end() ? 0 : it->second;
    if (static_cast<double>(before) + static_cast<double>(*count) > kMaxCount) {
      return Fail(Status::InvalidArgument("the count of \"" + feature + "\" would pass 2^53"));
    }
    usage_.insert_or_assign(feature, before + *count);
    return true;
  }

  const std::string& plan() const { return plan_; }
  uintptr_t out() const { return reinterpret_cast<uintptr_t>(out_.data()); }

  // The catalog's numbers into out(); false when there is none.
  bool catalogNumbers() {
    if (!catalog_) return Fail(Status::InvalidCatalog("no catalog loaded"));
    double* o = out_.data();
    const auto& features = catalog_->features();
    *o++ = catalog_->period_days();
    *o++ = static_cast<double>(features.size());
    *o++ = static_cast<double>(catalog_->plans().size());
    for (const Feature& f : features) *o++ = static_cast<double>(f.enforcement);
    for (const Plan& p : catalog_->plans()) {
      *o++ = static_cast<double>(p.price_rupees());
      *o++ = static_cast<double>(p.price_paisa);
      for (const Limit limit : p.limits) *o++ = Wire(limit);
    }
    return true;
  }

  // One string of the catalog; "" when out of range.
  std::string catalogText(int kind, int i) const {
    if (!catalog_ || i < 0) return "";
    const auto at = static_cast<size_t>(i);
    const auto& features = catalog_->features();
    const auto& plans = catalog_->plans();
    switch (kind) {
      case kCurrency: return catalog_->currency();
      case kFeatureKey: return at < features.size() ? features[at].key : "";
      case kFeatureLabel: return at < features.size() ? features[at].label : "";
      case kPlanCode: return at < plans.size() ? plans[at].code : "";
      case kPlanName: return at < plans.size() ? plans[at].name : "";
      default: return "";
    }
  }

  // The hot path: the decision for n more of the feature at `index` in catalog order.
  // Returns 0 and fills out[0..kSlotCount), or 1 with the Status in error().
  int check(int index, double n) {
    if (!catalog_ || index < 0 || static_cast<size_t>(index) >= catalog_->features().size()) {
      Fail(Status::UnknownFeature("no feature at index " + std::to_string(index)));
      return 1;
    }
    return CheckFeature(catalog_->features()[static_cast<size_t>(index)].key, n);
  }

  // As check(), by feature key: the path that reports unknown features.
  int checkByName(const std::string& feature, double n) { return CheckFeature(feature, n); }

  // The usage rows on the current plan, or on `plan` when it is not empty (the after-upgrade
  // view): the numbers into out(), the texts ("8/10 (80%)") returned joined by '\n'.
  // "" on error (a catalog has at least one feature, so rows are never empty).
  std::string usage(const std::string& plan) {
    if (!catalog_) return FailText(Status::InvalidCatalog("no catalog loaded"));
    auto rows = UsageView(*catalog_, plan.empty() ? plan_ : plan, usage_);
    if (!rows) return FailText(rows.status());
    std::string texts;
    double* o = out_.data();
    for (const UsageRow& row : rows.value()) {
      o[kRowUsed] = static_cast<double>(row.used);
      o[kRowLimit] = Wire(row.limit);
      o[kRowPercent] = row.percent ? static_cast<double>(*row.percent) : -1;
      o[kRowStatus] = static_cast<double>(row.status);
      o[kRowEnforcement] = static_cast<double>(row.enforcement);
      o += kRowSize;
      if (!texts.empty()) texts += '\n';
      texts += row.text;
    }
    return texts;
  }

  // sima::UpgradeOptions into out(): returns how many, or -1 with the Status in error().
  int upgradeOptions(const std::string& feature, double n) {
    if (!catalog_) return FailCount(Status::InvalidCatalog("no catalog loaded"));
    const auto count = WholeCount(n);
    if (!count) {
      return FailCount(
          Status::InvalidArgument("quantity must be a whole number, got " + Number(n)));
    }
    const auto options = UpgradeOptions(*catalog_, plan_, usage_, feature, *count);
    if (!options) return FailCount(options.status());
    double* o = out_.data();
    for (const UpgradeOption& option : options.value()) {
      o[kOptPlan] = PlanIndex(option.plan);
      o[kOptLimit] = Wire(option.limit);
      o[kOptPrice] = static_cast<double>(WholeRupees(option.price_paisa));
      o[kOptPaisa] = static_cast<double>(option.price_paisa);
      o[kOptAllows] = option.allows ? 1 : 0;
      o[kOptSuggested] = option.suggested ? 1 : 0;
      o += kOptionSize;
    }
    return static_cast<int>(options->size());
  }

  std::string error() const {
    std::string out(code_name(error_.code()));
    out += '\n';
    out += error_.message();
    return out;
  }

 private:
  bool Fail(Status status) {
    error_ = std::move(status);
    return false;
  }
  std::string FailText(Status status) {
    Fail(std::move(status));
    return "";
  }
  int FailCount(Status status) {
    Fail(std::move(status));
    return -1;
  }
  bool HasPlan(const std::string& plan) {
    if (!catalog_) return Fail(Status::InvalidCatalog("no catalog loaded"));
    if (catalog_->FindPlan(plan) == nullptr) {
      return Fail(Status::InvalidPlan("unknown plan \"" + plan + "\""));
    }
    return true;
  }
  bool KnownFeature(const std::string& feature) {
    if (!catalog_) return Fail(Status::InvalidCatalog("no catalog loaded"));
    if (!catalog_->FeatureIndex(feature)) {
      return Fail(Status::UnknownFeature("unknown feature \"" + feature + "\""));
    }
    return true;
  }
  double PlanIndex(std::string_view code) const {
    const auto& plans = catalog_->plans();
    for (size_t i = 0; i < plans.size(); ++i) {
      if (plans[i].code == code) return static_cast<double>(i);
    }
    return -1;
  }

  int CheckFeature(std::string_view feature, double n) {
    if (!catalog_) {
      Fail(Status::InvalidCatalog("no catalog loaded"));
      return 1;
    }
    const auto count = WholeCount(n);
    if (!count) {
      Fail(Status::InvalidArgument("quantity must be a whole number, got " + Number(n)));
      return 1;
    }
    const auto d = Check(*catalog_, plan_, usage_, feature, *count);
    if (!d) {
      Fail(d.status());
      return 1;
    }
    double* slots = out_.data();
    slots[kAllowed] = d->allowed ? 1 : 0;
    slots[kCurrent] = static_cast<double>(d->current);
    slots[kRequested] = static_cast<double>(d->requested);
    slots[kLimit] = Wire(d->limit);
    slots[kRemaining] = d->remaining ? static_cast<double>(*d->remaining) : -1;
    slots[kOver] = d->over ? 1 : 0;
    slots[kUpgradePlan] = -1;
    if (d->upgrade) {
      slots[kUpgradePlan] = PlanIndex(d->upgrade->plan);
      slots[kUpgradeLimit] = Wire(d->upgrade->limit);
      slots[kUpgradePrice] = static_cast<double>(WholeRupees(d->upgrade->price_paisa));
      slots[kUpgradePaisa] = static_cast<double>(d->upgrade->price_paisa);
    }
    return 0;
  }

  std::optional<Catalog> catalog_;
  std::string plan_{kFreePlan};
  Usage usage_;
  Status error_;
  std::vector<double> out_ = std::vector<double>(kSlotCount);
};

// The bound functions: a handle is the address of a RawCore.
RawCore& Core(uintptr_t handle) { return *reinterpret_cast<RawCore*>(handle); }

uintptr_t Create() { return reinterpret_cast<uintptr_t>(new RawCore()); }
void Destroy(uintptr_t h) { delete &Core(h); }
bool SetCatalog(uintptr_t h, const std::string& text) { return Core(h).setCatalog(text); }
bool SetUsage(uintptr_t h, const std::string& text) { return Core(h).setUsage(text); }
bool SetPlan(uintptr_t h, const std::string& plan) { return Core(h).setPlan(plan); }
bool SetUsed(uintptr_t h, const std::string& f, double used) { return Core(h).setUsed(f, used); }
bool Record(uintptr_t h, const std::string& f, double n) { return Core(h).record(f, n); }
std::string PlanOf(uintptr_t h) { return Core(h).plan(); }
uintptr_t Out(uintptr_t h) { return Core(h).out(); }
bool CatalogNumbers(uintptr_t h) { return Core(h).catalogNumbers(); }
std::string CatalogText(uintptr_t h, int kind, int i) { return Core(h).catalogText(kind, i); }
int CheckAt(uintptr_t h, int index, double n) { return Core(h).check(index, n); }
int CheckByName(uintptr_t h, const std::string& f, double n) { return Core(h).checkByName(f, n); }
std::string UsageOf(uintptr_t h, const std::string& plan) { return Core(h).usage(plan); }
int Options(uintptr_t h, const std::string& f, double n) { return Core(h).upgradeOptions(f, n); }
std::string ErrorOf(uintptr_t h) { return Core(h).error(); }

}  // namespace
}  // namespace sima::wasm

EMSCRIPTEN_BINDINGS(sima_core) {
  namespace w = sima::wasm;
  using emscripten::function;
  function("create", &w::Create);
  function("destroy", &w::Destroy);
  function("setCatalog", &w::SetCatalog);
  function("setUsage", &w::SetUsage);
  function("setPlan", &w::SetPlan);
  function("setUsed", &w::SetUsed);
  function("record", &w::Record);
  function("plan", &w::PlanOf);
  function("out", &w::Out);
  function("catalogNumbers", &w::CatalogNumbers);
  function("catalogText", &w::CatalogText);
  function("check", &w::CheckAt);
  function("checkByName", &w::CheckByName);
  function("usage", &w::UsageOf);
  function("upgradeOptions", &w::Options);
  function("error", &w::ErrorOf);
}
