#include "sima/text.h"

#include <gtest/gtest.h>

namespace sima {
namespace {

TEST(Text, ClassifiesAsciiDigitsLettersAndHex) {
  EXPECT_TRUE(IsAsciiDigit('0') && IsAsciiDigit('9'));
  EXPECT_FALSE(IsAsciiDigit('a') || IsAsciiDigit('/') || IsAsciiDigit(':'));
  EXPECT_TRUE(IsAsciiAlnum('z') && IsAsciiAlnum('A') && IsAsciiAlnum('5'));
  EXPECT_FALSE(IsAsciiAlnum('-') || IsAsciiAlnum('_') || IsAsciiAlnum('\xC3'));
  EXPECT_EQ(HexDigitValue('0'), 0);
  EXPECT_EQ(HexDigitValue('a'), 10);
  EXPECT_EQ(HexDigitValue('F'), 15);
  EXPECT_EQ(HexDigitValue('g'), -1);
}

TEST(Text, ChangesTheCaseOfAsciiLettersOnly) {
  EXPECT_EQ(AsciiLower("Bearer ABC-xyz_09"), "bearer abc-xyz_09");
  EXPECT_EQ(AsciiUpper("complete_Refund"), "COMPLETE_REFUND");
  EXPECT_EQ(AsciiLower("\xC3\x89T\xC3\x89"), "\xC3\x89t\xC3\x89");  // "ÉTÉ": only the T
  EXPECT_EQ(AsciiLower(""), "");
}

TEST(Text, ComparesIgnoringAsciiCase) {
  EXPECT_TRUE(EqualsIgnoreCase("User canceled", "user CANCELED"));
  EXPECT_TRUE(EqualsIgnoreCase("", ""));
  EXPECT_FALSE(EqualsIgnoreCase("Completed", "Complete"));
  EXPECT_FALSE(EqualsIgnoreCase("a-b", "a_b"));
}

TEST(Text, TrimsSpacesAndTabsOrTheGivenBytes) {
  EXPECT_EQ(Trim(" \t application/json \t"), "application/json");
  EXPECT_EQ(Trim("  "), "");
  EXPECT_EQ(Trim(""), "");
  EXPECT_EQ(Trim("\r\nkey\n"), "\r\nkey\n");  // CR and LF only when asked
  EXPECT_EQ(Trim("\r\n key \n", " \t\r\n"), "key");
  EXPECT_EQ(Trim(" a b "), "a b");
  EXPECT_EQ(TrimEnd("http://x/a//", "/"), "http://x/a");
  EXPECT_EQ(TrimEnd("///", "/"), "");
  EXPECT_EQ(TrimEnd("secret\r\n", "\r\n"), "secret");
  EXPECT_EQ(TrimEnd(" keep ", "/"), " keep ");
}

TEST(Text, EncodesBytesAsLowerCaseHex) {
  EXPECT_EQ(HexEncode(std::string("\x00\x01\xab\xff", 4)), "0001abff");
  EXPECT_EQ(HexEncode(""), "");
}

TEST(Text, PercentEncodesAllButTheUnreservedCharacters) {
  EXPECT_EQ(PercentEncode("User canceled"), "User%20canceled");
  EXPECT_EQ(PercentEncode("a+b/c=d&e"), "a%2Bb%2Fc%3Dd%26e");
  EXPECT_EQ(PercentEncode("AZaz09-._~"), "AZaz09-._~");
  EXPECT_EQ(PercentEncode("\xc3\xa9"), "%C3%A9");  // UTF-8 bytes, upper-case hex
  EXPECT_EQ(PercentEncode(""), "");
}

TEST(Text, PercentDecodesAndKeepsWhatIsNotAnEscape) {
  EXPECT_EQ(PercentDecode("User%20canceled"), "User canceled");
  EXPECT_EQ(PercentDecode("%c3%A9"), "\xc3\xa9");
  EXPECT_EQ(PercentDecode("a+b"), "a+b");
  EXPECT_EQ(PercentDecode("a+b", /*plus_is_space=*/true), "a b");
  EXPECT_EQ(PercentDecode("100%"), "100%");
  EXPECT_EQ(PercentDecode("%4"), "%4");
  EXPECT_EQ(PercentDecode("%zz%41"), "%zzA");
  EXPECT_EQ(PercentDecode(PercentEncode("a b/c?d=e&f\xff")), "a b/c?d=e&f\xff");
}

TEST(Text, BuildsAndParsesQueriesInOrder) {
  const QueryParams params = {{"status", "User canceled"}, {"data", "a+b/="}, {"empty", ""}};
  const std::string query = BuildQuery(params);
  EXPECT_EQ(query, "status=User%20canceled&data=a%2Bb%2F%3D&empty=");
  EXPECT_EQ(ParseQuery(query), params);
  EXPECT_EQ(ParseQuery("a=1&a=2&flag"), (QueryParams{{"a", "1"}, {"a", "2"}, {"flag", ""}}));
  EXPECT_EQ(ParseQuery("raw=ab+c="), (QueryParams{{"raw", "ab+c="}}));
  EXPECT_TRUE(ParseQuery("").empty());
  EXPECT_EQ(BuildQuery({}), "");
}

TEST(Text, AppendsAQueryBeforeTheFragment) {
  EXPECT_EQ(AppendQuery("http://x/cb", "a=1"), "http://x/cb?a=1");
  EXPECT_EQ(AppendQuery("http://x/cb?id=7", "a=1"), "http://x/cb?id=7&a=1");
  EXPECT_EQ(AppendQuery("http://x/cb?", "a=1"), "http://x/cb?a=1");
  EXPECT_EQ(AppendQuery("http://x/cb?id=7&", "a=1"), "http://x/cb?id=7&a=1");
  EXPECT_EQ(AppendQuery("http://x/cb#top", "a=1"), "http://x/cb?a=1#top");
}

TEST(Text, EscapesHtmlTextAndAttributeValues) {
  EXPECT_EQ(HtmlEscape(R"(<a href="x">Tom & Jerry's</a>)"),
            "&lt;a href=&quot;x&quot;&gt;Tom &amp; Jerry&#39;s&lt;/a&gt;");
  EXPECT_EQ(HtmlEscape("सीमा"), "सीमा");
  EXPECT_EQ(HtmlEscape(""), "");
}

}  // namespace
}  // namespace sima
