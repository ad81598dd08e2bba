// The embind bindings of sima's core: free functions over a RawCore (a catalog and a usage
// snapshot: plan, subscription, counts and the organization's overrides) that answer through
// sima::Check, sima::UsageView, sima::UsageAfterUpgrade, sima::UpgradeOptions,
// sima::ActivateWithGrace, sima::LifecycleAt and sima::QuotePayment, and sima::FormatRupees. These
// names are private to the package; src/index.js is the public API.
//
// Contract with src/core.js:
// - A core is a handle (its address) from create(), freed by destroy(). REQUIRES: every other
//   call gets a live handle.
// - Nothing here throws or aborts on bad input. A fallible call returns false, -1, or "" and
//   leaves the Status in error() ("<code>\n<message>").
// - Numbers cross as doubles. A count must be a whole number in [-2^53, 2^53]; anything else
//   is a validation_error. A time (`now`) is whole seconds since 1970, up to 9999-12-31.
// - Limits cross on the wire's scale (-1 = unlimited); a switch's limit is -1 (on) or 0 (off)
//   and src/core.js shows it as true/false, as the server's JSON does.
// - Answers that are numbers are written into an array of doubles at out() (read through
//   HEAPF64), so no JSON is written and no JS object is made here. out() is sized by
//   setCatalog() for every answer on that catalog and does not move until the next
//   setCatalog(). The layouts are below, bound as constants (CHECK_ALLOWED, ROW_SIZE, ...)
//   that src/core.js reads; the names of enum values come from the sdk's to_string.
// - Only parsing uses nlohmann/json: its serializer is not linked into the wasm.
#include <emscripten/bind.h>
#include <emscripten/em_macros.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "sima/catalog.h"
#include "sima/decision.h"
#include "sima/json.h"
#include "sima/lifecycle.h"
#include "sima/money.h"
#include "sima/overrides.h"
#include "sima/payment.h"
#include "sima/quote.h"
#include "sima/status.h"
#include "sima/subscription.h"
#include "sima/time.h"
#include "sima/usage.h"

