// Timestamps as the gateways print them. The control API uses sima::FormatTime (RFC 3339 UTC).
#pragma once

#include <string>

#include "sima/time.h"

namespace sima::simulator {

// Nepal time as Khalti's expires_at, with its six fraction digits (always zero here: times are
// whole seconds): "2023-05-25T16:26:16.000000+05:45".
std::string FormatNepalTime(Time t);

}  // namespace sima::simulator
