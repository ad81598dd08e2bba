// The webhook outbox in every store (store.h: endpoints, events, deliveries): endpoints and their
// caps; the events each change writes, exactly once, in the transaction of the change; the
// order deliveries are claimed in (per endpoint and organization, one at a time), leases that
// expire, two instances claiming at once, re-sends, deleted endpoints and pruning. Times are
// given, never read from a clock.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <fstream>
#include <map>
#include <mutex>
#include <set>
#include <sstream>
#include <thread>

#include "auth.h"
#include "sima/json.h"
#include "sima/lifecycle.h"
#include "sima/reminders.h"
#include "store_contract.h"
#include "webhook/event.h"
#include "webhook/outbox.h"

namespace sima::server::testing {
namespace {

using std::chrono::seconds;

class StoreWebhooks : public StoreContract {
 protected:
  // A new endpoint of `org` (nullopt: server-wide).
  WebhookEndpoint Endpoint(std::optional<std::string> org,
                           const std::string& url = "https://x.test/h") {
    const std::string id = NewId("we").value();
    auto e =
        store_->CreateWebhookEndpoint({id, org, url, "d", "whsec_" + std::string(32, 'a')}, now_);
    EXPECT_TRUE(e.ok()) << e.error().message;
    return e.ok() ? *e : WebhookEndpoint{};
  }
  // The organization's events, oldest first.
  std::vector<WebhookEvent> Events(const std::string& org) {
    auto page = store_->ListWebhookEvents(org, {1000, std::nullopt});
    EXPECT_TRUE(page.ok()) << page.error().message;
    if (!page) return {};
    std::vector<WebhookEvent> out = page->items;
    std::reverse(out.begin(), out.end());
    return out;
  }
  std::vector<std::string> Types(const std::string& org) {
    std::vector<std::string> out;
    for (const WebhookEvent& e : Events(org)) out.push_back(e.type);
    return out;
  }
  std::vector<DueDelivery> Claim(Time at, Time lease_until, int64_t limit = 100) {
    auto claimed = store_->ClaimDueDeliveries(at, lease_until, limit);
    EXPECT_TRUE(claimed.ok()) << claimed.error().message;
    return claimed.ok() ? *claimed : std::vector<DueDelivery>{};
  }
  static DeliveryResult Delivered(Time at) { return {{0, at, 200, 12, "ok", ""}, true, {}}; }
  static DeliveryResult GiveUp(Time at) {
    return {{0, at, 500, 12, "no", "HTTP 500"}, false, std::nullopt};
  }
  void Complete(const DueDelivery& d, const DeliveryResult& result, Time at) {
    auto r = store_->CompleteDelivery(d.delivery.id, d.lease, result, at);
    ASSERT_TRUE(r.ok()) << r.error().message;
  }
  // A scheduled change: one subscription.changed event of a PRO organization.
  void Cancel(const std::string& org, Time at) {
    auto r = store_->ChangeSubscription(org, ChangeKind::kCancel, "", at);
    ASSERT_TRUE(r.ok()) << r.error().message;
  }
  void Undo(const std::string& org, Time at) {
    auto r = store_->ChangeSubscription(org, ChangeKind::kUndo, "", at);
    ASSERT_TRUE(r.ok()) << r.error().message;
  }
  Expected<AppliedOutcome> Apply(const Payment& p, const std::string& status, int64_t paisa,
                                 Time at) {
    return store_->ApplyPaymentOutcome(p.id, p.org_id, Said(status, paisa), PaymentCause::kVerify,
                                       at);
  }
};

INSTANTIATE_TEST_SUITE_P(Stores, StoreWebhooks,
                         ::testing::Values(StoreKind::kSqlite, StoreKind::kPostgres), StoreName);

// --- endpoints ---

TEST_P(StoreWebhooks, EndpointsAreCreatedListedPatchedRotatedAndDeleted) {
  const std::string org = NewOrgId();
  const WebhookEndpoint a = Endpoint(org, "https://a.test/h");
  const WebhookEndpoint b = Endpoint(org, "https://b.test/h");
  const WebhookEndpoint wide = Endpoint(std::nullopt, "https://all.test/h");
  EXPECT_EQ(a.org_id, org);
  EXPECT_EQ(a.url, "https://a.test/h");
  EXPECT_EQ(a.description, "d");
  EXPECT_TRUE(a.enabled);
  EXPECT_EQ(a.created_at, now_);
  EXPECT_FALSE(a.previous_secret_until.has_value());

  auto listed = store_->ListWebhookEndpoints(org);
  ASSERT_TRUE(listed.ok()) << listed.error().message;
  ASSERT_EQ(listed->size(), 2u);
  std::set<std::string> ids{(*listed)[0].id, (*listed)[1].id};
  EXPECT_EQ(ids, (std::set<std::string>{a.id, b.id}));
  auto server_wide = store_->ListWebhookEndpoints(std::nullopt);
  ASSERT_TRUE(server_wide.ok());
  ASSERT_EQ(server_wide->size(), 1u);
  EXPECT_EQ((*server_wide)[0].id, wide.id);
  EXPECT_FALSE((*server_wide)[0].org_id.has_value());

  const Time later = now_ + seconds{60};
  auto patched = store_->UpdateWebhookEndpoint(a.id, {std::nullopt, "billing", false}, later);
  ASSERT_TRUE(patched.ok()) << patched.error().message;
  EXPECT_EQ(patched->url, "https://a.test/h");  // kept
  EXPECT_EQ(patched->description, "billing");
  EXPECT_FALSE(patched->enabled);
  EXPECT_EQ(patched->updated_at, later);
  EXPECT_EQ(store_->GetWebhookEndpoint(a.id).value().description, "billing");

  auto rotated =
      store_->RotateWebhookSecret(a.id, "whsec_" + std::string(32, 'b'), later + Days{1}, later);
  ASSERT_TRUE(rotated.ok()) << rotated.error().message;
  EXPECT_EQ(rotated->previous_secret_until, later + Days{1});

  ASSERT_TRUE(store_->DeleteWebhookEndpoint(a.id, later).ok());
  EXPECT_EQ(store_->GetWebhookEndpoint(a.id).error().kind, ErrorKind::kNotFound);
  EXPECT_EQ(store_->DeleteWebhookEndpoint(a.id, later).error().kind, ErrorKind::kNotFound);
  EXPECT_EQ(store_->UpdateWebhookEndpoint(a.id, {"https://c.test", {}, {}}, later).error().kind,
            ErrorKind::kNotFound);
  EXPECT_EQ(store_->ListWebhookEndpoints(org).value().size(), 1u);
  EXPECT_EQ(store_->GetWebhookEndpoint("we_nope").error().kind, ErrorKind::kNotFound);
}

TEST_P(StoreWebhooks, EachScopeHoldsSixteenEndpointsAndAnUnknownOrganizationNone) {
  const std::string org = NewOrgId();
  std::vector<WebhookEndpoint> made;
  for (int i = 0; i < 16; ++i) made.push_back(Endpoint(org));
  for (int i = 0; i < 16; ++i) Endpoint(std::nullopt);
  const NewWebhookEndpoint more{NewId("we").value(), org, "https://x.test", "", "whsec_x"};
  auto refused = store_->CreateWebhookEndpoint(more, now_);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().kind, ErrorKind::kConflict);
  EXPECT_NE(refused.error().message.find("16 webhook endpoints"), std::string::npos);
  auto wide = store_->CreateWebhookEndpoint(
      {NewId("we").value(), std::nullopt, "https://x.test", "", "whsec_x"}, now_);
  ASSERT_FALSE(wide.ok());
  EXPECT_EQ(wide.error().kind, ErrorKind::kConflict);
  // Another organization has its own sixteen; a deleted endpoint frees its place.
  Endpoint(NewOrgId());
  ASSERT_TRUE(store_->DeleteWebhookEndpoint(made[0].id, now_).ok());
  EXPECT_TRUE(store_->CreateWebhookEndpoint(more, now_).ok());

