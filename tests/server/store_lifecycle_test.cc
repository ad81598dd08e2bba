// The subscription's lifecycle where two writers meet, in every store: a change the customer
// schedules and a payment settling at the same moment, on two store instances (two
// sima-servers on one PostgreSQL). The organization's lock orders them, so the stored
// subscription is what one serial order gives: the payment's extension is never lost, and the
// cancel holds exactly when it was written after the payment (a renewal paid after a cancel
// undoes it). The rest of the lifecycle contract is store_contract_lifecycle_test.cc.
#include <gtest/gtest.h>

#include <latch>
#include <thread>

#include "store_contract.h"

namespace sima::server::testing {
namespace {

using StoreLifecycleRaces = StoreContract;

INSTANTIATE_TEST_SUITE_P(Stores, StoreLifecycleRaces,
                         ::testing::Values(StoreKind::kSqlite, StoreKind::kPostgres), StoreName);

TEST_P(StoreLifecycleRaces, ACancelRacingARenewalNeverLosesThePaymentOrHalfAppliesEither) {
  std::unique_ptr<Store> other = OpenStore();
  ASSERT_NE(other, nullptr);
  const Time renewed_end = now_ + Days{60};  // NewOrgId("PRO") ends at now_ + 30 days
  for (int round = 0; round < 6; ++round) {
    SCOPED_TRACE("round " + std::to_string(round));
    const std::string org = NewOrgId("PRO");
    const Payment renewal = NewPayment(org, "PRO");
    ASSERT_EQ(renewal.amount_paisa, 390000);  // renewing the plan in force: its whole price
    std::latch start(2);
    Expected<AppliedOutcome> paid = Error::Internal("not run");
    Expected<Subscription> canceled = Error::Internal("not run");
    std::thread pay([&] {
      start.arrive_and_wait();
      paid = store_->ApplyPaymentOutcome(renewal.id, org, Said("Completed", 390000),
                                         PaymentCause::kVerify, now_);
    });
    std::thread cancel([&] {
      start.arrive_and_wait();
      canceled = other->ChangeSubscription(org, ChangeKind::kCancel, "", now_);
    });
    pay.join();
    cancel.join();
    ASSERT_TRUE(paid.ok()) << paid.error().message;
    ASSERT_TRUE(canceled.ok()) << canceled.error().message;
    EXPECT_TRUE(paid->activated);
    EXPECT_EQ(paid->state.subscription.end, renewed_end);
    EXPECT_FALSE(paid->state.subscription.cancel_at_period_end);

    auto stored = store_->GetSubscription(org, now_);
    ASSERT_TRUE(stored.ok()) << stored.error().message;
    EXPECT_EQ(stored->end, renewed_end);  // the payment is never lost
    // The cancel saw the payment (it came second) exactly when it is what is stored.
    const bool cancel_came_second = canceled->end == renewed_end;
    EXPECT_EQ(stored->cancel_at_period_end, cancel_came_second);
    EXPECT_EQ(*stored, cancel_came_second ? *canceled : paid->state.subscription);
  }
}

}  // namespace
}  // namespace sima::server::testing
