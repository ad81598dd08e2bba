#include "pg_migrations.h"

#include <string>

namespace sima::server {
namespace {

// As in migrations.cc: times are whole seconds since the Unix epoch (BIGINT), ids are text
// with a type prefix. `seq` gives rows the order SQLite's rowid gives them (page cursors).
// Tables written by every request (counters, resources, sessions) reference their
// organization without a foreign key: an organization is never deleted, every write checks
// it exists in the same transaction, and a foreign key would make each insert lock the
// organization's row (FOR KEY SHARE), a hot row under load.
constexpr std::string_view kCore = R"sql(
CREATE TABLE organizations (
  id         TEXT PRIMARY KEY,
  name       TEXT NOT NULL,
  created_at BIGINT NOT NULL
);
CREATE TABLE api_keys (
  key_hash   TEXT PRIMARY KEY,               -- SHA-256 hex; the key is shown once, never stored
  org_id     TEXT NOT NULL REFERENCES organizations(id),
  created_at BIGINT NOT NULL,
  revoked_at BIGINT,
  seq        BIGINT GENERATED ALWAYS AS IDENTITY
);
CREATE INDEX api_keys_org ON api_keys(org_id);
CREATE TABLE sessions (
  token_hash TEXT PRIMARY KEY,
  org_id     TEXT NOT NULL,
  created_at BIGINT NOT NULL,
  expires_at BIGINT NOT NULL,
  seq        BIGINT GENERATED ALWAYS AS IDENTITY
);
CREATE INDEX sessions_expiry ON sessions(expires_at);
CREATE TABLE subscriptions (                  -- one row per organization: also its lock
  org_id     TEXT PRIMARY KEY REFERENCES organizations(id),
  plan       TEXT NOT NULL,
  start_at   BIGINT NOT NULL,                 -- anchors the 30-day usage periods
  end_at     BIGINT,                          -- NULL: never ends (FREE)
  updated_at BIGINT NOT NULL
);
-- A counter is the sum of its shards: writers that need no lock add to their own shard.
CREATE TABLE usage_counters (
  org_id       TEXT NOT NULL,
  period_start BIGINT NOT NULL,
  feature      TEXT NOT NULL,
  shard        INTEGER NOT NULL,
  used         BIGINT NOT NULL CHECK (used >= 0),
  PRIMARY KEY (org_id, period_start, feature, shard)
);
CREATE TABLE usage_events (
  org_id          TEXT NOT NULL,
  idempotency_key TEXT NOT NULL,
  feature         TEXT NOT NULL,
  quantity        BIGINT NOT NULL,
  plan            TEXT NOT NULL,
  used            BIGINT NOT NULL,           -- the answer given the first time
  limit_wire      BIGINT NOT NULL,
  over            BOOLEAN NOT NULL,
  created_at      BIGINT NOT NULL,
  PRIMARY KEY (org_id, idempotency_key)
);
CREATE TABLE customers (
  id         TEXT PRIMARY KEY,
  org_id     TEXT NOT NULL,
  name       TEXT NOT NULL,
  email      TEXT NOT NULL,
  created_at BIGINT NOT NULL,
  seq        BIGINT GENERATED ALWAYS AS IDENTITY
);
CREATE INDEX customers_org ON customers(org_id, created_at, seq);
CREATE TABLE invoices (
  id           TEXT PRIMARY KEY,
  org_id       TEXT NOT NULL,
  amount_paisa BIGINT NOT NULL CHECK (amount_paisa >= 0),
  customer_id  TEXT REFERENCES customers(id),
  description  TEXT NOT NULL,
  created_at   BIGINT NOT NULL,
  seq          BIGINT GENERATED ALWAYS AS IDENTITY
);
CREATE INDEX invoices_org ON invoices(org_id, created_at, seq);
CREATE TABLE team_members (
  id         TEXT PRIMARY KEY,
  org_id     TEXT NOT NULL,
  email      TEXT NOT NULL,
  email_key  TEXT NOT NULL,                   -- e-mail with ASCII letters lowered
  name       TEXT NOT NULL,
  created_at BIGINT NOT NULL,
  seq        BIGINT GENERATED ALWAYS AS IDENTITY,
  UNIQUE (org_id, email_key)
);
CREATE INDEX team_members_org ON team_members(org_id, created_at, seq);
-- GET /healthz writes here.
CREATE TABLE health (
  id         INTEGER PRIMARY KEY,
  checked_at TIMESTAMPTZ NOT NULL
);
)sql";

constexpr std::string_view kPayments = R"sql(
ALTER TABLE organizations ADD COLUMN billing_email TEXT;
CREATE TABLE payments (
  id                BIGSERIAL PRIMARY KEY,
  org_id            TEXT NOT NULL REFERENCES organizations(id),
  provider          TEXT NOT NULL,            -- KHALTI, ESEWA
  plan              TEXT NOT NULL,
  amount_paisa      BIGINT NOT NULL CHECK (amount_paisa > 0),
  status            TEXT NOT NULL,            -- PENDING, SUCCESS, FAILED, REFUNDED
  reason            TEXT NOT NULL DEFAULT '',
  reference_id      TEXT,                     -- the gateway's id (Khalti pidx)
  purchase_order_id TEXT NOT NULL UNIQUE,     -- ours, sent to the gateway
  transaction_id    TEXT,                     -- the gateway's transaction, once paid
  needs_attention   BOOLEAN NOT NULL DEFAULT false,
  expires_at        BIGINT,
  created_at        BIGINT NOT NULL,
  updated_at        BIGINT NOT NULL,
  next_check_at     BIGINT,                   -- the reconciler's next lookup; NULL = none
  check_attempts    BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX payments_org ON payments(org_id, id);
CREATE UNIQUE INDEX payments_reference ON payments(provider, reference_id)
  WHERE reference_id IS NOT NULL;
CREATE INDEX payments_due ON payments(next_check_at) WHERE status = 'PENDING';
CREATE TABLE payment_events (
  id          BIGSERIAL PRIMARY KEY,
  payment_id  BIGINT NOT NULL REFERENCES payments(id),
  org_id      TEXT NOT NULL REFERENCES organizations(id),
  at          BIGINT NOT NULL,
  cause       TEXT NOT NULL,                  -- init, callback, verify, reconciler
  from_status TEXT,                           -- NULL when the payment was created
  to_status   TEXT NOT NULL,
  detail      TEXT NOT NULL DEFAULT ''
);
CREATE INDEX payment_events_payment ON payment_events(payment_id, id);
CREATE TABLE plan_changes (
  id         BIGSERIAL PRIMARY KEY,
  org_id     TEXT NOT NULL REFERENCES organizations(id),
  at         BIGINT NOT NULL,
  cause      TEXT NOT NULL,
  payment_id BIGINT REFERENCES payments(id),
  from_plan  TEXT NOT NULL,
  to_plan    TEXT NOT NULL,
  start_at   BIGINT NOT NULL,
  end_at     BIGINT,
  kind       TEXT NOT NULL                    -- started, extended
);
CREATE INDEX plan_changes_org ON plan_changes(org_id, id);
CREATE TABLE outbox (
  id              BIGSERIAL PRIMARY KEY,
  org_id          TEXT NOT NULL REFERENCES organizations(id),
  payment_id      BIGINT UNIQUE REFERENCES payments(id),  -- one confirmation per payment
  message_id      TEXT NOT NULL UNIQUE,       -- stable across retries
  to_addr         TEXT NOT NULL,
  subject         TEXT NOT NULL,
  body            TEXT NOT NULL,
  created_at      BIGINT NOT NULL,
  attempts        BIGINT NOT NULL DEFAULT 0,
  next_attempt_at BIGINT NOT NULL,
  sent_at         BIGINT,
  last_error      TEXT
);
CREATE INDEX outbox_due ON outbox(next_attempt_at) WHERE sent_at IS NULL;
)sql";

constexpr std::string_view kPaymentRefs = R"sql(
ALTER TABLE payments ADD COLUMN ref TEXT;
ALTER TABLE payments ADD COLUMN payment_url TEXT;
ALTER TABLE payments ADD COLUMN last_checked_at BIGINT;
ALTER TABLE payments ADD COLUMN last_audit_at BIGINT;
ALTER TABLE payments ADD COLUMN last_late_check_at BIGINT;
UPDATE payments SET ref = 'pay_' || md5(random()::text || id::text) WHERE ref IS NULL;
CREATE UNIQUE INDEX payments_ref ON payments(ref) WHERE ref IS NOT NULL;
CREATE INDEX payments_open ON payments(org_id, status, provider, plan);
CREATE INDEX payments_org_created ON payments(org_id, created_at);
)sql";

