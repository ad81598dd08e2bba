#include "sima/usage.h"

namespace sima {

std::string_view to_string(UsageStatus status) {
  switch (status) {
    case UsageStatus::kOk: return "ok";
    case UsageStatus::kWarning: return "warning";
    case UsageStatus::kFull: return "full";
    case UsageStatus::kOver: return "over";
  }
  return "ok";
}

UsageRow MakeUsageRow(const Feature& feature, int64_t used, Limit limit) {
  UsageRow row;
  row.feature = feature.key;
  row.label = feature.label;
  row.enforcement = feature.enforcement;
  row.used = used;
  row.limit = limit;
  row.text = std::to_string(used);
  row.text += '/';
  if (limit.unlimited()) {
    row.text += "\u221e";  // ∞
    return row;
  }
  const int64_t cap = limit.count();
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
  row.text += " (";
  row.text += std::to_string(percent);
  row.text += "%)";
  return row;
}

Result<std::vector<UsageRow>> UsageView(const Catalog& catalog, std::string_view plan,
                                        const Usage& usage) {
  const Plan* p = catalog.FindPlan(plan);
  if (p == nullptr) return Status::InvalidPlan("unknown plan \"" + std::string(plan) + "\"");
  std::vector<UsageRow> rows;
  rows.reserve(catalog.features().size());
  for (size_t i = 0; i < catalog.features().size(); ++i) {
    const Feature& f = catalog.features()[i];
    const auto it = usage.find(f.key);
    rows.push_back(MakeUsageRow(f, it == usage.end() ? 0 : it->second, p->limits[i]));
  }
  return rows;
}

}  // namespace sima
