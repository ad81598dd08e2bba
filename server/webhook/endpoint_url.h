// The URL check of a webhook endpoint, at create and update (the admin API). It catches
// mistakes and obvious attempts at reaching the server's own network early, with a clear
// error; it is not the guard: a name can resolve elsewhere by the time a delivery is sent, so
// the sender checks the addresses it connects to on every try.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "error.h"

namespace sima::server::webhook {

inline constexpr size_t kMaxEndpointUrlBytes = 2048;

// The parts of an endpoint URL that the checks need.
struct EndpointUrl {
  std::string scheme;  // "http" or "https", lowercase
  std::string host;    // lowercase; an IPv6 literal without its brackets
  bool ipv6_literal = false;
  int port = 0;  // as written; 0 when the URL has none
};

// Parses an absolute http/https URL: at most kMaxEndpointUrlBytes of printable ASCII, a host
// (a name, an IPv4 address or a bracketed IPv6 address), an optional port 1..65535, any path and
// query; no user or password, no fragment, no backslash. kValidation naming "url" otherwise.
Expected<EndpointUrl> ParseEndpointUrl(std::string_view url);

// True for addresses a webhook must not reach unless SIMA_WEBHOOK_ALLOW_PRIVATE=1: loopback,
// private (RFC 1918, unique local), link-local (cloud metadata at 169.254.169.254), carrier-grade
// NAT, unspecified, multicast and reserved ranges, and IPv6 forms that embed such an IPv4
// address (mapped, compatible, NAT64, 6to4). `bytes` is 4 (IPv4) or 16 (IPv6) bytes.
bool IsPrivateAddress(const uint8_t* bytes, size_t size);

// ParseEndpointUrl, then, unless `allow_private`: the host may not be a literal private address
// (in any spelling the resolver accepts: "127.1", "0x7f000001", "[::ffff:127.0.0.1]"), nor
// "localhost" or a name under it, nor a name that resolves now to any private address. A name
// that does not resolve now is accepted: the sender checks again at every delivery.
// kValidation naming "url" with what was wrong.
ExpectedDone CheckEndpointUrl(std::string_view url, bool allow_private);

}  // namespace sima::server::webhook