constexpr std::string_view kKeysAndBounds = R"sql(
ALTER TABLE api_keys ADD COLUMN key_id TEXT;
ALTER TABLE api_keys ADD COLUMN prefix TEXT;
UPDATE api_keys SET key_id = 'key_' || substr(md5(random()::text || key_hash), 1, 20)
  WHERE key_id IS NULL;
CREATE UNIQUE INDEX api_keys_key_id ON api_keys(key_id);
ALTER TABLE sessions ADD COLUMN key_id TEXT;
CREATE INDEX sessions_key ON sessions(key_id, created_at, seq);
CREATE INDEX usage_events_created ON usage_events(created_at);
)sql";

// As migrations.cc's migration 5 (same tables and columns, so migrate-store copies 1:1):
// allocations are live counts per (org, feature) with no period, seeded from the rows every
// organization has; customers are deleted softly; an override replaces one feature's limit
// for one organization (limit_wire: -1 unlimited, a switch -1 on / 0 off) while `plan` is in
// force (NULL: any) and before `until_at` (NULL: until cleared); override_changes is its audit
// trail (before_* NULL: set; after_* NULL: cleared). A metering answer remembers the override
// it was given with, for replays. Allocation changes always take the organization's lock, so
// an allocation is one row, not shards.
constexpr std::string_view kKindsAndOverrides = R"sql(
CREATE TABLE allocations (
  org_id  TEXT NOT NULL,
  feature TEXT NOT NULL,
  used    BIGINT NOT NULL CHECK (used >= 0),
  PRIMARY KEY (org_id, feature)
);
ALTER TABLE customers ADD COLUMN deleted_at BIGINT;
INSERT INTO allocations(org_id, feature, used)
  SELECT o.id, 'customers', (SELECT COUNT(*) FROM customers c WHERE c.org_id = o.id)
  FROM organizations o;
