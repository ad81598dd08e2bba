#include "sqlite_store.h"

#include <sqlite3.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdint>

#include "migrations.h"
#include "sima/json.h"
#include "sima/text.h"

namespace sima::server {
namespace {

using sqlite::Db;

int64_t Secs(Time t) { return t.time_since_epoch().count(); }
Time FromSecs(int64_t s) { return Time{std::chrono::seconds{s}}; }

// Settings of every connection. busy_timeout covers other processes (a backup, the sqlite3
// shell); within this process writes are serialized before they reach SQLite.
constexpr std::string_view kPragmas =
    "PRAGMA journal_mode=WAL;"
    "PRAGMA synchronous=NORMAL;"
    "PRAGMA foreign_keys=ON;"
    "PRAGMA busy_timeout=5000;"
    "PRAGMA cache_size=-32768;"
    "PRAGMA temp_store=MEMORY;";

Invoice ReadInvoice(const sqlite::Stmt& s) {
  Invoice inv;
  inv.id = s.Text(0);
  inv.amount_paisa = s.Int(1);
  if (!s.IsNull(2)) inv.customer_id = s.Text(2);
  inv.description = s.Text(3);
  inv.created_at = FromSecs(s.Int(4));
  return inv;
}

Customer ReadCustomer(const sqlite::Stmt& s) {
  return {s.Text(0), s.Text(1), s.Text(2), FromSecs(s.Int(3))};
}

TeamMember ReadTeamMember(const sqlite::Stmt& s) {
  return {s.Text(0), s.Text(1), s.Text(2), FromSecs(s.Int(3))};
}

// Runs a query and reads every row with `read`.
template <typename T, typename R>
Expected<std::vector<T>> ReadAll(Db& db, const std::string& sql, const std::string& org_id,
                                 int64_t limit, R read) {
  auto q = db.Prepare(sql);
  if (!q) return q.error();
  (*q)->Bind(1, org_id).Bind(2, limit);
  std::vector<T> out;
  for (;;) {
    auto row = (*q)->Step();
    if (!row) return row.error();
    if (!*row) break;
    out.push_back(read(**q));
  }
  return out;
}

// One page of an organization's list, newest first by (created_at, rowid). `columns` are read
// by `read`; created_at and rowid follow them. Reads one row more than asked to know whether
// another page exists.
template <typename T, typename R>
Expected<Page<T>> ReadPage(Db& db, std::string_view columns, std::string_view table,
                           const std::string& org_id, const PageRequest& page, R read) {
  std::string sql = "SELECT " + std::string(columns) + ", created_at, rowid FROM " +
                    std::string(table) + " WHERE org_id = ?";
  if (page.after) sql += " AND (created_at, rowid) < (?, ?)";
  sql += " ORDER BY created_at DESC, rowid DESC LIMIT ?";
  auto q = db.Prepare(sql);
  if (!q) return q.error();
  (*q)->Bind(1, org_id);
  if (page.after) {
    (*q)->Bind(2, page.after->at).Bind(3, page.after->row).Bind(4, page.limit + 1);
  } else {
    (*q)->Bind(2, page.limit + 1);
  }
  Page<T> out;
  std::optional<PageKey> last;
  for (;;) {
    auto row = (*q)->Step();
    if (!row) return row.error();
    if (!*row) break;
    if (static_cast<int64_t>(out.items.size()) == page.limit) {
      out.next = last;
      break;
    }
    out.items.push_back(read(**q));
    const int n = sqlite3_column_count((*q)->get());
    last = PageKey{(*q)->Int(n - 2), (*q)->Int(n - 1)};
  }
  return out;
}

ApiKeyInfo ReadKeyInfo(const sqlite::Stmt& s) {
  ApiKeyInfo k;
  k.key_id = s.Text(0);
  k.prefix = s.IsNull(1) ? "sk_" : s.Text(1);
  k.created_at = FromSecs(s.Int(2));
  if (!s.IsNull(3)) k.revoked_at = FromSecs(s.Int(3));
  return k;
}

// Deletes with `sql` (a DELETE ... RETURNING token_hash) and collects the hashes.
ExpectedDone CollectHashes(sqlite::Stmt& q, std::vector<std::string>& out) {
  for (;;) {
    auto row = q.Step();
    if (!row) return row.error();
    if (!*row) return Done{};
    out.push_back(q.Text(0));
  }
}

template <typename T, typename R>
Expected<T> ReadOne(Db& db, const std::string& sql, const std::string& org_id,
                    const std::string& id, std::string_view what, R read) {
  auto q = db.Prepare(sql);
  if (!q) return q.error();
  (*q)->Bind(1, id).Bind(2, org_id);
  auto row = (*q)->Step();
  if (!row) return row.error();
  if (!*row) return Error::NotFound("no " + std::string(what) + " with this id");
  return read(**q);
}

}  // namespace

Expected<std::unique_ptr<SqliteStore>> SqliteStore::Open(const Options& options,
                                                         const Catalog& catalog) {
  auto db = Db::Open(options.path);
  if (!db) return db.error();
  if (auto r = (*db)->Exec(kPragmas); !r) return r.error();
  {
    auto mode = (*db)->Prepare("PRAGMA journal_mode");
    if (!mode) return mode.error();
    if (auto row = (*mode)->Step(); !row || !*row || (*mode)->Text(0) != "wal") {
      return Error::Internal("cannot switch \"" + options.path + "\" to WAL mode");
    }
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
  auto step = [&](const char* sql) -> ExpectedDone {
    auto q = db.Prepare(sql);
    if (!q) return q.error();
    return (*q)->Run();
  };
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
  {
    auto q = db.Prepare("SELECT plan, start_at, end_at FROM subscriptions WHERE org_id = ?");
    if (!q) return q.error();
    (*q)->Bind(1, org_id);
    auto row = (*q)->Step();
    if (!row) return row.error();
    if (!*row) return Error::NotFound("no such organization");
    state.subscription.plan = (*q)->Text(0);
    state.subscription.start = FromSecs((*q)->Int(1));
    if (!(*q)->IsNull(2)) state.subscription.end = FromSecs((*q)->Int(2));
  }
  state.period = CurrentPeriod(state.subscription, catalog_.period_days(), now);
  auto q =
      db.Prepare("SELECT feature, used FROM usage_counters WHERE org_id = ? AND period_start = ?");
  if (!q) return q.error();
  (*q)->Bind(1, org_id).Bind(2, Secs(state.period.start));
  for (;;) {
    auto row = (*q)->Step();
    if (!row) return row.error();
    if (!*row) break;
    state.usage[(*q)->Text(0)] = (*q)->Int(1);
  }
  return state;
}

ExpectedDone SqliteStore::Count(Db& db, const std::string& org_id, UsageState& state,
                                std::string_view feature, int64_t n) {
  int64_t& used = state.usage[std::string(feature)];
  if (used > INT64_MAX - n) return Error::Conflict("the usage counter would overflow");
  auto q = db.Prepare(
      "INSERT INTO usage_counters(org_id, period_start, feature, used) VALUES (?, ?, ?, ?) "
      "ON CONFLICT(org_id, period_start, feature) DO UPDATE SET used = used + excluded.used");
  if (!q) return q.error();
  (*q)->Bind(1, org_id).Bind(2, Secs(state.period.start)).Bind(3, feature).Bind(4, n);
  if (auto r = (*q)->Run(); !r) return r;
  used += n;
  return Done{};
}

Expected<std::optional<Decision>> SqliteStore::Gate(const UsageState& state,
                                                    std::string_view feature, int64_t n,
                                                    Time now) const {
  if (!catalog_.FeatureIndex(feature)) return std::optional<Decision>();
  auto d = Check(catalog_, state.subscription, now, state.usage, feature, n);
  if (!d) return Error::FromStatus(d.status());
  if (!d->allowed) return Error::LimitReached(*d);
  return std::optional<Decision>(d.value());
}

ExpectedDone SqliteStore::CountCall(Db& db, const std::string& org_id, UsageState& state,
                                    Time now) {
  auto gate = Gate(state, kApiCalls, 1, now);
  if (!gate) return gate.error();
  if (!gate->has_value()) return Done{};
  return Count(db, org_id, state, kApiCalls, 1);
}

ExpectedDone SqliteStore::SaveSubscription(Db& db, const std::string& org_id,
                                           const Subscription& sub, Time now) {
  auto q = db.Prepare(
      "UPDATE subscriptions SET plan = ?, start_at = ?, end_at = ?, updated_at = ? "
      "WHERE org_id = ?");
  if (!q) return q.error();
  (*q)->Bind(1, sub.plan).Bind(2, Secs(sub.start));
  if (sub.end) {
    (*q)->Bind(3, Secs(*sub.end));
  } else {
    (*q)->BindNull(3);
  }
  (*q)->Bind(4, Secs(now)).Bind(5, org_id);
  if (auto r = (*q)->Run(); !r) return r;
  if (db.changes() == 0) return Error::NotFound("no such organization");
  return Done{};
}

template <typename T, typename F>
Expected<T> SqliteStore::OrgCall(const std::string& org_id, Time now, F&& body) {
  return Write<T>(Durability::kNormal, [&](Db& db) -> Expected<T> {
    auto state = LoadUsage(db, org_id, now);
    if (!state) return state.error();
    if (auto r = CountCall(db, org_id, state.value(), now); !r) return r.error();
    return body(db, state.value());
  });
}

template <typename T, typename F>
Expected<T> SqliteStore::CreateMetered(const std::string& org_id, std::string_view feature,
                                       Time now, F&& insert) {
  return OrgCall<T>(org_id, now, [&](Db& db, UsageState& state) -> Expected<T> {
    auto gate = Gate(state, feature, 1, now);
    if (!gate) return gate.error();
    auto created = insert(db);
    if (!created) return created;
    if (gate->has_value()) {
      if (auto r = Count(db, org_id, state, feature, 1); !r) return r.error();
    }
    return created;
  });
}

// --- organizations and credentials ---

Expected<Org> SqliteStore::CreateOrg(const NewOrg& org) {
  return Write<Org>(Durability::kNormal, [&](Db& db) -> Expected<Org> {
    {
      auto q = db.Prepare(
          "INSERT INTO organizations(id, name, created_at, billing_email) VALUES (?, ?, ?, ?)");
      if (!q) return q.error();
      (*q)->Bind(1, org.id).Bind(2, org.name).Bind(3, Secs(org.now));
      (*q)->BindOptional(4, org.billing_email);
      if (auto r = (*q)->Run(); !r) return r.error();
    }
    {
      auto q = db.Prepare(
          "INSERT INTO subscriptions(org_id, plan, start_at, end_at, updated_at) "
          "VALUES (?, ?, ?, ?, ?)");
      if (!q) return q.error();
      (*q)->Bind(1, org.id).Bind(2, org.subscription.plan).Bind(3, Secs(org.subscription.start));
      if (org.subscription.end) {
        (*q)->Bind(4, Secs(*org.subscription.end));
      } else {
        (*q)->BindNull(4);
      }
      (*q)->Bind(5, Secs(org.now));
      if (auto r = (*q)->Run(); !r) return r.error();
    }
    {
      auto q = db.Prepare(
          "INSERT INTO api_keys(key_hash, org_id, created_at, key_id, prefix) VALUES (?, ?, ?, "
          "COALESCE(NULLIF(?, ''), 'key_' || lower(hex(randomblob(10)))), NULLIF(?, ''))");
      if (!q) return q.error();
      (*q)->Bind(1, org.key_hash).Bind(2, org.id).Bind(3, Secs(org.now));
      (*q)->Bind(4, org.key_id).Bind(5, org.key_prefix);
      if (auto r = (*q)->Run(); !r) return r.error();
    }
    return Org{org.id, org.name, org.now};
  });
}

Expected<Credential> SqliteStore::FindSecretKey(const std::string& key_hash) {
  std::lock_guard lock(write_mu_);
  auto q =
      db_->Prepare("SELECT org_id, key_id FROM api_keys WHERE key_hash = ? AND revoked_at IS NULL");
  if (!q) return q.error();
  (*q)->Bind(1, key_hash);
  auto row = (*q)->Step();
  if (!row) return row.error();
  if (!*row) return Error{ErrorKind::kUnauthorized, "unknown or revoked secret key"};
  return Credential{(*q)->Text(0), std::nullopt, (*q)->Text(1)};
}

Expected<ApiKeyInfo> SqliteStore::CreateSecretKey(const std::string& org_id,
                                                  const std::string& key_id,
                                                  const std::string& key_hash,
                                                  const std::string& prefix, Time now) {
  return Write<ApiKeyInfo>(Durability::kFull, [&](Db& db) -> Expected<ApiKeyInfo> {
    {
      auto q = db.Prepare("SELECT 1 FROM organizations WHERE id = ?");
      if (!q) return q.error();
      (*q)->Bind(1, org_id);
      auto row = (*q)->Step();
      if (!row) return row.error();
      if (!*row) return Error::NotFound("no such organization");
    }
    auto q = db.Prepare(
        "INSERT INTO api_keys(key_hash, org_id, created_at, key_id, prefix) "
        "VALUES (?, ?, ?, ?, ?)");
    if (!q) return q.error();
    (*q)->Bind(1, key_hash).Bind(2, org_id).Bind(3, Secs(now)).Bind(4, key_id).Bind(5, prefix);
    if (auto r = (*q)->Run(); !r) return r.error();
    return ApiKeyInfo{key_id, prefix, now, std::nullopt};
  });
}

Expected<Page<ApiKeyInfo>> SqliteStore::ListSecretKeys(const std::string& org_id,
                                                       const PageRequest& page) {
  return Write<Page<ApiKeyInfo>>(Durability::kNormal, [&](Db& db) -> Expected<Page<ApiKeyInfo>> {
    auto q = db.Prepare("SELECT 1 FROM organizations WHERE id = ?");
    if (!q) return q.error();
    (*q)->Bind(1, org_id);
    auto row = (*q)->Step();
    if (!row) return row.error();
    if (!*row) return Error::NotFound("no such organization");
    return ReadPage<ApiKeyInfo>(db, "key_id, prefix, created_at, revoked_at", "api_keys", org_id,
                                page, ReadKeyInfo);
  });
}

Expected<RevokedKey> SqliteStore::RevokeKeyById(const std::string& org_id,
                                                const std::string& key_id, Time now) {
  // kFull: a revocation must survive a power cut like a payment does.
  return Write<RevokedKey>(Durability::kFull, [&](Db& db) -> Expected<RevokedKey> {
    RevokedKey out{key_id, "", now, {}};
    {
      auto q =
          db.Prepare("SELECT revoked_at, key_hash FROM api_keys WHERE key_id = ? AND org_id = ?");
      if (!q) return q.error();
      (*q)->Bind(1, key_id).Bind(2, org_id);
      auto row = (*q)->Step();
      if (!row) return row.error();
      if (!*row) return Error::NotFound("no key with this id");
      out.key_hash = (*q)->Text(1);
      if (!(*q)->IsNull(0)) {
        out.revoked_at = FromSecs((*q)->Int(0));
        return out;
      }
    }
    {
      auto q = db.Prepare("UPDATE api_keys SET revoked_at = ? WHERE key_id = ?");
      if (!q) return q.error();
      (*q)->Bind(1, Secs(now)).Bind(2, key_id);
      if (auto r = (*q)->Run(); !r) return r.error();
    }
    {
      auto q = db.Prepare("DELETE FROM sessions WHERE key_id = ? RETURNING token_hash");
      if (!q) return q.error();
      (*q)->Bind(1, key_id);
      if (auto r = CollectHashes(**q, out.ended_session_hashes); !r) return r.error();
    }
    // Sessions minted before sessions recorded their key: any of them may be this key's.
    auto q =
        db.Prepare("DELETE FROM sessions WHERE key_id IS NULL AND org_id = ? RETURNING token_hash");
    if (!q) return q.error();
    (*q)->Bind(1, org_id);
    if (auto r = CollectHashes(**q, out.ended_session_hashes); !r) return r.error();
    return out;
  });
}

ExpectedDone SqliteStore::EndSession(const std::string& token_hash) {
  return Write<Done>(Durability::kNormal, [&](Db& db) -> ExpectedDone {
    auto q = db.Prepare("DELETE FROM sessions WHERE token_hash = ?");
    if (!q) return q.error();
    (*q)->Bind(1, token_hash);
    if (auto r = (*q)->Run(); !r) return r;
    if (db.changes() == 0) return Error::NotFound("no such session");
    return Done{};
  });
}

Expected<PruneResult> SqliteStore::Prune(Time now, int64_t batch, int64_t max_batches) {
  PruneResult out;
  // Each batch is its own short transaction, so requests interleave with a long pass.
  auto pass = [&](const char* sql, int64_t bound, int64_t& count) -> ExpectedDone {
    for (int64_t i = 0; i < max_batches; ++i) {
      auto n = Write<int64_t>(Durability::kNormal, [&](Db& db) -> Expected<int64_t> {
        auto q = db.Prepare(sql);
        if (!q) return q.error();
        (*q)->Bind(1, bound).Bind(2, batch);
        if (auto r = (*q)->Run(); !r) return r.error();
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
                    Secs(now), out.sessions);
      !r) {
    return r.error();
  }
  if (auto r = pass("DELETE FROM usage_events WHERE (org_id, idempotency_key) IN "
                    "(SELECT org_id, idempotency_key FROM usage_events "
                    "WHERE created_at <= ? LIMIT ?)",
                    Secs(now - options_.idempotency_ttl), out.idempotency_keys);
      !r) {
    return r.error();
  }
  return out;
}

ExpectedDone SqliteStore::RevokeSecretKey(const std::string& key_hash, Time now) {
  return Write<Done>(Durability::kNormal, [&](Db& db) -> ExpectedDone {
    auto q =
        db.Prepare("UPDATE api_keys SET revoked_at = ? WHERE key_hash = ? AND revoked_at IS NULL");
    if (!q) return q.error();
    (*q)->Bind(1, Secs(now)).Bind(2, key_hash);
    if (auto r = (*q)->Run(); !r) return r;
    if (db.changes() == 0) return Error::NotFound("no such live secret key");
    return Done{};
  });
}

Expected<Credential> SqliteStore::FindSession(const std::string& token_hash, Time now) {
  std::lock_guard lock(write_mu_);
  auto q = db_->Prepare(
      "SELECT org_id, expires_at FROM sessions WHERE token_hash = ? AND expires_at > ?");
  if (!q) return q.error();
  (*q)->Bind(1, token_hash).Bind(2, Secs(now));
  auto row = (*q)->Step();
  if (!row) return row.error();
  if (!*row) return Error{ErrorKind::kUnauthorized, "unknown or expired session token"};
  return Credential{(*q)->Text(0), FromSecs((*q)->Int(1))};
}

// --- organization-scoped calls ---

Expected<std::vector<std::string>> SqliteStore::CreateSession(const std::string& org_id,
                                                              const std::string& key_id,
                                                              const std::string& token_hash,
                                                              Time expires_at, Time now) {
  using Hashes = std::vector<std::string>;
  return OrgCall<Hashes>(org_id, now, [&](Db& db, UsageState&) -> Expected<Hashes> {
    {
      auto q = db.Prepare(
          "INSERT INTO sessions(token_hash, org_id, created_at, expires_at, key_id) "
          "VALUES (?, ?, ?, ?, ?)");
      if (!q) return q.error();
      (*q)->Bind(1, token_hash).Bind(2, org_id).Bind(3, Secs(now)).Bind(4, Secs(expires_at));
      (*q)->Bind(5, key_id);
      if (auto r = (*q)->Run(); !r) return r.error();
    }
    // Past the cap the oldest sessions of this key end (sessions_key index, newest first).
    Hashes ended;
    auto q = db.Prepare(
        "DELETE FROM sessions WHERE rowid IN (SELECT rowid FROM sessions WHERE key_id = ? "
        "ORDER BY created_at DESC, rowid DESC LIMIT -1 OFFSET ?) RETURNING token_hash");
    if (!q) return q.error();
    (*q)->Bind(1, key_id).Bind(2, options_.sessions_per_key);
    if (auto r = CollectHashes(**q, ended); !r) return r.error();
    return ended;
  });
}

Expected<UsageState> SqliteStore::ReadUsage(const std::string& org_id, Time now) {
  return OrgCall<UsageState>(org_id, now,
                             [](Db&, UsageState& state) -> Expected<UsageState> { return state; });
}

Expected<Invoice> SqliteStore::CreateInvoice(const std::string& org_id, const Invoice& invoice,
                                             Time now) {
  return CreateMetered<Invoice>(org_id, kInvoices, now, [&](Db& db) -> Expected<Invoice> {
    if (invoice.customer_id) {
      auto q = db.Prepare("SELECT 1 FROM customers WHERE id = ? AND org_id = ?");
      if (!q) return q.error();
      (*q)->Bind(1, *invoice.customer_id).Bind(2, org_id);
      auto row = (*q)->Step();
      if (!row) return row.error();
      if (!*row) return Error::Validation("customer_id", "no customer with this id");
    }
    auto q = db.Prepare(
        "INSERT INTO invoices(id, org_id, amount_paisa, customer_id, description, created_at) "
        "VALUES (?, ?, ?, ?, ?, ?)");
    if (!q) return q.error();
    (*q)->Bind(1, invoice.id).Bind(2, org_id).Bind(3, invoice.amount_paisa);
    (*q)->BindOptional(4, invoice.customer_id).Bind(5, invoice.description).Bind(6, Secs(now));
    if (auto r = (*q)->Run(); !r) return r.error();
    Invoice out = invoice;
    out.created_at = now;
    return out;
  });
}

Expected<Customer> SqliteStore::CreateCustomer(const std::string& org_id, const Customer& customer,
                                               Time now) {
  return CreateMetered<Customer>(org_id, kCustomers, now, [&](Db& db) -> Expected<Customer> {
    auto q = db.Prepare(
        "INSERT INTO customers(id, org_id, name, email, created_at) VALUES (?, ?, ?, ?, ?)");
    if (!q) return q.error();
    (*q)->Bind(1, customer.id).Bind(2, org_id).Bind(3, customer.name).Bind(4, customer.email);
    (*q)->Bind(5, Secs(now));
    if (auto r = (*q)->Run(); !r) return r.error();
    Customer out = customer;
    out.created_at = now;
    return out;
  });
}

Expected<TeamMember> SqliteStore::CreateTeamMember(const std::string& org_id,
                                                   const TeamMember& member, Time now) {
  return CreateMetered<TeamMember>(org_id, kTeamMembers, now, [&](Db& db) -> Expected<TeamMember> {
    const std::string key = AsciiLower(member.email);
    {
      auto q = db.Prepare("SELECT 1 FROM team_members WHERE org_id = ? AND email_key = ?");
      if (!q) return q.error();
      (*q)->Bind(1, org_id).Bind(2, key);
      auto row = (*q)->Step();
      if (!row) return row.error();
      if (*row) return Error::Conflict("a team member with this e-mail already exists");
    }
    auto q = db.Prepare(
        "INSERT INTO team_members(id, org_id, email, email_key, name, created_at) "
        "VALUES (?, ?, ?, ?, ?, ?)");
    if (!q) return q.error();
    (*q)->Bind(1, member.id).Bind(2, org_id).Bind(3, member.email).Bind(4, key);
    (*q)->Bind(5, member.name).Bind(6, Secs(now));
    if (auto r = (*q)->Run(); !r) return r.error();
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
                              ReadCustomer);
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
                             "WHERE id = ? AND org_id = ?",
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

Expected<MeterResult> SqliteStore::RecordUsage(const std::string& org_id, const MeterRequest& req,
                                               Time now) {
  if (!catalog_.FeatureIndex(req.feature)) {
    return Error::NotFound("no feature \"" + req.feature + "\" in the catalog");
  }
  return OrgCall<MeterResult>(org_id, now, [&](Db& db, UsageState& state) -> Expected<MeterResult> {
    if (req.idempotency_key) {
      auto q = db.Prepare(
          "SELECT feature, quantity, plan, used, limit_wire, over FROM usage_events "
          "WHERE org_id = ? AND idempotency_key = ? AND created_at > ?");
      if (!q) return q.error();
      // A key older than the TTL is forgotten: the call counts again (and replaces it below).
      (*q)->Bind(1, org_id).Bind(2, *req.idempotency_key);
      (*q)->Bind(3, Secs(now - options_.idempotency_ttl));
      auto row = (*q)->Step();
      if (!row) return row.error();
      if (*row) {
        MeterResult first;
        first.feature = (*q)->Text(0);
        first.quantity = (*q)->Int(1);
        if (first.feature != req.feature || first.quantity != req.quantity) {
          Error e =
              Error::Conflict("this idempotency_key was already used for a different request");
          e.extra["field"] = "idempotency_key";
          return e;
        }
        first.plan = (*q)->Text(2);
        first.used = (*q)->Int(3);
        auto limit = LimitFromWire((*q)->Int(4));
        first.limit = limit ? limit.value() : Limit::Unlimited();
        first.over = (*q)->Int(5) != 0;
        first.replayed = true;
        return first;
      }
    }
    auto gate = Gate(state, req.feature, req.quantity, now);
    if (!gate) return gate.error();
    if (auto r = Count(db, org_id, state, req.feature, req.quantity); !r) return r.error();
    const Decision& d = **gate;
    MeterResult out{req.feature, req.quantity, d.plan, state.usage[req.feature],
                    d.limit,     d.over,       false};
    if (req.idempotency_key) {
      auto q = db.Prepare(
          "INSERT INTO usage_events(org_id, idempotency_key, feature, quantity, plan, used, "
          "limit_wire, over, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) "
          "ON CONFLICT(org_id, idempotency_key) DO UPDATE SET feature = excluded.feature, "
          "quantity = excluded.quantity, plan = excluded.plan, used = excluded.used, "
          "limit_wire = excluded.limit_wire, over = excluded.over, "
          "created_at = excluded.created_at");
      if (!q) return q.error();
      (*q)->Bind(1, org_id).Bind(2, *req.idempotency_key).Bind(3, out.feature);
      (*q)->Bind(4, out.quantity).Bind(5, out.plan).Bind(6, out.used);
      (*q)->Bind(7, LimitToWire(out.limit)).Bind(8, int64_t{out.over ? 1 : 0}).Bind(9, Secs(now));
      if (auto r = (*q)->Run(); !r) return r.error();
    }
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

}  // namespace sima::server
