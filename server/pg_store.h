// The PostgreSQL backend of Store, for several sima-server instances sharing one database.
// Every guarantee of store.h holds across processes, not only across threads:
//
// - Limits: a call that may add to a feature the plan in force limits with a hard limit
//   (a create on FREE, a metered feature with a finite limit), a metering call with an
//   idempotency key, and every payment transaction first lock the organization's subscription
//   row (SELECT ... FOR NO KEY UPDATE; one row per organization, "the organization's lock"),
//   then count under the lock: concurrent creates in every instance are serialized per
//   organization and the count is exact. A call that cannot be refused (an unlimited feature,
//   a soft limit, the api_calls counter) takes no lock: its counters are split into shards
//   (one per pool connection) that readers sum, so one organization's concurrent requests do
//   not queue behind one counter row held across every commit's fsync. "Limits" means the
//   effective limit: an organization's override counts as the plan's limit would.
// - Allocations (live counts: customers, team members, any allocation feature) change only
//   under the organization's lock — every create, delete and release — so a delete racing
//   creates never lets one past the limit and the counter always equals the rows. One row per
//   (organization, feature): no shards are needed behind a lock.
// - Overrides are read with the counts in the subscription's statement (no round trip of
//   their own); setting or clearing one takes the organization's lock and writes its audit row
//   in the same transaction.
// - Exactly once: ApplyPaymentOutcome locks the payment row and the organization's lock in
//   one transaction; sima::Settle decides, the store writes what it says.
// - The subscription's lifecycle: ChangeSubscription and GrantTrial read and save the
//   subscription under the organization's lock, as payments do, so a change and a settlement
//   are ordered, never interleaved. SendDueReminder takes the lock, then reads the recorded
//   reminder keys and inserts the due one (ON CONFLICT DO NOTHING on (org_id, key)) with the
//   outbox row in the same commit: each key is sent once whichever instances race.
//   PayLinkSecret stores the first instance's secret and every instance reads that one.
// - Idempotency keys are unique per organization and answered from the first call's stored
//   answer, whichever instance answers.
// - The reconciler and the outbox claim rows with FOR UPDATE SKIP LOCKED and push the row's
//   next time (next_check_at / next_attempt_at) past a lease in the same statement, so two
//   instances never take the same payment or e-mail, and a crashed instance's claims come
//   back after the lease.
// - Durability: every commit waits for its WAL flush (synchronous_commit = on).
//   Migrations run under an advisory lock, so instances starting together are safe.
//
// Connections come from a pool of Options::pool_size; a lost connection is dropped and a new
// one opened on the next call, so the store recovers when the database returns.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <thread>

#include "mail/confirmation.h"
#include "mail/usage_alert.h"
#include "pg.h"
#include "sima/catalog.h"
#include "sima/json.h"
#include "sima/quote.h"
#include "sima/settlement.h"
#include "store.h"
#include "usage_alerts.h"
#include "webhook/outbox.h"

namespace sima::server {

class PgStore final : public Store {
 public:
  struct Options {
    std::string url;     // postgresql://user:password@host:port/db
    int pool_size = 16;  // SIMA_DB_POOL
    // Idempotency keys older than this count as new again (and are pruned).
    std::chrono::seconds idempotency_ttl{86400};
    // Webhook events older than this whose deliveries are all finished are pruned, with their
    // deliveries and attempts (SIMA_WEBHOOK_RETENTION_DAYS).
    std::chrono::seconds webhook_retention{30 * 86400};
    // Sessions kept per secret key; minting one more deletes the oldest.
    int64_t sessions_per_key = 1000;
    // How long a claimed pending payment or e-mail stays with the instance that claimed it.
    std::chrono::seconds claim_lease{120};
    // Renders the confirmation e-mail a settlement asks for (the store only queues it).
    // Empty: CatalogConfirmation(catalog).
    ConfirmationRenderer confirmation = {};
    // Composes the e-mail of a usage alert the store records (it only queues it). Empty:
    // UsageAlertComposer(catalog, "") (no upgrade link).
    ComposeUsageAlert usage_alert = {};
    // Tables live in this schema (created if missing) instead of the user's default: tests
    // give each test its own.
    std::string schema = {};
  };

