#include "sima/simulator/faults.h"

#include <gtest/gtest.h>

namespace sima::simulator {
namespace {

TEST(SimFaults, DefaultsAreAllOff) {
  const auto j = FaultsToJson(Faults{});
  EXPECT_EQ(j["lookup_http_500"], false);
  EXPECT_EQ(j["redirect_mode"], "normal");
  EXPECT_EQ(j["pending_complete_ms"], 2000);
  EXPECT_EQ(j.size(), FaultCatalog().size());
}

TEST(SimFaults, ASwitchWithACountFiresThatManyTimes) {
  Faults f;
  ASSERT_TRUE(ApplyFaultPatch(f, {{"lookup_http_500", 2}}).ok());
  EXPECT_TRUE(f.lookup_http_500.Take());
  EXPECT_TRUE(f.lookup_http_500.Take());
  EXPECT_FALSE(f.lookup_http_500.Take());
  ASSERT_TRUE(ApplyFaultPatch(f, {{"lookup_http_500", true}}).ok());
  for (int i = 0; i < 5; ++i) EXPECT_TRUE(f.lookup_http_500.Take());
}

TEST(SimFaults, ABadPatchChangesNothing) {
  Faults f;
  const Status error = ApplyFaultPatch(f, {{"lookup_reset", true}, {"no_such_fault", 1}});
  EXPECT_EQ(error.code(), Code::kInvalidArgument);
  EXPECT_EQ(error.message(), "unknown fault 'no_such_fault'");
  EXPECT_FALSE(f.lookup_reset.armed());
  EXPECT_EQ(ApplyFaultPatch(f, {{"redirect_mode", "sideways"}}).code(), Code::kInvalidArgument);
  EXPECT_EQ(ApplyFaultPatch(f, {{"esewa_redirect_mode", "pending_then_complete"}}).code(),
            Code::kInvalidArgument);
  EXPECT_EQ(ApplyFaultPatch(f, {{"lookup_delay_ms", -1}}).code(), Code::kInvalidArgument);
  EXPECT_EQ(ApplyFaultPatch(f, nlohmann::json::array()).code(), Code::kInvalidArgument);
}

}  // namespace
}  // namespace sima::simulator
