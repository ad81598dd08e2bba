// eSewa ePay v2: the form, the payment page and the success/failure redirects.
#include "sim_fixture.h"

namespace sima::simulator::testing {
namespace {

class SimEsewa : public SimTest {
 protected:
  httplib::Result Form(const Params& fields) { return PostForm("/api/epay/main/v2/form", fields); }
  httplib::Result Pay(const std::string& uuid, const std::string& action = "pay",
                      const std::string& password = "Nepal@123") {
    return PostForm("/esewa/pay/", {{"transaction_uuid", uuid},
                                    {"esewa_id", "9806800001"},
                                    {"password", password},
                                    {"token", "123456"},
                                    {"action", action}});
  }
  // The decoded ?data= JSON text of a success redirect.
  static std::string DataJson(const std::string& location) {
    const Location loc = ParseLocation(location);
    auto decoded = sima::crypto::Base64Decode(loc.Param("data"));
    EXPECT_TRUE(decoded) << location;
    return decoded.value_or("");
  }
  static std::string ResponseMessage(const json& d) {
    return "transaction_code=" + d["transaction_code"].get<std::string>() +
           ",status=" + d["status"].get<std::string>() +
           ",total_amount=" + d["total_amount"].get<std::string>() +
           ",transaction_uuid=" + d["transaction_uuid"].get<std::string>() +
           ",product_code=" + d["product_code"].get<std::string>() +
           ",signed_field_names=" + d["signed_field_names"].get<std::string>();
  }
  static void ExpectRejected(const httplib::Result& res, const std::string& text) {
    ASSERT_TRUE(res);
    EXPECT_EQ(res->status, 400);
    EXPECT_NE(res->body.find(text), std::string::npos) << res->body;
  }
};

TEST_F(SimEsewa, AcceptsAFormWithAValidSignatureAndShowsThePaymentPage) {
  auto res = Form(EsewaFields("241028"));
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200) << res->body;
  EXPECT_NE(res->body.find("Pay with eSewa"), std::string::npos);
  EXPECT_NE(res->body.find("Rs. 110.00"), std::string::npos);
  EXPECT_NE(res->body.find("Sandbox: use <code>9806800001</code> / <code>Nepal@123</code> / "
                           "<code>123456</code>"),
            std::string::npos);
  for (const char* id : {"esewa_id", "password", "token"}) {
    EXPECT_NE(res->body.find(std::string("<label for=\"") + id + "\">"), std::string::npos);
  }
  EXPECT_EQ(HttpClient().Get("/esewa/pay/?transaction_uuid=241028")->status, 200);
}

TEST_F(SimEsewa, RejectsABadSignatureWithES104) {
  Params f = EsewaFields("241028");
  SetField(f, "signature", "4Ov7pCI1zIOdwtV2BRMUNjz1upIlT/COTxfLhWvVurE=");
  ExpectRejected(Form(f), "ES104 Invalid payload signature");
  f = EsewaFields("241028");
  SetField(f, "amount", "99");  // not signed, but then the total is wrong
  ExpectRejected(Form(f), "Invalid total amount");
  f = EsewaFields("241028");
  SetField(f, "total_amount", "111");  // signed field changed after signing
  ExpectRejected(Form(f), "ES104 Invalid payload signature");
  f = EsewaFields("241028");
  SetField(f, "signed_field_names", "total_amount,transaction_uuid");
  ExpectRejected(Form(f), "ES104 Invalid payload signature");
  EXPECT_EQ(json::parse(HttpClient().Get("/_sim/payments")->body)["esewa"].size(), 0U);
}

TEST_F(SimEsewa, EnforcesTheTotalFormulaInPaisa) {
  Params f = EsewaFields("t-1", "100.50", "13.07", "113.57");
  SetField(f, "product_service_charge", "0.00");
  EXPECT_EQ(Form(f)->status, 200);
  ExpectRejected(Form(EsewaFields("t-2", "100", "10", "100")), "Invalid total amount");
  ExpectRejected(Form(EsewaFields("t-3", "100", "10", "110.001")), "Invalid total amount");
  ExpectRejected(Form(EsewaFields("t-4", "1,00", "10", "110")), "Invalid amount");
}

TEST_F(SimEsewa, RequiresEveryFieldAndTheProductCode) {
  Params f = EsewaFields("t-1");
  SetField(f, "product_delivery_charge", "");
  ExpectRejected(Form(f), "product_delivery_charge");
  f = EsewaFields("t-1");
  SetField(f, "product_code", "OTHER");
  ExpectRejected(Form(f), "Invalid product code");
}

TEST_F(SimEsewa, TransactionUuidIsLettersDigitsAndHyphensOnly) {
  ExpectRejected(Form(EsewaFields("order_1")), "Invalid transaction_uuid");
  ExpectRejected(Form(EsewaFields("order 1")), "Invalid transaction_uuid");
  EXPECT_EQ(Form(EsewaFields("Order-1-abc"))->status, 200);
}

TEST_F(SimEsewa, RejectsADuplicateTransactionUuid) {
  EXPECT_EQ(Form(EsewaFields("dup-1"))->status, 200);
  ExpectRejected(Form(EsewaFields("dup-1")), "Duplicate transaction_uuid");
}

TEST_F(SimEsewa, WrongCredentialsShowThePageAgain) {
  ASSERT_EQ(Form(EsewaFields("c-1"))->status, 200);
  auto res = Pay("c-1", "pay", "wrong");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 400);
  EXPECT_NE(res->body.find("Incorrect eSewa ID, password or token"), std::string::npos);
  EXPECT_EQ(json::parse(HttpClient().Get("/_sim/esewa/c-1")->body)["status"], "PENDING");
}

