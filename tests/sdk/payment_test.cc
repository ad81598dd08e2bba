#include "sima/payment.h"

#include <gtest/gtest.h>

namespace sima {
namespace {

constexpr int64_t kPro = 390000;

TEST(KhaltiLookup, OnlyCompletedForTheStoredAmountActivates) {
  const Outcome ok = FromKhaltiLookup("Completed", kPro, kPro);
  EXPECT_EQ(ok.action, Action::kActivate);
  EXPECT_FALSE(ok.needs_attention);

  const Outcome short_paid = FromKhaltiLookup("Completed", kPro - 100, kPro);
  EXPECT_EQ(short_paid.action, Action::kFail);
  EXPECT_EQ(short_paid.reason, "amount_mismatch");
  EXPECT_TRUE(short_paid.needs_attention);
  EXPECT_EQ(FromKhaltiLookup("Completed", kPro + 1, kPro).reason, "amount_mismatch");
}

TEST(KhaltiLookup, MapsEveryDocumentedStatus) {
  struct Case {
    const char* status;
    Action action;
    const char* reason;
    bool attention;
  };
  const Case cases[] = {
      {"Pending", Action::kKeepPending, "Pending", false},
      {"Initiated", Action::kKeepPending, "Initiated", false},
      {"Expired", Action::kFail, "Expired", false},
      {"User canceled", Action::kFail, "User canceled", false},
      {"Canceled", Action::kFail, "Canceled", false},
      {"Failed", Action::kFail, "Failed", false},
      {"Refunded", Action::kRefund, "Refunded", false},
      {"Partially Refunded", Action::kRefund, "Partially Refunded", true},
      // The docs spell it two ways: compare without case.
      {"Partially refunded", Action::kRefund, "Partially Refunded", true},
      {"completed", Action::kActivate, "", false},
      {"Reversed", Action::kKeepPending, "unknown_status", true},
      {"", Action::kKeepPending, "unknown_status", true},
  };
  for (const Case& c : cases) {
    const Outcome o = FromKhaltiLookup(c.status, kPro, kPro);
    EXPECT_EQ(o.action, c.action) << c.status;
    EXPECT_EQ(o.reason, c.reason) << c.status;
    EXPECT_EQ(o.needs_attention, c.attention) << c.status;
  }
}

TEST(EsewaStatus, MapsEveryDocumentedStatus) {
  struct Case {
    std::optional<std::string_view> status;
    Action action;
    const char* reason;
    bool attention;
  };
  const Case cases[] = {
      {"COMPLETE", Action::kActivate, "", false},
      {"PENDING", Action::kKeepPending, "PENDING", false},
      {"AMBIGUOUS", Action::kKeepPending, "AMBIGUOUS", false},
      {"NOT_FOUND", Action::kFail, "NOT_FOUND", false},
      {"CANCELED", Action::kFail, "CANCELED", false},
      {"FULL_REFUND", Action::kRefund, "FULL_REFUND", false},
      {"PARTIAL_REFUND", Action::kRefund, "PARTIAL_REFUND", true},
      {std::nullopt, Action::kKeepPending, "gateway_unavailable", false},  // outage body
      {"SOMETHING_NEW", Action::kKeepPending, "unknown_status", true},
  };
  for (const Case& c : cases) {
    const Outcome o = FromEsewaStatus(c.status, kPro, kPro);
    EXPECT_EQ(o.action, c.action) << c.status.value_or("(outage)");
    EXPECT_EQ(o.reason, c.reason) << c.status.value_or("(outage)");
    EXPECT_EQ(o.needs_attention, c.attention) << c.status.value_or("(outage)");
  }
  EXPECT_EQ(FromEsewaStatus("COMPLETE", kPro - 1, kPro).reason, "amount_mismatch");
}

TEST(PaymentMachine, PendingMovesToSuccessAndActivatesOnce) {
  const auto t = Apply(PaymentStatus::kPending, FromKhaltiLookup("Completed", kPro, kPro));
  ASSERT_TRUE(t.ok());
  EXPECT_TRUE(t->changed);
  EXPECT_TRUE(t->activate);
  EXPECT_EQ(t->to, PaymentStatus::kSuccess);

  const auto again = Apply(t->to, FromKhaltiLookup("Completed", kPro, kPro));
  ASSERT_TRUE(again.ok());
  EXPECT_FALSE(again->changed);
  EXPECT_FALSE(again->activate);
  EXPECT_EQ(again->note, "already SUCCESS");
}

TEST(PaymentMachine, PendingStaysPendingWhileUndecided) {
  for (const Outcome& o :
       {FromKhaltiLookup("Initiated", 0, kPro), GatewayUnreachable("gateway_timeout"),
        FromEsewaStatus(std::nullopt, 0, kPro)}) {
    const auto t = Apply(PaymentStatus::kPending, o);
    ASSERT_TRUE(t.ok());
    EXPECT_FALSE(t->changed);
    EXPECT_FALSE(t->activate);
    EXPECT_EQ(t->to, PaymentStatus::kPending);
    EXPECT_EQ(t->note, "still pending");
  }
}

TEST(PaymentMachine, PendingFailsWithTheGatewaysReason) {
  const auto t = Apply(PaymentStatus::kPending, FromKhaltiLookup("User canceled", kPro, kPro));
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(t->to, PaymentStatus::kFailed);
  EXPECT_EQ(t->reason, "User canceled");
  EXPECT_FALSE(t->activate);
  const auto twice = Apply(PaymentStatus::kFailed, FromKhaltiLookup("User canceled", kPro, kPro));
  ASSERT_TRUE(twice.ok());
  EXPECT_FALSE(twice->changed);
  EXPECT_EQ(twice->note, "already FAILED");
}

TEST(PaymentMachine, AmountMismatchFailsAndNeverActivates) {
  const auto t = Apply(PaymentStatus::kPending, FromKhaltiLookup("Completed", 100000, kPro));
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(t->to, PaymentStatus::kFailed);
  EXPECT_EQ(t->reason, "amount_mismatch");
  EXPECT_FALSE(t->activate);
}

TEST(PaymentMachine, SuccessCanBeRefundedOnce) {
  const auto t = Apply(PaymentStatus::kSuccess, FromKhaltiLookup("Refunded", kPro, kPro));
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(t->to, PaymentStatus::kRefunded);
  EXPECT_TRUE(t->changed);
  const auto again = Apply(PaymentStatus::kRefunded, FromKhaltiLookup("Refunded", kPro, kPro));
  ASSERT_TRUE(again.ok());
  EXPECT_FALSE(again->changed);
}

TEST(PaymentMachine, RefundBeforeSuccessIsAFailure) {
  const auto t = Apply(PaymentStatus::kPending, FromEsewaStatus("FULL_REFUND", kPro, kPro));
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(t->to, PaymentStatus::kFailed);
  EXPECT_EQ(t->reason, "FULL_REFUND");
}

TEST(PaymentMachine, SuccessIgnoresALaterPendingAnswer) {
  const auto t = Apply(PaymentStatus::kSuccess, FromKhaltiLookup("Pending", kPro, kPro));
  ASSERT_TRUE(t.ok());
  EXPECT_FALSE(t->changed);
  EXPECT_EQ(t->to, PaymentStatus::kSuccess);
}

TEST(PaymentMachine, RefusesEachIllegalMove) {
  struct Case {
    PaymentStatus from;
    Outcome outcome;
    const char* message;
  };
  const Case cases[] = {
      {PaymentStatus::kSuccess, FromKhaltiLookup("Expired", kPro, kPro),
       "a SUCCESS payment cannot become FAILED (gateway said fail: Expired)"},
      {PaymentStatus::kRefunded, FromKhaltiLookup("Completed", kPro, kPro),
       "a REFUNDED payment cannot become SUCCESS (gateway said activate)"},
      {PaymentStatus::kRefunded, FromEsewaStatus("CANCELED", kPro, kPro),
       "a REFUNDED payment cannot become FAILED (gateway said fail: CANCELED)"},
  };
  for (const Case& c : cases) {
    const auto t = Apply(c.from, c.outcome);
    ASSERT_FALSE(t.ok()) << c.message;
    EXPECT_EQ(t.status().code(), Code::kIllegalTransition);
    EXPECT_EQ(t.status().message(), c.message);
  }
}

TEST(PaymentMachine, NamesRoundTrip) {
  for (auto s : {PaymentStatus::kPending, PaymentStatus::kSuccess, PaymentStatus::kFailed,
                 PaymentStatus::kRefunded}) {
    EXPECT_EQ(ParsePaymentStatus(to_string(s)), s);
  }
  EXPECT_FALSE(ParsePaymentStatus("pending").has_value());
  EXPECT_EQ(ParseProvider("KHALTI"), Provider::kKhalti);
  EXPECT_EQ(ParseProvider("ESEWA"), Provider::kEsewa);
  EXPECT_FALSE(ParseProvider("PAYPAL").has_value());
  EXPECT_EQ(to_string(Provider::kEsewa), "ESEWA");
}

}  // namespace
}  // namespace sima

