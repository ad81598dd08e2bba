// URL helpers for redirects and validation.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace sima::sim {

// "a=1&b=x%20y" from ordered pairs, each name and value percent-encoded.
std::string build_query(const std::vector<std::pair<std::string, std::string>>& params);

// Appends query to url: with '?' when url has no query yet, '&' otherwise
// (nothing when url already ends in '?' or '&'), before any '#fragment'.
std::string append_query(std::string_view url, std::string_view query);

// Roughly Django's URLValidator: http, https, ftp or ftps; a host name, IPv4 or
// [IPv6]; an optional port; no whitespace.
bool is_valid_url(std::string_view url);

// "http://host:8080/a/b?c=d#x" -> {"http://host:8080", "/a/b?c=d"}. nullopt unless http(s).
struct SplitUrl {
  std::string origin;
  std::string path_and_query;
};
std::optional<SplitUrl> split_url(std::string_view url);

}  // namespace sima::sim
