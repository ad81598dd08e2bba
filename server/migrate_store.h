// `sima-server migrate-store`: moves a SQLite database into an empty PostgreSQL one, for an
// installation that outgrows one machine (docs/operations.md, "Moving from SQLite to
// PostgreSQL"). Nothing is lost: every table and row is copied in one PostgreSQL transaction
// and the rows of each table are counted on both sides before it commits.
#pragma once

#include <cstdint>
#include <iosfwd>
#include <string>
#include <utility>
#include <vector>

#include "error.h"

namespace sima::server {

// What a copy did.
struct StoreCopy {
  int64_t schema_version = 0;                           // of both databases
  std::vector<std::pair<std::string, int64_t>> tables;  // table, rows copied (= rows in both)
  std::string target;                                   // the URL without its password
};

// Copies the SQLite database at `sqlite_path` into the PostgreSQL database at `pg_url`:
//  1. the SQLite file is migrated to the newest schema (as a starting server would), and the
//     PostgreSQL database gets the same schema version (its own migrations);
//  2. in ONE PostgreSQL transaction that locks every table against writers: each table's rows
//     are inserted in foreign-key order (ids kept), identity and serial sequences are moved
//     past the copied ids, each table's row count is compared with the source's; any
//     difference or error rolls everything back.
// The SQLite file is read in one read transaction (a consistent snapshot); stop the server
// that writes it first, or writes made after the snapshot are not copied.
// Errors: kValidation when there is no SQLite file at `sqlite_path`, `pg_url` is not a
// postgresql:// URL, or the target already holds sima rows ("not empty"); kUnavailable when
// PostgreSQL cannot be reached or refuses the credentials; kInternal for a schema the other
// side does not have (a column or table one store lacks) or a count that differs. No message
// ever contains the password.
Expected<StoreCopy> MigrateStore(const std::string& sqlite_path, const std::string& pg_url);

// The subcommand: `sima-server migrate-store --from FILE (--to URL | --to-file FILE)`.
// Prints the counts per table to `out`, errors to `err`; returns the exit status (0 copied,
// 1 failed, 2 bad usage).
int RunMigrateStore(const std::vector<std::string>& args, std::ostream& out, std::ostream& err);

}  // namespace sima::server
