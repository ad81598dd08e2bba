// The subscription's lifecycle in every store (store.h, sima/lifecycle.h): grace, renewals
// paid before and after the end, payments priced by the quote, scheduled changes, trials,
// reminder candidates and exactly-once reminders, the pay-link secret. Times are given, never
// read from a clock.
#include <gtest/gtest.h>

#include <atomic>
#include <set>
#include <thread>

#include "auth.h"
#include "sima/lifecycle.h"
#include "sima/quote.h"
#include "store_contract.h"

namespace sima::server::testing {
namespace {

class StoreLifecycle : public StoreContract {
 protected:
  // An organization on `sub` (stored whole), with a billing e-mail unless `email` is nullopt.
  std::string OrgOn(const Subscription& sub, std::optional<std::string> email = "owner@acme.test") {
    const std::string id = NewId("org").value();
    auto r = store_->CreateOrg({id, "Acme", Sha256Hex(id), sub, now_, email});
    EXPECT_TRUE(r.ok()) << r.error().message;
    return id;
  }
  Subscription Paid(const std::string& plan, Time end) { return {plan, end - Days{30}, end}; }

  // Pays `plan` at `at` (a payment priced then, completed at once): the subscription after.
  Subscription PayAt(const std::string& org, const std::string& plan, Time at) {
    auto p = store_->CreatePayment(org, Provider::kKhalti, plan, NewId("n").value(),
                                   at + std::chrono::minutes{15}, at);
    EXPECT_TRUE(p.ok()) << p.error().message;
    if (!p) return {};
    auto paid = store_->ApplyPaymentOutcome(
        p->id, org, {FromKhaltiLookup("Completed", p->amount_paisa, p->amount_paisa), "", "txn"},
        PaymentCause::kVerify, at);
    EXPECT_TRUE(paid.ok()) << paid.error().message;
    if (!paid) return {};
    EXPECT_TRUE(paid->activated);
    return paid->state.subscription;
  }

  TeamMember Member(Time at) {
    const std::string id = NewId("tm").value();
    return {id, id + "@x.test", "M", at};
  }

  // The api calls counted in the period of `at` (this read not included).
  int64_t ApiCalls(const std::string& org, Time at) {
    auto usage = store_->ReadUsage(org, at);
    EXPECT_TRUE(usage.ok());
    return usage ? usage->usage.at("api_calls") - 1 : -1;
  }

  static ReminderMail Compose(const std::string&, const std::string& to, const Subscription& sub,
                              const Reminder& reminder) {
    return {to, "Renew " + reminder.plan, reminder.key + " of " + sub.plan};
  }
  int64_t Outbox() { return Count("SELECT COUNT(*) FROM outbox"); }

  const Time end_ = now_ + Days{30};  // NewOrgId("PRO") ends here
};

INSTANTIATE_TEST_SUITE_P(Stores, StoreLifecycle,
                         ::testing::Values(StoreKind::kSqlite, StoreKind::kPostgres), StoreName);

// --- grace ---

TEST_P(StoreLifecycle, GraceKeepsThePlansLimitsUntilGraceUntilThenFree) {
  const std::string org = NewOrgId("PRO");
  const Time grace = end_ + Days{1};
  const Time grace_until = end_ + Days{catalog_->grace_days()};
  // FREE allows one team member; in grace PRO's ten still apply.
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(store_->CreateTeamMember(org, Member(grace), grace).ok());
  }
  auto metered = store_->RecordUsage(org, {"invoices", 1, std::nullopt}, grace);
  ASSERT_TRUE(metered.ok());
  EXPECT_EQ(metered->plan, "PRO");
  auto usage = store_->ReadUsage(org, grace);
  ASSERT_TRUE(usage.ok());
  EXPECT_EQ(usage->subscription.plan, "PRO");
  EXPECT_EQ(PlanInForce(*catalog_, usage->subscription, grace), "PRO");
  // A second before grace_until: still PRO; from it on: FREE.
  const Time last = grace_until - std::chrono::seconds{1};
  EXPECT_EQ(store_->RecordUsage(org, {"invoices", 1, std::nullopt}, last)->plan, "PRO");
  auto refused = store_->CreateTeamMember(org, Member(grace_until), grace_until);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().kind, ErrorKind::kLimitReached);
  EXPECT_EQ(refused.error().extra["plan"], "FREE");
  EXPECT_EQ(refused.error().extra["current"], 3);
  EXPECT_EQ(store_->RecordUsage(org, {"invoices", 1, std::nullopt}, grace_until)->plan, "FREE");
}

