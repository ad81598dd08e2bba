#include "pg.h"

#include <libpq-fe.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>

namespace sima::server::pg {
namespace {

// SQLSTATE classes a client cannot cause: the server is gone, shutting down or out of room.
bool ServerUnavailable(std::string_view state) {
  return state.empty() || state.starts_with("08") || state.starts_with("57P") ||
         state.starts_with("53");
}

std::string Trim(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  return s;
}

std::string PercentDecode(std::string_view s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size()) {
      const std::string hex(s.substr(i + 1, 2));
      char* end = nullptr;
      const long v = std::strtol(hex.c_str(), &end, 16);
      if (end == hex.c_str() + 2) {
        out.push_back(static_cast<char>(v));
        i += 2;
        continue;
      }
    }
    out.push_back(s[i]);
  }
  return out;
}

// The password as written in a URL (between "user:" and "@"), if any.
std::optional<std::string> UrlPassword(std::string_view url) {
  const size_t scheme = url.find("://");
  if (scheme == std::string_view::npos) return std::nullopt;
  std::string_view rest = url.substr(scheme + 3);
  const size_t at = rest.rfind('@', rest.find('/'));
  if (at == std::string_view::npos) return std::nullopt;
  const std::string_view userinfo = rest.substr(0, at);
  const size_t colon = userinfo.find(':');
  if (colon == std::string_view::npos) return std::nullopt;
  return std::string(userinfo.substr(colon + 1));
}

}  // namespace

bool IsUrl(std::string_view db) {
  return db.starts_with("postgresql://") || db.starts_with("postgres://");
}

std::string ConnInfo::Redact(std::string text) const {
  for (const std::string& secret : secrets_) {
    if (secret.empty()) continue;
    for (size_t at = text.find(secret); at != std::string::npos; at = text.find(secret, at + 3)) {
      text.replace(at, secret.size(), "***");
    }
  }
  return text;
}

Expected<ConnInfo> ConnInfo::Parse(const std::string& url) {
  ConnInfo info;
  if (auto pw = UrlPassword(url)) {
    info.secrets_.push_back(*pw);
    info.secrets_.push_back(PercentDecode(*pw));
  }
  auto invalid = [&](std::string why) {
    return Error::Validation("SIMA_DB", "SIMA_DB is not a PostgreSQL URL libpq can read (" +
                                            info.Redact(std::move(why)) +
                                            "); expected postgresql://user:password@host:port/db");
  };
  if (!IsUrl(url)) return invalid("it must start with postgresql:// or postgres://");
  char* err = nullptr;
  PQconninfoOption* opts = PQconninfoParse(url.c_str(), &err);
  if (opts == nullptr) {
    std::string why = err != nullptr ? Trim(err) : "out of memory";
    PQfreemem(err);
    return invalid(why);
  }
  std::string user, host, port, dbname;
  for (PQconninfoOption* o = opts; o->keyword != nullptr; ++o) {
    if (o->val == nullptr) continue;
    const std::string key = o->keyword, val = o->val;
    info.params_.emplace_back(key, val);
    if (key == "password") info.secrets_.push_back(val);
    if (key == "user") user = val;
    if (key == "host" || (key == "hostaddr" && host.empty())) host = val;
    if (key == "port") port = val;
    if (key == "dbname") dbname = val;
  }
  PQconninfoFree(opts);
  // libpq reads the port only when it connects: a wrong one is refused here, at start.
  if (port.find_first_not_of("0123456789,") != std::string::npos) {
    return invalid("the port must be a number");
  }
  info.display_ = "postgresql://" + (user.empty() ? "" : user + "@") +
                  (host.empty() ? "localhost" : host) + (port.empty() ? "" : ":" + port) + "/" +
                  dbname;
  info.display_ = info.Redact(info.display_);
  return info;
}

// --- rows ---

int64_t Row::Int(int column) const {
  const char* v = PQgetvalue(result_.get(), row_, column);
  return v == nullptr ? 0 : std::strtoll(v, nullptr, 10);
}
std::string Row::Text(int column) const {
  const char* v = PQgetvalue(result_.get(), row_, column);
  return v == nullptr ? std::string() : std::string(v, PQgetlength(result_.get(), row_, column));
}
bool Row::Bool(int column) const {
  const char* v = PQgetvalue(result_.get(), row_, column);
  return v != nullptr && v[0] == 't';
}
bool Row::IsNull(int column) const { return PQgetisnull(result_.get(), row_, column) != 0; }
std::optional<int64_t> Row::OptInt(int column) const {
  if (IsNull(column)) return std::nullopt;
  return Int(column);
}
std::optional<Time> Row::OptAt(int column) const {
  if (IsNull(column)) return std::nullopt;
  return At(column);
}
std::optional<std::string> Row::OptText(int column) const {
  if (IsNull(column)) return std::nullopt;
  return Text(column);
}

