#include "store_factory.h"

#include "pg.h"
#include "pg_store.h"
#include "sqlite_store.h"

namespace sima::server {

Expected<std::unique_ptr<Store>> OpenStore(const Config& config, const Catalog& catalog) {
  const std::chrono::seconds ttl{config.idempotency_ttl_seconds};
  const std::chrono::seconds retention{config.webhook_retention_days * 86400};
  if (pg::IsUrl(config.db)) {
    PgStore::Options options;
    options.url = config.db;
    options.pool_size = static_cast<int>(config.db_pool);
    options.idempotency_ttl = ttl;
    options.webhook_retention = retention;
    options.sessions_per_key = config.sessions_per_key;
    auto store = PgStore::Open(options, catalog);
    if (!store) return store.error();
    return std::unique_ptr<Store>(std::move(store).value());
  }
  SqliteStore::Options options{config.db};
  options.idempotency_ttl = ttl;
  options.webhook_retention = retention;
  options.sessions_per_key = config.sessions_per_key;
  options.wal_limit = config.wal_limit_bytes;
  auto store = SqliteStore::Open(options, catalog);
  if (!store) return store.error();
  return std::unique_ptr<Store>(std::move(store).value());
}

std::string DisplayDb(const std::string& db) {
  if (!pg::IsUrl(db)) return db;
  auto info = pg::ConnInfo::Parse(db);
  return info ? info->display() : "postgresql://(unreadable URL)";
}

}  // namespace sima::server
