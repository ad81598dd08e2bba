#include "handlers.h"
#include "paging.h"
#include "sima/json.h"
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

}  // namespace

// POST /admin/orgs/ {"name", "plan"?, "billing_email"?}. "plan" is an admin convenience (demos,
// benchmarks, support): the organization starts on that paid plan as if it had just been bought
// (sima::Activate), without a payment.
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
    auto activated = Activate(s.catalog, sub, *plan.value(), call.now);
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
                {"plan", EffectivePlan(sub, call.now)},
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

}  // namespace sima::server