// --- connections ---

Expected<std::unique_ptr<Conn>> Conn::Open(const ConnInfo& info) {
  std::vector<const char*> keys, values;
  bool has_timeout = false;
  for (const auto& [k, v] : info.params_) {
    if (k == "connect_timeout") has_timeout = true;
    keys.push_back(k.c_str());
    values.push_back(v.c_str());
  }
  // A server that does not answer must not hang a request for minutes: a connection attempt
  // gives up after 5 s, and a connection whose server vanished (no FIN, e.g. a network
  // partition) is declared dead after about 15 s instead of the kernel's two hours.
  if (!has_timeout) {
    keys.push_back("connect_timeout");
    values.push_back("5");
  }
  for (const auto& [key, value] : {std::pair<const char*, const char*>{"keepalives_idle", "5"},
                                   {"keepalives_interval", "2"},
                                   {"keepalives_count", "3"},
                                   {"tcp_user_timeout", "15000"}}) {
    const bool given = std::any_of(info.params_.begin(), info.params_.end(),
                                   [&](const auto& kv) { return kv.first == key; });
    if (!given) {
      keys.push_back(key);
      values.push_back(value);
    }
  }
  keys.push_back("application_name");
  values.push_back("sima-server");
  keys.push_back(nullptr);
  values.push_back(nullptr);
  pg_conn* c = PQconnectdbParams(keys.data(), values.data(), 0);
  if (c == nullptr)
    return Error{ErrorKind::kUnavailable, "cannot connect to PostgreSQL: no memory"};
  if (PQstatus(c) != CONNECTION_OK) {
    std::string why = Trim(PQerrorMessage(c));
    PQfinish(c);
    return Error{ErrorKind::kUnavailable, "cannot connect to PostgreSQL at " + info.display() +
                                              ": " + info.Redact(std::move(why))};
  }
  std::unique_ptr<Conn> conn(new Conn(c, info));
  // Server notices (e.g. "relation already exists, skipping") are not for our log.
  PQsetNoticeProcessor(
      c, [](void*, const char*) {}, nullptr);
  std::string setup = "SET synchronous_commit = on; SET client_min_messages = warning;";
  if (!info.schema().empty()) {
    char* quoted = PQescapeIdentifier(c, info.schema().data(), info.schema().size());
    if (quoted == nullptr) return Error::Internal("cannot quote the schema name");
    setup += "SET search_path TO " + std::string(quoted) + ";";
    PQfreemem(quoted);
  }
  if (auto r = conn->Script(setup); !r) return r.error();
  return conn;
}

Conn::~Conn() { PQfinish(conn_); }

bool Conn::lost() const { return PQstatus(conn_) != CONNECTION_OK; }

bool Conn::broken() const {
  return PQstatus(conn_) != CONNECTION_OK || PQtransactionStatus(conn_) != PQTRANS_IDLE;
}

Error Conn::Fail(pg_result* result, std::string_view what) {
  const char* state = result != nullptr ? PQresultErrorField(result, PG_DIAG_SQLSTATE) : nullptr;
  last_state_ = state != nullptr ? state : "";
  std::string message = result != nullptr ? PQresultErrorMessage(result) : "";
  if (message.empty()) message = PQerrorMessage(conn_);
  message = info_.Redact(Trim(message));
  if (ServerUnavailable(last_state_) || PQstatus(conn_) != CONNECTION_OK) {
    // A 503's message reaches the client: never the SQL or the server's words.
    return {ErrorKind::kUnavailable, "the database is unavailable; try again"};
  }
  if (last_state_ == "40001" || last_state_ == "40P01") {
    return {ErrorKind::kUnavailable, "the database is busy; try again"};
  }
  std::string sql(what);
  if (sql.size() > 80) sql = sql.substr(0, 80) + "...";
  return Error::Internal(message + " (sqlstate " + last_state_ + ") in \"" + sql + "\"");
}

int Conn::Rows(const Result& r) { return PQntuples(r.get()); }

int64_t Conn::Changed(const Result& r) {
  const char* n = PQcmdTuples(r.get());
  if (n != nullptr && *n != '\0') return std::strtoll(n, nullptr, 10);
  return PQntuples(r.get());
}

