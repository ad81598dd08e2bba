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

// How many of a feature a plan allows per period: a count, or unlimited.
// Unlimited is its own state; -1 exists only on the wire (see json.h).
class Limit {
 public:
  static constexpr Limit Unlimited() { return Limit(-1); }
  // REQUIRES: count >= 0.
  static constexpr Limit Of(int64_t count) { return Limit(count); }

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

struct Feature {
  std::string key;    // "invoices"
  std::string label;  // "Invoices"
  Enforcement enforcement = Enforcement::kHard;
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

class Catalog {
 public:
  // The catalog of docs/api.md: FREE 0 / BASIC 1900 / PRO 3900 NPR per 30 days.
  static const Catalog& Default();

  // Checks and builds a catalog. Refused (kInvalidCatalog, naming the problem): no FREE plan,
  // FREE with a price, a negative price, a limit below -1 (wire) / missing limit, duplicate
  // plan codes or feature keys, a limit for an unknown feature, period_days < 1, empty
  // codes/keys. `plan_limits[i]` lists limits in `features` order.
  static Result<Catalog> Create(std::string currency, int period_days,
                                std::vector<Feature> features, std::vector<Plan> plans);

  const std::string& currency() const { return currency_; }
  int period_days() const { return period_days_; }
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
  std::vector<Feature> features_;
  std::vector<Plan> plans_;
};

}  // namespace sima
