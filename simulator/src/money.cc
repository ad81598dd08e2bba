#include "money.h"

namespace sima::sim {

std::optional<long long> parse_rupees(std::string_view text) {
  const auto dot = text.find('.');
  const std::string_view whole = text.substr(0, dot);
  const std::string_view frac = dot == std::string_view::npos ? "" : text.substr(dot + 1);
  if (whole.empty() || whole.size() > 13) return std::nullopt;
  if (dot != std::string_view::npos && frac.empty()) return std::nullopt;
  long long paisa = 0;
  for (char c : whole) {
    if (c < '0' || c > '9') return std::nullopt;
    paisa = paisa * 10 + (c - '0');
  }
  paisa *= 100;
  for (std::size_t i = 0; i < frac.size(); ++i) {
    const char c = frac[i];
    if (c < '0' || c > '9') return std::nullopt;
    if (i == 0) paisa += 10 * (c - '0');
    else if (i == 1) paisa += c - '0';
    else if (c != '0') return std::nullopt;
  }
  return paisa;
}

std::string format_rupees(long long paisa, bool thousands) {
  const bool negative = paisa < 0;
  const unsigned long long abs = negative ? 0ULL - static_cast<unsigned long long>(paisa)
                                          : static_cast<unsigned long long>(paisa);
  const std::string digits = std::to_string(abs / 100);
  std::string out;
  if (negative) out.push_back('-');
  for (std::size_t i = 0; i < digits.size(); ++i) {
    if (thousands && i > 0 && (digits.size() - i) % 3 == 0) out.push_back(',');
    out.push_back(digits[i]);
  }
  const auto cents = static_cast<int>(abs % 100);
  out.push_back('.');
  out.push_back(static_cast<char>('0' + cents / 10));
  if (cents % 10 != 0) out.push_back(static_cast<char>('0' + cents % 10));
  return out;
}

double rupees_number(long long paisa) { return static_cast<double>(paisa) / 100.0; }

}  // namespace sima::sim

namespace sima::sim {
std::string format_rupees_display(long long paisa) {
  std::string s = format_rupees(paisa, true);
  if (s.size() >= 2 && s[s.size() - 2] == '.') s.push_back('0');
  return s;
}
}  // namespace sima::sim
