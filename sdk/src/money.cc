#include "sima/money.h"

namespace sima {

std::string FormatRupees(int64_t paisa, RupeeFormat format) {
  const bool negative = paisa < 0;
  const uint64_t abs =
      negative ? 0ULL - static_cast<uint64_t>(paisa) : static_cast<uint64_t>(paisa);
  const std::string digits = std::to_string(abs / 100);
  std::string out;
  if (negative) out += '-';
  for (size_t i = 0; i < digits.size(); ++i) {
    if (format.thousands && i > 0 && (digits.size() - i) % 3 == 0) out += ',';
    out += digits[i];
  }
  const auto cents = static_cast<int>(abs % 100);
  const int decimals = cents % 10 != 0 ? 2
                       : cents != 0    ? std::max(1, format.min_decimals)
                                       : format.min_decimals;
  if (decimals > 0) {
    out += '.';
    out += static_cast<char>('0' + cents / 10);
    if (decimals > 1) out += static_cast<char>('0' + cents % 10);
  }
  return out;
}

std::optional<int64_t> ParseRupees(std::string_view text, bool allow_thousands) {
  const auto dot = text.find('.');
  const std::string_view whole = text.substr(0, dot);
  const std::string_view frac = dot == std::string_view::npos ? "" : text.substr(dot + 1);
  if (whole.empty() || (dot != std::string_view::npos && frac.empty())) return std::nullopt;
  int64_t paisa = 0;
  size_t digits = 0;
  size_t group = 0;  // digits since the last comma
  bool grouped = false;
  for (char c : whole) {
    if (c == ',' && allow_thousands) {
      // A comma needs 1-3 digits before the first one and exactly 3 between later ones.
      if (digits == 0 || (grouped && group != 3) || group > 3) return std::nullopt;
      grouped = true;
      group = 0;
      continue;
    }
    if (c < '0' || c > '9' || ++digits > 13) return std::nullopt;
    ++group;
    paisa = paisa * 10 + (c - '0');
  }
  if (grouped && group != 3) return std::nullopt;
  paisa *= 100;
  for (size_t i = 0; i < frac.size(); ++i) {
    const char c = frac[i];
    if (c < '0' || c > '9') return std::nullopt;
    if (i == 0) {
      paisa += 10 * (c - '0');
    } else if (i == 1) {
      paisa += c - '0';
    } else if (c != '0') {
      return std::nullopt;  // a fraction of a paisa
    }
  }
  return paisa;
}

}  // namespace sima
