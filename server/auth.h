// Credentials: random tokens and ids (OpenSSL RAND_bytes), SHA-256 hashes (sima::crypto), and
// the Authenticator that turns a bearer token into an organization.
#pragma once

#include <chrono>
#include <optional>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <unordered_map>

#include "clock.h"
#include "error.h"
#include "store.h"

namespace sima::server {

// `bytes` random bytes from OpenSSL's CSPRNG as lowercase hex; kInternal if it fails.
Expected<std::string> RandomHex(size_t bytes);
// "<prefix>_" + 20 hex digits (80 random bits): "org_...", "inv_", "cus_", "tm_".
Expected<std::string> NewId(std::string_view prefix);
// "sk_" / "st_" + 48 hex digits (192 random bits).
Expected<std::string> NewSecretKey();
Expected<std::string> NewSessionToken();

// SHA-256 of `text` as 64 lowercase hex digits (sima::crypto::Sha256Hex).
std::string Sha256Hex(std::string_view text);
// Compares without leaking where the inputs differ (sima::crypto::ConstantTimeEquals).
bool ConstantTimeEquals(std::string_view a, std::string_view b);
// True for "<prefix>_" followed by `hex_digits` lowercase hex digits.
bool HasIdShape(std::string_view text, std::string_view prefix, size_t hex_digits = 20);

// Who made a call.
struct Principal {
  std::string org_id;
  bool via_session = false;     // st_ token (browser) rather than sk_ key (backend)
  std::string key_id = {};      // the secret key's id ("" for a session)
  std::string token_hash = {};  // SHA-256 hex of the credential (to end this session)
};

// Resolves bearer tokens to organizations, caching what the store says by token hash for
// `ttl` so a burst of calls does not query the database for each. A revocation on this
// instance is immediate (the revoking handler calls Forget for the key and every session it
// ended); another instance sharing the database sees it within `ttl` (1 s), the bound the
// docs state. A cached session is refused from its expires_at on, by the injected clock.
class Authenticator {
 public:
  static constexpr std::chrono::seconds kDefaultTtl{1};
  Authenticator(Store& store, NowFn now, std::chrono::seconds ttl = kDefaultTtl);

  // The principal for `token` (the text after "Bearer "): kUnauthorized when malformed,
  // unknown, revoked or expired. Never logs or keeps the token itself.
  Expected<Principal> Authenticate(std::string_view token);
  // Drops a cached credential (after a revocation).
  void Forget(const std::string& hash);

 private:
  struct Entry {
    std::string org_id;
    std::string key_id;
    bool session = false;
    std::optional<Time> expires_at;
    Time checked_at{};
  };
  Store& store_;
  NowFn now_;
  std::chrono::seconds ttl_;
  std::shared_mutex mu_;
  std::unordered_map<std::string, Entry> cache_;
};

}  // namespace sima::server
