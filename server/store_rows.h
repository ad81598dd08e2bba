// Rows of a store's tables read into the Store's types, the same for every store: `RowT` is a
// row of its query layer (sqlite::Row or pg::Row, both with Int, Text, Bool, At, OptText,
// OptAt). Each reader expects the columns its comment lists, in that order.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "sima/json.h"
#include "sima/payment.h"
#include "store.h"

namespace sima::server {

// The columns ReadSubscriptionRow reads, in its order (table subscriptions).
inline constexpr std::string_view kSubscriptionColumns =
    "plan, start_at, end_at, trial, cancel_at_period_end, next_plan";

// The whole subscription from kSubscriptionColumns starting at column `at`.
template <typename RowT>
Subscription ReadSubscriptionRow(const RowT& r, int at = 0) {
  Subscription s{r.Text(at), r.At(at + 1), r.OptAt(at + 2)};
  s.trial = r.Bool(at + 3);
  s.cancel_at_period_end = r.Bool(at + 4);
  s.next_plan = r.OptText(at + 5);
  return s;
}

// A payment's quote lines as stored in amount_breakdown: Khalti's JSON array
// [{"label","amount"}] (paisa); NULL (nullopt) when there are none.
inline std::optional<std::string> BreakdownToText(const std::vector<QuoteLine>& lines) {
  if (lines.empty()) return std::nullopt;
  Json out = Json::array();
  for (const QuoteLine& line : lines)
    out.push_back({{"label", line.label}, {"amount", line.paisa}});
  return out.dump();
}

// The inverse of BreakdownToText; empty for NULL or anything that is not such an array.
inline std::vector<QuoteLine> BreakdownFromText(const std::optional<std::string>& text) {
  std::vector<QuoteLine> out;
  if (!text) return out;
  const Json json = Json::parse(*text, nullptr, false);
  if (!json.is_array()) return out;
  for (const Json& line : json) {
    if (!line.is_object() || !line.contains("label") || !line["label"].is_string() ||
        !line.contains("amount") || !line["amount"].is_number_integer()) {
      return {};
    }
    out.push_back({line["label"].get<std::string>(), line["amount"].get<int64_t>()});
  }
  return out;
}

// The columns ReadPaymentRow reads, in its order.
inline constexpr std::string_view kPaymentColumns =
    "id, org_id, provider, plan, amount_paisa, status, reason, reference_id, purchase_order_id, "
    "transaction_id, needs_attention, expires_at, created_at, updated_at, next_check_at, "
    "check_attempts, ref, payment_url, last_checked_at, amount_breakdown, refunded_paisa";

template <typename RowT>
Payment ReadPaymentRow(const RowT& r) {
  Payment p;
  p.id = r.Int(0);
  p.org_id = r.Text(1);
  p.provider = ParseProvider(r.Text(2)).value_or(Provider::kKhalti);
  p.plan = r.Text(3);
  p.amount_paisa = r.Int(4);
  p.status = ParsePaymentStatus(r.Text(5)).value_or(PaymentStatus::kPending);
  p.reason = r.Text(6);
  p.reference_id = r.OptText(7);
  p.purchase_order_id = r.Text(8);
  p.transaction_id = r.OptText(9);
  p.needs_attention = r.Bool(10);
  p.expires_at = r.OptAt(11);
  p.created_at = r.At(12);
  p.updated_at = r.At(13);
  p.next_check_at = r.OptAt(14);
  p.check_attempts = r.Int(15);
  p.ref = r.OptText(16).value_or("");
  p.payment_url = r.OptText(17);
  p.last_checked_at = r.OptAt(18);
  p.breakdown = BreakdownFromText(r.OptText(19));
  p.refunded_paisa = r.Int(20);
  return p;
}

// id, amount_paisa, customer_id, description, created_at.
template <typename RowT>
Invoice ReadInvoiceRow(const RowT& r) {
  return {r.Text(0), r.Int(1), r.OptText(2), r.Text(3), r.At(4)};
}

// id, name, email, created_at.
template <typename RowT>
Customer ReadCustomerRow(const RowT& r) {
  return {r.Text(0), r.Text(1), r.Text(2), r.At(3)};
}

// id, email, name, created_at.
template <typename RowT>
TeamMember ReadTeamMemberRow(const RowT& r) {
  return {r.Text(0), r.Text(1), r.Text(2), r.At(3)};
}

// key_id, prefix (NULL for keys made before prefixes: "sk_"), created_at, revoked_at.
template <typename RowT>
ApiKeyInfo ReadKeyInfoRow(const RowT& r) {
  return {r.Text(0), r.OptText(1).value_or("sk_"), r.At(2), r.OptAt(3)};
}

// An override of `feature` from three columns starting at `at`: limit_wire (NULL: none, as a
// change's before/after or a metering answer without one), plan, until.
template <typename RowT>
std::optional<Override> ReadOverrideColumns(const RowT& r, int at, const std::string& feature) {
  if (r.IsNull(at)) return std::nullopt;
  auto limit = LimitFromWire(r.Int(at));
  return Override{feature, limit ? limit.value() : Limit::Unlimited(), r.OptText(at + 1),
                  r.OptAt(at + 2)};
}

// An override as the three columns it is stored in (limit_wire, plan, until), all NULL for
// none: what ReadOverrideColumns reads back.
struct OverrideCells {
  std::optional<int64_t> limit;
  std::optional<std::string> plan;
  std::optional<Time> until;
};
inline OverrideCells ToOverrideCells(const std::optional<Override>& o) {
  if (!o) return {};
  return {LimitToWire(o->limit), o->plan, o->until};
}

// The columns ReadMeterEventRow reads, in its order (table usage_events).
inline constexpr std::string_view kMeterEventColumns =
    "feature, quantity, plan, used, limit_wire, over, override_limit, override_plan, "
    "override_until";

// A remembered answer to a metering call of a feature of `kind`, as a replay.
template <typename RowT>
MeterResult ReadMeterEventRow(const RowT& r, FeatureKind kind) {
  MeterResult out;
  out.feature = r.Text(0);
  out.kind = kind;
  out.quantity = r.Int(1);
  out.plan = r.Text(2);
  out.used = r.Int(3);
  auto limit = LimitFromWire(r.Int(4));
  out.limit = limit ? limit.value() : Limit::Unlimited();
  out.over = r.Bool(5);
  out.override = ReadOverrideColumns(r, 6, out.feature);
  out.replayed = true;
  return out;
}

// The columns ReadStoredOverrideRow reads, in its order (table overrides).
inline constexpr std::string_view kOverrideColumns =
    "feature, limit_wire, plan, until_at, reason, updated_at";

template <typename RowT>
StoredOverride ReadStoredOverrideRow(const RowT& r) {
  const std::string feature = r.Text(0);
  auto o = ReadOverrideColumns(r, 1, feature);
  return {o ? *o : Override{feature, Limit::Unlimited(), std::nullopt, std::nullopt}, r.Text(4),
          r.At(5)};
}

// The columns ReadOverrideChangeRow reads, in its order (table override_changes).
inline constexpr std::string_view kOverrideChangeColumns =
    "feature, before_limit, before_plan, before_until, after_limit, after_plan, after_until, "
    "reason, at";

template <typename RowT>
OverrideChange ReadOverrideChangeRow(const RowT& r) {
  const std::string feature = r.Text(0);
  return {feature, ReadOverrideColumns(r, 1, feature), ReadOverrideColumns(r, 4, feature),
          r.Text(7), r.At(8)};
}

}  // namespace sima::server

