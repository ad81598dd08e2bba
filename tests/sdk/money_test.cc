#include "sima/money.h"

#include <gtest/gtest.h>

namespace sima {
namespace {

TEST(Money, FormatsLikeEsewaAnswersByDefault) {
  EXPECT_EQ(FormatRupees(13300), "133.0");
  EXPECT_EQ(FormatRupees(13350), "133.5");
  EXPECT_EQ(FormatRupees(13325), "133.25");
  EXPECT_EQ(FormatRupees(0), "0.0");
}

TEST(Money, FormatsWholeRupeesAndTwoDecimals) {
  EXPECT_EQ(FormatRupees(390000, {.min_decimals = 0}), "3900");
  EXPECT_EQ(FormatRupees(390050, {.min_decimals = 0}), "3900.5");
  EXPECT_EQ(FormatRupees(100000, {.thousands = true, .min_decimals = 2}), "1,000.00");
  EXPECT_EQ(FormatRupees(270000, {.thousands = true}), "2,700.0");
  EXPECT_EQ(FormatRupees(12345678900, {.thousands = true, .min_decimals = 0}), "123,456,789");
  EXPECT_EQ(FormatRupees(-150, {.min_decimals = 2}), "-1.50");
}

TEST(Money, ParsesExactRupeeTexts) {
  EXPECT_EQ(ParseRupees("110"), 11000);
  EXPECT_EQ(ParseRupees("110.0"), 11000);
  EXPECT_EQ(ParseRupees("110.5"), 11050);
  EXPECT_EQ(ParseRupees("110.50"), 11050);
  EXPECT_EQ(ParseRupees("110.500"), 11050);
  EXPECT_EQ(ParseRupees("0"), 0);
}

TEST(Money, RefusesWhatIsNotAnExactAmount) {
  for (const char* bad : {"", ".5", "5.", "-1", "+1", "1e3", " 1", "1 ", "1.005", "1.2.3", "abc",
                          "2,700.0", "12345678901234"}) {
    EXPECT_FALSE(ParseRupees(bad).has_value()) << bad;
  }
}

TEST(Money, AcceptsThousandsSeparatorsOnlyWhenAskedAndWellPlaced) {
  EXPECT_EQ(ParseRupees("2,700.0", true), 270000);
  EXPECT_EQ(ParseRupees("1,234,567", true), 123456700);
  EXPECT_EQ(ParseRupees("2700.0", true), 270000);
  for (const char* bad : {",700", "2,70", "2,7000", "27,00.0", "2,,700", "2700,", "1,234,56"}) {
    EXPECT_FALSE(ParseRupees(bad, true).has_value()) << bad;
  }
}

}  // namespace
}  // namespace sima
