// Khalti ePayment (KPG-2) over HTTP(S): initiate and lookup, as Khalti documents them.
// The secret key goes only into the Authorization header; it is never logged or returned.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "gateway/gateway_call.h"
#include "sima/quote.h"
#include "sima/time.h"

namespace sima::server {

struct KhaltiInitiateRequest {
  std::string return_url;
  std::string website_url;
  int64_t amount_paisa = 0;
  std::string purchase_order_id;
  std::string purchase_order_name;
  std::optional<nlohmann::json> customer_info;  // {name, email, phone}
  // Khalti's amount_breakdown: [{"label", "amount"}] in paisa, summing to amount_paisa (a
  // credit is negative). Empty: not sent.
  std::vector<QuoteLine> amount_breakdown = {};
};

struct KhaltiInitiated {
  std::string pidx;
  std::string payment_url;
  std::optional<Time> expires_at;
};

struct KhaltiLookup {
  std::string pidx;
  std::string status;        // as Khalti spells it: "Completed", "User canceled", ...
  int64_t total_amount = 0;  // paisa
  std::optional<std::string> transaction_id;
  bool refunded = false;
};

// Khalti's words in an error body ({"detail"} or DRF's {"field": ["message"]}), for messages.
std::string KhaltiErrorText(const nlohmann::json& body);

class KhaltiClient {
 public:
  // `base_url` like "https://dev.khalti.com/api/v2/". REQUIRES: SplitGatewayUrl(base_url).
  KhaltiClient(const std::string& base_url, std::string secret_key, GatewayTimeouts timeouts);
  ~KhaltiClient();

  // POST {base}epayment/initiate/. A 4xx (validation, auth) is kRejected with Khalti's message.
  GatewayResult<KhaltiInitiated> Initiate(const KhaltiInitiateRequest& request) const;
  // POST {base}epayment/lookup/. HTTP 400 with a status body ("Expired", "User canceled") is an
  // answer, not a failure; an unknown pidx is kRejected.
  GatewayResult<KhaltiLookup> Lookup(const std::string& pidx) const;

 private:
  struct Raw;
  Raw Post(const std::string& path, const nlohmann::json& body) const;

  GatewayUrl url_;
  std::string authorization_;
  GatewayTimeouts timeouts_;
};

}  // namespace sima::server
