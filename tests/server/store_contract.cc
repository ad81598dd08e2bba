#include "store_contract.h"

#include "auth.h"
#include "pg.h"
#include "pg_store.h"
#include "pg_test_cluster.h"
#include "sima/payment.h"
#include "sqlite.h"
#include "sqlite_store.h"

namespace sima::server::testing {

std::string StoreName(const ::testing::TestParamInfo<StoreKind>& info) {
  return info.param == StoreKind::kSqlite ? "sqlite" : "postgres";
}

void StoreContract::SetUp() {
  if (GetParam() == StoreKind::kPostgres) {
    ASSERT_FALSE(TestPgUrl().empty()) << "no PostgreSQL cluster for the tests";
    schema_ = NewTestSchema();
  }
  store_ = OpenStore();
  ASSERT_NE(store_, nullptr);
}

void StoreContract::TearDown() {
  store_.reset();
  if (!schema_.empty()) DropTestSchema(schema_);
}

std::unique_ptr<Store> StoreContract::OpenStore(int pool, ConfirmationRenderer confirmation) {
  if (GetParam() == StoreKind::kSqlite) {
    SqliteStore::Options options{path_};
    if (confirmation) options.confirmation = std::move(confirmation);
    auto s = SqliteStore::Open(options, *catalog_);
    EXPECT_TRUE(s.ok()) << s.error().message;
    if (!s) return nullptr;
    return std::move(s).value();
  }
  PgStore::Options options;
  options.url = TestPgUrl();
  options.schema = schema_;
  options.pool_size = pool;
  if (confirmation) options.confirmation = std::move(confirmation);
  auto s = PgStore::Open(options, *catalog_);
  EXPECT_TRUE(s.ok()) << s.error().message;
  if (!s) return nullptr;
  return std::move(s).value();
}

void StoreContract::Reopen() {
  store_.reset();
  store_ = OpenStore();
}

int64_t StoreContract::Count(const std::string& sql) {
  if (GetParam() == StoreKind::kSqlite) {
    auto db = sqlite::Db::Open(path_, true);
    EXPECT_TRUE(db.ok());
    auto n = (*db)->QueryInt(sql);
    EXPECT_TRUE(n.ok()) << n.error().message;
    return n ? *n : -1;
  }
  auto info = pg::ConnInfo::Parse(TestPgUrl());
  EXPECT_TRUE(info.ok());
  info.value().set_schema(schema_);
  auto conn = pg::Conn::Open(*info);
  EXPECT_TRUE(conn.ok()) << conn.error().message;
  if (!conn) return -1;
  auto row = (*conn)->One(sql);
  EXPECT_TRUE(row.ok()) << row.error().message;
  return row && *row ? (*row)->Int(0) : -1;
}

std::string StoreContract::Text(const std::string& sql) {
  if (GetParam() == StoreKind::kSqlite) {
    auto db = sqlite::Db::Open(path_, true);
    EXPECT_TRUE(db.ok());
    if (!db) return "";
    auto row = (*db)->One(sql);
    EXPECT_TRUE(row.ok()) << row.error().message;
    return row && *row ? (*row)->Text(0) : "";
  }
  auto info = pg::ConnInfo::Parse(TestPgUrl());
  EXPECT_TRUE(info.ok());
  info.value().set_schema(schema_);
  auto conn = pg::Conn::Open(*info);
  EXPECT_TRUE(conn.ok()) << conn.error().message;
  if (!conn) return "";
  auto row = (*conn)->One(sql);
  EXPECT_TRUE(row.ok()) << row.error().message;
  return row && *row ? (*row)->Text(0) : "";
}

std::string StoreContract::NewOrgId(const std::string& plan, std::optional<std::string> email) {
  const std::string id = NewId("org").value();
  Subscription sub{plan, now_, std::nullopt};
  if (plan != "FREE") sub.end = now_ + Days{30};
  auto r = store_->CreateOrg({id, "Acme", Sha256Hex(id), sub, now_, email});
  EXPECT_TRUE(r.ok()) << r.error().message;
  return id;
}

Payment StoreContract::NewPayment(const std::string& org, const std::string& plan,
                                  bool with_reference) {
  auto p = store_->CreatePayment(org, Provider::kKhalti, plan, NewId("n").value(),
                                 now_ + std::chrono::minutes{15}, now_);
  EXPECT_TRUE(p.ok()) << p.error().message;
  if (!with_reference) return p.value();
  auto a = store_->AttachGatewayReference(p->id, "pidx_" + std::to_string(p->id),
                                          now_ + std::chrono::minutes{30},
                                          now_ + std::chrono::seconds{5}, now_);
  EXPECT_TRUE(a.ok()) << a.error().message;
  return a.value();
}

GatewayAnswer StoreContract::Said(const std::string& status, int64_t paisa) {
  return {FromKhaltiLookup(status, paisa, 390000), "khalti status=" + status, "txn_1"};
}

}  // namespace sima::server::testing
