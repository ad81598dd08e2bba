// URL validation and splitting. Query building and percent-encoding are in sima/text.h.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace sima::simulator {

// Roughly Django's URLValidator: http, https, ftp or ftps; a host name, IPv4 or
// [IPv6]; an optional port; no whitespace.
bool IsValidUrl(std::string_view url);

// "http://host:8080/a/b?c=d#x" -> {"http://host:8080", "/a/b?c=d"}. nullopt unless http(s).
struct UrlParts {
  std::string origin;
  std::string path_and_query;
};
std::optional<UrlParts> SplitUrl(std::string_view url);

}  // namespace sima::simulator
