// Refunds in every store (store.h BeginRefund / SettleRefund / ListRefunds): the payment and
// the subscription after sima/refund.h's rule, the audit rows and the webhook events, the
// idempotency key, a refund that stays pending or fails, and two refunds racing for the last
// rupees of one payment from two threads (two instances on PostgreSQL).
#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "store_contract.h"

namespace sima::server::testing {
namespace {

class StoreRefunds : public StoreContract {
 protected:
  // A PRO payment of `org` paid an hour after now_: SUCCESS, the plan started.
  Payment PaidPayment(const std::string& org) {
    Payment p = NewPayment(org);
    auto paid = store_->ApplyPaymentOutcome(p.id, org, Said("Completed", 390000),
                                            PaymentCause::kVerify, later_);
    EXPECT_TRUE(paid.ok()) << paid.error().message;
    return paid.ok() ? paid->state.payment : p;
  }
  Refund Ask(const Payment& p, int64_t amount, const std::string& key, bool keep_plan = false) {
    Refund r;
    r.payment_id = p.id;
    r.amount_paisa = amount;
    r.method = RefundMethod::kKhalti;
    r.reason = "asked";
    r.keep_plan = keep_plan;
    r.idempotency_key = key;
    return r;
  }
  Refund Begin(const Refund& asked) {
    auto r = store_->BeginRefund(asked, later_);
    EXPECT_TRUE(r.ok()) << r.error().message;
    return r.ok() ? r.value() : Refund{};
  }
  Refund Settle(const Refund& r, RefundStatus status) {
    auto s =
        store_->SettleRefund(r.id, status, "Transaction refund successful.", std::nullopt, later_);
    EXPECT_TRUE(s.ok()) << s.error().message;
    return s.ok() ? s.value() : Refund{};
  }
  int64_t Events(const std::string& type) {
    return Count("SELECT COUNT(*) FROM webhook_events WHERE type = '" + type + "'");
  }