// --- renewals ---

TEST_P(StoreLifecycle, PayingBeforeTheEndOrInGraceExtendsFromTheOldEnd) {
  const Time due = end_ - Days{2};  // renewal_due
  const std::string early = NewOrgId("PRO");
  const Subscription a = PayAt(early, "PRO", due);
  EXPECT_EQ(a.plan, "PRO");
  EXPECT_EQ(a.start, now_);
  EXPECT_EQ(a.end, end_ + Days{30});

  const Time grace = end_ + Days{2};
  const std::string late = NewOrgId("PRO");
  ASSERT_TRUE(store_->CreateInvoice(late, Inv(), grace).ok());
  const Subscription b = PayAt(late, "PRO", grace);
  EXPECT_EQ(b.plan, "PRO");
  EXPECT_EQ(b.end, end_ + Days{30});  // no gap, no double period
  EXPECT_EQ(store_->GetSubscription(late, grace).value(), b);
  // Usage is kept: the period goes on.
  EXPECT_EQ(store_->ReadUsage(late, grace)->usage.at("invoices"), 1);
}

TEST_P(StoreLifecycle, PayingAfterTheGraceStartsANewPeriodNow) {
  const std::string org = NewOrgId("PRO");
  const Time expired = end_ + Days{catalog_->grace_days()} + std::chrono::hours{5};
  ASSERT_TRUE(store_->CreateInvoice(org, Inv(), expired).ok());
  const Subscription s = PayAt(org, "PRO", expired);
  EXPECT_EQ(s.start, expired);
  EXPECT_EQ(s.end, expired + Days{30});
  EXPECT_EQ(store_->ReadUsage(org, expired)->usage.count("invoices"), 0u);  // a new period
}

// --- payments priced by the quote ---

TEST_P(StoreLifecycle, APaymentStoresTheQuotesAmountAndBreakdown) {
  const std::string org = NewOrgId();
  const Payment first = NewPayment(org, "PRO");
  EXPECT_EQ(first.amount_paisa, 390000);
  ASSERT_EQ(first.breakdown.size(), 1u);
  EXPECT_EQ(first.breakdown[0].paisa, 390000);
  EXPECT_EQ(store_->FindPayment(first.id)->breakdown, first.breakdown);

  // Half-way through a BASIC period PRO costs its price less the unused BASIC.
  const std::string basic = NewOrgId("BASIC");
  const Time mid = now_ + Days{15} + std::chrono::hours{3};
  const Subscription sub = store_->GetSubscription(basic, mid).value();
  auto quote = QuotePayment(*catalog_, sub, "PRO", mid, kMinimumPaymentPaisa);
  ASSERT_TRUE(quote.ok());
  ASSERT_EQ(quote->breakdown.size(), 2u);
  auto p = store_->CreatePayment(basic, Provider::kKhalti, "PRO", "n1", mid, mid);
  ASSERT_TRUE(p.ok()) << p.error().message;
  EXPECT_EQ(p->amount_paisa, quote->amount_paisa);
  EXPECT_LT(p->amount_paisa, 390000);
  EXPECT_EQ(p->breakdown, quote->breakdown);
  int64_t sum = 0;
  for (const QuoteLine& line : p->breakdown) sum += line.paisa;
  EXPECT_EQ(sum, p->amount_paisa);
  // Read back by every path.
  EXPECT_EQ(store_->GetPayment(basic, p->id, mid)->payment.breakdown, quote->breakdown);
  EXPECT_EQ(store_->ListPayments(basic, {10, std::nullopt}, mid)->items.at(0).breakdown,
            quote->breakdown);
  EXPECT_EQ(store_->FindPaymentByRef(p->ref)->breakdown, quote->breakdown);
  // Paid: the upgrade starts a new period at payment.
  auto paid = store_->ApplyPaymentOutcome(
      p->id, basic, {FromKhaltiLookup("Completed", p->amount_paisa, p->amount_paisa), "", "t"},
      PaymentCause::kVerify, mid);
  ASSERT_TRUE(paid.ok()) << paid.error().message;
  EXPECT_EQ(paid->state.subscription.plan, "PRO");
  EXPECT_EQ(paid->state.subscription.start, mid);
}

