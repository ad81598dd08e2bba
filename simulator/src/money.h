// Rupee amounts as eSewa writes them. Everything is compared in integer paisa.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace sima::sim {

// "110", "110.0", "110.50", "110.500" -> paisa. nullopt for anything else
// (signs, commas, blanks, exponents, more than two significant decimals).
std::optional<long long> parse_rupees(std::string_view text);

// 13300 -> "133.0", 13350 -> "133.5", 13325 -> "133.25" (one decimal at least, as
// eSewa's success data). With thousands: 270000 -> "2,700.0".
std::string format_rupees(long long paisa, bool thousands = false);

// A JSON number with the same value (100.0, 133.25), for the status API.
double rupees_number(long long paisa);

}  // namespace sima::sim

namespace sima::sim {
// For people: 100000 -> "1,000.00".
std::string format_rupees_display(long long paisa);
}  // namespace sima::sim
