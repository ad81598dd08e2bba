// sima-parity: reads a JSON array of cases on stdin and prints, as a JSON array, what the
// native core answers for each. wasm/test/parity.test.mjs runs the same table through the JS
// package and compares the two.
//
// A case: {"catalog": <catalog JSON or null for the default>, "usage": <GET /billing/usage/
// body, its "overrides" included>, "op": "check" | "usage" | "afterUpgrade" | "upgradeOptions" |
// "canBuy" | "lifecycle" | "quote", "feature", "n", "plan", "at" (now for every op, RFC 3339;
// default "2026-12-01T00:00:00Z")}. check, usage and upgradeOptions decide on the plan in force
// at "at" (sima::PlanInForce of the snapshot's subscription, or its plan when it has none), as
// the package does; every op applies the overrides in force at "at".
// An answer: {"ok": true, "result": ...} or {"ok": false, "code": "...", "message": "..."};
// canBuy's result is the package's {ok, plan, code, message, renew, end_date}; lifecycle's is
// sima::SubscriptionToJson with the catalog, quote's sima::QuoteToJson of sima::QuotePayment
// with sima::kMinimumPaymentPaisa (what the server charges).
#include <iostream>
#include <iterator>
#include <string>
#include <vector>

#include "sima/catalog.h"
#include "sima/decision.h"
#include "sima/json.h"
#include "sima/lifecycle.h"
#include "sima/payment.h"
#include "sima/quote.h"
#include "sima/subscription.h"
#include "sima/time.h"
#include "sima/usage.h"

namespace {

sima::Json Error(const sima::Status& status) {
  return {{"ok", false}, {"code", sima::code_name(status.code())}, {"message", status.message()}};
}

sima::Json Rows(const std::vector<sima::UsageRow>& rows) {
  sima::Json out = sima::Json::array();
  for (const sima::UsageRow& row : rows) {
    sima::Json j = sima::UsageRowToJson(row);
    j["feature"] = row.feature;
    out.push_back(std::move(j));
  }
  return out;
}

sima::Json Options(const std::vector<sima::UpgradeOption>& options, sima::FeatureKind kind) {
  sima::Json out = sima::Json::array();
  for (const sima::UpgradeOption& o : options) {
    out.push_back({{"plan", o.plan},
                   {"name", o.name},
                   {"limit", sima::LimitToJson(kind, o.limit)},
                   {"price", sima::WholeRupees(o.price_paisa)},
                   {"price_paisa", o.price_paisa},
                   {"allows", o.allows},
                   {"suggested", o.suggested}});
  }
  return out;
}

// What buying `plan` at `now` would do, as core.canBuy() answers it.
sima::Json Buy(const sima::Catalog& catalog, const sima::Subscription& sub, const std::string& plan,
               sima::Time now) {
  const auto a = sima::ActivateWithGrace(catalog, sub, plan, now);
  sima::Json result = {{"ok", a.ok()},
                       {"plan", plan},
                       {"code", nullptr},
                       {"message", nullptr},
                       {"renew", a.ok() && a->kind == sima::ActivationKind::kExtended},
                       {"end_date", nullptr}};
  if (a.ok()) {
    result["end_date"] = sima::FormatTime(*a->subscription.end);
  } else {
    result["code"] = sima::code_name(a.status().code());
    result["message"] = a.status().message();
  }
  return {{"ok", true}, {"result", std::move(result)}};
}

sima::Json Run(const sima::Json& c) {
  if (!c.is_object()) return Error(sima::Status::InvalidJson("a case must be an object"));
  const auto catalog = c.contains("catalog") && !c["catalog"].is_null()
                           ? sima::CatalogFromJson(c["catalog"])
                           : sima::Result<sima::Catalog>(sima::Catalog::Default());
  if (!catalog) return Error(catalog.status());
  const auto snapshot =
      sima::UsageSnapshotFromJson(*catalog, c.value("usage", sima::Json::object()));
  if (!snapshot) return Error(snapshot.status());
  const auto now = sima::ParseTime(c.value("at", std::string("2026-12-01T00:00:00Z")));
  if (!now) return Error(sima::Status::InvalidArgument("\"at\" must be an RFC 3339 time"));
  if (catalog->FindPlan(snapshot->plan) == nullptr) {
    return Error(sima::Status::InvalidPlan("unknown plan \"" + snapshot->plan + "\""));
  }
  const std::string op = c.value("op", "");
  if (op == "check") {
    const auto d =
        sima::Check(*catalog, snapshot->subscription, *now, snapshot->usage, c.value("feature", ""),
                    c.value("n", int64_t{1}), snapshot->overrides);
    if (!d) return Error(d.status());
    return {{"ok", true}, {"result", sima::DecisionToJson(*d)}};
  }
  if (op == "upgradeOptions") {
    const auto options = sima::UpgradeOptions(
        *catalog, sima::PlanInForce(*catalog, snapshot->subscription, *now), snapshot->usage,
        c.value("feature", ""), c.value("n", int64_t{1}), snapshot->overrides, *now);
    if (!options) return Error(options.status());
    const sima::FeatureKind kind =
        catalog->features()[*catalog->FeatureIndex(c.value("feature", ""))].kind;
    return {{"ok", true}, {"result", Options(*options, kind)}};
  }
  if (op == "canBuy") {
    return Buy(*catalog, snapshot->subscription, c.value("plan", ""), *now);
  }
  if (op == "lifecycle") {
    return {{"ok", true},
            {"result", sima::SubscriptionToJson(*catalog, snapshot->subscription, *now)}};
  }
  if (op == "quote") {
    const auto q = sima::QuotePayment(*catalog, snapshot->subscription, c.value("plan", ""), *now,
                                      sima::kMinimumPaymentPaisa);
    if (!q) return Error(q.status());
    return {{"ok", true}, {"result", sima::QuoteToJson(*q)}};
  }
  if (op == "usage" || op == "afterUpgrade") {
    const auto rows =
        op == "usage"
            ? sima::UsageView(*catalog, sima::PlanInForce(*catalog, snapshot->subscription, *now),
                              snapshot->usage, snapshot->overrides, *now)
            : sima::UsageAfterUpgrade(*catalog, snapshot->subscription, *now, snapshot->usage,
                                      c.value("plan", ""), snapshot->overrides);
    if (!rows) return Error(rows.status());
    return {{"ok", true}, {"result", Rows(*rows)}};
  }
  return Error(sima::Status::InvalidArgument("unknown op \"" + op + "\""));
}

}  // namespace

int main() {
  const std::string input{std::istreambuf_iterator<char>(std::cin),
                          std::istreambuf_iterator<char>()};
  const sima::Json cases = sima::Json::parse(input, nullptr, false);
  if (cases.is_discarded() || !cases.is_array()) {
    std::cerr << "sima-parity: stdin must be a JSON array of cases\n";
    return 2;
  }
  sima::Json out = sima::Json::array();
  for (const sima::Json& c : cases) out.push_back(Run(c));
  std::cout << out.dump(-1, ' ', false, sima::Json::error_handler_t::replace) << '\n';
  return 0;
}
