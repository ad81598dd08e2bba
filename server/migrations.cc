#include "migrations.h"

#include <string>

namespace sima::server {
namespace {

// Times are whole seconds since the Unix epoch, UTC. Ids are text with a type prefix.
constexpr std::string_view kCore = R"sql(
CREATE TABLE organizations (
  id         TEXT PRIMARY KEY,
  name       TEXT NOT NULL,
  created_at INTEGER NOT NULL
);
CREATE TABLE api_keys (
  key_hash   TEXT PRIMARY KEY,               -- SHA-256 hex; the key is shown once, never stored
  org_id     TEXT NOT NULL REFERENCES organizations(id),
  created_at INTEGER NOT NULL,
  revoked_at INTEGER
);
CREATE INDEX api_keys_org ON api_keys(org_id);
CREATE TABLE sessions (
  token_hash TEXT PRIMARY KEY,
  org_id     TEXT NOT NULL REFERENCES organizations(id),
  created_at INTEGER NOT NULL,
  expires_at INTEGER NOT NULL
);
CREATE INDEX sessions_expiry ON sessions(expires_at);
CREATE TABLE subscriptions (
  org_id     TEXT PRIMARY KEY REFERENCES organizations(id),
  plan       TEXT NOT NULL,
  start_at   INTEGER NOT NULL,                -- anchors the 30-day usage periods
  end_at     INTEGER,                         -- NULL: never ends (FREE)
  updated_at INTEGER NOT NULL
);
CREATE TABLE usage_counters (
  org_id       TEXT NOT NULL REFERENCES organizations(id),
  period_start INTEGER NOT NULL,
  feature      TEXT NOT NULL,
  used         INTEGER NOT NULL CHECK (used >= 0),
  PRIMARY KEY (org_id, period_start, feature)
) WITHOUT ROWID;
CREATE TABLE usage_events (
  org_id          TEXT NOT NULL REFERENCES organizations(id),
  idempotency_key TEXT NOT NULL,
  feature         TEXT NOT NULL,
  quantity        INTEGER NOT NULL,
  plan            TEXT NOT NULL,
  used            INTEGER NOT NULL,          -- the answer given the first time
  limit_wire      INTEGER NOT NULL,
  over            INTEGER NOT NULL,
  created_at      INTEGER NOT NULL,
  PRIMARY KEY (org_id, idempotency_key)
) WITHOUT ROWID;
CREATE TABLE customers (
  id         TEXT PRIMARY KEY,
  org_id     TEXT NOT NULL REFERENCES organizations(id),
  name       TEXT NOT NULL,
  email      TEXT NOT NULL,
  created_at INTEGER NOT NULL
);
CREATE INDEX customers_org ON customers(org_id, created_at);
CREATE TABLE invoices (
  id           TEXT PRIMARY KEY,
  org_id       TEXT NOT NULL REFERENCES organizations(id),
  amount_paisa INTEGER NOT NULL CHECK (amount_paisa >= 0),
  customer_id  TEXT REFERENCES customers(id),
  description  TEXT NOT NULL,
  created_at   INTEGER NOT NULL
);
CREATE INDEX invoices_org ON invoices(org_id, created_at);
CREATE TABLE team_members (
  id         TEXT PRIMARY KEY,
  org_id     TEXT NOT NULL REFERENCES organizations(id),
  email      TEXT NOT NULL,
  email_key  TEXT NOT NULL,                   -- e-mail with ASCII letters lowered
  name       TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  UNIQUE (org_id, email_key)
);
)sql";

// Payments (provider-neutral: Khalti's pidx and eSewa's transaction_uuid are both a
// reference_id), their audit trail, plan changes and the e-mail outbox.
constexpr std::string_view kPayments = R"sql(
ALTER TABLE organizations ADD COLUMN billing_email TEXT;
CREATE TABLE payments (
  id                INTEGER PRIMARY KEY AUTOINCREMENT,
  org_id            TEXT NOT NULL REFERENCES organizations(id),
  provider          TEXT NOT NULL,            -- KHALTI, ESEWA
  plan              TEXT NOT NULL,
  amount_paisa      INTEGER NOT NULL CHECK (amount_paisa > 0),
  status            TEXT NOT NULL,            -- PENDING, SUCCESS, FAILED, REFUNDED
  reason            TEXT NOT NULL DEFAULT '',
  reference_id      TEXT,                     -- the gateway's id (Khalti pidx)
  purchase_order_id TEXT NOT NULL UNIQUE,     -- ours, sent to the gateway
  transaction_id    TEXT,                     -- the gateway's transaction, once paid
  needs_attention   INTEGER NOT NULL DEFAULT 0,
  expires_at        INTEGER,
  created_at        INTEGER NOT NULL,
  updated_at        INTEGER NOT NULL,
  next_check_at     INTEGER,                  -- the reconciler's next lookup; NULL = none
  check_attempts    INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX payments_org ON payments(org_id, id);
CREATE UNIQUE INDEX payments_reference ON payments(provider, reference_id)
  WHERE reference_id IS NOT NULL;
CREATE INDEX payments_due ON payments(next_check_at) WHERE status = 'PENDING';
CREATE TABLE payment_events (
  id          INTEGER PRIMARY KEY AUTOINCREMENT,
  payment_id  INTEGER NOT NULL REFERENCES payments(id),
  org_id      TEXT NOT NULL REFERENCES organizations(id),
  at          INTEGER NOT NULL,
  cause       TEXT NOT NULL,                  -- init, callback, verify, reconciler
  from_status TEXT,                           -- NULL when the payment was created
  to_status   TEXT NOT NULL,
  detail      TEXT NOT NULL DEFAULT ''        -- the gateway's status, reason, notes
);
CREATE INDEX payment_events_payment ON payment_events(payment_id, id);
CREATE TABLE plan_changes (
  id         INTEGER PRIMARY KEY AUTOINCREMENT,
  org_id     TEXT NOT NULL REFERENCES organizations(id),
  at         INTEGER NOT NULL,
  cause      TEXT NOT NULL,
  payment_id INTEGER REFERENCES payments(id),
  from_plan  TEXT NOT NULL,
  to_plan    TEXT NOT NULL,
  start_at   INTEGER NOT NULL,
  end_at     INTEGER,
  kind       TEXT NOT NULL                    -- started, extended
);
CREATE INDEX plan_changes_org ON plan_changes(org_id, id);
CREATE TABLE outbox (
  id              INTEGER PRIMARY KEY AUTOINCREMENT,
  org_id          TEXT NOT NULL REFERENCES organizations(id),
  payment_id      INTEGER UNIQUE REFERENCES payments(id),  -- one confirmation per payment
  message_id      TEXT NOT NULL UNIQUE,       -- stable across retries
  to_addr         TEXT NOT NULL,
  subject         TEXT NOT NULL,
  body            TEXT NOT NULL,
  created_at      INTEGER NOT NULL,
  attempts        INTEGER NOT NULL DEFAULT 0,
  next_attempt_at INTEGER NOT NULL,
  sent_at         INTEGER,
  last_error      TEXT
);
CREATE INDEX outbox_due ON outbox(next_attempt_at) WHERE sent_at IS NULL;
)sql";

// Payments an anonymous caller names by an unguessable ref instead of the sequential id; the
// lookup and audit coalescing of anonymous paths; Khalti's payment page, to offer an open
// payment again. Existing payments get a ref too.
constexpr std::string_view kPaymentRefs = R"sql(
ALTER TABLE payments ADD COLUMN ref TEXT;
ALTER TABLE payments ADD COLUMN payment_url TEXT;
ALTER TABLE payments ADD COLUMN last_checked_at INTEGER;  -- last lookup from an anonymous path
ALTER TABLE payments ADD COLUMN last_audit_at INTEGER;    -- last audit of a rejected callback
ALTER TABLE payments ADD COLUMN last_late_check_at INTEGER;  -- last lookup for a paid-after-FAILED redirect
UPDATE payments SET ref = 'pay_' || lower(hex(randomblob(16))) WHERE ref IS NULL;
CREATE UNIQUE INDEX payments_ref ON payments(ref) WHERE ref IS NOT NULL;
CREATE INDEX payments_open ON payments(org_id, status, provider, plan);
CREATE INDEX payments_org_created ON payments(org_id, created_at);
)sql";

