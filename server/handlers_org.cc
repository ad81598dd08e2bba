// Organization calls: sessions, the usage view and metering.
#include "handlers.h"
#include "sima/json.h"
#include "sima/usage.h"
#include "validate.h"

namespace sima::server {

// POST /sessions/ (secret key only): a short-lived browser token for the same organization.
Expected<Reply> CreateSessionHandler(const Services& s, const Call& call) {
  if (auto r = OnlyFields(call.body, {}); !r) return r.error();
  auto token = NewSessionToken();
  if (!token) return token.error();
  const Time expires_at = call.now + std::chrono::seconds{s.config.session_ttl_seconds};
  auto evicted = s.store.CreateSession(call.org_id(), call.principal->key_id,
                                       Sha256Hex(token.value()), expires_at, call.now);
  if (!evicted) return evicted.error();
  // Past SIMA_SESSIONS_PER_KEY the key's oldest sessions ended; they end here at once too.
  for (const std::string& hash : *evicted) s.auth.Forget(hash);
  return Reply{201, {{"token", token.value()}, {"expires_at", FormatTime(expires_at)}}};
}

// DELETE /sessions/current/ with a session token: a browser ends its own session (log out).
// Only that session ends; a secret key is not a session and is refused (403).
Expected<Reply> EndSessionHandler(const Services& s, const Call& call) {
  if (!call.principal->via_session) {
    return Error{ErrorKind::kForbidden, "only a session token can end its own session"};
  }
  if (auto r = s.store.EndSession(call.principal->token_hash); !r) {
    // Ended meanwhile (a revocation, the cap): it is over either way.
    if (r.error().kind != ErrorKind::kNotFound) return r.error();
  }
  s.auth.Forget(call.principal->token_hash);
  return Reply{204, nullptr};
}

// GET /billing/usage/: the plan in force, the subscription, the period and one row per feature.
Expected<Reply> GetUsage(const Services& s, const Call& call) {
  auto state = s.store.ReadUsage(call.org_id(), call.now);
  if (!state) return state.error();
  const std::string_view plan = EffectivePlan(state->subscription, call.now);
  auto rows = UsageView(s.catalog, plan, state->usage);
  if (!rows)
    return Error::Internal("the organization's plan is not in the catalog: " +
                           rows.status().ToString());
  return Reply{200,
               {{"org_id", call.org_id()},
                {"plan", plan},
                {"subscription", SubscriptionToJson(state->subscription, call.now)},
                {"period", PeriodToJson(state->period)},
                {"usage", UsageRowsToJson(rows.value())}}};
}

// POST /usage/{feature}/ {"quantity"?: 1, "idempotency_key"?}. An unknown feature is 404: the
// feature is part of the path, so the resource does not exist.
Expected<Reply> RecordUsageHandler(const Services& s, const Call& call) {
  const std::string& feature = call.params.at(0);
  if (!s.catalog.FeatureIndex(feature)) {
    return Error::NotFound("no feature \"" + feature + "\" in the catalog");
  }
  if (auto r = OnlyFields(call.body, {"quantity", "idempotency_key"}); !r) return r.error();
  auto quantity = IntField(call.body, "quantity", 1, 1000000, 1);
  if (!quantity) return quantity.error();
  auto key = StringField(call.body, "idempotency_key", false, 255, TextKind::kKey);
  if (!key) return key.error();
  auto result =
      s.store.RecordUsage(call.org_id(), MeterRequest{feature, *quantity, *key}, call.now);
  if (!result) return result.error();
  Reply reply{200,
              {{"allowed", true},
               {"feature", result->feature},
               {"quantity", result->quantity},
               {"used", result->used},
               {"limit", LimitToWire(result->limit)},
               {"over", result->over},
               {"plan", result->plan}}};
  if (result->replayed) reply.headers["Idempotent-Replayed"] = "true";
  return reply;
}

}  // namespace sima::server
