#include "timefmt.h"

namespace sima::simulator {

std::string FormatNepalTime(Time t) {
  constexpr auto kNepalOffset = std::chrono::hours{5} + std::chrono::minutes{45};
  std::string text = FormatTime(t + kNepalOffset);  // "2023-05-25T16:26:16Z"
  text.pop_back();
  return text + ".000000+05:45";
}

}  // namespace sima::simulator
