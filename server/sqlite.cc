#include "sqlite.h"

#include <sqlite3.h>

#include <cstdlib>

namespace sima::server::sqlite {
namespace {

Error FromRc(int rc, std::string message) {
  const int primary = rc & 0xff;
  // The disk (or the file system's quota) is full: nothing the client did, try later.
  if (primary == SQLITE_FULL) return {ErrorKind::kUnavailable, "storage is full"};
  if (primary == SQLITE_READONLY) return {ErrorKind::kUnavailable, "storage is read-only"};
  // A 503's message reaches the client: never the SQL or SQLite's words.
  if (primary == SQLITE_BUSY || primary == SQLITE_LOCKED) {
    return {ErrorKind::kUnavailable, "the database is busy; try again"};
  }
  const ErrorKind kind = primary == SQLITE_BUSY || primary == SQLITE_LOCKED
                             ? ErrorKind::kUnavailable
                             : ErrorKind::kInternal;
  return {kind, std::move(message) + " (sqlite rc " + std::to_string(rc) + ")"};
}

}  // namespace

Stmt::~Stmt() { sqlite3_finalize(stmt_); }

void Stmt::Bind(int index, int64_t value) {
  const int rc = sqlite3_bind_int64(stmt_, index, value);
  if (rc != SQLITE_OK && bind_rc_ == 0) bind_rc_ = rc;
}

void Stmt::Bind(int index, std::string_view value) {
  const int rc =
      sqlite3_bind_text64(stmt_, index, value.data(), value.size(), SQLITE_TRANSIENT, SQLITE_UTF8);
  if (rc != SQLITE_OK && bind_rc_ == 0) bind_rc_ = rc;
}

void Stmt::BindNull(int index) {
  const int rc = sqlite3_bind_null(stmt_, index);
  if (rc != SQLITE_OK && bind_rc_ == 0) bind_rc_ = rc;
}

Error Stmt::Fail(int rc) const {
  sqlite3* db = sqlite3_db_handle(stmt_);
  std::string sql = sqlite3_sql(stmt_) != nullptr ? sqlite3_sql(stmt_) : "";
  if (sql.size() > 80) sql = sql.substr(0, 80) + "...";
  return FromRc(rc, std::string(sqlite3_errmsg(db)) + " in \"" + sql + "\"");
}

Expected<bool> Stmt::Step() {
  if (bind_rc_ != 0) return Fail(bind_rc_);
  const int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  return Fail(rc);
}

ExpectedDone Stmt::Run() {
  auto r = Step();
  if (!r) return r.error();
  return Done{};
}

int64_t Stmt::Int(int column) const { return sqlite3_column_int64(stmt_, column); }

std::string Stmt::Text(int column) const {
  const auto* p = reinterpret_cast<const char*>(sqlite3_column_text(stmt_, column));
  if (p == nullptr) return {};
  return std::string(p, static_cast<size_t>(sqlite3_column_bytes(stmt_, column)));
}

bool Stmt::IsNull(int column) const { return sqlite3_column_type(stmt_, column) == SQLITE_NULL; }

Row Stmt::Read() const {
  const int n = sqlite3_column_count(stmt_);
  std::vector<Row::Value> values;
  values.reserve(static_cast<size_t>(n));
  for (int c = 0; c < n; ++c) {
    switch (sqlite3_column_type(stmt_, c)) {
      case SQLITE_NULL: values.emplace_back(std::monostate{}); break;
      case SQLITE_INTEGER: values.emplace_back(Int(c)); break;
      case SQLITE_FLOAT: values.emplace_back(sqlite3_column_double(stmt_, c)); break;
      default: values.emplace_back(Text(c)); break;
    }
  }
  return Row(std::move(values));
}

int64_t Row::Int(int column) const {
  const Value& v = at(column);
  if (const auto* i = std::get_if<int64_t>(&v)) return *i;
  if (const auto* d = std::get_if<double>(&v)) return static_cast<int64_t>(*d);
  if (const auto* t = std::get_if<std::string>(&v)) return std::strtoll(t->c_str(), nullptr, 10);
  return 0;
}

std::string Row::Text(int column) const {
  const Value& v = at(column);
  if (const auto* t = std::get_if<std::string>(&v)) return *t;
  if (const auto* i = std::get_if<int64_t>(&v)) return std::to_string(*i);
  if (const auto* d = std::get_if<double>(&v)) return std::to_string(*d);
  return {};
}

bool Row::IsNull(int column) const { return std::holds_alternative<std::monostate>(at(column)); }

std::optional<int64_t> Row::OptInt(int column) const {
  if (IsNull(column)) return std::nullopt;
  return Int(column);
}

std::optional<std::string> Row::OptText(int column) const {
  if (IsNull(column)) return std::nullopt;
  return Text(column);
}

std::optional<Time> Row::OptAt(int column) const {
  if (IsNull(column)) return std::nullopt;
  return At(column);
}

void Stmt::Reset() {
  sqlite3_reset(stmt_);
  sqlite3_clear_bindings(stmt_);
  bind_rc_ = 0;
}

Expected<std::unique_ptr<Db>> Db::Open(const std::string& path, bool read_only) {
  sqlite3* raw = nullptr;
  const int flags =
      (read_only ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE) |
      SQLITE_OPEN_NOMUTEX;
  const int rc = sqlite3_open_v2(path.c_str(), &raw, flags, nullptr);
  std::unique_ptr<Db> db(new Db(raw));  // closes `raw` even when opening failed
  if (rc != SQLITE_OK) {
    return FromRc(rc, "cannot open database \"" + path +
                          "\": " + (raw != nullptr ? sqlite3_errmsg(raw) : sqlite3_errstr(rc)));
  }
  sqlite3_extended_result_codes(raw, 1);
  return db;
}

Db::~Db() {
  cache_.clear();  // finalize statements before closing
  sqlite3_close(db_);
}

Error Db::Fail(int rc, std::string_view what) const {
  return FromRc(rc, std::string(what) + ": " + sqlite3_errmsg(db_));
}

ExpectedDone Db::Exec(std::string_view sql) {
  char* msg = nullptr;
  const std::string text(sql);
  const int rc = sqlite3_exec(db_, text.c_str(), nullptr, nullptr, &msg);
  if (rc != SQLITE_OK) {
    std::string m = msg != nullptr ? msg : sqlite3_errstr(rc);
    sqlite3_free(msg);
    return FromRc(rc, m);
  }
  return Done{};
}

Expected<Use> Db::Prepare(const std::string& sql) {
  auto it = cache_.find(sql);
  if (it == cache_.end()) {
    sqlite3_stmt* raw = nullptr;
    const int rc = sqlite3_prepare_v3(db_, sql.c_str(), static_cast<int>(sql.size()),
                                      SQLITE_PREPARE_PERSISTENT, &raw, nullptr);
    if (rc != SQLITE_OK) {
      sqlite3_finalize(raw);
      return Fail(rc, "cannot prepare \"" + sql + "\"");
    }
    it = cache_.emplace(sql, std::make_unique<Stmt>(raw)).first;
  }
  return Use(it->second.get());
}

int64_t Db::changes() const { return sqlite3_changes64(db_); }

int64_t Db::last_insert_rowid() const { return sqlite3_last_insert_rowid(db_); }

Expected<Txn> Txn::Begin(Db& db, Mode mode) {
  if (auto r = db.Run(mode == Mode::kImmediate ? "BEGIN IMMEDIATE" : "BEGIN DEFERRED"); !r) {
    return r.error();
  }
  return Txn(&db);
}

Txn::~Txn() {
  if (db_ == nullptr) return;
  (void)db_->Run("ROLLBACK");
}

ExpectedDone Txn::Commit() {
  if (auto r = db_->Run("COMMIT"); !r) return r;  // the destructor rolls back
  db_ = nullptr;
  return Done{};
}

}  // namespace sima::server::sqlite
