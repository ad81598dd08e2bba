// The store: everything sima-server keeps, behind a narrow interface of business operations.
// Handlers ask it "create this invoice if the plan allows it", never for SQL, so a PostgreSQL
// backend can be added beside SqliteStore without touching handlers or sdk/.
//
// Contract shared by every implementation:
//  - Each method is one transaction: it happens completely or not at all.
//  - Limit decisions are made with sdk/ (sima::Check on the subscription and the current
//    period's counters) inside the same transaction that creates and counts, so concurrent
//    calls can never push a hard-limited feature past its limit.
//  - Metered counters belong to (org, feature, period start); the period is
//    sima::CurrentPeriod(subscription, catalog.period_days(), now), so a new period starts
//    with zero counts without any job running (lazy rollover). Activating a plan starts a
//    new period, which resets metered usage the same way.
//  - Allocation counters belong to (org, feature) and no period: neither a period boundary
//    nor an upgrade resets them. For the resources the server keeps (customers, team
//    members) the live count is kept whatever the catalog's kind, in the same transaction as
//    every create and delete, so it always equals the rows (and a catalog that changes a
//    feature to allocation is right at once).
//  - Decisions use the organization's overrides in force (sima::Check with overrides).
//  - Every method taking an org_id is an authenticated call of that organization: when it
//    succeeds it also counts one "api_calls" in the same transaction. Failures change nothing.
//  - Objects of another organization are kNotFound, exactly like missing ones.
//  - Errors: kNotFound, kConflict, kValidation (with "field"), kLimitReached (the limit body),
//    kUnavailable / kInternal for storage failures.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "error.h"
#include "sima/decision.h"
#include "sima/lifecycle.h"
#include "sima/overrides.h"
#include "sima/payment.h"
#include "sima/payment_timing.h"
#include "sima/quote.h"
#include "sima/reminders.h"
#include "sima/subscription.h"
#include "sima/time.h"
#include "sima/usage_alerts.h"

