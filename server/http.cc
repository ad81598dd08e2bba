#include "http.h"

#include <httplib.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <exception>
#include <random>

#include "connection.h"
#include "events.h"
#include "sima/text.h"
#include "validate.h"

namespace sima::server {
namespace {

constexpr const char* kJsonType = "application/json; charset=utf-8";
constexpr size_t kMaxDepth = 32;

// Per-request facts for the access log. httplib serves a connection on one thread from the
// request line to the logger call, so a thread_local is enough.
struct RequestFacts {
  std::chrono::steady_clock::time_point start{};
  bool started = false;
  std::string org;
  std::string code;
  std::string request_id;
  std::string client;  // the client's address (X-Real-IP / X-Forwarded-For from a trusted proxy)
  std::string detail;  // what went wrong inside, for the log only
  bool page = false;   // the route answers HTML pages (errors too)
};
thread_local RequestFacts t_facts;

// "req_" and 16 hex digits: names one request in the answer and in the log.
std::string NewRequestId() {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  char text[24];
  std::snprintf(text, sizeof(text), "req_%016llx", static_cast<unsigned long long>(rng()));
  return text;
}

// The request a handler is about to serve: decided before its body is read.
struct Prepared {
  const Route* route = nullptr;
  std::vector<std::string> params;
  std::optional<Principal> principal;
};
thread_local std::optional<Prepared> t_prepared;

// The JSON error answer. A 500 says only "internal error" and the request id: what went wrong
// (SQL, file names, library messages) goes to the access log line with that id.
void SendError(httplib::Response& res, const Error& e) {
  res.status = HttpStatus(e.kind);
  t_facts.code = std::string(CodeName(e.kind));
  // 429 rate_limited (and any error saying when to come back) carries Retry-After.
  if (const auto it = e.extra.find("retry_after");
      e.extra.is_object() && it != e.extra.end() && it->is_number_integer()) {
    res.set_header("Retry-After", std::to_string(it->get<int64_t>()));
  }
  if (t_facts.request_id.empty()) t_facts.request_id = NewRequestId();
  if (t_facts.page) {
    // A person reads this: a page, never JSON or a trace (a 500 names only the request id).
    if (res.status == 500) t_facts.detail = e.message;
    const std::string text = res.status == 500 ? "Something went wrong on our side (request " +
                                                     t_facts.request_id + "). Please try again."
                                               : e.message;
    res.set_content(HtmlPage("Payment", "<p>" + HtmlEscape(text) + "</p>"),
                    "text/html; charset=utf-8");
    return;
  }
  if (res.status == 500) {
    t_facts.detail = e.message;
    const Json body = {{"error", "internal error"},
                       {"code", CodeName(e.kind)},
                       {"request_id", t_facts.request_id}};
    res.set_content(RenderJson(body), kJsonType);
    return;
  }
  res.set_content(RenderJson(e.ToJson()), kJsonType);
}

// The error for a status httplib decided on its own.
Error ErrorForStatus(int status) {
  switch (status) {
    case 413:
      return {ErrorKind::kPayloadTooLarge, "the request body is larger than this server accepts"};
    case 414: return {ErrorKind::kBadRequest, "the request URI is too long"};
    case 404: return Error::NotFound("no such route");
    case 405: return {ErrorKind::kMethodNotAllowed, "method not allowed"};
    case 415: return {ErrorKind::kUnsupportedMediaType, "unsupported media type"};
    case 408: return {ErrorKind::kRequestTimeout, "the request did not arrive in time"};
    case 431: return {ErrorKind::kHeaderTooLarge, "the request head is too large"};
    default: break;
  }
  if (status >= 500) return Error::Internal("internal error");
  return {ErrorKind::kBadRequest, "the HTTP request could not be read"};
}

// "application/json" with no charset or charset=utf-8.
bool IsJsonContentType(const std::string& value) {
  std::string_view v = value;
  const auto semi = v.find(';');
  if (AsciiLower(Trim(v.substr(0, semi))) != "application/json") return false;
  while (semi != std::string_view::npos && !v.empty()) {
    v.remove_prefix(v.find(';') + 1);
    const auto next = v.find(';');
    std::string param = AsciiLower(Trim(v.substr(0, next)));
    if (param.rfind("charset=", 0) == 0) {
      std::string cs = param.substr(8);
      if (cs.size() >= 2 && cs.front() == '"' && cs.back() == '"') cs = cs.substr(1, cs.size() - 2);
      if (cs != "utf-8" && cs != "utf8") return false;
    }
    if (next == std::string_view::npos) break;
  }
  return true;
}

std::vector<std::string> Segments(std::string_view path) {
  std::vector<std::string> out;
  if (path.size() > 1 && path.back() == '/') path.remove_suffix(1);  // "/x/" answers as "/x"
  size_t i = 0;
  while (i < path.size()) {
    if (path[i] != '/') return {"\x01"};  // not an absolute path: matches nothing
    const auto next = path.find('/', i + 1);
    out.emplace_back(path.substr(i + 1, next == std::string_view::npos ? next : next - i - 1));
    if (next == std::string_view::npos) break;
    i = next;
  }
  return out;
}

// The origin ("scheme://host[:port]") of a URL.
std::string OriginOf(const std::string& url) {
  const auto scheme = url.find("://");
  if (scheme == std::string::npos) return {};
  const auto path = url.find('/', scheme + 3);
  return url.substr(0, path);
}

// One address as written in X-Forwarded-For / X-Real-IP ("[v6]:port" and "v4:port" lose the port).
std::string BareAddress(std::string_view v) {
  v = Trim(v);
  if (!v.empty() && v.front() == '[') {
    const auto close = v.find(']');
    return std::string(v.substr(1, close == std::string_view::npos ? close : close - 1));
  }
  if (std::count(v.begin(), v.end(), ':') == 1) v = v.substr(0, v.find(':'));
  return std::string(v);
}

bool BodyMethod(const std::string& method) {
  return method == "POST" || method == "PUT" || method == "PATCH" || method == "DELETE";
}

class Dispatcher {
 public:
  Dispatcher(const Services& services, std::vector<Route> routes)
      : s_(services), routes_(std::move(routes)) {
    for (const Route& r : routes_) patterns_.push_back(Segments(r.pattern));
    if (std::string app = OriginOf(services.config.app_url); !app.empty()) origins_.push_back(app);
    // SIMA_CORS_ORIGINS: more origins, comma-separated (a trailing path is ignored).
    for (const std::string& one : SplitList(services.config.cors_origins)) {
      if (std::string origin = OriginOf(one); !origin.empty()) origins_.push_back(origin);
    }
    for (const std::string& one : SplitList(services.config.trusted_proxies)) {
      trusted_.push_back(BareAddress(one));
    }
  }