TEST_P(StoreLifecycle, AnOpenPaymentIsOfferedAgainOnlyWhileTheQuoteIsTheSame) {
  const std::string org = NewOrgId("BASIC");
  const Time mid = now_ + Days{10};
  PaymentLimits limits;
  auto opened = store_->OpenPayment(org, Provider::kKhalti, "PRO", "n0", mid, limits, mid);
  ASSERT_TRUE(opened.ok()) << opened.error().message;
  ASSERT_TRUE(store_
                  ->AttachGatewayReference(opened->payment.id, "pidx_a",
                                           mid + std::chrono::hours{3},
                                           mid + std::chrono::seconds{5}, mid,
                                           std::string("https://pay.test/?pidx=pidx_a"))
                  .ok());
  auto again = store_->OpenPayment(org, Provider::kKhalti, "PRO", "n1", mid, limits, mid);
  ASSERT_TRUE(again.ok()) << again.error().message;
  EXPECT_TRUE(again->reused);
  EXPECT_EQ(again->payment.id, opened->payment.id);
  EXPECT_EQ(again->payment.breakdown, opened->payment.breakdown);
  // An hour later less BASIC is unused: the quote is higher and a new payment is made for it.
  const Time later = mid + std::chrono::hours{1};
  auto quote = QuotePayment(*catalog_, store_->GetSubscription(org, later).value(), "PRO", later,
                            kMinimumPaymentPaisa);
  ASSERT_TRUE(quote.ok());
  ASSERT_NE(quote->amount_paisa, opened->payment.amount_paisa);
  auto fresh = store_->OpenPayment(org, Provider::kKhalti, "PRO", "n2", later, limits, later);
  ASSERT_TRUE(fresh.ok()) << fresh.error().message;
  EXPECT_FALSE(fresh->reused);
  EXPECT_NE(fresh->payment.id, opened->payment.id);
  EXPECT_EQ(fresh->payment.amount_paisa, quote->amount_paisa);
  EXPECT_EQ(fresh->payment.breakdown, quote->breakdown);
}

TEST_P(StoreLifecycle, PaymentsAreRefusedAsTheQuoteRefusesThem) {
  const std::string org = NewOrgId("PRO");
  auto lower = store_->CreatePayment(org, Provider::kKhalti, "BASIC", "a", now_, now_);
  ASSERT_FALSE(lower.ok());
  EXPECT_EQ(lower.error().kind, ErrorKind::kConflict);
  EXPECT_EQ(lower.error().message,
            QuotePayment(*catalog_, store_->GetSubscription(org, now_).value(), "BASIC", now_,
                         kMinimumPaymentPaisa)
                .status()
                .message());
  EXPECT_EQ(store_->OpenPayment(org, Provider::kKhalti, "NOPE", "b", now_, {}, now_).error().kind,
            ErrorKind::kInvalidPlan);
  // The scheduled next plan can be paid from the end, not before.
  ASSERT_TRUE(store_->ChangeSubscription(org, ChangeKind::kSwitch, "BASIC", now_).ok());
  EXPECT_EQ(store_->CreatePayment(org, Provider::kKhalti, "BASIC", "c", now_, now_).error().kind,
            ErrorKind::kConflict);
  EXPECT_TRUE(store_->CreatePayment(org, Provider::kKhalti, "BASIC", "d", end_, end_).ok());
  EXPECT_EQ(Count("SELECT COUNT(*) FROM payments"), 1);
}

// --- scheduled changes ---