namespace sima {
namespace {

constexpr int64_t kPrice = 390000;
const Time kInit = Time{std::chrono::seconds{1'800'000'000}};
constexpr std::chrono::seconds kHour{3600};

TEST(PaymentPayerWindow, EsewaNotFoundFailsOnlyAfterTheSessionCanHaveEnded) {
  struct Case {
    const char* status;
    std::chrono::seconds since_init;
    Action action;
  };
  const Case cases[] = {
      {"NOT_FOUND", std::chrono::seconds{5}, Action::kKeepPending},
      {"NOT_FOUND", std::chrono::seconds{120}, Action::kKeepPending},
      {"NOT_FOUND", kHour - std::chrono::seconds{1}, Action::kKeepPending},
      {"NOT_FOUND", kHour, Action::kFail},
      {"NOT_FOUND", 30 * kHour, Action::kFail},
      // eSewa's own final words do not wait for the session.
      {"CANCELED", std::chrono::seconds{5}, Action::kFail},
      {"FULL_REFUND", std::chrono::seconds{5}, Action::kRefund},
      // Never failures, however late.
      {"PENDING", 30 * kHour, Action::kKeepPending},
      {"AMBIGUOUS", 30 * kHour, Action::kKeepPending},
      {"COMPLETE", std::chrono::seconds{5}, Action::kActivate},
      {"COMPLETE", 30 * kHour, Action::kActivate},
  };
  for (const Case& c : cases) {
    const Outcome o =
        FromEsewaStatusAt(c.status, kPrice, kPrice, kInit, kInit + c.since_init, kHour);
    EXPECT_EQ(o.action, c.action) << c.status << " after " << c.since_init.count() << " s";
  }
  EXPECT_EQ(FromEsewaStatusAt("NOT_FOUND", 0, kPrice, kInit, kInit + std::chrono::seconds{5}, kHour)
                .reason,
            "NOT_FOUND");
  // The outage body is never a failure.
  EXPECT_EQ(FromEsewaStatusAt(std::nullopt, 0, kPrice, kInit, kInit + 30 * kHour, kHour).action,
            Action::kKeepPending);
}

TEST(PaymentPayerWindow, KhaltiNotFoundFailsOnlyAfterThePidxExpired) {
  const Time expires = kInit + kHour;
  const std::chrono::seconds grace{600};
  EXPECT_EQ(
      FromKhaltiNotFound(expires, kInit, kInit + std::chrono::seconds{5}, kHour, grace).action,
      Action::kKeepPending);
  EXPECT_EQ(
      FromKhaltiNotFound(expires, kInit, expires + grace - std::chrono::seconds{1}, kHour, grace)
          .action,
      Action::kKeepPending);
  const Outcome late = FromKhaltiNotFound(expires, kInit, expires + grace, kHour, grace);
  EXPECT_EQ(late.action, Action::kFail);
  EXPECT_EQ(late.reason, "not_found");
  // No known expiry: the fallback lifetime counts from init.
  EXPECT_EQ(FromKhaltiNotFound(std::nullopt, kInit, kInit + kHour, 2 * kHour, grace).action,
            Action::kKeepPending);
  EXPECT_EQ(FromKhaltiNotFound(std::nullopt, kInit, kInit + 3 * kHour, 2 * kHour, grace).action,
            Action::kFail);
  // Khalti's own Expired is final whenever it comes: Khalti says it only after the lifetime.
  EXPECT_EQ(FromKhaltiLookup("Expired", 0, kPrice).action, Action::kFail);
  EXPECT_EQ(FromKhaltiLookup("Initiated", 0, kPrice).action, Action::kKeepPending);
  EXPECT_EQ(FromKhaltiLookup("Pending", 0, kPrice).action, Action::kKeepPending);
}

TEST(PaymentPayerWindow, AnOpenPaymentIsOfferedAgainOnlyWhileItCanStillBePaid) {
  const std::chrono::seconds margin{300};
  const Time expires = kInit + kHour;
  EXPECT_TRUE(PayerMayStillPay(Provider::kKhalti, kInit, expires, kInit + std::chrono::seconds{60},
                               kHour, margin));
  EXPECT_FALSE(
      PayerMayStillPay(Provider::kKhalti, kInit, expires, expires - margin, kHour, margin));
  EXPECT_FALSE(PayerMayStillPay(Provider::kKhalti, kInit, std::nullopt, kInit, kHour, margin));
  EXPECT_TRUE(PayerMayStillPay(Provider::kEsewa, kInit, std::nullopt,
                               kInit + std::chrono::seconds{60}, kHour, margin));
  EXPECT_FALSE(PayerMayStillPay(Provider::kEsewa, kInit, std::nullopt, kInit + kHour - margin,
                                kHour, margin));
}

TEST(PaymentMachine, PaidAfterFailureActivatesAndAsksForReview) {
  const auto t = Apply(PaymentStatus::kFailed, FromEsewaStatus("COMPLETE", kPrice, kPrice));
  ASSERT_TRUE(t.ok());
  EXPECT_TRUE(t->changed);
  EXPECT_EQ(t->to, PaymentStatus::kSuccess);
  EXPECT_TRUE(t->activate);
  EXPECT_TRUE(t->needs_attention);
  EXPECT_EQ(t->reason, "paid_after_failure");
  // Not for the amount we asked: it stays FAILED.
  const auto wrong = Apply(PaymentStatus::kFailed, FromEsewaStatus("COMPLETE", kPrice - 1, kPrice));
  ASSERT_TRUE(wrong.ok());
  EXPECT_FALSE(wrong->changed);
  // A normal activation needs no review.
  EXPECT_FALSE(
      Apply(PaymentStatus::kPending, FromEsewaStatus("COMPLETE", kPrice, kPrice))->needs_attention);
}

}  // namespace
}  // namespace sima
