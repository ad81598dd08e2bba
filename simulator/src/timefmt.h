// Timestamps as the gateways print them.
#pragma once

#include <chrono>
#include <string>

namespace sima::sim {

// Nepal time with microseconds, as Khalti's expires_at: "2023-05-25T16:26:16.471649+05:45".
std::string format_npt(std::chrono::system_clock::time_point t);
// RFC 3339 UTC with milliseconds, for the control API: "2026-11-23T10:00:00.000Z".
std::string format_utc(std::chrono::system_clock::time_point t);

}  // namespace sima::sim
