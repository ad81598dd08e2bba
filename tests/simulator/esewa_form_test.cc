// eSewa ePay v2: the form, the payment page and the success/failure redirects.
#include "sim_fixture.h"

namespace sima::sim::testing {
namespace {

class SimEsewa : public SimTest {
 protected:
  httplib::Result form(const Params& fields) { return post_form("/api/epay/main/v2/form", fields); }
  httplib::Result pay(const std::string& uuid, const std::string& action = "pay",
                      const std::string& password = "Nepal@123") {
    return post_form("/esewa/pay/", {{"transaction_uuid", uuid},
                                     {"esewa_id", "9806800001"},
                                     {"password", password},
                                     {"token", "123456"},
                                     {"action", action}});
  }
  // The decoded ?data= JSON text of a success redirect.
  static std::string data_json(const std::string& location) {
    const Location loc = parse_location(location);
    auto decoded = sima::crypto::Base64Decode(loc.param("data"));
    EXPECT_TRUE(decoded) << location;
    return decoded.value_or("");
  }
  static std::string response_message(const json& d) {
    return "transaction_code=" + d["transaction_code"].get<std::string>() +
           ",status=" + d["status"].get<std::string>() +
           ",total_amount=" + d["total_amount"].get<std::string>() +
           ",transaction_uuid=" + d["transaction_uuid"].get<std::string>() +
           ",product_code=" + d["product_code"].get<std::string>() +
           ",signed_field_names=" + d["signed_field_names"].get<std::string>();
  }
  static void expect_rejected(const httplib::Result& res, const std::string& text) {
    ASSERT_TRUE(res);
    EXPECT_EQ(res->status, 400);
    EXPECT_NE(res->body.find(text), std::string::npos) << res->body;
  }
};

TEST_F(SimEsewa, AcceptsAFormWithAValidSignatureAndShowsThePaymentPage) {
  auto res = form(esewa_fields("241028"));
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
  EXPECT_EQ(client().Get("/esewa/pay/?transaction_uuid=241028")->status, 200);
}

TEST_F(SimEsewa, RejectsABadSignatureWithES104) {
  Params f = esewa_fields("241028");
  set_field(f, "signature", "4Ov7pCI1zIOdwtV2BRMUNjz1upIlT/COTxfLhWvVurE=");
  expect_rejected(form(f), "ES104 Invalid payload signature");
  f = esewa_fields("241028");
  set_field(f, "amount", "99");  // not signed, but then the total is wrong
  expect_rejected(form(f), "Invalid total amount");
  f = esewa_fields("241028");
  set_field(f, "total_amount", "111");  // signed field changed after signing
  expect_rejected(form(f), "ES104 Invalid payload signature");
  f = esewa_fields("241028");
  set_field(f, "signed_field_names", "total_amount,transaction_uuid");
  expect_rejected(form(f), "ES104 Invalid payload signature");
  EXPECT_EQ(json::parse(client().Get("/_sim/payments")->body)["esewa"].size(), 0U);
}

TEST_F(SimEsewa, EnforcesTheTotalFormulaInPaisa) {
  Params f = esewa_fields("t-1", "100.50", "13.07", "113.57");
  set_field(f, "product_service_charge", "0.00");
  EXPECT_EQ(form(f)->status, 200);
  expect_rejected(form(esewa_fields("t-2", "100", "10", "100")), "Invalid total amount");
  expect_rejected(form(esewa_fields("t-3", "100", "10", "110.001")), "Invalid total amount");
  expect_rejected(form(esewa_fields("t-4", "1,00", "10", "110")), "Invalid amount");
}

TEST_F(SimEsewa, RequiresEveryFieldAndTheProductCode) {
  Params f = esewa_fields("t-1");
  set_field(f, "product_delivery_charge", "");
  expect_rejected(form(f), "product_delivery_charge");
  f = esewa_fields("t-1");
  set_field(f, "product_code", "OTHER");
  expect_rejected(form(f), "Invalid product code");
}

TEST_F(SimEsewa, TransactionUuidIsLettersDigitsAndHyphensOnly) {
  expect_rejected(form(esewa_fields("order_1")), "Invalid transaction_uuid");
  expect_rejected(form(esewa_fields("order 1")), "Invalid transaction_uuid");
  EXPECT_EQ(form(esewa_fields("Order-1-abc"))->status, 200);
}

TEST_F(SimEsewa, RejectsADuplicateTransactionUuid) {
  EXPECT_EQ(form(esewa_fields("dup-1"))->status, 200);
  expect_rejected(form(esewa_fields("dup-1")), "Duplicate transaction_uuid");
}

TEST_F(SimEsewa, WrongCredentialsShowThePageAgain) {
  ASSERT_EQ(form(esewa_fields("c-1"))->status, 200);
  auto res = pay("c-1", "pay", "wrong");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 400);
  EXPECT_NE(res->body.find("Incorrect eSewa ID, password or token"), std::string::npos);
  EXPECT_EQ(json::parse(client().Get("/_sim/esewa/c-1")->body)["status"], "PENDING");
}

TEST_F(SimEsewa, PayRedirectsToSuccessUrlWithSignedData) {
  ASSERT_EQ(form(esewa_fields("1234567890", "133", "0", "133"))->status, 200);
  auto res = pay("1234567890");
  ASSERT_TRUE(res);
  ASSERT_EQ(res->status, 302);
  const std::string location = res->get_header_value("Location");
  EXPECT_EQ(location.rfind("http://shop.example.com/esewa/success/?data=", 0), 0U) << location;
  const std::string text = data_json(location);
  std::vector<std::string> keys;
  const auto ordered = nlohmann::ordered_json::parse(text);
  for (const auto& [k, v] : ordered.items()) keys.push_back(k);
  EXPECT_EQ(keys, (std::vector<std::string>{"transaction_code", "status", "total_amount",
                                            "transaction_uuid", "product_code",
                                            "signed_field_names", "signature"}));
  const json d = json::parse(text);
  EXPECT_TRUE(
      made_of(d["transaction_code"].get<std::string>(), "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ", 7));
  EXPECT_EQ(d["status"], "COMPLETE");
  EXPECT_EQ(d["total_amount"], "133.0");
  EXPECT_EQ(d["transaction_uuid"], "1234567890");
  EXPECT_EQ(d["product_code"], "EPAYTEST");
  EXPECT_EQ(
      d["signed_field_names"],
      "transaction_code,status,total_amount,transaction_uuid,product_code,signed_field_names");
  EXPECT_EQ(d["signature"], sima::crypto::HmacSha256Base64(kEsewaKey, response_message(d)));
  EXPECT_EQ(json::parse(client().Get("/_sim/esewa/1234567890")->body)["ref_id"],
            d["transaction_code"]);
}

TEST_F(SimEsewa, SuccessDataIsAppendedWithAmpersandToAQuery) {
  Params f = esewa_fields("q-1");
  set_field(f, "success_url", "http://shop.example.com/esewa/success/?payment_id=9");
  ASSERT_EQ(form(f)->status, 200);
  auto res = control("/_sim/esewa/q-1/pay");
  ASSERT_EQ(res->status, 200) << res->body;
  const json body = json::parse(res->body);
  const std::string url = body["redirect_url"];
  EXPECT_EQ(url.rfind("http://shop.example.com/esewa/success/?payment_id=9&data=", 0), 0U) << url;
  EXPECT_EQ(parse_location(url).param("data"), body["data"]);
  EXPECT_EQ(
      json::parse(*sima::crypto::Base64Decode(body["data"].get<std::string>()))["total_amount"],
      "110.0");
}

TEST_F(SimEsewa, ThousandsSeparatorFaultSignsTheValueWithoutTheComma) {
  ASSERT_EQ(form(esewa_fields("k-1", "2700", "0", "2700"))->status, 200);
  set_faults({{"esewa_thousands_separator", true}});
  auto res = control("/_sim/esewa/k-1/pay");
  const json d =
      json::parse(*sima::crypto::Base64Decode(json::parse(res->body)["data"].get<std::string>()));
  EXPECT_EQ(d["total_amount"], "2,700.0");
  json unseparated = d;
  unseparated["total_amount"] = "2700.0";
  EXPECT_EQ(d["signature"],
            sima::crypto::HmacSha256Base64(kEsewaKey, response_message(unseparated)));
  EXPECT_NE(d["signature"], sima::crypto::HmacSha256Base64(kEsewaKey, response_message(d)));
}

TEST_F(SimEsewa, CancelRedirectsToFailureUrlWithNothingAdded) {
  ASSERT_EQ(form(esewa_fields("f-1"))->status, 200);
  auto res = pay("f-1", "cancel", "");
  ASSERT_TRUE(res);
  ASSERT_EQ(res->status, 302);
  EXPECT_EQ(res->get_header_value("Location"),
            "http://shop.example.com/esewa/failure/?payment_id=7");
  EXPECT_EQ(json::parse(client().Get("/_sim/esewa/f-1")->body)["status"], "CANCELED");
}

TEST_F(SimEsewa, AmountDeltaAndRawDataFaults) {
  ASSERT_EQ(form(esewa_fields("d-1"))->status, 200);
  set_faults({{"esewa_amount_delta_paisa", -1000}, {"esewa_data_raw", true}});
  auto res = control("/_sim/esewa/d-1/pay");
  const json body = json::parse(res->body);
  const std::string url = body["redirect_url"];
  EXPECT_EQ(url, "http://shop.example.com/esewa/success/?data=" + body["data"].get<std::string>());
  const json d = json::parse(*sima::crypto::Base64Decode(body["data"].get<std::string>()));
  EXPECT_EQ(d["total_amount"], "100.0");
  EXPECT_EQ(d["signature"], sima::crypto::HmacSha256Base64(kEsewaKey, response_message(d)));
}

TEST_F(SimEsewa, RedirectNeverAndTwice) {
  CountingServer merchant;
  Params f = esewa_fields("r-1");
  set_field(f, "success_url", merchant.url("/esewa/success/"));
  ASSERT_EQ(form(f)->status, 200);
  set_faults({{"esewa_redirect_mode", "twice"}, {"duplicate_delay_ms", 0}});
  auto res = control("/_sim/esewa/r-1/pay");
  ASSERT_TRUE(json::parse(res->body)["redirect_url"].is_string());
  EXPECT_EQ(merchant.wait_for(1), 1);

  ASSERT_EQ(form(esewa_fields("r-2"))->status, 200);
  set_faults({{"esewa_redirect_mode", "never"}});
  res = pay("r-2");
  EXPECT_EQ(res->status, 200);
  EXPECT_NE(res->body.find("Payment received. You may close this window."), std::string::npos);
}

}  // namespace
}  // namespace sima::sim::testing
