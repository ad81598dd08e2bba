// The store contract (store.h) against every store: SQLite and PostgreSQL (store_contract.h).
// Concurrent tests spread their callers over three stores on one database, as three
// sima-server instances would be.
#include "store_contract.h"

#include <gtest/gtest.h>

#include <atomic>
#include <set>
#include <thread>

#include "auth.h"

namespace sima::server::testing {
namespace {

INSTANTIATE_TEST_SUITE_P(Stores, StoreContract,
                         ::testing::Values(StoreKind::kSqlite, StoreKind::kPostgres), StoreName);

TEST_P(StoreContract, SecretKeysResolveUntilRevoked) {
  const std::string org = NewOrgId();
  auto c = store_->FindSecretKey(Sha256Hex(org));
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->org_id, org);
  ASSERT_TRUE(store_->RevokeSecretKey(Sha256Hex(org), now_).ok());
  EXPECT_EQ(store_->FindSecretKey(Sha256Hex(org)).error().kind, ErrorKind::kUnauthorized);
  EXPECT_EQ(store_->RevokeSecretKey(Sha256Hex(org), now_).error().kind, ErrorKind::kNotFound);
}

TEST_P(StoreContract, SessionsExpire) {
  const std::string org = NewOrgId();
  ASSERT_TRUE(store_->CreateSession(org, "key_x", "h", now_ + std::chrono::seconds{10}, now_).ok());
  EXPECT_TRUE(store_->FindSession("h", now_ + std::chrono::seconds{9}).ok());
  EXPECT_FALSE(store_->FindSession("h", now_ + std::chrono::seconds{10}).ok());
}

TEST_P(StoreContract, CreateInvoiceRefusesTheEleventhOnFree) {
  const std::string org = NewOrgId();
  for (int i = 0; i < 10; ++i) ASSERT_TRUE(store_->CreateInvoice(org, Inv(), now_).ok());
  auto r = store_->CreateInvoice(org, Inv(), now_);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().kind, ErrorKind::kLimitReached);
  EXPECT_EQ(r.error().extra["current"], 10);
  auto usage = store_->ReadUsage(org, now_);
  EXPECT_EQ(usage->usage.at("invoices"), 10);
  EXPECT_EQ(usage->usage.at("api_calls"), 11);  // 10 creates + the read
}

TEST_P(StoreContract, UnknownOrganizationIsNotFound) {
  EXPECT_EQ(store_->CreateInvoice("org_missing", Inv(), now_).error().kind, ErrorKind::kNotFound);
  EXPECT_EQ(store_->ReadUsage("org_missing", now_).error().kind, ErrorKind::kNotFound);
}

TEST_P(StoreContract, RecordUsageReplaysByKey) {
  const std::string org = NewOrgId();
  auto a = store_->RecordUsage(org, {"invoices", 2, "k1"}, now_);
  ASSERT_TRUE(a.ok());
  EXPECT_FALSE(a->replayed);
  auto b = store_->RecordUsage(org, {"invoices", 2, "k1"}, now_);
  ASSERT_TRUE(b.ok());
  EXPECT_TRUE(b->replayed);
  EXPECT_EQ(b->used, 2);
  EXPECT_EQ(store_->RecordUsage(org, {"nope", 1, std::nullopt}, now_).error().kind,
            ErrorKind::kNotFound);
}

TEST_P(StoreContract, DataSurvivesReopening) {
  const std::string org = NewOrgId("PRO");
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(store_->CreateInvoice(org, Inv(), now_).ok());
  Reopen();
  EXPECT_EQ(store_->ListInvoices(org, {100, std::nullopt}, now_)->items.size(), 3u);
  EXPECT_EQ(store_->ReadUsage(org, now_)->subscription.plan, "PRO");
}

// Runs `call(store, i)` for i in [0, n) on n threads spread over three stores on this database.
template <typename F>
void OverThreeInstances(std::unique_ptr<Store>& first, int n, F call, std::unique_ptr<Store> second,
                        std::unique_ptr<Store> third) {
  Store* stores[] = {first.get(), second.get(), third.get()};
  std::vector<std::thread> threads;
  for (int i = 0; i < n; ++i) threads.emplace_back([&, i] { call(*stores[i % 3], i); });
  for (auto& t : threads) t.join();
}