INSERT INTO allocations(org_id, feature, used)
  SELECT o.id, 'team_members', (SELECT COUNT(*) FROM team_members t WHERE t.org_id = o.id)
  FROM organizations o;
CREATE TABLE overrides (
  org_id     TEXT NOT NULL REFERENCES organizations(id),
  feature    TEXT NOT NULL,
  limit_wire BIGINT NOT NULL CHECK (limit_wire >= -1),
  plan       TEXT,
  until_at   BIGINT,
  reason     TEXT NOT NULL DEFAULT '',
  updated_at BIGINT NOT NULL,
  PRIMARY KEY (org_id, feature)
);
CREATE TABLE override_changes (
  id           BIGSERIAL PRIMARY KEY,
  org_id       TEXT NOT NULL REFERENCES organizations(id),
  feature      TEXT NOT NULL,
  at           BIGINT NOT NULL,
  reason       TEXT NOT NULL DEFAULT '',
  before_limit BIGINT,
  before_plan  TEXT,
  before_until BIGINT,
  after_limit  BIGINT,
  after_plan   TEXT,
  after_until  BIGINT
);
CREATE INDEX override_changes_org ON override_changes(org_id, id);
ALTER TABLE usage_events ADD COLUMN override_limit BIGINT;  -- NULL: no override
ALTER TABLE usage_events ADD COLUMN override_plan TEXT;
ALTER TABLE usage_events ADD COLUMN override_until BIGINT;
)sql";

// As migrations.cc's migration 6: the subscription's lifecycle (sima/lifecycle.h). A
// subscription is stored whole (a trial, a cancel at the period's end, a cheaper plan scheduled
// for the next period); every existing row keeps its meaning (a paid period that renews).
// reminders_sent holds each reminder key sent (the primary key makes a second sender of a key
// fail and send nothing); server_secrets the secret that signs pay links ('pay_link'). A payment
// keeps its quote's lines (the JSON array [{"label","amount"}] sent to Khalti). The partial
// index holds the subscriptions a reminder may ever be due for (paid, with an end, not
// canceled) with their end: ReminderCandidates walks it in org id order, never reading a FREE
// or canceled subscription's row.
constexpr std::string_view kLifecycle = R"sql(
ALTER TABLE subscriptions ADD COLUMN trial BOOLEAN NOT NULL DEFAULT false;
ALTER TABLE subscriptions ADD COLUMN cancel_at_period_end BOOLEAN NOT NULL DEFAULT false;
ALTER TABLE subscriptions ADD COLUMN next_plan TEXT;
CREATE INDEX subscriptions_reminders ON subscriptions(org_id, end_at)
  WHERE end_at IS NOT NULL AND plan <> 'FREE' AND NOT cancel_at_period_end;
