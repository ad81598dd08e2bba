#include "migrations.h"

#include <string>

namespace sima::server {
namespace {

// Times are whole seconds since the Unix epoch, UTC. Ids are text with a type prefix.
// Version 2 onwards (payments, outbox) is added below by later work.
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

constexpr Migration kMigrations[] = {
    {1, "core", kCore},
    // {2, "payments", ...}: payments, e-mail outbox.
};

}  // namespace

std::span<const Migration> Migrations() { return kMigrations; }

Expected<int64_t> SchemaVersion(sqlite::Db& db) {
  if (auto r = db.Exec(
          "CREATE TABLE IF NOT EXISTS schema_migrations ("
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
    // Re-read inside the write lock: another process may have applied it meanwhile.
    auto now_at = db.QueryInt("SELECT COALESCE(MAX(version), 0) FROM schema_migrations");
    if (!now_at) return now_at.error();
    if (*now_at >= m.version) continue;
    if (auto r = db.Exec(m.sql); !r) {
      Error e = r.error();
      e.message = "migration " + std::to_string(m.version) + " (" + std::string(m.name) +
                  ") failed: " + e.message;
      return e;
    }
    auto ins = db.Prepare(
        "INSERT INTO schema_migrations(version, name, applied_at) "
        "VALUES (?, ?, strftime('%Y-%m-%dT%H:%M:%SZ','now'))");
    if (!ins) return ins.error();
    (*ins)->Bind(1, int64_t{m.version}).Bind(2, m.name);
    if (auto r = (*ins)->Run(); !r) return r.error();
    if (auto r = txn.value().Commit(); !r) return r.error();
  }
  return Done{};
}

}  // namespace sima::server