TEST_P(StoreContract, ThreeHundredConcurrentCreatesOnFreeMakeExactlyTen) {
  const std::string org = NewOrgId();
  std::atomic<int> created{0}, refused{0}, other{0};
  OverThreeInstances(
      store_, 300,
      [&](Store& store, int) {
        auto r = store.CreateInvoice(org, Inv(), now_);
        if (r.ok()) {
          ++created;
        } else if (r.error().kind == ErrorKind::kLimitReached) {
          ++refused;
        } else {
          ++other;
          ADD_FAILURE() << r.error().message;
        }
      },
      OpenStore(), OpenStore());
  EXPECT_EQ(created.load(), 10);
  EXPECT_EQ(refused.load(), 290);
  EXPECT_EQ(Count("SELECT COUNT(*) FROM invoices"), 10);
  auto usage = store_->ReadUsage(org, now_);
  ASSERT_TRUE(usage.ok());
  EXPECT_EQ(usage->usage.at("invoices"), 10);
  EXPECT_EQ(usage->usage.at("api_calls"), 11);  // refusals change nothing; + this read
}

TEST_P(StoreContract, CountersEqualRowsOnProUnderConcurrentCreates) {
  const std::string org = NewOrgId("PRO");
  std::atomic<int> created{0};
  OverThreeInstances(
      store_, 150,
      [&](Store& store, int i) {
        const bool ok =
            i % 2 ? store.CreateInvoice(org, Inv(), now_).ok()
                  : store.CreateCustomer(org, {NewId("cus").value(), "C", "c@x.test", now_}, now_)
                        .ok();
        if (ok) ++created;
      },
      OpenStore(), OpenStore());
  EXPECT_EQ(created.load(), 150);
  auto usage = store_->ReadUsage(org, now_);
  ASSERT_TRUE(usage.ok());
  EXPECT_EQ(usage->usage.at("invoices"), Count("SELECT COUNT(*) FROM invoices"));
  EXPECT_EQ(usage->usage.at("customers"), Count("SELECT COUNT(*) FROM customers"));
  EXPECT_EQ(usage->usage.at("invoices") + usage->usage.at("customers"), 150);
  EXPECT_EQ(usage->usage.at("api_calls"), 151);
}

TEST_P(StoreContract, AnIdempotencyKeyCountsOnceAcrossInstances) {
  const std::string org = NewOrgId("BASIC");
  std::atomic<int> fresh{0}, replayed{0};
  std::mutex mu;
  std::set<int64_t> answers;
  OverThreeInstances(
      store_, 30,
      [&](Store& store, int) {
        auto r = store.RecordUsage(org, {"invoices", 3, "same-key"}, now_);
        ASSERT_TRUE(r.ok()) << r.error().message;
        (r->replayed ? replayed : fresh)++;
        std::lock_guard lock(mu);
        answers.insert(r->used);
      },
      OpenStore(), OpenStore());
  EXPECT_EQ(fresh.load(), 1);
  EXPECT_EQ(replayed.load(), 29);
  EXPECT_EQ(answers, std::set<int64_t>{3});
  EXPECT_EQ(store_->ReadUsage(org, now_)->usage.at("invoices"), 3);
}

TEST_P(StoreContract, TeamMemberEmailsAreUniqueWithoutCase) {
  const std::string org = NewOrgId("PRO");
  ASSERT_TRUE(
      store_->CreateTeamMember(org, {NewId("tm").value(), "Ann@X.test", "Ann", now_}, now_).ok());
  auto again =
      store_->CreateTeamMember(org, {NewId("tm").value(), "ann@x.TEST", "Ann", now_}, now_);
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.error().kind, ErrorKind::kConflict);
  EXPECT_EQ(store_->ReadUsage(org, now_)->usage.at("team_members"), 1);
}

TEST_P(StoreContract, ListsPageNewestFirstWithoutRepeats) {
  const std::string org = NewOrgId("PRO");
  std::vector<std::string> ids;
  for (int i = 0; i < 7; ++i) {
    Invoice inv = Inv();
    ids.push_back(inv.id);
    ASSERT_TRUE(store_->CreateInvoice(org, inv, now_ + std::chrono::seconds{i / 2}).ok());
  }
  std::vector<std::string> seen;
  PageRequest page{3, std::nullopt};
  for (;;) {
    auto p = store_->ListInvoices(org, page, now_ + std::chrono::seconds{10});
    ASSERT_TRUE(p.ok()) << p.error().message;
    for (const Invoice& inv : p->items) seen.push_back(inv.id);
    if (!p->next) break;
    page.after = p->next;
  }
  std::reverse(ids.begin(), ids.end());
  EXPECT_EQ(seen, ids);
  EXPECT_EQ(store_->GetInvoice(NewOrgId(), ids[0], now_).error().kind, ErrorKind::kNotFound);
}

