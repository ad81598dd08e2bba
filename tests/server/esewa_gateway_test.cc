#include <gtest/gtest.h>
#include <httplib.h>

#include <nlohmann/json.hpp>
#include <thread>

#include "config.h"
#include "gateway/esewa.h"
#include "gateway_adapters.h"
#include "sima/crypto.h"

namespace sima::server {
namespace {

using nlohmann::ordered_json;

const EsewaConfig kUat{"http://127.0.0.1:1/form", "http://127.0.0.1:1/status/", "EPAYTEST",
                       "8gBm/:&EnhH.1/q"};
constexpr const char* kResponseNames =
    "transaction_code,status,total_amount,transaction_uuid,product_code,signed_field_names";

std::string Field(const std::vector<std::pair<std::string, std::string>>& fields,
                  const std::string& name) {
  for (const auto& [k, v] : fields) {
    if (k == name) return v;
  }
  ADD_FAILURE() << "no field " << name;
  return "";
}

// The data eSewa would send, signed over `signed_total` and showing `shown_total`.
std::string SuccessData(const std::string& shown_total, const std::string& signed_total,
                        const std::string& names = kResponseNames,
                        const std::string& key = "8gBm/:&EnhH.1/q",
                        const std::string& product = "EPAYTEST") {
  const std::string message =
      "transaction_code=000AWEO,status=COMPLETE,total_amount=" + signed_total +
      ",transaction_uuid=pay-7,product_code=" + product + ",signed_field_names=" + names;
  ordered_json j;
  j["transaction_code"] = "000AWEO";
  j["status"] = "COMPLETE";
  j["total_amount"] = shown_total;
  j["transaction_uuid"] = "pay-7";
  j["product_code"] = product;
  j["signed_field_names"] = names;
  j["signature"] = crypto::HmacSha256Base64(key, message);
  return crypto::Base64Encode(j.dump());
}

TEST(ServerEsewaGateway, SignsTheFormLikeTheDocumentedExample) {
  const auto fields = EsewaFormFields(kUat, 11000, "241028", "https://s/ok", "https://s/fail");
  EXPECT_EQ(Field(fields, "amount"), "110");
  EXPECT_EQ(Field(fields, "total_amount"), "110");
  EXPECT_EQ(Field(fields, "tax_amount"), "0");
  EXPECT_EQ(Field(fields, "product_code"), "EPAYTEST");
  EXPECT_EQ(Field(fields, "signed_field_names"), "total_amount,transaction_uuid,product_code");
  EXPECT_EQ(Field(fields, "signature"), "i94zsd3oXF6ZsSr/kGqT4sSzYQzjj1W/waxjWyRwaME=");
  for (const auto& [name, value] : fields) EXPECT_NE(value, kUat.secret_key) << name;
}

TEST(ServerEsewaGateway, AcceptsTheRealSandboxCallback) {
  const std::string data = crypto::Base64Encode(
      R"({"transaction_code":"0006TY3","status":"COMPLETE","total_amount":"133.0",)"
      R"("transaction_uuid":"1234567890","product_code":"EPAYTEST","signed_field_names":)"
      R"("transaction_code,status,total_amount,transaction_uuid,product_code,signed_field_names",)"
      R"("signature":"MFEcMZ/30WVezanVZHH4H1nIV8pGwyzZxggtkye2VXw="})");
  const auto checked = CheckEsewaSuccess(kUat, data);
  ASSERT_TRUE(checked.value) << checked.error;
  EXPECT_EQ(checked.value->total_paisa, 13300);
  EXPECT_EQ(checked.value->transaction_code, "0006TY3");
  EXPECT_EQ(checked.value->transaction_uuid, "1234567890");
  EXPECT_EQ(checked.value->status, "COMPLETE");
}

TEST(ServerEsewaGateway, ToleratesTheThousandsSeparatorSignedWithoutIt) {
  const auto checked = CheckEsewaSuccess(kUat, SuccessData("2,700.0", "2700.0"));
  ASSERT_TRUE(checked.value) << checked.error;
  EXPECT_EQ(checked.value->total_paisa, 270000);
}

TEST(ServerEsewaGateway, RepairsPlusSignsLostToUrlDecoding) {
  std::string data = SuccessData("133.0", "133.0");
  std::replace(data.begin(), data.end(), '+', ' ');
  EXPECT_TRUE(CheckEsewaSuccess(kUat, data).value);
}

TEST(ServerEsewaGateway, RefusesTamperedOrIncompleteData) {
  struct Case {
    std::string data;
    std::string error;
  };
  const Case cases[] = {
      {"not base64!", "data is not Base64"},
      {crypto::Base64Encode("[1,2]"), "data is not a JSON object"},
      {SuccessData("1330.0", "133.0"), "the signature does not match"},  // amount changed
      {SuccessData("133.0", "133.0", kResponseNames, "another key"),
       "the signature does not match"},
      {SuccessData("133.0", "133.0", "transaction_code,total_amount,transaction_uuid,product_code"),
       "signed_field_names does not cover status"},
      {SuccessData("133.0", "133.0", "status,total_amount,product_code"),
       "signed_field_names does not cover transaction_uuid"},
      {SuccessData("133.0", "133.0", kResponseNames, "8gBm/:&EnhH.1/q", "OTHERSHOP"),
       "product_code is not ours"},
      {crypto::Base64Encode(R"({"status":"COMPLETE"})"),
       "data has no signed_field_names or signature"},
  };
  for (const Case& c : cases) {
    const auto checked = CheckEsewaSuccess(kUat, c.data);
    EXPECT_FALSE(checked.value) << c.error;
    EXPECT_EQ(checked.error, c.error);
  }
}

// The adapter's reading of eSewa's success redirect: signed data names the payment and its
// amount; unsigned or tampered data proves nothing but still names the payment it claims, so
// the attempt can go on that payment's audit trail.
TEST(ServerEsewaGateway, TheAdapterBelievesOnlySignedData) {
  Config config;
  config.esewa_secret_key = kUat.secret_key;
  auto gateways = OpenGateways(config, PaymentTiming{});
  ASSERT_TRUE(gateways.ok()) << gateways.error().message;
  const PaymentGateway& esewa = *gateways->For(Provider::kEsewa);

  const ReturnVisit paid = esewa.ReadReturn({{"data", SuccessData("133.0", "133.0")}});
  EXPECT_TRUE(paid.rejected.empty()) << paid.why;
  EXPECT_EQ(paid.reference, "pay-7");
  EXPECT_TRUE(paid.paid_claim);
  EXPECT_EQ(paid.claimed_paisa, 13300);

  const ReturnVisit forged = esewa.ReadReturn({{"data", SuccessData("1330.0", "133.0")}});
  EXPECT_EQ(forged.rejected, "invalid_signature");
  EXPECT_EQ(forged.why, "the signature does not match");
  EXPECT_TRUE(forged.reference.empty());
  EXPECT_EQ(forged.claimed_reference, "pay-7");

  const ReturnVisit none = esewa.ReadReturn({{"pidx", "x"}});
  EXPECT_EQ(none.rejected, "invalid_signature");
  EXPECT_EQ(none.claimed_reference, std::nullopt);
  EXPECT_EQ(esewa.ReadReturn({{"data", std::string(8193, 'A')}}).rejected, "invalid_signature");
}

// A status endpoint that answers `body` to every check.
class FakeStatusApi {
 public:
  explicit FakeStatusApi(std::string body) {
    server_.Get("/status/", [body](const httplib::Request&, httplib::Response& res) {
      res.set_content(body, "application/json");
    });
    port_ = server_.bind_to_any_port("127.0.0.1");
    thread_ = std::thread([this] { server_.listen_after_bind(); });
    while (!server_.is_running()) std::this_thread::yield();
  }
  ~FakeStatusApi() {
    server_.stop();
    thread_.join();
  }
  EsewaConfig Config() const {
    EsewaConfig c = kUat;
    c.status_url = "http://127.0.0.1:" + std::to_string(port_) + "/status/";
    return c;
  }

