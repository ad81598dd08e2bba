// Payments in every store (the contract suite, store_contract.h): the exactly-once apply step,
// its audit trail, activation, the outbox, and the reconciler and outbox sender driven by hand
// with a fake clock.
#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "auth.h"
#include "outbox_sender.h"
#include "payment_flow.h"
#include "reconciler.h"
#include "store_contract.h"

namespace sima::server::testing {
namespace {

class StorePayments : public StoreContract {};
INSTANTIATE_TEST_SUITE_P(Stores, StorePayments,
                         ::testing::Values(StoreKind::kSqlite, StoreKind::kPostgres), StoreName);

TEST_P(StorePayments, CreateTakesTheAmountFromTheCatalogAndRefusesWhatCannotBeBought) {
  const std::string org = NewOrgId();
  Payment p = NewPayment(org);
  EXPECT_EQ(p.amount_paisa, 390000);
  EXPECT_EQ(p.status, PaymentStatus::kPending);
  EXPECT_EQ(p.purchase_order_id.rfind("pay_" + std::to_string(p.id) + "_", 0), 0u);
  EXPECT_EQ(p.reference_id, "pidx_" + std::to_string(p.id));
  auto free = store_->CreatePayment(org, Provider::kKhalti, "FREE", "x", now_, now_);
  EXPECT_EQ(free.error().kind, ErrorKind::kInvalidPlan);
  const std::string pro = NewOrgId("PRO");
  auto lower = store_->CreatePayment(pro, Provider::kKhalti, "BASIC", "y", now_, now_);
  EXPECT_EQ(lower.error().kind, ErrorKind::kConflict);
  EXPECT_EQ(Count("SELECT COUNT(*) FROM payments"), 1);
}

TEST_P(StorePayments, CompletedActivatesOnceResetsUsageAndQueuesOneEmail) {
  const std::string org = NewOrgId();
  ASSERT_TRUE(
      store_->CreateInvoice(org, {NewId("inv").value(), 1, std::nullopt, "", now_}, now_).ok());
  Payment p = NewPayment(org);
  const Time later = now_ + std::chrono::hours{1};
  auto first = store_->ApplyPaymentOutcome(p.id, org, Said("Completed", 390000),
                                           PaymentCause::kVerify, later);
  ASSERT_TRUE(first.ok()) << first.error().message;
  EXPECT_TRUE(first->changed);
  EXPECT_TRUE(first->activated);
  EXPECT_EQ(first->state.payment.status, PaymentStatus::kSuccess);
  EXPECT_EQ(first->state.payment.transaction_id, "txn_1");
  EXPECT_EQ(first->state.subscription.plan, "PRO");
  EXPECT_EQ(first->state.subscription.start, later);
  EXPECT_EQ(first->state.subscription.end, later + Days{30});
  auto again =
      store_->ApplyPaymentOutcome(p.id, org, Said("Completed", 390000), PaymentCause::kCallback,
                                  later + std::chrono::seconds{1});
  ASSERT_TRUE(again.ok());
  EXPECT_FALSE(again->changed);
  EXPECT_FALSE(again->activated);
  EXPECT_EQ(again->state.subscription, first->state.subscription);
  EXPECT_EQ(store_->ReadUsage(org, later)->usage.count("invoices"), 0u);
  EXPECT_EQ(Count("SELECT COUNT(*) FROM plan_changes WHERE kind = 'started' AND cause = 'verify'"),
            1);
  EXPECT_EQ(Count("SELECT COUNT(*) FROM outbox"), 1);
  EXPECT_EQ(Count("SELECT COUNT(*) FROM payment_events WHERE to_status = 'SUCCESS'"), 1);
  // Another org cannot apply it.
  EXPECT_EQ(store_
                ->ApplyPaymentOutcome(p.id, NewOrgId(), Said("Completed", 390000),
                                      PaymentCause::kVerify, later)
                .error()
                .kind,
            ErrorKind::kNotFound);
}

TEST_P(StorePayments, ConcurrentOutcomesActivateExactlyOnce) {
  const std::string org = NewOrgId();
  Payment p = NewPayment(org);
  std::atomic<int> activated{0};
  std::atomic<int> changed{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < 50; ++i) {
    threads.emplace_back([&, i] {
      auto r = store_->ApplyPaymentOutcome(p.id, std::nullopt, Said("Completed", 390000),
                                           i % 2 ? PaymentCause::kVerify : PaymentCause::kCallback,
                                           now_);
      if (r.ok() && r->activated) ++activated;
      if (r.ok() && r->changed) ++changed;
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(activated.load(), 1);
  EXPECT_EQ(changed.load(), 1);
  EXPECT_EQ(Count("SELECT COUNT(*) FROM plan_changes"), 1);
  EXPECT_EQ(Count("SELECT COUNT(*) FROM outbox"), 1);
}

// A gateway's paid answer after we had failed the payment: the money was taken, so the plan
// activates (once) and a human reviews the earlier failure.
TEST_P(StorePayments, CompletedAfterFailedActivatesOnceAndNeedsAttention) {
  const std::string org = NewOrgId();
  Payment p = NewPayment(org);
  ASSERT_TRUE(
      store_
          ->ApplyPaymentOutcome(p.id, org, Said("Expired", 390000), PaymentCause::kReconciler, now_)
          .ok());
  auto late = store_->ApplyPaymentOutcome(p.id, org, Said("Completed", 390000),
                                          PaymentCause::kCallback, now_);
  ASSERT_TRUE(late.ok());
  EXPECT_TRUE(late->changed);
  EXPECT_TRUE(late->activated);
  EXPECT_EQ(late->state.payment.status, PaymentStatus::kSuccess);
  EXPECT_EQ(late->state.payment.reason, "paid_after_failure");
  EXPECT_TRUE(late->state.payment.needs_attention);
  EXPECT_EQ(store_->ReadUsage(org, now_)->subscription.plan, "PRO");
  // The same answer again changes nothing.
  auto again = store_->ApplyPaymentOutcome(p.id, org, Said("Completed", 390000),
                                           PaymentCause::kVerify, now_);
  ASSERT_TRUE(again.ok());
  EXPECT_FALSE(again->changed);
  EXPECT_EQ(Count("SELECT COUNT(*) FROM payment_events WHERE from_status = 'FAILED' AND "
                  "to_status = 'SUCCESS' AND detail LIKE '%paid after it had failed (Expired)%'"),
            1);
  EXPECT_EQ(Count("SELECT COUNT(*) FROM plan_changes"), 1);
  EXPECT_EQ(Count("SELECT COUNT(*) FROM outbox"), 1);
}

// Not for the amount we asked, a late paid answer activates nothing.
TEST_P(StorePayments, CompletedAfterFailedForAnotherAmountChangesNothing) {
  const std::string org = NewOrgId();
  Payment p = NewPayment(org);
  ASSERT_TRUE(
      store_
          ->ApplyPaymentOutcome(p.id, org, Said("Expired", 390000), PaymentCause::kReconciler, now_)
          .ok());
  auto late =
      store_->ApplyPaymentOutcome(p.id, org, Said("Completed", 100), PaymentCause::kCallback, now_);
  ASSERT_TRUE(late.ok());
  EXPECT_FALSE(late->changed);
  EXPECT_EQ(late->state.payment.status, PaymentStatus::kFailed);
  EXPECT_EQ(store_->ReadUsage(org, now_)->subscription.plan, "FREE");
}

TEST_P(StorePayments, ALowerPlanPaidWhileAHigherBecameActiveIsSuccessWithRefundDue) {
  const std::string org = NewOrgId();
  Payment basic = NewPayment(org, "BASIC");
  Payment pro = NewPayment(org, "PRO");
  ASSERT_TRUE(
      store_
          ->ApplyPaymentOutcome(pro.id, org, Said("Completed", 390000), PaymentCause::kVerify, now_)
          .ok());
  auto r = store_->ApplyPaymentOutcome(
      basic.id, org, {FromKhaltiLookup("Completed", 190000, 190000), "k", std::nullopt},
      PaymentCause::kCallback, now_);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_TRUE(r->changed);
  EXPECT_FALSE(r->activated);
  EXPECT_EQ(r->state.payment.status, PaymentStatus::kSuccess);
  EXPECT_TRUE(r->state.payment.needs_attention);
  EXPECT_EQ(r->state.payment.reason, "plan_conflict: refund due");
  EXPECT_EQ(r->state.subscription.plan, "PRO");
  EXPECT_EQ(Count("SELECT COUNT(*) FROM plan_changes"), 1);
  EXPECT_EQ(Count("SELECT COUNT(*) FROM outbox"), 1);  // only PRO's
}

TEST_P(StorePayments, BuyingTheActivePlanExtendsAndKeepsUsage) {
  const std::string org = NewOrgId("PRO");
  ASSERT_TRUE(
      store_->CreateInvoice(org, {NewId("inv").value(), 1, std::nullopt, "", now_}, now_).ok());
  Payment p = NewPayment(org, "PRO");
  auto r = store_->ApplyPaymentOutcome(p.id, org, Said("Completed", 390000), PaymentCause::kVerify,
                                       now_ + Days{2});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->state.subscription.start, now_);
  EXPECT_EQ(r->state.subscription.end, now_ + Days{60});
  EXPECT_EQ(store_->ReadUsage(org, now_ + Days{2})->usage.at("invoices"), 1);
  EXPECT_EQ(Count("SELECT COUNT(*) FROM plan_changes WHERE kind = 'extended'"), 1);
}

TEST_P(StorePayments, NoBillingEmailMeansNoMailButAnAuditedNote) {
  const std::string org = NewOrgId("FREE", std::nullopt);
  Payment p = NewPayment(org);
  ASSERT_TRUE(
      store_->ApplyPaymentOutcome(p.id, org, Said("Completed", 390000), PaymentCause::kVerify, now_)
          .ok());
  EXPECT_EQ(Count("SELECT COUNT(*) FROM outbox"), 0);
  EXPECT_EQ(Count("SELECT COUNT(*) FROM payment_events WHERE detail LIKE 'no confirmation%'"), 1);
}

class FailingMailer final : public Mailer {
 public:
  ExpectedDone Send(const Email&) override {
    ++calls;
    if (fail) return Error::Unavailable("SMTP: connection refused");
    return Done{};
  }
  bool fail = true;
  int calls = 0;
};

TEST_P(StorePayments, MailFailuresAreRetriedWithBackoffAndNeverTouchThePayment) {
  const std::string org = NewOrgId();
  Payment p = NewPayment(org);
  ASSERT_TRUE(
      store_->ApplyPaymentOutcome(p.id, org, Said("Completed", 390000), PaymentCause::kVerify, now_)
          .ok());
  FakeClock clock(now_);
  auto mailer = std::make_unique<FailingMailer>();
  FailingMailer* m = mailer.get();
  OutboxSender sender(*store_, std::move(mailer), "sima <billing@sima.local>", clock.AsFn());
  EXPECT_EQ(sender.RunOnce(), 0);
  EXPECT_EQ(m->calls, 1);
  EXPECT_EQ(sender.RunOnce(), 0);  // not due again yet
  EXPECT_EQ(m->calls, 1);
  clock.Advance(OutboxSender::RetryBackoff(0));
  m->fail = false;
  EXPECT_EQ(sender.RunOnce(), 1);
  EXPECT_EQ(m->calls, 2);
  clock.Advance(std::chrono::hours{2});
  EXPECT_EQ(sender.RunOnce(), 0);  // sent once, never again
  EXPECT_EQ(Count("SELECT attempts FROM outbox"), 2);
  EXPECT_EQ(store_->FindPayment(p.id)->status, PaymentStatus::kSuccess);
  EXPECT_EQ(store_->ReadUsage(org, now_)->subscription.plan, "PRO");
}

TEST_P(StorePayments, ReconcilerFailsAPaymentThatNeverGotAReferenceAfterTheGrace) {
  const std::string org = NewOrgId();
  Payment p = NewPayment(org, "PRO", /*with_reference=*/false);
  FakeClock clock(now_);
  Reconciler reconciler(*store_, PaymentGateways{}, clock.AsFn());
  EXPECT_EQ(reconciler.RunOnce(), 0);
  clock.Advance(std::chrono::minutes{15});
  EXPECT_EQ(reconciler.RunOnce(), 1);
  auto after = store_->FindPayment(p.id);
  EXPECT_EQ(after->status, PaymentStatus::kFailed);
  EXPECT_EQ(after->reason, "not_initiated");
  EXPECT_EQ(Count("SELECT COUNT(*) FROM payment_events WHERE cause = 'reconciler'"), 1);
}

// The backoff itself is sima::PaymentTiming's (tests/sdk/payment_timing_test.cc).
TEST_P(StorePayments, ARescheduledPaymentWaitsAndGivingUpFlagsAttention) {
  const std::string org = NewOrgId();
  Payment p = NewPayment(org);
  EXPECT_EQ(store_->DuePendingPayments(now_, 10)->size(), 0u);
  EXPECT_EQ(store_->DuePendingPayments(now_ + std::chrono::seconds{5}, 10)->size(), 1u);
  ASSERT_TRUE(store_->ScheduleRecheck(p.id, now_ + std::chrono::seconds{60}, now_).ok());
  EXPECT_EQ(store_->DuePendingPayments(now_ + std::chrono::seconds{59}, 10)->size(), 0u);
  EXPECT_EQ(store_->FindPayment(p.id)->check_attempts, 1);
  ASSERT_TRUE(store_->ScheduleRecheck(p.id, std::nullopt, now_).ok());
  EXPECT_EQ(store_->DuePendingPayments(now_ + Days{10}, 10)->size(), 0u);
  EXPECT_TRUE(store_->FindPayment(p.id)->needs_attention);
}

}  // namespace
}  // namespace sima::server::testing

namespace sima::server::testing {
namespace {

// The reconciler's batch: round-robin across organizations, at most `per_org` of one, so one
// organization's backlog never pushes another's payment out of the pass.
TEST_P(StorePayments, DuePaymentsAreSharedFairlyAcrossOrganizations) {
  const std::string a = NewOrgId();
  const std::string b = NewOrgId();
  const std::string c = NewOrgId();
  std::vector<int64_t> a_ids;
  for (int i = 0; i < 20; ++i) a_ids.push_back(NewPayment(a).id);
  const int64_t b_id = NewPayment(b).id;
  const int64_t c1 = NewPayment(c).id;
  const int64_t c2 = NewPayment(c).id;
  auto due = store_->DuePendingPayments(now_ + std::chrono::seconds{10}, 32, 8);
  ASSERT_TRUE(due.ok()) << due.error().message;
  std::vector<int64_t> ids;
  for (const Payment& p : due.value()) ids.push_back(p.id);
  // Each organization's earliest first, then each one's second, ...; A stops at 8.
  std::vector<int64_t> expected = {a_ids[0], b_id, c1, a_ids[1], c2};
  for (int i = 2; i < 8; ++i) expected.push_back(a_ids[static_cast<size_t>(i)]);
  EXPECT_EQ(ids, expected);
}

// A small batch still reaches every organization. (Separate from the test above: a store may
// claim what it returns, e.g. PostgreSQL's lease, so the same payments are not due twice.)
TEST_P(StorePayments, ASmallDueBatchStillReachesEveryOrganization) {
  const std::string a = NewOrgId();
  const std::string b = NewOrgId();
  const std::string c = NewOrgId();
  for (int i = 0; i < 20; ++i) NewPayment(a);
  const int64_t b_id = NewPayment(b).id;
  const int64_t c1 = NewPayment(c).id;
  auto small = store_->DuePendingPayments(now_ + std::chrono::seconds{10}, 3, 8);
  ASSERT_TRUE(small.ok());
  ASSERT_EQ(small->size(), 3u);
  EXPECT_EQ((*small)[1].id, b_id);
  EXPECT_EQ((*small)[2].id, c1);
}

// Init for a payer who is about to pay: an open payable payment is offered again; the limits
// count what an organization started and has open.
TEST_P(StorePayments, OpenPaymentOffersTheOpenOneAgainAndLimitsEachOrganization) {
  const std::string org = NewOrgId();
  PaymentLimits limits;
  limits.open_max = 2;
  limits.per_minute = 3;
  auto opened = store_->OpenPayment(org, Provider::kKhalti, "PRO", "n0", now_, limits, now_);
  ASSERT_TRUE(opened.ok()) << opened.error().message;
  EXPECT_FALSE(opened->reused);
  // Its pidx, which expires in 30 minutes, and Khalti's page for it.
  auto attached = store_->AttachGatewayReference(
      opened->payment.id, "pidx_first", now_ + std::chrono::minutes{30},
      now_ + std::chrono::seconds{5}, now_, std::string("https://pay.test/?pidx=pidx_first"));
  ASSERT_TRUE(attached.ok()) << attached.error().message;
  const Payment first = attached.value();
  auto again = store_->OpenPayment(org, Provider::kKhalti, "PRO", "n1", now_, limits, now_);
  ASSERT_TRUE(again.ok()) << again.error().message;
  EXPECT_TRUE(again->reused);
  EXPECT_EQ(again->payment.id, first.id);
  EXPECT_EQ(again->payment.ref, first.ref);
  EXPECT_EQ(again->payment.payment_url, "https://pay.test/?pidx=pidx_first");
  // Too close to its expiry to be paid: not offered again, a new one.
  const Time late = now_ + std::chrono::minutes{26};
  auto fresh = store_->OpenPayment(org, Provider::kKhalti, "PRO", "n2", late, limits, late);
  ASSERT_TRUE(fresh.ok()) << fresh.error().message;
  EXPECT_FALSE(fresh->reused);
  EXPECT_NE(fresh->payment.ref, first.ref);
  EXPECT_EQ(fresh->payment.ref.rfind("pay_", 0), 0u);
  EXPECT_EQ(fresh->payment.ref.size(), 26u);
  // Two open: a third is refused with a time to come back.
  auto third = store_->OpenPayment(org, Provider::kEsewa, "BASIC", "n3", late, limits, late);
  ASSERT_FALSE(third.ok());
  EXPECT_EQ(third.error().kind, ErrorKind::kRateLimited);
  EXPECT_GE(third.error().extra.value("retry_after", 0), 1);
}

// The store never composes mail: it queues what the renderer it was given returns.
TEST_P(StorePayments, TheConfirmationIsWhatTheGivenRendererSays) {
  store_ = OpenStore(16, [](const std::string& org_name, const Payment& payment,
                            const Subscription& subscription) {
    return ConfirmationText{org_name + " bought " + payment.plan,
                            "until " + FormatTime(*subscription.end)};
  });
  ASSERT_NE(store_, nullptr);
  const std::string org = NewOrgId();
  const Payment p = NewPayment(org);
  ASSERT_TRUE(
      store_->ApplyPaymentOutcome(p.id, org, Said("Completed", 390000), PaymentCause::kVerify, now_)
          .ok());
  EXPECT_EQ(Count("SELECT COUNT(*) FROM outbox"), 1);
  EXPECT_EQ(
      Count("SELECT COUNT(*) FROM outbox WHERE message_id = 'payment-" + std::to_string(p.id) +
            "-confirmation' AND to_addr = 'owner@acme.test' AND subject = 'Acme bought PRO' "
            "AND body = 'until 2026-01-31T00:00:00Z'"),
      1);
}

}  // namespace
}  // namespace sima::server::testing