TEST_F(SimEsewa, PayRedirectsToSuccessUrlWithSignedData) {
  ASSERT_EQ(Form(EsewaFields("1234567890", "133", "0", "133"))->status, 200);
  auto res = Pay("1234567890");
  ASSERT_TRUE(res);
  ASSERT_EQ(res->status, 302);
  const std::string location = res->get_header_value("Location");
  EXPECT_EQ(location.rfind("http://shop.example.com/esewa/success/?data=", 0), 0U) << location;
  const std::string text = DataJson(location);
  std::vector<std::string> keys;
  const auto ordered = nlohmann::ordered_json::parse(text);
  for (const auto& [k, v] : ordered.items()) keys.push_back(k);
  EXPECT_EQ(keys, (std::vector<std::string>{"transaction_code", "status", "total_amount",
                                            "transaction_uuid", "product_code",
                                            "signed_field_names", "signature"}));
  const json d = json::parse(text);
  EXPECT_TRUE(
      MadeOf(d["transaction_code"].get<std::string>(), "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ", 7));
  EXPECT_EQ(d["status"], "COMPLETE");
  EXPECT_EQ(d["total_amount"], "133.0");
  EXPECT_EQ(d["transaction_uuid"], "1234567890");
  EXPECT_EQ(d["product_code"], "EPAYTEST");
  EXPECT_EQ(
      d["signed_field_names"],
      "transaction_code,status,total_amount,transaction_uuid,product_code,signed_field_names");
  EXPECT_EQ(d["signature"], sima::crypto::HmacSha256Base64(kEsewaKey, ResponseMessage(d)));
  EXPECT_EQ(json::parse(HttpClient().Get("/_sim/esewa/1234567890")->body)["ref_id"],
            d["transaction_code"]);
}