TEST_P(StoreLifecycle, ChangesAreScheduledUndoneAndCanceled) {
  const std::string org = NewOrgId("PRO");
  const int64_t calls = ApiCalls(org, now_);
  auto sw = store_->ChangeSubscription(org, ChangeKind::kSwitch, "BASIC", now_);
  ASSERT_TRUE(sw.ok()) << sw.error().message;
  EXPECT_EQ(sw->plan, "PRO");
  EXPECT_EQ(sw->next_plan, "BASIC");
  EXPECT_FALSE(sw->cancel_at_period_end);
  EXPECT_EQ(store_->GetSubscription(org, now_).value(), *sw);
  // Stored whole: reopening keeps it.
  Reopen();
  EXPECT_EQ(store_->GetSubscription(org, now_).value(), *sw);
  auto undo = store_->ChangeSubscription(org, ChangeKind::kUndo, "", now_);
  ASSERT_TRUE(undo.ok());
  EXPECT_EQ(undo->next_plan, std::nullopt);
  auto cancel = store_->ChangeSubscription(org, ChangeKind::kCancel, "", now_);
  ASSERT_TRUE(cancel.ok());
  EXPECT_TRUE(cancel->cancel_at_period_end);
  EXPECT_EQ(cancel->end, end_);
  EXPECT_EQ(store_->ReadUsage(org, now_)->subscription, *cancel);
  // A switch to its own plan undoes the cancel.
  auto own = store_->ChangeSubscription(org, ChangeKind::kSwitch, "PRO", now_);
  ASSERT_TRUE(own.ok());
  EXPECT_FALSE(own->cancel_at_period_end);
  EXPECT_EQ(own->next_plan, std::nullopt);
  // Each was one org call: the first read, two GetSubscription, one ReadUsage, four changes.
  EXPECT_EQ(ApiCalls(org, now_), calls + 8);
  // Paying the plan undoes a cancel: the customer paid to go on.
  ASSERT_TRUE(store_->ChangeSubscription(org, ChangeKind::kCancel, "", now_).ok());
  const Subscription renewed = PayAt(org, "PRO", end_ - Days{1});
  EXPECT_FALSE(renewed.cancel_at_period_end);
  EXPECT_EQ(renewed.end, end_ + Days{30});
}

TEST_P(StoreLifecycle, ChangesTheSdkRefusesAreConflictsOrInvalidPlansAndChangeNothing) {
  const std::string free = NewOrgId();
  const std::string basic = NewOrgId("BASIC");
  const std::string pro = NewOrgId("PRO");
  const auto refused = [&](const std::string& org, ChangeKind kind, const std::string& plan,
                           Time at, ErrorKind want) {
    const Subscription before = store_->GetSubscription(org, at).value();
    auto r = store_->ChangeSubscription(org, kind, plan, at);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().kind, want);
    EXPECT_EQ(r.error().message,
              ScheduleChange(*catalog_, before, kind, plan, at).status().message());
    EXPECT_EQ(store_->GetSubscription(org, at).value(), before);
  };
  refused(free, ChangeKind::kCancel, "", now_, ErrorKind::kConflict);
  refused(basic, ChangeKind::kSwitch, "PRO", now_, ErrorKind::kConflict);  // upgrade instead
  refused(pro, ChangeKind::kSwitch, "NOPE", now_, ErrorKind::kInvalidPlan);
  refused(pro, ChangeKind::kSwitch, "FREE", now_, ErrorKind::kInvalidPlan);
  refused(pro, ChangeKind::kCancel, "", end_ + Days{1}, ErrorKind::kConflict);  // in grace
  EXPECT_EQ(store_->ChangeSubscription("org_missing", ChangeKind::kUndo, "", now_).error().kind,
            ErrorKind::kNotFound);
  EXPECT_EQ(store_->GetSubscription("org_missing", now_).error().kind, ErrorKind::kNotFound);
}

// --- trials ---