  // Pre-routing: everything decided from the head alone, before any body byte is read.
  // Answers bodyless requests at once; a request with a body goes on to WithBody.
  httplib::Server::HandlerResponse Prepare(const httplib::Request& req, httplib::Response& res) {
    Begin(req);
    try {
      if (!Decide(req, res)) {
        if (BodyMethod(req.method)) return httplib::Server::HandlerResponse::Unhandled;
        Run(req, res, Json::object());
      }
    } catch (const std::exception& e) {
      SendError(res, Error::Internal(std::string("exception: ") + e.what()));
    } catch (...) {
      SendError(res, Error::Internal("exception"));
    }
    t_prepared.reset();
    return httplib::Server::HandlerResponse::Handled;
  }

  // Expect: 100-continue: the refusal comes instead of "100 Continue" when there is one.
  int Expect(const httplib::Request& req, httplib::Response& res) {
    Begin(req);
    try {
      if (Decide(req, res)) return res.status;
    } catch (...) {
      SendError(res, Error::Internal("exception"));
      return 500;
    }
    t_prepared.reset();
    return 100;
  }

  // The body of an accepted POST/PUT/PATCH/DELETE, read within SIMA_MAX_BODY, then the handler.
  void WithBody(const httplib::Request& req, httplib::Response& res) {
    try {
      if (!t_prepared) return SendError(res, Error::Internal("a body request was not prepared"));
      std::string body;
      switch (ReadRequestBody(static_cast<size_t>(s_.config.max_body_bytes), body)) {
        case BodyRead::kOk: break;
        case BodyRead::kTooLarge: return SendError(res, ErrorForStatus(413));
        case BodyRead::kTimedOut: return SendError(res, ErrorForStatus(408));
        case BodyRead::kMalformed:
          return SendError(res,
                           {ErrorKind::kBadRequest, "the request body is not framed correctly"});
      }
      auto parsed = t_prepared->route->page ? Expected<Json>(FormBody(body))
                                            : ParseBody(body, t_prepared->route->body_optional);
      if (!parsed) return SendError(res, parsed.error());
      Run(req, res, std::move(parsed).value());
    } catch (const std::exception& e) {
      SendError(res, Error::Internal(std::string("exception: ") + e.what()));
    } catch (...) {
      SendError(res, Error::Internal("exception"));
    }
    t_prepared.reset();
  }

