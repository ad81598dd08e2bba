// The rules every store applies the same way around its own tables (store.h): which counter a
// feature's usage lives in, what RecordUsage accepts for each kind, and the answers it gives.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "clock.h"
#include "error.h"
#include "sima/catalog.h"
#include "sima/decision.h"
#include "sima/lifecycle.h"
#include "sima/settlement.h"
#include "sima/time.h"
#include "store.h"

namespace sima::server {

// Whether the catalog counts `feature` as an allocation (a live count with no period). A
// feature the catalog does not have is not (its counts, if any, are the period's).
inline bool IsAllocation(const Catalog& catalog, std::string_view feature) {
  const auto i = catalog.FeatureIndex(feature);
  return i && catalog.features()[*i].kind == FeatureKind::kAllocation;
}

// Whether the catalog counts `feature` per period: a metered feature, or one it does not have.
inline bool IsMetered(const Catalog& catalog, std::string_view feature) {
  const auto i = catalog.FeatureIndex(feature);
  return !i || catalog.features()[*i].kind == FeatureKind::kMetered;
}

// The resources the server keeps (customers, team members): counted by creating and deleting
// them, never by RecordUsage.
inline bool IsServerResource(std::string_view feature) {
  return feature == kCustomers || feature == kTeamMembers;
}

// The catalog feature RecordUsage meters, once `req` fits its kind (store.h): kNotFound for a
// feature the catalog does not have, kValidation "quantity" for a metered release, kConflict
// "quantity" for the server's own resources.
inline Expected<const Feature*> MeteredFeature(const Catalog& catalog, const MeterRequest& req) {
  const auto i = catalog.FeatureIndex(req.feature);
  if (!i) return Error::NotFound("no feature \"" + req.feature + "\" in the catalog");
  const Feature& f = catalog.features()[*i];
  if (f.kind == FeatureKind::kMetered && req.quantity < 0) {
    return Error::Validation("quantity", "a metered feature cannot be released");
  }
  if (f.kind == FeatureKind::kAllocation && IsServerResource(req.feature)) {
    Error e = Error::Conflict("\"" + req.feature + "\" is counted by creating and deleting " +
                              (req.feature == kCustomers ? "customers" : "team members"));
    e.extra["field"] = "quantity";
    return e;
  }
  return &f;
}

// kConflict "quantity": releasing more of an allocation than is in use.
inline Error ReleaseTooLarge(std::string_view feature, int64_t quantity, int64_t used) {
  Error e = Error::Conflict("cannot release " + std::to_string(-quantity) + " of \"" +
                            std::string(feature) + "\": " + std::to_string(used) + " in use");
  e.extra["field"] = "quantity";
  return e;
}

// kConflict "idempotency_key" unless a remembered answer is for the same request.
inline ExpectedDone SameRequest(const MeterResult& first, const MeterRequest& req) {
  if (first.feature == req.feature && first.quantity == req.quantity) return Done{};
  Error e = Error::Conflict("this idempotency_key was already used for a different request");
  e.extra["field"] = "idempotency_key";
  return e;
}

// The answer to a metering call decided by `d`, with `used` after it (0 for switches and
// values, which count nothing). A release is never over its limit.
inline MeterResult MeterAnswer(const Feature& feature, const MeterRequest& req, const Decision& d,
                               int64_t used) {
  MeterResult out;
  out.feature = req.feature;
  out.kind = feature.kind;
  out.quantity = req.quantity;
  out.plan = d.plan;
  out.used = feature.counted() ? used : 0;
  out.limit = d.limit;
  out.over = req.quantity > 0 && d.over;
  out.override = d.override;
  return out;
}

// --- the subscription's lifecycle ---

// What GrantTrial writes (store.h): sima::GrantTrial's subscription, the period whose metered
// counters are cleared (a started period, the same reset as a payment's activation: Settle's
// reset_usage_from) and the plan change recorded with cause "trial". Errors: GrantTrial's.
struct TrialGrant {
  Subscription subscription;
  std::optional<Time> reset_usage_from;
  PlanChange change;
};
inline Expected<TrialGrant> GrantTrialChange(const Catalog& catalog, const Subscription& before,
                                             std::string_view plan, int days, Time now) {
  auto granted = sima::GrantTrial(catalog, before, plan, days, now);
  if (!granted) return Error::FromStatus(granted.status());
  const Subscription& after = granted->subscription;
  std::optional<Time> reset;
  if (granted->reset_usage()) reset = CurrentPeriod(after, catalog.period_days(), now).start;
  return TrialGrant{after, reset,
                    PlanChange{.at = now,
                               .cause = "trial",
                               .from_plan = std::string(PlanInForce(catalog, before, now)),
                               .to_plan = after.plan,
                               .start = after.start,
                               .end = after.end,
                               .kind = granted->kind}};
}

// Recorded reminder keys of periods that ended before this are pruned (PruneResult.reminders):
// 2 x (period_days + grace_days) before `now`.
inline Time ReminderKeysPrunedBefore(const Catalog& catalog, Time now) {
  return now - Days{2 * (catalog.period_days() + catalog.grace_days())};
}

// `id` with every character but ASCII letters, digits, '_', '.' and '-' made '-', so an outbox
// message id is also a safe file name (the .eml).
inline std::string FileSafeMessageId(std::string id) {
  for (char& c : id) {
    const bool safe = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                      c == '_' || c == '.' || c == '-';
    if (!safe) c = '-';
  }
  return id;
}

// The outbox message id of a reminder: "reminder-<org_id>-<key>", file-safe.
inline std::string ReminderMessageId(std::string_view org_id, std::string_view key) {
  return FileSafeMessageId("reminder-" + std::string(org_id) + "-" + std::string(key));
}

// The outbox message id of a usage alert: "usage-<org_id>-<feature>-<period start, unix
// seconds>-<threshold>", file-safe: one e-mail per recorded alert, whichever store sends it.
inline std::string UsageAlertMessageId(const UsageAlert& alert) {
  return FileSafeMessageId("usage-" + alert.org_id + "-" + alert.feature + "-" +
                           std::to_string(ToUnixSeconds(alert.period.start)) + "-" +
                           std::string(to_string(alert.threshold)));
}

}  // namespace sima::server