namespace sima::server {

// Feature keys of the catalog the server itself meters. A catalog without one of them
// leaves that resource unmetered.
inline constexpr std::string_view kInvoices = "invoices";
inline constexpr std::string_view kCustomers = "customers";
inline constexpr std::string_view kTeamMembers = "team_members";
inline constexpr std::string_view kApiCalls = "api_calls";

struct Org {
  std::string id;  // "org_..."
  std::string name;
  Time created_at{};
};

struct NewOrg {
  std::string id;
  std::string name;
  std::string key_hash;       // SHA-256 hex of the secret key; the key itself is never stored
  Subscription subscription;  // FREE from now, or an admin-granted plan
  Time now{};
  std::optional<std::string> billing_email = std::nullopt;  // payment confirmations go here
  std::string key_id = {};      // "key_...", the key's public id; empty = the store makes one
  std::string key_prefix = {};  // the key's first characters, e.g. "sk_ab12", to recognise it
};

// What a credential resolves to.
struct Credential {
  std::string org_id;
  std::optional<Time> expires_at;  // sessions only
  std::string key_id = {};         // secret keys: the key's id ("" for a session)
};

// A secret key as the admin API shows it (never the key itself).
struct ApiKeyInfo {
  std::string key_id;  // "key_..."
  std::string prefix;  // "sk_ab12", or "sk_" for keys made before prefixes
  Time created_at{};
  std::optional<Time> revoked_at;
};

// What revoking a key did.
struct RevokedKey {
  std::string key_id;
  std::string key_hash;  // to drop the key from caches at once
  Time revoked_at{};
  // Hashes of the sessions this revocation ended (to drop them from caches at once).
  std::vector<std::string> ended_session_hashes;
};

// Keyset pagination. A list is ordered newest first by (created_at, rowid) — or by id for
// payments, whose id grows — and a page starts strictly after the last item of the previous
// one, so items inserted meanwhile never shift a walk: each item that existed when the walk
// began is seen exactly once.
struct PageKey {
  int64_t at = 0;   // created_at seconds (payments: the payment id)
  int64_t row = 0;  // the row id within the same second (payments: 0)
  bool operator==(const PageKey&) const = default;
};
struct PageRequest {
  int64_t limit = 100;
  std::optional<PageKey> after;  // nullopt: from the newest
};
template <typename T>
struct Page {
  std::vector<T> items;
  std::optional<PageKey> next;  // nullopt: this was the last page
};

// What one pruning pass removed.
struct PruneResult {
  int64_t sessions = 0;          // expired sessions
  int64_t idempotency_keys = 0;  // idempotency keys older than the TTL
  // recorded reminder keys of periods that ended more than 2 x (period_days + grace_days) ago
  // (DueReminder only ever asks about the current period's keys)
  int64_t reminders = 0;
  // webhook events older than the retention whose deliveries are all finished, with their
  // deliveries and attempts
  int64_t webhook_events = 0;
};

struct Invoice {
  std::string id;  // "inv_..."
  int64_t amount_paisa = 0;
  std::optional<std::string> customer_id;  // a customer of the same organization
  std::string description;
  Time created_at{};
};

struct Customer {
  std::string id;  // "cus_..."
  std::string name;
  std::string email;
  Time created_at{};
};

struct TeamMember {
  std::string id;  // "tm_..."
  std::string email;
  std::string name;
  Time created_at{};
};

// The organization's plan, counts and overrides, for the usage view.
struct UsageState {
  Subscription subscription;
  Period period;
  Usage usage;  // metered counts of `period` and allocations' live counts
  // Every override of the organization that has not expired at `now` (also those scoped to
  // another plan, so a browser can preview that plan with them).
  Overrides overrides;
  Time now{};  // the time it was read at (LoadUsage's `now`): usage alerts are stamped with it
};

// POST /usage/{feature}/.
struct MeterRequest {
  std::string feature;
  // metered: 1..1000000; allocation: -1000000..1000000 except 0 (negative releases); boolean:
  // 1; value: 0..10^15 (the size to check). Checked by the handler.
  int64_t quantity = 1;
  std::optional<std::string> idempotency_key;
};

// The answer to a metering call; `replayed` when an earlier call with the same idempotency
// key is answered again (and nothing was counted). Switches and values count nothing: the
// answer is the decision (used 0).
struct MeterResult {
  std::string feature;
  FeatureKind kind = FeatureKind::kMetered;
  int64_t quantity = 0;
  std::string plan;
  int64_t used = 0;  // after the call
  Limit limit = Limit::Unlimited();
  bool over = false;
  bool replayed = false;
  std::optional<Override> override;  // the override in force, if any
};

// An organization's override as the admin API shows it.
struct StoredOverride {
  Override value;
  std::string reason;  // free text from the admin ("deal #42"), "" when none
  Time updated_at{};
};

// One change of an override (the audit trail): set (before nullopt: new), changed, cleared
// (after nullopt).
struct OverrideChange {
  std::string feature;
  std::optional<Override> before;
  std::optional<Override> after;
  std::string reason;
  Time at{};
};

// GET /admin/orgs/{org_id}/overrides/.
struct OverridesView {
  std::vector<StoredOverride> overrides;  // by feature key
  std::vector<OverrideChange> history;    // newest first, at most 100
};

// --- payments ---

// Who moved a payment (the audit trail's `cause`).
enum class PaymentCause { kInit, kCallback, kVerify, kReconciler };
std::string_view to_string(PaymentCause cause);  // "init", "callback", "verify", "reconciler"

struct Payment {
  int64_t id = 0;
  std::string org_id;
  Provider provider = Provider::kKhalti;
  std::string plan;
  // sima::QuotePayment's amount at creation (the plan's price, or a prorated upgrade), never
  // from a client; the gateway must confirm exactly this.
  int64_t amount_paisa = 0;
  PaymentStatus status = PaymentStatus::kPending;
  std::string reason;                         // why FAILED/REFUNDED, or a note
  std::optional<std::string> reference_id;    // the gateway's id (Khalti pidx)
  std::string purchase_order_id;              // ours, sent to the gateway, unique
  std::optional<std::string> transaction_id;  // the gateway's transaction, once paid
  bool needs_attention = false;               // a human must look (see ApplyPaymentOutcome)
  std::optional<Time> expires_at;             // when the gateway stops accepting it
  Time created_at{};
  Time updated_at{};
  std::optional<Time> next_check_at;  // the reconciler's next lookup (PENDING only)
  int64_t check_attempts = 0;
  // The unguessable reference anonymous callers (the eSewa failure target) name the payment
  // by: "pay_" + 22 base62 characters (131 random bits). Never the sequential id.
  std::string ref;
  std::optional<std::string> payment_url;  // Khalti's payment page, to offer it again
  std::optional<Time> last_checked_at;     // the last gateway lookup from an anonymous path
  // The quote's lines (sima::QuoteLine, paisa, summing to amount_paisa), as sent to Khalti in
  // amount_breakdown. Stored with the payment; empty for payments made before quotes.
  std::vector<QuoteLine> breakdown = {};
  // The sum of its succeeded refunds (sima/refund.h); REFUNDED once it is amount_paisa.
  int64_t refunded_paisa = 0;
};

// What OpenPayment allows an organization (the settings ESEWA_SESSION_MINUTES,
// SIMA_OPEN_PAYMENTS_MAX, SIMA_INIT_PER_MINUTE).
struct PaymentLimits {
  int64_t open_max = 5;     // open PENDING payments at once
  int64_t per_minute = 10;  // payments created in any 60 s
  // The configured timing policy: eSewa's session, the reuse margin (an open payment is offered
  // again only with at least this long left to pay it) and every 429 wait.
  PaymentTiming timing = {};
};

// OpenPayment's result: a new payment, or an open one offered again (`reused`).
struct OpenedPayment {
  Payment payment;
  bool reused = false;
};

// A payment with its organization's subscription, read in one transaction.
struct PaymentState {
  Payment payment;
  Subscription subscription;
};

// What the gateway said, mapped by an adapter (sima::FromKhaltiLookup, FromEsewaStatus,
// GatewayUnreachable), plus facts for the record.
struct GatewayAnswer {
  Outcome outcome;
  std::string detail;                         // e.g. "khalti status=Completed total=390000"
  std::optional<std::string> transaction_id;  // stored when the payment succeeds
};

// The result of ApplyPaymentOutcome: the payment and subscription as stored afterwards.
struct AppliedOutcome {
  PaymentState state;
  bool changed = false;    // this call moved the payment
  bool activated = false;  // this call activated (or extended) the plan
};

// One queued e-mail.
struct OutboxEmail {
  int64_t id = 0;
  std::string org_id;
  std::optional<int64_t> payment_id;
  std::string message_id;  // stable across retries: Message-ID and file name
  std::string to;
  std::string subject;
  std::string body;
  Time created_at{};
  int64_t attempts = 0;
};

// --- the subscription's lifecycle ---

// One reminder e-mail, composed by the caller (it signs the pay link); the store queues it.
struct ReminderMail {
  std::string to;
  std::string subject;
  std::string body;
};
// Composes the e-mail of `reminder` for an organization whose billing e-mail is `to`, with
// its subscription as stored. Called inside the store's transaction: no I/O, no store calls.
using ComposeReminder =
    std::function<ReminderMail(const std::string& org_id, const std::string& to,
                               const Subscription& subscription, const Reminder& reminder)>;

// One usage threshold an organization reached (sima/usage_alerts.h), recorded once per
// organization, feature, period and threshold (usage_alerts). For an allocation `period` is
// the subscription's current period too, so it alerts at most once per billing period.
struct UsageAlert {
  std::string org_id;
  std::string org_name;
  std::string feature;
  UsageThreshold threshold = UsageThreshold::k80;
  int64_t used = 0;   // the count after the change that reached it
  int64_t limit = 0;  // the effective limit (an override's when one is in force)
  std::string plan;   // the plan in force
  Period period;
  Time at{};
};
// Composes the alert's e-mail to the organization's billing e-mail `to`. Called inside the
// store's transaction: no I/O, no store calls.
using ComposeUsageAlert =
    std::function<ReminderMail(const UsageAlert& alert, const std::string& to)>;

// What SendDueReminder did for one organization.
struct SentReminder {
  Reminder reminder;
  bool emailed = false;  // false: no billing e-mail (the key is recorded all the same)
};

// --- webhooks (server/webhook/event.h names the events and builds their bodies) ---

// An endpoint events are delivered to, as the admin API shows it (never its secret).
struct WebhookEndpoint {
  std::string id;                     // "we_" + 22 base62
  std::optional<std::string> org_id;  // nullopt: server-wide, receives every organization's events
  std::string url;
  std::string description;
  bool enabled = true;
  Time created_at{};
  Time updated_at{};
  // After a rotation the previous secret also signs deliveries until then.
  std::optional<Time> previous_secret_until;
};

struct NewWebhookEndpoint {
  std::string id;                     // "we_..." (the caller makes it)
  std::optional<std::string> org_id;  // nullopt: server-wide
  std::string url;                    // checked by the caller (http/https, no credentials)
  std::string description;
  std::string secret;  // "whsec_..." (the caller makes it; shown to the admin once)
};

// A change to an endpoint; each field left nullopt is kept.
struct WebhookEndpointPatch {
  std::optional<std::string> url;
  std::optional<std::string> description;
  std::optional<bool> enabled;
};

// One event in the outbox.
struct WebhookEvent {
  int64_t seq = 0;  // increasing; an organization's events in the order their changes committed
  std::string id;   // "evt_" + 22 base62, stable across retries and re-sends
  std::string org_id;
  std::string type;  // server/webhook/event.h
  std::string data;  // the JSON object of the resources after the change, as stored
  Time created_at{};
};

enum class DeliveryStatus { kPending, kDelivered, kFailed };
std::string_view to_string(DeliveryStatus status);  // "pending", "delivered", "failed"

// One event's delivery to one endpoint.
struct WebhookDelivery {
  int64_t id = 0;
  int64_t event_seq = 0;
  std::string event_id;
  std::string endpoint_id;
  std::string org_id;
  DeliveryStatus status = DeliveryStatus::kPending;
  int64_t attempts = 0;
  std::optional<Time> next_attempt_at;  // pending only
  std::optional<int> last_status;       // the last HTTP status; nullopt when none came
  std::string last_error;
  Time created_at{};
  std::optional<Time> completed_at;  // delivered or given up
};

// One try of a delivery (the delivery log).
struct DeliveryAttempt {
  int64_t delivery_id = 0;
  Time at{};
  std::optional<int> status_code;  // nullopt: no HTTP answer (refused, timeout, blocked address)
  int64_t duration_ms = 0;
  std::string response_body;  // at most its first 1 KiB
  std::string error;          // why it failed, "" when delivered
};

// A delivery claimed for sending, with everything the sender needs.
struct DueDelivery {
  WebhookDelivery delivery;
  WebhookEvent event;
  std::string url;
  std::string secret;
  std::optional<std::string> previous_secret;  // still signing (rotation)
  std::string lease;                           // the claim: CompleteDelivery needs it
};

// What one try decided.
struct DeliveryResult {
  DeliveryAttempt attempt;
  bool delivered = false;
  // Not delivered: retry at this time; nullopt = give up (the delivery is failed).
  std::optional<Time> retry_at;
};

// An event with its deliveries and their attempts (GET /admin/webhooks/events/{id}/).
struct WebhookEventDetail {
  WebhookEvent event;
  std::vector<WebhookDelivery> deliveries;
  std::vector<DeliveryAttempt> attempts;  // of every delivery, oldest first
};

// --- refunds ---

enum class RefundMethod { kKhalti, kManual };               // "khalti", "manual"
enum class RefundStatus { kPending, kSucceeded, kFailed };  // "pending", "succeeded", "failed"
std::string_view to_string(RefundMethod method);
std::string_view to_string(RefundStatus status);

struct Refund {
  std::string id;  // "rf_" + 22 base62
  int64_t payment_id = 0;
  std::string org_id;
  int64_t amount_paisa = 0;
  RefundMethod method = RefundMethod::kKhalti;
  RefundStatus status = RefundStatus::kPending;
  std::string reason;
  std::optional<std::string> reference;  // the gateway's or the merchant portal's reference
  std::string note;
  std::string detail;  // what the gateway said
  // A partial refund that leaves the subscription as it is (sima/refund.h).
  bool keep_plan = false;
  std::optional<std::string> idempotency_key;
  Time created_at{};
  Time updated_at{};
  // BeginRefund: an earlier call's refund answered again for its idempotency key (not stored).
  bool replayed = false;
};

class Store {
 public:
  virtual ~Store() = default;

