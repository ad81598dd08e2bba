// What an upgrade in the middle of a period costs: the new plan's price minus what is left of
// the paid one, pro rata by time. The browser shows the quote before paying (the wasm core),
// the server recomputes it when it starts the payment and charges exactly that; the
// breakdown goes to the gateway (Khalti's amount_breakdown). The new period starts at payment.
//
//   auto q = QuoteUpgrade(catalog, sub, "PRO", now, /*minimum_paisa=*/1000);
//   // q->amount_paisa == sum of q->breakdown[i].paisa
//
// Pure: no I/O, no clock, no exceptions.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "sima/catalog.h"
#include "sima/status.h"
#include "sima/subscription.h"
#include "sima/time.h"

namespace sima {

// One labelled line of a quote, in paisa (a credit is negative).
struct QuoteLine {
  std::string label;
  int64_t paisa = 0;
  bool operator==(const QuoteLine&) const = default;
};

struct UpgradeQuote {
  std::string from_plan;  // the plan credited; FREE when nothing is (free, expired, a trial)
  std::string to_plan;
  int64_t price_paisa = 0;         // the new plan's price for one period
  int64_t credit_paisa = 0;        // price_paisa - amount_paisa: the credit after rounding, >= 0
  int64_t amount_paisa = 0;        // what the payment is for
  std::chrono::seconds unused{0};  // of the paid plan at `now` (0 in grace and without one)
  // The new period if paid at `now`; the server starts it at the payment's activation.
  Time start{};
  Time end{};
  // "PRO, 30 days" at the price, then "Credit: unused BASIC until 2026-12-15" at -credit when
  // there is one. Sums to amount_paisa.
  std::vector<QuoteLine> breakdown;
};

// The price of upgrading `sub` to `plan` at `now`, never below `minimum_paisa` (the gateway's
// minimum; Khalti: 1000 paisa).
//  - credit = the paid plan's price x unused / period_days, unused = end - now while the paid
//    plan is active, renewal_due or canceled (all the paid time left, also time paid ahead);
//    no credit in grace (the period is over), for a trial (not paid), or on FREE;
//  - with a credit, the amount is rounded down to whole rupees (in the customer's favour),
//    then raised to the minimum (rounded up to whole rupees) if below it: the credit shrinks;
//    without one, the amount is the price as it is.
// Errors: kInvalidPlan for an unknown or free plan; kConflict for the plan already paid for
// ("plan PRO is already active: paying for it renews it") or one that is not pricier
// ("plan BASIC is not an upgrade from PRO"); kInvalidArgument for a negative minimum, a plan
// priced below the minimum, or a price too large to prorate.
Result<UpgradeQuote> QuoteUpgrade(const Catalog& catalog, const Subscription& sub,
                                  std::string_view plan, Time now, int64_t minimum_paisa);

// What a payment for `plan` at `now` is for, whatever it buys (the server prices every
// payment with this, the browser shows it before paying):
//  - an upgrade over a paid plan: QuoteUpgrade's prorated amount, the new period from now;
//  - anything else (a first plan, a renewal in renewal_due or grace, an extension, a new
//    period after expiry, paying for a trial's plan): the plan's whole price, one breakdown
//    line, and the period ActivateWithGrace would give (a renewal: from the old end).
// Errors: CanBuyWithGrace's (kInvalidPlan, kConflict for a cheaper plan while a paid one
// lasts), QuoteUpgrade's kInvalidArgument.
Result<UpgradeQuote> QuotePayment(const Catalog& catalog, const Subscription& sub,
                                  std::string_view plan, Time now, int64_t minimum_paisa);

}  // namespace sima
