// The signature primitives eSewa ePay v2 uses (spec/gateways.md §3.3).
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace sima::sim {

// Standard Base64 with '=' padding.
std::string base64_encode(std::string_view bytes);
// Decodes standard Base64 (padding required); nullopt if the text is not valid Base64.
std::optional<std::string> base64_decode(std::string_view text);

// HMAC-SHA256 of message keyed with key (taken as text), as standard Base64.
std::string hmac_sha256_base64(std::string_view key, std::string_view message);

}  // namespace sima::sim