TEST_P(StoreContract, ReadsAndWritesAnswerHealthChecks) { EXPECT_TRUE(store_->CheckHealth().ok()); }

// --- feature kinds: allocations, switches, values; overrides ---

Customer Cus(Time now) { return {NewId("cus").value(), "C", "c@x.test", now}; }
TeamMember Member(Time now) {
  const std::string id = NewId("tm").value();
  return {id, id + "@x.test", "M", now};
}

// The default catalog plus an allocation the app meters itself ("projects").
const Catalog& WithProjects() {
  static const Catalog catalog = [] {
    std::vector<Feature> features = Catalog::Default().features();
    features.push_back({"projects", "Projects", Enforcement::kHard, FeatureKind::kAllocation, ""});
    std::vector<Plan> plans = Catalog::Default().plans();
    for (size_t i = 0; i < plans.size(); ++i)
      plans[i].limits.push_back(Limit::Of(3 + 10 * static_cast<int64_t>(i)));
    return Catalog::Create("NPR", 30, std::move(features), std::move(plans)).value();
  }();
  return catalog;
}

// The default catalog as it was before kinds: customers counted per period.
const Catalog& WithMeteredCustomers() {
  static const Catalog catalog = [] {
    std::vector<Feature> features = Catalog::Default().features();
    features[*Catalog::Default().FeatureIndex("customers")].kind = FeatureKind::kMetered;
    return Catalog::Create("NPR", 30, std::move(features), Catalog::Default().plans()).value();
  }();
  return catalog;
}

TEST_P(StoreContract, ACatalogThatMetersCustomersCountsThemPerPeriodAndKeepsTheLiveCount) {
  catalog_ = &WithMeteredCustomers();
  Reopen();
  const std::string org = NewOrgId();
  const Customer first = Cus(now_);
  ASSERT_TRUE(store_->CreateCustomer(org, first, now_).ok());
  ASSERT_TRUE(store_->CreateCustomer(org, Cus(now_), now_).ok());
  ASSERT_TRUE(store_->DeleteCustomer(org, first.id, now_).ok());
  // Metered: a deletion gives nothing back in the period...
  EXPECT_EQ(store_->ReadUsage(org, now_)->usage.at("customers"), 2);
  // ...and the next period starts at zero.
  EXPECT_EQ(store_->ReadUsage(org, now_ + Days{30})->usage.count("customers"), 0u);
  // The live count still follows the rows, ready for a catalog that makes it an allocation.
  EXPECT_EQ(
      Count("SELECT used FROM allocations WHERE org_id = '" + org + "' AND feature = 'customers'"),
      1);
}

TEST_P(StoreContract, DeletingACustomerOrATeamMemberFreesItsAllocation) {
  const std::string org = NewOrgId();  // FREE: 5 customers, 1 team member
  std::vector<Customer> customers;
  for (int i = 0; i < 5; ++i) {
    customers.push_back(Cus(now_));
    ASSERT_TRUE(store_->CreateCustomer(org, customers.back(), now_).ok());
  }
  EXPECT_EQ(store_->CreateCustomer(org, Cus(now_), now_).error().kind, ErrorKind::kLimitReached);
  ASSERT_TRUE(store_->DeleteCustomer(org, customers[0].id, now_).ok());
  EXPECT_EQ(store_->ReadUsage(org, now_)->usage.at("customers"), 4);
  EXPECT_TRUE(store_->CreateCustomer(org, Cus(now_), now_).ok());

  const TeamMember ann = Member(now_);
  ASSERT_TRUE(store_->CreateTeamMember(org, ann, now_).ok());
  EXPECT_EQ(store_->CreateTeamMember(org, Member(now_), now_).error().kind,
            ErrorKind::kLimitReached);
  ASSERT_TRUE(store_->DeleteTeamMember(org, ann.id, now_).ok());
  EXPECT_EQ(store_->GetTeamMember(org, ann.id, now_).error().kind, ErrorKind::kNotFound);
  EXPECT_EQ(store_->ReadUsage(org, now_)->usage.at("team_members"), 0);
  // The same e-mail can come back.
  EXPECT_TRUE(
      store_->CreateTeamMember(org, {NewId("tm").value(), ann.email, "Ann", now_}, now_).ok());
  EXPECT_EQ(Count("SELECT used FROM allocations WHERE org_id = '" + org +
                  "' AND feature = 'team_members'"),
            1);
  EXPECT_EQ(
      Count("SELECT used FROM allocations WHERE org_id = '" + org + "' AND feature = 'customers'"),
      5);
}

