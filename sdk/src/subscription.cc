#include "sima/subscription.h"

namespace sima {

bool Subscription::is_active(Time now) const {
  return plan != kFreePlan && start <= now && end.has_value() && now < *end;
}

std::string_view EffectivePlan(const Subscription& sub, Time now) {
  if (sub.end.has_value() && now >= *sub.end) return kFreePlan;
  return sub.plan;
}

Period CurrentPeriod(const Subscription& sub, int period_days, Time now) {
  const std::chrono::seconds length = Days{period_days};
  const auto elapsed = now < sub.start ? std::chrono::seconds{0} : now - sub.start;
  const auto index = elapsed / length;
  const Time start = sub.start + index * length;
  return {start, start + length};
}

bool UsageMustReset(Time counted_from, const Subscription& sub, int period_days, Time now) {
  return CurrentPeriod(sub, period_days, now).start != counted_from;
}

Status CanBuy(const Catalog& catalog, const Subscription& sub, std::string_view plan, Time now) {
  const Plan* wanted = catalog.FindPlan(plan);
  if (wanted == nullptr) return Status::InvalidPlan("unknown plan \"" + std::string(plan) + "\"");
  if (wanted->is_free()) {
    return Status::InvalidPlan("plan \"" + std::string(plan) + "\" is free and cannot be bought");
  }
  const Plan* current = catalog.FindPlan(EffectivePlan(sub, now));
  if (current != nullptr && current->price_paisa > wanted->price_paisa) {
    return Status::Conflict("plan " + current->code + " is active until " + FormatTime(*sub.end) +
                            "; the lower plan " + wanted->code +
                            " cannot be bought while it lasts");
  }
  return Status::Ok();
}

std::string_view to_string(ActivationKind kind) {
  return kind == ActivationKind::kStarted ? "started" : "extended";
}

Result<Activation> Activate(const Catalog& catalog, const Subscription& sub, std::string_view plan,
                            Time now) {
  if (Status s = CanBuy(catalog, sub, plan, now); !s.ok()) return s;
  const Days period{catalog.period_days()};
  if (sub.is_active(now) && sub.plan == plan) {
    Subscription extended = sub;
    extended.end = *sub.end + period;
    return Activation{std::move(extended), ActivationKind::kExtended};
  }
  return Activation{Subscription{std::string(plan), now, now + period}, ActivationKind::kStarted};
}

}  // namespace sima
