#include "paging.h"

#include <charconv>

#include "sima/crypto.h"

namespace sima::server {
namespace {

constexpr size_t kMaxCursorBytes = 128;

bool ParseInt(std::string_view text, int64_t& out) {
  if (text.empty() || (text.size() > 1 && text[0] == '0')) return false;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
  return ec == std::errc() && end == text.data() + text.size() && out >= 0;
}

}  // namespace

std::string EncodeCursor(const PageKey& key) {
  std::string b64 =
      crypto::Base64Encode("v1:" + std::to_string(key.at) + ":" + std::to_string(key.row));
  std::string out;
  for (char c : b64) {
    if (c == '=') break;
    out += c == '+' ? '-' : c == '/' ? '_' : c;
  }
  return out;
}

std::optional<PageKey> DecodeCursor(std::string_view text) {
  if (text.empty() || text.size() > kMaxCursorBytes) return std::nullopt;
  std::string b64;
  for (char c : text) {
    if (c == '+' || c == '/' || c == '=') return std::nullopt;  // base64url only
    b64 += c == '-' ? '+' : c == '_' ? '/' : c;
  }
  while (b64.size() % 4 != 0) b64 += '=';
  auto raw = crypto::Base64Decode(b64);
  if (!raw || raw->substr(0, 3) != "v1:") return std::nullopt;
  const std::string_view rest = std::string_view(*raw).substr(3);
  const size_t colon = rest.find(':');
  if (colon == std::string_view::npos) return std::nullopt;
  PageKey key;
  if (!ParseInt(rest.substr(0, colon), key.at) || !ParseInt(rest.substr(colon + 1), key.row)) {
    return std::nullopt;
  }
  // The same text must come back from the key, so a cursor has exactly one spelling.
  if (EncodeCursor(key) != text) return std::nullopt;
  return key;
}

Expected<PageRequest> ReadPageRequest(const Call& call) {
  PageRequest page;
  page.limit = kDefaultPageSize;
  if (const auto it = call.query.find("limit"); it != call.query.end()) {
    const std::string& v = it->second;
    int64_t n = 0;
    const auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), n);
    if (ec != std::errc() || end != v.data() + v.size() || n < 1 || n > kMaxPageSize) {
      return Error::Validation("limit", "limit must be an integer from 1 to 1000");
    }
    page.limit = n;
  }
  // An empty cursor is no cursor (HTTP clients may send "cursor=" for the first page).
  if (const auto it = call.query.find("cursor"); it != call.query.end() && !it->second.empty()) {
    page.after = DecodeCursor(it->second);
    if (!page.after) {
      return Error::Validation("cursor", "cursor must be a next_cursor this list returned");
    }
  }
  return page;
}

Json PageBody(Json items, const std::optional<PageKey>& next) {
  return {{"items", std::move(items)},
          {"next_cursor", next ? Json(EncodeCursor(*next)) : Json(nullptr)}};
}

}  // namespace sima::server