  // --- organizations and credentials (admin) ---
  // Creates the organization, its subscription and its first secret key.
  virtual Expected<Org> CreateOrg(const NewOrg& org) = 0;
  // The organization's name and creation time (a pay link's page greets it). kNotFound.
  virtual Expected<Org> GetOrg(const std::string& org_id) = 0;
  // The organization a live secret key (by hash) belongs to; kUnauthorized when none.
  virtual Expected<Credential> FindSecretKey(const std::string& key_hash) = 0;
  // Revokes a secret key; kNotFound when no such live key.
  virtual ExpectedDone RevokeSecretKey(const std::string& key_hash, Time now) = 0;
  // Adds a secret key to an organization (rotation: old keys stay valid until revoked).
  // kNotFound when no such organization.
  virtual Expected<ApiKeyInfo> CreateSecretKey(const std::string& org_id, const std::string& key_id,
                                               const std::string& key_hash,
                                               const std::string& prefix, Time now) = 0;
  // An organization's keys, newest first, revoked ones included. kNotFound: no such org.
  virtual Expected<Page<ApiKeyInfo>> ListSecretKeys(const std::string& org_id,
                                                    const PageRequest& page) = 0;
  // Revokes one key of the organization and, in the same transaction, deletes every session
  // it minted (and the organization's sessions minted before keys were recorded). A key
  // already revoked answers its revocation again and ends nothing. kNotFound when the
  // organization has no key with this id.
  virtual Expected<RevokedKey> RevokeKeyById(const std::string& org_id, const std::string& key_id,
                                             Time now) = 0;
  // Ends one session (by hash); kNotFound when there is none. Not an org call.
  virtual ExpectedDone EndSession(const std::string& token_hash) = 0;
  // One bounded pass of the pruning job: deletes expired sessions and idempotency keys older
  // than the store's TTL, at most `batch` rows per transaction and `max_batches` transactions.
  virtual Expected<PruneResult> Prune(Time now, int64_t batch, int64_t max_batches) = 0;
  // A session (by hash) that has not expired at `now`; kUnauthorized otherwise.
  virtual Expected<Credential> FindSession(const std::string& token_hash, Time now) = 0;