  auto unknown = store_->CreateWebhookEndpoint(
      {NewId("we").value(), "org_nope", "https://x.test", "", "whsec_x"}, now_);
  ASSERT_FALSE(unknown.ok());
  EXPECT_EQ(unknown.error().kind, ErrorKind::kNotFound);
}

// --- the events each change writes ---

TEST_P(StoreWebhooks, APaymentsSuccessWritesItsEventsOnceWithADeliveryToEachEndpoint) {
  const std::string org = NewOrgId();
  const std::string other = NewOrgId();
  const WebhookEndpoint mine = Endpoint(org);
  const WebhookEndpoint wide = Endpoint(std::nullopt);
  Endpoint(other);  // not this organization's: gets nothing
  const Payment p = NewPayment(org);
  auto paid = Apply(p, "Completed", 390000, now_);
  ASSERT_TRUE(paid.ok()) << paid.error().message;
  ASSERT_TRUE(paid->activated);
  for (int i = 0; i < 2; ++i) {  // the same answer again changes nothing and writes nothing
    auto again = Apply(p, "Completed", 390000, now_ + seconds{10});
    ASSERT_TRUE(again.ok()) << again.error().message;
    EXPECT_FALSE(again->changed);
  }

  const std::vector<WebhookEvent> events = Events(org);
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[0].type, webhook::kPaymentSucceeded);
  EXPECT_EQ(events[1].type, webhook::kSubscriptionActivated);
  EXPECT_LT(events[0].seq, events[1].seq);
  EXPECT_EQ(events[0].created_at, now_);
  EXPECT_EQ(events[0].id.rfind("evt_", 0), 0u);
  const Json payment = Json::parse(events[0].data);
  EXPECT_EQ(payment["payment"]["payment_id"], p.id);
  EXPECT_EQ(payment["payment"]["status"], "SUCCESS");
  EXPECT_EQ(payment["subscription"]["plan"], "PRO");
  const Json activated = Json::parse(events[1].data);
  EXPECT_EQ(activated["subscription"]["plan"], "PRO");
  EXPECT_EQ(activated["previous_plan"], "FREE");
  EXPECT_EQ(activated["payment_id"], p.id);
  EXPECT_TRUE(Events(other).empty());

  for (const WebhookEvent& e : events) {
    auto detail = store_->GetWebhookEvent(e.id);
    ASSERT_TRUE(detail.ok()) << detail.error().message;
    EXPECT_EQ(detail->event.data, e.data);
    std::set<std::string> to;
    for (const WebhookDelivery& d : detail->deliveries) {
      to.insert(d.endpoint_id);
      EXPECT_EQ(d.status, DeliveryStatus::kPending);
      EXPECT_EQ(d.next_attempt_at, now_);
      EXPECT_EQ(d.event_id, e.id);
    }
    EXPECT_EQ(to, (std::set<std::string>{mine.id, wide.id}));
  }
  EXPECT_EQ(store_->GetWebhookEvent("evt_nope").error().kind, ErrorKind::kNotFound);
}

