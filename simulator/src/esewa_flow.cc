#include "esewa_flow.h"

#include <algorithm>
#include <cctype>

#include "ids.h"
#include "sima/crypto.h"
#include "sima/money.h"
#include "timefmt.h"
#include "url.h"

namespace sima::sim {
namespace {

std::optional<std::string> deliver(Simulator::Impl& sim, std::string url) {
  if (sim.faults.esewa_redirect_mode == RedirectMode::kNever) return std::nullopt;
  if (sim.faults.esewa_redirect_mode == RedirectMode::kTwice) {
    sim.courier.deliver_later(url, std::chrono::milliseconds(sim.faults.duplicate_delay_ms));
  }
  return url;
}

}  // namespace

void esewa_refresh(const Simulator::Impl& sim, EsewaPayment& p) {
  if (p.status == "PENDING" && sim.now() >= p.created_at + sim.options.esewa_session) {
    p.status = "NOT_FOUND";
  }
}

std::string esewa_success_data(Simulator::Impl& sim, const EsewaPayment& p) {
  const long long total = p.total_paisa + sim.faults.esewa_amount_delta_paisa;
  const std::string signed_total = sima::FormatRupees(total);
  const std::string shown_total = sim.faults.esewa_thousands_separator.take()
                                      ? sima::FormatRupees(total, {.thousands = true})
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
  j["signature"] = sima::crypto::HmacSha256Base64(sim.options.esewa_secret_key, message);
  return sima::crypto::Base64Encode(j.dump());
}

EsewaOutcome esewa_pay(Simulator::Impl& sim, EsewaPayment& p, const std::string& payer) {
  p.status = "COMPLETE";
  p.ref_id = new_esewa_code();
  p.payer = payer;
  EsewaOutcome out;
  out.data = esewa_success_data(sim, p);
  const bool raw = sim.faults.esewa_data_raw.take();
  out.redirect_url = deliver(
      sim, append_query(p.success_url,
                        "data=" + (raw ? out.data : sima::crypto::PercentEncode(out.data))));
  return out;
}

EsewaOutcome esewa_cancel(Simulator::Impl& sim, EsewaPayment& p) {
  p.status = "CANCELED";
  EsewaOutcome out;
  out.redirect_url = deliver(sim, p.failure_url);
  return out;
}

void esewa_force_status(EsewaPayment& p, const std::string& status) {
  std::string s = status;
  std::transform(s.begin(), s.end(), s.begin(),
                 [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
  p.status = s;
  const bool has_ref = s == "COMPLETE" || s == "FULL_REFUND" || s == "PARTIAL_REFUND" ||
                       s == "AMBIGUOUS" || s == "CANCELED";
  if (has_ref && p.ref_id.empty()) p.ref_id = new_esewa_code();
}

nlohmann::ordered_json esewa_payment_json(const EsewaPayment& p) {
  nlohmann::ordered_json j;
  j["transaction_uuid"] = p.transaction_uuid;
  j["product_code"] = p.product_code;
  j["status"] = p.status;
  j["total_amount"] = sima::FormatRupees(p.total_paisa);
  j["total_paisa"] = p.total_paisa;
  j["ref_id"] = p.ref_id.empty() ? nlohmann::ordered_json() : nlohmann::ordered_json(p.ref_id);
  j["payer"] = p.payer.empty() ? nlohmann::ordered_json() : nlohmann::ordered_json(p.payer);
  j["success_url"] = p.success_url;
  j["failure_url"] = p.failure_url;
  j["form"] = p.form;
  j["created_at"] = format_utc(p.created_at);
  return j;
}

}  // namespace sima::sim
