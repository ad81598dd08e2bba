#include "gateway/gateway_call.h"

#include <httplib.h>

namespace sima::server {

std::string_view to_string(CallFailure failure) {
  switch (failure) {
    case CallFailure::kNone: return "none";
    case CallFailure::kTimeout: return "gateway_timeout";
    case CallFailure::kUnreachable: return "gateway_unreachable";
    case CallFailure::kServerError: return "gateway_server_error";
    case CallFailure::kMalformed: return "gateway_malformed_answer";
    case CallFailure::kRejected: return "gateway_rejected";
  }
  return "gateway_error";
}

CallFailure FailureOfTransport(int transport_error) {
  const auto error = static_cast<httplib::Error>(transport_error);
  return error == httplib::Error::Read || error == httplib::Error::Write
             ? CallFailure::kTimeout
             : CallFailure::kUnreachable;
}

std::optional<GatewayUrl> SplitGatewayUrl(const std::string& url) {
  size_t scheme_end = url.find("://");
  if (scheme_end == std::string::npos) return std::nullopt;
  const std::string scheme = url.substr(0, scheme_end);
  if (scheme != "http" && scheme != "https") return std::nullopt;
  const size_t host_start = scheme_end + 3;
  const size_t path_start = url.find('/', host_start);
  GatewayUrl out;
  out.origin = url.substr(0, path_start);
  if (out.origin.size() <= host_start) return std::nullopt;
  out.path = path_start == std::string::npos ? "/" : url.substr(path_start);
  if (out.path.back() != '/') out.path += '/';
  return out;
}

}  // namespace sima::server