namespace sima::wasm {
namespace {

constexpr double kMaxCount = 9007199254740992.0;  // 2^53: the largest count JS holds exactly
constexpr double kMaxSeconds = 253402300799.0;    // 9999-12-31T23:59:59Z: FormatTime's last

// check(): out[0..kSlotCount).
enum Slot {
  kAllowed,       // 0 or 1
  kPlan,          // index into the catalog's plans: the plan in force the decision was made on
  kCurrent,       //
  kRequested,     //
  kLimit,         // -1 = unlimited (a switch: -1 on, 0 off)
  kRemaining,     // -1 = unlimited (null)
  kOver,          // 0 or 1
  kOverride,      // 0 or 1: the limit is the feature's override (see state())
  kUpgradePlan,   // index into the catalog's plans, -1 = no upgrade
  kUpgradeLimit,  // -1 = unlimited
  kUpgradePrice,  // whole rupees
  kUpgradePaisa,  //
  kSlotCount,
};
// usage(): kRowSize doubles per feature, in catalog order.
enum RowField {
  kRowUsed,         //
  kRowLimit,        // -1 = unlimited (a switch: -1 on, 0 off)
  kRowPercent,      // -1 = unlimited (null)
  kRowStatus,       // sima::UsageStatus
  kRowEnforcement,  // sima::Enforcement
  kRowOverride,     // 0 or 1: the limit is the feature's override
  kRowUnlockPlan,   // a switch that is off: the plan that turns it on (index), -1 = none
  kRowUnlockPrice,  // whole rupees
  kRowUnlockPaisa,  //
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
// canBuy(): out[kBuyRenew].
enum BuyField {
  kBuyRenew,  // 0 or 1: buying extends the active plan (sima::ActivationKind::kExtended)
};
// state(): what the snapshot holds beyond counts: a header, then kStateOverrideSize numbers per
// feature in catalog order (its override, if it has one).
enum StateField {
  kStateEnd,         // the subscription's end in seconds, -1 = never ends
  kStateRenewalDue,  // when renewal_due starts, -1 = never (sima::Lifecycle)
  kStateEndsAt,      // when FREE takes over (grace_until, or the end of a trial), -1 = never
  kStateHeader,
};
enum StateOverrideField {
  kStateHasOverride,  // 0 or 1
  kStateLimit,        // the override's limit (wire scale)
  kStatePlan,         // index into the catalog's plans, -1 = whatever the plan
  kStateUntil,        // seconds, -1 = until cleared (its text: catalogText(kOverrideUntil, i))
  kStateOverrideSize,
};
// catalogNumbers(): a header, F enforcements, F kinds, then per plan (in the catalog's order,
// cheapest first) kPlanHeader numbers and F limits, then N renewal notice days (largest first).
enum CatalogField {
  kCatalogPeriodDays,
  kCatalogFeatures,    // F
  kCatalogPlans,       // P
  kCatalogGraceDays,   //
  kCatalogNoticeDays,  // N
  kCatalogHeader,
};
enum PlanField {
  kPlanPrice,  // whole rupees
  kPlanPaisa,  //
  kPlanHeader,
};
constexpr size_t CatalogSize(size_t features, size_t plans, size_t notice_days) {
  return kCatalogHeader + 2 * features + plans * (kPlanHeader + features) + notice_days;
}
// lifecycle(): the subscription at a time (sima::LifecycleAt); times in seconds, -1 = none.
enum LifecycleField {
  kLcState,           // sima::SubscriptionState
  kLcPlan,            // the plan in force (index)
  kLcSubscribed,      // the subscription's plan (index)
  kLcRenewalPlan,     // index, -1 = does not renew
  kLcNextPlan,        // a scheduled switch (index), -1 = none
  kLcCancel,          // 0 or 1: cancel_at_period_end
  kLcTrial,           // 0 or 1
  kLcStart,           //
  kLcEnd,             //
  kLcRenewalDueFrom,  //
  kLcGraceUntil,      //
  kLcEndsAt,          //
  kLcSize,
};
// quote(): what paying for a plan costs (sima::QuotePayment), then kLineSize numbers per
// breakdown line (its label is returned).
enum QuoteField {
  kQuoteFrom,   // the plan credited (index)
  kQuoteTo,     // index
  kQuotePrice,  // whole rupees
  kQuotePricePaisa,
  kQuoteCredit,  // paisa
  kQuoteAmount,  // whole rupees
  kQuoteAmountPaisa,
  kQuoteUnused,  // seconds
  kQuoteStart,   // seconds
  kQuoteEnd,     // seconds
  kQuoteLines,   // L
  kQuoteHeader,
};
// catalogText(kind, i).
enum TextKind {
  kCurrency,
  kFeatureKey,
  kFeatureLabel,
  kFeatureUnit,
  kPlanCode,
  kPlanName,
  kOverrideUntil,  // the `until` of feature i's override (FormatTime), "" when none
};

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
double Seconds(Time t) { return static_cast<double>(t.time_since_epoch().count()); }
double OrNone(const std::optional<Time>& t) { return t ? Seconds(*t) : -1; }

class RawCore {
 public:
  // Replaces the catalog (the JSON of GET /billing/plans/).
  bool setCatalog(const std::string& text) {
    auto catalog = ParseCatalog(text);
    if (!catalog) return Fail(catalog.status());
    catalog_.emplace(std::move(catalog).value());
    const size_t features = catalog_->features().size();
    const size_t plans = catalog_->plans().size();
    // A quote has at most two lines (the price and a credit).
    out_.assign(std::max({size_t{kSlotCount},
                          CatalogSize(features, plans, catalog_->renewal_notice_days().size()),
                          features * kRowSize, plans * kOptionSize,
                          kStateHeader + features * kStateOverrideSize, size_t{kLcSize},
                          size_t{kQuoteHeader} + 2}),
                0.0);
    overrides_.clear();
    return true;
  }

  // Replaces the plan, the subscription, the counts and the overrides (the JSON of
  // GET /billing/usage/).
  bool setUsage(const std::string& text) {
    if (!catalog_) return Fail(Status::InvalidCatalog("no catalog loaded"));
    const Json json = ParseJson(text);
    if (json.is_discarded())
      return Fail(Status::InvalidJson("the usage snapshot is not valid JSON"));
    auto snapshot = UsageSnapshotFromJson(*catalog_, json);
    if (!snapshot) return Fail(snapshot.status());
    if (!HasPlan(snapshot->plan) || !HasPlans(snapshot->subscription)) return false;
    plan_ = std::move(snapshot.value().plan);
    usage_ = std::move(snapshot.value().usage);
    sub_ = std::move(snapshot.value().subscription);
    overrides_ = std::move(snapshot.value().overrides);
    return true;
  }

