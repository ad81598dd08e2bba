#include "sima/sim/crypto.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <vector>

namespace sima::sim {

std::string base64_encode(std::string_view bytes) {
  std::vector<unsigned char> out(4 * ((bytes.size() + 2) / 3) + 1);
  const int n = EVP_EncodeBlock(out.data(), reinterpret_cast<const unsigned char*>(bytes.data()),
                                static_cast<int>(bytes.size()));
  return std::string(reinterpret_cast<const char*>(out.data()), static_cast<std::size_t>(n));
}

std::optional<std::string> base64_decode(std::string_view text) {
  if (text.size() % 4 != 0) return std::nullopt;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    const bool alnum = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
    const bool pad_ok = c == '=' && i + 2 >= text.size();
    if (!alnum && c != '+' && c != '/' && !pad_ok) return std::nullopt;
  }
  if (text.empty()) return std::string();
  std::size_t padding = 0;
  if (text.back() == '=') ++padding;
  if (text.size() >= 2 && text[text.size() - 2] == '=') {
    if (text.back() != '=') return std::nullopt;  // "x=y" style
    ++padding;
  }
  std::vector<unsigned char> out(text.size() / 4 * 3 + 1);
  const int n = EVP_DecodeBlock(out.data(), reinterpret_cast<const unsigned char*>(text.data()),
                                static_cast<int>(text.size()));
  if (n < 0) return std::nullopt;
  return std::string(reinterpret_cast<const char*>(out.data()),
                     static_cast<std::size_t>(n) - padding);
}

std::string hmac_sha256_base64(std::string_view key, std::string_view message) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
       reinterpret_cast<const unsigned char*>(message.data()), message.size(), digest, &length);
  return base64_encode(std::string_view(reinterpret_cast<const char*>(digest), length));
}

}  // namespace sima::sim
