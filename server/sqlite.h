// Small RAII wrappers over the SQLite C API, and the query layer every statement goes through.
// Every return code is checked and turned into an Error carrying SQLite's own message.
// Statements are prepared once per connection and kept.
//
// Each statement is one expression; arguments bind in order to the `?`s:
//
//   db.Run("UPDATE payments SET reason = ? WHERE id = ?", reason, id)      -> ExpectedDone
//   db.One("SELECT name, billing_email FROM organizations WHERE id = ?", org)
//                                                     -> Expected<std::optional<Row>> (first row)
//   db.All("SELECT feature, used FROM usage_counters WHERE org_id = ?", org)
//                                                     -> Expected<std::vector<Row>>
//
// Arguments: integers, bool (0/1), text (std::string, std::string_view, const char*), Time
// (as ToUnixSeconds), std::optional<T> (NULL when empty) and std::nullopt (NULL). A Row is a
// copy of one result row read by 0-based column: Int, Text, Bool, At (a Time), IsNull, and
// OptInt / OptText / OptAt (nullopt for NULL). Run's changed-row count is db.changes().
// The PostgreSQL layer (pg.h) has the same shape.
//
// A Db is used by one thread at a time (callers serialize; see SqliteStore).
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <variant>
#include <vector>

#include "clock.h"
#include "error.h"

struct sqlite3;
struct sqlite3_stmt;

namespace sima::server::sqlite {

// One result row, copied out of the statement (it outlives the statement's reset).
class Row {
 public:
  using Value = std::variant<std::monostate, int64_t, double, std::string>;
  explicit Row(std::vector<Value> values) : values_(std::move(values)) {}

  // REQUIRES: column < size(). A NULL reads as 0 / "" / false / the epoch.
  int64_t Int(int column) const;
  std::string Text(int column) const;
  bool Bool(int column) const { return Int(column) != 0; }
  Time At(int column) const { return FromUnixSeconds(Int(column)); }
  bool IsNull(int column) const;
  std::optional<int64_t> OptInt(int column) const;
  std::optional<std::string> OptText(int column) const;
  std::optional<Time> OptAt(int column) const;
  int size() const { return static_cast<int>(values_.size()); }

 private:
  const Value& at(int column) const { return values_[static_cast<size_t>(column)]; }
  std::vector<Value> values_;
};

// One prepared statement. Owned by the Db that prepared it.
class Stmt {
 public:
  explicit Stmt(sqlite3_stmt* stmt) : stmt_(stmt) {}
  ~Stmt();
  Stmt(const Stmt&) = delete;
  Stmt& operator=(const Stmt&) = delete;

  // Binds `args` to parameters 1, 2, ... (see the top of this file for the types).
  template <typename... Args>
  Stmt& BindAll(const Args&... args) {
    [[maybe_unused]] int index = 0;
    (BindValue(++index, args), ...);
    return *this;
  }

  // Runs one step: true with a row to read, false when done, or the error.
  Expected<bool> Step();
  // Runs to completion, expecting no rows.
  ExpectedDone Run();

  // Columns of the current row, 0-based.
  int64_t Int(int column) const;
  std::string Text(int column) const;
  bool IsNull(int column) const;
  // The current row, copied.
  Row Read() const;

  // Clears bindings and makes the statement ready to run again.
  void Reset();
  sqlite3_stmt* get() const { return stmt_; }

 private:
  // Parameters are 1-based, as in SQLite. Text is copied (SQLITE_TRANSIENT). A failing bind
  // is reported by the next Step().
  void Bind(int index, int64_t value);
  void Bind(int index, std::string_view value);
  void BindNull(int index);
  template <typename T>
  void BindValue(int index, const T& value);

  Error Fail(int rc) const;
  sqlite3_stmt* stmt_;
  int bind_rc_ = 0;  // first failing bind, reported by the next Step()
};

template <typename T>
struct IsOptional : std::false_type {};
template <typename T>
struct IsOptional<std::optional<T>> : std::true_type {};

template <typename T>
void Stmt::BindValue(int index, const T& value) {
  if constexpr (std::is_same_v<T, bool>) {
    Bind(index, int64_t{value ? 1 : 0});
  } else if constexpr (std::is_integral_v<T>) {
    Bind(index, static_cast<int64_t>(value));
  } else if constexpr (std::is_same_v<T, Time>) {
    Bind(index, ToUnixSeconds(value));
  } else if constexpr (std::is_same_v<T, std::nullopt_t>) {
    BindNull(index);
  } else if constexpr (IsOptional<T>::value) {
    if (value) {
      BindValue(index, *value);
    } else {
      BindNull(index);
    }
  } else {
    static_assert(std::is_convertible_v<const T&, std::string_view>, "no SQLite binding");
    Bind(index, std::string_view(value));
  }
}

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

  // Runs `sql` with `args` bound, expecting no rows we need (db.changes() tells how many
  // rows it changed).
  template <typename... Args>
  ExpectedDone Run(const std::string& sql, const Args&... args);
  // The first row of `sql` with `args` bound, or nullopt when there is none.
  template <typename... Args>
  Expected<std::optional<Row>> One(const std::string& sql, const Args&... args);
  // Every row of `sql` with `args` bound.
  template <typename... Args>
  Expected<std::vector<Row>> All(const std::string& sql, const Args&... args);
  // The integer in the first column of the first row (e.g. "SELECT COUNT(*) ..."); kInternal
  // when there is no row.
  template <typename... Args>
  Expected<int64_t> QueryInt(const std::string& sql, const Args&... args);

  // Runs one or more statements without parameters (schema, PRAGMAs).
  ExpectedDone Exec(std::string_view sql);
  // The cached prepared statement for `sql` (prepared on first use), ready to bind.
  Expected<Use> Prepare(const std::string& sql);

  int64_t changes() const;
  int64_t last_insert_rowid() const;
  sqlite3* get() const { return db_; }
  // "<what>: <sqlite message> (rc)".
  Error Fail(int rc, std::string_view what) const;

 private:
  explicit Db(sqlite3* db) : db_(db) {}
  sqlite3* db_;
  std::map<std::string, std::unique_ptr<Stmt>, std::less<>> cache_;
};

template <typename... Args>
ExpectedDone Db::Run(const std::string& sql, const Args&... args) {
  auto q = Prepare(sql);
  if (!q) return q.error();
  return (*q)->BindAll(args...).Run();
}

template <typename... Args>
Expected<std::optional<Row>> Db::One(const std::string& sql, const Args&... args) {
  auto q = Prepare(sql);
  if (!q) return q.error();
  auto row = (*q)->BindAll(args...).Step();
  if (!row) return row.error();
  if (!*row) return std::optional<Row>();
  return std::optional<Row>((*q)->Read());
}

template <typename... Args>
Expected<std::vector<Row>> Db::All(const std::string& sql, const Args&... args) {
  auto q = Prepare(sql);
  if (!q) return q.error();
  (*q)->BindAll(args...);
  std::vector<Row> out;
  for (;;) {
    auto row = (*q)->Step();
    if (!row) return row.error();
    if (!*row) return out;
    out.push_back((*q)->Read());
  }
}

template <typename... Args>
Expected<int64_t> Db::QueryInt(const std::string& sql, const Args&... args) {
  auto row = One(sql, args...);
  if (!row) return row.error();
  if (!*row) return Error::Internal("no row from \"" + sql + "\"");
  return (*row)->Int(0);
}

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