  // Connects, applies pending migrations. `catalog` must outlive the store. Errors:
  // kValidation (a URL libpq cannot read), kUnavailable ("cannot connect to PostgreSQL at
  // postgresql://user@host:port/db: <reason>", never the password), a failed migration, a
  // newer schema.
  static Expected<std::unique_ptr<PgStore>> Open(const Options& options, const Catalog& catalog);
  ~PgStore() override;

  Expected<Org> CreateOrg(const NewOrg& org) override;
  Expected<Org> GetOrg(const std::string& org_id) override;
  Expected<Credential> FindSecretKey(const std::string& key_hash) override;
  ExpectedDone RevokeSecretKey(const std::string& key_hash, Time now) override;
  Expected<ApiKeyInfo> CreateSecretKey(const std::string& org_id, const std::string& key_id,
                                       const std::string& key_hash, const std::string& prefix,
                                       Time now) override;
  Expected<Page<ApiKeyInfo>> ListSecretKeys(const std::string& org_id,
                                            const PageRequest& page) override;
  Expected<RevokedKey> RevokeKeyById(const std::string& org_id, const std::string& key_id,
                                     Time now) override;
  ExpectedDone EndSession(const std::string& token_hash) override;
  Expected<PruneResult> Prune(Time now, int64_t batch, int64_t max_batches) override;
  Expected<Credential> FindSession(const std::string& token_hash, Time now) override;
  Expected<std::vector<std::string>> CreateSession(const std::string& org_id,
                                                   const std::string& key_id,
                                                   const std::string& token_hash, Time expires_at,
                                                   Time now) override;
  Expected<UsageState> ReadUsage(const std::string& org_id, Time now) override;
  Expected<UsageState> PeekUsage(const std::string& org_id, Time now) override;
  ExpectedDone AnnounceChange(const std::string& org_id) override;
  ExpectedDone WatchChanges(std::function<void(const std::string& org_id)> on_change) override;
  Expected<Invoice> CreateInvoice(const std::string& org_id, const Invoice& invoice,
                                  Time now) override;
  Expected<Customer> CreateCustomer(const std::string& org_id, const Customer& customer,
                                    Time now) override;
  Expected<TeamMember> CreateTeamMember(const std::string& org_id, const TeamMember& member,
                                        Time now) override;
  Expected<Page<Invoice>> ListInvoices(const std::string& org_id, const PageRequest& page,
                                       Time now) override;
  Expected<Page<Customer>> ListCustomers(const std::string& org_id, const PageRequest& page,
                                         Time now) override;
  Expected<Page<TeamMember>> ListTeamMembers(const std::string& org_id, const PageRequest& page,
                                             Time now) override;
  Expected<Invoice> GetInvoice(const std::string& org_id, const std::string& id, Time now) override;
  Expected<Customer> GetCustomer(const std::string& org_id, const std::string& id,
                                 Time now) override;
  Expected<TeamMember> GetTeamMember(const std::string& org_id, const std::string& id,
                                     Time now) override;
  ExpectedDone DeleteCustomer(const std::string& org_id, const std::string& id, Time now) override;
  ExpectedDone DeleteTeamMember(const std::string& org_id, const std::string& id,
                                Time now) override;
  Expected<MeterResult> RecordUsage(const std::string& org_id, const MeterRequest& req,
                                    Time now) override;
  Expected<StoredOverride> SetOverride(const std::string& org_id, const Override& o,
                                       const std::string& reason, Time now) override;
  ExpectedDone ClearOverride(const std::string& org_id, const std::string& feature,
                             const std::string& reason, Time now) override;
  Expected<OverridesView> ListOverrides(const std::string& org_id) override;

