// Time in sima's core is a parameter, never read from a clock: callers pass `now`.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

namespace sima {

using Clock = std::chrono::system_clock;
// A point in time with whole-second precision, UTC.
using Time = std::chrono::sys_seconds;
using Days = std::chrono::days;

// RFC 3339 in UTC with a "Z", e.g. "2026-11-23T10:00:00Z".
std::string FormatTime(Time t);
// Parses RFC 3339 ("2026-11-23T10:00:00Z", "...T10:00:00.123+05:45"); fractions are dropped.
// Returns nullopt for anything else.
std::optional<Time> ParseTime(std::string_view text);

}  // namespace sima