CREATE TABLE reminders_sent (
  org_id     TEXT NOT NULL REFERENCES organizations(id),
  key        TEXT NOT NULL,                   -- sima::Reminder::key
  kind       TEXT NOT NULL,                   -- renewal_notice, trial_ending, grace_started, expired
  period_end BIGINT NOT NULL,
  sent_at    BIGINT NOT NULL,
  emailed    BOOLEAN NOT NULL,                -- false: no billing e-mail, nothing queued
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
  previous_secret_until BIGINT,
  enabled               BOOLEAN NOT NULL DEFAULT true,
  created_at            BIGINT NOT NULL,
  updated_at            BIGINT NOT NULL,
  deleted_at            BIGINT
);
CREATE INDEX webhook_endpoints_org ON webhook_endpoints(org_id) WHERE deleted_at IS NULL;
CREATE TABLE webhook_events (
  seq        BIGSERIAL PRIMARY KEY,
  id         TEXT NOT NULL UNIQUE,              -- "evt_..."
  org_id     TEXT NOT NULL REFERENCES organizations(id),
  type       TEXT NOT NULL,                     -- e.g. payment.succeeded
  data       TEXT NOT NULL,                     -- JSON object
  created_at BIGINT NOT NULL
);
CREATE INDEX webhook_events_org ON webhook_events(org_id, seq);
CREATE INDEX webhook_events_created ON webhook_events(created_at);
CREATE TABLE webhook_deliveries (
  id              BIGSERIAL PRIMARY KEY,
  event_seq       BIGINT NOT NULL REFERENCES webhook_events(seq),
  endpoint_id     TEXT NOT NULL REFERENCES webhook_endpoints(id),
  org_id          TEXT NOT NULL,                -- the event's: deliveries are ordered per org
  status          TEXT NOT NULL,                -- pending, delivered, failed
  attempts        BIGINT NOT NULL DEFAULT 0,
  next_attempt_at BIGINT,                      -- pending: due then (a claim moves it past its lease)
  lease           TEXT,                         -- the current claim; a result needs it
  last_status     BIGINT,                      -- the last HTTP status, NULL when none came
  last_error      TEXT NOT NULL DEFAULT '',
  created_at      BIGINT NOT NULL,
  completed_at    BIGINT,
  UNIQUE (event_seq, endpoint_id)
);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries(next_attempt_at)
  WHERE status = 'pending';
CREATE INDEX webhook_deliveries_order ON webhook_deliveries(endpoint_id, org_id, event_seq)
  WHERE status = 'pending';
