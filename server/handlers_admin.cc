#include "handlers.h"
#include "paging.h"
#include "sima/json.h"
#include "sima/lifecycle.h"
#include "sima/overrides.h"
#include "sima/subscription.h"
#include "validate.h"

namespace sima::server {
namespace {

// A new secret key with its public id and the prefix people recognise it by.
struct MintedKey {
  std::string key;     // shown once
  std::string key_id;  // "key_..."
  std::string prefix;  // "sk_" + the first 4 hex digits
};

Expected<MintedKey> MintKey() {
  auto key = NewSecretKey();
  if (!key) return key.error();
  auto id = NewId("key");
  if (!id) return id.error();
  return MintedKey{key.value(), id.value(), key->substr(0, 7)};
}

Json KeyToJson(const ApiKeyInfo& k) {
  return {{"key_id", k.key_id},
          {"prefix", k.prefix + "\u2026"},
          {"created_at", FormatTime(k.created_at)},
          {"revoked_at", k.revoked_at ? Json(FormatTime(*k.revoked_at)) : Json(nullptr)}};
}

// The {org_id} of an admin path; another shape can name no organization.
Expected<std::string> OrgParam(const Call& call) {
  const std::string& id = call.params.at(0);
  if (!HasIdShape(id, "org")) return Error::NotFound("no such organization");
  return id;
}

// The {feature} of an override path: a catalog feature, else 404.
Expected<const Feature*> FeatureParam(const Catalog& catalog, const Call& call) {
  const std::string& key = call.params.at(1);
  const auto index = catalog.FeatureIndex(key);
  if (!index) return Error::NotFound("no feature \"" + key + "\" in the catalog");
  return &catalog.features()[*index];
}

Json StoredOverrideToJson(const Catalog& catalog, const StoredOverride& o) {
  Json item = OverrideToJson(catalog, o.value);
  const auto index = catalog.FeatureIndex(o.value.feature);
  item["kind"] = index ? Json(to_string(catalog.features()[*index].kind)) : Json(nullptr);
  item["reason"] = o.reason;
  item["updated_at"] = FormatTime(o.updated_at);
  return item;
}

// The override a PUT body describes for `feature`. Errors: validation_error naming the field
// ("limit" of the wrong type for the feature's kind, "until" not in the future...),
// invalid_plan for a plan the catalog does not have.
Expected<Override> OverrideFromBody(const Catalog& catalog, const Feature& feature,
                                    const Call& call) {
  const Json& body = call.body;
  if (auto r = OnlyFields(body, {"limit", "plan", "until", "reason"}); !r) return r.error();
  Override o;
  o.feature = feature.key;
  const auto limit = body.find("limit");
  if (limit == body.end() || limit->is_null())
    return Error::Validation("limit", "limit is required");
  auto parsed = LimitFromJson(feature.kind, *limit, feature.key);
  if (!parsed) return Error::Validation("limit", parsed.status().message());
  o.limit = parsed.value();
  auto plan = StringField(body, "plan", false, 64, TextKind::kKey);
  if (!plan) return plan.error();
  o.plan = *plan;
  auto until = StringField(body, "until", false, 64, TextKind::kKey);
  if (!until) return until.error();
  if (*until) {
    const auto at = ParseTime(**until);
    if (!at) return Error::Validation("until", "until must be an RFC 3339 time");
    if (*at <= call.now) return Error::Validation("until", "until must be in the future");
    o.until = at;
  }
  if (Status valid = ValidateOverride(catalog, o); !valid.ok()) {
    if (valid.code() == Code::kInvalidArgument) return Error::Validation("limit", valid.message());
    return Error::FromStatus(valid);
  }
  return o;
}

}  // namespace

// POST /admin/orgs/ {"name", "plan"?, "billing_email"?}. "plan" is an admin convenience (demos,
// benchmarks, support): the organization starts on that paid plan as if it had just been bought
// (sima::ActivateWithGrace), without a payment.
Expected<Reply> CreateOrgHandler(const Services& s, const Call& call) {
  if (auto r = OnlyFields(call.body, {"name", "plan", "billing_email"}); !r) return r.error();
  auto email = StringField(call.body, "billing_email", false, 254, TextKind::kEmail);
  if (!email) return email.error();
  auto name = StringField(call.body, "name", true, 200, TextKind::kLine);
  if (!name) return name.error();
  auto plan = StringField(call.body, "plan", false, 64, TextKind::kKey);
  if (!plan) return plan.error();

  Subscription sub{std::string(kFreePlan), call.now, std::nullopt};
  if (plan.value() && *plan.value() != kFreePlan) {
    auto activated = ActivateWithGrace(s.catalog, sub, *plan.value(), call.now);
    if (!activated) return Error::FromStatus(activated.status());
    sub = activated->subscription;
  } else if (plan.value() && s.catalog.FindPlan(*plan.value()) == nullptr) {
    return Error{ErrorKind::kInvalidPlan, "unknown plan"};
  }

  auto id = NewId("org");
  if (!id) return id.error();
  auto key = MintKey();
  if (!key) return key.error();
  auto org = s.store.CreateOrg(NewOrg{id.value(), *name.value(), Sha256Hex(key->key), sub, call.now,
                                      email.value(), key->key_id, key->prefix});
  if (!org) return org.error();
  return Reply{201,
               {{"org_id", org->id},
                {"name", org->name},
                {"api_key", key->key},
                {"key_id", key->key_id},
                {"plan", PlanInForce(s.catalog, sub, call.now)},
                {"billing_email", email.value() ? Json(*email.value()) : Json(nullptr)},
                {"created_at", FormatTime(org->created_at)}}};
}

// GET /admin/orgs/{org_id}/keys/?limit=&cursor=: every key, newest first, never the key itself.
Expected<Reply> ListKeysHandler(const Services& s, const Call& call) {
  auto org = OrgParam(call);
  if (!org) return org.error();
  auto page = ReadPageRequest(call);
  if (!page) return page.error();
  auto list = s.store.ListSecretKeys(*org, *page);
  if (!list) return list.error();
  Json items = Json::array();
  for (const ApiKeyInfo& k : list->items) items.push_back(KeyToJson(k));
  return Reply{200, PageBody(std::move(items), list->next)};
}

// POST /admin/orgs/{org_id}/keys/: a new key beside the old ones (rotation: revoke the old one
// once the new one is deployed).
Expected<Reply> CreateKeyHandler(const Services& s, const Call& call) {
  if (auto r = OnlyFields(call.body, {}); !r) return r.error();
  auto org = OrgParam(call);
  if (!org) return org.error();
  auto key = MintKey();
  if (!key) return key.error();
  auto info =
      s.store.CreateSecretKey(*org, key->key_id, Sha256Hex(key->key), key->prefix, call.now);
  if (!info) return info.error();
  return Reply{201,
               {{"key_id", info->key_id},
                {"api_key", key->key},
                {"created_at", FormatTime(info->created_at)}}};
}

// DELETE /admin/orgs/{org_id}/keys/{key_id}/: the key and every session it minted end at once
// (on this instance; on others within the Authenticator's cache bound). Repeating it answers
// the first revocation again with sessions_ended 0.
Expected<Reply> RevokeKeyHandler(const Services& s, const Call& call) {
  auto org = OrgParam(call);
  if (!org) return org.error();
  const std::string& key_id = call.params.at(1);
  if (!HasIdShape(key_id, "key")) return Error::NotFound("no key with this id");
  auto revoked = s.store.RevokeKeyById(*org, key_id, call.now);
  if (!revoked) return revoked.error();
  s.auth.Forget(revoked->key_hash);
  for (const std::string& hash : revoked->ended_session_hashes) s.auth.Forget(hash);
  return Reply{200,
               {{"key_id", revoked->key_id},
                {"revoked_at", FormatTime(revoked->revoked_at)},
                {"sessions_ended", static_cast<int64_t>(revoked->ended_session_hashes.size())}}};
}

// GET /admin/orgs/{org_id}/overrides/: the organization's overrides (expired ones included, so
// support sees what a deal was) and the audit trail, newest first.
Expected<Reply> ListOverridesHandler(const Services& s, const Call& call) {
  auto org = OrgParam(call);
  if (!org) return org.error();
  auto view = s.store.ListOverrides(*org);
  if (!view) return view.error();
  Json items = Json::array();
  for (const StoredOverride& o : view->overrides)
    items.push_back(StoredOverrideToJson(s.catalog, o));
  Json history = Json::array();
  for (const OverrideChange& c : view->history) {
    history.push_back({{"feature", c.feature},
                       {"before", OverrideTermsToJson(s.catalog, c.before)},
                       {"after", OverrideTermsToJson(s.catalog, c.after)},
                       {"reason", c.reason},
                       {"at", FormatTime(c.at)}});
  }
  return Reply{200, {{"items", std::move(items)}, {"history", std::move(history)}}};
}

// PUT /admin/orgs/{org_id}/overrides/{feature}/ {"limit", "plan"?, "until"?, "reason"?}: sets
// or replaces the organization's override of one feature (audited).
Expected<Reply> SetOverrideHandler(const Services& s, const Call& call) {
  auto org = OrgParam(call);
  if (!org) return org.error();
  auto feature = FeatureParam(s.catalog, call);
  if (!feature) return feature.error();
  auto o = OverrideFromBody(s.catalog, **feature, call);
  if (!o) return o.error();
  auto reason = StringField(call.body, "reason", false, 500, TextKind::kLine);
  if (!reason) return reason.error();
  auto stored = s.store.SetOverride(*org, *o, reason->value_or(""), call.now);
  if (!stored) return stored.error();
  return Reply{200, StoredOverrideToJson(s.catalog, *stored)};
}

// DELETE /admin/orgs/{org_id}/overrides/{feature}/ {"reason"?}: the plan's limit applies again
// (audited); 404 when there is no override.
Expected<Reply> ClearOverrideHandler(const Services& s, const Call& call) {
  if (auto r = OnlyFields(call.body, {"reason"}); !r) return r.error();
  auto reason = StringField(call.body, "reason", false, 500, TextKind::kLine);
  if (!reason) return reason.error();
  auto org = OrgParam(call);
  if (!org) return org.error();
  auto feature = FeatureParam(s.catalog, call);
  if (!feature) return feature.error();
  if (auto done = s.store.ClearOverride(*org, (*feature)->key, reason->value_or(""), call.now);
      !done) {
    return done.error();
  }
  return Reply{204, nullptr};
}

// POST /admin/orgs/{org_id}/trial/ {"plan", "days"}: the plan for `days` days without payment
// (sima::GrantTrial); FREE at the end unless paid. 409 while a paid plan applies.
Expected<Reply> GrantTrialHandler(const Services& s, const Call& call) {
  if (auto r = OnlyFields(call.body, {"plan", "days"}); !r) return r.error();
  auto org = OrgParam(call);
  if (!org) return org.error();
  auto plan = StringField(call.body, "plan", true, 64, TextKind::kKey);
  if (!plan) return plan.error();
  auto days = IntField(call.body, "days", 1, s.catalog.period_days());
  if (!days) return days.error();
  auto sub = s.store.GrantTrial(*org, *plan.value(), static_cast<int>(*days), call.now);
  if (!sub) {
    if (sub.error().kind == ErrorKind::kValidation) {
      return Error::Validation("days", sub.error().message);
    }
    return sub.error();
  }
  return Reply{200, {{"subscription", SubscriptionToJson(s.catalog, sub.value(), call.now)}}};
}

}  // namespace sima::server
