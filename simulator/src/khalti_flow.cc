#include "khalti_flow.h"

#include <algorithm>
#include <array>
#include <cctype>

#include "ids.h"
#include "timefmt.h"
#include "url.h"

namespace sima::sim {
namespace {

bool is_paid(const std::string& status) {
  return status == "Completed" || status == "Refunded" || status == "Partially Refunded";
}

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

std::string redirect_url(const KhaltiPayment& p, const std::string& status) {
  const std::string amount = std::to_string(p.amount);
  std::vector<std::pair<std::string, std::string>> params;
  if (status == "Completed") {
    // The documented success sample's order.
    params = {{"pidx", p.pidx},
              {"txnId", p.transaction_id},
              {"amount", amount},
              {"total_amount", amount},
              {"status", status},
              {"mobile", mask_mobile(p.mobile)},
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
              {"mobile", status == "Pending" ? mask_mobile(p.mobile) : ""},
              {"status", status},
              {"purchase_order_id", p.purchase_order_id},
              {"purchase_order_name", p.purchase_order_name}};
  }
  return append_query(p.return_url, build_query(params));
}

std::optional<std::string> deliver(Simulator::Impl& sim, std::string url) {
  if (sim.faults.redirect_mode == RedirectMode::kNever) return std::nullopt;
  if (sim.faults.redirect_mode == RedirectMode::kTwice) {
    sim.courier.deliver_later(url, std::chrono::milliseconds(sim.faults.duplicate_delay_ms));
  }
  return url;
}

}  // namespace

void khalti_refresh(KhaltiPayment& p, TimePoint now) {
  if (p.status == "Initiated" && now >= p.expires_at) p.status = "Expired";
  if (p.status == "Pending" && p.complete_at && now >= *p.complete_at) {
    p.status = "Completed";
    p.complete_at.reset();
  }
}

std::optional<std::string> khalti_pay(Simulator::Impl& sim, KhaltiPayment& p,
                                      const std::string& mobile) {
  p.mobile = mobile;
  p.transaction_id = new_khalti_id();
  if (sim.faults.redirect_mode == RedirectMode::kPendingThenComplete) {
    p.status = "Pending";
    p.complete_at = sim.now() + std::chrono::milliseconds(sim.faults.pending_complete_ms);
    return redirect_url(p, "Pending");
  }
  p.status = "Completed";
  return deliver(sim, redirect_url(p, "Completed"));
}

std::optional<std::string> khalti_cancel(Simulator::Impl& sim, KhaltiPayment& p) {
  p.status = "User canceled";
  return deliver(sim, redirect_url(p, "User canceled"));
}

void khalti_force_status(KhaltiPayment& p, const std::string& status) {
  static const std::array<const char*, 7> known = {
      "Initiated",          "Pending", "Completed",    "Refunded",
      "Partially Refunded", "Expired", "User canceled"};
  p.status = status;
  for (const char* k : known) {
    if (lower(k) == lower(status)) p.status = k;
  }
  p.complete_at.reset();
  if (is_paid(p.status) && p.transaction_id.empty()) p.transaction_id = new_khalti_id();
  if (is_paid(p.status) && p.mobile.empty()) p.mobile = "9800000001";
}

nlohmann::ordered_json khalti_lookup_body(const KhaltiPayment& p, long long amount_delta) {
  nlohmann::ordered_json body;
  body["pidx"] = p.pidx;
  body["total_amount"] = p.amount + amount_delta;
  body["status"] = p.status;
  body["transaction_id"] =
      is_paid(p.status) ? nlohmann::ordered_json(p.transaction_id) : nlohmann::ordered_json();
  body["fee"] = 0;
  body["refunded"] = p.status == "Refunded" || p.status == "Partially Refunded";
  return body;
}

int khalti_lookup_http_status(const std::string& status) {
  return status == "Expired" || status == "User canceled" ? 400 : 200;
}

nlohmann::ordered_json khalti_payment_json(const Simulator::Impl& sim, const KhaltiPayment& p) {
  nlohmann::ordered_json j;
  j["pidx"] = p.pidx;
  j["status"] = p.status;
  j["amount"] = p.amount;
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
  j["created_at"] = format_utc(p.created_at);
  j["expires_at"] = format_npt(p.expires_at);
  j["completes_at"] =
      p.complete_at ? nlohmann::ordered_json(format_utc(*p.complete_at)) : nlohmann::ordered_json();
  return j;
}

std::string mask_mobile(const std::string& mobile) {
  if (mobile.size() < 6) return mobile;
  return mobile.substr(0, 2) + std::string(mobile.size() - 5, 'X') +
         mobile.substr(mobile.size() - 3);
}

}  // namespace sima::sim