  // The subscription's lifecycle (lifecycle in pg_store.cc).
  Expected<Subscription> GetSubscription(const std::string& org_id, Time now) override;
  Expected<Subscription> ChangeSubscription(const std::string& org_id, ChangeKind kind,
                                            const std::string& plan, Time now) override;
  Expected<Subscription> GrantTrial(const std::string& org_id, const std::string& plan, int days,
                                    Time now) override;
  Expected<std::vector<std::string>> ReminderCandidates(Time now, const std::string& after_org_id,
                                                        int64_t limit) override;
  Expected<std::optional<SentReminder>> SendDueReminder(const std::string& org_id, Time now,
                                                        const ComposeReminder& compose) override;
  Expected<std::string> PayLinkSecret(const std::string& candidate) override;

  // Payments and the outbox (pg_payments.cc).
  Expected<Payment> CreatePayment(const std::string& org_id, Provider provider,
                                  const std::string& plan, const std::string& order_nonce,
                                  Time first_check, Time now) override;
  Expected<Payment> AttachGatewayReference(
      int64_t payment_id, const std::string& reference_id, std::optional<Time> expires_at,
      Time next_check_at, Time now,
      const std::optional<std::string>& payment_url = std::nullopt) override;
  Expected<AppliedOutcome> ApplyPaymentOutcome(int64_t payment_id,
                                               const std::optional<std::string>& org_id,
                                               const GatewayAnswer& answer, PaymentCause cause,
                                               Time now) override;
  ExpectedDone AuditPayment(int64_t payment_id, PaymentCause cause, const std::string& detail,
                            bool needs_attention, Time now) override;
  Expected<PaymentState> GetPayment(const std::string& org_id, int64_t payment_id,
                                    Time now) override;
  Expected<Page<Payment>> ListPayments(const std::string& org_id, const PageRequest& page,
                                       Time now) override;
  Expected<Payment> FindPayment(int64_t payment_id) override;
  Expected<Payment> FindPaymentByReference(Provider provider,
                                           const std::string& reference_id) override;
  // Also claims them: each returned payment's next check moves to now + claim_lease in the
  // same statement (rows another instance is claiming are skipped), so another instance does
  // not take it until this one reschedules or settles it, or the lease runs out.
  Expected<std::vector<Payment>> DuePendingPayments(Time now, int64_t limit,
                                                    int64_t per_org = INT64_MAX) override;
  Expected<OpenedPayment> OpenPayment(const std::string& org_id, Provider provider,
                                      const std::string& plan, const std::string& order_nonce,
                                      Time first_check, const PaymentLimits& limits,
                                      Time now) override;
  Expected<Payment> FindPaymentByRef(const std::string& ref) override;
  Expected<bool> ClaimLookup(int64_t payment_id, std::chrono::seconds window, Time now,
                             bool late = false) override;
  Expected<bool> AuditPaymentOnce(int64_t payment_id, PaymentCause cause, const std::string& detail,
                                  bool needs_attention, std::chrono::seconds window,
                                  Time now) override;
  ExpectedDone ScheduleRecheck(int64_t payment_id, std::optional<Time> next_check_at,
                               Time now) override;
  Expected<std::vector<OutboxEmail>> ClaimDueEmails(Time now, Time lease_until,
                                                    int64_t limit) override;
  ExpectedDone MarkEmailSent(int64_t email_id, Time now) override;
  ExpectedDone MarkEmailFailed(int64_t email_id, const std::string& error,
                               Time next_attempt_at) override;
  Expected<WebhookEndpoint> CreateWebhookEndpoint(const NewWebhookEndpoint& endpoint,
                                                  Time now) override;
  Expected<std::vector<WebhookEndpoint>> ListWebhookEndpoints(
      const std::optional<std::string>& org_id) override;
  Expected<WebhookEndpoint> GetWebhookEndpoint(const std::string& endpoint_id) override;
  Expected<WebhookEndpoint> UpdateWebhookEndpoint(const std::string& endpoint_id,
                                                  const WebhookEndpointPatch& patch,
                                                  Time now) override;
  Expected<WebhookEndpoint> RotateWebhookSecret(const std::string& endpoint_id,
                                                const std::string& new_secret, Time previous_until,
                                                Time now) override;
  ExpectedDone DeleteWebhookEndpoint(const std::string& endpoint_id, Time now) override;
  Expected<Page<WebhookEvent>> ListWebhookEvents(const std::optional<std::string>& org_id,
                                                 const PageRequest& page) override;
  Expected<WebhookEventDetail> GetWebhookEvent(const std::string& event_id) override;
  Expected<WebhookEventDetail> ResendWebhookEvent(const std::string& event_id,
                                                  const std::optional<std::string>& endpoint_id,
                                                  Time now) override;
  Expected<std::vector<DueDelivery>> ClaimDueDeliveries(Time now, Time lease_until,
                                                        int64_t limit) override;
  ExpectedDone CompleteDelivery(int64_t delivery_id, const std::string& lease,
                                const DeliveryResult& result, Time now) override;
  Expected<Refund> BeginRefund(const Refund& refund, Time now) override;
  Expected<Refund> SettleRefund(const std::string& refund_id, RefundStatus status,
                                const std::string& detail,
                                const std::optional<std::string>& reference, Time now) override;
  Expected<std::vector<Refund>> ListRefunds(int64_t payment_id) override;
  // A real write (the health row's time stamp) in a transaction that commits.
  ExpectedDone CheckHealth() override;

