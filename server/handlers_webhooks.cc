// The webhook admin API (admin token): endpoints (create, list, get, change, rotate the secret,
// delete) and the event log (list, one event with its deliveries and attempts, re-send).
// docs/api.md "Admin: webhooks" and docs/webhooks.md "Setting up an endpoint" describe it.
#include "handlers.h"
#include "paging.h"
#include "resource_json.h"
#include "sima/crypto.h"
#include "validate.h"
#include "webhook/endpoint_url.h"

namespace sima::server {
namespace {

constexpr size_t kWebhookIdChars = 22;  // "we_" / "evt_" + 22 base62
constexpr size_t kSecretChars = 32;     // "whsec_" + 32 base62 (190 random bits)
constexpr size_t kMaxDescriptionBytes = 500;
constexpr int64_t kDefaultOverlapHours = 24;
constexpr int64_t kMaxOverlapHours = 168;  // a week to deploy the new secret everywhere

// True for "<prefix>_" + 22 base62 characters: the ids of endpoints and events.
bool HasWebhookIdShape(std::string_view text, std::string_view prefix) {
  if (text.size() != prefix.size() + 1 + kWebhookIdChars) return false;
  if (text.substr(0, prefix.size()) != prefix || text[prefix.size()] != '_') return false;
  for (char c : text.substr(prefix.size() + 1)) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'))) return false;
  }
  return true;
}

std::string NewWebhookSecret() { return "whsec_" + crypto::RandomToken(kSecretChars); }

// Never the secret: the store's endpoint does not even carry it. A previous secret that no
// longer signs (its overlap is over, or a rotation with overlap 0) shows as null.
Json EndpointToJson(const WebhookEndpoint& e, Time now) {
  const bool overlapping = e.previous_secret_until && *e.previous_secret_until > now;
  return {{"id", e.id},
          {"org_id", e.org_id ? Json(*e.org_id) : Json(nullptr)},
          {"url", e.url},
          {"description", e.description},
          {"enabled", e.enabled},
          {"created_at", FormatTime(e.created_at)},
          {"updated_at", FormatTime(e.updated_at)},
          {"previous_secret_expires_at",
           overlapping ? Json(FormatTime(*e.previous_secret_until)) : Json(nullptr)}};
}

// The fields of the body every delivery of the event carries (webhook::EventBody).
Json EventToJson(const WebhookEvent& e) {
  Json data = ParseJson(e.data);
  if (data.is_discarded()) data = Json::object();
  return {{"id", e.id},
          {"type", e.type},
          {"org_id", e.org_id},
          {"sequence", e.seq},
          {"created", FormatTime(e.created_at)},
          {"data", std::move(data)}};
}

Json DeliveryToJson(const WebhookDelivery& d) {
  return {{"id", d.id},
          {"endpoint_id", d.endpoint_id},
          {"status", to_string(d.status)},
          {"attempts", d.attempts},
          {"next_attempt_at", OptTime(d.next_attempt_at)},
          {"last_status", d.last_status ? Json(*d.last_status) : Json(nullptr)},
          {"last_error", d.last_error},
          {"created_at", FormatTime(d.created_at)},
          {"completed_at", OptTime(d.completed_at)}};
}

Json AttemptToJson(const DeliveryAttempt& a) {
  return {{"delivery_id", a.delivery_id},
          {"at", FormatTime(a.at)},
          {"status_code", a.status_code ? Json(*a.status_code) : Json(nullptr)},
          {"duration_ms", a.duration_ms},
          {"response_body", a.response_body},
          {"error", a.error}};
}

Json EventDetailToJson(const WebhookEventDetail& detail) {
  Json out = EventToJson(detail.event);
  Json deliveries = Json::array();
  for (const WebhookDelivery& d : detail.deliveries) deliveries.push_back(DeliveryToJson(d));
  Json attempts = Json::array();
  for (const DeliveryAttempt& a : detail.attempts) attempts.push_back(AttemptToJson(a));
  out["deliveries"] = std::move(deliveries);
  out["attempts"] = std::move(attempts);
  return out;
}

// The {endpoint_id} / {event_id} of a path; another shape names nothing.
Expected<std::string> EndpointParam(const Call& call) {
  const std::string& id = call.params.at(0);
  if (!HasWebhookIdShape(id, "we")) return Error::NotFound("no such webhook endpoint");
  return id;
}
Expected<std::string> EventParam(const Call& call) {
  const std::string& id = call.params.at(0);
  if (!HasWebhookIdShape(id, "evt")) return Error::NotFound("no such webhook event");
  return id;
}

// ?org_id= of the lists: nullopt when absent or empty (the server-wide endpoints; every
// organization's events).
Expected<std::optional<std::string>> OrgQuery(const Call& call) {
  const auto it = call.query.find("org_id");
  if (it == call.query.end() || it->second.empty()) return std::optional<std::string>();
  if (!HasIdShape(it->second, "org")) {
    return Error::Validation("org_id", "org_id must be an organization id (org_...)");
  }
  return std::optional<std::string>(it->second);
}

// "url": an absolute http/https URL the sender may post to (webhook/endpoint_url.h).
Expected<std::optional<std::string>> UrlField(const Services& s, const Json& body, bool required) {
  // An optional text field that is empty counts as absent, but a change to "" is not a URL.
  if (const auto it = body.find("url");
      it != body.end() && it->is_string() && it->get_ref<const std::string&>().empty()) {
    return Error::Validation("url", "url must not be empty");
  }
  auto url = StringField(body, "url", required, webhook::kMaxEndpointUrlBytes, TextKind::kKey);
  if (!url) return url.error();
  if (*url) {
    if (auto ok = webhook::CheckEndpointUrl(**url, s.config.webhook_allow_private == 1); !ok)
      return ok.error();
  }
  return url;
}

// "description": one line of at most 500 bytes; "" clears it.
Expected<std::optional<std::string>> DescriptionField(const Json& body) {
  const auto it = body.find("description");
  if (it != body.end() && it->is_string() && it->get_ref<const std::string&>().empty()) {
    return std::optional<std::string>("");
  }
  return StringField(body, "description", false, kMaxDescriptionBytes, TextKind::kLine);
}

}  // namespace

