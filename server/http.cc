#include "http.h"

#include <httplib.h>

#include <algorithm>
#include <chrono>
#include <exception>

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
};
thread_local RequestFacts t_facts;

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

std::string_view TrimSpaces(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

void SendError(httplib::Response& res, const Error& e) {
  res.status = HttpStatus(e.kind);
  res.set_content(RenderJson(e.ToJson()), kJsonType);
  t_facts.code = std::string(CodeName(e.kind));
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
    default: break;
  }
  if (status >= 500) return Error::Internal("internal error");
  return {ErrorKind::kBadRequest, "the HTTP request could not be read"};
}

// "application/json" with no charset or charset=utf-8.
bool IsJsonContentType(const std::string& value) {
  std::string_view v = value;
  const auto semi = v.find(';');
  if (Lower(TrimSpaces(v.substr(0, semi))) != "application/json") return false;
  while (semi != std::string_view::npos && !v.empty()) {
    v.remove_prefix(v.find(';') + 1);
    const auto next = v.find(';');
    std::string param = Lower(TrimSpaces(v.substr(0, next)));
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

class Dispatcher {
 public:
  Dispatcher(const Services& services, std::vector<Route> routes)
      : s_(services), routes_(std::move(routes)) {
    for (const Route& r : routes_) patterns_.push_back(Segments(r.pattern));
    if (std::string app = OriginOf(services.config.app_url); !app.empty()) origins_.push_back(app);
    // SIMA_CORS_ORIGINS: more origins, comma-separated (a trailing path is ignored).
    std::string_view extra = services.config.cors_origins;
    while (!extra.empty()) {
      const auto comma = extra.find(',');
      std::string one(TrimSpaces(extra.substr(0, comma)));
      if (std::string origin = OriginOf(one); !origin.empty()) origins_.push_back(origin);
      if (comma == std::string_view::npos) break;
      extra.remove_prefix(comma + 1);
    }
  }

  void Handle(const httplib::Request& req, httplib::Response& res) {
    try {
      HandleOrThrow(req, res);
    } catch (const std::exception& e) {
      SendError(res, Error::Internal("internal error"));
    } catch (...) {
      SendError(res, Error::Internal("internal error"));
    }
  }

 private:
  void HandleOrThrow(const httplib::Request& req, httplib::Response& res) {
    res.set_header("Cache-Control", "no-store");
    const std::string origin = req.get_header_value("Origin");
    const bool cors =
        !origin.empty() && std::find(origins_.begin(), origins_.end(), origin) != origins_.end();
    if (cors) {
      res.set_header("Access-Control-Allow-Origin", origin);
      res.set_header("Vary", "Origin");
    }

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
    if (allow.empty()) return SendError(res, Error::NotFound("no such route"));
    if (req.method == "OPTIONS") {
      res.status = 204;
      res.set_header("Allow", allow + ", OPTIONS");
      if (cors) {
        res.set_header("Access-Control-Allow-Methods", allow + ", OPTIONS");
        res.set_header("Access-Control-Allow-Headers", "Authorization, Content-Type");
        res.set_header("Access-Control-Max-Age", "600");
      }
      return;
    }
    if (route == nullptr) {
      res.set_header("Allow", allow);
      return SendError(res, {ErrorKind::kMethodNotAllowed,
                             req.method + " is not allowed here; allowed: " + allow});
    }

    Call call;
    call.params = std::move(params);
    call.now = s_.now();
    if (auto auth = Authenticate(req, route->access); !auth) {
      return SendError(res, auth.error());
    } else if (auth->has_value()) {
      call.principal = std::move(auth).value();
      t_facts.org = call.principal->org_id;
    }
    if (req.method == "POST" || req.method == "PUT" || req.method == "PATCH") {
      if (auto body = ParseBody(req, route->body_optional); !body) {
        return SendError(res, body.error());
      } else {
        call.body = std::move(body).value();
      }
    }
    for (const auto& [k, v] : req.params) call.query.emplace(k, v);

    auto reply = route->handler(s_, call);
    if (!reply) return SendError(res, reply.error());
    res.status = reply->status;
    for (const auto& [k, v] : reply->headers) res.set_header(k, v);
    res.set_content(RenderJson(reply->body), kJsonType);
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
    if (value.size() < 7 || Lower(value.substr(0, 7)) != "bearer ") return std::nullopt;
    std::string token(TrimSpaces(std::string_view(value).substr(7)));
    if (token.empty()) return std::nullopt;
    return token;
  }

  Expected<std::optional<Principal>> Authenticate(const httplib::Request& req, Access access) {
    if (access == Access::kPublic) return std::optional<Principal>();
    const auto token = Bearer(req);
    const std::string& admin = s_.config.admin_token;
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

  static Expected<Json> ParseBody(const httplib::Request& req, bool optional) {
    if (req.body.empty()) {
      if (optional) return Json::object();
      return Error{ErrorKind::kInvalidJson, "the body must be a JSON object"};
    }
    if (!IsJsonContentType(req.get_header_value("Content-Type"))) {
      return Error{ErrorKind::kUnsupportedMediaType,
                   "the body must be sent as Content-Type: application/json"};
    }
    if (JsonDepth(req.body) > kMaxDepth) {
      return Error{ErrorKind::kInvalidJson, "the body is nested too deeply"};
    }
    Json body = Json::parse(req.body, nullptr, /*allow_exceptions=*/false);
    if (body.is_discarded()) return Error{ErrorKind::kInvalidJson, "the body is not valid JSON"};
    if (!body.is_object()) return Error{ErrorKind::kInvalidJson, "the body must be a JSON object"};
    return body;
  }

  const Services& s_;
  std::vector<Route> routes_;
  std::vector<std::vector<std::string>> patterns_;
  std::vector<std::string> origins_;  // allowed for CORS
};

std::string Truncate(const std::string& s, size_t n) { return s.size() <= n ? s : s.substr(0, n); }

}  // namespace

std::string RenderJson(const Json& body) {
  return body.dump(-1, ' ', false, Json::error_handler_t::replace);
}

void InstallRoutes(httplib::Server& server, const Services& services, std::vector<Route> routes,
                   LogSink log) {
  auto dispatcher = std::make_shared<Dispatcher>(services, std::move(routes));
  const auto handle = [dispatcher](const httplib::Request& req, httplib::Response& res) {
    dispatcher->Handle(req, res);
  };
  // Every method and path goes to the dispatcher, which knows 404 from 405.
  server.Get(".*", handle);
  server.Post(".*", handle);
  server.Put(".*", handle);
  server.Patch(".*", handle);
  server.Delete(".*", handle);
  server.Options(".*", handle);

  server.set_pre_routing_handler([](const httplib::Request&, httplib::Response&) {
    t_facts = RequestFacts{std::chrono::steady_clock::now(), true, {}, {}};
    return httplib::Server::HandlerResponse::Unhandled;
  });
  server.set_error_handler(httplib::Server::HandlerWithResponse(
      [](const httplib::Request&, httplib::Response& res) {
        if (!res.body.empty()) return httplib::Server::HandlerResponse::Unhandled;  // ours
        res.set_header("Cache-Control", "no-store");
        SendError(res, ErrorForStatus(res.status));
        return httplib::Server::HandlerResponse::Handled;
      }));
  server.set_exception_handler(
      [](const httplib::Request&, httplib::Response& res, std::exception_ptr) {
        SendError(res, Error::Internal("internal error"));
      });
  if (!log) return;
  server.set_logger([log](const httplib::Request& req, const httplib::Response& res) {
    Json line = {{"time", FormatTime(SystemNow())},
                 {"method", Truncate(req.method, 16)},
                 {"path", Truncate(req.path, 200)},
                 {"status", res.status},
                 {"remote", req.remote_addr}};
    if (t_facts.started) {
      const auto us = std::chrono::duration_cast<std::chrono::microseconds>(
                          std::chrono::steady_clock::now() - t_facts.start)
                          .count();
      line["ms"] = static_cast<double>(us) / 1000.0;
    }
    if (!t_facts.org.empty()) line["org"] = t_facts.org;
    if (!t_facts.code.empty()) line["code"] = t_facts.code;
    t_facts = RequestFacts{};
    log(RenderJson(line));
  });
}

}  // namespace sima::server