TEST_P(StoreContract, ADeletedCustomerIsGoneButItsInvoicesKeepNamingIt) {
  const std::string org = NewOrgId("PRO");
  const Customer c = Cus(now_);
  ASSERT_TRUE(store_->CreateCustomer(org, c, now_).ok());
  Invoice inv = Inv();
  inv.customer_id = c.id;
  ASSERT_TRUE(store_->CreateInvoice(org, inv, now_).ok());
  ASSERT_TRUE(store_->DeleteCustomer(org, c.id, now_).ok());
  EXPECT_EQ(store_->GetCustomer(org, c.id, now_).error().kind, ErrorKind::kNotFound);
  EXPECT_TRUE(store_->ListCustomers(org, {100, std::nullopt}, now_)->items.empty());
  EXPECT_EQ(store_->GetInvoice(org, inv.id, now_)->customer_id, c.id);
  Invoice naming = Inv();
  naming.customer_id = c.id;
  auto refused = store_->CreateInvoice(org, naming, now_);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().kind, ErrorKind::kValidation);
  EXPECT_EQ(refused.error().extra["field"], "customer_id");
  EXPECT_EQ(store_->DeleteCustomer(org, c.id, now_).error().kind, ErrorKind::kNotFound);
  EXPECT_EQ(store_->ReadUsage(org, now_)->usage.at("customers"), 0);
  EXPECT_EQ(Count("SELECT COUNT(*) FROM customers WHERE org_id = '" + org + "'"), 1);
}

// Creating and deleting in a loop (an anonymous browser user can) leaves no rows behind: only
// a customer that invoices name is kept, softly.
TEST_P(StoreContract, CustomersDeletedWithoutInvoicesLeaveNoRows) {
  const std::string org = NewOrgId();  // FREE: 5 customers
  for (int i = 0; i < 50; ++i) {
    const Customer c = Cus(now_);
    ASSERT_TRUE(store_->CreateCustomer(org, c, now_).ok());
    ASSERT_TRUE(store_->DeleteCustomer(org, c.id, now_).ok());
    ASSERT_EQ(store_->DeleteCustomer(org, c.id, now_).error().kind, ErrorKind::kNotFound);
  }
  EXPECT_EQ(Count("SELECT COUNT(*) FROM customers WHERE org_id = '" + org + "'"), 0);
  EXPECT_EQ(store_->ReadUsage(org, now_)->usage.at("customers"), 0);
}

TEST_P(StoreContract, DeletingAnotherOrganizationsObjectIsNotFoundAndChangesNothing) {
  const std::string a = NewOrgId("PRO");
  const std::string b = NewOrgId("PRO");
  const Customer c = Cus(now_);
  const TeamMember m = Member(now_);
  ASSERT_TRUE(store_->CreateCustomer(a, c, now_).ok());
  ASSERT_TRUE(store_->CreateTeamMember(a, m, now_).ok());
  EXPECT_EQ(store_->DeleteCustomer(b, c.id, now_).error().kind, ErrorKind::kNotFound);
  EXPECT_EQ(store_->DeleteTeamMember(b, m.id, now_).error().kind, ErrorKind::kNotFound);
  EXPECT_EQ(store_->DeleteCustomer(a, "cus_missing", now_).error().kind, ErrorKind::kNotFound);
  EXPECT_EQ(store_->DeleteTeamMember(a, "tm_missing", now_).error().kind, ErrorKind::kNotFound);
  EXPECT_EQ(store_->DeleteCustomer("org_missing", c.id, now_).error().kind, ErrorKind::kNotFound);
  EXPECT_TRUE(store_->GetCustomer(a, c.id, now_).ok());
  EXPECT_TRUE(store_->GetTeamMember(a, m.id, now_).ok());
  auto usage = store_->ReadUsage(a, now_);
  EXPECT_EQ(usage->usage.at("customers"), 1);
  EXPECT_EQ(usage->usage.at("team_members"), 1);
  // A refused call is not counted: b's only call is this read.
  EXPECT_EQ(store_->ReadUsage(b, now_)->usage.at("api_calls"), 1);
}

