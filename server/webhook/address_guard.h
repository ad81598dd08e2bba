// Where webhooks may go. An endpoint URL is whatever an admin typed, so without a guard a
// delivery could be aimed at the server's own network: a database on loopback, a router, the
// cloud metadata service at 169.254.169.254. Unless SIMA_WEBHOOK_ALLOW_PRIVATE=1, deliveries
// go only to public addresses. The sender checks the address libcurl is about to connect to
// (its resolver's answer, in the open-socket callback), so a name that resolves to a public
// address when checked and to a private one a moment later (DNS rebinding) gains nothing.
#pragma once

#include <sys/socket.h>

#include <optional>
#include <string>
#include <string_view>

#include "error.h"

namespace sima::server::webhook {

// The parts of an endpoint URL the guard and the sender need.
struct WebhookUrl {
  std::string scheme;  // "http" or "https"
  std::string host;    // a name, an IPv4 address, or an IPv6 address without brackets
  int port = 0;        // the URL's, or 80 / 443
};

// Parses an endpoint URL: http or https only, a host, no user or password in it, a port in
// 1..65535 if given, at most 2048 characters, no spaces or control characters. Error:
// Validation("url", why) — what POST /admin/webhooks/ answers.
Expected<WebhookUrl> ParseWebhookUrl(std::string_view url);

// Why a delivery may not connect to `address` (an AF_INET or AF_INET6 sockaddr), or nullopt
// when it may: loopback, private (10/8, 172.16/12, 192.168/16, fc00::/7), link-local
// (169.254/16, fe80::/10), CGNAT (100.64/10), 0/8, multicast, broadcast, unspecified,
// the reserved 240/4, and the IPv4-mapped (::ffff:a.b.c.d) and NAT64 forms of those.
// `allow_private` (SIMA_WEBHOOK_ALLOW_PRIVATE=1) allows every address.
std::optional<std::string> BlockedAddressReason(const sockaddr* address, bool allow_private);

// Resolves `host` (getaddrinfo) and refuses it when any address it has is blocked, as the
// sender would refuse to connect: Validation("url", why), or Unavailable when the name does
// not resolve. Lets the admin API answer a bad endpoint at once instead of in the log later.
ExpectedDone CheckHostAllowed(const std::string& host, bool allow_private);

}  // namespace sima::server::webhook
