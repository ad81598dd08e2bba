// Small RAII wrappers over the SQLite C API. Every return code is checked and turned into an
// Error carrying SQLite's own message. Statements are prepared once per connection and kept.
//
// A Db is used by one thread at a time (callers serialize; see SqliteStore).
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "error.h"

struct sqlite3;
struct sqlite3_stmt;

namespace sima::server::sqlite {

// One prepared statement. Owned by the Db that prepared it.
class Stmt {
 public:
  explicit Stmt(sqlite3_stmt* stmt) : stmt_(stmt) {}
  ~Stmt();
  Stmt(const Stmt&) = delete;
  Stmt& operator=(const Stmt&) = delete;

  // Parameters are 1-based, as in SQLite. Text is copied (SQLITE_TRANSIENT).
  Stmt& Bind(int index, int64_t value);
  Stmt& Bind(int index, std::string_view value);
  Stmt& Bind(int index, const std::string& value) { return Bind(index, std::string_view(value)); }
  Stmt& BindOptional(int index, const std::optional<std::string>& value);  // NULL when empty
  Stmt& BindNull(int index);

  // Runs one step: true with a row to read, false when done, or the error.
  Expected<bool> Step();
  // Runs to completion, expecting no rows.
  ExpectedDone Run();

  // Columns of the current row, 0-based.
  int64_t Int(int column) const;
  std::string Text(int column) const;
  bool IsNull(int column) const;

  // Clears bindings and makes the statement ready to run again.
  void Reset();
  sqlite3_stmt* get() const { return stmt_; }

 private:
  Error Fail(int rc) const;
  sqlite3_stmt* stmt_;
  int bind_rc_ = 0;  // first failing bind, reported by the next Step()
};

// A statement checked out of the Db's cache; reset when this goes out of scope.
class Use {
 public:
  explicit Use(Stmt* stmt) : stmt_(stmt) {}
  ~Use() {
    if (stmt_ != nullptr) stmt_->Reset();
  }
  Use(const Use&) = delete;
  Use& operator=(const Use&) = delete;
  Use(Use&& o) noexcept : stmt_(o.stmt_) { o.stmt_ = nullptr; }
  Stmt* operator->() const { return stmt_; }
  Stmt& operator*() const { return *stmt_; }

 private:
  Stmt* stmt_;
};

class Db {
 public:
  // Opens (creating if needed) the database file at `path` in serialized-by-caller mode
  // (SQLITE_OPEN_NOMUTEX: one thread at a time) with extended result codes.
  static Expected<std::unique_ptr<Db>> Open(const std::string& path, bool read_only = false);
  ~Db();
  Db(const Db&) = delete;
  Db& operator=(const Db&) = delete;

  // Runs one or more statements that return no rows we need.
  ExpectedDone Exec(std::string_view sql);
  // The cached prepared statement for `sql` (prepared on first use), ready to bind.
  Expected<Use> Prepare(const std::string& sql);
  // A single integer from `sql` (e.g. "PRAGMA user_version"), or the error.
  Expected<int64_t> QueryInt(const std::string& sql);

  int64_t changes() const;
  sqlite3* get() const { return db_; }
  // "<what>: <sqlite message> (rc)".
  Error Fail(int rc, std::string_view what) const;

 private:
  explicit Db(sqlite3* db) : db_(db) {}
  sqlite3* db_;
  std::map<std::string, std::unique_ptr<Stmt>, std::less<>> cache_;
};

// A transaction: BEGIN IMMEDIATE (takes the write lock at once, so no transaction fails
// half-way on a lock upgrade) or a deferred read. Rolled back unless Commit() succeeds.
class Txn {
 public:
  enum class Mode { kImmediate, kDeferred };
  static Expected<Txn> Begin(Db& db, Mode mode = Mode::kImmediate);
  ~Txn();
  Txn(Txn&& o) noexcept : db_(o.db_) { o.db_ = nullptr; }
  Txn(const Txn&) = delete;
  Txn& operator=(const Txn&) = delete;
  Txn& operator=(Txn&&) = delete;

  ExpectedDone Commit();
  Db& db() const { return *db_; }

 private:
  explicit Txn(Db* db) : db_(db) {}
  Db* db_;
};

}  // namespace sima::server::sqlite
