// The control API under /_sim/ (JSON, no authentication: bind it to loopback),
// and the index page at /.
#include "context.h"
#include "esewa_flow.h"
#include "html.h"
#include "khalti_flow.h"
#include "responses.h"
#include "sima/status.h"

namespace sima::simulator {
namespace {

using json = nlohmann::json;

void SendError(httplib::Response& res, int status, const std::string& message) {
  SendJson(res, status, json{{"error", message}});
}

// The body as a JSON object; an empty body counts as {}.
Result<json> ObjectBody(const httplib::Request& req) {
  if (req.body.empty()) return json::object();
  json body = json::parse(req.body, nullptr, false);
  if (body.is_discarded() || !body.is_object()) {
    return Status::InvalidArgument("body must be a JSON object");
  }
  return body;
}

// The non-empty "status" text of a body.
Result<std::string> StatusField(const json& body) {
  const auto it = body.find("status");
  if (it == body.end() || !it->is_string() || it->get<std::string>().empty()) {
    return Status::InvalidArgument("expected {\"status\": \"...\"}");
  }
  return it->get<std::string>();
}

nlohmann::ordered_json OutcomeJson(const std::optional<std::string>& url,
                                   const std::string& status) {
  nlohmann::ordered_json out;
  out["redirect_url"] = url ? nlohmann::ordered_json(*url) : nlohmann::ordered_json();
  out["status"] = status;
  return out;
}

// A peer on this machine: 127.0.0.0/8 or ::1 (also as ::ffff:127.x.y.z).
bool Loopback(const std::string& addr) {
  return addr.rfind("127.", 0) == 0 || addr == "::1" || addr.rfind("::ffff:127.", 0) == 0;
}

// The most POST /_sim/clock moves the clock at once: 400 days.
constexpr int64_t kMaxAdvanceSeconds = int64_t{400} * 86400;

json ClockJson(const Simulator::Impl& sim) {
  return json{{"now", FormatTime(sim.Now())}, {"offset_seconds", sim.clock_offset.load()}};
}

std::string IndexPage(const Simulator::Impl& sim) {
  const std::string u = HtmlEscape(sim.public_url);
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
  return RenderPage(Brand::kSimulator, "Gateway simulator", b);
}

}  // namespace

void InstallControl(Simulator::Impl& sim) {
  auto& s = sim.server;
  s.Get("/", [&sim](const httplib::Request&, httplib::Response& res) {
    SendHtml(res, 200, IndexPage(sim));
  });
  s.Get(R"(/_sim/health/?)", [](const httplib::Request&, httplib::Response& res) {
    SendJson(res, 200, json{{"status", "ok"}});
  });
  s.Get(R"(/_sim/faults/?)", [&sim](const httplib::Request&, httplib::Response& res) {
    std::lock_guard<std::mutex> lock(sim.mu);
    SendJson(res, 200, FaultsToJson(sim.faults));
  });
  auto patch = [&sim](const httplib::Request& req, httplib::Response& res) {
    auto body = json::parse(req.body, nullptr, false);
    if (body.is_discarded()) return SendError(res, 400, "body must be a JSON object");
    std::lock_guard<std::mutex> lock(sim.mu);
    if (const Status patched = ApplyFaultPatch(sim.faults, body); !patched.ok()) {
      return SendError(res, 400, patched.message());
    }
    SendJson(res, 200, FaultsToJson(sim.faults));
  };
  s.Put(R"(/_sim/faults/?)", patch);
  s.Post(R"(/_sim/faults/?)", patch);
  s.Post(R"(/_sim/reset/?)", [&sim](const httplib::Request&, httplib::Response& res) {
    sim.Reset();
    SendJson(res, 200, json{{"status", "reset"}});
  });
  s.Get(R"(/_sim/stats/?)", [&sim](const httplib::Request&, httplib::Response& res) {
    SendJson(res, 200,
             json{{"khalti_lookups", sim.khalti_lookups.load()},
                  {"esewa_status_checks", sim.esewa_status_checks.load()}});
  });
  // The clock: moves forward only, for peers on this machine only (a demo travels through a
  // subscription's renewal, grace and expiry; the server's clock moves with it).
  s.Get(R"(/_sim/clock/?)", [&sim](const httplib::Request&, httplib::Response& res) {
    SendJson(res, 200, ClockJson(sim));
  });
  s.Post(R"(/_sim/clock/?)", [&sim](const httplib::Request& req, httplib::Response& res) {
    if (!Loopback(req.remote_addr)) {
      return SendError(res, 403, "the clock moves only for a peer on this machine");
    }
    const auto body = ObjectBody(req);
    if (!body) return SendError(res, 400, body.error().message());
    const auto it = body->find("advance_seconds");
    if (it == body->end() || !it->is_number_integer() || it->get<int64_t>() < 1 ||
        it->get<int64_t>() > kMaxAdvanceSeconds) {
      return SendError(res, 400,
                       "expected {\"advance_seconds\": n}, n a whole number from 1 to " +
                           std::to_string(kMaxAdvanceSeconds) + " (400 days)");
    }
    sim.clock_offset += it->get<int64_t>();
    SendJson(res, 200, ClockJson(sim));
  });
  s.Get(R"(/_sim/payments/?)", [&sim](const httplib::Request&, httplib::Response& res) {
    SendJson(res, 200, sim.PaymentsJson());
  });

  // Khalti: /_sim/khalti/{pidx}[/status|/pay|/cancel]
  s.Get(R"(/_sim/khalti/([^/]+)/?)", [&sim](const httplib::Request& req, httplib::Response& res) {
    std::lock_guard<std::mutex> lock(sim.mu);
    auto it = sim.khalti.find(req.matches[1]);
    if (it == sim.khalti.end()) return SendError(res, 404, "unknown pidx");
    KhaltiRefresh(it->second, sim.Now());
    SendJson(res, 200, KhaltiPaymentJson(sim, it->second));
  });
  s.Post(R"(/_sim/khalti/([^/]+)/(status|pay|cancel)/?)", [&sim](const httplib::Request& req,
                                                                 httplib::Response& res) {
    const auto body = ObjectBody(req);
    if (!body) return SendError(res, 400, body.error().message());
    std::lock_guard<std::mutex> lock(sim.mu);
    auto it = sim.khalti.find(req.matches[1]);
    if (it == sim.khalti.end()) return SendError(res, 404, "unknown pidx");
    KhaltiPayment& p = it->second;
    KhaltiRefresh(p, sim.Now());
    const std::string action = req.matches[2];
    if (action == "status") {
      const auto status = StatusField(*body);
      if (!status) return SendError(res, 400, status.error().message());
      KhaltiForceStatus(p, *status);
      return SendJson(res, 200, KhaltiPaymentJson(sim, p));
    }
    if (p.status != "Initiated") {
      return SendJson(res, 409, json{{"error", "payment is " + p.status}, {"status", p.status}});
    }
    if (action == "cancel") return SendJson(res, 200, OutcomeJson(KhaltiCancel(sim, p), p.status));
    std::string mobile = "9800000001";
    if (const auto field = body->find("mobile"); field != body->end() && field->is_string()) {
      mobile = field->get<std::string>();
    }
    SendJson(res, 200, OutcomeJson(KhaltiPay(sim, p, mobile), p.status));
  });

  // eSewa: /_sim/esewa/{transaction_uuid}[/status|/pay|/cancel]
  s.Get(R"(/_sim/esewa/([^/]+)/?)", [&sim](const httplib::Request& req, httplib::Response& res) {
    std::lock_guard<std::mutex> lock(sim.mu);
    auto it = sim.esewa.find(req.matches[1]);
    if (it == sim.esewa.end()) return SendError(res, 404, "unknown transaction_uuid");
    EsewaRefresh(sim, it->second);
    SendJson(res, 200, EsewaPaymentJson(it->second));
  });
  s.Post(R"(/_sim/esewa/([^/]+)/(status|pay|cancel)/?)", [&sim](const httplib::Request& req,
                                                                httplib::Response& res) {
    const auto body = ObjectBody(req);
    if (!body) return SendError(res, 400, body.error().message());
    std::lock_guard<std::mutex> lock(sim.mu);
    auto it = sim.esewa.find(req.matches[1]);
    if (it == sim.esewa.end()) return SendError(res, 404, "unknown transaction_uuid");
    EsewaPayment& p = it->second;
    EsewaRefresh(sim, p);
    const std::string action = req.matches[2];
    if (action == "status") {
      const auto status = StatusField(*body);
      if (!status) return SendError(res, 400, status.error().message());
      EsewaForceStatus(p, *status);
      return SendJson(res, 200, EsewaPaymentJson(p));
    }
    if (p.status != "PENDING") {
      return SendJson(res, 409, json{{"error", "payment is " + p.status}, {"status", p.status}});
    }
    std::string payer = "9806800001";
    if (const auto field = body->find("esewa_id"); field != body->end() && field->is_string()) {
      payer = field->get<std::string>();
    }
    const EsewaOutcome outcome = action == "pay" ? EsewaPay(sim, p, payer) : EsewaCancel(sim, p);
    auto out = OutcomeJson(outcome.redirect_url, p.status);
    if (!outcome.data.empty()) out["data"] = outcome.data;
    SendJson(res, 200, out);
  });
}

}  // namespace sima::simulator