TEST_P(StoreContract, RecordUsageCountsReleasesOrDecidesByKind) {
  catalog_ = &WithProjects();
  Reopen();
  const std::string org = NewOrgId();  // FREE: 3 projects, no PDF export, attachments 5 MB
  auto metered = store_->RecordUsage(org, {"invoices", -1, std::nullopt}, now_);
  ASSERT_FALSE(metered.ok());
  EXPECT_EQ(metered.error().kind, ErrorKind::kValidation);
  EXPECT_EQ(metered.error().extra["field"], "quantity");

  auto three = store_->RecordUsage(org, {"projects", 3, std::nullopt}, now_);
  ASSERT_TRUE(three.ok()) << three.error().message;
  EXPECT_EQ(three->kind, FeatureKind::kAllocation);
  EXPECT_EQ(three->used, 3);
  EXPECT_EQ(store_->RecordUsage(org, {"projects", 1, std::nullopt}, now_).error().kind,
            ErrorKind::kLimitReached);
  auto released = store_->RecordUsage(org, {"projects", -2, "rel-1"}, now_);
  ASSERT_TRUE(released.ok()) << released.error().message;
  EXPECT_EQ(released->used, 1);
  EXPECT_FALSE(released->over);
  EXPECT_EQ(released->limit, Limit::Of(3));
  auto again = store_->RecordUsage(org, {"projects", -2, "rel-1"}, now_);
  ASSERT_TRUE(again.ok());
  EXPECT_TRUE(again->replayed);
  EXPECT_EQ(again->used, 1);
  auto below = store_->RecordUsage(org, {"projects", -2, std::nullopt}, now_);
  ASSERT_FALSE(below.ok());
  EXPECT_EQ(below.error().kind, ErrorKind::kConflict);
  EXPECT_EQ(below.error().extra["field"], "quantity");
  EXPECT_EQ(store_->ReadUsage(org, now_)->usage.at("projects"), 1);

  for (const char* own : {"customers", "team_members"}) {
    auto r = store_->RecordUsage(org, {own, 1, std::nullopt}, now_);
    ASSERT_FALSE(r.ok()) << own;
    EXPECT_EQ(r.error().kind, ErrorKind::kConflict);
  }

  auto pdf = store_->RecordUsage(org, {"pdf_export", 1, std::nullopt}, now_);
  ASSERT_FALSE(pdf.ok());
  EXPECT_EQ(pdf.error().kind, ErrorKind::kLimitReached);
  EXPECT_EQ(pdf.error().extra["upgrade"]["plan"], "BASIC");
  EXPECT_EQ(pdf.error().extra["upgrade"]["limit"], true);
  auto fits = store_->RecordUsage(org, {"attachment_mb", 5, std::nullopt}, now_);
  ASSERT_TRUE(fits.ok()) << fits.error().message;
  EXPECT_EQ(fits->kind, FeatureKind::kValue);
  EXPECT_EQ(fits->used, 0);
  EXPECT_EQ(fits->limit, Limit::Of(5));
  auto big = store_->RecordUsage(org, {"attachment_mb", 6, std::nullopt}, now_);
  ASSERT_FALSE(big.ok());
  EXPECT_EQ(big.error().kind, ErrorKind::kLimitReached);
  EXPECT_EQ(big.error().extra["upgrade"]["plan"], "BASIC");

  const std::string pro = NewOrgId("PRO");
  auto on = store_->RecordUsage(pro, {"pdf_export", 1, std::nullopt}, now_);
  ASSERT_TRUE(on.ok()) << on.error().message;
  EXPECT_EQ(on->kind, FeatureKind::kBoolean);
  EXPECT_EQ(on->limit, Limit::Switch(true));
  EXPECT_EQ(on->used, 0);
  // Switches and values count nothing.
  auto usage = store_->ReadUsage(pro, now_);
  EXPECT_EQ(usage->usage.count("pdf_export"), 0u);
  EXPECT_EQ(usage->usage.count("attachment_mb"), 0u);
}