namespace sima::server {

// The columns ReadRefundRow reads, in its order (table refunds).
inline constexpr std::string_view kRefundColumns =
    "id, payment_id, org_id, amount_paisa, method, status, reason, reference, note, detail, "
    "keep_plan, idempotency_key, created_at, updated_at";

inline RefundStatus ParseRefundStatus(std::string_view text) {
  if (text == "succeeded") return RefundStatus::kSucceeded;
  if (text == "failed") return RefundStatus::kFailed;
  return RefundStatus::kPending;
}

template <typename RowT>
Refund ReadRefundRow(const RowT& r) {
  Refund out;
  out.id = r.Text(0);
  out.payment_id = r.Int(1);
  out.org_id = r.Text(2);
  out.amount_paisa = r.Int(3);
  out.method = r.Text(4) == "manual" ? RefundMethod::kManual : RefundMethod::kKhalti;
  out.status = ParseRefundStatus(r.Text(5));
  out.reason = r.Text(6);
  out.reference = r.OptText(7);
  out.note = r.Text(8);
  out.detail = r.Text(9);
  out.keep_plan = r.Bool(10);
  out.idempotency_key = r.OptText(11);
  out.created_at = r.At(12);
  out.updated_at = r.At(13);
  return out;
}

}  // namespace sima::server
