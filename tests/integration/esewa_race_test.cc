// Exactly once under races: the same eSewa success redirect, verifies and the failure target
// for one paid payment, all at the same time.
#include "harness.h"

namespace sima::integration {
namespace {

class IntegrationEsewaRace : public RaceTest {};

TEST_F(IntegrationEsewaRace, ConcurrentCallbacksVerifiesAndFailureTargetsActivateOnce) {
  RaceEsewaConfirmations(NewOrg(), 15);
}

}  // namespace
}  // namespace sima::integration
