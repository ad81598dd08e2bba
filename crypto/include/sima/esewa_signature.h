// eSewa ePay v2 signatures (eSewa's ePay v2 docs): HMAC-SHA256, standard Base64, over
// "name=value" pairs for the names listed in signed_field_names, in that order, joined by
// commas. The same rule signs the request form and the success response.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace sima::crypto {

// "total_amount,transaction_uuid,product_code" -> {"total_amount", ...}. Empty names are kept
// so that a malformed list fails verification instead of being silently repaired.
std::vector<std::string> SplitSignedFieldNames(std::string_view names);

// The message to sign, taking each value from `value_of`; nullopt when a named field is absent.
std::optional<std::string> EsewaSigningMessage(
    const std::vector<std::string>& names,
    const std::function<std::optional<std::string>(std::string_view)>& value_of);

// The signature of `message` with the merchant secret `key`.
std::string EsewaSign(std::string_view key, std::string_view message);

// True when `signature` is the signature of `message` (compared in constant time).
bool EsewaVerify(std::string_view key, std::string_view message, std::string_view signature);

}  // namespace sima::crypto
