#include "migrate_store.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iomanip>
#include <map>
#include <optional>
#include <ostream>
#include <set>
#include <sstream>

#include "migrations.h"
#include "pg.h"
#include "pg_migrations.h"
#include "sqlite.h"

namespace sima::server {
namespace {

// Rows per INSERT: the rows travel as one JSON parameter (json_populate_recordset).
constexpr size_t kBatchRows = 1000;

// Tables both stores keep for themselves rather than as data.
const std::set<std::string> kNotCopied = {"schema_migrations", "health"};

// Our table and column names are plain identifiers; anything else is refused, so a name can
// be written into SQL as is.
bool PlainName(const std::string& name) {
  if (name.empty() || name.size() > 63) return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
  });
}

struct SqliteTable {
  std::string name;
  bool has_rowid = true;
  std::vector<std::string> columns;
  std::set<std::string> references;  // tables its foreign keys point to
};

Expected<std::vector<SqliteTable>> ReadSqliteTables(sqlite::Db& db) {
  auto tables = db.All(
      "SELECT name, sql FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite\\_%' "
      "ESCAPE '\\' ORDER BY name");
  if (!tables) return tables.error();
  std::vector<SqliteTable> out;
  for (const sqlite::Row& t : *tables) {
    SqliteTable table{t.Text(0), true, {}, {}};
    if (kNotCopied.count(table.name) > 0) continue;
    if (!PlainName(table.name)) {
      return Error::Internal("the SQLite database has a table sima does not know: \"" + table.name +
                             "\"");
    }
    table.has_rowid = t.Text(1).find("WITHOUT ROWID") == std::string::npos;
    auto columns = db.All("PRAGMA table_info(" + table.name + ")");
    if (!columns) return columns.error();
    for (const sqlite::Row& c : *columns) table.columns.push_back(c.Text(1));
    auto keys = db.All("PRAGMA foreign_key_list(" + table.name + ")");
    if (!keys) return keys.error();
    for (const sqlite::Row& k : *keys) {
      if (!k.IsNull(2) && k.Text(2) != table.name) table.references.insert(k.Text(2));
    }
    out.push_back(std::move(table));
  }
  // Referenced tables first, so every foreign key finds its row.
  std::vector<SqliteTable> ordered;
  std::set<std::string> done;
  while (!out.empty()) {
    auto ready = std::find_if(out.begin(), out.end(), [&](const SqliteTable& t) {
      return std::all_of(t.references.begin(), t.references.end(),
                         [&](const std::string& r) { return done.count(r) > 0; });
    });
    if (ready == out.end()) return Error::Internal("the SQLite tables' foreign keys form a cycle");
    done.insert(ready->name);
    ordered.push_back(std::move(*ready));
    out.erase(ready);
  }
  return ordered;
}

struct PgColumn {
  std::string name;
  bool nullable_or_default = false;  // may be left out of an INSERT
  bool identity = false;             // GENERATED ALWAYS AS IDENTITY
  bool sequence = false;             // an identity or serial column: its sequence is advanced
};

Expected<std::vector<PgColumn>> ReadPgColumns(pg::Conn& conn, const std::string& table) {
  auto rows = conn.All(
      "SELECT column_name, is_nullable = 'YES' OR column_default IS NOT NULL OR "
      "is_identity = 'YES', is_identity = 'YES', "
      "pg_get_serial_sequence(quote_ident(table_name), column_name) IS NOT NULL "
      "FROM information_schema.columns WHERE table_schema = current_schema() AND "
      "table_name = $1 ORDER BY ordinal_position",
      table);
  if (!rows) return rows.error();
  std::vector<PgColumn> out;
  for (const pg::Row& r : *rows) out.push_back({r.Text(0), r.Bool(1), r.Bool(2), r.Bool(3)});
  return out;
}

// How one PostgreSQL column is filled from a SQLite table.
struct Source {
  enum Kind { kColumn, kRowid, kZero } kind = kColumn;
};

// The sima rows already in `tables` of the target ("" when none).
Expected<std::string> FirstNonEmpty(pg::Conn& conn, const std::vector<SqliteTable>& tables) {
  for (const SqliteTable& t : tables) {
    auto exists = conn.One("SELECT to_regclass($1) IS NOT NULL", t.name);
    if (!exists) return exists.error();
    if (!(*exists)->Bool(0)) continue;
    auto any = conn.One("SELECT EXISTS (SELECT 1 FROM " + t.name + ")");
    if (!any) return any.error();
    if ((*any)->Bool(0)) return t.name;
  }
  return std::string();
}

