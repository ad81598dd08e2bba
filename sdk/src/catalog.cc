#include "sima/catalog.h"

#include <algorithm>
#include <set>

namespace sima {

const Catalog& Catalog::Default() {
  static const Catalog catalog = [] {
    const auto n = [](int64_t v) { return Limit::Of(v); };
    const Limit inf = Limit::Unlimited();
    const Limit on = Limit::Switch(true);
    const Limit off = Limit::Switch(false);
    constexpr Enforcement kHard = Enforcement::kHard;
    auto made =
        Create("NPR", 30,
               {{"invoices", "Invoices", kHard, FeatureKind::kMetered},
                {"customers", "Customers", kHard, FeatureKind::kAllocation},
                {"team_members", "Team members", kHard, FeatureKind::kAllocation, "seats"},
                {"api_calls", "API calls", Enforcement::kSoft, FeatureKind::kMetered},
                {"pdf_export", "Export to PDF", kHard, FeatureKind::kBoolean},
                {"custom_branding", "Custom branding", kHard, FeatureKind::kBoolean},
                {"attachment_mb", "Attachment size", kHard, FeatureKind::kValue, "MB"}},
               {{"FREE", "Free", 0, {n(10), n(5), n(1), n(100), off, off, n(5)}},
                {"BASIC", "Basic", 190000, {n(1000), n(50), n(3), n(10000), on, off, n(25)}},
                {"PRO", "Pro", 390000, {inf, inf, n(10), n(100000), on, on, n(100)}}});
    return std::move(made).value();  // the built-in catalog is valid by construction
  }();
  return catalog;
}

Result<Catalog> Catalog::Create(std::string currency, int period_days,
                                std::vector<Feature> features, std::vector<Plan> plans,
                                RenewalSettings renewal) {
  if (currency.empty()) return Status::InvalidCatalog("currency must not be empty");
  if (period_days < 1) {
    return Status::InvalidCatalog("period_days must be at least 1, got " +
                                  std::to_string(period_days));
  }
  const std::string period = " (period_days is " + std::to_string(period_days) + ")";
  std::vector<int> notice_days;
  if (renewal.notice_days) {
    notice_days = *renewal.notice_days;
    for (int d : notice_days) {
      if (d < 1 || d > period_days) {
        return Status::InvalidCatalog("renewal_notice_days: " + std::to_string(d) +
                                      " is not a day from 1 to period_days" + period);
      }
    }
    // Largest first. An insertion sort: a few days, and std::sort's code would weigh
    // kilobytes in the browser's build.
    for (size_t i = 1; i < notice_days.size(); ++i) {
      for (size_t j = i; j > 0 && notice_days[j - 1] < notice_days[j]; --j) {
        std::swap(notice_days[j - 1], notice_days[j]);
      }
    }
    if (auto twice = std::adjacent_find(notice_days.begin(), notice_days.end());
        twice != notice_days.end()) {
      return Status::InvalidCatalog("renewal_notice_days: " + std::to_string(*twice) +
                                    " is given twice");
    }
  } else {
    for (int d : {7, 3, 1}) {
      if (d <= period_days) notice_days.push_back(d);
    }
  }
  const int grace_days = renewal.grace_days.value_or(std::min(3, period_days));
  if (grace_days < 0 || grace_days > period_days) {
    return Status::InvalidCatalog("grace_days must be from 0 to period_days, got " +
                                  std::to_string(grace_days) + period);
  }
  if (features.empty()) return Status::InvalidCatalog("a catalog needs at least one feature");
  std::set<std::string, std::less<>> keys;
  for (const Feature& f : features) {
    if (f.key.empty()) return Status::InvalidCatalog("a feature has an empty key");
    if (!keys.insert(f.key).second) {
      return Status::InvalidCatalog("duplicate feature \"" + f.key + "\"");
    }
    if (!f.counted() && f.enforcement == Enforcement::kSoft) {
      return Status::InvalidCatalog("feature \"" + f.key + "\" is a " +
                                    std::string(to_string(f.kind)) +
                                    " feature and cannot be soft (switches and values are "
                                    "always hard)");
    }
  }
  std::set<std::string, std::less<>> codes;
  for (const Plan& p : plans) {
    if (p.code.empty()) return Status::InvalidCatalog("a plan has an empty code");
    if (!codes.insert(p.code).second) {
      return Status::InvalidCatalog("duplicate plan \"" + p.code + "\"");
    }
    if (p.price_paisa < 0) {
      return Status::InvalidCatalog("plan \"" + p.code + "\" has a negative price (" +
                                    std::to_string(p.price_paisa) + " paisa)");
    }
    if (p.limits.size() != features.size()) {
      return Status::InvalidCatalog("plan \"" + p.code + "\" has " +
                                    std::to_string(p.limits.size()) + " limits for " +
                                    std::to_string(features.size()) + " features");
    }
    for (size_t i = 0; i < features.size(); ++i) {
      const Limit limit = p.limits[i];
      if (features[i].kind == FeatureKind::kBoolean && limit != Limit::Switch(limit.on())) {
        return Status::InvalidCatalog("plan \"" + p.code + "\" limit for \"" + features[i].key +
                                      "\" must be true or false (a boolean feature)");
      }
    }
    if (p.code != kFreePlan && p.price_paisa == 0) {
      return Status::InvalidCatalog("plan \"" + p.code + "\" is paid but has price 0");
    }
  }
  const auto free =
      std::find_if(plans.begin(), plans.end(), [](const Plan& p) { return p.code == kFreePlan; });
  if (free == plans.end()) return Status::InvalidCatalog("the catalog has no FREE plan");
  if (free->price_paisa != 0) {
    return Status::InvalidCatalog("the FREE plan must cost 0, got " +
                                  std::to_string(free->price_paisa) + " paisa");
  }
  std::stable_sort(plans.begin(), plans.end(),
                   [](const Plan& a, const Plan& b) { return a.price_paisa < b.price_paisa; });
  Catalog c;
  c.currency_ = std::move(currency);
  c.period_days_ = period_days;
  c.renewal_notice_days_ = std::move(notice_days);
  c.grace_days_ = grace_days;
  c.features_ = std::move(features);
  c.plans_ = std::move(plans);
  return c;
}

std::optional<size_t> Catalog::FeatureIndex(std::string_view key) const {
  for (size_t i = 0; i < features_.size(); ++i) {
    if (features_[i].key == key) return i;
  }
  return std::nullopt;
}

const Plan* Catalog::FindPlan(std::string_view code) const {
  for (const Plan& p : plans_) {
    if (p.code == code) return &p;
  }
  return nullptr;
}

std::string_view to_string(FeatureKind kind) {
  switch (kind) {
    case FeatureKind::kMetered: return "metered";
    case FeatureKind::kAllocation: return "allocation";
    case FeatureKind::kBoolean: return "boolean";
    case FeatureKind::kValue: return "value";
  }
  return "metered";
}

std::optional<FeatureKind> FeatureKindFromString(std::string_view text) {
  for (FeatureKind kind : {FeatureKind::kMetered, FeatureKind::kAllocation, FeatureKind::kBoolean,
                           FeatureKind::kValue}) {
    if (to_string(kind) == text) return kind;
  }
  return std::nullopt;
}

std::string_view to_string(Enforcement enforcement) {
  return enforcement == Enforcement::kSoft ? "soft" : "hard";
}

}  // namespace sima
