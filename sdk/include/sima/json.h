// All JSON of sima's core in one place, matching docs/api.md. -1 means unlimited here and
// only here. Parsing never throws: bad input is a Status naming the field.
#pragma once

#include <nlohmann/json.hpp>
#include <string_view>
#include <vector>

#include "sima/catalog.h"
#include "sima/decision.h"
#include "sima/payment.h"
#include "sima/status.h"
#include "sima/subscription.h"
#include "sima/usage.h"

namespace sima {

using Json = nlohmann::json;

// -1 for unlimited, else the count.
int64_t LimitToWire(Limit limit);
// Errors: kInvalidArgument for values below -1.
Result<Limit> LimitFromWire(int64_t value);

// GET /billing/plans/.
Json CatalogToJson(const Catalog& catalog);
// The same shape back (price_paisa wins over price when both are given).
Result<Catalog> CatalogFromJson(const Json& json);
Result<Catalog> ParseCatalog(std::string_view text);

// {"plan","limit","price"} of the 403 body.
Json UpgradeToJson(const std::optional<Upgrade>& upgrade);
// The decision with every field: allowed, feature, plan, current, requested, limit,
// remaining (null = unlimited), over, upgrade.
Json DecisionToJson(const Decision& decision);
// The 403 limit_reached body of docs/api.md.
Json LimitReachedBody(const Decision& decision);

// {"used","limit","percent","status","label","text","enforcement"}.
Json UsageRowToJson(const UsageRow& row);
// {"invoices": {...}, ...} in catalog order.
Json UsageRowsToJson(const std::vector<UsageRow>& rows);

// {"plan","is_active","start_date","end_date"} (end_date null when none).
Json SubscriptionToJson(const Subscription& sub, Time now);
Json PeriodToJson(const Period& period);

// What the browser core needs from GET /billing/usage/: the plan in force, the counts, and
// the subscription (what buying a plan would do: sima::CanBuy, sima::Activate).
struct UsageSnapshot {
  std::string plan;
  Usage usage;
  // From "subscription" ({"plan","start_date","end_date"}; is_active is derived, not read).
  // Without one: `plan` with no known start or end.
  Subscription subscription;
};
// Accepts the body of GET /billing/usage/. Errors name the field that is wrong.
Result<UsageSnapshot> UsageSnapshotFromJson(const Json& json);

// The inverse of SubscriptionToJson: {"plan","start_date","end_date"} (end_date null or
// missing = never ends). Errors: kInvalidArgument naming the field ("subscription.end_date").
Result<Subscription> SubscriptionFromJson(const Json& json);

}  // namespace sima