// Keys get a public id (key_..., shown in lists and used to revoke) and the first characters
// of the key for people to recognise it; keys made before this have no prefix. Each session
// records the key that minted it (NULL for sessions made before this). Indexes for the
// pruning job (expired idempotency keys) and for ending a key's sessions.
constexpr std::string_view kKeysAndBounds = R"sql(
ALTER TABLE api_keys ADD COLUMN key_id TEXT;
ALTER TABLE api_keys ADD COLUMN prefix TEXT;
UPDATE api_keys SET key_id = 'key_' || lower(hex(randomblob(10))) WHERE key_id IS NULL;
CREATE UNIQUE INDEX api_keys_key_id ON api_keys(key_id);
ALTER TABLE sessions ADD COLUMN key_id TEXT;
CREATE INDEX sessions_key ON sessions(key_id, created_at);
CREATE INDEX usage_events_created ON usage_events(created_at);
)sql";

// Feature kinds and per-organization overrides. Allocations (live counts: customers, team
// members, any "allocation" feature) are counted per (org, feature) with no period, so neither
// a period boundary nor an activation resets them; every organization starts with the rows it
// has. Customers are deleted softly (invoices keep naming them). An override replaces one
// feature's limit for one organization (limit_wire as the catalog wire spells it: -1
// unlimited; a switch -1 on, 0 off), while `plan` is in force (NULL: any) and before
// `until_at` (NULL: until cleared); override_changes is its audit trail (before_* NULL: it was
// set; after_* NULL: it was cleared). A metering answer remembers the override it was given
// with (override_*), for replays.
constexpr std::string_view kKindsAndOverrides = R"sql(
CREATE TABLE allocations (
  org_id  TEXT NOT NULL REFERENCES organizations(id),
  feature TEXT NOT NULL,
  used    INTEGER NOT NULL CHECK (used >= 0),
  PRIMARY KEY (org_id, feature)
) WITHOUT ROWID;
ALTER TABLE customers ADD COLUMN deleted_at INTEGER;
INSERT INTO allocations(org_id, feature, used)
  SELECT o.id, 'customers', (SELECT COUNT(*) FROM customers c WHERE c.org_id = o.id)
  FROM organizations o;