// POST /admin/webhooks/ {"url", "description"?, "org_id"?}: a new endpoint and its secret
// (shown only in this answer). Without org_id it is server-wide: every organization's events.
Expected<Reply> CreateWebhookEndpointHandler(const Services& s, const Call& call) {
  if (auto r = OnlyFields(call.body, {"url", "description", "org_id"}); !r) return r.error();
  auto org = StringField(call.body, "org_id", false, 64, TextKind::kKey);
  if (!org) return org.error();
  if (*org && !HasIdShape(**org, "org")) {
    return Error::Validation("org_id", "org_id must be an organization id (org_...)");
  }
  auto url = UrlField(s, call.body, true);
  if (!url) return url.error();
  auto description = DescriptionField(call.body);
  if (!description) return description.error();
  const std::string secret = NewWebhookSecret();
  auto created = s.store.CreateWebhookEndpoint(
      NewWebhookEndpoint{"we_" + crypto::RandomToken(kWebhookIdChars), *org, **url,
                         description->value_or(""), secret},
      call.now);
  if (!created) return created.error();
  return Reply{201, {{"endpoint", EndpointToJson(*created, call.now)}, {"secret", secret}}};
}

// GET /admin/webhooks/?org_id=: one organization's endpoints, or the server-wide ones.
Expected<Reply> ListWebhookEndpointsHandler(const Services& s, const Call& call) {
  auto org = OrgQuery(call);
  if (!org) return org.error();
  auto list = s.store.ListWebhookEndpoints(*org);
  if (!list) return list.error();
  Json items = Json::array();
  for (const WebhookEndpoint& e : *list) items.push_back(EndpointToJson(e, call.now));
  return Reply{200, {{"items", std::move(items)}}};
}

// GET /admin/webhooks/{endpoint_id}/
Expected<Reply> GetWebhookEndpointHandler(const Services& s, const Call& call) {
  auto id = EndpointParam(call);
  if (!id) return id.error();
  auto endpoint = s.store.GetWebhookEndpoint(*id);
  if (!endpoint) return endpoint.error();
  return Reply{200, EndpointToJson(*endpoint, call.now)};
}

