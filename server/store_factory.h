// Chooses and opens the store SIMA_DB names: a postgresql:// or postgres:// URL opens the
// PostgreSQL store (several sima-server instances may share it), anything else is the path of
// a SQLite file (one instance, the default).
#pragma once

#include <memory>
#include <string>

#include "config.h"
#include "sima/catalog.h"
#include "store.h"

namespace sima::server {

// Opens the store of config.db with the store settings of `config` (idempotency TTL, sessions
// per key; SIMA_WAL_LIMIT for SQLite, SIMA_DB_POOL for PostgreSQL). `catalog` must outlive
// the store. Errors: as SqliteStore::Open or PgStore::Open, e.g. kUnavailable "cannot connect
// to PostgreSQL at postgresql://sima@127.0.0.1:5433/sima: <reason>" — never the password.
Expected<std::unique_ptr<Store>> OpenStore(const Config& config, const Catalog& catalog);

// config.db as logs may show it: a PostgreSQL URL without its password, a file path as is.
std::string DisplayDb(const std::string& db);

}  // namespace sima::server
