#include "sima/usage.h"

#include "sima/lifecycle.h"

namespace sima {
namespace {

void AppendUnit(std::string& text, const std::string& unit) {
  if (unit.empty()) return;
  text += ' ';
  text += unit;
}

// "8/10 (80%)", "3/10 seats (30%)", "12/∞", with status, percent and the note of a hard feature
// over its limit.
void DrawCount(UsageRow& row, const Plan& plan) {
  row.text = std::to_string(row.used);
  row.text += '/';
  if (row.limit.unlimited()) {
    row.text += "\u221e";  // ∞
    AppendUnit(row.text, row.unit);
    return;
  }
  const int64_t cap = row.limit.count();
  const int64_t used = row.used;
  // A zero limit is full from the start: nothing may be created.
  const int64_t percent = cap == 0 ? 100 : (used > INT64_MAX / 100 ? INT64_MAX : used * 100) / cap;
  row.percent = percent;
  if (used > cap) {
    row.status = UsageStatus::kOver;
  } else if (used == cap) {
    row.status = UsageStatus::kFull;
  } else if (percent >= 80) {
    row.status = UsageStatus::kWarning;
  }
  row.text += std::to_string(cap);
  AppendUnit(row.text, row.unit);
  row.text += " (";
  row.text += std::to_string(percent);
  row.text += "%)";
  if (used > cap && row.enforcement == Enforcement::kHard) {
    const std::string allowed = std::to_string(cap) + " allowed on " + plan.name;
    row.note = row.kind == FeatureKind::kAllocation
                   ? std::to_string(used) + " in use, " + allowed + ": remove " +
                         std::to_string(used - cap) + " to add more"
                   : std::to_string(used) + " used, " + allowed;
  }
}

// The Activation kind a purchase of `target` at `now` would have; nullopt when it cannot be
// bought (FREE, or a lower plan while a pricier one lasts).
std::optional<ActivationKind> PurchaseKind(const Catalog& catalog, const Subscription& sub,
                                           std::string_view target, Time now) {
  const auto a = ActivateWithGrace(catalog, sub, target, now);
  if (!a) return std::nullopt;
  return a->kind;
}

}  // namespace

std::string_view to_string(UsageStatus status) {
  switch (status) {
    case UsageStatus::kOk: return "ok";
    case UsageStatus::kWarning: return "warning";
    case UsageStatus::kFull: return "full";
    case UsageStatus::kOver: return "over";
  }
  return "ok";
}

UsageRow MakeUsageRow(const Feature& feature, int64_t used, const EffectiveLimit& limit,
                      const Plan& plan, std::optional<Upgrade> unlock) {
  UsageRow row;
  row.feature = feature.key;
  row.label = feature.label;
  row.kind = feature.kind;
  row.enforcement = feature.enforcement;
  row.unit = feature.unit;
  row.limit = limit.limit;
  if (limit.override != nullptr) row.override = *limit.override;
  switch (feature.kind) {
    case FeatureKind::kMetered:
    case FeatureKind::kAllocation:
      row.used = used;
      DrawCount(row, plan);
      break;
    case FeatureKind::kBoolean:
      row.text = row.limit.on() ? "On" : "Off";
      if (!row.limit.on()) row.unlock = std::move(unlock);
      break;
    case FeatureKind::kValue:
      if (row.limit.unlimited()) {
        row.text = "Unlimited";
      } else {
        row.text = std::to_string(row.limit.count());
        AppendUnit(row.text, row.unit);
      }
      break;
  }
  return row;
}

Result<std::vector<UsageRow>> UsageView(const Catalog& catalog, std::string_view plan,
                                        const Usage& usage, const Overrides& overrides, Time now) {
  const Plan* p = catalog.FindPlan(plan);
  if (p == nullptr) return Status::InvalidPlan("unknown plan \"" + std::string(plan) + "\"");
  std::vector<UsageRow> rows;
  rows.reserve(catalog.features().size());
  for (size_t i = 0; i < catalog.features().size(); ++i) {
    const Feature& f = catalog.features()[i];
    const EffectiveLimit limit = ResolveLimit(catalog, *p, i, overrides, now);
    std::optional<Upgrade> unlock;
    if (f.kind == FeatureKind::kBoolean && !limit.limit.on()) {
      unlock = SuggestUpgrade(catalog, p->code, i, 1, overrides, now);
    }
    const auto it = usage.find(f.key);
    rows.push_back(MakeUsageRow(f, it == usage.end() ? 0 : it->second, limit, *p, unlock));
  }
  return rows;
}

Result<std::vector<UsageRow>> UsageAfterUpgrade(const Catalog& catalog, const Subscription& sub,
                                                Time now, const Usage& usage,
                                                std::string_view target_plan,
                                                const Overrides& overrides) {
  if (PurchaseKind(catalog, sub, target_plan, now) != ActivationKind::kStarted) {
    // Extending the plan in force keeps the period and its counts; a plan that cannot be bought
    // is drawn against what is used now.
    return UsageView(catalog, target_plan, usage, overrides, now);
  }
  Usage kept;
  for (const auto& [key, used] : usage) {
    const auto index = catalog.FeatureIndex(key);
    if (index && catalog.features()[*index].kind == FeatureKind::kAllocation)
      kept.emplace(key, used);
  }
  return UsageView(catalog, target_plan, kept, overrides, now);
}

}  // namespace sima
