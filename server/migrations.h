// Numbered schema migrations, recorded in the database itself (table schema_migrations).
// The list is append-only: a released migration is never edited, a change is a new number.
#pragma once

#include <span>
#include <string_view>

#include "sqlite.h"

namespace sima::server {

struct Migration {
  int version;            // 1, 2, 4... strictly increasing (gaps allowed; each is applied once)
  std::string_view name;  // "core", "payments"...
  std::string_view sql;   // one or more statements
};

// sima-server's migrations, in order.
std::span<const Migration> Migrations();

// Applies every migration of `list` newer than the database's, each in its own IMMEDIATE
// transaction together with its schema_migrations row (so concurrent starters cannot both
// apply one). Errors: the failing migration's SQLite error; kInternal if the database was
// written by a newer server (it has a version this list does not know).
ExpectedDone Migrate(sqlite::Db& db, std::span<const Migration> list = Migrations());

// The highest applied version, 0 for a new database.
Expected<int64_t> SchemaVersion(sqlite::Db& db);

}  // namespace sima::server
