// The subscription's lifecycle for an organization (docs/api.md, "Renewals"): read it, schedule
// or undo a change at the period's end, and what a payment for a plan would cost now. Every
// rule is sdk/'s (sima/lifecycle.h, sima/quote.h); the store applies a change under the
// organization's lock.
#include "handlers.h"
#include "sima/json.h"
#include "sima/lifecycle.h"
#include "sima/quote.h"
#include "validate.h"

namespace sima::server {

// GET /billing/subscription/: {"subscription": the lifecycle JSON}.
Expected<Reply> GetSubscriptionHandler(const Services& s, const Call& call) {
  auto sub = s.store.GetSubscription(call.org_id(), call.now);
  if (!sub) return sub.error();
  return Reply{200, {{"subscription", SubscriptionToJson(s.catalog, sub.value(), call.now)}}};
}

// POST /billing/subscription/ {"change": "switch"|"cancel"|"undo", "plan"?}: 409 with the sdk's
// message when the change cannot be made now (in grace, trialing, a pricier plan...).
Expected<Reply> ChangeSubscriptionHandler(const Services& s, const Call& call) {
  if (auto r = OnlyFields(call.body, {"change", "plan"}); !r) return r.error();
  auto request = ChangeRequestFromJson(call.body);
  if (!request) {
    const std::string message = request.status().message();
    return Error::Validation(message.rfind("plan", 0) == 0 ? "plan" : "change", message);
  }
  auto sub = s.store.ChangeSubscription(call.org_id(), request->kind, request->plan, call.now);
  if (!sub) return sub.error();
  return Reply{200, {{"subscription", SubscriptionToJson(s.catalog, sub.value(), call.now)}}};
}

// GET /billing/quote/?plan=PRO: what init would charge for the plan now (sima::QuotePayment),
// with its breakdown. 400 invalid_plan, 409 conflict as init would answer.
Expected<Reply> GetQuoteHandler(const Services& s, const Call& call) {
  const auto plan = call.query.find("plan");
  if (plan == call.query.end() || plan->second.empty()) {
    return Error::Validation("plan", "plan is required (?plan=PRO)");
  }
  if (plan->second.size() > 64) return Error{ErrorKind::kInvalidPlan, "unknown plan"};
  auto sub = s.store.GetSubscription(call.org_id(), call.now);
  if (!sub) return sub.error();
  auto quote = QuotePayment(s.catalog, sub.value(), plan->second, call.now, kMinimumPaymentPaisa);
  if (!quote) return Error::FromStatus(quote.status());
  return Reply{200, QuoteToJson(quote.value())};
}

}  // namespace sima::server
