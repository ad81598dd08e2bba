// Exactly once under races: many verifies and callbacks for one paid payment at the same time.
#include "harness.h"

namespace sima::integration {
namespace {

class IntegrationKhaltiRace : public RaceTest {};

TEST_F(IntegrationKhaltiRace, FiftyVerifiesAndCallbacksActivateOnceAndAgree) {
  const Json verified = RaceKhaltiConfirmations(NewOrg(), 50, 20);
  EXPECT_EQ(CountRows("SELECT COUNT(*) FROM subscriptions WHERE plan = 'PRO'"), 1);
  EXPECT_TRUE(verified["subscription"]["end_date"].is_string());
}

}  // namespace
}  // namespace sima::integration
