// The SQLite backend of Store: one file in WAL mode, written through one connection.
//
// Concurrency: SQLite has a single writer. Every operation runs on one connection, one at a
// time, inside BEGIN IMMEDIATE ... COMMIT (see Write: concurrent operations share a commit),
// so the check-insert-count sequence of a create is serialized and exact. A background
// thread checkpoints the WAL from its own connection, keeping fsyncs off the request path.
//
// Durability: the connection runs with synchronous=NORMAL. In WAL mode a NORMAL commit is
// durable across a crash of the process (the WAL is written before COMMIT returns) but the
// last commits may be lost if the machine loses power before the next checkpoint/fsync;
// the database is never corrupted. That is the right trade for usage counts and example
// resources. Money is different: Write(Durability::kFull, ...) switches the connection to
// synchronous=FULL for one transaction, whose COMMIT then fsyncs the WAL, which also makes
// every earlier commit durable. Payment outcomes and plan activations must use kFull.
#pragma once

#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "mail/confirmation.h"
#include "mail/usage_alert.h"
#include "sima/catalog.h"
#include "sima/json.h"
#include "sima/quote.h"
#include "sima/settlement.h"
#include "sqlite.h"
#include "store.h"
#include "usage_alerts.h"
#include "webhook/outbox.h"

namespace sima::server {

class SqliteStore final : public Store {
 public:
  enum class Durability { kNormal, kFull };

  struct Options {
    std::string path;
    // Checkpoint the WAL from a background thread (recommended); otherwise SQLite does it
    // on commit when the WAL passes 1000 pages.
    bool background_checkpoint = true;
    // Idempotency keys older than this count as new again (and are pruned).
    std::chrono::seconds idempotency_ttl{86400};
    // Webhook events older than this whose deliveries are all finished are pruned, with their
    // deliveries and attempts (SIMA_WEBHOOK_RETENTION_DAYS).
    std::chrono::seconds webhook_retention{30 * 86400};
    // Sessions kept per secret key; minting one more deletes the oldest.
    int64_t sessions_per_key = 1000;
    // The WAL is checkpointed by the writer and truncated once it holds more than this many
    // bytes; also the size a reset WAL file is cut back to (journal_size_limit).
    int64_t wal_limit = 64 * 1024 * 1024;
    // Renders the confirmation e-mail a settlement asks for (the store only queues it).
    // Empty: CatalogConfirmation(catalog).
    ConfirmationRenderer confirmation = {};
    // Composes the e-mail of a usage alert the store records (it only queues it). Empty:
    // UsageAlertComposer(catalog, "") (no upgrade link).
    ComposeUsageAlert usage_alert = {};
  };

  // Opens or creates the database, applies pending migrations. `catalog` must outlive the
  // store. Errors: the file cannot be opened, a migration fails, a newer schema.
  static Expected<std::unique_ptr<SqliteStore>> Open(const Options& options,
                                                     const Catalog& catalog);
  ~SqliteStore() override;  // stops the checkpointer, closes the database

  // Runs `body(db)` atomically: its changes are committed only when it returns a value, and
  // Write returns only once they are committed. `body` returns Expected<T> and must not call
  // Write itself. This is the helper every operation (and later payment outcome + activation
  // + outbox) is built on.
  //
  // Group commit: bodies run one at a time on the single connection; concurrent calls are
  // gathered into one BEGIN IMMEDIATE ... COMMIT, each body inside its own SAVEPOINT, so a
  // failing body is rolled back alone and each body sees every earlier one's changes (limit
  // checks stay exact). Sharing a commit writes each touched page to the WAL once per batch
  // instead of once per call. A kFull body makes its whole batch commit with synchronous=FULL.
  template <typename T, typename F>
  Expected<T> Write(Durability durability, F&& body);

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

  // The subscription's lifecycle (lifecycle in sqlite_store.cc).
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

  // Payments and the outbox (sqlite_payments.cc).
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
  // A real write transaction (the header's application_id rewritten to its value), and the
  // file still where it was opened and writable.
  ExpectedDone CheckHealth() override;