TEST_P(StoreWebhooks, PayingTheActivePlanAgainWritesSubscriptionRenewed) {
  const std::string org = NewOrgId("PRO");
  auto p = store_->CreatePayment(org, Provider::kKhalti, "PRO", NewId("n").value(),
                                 now_ + std::chrono::minutes{15}, now_);
  ASSERT_TRUE(p.ok()) << p.error().message;
  auto paid = store_->ApplyPaymentOutcome(
      p->id, org, {FromKhaltiLookup("Completed", p->amount_paisa, p->amount_paisa), "", "t"},
      PaymentCause::kVerify, now_);
  ASSERT_TRUE(paid.ok()) << paid.error().message;
  EXPECT_EQ(Types(org), (std::vector<std::string>{"payment.succeeded", "subscription.renewed"}));
  const Json renewed = Json::parse(Events(org)[1].data);
  EXPECT_EQ(renewed["previous_plan"], "PRO");
  EXPECT_EQ(renewed["subscription"]["end_date"], FormatTime(now_ + Days{60}));
}

TEST_P(StoreWebhooks, AFailureAndEveryNewFlagWriteOneEventEach) {
  const std::string org = NewOrgId();
  // A failure, then the same failure again.
  const Payment failed = NewPayment(org);
  ASSERT_TRUE(Apply(failed, "User canceled", 0, now_).ok());
  ASSERT_TRUE(Apply(failed, "User canceled", 0, now_ + seconds{5}).ok());
  EXPECT_EQ(Types(org), (std::vector<std::string>{"payment.failed"}));
  EXPECT_EQ(Json::parse(Events(org)[0].data)["payment"]["status"], "FAILED");

  // An answer a human must read flags a pending payment once.
  const Payment odd = NewPayment(org);
  ASSERT_TRUE(Apply(odd, "Mystery", 0, now_).ok());
  ASSERT_TRUE(Apply(odd, "Mystery", 0, now_ + seconds{5}).ok());
  auto types = Types(org);
  ASSERT_EQ(types.size(), 2u);
  EXPECT_EQ(types[1], "payment.needs_attention");
  const Json flagged = Json::parse(Events(org)[1].data);
  EXPECT_EQ(flagged["payment"]["needs_attention"], true);
  EXPECT_TRUE(flagged["attention"].is_string());

  // An audit that flags, a second audit (already flagged), an audit that does not flag.
  const Payment forged = NewPayment(org);
  ASSERT_TRUE(store_->AuditPayment(forged.id, PaymentCause::kCallback, "forged", false, now_).ok());
  ASSERT_TRUE(store_->AuditPayment(forged.id, PaymentCause::kCallback, "look", true, now_).ok());
  ASSERT_TRUE(store_->AuditPayment(forged.id, PaymentCause::kCallback, "again", true, now_).ok());
  const Payment once = NewPayment(org);
  ASSERT_TRUE(
      store_->AuditPaymentOnce(once.id, PaymentCause::kCallback, "odd", true, seconds{60}, now_)
          .ok());
  // Rechecks that go on flag nothing; the one that stops them does, once.
  const Payment slow = NewPayment(org);
  ASSERT_TRUE(store_->ScheduleRecheck(slow.id, now_ + seconds{60}, now_).ok());
  ASSERT_TRUE(store_->ScheduleRecheck(slow.id, std::nullopt, now_).ok());
  ASSERT_TRUE(store_->ScheduleRecheck(slow.id, std::nullopt, now_).ok());

  const std::vector<WebhookEvent> events = Events(org);
  ASSERT_EQ(events.size(), 5u);
  const std::map<int64_t, std::string> why = [&] {
    std::map<int64_t, std::string> out;
    for (size_t i = 2; i < events.size(); ++i) {
      EXPECT_EQ(events[i].type, webhook::kPaymentNeedsAttention);
      const Json data = Json::parse(events[i].data);
      out[data["payment"]["payment_id"].get<int64_t>()] = data["attention"].get<std::string>();
    }
    return out;
  }();
  EXPECT_EQ(why.at(forged.id), "look");
  EXPECT_EQ(why.at(once.id), "odd");
  EXPECT_EQ(why.at(slow.id), webhook::kRechecksStopped);
}

