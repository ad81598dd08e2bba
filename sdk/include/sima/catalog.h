// The plan catalog: which plans exist, what they cost and what each allows.
// A Catalog is immutable once built and always valid: the only ways to get one are
// Catalog::Default() and Catalog::Create(), which checks every rule.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "sima/money.h"
#include "sima/status.h"

namespace sima {

inline constexpr std::string_view kFreePlan = "FREE";

// What a plan grants for one feature: a count (metered, allocation), a number (value), or a
// switch (boolean), or unlimited. Unlimited is its own state; -1 exists only on the wire (see
// json.h). A switch is stored as Unlimited (on) or Of(0) (off), so one comparison decides every
// kind; the wire says true/false for it.
class Limit {
 public:
  static constexpr Limit Unlimited() { return Limit(-1); }
  // REQUIRES: count >= 0.
  static constexpr Limit Of(int64_t count) { return Limit(count); }
  static constexpr Limit Switch(bool on) { return on ? Unlimited() : Of(0); }

  // For a switch: whether it is on. (True for any limit that allows one.)
  constexpr bool on() const { return count_ != 0; }

  constexpr bool unlimited() const { return count_ < 0; }
  // REQUIRES: !unlimited().
  constexpr int64_t count() const { return count_; }
  // True when a total of `total` stays within the limit.
  constexpr bool Allows(int64_t total) const { return unlimited() || total <= count_; }
  constexpr bool operator==(const Limit&) const = default;

 private:
  constexpr explicit Limit(int64_t count) : count_(count) {}
  int64_t count_;
};

enum class Enforcement {
  kHard,  // going over is refused (403 limit_reached)
  kSoft,  // never refused; usage is shown over 100 % ("over")
};

// What a feature is. The catalog JSON spells it "metered", "allocation", "boolean", "value";
// a feature without "kind" is metered (catalogs written before kinds keep their meaning).
enum class FeatureKind {
  kMetered,     // counted per period: zero at each period boundary and when a plan starts
                // (invoices per month, API calls)
  kAllocation,  // the number of live things: never reset; goes down when one is removed
                // (team members, customers)
  kBoolean,     // a switch, on or off per plan (custom branding); limit Limit::Switch(on)
  kValue,       // a number per plan the app enforces itself (max upload MB); -1 unlimited
};

std::string_view to_string(FeatureKind kind);
std::optional<FeatureKind> FeatureKindFromString(std::string_view text);

struct Feature {
  std::string key;    // "invoices"
  std::string label;  // "Invoices"
  // Metered and allocation features only; switches and values are always hard.
  Enforcement enforcement = Enforcement::kHard;
  FeatureKind kind = FeatureKind::kMetered;
  std::string unit = {};  // optional, shown after numbers: "MB" ("25 MB", "3/10 seats (30%)")

  // Metered and allocation features are counted; switches and values are not.
  bool counted() const { return kind == FeatureKind::kMetered || kind == FeatureKind::kAllocation; }
};

struct Plan {
  std::string code;  // "PRO"
  std::string name;  // "Pro"
  int64_t price_paisa = 0;
  // One limit per catalog feature, in the catalog's feature order.
  std::vector<Limit> limits;

  // Whole rupees, as the seed's `price`/`amount` fields show them.
  int64_t price_rupees() const { return WholeRupees(price_paisa); }
  bool is_free() const { return price_paisa == 0; }
};

// How a catalog's paid plans end (sima/lifecycle.h). Customers of Khalti and eSewa pay each
// renewal themselves, so sima reminds them before the end and waits a little after it.
// A field left nullopt takes its default, cut to fit the period: notice days {7, 3, 1} without
// those longer than period_days, grace min(3, period_days) days.
struct RenewalSettings {
  // Days before a period's end on which a renewal reminder is due; the first (largest) is
  // where "renewal due" starts. Each 1..period_days, distinct, in any order (kept largest
  // first). Empty: no reminders and no "renewal due" state.
  std::optional<std::vector<int>> notice_days;
  // Days after the end during which the plan still applies ("grace"), 0..period_days.
  std::optional<int> grace_days;
};

class Catalog {
 public:
  // The catalog of docs/api.md: FREE 0 / BASIC 1900 / PRO 3900 NPR per 30 days.
  static const Catalog& Default();

  // Checks and builds a catalog. Refused (kInvalidCatalog, naming the problem): no FREE plan,
  // FREE with a price, a negative price, a limit below -1 (wire) / missing limit, duplicate
  // plan codes or feature keys, a limit for an unknown feature, period_days < 1, empty
  // codes/keys, a soft switch or value, a switch whose limit is neither on nor off
  // (Limit::Switch), a notice day outside 1..period_days or given twice, grace_days outside
  // 0..period_days. `plan_limits[i]` lists limits in `features` order.
  static Result<Catalog> Create(std::string currency, int period_days,
                                std::vector<Feature> features, std::vector<Plan> plans,
                                RenewalSettings renewal = {});

  const std::string& currency() const { return currency_; }
  int period_days() const { return period_days_; }
  // Renewal reminder days before the end, largest first ({7, 3, 1} by default).
  const std::vector<int>& renewal_notice_days() const { return renewal_notice_days_; }
  // Days a paid plan still applies after its end (3 by default).
  int grace_days() const { return grace_days_; }
  const std::vector<Feature>& features() const { return features_; }
  // Plans ordered by price, cheapest first (FREE first).
  const std::vector<Plan>& plans() const { return plans_; }

  // Index of a feature in features(), or nullopt.
  std::optional<size_t> FeatureIndex(std::string_view key) const;
  // nullptr when there is no such plan.
  const Plan* FindPlan(std::string_view code) const;
  const Plan& free_plan() const { return plans_.front(); }

 private:
  Catalog() = default;
  std::string currency_;
  int period_days_ = 30;
  std::vector<int> renewal_notice_days_;
  int grace_days_ = 0;
  std::vector<Feature> features_;
  std::vector<Plan> plans_;
};

// "hard" or "soft", as the catalog's JSON spells it.
std::string_view to_string(Enforcement enforcement);

}  // namespace sima