  // --- organization-scoped calls (each counts one api call on success) ---
  // Records which key minted the session; past the store's per-key cap the oldest sessions of
  // that key are deleted in the same transaction (their hashes are returned).
  virtual Expected<std::vector<std::string>> CreateSession(const std::string& org_id,
                                                           const std::string& key_id,
                                                           const std::string& token_hash,
                                                           Time expires_at, Time now) = 0;
  // Counts this call, then reads the subscription and the current period's counts.
  virtual Expected<UsageState> ReadUsage(const std::string& org_id, Time now) = 0;
  // The same state as ReadUsage, without counting a call and without a write transaction (live
  // usage events, docs/api.md#live-usage-events). NotFound for an unknown organization.
  virtual Expected<UsageState> PeekUsage(const std::string& org_id, Time now) = 0;
  // Tells the other instances on this database that `org_id` changed (PostgreSQL: NOTIFY on
  // the channel "sima_changes"; SQLite, one instance: nothing).
  virtual ExpectedDone AnnounceChange(const std::string& org_id) = 0;
  // From now until the store closes, calls `on_change(org_id)` on a thread of the store's for
  // every AnnounceChange made by another instance (PostgreSQL: LISTEN on a connection of its
  // own, reconnecting after a failure; SQLite: never). At most one watcher per store.
  virtual ExpectedDone WatchChanges(std::function<void(const std::string& org_id)> on_change) = 0;

