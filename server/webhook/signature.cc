#include "webhook/signature.h"

#include <charconv>
#include <optional>

#include "clock.h"
#include "sima/crypto.h"
#include "sima/text.h"

namespace sima::server::webhook {
namespace {

std::string Sign(std::string_view secret, std::string_view t, std::string_view body) {
  std::string message;
  message.reserve(t.size() + 1 + body.size());
  message.append(t).append(1, '.').append(body);
  return crypto::HmacSha256Hex(secret, message);
}

}  // namespace

std::string SignatureHeader(const std::vector<std::string>& secrets, Time t,
                            std::string_view body) {
  const std::string seconds = std::to_string(ToUnixSeconds(t));
  std::string header = "t=" + seconds;
  for (const std::string& secret : secrets) header += ",v1=" + Sign(secret, seconds, body);
  return header;
}

std::string_view to_string(Verdict verdict) {
  switch (verdict) {
    case Verdict::kValid: return "valid";
    case Verdict::kMalformed: return "malformed";
    case Verdict::kOutsideWindow: return "outside_window";
    case Verdict::kNoMatch: return "no_match";
  }
  return "malformed";
}

Verdict VerifySignature(std::string_view header, std::string_view body,
                        const std::vector<std::string>& secrets, Time now,
                        std::chrono::seconds tolerance) {
  // A header is a few v1s long; more than this many parts is not one of ours.
  constexpr size_t kMaxParts = 16;
  std::optional<std::string_view> t;
  std::vector<std::string_view> v1s;
  size_t parts = 0;
  while (!header.empty()) {
    if (++parts > kMaxParts) return Verdict::kMalformed;
    const size_t comma = header.find(',');
    const std::string_view part = Trim(header.substr(0, comma));
    header = comma == std::string_view::npos ? std::string_view() : header.substr(comma + 1);
    const size_t eq = part.find('=');
    if (eq == std::string_view::npos) continue;
    const std::string_view key = part.substr(0, eq);
    const std::string_view value = part.substr(eq + 1);
    if (key == "t") t = value;
    if (key == "v1") v1s.push_back(value);
  }
  if (!t || t->empty() || v1s.empty()) return Verdict::kMalformed;
  int64_t seconds = 0;
  const auto [end, ec] = std::from_chars(t->data(), t->data() + t->size(), seconds);
  if (ec != std::errc() || end != t->data() + t->size()) return Verdict::kMalformed;
  const int64_t skew = ToUnixSeconds(now) - seconds;
  if (skew > tolerance.count() || -skew > tolerance.count()) return Verdict::kOutsideWindow;
  for (const std::string& secret : secrets) {
    const std::string expected = Sign(secret, *t, body);
    bool match = false;
    // Every v1 is compared (no early return) so the time taken does not say which matched.
    for (std::string_view v1 : v1s) match |= crypto::ConstantTimeEquals(expected, v1);
    if (match) return Verdict::kValid;
  }
  return Verdict::kNoMatch;
}

}  // namespace sima::server::webhook
