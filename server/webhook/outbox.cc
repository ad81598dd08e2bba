#include "webhook/outbox.h"

#include <algorithm>
#include <optional>

#include "webhook/event.h"

namespace sima::server::webhook {
namespace {

// The length of the valid UTF-8 sequence starting text[i], or 0 when none starts there
// (RFC 3629: no overlong forms, no surrogates, nothing above U+10FFFF).
size_t Utf8Length(std::string_view text, size_t i) {
  const auto byte = [&](size_t k) { return static_cast<unsigned char>(text[k]); };
  const unsigned char b = byte(i);
  if (b < 0x80) return 1;
  size_t n = 0;
  unsigned char lo = 0x80;
  unsigned char hi = 0xBF;
  if (b >= 0xC2 && b <= 0xDF) {
    n = 2;
  } else if (b >= 0xE0 && b <= 0xEF) {
    n = 3;
    if (b == 0xE0) lo = 0xA0;
    if (b == 0xED) hi = 0x9F;
  } else if (b >= 0xF0 && b <= 0xF4) {
    n = 4;
    if (b == 0xF0) lo = 0x90;
    if (b == 0xF4) hi = 0x8F;
  } else {
    return 0;
  }
  if (i + n > text.size()) return 0;
  if (byte(i + 1) < lo || byte(i + 1) > hi) return 0;
  for (size_t k = 2; k < n; ++k) {
    if (byte(i + k) < 0x80 || byte(i + k) > 0xBF) return 0;
  }
  return n;
}

Json WithAttention(Json data, std::string_view why) {
  data["attention"] = std::string(why);
  return data;
}

}  // namespace

std::vector<NewEvent> SettlementEvents(const Catalog& catalog, const Payment& before,
                                       const Settlement& s, const Payment& after,
                                       const Subscription& subscription, Time now) {
  std::vector<NewEvent> out;
  if (!s.writes()) return out;
  const Json payment = PaymentEventData(catalog, after, subscription, now);
  if (s.changed() && s.to == PaymentStatus::kSuccess && before.status != PaymentStatus::kSuccess) {
    out.push_back({kPaymentSucceeded, payment});
  }
  if (s.changed() && s.to == PaymentStatus::kFailed) out.push_back({kPaymentFailed, payment});
  if (after.needs_attention && !before.needs_attention) {
    const std::string why = s.audit.empty() ? s.reason : s.audit.back().detail;
    out.push_back({kPaymentNeedsAttention, WithAttention(payment, why)});
  }
  if (s.activation && s.plan_change) {
    Json data = SubscriptionEventData(catalog, subscription, now, s.plan_change->from_plan);
    data["payment_id"] = after.id;
    const bool renewed = s.plan_change->kind == ActivationKind::kExtended;
    out.push_back({renewed ? kSubscriptionRenewed : kSubscriptionActivated, std::move(data)});
  }
  return out;
}

NewEvent AttentionEvent(const Catalog& catalog, const Payment& payment,
                        const Subscription& subscription, std::string_view why, Time now) {
  return {kPaymentNeedsAttention,
          WithAttention(PaymentEventData(catalog, payment, subscription, now), why)};
}

NewEvent ReminderEvent(const Catalog& catalog, const Subscription& subscription,
                       const Reminder& reminder, Time now) {
  std::string_view type = kSubscriptionRenewalDue;
  if (reminder.kind == ReminderKind::kGraceStarted) type = kSubscriptionGraceStarted;
  if (reminder.kind == ReminderKind::kExpired) type = kSubscriptionExpired;
  // Only an expiry changes the plan in force (to FREE): the plan that ended is the previous one.
  const bool expired = reminder.kind == ReminderKind::kExpired;
  Json data = SubscriptionEventData(catalog, subscription, now,
                                    expired ? std::optional(subscription.plan) : std::nullopt);
  data["reminder"] = {{"kind", to_string(reminder.kind)},
                      {"days_before", reminder.days_before},
                      {"trial", reminder.trial},
                      {"plan", reminder.plan},
                      {"period_end", FormatTime(reminder.period_end)},
                      {"ends_at", FormatTime(reminder.ends_at)}};
  return {type, std::move(data)};
}

NewEvent ChangeEvent(const Catalog& catalog, const Subscription& before, const Subscription& after,
                     ChangeKind kind, Time now) {
  Json data =
      SubscriptionEventData(catalog, after, now, std::string(PlanInForce(catalog, before, now)));
  data["change"] = to_string(kind);
  return {kSubscriptionChanged, std::move(data)};
}

NewEvent TrialEvent(const Catalog& catalog, const Subscription& after, const PlanChange& change,
                    Time now) {
  Json data = SubscriptionEventData(catalog, after, now, change.from_plan);
  if (change.from_plan != change.to_plan) {
    data["payment_id"] = nullptr;
    return {kSubscriptionActivated, std::move(data)};
  }
  data["change"] = "trial";
  return {kSubscriptionChanged, std::move(data)};
}

std::string LoggedText(std::string_view bytes, size_t max_bytes) {
  static constexpr std::string_view kReplacement = "\xEF\xBF\xBD";
  std::string out;
  out.reserve(std::min(bytes.size(), max_bytes));
  for (size_t i = 0; i < bytes.size();) {
    const size_t n = Utf8Length(bytes, i);
    const std::string_view piece = n == 0 ? kReplacement : bytes.substr(i, n);
    if (out.size() + piece.size() > max_bytes) break;
    out += piece;
    i += n == 0 ? 1 : n;
  }
  return out;
}

}  // namespace sima::server::webhook
