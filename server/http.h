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

class HttpServer;

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
};

// One request, as a handler sees it.
struct Call {
  std::vector<std::string> params;           // path parameters, in pattern order
  std::map<std::string, std::string> query;  // first value of each query parameter
  Json body = Json::object();                // always an object
  std::optional<Principal> principal;        // set for organization routes
  Time now{};

  const std::string& org_id() const { return principal->org_id; }
};

struct Reply {
  int status = 200;
  Json body;
  std::map<std::string, std::string> headers = {};
};

using HandlerFn = std::function<Expected<Reply>(const Services&, const Call&)>;

enum class Access {
  kPublic,         // no credential
  kAdmin,          // the admin token
  kOrg,            // a secret key or a session token
  kSecretKeyOnly,  // a secret key (a session token is 403)
};

struct Route {
  std::string method;   // "GET", "POST"
  std::string pattern;  // "/invoices/:id" (no trailing slash; ":x" is a parameter)
  Access access = Access::kPublic;
  HandlerFn handler;
  bool body_optional = false;  // a POST that may come without a body
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

}  // namespace sima::server