TEST_P(StoreWebhooks, MoneySeenTakenAfterSuccessOrAPlanConflictNeedsAttention) {
  const std::string org = NewOrgId();
  const Payment p = NewPayment(org);
  ASSERT_TRUE(Apply(p, "Completed", 390000, now_).ok());
  // A failure reported after the success cannot move it: flagged.
  ASSERT_TRUE(Apply(p, "Expired", 0, now_ + seconds{5}).ok());
  ASSERT_TRUE(Apply(p, "Expired", 0, now_ + seconds{10}).ok());
  EXPECT_EQ(Types(org), (std::vector<std::string>{"payment.succeeded", "subscription.activated",
                                                  "payment.needs_attention"}));

  // A cheaper plan paid while a pricier one became active: SUCCESS, a refund due, flagged.
  const std::string conflicted = NewOrgId();
  const Payment basic = NewPayment(conflicted, "BASIC");
  const Payment pro = NewPayment(conflicted);
  ASSERT_TRUE(Apply(pro, "Completed", 390000, now_).ok());
  auto late = store_->ApplyPaymentOutcome(
      basic.id, conflicted, {FromKhaltiLookup("Completed", 190000, 190000), "k", std::nullopt},
      PaymentCause::kVerify, now_ + seconds{5});
  ASSERT_TRUE(late.ok()) << late.error().message;
  ASSERT_EQ(late->state.payment.reason, "plan_conflict: refund due");
  EXPECT_EQ(Types(conflicted),
            (std::vector<std::string>{"payment.succeeded", "subscription.activated",
                                      "payment.succeeded", "payment.needs_attention"}));
  const Json flagged = Json::parse(Events(conflicted)[3].data);
  EXPECT_EQ(flagged["payment"]["reason"], "plan_conflict: refund due");

  // Paid after it had failed: it activates, and a human reviews the failure.
  const std::string late_org = NewOrgId();
  const Payment expired = NewPayment(late_org);
  ASSERT_TRUE(Apply(expired, "Expired", 390000, now_).ok());
  ASSERT_TRUE(Apply(expired, "Completed", 390000, now_ + seconds{5}).ok());
  ASSERT_TRUE(Apply(expired, "Completed", 390000, now_ + seconds{6}).ok());
  EXPECT_EQ(Types(late_org),
            (std::vector<std::string>{"payment.failed", "payment.succeeded",
                                      "payment.needs_attention", "subscription.activated"}));
}

TEST_P(StoreWebhooks, EachReminderWritesItsEventOnceWhetherOrNotThereIsABillingEmail) {
  for (const std::optional<std::string>& email :
       {std::optional<std::string>("owner@acme.test"), std::optional<std::string>()}) {
    const std::string org = NewOrgId("PRO", email);
    const Subscription sub = store_->GetSubscription(org, now_).value();
    const auto compose = [](const std::string&, const std::string& to, const Subscription&,
                            const Reminder& r) {
      return ReminderMail{to, r.key, "pay"};
    };
    std::vector<std::string> expected;
    const std::vector<Reminder> reminders = PeriodReminders(*catalog_, sub);
    for (const Reminder& r : reminders) {
      for (int pass = 0; pass < 3; ++pass) {  // the scheduler runs again: nothing more
        auto sent = store_->SendDueReminder(org, r.due_at, compose);
        ASSERT_TRUE(sent.ok()) << sent.error().message;
        EXPECT_EQ(sent->has_value(), pass == 0) << r.key;
      }
      expected.push_back(r.kind == ReminderKind::kGraceStarted ? "subscription.grace_started"
                         : r.kind == ReminderKind::kExpired    ? "subscription.expired"
                                                               : "subscription.renewal_due");
    }
    ASSERT_GE(expected.size(), 3u);
    EXPECT_EQ(Types(org), expected);
    const std::vector<WebhookEvent> events = Events(org);
    const Json notice = Json::parse(events[0].data);
    EXPECT_EQ(notice["reminder"]["kind"], "renewal_notice");
    EXPECT_EQ(notice["reminder"]["plan"], "PRO");
    EXPECT_EQ(notice["reminder"]["days_before"], reminders[0].days_before);
    EXPECT_EQ(notice["reminder"]["period_end"], FormatTime(reminders[0].period_end));
    EXPECT_EQ(notice["reminder"]["ends_at"], FormatTime(reminders[0].ends_at));
    EXPECT_EQ(notice["subscription"]["plan"], "PRO");
    EXPECT_TRUE(notice["previous_plan"].is_null());
    const Json expired = Json::parse(events.back().data);
    EXPECT_EQ(expired["subscription"]["plan"], "FREE");
    EXPECT_EQ(expired["previous_plan"], "PRO");
  }
}

TEST_P(StoreWebhooks, ScheduledChangesAndTrialsWriteTheirEvents) {
  const std::string org = NewOrgId("PRO");
  ASSERT_TRUE(store_->ChangeSubscription(org, ChangeKind::kSwitch, "BASIC", now_).ok());
  Cancel(org, now_);
  Undo(org, now_);
  // A refused change writes nothing.
  EXPECT_FALSE(store_->ChangeSubscription(org, ChangeKind::kSwitch, "NOPE", now_).ok());
  const std::vector<WebhookEvent> events = Events(org);
  ASSERT_EQ(events.size(), 3u);
  std::vector<std::string> changes;
  for (const WebhookEvent& e : events) {
    EXPECT_EQ(e.type, webhook::kSubscriptionChanged);
    const Json data = Json::parse(e.data);
    EXPECT_EQ(data["previous_plan"], "PRO");
    changes.push_back(data["change"].get<std::string>());
  }
  EXPECT_EQ(changes, (std::vector<std::string>{"switch", "cancel", "undo"}));
  EXPECT_EQ(Json::parse(events[0].data)["subscription"]["scheduled_change"]["plan"], "BASIC");

  const std::string trial = NewOrgId();
  ASSERT_TRUE(store_->GrantTrial(trial, "PRO", 7, now_).ok());
  ASSERT_TRUE(store_->GrantTrial(trial, "PRO", 3, now_ + seconds{60}).ok());  // replaces it
  EXPECT_FALSE(store_->GrantTrial(trial, "NOPE", 3, now_).ok());
  const std::vector<WebhookEvent> trials = Events(trial);
  ASSERT_EQ(trials.size(), 2u);
  EXPECT_EQ(trials[0].type, webhook::kSubscriptionActivated);
  const Json started = Json::parse(trials[0].data);
  EXPECT_EQ(started["subscription"]["trial"], true);
  EXPECT_EQ(started["previous_plan"], "FREE");
  EXPECT_TRUE(started["payment_id"].is_null());
  EXPECT_EQ(trials[1].type, webhook::kSubscriptionChanged);
  EXPECT_EQ(Json::parse(trials[1].data)["change"], "trial");
}

