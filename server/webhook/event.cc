#include "webhook/event.h"

#include "sima/crypto.h"

namespace sima::server::webhook {

std::string NewEventId() { return "evt_" + crypto::RandomToken(22); }

std::string EventBody(const WebhookEvent& event) {
  Json data = ParseJson(event.data);
  if (data.is_discarded()) data = Json::object();
  // Keys in this order on every try: nlohmann's ordered output is by key, which is stable.
  const Json body = {
      {"id", event.id},         {"type", event.type},    {"created", FormatTime(event.created_at)},
      {"org_id", event.org_id}, {"sequence", event.seq}, {"data", std::move(data)}};
  return body.dump(-1, ' ', false, Json::error_handler_t::replace);
}

Json PaymentEventData(const Catalog& catalog, const Payment& payment,
                      const Subscription& subscription, Time now) {
  return {{"payment", PaymentToJson(payment)},
          {"subscription", SubscriptionToJson(catalog, subscription, now)}};
}

Json SubscriptionEventData(const Catalog& catalog, const Subscription& subscription, Time now,
                           const std::optional<std::string>& previous_plan) {
  return {{"subscription", SubscriptionToJson(catalog, subscription, now)},
          {"previous_plan", previous_plan ? Json(*previous_plan) : Json(nullptr)}};
}

}  // namespace sima::server::webhook