 private:
  httplib::Server server_;
  int port_ = 0;
  std::thread thread_;
};

TEST(ServerEsewaGateway, ReadsTheStatusAnswerForOurPayment) {
  FakeStatusApi api(R"({"product_code":"EPAYTEST","transaction_uuid":"pay-7","total_amount":133.0,)"
                    R"("status":"COMPLETE","ref_id":"0001TS9"})");
  const auto r = CheckEsewaStatus(api.Config(), {}, 13300, "pay-7");
  ASSERT_TRUE(r.ok()) << r.detail;
  EXPECT_EQ(r.value->status, "COMPLETE");
  EXPECT_EQ(r.value->total_paisa, 13300);
  EXPECT_EQ(r.value->ref_id, "0001TS9");
}

TEST(ServerEsewaGateway, TheOutageBodyIsAnAnswerWithoutStatus) {
  FakeStatusApi api(R"({"code":0,"error_message":"Service is currently unavailable"})");
  const auto r = CheckEsewaStatus(api.Config(), {}, 13300, "pay-7");
  ASSERT_TRUE(r.ok()) << r.detail;
  EXPECT_FALSE(r.value->status.has_value());
}

TEST(ServerEsewaGateway, AStatusAnswerAboutAnotherPaymentDecidesNothing) {
  for (
      const char* body :
      {R"({"product_code":"EPAYTEST","transaction_uuid":"pay-8","total_amount":133.0,"status":"COMPLETE"})",
       R"({"product_code":"OTHERSHOP","transaction_uuid":"pay-7","total_amount":133.0,"status":"COMPLETE"})"}) {
    FakeStatusApi api(body);
    const auto r = CheckEsewaStatus(api.Config(), {}, 13300, "pay-7");
    EXPECT_FALSE(r.ok()) << body;
    EXPECT_EQ(r.failure, CallFailure::kMalformed) << body;
  }
}

}  // namespace
}  // namespace sima::server
