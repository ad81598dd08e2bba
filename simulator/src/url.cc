#include "url.h"

#include <cctype>

#include "sima/text.h"

namespace sima::simulator {

namespace {

bool IsHostLabel(std::string_view label) {
  if (label.empty() || label.size() > 63 || label.front() == '-' || label.back() == '-')
    return false;
  for (char ch : label) {
    if (!IsAsciiAlnum(ch) && ch != '-') return false;
  }
  return true;
}

bool IsHost(std::string_view host) {
  if (host.size() > 2 && host.front() == '[' && host.back() == ']') {
    for (char ch : host.substr(1, host.size() - 2)) {
      if (HexDigitValue(ch) < 0 && ch != ':' && ch != '.') return false;
    }
    return true;
  }
  if (!host.empty() && host.back() == '.') host.remove_suffix(1);
  if (host.empty()) return false;
  std::size_t start = 0;
  while (true) {
    const auto dot = host.find('.', start);
    if (!IsHostLabel(host.substr(start, dot - start))) return false;
    if (dot == std::string_view::npos) return true;
    start = dot + 1;
  }
}

}  // namespace

bool IsValidUrl(std::string_view url) {
  if (url.size() > 2048) return false;
  for (char ch : url) {
    if (std::isspace(static_cast<unsigned char>(ch)) ||
        std::iscntrl(static_cast<unsigned char>(ch))) {
      return false;
    }
  }
  const auto scheme_end = url.find("://");
  if (scheme_end == std::string_view::npos) return false;
  const std::string_view scheme = url.substr(0, scheme_end);
  if (scheme != "http" && scheme != "https" && scheme != "ftp" && scheme != "ftps") return false;
  std::string_view authority = url.substr(scheme_end + 3);
  authority = authority.substr(0, authority.find_first_of("/?#"));
  if (const auto at = authority.rfind('@'); at != std::string_view::npos) {
    authority.remove_prefix(at + 1);
  }
  std::string_view host = authority;
  const auto colon = authority.rfind(':');
  if (colon != std::string_view::npos && authority.find(']', colon) == std::string_view::npos) {
    const std::string_view port = authority.substr(colon + 1);
    if (port.empty() || port.size() > 5) return false;
    for (char ch : port) {
      if (!IsAsciiDigit(ch)) return false;
    }
    host = authority.substr(0, colon);
  }
  return IsHost(host);
}

std::optional<UrlParts> SplitUrl(std::string_view url) {
  const auto scheme_end = url.find("://");
  if (scheme_end == std::string_view::npos) return std::nullopt;
  const std::string_view scheme = url.substr(0, scheme_end);
  if (scheme != "http" && scheme != "https") return std::nullopt;
  const auto path_start = url.find_first_of("/?#", scheme_end + 3);
  UrlParts out;
  out.origin = std::string(url.substr(0, path_start));
  std::string rest =
      path_start == std::string_view::npos ? "" : std::string(url.substr(path_start));
  if (const auto hash = rest.find('#'); hash != std::string::npos) rest.erase(hash);
  if (rest.empty() || rest.front() != '/') out.path_and_query.push_back('/');
  out.path_and_query.append(rest);
  return out;
}

}  // namespace sima::simulator