  // The statement ReminderCandidates runs (binds after_org_id, the window's two ends, limit).
  // Its conditions repeat the partial index subscriptions_reminders' word for word, so the walk
  // reads that index alone, in org id order: never a FREE or canceled subscription, never a sort.
  static constexpr std::string_view kReminderCandidatesSql =
      "SELECT org_id FROM subscriptions WHERE end_at IS NOT NULL AND plan <> 'FREE' AND "
      "cancel_at_period_end = 0 AND org_id > ? AND end_at BETWEEN ? AND ? ORDER BY org_id "
      "LIMIT ?";

  // --- building blocks for operations inside Write() ---
  // The subscription, current period, counters and overrides of an organization: metered
  // features' counters of the period, allocations' live counters, the overrides not expired.
  Expected<UsageState> LoadUsage(sqlite::Db& db, const std::string& org_id, Time now);
  // Adds `n` to a feature's counter (and to state.usage): the live one of an allocation (see
  // CountLive), else the state's period's.
  ExpectedDone Count(sqlite::Db& db, const std::string& org_id, UsageState& state,
                     std::string_view feature, int64_t n);
  // Adds `n` (negative: releases) to the live counter of `feature`, whatever the catalog's
  // kind; state.usage follows when the catalog counts it as an allocation. kConflict
  // "quantity" when it would go below zero.
  ExpectedDone CountLive(sqlite::Db& db, const std::string& org_id, UsageState& state,
                         std::string_view feature, int64_t n);
  // A server resource (customers, team members) created (n > 0) or deleted (n < 0): its live
  // counter always, and the period's too for a creation when the catalog meters it.
  ExpectedDone CountResource(sqlite::Db& db, const std::string& org_id, UsageState& state,
                             std::string_view feature, int64_t n);
  // sima::Check for `n` of `feature` with the organization's overrides, allowed or not. A
  // feature the catalog does not have has no decision (nullopt).
  Expected<std::optional<Decision>> Decide(const UsageState& state, std::string_view feature,
                                           int64_t n, Time now) const;
  // Decide, and kLimitReached when refused. A feature the catalog does not have is allowed and
  // not counted (nullopt).
  Expected<std::optional<Decision>> Gate(const UsageState& state, std::string_view feature,
                                         int64_t n, Time now) const;
  // The organization's whole subscription; kNotFound when there is no such organization.
  Expected<Subscription> LoadSubscription(sqlite::Db& db, const std::string& org_id);
  // Replaces the organization's subscription, stored whole (after sima::ActivateWithGrace,
  // ScheduleChange, GrantTrial). A new start date starts a new usage period, which is how
  // activation resets usage.
  ExpectedDone SaveSubscription(sqlite::Db& db, const std::string& org_id, const Subscription& sub,
                                Time now);
  // Writes what an activation did (a payment's, by Settle, or a trial's): saves `sub`, clears
  // the metered counters of the period starting at `reset_usage_from` (a started period: the
  // counters already keyed by its start belong to the old plan) and records `change` with the
  // payment that paid for it (none for a trial).
  ExpectedDone SaveActivation(sqlite::Db& db, const std::string& org_id, const Subscription& sub,
                              std::optional<Time> reset_usage_from, const PlanChange& change,
                              std::optional<int64_t> payment_id, Time now);
  // CreatePayment's body (an org call already counted by the caller): a PENDING payment of
  // quote.to_plan for quote.amount_paisa, with its breakdown.
  Expected<Payment> InsertPayment(sqlite::Db& db, const std::string& org_id, Provider provider,
                                  const UpgradeQuote& quote, const std::string& order_nonce,
                                  Time first_check, Time now);
  // A payment by id within a Write body; kNotFound when none.
  Expected<Payment> LoadPayment(sqlite::Db& db, int64_t payment_id);
  // Whether the payment's time stamp `column` is later than `since` (read outside Write(), so
  // repeats stop before the write queue). kNotFound for an unknown payment.
  Expected<bool> StampedSince(const std::string& column, int64_t payment_id, Time since);
  // Writes one webhook event of `org_id` to the outbox, in the caller's transaction, with a
  // pending delivery to every enabled endpoint of its scope (the organization's and the
  // server-wide ones), due now. `data` is the JSON object of the resources after the change
  // (server/webhook/event.h). Call it after taking the row locks the transaction needs.
  ExpectedDone AppendEvent(sqlite::Db& db, const std::string& org_id, std::string_view type,
                           const Json& data, Time now);
  // After `feature`'s count went from `before` to `after`: records each usage alert it reaches
  // that is not recorded yet for the period (usage_alerts; RecordedAlerts skips the ones known
  // to be), and for each new one writes its usage.threshold_crossed event and, when the
  // organization has a billing e-mail, queues its e-mail. Nothing is written below 80 %.
  ExpectedDone RecordAlerts(sqlite::Db& db, const std::string& org_id, const UsageState& state,
                            std::string_view feature, int64_t before, int64_t after);
  // AppendEvent for each of `events`, in order.
  ExpectedDone AppendEvents(sqlite::Db& db, const std::string& org_id,
                            const std::vector<webhook::NewEvent>& events, Time now);
  // payment.needs_attention for a payment this transaction newly flagged (`why`: what to look
  // at), with the payment and subscription as they are now in it.
  ExpectedDone AppendAttention(sqlite::Db& db, int64_t payment_id, const std::string& why,
                               Time now);
  // Gate + Count for one api call (see Store).
  ExpectedDone CountCall(sqlite::Db& db, const std::string& org_id, UsageState& state, Time now);