INSERT INTO allocations(org_id, feature, used)
  SELECT o.id, 'team_members', (SELECT COUNT(*) FROM team_members t WHERE t.org_id = o.id)
  FROM organizations o;
CREATE TABLE overrides (
  org_id     TEXT NOT NULL REFERENCES organizations(id),
  feature    TEXT NOT NULL,
  limit_wire INTEGER NOT NULL CHECK (limit_wire >= -1),
  plan       TEXT,
  until_at   INTEGER,
  reason     TEXT NOT NULL DEFAULT '',
  updated_at INTEGER NOT NULL,
  PRIMARY KEY (org_id, feature)
) WITHOUT ROWID;
CREATE TABLE override_changes (
  id            INTEGER PRIMARY KEY AUTOINCREMENT,
  org_id        TEXT NOT NULL REFERENCES organizations(id),
  feature       TEXT NOT NULL,
  at            INTEGER NOT NULL,
  reason        TEXT NOT NULL DEFAULT '',
  before_limit  INTEGER,
  before_plan   TEXT,
  before_until  INTEGER,
  after_limit   INTEGER,
  after_plan    TEXT,
  after_until   INTEGER
);
CREATE INDEX override_changes_org ON override_changes(org_id, id);
ALTER TABLE usage_events ADD COLUMN override_limit INTEGER;  -- NULL: no override
ALTER TABLE usage_events ADD COLUMN override_plan TEXT;
ALTER TABLE usage_events ADD COLUMN override_until INTEGER;
)sql";

// The subscription's lifecycle (sima/lifecycle.h). A subscription is stored whole: a trial
// (granted, no grace), a cancel at the period's end, a cheaper plan scheduled for the next
// period; every existing row keeps its meaning (a paid period that renews). reminders_sent holds
// each reminder key sent (unique per organization: the second sender of a key fails and
// sends nothing); server_secrets the secret that signs pay links ('pay_link'). A payment
// keeps its quote's lines (the JSON array [{"label","amount"}] sent to Khalti). The partial
// index holds the subscriptions a reminder may ever be due for (paid, with an end, not
// canceled) with their end: ReminderCandidates walks it in org id order, reading the end from
// it, never a FREE or canceled subscription, and never sorting a page.
constexpr std::string_view kLifecycle = R"sql(
ALTER TABLE subscriptions ADD COLUMN trial INTEGER NOT NULL DEFAULT 0;
ALTER TABLE subscriptions ADD COLUMN cancel_at_period_end INTEGER NOT NULL DEFAULT 0;
ALTER TABLE subscriptions ADD COLUMN next_plan TEXT;
CREATE INDEX subscriptions_reminders ON subscriptions(org_id, end_at)
  WHERE end_at IS NOT NULL AND plan <> 'FREE' AND cancel_at_period_end = 0;
