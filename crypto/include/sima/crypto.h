// The few cryptographic primitives and encodings sima's programs share, over OpenSSL: Base64,
// SHA-256, HMAC-SHA256, random tokens and a constant-time comparison. Native only (not in the
// wasm). Text and URL encodings (hex, percent-encoding) are in sima/text.h.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace sima::crypto {

// Standard Base64 with '=' padding.
std::string Base64Encode(std::string_view bytes);
// Decodes standard Base64 (padding required); nullopt if the text is not valid Base64.
std::optional<std::string> Base64Decode(std::string_view text);

// SHA-256 of `text` as 64 lowercase hex digits.
std::string Sha256Hex(std::string_view text);
// HMAC-SHA256 of `message` keyed with `key` (taken as text), as standard Base64.
std::string HmacSha256Base64(std::string_view key, std::string_view message);
// The same HMAC as 64 lowercase hex digits (webhook signatures).
std::string HmacSha256Hex(std::string_view key, std::string_view message);

// `length` characters drawn uniformly from [A-Za-z0-9] with a CSPRNG (RAND_bytes).
// Aborts the process if the system has no randomness to give (never returns a weak token).
std::string RandomToken(size_t length);

// Compares without leaking where the texts differ through timing.
bool ConstantTimeEquals(std::string_view a, std::string_view b);

}  // namespace sima::crypto
