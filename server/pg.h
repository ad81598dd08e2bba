// Small RAII wrappers over libpq, PostgreSQL's C client library, in the shape of sqlite.h:
// every call returns a value or an Error, a statement is one expression with its parameters
// bound in the same call, and a row (or all rows) is read in the same call:
//
//   auto n = conn.Run("UPDATE t SET a = $1 WHERE id = $2", a, id);   // rows changed
//   auto row = conn.One("SELECT a, b FROM t WHERE id = $1", id);     // optional<Row>
//   auto rows = conn.All("SELECT a FROM t WHERE org = $1", org);     // vector<Row>
//
// Parameters travel as text, separately from the SQL ($1..$n), so no value is ever part of a
// statement: integers, bool, text, Time (as ToUnixSeconds), std::optional<T> (NULL when empty)
// and std::nullopt. Rows read like sqlite::Row (Int, Text, Bool, At, OptInt, OptText, OptAt).
// Unlike sqlite.h, Run returns how many rows the statement changed. Statements are prepared
// once per connection.
// Error messages never carry the connection's password (libpq can echo its conninfo).
//
// A Conn is used by one thread at a time; a Pool hands connections to threads.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "clock.h"
#include "error.h"

struct pg_conn;
struct pg_result;

namespace sima::server::pg {

// Whether `db` (a SIMA_DB value) names a PostgreSQL database: postgresql:// or postgres://.
bool IsUrl(std::string_view db);

// Where to connect: a postgresql:// URL taken apart by libpq itself.
class ConnInfo {
 public:
  // Errors (kValidation, field "SIMA_DB"): a URL libpq cannot read. The message never
  // contains the password.
  static Expected<ConnInfo> Parse(const std::string& url);

  // postgresql://user@host:port/dbname — the URL without its password, for logs and errors.
  const std::string& display() const { return display_; }
  // `text` with every occurrence of the password (as written and URL-decoded) masked.
  std::string Redact(std::string text) const;
  bool has_password() const { return !secrets_.empty(); }
  // Connections start with this schema first on their search_path (tests: one per test).
  void set_schema(std::string schema) { schema_ = std::move(schema); }
  const std::string& schema() const { return schema_; }

 private:
  friend class Conn;
  std::vector<std::pair<std::string, std::string>> params_;  // libpq keyword, value
  std::string display_;
  std::vector<std::string> secrets_;  // the password as written in the URL and decoded
  std::string schema_;
};

// One parameter of a statement: its text, or NULL.
class Param {
 public:
  Param(int64_t v) : text_(std::to_string(v)) {}  // NOLINT: implicit by design
  Param(int v) : text_(std::to_string(v)) {}      // NOLINT
  Param(bool v) : text_(v ? "true" : "false") {}  // NOLINT
  Param(std::string_view v) : text_(v) {}         // NOLINT
  Param(const std::string& v) : text_(v) {}       // NOLINT
  Param(const char* v) : text_(v) {}              // NOLINT
  Param(Time v) : Param(ToUnixSeconds(v)) {}      // NOLINT: stored as Unix seconds
  Param(std::nullopt_t) {}                        // NOLINT: NULL
  template <typename T>
  Param(const std::optional<T>& v) {  // NOLINT: empty binds NULL
    if (v) text_ = Param(*v).text_;
  }
  const char* c_str() const { return text_ ? text_->c_str() : nullptr; }

 private:
  std::optional<std::string> text_;
};

// A statement and its parameters, kept for later (Conn::Defer).
struct Statement {
  std::string sql;
  std::vector<Param> params;
};

// One row of a result; keeps the result alive.
class Row {
 public:
  Row(std::shared_ptr<pg_result> result, int row) : result_(std::move(result)), row_(row) {}
  // Columns are 0-based. Int/Text of a NULL read 0 / "".
  int64_t Int(int column) const;
  std::string Text(int column) const;
  bool Bool(int column) const;  // a boolean column ("t"/"f")
  bool IsNull(int column) const;
  Time At(int column) const { return FromUnixSeconds(Int(column)); }  // Unix seconds
  std::optional<int64_t> OptInt(int column) const;
  std::optional<std::string> OptText(int column) const;
  std::optional<Time> OptAt(int column) const;

 private:
  std::shared_ptr<pg_result> result_;
  int row_;
};

// One connection to the server.
class Conn {
 public:
  // Connects. kUnavailable ("cannot connect to PostgreSQL at <display>: <reason>") when the
  // server cannot be reached or refuses the credentials.
  static Expected<std::unique_ptr<Conn>> Open(const ConnInfo& info);
  ~Conn();
  Conn(const Conn&) = delete;
  Conn& operator=(const Conn&) = delete;

  // Runs a statement; returns how many rows it changed (or returned).
  template <typename... A>
  Expected<int64_t> Run(const std::string& sql, const A&... args) {
    auto r = Exec(sql, {Param(args)...});
    if (!r) return r.error();
    return Changed(*r);
  }
  // The first row of a statement's result, nullopt when it has none.
  template <typename... A>
  Expected<std::optional<Row>> One(const std::string& sql, const A&... args) {
    auto r = Exec(sql, {Param(args)...});
    if (!r) return r.error();
    if (Rows(*r) == 0) return std::optional<Row>();
    return std::optional<Row>(Row(std::move(r).value(), 0));
  }
  // Every row of a statement's result.
  template <typename... A>
  Expected<std::vector<Row>> All(const std::string& sql, const A&... args) {
    auto r = Exec(sql, {Param(args)...});
    if (!r) return r.error();
    std::vector<Row> out;
    const int n = Rows(*r);
    out.reserve(static_cast<size_t>(n));
    for (int i = 0; i < n; ++i) out.emplace_back(*r, i);
    return out;
  }
  // Runs SQL without parameters, possibly several statements (migrations, BEGIN, COMMIT).
  ExpectedDone Script(const std::string& sql);

