// The usage view: what a usage panel draws for each feature ("8/10 (80%)").
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "sima/catalog.h"
#include "sima/decision.h"
#include "sima/status.h"

namespace sima {

enum class UsageStatus {
  kOk,       // under 80 %
  kWarning,  // 80 % or more, still below the limit
  kFull,     // at the limit
  kOver,     // past the limit (soft features, or hard ones after a plan ended)
};

std::string_view to_string(UsageStatus status);

struct UsageRow {
  std::string feature;
  std::string label;
  Enforcement enforcement = Enforcement::kHard;
  int64_t used = 0;
  Limit limit = Limit::Unlimited();
  std::optional<int64_t> percent;  // floor(used * 100 / limit); nullopt when unlimited
  UsageStatus status = UsageStatus::kOk;
  std::string text;  // "8/10 (80%)", "450/100 (450%)", "12/∞"
};

// One row per catalog feature, in catalog order, for `usage` on `plan`.
// Errors: kInvalidPlan.
Result<std::vector<UsageRow>> UsageView(const Catalog& catalog, std::string_view plan,
                                        const Usage& usage);

// The same counts drawn against another plan's limits: the seed's "after upgrade to P"
// preview, showing the headroom P would give for what is used now.
inline Result<std::vector<UsageRow>> UsageAfterUpgrade(const Catalog& catalog,
                                                       std::string_view target_plan,
                                                       const Usage& usage) {
  return UsageView(catalog, target_plan, usage);
}

// The row for one count against one limit (used by UsageView).
UsageRow MakeUsageRow(const Feature& feature, int64_t used, Limit limit);

}  // namespace sima
