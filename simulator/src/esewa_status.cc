// eSewa status check: GET /api/epay/transaction/status/ (spec §3.6).
#include "context.h"
#include "esewa_flow.h"
#include "responses.h"
#include "sima/money.h"

namespace sima::simulator {
namespace {

// eSewa's status answer gives rupees as a JSON number: 10050 paisa -> 100.5.
double RupeesNumber(int64_t paisa) { return static_cast<double>(paisa) / 100.0; }

void StatusCheck(Simulator::Impl& sim, const httplib::Request& req, httplib::Response& res) {
  int delay_ms = 0;
  {
    std::lock_guard<std::mutex> lock(sim.mu);
    delay_ms = sim.faults.esewa_status_delay_ms;
  }
  sim.Delay(delay_ms);
  std::lock_guard<std::mutex> lock(sim.mu);
  if (sim.faults.esewa_status_reset.Take()) return SendReset(res);
  if (sim.faults.esewa_status_http_500.Take()) return SendServerError(res);
  if (sim.faults.esewa_status_outage.Take()) {
    return SendJson(
        res, 200,
        nlohmann::ordered_json{{"code", 0}, {"error_message", "Service is currently unavailable"}});
  }
  const bool malformed = sim.faults.esewa_status_malformed.Take();

  const std::string product_code = req.get_param_value("product_code");
  const std::string uuid = req.get_param_value("transaction_uuid");
  std::string total_text = req.get_param_value("total_amount");
  if (product_code.empty() || uuid.empty() || total_text.empty()) {
    return SendJson(
        res, 400,
        nlohmann::ordered_json{
            {"code", 0},
            {"error_message", "product_code, total_amount and transaction_uuid are required"}});
  }
  const auto total = ParseRupees(total_text, /*allow_thousands=*/true);

  nlohmann::ordered_json body;
  body["product_code"] = product_code;
  body["transaction_uuid"] = uuid;
  auto it = sim.esewa.find(uuid);
  if (it == sim.esewa.end() || it->second.product_code != product_code || !total ||
      *total != it->second.total_paisa) {
    body["total_amount"] = RupeesNumber(total.value_or(0));
    body["status"] = "NOT_FOUND";
    body["ref_id"] = nullptr;
  } else {
    EsewaPayment& p = it->second;
    EsewaRefresh(sim, p);
    body["total_amount"] = RupeesNumber(p.total_paisa + sim.faults.esewa_amount_delta_paisa);
    body["status"] = p.status;
    body["ref_id"] = p.ref_id.empty() ? nlohmann::ordered_json() : nlohmann::ordered_json(p.ref_id);
  }
  if (malformed) return SendTruncated(res, body.dump());
  SendJson(res, 200, body);
}

}  // namespace

void InstallEsewaStatus(Simulator::Impl& sim) {
  sim.server.Get(R"(/api/epay/transaction/status/?)",
                 [&sim](const httplib::Request& req, httplib::Response& res) {
                   ++sim.esewa_status_checks;
                   StatusCheck(sim, req, res);
                 });
}

}  // namespace sima::simulator