  // Transactions in few round trips (libpq's pipeline mode). Begin() sends nothing: BEGIN
  // travels with the next statement. Defer() queues a write whose result nobody reads; it
  // travels with the next statement or with Commit(), and its error is that call's error.
  // Commit() sends what is queued and COMMIT in one round trip; Rollback() drops what is
  // queued and rolls back what was sent.
  void Begin();
  template <typename... A>
  void Defer(std::string sql, const A&... args) {
    queued_.push_back({std::move(sql), {Param(args)...}});
  }
  void Defer(Statement statement) { queued_.push_back(std::move(statement)); }
  ExpectedDone Commit();
  void Rollback();

  // The SQLSTATE of the last failed call ("" when it had none, e.g. a lost connection).
  const std::string& last_state() const { return last_state_; }
  // True when the connection is unusable (lost, or left inside a transaction).
  bool broken() const;
  // True when the connection to the server is lost.
  bool lost() const;
  // The connection's slot in its pool, 0 <= slot < pool size: stable while it is leased.
  int slot() const { return slot_; }

 private:
  Conn(pg_conn* conn, const ConnInfo& info) : conn_(conn), info_(info) {}
  using Result = std::shared_ptr<pg_result>;
  Expected<Result> Exec(const std::string& sql, std::vector<Param> params);
  // The prepared statement's name for `sql` (prepared now on first use).
  Expected<std::string> Prepared(const std::string& sql);
  // Sends `statements` in one round trip and returns the last one's result; the first
  // failure is the result (the rest are skipped by the server).
  Expected<Result> Pipeline(std::vector<Statement>& statements);
  static int Rows(const Result& r);
  static int64_t Changed(const Result& r);
  // The Error for a failed call, the password masked; records last_state_.
  Error Fail(pg_result* result, std::string_view what);

  pg_conn* conn_;
  const ConnInfo& info_;
  std::map<std::string, std::string, std::less<>> prepared_;  // SQL -> statement name
  std::string last_state_;
  bool begin_pending_ = false;
  std::vector<Statement> queued_;
  int slot_ = 0;
  friend class Pool;
  friend class Listener;
};

// A connection of its own that only listens (LISTEN/NOTIFY): opened with a channel, then
// polled by its owner. Not part of a Pool: a pooled connection would lose its LISTEN when
// the pool replaces it.
class Listener {
 public:
  // Connects (as Conn::Open) and runs LISTEN `channel` (a plain identifier).
  static Expected<std::unique_ptr<Listener>> Open(const ConnInfo& info, const std::string& channel);
  // The socket to wait on for readability (poll), then call Drain.
  int socket() const;
  // Reads what the server sent and returns the payloads of the notifications received, in
  // order (none is fine: a keepalive, a partial message). kUnavailable once the connection is
  // lost: the owner opens a new Listener.
  Expected<std::vector<std::string>> Drain();
  // The server process of this connection (pg_terminate_backend in tests).
  int backend_pid() const;

 private:
  explicit Listener(std::unique_ptr<Conn> conn) : conn_(std::move(conn)) {}
  std::unique_ptr<Conn> conn_;
};

// Connections shared by threads, at most `size` open at once. A connection that broke is
// closed when it comes back, and a new one is opened on demand: the pool recovers by itself
// when the server returns.
class Pool {
 public:
  Pool(ConnInfo info, int size) : info_(std::move(info)), size_(size) {}
  ~Pool();

  // A connection for one thread until the Lease ends.
  class Lease {
   public:
    Lease(Pool* pool, std::unique_ptr<Conn> conn, int slot)
        : pool_(pool), conn_(std::move(conn)), slot_(slot) {}
    Lease(Lease&& o) noexcept : pool_(o.pool_), conn_(std::move(o.conn_)), slot_(o.slot_) {
      o.pool_ = nullptr;
    }
    Lease& operator=(Lease&&) = delete;
    ~Lease();
    Conn& operator*() const { return *conn_; }
    Conn* operator->() const { return conn_.get(); }
    // The connection's slot in the pool, 0 <= slot < size: stable while it is open.
    int slot() const { return slot_; }
    // Closes the connection instead of returning it (it is in an unknown state).
    void Discard() { conn_.reset(); }

   private:
    Pool* pool_;
    std::unique_ptr<Conn> conn_;
    int slot_;
  };

  // An idle connection, or a new one while fewer than `size` are open; waits otherwise.
  // kUnavailable when none can be opened (the message names the server, never the password).
  Expected<Lease> Acquire();
  // Closes idle connections (after the server restarted, they are all stale).
  void DropIdle();
  const ConnInfo& info() const { return info_; }
  int size() const { return size_; }

 private:
  void Return(std::unique_ptr<Conn> conn, int slot);
  ConnInfo info_;
  const int size_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<std::pair<std::unique_ptr<Conn>, int>> idle_;
  std::vector<int> free_slots_;
  std::deque<uint64_t> waiting_;  // tickets of the threads waiting, in arrival order
  uint64_t next_ticket_ = 0;
  int open_ = 0;
  bool slots_ready_ = false;
};

}  // namespace sima::server::pg
