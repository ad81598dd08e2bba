#include "validate.h"

#include "sima/text.h"

namespace sima::server {
namespace {

bool Allowed(unsigned char c, TextKind kind) {
  if (c == 0x7f) return false;
  if (c >= 0x20) return kind != TextKind::kKey || (c < 0x7f && c != ' ');
  return kind == TextKind::kText && (c == '\t' || c == '\n' || c == '\r');
}

bool LooksLikeEmail(std::string_view s) {
  const auto at = s.find('@');
  if (at == std::string_view::npos || at == 0 || s.find('@', at + 1) != std::string_view::npos) {
    return false;
  }
  const std::string_view domain = s.substr(at + 1);
  const auto dot = domain.find('.');
  if (dot == std::string_view::npos || dot == 0 || domain.back() == '.') return false;
  for (unsigned char c : s) {
    if (c <= ' ' || c == '<' || c == '>' || c == ',' || c == ';' || c == '"') return false;
  }
  return true;
}

}  // namespace

ExpectedDone OnlyFields(const Json& body, std::initializer_list<std::string_view> allowed) {
  for (const auto& [key, value] : body.items()) {
    bool known = false;
    for (std::string_view a : allowed) known = known || key == a;
    if (!known) return Error::Validation(key, "unknown field");
  }
  return Done{};
}

Expected<int64_t> IntField(const Json& body, std::string_view key, int64_t min, int64_t max,
                           std::optional<int64_t> fallback) {
  const auto it = body.find(key);
  const std::string name(key);
  if (it == body.end()) {
    if (fallback) return *fallback;
    return Error::Validation(name, name + " is required");
  }
  const std::string range = " from " + std::to_string(min) + " to " + std::to_string(max);
  int64_t v = 0;
  if (it->is_number_unsigned()) {
    const auto u = it->get<uint64_t>();
    if (u > static_cast<uint64_t>(max))
      return Error::Validation(name, name + " must be an integer" + range);
    v = static_cast<int64_t>(u);
  } else if (it->is_number_integer()) {
    v = it->get<int64_t>();
  } else {
    return Error::Validation(name, name + " must be an integer" + range);
  }
  if (v < min || v > max) return Error::Validation(name, name + " must be an integer" + range);
  return v;
}

Expected<std::optional<std::string>> StringField(const Json& body, std::string_view key,
                                                 bool required, size_t max_bytes, TextKind kind) {
  const std::string name(key);
  const auto it = body.find(key);
  if (it == body.end() || it->is_null()) {
    if (required) return Error::Validation(name, name + " is required");
    return std::optional<std::string>();
  }
  if (!it->is_string()) return Error::Validation(name, name + " must be a string");
  std::string value = it->get<std::string>();
  if (kind == TextKind::kLine || kind == TextKind::kEmail) value = std::string(Trim(value));
  if (value.empty()) {
    if (required) return Error::Validation(name, name + " must not be empty");
    return std::optional<std::string>();
  }
  if (value.size() > max_bytes) {
    return Error::Validation(name,
                             name + " must be at most " + std::to_string(max_bytes) + " bytes");
  }
  for (unsigned char c : value) {
    if (!Allowed(c, kind))
      return Error::Validation(name, name + " contains a character it may not");
  }
  if (kind == TextKind::kEmail && !LooksLikeEmail(value)) {
    return Error::Validation(name, name + " must be an e-mail address");
  }
  return std::optional<std::string>(std::move(value));
}

size_t JsonDepth(std::string_view text) {
  size_t depth = 0, max_depth = 0;
  bool in_string = false, escaped = false;
  for (char c : text) {
    if (in_string) {
      if (escaped) {
        escaped = false;
      } else if (c == '\\') {
        escaped = true;
      } else if (c == '"') {
        in_string = false;
      }
    } else if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      max_depth = std::max(max_depth, ++depth);
    } else if ((c == ']' || c == '}') && depth > 0) {
      --depth;
    }
  }
  return max_depth;
}

}  // namespace sima::server
