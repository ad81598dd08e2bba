#include "responses.h"

namespace sima::simulator {

void SendJson(httplib::Response& res, int status, const nlohmann::json& body) {
  res.status = status;
  res.set_content(body.dump(), "application/json");
}

void SendJson(httplib::Response& res, int status, const nlohmann::ordered_json& body) {
  res.status = status;
  res.set_content(body.dump(), "application/json");
}

void SendHtml(httplib::Response& res, int status, const std::string& html) {
  res.status = status;
  res.set_header("Cache-Control", "no-store");
  res.set_content(html, "text/html; charset=utf-8");
}

void SendServerError(httplib::Response& res) {
  res.status = 500;
  res.set_content(
      "\n<!doctype html>\n<html lang=\"en\">\n<head>\n  <title>Server Error (500)</title>\n"
      "</head>\n<body>\n  <h1>Server Error (500)</h1><p></p>\n</body>\n</html>\n",
      "text/html; charset=utf-8");
}

void SendTruncated(httplib::Response& res, const std::string& json_text) {
  res.status = 200;
  const std::size_t half = json_text.size() / 2;
  res.set_content(half == 0 ? std::string(1, '{') : json_text.substr(0, half), "application/json");
}

void SendReset(httplib::Response& res) {
  res.status = 200;
  res.set_content_provider(
      64, "application/json",
      [](std::size_t /*offset*/, std::size_t /*length*/, httplib::DataSink& /*sink*/) {
        return false;  // abort: httplib closes the socket before writing any body
      });
}

}  // namespace sima::simulator
