// ASCII text and URL helpers: the one set the core, the server, the gateway simulator and the
// wasm build share. Pure functions over bytes: no locale, no allocation beyond the result, no
// exceptions. Text outside ASCII passes through unchanged (it is never lower-cased or trimmed).
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace sima {

// '0'-'9'.
constexpr bool IsAsciiDigit(char c) { return c >= '0' && c <= '9'; }
// A-Z, a-z or 0-9.
constexpr bool IsAsciiAlnum(char c) {
  return IsAsciiDigit(c) || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
}
// 0-15 for a hex digit of either case, -1 for any other byte.
constexpr int HexDigitValue(char c) {
  if (IsAsciiDigit(c)) return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// "Bearer" -> "bearer": A-Z become a-z, every other byte is kept.
std::string AsciiLower(std::string_view text);
// "complete" -> "COMPLETE": a-z become A-Z, every other byte is kept.
std::string AsciiUpper(std::string_view text);
// True when a and b are the same bytes but for the case of ASCII letters.
bool EqualsIgnoreCase(std::string_view a, std::string_view b);

// `text` without the leading and trailing bytes found in `chars` (by default space and tab,
// HTTP's optional white space). The result views `text`.
std::string_view Trim(std::string_view text, std::string_view chars = " \t");
// `text` without the trailing bytes found in `chars`: TrimEnd("http://x/", "/") == "http://x".
std::string_view TrimEnd(std::string_view text, std::string_view chars);

// Lower-case hexadecimal of raw bytes: "\x01\xab" -> "01ab".
std::string HexEncode(std::string_view bytes);

// Percent-encodes everything but A-Z a-z 0-9 - . _ ~ (RFC 3986 unreserved; a space is %20),
// with upper-case hex, for query values in redirects and gateway URLs.
std::string PercentEncode(std::string_view text);
// Escapes & < > " ' for HTML element text and quoted attribute values (the server's pay-link
// pages, the simulator's hosted pages).
std::string HtmlEscape(std::string_view text);
// Decodes %XX (hex of either case). With `plus_is_space` a '+' is a space, as in HTML form
// bodies. A '%' not followed by two hex digits is kept as it is (as browsers do).
std::string PercentDecode(std::string_view text, bool plus_is_space = false);

// Name/value pairs of a URL query, in order; a name may repeat.
using QueryParams = std::vector<std::pair<std::string, std::string>>;
// {{"a","1"},{"b","x y"}} -> "a=1&b=x%20y": each name and value percent-encoded.
std::string BuildQuery(const QueryParams& params);
// "a=1&b=x%20y&c" -> {{"a","1"},{"b","x y"},{"c",""}}: decoded, in order ('+' stays '+').
// Empty text gives no pairs.
QueryParams ParseQuery(std::string_view query);
// Appends `query` to `url`: after '?' when url has no query yet, after '&' otherwise (nothing
// when url already ends in '?' or '&'), and before any "#fragment".
std::string AppendQuery(std::string_view url, std::string_view query);

}  // namespace sima