  // Replaces the subscription (the "subscription" of GET/POST /billing/subscription/).
  bool setSubscription(const std::string& text) {
    if (!catalog_) return Fail(Status::InvalidCatalog("no catalog loaded"));
    const Json json = ParseJson(text);
    if (json.is_discarded()) return Fail(Status::InvalidJson("the subscription is not valid JSON"));
    auto sub = SubscriptionFromJson(json);
    if (!sub) return Fail(sub.status());
    if (!HasPlans(*sub)) return false;
    sub_ = std::move(sub).value();
    return true;
  }

  // Another plan (the server's, from a 403 body): its dates are not known.
  bool setPlan(const std::string& plan) {
    if (!HasPlan(plan)) return false;
    if (plan != plan_) sub_ = Subscription{plan, Time{}, std::nullopt};
    plan_ = plan;
    return true;
  }

  // Sets the count of one counted feature (the server's `current` in a 403 limit_reached body).
  bool setUsed(const std::string& feature, double used) {
    if (!CountedFeature(feature)) return false;
    const auto n = WholeCount(used);
    if (!n || *n < 0) {
      return Fail(
          Status::InvalidArgument("used must be a whole number of 0 or more, got " + Number(used)));
    }
    usage_.insert_or_assign(feature, *n);
    return true;
  }