TEST_P(StoreLifecycle, ATrialStartsAPeriodThatResetsMeteredUsageAndIsRecorded) {
  const std::string org = NewOrgId();
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(store_->CreateInvoice(org, Inv(), now_).ok());
  ASSERT_TRUE(store_->CreateTeamMember(org, Member(now_), now_).ok());
  // In the same second the organization was made: the counters keyed by this start go too.
  auto trial = store_->GrantTrial(org, "PRO", 7, now_);
  ASSERT_TRUE(trial.ok()) << trial.error().message;
  EXPECT_EQ(trial->plan, "PRO");
  EXPECT_TRUE(trial->trial);
  EXPECT_EQ(trial->start, now_);
  EXPECT_EQ(trial->end, now_ + Days{7});
  EXPECT_EQ(store_->GetSubscription(org, now_).value(), *trial);
  auto usage = store_->ReadUsage(org, now_);
  ASSERT_TRUE(usage.ok());
  EXPECT_EQ(usage->usage.count("invoices"), 0u);
  EXPECT_EQ(usage->usage.at("team_members"), 1);  // allocations are kept
  // Counted afresh: GetSubscription and this read (the admin's grant is no org call).
  EXPECT_EQ(usage->usage.at("api_calls"), 2);
  EXPECT_EQ(Count("SELECT COUNT(*) FROM plan_changes WHERE org_id = '" + org +
                  "' AND cause = 'trial' AND from_plan = 'FREE' AND to_plan = 'PRO' "
                  "AND payment_id IS NULL AND kind = 'started'"),
            1);
  // PRO's limits apply while trialing.
  for (int i = 0; i < 2; ++i) ASSERT_TRUE(store_->CreateTeamMember(org, Member(now_), now_).ok());
  // After the trial's end FREE applies at once: no grace.
  EXPECT_EQ(store_->RecordUsage(org, {"invoices", 1, std::nullopt}, now_ + Days{7})->plan, "FREE");
}

TEST_P(StoreLifecycle, ATrialIsRefusedOverAPaidPlanAndForBadInput) {
  const std::string pro = NewOrgId("PRO");
  const Subscription before = store_->GetSubscription(pro, now_).value();
  auto over = store_->GrantTrial(pro, "PRO", 7, now_);
  ASSERT_FALSE(over.ok());
  EXPECT_EQ(over.error().kind, ErrorKind::kConflict);
  EXPECT_EQ(store_->GetSubscription(pro, now_).value(), before);
  const std::string free = NewOrgId();
  EXPECT_EQ(store_->GrantTrial(free, "NOPE", 7, now_).error().kind, ErrorKind::kInvalidPlan);
  EXPECT_EQ(store_->GrantTrial(free, "FREE", 7, now_).error().kind, ErrorKind::kInvalidPlan);
  EXPECT_EQ(store_->GrantTrial(free, "PRO", 0, now_).error().kind, ErrorKind::kValidation);
  EXPECT_EQ(store_->GrantTrial(free, "PRO", 31, now_).error().kind, ErrorKind::kValidation);
  EXPECT_EQ(store_->GrantTrial("org_missing", "PRO", 7, now_).error().kind, ErrorKind::kNotFound);
  EXPECT_EQ(Count("SELECT COUNT(*) FROM plan_changes"), 0);
  // After a paid plan expired a trial may start.
  EXPECT_TRUE(store_->GrantTrial(pro, "BASIC", 7, end_ + Days{10}).ok());
}

// --- reminders ---

