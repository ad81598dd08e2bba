// The embind bindings of sima's core: one class, RawCore, that holds a catalog and a usage
// snapshot and answers through sima::Check, sima::UsageView and friends. These names are
// private to the package; src/index.js is the public API.
//
// Contract with src/index.js:
// - Nothing here throws or aborts on bad input. A fallible call returns false (or "" for the
//   JSON-returning ones, or a non-zero int) and leaves the Status in error().
// - Numbers cross as doubles. A count must be a whole number in [0, 2^53]; anything else is a
//   validation_error.
// - check() writes its answer into slots() (ten doubles, read through HEAPF64) so the hot path
//   allocates no JS strings; see the Slot enum for the layout.
#include <cmath>
#include <cstdint>
#include <optional>
#include <string>
#include <utility>

#include <emscripten/bind.h>

#include "sima/catalog.h"
#include "sima/decision.h"
#include "sima/json.h"
#include "sima/status.h"
#include "sima/usage.h"

namespace sima::wasm {
namespace {

constexpr double kMaxCount = 9007199254740992.0;  // 2^53: the largest count JS holds exactly

// The layout of RawCore::slots(), mirrored in src/index.js.
enum Slot {
  kAllowed,         // 0 or 1
  kCurrent,         //
  kRequested,       //
  kLimit,           // -1 = unlimited
  kRemaining,       // -1 = unlimited (null)
  kOver,            // 0 or 1
  kUpgradePlan,     // index into catalog().plans, -1 = no upgrade
  kUpgradeLimit,    // -1 = unlimited
  kUpgradePrice,    // whole rupees
  kUpgradePaisa,    //
  kSlotCount,
};

struct ErrorInfo {
  std::string code;
  std::string message;
};

std::string Dump(const Json& json) {
  // Replace, never throw, on invalid UTF-8 (a JS string with a lone surrogate).
  return json.dump(-1, ' ', false, Json::error_handler_t::replace);
}

std::optional<int64_t> WholeCount(double value) {
  if (!std::isfinite(value) || value != std::floor(value) || value < -kMaxCount ||
      value > kMaxCount) {
    return std::nullopt;
  }
  return static_cast<int64_t>(value);
}

class RawCore {
 public:
  RawCore() = default;

  // Replaces the catalog (the JSON of GET /billing/plans/).
  bool setCatalog(const std::string& text) {
    auto catalog = ParseCatalog(text);
    if (!catalog) return Fail(catalog.status());
    catalog_.emplace(std::move(catalog).value());
    return true;
  }

