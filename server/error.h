// The server's error vocabulary: one kind per `code` of docs/api.md, plus the storage failures
// no client input can cause. An Error renders as the one JSON error shape.
#pragma once

#include <string>
#include <string_view>
#include <utility>

#include "sima/expected.h"
#include "sima/json.h"
#include "sima/status.h"

namespace sima::server {

enum class ErrorKind {
  kInvalidJson,           // 400 invalid_json
  kValidation,            // 400 validation_error (+ "field")
  kInvalidPlan,           // 400 invalid_plan
  kUnauthorized,          // 401 unauthorized
  kForbidden,             // 403 forbidden
  kLimitReached,          // 403 limit_reached (+ the limit body)
  kNotFound,              // 404 not_found
  kMethodNotAllowed,      // 405 method_not_allowed
  kConflict,              // 409 conflict
  kPayloadTooLarge,       // 413 payload_too_large
  kUnsupportedMediaType,  // 415 unsupported_media_type
  kBadRequest,            // 400 bad_request: an HTTP message the server cannot read
  kPaymentFailed,         // 400 payment_failed: the gateway says the payment did not go through
  kGatewayError,          // 502 gateway_error: the gateway answered with an error we cannot act on
  kGatewayTimeout,        // 504 gateway_timeout: the gateway did not answer; nothing was decided
  kInternal,              // 500 internal_error: a storage failure, never caused by input
  kUnavailable,           // 503 unavailable: the store is busy or shutting down; an I/O failure
                          // (a file, a port, the mail server) that trying later may fix
  kRateLimited,           // 429 rate_limited (+ "retry_after" seconds; Retry-After header)
  kRequestTimeout,        // 408 request_timeout: the request did not arrive in time
  kHeaderTooLarge,        // 431 header_too_large: the request head is over SIMA_MAX_HEADER_BYTES
  kTooManyStreams,        // 503 too_many_streams: SIMA_MAX_STREAMS(_PER_ORG) reached (Retry-After)
};

int HttpStatus(ErrorKind kind);
std::string_view CodeName(ErrorKind kind);

struct Error {
  ErrorKind kind = ErrorKind::kInternal;
  std::string message;
  // Extra fields merged into the body ("field", the limit body's "feature"/"upgrade"...).
  Json extra = Json::object();

  static Error Validation(std::string field, std::string message);
  static Error NotFound(std::string message) { return {ErrorKind::kNotFound, std::move(message)}; }
  static Error Conflict(std::string message) { return {ErrorKind::kConflict, std::move(message)}; }
  static Error Internal(std::string message) { return {ErrorKind::kInternal, std::move(message)}; }
  // An I/O failure: a file, a port, the database or the mail server cannot be used now.
  static Error Unavailable(std::string message) {
    return {ErrorKind::kUnavailable, std::move(message)};
  }
  // The 403 limit_reached of a refused decision (sima::LimitReachedBody).
  static Error LimitReached(const Decision& decision);
  // Maps a core status (validation_error, invalid_plan, conflict...) to its error.
  static Error FromStatus(const Status& status);

  // {"error": message, "code": ..., ...extra}.
  Json ToJson() const;
  // "<code>: <message>", e.g. "unavailable: cannot open \"/var/log/sima.log\"".
  std::string ToString() const;
};

// A value or the Error that explains why there is none (the server's Result<T>, over the one
// template of sima/expected.h).
template <typename T>
using Expected = sima::Expected<T, Error>;

// For calls that return nothing but may fail.
struct Done {};
using ExpectedDone = Expected<Done>;

}  // namespace sima::server
