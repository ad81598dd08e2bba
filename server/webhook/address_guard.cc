#include "webhook/address_guard.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>

#include <charconv>
#include <cstring>

#include "sima/text.h"

namespace sima::server::webhook {
namespace {

constexpr size_t kMaxUrl = 2048;

Error BadUrl(const std::string& why) { return Error::Validation("url", "url: " + why); }

// Why IPv4 `a` (host byte order) is not public, or nullopt.
std::optional<std::string> BlockedV4(uint32_t a) {
  struct Range {
    uint32_t base;
    int bits;
    const char* what;
  };
  static constexpr Range kRanges[] = {
      {0x00000000, 8, "0.0.0.0/8 (this network)"},
      {0x0A000000, 8, "private (10.0.0.0/8)"},
      {0x64400000, 10, "shared address space (100.64.0.0/10)"},
      {0x7F000000, 8, "loopback"},
      {0xA9FE0000, 16, "link-local (169.254.0.0/16, cloud metadata)"},
      {0xAC100000, 12, "private (172.16.0.0/12)"},
      {0xC0000000, 24, "IETF protocol assignments (192.0.0.0/24)"},
      {0xC0A80000, 16, "private (192.168.0.0/16)"},
      {0xC6120000, 15, "benchmarking (198.18.0.0/15)"},
      {0xE0000000, 4, "multicast"},
      {0xF0000000, 4, "reserved (240.0.0.0/4) or broadcast"},
  };
  for (const Range& r : kRanges) {
    const uint32_t mask = r.bits == 0 ? 0 : ~uint32_t{0} << (32 - r.bits);
    if ((a & mask) == r.base) return std::string(r.what);
  }
  return std::nullopt;
}

std::optional<std::string> BlockedV6(const in6_addr& a) {
  const uint8_t* b = a.s6_addr;
  static constexpr uint8_t kZero[16] = {};
  if (std::memcmp(b, kZero, 16) == 0) return "unspecified (::)";
  if (std::memcmp(b, kZero, 15) == 0 && b[15] == 1) return "loopback (::1)";
  const auto v4_at = [&](int i) {
    return uint32_t{b[i]} << 24 | uint32_t{b[i + 1]} << 16 | uint32_t{b[i + 2]} << 8 | b[i + 3];
  };
  // ::ffff:a.b.c.d (mapped), ::a.b.c.d (the old compatible form) and 64:ff9b::a.b.c.d (NAT64)
  // reach an IPv4 address: they are judged as it.
  static constexpr uint8_t kMapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
  static constexpr uint8_t kNat64[12] = {0, 0x64, 0xff, 0x9b, 0, 0, 0, 0, 0, 0, 0, 0};
  if (std::memcmp(b, kMapped, 12) == 0 || std::memcmp(b, kZero, 12) == 0 ||
      std::memcmp(b, kNat64, 12) == 0) {
    if (auto why = BlockedV4(v4_at(12))) return "IPv4-embedded " + *why;
    return std::nullopt;
  }
  if ((b[0] & 0xfe) == 0xfc) return "unique local (fc00::/7)";
  if (b[0] == 0xfe && (b[1] & 0xc0) == 0x80) return "link-local (fe80::/10)";
  if (b[0] == 0xfe && (b[1] & 0xc0) == 0xc0) return "site-local (fec0::/10)";
  if (b[0] == 0xff) return "multicast (ff00::/8)";
  return std::nullopt;
}

}  // namespace

Expected<WebhookUrl> ParseWebhookUrl(std::string_view url) {
  if (url.empty()) return BadUrl("required");
  if (url.size() > kMaxUrl) return BadUrl("longer than 2048 characters");
  for (unsigned char c : url) {
    if (c <= 0x20 || c == 0x7f) return BadUrl("no spaces or control characters");
  }
  WebhookUrl out;
  std::string_view rest;
  if (url.size() > 7 && EqualsIgnoreCase(url.substr(0, 7), "http://")) {
    out.scheme = "http";
    out.port = 80;
    rest = url.substr(7);
  } else if (url.size() > 8 && EqualsIgnoreCase(url.substr(0, 8), "https://")) {
    out.scheme = "https";
    out.port = 443;
    rest = url.substr(8);
  } else {
    return BadUrl("must start with http:// or https://");
  }
  const std::string_view authority = rest.substr(0, rest.find_first_of("/?#"));
  if (authority.find('@') != std::string_view::npos) {
    return BadUrl("no user name or password in it");
  }
  std::string_view host = authority;
  std::string_view port;
  if (!host.empty() && host.front() == '[') {
    const size_t close = host.find(']');
    if (close == std::string_view::npos) return BadUrl("an IPv6 host needs its closing ']'");
    const std::string_view after = host.substr(close + 1);
    host = host.substr(1, close - 1);
    if (!after.empty()) {
      if (after.front() != ':') return BadUrl("bad host");
      port = after.substr(1);
    }
  } else if (const size_t colon = host.rfind(':'); colon != std::string_view::npos) {
    port = host.substr(colon + 1);
    host = host.substr(0, colon);
  }
  if (host.empty()) return BadUrl("no host");
  if (authority.back() == ':' && port.empty()) return BadUrl("empty port");
  if (!port.empty()) {
    int n = 0;
    const auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), n);
    if (ec != std::errc() || end != port.data() + port.size() || n < 1 || n > 65535) {
      return BadUrl("the port must be 1..65535");
    }
    out.port = n;
  }
  out.host = AsciiLower(host);
  return out;
}

std::optional<std::string> BlockedAddressReason(const sockaddr* address, bool allow_private) {
  if (address == nullptr) return "no address";
  if (address->sa_family == AF_INET) {
    if (allow_private) return std::nullopt;
    const auto* in = reinterpret_cast<const sockaddr_in*>(address);
    return BlockedV4(ntohl(in->sin_addr.s_addr));
  }
  if (address->sa_family == AF_INET6) {
    if (allow_private) return std::nullopt;
    return BlockedV6(reinterpret_cast<const sockaddr_in6*>(address)->sin6_addr);
  }
  // Unix sockets and the rest are never a webhook's, setting or not.
  return "not an internet address";
}

ExpectedDone CheckHostAllowed(const std::string& host, bool allow_private) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  const int rc = ::getaddrinfo(host.c_str(), nullptr, &hints, &found);
  if (rc != 0) {
    return Error::Unavailable("url: cannot resolve \"" + host + "\": " + gai_strerror(rc));
  }
  std::optional<std::string> blocked;
  for (const addrinfo* ai = found; ai != nullptr && !blocked; ai = ai->ai_next) {
    blocked = BlockedAddressReason(ai->ai_addr, allow_private);
  }
  ::freeaddrinfo(found);
  if (blocked) {
    return BadUrl("\"" + host + "\" is a " + *blocked +
                  " address; webhooks go to public addresses unless "
                  "SIMA_WEBHOOK_ALLOW_PRIVATE=1");
  }
  return Done{};
}

}  // namespace sima::server::webhook