  // postgresql://user@host:port/db (no password).
  const std::string& display() const { return pool_.info().display(); }
  // The server process of the WatchChanges connection, 0 while it has none (tests end it
  // with pg_terminate_backend to see the watcher come back).
  int watcher_backend_pid() const { return watcher_pid_.load(); }

 private:
  PgStore(pg::ConnInfo info, const Catalog& catalog, const Options& options);

  // Runs `body(conn)` in one transaction (READ COMMITTED), committed when it returns a value.
  // A serialization failure or deadlock runs it again; a connection lost before anything was
  // sent is replaced and the body runs on the new one.
  template <typename T, typename F>
  Expected<T> Tx(F&& body);
  // A statement outside a transaction (reads).
  template <typename T, typename F>
  Expected<T> Read(F&& body);

  // The organization's subscription, current period, counts (metered features' of the period,
  // allocations' live ones) and overrides (those not expired), read in one statement. When
  // `adds` names an allocation, or a feature whose effective limit (overrides included) is a
  // hard finite one, the organization's row is locked and everything read again after the
  // lock, so the counts stay exact until the commit; with `lock` the lock comes first and the
  // read only after it. kNotFound: no such organization.
  Expected<UsageState> LoadUsage(pg::Conn& c, const std::string& org_id, Time now,
                                 std::initializer_list<std::string_view> adds, bool lock = false);
  // Adds to counters (and to state.usage), in one statement sent with the transaction's next
  // statement or its COMMIT: an allocation's live counter, any other feature's counter of the
  // state's period. REQUIRES: the organization's lock when one is an allocation.
  ExpectedDone Count(pg::Conn& c, const std::string& org_id, UsageState& state,
                     const std::vector<std::pair<std::string_view, int64_t>>& adds);
  ExpectedDone Count(pg::Conn& c, const std::string& org_id, UsageState& state,
                     std::string_view feature, int64_t n) {
    return Count(c, org_id, state, {{feature, n}});
  }
  // Adds `n` (negative: frees) to the live counter of a resource the server keeps (customers,
  // team members), whatever the catalog's kind; sent like Count's. REQUIRES: the
  // organization's lock.
  ExpectedDone CountLive(pg::Conn& c, const std::string& org_id, UsageState& state,
                         std::string_view feature, int64_t n);
  // The decision for `n` of `feature` with the state's overrides; nullopt for a feature the
  // catalog does not have. Gate: a refusal is kLimitReached.
  Expected<std::optional<Decision>> Decide(const UsageState& state, std::string_view feature,
                                           int64_t n, Time now) const;
  Expected<std::optional<Decision>> Gate(const UsageState& state, std::string_view feature,
                                         int64_t n, Time now) const;
  ExpectedDone CountCall(pg::Conn& c, const std::string& org_id, UsageState& state, Time now);
  // After `feature`'s count went from `before` to `after`: records each usage alert it reaches
  // that is not recorded yet for the period (usage_alerts, ON CONFLICT DO NOTHING: one row
  // whichever instances race; RecordedAlerts skips the ones known to be committed), and for
  // each new one writes its usage.threshold_crossed event and, when the organization has a
  // billing e-mail, queues its e-mail. Nothing is written below 80 %. A sharded count is this
  // transaction's view (others may be adding too): a threshold another call jumped over is
  // reached again by the next call, which alerts then.
  ExpectedDone RecordAlerts(pg::Conn& c, const std::string& org_id, const UsageState& state,
                            std::string_view feature, int64_t before, int64_t after);
  template <typename T, typename F>
  Expected<T> OrgCall(const std::string& org_id, Time now, F&& body);
  // Creates a resource counted as `feature` under the limit in force; `live`: the server keeps
  // it (customers, team members), so its live counter goes up whatever the catalog's kind.
  template <typename T, typename F>
  Expected<T> CreateCounted(const std::string& org_id, std::string_view feature, bool live,
                            Time now, F&& insert);
  // Deletes one resource with `remove(conn)` (rows changed: one or none) under the
  // organization's lock and frees its allocation.
  template <typename F>
  ExpectedDone DeleteLive(const std::string& org_id, std::string_view feature,
                          std::string_view what, Time now, F&& remove);
  // Takes the organization's lock and reads its override of `feature`. kNotFound: no such
  // organization.
  Expected<std::optional<StoredOverride>> LockOverride(pg::Conn& c, const std::string& org_id,
                                                       const std::string& feature);
  // Records one change of an override (sent with the COMMIT).
  void AuditOverride(pg::Conn& c, const std::string& org_id, const std::string& feature,
                     const std::optional<Override>& before, const std::optional<Override>& after,
                     const std::string& reason, Time now);
  Expected<Payment> LoadPayment(pg::Conn& c, int64_t payment_id, bool lock = false);
  // A refund's payment under the organization's lock, its row locked too. kNotFound: none.
  Expected<Payment> LockRefundedPayment(pg::Conn& c, int64_t payment_id);
  // CreatePayment's body (an org call already counted by the caller): a PENDING payment of
  // quote.to_plan for quote.amount_paisa, with its breakdown.
  Expected<Payment> InsertPayment(pg::Conn& c, const std::string& org_id, Provider provider,
                                  const UpgradeQuote& quote, const std::string& order_nonce,
                                  Time first_check, Time now);
  // Takes the organization's lock and reads its whole subscription. kNotFound: no such
  // organization.
  Expected<Subscription> LockSubscription(pg::Conn& c, const std::string& org_id);
  // Replaces the organization's subscription, stored whole (after sima::ActivateWithGrace,
  // ScheduleChange, GrantTrial). REQUIRES: the organization's lock.
  ExpectedDone SaveSubscription(pg::Conn& c, const std::string& org_id, const Subscription& sub,
                                Time now);
  // Writes what an activation did (a payment's, by Settle, or a trial's): saves `sub`, clears
  // the metered counters of the period starting at `reset_usage_from` (a started period) and
  // records `change` with the payment that paid for it (none for a trial). REQUIRES: the
  // organization's lock.
  ExpectedDone SaveActivation(pg::Conn& c, const std::string& org_id, const Subscription& sub,
                              std::optional<Time> reset_usage_from, const PlanChange& change,
                              std::optional<int64_t> payment_id, Time now);

