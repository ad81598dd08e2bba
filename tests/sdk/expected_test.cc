#include "sima/expected.h"

#include <gtest/gtest.h>

#include <string>
#include <type_traits>

#include "sima/status.h"

namespace sima {
namespace {

static_assert(std::is_same_v<Result<int>, Expected<int, Status>>,
              "Result<T> is the one template over Status");

TEST(Expected, HoldsAValue) {
  Expected<std::string, int> e(std::string("paid"));
  ASSERT_TRUE(e.ok());
  EXPECT_TRUE(static_cast<bool>(e));
  EXPECT_EQ(*e, "paid");
  EXPECT_EQ(e->size(), 4u);
  EXPECT_EQ(std::move(e).value(), "paid");
}

TEST(Expected, HoldsAnErrorOfAnyType) {
  Expected<std::string, int> e(42);
  EXPECT_FALSE(e.ok());
  EXPECT_FALSE(static_cast<bool>(e));
  EXPECT_EQ(e.error(), 42);
}

TEST(Expected, ResultSaysOkOrItsStatus) {
  Result<int> good(7);
  EXPECT_TRUE(good.status().ok());
  EXPECT_EQ(good.status().ToString(), "OK");
  Result<int> bad(Status::InvalidPlan("FREE cannot be bought"));
  EXPECT_EQ(bad.status().code(), Code::kInvalidPlan);
  EXPECT_EQ(bad.error().ToString(), "invalid_plan: FREE cannot be bought");
}

}  // namespace
}  // namespace sima