  // Post-routing, on every answer httplib writes: request id, CORS, and Connection: close
  // when the connection will not serve another request.
  void Finish(const httplib::Request& req, httplib::Response& res) const {
    if (t_facts.request_id.empty()) t_facts.request_id = NewRequestId();
    res.set_header("X-Request-Id", t_facts.request_id);
    if (!res.has_header("Cache-Control")) res.set_header("Cache-Control", "no-store");
    AddCors(req.get_header_value("Origin"), res);
    if (ClosingAfterAnswer()) {
      res.headers.erase("Keep-Alive");
      res.set_header("Connection", "close");
    }
  }

  // The answer to a request the connection layer refused before httplib read it.
  void Refused(const Refusal& r, httplib::Response& res) const {
    t_facts = RequestFacts{std::chrono::steady_clock::now(),      false, {},   {}, NewRequestId(),
                           ClientOf(r.peer, {}, r.forwarded_for), {},    false};
    Error e = ErrorForStatus(r.status);
    e.message = r.message;
    SendError(res, e);
    res.set_header("X-Request-Id", t_facts.request_id);
    res.set_header("Cache-Control", "no-store");
    AddCors(r.origin, res);
  }

  // The client's address: the peer, or what a trusted proxy says the peer was.
  std::string ClientOf(const std::string& peer, const std::string& real_ip,
                       const std::string& forwarded_for) const {
    if (trusted_.empty() || std::find(trusted_.begin(), trusted_.end(), peer) == trusted_.end()) {
      return peer;
    }
    if (!real_ip.empty() && real_ip.find(',') == std::string::npos) return BareAddress(real_ip);
    // X-Forwarded-For: the last entry no trusted proxy added.
    std::vector<std::string> hops = SplitList(forwarded_for);
    for (auto it = hops.rbegin(); it != hops.rend(); ++it) {
      std::string hop = BareAddress(*it);
      if (std::find(trusted_.begin(), trusted_.end(), hop) == trusted_.end()) return hop;
    }
    return peer;
  }

 private:
  void Begin(const httplib::Request& req) {
    t_facts = RequestFacts{std::chrono::steady_clock::now(),
                           true,
                           {},
                           {},
                           RequestIdOf(req),
                           ClientOf(req.remote_addr, req.get_header_value("X-Real-IP"),
                                    req.get_header_value("X-Forwarded-For")),
                           {},
                           false};
    t_prepared.reset();
  }