  // Adds n to the count of a counted feature: the optimistic local count after the server
  // accepted. A negative n releases that many of an allocation (never below zero).
  bool record(const std::string& feature, double n) {
    if (!CountedFeature(feature)) return false;
    const auto count = WholeCount(n);
    const bool allocation =
        catalog_->features()[*catalog_->FeatureIndex(feature)].kind == FeatureKind::kAllocation;
    if (!count || *count == 0 || (*count < 0 && !allocation)) {
      return Fail(Status::InvalidArgument(
          allocation ? "quantity must be a whole number other than 0, got " + Number(n)
                     : "quantity must be a whole number of at least 1, got " + Number(n)));
    }
    const auto it = usage_.find(feature);
    const int64_t before = it == usage_.end() ? 0 : it->second;
    if (static_cast<double>(before) + static_cast<double>(*count) > kMaxCount) {
      return Fail(Status::InvalidArgument("the count of \"" + feature + "\" would pass 2^53"));
    }
    if (before + *count < 0) {
      return Fail(Status::InvalidArgument("cannot release " + std::to_string(-*count) + " of \"" +
                                          feature + "\": " + std::to_string(before) + " in use"));
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
    o[kCatalogPeriodDays] = catalog_->period_days();
    o[kCatalogFeatures] = static_cast<double>(features.size());
    o[kCatalogPlans] = static_cast<double>(catalog_->plans().size());
    o[kCatalogGraceDays] = catalog_->grace_days();
    o[kCatalogNoticeDays] = static_cast<double>(catalog_->renewal_notice_days().size());
    o += kCatalogHeader;
    for (const Feature& f : features) *o++ = static_cast<double>(f.enforcement);
    for (const Feature& f : features) *o++ = static_cast<double>(f.kind);
    for (const Plan& p : catalog_->plans()) {
      o[kPlanPrice] = static_cast<double>(p.price_rupees());
      o[kPlanPaisa] = static_cast<double>(p.price_paisa);
      o += kPlanHeader;
      for (const Limit limit : p.limits) *o++ = Wire(limit);
    }
    for (const int day : catalog_->renewal_notice_days()) *o++ = day;
    return true;
  }

  // The subscription's end and the overrides into out() (layout StateField); false when there
  // is no catalog.
  bool state() {
    if (!catalog_) return Fail(Status::InvalidCatalog("no catalog loaded"));
    double* o = out_.data();
    o[kStateEnd] = sub_.end ? Seconds(*sub_.end) : -1;
    // Where the plan in force may change: the lifecycle's dates do not depend on the time.
    const Lifecycle lc = LifecycleAt(*catalog_, sub_, Time{});
    o[kStateRenewalDue] = OrNone(lc.renewal_due_from);
    o[kStateEndsAt] = OrNone(lc.ends_at);
    o += kStateHeader;
    for (const Feature& f : catalog_->features()) {
      const Override* found = FindOverride(f.key);
      o[kStateHasOverride] = found ? 1 : 0;
      if (found) {
        o[kStateLimit] = Wire(found->limit);
        o[kStatePlan] = found->plan ? PlanIndex(*found->plan) : -1;
        o[kStateUntil] = found->until ? Seconds(*found->until) : -1;
      }
      o += kStateOverrideSize;
    }
    return true;
  }

  // One string of the catalog (or an override's until); "" when out of range.
  std::string catalogText(int kind, int i) const {
    if (!catalog_ || i < 0) return "";
    const auto at = static_cast<size_t>(i);
    const auto& features = catalog_->features();
    const auto& plans = catalog_->plans();
    switch (kind) {
      case kCurrency: return catalog_->currency();
      case kFeatureKey: return at < features.size() ? features[at].key : "";
      case kFeatureLabel: return at < features.size() ? features[at].label : "";
      case kFeatureUnit: return at < features.size() ? features[at].unit : "";
      case kPlanCode: return at < plans.size() ? plans[at].code : "";
      case kPlanName: return at < plans.size() ? plans[at].name : "";
      case kOverrideUntil: {
        const Override* o = at < features.size() ? FindOverride(features[at].key) : nullptr;
        return o && o->until ? FormatTime(*o->until) : "";
      }
      default: return "";
    }
  }

  // The hot path: the decision for n of the feature at `index` in catalog order at `now`.
  // Returns 0 and fills out[0..kSlotCount), or 1 with the Status in error().
  int check(int index, double n, double now) {
    if (!catalog_ || index < 0 || static_cast<size_t>(index) >= catalog_->features().size()) {
      Fail(Status::UnknownFeature("no feature at index " + std::to_string(index)));
      return 1;
    }
    return CheckFeature(catalog_->features()[static_cast<size_t>(index)].key, n, now);
  }

  // As check(), by feature key: the path that reports unknown features.
  int checkByName(const std::string& feature, double n, double now) {
    return CheckFeature(feature, n, now);
  }

  // The usage rows at `now` on the plan in force, or, when `plan` is not empty, right after
  // buying it (sima::UsageAfterUpgrade): the numbers into out(), the texts and notes returned
  // as "text\nnote" per row, rows joined by '\n'. "" on error (a catalog has at least one
  // feature, so rows are never empty).
  std::string usage(const std::string& plan, double now) {
    if (!catalog_) return FailText(Status::InvalidCatalog("no catalog loaded"));
    const auto at = ToTime(now);
    if (!at) return "";
    auto rows = plan.empty() ? UsageView(*catalog_, PlanInForce(*catalog_, sub_, *at), usage_,
                                         overrides_, *at)
                             : UsageAfterUpgrade(*catalog_, sub_, *at, usage_, plan, overrides_);
    if (!rows) return FailText(rows.status());
    std::string texts;
    double* o = out_.data();
    for (const UsageRow& row : rows.value()) {
      o[kRowUsed] = static_cast<double>(row.used);
      o[kRowLimit] = Wire(row.limit);
      o[kRowPercent] = row.percent ? static_cast<double>(*row.percent) : -1;
      o[kRowStatus] = static_cast<double>(row.status);
      o[kRowEnforcement] = static_cast<double>(row.enforcement);
      o[kRowOverride] = row.override ? 1 : 0;
      o[kRowUnlockPlan] = -1;
      if (row.unlock) {
        o[kRowUnlockPlan] = PlanIndex(row.unlock->plan);
        o[kRowUnlockPrice] = static_cast<double>(WholeRupees(row.unlock->price_paisa));
        o[kRowUnlockPaisa] = static_cast<double>(row.unlock->price_paisa);
      }
      o += kRowSize;
      if (!texts.empty()) texts += '\n';
      texts += row.text;
      texts += '\n';
      texts += row.note;
    }
    return texts;
  }

  // sima::UpgradeOptions at `now` into out(): returns how many, or -1 with the Status in
  // error().
  int upgradeOptions(const std::string& feature, double n, double now) {
    if (!catalog_) return FailCount(Status::InvalidCatalog("no catalog loaded"));
    const auto count = WholeCount(n);
    if (!count) {
      return FailCount(
          Status::InvalidArgument("quantity must be a whole number, got " + Number(n)));
    }
    const auto at = ToTime(now);
    if (!at) return -1;
    const auto options = UpgradeOptions(*catalog_, PlanInForce(*catalog_, sub_, *at), usage_,
                                        feature, *count, overrides_, *at);
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

  // sima::ActivateWithGrace of `plan` at `now` (Unix seconds) on the subscription: what buying
  // it would do. Returns the end date it would give (FormatTime) with out[kBuyRenew], or ""
  // with why not in error() (kInvalidPlan, kConflict, or a bad `now`).
  std::string canBuy(const std::string& plan, double now) {
    if (!catalog_) return FailText(Status::InvalidCatalog("no catalog loaded"));
    const auto at = ToTime(now);
    if (!at) return "";
    const auto activation = ActivateWithGrace(*catalog_, sub_, plan, *at);
    if (!activation) return FailText(activation.status());
    out_[kBuyRenew] = activation->kind == ActivationKind::kExtended ? 1 : 0;
    return FormatTime(*activation->subscription.end);
  }

  // sima::LifecycleAt at `now` into out() (layout LifecycleField); false with the Status in
  // error() for a bad `now`.
  bool lifecycle(double now) {
    if (!catalog_) return Fail(Status::InvalidCatalog("no catalog loaded"));
    const auto at = ToTime(now);
    if (!at) return false;
    const Lifecycle lc = LifecycleAt(*catalog_, sub_, *at);
    double* o = out_.data();
    o[kLcState] = static_cast<double>(lc.state);
    o[kLcPlan] = PlanIndex(lc.plan);
    o[kLcSubscribed] = PlanIndex(sub_.plan);
    o[kLcRenewalPlan] = lc.renewal_plan.empty() ? -1 : PlanIndex(lc.renewal_plan);
    o[kLcNextPlan] = sub_.next_plan ? PlanIndex(*sub_.next_plan) : -1;
    o[kLcCancel] = sub_.cancel_at_period_end ? 1 : 0;
    o[kLcTrial] = sub_.trial ? 1 : 0;
    o[kLcStart] = Seconds(sub_.start);
    o[kLcEnd] = OrNone(sub_.end);
    o[kLcRenewalDueFrom] = OrNone(lc.renewal_due_from);
    o[kLcGraceUntil] = OrNone(lc.grace_until);
    o[kLcEndsAt] = OrNone(lc.ends_at);
    return true;
  }

  // sima::QuotePayment of `plan` at `now` with sima::kMinimumPaymentPaisa: what the server will
  // charge. The numbers into out() (layout QuoteField), the breakdown's labels returned joined
  // by '\n'; "" with the Status in error() (kInvalidPlan, kConflict, kInvalidArgument).
  std::string quote(const std::string& plan, double now) {
    if (!catalog_) return FailText(Status::InvalidCatalog("no catalog loaded"));
    const auto at = ToTime(now);
    if (!at) return "";
    const auto q = QuotePayment(*catalog_, sub_, plan, *at, kMinimumPaymentPaisa);
    if (!q) return FailText(q.status());
    double* o = out_.data();
    o[kQuoteFrom] = PlanIndex(q->from_plan);
    o[kQuoteTo] = PlanIndex(q->to_plan);
    o[kQuotePrice] = static_cast<double>(WholeRupees(q->price_paisa));
    o[kQuotePricePaisa] = static_cast<double>(q->price_paisa);
    o[kQuoteCredit] = static_cast<double>(q->credit_paisa);
    o[kQuoteAmount] = static_cast<double>(WholeRupees(q->amount_paisa));
    o[kQuoteAmountPaisa] = static_cast<double>(q->amount_paisa);
    o[kQuoteUnused] = static_cast<double>(q->unused.count());
    o[kQuoteStart] = Seconds(q->start);
    o[kQuoteEnd] = Seconds(q->end);
    o[kQuoteLines] = static_cast<double>(q->breakdown.size());
    std::string labels;
    for (size_t i = 0; i < q->breakdown.size(); ++i) {
      o[kQuoteHeader + i] = static_cast<double>(q->breakdown[i].paisa);
      if (i > 0) labels += '\n';
      labels += q->breakdown[i].label;
    }
    return labels;
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
  // `now` as a Time; nullopt with a validation_error in error() when it is not one.
  std::optional<Time> ToTime(double now) {
    const auto seconds = WholeCount(now);
    if (!seconds || *seconds < 0 || now > kMaxSeconds) {
      Fail(Status::InvalidArgument(
          "now must be a time between 1970 and 9999 in whole seconds, got " + Number(now)));
      return std::nullopt;
    }
    return Time{std::chrono::seconds{*seconds}};
  }
  bool HasPlan(const std::string& plan) {
    if (!catalog_) return Fail(Status::InvalidCatalog("no catalog loaded"));
    if (catalog_->FindPlan(plan) == nullptr) {
      return Fail(Status::InvalidPlan("unknown plan \"" + plan + "\""));
    }
    return true;
  }
  // The subscription's plan and its scheduled one are in the catalog.
  bool HasPlans(const Subscription& sub) {
    return HasPlan(sub.plan) && (!sub.next_plan || HasPlan(*sub.next_plan));
  }
  // A metered feature or an allocation: switches and values have no count.
  bool CountedFeature(const std::string& feature) {
    if (!catalog_) return Fail(Status::InvalidCatalog("no catalog loaded"));
    const auto index = catalog_->FeatureIndex(feature);
    if (!index) return Fail(Status::UnknownFeature("unknown feature \"" + feature + "\""));
    const Feature& f = catalog_->features()[*index];
    if (!f.counted()) {
      return Fail(Status::InvalidArgument("\"" + feature + "\" is a " +
                                          std::string(to_string(f.kind)) +
                                          " feature: it has no count"));
    }
    return true;
  }
  const Override* FindOverride(std::string_view feature) const {
    for (const Override& o : overrides_) {
      if (o.feature == feature) return &o;
    }
    return nullptr;
  }
  double PlanIndex(std::string_view code) const {
    const auto& plans = catalog_->plans();
    for (size_t i = 0; i < plans.size(); ++i) {
      if (plans[i].code == code) return static_cast<double>(i);
    }
    return -1;
  }

  int CheckFeature(std::string_view feature, double n, double now) {
    if (!catalog_) {
      Fail(Status::InvalidCatalog("no catalog loaded"));
      return 1;
    }
    const auto count = WholeCount(n);
    if (!count) {
      Fail(Status::InvalidArgument("quantity must be a whole number, got " + Number(n)));
      return 1;
    }
    const auto at = ToTime(now);
    if (!at) return 1;
    const auto d = Check(*catalog_, sub_, *at, usage_, feature, *count, overrides_);
    if (!d) {
      Fail(d.status());
      return 1;
    }
    double* slots = out_.data();
    slots[kAllowed] = d->allowed ? 1 : 0;
    slots[kPlan] = PlanIndex(d->plan);
    slots[kCurrent] = static_cast<double>(d->current);
    slots[kRequested] = static_cast<double>(d->requested);
    slots[kLimit] = Wire(d->limit);
    slots[kRemaining] = d->remaining ? static_cast<double>(*d->remaining) : -1;
    slots[kOver] = d->over ? 1 : 0;
    slots[kOverride] = d->override ? 1 : 0;
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
  Subscription sub_;
  Overrides overrides_;
  Status error_;
  std::vector<double> out_ = std::vector<double>(kSlotCount);
};

// The bound functions: a handle is the address of a RawCore.
RawCore& Core(uintptr_t handle) { return *reinterpret_cast<RawCore*>(handle); }

uintptr_t Create() { return reinterpret_cast<uintptr_t>(new RawCore()); }
void Destroy(uintptr_t h) { delete &Core(h); }
bool SetCatalog(uintptr_t h, const std::string& text) { return Core(h).setCatalog(text); }
bool SetUsage(uintptr_t h, const std::string& text) { return Core(h).setUsage(text); }
bool SetSubscription(uintptr_t h, const std::string& text) { return Core(h).setSubscription(text); }
bool SetPlan(uintptr_t h, const std::string& plan) { return Core(h).setPlan(plan); }
bool SetUsed(uintptr_t h, const std::string& f, double used) { return Core(h).setUsed(f, used); }
bool Record(uintptr_t h, const std::string& f, double n) { return Core(h).record(f, n); }
std::string PlanOf(uintptr_t h) { return Core(h).plan(); }
uintptr_t Out(uintptr_t h) { return Core(h).out(); }
bool CatalogNumbers(uintptr_t h) { return Core(h).catalogNumbers(); }
bool State(uintptr_t h) { return Core(h).state(); }
std::string CatalogText(uintptr_t h, int kind, int i) { return Core(h).catalogText(kind, i); }
int CheckAt(uintptr_t h, int index, double n, double now) { return Core(h).check(index, n, now); }
int CheckByName(uintptr_t h, const std::string& f, double n, double now) {
  return Core(h).checkByName(f, n, now);
}
std::string UsageOf(uintptr_t h, const std::string& plan, double now) {
  return Core(h).usage(plan, now);
}
int Options(uintptr_t h, const std::string& f, double n, double now) {
  return Core(h).upgradeOptions(f, n, now);
}
std::string BuyOf(uintptr_t h, const std::string& plan, double now) {
  return Core(h).canBuy(plan, now);
}
bool LifecycleOf(uintptr_t h, double now) { return Core(h).lifecycle(now); }
std::string QuoteOf(uintptr_t h, const std::string& plan, double now) {
  return Core(h).quote(plan, now);
}
std::string ErrorOf(uintptr_t h) { return Core(h).error(); }

// sima::FormatRupees; "" when `paisa` is not a whole number within 2^53 or `min_decimals` is
// not 0, 1 or 2 (src/core.js refuses those first).
std::string Rupees(double paisa, bool thousands, int min_decimals) {
  const auto n = WholeCount(paisa);
  if (!n || min_decimals < 0 || min_decimals > 2) return "";
  return FormatRupees(*n, RupeeFormat{thousands, min_decimals});
}

// The names of enum values, as the sdk spells them; "" past the last.
std::string UsageStatusName(int i) {
  if (i < 0 || i > static_cast<int>(UsageStatus::kOver)) return "";
  return std::string(to_string(static_cast<UsageStatus>(i)));
}
std::string EnforcementName(int i) {
  if (i < 0 || i > static_cast<int>(Enforcement::kSoft)) return "";
  return std::string(to_string(static_cast<Enforcement>(i)));
}
std::string SubscriptionStateName(int i) {
  if (i < 0 || i > static_cast<int>(SubscriptionState::kExpired)) return "";
  return std::string(to_string(static_cast<SubscriptionState>(i)));
}
std::string FeatureKindName(int i) {
  if (i < 0 || i > static_cast<int>(FeatureKind::kValue)) return "";
  return std::string(to_string(static_cast<FeatureKind>(i)));
}

}  // namespace
}  // namespace sima::wasm

// check() is the call a page makes most: exported as a plain wasm function (Module._sima_check)
// it skips embind's argument conversion, which without dynamic code (DYNAMIC_EXECUTION=0)
// loops over the argument types on every call (~0.15 µs of the ~0.8 µs a check took).
extern "C" EMSCRIPTEN_KEEPALIVE int sima_check(uintptr_t h, int index, double n, double now) {
  return sima::wasm::CheckAt(h, index, n, now);
}

EMSCRIPTEN_BINDINGS(sima_core) {
  namespace w = sima::wasm;
  using emscripten::function;
  function("create", &w::Create);
  function("destroy", &w::Destroy);
  function("setCatalog", &w::SetCatalog);
  function("setUsage", &w::SetUsage);
  function("setSubscription", &w::SetSubscription);
  function("setPlan", &w::SetPlan);
  function("setUsed", &w::SetUsed);
  function("record", &w::Record);
  function("plan", &w::PlanOf);
  function("out", &w::Out);
  function("catalogNumbers", &w::CatalogNumbers);
  function("state", &w::State);
  function("catalogText", &w::CatalogText);
  function("check", &w::CheckAt);
  function("checkByName", &w::CheckByName);
  function("usage", &w::UsageOf);
  function("upgradeOptions", &w::Options);
  function("canBuy", &w::BuyOf);
  function("lifecycle", &w::LifecycleOf);
  function("quote", &w::QuoteOf);
  function("error", &w::ErrorOf);
  function("formatRupees", &w::Rupees);
  function("usageStatusName", &w::UsageStatusName);
  function("enforcementName", &w::EnforcementName);
  function("featureKindName", &w::FeatureKindName);
  function("subscriptionStateName", &w::SubscriptionStateName);

  // The layouts of out() (see the top of this file).
  using emscripten::constant;
  constant("CHECK_ALLOWED", int{w::kAllowed});
  constant("CHECK_PLAN", int{w::kPlan});
  constant("CHECK_CURRENT", int{w::kCurrent});
  constant("CHECK_REQUESTED", int{w::kRequested});
  constant("CHECK_LIMIT", int{w::kLimit});
  constant("CHECK_REMAINING", int{w::kRemaining});
  constant("CHECK_OVER", int{w::kOver});
  constant("CHECK_OVERRIDE", int{w::kOverride});
  constant("CHECK_UPGRADE_PLAN", int{w::kUpgradePlan});
  constant("CHECK_UPGRADE_LIMIT", int{w::kUpgradeLimit});
  constant("CHECK_UPGRADE_PRICE", int{w::kUpgradePrice});
  constant("CHECK_UPGRADE_PAISA", int{w::kUpgradePaisa});
  constant("ROW_USED", int{w::kRowUsed});
  constant("ROW_LIMIT", int{w::kRowLimit});
  constant("ROW_PERCENT", int{w::kRowPercent});
  constant("ROW_STATUS", int{w::kRowStatus});
  constant("ROW_ENFORCEMENT", int{w::kRowEnforcement});
  constant("ROW_OVERRIDE", int{w::kRowOverride});
  constant("ROW_UNLOCK_PLAN", int{w::kRowUnlockPlan});
  constant("ROW_UNLOCK_PRICE", int{w::kRowUnlockPrice});
  constant("ROW_UNLOCK_PAISA", int{w::kRowUnlockPaisa});
  constant("ROW_SIZE", int{w::kRowSize});
  constant("OPTION_PLAN", int{w::kOptPlan});
  constant("OPTION_LIMIT", int{w::kOptLimit});
  constant("OPTION_PRICE", int{w::kOptPrice});
  constant("OPTION_PAISA", int{w::kOptPaisa});
  constant("OPTION_ALLOWS", int{w::kOptAllows});
  constant("OPTION_SUGGESTED", int{w::kOptSuggested});
  constant("OPTION_SIZE", int{w::kOptionSize});
  constant("BUY_RENEW", int{w::kBuyRenew});
  constant("STATE_END", int{w::kStateEnd});
  constant("STATE_RENEWAL_DUE", int{w::kStateRenewalDue});
  constant("STATE_ENDS_AT", int{w::kStateEndsAt});
  constant("STATE_HEADER", int{w::kStateHeader});
  constant("STATE_HAS_OVERRIDE", int{w::kStateHasOverride});
  constant("STATE_LIMIT", int{w::kStateLimit});
  constant("STATE_PLAN", int{w::kStatePlan});
  constant("STATE_UNTIL", int{w::kStateUntil});
  constant("STATE_OVERRIDE_SIZE", int{w::kStateOverrideSize});
  constant("CATALOG_PERIOD_DAYS", int{w::kCatalogPeriodDays});
  constant("CATALOG_FEATURES", int{w::kCatalogFeatures});
  constant("CATALOG_PLANS", int{w::kCatalogPlans});
  constant("CATALOG_GRACE_DAYS", int{w::kCatalogGraceDays});
  constant("CATALOG_NOTICE_DAYS", int{w::kCatalogNoticeDays});
  constant("CATALOG_HEADER", int{w::kCatalogHeader});
  constant("LC_STATE", int{w::kLcState});
  constant("LC_PLAN", int{w::kLcPlan});
  constant("LC_SUBSCRIBED", int{w::kLcSubscribed});
  constant("LC_RENEWAL_PLAN", int{w::kLcRenewalPlan});
  constant("LC_NEXT_PLAN", int{w::kLcNextPlan});
  constant("LC_CANCEL", int{w::kLcCancel});
  constant("LC_TRIAL", int{w::kLcTrial});
  constant("LC_START", int{w::kLcStart});
  constant("LC_END", int{w::kLcEnd});
  constant("LC_RENEWAL_DUE_FROM", int{w::kLcRenewalDueFrom});
  constant("LC_GRACE_UNTIL", int{w::kLcGraceUntil});
  constant("LC_ENDS_AT", int{w::kLcEndsAt});
  constant("QUOTE_FROM", int{w::kQuoteFrom});
  constant("QUOTE_TO", int{w::kQuoteTo});
  constant("QUOTE_PRICE", int{w::kQuotePrice});
  constant("QUOTE_PRICE_PAISA", int{w::kQuotePricePaisa});
  constant("QUOTE_CREDIT", int{w::kQuoteCredit});
  constant("QUOTE_AMOUNT", int{w::kQuoteAmount});
  constant("QUOTE_AMOUNT_PAISA", int{w::kQuoteAmountPaisa});
  constant("QUOTE_UNUSED", int{w::kQuoteUnused});
  constant("QUOTE_START", int{w::kQuoteStart});
  constant("QUOTE_END", int{w::kQuoteEnd});
  constant("QUOTE_LINES", int{w::kQuoteLines});
  constant("QUOTE_HEADER", int{w::kQuoteHeader});
  constant("PLAN_PRICE", int{w::kPlanPrice});
  constant("PLAN_PAISA", int{w::kPlanPaisa});
  constant("PLAN_HEADER", int{w::kPlanHeader});
  constant("TEXT_CURRENCY", int{w::kCurrency});
  constant("TEXT_FEATURE_KEY", int{w::kFeatureKey});
  constant("TEXT_FEATURE_LABEL", int{w::kFeatureLabel});
  constant("TEXT_FEATURE_UNIT", int{w::kFeatureUnit});
  constant("TEXT_PLAN_CODE", int{w::kPlanCode});
  constant("TEXT_PLAN_NAME", int{w::kPlanName});
  constant("TEXT_OVERRIDE_UNTIL", int{w::kOverrideUntil});
}