TEST_P(StoreContract, APeriodRolloverKeepsAllocations) {
  const std::string org = NewOrgId();
  ASSERT_TRUE(store_->CreateTeamMember(org, Member(now_), now_).ok());
  for (int i = 0; i < 2; ++i) ASSERT_TRUE(store_->CreateCustomer(org, Cus(now_), now_).ok());
  for (int i = 0; i < 4; ++i) ASSERT_TRUE(store_->CreateInvoice(org, Inv(), now_).ok());
  const Time next = now_ + Days{30};
  auto usage = store_->ReadUsage(org, next);
  ASSERT_TRUE(usage.ok());
  EXPECT_EQ(usage->period.start, next);
  EXPECT_EQ(usage->usage.count("invoices"), 0u);
  EXPECT_EQ(usage->usage.at("team_members"), 1);
  EXPECT_EQ(usage->usage.at("customers"), 2);
  EXPECT_EQ(store_->CreateTeamMember(org, Member(next), next).error().kind,
            ErrorKind::kLimitReached);
}

TEST_P(StoreContract, AnUpgradeKeepsAllocationsAndResetsMeteredUsage) {
  const std::string org = NewOrgId();
  ASSERT_TRUE(store_->CreateTeamMember(org, Member(now_), now_).ok());
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(store_->CreateInvoice(org, Inv(), now_).ok());
  auto p = store_->CreatePayment(org, Provider::kKhalti, "PRO", NewId("n").value(),
                                 now_ + std::chrono::minutes{15}, now_);
  ASSERT_TRUE(p.ok()) << p.error().message;
  const Time later = now_ + std::chrono::hours{1};
  auto paid = store_->ApplyPaymentOutcome(p->id, org, Said("Completed", 390000),
                                          PaymentCause::kVerify, later);
  ASSERT_TRUE(paid.ok()) << paid.error().message;
  ASSERT_TRUE(paid->activated);
  auto usage = store_->ReadUsage(org, later);
  EXPECT_EQ(usage->subscription.plan, "PRO");
  EXPECT_EQ(usage->usage.count("invoices"), 0u);
  EXPECT_EQ(usage->usage.at("team_members"), 1);
  // PRO allows 10 members: 9 more, not 10.
  for (int i = 0; i < 9; ++i) ASSERT_TRUE(store_->CreateTeamMember(org, Member(later), later).ok());
  auto eleventh = store_->CreateTeamMember(org, Member(later), later);
  ASSERT_FALSE(eleventh.ok());
  EXPECT_EQ(eleventh.error().kind, ErrorKind::kLimitReached);
  EXPECT_EQ(eleventh.error().extra["current"], 10);
}

TEST_P(StoreContract, AnExpiryBelowTheCountKeepsTheRowsAndRefusesNewOnes) {
  const std::string org = NewOrgId("PRO");  // ends at now_ + 30 days; FREE allows 1 member
  std::vector<TeamMember> members;
  for (int i = 0; i < 3; ++i) {
    members.push_back(Member(now_));
    ASSERT_TRUE(store_->CreateTeamMember(org, members.back(), now_).ok());
  }
  // Past the end and its grace: FREE applies.
  const Time after = now_ + Days{30 + catalog_->grace_days()} + std::chrono::hours{1};
  auto usage = store_->ReadUsage(org, after);
  EXPECT_EQ(usage->usage.at("team_members"), 3);
  EXPECT_EQ(store_->ListTeamMembers(org, {100, std::nullopt}, after)->items.size(), 3u);
  auto refused = store_->CreateTeamMember(org, Member(after), after);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().kind, ErrorKind::kLimitReached);
  EXPECT_EQ(refused.error().extra["current"], 3);
  EXPECT_EQ(refused.error().extra["plan"], "FREE");
  ASSERT_TRUE(store_->DeleteTeamMember(org, members[0].id, after).ok());
  ASSERT_TRUE(store_->DeleteTeamMember(org, members[1].id, after).ok());
  EXPECT_EQ(store_->CreateTeamMember(org, Member(after), after).error().kind,
            ErrorKind::kLimitReached);  // 1 in use, 1 allowed
  ASSERT_TRUE(store_->DeleteTeamMember(org, members[2].id, after).ok());
  EXPECT_TRUE(store_->CreateTeamMember(org, Member(after), after).ok());
}

