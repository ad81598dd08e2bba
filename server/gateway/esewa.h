// eSewa ePay v2 (its published docs): the signed form the browser posts, the signed success
// data eSewa redirects back with, and the status check API. The secret key signs and checks
// on the server only; it never appears in a form field, a log or an answer.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "gateway/gateway_call.h"

namespace sima::server {

struct EsewaConfig {
  std::string form_url;      // e.g. https://rc-epay.esewa.com.np/api/epay/main/v2/form
  std::string status_url;    // e.g. https://rc.esewa.com.np/api/epay/transaction/status/
  std::string product_code;  // EPAYTEST in the sandbox
  std::string secret_key;
};

// The fields to POST to form_url, in eSewa's documented order. Amounts are whole-rupee text
// when whole ("3900"), charges "0", total_amount = amount; signed_field_names is
// "total_amount,transaction_uuid,product_code" and signature the HMAC over exactly the texts
// posted.
std::vector<std::pair<std::string, std::string>> EsewaFormFields(
    const EsewaConfig& config, int64_t amount_paisa, const std::string& transaction_uuid,
    const std::string& success_url, const std::string& failure_url);

// A success redirect's `data`, decoded and checked.
struct EsewaSuccess {
  std::string transaction_code;  // eSewa's reference, e.g. "000AWEO"
  std::string status;            // "COMPLETE"
  int64_t total_paisa = 0;
  std::string transaction_uuid;
  std::string product_code;
};

// Decodes `data` (standard Base64 of a JSON object; a '+' turned into ' ' by URL decoding is
// repaired) and checks it: the signature over the literal field texts in signed_field_names
// order (retried with commas removed from total_amount, which eSewa has been seen to send as
// "2,700.0" while signing "2700.0"); signed_field_names must cover transaction_uuid,
// total_amount, product_code and status; product_code must be ours. The error text says what
// failed and is safe to log (no key).
struct EsewaSuccessCheck {
  std::optional<EsewaSuccess> value;
  std::string error;
  // The transaction_uuid the data names, also when the check fails: unproven, only to put a
  // rejected attempt on the record of the payment it claims to be for.
  std::optional<std::string> claimed_uuid;
};
EsewaSuccessCheck CheckEsewaSuccess(const EsewaConfig& config, std::string data);

// The status check's answer. `status` is nullopt for the outage body that has no status.
struct EsewaStatusAnswer {
  std::optional<std::string> status;
  int64_t total_paisa = 0;
  std::optional<std::string> ref_id;
};

// GET status_url?product_code=&total_amount=&transaction_uuid= (total in rupee text).
GatewayResult<EsewaStatusAnswer> CheckEsewaStatus(const EsewaConfig& config,
                                                  GatewayTimeouts timeouts, int64_t total_paisa,
                                                  const std::string& transaction_uuid);

}  // namespace sima::server
