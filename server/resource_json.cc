#include "resource_json.h"

#include "sima/money.h"

namespace sima::server {

Json OptTime(const std::optional<Time>& t) { return t ? Json(FormatTime(*t)) : Json(nullptr); }

Json BreakdownToJson(const std::vector<QuoteLine>& lines) {
  Json out = Json::array();
  for (const QuoteLine& line : lines)
    out.push_back({{"label", line.label}, {"amount", line.paisa}});
  return out;
}

Json PaymentToJson(const Payment& p) {
  return {{"payment_id", p.id},
          {"ref", p.ref},  // the org may build its own anonymous links with it
          {"provider", to_string(p.provider)},
          {"plan", p.plan},
          {"amount", WholeRupees(p.amount_paisa)},
          {"amount_paisa", p.amount_paisa},
          {"amount_breakdown", BreakdownToJson(p.breakdown)},
          {"status", to_string(p.status)},
          {"refunded_paisa", p.refunded_paisa},
          {"reason", p.reason.empty() ? Json(nullptr) : Json(p.reason)},
          {"reference_id", p.reference_id ? Json(*p.reference_id) : Json(nullptr)},
          {"purchase_order_id", p.purchase_order_id},
          {"needs_attention", p.needs_attention},
          {"expires_at", OptTime(p.expires_at)},
          {"created_at", FormatTime(p.created_at)},
          {"updated_at", FormatTime(p.updated_at)}};
}

Json RefundToJson(const Refund& r) {
  return {{"refund_id", r.id},
          {"payment_id", r.payment_id},
          {"org_id", r.org_id},
          {"amount_paisa", r.amount_paisa},
          {"method", to_string(r.method)},
          {"status", to_string(r.status)},
          {"reason", r.reason},
          {"reference", r.reference ? Json(*r.reference) : Json(nullptr)},
          {"note", r.note},
          {"detail", r.detail},
          {"keep_plan", r.keep_plan},
          {"created_at", FormatTime(r.created_at)},
          {"updated_at", FormatTime(r.updated_at)}};
}

}  // namespace sima::server

namespace sima::server {

std::string_view to_string(DeliveryStatus status) {
  switch (status) {
    case DeliveryStatus::kPending: return "pending";
    case DeliveryStatus::kDelivered: return "delivered";
    case DeliveryStatus::kFailed: return "failed";
  }
  return "unknown";
}

std::string_view to_string(RefundMethod method) {
  return method == RefundMethod::kKhalti ? "khalti" : "manual";
}

std::string_view to_string(RefundStatus status) {
  switch (status) {
    case RefundStatus::kPending: return "pending";
    case RefundStatus::kSucceeded: return "succeeded";
    case RefundStatus::kFailed: return "failed";
  }
  return "unknown";
}

}  // namespace sima::server