Expected<std::string> Conn::Prepared(const std::string& sql) {
  auto it = prepared_.find(sql);
  if (it != prepared_.end()) return it->second;
  std::string name = "s" + std::to_string(prepared_.size() + 1);
  pg_result* p = PQprepare(conn_, name.c_str(), sql.c_str(), 0, nullptr);
  const bool ok = p != nullptr && PQresultStatus(p) == PGRES_COMMAND_OK;
  if (!ok) {
    Error e = Fail(p, sql);
    PQclear(p);
    return e;
  }
  PQclear(p);
  prepared_.emplace(sql, name);
  return name;
}

Expected<Conn::Result> Conn::Exec(const std::string& sql, std::vector<Param> params) {
  if (begin_pending_ || !queued_.empty()) {
    queued_.push_back({sql, std::move(params)});
    return Pipeline(queued_);
  }
  auto name = Prepared(sql);
  if (!name) return name.error();
  std::vector<const char*> values;
  values.reserve(params.size());
  for (const Param& p : params) values.push_back(p.c_str());
  pg_result* r = PQexecPrepared(conn_, name->c_str(), static_cast<int>(values.size()),
                                values.data(), nullptr, nullptr, 0);
  const ExecStatusType status = r != nullptr ? PQresultStatus(r) : PGRES_FATAL_ERROR;
  if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK) {
    Error e = Fail(r, sql);
    PQclear(r);
    return e;
  }
  last_state_.clear();
  return Result(r, PQclear);
}

Expected<Conn::Result> Conn::Pipeline(std::vector<Statement>& statements) {
  std::vector<Statement> batch;
  if (begin_pending_) batch.push_back({"BEGIN", {}});
  for (Statement& s : statements) batch.push_back(std::move(s));
  statements.clear();
  begin_pending_ = false;
  // Prepared first, one round trip each the first time a connection meets a statement.
  std::vector<std::string> names;
  for (const Statement& s : batch) {
    if (s.params.empty()) {
      names.emplace_back();  // BEGIN, COMMIT: sent as they are
      continue;
    }
    auto name = Prepared(s.sql);
    if (!name) return name.error();
    names.push_back(std::move(name).value());
  }
  if (PQenterPipelineMode(conn_) != 1) return Fail(nullptr, "pipeline");
  for (size_t i = 0; i < batch.size(); ++i) {
    std::vector<const char*> values;
    for (const Param& p : batch[i].params) values.push_back(p.c_str());
    const int sent = names[i].empty() ? PQsendQueryParams(conn_, batch[i].sql.c_str(), 0, nullptr,
                                                          nullptr, nullptr, nullptr, 0)
                                      : PQsendQueryPrepared(conn_, names[i].c_str(),
                                                            static_cast<int>(values.size()),
                                                            values.data(), nullptr, nullptr, 0);
    if (sent != 1) {
      Error e = Fail(nullptr, batch[i].sql);
      (void)PQexitPipelineMode(conn_);
      return e;
    }
  }
  if (PQpipelineSync(conn_) != 1) {
    Error e = Fail(nullptr, "sync");
    (void)PQexitPipelineMode(conn_);
    return e;
  }
  std::optional<Error> failure;
  Result last;
  for (size_t i = 0; i <= batch.size(); ++i) {
    // Each statement's result, then NULL; after the last, the sync's.
    pg_result* r = PQgetResult(conn_);
    if (r == nullptr) {
      if (!failure) failure = Fail(nullptr, i < batch.size() ? batch[i].sql : "sync");
      break;  // the connection is gone
    }
    const ExecStatusType status = PQresultStatus(r);
    if (i == batch.size()) {
      PQclear(r);  // PGRES_PIPELINE_SYNC
      break;
    }
    if (status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK) {
      last = Result(r, PQclear);
    } else {
      if (!failure && status != PGRES_PIPELINE_ABORTED) failure = Fail(r, batch[i].sql);
      PQclear(r);
    }
    pg_result* end = PQgetResult(conn_);  // NULL ends this statement's results
    if (end != nullptr) PQclear(end);
  }
  (void)PQexitPipelineMode(conn_);
  if (failure) return *failure;
  if (!last) return Fail(nullptr, "pipeline");
  last_state_.clear();
  return last;
}

void Conn::Begin() {
  begin_pending_ = true;
  queued_.clear();
}