CREATE TABLE reminders_sent (
  org_id     TEXT NOT NULL REFERENCES organizations(id),
  key        TEXT NOT NULL,                   -- sima::Reminder::key
  kind       TEXT NOT NULL,                   -- renewal_notice, trial_ending, grace_started, expired
  period_end INTEGER NOT NULL,
  sent_at    INTEGER NOT NULL,
  emailed    INTEGER NOT NULL,                -- 0: no billing e-mail, nothing queued
  PRIMARY KEY (org_id, key)
);
CREATE INDEX reminders_sent_period ON reminders_sent(period_end);
CREATE TABLE server_secrets (
  name  TEXT PRIMARY KEY,
  value TEXT NOT NULL
);
ALTER TABLE payments ADD COLUMN amount_breakdown TEXT;
)sql";

// Webhooks, usage alerts and refunds. webhook_endpoints: where events go (org_id NULL: the
// server-wide endpoint, which receives every organization's events), with the secret that signs
// deliveries (kept to sign; shown once, never logged) and, after a rotation, the previous secret,
// which also signs until previous_secret_until. Deleted endpoints are kept (deleted_at) so the
// delivery log still names them. webhook_events: the outbox, written in the same transaction as
// the change; seq orders an organization's events as their changes committed, data is the JSON
// of the resources after the change. webhook_deliveries: one per event and endpoint, claimed with
// a lease; webhook_attempts: the delivery log. usage_alerts: one row per organization, feature,
// period and threshold crossed (the second crossing of the same one fails on the key and sends
// nothing). refunds: each refund asked of a gateway or recorded by hand; payments.refunded_paisa
// sums the succeeded ones.
constexpr std::string_view kWebhooks = R"sql(
CREATE TABLE webhook_endpoints (
  id                    TEXT PRIMARY KEY,       -- "we_..."
  org_id                TEXT REFERENCES organizations(id),
  url                   TEXT NOT NULL,
  description           TEXT NOT NULL DEFAULT '',
  secret                TEXT NOT NULL,          -- "whsec_..."
  previous_secret       TEXT,
  previous_secret_until INTEGER,
  enabled               INTEGER NOT NULL DEFAULT 1,
  created_at            INTEGER NOT NULL,
  updated_at            INTEGER NOT NULL,
  deleted_at            INTEGER
);
CREATE INDEX webhook_endpoints_org ON webhook_endpoints(org_id) WHERE deleted_at IS NULL;
CREATE TABLE webhook_events (
  seq        INTEGER PRIMARY KEY AUTOINCREMENT,
  id         TEXT NOT NULL UNIQUE,              -- "evt_..."
  org_id     TEXT NOT NULL REFERENCES organizations(id),
  type       TEXT NOT NULL,                     -- e.g. payment.succeeded
  data       TEXT NOT NULL,                     -- JSON object
  created_at INTEGER NOT NULL
);
CREATE INDEX webhook_events_org ON webhook_events(org_id, seq);
CREATE INDEX webhook_events_created ON webhook_events(created_at);
CREATE TABLE webhook_deliveries (
  id              INTEGER PRIMARY KEY AUTOINCREMENT,
  event_seq       INTEGER NOT NULL REFERENCES webhook_events(seq),
  endpoint_id     TEXT NOT NULL REFERENCES webhook_endpoints(id),
  org_id          TEXT NOT NULL,                -- the event's: deliveries are ordered per org
  status          TEXT NOT NULL,                -- pending, delivered, failed
  attempts        INTEGER NOT NULL DEFAULT 0,
  next_attempt_at INTEGER,                      -- pending: due then (a claim moves it past its lease)
  lease           TEXT,                         -- the current claim; a result needs it
  last_status     INTEGER,                      -- the last HTTP status, NULL when none came
  last_error      TEXT NOT NULL DEFAULT '',
  created_at      INTEGER NOT NULL,
  completed_at    INTEGER,
  UNIQUE (event_seq, endpoint_id)
);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries(next_attempt_at)
  WHERE status = 'pending';
CREATE INDEX webhook_deliveries_order ON webhook_deliveries(endpoint_id, org_id, event_seq)
  WHERE status = 'pending';