  // The X-Request-Id a trusted proxy sent (1..64 of [A-Za-z0-9_-]), so its log and ours name a
  // request alike; otherwise a new one. Nobody else chooses the id that lands in our log.
  std::string RequestIdOf(const httplib::Request& req) const {
    if (std::find(trusted_.begin(), trusted_.end(), req.remote_addr) == trusted_.end() ||
        req.get_header_value_count("X-Request-Id") != 1) {
      return NewRequestId();
    }
    const std::string given = req.get_header_value("X-Request-Id");
    const bool sane = !given.empty() && given.size() <= 64 &&
                      std::all_of(given.begin(), given.end(),
                                  [](char c) { return IsAsciiAlnum(c) || c == '_' || c == '-'; });
    return sane ? given : NewRequestId();
  }

  static std::vector<std::string> SplitList(std::string_view list) {
    std::vector<std::string> out;
    while (!list.empty()) {
      const auto comma = list.find(',');
      std::string one(Trim(list.substr(0, comma)));
      if (!one.empty()) out.push_back(std::move(one));
      if (comma == std::string_view::npos) break;
      list.remove_prefix(comma + 1);
    }
    return out;
  }

  void AddCors(const std::string& origin, httplib::Response& res) const {
    if (origin.empty() || std::find(origins_.begin(), origins_.end(), origin) == origins_.end()) {
      return;
    }
    res.set_header("Access-Control-Allow-Origin", origin);
    res.set_header("Access-Control-Expose-Headers", "Retry-After, X-Request-Id");
    res.set_header("Vary", "Origin");
  }

  // Route, credential, content type, encoding and declared size. True: `res` holds the
  // answer. False: the request is accepted (t_prepared holds its route and principal).
  bool Decide(const httplib::Request& req, httplib::Response& res) {
    res.set_header("Cache-Control", "no-store");
    const std::vector<std::string> segs = Segments(req.path);
    const Route* route = nullptr;
    std::vector<std::string> params;
    std::string allow;
    for (size_t i = 0; i < routes_.size(); ++i) {
      std::vector<std::string> p;
      if (!Match(patterns_[i], segs, p)) continue;
      const std::string& m = routes_[i].method;
      if (allow.find(m) == std::string::npos) allow += (allow.empty() ? "" : ", ") + m;
      if (route == nullptr && (m == req.method || (req.method == "HEAD" && m == "GET"))) {
        route = &routes_[i];
        params = std::move(p);
      }
    }
    if (allow.empty()) {
      SendError(res, Error::NotFound("no such route"));
      return true;
    }
    if (route != nullptr) t_facts.page = route->page;
    if (req.method == "OPTIONS") {
      res.status = 204;
      res.set_header("Allow", allow + ", OPTIONS");
      const std::string origin = req.get_header_value("Origin");
      if (std::find(origins_.begin(), origins_.end(), origin) != origins_.end()) {
        res.set_header("Access-Control-Allow-Methods", allow + ", OPTIONS");
        // Last-Event-ID: the browser's fetch of GET /events/ resumes with it.
        res.set_header("Access-Control-Allow-Headers",
                       "Authorization, Content-Type, Last-Event-ID");
        res.set_header("Access-Control-Max-Age", "600");
      }
      return true;
    }
    if (route == nullptr) {
      res.set_header("Allow", allow);
      SendError(res, {ErrorKind::kMethodNotAllowed,
                      req.method + " is not allowed here; allowed: " + allow});
      return true;
    }
    auto auth = Authenticate(req, route->access);
    if (!auth) {
      SendError(res, auth.error());
      return true;
    }
    if (auth->has_value()) t_facts.org = (*auth)->org_id;
    if (BodyMethod(req.method)) {
      if (Error e; !BodyAcceptable(req, route->page, e)) {
        SendError(res, e);
        return true;
      }
    }
    t_prepared = Prepared{route, std::move(params), *auth};
    return false;
  }