TEST_P(StoreContract, OverridesAreSetChangedClearedAndAudited) {
  const std::string org = NewOrgId();
  const Override twelve{"invoices", Limit::Of(12), std::nullopt, std::nullopt};
  auto set = store_->SetOverride(org, twelve, "deal #42", now_);
  ASSERT_TRUE(set.ok()) << set.error().message;
  EXPECT_EQ(set->value, twelve);
  EXPECT_EQ(set->reason, "deal #42");
  EXPECT_EQ(set->updated_at, now_);
  const Time later = now_ + std::chrono::hours{1};
  const Override twenty{"invoices", Limit::Of(20), "FREE", now_ + Days{60}};
  ASSERT_TRUE(store_->SetOverride(org, twenty, "bigger deal", later).ok());
  const Override on{"custom_branding", Limit::Switch(true), std::nullopt, std::nullopt};
  ASSERT_TRUE(store_->SetOverride(org, on, "", later).ok());
  ASSERT_TRUE(store_->ClearOverride(org, "custom_branding", "trial over", later).ok());

  auto view = store_->ListOverrides(org);
  ASSERT_TRUE(view.ok()) << view.error().message;
  ASSERT_EQ(view->overrides.size(), 1u);
  EXPECT_EQ(view->overrides[0].value, twenty);
  EXPECT_EQ(view->overrides[0].reason, "bigger deal");
  EXPECT_EQ(view->overrides[0].updated_at, later);
  ASSERT_EQ(view->history.size(), 4u);  // newest first
  EXPECT_EQ(view->history[0].feature, "custom_branding");
  EXPECT_EQ(view->history[0].before, on);
  EXPECT_EQ(view->history[0].after, std::nullopt);
  EXPECT_EQ(view->history[0].reason, "trial over");
  EXPECT_EQ(view->history[1].before, std::nullopt);
  EXPECT_EQ(view->history[1].after, on);
  EXPECT_EQ(view->history[2].before, twelve);
  EXPECT_EQ(view->history[2].after, twenty);
  EXPECT_EQ(view->history[2].at, later);
  EXPECT_EQ(view->history[3].before, std::nullopt);
  EXPECT_EQ(view->history[3].after, twelve);
  EXPECT_EQ(view->history[3].reason, "deal #42");

  EXPECT_EQ(store_->ClearOverride(org, "custom_branding", "", later).error().kind,
            ErrorKind::kNotFound);
  EXPECT_EQ(store_->SetOverride("org_missing", twelve, "", now_).error().kind,
            ErrorKind::kNotFound);
  EXPECT_EQ(store_->ClearOverride("org_missing", "invoices", "", now_).error().kind,
            ErrorKind::kNotFound);
  EXPECT_EQ(store_->ListOverrides("org_missing").error().kind, ErrorKind::kNotFound);
  // Admin calls are not the organization's calls.
  EXPECT_EQ(store_->ReadUsage(org, now_)->usage.at("api_calls"), 1);
  // Another organization sees none of them.
  auto other = store_->ListOverrides(NewOrgId());
  EXPECT_TRUE(other->overrides.empty());
  EXPECT_TRUE(other->history.empty());
}

TEST_P(StoreContract, AnOverrideReplacesThePlansLimitInDecisions) {
  const std::string org = NewOrgId();
  const Override twelve{"invoices", Limit::Of(12), std::nullopt, std::nullopt};
  ASSERT_TRUE(store_->SetOverride(org, twelve, "deal", now_).ok());
  for (int i = 0; i < 12; ++i) ASSERT_TRUE(store_->CreateInvoice(org, Inv(), now_).ok());
  auto refused = store_->CreateInvoice(org, Inv(), now_);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().kind, ErrorKind::kLimitReached);
  EXPECT_EQ(refused.error().extra["limit"], 12);
  EXPECT_EQ(refused.error().extra["override"]["limit"], 12);
  auto usage = store_->ReadUsage(org, now_);
  EXPECT_EQ(usage->overrides, Overrides{twelve});

  // A switch and a value too; the answer says an override gave them.
  const Override branding{"custom_branding", Limit::Switch(true), std::nullopt, std::nullopt};
  ASSERT_TRUE(store_->SetOverride(org, branding, "", now_).ok());
  auto on = store_->RecordUsage(org, {"custom_branding", 1, "k-branding"}, now_);
  ASSERT_TRUE(on.ok()) << on.error().message;
  EXPECT_EQ(on->override, branding);
  auto replayed = store_->RecordUsage(org, {"custom_branding", 1, "k-branding"}, now_);
  ASSERT_TRUE(replayed.ok());
  EXPECT_TRUE(replayed->replayed);
  EXPECT_EQ(replayed->override, branding);
  ASSERT_TRUE(store_
                  ->SetOverride(org, {"attachment_mb", Limit::Of(1000), std::nullopt, std::nullopt},
                                "", now_)
                  .ok());
  auto big = store_->RecordUsage(org, {"attachment_mb", 900, std::nullopt}, now_);
  ASSERT_TRUE(big.ok()) << big.error().message;
  EXPECT_EQ(big->limit, Limit::Of(1000));

  // Cleared: the plan's limit again.
  ASSERT_TRUE(store_->ClearOverride(org, "invoices", "", now_).ok());
  EXPECT_EQ(store_->CreateInvoice(org, Inv(), now_).error().extra["limit"], 10);
}

