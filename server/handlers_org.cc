// Organization calls: sessions, the usage view and metering.
#include "events.h"
#include "handlers.h"
#include "sima/json.h"
#include "sima/lifecycle.h"
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

// GET /billing/usage/: the plan in force, the subscription, the period, one row per catalog
// feature (with the overrides in force now) and every override of the organization that has
// not expired, so a browser can preview other plans with them.
Expected<Reply> GetUsage(const Services& s, const Call& call) {
  auto state = s.store.ReadUsage(call.org_id(), call.now);
  if (!state) return state.error();
  auto body = UsageAnswer(s.catalog, call.org_id(), state.value(), call.now);
  if (!body) return body.error();
  return Reply{200, std::move(body).value()};
}

namespace {

constexpr int64_t kMaxMeter = 1'000'000;
constexpr int64_t kMaxValue = 1'000'000'000'000'000;  // 10^15

// The "quantity" of POST /usage/{feature}/ as the feature's kind allows it: metered 1..10^6;
// allocation -10^6..10^6 except 0 (negative releases); boolean absent or 1; value 0..10^15
// (the size to check), default 1.
Expected<int64_t> Quantity(const Json& body, const Feature& feature) {
  const auto it = body.find("quantity");
  switch (feature.kind) {
    case FeatureKind::kMetered:
      if (it != body.end() && it->is_number_integer() && !it->is_number_unsigned() &&
          it->get<int64_t>() < 0) {
        return Error::Validation("quantity", "a metered feature cannot be released");
      }
      return IntField(body, "quantity", 1, kMaxMeter, 1);
    case FeatureKind::kAllocation: {
      auto q = IntField(body, "quantity", -kMaxMeter, kMaxMeter, 1);
      if (q && *q == 0) {
        return Error::Validation("quantity",
                                 "quantity must not be 0 (a positive count adds, a negative one "
                                 "releases)");
      }
      return q;
    }
    case FeatureKind::kBoolean:
      if (auto q = IntField(body, "quantity", 1, 1, 1); !q) {
        return Error::Validation("quantity",
                                 "quantity must be 1 (or absent) for a boolean feature");
      }
      return 1;
    case FeatureKind::kValue: return IntField(body, "quantity", 0, kMaxValue, 1);
  }
  return Error::Internal("a feature of an unknown kind");
}

}  // namespace

// POST /usage/{feature}/ {"quantity"?: 1, "idempotency_key"?}. An unknown feature is 404: the
// feature is part of the path, so the resource does not exist. Metered features count,
// allocations count or release, switches and values only decide (the store, in one
// transaction); a refusal is 403 limit_reached.
Expected<Reply> RecordUsageHandler(const Services& s, const Call& call) {
  const std::string& feature = call.params.at(0);
  const auto index = s.catalog.FeatureIndex(feature);
  if (!index) return Error::NotFound("no feature \"" + feature + "\" in the catalog");
  if (auto r = OnlyFields(call.body, {"quantity", "idempotency_key"}); !r) return r.error();
  auto quantity = Quantity(call.body, s.catalog.features()[*index]);
  if (!quantity) return quantity.error();
  auto key = StringField(call.body, "idempotency_key", false, 255, TextKind::kKey);
  if (!key) return key.error();
  auto result =
      s.store.RecordUsage(call.org_id(), MeterRequest{feature, *quantity, *key}, call.now);
  if (!result) return result.error();
  Reply reply{200,
              {{"allowed", true},
               {"feature", result->feature},
               {"kind", to_string(result->kind)},
               {"quantity", result->quantity},
               {"used", result->used},
               {"limit", LimitToJson(result->kind, result->limit)},
               {"over", result->over},
               {"plan", result->plan},
               {"override", OverrideTermsToJson(s.catalog, result->override)}}};
  if (result->replayed) reply.headers["Idempotent-Replayed"] = "true";
  return reply;
}

}  // namespace sima::server
