// How the simulator answers: JSON, HTML, and the broken answers of the faults.
#pragma once

#include <httplib.h>

#include <nlohmann/json.hpp>
#include <string>

namespace sima::simulator {

void SendJson(httplib::Response& res, int status, const nlohmann::json& body);
void SendJson(httplib::Response& res, int status, const nlohmann::ordered_json& body);
void SendHtml(httplib::Response& res, int status, const std::string& html);

// 500 with Django's plain "Server Error (500)" HTML page.
void SendServerError(httplib::Response& res);
// 200 application/json whose body is the first half of json_text: not parseable.
void SendTruncated(httplib::Response& res, const std::string& json_text);
// Status line and headers promising a body, then the connection is closed
// without a body byte: clients see a read error, as on a reset connection.
void SendReset(httplib::Response& res);

}  // namespace sima::simulator