// PATCH /admin/webhooks/{endpoint_id}/ {"url"?, "description"?, "enabled"?}: a disabled
// endpoint gets no new deliveries until enabled again.
Expected<Reply> UpdateWebhookEndpointHandler(const Services& s, const Call& call) {
  if (auto r = OnlyFields(call.body, {"url", "description", "enabled"}); !r) return r.error();
  auto id = EndpointParam(call);
  if (!id) return id.error();
  WebhookEndpointPatch patch;
  auto url = UrlField(s, call.body, false);
  if (!url) return url.error();
  patch.url = *url;
  auto description = DescriptionField(call.body);
  if (!description) return description.error();
  patch.description = *description;
  if (const auto it = call.body.find("enabled"); it != call.body.end() && !it->is_null()) {
    if (!it->is_boolean()) return Error::Validation("enabled", "enabled must be true or false");
    patch.enabled = it->get<bool>();
  }
  // Nothing to change: the endpoint as it is, its updated_at untouched.
  auto endpoint = !patch.url && !patch.description && !patch.enabled
                      ? s.store.GetWebhookEndpoint(*id)
                      : s.store.UpdateWebhookEndpoint(*id, patch, call.now);
  if (!endpoint) return endpoint.error();
  return Reply{200, EndpointToJson(*endpoint, call.now)};
}

// POST /admin/webhooks/{endpoint_id}/rotate/ {"overlap_hours"?: 0..168, default 24}: a new
// secret (shown only in this answer); the old one signs beside it until the overlap ends, so
// receivers can switch without missing a delivery.
Expected<Reply> RotateWebhookSecretHandler(const Services& s, const Call& call) {
  if (auto r = OnlyFields(call.body, {"overlap_hours"}); !r) return r.error();
  auto id = EndpointParam(call);
  if (!id) return id.error();
  auto hours = IntField(call.body, "overlap_hours", 0, kMaxOverlapHours, kDefaultOverlapHours);
  if (!hours) return hours.error();
  const std::string secret = NewWebhookSecret();
  auto rotated =
      s.store.RotateWebhookSecret(*id, secret, call.now + std::chrono::hours{*hours}, call.now);
  if (!rotated) return rotated.error();
  return Reply{200, {{"endpoint", EndpointToJson(*rotated, call.now)}, {"secret", secret}}};
}

// DELETE /admin/webhooks/{endpoint_id}/: no more deliveries; its pending ones are given up,
// its log stays.
Expected<Reply> DeleteWebhookEndpointHandler(const Services& s, const Call& call) {
  if (auto r = OnlyFields(call.body, {}); !r) return r.error();
  auto id = EndpointParam(call);
  if (!id) return id.error();
  if (auto done = s.store.DeleteWebhookEndpoint(*id, call.now); !done) return done.error();
  return Reply{204, nullptr};
}

// GET /admin/webhook-events/?org_id=&limit=&cursor=: newest first, paged.
Expected<Reply> ListWebhookEventsHandler(const Services& s, const Call& call) {
  auto org = OrgQuery(call);
  if (!org) return org.error();
  auto page = ReadPageRequest(call);
  if (!page) return page.error();
  auto list = s.store.ListWebhookEvents(*org, *page);
  if (!list) return list.error();
  Json items = Json::array();
  for (const WebhookEvent& e : list->items) items.push_back(EventToJson(e));
  return Reply{200, PageBody(std::move(items), list->next)};
}

// GET /admin/webhook-events/{event_id}/: the event with its deliveries and their attempts.
Expected<Reply> GetWebhookEventHandler(const Services& s, const Call& call) {
  auto id = EventParam(call);
  if (!id) return id.error();
  auto detail = s.store.GetWebhookEvent(*id);
  if (!detail) return detail.error();
  return Reply{200, EventDetailToJson(*detail)};
}

// POST /admin/webhook-events/{event_id}/resend/ {"endpoint_id"?}: delivers the event again (to
// every endpoint of its scope, or to one), due now. The HTTP layer wakes the sender after every
// write, so it goes at once.
Expected<Reply> ResendWebhookEventHandler(const Services& s, const Call& call) {
  if (auto r = OnlyFields(call.body, {"endpoint_id"}); !r) return r.error();
  auto id = EventParam(call);
  if (!id) return id.error();
  auto endpoint = StringField(call.body, "endpoint_id", false, 64, TextKind::kKey);
  if (!endpoint) return endpoint.error();
  if (*endpoint && !HasWebhookIdShape(**endpoint, "we")) {
    return Error::Validation("endpoint_id", "endpoint_id must be a webhook endpoint id (we_...)");
  }
  auto detail = s.store.ResendWebhookEvent(*id, *endpoint, call.now);
  if (!detail) return detail.error();
  return Reply{200, EventDetailToJson(*detail)};
}

}  // namespace sima::server