  bool BodyAcceptable(const httplib::Request& req, bool form, Error& e) const {
    const HeadCheck* framing = CurrentFraming();
    const bool has_body = framing != nullptr ? framing->has_body() : !req.body.empty();
    if (req.has_header("Content-Encoding")) {
      for (size_t i = 0; i < req.get_header_value_count("Content-Encoding"); ++i) {
        if (AsciiLower(Trim(req.get_header_value("Content-Encoding", i))) != "identity") {
          e = {ErrorKind::kUnsupportedMediaType,
               "request bodies cannot be compressed: send them without Content-Encoding"};
          return false;
        }
      }
    }
    if (form) {
      if (req.get_header_value_count("Content-Type") != 1 ||
          AsciiLower(Trim(std::string_view(req.get_header_value("Content-Type"))
                              .substr(0, req.get_header_value("Content-Type").find(';')))) !=
              "application/x-www-form-urlencoded") {
        e = {ErrorKind::kUnsupportedMediaType, "this page takes a form"};
        return false;
      }
    } else if ((has_body || req.has_header("Content-Type")) &&
               (req.get_header_value_count("Content-Type") != 1 ||
                !IsJsonContentType(req.get_header_value("Content-Type")))) {
      e = {ErrorKind::kUnsupportedMediaType,
           "the body must be sent as Content-Type: application/json"};
      return false;
    }
    if (framing != nullptr && !framing->chunked &&
        framing->content_length > static_cast<uint64_t>(s_.config.max_body_bytes)) {
      e = ErrorForStatus(413);
      return false;
    }
    return true;
  }

  void Run(const httplib::Request& req, httplib::Response& res, Json body) {
    Call call;
    call.params = std::move(t_prepared->params);
    call.principal = std::move(t_prepared->principal);
    call.now = s_.now();
    call.body = std::move(body);
    for (const auto& [k, v] : req.params) call.query.emplace(k, v);
    if (req.get_header_value_count("Last-Event-ID") == 1) {
      call.last_event_id = req.get_header_value("Last-Event-ID");
    }
    if (req.get_header_value_count("Idempotency-Key") == 1) {
      call.idempotency_key = req.get_header_value("Idempotency-Key");
    }
    auto reply = t_prepared->route->handler(s_, call);
    Changed(*t_prepared->route, call);
    // A write may have put webhook events in the outbox: the sender looks now rather than at
    // the end of its interval (SIMA_WEBHOOK_INTERVAL_MS).
    if (reply && req.method != "GET" && s_.poke_webhooks) s_.poke_webhooks();
    if (!reply) return SendError(res, reply.error());
    res.status = reply->status;
    for (const auto& [k, v] : reply->headers) res.set_header(k, v);
    if (reply->html) {
      res.set_content(*reply->html, "text/html; charset=utf-8");
    } else if (reply->status != 204 && !reply->stream) {
      res.set_content(RenderJson(reply->body), kJsonType);
    }
  }

  // Every organization call counts an API call, and an admin call on /admin/orgs/{org_id}/...
  // may change its limits: the organization's open browsers learn of it (events.h). A refusal
  // changed nothing but that count, which they show too.
  void Changed(const Route& route, const Call& call) const {
    if (s_.changes == nullptr || route.access == Access::kOrgEvents) return;
    if (call.principal) {
      s_.changes->Changed(call.org_id());
    } else if (route.access == Access::kAdmin &&
               route.pattern.rfind("/admin/orgs/:org_id", 0) == 0 && !call.params.empty()) {
      s_.changes->Changed(call.params[0]);
    }
  }

  static bool Match(const std::vector<std::string>& pattern, const std::vector<std::string>& segs,
                    std::vector<std::string>& params) {
    if (pattern.size() != segs.size()) return false;
    for (size_t i = 0; i < pattern.size(); ++i) {
      if (!pattern[i].empty() && pattern[i][0] == ':') {
        if (segs[i].empty()) return false;
        params.push_back(segs[i]);
      } else if (pattern[i] != segs[i]) {
        return false;
      }
    }
    return true;
  }