  // Create-if-allowed: kLimitReached when the plan's hard limit would be exceeded;
  // kValidation ("customer_id") for an unknown customer; kConflict for a team member whose
  // e-mail (compared without ASCII case) is already on the team.
  virtual Expected<Invoice> CreateInvoice(const std::string& org_id, const Invoice& invoice,
                                          Time now) = 0;
  virtual Expected<Customer> CreateCustomer(const std::string& org_id, const Customer& customer,
                                            Time now) = 0;
  virtual Expected<TeamMember> CreateTeamMember(const std::string& org_id, const TeamMember& member,
                                                Time now) = 0;

  // Newest first, one page (see PageKey).
  virtual Expected<Page<Invoice>> ListInvoices(const std::string& org_id, const PageRequest& page,
                                               Time now) = 0;
  virtual Expected<Page<Customer>> ListCustomers(const std::string& org_id, const PageRequest& page,
                                                 Time now) = 0;
  virtual Expected<Page<TeamMember>> ListTeamMembers(const std::string& org_id,
                                                     const PageRequest& page, Time now) = 0;
  virtual Expected<Invoice> GetInvoice(const std::string& org_id, const std::string& id,
                                       Time now) = 0;
  virtual Expected<Customer> GetCustomer(const std::string& org_id, const std::string& id,
                                         Time now) = 0;
  virtual Expected<TeamMember> GetTeamMember(const std::string& org_id, const std::string& id,
                                             Time now) = 0;

  // Deletes one object and frees its allocation (the live counter goes down by one) in the
  // same transaction. kNotFound for a missing object or another organization's. A deleted
  // customer stays readable by the invoices that name it (their customer_id is kept) but is
  // gone from GET and lists, and cannot be named by new invoices.
  virtual ExpectedDone DeleteCustomer(const std::string& org_id, const std::string& id,
                                      Time now) = 0;
  virtual ExpectedDone DeleteTeamMember(const std::string& org_id, const std::string& id,
                                        Time now) = 0;

  // Meters `quantity` of a catalog feature. A repeated idempotency key returns the first
  // answer and counts nothing; kConflict if it was used with another feature or quantity.
  // Refusals (kLimitReached) are not remembered: a retry after an upgrade may succeed.
  // kNotFound for a feature the catalog does not have. By kind: metered counts (kValidation
  // "quantity" for a negative one); allocation counts or releases (negative), never below
  // zero (kConflict "quantity"), and the server's own resources (customers, team_members)
  // are kConflict: they are counted by creating and deleting them; boolean and value only
  // decide (kLimitReached when refused) and count nothing.
  virtual Expected<MeterResult> RecordUsage(const std::string& org_id, const MeterRequest& req,
                                            Time now) = 0;

  // --- per-organization overrides (admin; not org calls, audited) ---
  // Sets (creates or replaces) the override of o.feature, recording the change with
  // `reason`. kNotFound: no such organization. The caller validated `o` (ValidateOverride).
  virtual Expected<StoredOverride> SetOverride(const std::string& org_id, const Override& o,
                                               const std::string& reason, Time now) = 0;
  // Clears it, recording the change. kNotFound: no such organization or no override.
  virtual ExpectedDone ClearOverride(const std::string& org_id, const std::string& feature,
                                     const std::string& reason, Time now) = 0;
  virtual Expected<OverridesView> ListOverrides(const std::string& org_id) = 0;