  Time later_ = now_ + std::chrono::hours{1};
};

INSTANTIATE_TEST_SUITE_P(Stores, StoreRefunds,
                         ::testing::Values(StoreKind::kSqlite, StoreKind::kPostgres), StoreName);

TEST_P(StoreRefunds, AFullRefundOfThePlansPaymentEndsItAndWritesItsEvents) {
  const std::string org = NewOrgId();
  const Payment p = PaidPayment(org);
  const Refund begun = Begin(Ask(p, 390000, "k1"));
  EXPECT_EQ(begun.status, RefundStatus::kPending);
  EXPECT_EQ(begun.id.rfind("rf_", 0), 0u);
  EXPECT_FALSE(begun.replayed);
  const Refund done = Settle(begun, RefundStatus::kSucceeded);
  EXPECT_EQ(done.status, RefundStatus::kSucceeded);

  const Payment after = store_->FindPayment(p.id).value();
  EXPECT_EQ(after.status, PaymentStatus::kRefunded);
  EXPECT_EQ(after.refunded_paisa, 390000);
  EXPECT_EQ(store_->GetSubscription(org, later_)->plan, "FREE");
  EXPECT_EQ(Events("payment.refunded"), 1);
  EXPECT_EQ(Events("subscription.expired"), 1);
  EXPECT_EQ(Count("SELECT COUNT(*) FROM payment_events WHERE cause = 'refund' AND "
                  "to_status = 'REFUNDED'"),
            1);
  EXPECT_EQ(Count("SELECT COUNT(*) FROM plan_changes WHERE cause = 'refund' AND kind = 'ended'"),
            1);
  // Settling again answers it as it is and writes nothing.
  EXPECT_EQ(Settle(done, RefundStatus::kSucceeded).status, RefundStatus::kSucceeded);
  EXPECT_EQ(Events("payment.refunded"), 1);
}

TEST_P(StoreRefunds, APartialRefundWithKeepPlanKeepsThePlan) {
  const std::string org = NewOrgId();
  const Payment p = PaidPayment(org);
  Settle(Begin(Ask(p, 100000, "k1", /*keep_plan=*/true)), RefundStatus::kSucceeded);
  const Payment after = store_->FindPayment(p.id).value();
  EXPECT_EQ(after.status, PaymentStatus::kSuccess);
  EXPECT_EQ(after.refunded_paisa, 100000);
  EXPECT_EQ(store_->GetSubscription(org, later_)->plan, "PRO");
  EXPECT_EQ(Events("payment.refunded"), 1);
  EXPECT_EQ(Events("subscription.expired"), 0);
}

TEST_P(StoreRefunds, TheIdempotencyKeyAnswersTheFirstRefundAndRefusesAnotherAmount) {
  const std::string org = NewOrgId();
  const Payment p = PaidPayment(org);
  const Refund first = Begin(Ask(p, 1000, "k1"));
  const Refund again = Begin(Ask(p, 1000, "k1"));
  EXPECT_EQ(again.id, first.id);
  EXPECT_TRUE(again.replayed);
  auto other = store_->BeginRefund(Ask(p, 2000, "k1"), later_);
  ASSERT_FALSE(other.ok());
  EXPECT_EQ(other.error().kind, ErrorKind::kConflict);
  EXPECT_EQ(other.error().extra["field"], "idempotency_key");
  EXPECT_EQ(store_->ListRefunds(p.id)->size(), 1u);
}

TEST_P(StoreRefunds, PendingRefundsHoldTheirAmountAndFailedOnesGiveItBack) {
  const std::string org = NewOrgId();
  const Payment p = PaidPayment(org);
  const Refund held = Begin(Ask(p, 300000, "k1"));
  auto over = store_->BeginRefund(Ask(p, 100000, "k2"), later_);
  ASSERT_FALSE(over.ok());
  EXPECT_EQ(over.error().kind, ErrorKind::kValidation);
  EXPECT_EQ(over.error().extra["field"], "amount_paisa");
  // An unknown answer keeps it pending with what was seen; a refusal fails it.
  auto pending = store_->SettleRefund(held.id, RefundStatus::kPending, "Khalti did not answer",
                                      std::nullopt, later_);
  ASSERT_TRUE(pending.ok());
  EXPECT_EQ(pending->status, RefundStatus::kPending);
  EXPECT_EQ(pending->detail, "Khalti did not answer");
  const Refund failed = Settle(held, RefundStatus::kFailed);
  EXPECT_EQ(failed.status, RefundStatus::kFailed);
  EXPECT_EQ(store_->FindPayment(p.id)->refunded_paisa, 0);
  EXPECT_EQ(store_->GetSubscription(org, later_)->plan, "PRO");
  EXPECT_TRUE(store_->BeginRefund(Ask(p, 390000, "k3"), later_).ok());
  EXPECT_EQ(store_->ListRefunds(p.id)->size(), 2u);
  EXPECT_EQ(store_->ListRefunds(987654).error().kind, ErrorKind::kNotFound);
}

TEST_P(StoreRefunds, APendingPaymentCannotBeRefunded) {
  const std::string org = NewOrgId();
  const Payment p = NewPayment(org);
  auto r = store_->BeginRefund(Ask(p, 1000, "k1"), later_);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().kind, ErrorKind::kConflict);
  EXPECT_EQ(Count("SELECT COUNT(*) FROM refunds"), 0);
}

TEST_P(StoreRefunds, TwoRefundsRacingForTheLastRupeesNeverOverRefund) {
  const std::string org = NewOrgId();
  const Payment p = PaidPayment(org);
  Settle(Begin(Ask(p, 380000, "first", true)), RefundStatus::kSucceeded);
  // 10000 paisa left; each of 8 threads (its own store: another instance on PostgreSQL) asks
  // for 6000 and settles it.
  std::vector<std::unique_ptr<Store>> stores;
  for (int i = 0; i < 8; ++i) stores.push_back(OpenStore(2));
  std::atomic<int> begun{0};
  std::atomic<int> settled{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < 8; ++i) {
    threads.emplace_back([&, i] {
      Refund asked = Ask(p, 6000, "race-" + std::to_string(i), true);
      auto r = stores[i]->BeginRefund(asked, later_);
      if (!r.ok()) return;
      ++begun;
      auto s = stores[i]->SettleRefund(r->id, RefundStatus::kSucceeded, "ok", std::nullopt, later_);
      if (s.ok() && s->status == RefundStatus::kSucceeded) ++settled;
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(begun.load(), 1);
  EXPECT_EQ(settled.load(), 1);
  EXPECT_EQ(store_->FindPayment(p.id)->refunded_paisa, 386000);
  EXPECT_EQ(Events("payment.refunded"), 2);
}

}  // namespace
}  // namespace sima::server::testing