CREATE INDEX webhook_deliveries_event ON webhook_deliveries(event_seq);
CREATE TABLE webhook_attempts (
  id            INTEGER PRIMARY KEY AUTOINCREMENT,
  delivery_id   INTEGER NOT NULL REFERENCES webhook_deliveries(id),
  at            INTEGER NOT NULL,
  status_code   INTEGER,                        -- NULL: no HTTP answer
  duration_ms   INTEGER NOT NULL,
  response_body TEXT NOT NULL DEFAULT '',       -- its first 1 KiB
  error         TEXT NOT NULL DEFAULT ''
);
CREATE INDEX webhook_attempts_delivery ON webhook_attempts(delivery_id, id);
CREATE TABLE usage_alerts (
  org_id       TEXT NOT NULL REFERENCES organizations(id),
  feature      TEXT NOT NULL,
  period_start INTEGER NOT NULL,
  threshold    TEXT NOT NULL,                   -- 80, 100, over
  used         INTEGER NOT NULL,
  limit_value  INTEGER NOT NULL,
  at           INTEGER NOT NULL,
  PRIMARY KEY (org_id, feature, period_start, threshold)
);
CREATE TABLE refunds (
  id              TEXT PRIMARY KEY,             -- "rf_..."
  payment_id      INTEGER NOT NULL REFERENCES payments(id),
  org_id          TEXT NOT NULL REFERENCES organizations(id),
  amount_paisa    INTEGER NOT NULL CHECK (amount_paisa > 0),
  method          TEXT NOT NULL,                -- khalti (its refund API), manual (by hand)
  status          TEXT NOT NULL,                -- pending, succeeded, failed
  reason          TEXT NOT NULL DEFAULT '',
  reference       TEXT,
  note            TEXT NOT NULL DEFAULT '',
  detail          TEXT NOT NULL DEFAULT '',     -- what the gateway said
  keep_plan       INTEGER NOT NULL DEFAULT 0, -- a partial refund that keeps the plan
  idempotency_key TEXT,
  created_at      INTEGER NOT NULL,
  updated_at      INTEGER NOT NULL
);
CREATE UNIQUE INDEX refunds_idempotency ON refunds(payment_id, idempotency_key)
  WHERE idempotency_key IS NOT NULL;
CREATE INDEX refunds_payment ON refunds(payment_id);
ALTER TABLE payments ADD COLUMN refunded_paisa INTEGER NOT NULL DEFAULT 0;
)sql";

constexpr Migration kMigrations[] = {
    {1, "core", kCore},
    {2, "payments", kPayments},
    {3, "payment_refs", kPaymentRefs},
    {4, "keys_and_bounds", kKeysAndBounds},
    {5, "kinds_and_overrides", kKindsAndOverrides},
    {6, "lifecycle", kLifecycle},
    {7, "webhooks", kWebhooks},
};

}  // namespace

std::span<const Migration> Migrations() { return kMigrations; }

Expected<int64_t> SchemaVersion(sqlite::Db& db) {
  if (auto r =
          db.Exec("CREATE TABLE IF NOT EXISTS schema_migrations ("
                  " version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)");
      !r) {
    return r.error();
  }
  return db.QueryInt("SELECT COALESCE(MAX(version), 0) FROM schema_migrations");
}

ExpectedDone Migrate(sqlite::Db& db, std::span<const Migration> list) {
  auto current = SchemaVersion(db);
  if (!current) return current.error();
  const int64_t known = list.empty() ? 0 : list.back().version;
  if (*current > known) {
    return Error::Internal("the database has schema version " + std::to_string(*current) +
                           " but this server knows only up to " + std::to_string(known) +
                           "; run a newer sima-server");
  }
  for (const Migration& m : list) {
    auto txn = sqlite::Txn::Begin(db);
    if (!txn) return txn.error();
    // Re-read inside the write lock: another process may have applied it meanwhile. Each
    // version is looked up on its own, so a version added below the newest applied one (two
    // branches numbered apart, merged later) is still applied.
    auto applied =
        db.QueryInt("SELECT COUNT(*) FROM schema_migrations WHERE version = ?", m.version);
    if (!applied) return applied.error();
    if (*applied > 0) continue;
    if (auto r = db.Exec(m.sql); !r) {
      Error e = r.error();
      e.message = "migration " + std::to_string(m.version) + " (" + std::string(m.name) +
                  ") failed: " + e.message;
      return e;
    }
    if (auto r = db.Run("INSERT INTO schema_migrations(version, name, applied_at) "
                        "VALUES (?, ?, strftime('%Y-%m-%dT%H:%M:%SZ','now'))",
                        m.version, m.name);
        !r) {
      return r.error();
    }
    if (auto r = txn.value().Commit(); !r) return r.error();
  }
  return Done{};
}

}  // namespace sima::server