ExpectedDone Conn::Commit() {
  if (begin_pending_ && queued_.empty()) {
    begin_pending_ = false;  // nothing was sent, nothing to commit
    return Done{};
  }
  queued_.push_back({"COMMIT", {}});
  auto r = Pipeline(queued_);
  if (!r) return r.error();
  return Done{};
}

void Conn::Rollback() {
  queued_.clear();
  if (begin_pending_) {
    begin_pending_ = false;
    return;
  }
  (void)Script("ROLLBACK");
}

ExpectedDone Conn::Script(const std::string& sql) {
  pg_result* r = PQexec(conn_, sql.c_str());
  const ExecStatusType status = r != nullptr ? PQresultStatus(r) : PGRES_FATAL_ERROR;
  if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK) {
    Error e = Fail(r, sql);
    PQclear(r);
    return e;
  }
  PQclear(r);
  last_state_.clear();
  return Done{};
}

// --- the pool ---

Pool::~Pool() {
  std::lock_guard lock(mu_);
  idle_.clear();
}

Pool::Lease::~Lease() {
  if (pool_ != nullptr) pool_->Return(std::move(conn_), slot_);
}

Expected<Pool::Lease> Pool::Acquire() {
  std::unique_lock lock(mu_);
  if (!slots_ready_) {
    for (int i = size_ - 1; i >= 0; --i) free_slots_.push_back(i);
    slots_ready_ = true;
  }
  // Waits for a connection, first come first served (a request never waits while later ones
  // are served); one that cannot get one in time is answered 503.
  const uint64_t ticket = next_ticket_++;
  waiting_.push_back(ticket);
  const bool got = cv_.wait_for(lock, std::chrono::seconds(10), [&] {
    return waiting_.front() == ticket && (!idle_.empty() || open_ < size_);
  });
  waiting_.erase(std::find(waiting_.begin(), waiting_.end(), ticket));
  cv_.notify_all();  // the next in line may be served too
  if (!got) return Error{ErrorKind::kUnavailable, "all database connections are busy; try again"};
  if (!idle_.empty()) {
    auto [conn, slot] = std::move(idle_.back());
    idle_.pop_back();
    conn->slot_ = slot;
    return Lease(this, std::move(conn), slot);
  }
  ++open_;
  const int slot = free_slots_.back();
  free_slots_.pop_back();
  lock.unlock();
  auto conn = Conn::Open(info_);
  if (!conn) {
    lock.lock();
    --open_;
    free_slots_.push_back(slot);
    cv_.notify_all();
    return conn.error();
  }
  (*conn)->slot_ = slot;
  return Lease(this, std::move(conn).value(), slot);
}

void Pool::Return(std::unique_ptr<Conn> conn, int slot) {
  std::lock_guard lock(mu_);
  if (conn && !conn->broken()) {
    idle_.emplace_back(std::move(conn), slot);
  } else {
    conn.reset();
    --open_;
    free_slots_.push_back(slot);
  }
  cv_.notify_all();
}

void Pool::DropIdle() {
  std::lock_guard lock(mu_);
  for (auto& [conn, slot] : idle_) {
    --open_;
    free_slots_.push_back(slot);
  }
  idle_.clear();
  cv_.notify_all();
}

// --- LISTEN ---

Expected<std::unique_ptr<Listener>> Listener::Open(const ConnInfo& info,
                                                   const std::string& channel) {
  auto conn = Conn::Open(info);
  if (!conn) return conn.error();
  if (auto r = (*conn)->Script("LISTEN " + channel); !r) return r.error();
  return std::unique_ptr<Listener>(new Listener(std::move(conn).value()));
}

int Listener::socket() const { return PQsocket(conn_->conn_); }

int Listener::backend_pid() const { return PQbackendPID(conn_->conn_); }

Expected<std::vector<std::string>> Listener::Drain() {
  pg_conn* c = conn_->conn_;
  // PQconsumeInput fails when the server closed the connection (a terminated backend, a
  // restart); PQstatus then tells it is gone even when the read itself succeeded.
  if (PQconsumeInput(c) == 0 || PQstatus(c) != CONNECTION_OK) {
    return Error{ErrorKind::kUnavailable,
                 "the LISTEN connection to PostgreSQL at " + conn_->info_.display() +
                     " was lost: " + conn_->info_.Redact(Trim(PQerrorMessage(c)))};
  }
  std::vector<std::string> out;
  while (PGnotify* n = PQnotifies(c)) {
    out.emplace_back(n->extra != nullptr ? n->extra : "");
    PQfreemem(n);
  }
  return out;
}

}  // namespace sima::server::pg