  // --- payments (durable: each commits with a full fsync) ---
  // Creates a PENDING payment of `plan` (an org call). The amount and breakdown are
  // sima::QuotePayment's (with sima::kMinimumPaymentPaisa) on the subscription read in the same
  // transaction, which also decides: kInvalidPlan (unknown or free plan), kConflict (a cheaper
  // plan while a paid one lasts, or the scheduled next plan before the end). purchase_order_id =
  // "pay_<id>_<order_nonce>". The reconciler first looks at it after `first_check` (it fails an
  // un-initiated payment).
  virtual Expected<Payment> CreatePayment(const std::string& org_id, Provider provider,
                                          const std::string& plan, const std::string& order_nonce,
                                          Time first_check, Time now) = 0;
  // Stores the gateway's reference (Khalti pidx) and expiry of a PENDING payment and when the
  // reconciler should first look it up. kNotFound when no such payment; kConflict when it is
  // no longer PENDING or already has a reference.
  virtual Expected<Payment> AttachGatewayReference(
      int64_t payment_id, const std::string& reference_id, std::optional<Time> expires_at,
      Time next_check_at, Time now,
      const std::optional<std::string>& payment_url = std::nullopt) = 0;
  // The exactly-once step. In one transaction: re-reads the payment, asks sima::Settle and
  // writes what it says (settlement.h): when the payment moves, stores it (guarded by its
  // previous status) with an audit event; on the first move to SUCCESS (sima::ActivateWithGrace)
  // saves the subscription (a new start resets usage), records the plan change and queues one
  // confirmation e-mail (when the organization has a billing e-mail). A repeated outcome
  // changes nothing and returns the stored decision. An illegal move (a failure after
  // SUCCESS) changes nothing but is audited and flags needs_attention. If the activation is
  // refused (a pricier plan became active meanwhile) the payment is still SUCCESS (the money was
  // taken) with needs_attention and reason "plan_conflict: refund due", and the plan does not
  // change. `org_id`, when given, must own the payment (else kNotFound). Not an org call.
  virtual Expected<AppliedOutcome> ApplyPaymentOutcome(int64_t payment_id,
                                                       const std::optional<std::string>& org_id,
                                                       const GatewayAnswer& answer,
                                                       PaymentCause cause, Time now) = 0;
  // Records an audit event on a payment without moving it (e.g. a rejected, forged redirect),
  // optionally flagging it for a human. kNotFound when no such payment.
  virtual ExpectedDone AuditPayment(int64_t payment_id, PaymentCause cause,
                                    const std::string& detail, bool needs_attention, Time now) = 0;
  // An org call: the payment (kNotFound for another organization's) and the subscription.
  virtual Expected<PaymentState> GetPayment(const std::string& org_id, int64_t payment_id,
                                            Time now) = 0;
  // An org call: newest first (by id), one page.
  virtual Expected<Page<Payment>> ListPayments(const std::string& org_id, const PageRequest& page,
                                               Time now) = 0;
  // Not org calls (callback, reconciler): by id, or by the gateway's reference.
  virtual Expected<Payment> FindPayment(int64_t payment_id) = 0;
  virtual Expected<Payment> FindPaymentByReference(Provider provider,
                                                   const std::string& reference_id) = 0;
  // PENDING payments whose next_check_at <= now, at most `limit`, fair across organizations:
  // round-robin (every organization's earliest due payment, then every one's second, ...)
  // and at most `per_org` of one organization, so one organization's thousands of pending
  // payments never delay another's.
  virtual Expected<std::vector<Payment>> DuePendingPayments(Time now, int64_t limit,
                                                            int64_t per_org = INT64_MAX) = 0;
  // Sets when a still-PENDING payment is looked up next (nullopt: never again, flagged for
  // attention) and counts the attempt.
  virtual ExpectedDone ScheduleRecheck(int64_t payment_id, std::optional<Time> next_check_at,
                                       Time now) = 0;

