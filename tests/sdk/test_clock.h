// A fixed, readable clock for the sdk tests: times are written as RFC 3339 text.
#pragma once

#include <gtest/gtest.h>

#include "sima/time.h"

namespace sima::testing {

inline Time At(std::string_view rfc3339) {
  const auto t = ParseTime(rfc3339);
  EXPECT_TRUE(t.has_value()) << rfc3339;
  return t.value_or(Time{});
}

}  // namespace sima::testing