Expected<int64_t> CopyTable(sqlite::Db& src, pg::Conn& dst, const SqliteTable& table) {
  auto pg_columns = ReadPgColumns(dst, table.name);
  if (!pg_columns) return pg_columns.error();
  if (pg_columns->empty()) {
    return Error::Internal("PostgreSQL has no table \"" + table.name +
                           "\" (the two schemas differ: run the same sima-server version)");
  }
  std::map<std::string, Source> sources;
  bool overriding = false;
  for (const PgColumn& c : *pg_columns) {
    const bool in_sqlite =
        std::find(table.columns.begin(), table.columns.end(), c.name) != table.columns.end();
    if (in_sqlite) {
      sources[c.name] = {Source::kColumn};
    } else if (c.name == "seq" && c.identity && table.has_rowid) {
      sources[c.name] = {Source::kRowid};  // the order SQLite's rowid gave rows (page cursors)
    } else if (c.name == "shard") {
      sources[c.name] = {Source::kZero};  // a counter's rows: one shard each
    } else if (!c.nullable_or_default) {
      return Error::Internal("cannot fill column " + table.name + "." + c.name +
                             ": SQLite has no such column");
    }
    if (c.identity && sources.count(c.name) > 0) overriding = true;
  }
  for (const std::string& c : table.columns) {
    if (sources.count(c) == 0) {
      return Error::Internal("PostgreSQL has no column " + table.name + "." + c +
                             " (the two schemas differ: run the same sima-server version)");
    }
  }

  // One SELECT in SQLite's order, one INSERT per batch of rows as a JSON array.
  std::vector<std::string> names;
  std::string select;
  for (const auto& [name, source] : sources) {
    if (!PlainName(name)) return Error::Internal("unexpected column name \"" + name + "\"");
    names.push_back(name);
    if (!select.empty()) select += ", ";
    select += source.kind == Source::kColumn  ? name
              : source.kind == Source::kRowid ? std::string("rowid")
                                              : std::string("0");
  }
  select = "SELECT " + select + " FROM " + table.name +
           (table.has_rowid ? " ORDER BY rowid" : " ORDER BY 1");
  auto rows = src.All(select);
  if (!rows) return rows.error();
  std::string list;
  for (const std::string& n : names) list += (list.empty() ? "" : ", ") + n;
  const std::string insert = "INSERT INTO " + table.name + " (" + list + ")" +
                             (overriding ? " OVERRIDING SYSTEM VALUE" : "") + " SELECT " + list +
                             " FROM json_populate_recordset(NULL::" + table.name + ", $1)";
  for (size_t at = 0; at < rows->size(); at += kBatchRows) {
    Json batch = Json::array();
    for (size_t i = at; i < std::min(rows->size(), at + kBatchRows); ++i) {
      Json row = Json::object();
      for (size_t c = 0; c < names.size(); ++c) {
        const auto v = (*rows)[i].OptText(static_cast<int>(c));
        row[names[c]] = v ? Json(*v) : Json(nullptr);
      }
      batch.push_back(std::move(row));
    }
    auto done = dst.Run(insert, batch.dump(-1, ' ', false, Json::error_handler_t::replace));
    if (!done) return done.error();
  }
  // New rows get ids after the copied ones.
  for (const PgColumn& c : *pg_columns) {
    if (!c.sequence) continue;
    auto set = dst.Run("SELECT setval(pg_get_serial_sequence($1, $2), COALESCE(MAX(" + c.name +
                           "), 0) + 1, false) FROM " + table.name,
                       table.name, c.name);
    if (!set) return set.error();
  }
  return static_cast<int64_t>(rows->size());
}

Expected<int64_t> SqliteCount(sqlite::Db& db, const std::string& table) {
  return db.QueryInt("SELECT COUNT(*) FROM " + table);
}

}  // namespace

