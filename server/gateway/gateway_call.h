// The outcome of one HTTP call to a payment gateway, before any meaning is given to it.
// Gateways fail in ways that must not be confused with an answer: a timeout or a 5xx leaves
// a payment undecided, while Khalti's HTTP 400 for "Expired" is a real answer.
#pragma once

#include <algorithm>
#include <chrono>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

namespace sima::server {

enum class CallFailure {
  kNone,
  kTimeout,      // no answer within the read timeout
  kUnreachable,  // could not connect, or the connection broke
  kServerError,  // HTTP 5xx
  kMalformed,    // an answer we cannot read (not JSON, or not the documented shape)
  kRejected,     // HTTP 4xx with a body that is not a payment answer (validation, auth)
};

std::string_view to_string(CallFailure failure);

// The one result of every gateway call (an initiate, a look-up, a status check, an adapter's
// Begin or Lookup): `value` when the gateway gave a usable answer, else `failure` with a short
// `detail` safe to log and show (never a key, never the raw body). `http_status`: the HTTP
// status of the answer, 0 when there was none.
template <typename T>
struct GatewayResult {
  std::optional<T> value;
  CallFailure failure = CallFailure::kNone;
  int http_status = 0;
  std::string detail;

  bool ok() const { return value.has_value(); }
  static GatewayResult Ok(T v) { return GatewayResult{std::move(v), CallFailure::kNone, 0, {}}; }
  // The same failure for another value type (an adapter passing a client's failure on).
  template <typename U>
  static GatewayResult Failed(const GatewayResult<U>& other) {
    return GatewayResult{std::nullopt, other.failure, other.http_status, other.detail};
  }
  static GatewayResult Failed(CallFailure failure, std::string detail) {
    return GatewayResult{std::nullopt, failure, 0, std::move(detail)};
  }
  // A timeout or no connection: the request may or may not have reached the gateway.
  bool timed_out() const {
    return failure == CallFailure::kTimeout || failure == CallFailure::kUnreachable;
  }
};

// How a transport error of an HTTP call counts. cpp-httplib reports a read timeout and a
// connection reset mid-answer alike (Error::Read): either way the request may have reached the
// gateway and nothing may be concluded, so both are kTimeout; no connection is kUnreachable.
// `transport_error` is an httplib::Error.
CallFailure FailureOfTransport(int transport_error);

struct GatewayTimeouts {
  std::chrono::milliseconds connect{3000};
  std::chrono::milliseconds read{10000};
  // A gateway's setting (KHALTI_TIMEOUT_MS, ESEWA_TIMEOUT_MS): the read timeout; connecting
  // waits the smaller of it and 3 s.
  static GatewayTimeouts Reading(std::chrono::milliseconds read) {
    return GatewayTimeouts{std::min(read, std::chrono::milliseconds{3000}), read};
  }
};

// A gateway address split for an HTTP client: "https://dev.khalti.com/api/v2/" gives
// origin "https://dev.khalti.com" and path "/api/v2/". nullopt when it is not http(s).
struct GatewayUrl {
  std::string origin;
  std::string path;  // always ends with '/'
};
std::optional<GatewayUrl> SplitGatewayUrl(const std::string& url);

}  // namespace sima::server
