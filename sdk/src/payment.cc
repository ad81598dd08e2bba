#include "sima/payment.h"

#include "sima/text.h"

namespace sima {
namespace {

Outcome Make(Action action, std::string_view reason, bool attention = false) {
  return Outcome{action, std::string(reason), attention};
}

// Shared by both gateways: a paid answer activates only for exactly the stored amount.
Outcome Paid(int64_t reported_paisa, int64_t expected_paisa) {
  if (reported_paisa != expected_paisa) return Make(Action::kFail, "amount_mismatch", true);
  return Make(Action::kActivate, "");
}

}  // namespace

std::string_view to_string(PaymentStatus status) {
  switch (status) {
    case PaymentStatus::kPending: return "PENDING";
    case PaymentStatus::kSuccess: return "SUCCESS";
    case PaymentStatus::kFailed: return "FAILED";
    case PaymentStatus::kRefunded: return "REFUNDED";
  }
  return "PENDING";
}

std::string_view to_string(Provider provider) {
  return provider == Provider::kKhalti ? "KHALTI" : "ESEWA";
}

std::string_view to_string(Action action) {
  switch (action) {
    case Action::kKeepPending: return "keep_pending";
    case Action::kActivate: return "activate";
    case Action::kFail: return "fail";
    case Action::kRefund: return "refund";
  }
  return "keep_pending";
}

std::optional<PaymentStatus> ParsePaymentStatus(std::string_view text) {
  for (auto s : {PaymentStatus::kPending, PaymentStatus::kSuccess, PaymentStatus::kFailed,
                 PaymentStatus::kRefunded}) {
    if (to_string(s) == text) return s;
  }
  return std::nullopt;
}

std::optional<Provider> ParseProvider(std::string_view text) {
  if (text == "KHALTI") return Provider::kKhalti;
  if (text == "ESEWA") return Provider::kEsewa;
  return std::nullopt;
}

Outcome FromKhaltiLookup(std::string_view status, int64_t reported_paisa, int64_t expected_paisa) {
  if (EqualsIgnoreCase(status, "Completed")) return Paid(reported_paisa, expected_paisa);
  if (EqualsIgnoreCase(status, "Pending") || EqualsIgnoreCase(status, "Initiated")) {
    return Make(Action::kKeepPending, status);
  }
  if (EqualsIgnoreCase(status, "Refunded")) return Make(Action::kRefund, "Refunded");
  if (EqualsIgnoreCase(status, "Partially Refunded"))
    return Make(Action::kRefund, "Partially Refunded", true);
  // K-DOC: "Status Canceled, Expired, Failed must be treated as failed".
  for (std::string_view failed : {"Expired", "User canceled", "Canceled", "Failed"}) {
    if (EqualsIgnoreCase(status, failed)) return Make(Action::kFail, failed);
  }
  // K-DOC: any other status — hold the transaction and contact Khalti.
  return Make(Action::kKeepPending, "unknown_status", true);
}

Outcome FromEsewaStatus(std::optional<std::string_view> status, int64_t reported_paisa,
                        int64_t expected_paisa) {
  if (!status) return Make(Action::kKeepPending, "gateway_unavailable");
  if (*status == "COMPLETE") return Paid(reported_paisa, expected_paisa);
  if (*status == "PENDING" || *status == "AMBIGUOUS") return Make(Action::kKeepPending, *status);
  if (*status == "NOT_FOUND" || *status == "CANCELED") return Make(Action::kFail, *status);
  if (*status == "FULL_REFUND") return Make(Action::kRefund, "FULL_REFUND");
  if (*status == "PARTIAL_REFUND") return Make(Action::kRefund, "PARTIAL_REFUND", true);
  return Make(Action::kKeepPending, "unknown_status", true);
}

Time EsewaSessionEnd(Time created_at, std::chrono::seconds session) { return created_at + session; }

Outcome FromEsewaStatusAt(std::optional<std::string_view> status, int64_t reported_paisa,
                          int64_t expected_paisa, Time created_at, Time now,
                          std::chrono::seconds session) {
  // eSewa also says NOT_FOUND for a uuid it has not seen yet: the payer may be on their way.
  if (status && *status == "NOT_FOUND" && now < EsewaSessionEnd(created_at, session)) {
    return Make(Action::kKeepPending, "NOT_FOUND");
  }
  return FromEsewaStatus(status, reported_paisa, expected_paisa);
}

Outcome FromKhaltiNotFound(std::optional<Time> expires_at, Time created_at, Time now,
                           std::chrono::seconds fallback_lifetime, std::chrono::seconds grace) {
  const Time expiry = expires_at ? *expires_at : created_at + fallback_lifetime;
  if (now < expiry + grace) return Make(Action::kKeepPending, "not_found");
  return Make(Action::kFail, "not_found");
}

bool PayerMayStillPay(Provider provider, Time created_at, std::optional<Time> expires_at, Time now,
                      std::chrono::seconds esewa_session, std::chrono::seconds margin) {
  switch (provider) {
    case Provider::kKhalti: return expires_at && now + margin < *expires_at;
    case Provider::kEsewa: return now + margin < EsewaSessionEnd(created_at, esewa_session);
  }
  return false;
}

Outcome GatewayUnreachable(std::string reason) {
  return Outcome{Action::kKeepPending, std::move(reason), false};
}

Result<Transition> Apply(PaymentStatus current, const Outcome& outcome) {
  Transition t{current, current, false, false, outcome.reason, ""};
  const auto illegal = [&](PaymentStatus to) {
    return Status::IllegalTransition("a " + std::string(to_string(current)) +
                                     " payment cannot become " + std::string(to_string(to)) +
                                     " (gateway said " + std::string(to_string(outcome.action)) +
                                     (outcome.reason.empty() ? "" : ": " + outcome.reason) + ")");
  };
  const auto move = [&](PaymentStatus to) {
    t.to = to;
    t.changed = true;
    t.activate = to == PaymentStatus::kSuccess;
    return t;
  };
  const auto stay = [&](std::string note) {
    t.note = std::move(note);
    return t;
  };
  const std::string already = "already " + std::string(to_string(current));

  switch (current) {
    case PaymentStatus::kPending:
      switch (outcome.action) {
        case Action::kKeepPending: return stay("still pending");
        case Action::kActivate: return move(PaymentStatus::kSuccess);
        // A refund before we ever saw the payment complete: it was never delivered.
        case Action::kFail:
        case Action::kRefund: return move(PaymentStatus::kFailed);
      }
      break;
    case PaymentStatus::kSuccess:
      switch (outcome.action) {
        case Action::kActivate: return stay(already);
        case Action::kKeepPending: return stay(already + "; the gateway's later answer is ignored");
        case Action::kRefund: return move(PaymentStatus::kRefunded);
        case Action::kFail: return illegal(PaymentStatus::kFailed);
      }
      break;
    case PaymentStatus::kFailed:
      switch (outcome.action) {
        case Action::kFail:
        case Action::kRefund:
        case Action::kKeepPending: return stay(already);
        // Paid after we had failed it: the money was taken, the payer gets the plan, and a
        // human reviews the earlier failure (see Apply in payment.h).
        case Action::kActivate:
          t.needs_attention = true;
          t.reason = "paid_after_failure";
          return move(PaymentStatus::kSuccess);
      }
      break;
    case PaymentStatus::kRefunded:
      switch (outcome.action) {
        case Action::kRefund:
        case Action::kKeepPending: return stay(already);
        case Action::kActivate: return illegal(PaymentStatus::kSuccess);
        case Action::kFail: return illegal(PaymentStatus::kFailed);
      }
      break;
  }
  return illegal(current);
}

}  // namespace sima