TEST_P(StoreWebhooks, DisabledEndpointsGetNoNewDeliveriesAndEventsArePagedNewestFirst) {
  const std::string org = NewOrgId("PRO");
  const WebhookEndpoint e = Endpoint(org);
  ASSERT_TRUE(store_->UpdateWebhookEndpoint(e.id, {{}, {}, false}, now_).ok());
  for (int i = 0; i < 5; ++i) {
    if (i % 2 == 0) {
      Cancel(org, now_);
    } else {
      Undo(org, now_);
    }
  }
  std::vector<int64_t> seqs;
  std::optional<PageKey> after;
  do {
    auto page = store_->ListWebhookEvents(org, {2, after});
    ASSERT_TRUE(page.ok()) << page.error().message;
    for (const WebhookEvent& ev : page->items) {
      seqs.push_back(ev.seq);
      EXPECT_TRUE(store_->GetWebhookEvent(ev.id).value().deliveries.empty());
    }
    after = page->next;
  } while (after);
  ASSERT_EQ(seqs.size(), 5u);
  EXPECT_TRUE(std::is_sorted(seqs.rbegin(), seqs.rend()));
  EXPECT_EQ(store_->ListWebhookEvents(std::nullopt, {100, std::nullopt}).value().items.size(), 5u);
  EXPECT_TRUE(store_->ListWebhookEvents("org_nope", {100, std::nullopt}).value().items.empty());
}

// The JSON block after `heading` in docs/webhooks.md (null when there is none).
Json DocumentedExample(const std::string& heading) {
  std::string path = SIMA_OPENAPI_JSON;
  path = path.substr(0, path.rfind('/')) + "/webhooks.md";
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  const std::string doc = text.str();
  const size_t at = doc.find(heading);
  if (at == std::string::npos) return nullptr;
  const size_t open = doc.find("```json\n", at);
  const size_t close = doc.find("```", open + 8);
  if (open == std::string::npos || close == std::string::npos) return nullptr;
  return Json::parse(doc.substr(open + 8, close - open - 8), nullptr, false);
}

// Whether `a` and `b` have the same keys at every level of their objects (values may differ).
bool SameShape(const Json& a, const Json& b, const std::string& where, std::string& why) {
  if (a.is_object() != b.is_object()) {
    why = where + ": an object on one side only";
    return false;
  }
  if (!a.is_object()) return true;
  for (const auto& [key, value] : a.items()) {
    if (!b.contains(key)) {
      why = where + "." + key + " is not documented";
      return false;
    }
    if (!SameShape(value, b[key], where + "." + key, why)) return false;
  }
  for (const auto& [key, value] : b.items()) {
    if (!a.contains(key)) {
      why = where + "." + key + " is documented but not sent";
      return false;
    }
  }
  return true;
}

TEST_P(StoreWebhooks, TheDocumentedExampleBodiesHaveTheShapeOfWhatIsSent) {
  const std::string org = NewOrgId();
  const Payment p = NewPayment(org);
  ASSERT_TRUE(Apply(p, "Completed", 390000, now_).ok());
  const Subscription sub = store_->GetSubscription(org, now_).value();
  const Reminder notice = PeriodReminders(*catalog_, sub).at(0);
  auto sent = store_->SendDueReminder(
      org, notice.due_at,
      [](const std::string&, const std::string& to, const Subscription&, const Reminder&) {
        return ReminderMail{to, "s", "b"};
      });
  ASSERT_TRUE(sent.ok() && sent->has_value());
  const std::vector<WebhookEvent> events = Events(org);
  ASSERT_EQ(events.size(), 3u);
  const Json payment = Json::parse(webhook::EventBody(events[0]));
  const Json reminder = Json::parse(webhook::EventBody(events[2]));
  std::string why;
  EXPECT_TRUE(SameShape(payment, DocumentedExample("### A payment event"), "body", why)) << why;
  EXPECT_TRUE(SameShape(reminder, DocumentedExample("### A subscription event"), "body", why))
      << why;
}

// --- delivery ---

