#include "sima/text.h"

#include <algorithm>

namespace sima {
namespace {

constexpr char kUpperHex[] = "0123456789ABCDEF";
constexpr char kLowerHex[] = "0123456789abcdef";

char LowerChar(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }
char UpperChar(char c) { return c >= 'a' && c <= 'z' ? static_cast<char>(c - 'a' + 'A') : c; }

bool IsUnreserved(char c) {
  return IsAsciiAlnum(c) || c == '-' || c == '_' || c == '.' || c == '~';
}

}  // namespace

std::string AsciiLower(std::string_view text) {
  std::string out(text);
  for (char& c : out) c = LowerChar(c);
  return out;
}

std::string AsciiUpper(std::string_view text) {
  std::string out(text);
  for (char& c : out) c = UpperChar(c);
  return out;
}

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (LowerChar(a[i]) != LowerChar(b[i])) return false;
  }
  return true;
}

std::string_view Trim(std::string_view text, std::string_view chars) {
  const auto first = text.find_first_not_of(chars);
  if (first == std::string_view::npos) return text.substr(text.size());
  return text.substr(first, text.find_last_not_of(chars) - first + 1);
}

std::string_view TrimEnd(std::string_view text, std::string_view chars) {
  const auto last = text.find_last_not_of(chars);
  return text.substr(0, last == std::string_view::npos ? 0 : last + 1);
}

std::string HexEncode(std::string_view bytes) {
  std::string out;
  out.reserve(bytes.size() * 2);
  for (const char ch : bytes) {
    const auto c = static_cast<unsigned char>(ch);
    out += kLowerHex[c >> 4];
    out += kLowerHex[c & 15];
  }
  return out;
}

std::string HtmlEscape(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&#39;"; break;
      default: out.push_back(c);
    }
  }
  return out;
}

std::string PercentEncode(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (const char ch : text) {
    if (IsUnreserved(ch)) {
      out += ch;
      continue;
    }
    const auto c = static_cast<unsigned char>(ch);
    out += '%';
    out += kUpperHex[c >> 4];
    out += kUpperHex[c & 15];
  }
  return out;
}

std::string PercentDecode(std::string_view text, bool plus_is_space) {
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (c == '%' && i + 2 < text.size() && HexDigitValue(text[i + 1]) >= 0 &&
        HexDigitValue(text[i + 2]) >= 0) {
      out += static_cast<char>(HexDigitValue(text[i + 1]) * 16 + HexDigitValue(text[i + 2]));
      i += 2;
    } else {
      out += plus_is_space && c == '+' ? ' ' : c;
    }
  }
  return out;
}

std::string BuildQuery(const QueryParams& params) {
  std::string out;
  for (const auto& [name, value] : params) {
    if (!out.empty()) out += '&';
    out += PercentEncode(name);
    out += '=';
    out += PercentEncode(value);
  }
  return out;
}

QueryParams ParseQuery(std::string_view query) {
  QueryParams out;
  if (query.empty()) return out;
  size_t start = 0;
  while (start <= query.size()) {
    const size_t amp = std::min(query.find('&', start), query.size());
    const std::string_view pair = query.substr(start, amp - start);
    const size_t eq = pair.find('=');
    out.emplace_back(PercentDecode(pair.substr(0, eq)),
                     eq == std::string_view::npos ? "" : PercentDecode(pair.substr(eq + 1)));
    start = amp + 1;
  }
  return out;
}

std::string AppendQuery(std::string_view url, std::string_view query) {
  const auto hash = url.find('#');
  const std::string_view base = url.substr(0, hash);
  const std::string_view fragment = hash == std::string_view::npos ? "" : url.substr(hash);
  std::string out(base);
  if (base.find('?') == std::string_view::npos) {
    out += '?';
  } else if (!base.empty() && base.back() != '?' && base.back() != '&') {
    out += '&';
  }
  out += query;
  out += fragment;
  return out;
}

}  // namespace sima
