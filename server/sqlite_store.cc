#include "sqlite_store.h"

#include <sqlite3.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <set>

#include "migrations.h"
#include "sima/json.h"
#include "sima/text.h"
#include "store_rows.h"
#include "store_rules.h"
#include "webhook/outbox.h"

namespace sima::server {
namespace {

using sqlite::Db;
using sqlite::Row;

// Settings of every connection. busy_timeout covers other processes (a backup, the sqlite3
// shell); within this process writes are serialized before they reach SQLite.
constexpr std::string_view kPragmas =
    "PRAGMA journal_mode=WAL;"
    "PRAGMA synchronous=NORMAL;"
    "PRAGMA foreign_keys=ON;"
    "PRAGMA busy_timeout=5000;"
    "PRAGMA cache_size=-32768;"
    "PRAGMA temp_store=MEMORY;";

// The readers every store shares (store_rows.h), over this store's rows.
Invoice ReadInvoice(const Row& r) { return ReadInvoiceRow(r); }
Customer ReadCustomer(const Row& r) { return ReadCustomerRow(r); }
TeamMember ReadTeamMember(const Row& r) { return ReadTeamMemberRow(r); }

// One page of an organization's list, newest first by (created_at, rowid). `columns` are read
// by `read`; created_at and rowid follow them. `also` narrows the rows further (" AND ...").
// Reads one row more than asked to know whether another page exists.
template <typename T, typename R>
Expected<Page<T>> ReadPage(Db& db, std::string_view columns, std::string_view table,
                           const std::string& org_id, const PageRequest& page, R read,
                           std::string_view also = "") {
  const std::string select = "SELECT " + std::string(columns) + ", created_at, rowid FROM " +
                             std::string(table) + " WHERE org_id = ?" + std::string(also);
  const std::string order = " ORDER BY created_at DESC, rowid DESC LIMIT ?";
  auto rows = page.after ? db.All(select + " AND (created_at, rowid) < (?, ?)" + order, org_id,
                                  page.after->at, page.after->row, page.limit + 1)
                         : db.All(select + order, org_id, page.limit + 1);
  if (!rows) return rows.error();
  Page<T> out;
  for (const Row& r : *rows) {
    if (static_cast<int64_t>(out.items.size()) == page.limit) {
      if (!out.items.empty()) {
        const Row& last = (*rows)[out.items.size() - 1];
        out.next = PageKey{last.Int(last.size() - 2), last.Int(last.size() - 1)};
      }
      break;
    }
    out.items.push_back(read(r));
  }
  return out;
}

ApiKeyInfo ReadKeyInfo(const Row& r) { return ReadKeyInfoRow(r); }

// The token hashes a "DELETE FROM sessions ... RETURNING token_hash" returned, added to `out`.
ExpectedDone CollectHashes(const Expected<std::vector<Row>>& rows, std::vector<std::string>& out) {
  if (!rows) return rows.error();
  for (const Row& r : *rows) out.push_back(r.Text(0));
  return Done{};
}

// kNotFound unless the organization exists.
ExpectedDone OrgExists(Db& db, const std::string& org_id) {
  auto row = db.One("SELECT 1 FROM organizations WHERE id = ?", org_id);
  if (!row) return row.error();
  if (!*row) return Error::NotFound("no such organization");
  return Done{};
}

// One object of an organization by id (`sql` binds id, org_id); kNotFound names `what`.
template <typename T, typename R>
Expected<T> ReadOne(Db& db, const std::string& sql, const std::string& org_id,
                    const std::string& id, std::string_view what, R read) {
  auto row = db.One(sql, id, org_id);
  if (!row) return row.error();
  if (!*row) return Error::NotFound("no " + std::string(what) + " with this id");
  return read(**row);
}

}  // namespace

Expected<std::unique_ptr<SqliteStore>> SqliteStore::Open(const Options& options,
                                                         const Catalog& catalog) {
  auto db = Db::Open(options.path);
  if (!db) return db.error();
  if (auto r = (*db)->Exec(kPragmas); !r) return r.error();
  if (auto mode = (*db)->One("PRAGMA journal_mode"); !mode || !*mode || (*mode)->Text(0) != "wal") {
    return Error::Internal("cannot switch \"" + options.path + "\" to WAL mode");
  }
  if (options.background_checkpoint) {
    if (auto r = (*db)->Exec("PRAGMA wal_autocheckpoint=0"); !r) return r.error();
  }
  if (auto r = (*db)->Exec("PRAGMA journal_size_limit=" + std::to_string(options.wal_limit)); !r) {
    return r.error();
  }
  if (auto r = Migrate(**db); !r) return r.error();
  std::unique_ptr<SqliteStore> store(new SqliteStore(std::move(db).value(), catalog, options));
  if (options.background_checkpoint) {
    // Replaces SQLite's own auto-checkpoint hook (switched off above): it tells the writer
    // how long the WAL is after each commit, for BoundWal.
    sqlite3_wal_hook(
        store->db_->get(),
        [](void* self, sqlite3*, const char*, int frames) {
          static_cast<SqliteStore*>(self)->wal_frames_ = frames;
          return SQLITE_OK;
        },
        store.get());
    store->StartCheckpointer(options.path);
  }
  return store;
}

// Why the WAL needs the writer's help: SQLite can only rewind the WAL to its start when a
// checkpoint has copied every frame into the database and a new write transaction begins.
// The background PASSIVE checkpoint runs beside a writer that commits every few
// milliseconds, so under sustained writes it never catches up with the end of the WAL, the
// WAL is never rewound and grows without bound (357 MiB in 20 s before this). Here the writer,
// between batches and holding the only write connection, checkpoints what the background
// thread has not yet copied and truncates the file: nothing can append meanwhile.
void SqliteStore::BoundWal() {
  if (page_bytes_ == 0) {
    auto size = db_->QueryInt("PRAGMA page_size");
    page_bytes_ = size ? *size + 24 : 4096 + 24;  // a WAL frame: 24-byte header + one page
  }
  if (static_cast<int64_t>(wal_frames_) * page_bytes_ <= options_.wal_limit) return;
  // SQLite refuses a second checkpointer at once (SQLITE_BUSY, without waiting), so the
  // background pass is waited for here; TRUNCATE then waits (busy_timeout) for readers.
  std::lock_guard running(ckpt_run_mu_);
  if (sqlite3_wal_checkpoint_v2(db_->get(), nullptr, SQLITE_CHECKPOINT_TRUNCATE, nullptr,
                                nullptr) == SQLITE_OK) {
    wal_frames_ = 0;
  }
}

void SqliteStore::StartCheckpointer(const std::string& path) {
  ckpt_thread_ = std::thread([this, path] {
    auto db = Db::Open(path);
    // Reading the journal mode opens the WAL; a connection that never read the database
    // would not know it is in WAL mode and its checkpoints would do nothing.
    if (!db || !(*db)->Exec("PRAGMA busy_timeout=1000; PRAGMA journal_mode=WAL;")) return;
    std::unique_lock lock(ckpt_mu_);
    while (!ckpt_stop_) {
      ckpt_cv_.wait_for(lock, std::chrono::milliseconds(200));
      if (ckpt_stop_) break;
      lock.unlock();
      // PASSIVE never blocks the writer; it copies what it can and fsyncs the database file.
      {
        std::lock_guard running(ckpt_run_mu_);
        sqlite3_wal_checkpoint_v2((*db)->get(), nullptr, SQLITE_CHECKPOINT_PASSIVE, nullptr,
                                  nullptr);
      }
      lock.lock();
    }
  });
}

SqliteStore::~SqliteStore() {
  {
    std::lock_guard lock(ckpt_mu_);
    ckpt_stop_ = true;
  }
  ckpt_cv_.notify_all();
  if (ckpt_thread_.joinable()) ckpt_thread_.join();
  std::lock_guard lock(write_mu_);
  // A final full checkpoint so the file is complete on its own; errors do not matter here.
  (void)db_->Exec("PRAGMA wal_checkpoint(TRUNCATE)");
  db_.reset();
}

// --- group commit ---

namespace {
constexpr size_t kMaxBatch = 128;
}  // namespace

void SqliteStore::Submit(Job& job) {
  std::unique_lock lock(queue_mu_);
  queue_.push_back(&job);
  if (!leader_) {
    leader_ = true;
    job.lead = true;
  }
  job.cv.wait(lock, [&] { return job.done || job.lead; });
  if (job.done) return;
  // Leading: this job is at the front of the queue, so it is in the batch.
  const auto n = static_cast<std::ptrdiff_t>(std::min(queue_.size(), kMaxBatch));
  std::vector<Job*> batch(queue_.begin(), queue_.begin() + n);
  queue_.erase(queue_.begin(), queue_.begin() + n);
  lock.unlock();
  try {
    RunBatch(batch);
  } catch (...) {  // e.g. out of memory: the batch is rolled back, nobody may hang
    for (Job* j : batch) j->failure = Error::Internal("internal error");
  }
  lock.lock();
  for (Job* j : batch) {
    j->done = true;
    if (j != &job) j->cv.notify_one();
  }
  if (queue_.empty()) {
    leader_ = false;
  } else {
    queue_.front()->lead = true;
    queue_.front()->cv.notify_one();
  }
}

void SqliteStore::RunBatch(const std::vector<Job*>& batch) {
  std::lock_guard lock(write_mu_);
  Db& db = *db_;
  std::vector<Job*> kept;
  auto fail = [](const std::vector<Job*>& jobs, const Error& e) {
    for (Job* j : jobs) j->failure = e;
  };
  const bool full = std::any_of(batch.begin(), batch.end(), [](Job* j) { return j->full; });
  if (full) {
    if (auto r = db.Exec("PRAGMA synchronous=FULL"); !r) return fail(batch, r.error());
  }
  struct Restore {
    Db& db;
    bool on;
    ~Restore() {
      if (on) (void)db.Exec("PRAGMA synchronous=NORMAL");
    }
  } restore{db, full};
  auto txn = sqlite::Txn::Begin(db);
  if (!txn) return fail(batch, txn.error());
  auto step = [&](const char* sql) { return db.Run(sql); };
  for (size_t i = 0; i < batch.size(); ++i) {
    Job* job = batch[i];
    if (auto r = step("SAVEPOINT job"); !r) {
      job->failure = r.error();
      continue;
    }
    bool ok = false;
    try {
      ok = job->run(db);
    } catch (...) {
      job->failure = Error::Internal("internal error");
    }
    if (sqlite3_get_autocommit(db.get()) != 0) {
      // SQLite rolled the whole transaction back (I/O error, disk full...): nothing of this
      // batch is stored, so no job of it may report success.
      Error e{ErrorKind::kUnavailable, "the transaction was aborted by the database"};
      fail(kept, e);
      fail(std::vector<Job*>(batch.begin() + static_cast<std::ptrdiff_t>(i), batch.end()), e);
      return;
    }
    if (ok && !job->failure) {
      if (auto r = step("RELEASE job"); !r) {
        job->failure = r.error();
      } else {
        kept.push_back(job);
        continue;
      }
    }
    if (auto r = step("ROLLBACK TO job"); !r) {
      Error e = r.error();
      fail(kept, e);
      fail(std::vector<Job*>(batch.begin() + static_cast<std::ptrdiff_t>(i), batch.end()), e);
      return;  // ~Txn rolls everything back
    }
    (void)step("RELEASE job");
  }
  if (auto c = txn.value().Commit(); !c) fail(kept, c.error());
  BoundWal();
}

// --- building blocks ---

Expected<UsageState> SqliteStore::LoadUsage(Db& db, const std::string& org_id, Time now) {
  UsageState state;
  auto sub = LoadSubscription(db, org_id);
  if (!sub) return sub.error();
  state.subscription = std::move(sub).value();
  state.period = CurrentPeriod(state.subscription, catalog_.period_days(), now);
  auto counters =
      db.All("SELECT feature, used FROM usage_counters WHERE org_id = ? AND period_start = ?",
             org_id, state.period.start);
  if (!counters) return counters.error();
  for (const Row& r : *counters) {
    if (!IsAllocation(catalog_, r.Text(0))) state.usage[r.Text(0)] = r.Int(1);
  }
  auto live = db.All("SELECT feature, used FROM allocations WHERE org_id = ?", org_id);
  if (!live) return live.error();
  for (const Row& r : *live) {
    if (IsAllocation(catalog_, r.Text(0))) state.usage[r.Text(0)] = r.Int(1);
  }
  // Expired overrides are never in force again: left out.
  auto overrides = db.All("SELECT " + std::string(kOverrideColumns) +
                              " FROM overrides WHERE org_id = ? AND (until_at IS NULL OR "
                              "until_at > ?) ORDER BY feature",
                          org_id, now);
  if (!overrides) return overrides.error();
  for (const Row& r : *overrides) state.overrides.push_back(ReadStoredOverrideRow(r).value);
  return state;
}

ExpectedDone SqliteStore::Count(Db& db, const std::string& org_id, UsageState& state,
                                std::string_view feature, int64_t n) {
  if (IsAllocation(catalog_, feature)) return CountLive(db, org_id, state, feature, n);
  int64_t& used = state.usage[std::string(feature)];
  if (used > INT64_MAX - n) return Error::Conflict("the usage counter would overflow");
  if (auto r = db.Run(
          "INSERT INTO usage_counters(org_id, period_start, feature, used) VALUES (?, ?, ?, ?) "
          "ON CONFLICT(org_id, period_start, feature) DO UPDATE SET used = used + excluded.used",
          org_id, state.period.start, feature, n);
      !r) {
    return r;
  }
  used += n;
  return Done{};
}

ExpectedDone SqliteStore::CountLive(Db& db, const std::string& org_id, UsageState& state,
                                    std::string_view feature, int64_t n) {
  auto row =
      db.One("SELECT used FROM allocations WHERE org_id = ? AND feature = ?", org_id, feature);
  if (!row) return row.error();
  const int64_t used = *row ? (*row)->Int(0) : 0;
  if (n > 0 && used > INT64_MAX - n) return Error::Conflict("the usage counter would overflow");
  if (used + n < 0) return ReleaseTooLarge(feature, n, used);
  if (auto r = db.Run("INSERT INTO allocations(org_id, feature, used) VALUES (?, ?, ?) "
                      "ON CONFLICT(org_id, feature) DO UPDATE SET used = excluded.used",
                      org_id, feature, used + n);
      !r) {
    return r;
  }
  if (IsAllocation(catalog_, feature)) state.usage[std::string(feature)] = used + n;
  return Done{};
}

ExpectedDone SqliteStore::CountResource(Db& db, const std::string& org_id, UsageState& state,
                                        std::string_view feature, int64_t n) {
  if (auto r = CountLive(db, org_id, state, feature, n); !r) return r;
  if (n > 0 && catalog_.FeatureIndex(feature) && IsMetered(catalog_, feature)) {
    return Count(db, org_id, state, feature, n);
  }
  return Done{};
}

Expected<std::optional<Decision>> SqliteStore::Decide(const UsageState& state,
                                                      std::string_view feature, int64_t n,
                                                      Time now) const {
  if (!catalog_.FeatureIndex(feature)) return std::optional<Decision>();
  auto d = Check(catalog_, state.subscription, now, state.usage, feature, n, state.overrides);
  if (!d) return Error::FromStatus(d.status());
  return std::optional<Decision>(std::move(d).value());
}

Expected<std::optional<Decision>> SqliteStore::Gate(const UsageState& state,
                                                    std::string_view feature, int64_t n,
                                                    Time now) const {
  auto d = Decide(state, feature, n, now);
  if (d && d->has_value() && !(*d)->allowed) return Error::LimitReached(**d);
  return d;
}

ExpectedDone SqliteStore::CountCall(Db& db, const std::string& org_id, UsageState& state,
                                    Time now) {
  auto gate = Gate(state, kApiCalls, 1, now);
  if (!gate) return gate.error();
  if (!gate->has_value()) return Done{};
  return Count(db, org_id, state, kApiCalls, 1);
}

Expected<Subscription> SqliteStore::LoadSubscription(Db& db, const std::string& org_id) {
  auto row =
      db.One("SELECT " + std::string(kSubscriptionColumns) + " FROM subscriptions WHERE org_id = ?",
             org_id);
  if (!row) return row.error();
  if (!*row) return Error::NotFound("no such organization");
  return ReadSubscriptionRow(**row);
}

ExpectedDone SqliteStore::SaveSubscription(Db& db, const std::string& org_id,
                                           const Subscription& sub, Time now) {
  if (auto r = db.Run("UPDATE subscriptions SET plan = ?, start_at = ?, end_at = ?, trial = ?, "
                      "cancel_at_period_end = ?, next_plan = ?, updated_at = ? WHERE org_id = ?",
                      sub.plan, sub.start, sub.end, sub.trial, sub.cancel_at_period_end,
                      sub.next_plan, now, org_id);
      !r) {
    return r;
  }
  if (db.changes() == 0) return Error::NotFound("no such organization");
  return Done{};
}

ExpectedDone SqliteStore::SaveActivation(Db& db, const std::string& org_id, const Subscription& sub,
                                         std::optional<Time> reset_usage_from,
                                         const PlanChange& change,
                                         std::optional<int64_t> payment_id, Time now) {
  if (auto r = SaveSubscription(db, org_id, sub, now); !r) return r;
  if (reset_usage_from) {
    if (auto r = db.Run("DELETE FROM usage_counters WHERE org_id = ? AND period_start = ?", org_id,
                        *reset_usage_from);
        !r) {
      return r;
    }
  }
  return db.Run(
      "INSERT INTO plan_changes(org_id, at, cause, payment_id, from_plan, to_plan, start_at, "
      "end_at, kind) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
      org_id, change.at, change.cause, payment_id, change.from_plan, change.to_plan, change.start,
      change.end, to_string(change.kind));
}

template <typename T, typename F>
Expected<T> SqliteStore::OrgCall(const std::string& org_id, Time now, F&& body,
                                 Durability durability) {
  return Write<T>(durability, [&](Db& db) -> Expected<T> {
    auto state = LoadUsage(db, org_id, now);
    if (!state) return state.error();
    if (auto r = CountCall(db, org_id, state.value(), now); !r) return r.error();
    return body(db, state.value());
  });
}

template <typename T, typename F>
Expected<T> SqliteStore::CreateCounted(const std::string& org_id, std::string_view feature,
                                       Time now, F&& insert) {
  return OrgCall<T>(org_id, now, [&](Db& db, UsageState& state) -> Expected<T> {
    auto gate = Gate(state, feature, 1, now);
    if (!gate) return gate.error();
    auto created = insert(db);
    if (!created) return created;
    if (IsServerResource(feature)) {
      if (auto r = CountResource(db, org_id, state, feature, 1); !r) return r.error();
    } else if (gate->has_value()) {
      if (auto r = Count(db, org_id, state, feature, 1); !r) return r.error();
    }
    return created;
  });
}

template <typename F>
ExpectedDone SqliteStore::DeleteCounted(const std::string& org_id, std::string_view feature,
                                        std::string_view what, Time now, F&& remove) {
  return OrgCall<Done>(org_id, now, [&](Db& db, UsageState& state) -> ExpectedDone {
    if (auto r = remove(db); !r) return r;
    if (db.changes() == 0) return Error::NotFound("no " + std::string(what) + " with this id");
    return CountResource(db, org_id, state, feature, -1);
  });
}

// --- organizations and credentials ---

Expected<Org> SqliteStore::CreateOrg(const NewOrg& org) {
  return Write<Org>(Durability::kNormal, [&](Db& db) -> Expected<Org> {
    if (auto r = db.Run(
            "INSERT INTO organizations(id, name, created_at, billing_email) VALUES (?, ?, ?, ?)",
            org.id, org.name, org.now, org.billing_email);
        !r) {
      return r.error();
    }
    const Subscription& sub = org.subscription;
    if (auto r = db.Run("INSERT INTO subscriptions(org_id, plan, start_at, end_at, trial, "
                        "cancel_at_period_end, next_plan, updated_at) "
                        "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                        org.id, sub.plan, sub.start, sub.end, sub.trial, sub.cancel_at_period_end,
                        sub.next_plan, org.now);
        !r) {
      return r.error();
    }
    if (auto r = db.Run(
            "INSERT INTO api_keys(key_hash, org_id, created_at, key_id, prefix) VALUES (?, ?, ?, "
            "COALESCE(NULLIF(?, ''), 'key_' || lower(hex(randomblob(10)))), NULLIF(?, ''))",
            org.key_hash, org.id, org.now, org.key_id, org.key_prefix);
        !r) {
      return r.error();
    }
    return Org{org.id, org.name, org.now};
  });
}

Expected<Org> SqliteStore::GetOrg(const std::string& org_id) {
  std::lock_guard lock(write_mu_);
  auto row = db_->One("SELECT name, created_at FROM organizations WHERE id = ?", org_id);
  if (!row) return row.error();
  if (!*row) return Error::NotFound("no such organization");
  return Org{org_id, (*row)->Text(0), (*row)->At(1)};
}

Expected<Credential> SqliteStore::FindSecretKey(const std::string& key_hash) {
  std::lock_guard lock(write_mu_);
  auto row = db_->One(
      "SELECT org_id, key_id FROM api_keys WHERE key_hash = ? AND revoked_at IS NULL", key_hash);
  if (!row) return row.error();
  if (!*row) return Error{ErrorKind::kUnauthorized, "unknown or revoked secret key"};
  return Credential{(*row)->Text(0), std::nullopt, (*row)->Text(1)};
}

Expected<ApiKeyInfo> SqliteStore::CreateSecretKey(const std::string& org_id,
                                                  const std::string& key_id,
                                                  const std::string& key_hash,
                                                  const std::string& prefix, Time now) {
  return Write<ApiKeyInfo>(Durability::kFull, [&](Db& db) -> Expected<ApiKeyInfo> {
    if (auto r = OrgExists(db, org_id); !r) return r.error();
    if (auto r = db.Run("INSERT INTO api_keys(key_hash, org_id, created_at, key_id, prefix) "
                        "VALUES (?, ?, ?, ?, ?)",
                        key_hash, org_id, now, key_id, prefix);
        !r) {
      return r.error();
    }
    return ApiKeyInfo{key_id, prefix, now, std::nullopt};
  });
}

Expected<Page<ApiKeyInfo>> SqliteStore::ListSecretKeys(const std::string& org_id,
                                                       const PageRequest& page) {
  return Write<Page<ApiKeyInfo>>(Durability::kNormal, [&](Db& db) -> Expected<Page<ApiKeyInfo>> {
    if (auto r = OrgExists(db, org_id); !r) return r.error();
    return ReadPage<ApiKeyInfo>(db, "key_id, prefix, created_at, revoked_at", "api_keys", org_id,
                                page, ReadKeyInfo);
  });
}

Expected<RevokedKey> SqliteStore::RevokeKeyById(const std::string& org_id,
                                                const std::string& key_id, Time now) {
  // kFull: a revocation must survive a power cut like a payment does.
  return Write<RevokedKey>(Durability::kFull, [&](Db& db) -> Expected<RevokedKey> {
    RevokedKey out{key_id, "", now, {}};
    auto key = db.One("SELECT revoked_at, key_hash FROM api_keys WHERE key_id = ? AND org_id = ?",
                      key_id, org_id);
    if (!key) return key.error();
    if (!*key) return Error::NotFound("no key with this id");
    out.key_hash = (*key)->Text(1);
    if (auto revoked = (*key)->OptAt(0)) {
      out.revoked_at = *revoked;
      return out;
    }
    if (auto r = db.Run("UPDATE api_keys SET revoked_at = ? WHERE key_id = ?", now, key_id); !r) {
      return r.error();
    }
    if (auto r = CollectHashes(
            db.All("DELETE FROM sessions WHERE key_id = ? RETURNING token_hash", key_id),
            out.ended_session_hashes);
        !r) {
      return r.error();
    }
    // Sessions minted before sessions recorded their key: any of them may be this key's.
    if (auto r = CollectHashes(
            db.All("DELETE FROM sessions WHERE key_id IS NULL AND org_id = ? RETURNING token_hash",
                   org_id),
            out.ended_session_hashes);
        !r) {
      return r.error();
    }
    return out;
  });
}

ExpectedDone SqliteStore::EndSession(const std::string& token_hash) {
  return Write<Done>(Durability::kNormal, [&](Db& db) -> ExpectedDone {
    if (auto r = db.Run("DELETE FROM sessions WHERE token_hash = ?", token_hash); !r) return r;
    if (db.changes() == 0) return Error::NotFound("no such session");
    return Done{};
  });
}

Expected<PruneResult> SqliteStore::Prune(Time now, int64_t batch, int64_t max_batches) {
  PruneResult out;
  // Each batch is its own short transaction, so requests interleave with a long pass.
  auto pass = [&](const char* sql, Time bound, int64_t& count) -> ExpectedDone {
    for (int64_t i = 0; i < max_batches; ++i) {
      auto n = Write<int64_t>(Durability::kNormal, [&](Db& db) -> Expected<int64_t> {
        if (auto r = db.Run(sql, bound, batch); !r) return r.error();
        return db.changes();
      });
      if (!n) return n.error();
      count += *n;
      if (*n < batch) break;
    }
    return Done{};
  };
  if (auto r = pass("DELETE FROM sessions WHERE rowid IN "
                    "(SELECT rowid FROM sessions WHERE expires_at <= ? LIMIT ?)",
                    now, out.sessions);
      !r) {
    return r.error();
  }
  if (auto r = pass("DELETE FROM usage_events WHERE (org_id, idempotency_key) IN "
                    "(SELECT org_id, idempotency_key FROM usage_events "
                    "WHERE created_at <= ? LIMIT ?)",
                    now - options_.idempotency_ttl, out.idempotency_keys);
      !r) {
    return r.error();
  }
  if (auto r = pass("DELETE FROM reminders_sent WHERE rowid IN "
                    "(SELECT rowid FROM reminders_sent WHERE period_end < ? LIMIT ?)",
                    ReminderKeysPrunedBefore(catalog_, now), out.reminders);
      !r) {
    return r.error();
  }
  // Old events whose deliveries are all finished, oldest first, with their deliveries and
  // attempts: each statement picks the same events (the selection is ordered and nothing
  // else writes inside the transaction).
  const std::string events =
      "SELECT seq FROM webhook_events e WHERE created_at <= ?1 AND "
      "NOT EXISTS (SELECT 1 FROM webhook_deliveries d WHERE "
      "d.event_seq = e.seq AND d.status = 'pending') ORDER BY created_at, seq LIMIT ?2";
  const Time old = now - options_.webhook_retention;
  for (int64_t i = 0; i < max_batches; ++i) {
    auto n = Write<int64_t>(Durability::kNormal, [&](Db& db) -> Expected<int64_t> {
      if (auto r = db.Run("DELETE FROM webhook_attempts WHERE delivery_id IN (SELECT id FROM "
                          "webhook_deliveries WHERE event_seq IN (" +
                              events + "))",
                          old, batch);
          !r) {
        return r.error();
      }
      if (auto r = db.Run("DELETE FROM webhook_deliveries WHERE event_seq IN (" + events + ")", old,
                          batch);
          !r) {
        return r.error();
      }
      if (auto r = db.Run("DELETE FROM webhook_events WHERE seq IN (" + events + ")", old, batch);
          !r) {
        return r.error();
      }
      return db.changes();
    });
    if (!n) return n.error();
    out.webhook_events += *n;
    if (*n < batch) break;
  }
  return out;
}

ExpectedDone SqliteStore::RevokeSecretKey(const std::string& key_hash, Time now) {
  return Write<Done>(Durability::kNormal, [&](Db& db) -> ExpectedDone {
    if (auto r =
            db.Run("UPDATE api_keys SET revoked_at = ? WHERE key_hash = ? AND revoked_at IS NULL",
                   now, key_hash);
        !r) {
      return r;
    }
    if (db.changes() == 0) return Error::NotFound("no such live secret key");
    return Done{};
  });
}

Expected<Credential> SqliteStore::FindSession(const std::string& token_hash, Time now) {
  std::lock_guard lock(write_mu_);
  auto row =
      db_->One("SELECT org_id, expires_at FROM sessions WHERE token_hash = ? AND expires_at > ?",
               token_hash, now);
  if (!row) return row.error();
  if (!*row) return Error{ErrorKind::kUnauthorized, "unknown or expired session token"};
  return Credential{(*row)->Text(0), (*row)->At(1)};
}

// --- organization-scoped calls ---

Expected<std::vector<std::string>> SqliteStore::CreateSession(const std::string& org_id,
                                                              const std::string& key_id,
                                                              const std::string& token_hash,
                                                              Time expires_at, Time now) {
  using Hashes = std::vector<std::string>;
  return OrgCall<Hashes>(org_id, now, [&](Db& db, UsageState&) -> Expected<Hashes> {
    if (auto r = db.Run("INSERT INTO sessions(token_hash, org_id, created_at, expires_at, key_id) "
                        "VALUES (?, ?, ?, ?, ?)",
                        token_hash, org_id, now, expires_at, key_id);
        !r) {
      return r.error();
    }
    // Past the cap the oldest sessions of this key end (sessions_key index, newest first).
    Hashes ended;
    if (auto r = CollectHashes(
            db.All("DELETE FROM sessions WHERE rowid IN (SELECT rowid FROM sessions WHERE "
                   "key_id = ? ORDER BY created_at DESC, rowid DESC LIMIT -1 OFFSET ?) "
                   "RETURNING token_hash",
                   key_id, options_.sessions_per_key),
            ended);
        !r) {
      return r.error();
    }
    return ended;
  });
}

Expected<UsageState> SqliteStore::ReadUsage(const std::string& org_id, Time now) {
  return OrgCall<UsageState>(org_id, now,
                             [](Db&, UsageState& state) -> Expected<UsageState> { return state; });
}

Expected<Invoice> SqliteStore::CreateInvoice(const std::string& org_id, const Invoice& invoice,
                                             Time now) {
  return CreateCounted<Invoice>(org_id, kInvoices, now, [&](Db& db) -> Expected<Invoice> {
    if (invoice.customer_id) {
      auto row =
          db.One("SELECT 1 FROM customers WHERE id = ? AND org_id = ? AND deleted_at IS NULL",
                 *invoice.customer_id, org_id);
      if (!row) return row.error();
      if (!*row) return Error::Validation("customer_id", "no customer with this id");
    }
    if (auto r = db.Run(
            "INSERT INTO invoices(id, org_id, amount_paisa, customer_id, description, created_at) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            invoice.id, org_id, invoice.amount_paisa, invoice.customer_id, invoice.description,
            now);
        !r) {
      return r.error();
    }
    Invoice out = invoice;
    out.created_at = now;
    return out;
  });
}

Expected<Customer> SqliteStore::CreateCustomer(const std::string& org_id, const Customer& customer,
                                               Time now) {
  return CreateCounted<Customer>(org_id, kCustomers, now, [&](Db& db) -> Expected<Customer> {
    if (auto r = db.Run(
            "INSERT INTO customers(id, org_id, name, email, created_at) VALUES (?, ?, ?, ?, ?)",
            customer.id, org_id, customer.name, customer.email, now);
        !r) {
      return r.error();
    }
    Customer out = customer;
    out.created_at = now;
    return out;
  });
}

Expected<TeamMember> SqliteStore::CreateTeamMember(const std::string& org_id,
                                                   const TeamMember& member, Time now) {
  return CreateCounted<TeamMember>(org_id, kTeamMembers, now, [&](Db& db) -> Expected<TeamMember> {
    const std::string key = AsciiLower(member.email);
    auto same =
        db.One("SELECT 1 FROM team_members WHERE org_id = ? AND email_key = ?", org_id, key);
    if (!same) return same.error();
    if (*same) return Error::Conflict("a team member with this e-mail already exists");
    if (auto r = db.Run("INSERT INTO team_members(id, org_id, email, email_key, name, created_at) "
                        "VALUES (?, ?, ?, ?, ?, ?)",
                        member.id, org_id, member.email, key, member.name, now);
        !r) {
      return r.error();
    }
    TeamMember out = member;
    out.created_at = now;
    return out;
  });
}

Expected<Page<Invoice>> SqliteStore::ListInvoices(const std::string& org_id,
                                                  const PageRequest& page, Time now) {
  return OrgCall<Page<Invoice>>(org_id, now, [&](Db& db, UsageState&) {
    return ReadPage<Invoice>(db, "id, amount_paisa, customer_id, description, created_at",
                             "invoices", org_id, page, ReadInvoice);
  });
}

Expected<Page<Customer>> SqliteStore::ListCustomers(const std::string& org_id,
                                                    const PageRequest& page, Time now) {
  return OrgCall<Page<Customer>>(org_id, now, [&](Db& db, UsageState&) {
    return ReadPage<Customer>(db, "id, name, email, created_at", "customers", org_id, page,
                              ReadCustomer, " AND deleted_at IS NULL");
  });
}

Expected<Page<TeamMember>> SqliteStore::ListTeamMembers(const std::string& org_id,
                                                        const PageRequest& page, Time now) {
  return OrgCall<Page<TeamMember>>(org_id, now, [&](Db& db, UsageState&) {
    return ReadPage<TeamMember>(db, "id, email, name, created_at", "team_members", org_id, page,
                                ReadTeamMember);
  });
}

Expected<Invoice> SqliteStore::GetInvoice(const std::string& org_id, const std::string& id,
                                          Time now) {
  return OrgCall<Invoice>(org_id, now, [&](Db& db, UsageState&) {
    return ReadOne<Invoice>(db,
                            "SELECT id, amount_paisa, customer_id, description, created_at "
                            "FROM invoices WHERE id = ? AND org_id = ?",
                            org_id, id, "invoice", ReadInvoice);
  });
}

Expected<Customer> SqliteStore::GetCustomer(const std::string& org_id, const std::string& id,
                                            Time now) {
  return OrgCall<Customer>(org_id, now, [&](Db& db, UsageState&) {
    return ReadOne<Customer>(db,
                             "SELECT id, name, email, created_at FROM customers "
                             "WHERE id = ? AND org_id = ? AND deleted_at IS NULL",
                             org_id, id, "customer", ReadCustomer);
  });
}

Expected<TeamMember> SqliteStore::GetTeamMember(const std::string& org_id, const std::string& id,
                                                Time now) {
  return OrgCall<TeamMember>(org_id, now, [&](Db& db, UsageState&) {
    return ReadOne<TeamMember>(db,
                               "SELECT id, email, name, created_at FROM team_members "
                               "WHERE id = ? AND org_id = ?",
                               org_id, id, "team member", ReadTeamMember);
  });
}

ExpectedDone SqliteStore::DeleteCustomer(const std::string& org_id, const std::string& id,
                                         Time now) {
  // Softly when invoices name the customer (they keep naming it); otherwise the row goes, so
  // creating and deleting customers in a loop cannot grow the table.
  return DeleteCounted(org_id, kCustomers, "customer", now, [&](Db& db) -> ExpectedDone {
    auto soft = db.Run(
        "UPDATE customers SET deleted_at = ? WHERE id = ? AND org_id = ? AND deleted_at IS NULL "
        "AND EXISTS (SELECT 1 FROM invoices WHERE org_id = ? AND customer_id = ?)",
        now, id, org_id, org_id, id);
    if (!soft || db.changes() > 0) return soft;
    return db.Run("DELETE FROM customers WHERE id = ? AND org_id = ? AND deleted_at IS NULL", id,
                  org_id);
  });
}

ExpectedDone SqliteStore::DeleteTeamMember(const std::string& org_id, const std::string& id,
                                           Time now) {
  return DeleteCounted(org_id, kTeamMembers, "team member", now, [&](Db& db) {
    return db.Run("DELETE FROM team_members WHERE id = ? AND org_id = ?", id, org_id);
  });
}

Expected<MeterResult> SqliteStore::RecordUsage(const std::string& org_id, const MeterRequest& req,
                                               Time now) {
  auto feature = MeteredFeature(catalog_, req);
  if (!feature) return feature.error();
  const Feature& f = *feature.value();
  return OrgCall<MeterResult>(org_id, now, [&](Db& db, UsageState& state) -> Expected<MeterResult> {
    if (req.idempotency_key) {
      // A key older than the TTL is forgotten: the call counts again (and replaces it below).
      auto row = db.One("SELECT " + std::string(kMeterEventColumns) +
                            " FROM usage_events "
                            "WHERE org_id = ? AND idempotency_key = ? AND created_at > ?",
                        org_id, *req.idempotency_key, now - options_.idempotency_ttl);
      if (!row) return row.error();
      if (*row) {
        const Row& r = **row;
        MeterResult first = ReadMeterEventRow(r, f.kind);
        if (auto same = SameRequest(first, req); !same) return same.error();
        return first;
      }
    }
    // A release is always allowed: decided for one more only to name the plan and limit.
    const bool release = req.quantity < 0;
    auto decided =
        release ? Decide(state, req.feature, 1, now) : Gate(state, req.feature, req.quantity, now);
    if (!decided) return decided.error();
    if (!decided->has_value()) return Error::NotFound("no feature in the catalog");
    if (f.counted()) {
      if (auto r = Count(db, org_id, state, req.feature, req.quantity); !r) return r.error();
    }
    MeterResult out = MeterAnswer(f, req, **decided, state.usage[req.feature]);
    if (req.idempotency_key) {
      const OverrideCells o = ToOverrideCells(out.override);
      if (auto r = db.Run(
              "INSERT INTO usage_events(org_id, idempotency_key, feature, quantity, plan, used, "
              "limit_wire, over, created_at, override_limit, override_plan, override_until) "
              "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
              "ON CONFLICT(org_id, idempotency_key) DO UPDATE SET feature = excluded.feature, "
              "quantity = excluded.quantity, plan = excluded.plan, used = excluded.used, "
              "limit_wire = excluded.limit_wire, over = excluded.over, "
              "created_at = excluded.created_at, override_limit = excluded.override_limit, "
              "override_plan = excluded.override_plan, override_until = excluded.override_until",
              org_id, *req.idempotency_key, out.feature, out.quantity, out.plan, out.used,
              LimitToWire(out.limit), out.over, now, o.limit, o.plan, o.until);
          !r) {
        return r.error();
      }
    }
    return out;
  });
}

// --- per-organization overrides ---

namespace {

// The override of `feature` stored for the organization, if any.
Expected<std::optional<StoredOverride>> FindOverride(Db& db, const std::string& org_id,
                                                     const std::string& feature) {
  auto row = db.One("SELECT " + std::string(kOverrideColumns) +
                        " FROM overrides WHERE org_id = ? AND feature = ?",
                    org_id, feature);
  if (!row) return row.error();
  if (!*row) return std::optional<StoredOverride>();
  return std::optional<StoredOverride>(ReadStoredOverrideRow(**row));
}

// Records one change of an override in override_changes.
ExpectedDone AuditOverride(Db& db, const std::string& org_id, const std::string& feature,
                           const std::optional<Override>& before,
                           const std::optional<Override>& after, const std::string& reason,
                           Time now) {
  const OverrideCells was = ToOverrideCells(before), is = ToOverrideCells(after);
  return db.Run(
      "INSERT INTO override_changes(org_id, feature, at, reason, before_limit, before_plan, "
      "before_until, after_limit, after_plan, after_until) "
      "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
      org_id, feature, now, reason, was.limit, was.plan, was.until, is.limit, is.plan, is.until);
}

}  // namespace

Expected<StoredOverride> SqliteStore::SetOverride(const std::string& org_id, const Override& o,
                                                  const std::string& reason, Time now) {
  return Write<StoredOverride>(Durability::kFull, [&](Db& db) -> Expected<StoredOverride> {
    if (auto r = OrgExists(db, org_id); !r) return r.error();
    auto before = FindOverride(db, org_id, o.feature);
    if (!before) return before.error();
    if (auto r = db.Run(
            "INSERT INTO overrides(org_id, feature, limit_wire, plan, until_at, reason, "
            "updated_at) VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT(org_id, feature) DO UPDATE "
            "SET limit_wire = excluded.limit_wire, plan = excluded.plan, "
            "until_at = excluded.until_at, reason = excluded.reason, "
            "updated_at = excluded.updated_at",
            org_id, o.feature, LimitToWire(o.limit), o.plan, o.until, reason, now);
        !r) {
      return r.error();
    }
    std::optional<Override> was;
    if (*before) was = (*before)->value;
    if (auto r = AuditOverride(db, org_id, o.feature, was, o, reason, now); !r) return r.error();
    return StoredOverride{o, reason, now};
  });
}

ExpectedDone SqliteStore::ClearOverride(const std::string& org_id, const std::string& feature,
                                        const std::string& reason, Time now) {
  return Write<Done>(Durability::kFull, [&](Db& db) -> ExpectedDone {
    if (auto r = OrgExists(db, org_id); !r) return r;
    auto before = FindOverride(db, org_id, feature);
    if (!before) return before.error();
    if (!*before) {
      return Error::NotFound("no override of \"" + feature + "\" for this organization");
    }
    if (auto r = db.Run("DELETE FROM overrides WHERE org_id = ? AND feature = ?", org_id, feature);
        !r) {
      return r;
    }
    return AuditOverride(db, org_id, feature, (*before)->value, std::nullopt, reason, now);
  });
}

Expected<OverridesView> SqliteStore::ListOverrides(const std::string& org_id) {
  return Write<OverridesView>(Durability::kNormal, [&](Db& db) -> Expected<OverridesView> {
    if (auto r = OrgExists(db, org_id); !r) return r.error();
    OverridesView out;
    auto items = db.All("SELECT " + std::string(kOverrideColumns) +
                            " FROM overrides WHERE org_id = ? ORDER BY feature",
                        org_id);
    if (!items) return items.error();
    for (const Row& r : *items) out.overrides.push_back(ReadStoredOverrideRow(r));
    auto history = db.All("SELECT " + std::string(kOverrideChangeColumns) +
                              " FROM override_changes WHERE org_id = ? ORDER BY id DESC LIMIT 100",
                          org_id);
    if (!history) return history.error();
    for (const Row& r : *history) out.history.push_back(ReadOverrideChangeRow(r));
    return out;
  });
}

ExpectedDone SqliteStore::CheckHealth() {
  return Write<Done>(Durability::kNormal, [](sqlite::Db& db) -> Expected<Done> {
    int moved = 0;
    if (sqlite3_file_control(db.get(), "main", SQLITE_FCNTL_HAS_MOVED, &moved) == SQLITE_OK &&
        moved != 0) {
      return Error{ErrorKind::kUnavailable, "the database file was moved or removed"};
    }
    const char* path = sqlite3_db_filename(db.get(), "main");
    if (path != nullptr && *path != '\0' && ::access(path, W_OK) != 0) {
      return Error{ErrorKind::kUnavailable, "the database file is not writable"};
    }
    auto id = db.QueryInt("PRAGMA application_id");
    if (!id) return id.error();
    if (auto w = db.Exec("PRAGMA application_id = " + std::to_string(*id)); !w) return w.error();
    return Done{};
  });
}

// --- the subscription's lifecycle ---

Expected<Subscription> SqliteStore::GetSubscription(const std::string& org_id, Time now) {
  return OrgCall<Subscription>(org_id, now, [](Db&, UsageState& state) -> Expected<Subscription> {
    return state.subscription;
  });
}

Expected<Subscription> SqliteStore::ChangeSubscription(const std::string& org_id, ChangeKind kind,
                                                       const std::string& plan, Time now) {
  // One writer at a time: a payment settling meanwhile sees the change or not, never half.
  return OrgCall<Subscription>(
      org_id, now,
      [&](Db& db, UsageState& state) -> Expected<Subscription> {
        auto changed = ScheduleChange(catalog_, state.subscription, kind, plan, now);
        if (!changed) return Error::FromStatus(changed.status());
        if (auto r = SaveSubscription(db, org_id, *changed, now); !r) return r.error();
        const webhook::NewEvent e =
            webhook::ChangeEvent(catalog_, state.subscription, *changed, kind, now);
        if (auto r = AppendEvent(db, org_id, e.type, e.data, now); !r) return r.error();
        return std::move(changed).value();
      },
      Durability::kFull);
}

Expected<Subscription> SqliteStore::GrantTrial(const std::string& org_id, const std::string& plan,
                                               int days, Time now) {
  return Write<Subscription>(Durability::kFull, [&](Db& db) -> Expected<Subscription> {
    auto before = LoadSubscription(db, org_id);
    if (!before) return before.error();
    auto trial = GrantTrialChange(catalog_, *before, plan, days, now);
    if (!trial) return trial.error();
    if (auto r = SaveActivation(db, org_id, trial->subscription, trial->reset_usage_from,
                                trial->change, std::nullopt, now);
        !r) {
      return r.error();
    }
    const webhook::NewEvent e =
        webhook::TrialEvent(catalog_, trial->subscription, trial->change, now);
    if (auto r = AppendEvent(db, org_id, e.type, e.data, now); !r) return r.error();
    return trial->subscription;
  });
}

Expected<std::vector<std::string>> SqliteStore::ReminderCandidates(Time now,
                                                                   const std::string& after_org_id,
                                                                   int64_t limit) {
  if (limit <= 0) return std::vector<std::string>();  // SQLite reads LIMIT -1 as "all"
  const ReminderEnds window = ReminderEndsAt(catalog_, now);
  std::lock_guard lock(write_mu_);
  auto rows =
      db_->All(std::string(kReminderCandidatesSql), after_org_id, window.from, window.to, limit);
  if (!rows) return rows.error();
  std::vector<std::string> out;
  out.reserve(rows->size());
  for (const Row& r : *rows) out.push_back(r.Text(0));
  return out;
}

Expected<std::optional<SentReminder>> SqliteStore::SendDueReminder(const std::string& org_id,
                                                                   Time now,
                                                                   const ComposeReminder& compose) {
  using Sent = std::optional<SentReminder>;
  // Inside the write transaction, which no other writer on this database shares (BEGIN
  // IMMEDIATE): the keys read here are all there are until the commit.
  return Write<Sent>(Durability::kFull, [&](Db& db) -> Expected<Sent> {
    auto org = db.One("SELECT billing_email FROM organizations WHERE id = ?", org_id);
    if (!org) return org.error();
    if (!*org) return Error::NotFound("no such organization");
    const std::optional<std::string> email = (*org)->OptText(0);
    auto sub = LoadSubscription(db, org_id);
    if (!sub) return sub.error();
    auto keys = db.All("SELECT key FROM reminders_sent WHERE org_id = ?", org_id);
    if (!keys) return keys.error();
    std::set<std::string, std::less<>> sent;
    for (const Row& r : *keys) sent.insert(r.Text(0));
    std::optional<Reminder> due = DueReminder(catalog_, *sub, now, sent);
    if (!due) return Sent();
    if (auto r =
            db.Run("INSERT INTO reminders_sent(org_id, key, kind, period_end, sent_at, "
                   "emailed) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT(org_id, key) DO NOTHING",
                   org_id, due->key, to_string(due->kind), due->period_end, now, email.has_value());
        !r) {
      return r.error();
    }
    if (db.changes() == 0) return Sent();  // another sender was first
    // The event goes with the key, whether or not there is an address to e-mail.
    const webhook::NewEvent event = webhook::ReminderEvent(catalog_, *sub, *due, now);
    if (auto r = AppendEvent(db, org_id, event.type, event.data, now); !r) return r.error();
    if (email) {
      const ReminderMail mail = compose(org_id, *email, *sub, *due);
      if (auto r = db.Run("INSERT INTO outbox(org_id, payment_id, message_id, to_addr, subject, "
                          "body, created_at, next_attempt_at) VALUES (?, NULL, ?, ?, ?, ?, ?, ?) "
                          "ON CONFLICT(message_id) DO NOTHING",
                          org_id, ReminderMessageId(org_id, due->key), mail.to, mail.subject,
                          mail.body, now, now);
          !r) {
        return r.error();
      }
    }
    return Sent(SentReminder{std::move(due).value(), email.has_value()});
  });
}

Expected<std::string> SqliteStore::PayLinkSecret(const std::string& candidate) {
  return Write<std::string>(Durability::kFull, [&](Db& db) -> Expected<std::string> {
    if (candidate.empty()) return Error::Internal("an empty pay-link secret cannot be stored");
    if (auto r = db.Run(
            "INSERT INTO server_secrets(name, value) VALUES ('pay_link', ?) ON CONFLICT DO NOTHING",
            candidate);
        !r) {
      return r.error();
    }
    auto row = db.One("SELECT value FROM server_secrets WHERE name = 'pay_link'");
    if (!row) return row.error();
    if (!*row) return Error::Internal("the pay-link secret was not stored");
    return (*row)->Text(0);
  });
}

}  // namespace sima::server

namespace sima::server {

// The reader path (as FindSession): no job in the write queue, no transaction of its own.
// Every write of this process commits while holding write_mu_, so the statements read here
// all see the same committed state; nothing is counted.
Expected<UsageState> SqliteStore::PeekUsage(const std::string& org_id, Time now) {
  std::lock_guard lock(write_mu_);
  return LoadUsage(*db_, org_id, now);
}

// One instance per SQLite file: nobody else to tell.
ExpectedDone SqliteStore::AnnounceChange(const std::string&) { return Done{}; }
ExpectedDone SqliteStore::WatchChanges(std::function<void(const std::string&)>) { return Done{}; }

}  // namespace sima::server
