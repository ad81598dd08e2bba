// The HTTP layer: routing (trailing-slash equivalence, 404 vs 405), authentication, body
// checks (415, 413, invalid_json), the one JSON error shape, and the access log. Handlers
// get a parsed, authenticated Call and return a Reply or an Error; they never see HTTP.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "auth.h"
#include "clock.h"
#include "config.h"
#include "error.h"
#include "gateway_adapters.h"
#include "sima/catalog.h"
#include "store.h"

namespace sima::server {

class ChangeFeed;
class DemoClock;
class HttpServer;
class StreamHub;
class PayLinks;

// What handlers work with. Outlives every request.
struct Services {
  Store& store;
  const Catalog& catalog;
  const Config& config;
  Authenticator& auth;
  NowFn now;
  // The payment gateways' adapters (gateway_adapters.h); a missing one is a gateway that is off.
  PaymentGateways gateways;
  // The payment timing policy (sima/payment_timing.h, settings filled in).
  PaymentTiming timing;
  // Signs and checks pay links (pay_link.h).
  const PayLinks* pay_links = nullptr;
  // SIMA_DEMO_CLOCK=1: the clock POST /demo/clock/ moves; nullptr otherwise.
  DemoClock* demo_clock = nullptr;
  // Runs a scheduler pass now (after the demo clock moved); may be empty.
  std::function<void()> run_scheduler = nullptr;
  // Live usage (events.h): told after every request that may have changed an organization;
  // nullptr when SIMA_EVENTS=off.
  ChangeFeed* changes = nullptr;
  // The embedded event streams (stream_hub.h); nullptr unless SIMA_EVENTS=embedded.
  StreamHub* streams = nullptr;
  // Looks at the webhook outbox now instead of at the end of its interval (a re-send was
  // asked); may be empty.
  std::function<void()> poke_webhooks = nullptr;
  // Khalti's refund API (gateway/khalti_refund.h); nullptr when Khalti is not configured.
  const class KhaltiRefunds* khalti_refunds = nullptr;
};

// One request, as a handler sees it.
struct Call {
  std::vector<std::string> params;           // path parameters, in pattern order
  std::map<std::string, std::string> query;  // first value of each query parameter
  Json body = Json::object();                // always an object
  std::optional<Principal> principal;        // set for organization routes
  std::string last_event_id;                 // the Last-Event-ID header (the events stream)
  std::string idempotency_key;               // the Idempotency-Key header ("" when absent)
  Time now{};

  const std::string& org_id() const { return principal->org_id; }
};

struct Reply {
  int status = 200;
  Json body;
  std::map<std::string, std::string> headers = {};
  // Set: the answer is this HTML page instead of `body` (pay links).
  std::optional<std::string> html = std::nullopt;
  // The connection became a stream (TakeOverConnection, connection.h): `headers` go out with
  // the status and no body; the stream's bytes follow.
  bool stream = false;
};

using HandlerFn = std::function<Expected<Reply>(const Services&, const Call&)>;

enum class Access {
  kPublic,         // no credential
  kAdmin,          // the admin token
  kOrg,            // a secret key or a session token
  kSecretKeyOnly,  // a secret key (a session token is 403)
  // The admin token from a loopback peer, not through a proxy (the demo clock). Anything else
  // is 404, as if the route did not exist.
  kLocalAdmin,
  // A secret key or a session token on a route that reads nothing the API counts and changes
  // nothing (the events routes): no API call, no change announced to the live feed.
  kOrgEvents,
};

struct Route {
  std::string method;   // "GET", "POST"
  std::string pattern;  // "/invoices/:id" (no trailing slash; ":x" is a parameter)
  Access access = Access::kPublic;
  HandlerFn handler;
  bool body_optional = false;  // a POST that may come without a body
  // A page for people (pay links): the body is an HTML form
  // (application/x-www-form-urlencoded, read into Call::body as strings), and errors are HTML
  // pages too, never JSON.
  bool page = false;
};

// One line of the access log (JSON, without a newline). Never contains credentials.
using LogSink = std::function<void(std::string_view line)>;

// Installs `routes` on `server` with the JSON error shape for everything httplib or the
// connection layer refuses (bad head, 408, 413, 431). Every answer carries X-Request-Id and,
// for an allowed Origin, CORS headers. `services` must outlive `server`.
void InstallRoutes(HttpServer& server, const Services& services, std::vector<Route> routes,
                   LogSink log);

// The JSON text of a body as sent (invalid UTF-8 from paths is replaced, never thrown on).
std::string RenderJson(const Json& body);

// `path` as the access log writes it: a pay link's token is a credential for one payment, so
// "/pay/<token>/" is written "/pay/…/".
std::string LoggedPath(std::string_view path);

// A small HTML page: `title` and `body_html` (already escaped with sima::HtmlEscape) in the
// pages' common frame.
std::string HtmlPage(std::string_view title, std::string_view body_html);

}  // namespace sima::server
