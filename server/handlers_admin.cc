#include "handlers.h"
#include "sima/json.h"
#include "sima/subscription.h"
#include "validate.h"

namespace sima::server {

// POST /admin/orgs/ {"name", "plan"?, "billing_email"?}. "plan" is an admin convenience (demos, benchmarks,
// support): the organization starts on that paid plan as if it had just been bought
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
  auto key = NewSecretKey();
  if (!key) return key.error();
  auto org = s.store.CreateOrg(
      NewOrg{id.value(), *name.value(), Sha256Hex(key.value()), sub, call.now, email.value()});
  if (!org) return org.error();
  return Reply{201,
               {{"org_id", org->id},
                {"name", org->name},
                {"api_key", key.value()},
                {"plan", EffectivePlan(sub, call.now)},
                {"billing_email", email.value() ? Json(*email.value()) : Json(nullptr)},
                {"created_at", FormatTime(org->created_at)}}};
}

}  // namespace sima::server