CREATE INDEX webhook_deliveries_event ON webhook_deliveries(event_seq);
CREATE TABLE webhook_attempts (
  id            BIGSERIAL PRIMARY KEY,
  delivery_id   BIGINT NOT NULL REFERENCES webhook_deliveries(id),
  at            BIGINT NOT NULL,
  status_code   BIGINT,                        -- NULL: no HTTP answer
  duration_ms   BIGINT NOT NULL,
  response_body TEXT NOT NULL DEFAULT '',       -- its first 1 KiB
  error         TEXT NOT NULL DEFAULT ''
);
CREATE INDEX webhook_attempts_delivery ON webhook_attempts(delivery_id, id);
CREATE TABLE usage_alerts (
  org_id       TEXT NOT NULL REFERENCES organizations(id),
  feature      TEXT NOT NULL,
  period_start BIGINT NOT NULL,
  threshold    TEXT NOT NULL,                   -- 80, 100, over
  used         BIGINT NOT NULL,
  limit_value  BIGINT NOT NULL,
  at           BIGINT NOT NULL,
  PRIMARY KEY (org_id, feature, period_start, threshold)
);
CREATE TABLE refunds (
  id              TEXT PRIMARY KEY,             -- "rf_..."
  payment_id      BIGINT NOT NULL REFERENCES payments(id),
  org_id          TEXT NOT NULL REFERENCES organizations(id),
  amount_paisa    BIGINT NOT NULL CHECK (amount_paisa > 0),
  method          TEXT NOT NULL,                -- khalti (its refund API), manual (by hand)
  status          TEXT NOT NULL,                -- pending, succeeded, failed
  reason          TEXT NOT NULL DEFAULT '',
  reference       TEXT,
  note            TEXT NOT NULL DEFAULT '',
  detail          TEXT NOT NULL DEFAULT '',     -- what the gateway said
  keep_plan       BOOLEAN NOT NULL DEFAULT FALSE, -- a partial refund that keeps the plan
  idempotency_key TEXT,
  created_at      BIGINT NOT NULL,
  updated_at      BIGINT NOT NULL
);
CREATE UNIQUE INDEX refunds_idempotency ON refunds(payment_id, idempotency_key)
  WHERE idempotency_key IS NOT NULL;
CREATE INDEX refunds_payment ON refunds(payment_id);
ALTER TABLE payments ADD COLUMN refunded_paisa BIGINT NOT NULL DEFAULT 0;
)sql";

constexpr Migration kPgMigrations[] = {
    {1, "core", kCore},
    {2, "payments", kPayments},
    {3, "payment_refs", kPaymentRefs},
    {4, "keys_and_bounds", kKeysAndBounds},
    {5, "kinds_and_overrides", kKindsAndOverrides},
    {6, "lifecycle", kLifecycle},
    {7, "webhooks", kWebhooks},
};

// pg_advisory_xact_lock's key for migrations: "sima" in ASCII.
constexpr int64_t kMigrationLock = 0x73696d61;

}  // namespace

std::span<const Migration> PgMigrations() { return kPgMigrations; }

ExpectedDone MigratePg(pg::Conn& conn, const std::string& schema, std::span<const Migration> list) {
  if (auto r = conn.Script("BEGIN"); !r) return r;
  auto fail = [&](Error e) {
    (void)conn.Script("ROLLBACK");
    return e;
  };
  if (auto r = conn.Run("SELECT pg_advisory_xact_lock($1)", kMigrationLock); !r) {
    return fail(r.error());
  }
  if (!schema.empty()) {
    auto quoted = conn.One("SELECT quote_ident($1)", schema);
    if (!quoted) return fail(quoted.error());
    if (auto r = conn.Script("CREATE SCHEMA IF NOT EXISTS " + (*quoted)->Text(0)); !r) {
      return fail(r.error());
    }
  }
  if (auto r =
          conn.Script("CREATE TABLE IF NOT EXISTS schema_migrations (version BIGINT PRIMARY KEY, "
                      "name TEXT NOT NULL, applied_at TIMESTAMPTZ NOT NULL DEFAULT now())");
      !r) {
    return fail(r.error());
  }
  auto applied = conn.All("SELECT version FROM schema_migrations");
  if (!applied) return fail(applied.error());
  std::vector<int64_t> have;
  for (const pg::Row& row : *applied) have.push_back(row.Int(0));
  const int64_t known = list.empty() ? 0 : list.back().version;
  for (int64_t v : have) {
    if (v > known) {
      return fail(Error::Internal("the database has schema version " + std::to_string(v) +
                                  " but this server knows only up to " + std::to_string(known) +
                                  "; run a newer sima-server"));
    }
  }
  for (const Migration& m : list) {
    if (std::find(have.begin(), have.end(), m.version) != have.end()) continue;
    if (auto r = conn.Script(std::string(m.sql)); !r) {
      Error e = r.error();
      e.message = "migration " + std::to_string(m.version) + " (" + std::string(m.name) +
                  ") failed: " + e.message;
      return fail(e);
    }
    if (auto r = conn.Run("INSERT INTO schema_migrations(version, name) VALUES ($1, $2)",
                          int64_t{m.version}, m.name);
        !r) {
      return fail(r.error());
    }
  }
  return conn.Script("COMMIT");
}

}  // namespace sima::server
