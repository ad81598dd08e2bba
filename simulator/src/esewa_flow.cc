#include "esewa_flow.h"

#include "ids.h"
#include "sima/crypto.h"
#include "sima/money.h"
#include "sima/text.h"

namespace sima::simulator {
namespace {

std::optional<std::string> Deliver(Simulator::Impl& sim, std::string url) {
  if (sim.faults.esewa_redirect_mode == RedirectMode::kNever) return std::nullopt;
  if (sim.faults.esewa_redirect_mode == RedirectMode::kTwice) {
    sim.courier.DeliverLater(url, std::chrono::milliseconds(sim.faults.duplicate_delay_ms));
  }
  return url;
}

}  // namespace

void EsewaRefresh(const Simulator::Impl& sim, EsewaPayment& p) {
  if (p.status == "PENDING" && sim.Now() >= p.created_at + sim.options.esewa_session) {
    p.status = "NOT_FOUND";
  }
}

std::string EsewaSuccessData(Simulator::Impl& sim, const EsewaPayment& p) {
  const int64_t total = p.total_paisa + sim.faults.esewa_amount_delta_paisa;
  const std::string signed_total = FormatRupees(total);
  const std::string shown_total = sim.faults.esewa_thousands_separator.Take()
                                      ? FormatRupees(total, {.thousands = true})
                                      : signed_total;
  const std::string message =
      "transaction_code=" + p.ref_id + ",status=" + p.status + ",total_amount=" + signed_total +
      ",transaction_uuid=" + p.transaction_uuid + ",product_code=" + p.product_code +
      ",signed_field_names=" + kEsewaResponseSignedNames;
  nlohmann::ordered_json j;
  j["transaction_code"] = p.ref_id;
  j["status"] = p.status;
  j["total_amount"] = shown_total;
  j["transaction_uuid"] = p.transaction_uuid;
  j["product_code"] = p.product_code;
  j["signed_field_names"] = kEsewaResponseSignedNames;
  j["signature"] = crypto::HmacSha256Base64(sim.options.esewa_secret_key, message);
  return crypto::Base64Encode(j.dump());
}

EsewaOutcome EsewaPay(Simulator::Impl& sim, EsewaPayment& p, const std::string& payer) {
  p.status = "COMPLETE";
  p.ref_id = NewEsewaCode();
  p.payer = payer;
  EsewaOutcome out;
  out.data = EsewaSuccessData(sim, p);
  const bool raw = sim.faults.esewa_data_raw.Take();
  out.redirect_url = Deliver(
      sim, AppendQuery(p.success_url, "data=" + (raw ? out.data : PercentEncode(out.data))));
  return out;
}

EsewaOutcome EsewaCancel(Simulator::Impl& sim, EsewaPayment& p) {
  p.status = "CANCELED";
  EsewaOutcome out;
  out.redirect_url = Deliver(sim, p.failure_url);
  return out;
}

void EsewaForceStatus(EsewaPayment& p, const std::string& status) {
  const std::string s = AsciiUpper(status);
  p.status = s;
  const bool has_ref = s == "COMPLETE" || s == "FULL_REFUND" || s == "PARTIAL_REFUND" ||
                       s == "AMBIGUOUS" || s == "CANCELED";
  if (has_ref && p.ref_id.empty()) p.ref_id = NewEsewaCode();
}

nlohmann::ordered_json EsewaPaymentJson(const EsewaPayment& p) {
  nlohmann::ordered_json j;
  j["transaction_uuid"] = p.transaction_uuid;
  j["product_code"] = p.product_code;
  j["status"] = p.status;
  j["total_amount"] = FormatRupees(p.total_paisa);
  j["total_paisa"] = p.total_paisa;
  j["ref_id"] = p.ref_id.empty() ? nlohmann::ordered_json() : nlohmann::ordered_json(p.ref_id);
  j["payer"] = p.payer.empty() ? nlohmann::ordered_json() : nlohmann::ordered_json(p.payer);
  j["success_url"] = p.success_url;
  j["failure_url"] = p.failure_url;
  j["form"] = p.form;
  j["created_at"] = FormatTime(p.created_at);
  return j;
}

}  // namespace sima::simulator