TEST_P(StoreWebhooks, AnOrganizationsNextDeliveryWaitsForTheOneBeforeItAnotherOrgsDoesNot) {
  const WebhookEndpoint wide = Endpoint(std::nullopt);
  const std::string a = NewOrgId("PRO");
  const std::string b = NewOrgId("PRO");
  Cancel(a, now_);
  Undo(a, now_);
  Cancel(a, now_);
  Cancel(b, now_);
  const Time lease = now_ + seconds{60};
  std::vector<DueDelivery> first = Claim(now_, lease);
  ASSERT_EQ(first.size(), 2u);
  std::map<std::string, DueDelivery> by_org;
  for (const DueDelivery& d : first) by_org[d.event.org_id] = d;
  ASSERT_EQ(by_org.count(a), 1u);
  ASSERT_EQ(by_org.count(b), 1u);
  const std::vector<WebhookEvent> events_a = Events(a);
  EXPECT_EQ(by_org[a].event.id, events_a[0].id);
  EXPECT_EQ(by_org[a].url, wide.url);
  EXPECT_EQ(by_org[a].secret, "whsec_" + std::string(32, 'a'));
  EXPECT_FALSE(by_org[a].previous_secret.has_value());
  EXPECT_EQ(by_org[a].delivery.endpoint_id, wide.id);
  EXPECT_FALSE(by_org[a].lease.empty());
  EXPECT_EQ(by_org[a].event.data, events_a[0].data);

  // Nothing more while they are out, however late it gets within the lease.
  EXPECT_TRUE(Claim(now_ + seconds{30}, lease).empty());
  Complete(by_org[a], Delivered(now_ + seconds{1}), now_ + seconds{1});
  Complete(by_org[b], Delivered(now_ + seconds{1}), now_ + seconds{1});
  std::vector<DueDelivery> second = Claim(now_ + seconds{2}, lease);
  ASSERT_EQ(second.size(), 1u);
  EXPECT_EQ(second[0].event.id, events_a[1].id);
  // A delivery given up on lets the next one go too; one due later waits for its time.
  Complete(second[0], {{0, now_, std::nullopt, 10000, "", "timeout"}, false, now_ + seconds{90}},
           now_ + seconds{3});
  EXPECT_TRUE(Claim(now_ + seconds{89}, now_ + seconds{200}).empty());
  std::vector<DueDelivery> retried = Claim(now_ + seconds{90}, now_ + seconds{200});
  ASSERT_EQ(retried.size(), 1u);
  EXPECT_EQ(retried[0].event.id, events_a[1].id);
  EXPECT_EQ(retried[0].delivery.attempts, 1);
  Complete(retried[0], GiveUp(now_ + seconds{91}), now_ + seconds{91});
  std::vector<DueDelivery> third = Claim(now_ + seconds{92}, now_ + seconds{200});
  ASSERT_EQ(third.size(), 1u);
  EXPECT_EQ(third[0].event.id, events_a[2].id);

  auto log = store_->GetWebhookEvent(events_a[1].id);
  ASSERT_TRUE(log.ok());
  ASSERT_EQ(log->deliveries.size(), 1u);
  EXPECT_EQ(log->deliveries[0].status, DeliveryStatus::kFailed);
  EXPECT_EQ(log->deliveries[0].attempts, 2);
  EXPECT_EQ(log->deliveries[0].last_status, 500);
  EXPECT_EQ(log->deliveries[0].last_error, "HTTP 500");
  EXPECT_EQ(log->deliveries[0].completed_at, now_ + seconds{91});
  ASSERT_EQ(log->attempts.size(), 2u);
  EXPECT_FALSE(log->attempts[0].status_code.has_value());
  EXPECT_EQ(log->attempts[0].error, "timeout");
  EXPECT_EQ(log->attempts[0].duration_ms, 10000);
  EXPECT_EQ(log->attempts[1].status_code, 500);
  EXPECT_EQ(log->attempts[1].response_body, "no");
}

TEST_P(StoreWebhooks, AnUncompletedClaimComesBackAfterItsLeaseAndTheOldLeaseIsRefused) {
  Endpoint(std::nullopt);
  const std::string org = NewOrgId("PRO");
  Cancel(org, now_);
  std::vector<DueDelivery> first = Claim(now_, now_ + seconds{60});
  ASSERT_EQ(first.size(), 1u);
  EXPECT_TRUE(Claim(now_ + seconds{59}, now_ + seconds{120}).empty());
  std::vector<DueDelivery> again = Claim(now_ + seconds{60}, now_ + seconds{120});
  ASSERT_EQ(again.size(), 1u);
  EXPECT_EQ(again[0].delivery.id, first[0].delivery.id);
  EXPECT_NE(again[0].lease, first[0].lease);

  auto stale = store_->CompleteDelivery(first[0].delivery.id, first[0].lease,
                                        Delivered(now_ + seconds{61}), now_ + seconds{61});
  ASSERT_FALSE(stale.ok());
  EXPECT_EQ(stale.error().kind, ErrorKind::kConflict);
  auto log = store_->GetWebhookEvent(first[0].event.id).value();
  EXPECT_TRUE(log.attempts.empty());  // the refused result wrote nothing
  EXPECT_EQ(log.deliveries[0].status, DeliveryStatus::kPending);

  Complete(again[0], Delivered(now_ + seconds{62}), now_ + seconds{62});
  log = store_->GetWebhookEvent(first[0].event.id).value();
  EXPECT_EQ(log.deliveries[0].status, DeliveryStatus::kDelivered);
  EXPECT_EQ(log.deliveries[0].attempts, 1);
  EXPECT_EQ(log.deliveries[0].last_status, 200);
  EXPECT_FALSE(log.deliveries[0].next_attempt_at.has_value());
  ASSERT_EQ(log.attempts.size(), 1u);
  // Once delivered, the lease is spent.
  EXPECT_EQ(store_
                ->CompleteDelivery(again[0].delivery.id, again[0].lease,
                                   Delivered(now_ + seconds{63}), now_ + seconds{63})
                .error()
                .kind,
            ErrorKind::kConflict);
  EXPECT_EQ(store_->CompleteDelivery(999999, "x", Delivered(now_), now_).error().kind,
            ErrorKind::kNotFound);
  EXPECT_TRUE(Claim(now_ + Days{1}, now_ + Days{2}).empty());
}

