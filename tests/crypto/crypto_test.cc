#include "sima/crypto.h"

#include <gtest/gtest.h>

#include <set>

#include "sima/esewa_signature.h"

namespace sima::crypto {
namespace {

constexpr std::string_view kEsewaUatKey = "8gBm/:&EnhH.1/q";

TEST(Crypto, HmacMatchesTheDocumentedRequestVector) {
  EXPECT_EQ(HmacSha256Base64(kEsewaUatKey,
                             "total_amount=110,transaction_uuid=241028,product_code=EPAYTEST"),
            "i94zsd3oXF6ZsSr/kGqT4sSzYQzjj1W/waxjWyRwaME=");
}

// RFC 4231 test case 2: the hex form webhook signatures use.
TEST(Crypto, HmacHexMatchesRfc4231) {
  EXPECT_EQ(HmacSha256Hex("Jefe", "what do ya want for nothing?"),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
}

TEST(Crypto, Sha256HexMatchesTheKnownDigest) {
  EXPECT_EQ(Sha256Hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(Sha256Hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}

TEST(Crypto, Base64RoundTripsWithPadding) {
  for (std::string s : {"", "a", "ab", "abc", "abcd", "{\"total_amount\":\"133.0\"}"}) {
    const std::string encoded = Base64Encode(s);
    EXPECT_EQ(encoded.size() % 4, 0U);
    auto decoded = Base64Decode(encoded);
    ASSERT_TRUE(decoded) << encoded;
    EXPECT_EQ(*decoded, s);
  }
  EXPECT_EQ(Base64Encode("ab"), "YWI=");
}

TEST(Crypto, Base64RejectsWhatIsNotBase64) {
  for (const char* bad : {"YWI", "Y=WI", "YW I", "YW=I", "====", "YWI-", "YWI_"}) {
    EXPECT_FALSE(Base64Decode(bad)) << bad;
  }
}

TEST(Crypto, RandomTokensHaveTheLengthAndAlphabetAndDiffer) {
  std::set<std::string> seen;
  for (int i = 0; i < 200; ++i) {
    const std::string t = RandomToken(32);
    ASSERT_EQ(t.size(), 32u);
    EXPECT_EQ(t.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"),
              std::string::npos);
    seen.insert(t);
  }
  EXPECT_EQ(seen.size(), 200u);
}

TEST(Crypto, ConstantTimeEqualsComparesWholeTexts) {
  EXPECT_TRUE(ConstantTimeEquals("abc", "abc"));
  EXPECT_FALSE(ConstantTimeEquals("abc", "abd"));
  EXPECT_FALSE(ConstantTimeEquals("abc", "abcd"));
  EXPECT_TRUE(ConstantTimeEquals("", ""));
}

TEST(EsewaSignature, SignsTheDocumentedFormExample) {
  const auto message =
      EsewaSigningMessage(SplitSignedFieldNames("total_amount,transaction_uuid,product_code"),
                          [](std::string_view name) -> std::optional<std::string> {
                            if (name == "total_amount") return "110";
                            if (name == "transaction_uuid") return "241028";
                            if (name == "product_code") return "EPAYTEST";
                            return std::nullopt;
                          });
  ASSERT_TRUE(message);
  EXPECT_EQ(*message, "total_amount=110,transaction_uuid=241028,product_code=EPAYTEST");
  EXPECT_EQ(EsewaSign(kEsewaUatKey, *message), "i94zsd3oXF6ZsSr/kGqT4sSzYQzjj1W/waxjWyRwaME=");
}

TEST(EsewaSignature, VerifiesTheRealSandboxResponseOverTheLiteralAmountText) {
  const std::string names =
      "transaction_code,status,total_amount,transaction_uuid,product_code,signed_field_names";
  const auto fields = [&](std::string total) {
    return [&names, total](std::string_view name) -> std::optional<std::string> {
      if (name == "transaction_code") return "0006TY3";
      if (name == "status") return "COMPLETE";
      if (name == "total_amount") return total;
      if (name == "transaction_uuid") return "1234567890";
      if (name == "product_code") return "EPAYTEST";
      if (name == "signed_field_names") return names;
      return std::nullopt;
    };
  };
  const std::string signature = "MFEcMZ/30WVezanVZHH4H1nIV8pGwyzZxggtkye2VXw=";
  const auto literal = EsewaSigningMessage(SplitSignedFieldNames(names), fields("133.0"));
  ASSERT_TRUE(literal);
  EXPECT_TRUE(EsewaVerify(kEsewaUatKey, *literal, signature));
  // "133.0" is signed as text: the number 133 does not verify.
  const auto cast = EsewaSigningMessage(SplitSignedFieldNames(names), fields("133"));
  EXPECT_FALSE(EsewaVerify(kEsewaUatKey, *cast, signature));
  EXPECT_FALSE(EsewaVerify("wrong key", *literal, signature));
}

TEST(EsewaSignature, AMissingNamedFieldGivesNoMessage) {
  EXPECT_FALSE(EsewaSigningMessage({"total_amount", "status"},
                                   [](std::string_view name) -> std::optional<std::string> {
                                     if (name == "total_amount") return "1";
                                     return std::nullopt;
                                   }));
}

TEST(EsewaSignature, SplitsNamesKeepingEmptyOnes) {
  EXPECT_EQ(SplitSignedFieldNames("a,b,c"), (std::vector<std::string>{"a", "b", "c"}));
  EXPECT_EQ(SplitSignedFieldNames("a,,c"), (std::vector<std::string>{"a", "", "c"}));
  EXPECT_EQ(SplitSignedFieldNames(""), (std::vector<std::string>{""}));
}

}  // namespace
}  // namespace sima::crypto