  // The bearer token, or nullopt when there is no usable Authorization header.
  static std::optional<std::string> Bearer(const httplib::Request& req) {
    if (req.get_header_value_count("Authorization") != 1) return std::nullopt;
    const std::string value = req.get_header_value("Authorization");
    if (value.size() < 7 || AsciiLower(value.substr(0, 7)) != "bearer ") return std::nullopt;
    std::string token(Trim(std::string_view(value).substr(7)));
    if (token.empty()) return std::nullopt;
    return token;
  }

  Expected<std::optional<Principal>> Authenticate(const httplib::Request& req, Access access) {
    if (access == Access::kPublic) return std::optional<Principal>();
    const auto token = Bearer(req);
    const std::string& admin = s_.config.admin_token;
    if (access == Access::kLocalAdmin) {
      // Only the admin on this machine, never through a proxy: anyone else sees no route.
      const bool local = IsLoopback(req.remote_addr) && !req.has_header("X-Forwarded-For") &&
                         !req.has_header("X-Real-IP") && !req.has_header("Forwarded");
      if (local && !admin.empty() && token && ConstantTimeEquals(*token, admin)) {
        return std::optional<Principal>();
      }
      return Error::NotFound("no such route");
    }
    if (access == Access::kAdmin) {
      if (admin.empty()) {
        return Error{ErrorKind::kForbidden, "the admin API is off (SIMA_ADMIN_TOKEN is not set)"};
      }
      if (!token) return Error{ErrorKind::kUnauthorized, "missing or malformed credential"};
      if (ConstantTimeEquals(*token, admin)) return std::optional<Principal>();
      if (s_.auth.Authenticate(*token)) {
        return Error{ErrorKind::kForbidden, "an organization credential cannot use the admin API"};
      }
      return Error{ErrorKind::kUnauthorized, "invalid admin token"};
    }
    if (!token) return Error{ErrorKind::kUnauthorized, "missing or malformed credential"};
    if (!admin.empty() && ConstantTimeEquals(*token, admin)) {
      return Error{ErrorKind::kForbidden, "the admin token cannot act for an organization"};
    }
    auto principal = s_.auth.Authenticate(*token);
    if (!principal) return principal.error();
    if (access == Access::kSecretKeyOnly && principal->via_session) {
      return Error{ErrorKind::kForbidden, "this call needs the organization's secret key"};
    }
    return std::optional<Principal>(std::move(principal).value());
  }

  static bool IsLoopback(const std::string& address) {
    return address.rfind("127.", 0) == 0 || address == "::1" ||
           address.rfind("::ffff:127.", 0) == 0;
  }

  // An HTML form's fields as strings (the first of each name).
  static Json FormBody(const std::string& text) {
    Json body = Json::object();
    for (const auto& [name, value] : ParseQuery(text)) {
      if (!body.contains(name)) body[name] = value;
    }
    return body;
  }

  static Expected<Json> ParseBody(const std::string& text, bool optional) {
    if (text.empty()) {
      if (optional) return Json::object();
      return Error{ErrorKind::kInvalidJson, "the body must be a JSON object"};
    }
    if (JsonDepth(text) > kMaxDepth) {
      return Error{ErrorKind::kInvalidJson, "the body is nested too deeply"};
    }
    Json body = Json::parse(text, nullptr, /*allow_exceptions=*/false);
    if (body.is_discarded()) return Error{ErrorKind::kInvalidJson, "the body is not valid JSON"};
    if (!body.is_object()) return Error{ErrorKind::kInvalidJson, "the body must be a JSON object"};
    return body;
  }