  // An org call, CreatePayment for a payer who is about to pay: an open PENDING payment of the
  // same organization, plan and provider that has its gateway reference, can still be
  // paid (sima::PayerMayStillPay with limits.timing.reuse_margin) and is for the amount a new
  // quote would charge now is returned again (`reused`, no write). Otherwise a new one is created
  // unless the same payment is being started (created in the last 30 s, no gateway reference yet:
  // kRateLimited, retry after 1 s), the organization created `per_minute` payments in the last 60 s
  // or has `open_max` open ones: then kRateLimited with extra "retry_after" (seconds).
  virtual Expected<OpenedPayment> OpenPayment(const std::string& org_id, Provider provider,
                                              const std::string& plan,
                                              const std::string& order_nonce, Time first_check,
                                              const PaymentLimits& limits, Time now) = 0;
  // Not an org call: the payment with this `ref` (kNotFound when none).
  virtual Expected<Payment> FindPaymentByRef(const std::string& ref) = 0;
  // Coalesces gateway lookups from anonymous paths (callbacks, the failure target): true and
  // last_checked_at = now when no such lookup of this payment happened within `window`, else
  // false and nothing changes. Not durable (a lost claim only allows one more lookup).
  // `late`: a paid redirect for a FAILED payment, coalesced only with other such redirects
  // (last_late_check_at), so a failure-target hit moments earlier cannot keep it unasked.
  virtual Expected<bool> ClaimLookup(int64_t payment_id, std::chrono::seconds window, Time now,
                                     bool late = false) = 0;
  // AuditPayment at most once per payment per `window` (repeated forged callbacks for one
  // payment): false when one was written within the window and nothing was written now.
  virtual Expected<bool> AuditPaymentOnce(int64_t payment_id, PaymentCause cause,
                                          const std::string& detail, bool needs_attention,
                                          std::chrono::seconds window, Time now) = 0;

  // --- the subscription's lifecycle (sima/lifecycle.h, sima/reminders.h) ---
  // Every subscription is stored whole: plan, start, end, trial, cancel_at_period_end,
  // next_plan. Decisions and the usage view use sima::PlanInForce (a plan in grace still
  // applies), payments activate with sima::ActivateWithGrace (in Settle).

  // An org call: the organization's subscription as stored.
  virtual Expected<Subscription> GetSubscription(const std::string& org_id, Time now) = 0;
  // An org call: sima::ScheduleChange(kind, plan) on the stored subscription and saves it, in
  // one transaction under the organization's lock (a payment settling at the same time sees
  // the change or not, never half). Errors as ScheduleChange: kConflict, kInvalidPlan (the
  // sdk's message as the error).
  virtual Expected<Subscription> ChangeSubscription(const std::string& org_id, ChangeKind kind,
                                                    const std::string& plan, Time now) = 0;
  // Admin, not an org call: sima::GrantTrial(plan, days) and saves it (a started period:
  // metered usage resets as when a plan is bought), recording a plan change with cause
  // "trial". kNotFound: no such organization; GrantTrial's kConflict/kInvalidPlan/kValidation.
  virtual Expected<Subscription> GrantTrial(const std::string& org_id, const std::string& plan,
                                            int days, Time now) = 0;

  // Not org calls: the scheduler's.
  // Organizations that may have a reminder due at `now`, by org id after `after_org_id` ("" =
  // from the first), at most `limit`: those whose subscription is not FREE, has an end, is
  // not canceled, and whose end lies in
  // [now - grace_days - period_days, now + the largest notice day] (sima::PeriodReminders'
  // span). An index keeps this cheap with millions of organizations.
  virtual Expected<std::vector<std::string>> ReminderCandidates(Time now,
                                                                const std::string& after_org_id,
                                                                int64_t limit) = 0;
  // Exactly once: in one transaction under the organization's lock, re-reads the subscription
  // and the reminder keys already recorded for it, asks sima::DueReminder, and when one is due
  // records its key (unique per organization: a second instance racing fails on it and sends
  // nothing) and, when the organization has a billing e-mail, queues compose(...) in the
  // outbox (payment_id null, message_id "reminder-<org_id>-<key>" made safe for a file name).
  // nullopt when nothing is due or another sender was first. A crash before the commit sends
  // nothing and records nothing; after it, the outbox delivers as for confirmations.
  virtual Expected<std::optional<SentReminder>> SendDueReminder(const std::string& org_id, Time now,
                                                                const ComposeReminder& compose) = 0;
  // The secret that signs pay links, the same for every instance on this database: the stored
  // one, or `candidate` (32 random bytes, hex) stored now when there is none (the first to
  // store wins; the loser gets the winner's). Never logged.
  virtual Expected<std::string> PayLinkSecret(const std::string& candidate) = 0;