TEST_P(StoreWebhooks, TheLogKeepsAKibibyteOfValidUtf8OfTheAnswer) {
  Endpoint(std::nullopt);
  const std::string org = NewOrgId("PRO");
  Cancel(org, now_);
  std::vector<DueDelivery> claimed = Claim(now_, now_ + seconds{60});
  ASSERT_EQ(claimed.size(), 1u);
  // 1,020 bytes of "स" (3 bytes each), two bytes that are not UTF-8, and much more.
  std::string body;
  while (body.size() < 1020) body += "\xE0\xA4\xB8";
  body += "\xFF\xFE tail";
  body += std::string(3000, 'x');
  Complete(claimed[0], {{0, now_, 502, 5, body, "HTTP 502"}, false, now_ + seconds{10}}, now_);
  const std::string kept =
      store_->GetWebhookEvent(claimed[0].event.id).value().attempts[0].response_body;
  EXPECT_LE(kept.size(), webhook::kLoggedBodyBytes);
  EXPECT_GE(kept.size(), webhook::kLoggedBodyBytes - 3);
  EXPECT_EQ(kept, webhook::LoggedText(body));
  EXPECT_EQ(kept.substr(0, 1020), body.substr(0, 1020));
  EXPECT_EQ(webhook::LoggedText("ok\xFF!"), "ok\xEF\xBF\xBD!");
  EXPECT_EQ(webhook::LoggedText("\xE0\xA4\xB8\xE0\xA4", 5), "\xE0\xA4\xB8");
}

TEST_P(StoreWebhooks, ARotatedSecretsPredecessorSignsOnlyUntilItsEnd) {
  const WebhookEndpoint e = Endpoint(std::nullopt);
  ASSERT_TRUE(store_->RotateWebhookSecret(e.id, "whsec_new", now_ + seconds{3600}, now_).ok());
  const std::string org = NewOrgId("PRO");
  Cancel(org, now_);
  std::vector<DueDelivery> first = Claim(now_, now_ + seconds{60});
  ASSERT_EQ(first.size(), 1u);
  EXPECT_EQ(first[0].secret, "whsec_new");
  EXPECT_EQ(first[0].previous_secret, "whsec_" + std::string(32, 'a'));
  // Past the overlap the old secret is no longer handed out.
  std::vector<DueDelivery> later = Claim(now_ + seconds{3600}, now_ + seconds{3700});
  ASSERT_EQ(later.size(), 1u);
  EXPECT_FALSE(later[0].previous_secret.has_value());
}

TEST_P(StoreWebhooks, TwoInstancesClaimingAtOnceNeverTakeTheSameDelivery) {
  Endpoint(std::nullopt);
  Endpoint(std::nullopt);
  constexpr int kOrgs = 30;
  for (int i = 0; i < kOrgs; ++i) Cancel(NewOrgId("PRO"), now_);
  std::unique_ptr<Store> second = OpenStore(4);
  ASSERT_NE(second, nullptr);
  std::mutex mu;
  std::vector<int64_t> taken;
  std::atomic<int> errors{0};
  auto drain = [&](Store& store) {
    for (int empty = 0; empty < 3;) {
      auto claimed = store.ClaimDueDeliveries(now_, now_ + seconds{600}, 3);
      if (!claimed) {
        ++errors;
        return;
      }
      if (claimed->empty()) ++empty;
      std::lock_guard lock(mu);
      for (const DueDelivery& d : *claimed) taken.push_back(d.delivery.id);
    }
  };
  std::thread t1([&] { drain(*store_); });
  std::thread t2([&] { drain(*second); });
  t1.join();
  t2.join();
  EXPECT_EQ(errors.load(), 0);
  EXPECT_EQ(taken.size(), 2u * kOrgs);
  EXPECT_EQ(std::set<int64_t>(taken.begin(), taken.end()).size(), taken.size());
}