  const Services& s_;
  std::vector<Route> routes_;
  std::vector<std::vector<std::string>> patterns_;
  std::vector<std::string> origins_;  // allowed for CORS
  std::vector<std::string> trusted_;  // SIMA_TRUSTED_PROXIES
};

std::string Truncate(const std::string& s, size_t n) { return s.size() <= n ? s : s.substr(0, n); }

}  // namespace

std::string RenderJson(const Json& body) {
  return body.dump(-1, ' ', false, Json::error_handler_t::replace);
}

std::string LoggedPath(std::string_view path) {
  if (path.rfind("/pay/", 0) != 0 || path.size() == 5) return std::string(path);
  return "/pay/\u2026/";
}

std::string HtmlPage(std::string_view title, std::string_view body_html) {
  return "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
         "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
         "<meta name=\"robots\" content=\"noindex\"><title>" +
         HtmlEscape(title) +
         "</title><style>body{font-family:system-ui,sans-serif;max-width:32rem;margin:2rem "
         "auto;padding:0 1rem;line-height:1.5}button{font-size:1.1rem;padding:.6rem "
         "1.2rem;margin:.3rem .3rem .3rem 0}table{border-collapse:collapse}td{padding:.2rem "
         ".6rem .2rem 0}</style></head><body><h1>" +
         HtmlEscape(title) + "</h1>\n" + std::string(body_html) + "\n</body></html>\n";
}

void InstallRoutes(HttpServer& server, const Services& services, std::vector<Route> routes,
                   LogSink log) {
  auto d = std::make_shared<Dispatcher>(services, std::move(routes));
  // Everything is decided in the pre-routing handler before a body is read; requests with a
  // body come back to a content-reader handler that reads it within SIMA_MAX_BODY.
  const auto with_body = [d](const httplib::Request& req, httplib::Response& res,
                             const httplib::ContentReader&) { d->WithBody(req, res); };
  server.Post(".*", with_body);
  server.Put(".*", with_body);
  server.Patch(".*", with_body);
  server.Delete(".*", with_body);
  server.set_pre_routing_handler(
      [d](const httplib::Request& req, httplib::Response& res) { return d->Prepare(req, res); });
  server.set_expect_100_continue_handler(
      [d](const httplib::Request& req, httplib::Response& res) { return d->Expect(req, res); });
  server.set_post_routing_handler(
      [d](const httplib::Request& req, httplib::Response& res) { d->Finish(req, res); });
  server.set_error_handler(
      httplib::Server::HandlerWithResponse([](const httplib::Request&, httplib::Response& res) {
        if (!res.body.empty()) return httplib::Server::HandlerResponse::Unhandled;  // ours
        res.set_header("Cache-Control", "no-store");
        SendError(res, ErrorForStatus(res.status));
        return httplib::Server::HandlerResponse::Handled;
      }));
  server.set_exception_handler(
      [](const httplib::Request&, httplib::Response& res, std::exception_ptr) {
        SendError(res, Error::Internal("exception"));
      });
  const auto line_of = [](std::string_view method, std::string_view path, int status) {
    Json line = {{"time", FormatTime(SystemNow())},
                 {"method", Truncate(std::string(method), 16)},
                 {"path", Truncate(LoggedPath(path), 200)},
                 {"status", status},
                 {"remote", t_facts.client},
                 {"request_id", t_facts.request_id}};
    if (t_facts.started) {
      const auto us = std::chrono::duration_cast<std::chrono::microseconds>(
                          std::chrono::steady_clock::now() - t_facts.start)
                          .count();
      line["ms"] = static_cast<double>(us) / 1000.0;
    }
    if (!t_facts.org.empty()) line["org"] = t_facts.org;
    if (!t_facts.code.empty()) line["code"] = t_facts.code;
    if (!t_facts.detail.empty()) line["error_detail"] = Truncate(t_facts.detail, 2000);
    t_facts = RequestFacts{};
    return RenderJson(line);
  };
  server.set_refusal_renderer([d, log, line_of](const Refusal& r, httplib::Response& res) {
    d->Refused(r, res);
    if (log) log(line_of(r.method, r.target, res.status));
  });
  server.set_logger([log, line_of, d](const httplib::Request& req, const httplib::Response& res) {
    if (t_facts.client.empty()) t_facts.client = req.remote_addr;
    const std::string line = line_of(req.method, req.path, res.status);
    if (log) log(line);
  });
}

}  // namespace sima::server
