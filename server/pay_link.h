// Pay links: the link in a reminder e-mail that pays one organization's renewal from a phone,
// without logging in. The token names the organization, the plan, the period it pays for and
// when it expires, signed with HMAC-SHA256 under the database's pay-link secret
// (Store::PayLinkSecret, the same for every instance):
//
//   token = base64url(payload JSON {"org","plan","period_end","expires","kind"})
//           "." base64url(HMAC-SHA256(secret, payload JSON))
//
// The link only fixes what is paid for; the amount is the server's (sima::QuotePayment when
// the payer pays). It is used up once the subscription's end moves (a renewal was paid), and
// it expires at the later of the reminder's `until` and `ends_at`.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "sima/reminders.h"
#include "sima/time.h"

namespace sima::server {

struct PayLink {
  std::string org_id;
  std::string plan;   // what the link buys
  Time period_end{};  // the end of the period it renews: the link is used once the end moves
  Time expires{};     // from then on the link is refused (410)
  std::string kind;   // the reminder's kind ("renewal_notice", ...)
  bool operator==(const PayLink&) const = default;
};

// The link a reminder carries for `org_id`.
PayLink PayLinkFor(const std::string& org_id, const Reminder& reminder);

class PayLinks {
 public:
  // `secret`: Store::PayLinkSecret's (never logged); `public_url`: SIMA_PUBLIC_URL.
  PayLinks(std::string secret, std::string public_url);

  // The signed token of `link`.
  std::string Token(const PayLink& link) const;
  // {public_url}/pay/{token}/.
  std::string Url(const PayLink& link) const;
  // The link a token names, or nullopt when it is not one of ours: garbage, a byte changed,
  // signed with another secret (compared in constant time). Expiry is the caller's check.
  std::optional<PayLink> Read(std::string_view token) const;

  // The longest token Read looks at.
  static constexpr size_t kMaxToken = 2048;

 private:
  std::string secret_;
  std::string public_url_;
};

}  // namespace sima::server
