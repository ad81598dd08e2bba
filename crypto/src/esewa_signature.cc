#include "sima/esewa_signature.h"

#include "sima/crypto.h"

namespace sima::crypto {

std::vector<std::string> SplitSignedFieldNames(std::string_view names) {
  std::vector<std::string> out;
  size_t start = 0;
  while (true) {
    const size_t comma = names.find(',', start);
    out.emplace_back(
        names.substr(start, comma == std::string_view::npos ? names.npos : comma - start));
    if (comma == std::string_view::npos) break;
    start = comma + 1;
  }
  return out;
}

std::optional<std::string> EsewaSigningMessage(
    const std::vector<std::string>& names,
    const std::function<std::optional<std::string>(std::string_view)>& value_of) {
  std::string message;
  for (const std::string& name : names) {
    const auto value = value_of(name);
    if (!value) return std::nullopt;
    if (!message.empty()) message += ',';
    message += name;
    message += '=';
    message += *value;
  }
  return message;
}

std::string EsewaSign(std::string_view key, std::string_view message) {
  return HmacSha256Base64(key, message);
}

bool EsewaVerify(std::string_view key, std::string_view message, std::string_view signature) {
  return ConstantTimeEquals(EsewaSign(key, message), signature);
}

}  // namespace sima::crypto