  // Replaces the plan and the counts (the JSON of GET /billing/usage/).
  // REQUIRES: setCatalog() succeeded.
  bool setUsage(const std::string& text) {
    const Json json = Json::parse(text.begin(), text.end(), nullptr, false);
    if (json.is_discarded()) return Fail(Status::InvalidJson("the usage snapshot is not valid JSON"));
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
      return Fail(Status::InvalidArgument("used must be a whole number of 0 or more, got " +
                                          Number(used)));
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

  std::string plan() const { return plan_; }
  std::string catalogJson() const { return catalog_ ? Dump(CatalogToJson(*catalog_)) : ""; }
  // The address of the ten output doubles of check(); stable for the life of this object.
  uintptr_t slots() const { return reinterpret_cast<uintptr_t>(slots_); }

  // The hot path: the decision for n more of the feature at `index` in catalog order.
  // Returns 0 and fills slots(), or 1 with the Status in error().
  int check(int index, double n) {
    if (!catalog_ || index < 0 || static_cast<size_t>(index) >= catalog_->features().size()) {
      Fail(Status::UnknownFeature("no feature at index " + std::to_string(index)));
      return 1;
    }
    return CheckFeature(catalog_->features()[static_cast<size_t>(index)].key, n);
  }

  // As check(), by feature key: the path that reports unknown features.
  int checkByName(const std::string& feature, double n) { return CheckFeature(feature, n); }

  // [{feature,label,used,limit,percent,status,text,enforcement}, ...] on the current plan, or
  // on `plan` when it is not empty (the after-upgrade view). "" on error.
  std::string usageJson(const std::string& plan) {
    if (!catalog_) return FailText(Status::InvalidCatalog("no catalog loaded"));
    auto rows = UsageView(*catalog_, plan.empty() ? plan_ : plan, usage_);
    if (!rows) return FailText(rows.status());
    Json out = Json::array();
    for (const UsageRow& row : rows.value()) {
      Json j = UsageRowToJson(row);
      j["feature"] = row.feature;
      out.push_back(std::move(j));
    }
    return Dump(out);
  }

  // Every plan pricier than the current one, cheapest first, with its limit for `feature` and
  // whether it allows current + n; `suggested` marks the one SuggestUpgrade picks. "" on error.
  std::string upgradeOptionsJson(const std::string& feature, double n) {
    if (CheckFeature(feature, n) != 0) return "";
    const size_t index = *catalog_->FeatureIndex(feature);
    const int64_t total = static_cast<int64_t>(slots_[kCurrent] + slots_[kRequested]);
    const Plan* current = catalog_->FindPlan(plan_);
    const auto suggested = SuggestUpgrade(*catalog_, plan_, index, total);
    Json out = Json::array();
    for (const Plan& p : catalog_->plans()) {
      if (p.price_paisa <= current->price_paisa) continue;
      out.push_back({{"plan", p.code},
                     {"name", p.name},
                     {"limit", LimitToWire(p.limits[index])},
                     {"price", p.price_rupees()},
                     {"price_paisa", p.price_paisa},
                     {"allows", p.limits[index].Allows(total)},
                     {"suggested", suggested && suggested->plan == p.code}});
    }
    return Dump(out);
  }

  ErrorInfo error() const {
    return {std::string(code_name(error_.code())), error_.message()};
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
  static std::string Number(double v) {
    if (std::isnan(v)) return "NaN";
    if (std::isinf(v)) return v > 0 ? "Infinity" : "-Infinity";
    return Dump(Json(v));
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
    slots_[kAllowed] = d->allowed ? 1 : 0;
    slots_[kCurrent] = static_cast<double>(d->current);
    slots_[kRequested] = static_cast<double>(d->requested);
    slots_[kLimit] = static_cast<double>(LimitToWire(d->limit));
    slots_[kRemaining] = d->remaining ? static_cast<double>(*d->remaining) : -1;
    slots_[kOver] = d->over ? 1 : 0;
    slots_[kUpgradePlan] = -1;
    if (d->upgrade) {
      const auto& plans = catalog_->plans();
      for (size_t i = 0; i < plans.size(); ++i) {
        if (plans[i].code == d->upgrade->plan) slots_[kUpgradePlan] = static_cast<double>(i);
      }
      slots_[kUpgradeLimit] = static_cast<double>(LimitToWire(d->upgrade->limit));
      slots_[kUpgradePrice] = static_cast<double>(d->upgrade->price_paisa / 100);
      slots_[kUpgradePaisa] = static_cast<double>(d->upgrade->price_paisa);
    }
    return 0;
  }

  std::optional<Catalog> catalog_;
  std::string plan_{kFreePlan};
  Usage usage_;
  Status error_;
  double slots_[kSlotCount] = {};
};

}  // namespace
}  // namespace sima::wasm

EMSCRIPTEN_BINDINGS(sima_core) {
  using sima::wasm::ErrorInfo;
  using sima::wasm::RawCore;
  emscripten::value_object<ErrorInfo>("ErrorInfo")
      .field("code", &ErrorInfo::code)
      .field("message", &ErrorInfo::message);
  emscripten::class_<RawCore>("RawCore")
      .constructor<>()
      .function("setCatalog", &RawCore::setCatalog)
      .function("setUsage", &RawCore::setUsage)
      .function("setPlan", &RawCore::setPlan)
      .function("setUsed", &RawCore::setUsed)
      .function("record", &RawCore::record)
      .function("plan", &RawCore::plan)
      .function("catalogJson", &RawCore::catalogJson)
      .function("slots", &RawCore::slots)
      .function("check", &RawCore::check)
      .function("checkByName", &RawCore::checkByName)
      .function("usageJson", &RawCore::usageJson)
      .function("upgradeOptionsJson", &RawCore::upgradeOptionsJson)
      .function("error", &RawCore::error);
}
