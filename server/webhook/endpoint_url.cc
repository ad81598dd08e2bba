#include "webhook/endpoint_url.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <array>
#include <charconv>
#include <cstring>
#include <memory>

namespace sima::server::webhook {
namespace {

Error UrlError(std::string message) { return Error::Validation("url", std::move(message)); }

std::string Lower(std::string_view text) {
  std::string out(text);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

bool HostChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_';
}

bool IsPrivateV4(uint32_t a) {  // host byte order
  const auto in = [a](uint32_t net, int bits) {
    return (a >> (32 - bits)) == (net >> (32 - bits));
  };
  return in(0x00000000, 8)      // 0.0.0.0/8: "this network"; 0.0.0.0 reaches the host itself
         || in(0x0A000000, 8)   // 10/8
         || in(0x64400000, 10)  // 100.64/10: carrier-grade NAT
         || in(0x7F000000, 8)   // 127/8: loopback
         || in(0xA9FE0000, 16)  // 169.254/16: link-local, cloud metadata services
         || in(0xAC100000, 12)  // 172.16/12
         || in(0xC0000000, 24)  // 192.0.0/24: protocol assignments
         || in(0xC0A80000, 16)  // 192.168/16
         || in(0xC6120000, 15)  // 198.18/15: benchmarking
         || in(0xE0000000, 4)   // 224/4: multicast
         || in(0xF0000000, 4);  // 240/4: reserved, broadcast
}

uint32_t V4At(const uint8_t* b) {
  return (uint32_t{b[0]} << 24) | (uint32_t{b[1]} << 16) | (uint32_t{b[2]} << 8) | uint32_t{b[3]};
}

// The host as it would be printed in a message (brackets back around IPv6).
std::string Shown(const EndpointUrl& u) { return u.ipv6_literal ? "[" + u.host + "]" : u.host; }

Error PrivateError(const EndpointUrl& u, std::string_view what) {
  return UrlError("url points at " + std::string(what) + " (" + Shown(u) +
                  "); webhooks go only to public addresses unless SIMA_WEBHOOK_ALLOW_PRIVATE=1");
}

// The address a literal host names, as 4 or 16 bytes; size 0 when the host is a name. IPv4 in
// every form inet_aton reads ("127.1", "0x7f.0.0.1", "2130706433"), as libcurl and the resolver
// read them too.
struct Literal {
  std::array<uint8_t, 16> bytes{};
  size_t size = 0;
};
Literal LiteralAddress(const EndpointUrl& u, const std::string& name) {
  Literal out;
  if (u.ipv6_literal) {
    in6_addr a6{};
    if (inet_pton(AF_INET6, name.c_str(), &a6) == 1) {
      std::memcpy(out.bytes.data(), &a6, 16);
      out.size = 16;
    }
    return out;
  }
  in_addr a4{};
  if (inet_aton(name.c_str(), &a4) != 0) {
    std::memcpy(out.bytes.data(), &a4, 4);
    out.size = 4;
  }
  return out;
}

}  // namespace

bool IsPrivateAddress(const uint8_t* b, size_t size) {
  if (size == 4) return IsPrivateV4(V4At(b));
  if (size != 16) return true;  // not an address we know how to judge: refuse
  bool zero96 = true;           // the first 12 bytes are zero: ::, ::1, IPv4-compatible ::a.b.c.d
  for (int i = 0; i < 12; ++i) zero96 = zero96 && b[i] == 0;
  if (zero96) return true;
  const bool mapped = std::memcmp(b, "\0\0\0\0\0\0\0\0\0\0\xff\xff", 12) == 0;     // ::ffff:a.b.c.d
  const bool nat64 = std::memcmp(b, "\x00\x64\xff\x9b\0\0\0\0\0\0\0\0", 12) == 0;  // 64:ff9b::/96
  if (mapped || nat64) return IsPrivateV4(V4At(b + 12));
  if (b[0] == 0x20 && b[1] == 0x02) return IsPrivateV4(V4At(b + 2));  // 6to4 2002::/16
  if ((b[0] & 0xFE) == 0xFC) return true;                             // fc00::/7 unique local
  if (b[0] == 0xFE && (b[1] & 0xC0) == 0x80) return true;             // fe80::/10 link-local
  if (b[0] == 0xFE && (b[1] & 0xC0) == 0xC0) return true;             // fec0::/10 site-local
  if (b[0] == 0xFF) return true;                                      // ff00::/8 multicast
  return false;
}

Expected<EndpointUrl> ParseEndpointUrl(std::string_view url) {
  if (url.empty()) return UrlError("url is required");
  if (url.size() > kMaxEndpointUrlBytes) {
    return UrlError("url must be at most " + std::to_string(kMaxEndpointUrlBytes) + " bytes");
  }
  for (char c : url) {
    if (c <= 0x20 || c >= 0x7F) {
      return UrlError("url must be printable ASCII without spaces (percent-encode the rest)");
    }
    if (c == '\\') return UrlError("url must not contain a backslash");
    if (c == '#') return UrlError("url must not have a fragment (#...)");
  }
  EndpointUrl out;
  const size_t colon = url.find("://");
  if (colon == std::string_view::npos) return UrlError("url must be an absolute http or https URL");
  out.scheme = Lower(url.substr(0, colon));
  if (out.scheme != "http" && out.scheme != "https") {
    return UrlError("url must be an absolute http or https URL");
  }
  std::string_view rest = url.substr(colon + 3);
  const std::string_view authority = rest.substr(0, rest.find_first_of("/?"));
  if (authority.find('@') != std::string_view::npos) {
    return UrlError("url must not carry a user name or password");
  }
  std::string_view port_text;
  if (!authority.empty() && authority.front() == '[') {
    const size_t close = authority.find(']');
    if (close == std::string_view::npos) return UrlError("url has an unclosed IPv6 address");
    out.host = Lower(authority.substr(1, close - 1));
    out.ipv6_literal = true;
    const std::string_view after = authority.substr(close + 1);
    if (!after.empty()) {
      if (after.front() != ':') return UrlError("url has text after its IPv6 address");
      port_text = after.substr(1);
      if (port_text.empty()) return UrlError("url has an empty port");
    }
    in6_addr a6{};
    if (inet_pton(AF_INET6, out.host.c_str(), &a6) != 1) {
      return UrlError("url has an invalid IPv6 address");
    }
  } else {
    const size_t port_at = authority.find(':');
    out.host = Lower(authority.substr(0, port_at));
    if (port_at != std::string_view::npos) {
      port_text = authority.substr(port_at + 1);
      if (port_text.empty()) return UrlError("url has an empty port");
    }
    for (char c : out.host) {
      if (!HostChar(c)) return UrlError("url has an invalid host name (use its ASCII form)");
    }
  }
  if (out.host.empty()) return UrlError("url has no host");
  if (!port_text.empty()) {
    int port = 0;
    const auto [end, ec] =
        std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
    if (ec != std::errc() || end != port_text.data() + port_text.size() || port < 1 ||
        port > 65535 || port_text.size() > 5) {
      return UrlError("url has an invalid port (1 to 65535)");
    }
    out.port = port;
  }
  return out;
}

ExpectedDone CheckEndpointUrl(std::string_view url, bool allow_private) {
  auto parsed = ParseEndpointUrl(url);
  if (!parsed) return parsed.error();
  if (allow_private) return Done{};
  const EndpointUrl& u = *parsed;
  // A trailing dot names the same host ("127.0.0.1.", "localhost.").
  std::string name = u.host;
  if (!u.ipv6_literal && name.size() > 1 && name.back() == '.') name.pop_back();
  if (const Literal lit = LiteralAddress(u, name); lit.size != 0) {
    if (IsPrivateAddress(lit.bytes.data(), lit.size)) {
      return PrivateError(u, "a loopback, private or link-local address");
    }
    return Done{};
  }
  // RFC 6761: "localhost" and every name under it are the machine itself, whatever DNS says.
  if (name == "localhost" || name.ends_with(".localhost")) {
    return PrivateError(u, "this machine");
  }
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  if (getaddrinfo(u.host.c_str(), nullptr, &hints, &found) != 0) return Done{};
  const std::unique_ptr<addrinfo, decltype(&freeaddrinfo)> owned(found, freeaddrinfo);
  for (const addrinfo* a = found; a != nullptr; a = a->ai_next) {
    bool private_address = false;
    if (a->ai_family == AF_INET) {
      const auto* in = reinterpret_cast<const sockaddr_in*>(a->ai_addr);
      private_address = IsPrivateAddress(reinterpret_cast<const uint8_t*>(&in->sin_addr), 4);
    } else if (a->ai_family == AF_INET6) {
      const auto* in6 = reinterpret_cast<const sockaddr_in6*>(a->ai_addr);
      private_address = IsPrivateAddress(reinterpret_cast<const uint8_t*>(&in6->sin6_addr), 16);
    }
    if (private_address) return PrivateError(u, "a name that resolves to a private address");
  }
  return Done{};
}

}  // namespace sima::server::webhook