TEST_F(SimEsewa, SuccessDataIsAppendedWithAmpersandToAQuery) {
  Params f = EsewaFields("q-1");
  SetField(f, "success_url", "http://shop.example.com/esewa/success/?payment_id=9");
  ASSERT_EQ(Form(f)->status, 200);
  auto res = Control("/_sim/esewa/q-1/pay");
  ASSERT_EQ(res->status, 200) << res->body;
  const json body = json::parse(res->body);
  const std::string url = body["redirect_url"];
  EXPECT_EQ(url.rfind("http://shop.example.com/esewa/success/?payment_id=9&data=", 0), 0U) << url;
  EXPECT_EQ(ParseLocation(url).Param("data"), body["data"]);
  EXPECT_EQ(
      json::parse(*sima::crypto::Base64Decode(body["data"].get<std::string>()))["total_amount"],
      "110.0");
}

TEST_F(SimEsewa, ThousandsSeparatorFaultSignsTheValueWithoutTheComma) {
  ASSERT_EQ(Form(EsewaFields("k-1", "2700", "0", "2700"))->status, 200);
  SetFaults({{"esewa_thousands_separator", true}});
  auto res = Control("/_sim/esewa/k-1/pay");
  const json d =
      json::parse(*sima::crypto::Base64Decode(json::parse(res->body)["data"].get<std::string>()));
  EXPECT_EQ(d["total_amount"], "2,700.0");
  json unseparated = d;
  unseparated["total_amount"] = "2700.0";
  EXPECT_EQ(d["signature"],
            sima::crypto::HmacSha256Base64(kEsewaKey, ResponseMessage(unseparated)));
  EXPECT_NE(d["signature"], sima::crypto::HmacSha256Base64(kEsewaKey, ResponseMessage(d)));
}

TEST_F(SimEsewa, CancelRedirectsToFailureUrlWithNothingAdded) {
  ASSERT_EQ(Form(EsewaFields("f-1"))->status, 200);
  auto res = Pay("f-1", "cancel", "");
  ASSERT_TRUE(res);
  ASSERT_EQ(res->status, 302);
  EXPECT_EQ(res->get_header_value("Location"),
            "http://shop.example.com/esewa/failure/?payment_id=7");
  EXPECT_EQ(json::parse(HttpClient().Get("/_sim/esewa/f-1")->body)["status"], "CANCELED");
}

TEST_F(SimEsewa, AmountDeltaAndRawDataFaults) {
  ASSERT_EQ(Form(EsewaFields("d-1"))->status, 200);
  SetFaults({{"esewa_amount_delta_paisa", -1000}, {"esewa_data_raw", true}});
  auto res = Control("/_sim/esewa/d-1/pay");
  const json body = json::parse(res->body);
  const std::string url = body["redirect_url"];
  EXPECT_EQ(url, "http://shop.example.com/esewa/success/?data=" + body["data"].get<std::string>());
  const json d = json::parse(*sima::crypto::Base64Decode(body["data"].get<std::string>()));
  EXPECT_EQ(d["total_amount"], "100.0");
  EXPECT_EQ(d["signature"], sima::crypto::HmacSha256Base64(kEsewaKey, ResponseMessage(d)));
}

TEST_F(SimEsewa, RedirectNeverAndTwice) {
  CountingServer merchant;
  Params f = EsewaFields("r-1");
  SetField(f, "success_url", merchant.Url("/esewa/success/"));
  ASSERT_EQ(Form(f)->status, 200);
  SetFaults({{"esewa_redirect_mode", "twice"}, {"duplicate_delay_ms", 0}});
  auto res = Control("/_sim/esewa/r-1/pay");
  ASSERT_TRUE(json::parse(res->body)["redirect_url"].is_string());
  EXPECT_EQ(merchant.WaitFor(1), 1);

  ASSERT_EQ(Form(EsewaFields("r-2"))->status, 200);
  SetFaults({{"esewa_redirect_mode", "never"}});
  res = Pay("r-2");
  EXPECT_EQ(res->status, 200);
  EXPECT_NE(res->body.find("Payment received. You may close this window."), std::string::npos);
}

}  // namespace
}  // namespace sima::simulator::testing