  // --- webhooks (admin; not org calls) ---
  // kNotFound: no such organization; kConflict: the scope already has the most endpoints
  // allowed (16 per organization, 16 server-wide).
  virtual Expected<WebhookEndpoint> CreateWebhookEndpoint(const NewWebhookEndpoint& endpoint,
                                                          Time now) = 0;
  // The endpoints of one organization (or the server-wide ones for nullopt), oldest first,
  // deleted ones left out.
  virtual Expected<std::vector<WebhookEndpoint>> ListWebhookEndpoints(
      const std::optional<std::string>& org_id) = 0;
  virtual Expected<WebhookEndpoint> GetWebhookEndpoint(const std::string& endpoint_id) = 0;
  virtual Expected<WebhookEndpoint> UpdateWebhookEndpoint(const std::string& endpoint_id,
                                                          const WebhookEndpointPatch& patch,
                                                          Time now) = 0;
  // Replaces the secret; the old one keeps signing (beside the new one) until `previous_until`.
  virtual Expected<WebhookEndpoint> RotateWebhookSecret(const std::string& endpoint_id,
                                                        const std::string& new_secret,
                                                        Time previous_until, Time now) = 0;
  // Deletes it: no new deliveries, its pending ones are failed ("endpoint deleted"), the log
  // is kept. kNotFound when no such (undeleted) endpoint.
  virtual ExpectedDone DeleteWebhookEndpoint(const std::string& endpoint_id, Time now) = 0;
  // Events newest first (by seq), of one organization or (nullopt) of all.
  virtual Expected<Page<WebhookEvent>> ListWebhookEvents(const std::optional<std::string>& org_id,
                                                         const PageRequest& page) = 0;
  virtual Expected<WebhookEventDetail> GetWebhookEvent(const std::string& event_id) = 0;
  // Sends the event again: every delivery of it (or only to `endpoint_id`) is made pending and
  // due now; an enabled endpoint of its scope that has no delivery of it gets one. The attempts
  // already made stay in the log. kNotFound: no such event or endpoint.
  virtual Expected<WebhookEventDetail> ResendWebhookEvent(
      const std::string& event_id, const std::optional<std::string>& endpoint_id, Time now) = 0;

  // --- webhook delivery (the sender's) ---
  // Pending deliveries due at `now`, at most `limit`, each leased until `lease_until` (another
  // sender or instance does not take it meanwhile; a crashed sender's come back after it). Per
  // endpoint and organization only the oldest pending delivery (lowest event seq) is ever
  // claimed, so an organization's events reach an endpoint in order: the next one waits until
  // the one before it is delivered or given up.
  virtual Expected<std::vector<DueDelivery>> ClaimDueDeliveries(Time now, Time lease_until,
                                                                int64_t limit) = 0;
  // Records one try under the claim `lease`: the attempt in the log, and the delivery
  // delivered, due again at result.retry_at, or failed. kConflict when the lease is no longer
  // this claim's (it expired and another sender took it): nothing is written.
  virtual ExpectedDone CompleteDelivery(int64_t delivery_id, const std::string& lease,
                                        const DeliveryResult& result, Time now) = 0;

  // --- refunds (admin) ---
  // Starts a refund of a SUCCESS payment (amount in paisa, > 0, at most what is left to refund
  // counting pending refunds, a refund's id made here when empty): a pending row. The same
  // idempotency key for the same payment answers the first refund again, `replayed`, whatever
  // its status (kConflict "idempotency_key" when it named another amount or keep_plan);
  // at most 50 refunds per payment (kConflict). kValidation "amount_paisa" / "keep_plan":
  // sima::CheckRefund's refusals. kNotFound: no
  // such payment; kConflict: not SUCCESS, or nothing left to refund.
  virtual Expected<Refund> BeginRefund(const Refund& refund, Time now) = 0;
  // Settles a pending refund as the gateway (or the admin, for a manual refund) said. On
  // kSucceeded, in one transaction: payments.refunded_paisa grows, the payment becomes REFUNDED
  // when fully refunded, the subscription follows sima's refund rule, a plan_conflict payment
  // stops needing attention, the payment is audited and payment.refunded (and the
  // subscription's event when it changed) is written to the webhook outbox. A refund already
  // settled answers as it is. kNotFound: no such refund.
  // kPending records `detail` (the gateway's answer was unknown) and changes nothing else;
  // kFailed records the refusal. The refund rule is sima/refund.h (DecideRefund), with the
  // refund's keep_plan.
  virtual Expected<Refund> SettleRefund(const std::string& refund_id, RefundStatus status,
                                        const std::string& detail,
                                        const std::optional<std::string>& reference, Time now) = 0;
  // A payment's refunds, oldest first. kNotFound: no such payment.
  virtual Expected<std::vector<Refund>> ListRefunds(int64_t payment_id) = 0;

  // --- e-mail outbox ---
  // Unsent e-mails due at `now`, oldest first; each is leased until `lease_until` so a second
  // sender does not take it meanwhile.
  virtual Expected<std::vector<OutboxEmail>> ClaimDueEmails(Time now, Time lease_until,
                                                            int64_t limit) = 0;
  virtual ExpectedDone MarkEmailSent(int64_t email_id, Time now) = 0;
  // Counts a failed attempt, keeps the error, retries at `next_attempt_at`.
  virtual ExpectedDone MarkEmailFailed(int64_t email_id, const std::string& error,
                                       Time next_attempt_at) = 0;

  // Whether the database can be read and written right now (GET /healthz); kUnavailable when
  // not. A store without such a check says yes.
  virtual ExpectedDone CheckHealth() { return Done{}; }
};

}  // namespace sima::server