TEST_P(StoreLifecycle, ReminderCandidatesWalkInPagesAndSkipWhatCannotBeDue) {
  const Time at = now_ + Days{100};
  Subscription trial{"PRO", at - Days{6}, at + Days{1}};
  trial.trial = true;
  Subscription canceled = Paid("PRO", at + Days{2});
  canceled.cancel_at_period_end = true;
  Subscription switching = Paid("PRO", at + Days{3});
  switching.next_plan = "BASIC";
  const std::set<std::string> due = {
      OrgOn(Paid("PRO", at + Days{5})),     // renewal notices
      OrgOn(Paid("BASIC", at - Days{10})),  // expired a week ago: the expired reminder
      OrgOn(Paid("PRO", at)),               // ends right now
      OrgOn(Paid("PRO", at - Days{33})),    // the earliest end that may still be due
      OrgOn(Paid("PRO", at + Days{7})),     // the largest notice day
      OrgOn(trial),
      OrgOn(switching)};
  OrgOn(Paid("PRO", at + Days{7} + std::chrono::seconds{1}));   // not yet
  OrgOn(Paid("PRO", at + Days{20}));                            // far away
  OrgOn(Paid("PRO", at - Days{33} - std::chrono::seconds{1}));  // too long ago
  OrgOn(canceled);
  OrgOn({"FREE", at - Days{1}, std::nullopt});
  OrgOn({"FREE", at - Days{40}, at});  // FREE with an end: still never due

  std::vector<std::string> walked;
  std::string after;
  for (int page = 0; page < 20; ++page) {
    auto batch = store_->ReminderCandidates(at, after, 3);
    ASSERT_TRUE(batch.ok()) << batch.error().message;
    if (batch->empty()) break;
    EXPECT_LE(batch->size(), 3u);
    walked.insert(walked.end(), batch->begin(), batch->end());
    after = batch->back();
  }
  EXPECT_EQ(walked, std::vector<std::string>(due.begin(), due.end()));  // by id, each once
}

TEST_P(StoreLifecycle, AReminderIsSentOnceAndQueuedWithTheComposersMail) {
  const std::string org = NewOrgId("PRO");
  const Time seven = end_ - Days{7} + std::chrono::hours{1};
  auto sent = store_->SendDueReminder(org, seven, Compose);
  ASSERT_TRUE(sent.ok()) << sent.error().message;
  ASSERT_TRUE(sent->has_value());
  const Reminder& r = (*sent)->reminder;
  EXPECT_EQ(r.kind, ReminderKind::kRenewalNotice);
  EXPECT_EQ(r.days_before, 7);
  EXPECT_EQ(r.plan, "PRO");
  EXPECT_EQ(r.period_end, end_);
  EXPECT_EQ(r.key, "renewal_notice:7:2026-01-31T00:00:00Z");
  EXPECT_TRUE((*sent)->emailed);
  // Queued as the composer said, under a message id safe for a file name.
  EXPECT_EQ(Count("SELECT COUNT(*) FROM outbox WHERE org_id = '" + org +
                  "' AND payment_id IS NULL AND to_addr = 'owner@acme.test' AND subject = "
                  "'Renew PRO' AND body = 'renewal_notice:7:2026-01-31T00:00:00Z of PRO' AND "
                  "message_id = 'reminder-" +
                  org + "-renewal_notice-7-2026-01-31T00-00-00Z'"),
            1);
  // Called again, at once or later the same day: nothing.
  EXPECT_EQ(store_->SendDueReminder(org, seven, Compose).value(), std::nullopt);
  EXPECT_EQ(store_->SendDueReminder(org, seven + std::chrono::hours{5}, Compose).value(),
            std::nullopt);
  EXPECT_EQ(Outbox(), 1);
  // The next notice day is the next reminder; then the clock goes back: nothing comes back.
  const Time three = end_ - Days{3};
  auto next = store_->SendDueReminder(org, three, Compose);
  ASSERT_TRUE(next.ok() && next->has_value());
  EXPECT_EQ((*next)->reminder.days_before, 3);
  EXPECT_EQ(store_->SendDueReminder(org, seven + std::chrono::hours{2}, Compose).value(),
            std::nullopt);
  EXPECT_EQ(store_->SendDueReminder(org, three, Compose).value(), std::nullopt);
  EXPECT_EQ(Outbox(), 2);
  EXPECT_EQ(Count("SELECT COUNT(*) FROM reminders_sent WHERE org_id = '" + org + "'"), 2);
  // Nothing is due for a FREE organization or a canceled plan.
  EXPECT_EQ(store_->SendDueReminder(NewOrgId(), three, Compose).value(), std::nullopt);
  const std::string canceled = NewOrgId("PRO");
  ASSERT_TRUE(store_->ChangeSubscription(canceled, ChangeKind::kCancel, "", now_).ok());
  EXPECT_EQ(store_->SendDueReminder(canceled, three, Compose).value(), std::nullopt);
  EXPECT_EQ(store_->SendDueReminder("org_missing", three, Compose).error().kind,
            ErrorKind::kNotFound);
  EXPECT_EQ(Outbox(), 2);
}

