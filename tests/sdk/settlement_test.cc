#include "sima/settlement.h"

#include <gtest/gtest.h>

#include "test_clock.h"

namespace sima {
namespace {

using testing::Active;
using testing::At;
using testing::Expired;
using testing::Free;

// Every case settles at this moment; a started plan runs 2026-12-01..2026-12-31.
const Time kNow = At("2026-12-01T00:00:00Z");

std::string Day(Time t) { return FormatTime(t).substr(0, 10); }

// The payment as stored: "PENDING", "FAILED(Expired)", "PENDING!" (needs attention).
std::string RenderPayment(PaymentStatus status, const std::string& reason, bool attention) {
  std::string out(to_string(status));
  if (!reason.empty()) out += "(" + reason + ")";
  if (attention) out += "!";
  return out;
}

// One line per settlement, like LevelDB's write_batch_test renders a batch:
// "<payment> + <outcome> on <plan in force> -> <what the store writes>".
std::string Line(const SettleInput& in) {
  const Settlement s = Settle(in);
  std::string out = RenderPayment(in.status, in.reason, in.needs_attention) + " + " +
                    std::string(to_string(in.outcome.action));
  if (!in.outcome.reason.empty()) out += "(" + in.outcome.reason + ")";
  if (in.outcome.needs_attention) out += "!";
  out += " on " + std::string(EffectivePlan(in.subscription, in.now)) + " -> ";
  switch (s.kind) {
    case SettleKind::kUnchanged: out += "unchanged"; break;
    case SettleKind::kFlagged: out += "flag"; break;
    case SettleKind::kIllegal: out += "illegal, flag"; break;
    case SettleKind::kMoved:
      out += RenderPayment(s.to, s.reason, s.needs_attention);
      if (s.transaction_id) out += " txn " + *s.transaction_id;
      break;
  }
  if (s.activation) {
    const Subscription& sub = s.activation->subscription;
    out += "; " + std::string(s.activation->reset_usage() ? "start " : "extend ") + sub.plan + " " +
           Day(sub.start) + ".." + (sub.end ? Day(*sub.end) : "");
  }
  if (s.activation_refused) out += "; activation refused";
  if (s.reset_usage_from) out += "; reset usage from " + Day(*s.reset_usage_from);
  if (s.plan_change) {
    const PlanChange& c = *s.plan_change;
    out += "; change " + c.from_plan + "->" + c.to_plan + " " + std::string(to_string(c.kind)) +
           " by " + c.cause;
  }
  if (s.notify) out += "; notify";
  for (const AuditEvent& e : s.audit) {
    out += "; audit " + std::string(to_string(e.from)) + "->" + std::string(to_string(e.to)) +
           " \"" + e.detail + "\"";
  }
  return out;
}

// A payment of `plan` in `status`, settled by a callback at kNow on `sub`.
SettleInput Pay(PaymentStatus status, std::string plan, Subscription sub, Outcome outcome,
                std::string detail) {
  SettleInput in;
  in.status = status;
  in.plan = std::move(plan);
  in.outcome = std::move(outcome);
  in.detail = std::move(detail);
  in.subscription = std::move(sub);
  in.has_billing_email = true;
  in.catalog = &Catalog::Default();
  in.cause = "callback";
  in.now = kNow;
  return in;
}

constexpr int64_t kBasic = 190000;
constexpr int64_t kPro = 390000;

Outcome Khalti(std::string_view status, int64_t paisa) {
  return FromKhaltiLookup(status, paisa, paisa);
}
const char* kCompleted = "khalti status=Completed";

// The common case: a PENDING payment of BASIC on FREE, paid.
SettleInput PaidBasicOnFree() {
  return Pay(PaymentStatus::kPending, "BASIC", Free(), Khalti("Completed", kBasic), kCompleted);
}

TEST(Settle, PaidStartsThePlanResetsUsageRecordsTheChangeAndNotifies) {
  SettleInput in = PaidBasicOnFree();
  in.transaction_id = "T1";
  EXPECT_EQ(Line(in),
            "PENDING + activate on FREE -> SUCCESS txn T1; start BASIC 2026-12-01..2026-12-31; "
            "reset usage from 2026-12-01; change FREE->BASIC started by callback; notify; "
            "audit PENDING->SUCCESS \"khalti status=Completed\"");
}

TEST(Settle, PaidWithoutABillingEmailSaysSoInTheTrailInsteadOfNotifying) {
  SettleInput in = PaidBasicOnFree();
  in.has_billing_email = false;
  EXPECT_EQ(Line(in),
            "PENDING + activate on FREE -> SUCCESS; start BASIC 2026-12-01..2026-12-31; "
            "reset usage from 2026-12-01; change FREE->BASIC started by callback; "
            "audit PENDING->SUCCESS \"khalti status=Completed\"; "
            "audit SUCCESS->SUCCESS \"no confirmation e-mail: the organization has no "
            "billing_email\"");
}

TEST(Settle, PaidForTheActivePlanExtendsItAndKeepsUsage) {
  EXPECT_EQ(Line(Pay(PaymentStatus::kPending, "PRO", Active("PRO"), Khalti("Completed", kPro),
                     kCompleted)),
            "PENDING + activate on PRO -> SUCCESS; extend PRO 2026-11-15..2027-01-14; "
            "change PRO->PRO extended by callback; notify; "
            "audit PENDING->SUCCESS \"khalti status=Completed\"");
  // An upgrade over a cheaper active plan starts the new one.
  EXPECT_EQ(Line(Pay(PaymentStatus::kPending, "PRO", Active("BASIC"), Khalti("Completed", kPro),
                     kCompleted)),
            "PENDING + activate on BASIC -> SUCCESS; start PRO 2026-12-01..2026-12-31; "
            "reset usage from 2026-12-01; change BASIC->PRO started by callback; notify; "
            "audit PENDING->SUCCESS \"khalti status=Completed\"");
  // The same plan after it expired starts a new period: the change is from FREE.
  EXPECT_EQ(Line(Pay(PaymentStatus::kPending, "PRO", Expired("PRO"), Khalti("Completed", kPro),
                     kCompleted)),
            "PENDING + activate on FREE -> SUCCESS; start PRO 2026-12-01..2026-12-31; "
            "reset usage from 2026-12-01; change FREE->PRO started by callback; notify; "
            "audit PENDING->SUCCESS \"khalti status=Completed\"");
}

TEST(Settle, PaidForACheaperPlanThanTheActiveOneIsSuccessButRefusedAndFlagged) {
  EXPECT_EQ(Line(Pay(PaymentStatus::kPending, "BASIC", Active("PRO"), Khalti("Completed", kBasic),
                     kCompleted)),
            "PENDING + activate on PRO -> SUCCESS(plan_conflict: refund due)!; "
            "activation refused; audit PENDING->SUCCESS \"khalti status=Completed; "
            "plan_conflict: refund due (a pricier plan is active)\"");
}

TEST(Settle, PaidAfterFailureActivatesAndAsksForReviewNamingTheOldReason) {
  SettleInput in = Pay(PaymentStatus::kFailed, "PRO", Free(), Khalti("Completed", kPro),
                       "khalti status=Completed total=390000");
  in.reason = "Expired";
  EXPECT_EQ(Line(in),
            "FAILED(Expired) + activate on FREE -> SUCCESS(paid_after_failure)!; "
            "start PRO 2026-12-01..2026-12-31; reset usage from 2026-12-01; "
            "change FREE->PRO started by callback; notify; audit FAILED->SUCCESS "
            "\"khalti status=Completed total=390000; paid after it had failed (Expired): "
            "activated, needs review\"");
  in.reason = "";
  in.subscription = Active("PRO");
  EXPECT_EQ(Line(in),
            "FAILED + activate on PRO -> SUCCESS(paid_after_failure)!; "
            "extend PRO 2026-11-15..2027-01-14; change PRO->PRO extended by callback; notify; "
            "audit FAILED->SUCCESS \"khalti status=Completed total=390000; paid after it had "
            "failed (no reason): activated, needs review\"");
  // Paid after failure, and a pricier plan is active by now: both are said.
  SettleInput basic =
      Pay(PaymentStatus::kFailed, "BASIC", Active("PRO"), Khalti("Completed", kBasic), kCompleted);
  basic.reason = "Expired";
  EXPECT_EQ(Line(basic),
            "FAILED(Expired) + activate on PRO -> SUCCESS(plan_conflict: refund due)!; "
            "activation refused; audit FAILED->SUCCESS \"khalti status=Completed; paid after "
            "it had failed (Expired): activated, needs review; plan_conflict: refund due "
            "(a pricier plan is active)\"");
}

TEST(Settle, FailuresAndRefundsMoveWithTheirReasonAndNoActivation) {
  EXPECT_EQ(Line(Pay(PaymentStatus::kPending, "PRO", Free(), Khalti("Expired", kPro),
                     "khalti status=Expired")),
            "PENDING + fail(Expired) on FREE -> FAILED(Expired); "
            "audit PENDING->FAILED \"khalti status=Expired; Expired\"");
  EXPECT_EQ(
      Line(Pay(PaymentStatus::kPending, "PRO", Free(), FromKhaltiLookup("Completed", 100, kPro),
               "khalti status=Completed total=100")),
      "PENDING + fail(amount_mismatch)! on FREE -> FAILED(amount_mismatch)!; "
      "audit PENDING->FAILED \"khalti status=Completed total=100; amount_mismatch\"");
  // A refund before we saw it complete: never delivered, so it fails.
  EXPECT_EQ(Line(Pay(PaymentStatus::kPending, "PRO", Free(), Khalti("Refunded", kPro), "")),
            "PENDING + refund(Refunded) on FREE -> FAILED(Refunded); "
            "audit PENDING->FAILED \"Refunded\"");
  SettleInput paid = Pay(PaymentStatus::kSuccess, "PRO", Active("PRO"),
                         Khalti("Partially Refunded", kPro), "khalti status=Partially Refunded");
  EXPECT_EQ(Line(paid),
            "SUCCESS + refund(Partially Refunded)! on PRO -> REFUNDED(Partially Refunded)!; "
            "audit SUCCESS->REFUNDED \"khalti status=Partially Refunded; Partially Refunded\"");
}

TEST(Settle, NeedsAttentionIsSticky) {
  SettleInput in =
      Pay(PaymentStatus::kPending, "PRO", Free(), Khalti("Expired", kPro), "khalti status=Expired");
  in.needs_attention = true;
  EXPECT_EQ(Line(in),
            "PENDING! + fail(Expired) on FREE -> FAILED(Expired)!; "
            "audit PENDING->FAILED \"khalti status=Expired; Expired\"");
  SettleInput paid = PaidBasicOnFree();
  paid.needs_attention = true;
  EXPECT_EQ(Line(paid),
            "PENDING! + activate on FREE -> SUCCESS!; start BASIC 2026-12-01..2026-12-31; "
            "reset usage from 2026-12-01; change FREE->BASIC started by callback; notify; "
            "audit PENDING->SUCCESS \"khalti status=Completed\"");
}

TEST(Settle, StillPendingWritesNothingUnlessAHumanMustLookThenOnce) {
  EXPECT_EQ(Line(Pay(PaymentStatus::kPending, "PRO", Free(), Khalti("Pending", kPro),
                     "khalti status=Pending")),
            "PENDING + keep_pending(Pending) on FREE -> unchanged");
  EXPECT_EQ(Line(Pay(PaymentStatus::kPending, "PRO", Free(),
                     GatewayUnreachable("gateway_unavailable"), "khalti timeout")),
            "PENDING + keep_pending(gateway_unavailable) on FREE -> unchanged");
  SettleInput unknown =
      Pay(PaymentStatus::kPending, "PRO", Free(), Khalti("Weird", kPro), "khalti status=Weird");
  EXPECT_EQ(Line(unknown),
            "PENDING + keep_pending(unknown_status)! on FREE -> flag; "
            "audit PENDING->PENDING \"needs attention; khalti status=Weird; unknown_status\"");
  // Once flagged, the same answer again writes nothing.
  unknown.needs_attention = true;
  EXPECT_EQ(Line(unknown), "PENDING! + keep_pending(unknown_status)! on FREE -> unchanged");
  // Only a PENDING payment is flagged this way.
  SettleInput failed = unknown;
  failed.status = PaymentStatus::kFailed;
  failed.needs_attention = false;
  failed.reason = "Expired";
  EXPECT_EQ(Line(failed), "FAILED(Expired) + keep_pending(unknown_status)! on FREE -> unchanged");
}

TEST(Settle, RepeatsOfADecidedOutcomeWriteNothing) {
  EXPECT_EQ(Line(Pay(PaymentStatus::kSuccess, "PRO", Active("PRO"), Khalti("Completed", kPro),
                     kCompleted)),
            "SUCCESS + activate on PRO -> unchanged");
  EXPECT_EQ(Line(Pay(PaymentStatus::kSuccess, "PRO", Active("PRO"), Khalti("Pending", kPro),
                     "khalti status=Pending")),
            "SUCCESS + keep_pending(Pending) on PRO -> unchanged");
  SettleInput failed =
      Pay(PaymentStatus::kFailed, "PRO", Free(), Khalti("Expired", kPro), "khalti status=Expired");
  failed.reason = "Expired";
  EXPECT_EQ(Line(failed), "FAILED(Expired) + fail(Expired) on FREE -> unchanged");
  SettleInput refunded = Pay(PaymentStatus::kRefunded, "PRO", Free(), Khalti("Refunded", kPro),
                             "khalti status=Refunded");
  refunded.reason = "Refunded";
  EXPECT_EQ(Line(refunded), "REFUNDED(Refunded) + refund(Refunded) on FREE -> unchanged");
}

TEST(Settle, IllegalMovesChangeNothingButFlagAndAudit) {
  EXPECT_EQ(Line(Pay(PaymentStatus::kSuccess, "PRO", Active("PRO"), Khalti("Expired", kPro),
                     "khalti status=Expired")),
            "SUCCESS + fail(Expired) on PRO -> illegal, flag; audit SUCCESS->SUCCESS "
            "\"illegal: a SUCCESS payment cannot become FAILED (gateway said fail: Expired); "
            "khalti status=Expired; Expired\"");
  SettleInput refunded =
      Pay(PaymentStatus::kRefunded, "PRO", Free(), Khalti("Completed", kPro), kCompleted);
  refunded.reason = "Refunded";
  refunded.needs_attention = true;
  EXPECT_EQ(Line(refunded),
            "REFUNDED(Refunded)! + activate on FREE -> illegal, flag; audit REFUNDED->REFUNDED "
            "\"illegal: a REFUNDED payment cannot become SUCCESS (gateway said activate); "
            "khalti status=Completed\"");
}

TEST(Settle, KeepsTheStoredReasonAndStatusWhenNothingMoves) {
  SettleInput in =
      Pay(PaymentStatus::kFailed, "PRO", Free(), Khalti("Expired", kPro), "khalti status=Expired");
  in.reason = "Expired";
  in.transaction_id = "T9";
  const Settlement s = Settle(in);
  EXPECT_FALSE(s.writes());
  EXPECT_FALSE(s.changed());
  EXPECT_EQ(s.to, PaymentStatus::kFailed);
  EXPECT_EQ(s.reason, "Expired");
  EXPECT_FALSE(s.transaction_id.has_value());
  EXPECT_TRUE(s.audit.empty());
}

TEST(Settle, ThePlanChangeRowNamesItsMomentAndCause) {
  SettleInput in =
      Pay(PaymentStatus::kPending, "PRO", Free(), Khalti("Completed", kPro), kCompleted);
  in.cause = "reconciler";
  const Settlement s = Settle(in);
  ASSERT_TRUE(s.plan_change.has_value());
  EXPECT_EQ(*s.plan_change, (PlanChange{kNow, "reconciler", "FREE", "PRO", kNow,
                                        At("2026-12-31T00:00:00Z"), ActivationKind::kStarted}));
  EXPECT_TRUE(s.changed());
  EXPECT_TRUE(s.activated());
}

}  // namespace
}  // namespace sima
