// Numbered schema migrations of the PostgreSQL store, recorded in the database itself (table
// schema_migrations), numbered like the SQLite ones (migrations.h): version N holds the same
// tables in both, so a database moved from one to the other keeps its version.
#pragma once

#include <span>

#include "migrations.h"
#include "pg.h"

namespace sima::server {

// The PostgreSQL store's migrations, in order.
std::span<const Migration> PgMigrations();

// Applies every migration of `list` the database lacks, in one transaction that first takes a
// transaction-scoped advisory lock: instances starting together wait for each other, and the
// second finds everything applied. `schema`, when not empty, is created first (the
// connection's search_path names it). Errors: the failing migration's message; kInternal if
// the database was written by a newer server.
ExpectedDone MigratePg(pg::Conn& conn, const std::string& schema,
                       std::span<const Migration> list = PgMigrations());

}  // namespace sima::server