Expected<StoreCopy> MigrateStore(const std::string& sqlite_path, const std::string& pg_url) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(sqlite_path, ec)) {
    return Error::Validation("from", "no SQLite database at \"" + sqlite_path + "\"");
  }
  if (!pg::IsUrl(pg_url)) {
    return Error::Validation("to", "the target must be a postgresql:// or postgres:// URL");
  }
  auto src = sqlite::Db::Open(sqlite_path);
  if (!src) return src.error();
  sqlite::Db& db = **src;
  (void)db.Exec("PRAGMA busy_timeout = 10000");
  if (auto r = Migrate(db); !r) return r.error();
  auto version = SchemaVersion(db);
  if (!version) return version.error();

  auto info = pg::ConnInfo::Parse(pg_url);
  if (!info) return info.error();
  auto opened = pg::Conn::Open(*info);
  if (!opened) return opened.error();
  pg::Conn& conn = **opened;
  StoreCopy copy;
  copy.schema_version = *version;
  copy.target = info->display();

  auto tables = ReadSqliteTables(db);
  if (!tables) return tables.error();
  auto not_empty = [&](const std::string& table) {
    return Error::Validation("to", "the target database " + copy.target + " is not empty (table " +
                                       table +
                                       " has rows): migrate-store copies only into an empty "
                                       "database, so that no row is mixed with another's");
  };
  if (auto first = FirstNonEmpty(conn, *tables); !first) {
    return first.error();
  } else if (!first->empty()) {
    return not_empty(*first);
  }
  if (auto r = MigratePg(conn, ""); !r) return r.error();
  auto pg_version = conn.One("SELECT COALESCE(MAX(version), 0) FROM schema_migrations");
  if (!pg_version) return pg_version.error();
  if ((*pg_version)->Int(0) != *version) {
    return Error::Internal("the SQLite database has schema version " + std::to_string(*version) +
                           " and PostgreSQL " + std::to_string((*pg_version)->Int(0)) +
                           ": run migrate-store of the sima-server that wrote the SQLite file");
  }

  // One transaction on each side: a snapshot of SQLite, and all or nothing in PostgreSQL.
  auto snapshot = sqlite::Txn::Begin(db, sqlite::Txn::Mode::kDeferred);
  if (!snapshot) return snapshot.error();
  if (auto r = conn.Script("BEGIN"); !r) return r.error();
  auto fail = [&](Error e) {
    (void)conn.Script("ROLLBACK");
    return e;
  };
  std::string names;
  for (const SqliteTable& t : *tables) names += (names.empty() ? "" : ", ") + t.name;
  // A sima-server already running on the target waits (or we do) instead of writing between.
  if (auto r =
          conn.Script("SET LOCAL lock_timeout = '10s'; LOCK TABLE " + names + " IN EXCLUSIVE MODE");
      !r) {
    return fail(r.error());
  }
  if (auto first = FirstNonEmpty(conn, *tables); !first) {
    return fail(first.error());
  } else if (!first->empty()) {
    return fail(not_empty(*first));
  }
  for (const SqliteTable& t : *tables) {
    auto copied = CopyTable(db, conn, t);
    if (!copied) {
      Error e = copied.error();
      e.message = "copying " + t.name + ": " + e.message;
      return fail(e);
    }
    auto source = SqliteCount(db, t.name);
    if (!source) return fail(source.error());
    auto target = conn.One("SELECT COUNT(*) FROM " + t.name);
    if (!target) return fail(target.error());
    if (*source != *copied || (*target)->Int(0) != *source) {
      return fail(Error::Internal("table " + t.name + ": SQLite has " + std::to_string(*source) +
                                  " rows but PostgreSQL " + std::to_string((*target)->Int(0)) +
                                  "; nothing was copied"));
    }
    copy.tables.emplace_back(t.name, *source);
  }
  if (auto r = conn.Script("COMMIT"); !r) return r.error();
  return copy;
}

int RunMigrateStore(const std::vector<std::string>& args, std::ostream& out, std::ostream& err) {
  const char* usage =
      "usage: sima-server migrate-store --from sima.db --to postgresql://user:password@host/db\n"
      "       (or --to-file FILE: the URL in a file, so the password is not in the command line)\n"
      "Copies a SQLite database into an empty PostgreSQL database, every table and row in one\n"
      "transaction, and verifies the rows of each table. Stop the server first.\n";
  std::string from, to, to_file;
  for (size_t i = 0; i < args.size(); ++i) {
    std::string name = args[i], value;
    const size_t eq = name.find('=');
    if (name == "--help" || name == "-h") {
      out << usage;
      return 0;
    }
    if (eq != std::string::npos) {
      value = name.substr(eq + 1);
      name = name.substr(0, eq);
    } else if (i + 1 < args.size()) {
      value = args[++i];
    }
    if (name == "--from") {
      from = value;
    } else if (name == "--to") {
      to = value;
    } else if (name == "--to-file") {
      to_file = value;
    } else {
      err << "sima-server migrate-store: unknown argument \"" << name << "\"\n" << usage;
      return 2;
    }
  }
  if (!to_file.empty()) {
    std::ifstream in(to_file);
    if (!in) {
      err << "sima-server migrate-store: cannot read \"" << to_file << "\"\n";
      return 2;
    }
    std::getline(in, to);
  }
  if (from.empty() || to.empty()) {
    err << usage;
    return 2;
  }
  auto copied = MigrateStore(from, to);
  if (!copied) {
    err << "sima-server migrate-store: " << copied.error().message << "\n";
    return 1;
  }
  int64_t total = 0;
  out << "copied " << from << " (schema version " << copied->schema_version << ") into "
      << copied->target << " in one transaction:\n";
  for (const auto& [table, rows] : copied->tables) {
    out << "  " << std::left << std::setw(20) << table << std::right << std::setw(10) << rows
        << "\n";
    total += rows;
  }
  out << "  " << std::left << std::setw(20) << "total" << std::right << std::setw(10) << total
      << "  rows; every table has as many rows in PostgreSQL as in SQLite\n";
  return 0;
}

}  // namespace sima::server
