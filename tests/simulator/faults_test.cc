#include "sima/sim/faults.h"

#include <gtest/gtest.h>

namespace sima::sim {
namespace {

TEST(SimFaults, DefaultsAreAllOff) {
  const auto j = to_json(Faults{});
  EXPECT_EQ(j["lookup_http_500"], false);
  EXPECT_EQ(j["redirect_mode"], "normal");
  EXPECT_EQ(j["pending_complete_ms"], 2000);
  EXPECT_EQ(j.size(), fault_catalog().size());
}

TEST(SimFaults, ASwitchWithACountFiresThatManyTimes) {
  Faults f;
  ASSERT_FALSE(apply_patch(f, {{"lookup_http_500", 2}}));
  EXPECT_TRUE(f.lookup_http_500.take());
  EXPECT_TRUE(f.lookup_http_500.take());
  EXPECT_FALSE(f.lookup_http_500.take());
  ASSERT_FALSE(apply_patch(f, {{"lookup_http_500", true}}));
  for (int i = 0; i < 5; ++i) EXPECT_TRUE(f.lookup_http_500.take());
}

TEST(SimFaults, ABadPatchChangesNothing) {
  Faults f;
  auto error = apply_patch(f, {{"lookup_reset", true}, {"no_such_fault", 1}});
  ASSERT_TRUE(error);
  EXPECT_EQ(*error, "unknown fault 'no_such_fault'");
  EXPECT_FALSE(f.lookup_reset.armed());
  EXPECT_TRUE(apply_patch(f, {{"redirect_mode", "sideways"}}));
  EXPECT_TRUE(apply_patch(f, {{"esewa_redirect_mode", "pending_then_complete"}}));
  EXPECT_TRUE(apply_patch(f, {{"lookup_delay_ms", -1}}));
  EXPECT_TRUE(apply_patch(f, nlohmann::json::array()));
}

}  // namespace
}  // namespace sima::sim
