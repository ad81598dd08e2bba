// The store contract suite: every test runs against each Store implementation — SQLite on a
// temporary file and PostgreSQL on the test cluster (pg_test_cluster.h), each test on a
// database of its own (a fresh file, a fresh schema). What one store guarantees, the other
// must too.
#pragma once

#include <gtest/gtest.h>

#include <memory>
#include <optional>
#include <string>

#include "mail/confirmation.h"
#include "server_fixture.h"
#include "store.h"

namespace sima::server::testing {

enum class StoreKind { kSqlite, kPostgres };

class StoreContract : public ::testing::TestWithParam<StoreKind> {
 protected:
  void SetUp() override;
  void TearDown() override;

  // A new store on this test's database: another sima-server instance (PostgreSQL), or the
  // same file opened again (SQLite). `pool` sizes a PostgreSQL store's pool; `confirmation`
  // replaces the confirmation e-mail's renderer (empty: the store's default).
  // The store reads `catalog_`.
  std::unique_ptr<Store> OpenStore(int pool = 16, ConfirmationRenderer confirmation = {});
  // Closes store_ and opens it again on the same database.
  void Reopen();
  // One integer read with `sql` from this test's database (plain SQL both stores accept).
  int64_t Count(const std::string& sql);
  // The first column of the first row `sql` reads, as text ("" when no row).
  std::string Text(const std::string& sql);

  std::string NewOrgId(const std::string& plan = "FREE",
                       std::optional<std::string> email = "owner@acme.test");
  Invoice Inv() { return Invoice{NewId("inv").value(), 100, std::nullopt, "", now_}; }
  // A PENDING PRO (or `plan`) payment, with a Khalti reference unless `with_reference` is false.
  Payment NewPayment(const std::string& org, const std::string& plan = "PRO",
                     bool with_reference = true);
  // Khalti's lookup answer `status` for `paisa` of a 3900-rupee payment.
  static GatewayAnswer Said(const std::string& status, int64_t paisa);

  TempDir dir_;
  std::string path_ = dir_.path() + "/store.db";
  std::string schema_;
  Time now_ = Time{std::chrono::seconds{1767225600}};
  // The catalog stores are opened with (set it, then Reopen()); it outlives them.
  const Catalog* catalog_ = &Catalog::Default();
  std::unique_ptr<Store> store_;
};

// "sqlite" / "postgres", for test names.
std::string StoreName(const ::testing::TestParamInfo<StoreKind>& info);

}  // namespace sima::server::testing
