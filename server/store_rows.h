// Rows of a store's tables read into the Store's types, the same for every store: `RowT` is a
// row of its query layer (sqlite::Row or pg::Row, both with Int, Text, Bool, At, OptText,
// OptAt). Each reader expects the columns its comment lists, in that order.
#pragma once

#include <optional>
#include <string_view>

#include "sima/json.h"
#include "sima/payment.h"
#include "store.h"

namespace sima::server {

// The columns ReadPaymentRow reads, in its order.
inline constexpr std::string_view kPaymentColumns =
    "id, org_id, provider, plan, amount_paisa, status, reason, reference_id, purchase_order_id, "
    "transaction_id, needs_attention, expires_at, created_at, updated_at, next_check_at, "
    "check_attempts, ref, payment_url, last_checked_at";

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
