#include "error.h"

namespace sima::server {

int HttpStatus(ErrorKind kind) {
  switch (kind) {
    case ErrorKind::kInvalidJson:
    case ErrorKind::kValidation:
    case ErrorKind::kInvalidPlan:
    case ErrorKind::kBadRequest:
    case ErrorKind::kPaymentFailed: return 400;
    case ErrorKind::kGatewayError: return 502;
    case ErrorKind::kGatewayTimeout: return 504;
    case ErrorKind::kUnauthorized: return 401;
    case ErrorKind::kForbidden:
    case ErrorKind::kLimitReached: return 403;
    case ErrorKind::kNotFound: return 404;
    case ErrorKind::kMethodNotAllowed: return 405;
    case ErrorKind::kConflict: return 409;
    case ErrorKind::kPayloadTooLarge: return 413;
    case ErrorKind::kUnsupportedMediaType: return 415;
    case ErrorKind::kInternal: return 500;
    case ErrorKind::kUnavailable:
    case ErrorKind::kTooManyStreams: return 503;
    case ErrorKind::kRateLimited: return 429;
    case ErrorKind::kRequestTimeout: return 408;
    case ErrorKind::kHeaderTooLarge: return 431;
  }
  return 500;
}

std::string_view CodeName(ErrorKind kind) {
  switch (kind) {
    case ErrorKind::kInvalidJson: return "invalid_json";
    case ErrorKind::kValidation: return "validation_error";
    case ErrorKind::kInvalidPlan: return "invalid_plan";
    case ErrorKind::kUnauthorized: return "unauthorized";
    case ErrorKind::kForbidden: return "forbidden";
    case ErrorKind::kLimitReached: return "limit_reached";
    case ErrorKind::kNotFound: return "not_found";
    case ErrorKind::kMethodNotAllowed: return "method_not_allowed";
    case ErrorKind::kConflict: return "conflict";
    case ErrorKind::kPayloadTooLarge: return "payload_too_large";
    case ErrorKind::kUnsupportedMediaType: return "unsupported_media_type";
    case ErrorKind::kBadRequest: return "bad_request";
    case ErrorKind::kPaymentFailed: return "payment_failed";
    case ErrorKind::kGatewayError: return "gateway_error";
    case ErrorKind::kGatewayTimeout: return "gateway_timeout";
    case ErrorKind::kInternal: return "internal_error";
    case ErrorKind::kUnavailable: return "unavailable";
    case ErrorKind::kRateLimited: return "rate_limited";
    case ErrorKind::kRequestTimeout: return "request_timeout";
    case ErrorKind::kHeaderTooLarge: return "header_too_large";
    case ErrorKind::kTooManyStreams: return "too_many_streams";
  }
  return "internal_error";
}

Error Error::Validation(std::string field, std::string message) {
  Error e{ErrorKind::kValidation, std::move(message)};
  e.extra["field"] = std::move(field);
  return e;
}

Error Error::LimitReached(const Decision& decision) {
  Json body = LimitReachedBody(decision);
  Error e{ErrorKind::kLimitReached, body.value("error", "Limit reached")};
  body.erase("error");
  body.erase("code");
  e.extra = std::move(body);
  return e;
}

Error Error::FromStatus(const Status& status) {
  switch (status.code()) {
    case Code::kInvalidArgument: return {ErrorKind::kValidation, status.message()};
    case Code::kInvalidJson: return {ErrorKind::kInvalidJson, status.message()};
    case Code::kInvalidPlan: return {ErrorKind::kInvalidPlan, status.message()};
    case Code::kConflict: return {ErrorKind::kConflict, status.message()};
    case Code::kUnknownFeature: return {ErrorKind::kNotFound, status.message()};
    case Code::kOk:
    case Code::kInvalidCatalog:
    case Code::kIllegalTransition: break;
  }
  return {ErrorKind::kInternal, status.ToString()};
}

std::string Error::ToString() const {
  std::string out(CodeName(kind));
  out += ": ";
  out += message;
  return out;
}

Json Error::ToJson() const {
  Json body = {{"error", message}, {"code", CodeName(kind)}};
  if (extra.is_object()) {
    for (const auto& [k, v] : extra.items()) {
      if (k != "error" && k != "code") body[k] = v;
    }
  }
  return body;
}

}  // namespace sima::server
