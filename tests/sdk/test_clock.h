// A fixed, readable clock for the sdk tests: times are written as RFC 3339 text, and the
// subscriptions the tables use are seen from 2026-12-01.
#pragma once

#include <gtest/gtest.h>

#include <string>

#include "sima/subscription.h"
#include "sima/time.h"

namespace sima::testing {

inline Time At(std::string_view rfc3339) {
  const auto t = ParseTime(rfc3339);
  EXPECT_TRUE(t.has_value()) << rfc3339;
  return t.value_or(Time{});
}

// FREE since 2026-11-01, never ending.
inline Subscription Free() { return {"FREE", At("2026-11-01T00:00:00Z"), std::nullopt}; }
// `plan` in force from 2026-11-15 to 2026-12-15.
inline Subscription Active(std::string plan) {
  return {std::move(plan), At("2026-11-15T00:00:00Z"), At("2026-12-15T00:00:00Z")};
}
// `plan` that ran from 2026-10-01 to 2026-10-31.
inline Subscription Expired(std::string plan) {
  return {std::move(plan), At("2026-10-01T00:00:00Z"), At("2026-10-31T00:00:00Z")};
}

}  // namespace sima::testing