 private:
  SqliteStore(std::unique_ptr<sqlite::Db> db, const Catalog& catalog, const Options& options)
      : db_(std::move(db)), catalog_(catalog), options_(options) {
    if (!options_.confirmation) options_.confirmation = CatalogConfirmation(catalog_);
    if (!options_.usage_alert) options_.usage_alert = UsageAlertComposer(catalog_, "");
  }
  void StartCheckpointer(const std::string& path);
  // After a commit: when the WAL has grown past options_.wal_limit, checkpoints it from the
  // writer (which holds the connection, so no commit can starve the checkpoint) and
  // truncates it. REQUIRES: write_mu_ held, no transaction open.
  void BoundWal();
  // Runs `body(db, state)` with the org's usage loaded and this call counted.
  template <typename T, typename F>
  Expected<T> OrgCall(const std::string& org_id, Time now, F&& body,
                      Durability durability = Durability::kNormal);
  // Gates one more of `feature`, runs `insert(db)` and counts it (CountResource for the
  // server's resources, else Count).
  template <typename T, typename F>
  Expected<T> CreateCounted(const std::string& org_id, std::string_view feature, Time now,
                            F&& insert);
  // Deletes one resource with `remove(db)` (one statement) and frees its allocation;
  // kNotFound naming `what` when the statement changed no row.
  template <typename F>
  ExpectedDone DeleteCounted(const std::string& org_id, std::string_view feature,
                             std::string_view what, Time now, F&& remove);

  // A body waiting to run in a batch.
  struct Job {
    std::function<bool(sqlite::Db&)> run;  // runs the body; true when it succeeded
    bool full = false;
    bool done = false;
    bool lead = false;             // this caller runs the next batch
    std::optional<Error> failure;  // set when the batch could not be committed
    std::condition_variable cv;    // wakes exactly this caller
  };
  // Queues `job` and returns once its batch is committed (or failed). The caller at the front
  // of the queue leads: it runs everything queued as one batch, wakes those callers and hands
  // the lead to the next in line, so no thread is woken for nothing.
  void Submit(Job& job);
  void RunBatch(const std::vector<Job*>& batch);

  std::mutex queue_mu_;
  std::deque<Job*> queue_;
  bool leader_ = false;

  std::mutex write_mu_;  // the connection
  std::unique_ptr<sqlite::Db> db_;
  const Catalog& catalog_;
  Options options_;
  RecordedAlerts recorded_alerts_;
  int wal_frames_ = 0;      // frames in the WAL after the last commit (sqlite3_wal_hook)
  int64_t page_bytes_ = 0;  // bytes of one WAL frame, read once

  std::mutex ckpt_mu_;
  std::mutex ckpt_run_mu_;  // one checkpoint at a time: the background pass or BoundWal
  std::condition_variable ckpt_cv_;
  bool ckpt_stop_ = false;
  std::thread ckpt_thread_;
};

template <typename T, typename F>
Expected<T> SqliteStore::Write(Durability durability, F&& body) {
  std::optional<Expected<T>> result;
  Job job;
  job.full = durability == Durability::kFull;
  job.run = [&](sqlite::Db& db) {
    result.emplace(body(db));
    return result->ok();
  };
  Submit(job);
  if (job.failure) return *job.failure;
  if (!result) return Error::Internal("the transaction did not run");
  return std::move(*result);
}

}  // namespace sima::server
