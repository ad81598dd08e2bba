#include "webhook/address_guard.h"

#include <arpa/inet.h>
#include <netinet/in.h>

#include "webhook/endpoint_url.h"

namespace sima::server::webhook {

std::optional<std::string> BlockedAddressReason(const sockaddr* address, bool allow_private) {
  if (address == nullptr) return "no address";
  const void* bytes = nullptr;
  size_t size = 0;
  if (address->sa_family == AF_INET) {
    bytes = &reinterpret_cast<const sockaddr_in*>(address)->sin_addr;
    size = 4;
  } else if (address->sa_family == AF_INET6) {
    bytes = &reinterpret_cast<const sockaddr_in6*>(address)->sin6_addr;
    size = 16;
  } else {
    return "not an internet address";  // never a webhook's, setting or not
  }
  if (allow_private || !IsPrivateAddress(static_cast<const uint8_t*>(bytes), size)) {
    return std::nullopt;
  }
  char text[INET6_ADDRSTRLEN] = {};
  inet_ntop(address->sa_family, bytes, text, sizeof text);
  return std::string(text) + " is a loopback, private or link-local address";
}

}  // namespace sima::server::webhook
