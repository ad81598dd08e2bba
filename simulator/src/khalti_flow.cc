#include "khalti_flow.h"

#include <array>

#include "ids.h"
#include "sima/text.h"
#include "timefmt.h"

namespace sima::simulator {
namespace {

bool IsPaid(const std::string& status) {
  return status == "Completed" || status == "Refunded" || status == "Partially Refunded";
}

std::string RedirectUrl(const KhaltiPayment& p, const std::string& status) {
  const std::string amount = std::to_string(p.amount_paisa);
  QueryParams params;
  if (status == "Completed") {
    // The documented success sample's order.
    params = {{"pidx", p.pidx},
              {"txnId", p.transaction_id},
              {"amount", amount},
              {"total_amount", amount},
              {"status", status},
              {"mobile", MaskMobile(p.mobile)},
              {"tidx", p.transaction_id},
              {"purchase_order_id", p.purchase_order_id},
              {"purchase_order_name", p.purchase_order_name},
              {"transaction_id", p.transaction_id}};
  } else {
    // The documented cancel sample's order (no txnId); Pending keeps the payer's mobile.
    params = {{"pidx", p.pidx},
              {"transaction_id", ""},
              {"tidx", ""},
              {"amount", amount},
              {"total_amount", amount},
              {"mobile", status == "Pending" ? MaskMobile(p.mobile) : ""},
              {"status", status},
              {"purchase_order_id", p.purchase_order_id},
              {"purchase_order_name", p.purchase_order_name}};
  }
  return AppendQuery(p.return_url, BuildQuery(params));
}

std::optional<std::string> Deliver(Simulator::Impl& sim, std::string url) {
  if (sim.faults.redirect_mode == RedirectMode::kNever) return std::nullopt;
  if (sim.faults.redirect_mode == RedirectMode::kTwice) {
    sim.courier.DeliverLater(url, std::chrono::milliseconds(sim.faults.duplicate_delay_ms));
  }
  return url;
}

}  // namespace

void KhaltiRefresh(KhaltiPayment& p, Time now) {
  if (p.status == "Initiated" && now >= p.expires_at) p.status = "Expired";
  if (p.status == "Pending" && p.complete_at && now >= *p.complete_at) {
    p.status = "Completed";
    p.complete_at.reset();
  }
}

std::optional<std::string> KhaltiPay(Simulator::Impl& sim, KhaltiPayment& p,
                                     const std::string& mobile) {
  p.mobile = mobile;
  p.transaction_id = NewKhaltiId();
  if (sim.faults.redirect_mode == RedirectMode::kPendingThenComplete) {
    p.status = "Pending";
    // Whole seconds: a fraction of a second completes at the next one.
    p.complete_at = sim.Now() + std::chrono::ceil<std::chrono::seconds>(
                                    std::chrono::milliseconds(sim.faults.pending_complete_ms));
    return RedirectUrl(p, "Pending");
  }
  p.status = "Completed";
  return Deliver(sim, RedirectUrl(p, "Completed"));
}

std::optional<std::string> KhaltiCancel(Simulator::Impl& sim, KhaltiPayment& p) {
  p.status = "User canceled";
  return Deliver(sim, RedirectUrl(p, "User canceled"));
}

void KhaltiForceStatus(KhaltiPayment& p, const std::string& status) {
  static const std::array<const char*, 7> known = {
      "Initiated",          "Pending", "Completed",    "Refunded",
      "Partially Refunded", "Expired", "User canceled"};
  p.status = status;
  for (const char* k : known) {
    if (EqualsIgnoreCase(k, status)) p.status = k;
  }
  p.complete_at.reset();
  if (IsPaid(p.status) && p.transaction_id.empty()) p.transaction_id = NewKhaltiId();
  if (IsPaid(p.status) && p.mobile.empty()) p.mobile = "9800000001";
}

nlohmann::ordered_json KhaltiLookupBody(const KhaltiPayment& p, int64_t amount_delta_paisa) {
  nlohmann::ordered_json body;
  body["pidx"] = p.pidx;
  body["total_amount"] = p.amount_paisa + amount_delta_paisa;
  body["status"] = p.status;
  body["transaction_id"] =
      IsPaid(p.status) ? nlohmann::ordered_json(p.transaction_id) : nlohmann::ordered_json();
  body["fee"] = 0;
  body["refunded"] = p.status == "Refunded" || p.status == "Partially Refunded";
  return body;
}

int KhaltiLookupHttpStatus(const std::string& status) {
  return status == "Expired" || status == "User canceled" ? 400 : 200;
}

nlohmann::ordered_json KhaltiPaymentJson(const Simulator::Impl& sim, const KhaltiPayment& p) {
  nlohmann::ordered_json j;
  j["pidx"] = p.pidx;
  j["status"] = p.status;
  j["amount"] = p.amount_paisa;
  j["refunded_paisa"] = p.refunded_paisa;
  j["transaction_id"] = p.transaction_id.empty() ? nlohmann::ordered_json()
                                                 : nlohmann::ordered_json(p.transaction_id);
  j["mobile"] = p.mobile.empty() ? nlohmann::ordered_json() : nlohmann::ordered_json(p.mobile);
  j["purchase_order_id"] = p.purchase_order_id;
  j["purchase_order_name"] = p.purchase_order_name;
  j["return_url"] = p.return_url;
  j["website_url"] = p.website_url;
  j["customer_info"] = p.customer_info;
  j["merchant_extra"] = p.merchant_extra;
  j["payment_url"] = sim.public_url + "/khalti/pay/?pidx=" + p.pidx;
  j["created_at"] = FormatTime(p.created_at);
  j["expires_at"] = FormatNepalTime(p.expires_at);
  j["completes_at"] =
      p.complete_at ? nlohmann::ordered_json(FormatTime(*p.complete_at)) : nlohmann::ordered_json();
  return j;
}

std::string MaskMobile(const std::string& mobile) {
  if (mobile.size() < 6) return mobile;
  return mobile.substr(0, 2) + std::string(mobile.size() - 5, 'X') +
         mobile.substr(mobile.size() - 3);
}

}  // namespace sima::simulator