  // Writes one webhook event of `org_id` to the outbox, in the caller's transaction, with a
  // pending delivery to every enabled endpoint of its scope (the organization's and the
  // server-wide ones), due now. `data` is the JSON object of the resources after the change
  // (server/webhook/event.h). Call it after taking the row locks the transaction needs.
  ExpectedDone AppendEvent(pg::Conn& c, const std::string& org_id, std::string_view type,
                           const Json& data, Time now);
  // AppendEvent for each of `events`, in order.
  ExpectedDone AppendEvents(pg::Conn& c, const std::string& org_id,
                            const std::vector<webhook::NewEvent>& events, Time now);
  // payment.needs_attention for a payment this transaction newly flagged (`why`: what to look
  // at), with the payment and subscription as they are now in it.
  ExpectedDone AppendAttention(pg::Conn& c, int64_t payment_id, const std::string& why, Time now);
  // The WatchChanges thread: LISTEN on a connection of its own, reconnecting with backoff.
  void Watch(std::function<void(const std::string& org_id)> on_change);
  void StopWatching();

  pg::Pool pool_;
  const Catalog& catalog_;
  Options options_;
  RecordedAlerts recorded_alerts_;
  int shard_base_ = 0;  // this instance's first counter shard (random)
  // Names this store in its NOTIFY payloads ("<instance_id>:<org_id>") so its own watcher
  // skips them (the backend pid of the announcing connection changes with the pool).
  std::string instance_id_;
  std::thread watcher_;
  int watcher_stop_fd_ = -1;  // an eventfd: written once to stop the watcher
  std::atomic<int> watcher_pid_{0};
};

template <typename T, typename F>
Expected<T> PgStore::Tx(F&& body) {
  for (int attempt = 0;; ++attempt) {
    auto lease = pool_.Acquire();
    if (!lease) return lease.error();
    pg::Conn& c = **lease;
    c.Begin();  // BEGIN travels with the body's first statement
    std::optional<Expected<T>> result;
    result.emplace(body(c));
    if (!result->ok()) {
      const std::string state = c.last_state();
      const bool lost = c.lost() && result->error().kind == ErrorKind::kUnavailable;
      c.Rollback();
      if ((state == "40001" || state == "40P01") && attempt < 8) continue;
      // The connection broke before COMMIT was sent (e.g. the server restarted while it was
      // idle): nothing was committed, so the body runs again on a new connection.
      if (lost && attempt < 2) {
        pool_.DropIdle();
        continue;
      }
      return std::move(*result);
    }
    if (auto r = c.Commit(); !r) {
      const std::string state = c.last_state();
      c.Rollback();
      if ((state == "40001" || state == "40P01") && attempt < 8) continue;
      // Lost during COMMIT: the outcome is unknown, the caller is told 503.
      return r.error();
    }
    return std::move(*result);
  }
}

template <typename T, typename F>
Expected<T> PgStore::Read(F&& body) {
  for (int attempt = 0;; ++attempt) {
    auto lease = pool_.Acquire();
    if (!lease) return lease.error();
    Expected<T> result = body(**lease);
    if (!result && result.error().kind == ErrorKind::kUnavailable && (*lease)->lost() &&
        attempt < 1) {
      pool_.DropIdle();
      continue;
    }
    return result;
  }
}

template <typename T, typename F>
Expected<T> PgStore::OrgCall(const std::string& org_id, Time now, F&& body) {
  return Tx<T>([&](pg::Conn& c) -> Expected<T> {
    auto state = LoadUsage(c, org_id, now, {kApiCalls});
    if (!state) return state.error();
    if (auto r = CountCall(c, org_id, state.value(), now); !r) return r.error();
    return body(c, state.value());
  });
}

}  // namespace sima::server
