#include "sima/quote.h"

#include <algorithm>
#include <cstdint>

#include "sima/lifecycle.h"

namespace sima {
namespace {

int64_t FloorDiv(int64_t a, int64_t b) {
  const int64_t q = a / b;
  return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

int64_t CeilRupees(int64_t paisa) { return -FloorDiv(-paisa, 100) * 100; }

}  // namespace

Result<UpgradeQuote> QuoteUpgrade(const Catalog& catalog, const Subscription& sub,
                                  std::string_view plan, Time now, int64_t minimum_paisa) {
  const Plan* wanted = catalog.FindPlan(plan);
  if (wanted == nullptr) return Status::InvalidPlan("unknown plan \"" + std::string(plan) + "\"");
  if (wanted->is_free()) {
    return Status::InvalidPlan("plan \"" + std::string(plan) + "\" is free and cannot be bought");
  }
  if (minimum_paisa < 0) {
    return Status::InvalidArgument("the minimum amount must not be negative, got " +
                                   std::to_string(minimum_paisa) + " paisa");
  }
  const int64_t minimum = CeilRupees(minimum_paisa);
  if (wanted->price_paisa < minimum) {
    return Status::InvalidArgument(
        "plan " + wanted->code + " costs " + std::to_string(wanted->price_paisa) +
        " paisa, below the gateway minimum of " + std::to_string(minimum) + " paisa");
  }
  const Lifecycle lc = LifecycleAt(catalog, sub, now);
  UpgradeQuote q;
  q.from_plan = std::string(kFreePlan);
  q.to_plan = wanted->code;
  q.price_paisa = wanted->price_paisa;
  q.start = now;
  q.end = now + Days{catalog.period_days()};
  const Plan* paid = catalog.FindPlan(sub.plan);
  const bool paid_plan =
      lc.state == SubscriptionState::kActive || lc.state == SubscriptionState::kRenewalDue ||
      lc.state == SubscriptionState::kCanceled || lc.state == SubscriptionState::kGrace;
  if (paid_plan) {
    if (sub.plan == wanted->code) {
      return Status::Conflict("plan " + sub.plan + " is already active: paying for it renews it");
    }
    if (paid != nullptr && paid->price_paisa >= wanted->price_paisa) {
      return Status::Conflict("plan " + wanted->code + " is not an upgrade from " + sub.plan);
    }
  } else if (lc.state == SubscriptionState::kTrialing && sub.plan == wanted->code) {
    return Status::Conflict("plan " + sub.plan + " is the trial's: paying for it continues it");
  }
  q.breakdown.push_back(
      {wanted->code + ", " + std::to_string(catalog.period_days()) + " days", q.price_paisa});
  q.amount_paisa = q.price_paisa;
  const bool credited = paid_plan && lc.state != SubscriptionState::kGrace && paid != nullptr &&
                        sub.end && *sub.end > now && !paid->is_free();
  if (!credited) return q;
  q.from_plan = sub.plan;
  q.unused = *sub.end - now;
  const int64_t period = std::chrono::seconds{Days{catalog.period_days()}}.count();
  const int64_t unused = q.unused.count();
  // amount = price - paid * unused / period, in paisa x period to stay exact.
  if (q.price_paisa > INT64_MAX / period) {
    return Status::InvalidArgument("plan " + wanted->code + " is too expensive to prorate");
  }
  const int64_t price_scaled = q.price_paisa * period;
  int64_t amount = minimum;
  if (unused <= price_scaled / paid->price_paisa) {  // else the credit covers the whole price
    const int64_t scaled = price_scaled - paid->price_paisa * unused;
    amount = std::max(minimum, FloorDiv(scaled, period * 100) * 100);
  }
  q.amount_paisa = amount;
  q.credit_paisa = q.price_paisa - amount;
  if (q.credit_paisa != 0) {
    q.breakdown.push_back(
        {"Credit: unused " + sub.plan + " until " + FormatTime(*sub.end).substr(0, 10),
         -q.credit_paisa});
  }
  return q;
}

Result<UpgradeQuote> QuotePayment(const Catalog& catalog, const Subscription& sub,
                                  std::string_view plan, Time now, int64_t minimum_paisa) {
  if (Status s = CanBuyWithGrace(catalog, sub, plan, now); !s.ok()) return s;
  auto upgrade = QuoteUpgrade(catalog, sub, plan, now, minimum_paisa);
  if (upgrade || upgrade.status().code() != Code::kConflict) return upgrade;
  // Not an upgrade: the plan itself again (a renewal, an extension, a trial's plan paid).
  auto activation = ActivateWithGrace(catalog, sub, plan, now);
  if (!activation) return activation.status();
  const Plan* wanted = catalog.FindPlan(plan);
  UpgradeQuote q;
  q.from_plan = std::string(kFreePlan);
  q.to_plan = wanted->code;
  q.price_paisa = wanted->price_paisa;
  q.amount_paisa = wanted->price_paisa;
  const Subscription& after = activation->subscription;
  q.end = after.end.value_or(now + Days{catalog.period_days()});
  q.start = q.end - Days{catalog.period_days()};
  q.breakdown.push_back(
      {wanted->code + ", " + std::to_string(catalog.period_days()) + " days", q.price_paisa});
  return q;
}

}  // namespace sima
