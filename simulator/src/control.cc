// The control API under /_sim/ (JSON, no authentication: bind it to loopback),
// and the index page at /.
#include "context.h"
#include "esewa_flow.h"
#include "html.h"
#include "khalti_flow.h"
#include "responses.h"

namespace sima::sim {
namespace {

using json = nlohmann::json;

void send_error(httplib::Response& res, int status, const std::string& message) {
  send_json(res, status, json{{"error", message}});
}

// The body as a JSON object; an empty body counts as {}. nullopt (400 sent) otherwise.
std::optional<json> object_body(const httplib::Request& req, httplib::Response& res) {
  if (req.body.empty()) return json::object();
  json body = json::parse(req.body, nullptr, false);
  if (body.is_discarded() || !body.is_object()) {
    send_error(res, 400, "body must be a JSON object");
    return std::nullopt;
  }
  return body;
}

std::optional<std::string> status_field(const json& body, httplib::Response& res) {
  if (!body.contains("status") || !body["status"].is_string() ||
      body["status"].get<std::string>().empty()) {
    send_error(res, 400, "expected {\"status\": \"...\"}");
    return std::nullopt;
  }
  return body["status"].get<std::string>();
}

nlohmann::ordered_json outcome_json(const std::optional<std::string>& url,
                                    const std::string& status) {
  nlohmann::ordered_json out;
  out["redirect_url"] = url ? nlohmann::ordered_json(*url) : nlohmann::ordered_json();
  out["status"] = status;
  return out;
}

std::string index_page(const Simulator::Impl& sim) {
  const std::string u = html_escape(sim.public_url);
  std::string b =
      "<p>This is a local stand-in for <strong>Khalti ePayment (KPG-2)</strong> and "
      "<strong>eSewa ePay v2</strong>. It keeps every payment in memory only: restarting it "
      "forgets them all.</p>\n<dl>"
      "<dt>Khalti API base</dt><dd><code>" +
      u +
      "/api/v2/</code></dd>"
      "<dt>eSewa form</dt><dd><code>" +
      u +
      "/api/epay/main/v2/form</code></dd>"
      "<dt>eSewa status</dt><dd><code>" +
      u +
      "/api/epay/transaction/status/</code></dd>"
      "<dt>Control API</dt><dd><code>" +
      u +
      "/_sim/</code></dd></dl>\n"
      "<p class=\"hint\">Khalti sandbox: <code>9800000001</code> / MPIN <code>1111</code> / OTP "
      "<code>987654</code><br>eSewa test: <code>9806800001</code> / <code>Nepal@123</code> / "
      "token <code>123456</code></p>\n"
      "<p><a href=\"" +
      u + "/_sim/payments\">Payments (JSON)</a> · <a href=\"" + u +
      "/_sim/faults\">Faults (JSON)</a></p>";
  return render_page(Brand::kSimulator, "Gateway simulator", b);
}

}  // namespace

void install_control(Simulator::Impl& sim) {
  auto& s = sim.server;
  s.Get("/", [&sim](const httplib::Request&, httplib::Response& res) {
    send_html(res, 200, index_page(sim));
  });
  s.Get(R"(/_sim/health/?)", [](const httplib::Request&, httplib::Response& res) {
    send_json(res, 200, json{{"status", "ok"}});
  });
  s.Get(R"(/_sim/faults/?)", [&sim](const httplib::Request&, httplib::Response& res) {
    std::lock_guard<std::mutex> lock(sim.mu);
    send_json(res, 200, to_json(sim.faults));
  });
  auto patch = [&sim](const httplib::Request& req, httplib::Response& res) {
    auto body = json::parse(req.body, nullptr, false);
    if (body.is_discarded()) return send_error(res, 400, "body must be a JSON object");
    std::lock_guard<std::mutex> lock(sim.mu);
    if (auto error = apply_patch(sim.faults, body)) return send_error(res, 400, *error);
    send_json(res, 200, to_json(sim.faults));
  };
  s.Put(R"(/_sim/faults/?)", patch);
  s.Post(R"(/_sim/faults/?)", patch);
  s.Post(R"(/_sim/reset/?)", [&sim](const httplib::Request&, httplib::Response& res) {
    std::lock_guard<std::mutex> lock(sim.mu);
    sim.khalti.clear();
    sim.esewa.clear();
    sim.faults = sim.options.faults;
    sim.khalti_lookups = 0;
    sim.esewa_status_checks = 0;
    send_json(res, 200, json{{"status", "reset"}});
  });
  s.Get(R"(/_sim/stats/?)", [&sim](const httplib::Request&, httplib::Response& res) {
    send_json(res, 200,
              json{{"khalti_lookups", sim.khalti_lookups.load()},
                   {"esewa_status_checks", sim.esewa_status_checks.load()}});
  });
  s.Get(R"(/_sim/payments/?)", [&sim](const httplib::Request&, httplib::Response& res) {
    std::lock_guard<std::mutex> lock(sim.mu);
    nlohmann::ordered_json out;
    out["khalti"] = nlohmann::ordered_json::array();
    out["esewa"] = nlohmann::ordered_json::array();
    for (auto& [pidx, p] : sim.khalti) {
      khalti_refresh(p, sim.now());
      out["khalti"].push_back(khalti_payment_json(sim, p));
    }
    for (auto& [uuid, p] : sim.esewa) {
      esewa_refresh(sim, p);
      out["esewa"].push_back(esewa_payment_json(p));
    }
    send_json(res, 200, out);
  });

  // Khalti: /_sim/khalti/{pidx}[/status|/pay|/cancel]
  s.Get(R"(/_sim/khalti/([^/]+)/?)", [&sim](const httplib::Request& req, httplib::Response& res) {
    std::lock_guard<std::mutex> lock(sim.mu);
    auto it = sim.khalti.find(req.matches[1]);
    if (it == sim.khalti.end()) return send_error(res, 404, "unknown pidx");
    khalti_refresh(it->second, sim.now());
    send_json(res, 200, khalti_payment_json(sim, it->second));
  });
  s.Post(R"(/_sim/khalti/([^/]+)/(status|pay|cancel)/?)", [&sim](const httplib::Request& req,
                                                                 httplib::Response& res) {
    auto body = object_body(req, res);
    if (!body) return;
    std::lock_guard<std::mutex> lock(sim.mu);
    auto it = sim.khalti.find(req.matches[1]);
    if (it == sim.khalti.end()) return send_error(res, 404, "unknown pidx");
    KhaltiPayment& p = it->second;
    khalti_refresh(p, sim.now());
    const std::string action = req.matches[2];
    if (action == "status") {
      auto status = status_field(*body, res);
      if (!status) return;
      khalti_force_status(p, *status);
      return send_json(res, 200, khalti_payment_json(sim, p));
    }
    if (p.status != "Initiated") {
      return send_json(res, 409, json{{"error", "payment is " + p.status}, {"status", p.status}});
    }
    if (action == "cancel")
      return send_json(res, 200, outcome_json(khalti_cancel(sim, p), p.status));
    std::string mobile = "9800000001";
    if (body->contains("mobile") && (*body)["mobile"].is_string()) {
      mobile = (*body)["mobile"].get<std::string>();
    }
    send_json(res, 200, outcome_json(khalti_pay(sim, p, mobile), p.status));
  });

  // eSewa: /_sim/esewa/{transaction_uuid}[/status|/pay|/cancel]
  s.Get(R"(/_sim/esewa/([^/]+)/?)", [&sim](const httplib::Request& req, httplib::Response& res) {
    std::lock_guard<std::mutex> lock(sim.mu);
    auto it = sim.esewa.find(req.matches[1]);
    if (it == sim.esewa.end()) return send_error(res, 404, "unknown transaction_uuid");
    esewa_refresh(sim, it->second);
    send_json(res, 200, esewa_payment_json(it->second));
  });
  s.Post(R"(/_sim/esewa/([^/]+)/(status|pay|cancel)/?)", [&sim](const httplib::Request& req,
                                                                httplib::Response& res) {
    auto body = object_body(req, res);
    if (!body) return;
    std::lock_guard<std::mutex> lock(sim.mu);
    auto it = sim.esewa.find(req.matches[1]);
    if (it == sim.esewa.end()) return send_error(res, 404, "unknown transaction_uuid");
    EsewaPayment& p = it->second;
    esewa_refresh(sim, p);
    const std::string action = req.matches[2];
    if (action == "status") {
      auto status = status_field(*body, res);
      if (!status) return;
      esewa_force_status(p, *status);
      return send_json(res, 200, esewa_payment_json(p));
    }
    if (p.status != "PENDING") {
      return send_json(res, 409, json{{"error", "payment is " + p.status}, {"status", p.status}});
    }
    std::string payer = "9806800001";
    if (body->contains("esewa_id") && (*body)["esewa_id"].is_string()) {
      payer = (*body)["esewa_id"].get<std::string>();
    }
    const EsewaOutcome outcome = action == "pay" ? esewa_pay(sim, p, payer) : esewa_cancel(sim, p);
    auto out = outcome_json(outcome.redirect_url, p.status);
    if (!outcome.data.empty()) out["data"] = outcome.data;
    send_json(res, 200, out);
  });
}

}  // namespace sima::sim