TEST_P(StoreWebhooks, AResendMakesDeliveriesDueAgainAndKeepsTheLog) {
  const WebhookEndpoint wide = Endpoint(std::nullopt);
  const std::string org = NewOrgId("PRO");
  Cancel(org, now_);
  const WebhookEvent event = Events(org)[0];
  std::vector<DueDelivery> claimed = Claim(now_, now_ + seconds{60});
  ASSERT_EQ(claimed.size(), 1u);
  Complete(claimed[0], Delivered(now_), now_);
  // An endpoint made after the event gets a delivery of it on a resend.
  const WebhookEndpoint mine = Endpoint(org);
  const Time later = now_ + seconds{300};
  auto resent = store_->ResendWebhookEvent(event.id, std::nullopt, later);
  ASSERT_TRUE(resent.ok()) << resent.error().message;
  ASSERT_EQ(resent->deliveries.size(), 2u);
  for (const WebhookDelivery& d : resent->deliveries) {
    EXPECT_EQ(d.status, DeliveryStatus::kPending);
    EXPECT_EQ(d.next_attempt_at, later);
    EXPECT_FALSE(d.completed_at.has_value());
    EXPECT_EQ(d.attempts, d.endpoint_id == wide.id ? 1 : 0);
  }
  EXPECT_EQ(resent->attempts.size(), 1u);  // the log stays
  std::vector<DueDelivery> again = Claim(later, later + seconds{60});
  EXPECT_EQ(again.size(), 2u);
  for (const DueDelivery& d : again) Complete(d, Delivered(later), later);

  // One endpoint only.
  auto one = store_->ResendWebhookEvent(event.id, mine.id, later + seconds{1});
  ASSERT_TRUE(one.ok()) << one.error().message;
  int pending = 0;
  for (const WebhookDelivery& d : one->deliveries) pending += d.status == DeliveryStatus::kPending;
  EXPECT_EQ(pending, 1);
  EXPECT_EQ(store_->ResendWebhookEvent("evt_nope", std::nullopt, later).error().kind,
            ErrorKind::kNotFound);
  EXPECT_EQ(store_->ResendWebhookEvent(event.id, "we_nope", later).error().kind,
            ErrorKind::kNotFound);
  const WebhookEndpoint foreign = Endpoint(NewOrgId());
  EXPECT_EQ(store_->ResendWebhookEvent(event.id, foreign.id, later).error().kind,
            ErrorKind::kConflict);
}

TEST_P(StoreWebhooks, DeletingAnEndpointFailsItsPendingDeliveriesAndStopsNewOnes) {
  const WebhookEndpoint e = Endpoint(std::nullopt);
  const WebhookEndpoint kept = Endpoint(std::nullopt);
  const std::string org = NewOrgId("PRO");
  Cancel(org, now_);
  ASSERT_TRUE(store_->DeleteWebhookEndpoint(e.id, now_ + seconds{5}).ok());
  Undo(org, now_ + seconds{6});
  const std::vector<WebhookEvent> events = Events(org);
  ASSERT_EQ(events.size(), 2u);
  auto first = store_->GetWebhookEvent(events[0].id).value();
  ASSERT_EQ(first.deliveries.size(), 2u);
  for (const WebhookDelivery& d : first.deliveries) {
    if (d.endpoint_id == e.id) {
      EXPECT_EQ(d.status, DeliveryStatus::kFailed);
      EXPECT_EQ(d.last_error, "endpoint deleted");
      EXPECT_EQ(d.completed_at, now_ + seconds{5});
    } else {
      EXPECT_EQ(d.status, DeliveryStatus::kPending);
    }
  }
  auto second = store_->GetWebhookEvent(events[1].id).value();
  ASSERT_EQ(second.deliveries.size(), 1u);
  EXPECT_EQ(second.deliveries[0].endpoint_id, kept.id);
  for (const DueDelivery& d : Claim(now_ + seconds{7}, now_ + seconds{60})) {
    EXPECT_EQ(d.delivery.endpoint_id, kept.id);
  }
}

TEST_P(StoreWebhooks, PruneDropsOldFinishedEventsWithTheirLogAndKeepsTheRest) {
  Endpoint(std::nullopt);
  const std::string org = NewOrgId("PRO");
  Cancel(org, now_);
  Undo(org, now_);
  Cancel(org, now_ + Days{20});
  const std::vector<WebhookEvent> events = Events(org);
  std::vector<DueDelivery> claimed = Claim(now_, now_ + seconds{60});
  ASSERT_EQ(claimed.size(), 1u);
  Complete(claimed[0], Delivered(now_), now_);
  // events[0] is finished; events[1] still pending; events[2] is recent.
  auto pruned = store_->Prune(now_ + Days{31}, 1, 10);
  ASSERT_TRUE(pruned.ok()) << pruned.error().message;
  EXPECT_EQ(pruned->webhook_events, 1);
  EXPECT_EQ(store_->GetWebhookEvent(events[0].id).error().kind, ErrorKind::kNotFound);
  EXPECT_TRUE(store_->GetWebhookEvent(events[1].id).ok());
  EXPECT_TRUE(store_->GetWebhookEvent(events[2].id).ok());
  EXPECT_EQ(Count("SELECT COUNT(*) FROM webhook_attempts"), 0);
  EXPECT_EQ(Count("SELECT COUNT(*) FROM webhook_deliveries"), 2);

  // Finished: every one goes once old enough, in batches.
  std::vector<DueDelivery> rest = Claim(now_ + Days{21}, now_ + Days{22});
  ASSERT_EQ(rest.size(), 1u);
  Complete(rest[0], GiveUp(now_ + Days{21}), now_ + Days{21});
  rest = Claim(now_ + Days{21}, now_ + Days{22});
  ASSERT_EQ(rest.size(), 1u);
  Complete(rest[0], Delivered(now_ + Days{21}), now_ + Days{21});
  pruned = store_->Prune(now_ + Days{51}, 1, 10);
  ASSERT_TRUE(pruned.ok()) << pruned.error().message;
  EXPECT_EQ(pruned->webhook_events, 2);
  EXPECT_EQ(Count("SELECT COUNT(*) FROM webhook_events"), 0);
  EXPECT_EQ(Count("SELECT COUNT(*) FROM webhook_deliveries"), 0);
  EXPECT_EQ(Count("SELECT COUNT(*) FROM webhook_attempts"), 0);
}

}  // namespace
}  // namespace sima::server::testing
