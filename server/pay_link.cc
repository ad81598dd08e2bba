#include "pay_link.h"

#include <algorithm>

#include "clock.h"
#include "sima/crypto.h"
#include "sima/json.h"
#include "sima/text.h"

namespace sima::server {
namespace {

std::string Base64Url(std::string_view bytes) {
  std::string out = crypto::Base64Encode(bytes);
  for (char& c : out) {
    if (c == '+') c = '-';
    if (c == '/') c = '_';
  }
  while (!out.empty() && out.back() == '=') out.pop_back();
  return out;
}

std::optional<std::string> FromBase64Url(std::string_view text) {
  std::string b64;
  b64.reserve(text.size() + 3);
  for (char c : text) {
    if (c == '-') {
      b64 += '+';
    } else if (c == '_') {
      b64 += '/';
    } else if (IsAsciiAlnum(c)) {
      b64 += c;
    } else {
      return std::nullopt;
    }
  }
  if (b64.size() % 4 == 1) return std::nullopt;
  while (b64.size() % 4 != 0) b64 += '=';
  return crypto::Base64Decode(b64);
}

std::string Signature(const std::string& secret, std::string_view payload) {
  return Base64Url(*crypto::Base64Decode(crypto::HmacSha256Base64(secret, payload)));
}

}  // namespace

PayLink PayLinkFor(const std::string& org_id, const Reminder& reminder) {
  return PayLink{org_id, reminder.plan, reminder.period_end,
                 std::max(reminder.until, reminder.ends_at), std::string(to_string(reminder.kind))};
}

PayLinks::PayLinks(std::string secret, std::string public_url)
    : secret_(std::move(secret)), public_url_(std::move(public_url)) {}

std::string PayLinks::Token(const PayLink& link) const {
  const std::string payload = Json{
      {"org", link.org_id},
      {"plan", link.plan},
      {"period_end", ToUnixSeconds(link.period_end)},
      {"expires", ToUnixSeconds(link.expires)},
      {"kind", link.kind}}.dump();
  return Base64Url(payload) + "." + Signature(secret_, payload);
}

std::string PayLinks::Url(const PayLink& link) const {
  return std::string(TrimEnd(public_url_, "/")) + "/pay/" + Token(link) + "/";
}

std::optional<PayLink> PayLinks::Read(std::string_view token) const {
  if (token.size() > kMaxToken) return std::nullopt;
  const auto dot = token.find('.');
  if (dot == std::string_view::npos) return std::nullopt;
  const auto payload = FromBase64Url(token.substr(0, dot));
  if (!payload) return std::nullopt;
  // The signature as we would write it: any other spelling of the same bytes is refused too.
  if (!crypto::ConstantTimeEquals(Signature(secret_, *payload), token.substr(dot + 1))) {
    return std::nullopt;
  }
  const Json json = Json::parse(*payload, nullptr, false);
  if (!json.is_object()) return std::nullopt;
  const auto text = [&](const char* name) -> const std::string* {
    const auto it = json.find(name);
    return it != json.end() && it->is_string() ? &it->get_ref<const std::string&>() : nullptr;
  };
  const auto seconds = [&](const char* name) -> std::optional<int64_t> {
    const auto it = json.find(name);
    if (it == json.end() || !it->is_number_integer()) return std::nullopt;
    return it->get<int64_t>();
  };
  const std::string* org = text("org");
  const std::string* plan = text("plan");
  const std::string* kind = text("kind");
  const auto end = seconds("period_end");
  const auto expires = seconds("expires");
  if (org == nullptr || plan == nullptr || kind == nullptr || !end || !expires) {
    return std::nullopt;
  }
  return PayLink{*org, *plan, FromUnixSeconds(*end), FromUnixSeconds(*expires), *kind};
}

}  // namespace sima::server
