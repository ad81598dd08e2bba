// The outcome of one HTTP call to a payment gateway, before any meaning is given to it.
// Gateways fail in ways that must not be confused with an answer: a timeout or a 5xx leaves
// a payment undecided, while Khalti's HTTP 400 for "Expired" is a real answer.
#pragma once

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

// How a transport error of an HTTP call counts. cpp-httplib reports a read timeout and a
// connection reset mid-answer alike (Error::Read): either way the request may have reached the
// gateway and nothing may be concluded, so both are kTimeout; no connection is kUnreachable.
// `transport_error` is an httplib::Error.
CallFailure FailureOfTransport(int transport_error);

struct GatewayTimeouts {
  std::chrono::milliseconds connect{3000};
  std::chrono::milliseconds read{10000};
};

// A gateway address split for an HTTP client: "https://dev.khalti.com/api/v2/" gives
// origin "https://dev.khalti.com" and path "/api/v2/". nullopt when it is not http(s).
struct GatewayUrl {
  std::string origin;
  std::string path;  // always ends with '/'
};
std::optional<GatewayUrl> SplitGatewayUrl(const std::string& url);

}  // namespace sima::server