TEST_P(StoreLifecycle, WithoutABillingEmailTheKeyIsRecordedAndNothingQueued) {
  const std::string org = OrgOn(Paid("PRO", end_), std::nullopt);
  bool composed = false;
  const ComposeReminder compose = [&](const std::string& o, const std::string& to,
                                      const Subscription& s, const Reminder& r) {
    composed = true;
    return Compose(o, to, s, r);
  };
  const Time grace = end_ + Days{1};
  auto sent = store_->SendDueReminder(org, grace, compose);
  ASSERT_TRUE(sent.ok() && sent->has_value());
  EXPECT_EQ((*sent)->reminder.kind, ReminderKind::kGraceStarted);
  EXPECT_FALSE((*sent)->emailed);
  EXPECT_FALSE(composed);
  EXPECT_EQ(Outbox(), 0);
  EXPECT_EQ(store_->SendDueReminder(org, grace, compose).value(), std::nullopt);
  EXPECT_EQ(Count("SELECT COUNT(*) FROM reminders_sent WHERE org_id = '" + org + "'"), 1);
}

TEST_P(StoreLifecycle, TwoInstancesRacingSendEachReminderOnce) {
  const std::string org = NewOrgId("PRO");
  const Time expired = end_ + Days{catalog_->grace_days()} + std::chrono::hours{1};
  std::unique_ptr<Store> other = OpenStore();
  ASSERT_NE(other, nullptr);
  Store* stores[] = {store_.get(), other.get()};
  std::atomic<int> sent{0}, failed{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < 8; ++i) {
    threads.emplace_back([&, i] {
      auto r = stores[i % 2]->SendDueReminder(org, expired, Compose);
      if (!r) {
        ++failed;
      } else if (r->has_value()) {
        ++sent;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(failed.load(), 0);
  EXPECT_EQ(sent.load(), 1);
  EXPECT_EQ(Outbox(), 1);
  EXPECT_EQ(Count("SELECT COUNT(*) FROM reminders_sent WHERE kind = 'expired'"), 1);
}

TEST_P(StoreLifecycle, PruneDropsReminderKeysOfLongPastPeriodsOnly) {
  const std::string old_org = NewOrgId("PRO");
  ASSERT_TRUE(store_->SendDueReminder(old_org, end_ - Days{1}, Compose)->has_value());
  const Time later = end_ + Days{2 * (30 + catalog_->grace_days())} + Days{1};
  const std::string recent = OrgOn(Paid("PRO", later + Days{2}));
  ASSERT_TRUE(store_->SendDueReminder(recent, later, Compose)->has_value());
  auto pruned = store_->Prune(later, 100, 10);
  ASSERT_TRUE(pruned.ok()) << pruned.error().message;
  EXPECT_EQ(pruned->reminders, 1);
  EXPECT_EQ(Count("SELECT COUNT(*) FROM reminders_sent WHERE org_id = '" + old_org + "'"), 0);
  EXPECT_EQ(Count("SELECT COUNT(*) FROM reminders_sent WHERE org_id = '" + recent + "'"), 1);
}

// --- the pay-link secret ---

TEST_P(StoreLifecycle, ThePayLinkSecretIsTheFirstStoredOneForEveryInstance) {
  auto first = store_->PayLinkSecret(std::string(64, 'a'));
  ASSERT_TRUE(first.ok()) << first.error().message;
  EXPECT_EQ(*first, std::string(64, 'a'));
  std::unique_ptr<Store> other = OpenStore();
  ASSERT_NE(other, nullptr);
  EXPECT_EQ(other->PayLinkSecret(std::string(64, 'b')).value(), std::string(64, 'a'));
  Reopen();
  EXPECT_EQ(store_->PayLinkSecret(std::string(64, 'c')).value(), std::string(64, 'a'));
  EXPECT_EQ(Count("SELECT COUNT(*) FROM server_secrets"), 1);
}

}  // namespace
}  // namespace sima::server::testing
