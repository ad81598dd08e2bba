// How the API shows the resources it keeps that more than one place sends: a payment appears
// in the payment endpoints' answers and in webhook events' data.
#pragma once

#include <optional>
#include <vector>

#include "sima/json.h"
#include "sima/quote.h"
#include "sima/time.h"
#include "store.h"

namespace sima::server {

// An RFC 3339 time, or null.
Json OptTime(const std::optional<Time>& t);
// Khalti's amount_breakdown as the payment was priced: [{"label","amount"}] in paisa.
Json BreakdownToJson(const std::vector<QuoteLine>& lines);
// A payment as GET /billing/payments/{id}/ shows it.
Json PaymentToJson(const Payment& p);
// A refund as the admin refund endpoints and payment.refunded events show it.
Json RefundToJson(const Refund& r);

}  // namespace sima::server
