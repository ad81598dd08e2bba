#include "sima/refund.h"

#include <gtest/gtest.h>

#include "test_clock.h"

namespace sima {
namespace {

using testing::Active;
using testing::At;
using testing::Expired;
using testing::Free;

const Time kNow = At("2026-12-01T00:00:00Z");

std::string Day(Time t) { return FormatTime(t).substr(0, 10); }

// A SUCCESS payment of Rs 3,900 that started (or extended) `sub`.
RefundInput Input(int64_t refund, Subscription sub, RefundTarget target = RefundTarget::kStarted) {
  RefundInput in;
  in.status = PaymentStatus::kSuccess;
  in.amount_paisa = 390000;
  in.refund_paisa = refund;
  in.target = target;
  in.subscription = std::move(sub);
  in.catalog = &Catalog::Default();
  in.now = kNow;
  return in;
}

// One line per decision: "<payment after> refunded <n>; <effect> <plan start..end>" or the
// error's "<code>: <message>".
std::string Line(const RefundInput& in) {
  const auto d = DecideRefund(in);
  if (!d) return d.status().ToString();
  std::string out = std::string(to_string(d->status));
  if (!d->reason.empty()) out += "(" + d->reason + ")";
  if (d->needs_attention) out += "!";
  out +=
      " refunded " + std::to_string(d->refunded_paisa) + "; " + std::string(to_string(d->effect));
  if (d->subscription) {
    const Subscription& s = *d->subscription;
    out += " " + s.plan + " " + Day(s.start) + ".." + (s.end ? Day(*s.end) : "");
  }
  return out;
}

TEST(Refund, AFullRefundOfThePaymentThatStartedThePlanEndsItNow) {
  EXPECT_EQ(Line(Input(390000, Active("PRO"))),
            "REFUNDED(refunded) refunded 390000; ended FREE 2026-11-15..");
}

TEST(Refund, APartialRefundWithoutKeepPlanEndsThePlanAndStaysSuccess) {
  EXPECT_EQ(Line(Input(100000, Active("PRO"))), "SUCCESS refunded 100000; ended FREE 2026-11-15..");
}

TEST(Refund, APartialRefundWithKeepPlanKeepsThePlan) {
  RefundInput in = Input(100000, Active("PRO"));
  in.keep_plan = true;
  EXPECT_EQ(Line(in), "SUCCESS refunded 100000; none");
}

TEST(Refund, KeepPlanOnARefundThatLeavesNothingIsRefused) {
  RefundInput in = Input(390000, Active("PRO"));
  in.keep_plan = true;
  EXPECT_EQ(Line(in),
            "validation_error: keep_plan is only for a partial refund; this one leaves nothing of "
            "the payment");
}

TEST(Refund, TheLastPartOfAPaymentRefundsItInFull) {
  RefundInput in = Input(290000, Active("PRO"));
  in.refunded_paisa = 100000;
  EXPECT_EQ(Line(in), "REFUNDED(refunded) refunded 390000; ended FREE 2026-11-15..");
}

TEST(Refund, ARefundOfARenewalMovesTheEndBack) {
  RefundInput in = Input(390000, Active("PRO"), RefundTarget::kExtended);
  in.previous_end = At("2026-12-10T00:00:00Z");
  EXPECT_EQ(Line(in), "REFUNDED(refunded) refunded 390000; shortened PRO 2026-11-15..2026-12-10");
}

TEST(Refund, ARefundOfARenewalWhosePreviousEndHasPassedEndsThePlanNow) {
  RefundInput in = Input(390000, Active("PRO"), RefundTarget::kExtended);
  in.previous_end = At("2026-11-30T00:00:00Z");
  EXPECT_EQ(Line(in), "REFUNDED(refunded) refunded 390000; ended FREE 2026-11-15..");
}

TEST(Refund, APlanConflictPaymentChangesNoSubscriptionAndStopsNeedingAttention) {
  RefundInput in = Input(390000, Active("PRO"), RefundTarget::kNothing);
  in.reason = std::string(kPlanConflictReason);
  in.needs_attention = true;
  EXPECT_EQ(Line(in), "REFUNDED(plan_conflict: refunded) refunded 390000; none");
  in.refund_paisa = 1000;
  EXPECT_EQ(Line(in), "SUCCESS(plan_conflict: partly refunded) refunded 1000; none");
}

TEST(Refund, APaymentThatIsNoLongerTheLatestActivationChangesNoSubscription) {
  EXPECT_EQ(Line(Input(390000, Active("PRO"), RefundTarget::kNothing)),
            "REFUNDED(refunded) refunded 390000; none");
}

TEST(Refund, APlanThatAlreadyEndedIsLeftAlone) {
  EXPECT_EQ(Line(Input(390000, Expired("PRO"))), "REFUNDED(refunded) refunded 390000; none");
  EXPECT_EQ(Line(Input(390000, Free())), "REFUNDED(refunded) refunded 390000; none");
}

TEST(Refund, OtherAttentionFlagsStay) {
  RefundInput in = Input(1000, Active("PRO"));
  in.reason = "paid after FAILED";
  in.needs_attention = true;
  EXPECT_EQ(Line(in), "SUCCESS(paid after FAILED)! refunded 1000; ended FREE 2026-11-15..");
}

TEST(Refund, RefusesBadAmountsAndPaymentsThatAreNotSuccess) {
  struct Case {
    int64_t refund;
    int64_t refunded;
    int64_t pending;
    PaymentStatus status;
    std::string want;
  };
  const Case cases[] = {
      {0, 0, 0, PaymentStatus::kSuccess,
       "validation_error: amount_paisa must be a positive number of paisa"},
      {-5, 0, 0, PaymentStatus::kSuccess,
       "validation_error: amount_paisa must be a positive number of paisa"},
      {390001, 0, 0, PaymentStatus::kSuccess,
       "validation_error: amount_paisa 390001 is more than is left to refund (390000 paisa)"},
      {200000, 100000, 100000, PaymentStatus::kSuccess,
       "validation_error: amount_paisa 200000 is more than is left to refund (190000 paisa)"},
      {1000, 390000, 0, PaymentStatus::kSuccess,
       "conflict: nothing is left to refund: 390000 paisa refunded and 0 paisa pending of 390000 "
       "paisa"},
      {1000, 0, 390000, PaymentStatus::kSuccess,
       "conflict: nothing is left to refund: 0 paisa refunded and 390000 paisa pending of 390000 "
       "paisa"},
      {1000, 0, 0, PaymentStatus::kPending,
       "conflict: the payment is PENDING; only a SUCCESS payment can be refunded"},
      {1000, 0, 0, PaymentStatus::kFailed,
       "conflict: the payment is FAILED; only a SUCCESS payment can be refunded"},
      {1000, 390000, 0, PaymentStatus::kRefunded,
       "conflict: the payment is REFUNDED; only a SUCCESS payment can be refunded"},
  };
  for (const Case& c : cases) {
    RefundInput in = Input(c.refund, Active("PRO"));
    in.refunded_paisa = c.refunded;
    in.pending_paisa = c.pending;
    in.status = c.status;
    EXPECT_EQ(CheckRefund(in).ToString(), c.want) << c.refund;
    EXPECT_EQ(Line(in), c.want) << c.refund;
  }
}

TEST(Refund, TheAuditLineNamesTheAmountsAndTheEffect) {
  auto d = DecideRefund(Input(100000, Active("PRO")));
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->audit,
            "refund 100000 paisa (100000 paisa of 390000 paisa refunded); plan PRO "
            "ended: FREE");
  EXPECT_EQ(d->from_plan, "PRO");
}

}  // namespace
}  // namespace sima
