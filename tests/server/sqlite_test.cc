// The SQLite query layer on its own (sqlite.h): one call binds every value and reads rows.
#include "sqlite.h"

#include <gtest/gtest.h>

#include "server_fixture.h"

namespace sima::server::testing {
namespace {

class ServerSqlite : public ::testing::Test {
 protected:
  void SetUp() override {
    auto opened = sqlite::Db::Open(dir_.path() + "/q.db");
    ASSERT_TRUE(opened.ok()) << opened.error().message;
    db_ = std::move(opened).value();
    ASSERT_TRUE(db_->Exec("CREATE TABLE t(id INTEGER PRIMARY KEY, name TEXT, at INTEGER, "
                          "flag INTEGER, note TEXT)")
                    .ok());
  }
  TempDir dir_;
  std::unique_ptr<sqlite::Db> db_;
  const Time at_ = FromUnixSeconds(1767225600);
};

TEST_F(ServerSqlite, BindsEveryValueInOneCallAndReadsThemBackTyped) {
  const std::optional<std::string> none;
  ASSERT_TRUE(
      db_->Run("INSERT INTO t(name, at, flag, note) VALUES (?, ?, ?, ?)", "acme", at_, true, none)
          .ok());
  ASSERT_TRUE(db_->Run("INSERT INTO t(name, at, flag, note) VALUES (?, ?, ?, ?)",
                       std::string("beta"), std::optional<Time>(), false,
                       std::optional<std::string>("hi"))
                  .ok());
  EXPECT_EQ(db_->changes(), 1);
  EXPECT_EQ(db_->last_insert_rowid(), 2);

  auto rows = db_->All("SELECT id, name, at, flag, note FROM t ORDER BY id");
  ASSERT_TRUE(rows.ok()) << rows.error().message;
  ASSERT_EQ(rows->size(), 2u);
  const sqlite::Row& a = (*rows)[0];
  EXPECT_EQ(a.Int(0), 1);
  EXPECT_EQ(a.Text(1), "acme");
  EXPECT_EQ(a.At(2), at_);
  EXPECT_EQ(a.Int(2), 1767225600);  // times are stored as Unix seconds
  EXPECT_TRUE(a.Bool(3));
  EXPECT_TRUE(a.IsNull(4));
  EXPECT_EQ(a.OptText(4), std::nullopt);
  const sqlite::Row& b = (*rows)[1];
  EXPECT_EQ(b.OptAt(2), std::nullopt);  // an empty optional bound NULL
  EXPECT_FALSE(b.Bool(3));
  EXPECT_EQ(b.OptText(4), "hi");
  EXPECT_EQ(b.OptInt(0), 2);
}

TEST_F(ServerSqlite, OneIsTheFirstRowOrNone) {
  ASSERT_TRUE(db_->Run("INSERT INTO t(name) VALUES (?), (?)", "a", "b").ok());
  auto first = db_->One("SELECT name FROM t WHERE id >= ? ORDER BY id", 1);
  ASSERT_TRUE(first.ok());
  ASSERT_TRUE(first->has_value());
  EXPECT_EQ((*first)->Text(0), "a");
  auto none = db_->One("SELECT name FROM t WHERE name = ?", "zzz");
  ASSERT_TRUE(none.ok());
  EXPECT_FALSE(none->has_value());
  EXPECT_EQ(*db_->QueryInt("SELECT COUNT(*) FROM t WHERE name <> ?", "a"), 1);
  // The cached statement was reset: it runs again with new values.
  auto again = db_->One("SELECT name FROM t WHERE id >= ? ORDER BY id", 2);
  ASSERT_TRUE(again.ok() && again->has_value());
  EXPECT_EQ((*again)->Text(0), "b");
}

TEST_F(ServerSqlite, ErrorsCarrySqlitesMessage) {
  auto bad = db_->Run("INSERT INTO nowhere VALUES (?)", 1);
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().message.find("no such table: nowhere"), std::string::npos);
  // A value bound past the statement's parameters is refused when it runs.
  auto extra = db_->Run("INSERT INTO t(name) VALUES (?)", "a", "b");
  ASSERT_FALSE(extra.ok());
  EXPECT_NE(extra.error().message.find("column index out of range"), std::string::npos);
  EXPECT_EQ(*db_->QueryInt("SELECT COUNT(*) FROM t"), 0);
}

}  // namespace
}  // namespace sima::server::testing
