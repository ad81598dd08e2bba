// Khalti's refund API (POST {refund base}{transaction_id}/refund/, docs.khalti.com "Refund
// API"), and the lookup that settles a refund whose answer was lost. The secret key goes only
// into the Authorization header; it is never logged or returned.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "config.h"
#include "error.h"
#include "gateway/gateway_call.h"
#include "gateway/khalti_client.h"

namespace sima::server {

struct KhaltiRefundRequest {
  std::string transaction_id;         // the lookup's transaction_id of the paid payment
  std::optional<int64_t> amount;      // paisa; nullopt: all that is left (an empty body)
  std::optional<std::string> mobile;  // the payer's Khalti mobile (bank payments need it)
};

enum class KhaltiRefundOutcome {
  kRefunded,  // 200 with Khalti's success detail
  kRefused,   // 4xx: Khalti said no; nothing was refunded
  kUnknown,   // timeout, no connection, 5xx, an answer we cannot read: it may have been made
};

struct KhaltiRefundAnswer {
  KhaltiRefundOutcome outcome = KhaltiRefundOutcome::kUnknown;
  int http_status = 0;  // 0 when no answer came
  std::string detail;   // Khalti's words or what went wrong; safe to log and show
};

class KhaltiRefunds {
 public:
  // `refund_base` like "https://khalti.com/api/merchant-transaction/", `lookup_base` like
  // "https://khalti.com/api/v2/". REQUIRES: both pass SplitGatewayUrl.
  KhaltiRefunds(const std::string& refund_base, const std::string& lookup_base,
                const std::string& secret_key, GatewayTimeouts timeouts);
  ~KhaltiRefunds();

  // The refund API base the configuration names: KHALTI_REFUND_URL, or KHALTI_BASE_URL with
  // its last "v2/" replaced by "merchant-transaction/". kValidation (KHALTI_REFUND_URL) when
  // neither gives an http(s) URL.
  static Expected<std::string> RefundBase(const Config& config);

  KhaltiRefundAnswer Refund(const KhaltiRefundRequest& request) const;
  // The ePayment lookup of the payment's pidx: Refunded / Partially Refunded once refunded.
  GatewayResult<KhaltiLookup> Lookup(const std::string& pidx) const;

 private:
  GatewayUrl url_;
  std::string authorization_;
  GatewayTimeouts timeouts_;
  KhaltiClient lookups_;
};

}  // namespace sima::server
