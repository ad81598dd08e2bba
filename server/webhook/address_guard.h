// Where a delivery may connect. An endpoint URL is whatever an admin typed, and the admin API's
// check of it (webhook/endpoint_url.h) sees a name's addresses only at that moment: a name can
// resolve elsewhere later (DNS rebinding). So the sender asks this about the very address
// libcurl is about to connect to, after its resolver answered, on every try.
#pragma once

#include <sys/socket.h>

#include <optional>
#include <string>

namespace sima::server::webhook {

// Why a delivery may not connect to `address`, e.g. "127.0.0.1 is a loopback, private or
// link-local address", or nullopt when it may: public addresses always, any IPv4/IPv6 address
// with `allow_private` (SIMA_WEBHOOK_ALLOW_PRIVATE=1). The ranges are IsPrivateAddress's
// (endpoint_url.h). Anything but AF_INET and AF_INET6 is refused.
std::optional<std::string> BlockedAddressReason(const sockaddr* address, bool allow_private);

}  // namespace sima::server::webhook
