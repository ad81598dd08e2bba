// Random identifiers shaped like the gateways' own.
#pragma once

#include <string>

namespace sima::simulator {

// 22 characters from the 57-letter alphabet Khalti's pidx values use
// (digits 2-9 and letters without I, l, O, o, 0, 1), e.g. "bZQLD9wRVWo4CdESSfuSsB".
std::string NewKhaltiId();
// An eSewa reference such as "0006TY3": "000" and four of [0-9A-Z].
std::string NewEsewaCode();

}  // namespace sima::simulator
