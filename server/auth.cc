#include "auth.h"

#include <openssl/rand.h>

#include <mutex>
#include <vector>

#include "sima/crypto.h"
#include "sima/text.h"

namespace sima::server {
namespace {

constexpr size_t kMaxCached = 100000;

Expected<std::string> Prefixed(std::string_view prefix, size_t bytes) {
  auto hex = RandomHex(bytes);
  if (!hex) return hex;
  return std::string(prefix) + "_" + hex.value();
}

Error Unauthorized(std::string message) { return {ErrorKind::kUnauthorized, std::move(message)}; }

}  // namespace

Expected<std::string> RandomHex(size_t bytes) {
  std::vector<unsigned char> buf(bytes);
  if (RAND_bytes(buf.data(), static_cast<int>(buf.size())) != 1) {
    return Error::Internal("the random number generator failed");
  }
  return HexEncode(std::string_view(reinterpret_cast<const char*>(buf.data()), buf.size()));
}

Expected<std::string> NewId(std::string_view prefix) { return Prefixed(prefix, 10); }
Expected<std::string> NewSecretKey() { return Prefixed("sk", 24); }
Expected<std::string> NewSessionToken() { return Prefixed("st", 24); }

std::string Sha256Hex(std::string_view text) { return crypto::Sha256Hex(text); }

bool ConstantTimeEquals(std::string_view a, std::string_view b) {
  return crypto::ConstantTimeEquals(a, b);
}

bool HasIdShape(std::string_view text, std::string_view prefix, size_t hex_digits) {
  if (text.size() != prefix.size() + 1 + hex_digits) return false;
  if (text.substr(0, prefix.size()) != prefix || text[prefix.size()] != '_') return false;
  for (char c : text.substr(prefix.size() + 1)) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

Authenticator::Authenticator(Store& store, NowFn now, std::chrono::seconds ttl)
    : store_(store), now_(std::move(now)), ttl_(ttl) {}

Expected<Principal> Authenticator::Authenticate(std::string_view token) {
  const bool key = HasIdShape(token, "sk", 48);
  const bool session = HasIdShape(token, "st", 48);
  if (!key && !session) return Unauthorized("malformed credential");
  const std::string hash = Sha256Hex(token);
  const Time now = now_();
  {
    std::shared_lock lock(mu_);
    const auto it = cache_.find(hash);
    if (it != cache_.end() && now - it->second.checked_at < ttl_) {
      if (it->second.expires_at && now >= *it->second.expires_at) {
        return Unauthorized("the session has expired");
      }
      return Principal{it->second.org_id, it->second.session, it->second.key_id, hash};
    }
  }
  auto found = key ? store_.FindSecretKey(hash) : store_.FindSession(hash, now);
  if (!found) return found.error();
  std::unique_lock lock(mu_);
  if (cache_.size() >= kMaxCached) cache_.clear();
  cache_[hash] = Entry{found->org_id, found->key_id, session, found->expires_at, now};
  return Principal{found->org_id, session, found->key_id, hash};
}

void Authenticator::Forget(const std::string& hash) {
  std::unique_lock lock(mu_);
  cache_.erase(hash);
}

}  // namespace sima::server