TEST_P(StoreContract, AnOverrideEndsAtItsDateAndHoldsOnlyOnItsPlan) {
  const std::string org = NewOrgId();  // FREE: 1 team member
  const Time end = now_ + std::chrono::hours{1};
  const Override three{"team_members", Limit::Of(3), std::nullopt, end};
  ASSERT_TRUE(store_->SetOverride(org, three, "trial", now_).ok());
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(store_->CreateTeamMember(org, Member(now_), now_).ok());
  EXPECT_EQ(store_->CreateTeamMember(org, Member(now_), now_).error().kind,
            ErrorKind::kLimitReached);
  auto before = store_->ReadUsage(org, end - std::chrono::seconds{1});
  EXPECT_EQ(before->overrides, Overrides{three});
  // From `until` on: FREE's limit, the members stay; the expired override is left out of the
  // usage state but the admin still sees it.
  auto after = store_->ReadUsage(org, end);
  EXPECT_TRUE(after->overrides.empty());
  EXPECT_EQ(after->usage.at("team_members"), 3);
  auto refused = store_->CreateTeamMember(org, Member(end), end);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().extra["limit"], 1);
  EXPECT_TRUE(refused.error().extra["override"].is_null());
  EXPECT_EQ(store_->ListOverrides(org)->overrides.size(), 1u);

  // Scoped to BASIC: listed in the usage state, but FREE's limit decides.
  const Override basic{"invoices", Limit::Of(2), "BASIC", std::nullopt};
  ASSERT_TRUE(store_->SetOverride(org, basic, "", now_).ok());
  for (int i = 0; i < 10; ++i) ASSERT_TRUE(store_->CreateInvoice(org, Inv(), now_).ok());
  EXPECT_EQ(store_->ReadUsage(org, now_)->overrides, (Overrides{basic, three}));
}

TEST_P(StoreContract, ConcurrentCreatesAndDeletesNeverPassTheLimitAndKeepCounterEqualRows) {
  const std::string org = NewOrgId("PRO");  // 10 team members
  std::atomic<int> kept{0}, refused{0}, other{0}, worst{0};
  const std::string rows = "SELECT COUNT(*) FROM team_members WHERE org_id = '" + org + "'";
  OverThreeInstances(
      store_, 200,
      [&](Store& store, int i) {
        const TeamMember m = Member(now_);
        auto r = store.CreateTeamMember(org, m, now_);
        if (!r.ok()) {
          (r.error().kind == ErrorKind::kLimitReached ? refused : other)++;
          if (r.error().kind != ErrorKind::kLimitReached) ADD_FAILURE() << r.error().message;
          return;
        }
        const int seen = static_cast<int>(Count(rows));
        for (int w = worst.load(); seen > w && !worst.compare_exchange_weak(w, seen);) {
        }
        if (i % 2 == 0) {
          auto d = store.DeleteTeamMember(org, m.id, now_);
          if (!d.ok()) ADD_FAILURE() << d.error().message;
        } else {
          ++kept;
        }
      },
      OpenStore(), OpenStore());
  EXPECT_EQ(other.load(), 0);
  EXPECT_LE(worst.load(), 10);
  EXPECT_GT(refused.load(), 0);
  auto usage = store_->ReadUsage(org, now_);
  ASSERT_TRUE(usage.ok());
  EXPECT_EQ(usage->usage.at("team_members"), Count(rows));
  EXPECT_EQ(Count(rows), kept.load());
  EXPECT_LE(kept.load(), 10);
}

}  // namespace
}  // namespace sima::server::testing
