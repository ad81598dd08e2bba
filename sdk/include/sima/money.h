// Money as text. sima keeps money as integer paisa everywhere; rupee text exists only at the
// edges (eSewa's form and answers, pages for people). Parsing is strict: a text either is an
// exact amount of paisa or it is refused.
#pragma once

#include <algorithm>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace sima {

struct RupeeFormat {
  bool thousands = false;  // "2,700.0" instead of "2700.0"
  int min_decimals = 1;    // 0: "133", 1: "133.0" (eSewa's answers), 2: "133.00"
};

// Amounts shown to people (payment pages, e-mails): "3,900.00".
inline constexpr RupeeFormat kRupeesForPeople{.thousands = true, .min_decimals = 2};

// Whole rupees of an amount, the fraction dropped (13350 -> 133): the `price` and `amount`
// fields of the API and the catalog. Money stays paisa everywhere else.
constexpr int64_t WholeRupees(int64_t paisa) { return paisa / 100; }

// 13300 -> "133.0", 13350 -> "133.5", 13325 -> "133.25" with the default format; never more
// decimals than needed beyond min_decimals. Negative amounts get a leading '-'.
std::string FormatRupees(int64_t paisa, RupeeFormat format = {});

// "110", "110.0", "110.50", "110.500" -> paisa. With `allow_thousands`, commas are accepted
// between digit groups ("2,700.0" — eSewa has been seen to send it). nullopt for anything
// else: signs, blanks, exponents, fractions of a paisa, more than 13 rupee digits.
std::optional<int64_t> ParseRupees(std::string_view text, bool allow_thousands = false);

}  // namespace sima
