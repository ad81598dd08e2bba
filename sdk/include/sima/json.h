// All JSON of sima's core in one place, matching docs/api.md. -1 means unlimited here and
// only here. Parsing never throws: bad input is a Status naming the field.
#pragma once

#include <nlohmann/json.hpp>
#include <string_view>
#include <vector>

#include "sima/catalog.h"
#include "sima/decision.h"
#include "sima/lifecycle.h"
#include "sima/payment.h"
#include "sima/quote.h"
#include "sima/status.h"
#include "sima/subscription.h"
#include "sima/usage.h"

namespace sima {

using Json = nlohmann::json;

// `text` as JSON, never throwing: a discarded value (is_discarded()) when it is not valid JSON
// or has anything after the value. The same as Json::parse(text, nullptr, false), without the
// parser for callbacks (smaller in the browser's build).
Json ParseJson(std::string_view text);

// -1 for unlimited, else the count.
int64_t LimitToWire(Limit limit);
// Errors: kInvalidArgument for values below -1.
Result<Limit> LimitFromWire(int64_t value);
// A limit as `kind` spells it on the wire: true/false for a switch, else LimitToWire.
Json LimitToJson(FeatureKind kind, Limit limit);
// The inverse: a switch must be a JSON boolean, anything else an integer >= -1. Errors:
// kInvalidArgument saying what was expected ("must be true or false for the boolean feature
// \"pdf_export\"").
Result<Limit> LimitFromJson(FeatureKind kind, const Json& value, std::string_view feature);

// GET /billing/plans/: features carry "kind" and "unit" ("" when none); switches' limits are
// true/false.
Json CatalogToJson(const Catalog& catalog);
// The same shape back (price_paisa wins over price when both are given).
Result<Catalog> CatalogFromJson(const Json& json);
Result<Catalog> ParseCatalog(std::string_view text);

// {"plan","limit","price","price_paisa"} of the 403 body (limit true for a switch).
Json UpgradeToJson(const std::optional<Upgrade>& upgrade, FeatureKind kind = FeatureKind::kMetered);

// {"feature","limit","plan","until"} (plan/until null when not set); the limit as the
// feature's kind spells it.
Json OverrideToJson(const Catalog& catalog, const Override& o);
// The same without "feature", as it stands beside a feature (usage rows, decisions, the metering
// answer, the admin history): null for none, else {"limit","plan","until"}.
Json OverrideTermsToJson(const Catalog& catalog, const std::optional<Override>& o);
// The inverse, checked with ValidateOverride. Errors start with the field they are about
// ("until must be an RFC 3339 time or null"): kInvalidArgument, or kUnknownFeature /
// kInvalidPlan as ValidateOverride.
Result<Override> OverrideFromJson(const Catalog& catalog, const Json& json);
// The decision with every field: allowed, feature, kind, plan, current, requested, limit,
// remaining (null = unlimited), over, override (null or OverrideToJson without "feature"),
// upgrade.
Json DecisionToJson(const Decision& decision);
// The 403 limit_reached body of docs/api.md: error, code, feature, kind, current, limit, plan,
// override, upgrade (for a switch: the plan that turns it on).
Json LimitReachedBody(const Decision& decision);

// {"kind","label","used","limit","percent","status","text","enforcement","unit","override",
// "unlock","note"} — every kind has every field (used 0, percent null for switches and values;
// unit/note "" when none; override/unlock null when none).
Json UsageRowToJson(const UsageRow& row);
// {"invoices": {...}, ...} in catalog order.
Json UsageRowsToJson(const std::vector<UsageRow>& rows);

// {"plan","is_active","start_date","end_date"} (end_date null when none). Knows no grace: the
// server moves to the overload below with the lifecycle (sima/lifecycle.h).
Json SubscriptionToJson(const Subscription& sub, Time now);
// The subscription in every usage answer and in GET /billing/subscription/, with its
// lifecycle at `now`:
//   {"plan": the plan in force (PlanInForce), "is_active": a paid or trial plan applies
//    (trialing, active, renewal_due, grace, canceled), "start_date", "end_date",
//    "state": "free"|"trialing"|"active"|"renewal_due"|"grace"|"canceled"|"expired",
//    "subscribed_plan": the plan paid for or granted (stays after expiry), "trial",
//    "renewal_plan" (null when it does not renew), "renewal_due_from", "grace_until",
//    "ends_at" (RFC 3339 or null, as Lifecycle),
//    "scheduled_change": null | {"kind":"cancel","plan":null} | {"kind":"switch","plan":"BASIC"}}
// SubscriptionFromJson reads it back.
Json SubscriptionToJson(const Catalog& catalog, const Subscription& sub, Time now);
Json PeriodToJson(const Period& period);

// What the browser core needs from GET /billing/usage/: the plan in force, the counts, and
// the subscription (what buying a plan would do: sima::CanBuy, sima::Activate).
struct UsageSnapshot {
  std::string plan;
  Usage usage;
  // From "overrides" (an array of OverrideToJson); none when missing.
  Overrides overrides;
  // From "subscription" ({"plan","start_date","end_date"}; is_active is derived, not read).
  // Without one: `plan` with no known start or end.
  Subscription subscription;
};
// Accepts the body of GET /billing/usage/ (needs the catalog to read overrides' limits). Errors
// name the field that is wrong ("usage snapshot: overrides[1].limit must be true or false ...").
Result<UsageSnapshot> UsageSnapshotFromJson(const Catalog& catalog, const Json& json);

// The inverse of SubscriptionToJson: {"plan","start_date","end_date"} (end_date null or
// missing = never ends), and from the lifecycle overload "subscribed_plan" (wins over "plan",
// which is only the plan in force), "trial" and "scheduled_change", each optional (missing:
// false / none). The derived fields (state, dates, is_active) are not read. Errors:
// kInvalidArgument naming the field ("subscription.end_date", "subscription.trial must be
// true or false", "subscription.scheduled_change ...").
Result<Subscription> SubscriptionFromJson(const Json& json);

// An upgrade quote (sima/quote.h) as the browser shows it and the server logs it:
//   {"plan","from_plan","price","price_paisa","credit_paisa","amount","amount_paisa",
//    "unused_seconds","start_date","end_date",
//    "amount_breakdown":[{"label":"PRO, 30 days","amount":390000},
//                        {"label":"Credit: unused BASIC until 2026-12-15","amount":-95000}]}
// price and amount in whole rupees (dropped fraction, as elsewhere), everything else in
// paisa; amount_breakdown is Khalti's field as it is sent (amounts in paisa, summing to
// amount_paisa).
Json QuoteToJson(const UpgradeQuote& quote);

// The body of POST /billing/subscription/: {"change":"switch"|"cancel"|"undo","plan":...}
// ("plan" required for "switch" only). Errors: kInvalidArgument naming the field.
struct ChangeRequest {
  ChangeKind kind = ChangeKind::kUndo;
  std::string plan;
  bool operator==(const ChangeRequest&) const = default;
};
Result<ChangeRequest> ChangeRequestFromJson(const Json& json);

}  // namespace sima
