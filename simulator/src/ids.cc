#include "ids.h"

#include <openssl/rand.h>

#include <random>
#include <string_view>

namespace sima::simulator {
namespace {

// Uniform pick from alphabet using OpenSSL's CSPRNG (rejection sampling).
std::string RandomFrom(std::string_view alphabet, std::size_t length) {
  std::string out;
  const auto limit = static_cast<unsigned>(256 - 256 % alphabet.size());
  while (out.size() < length) {
    unsigned char buf[32];
    if (RAND_bytes(buf, sizeof buf) != 1) {
      static thread_local std::mt19937 fallback{std::random_device{}()};
      for (auto& b : buf) b = static_cast<unsigned char>(fallback());
    }
    for (unsigned char b : buf) {
      if (b < limit && out.size() < length) out.push_back(alphabet[b % alphabet.size()]);
    }
  }
  return out;
}

}  // namespace

std::string NewKhaltiId() {
  return RandomFrom("23456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz", 22);
}

std::string NewEsewaCode() { return "000" + RandomFrom("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ", 4); }

}  // namespace sima::simulator
