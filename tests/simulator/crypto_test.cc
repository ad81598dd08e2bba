#include "sima/sim/crypto.h"

#include <gtest/gtest.h>

namespace sima::sim {
namespace {

TEST(SimCrypto, HmacMatchesTheDocumentedRequestVector) {
  EXPECT_EQ(hmac_sha256_base64("8gBm/:&EnhH.1/q",
                               "total_amount=110,transaction_uuid=241028,product_code=EPAYTEST"),
            "i94zsd3oXF6ZsSr/kGqT4sSzYQzjj1W/waxjWyRwaME=");
}

TEST(SimCrypto, HmacMatchesTheRealSandboxResponse) {
  EXPECT_EQ(hmac_sha256_base64(
                "8gBm/:&EnhH.1/q",
                "transaction_code=0006TY3,status=COMPLETE,total_amount=133.0,transaction_uuid="
                "1234567890,product_code=EPAYTEST,signed_field_names=transaction_code,status,"
                "total_amount,transaction_uuid,product_code,signed_field_names"),
            "MFEcMZ/30WVezanVZHH4H1nIV8pGwyzZxggtkye2VXw=");
}

TEST(SimCrypto, Base64RoundTripsWithPadding) {
  for (std::string s : {"", "a", "ab", "abc", "abcd", "{\"total_amount\":\"133.0\"}"}) {
    const std::string encoded = base64_encode(s);
    EXPECT_EQ(encoded.size() % 4, 0U);
    auto decoded = base64_decode(encoded);
    ASSERT_TRUE(decoded) << encoded;
    EXPECT_EQ(*decoded, s);
  }
  EXPECT_EQ(base64_encode("ab"), "YWI=");
}

TEST(SimCrypto, Base64RejectsWhatIsNotBase64) {
  EXPECT_FALSE(base64_decode("YWI"));
  EXPECT_FALSE(base64_decode("Y=WI"));
  EXPECT_FALSE(base64_decode("YW I"));
}

}  // namespace
}  // namespace sima::sim
