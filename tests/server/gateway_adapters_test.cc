// The gateway adapters as the shared payment path sees them (gateway_adapters.h): which
// gateways a configuration turns on, and each one's part that needs no network: the reference
// a payment starts with, the browser's next step, and what a redirect back proves.
#include "gateway_adapters.h"

#include <gtest/gtest.h>
#include <httplib.h>

#include <thread>

#include "config.h"

namespace sima::server {
namespace {

Config WithEsewa() {
  Config c;
  c.esewa_secret_key = "8gBm/:&EnhH.1/q";
  return c;
}

Payment StoredPayment(Provider provider) {
  Payment p;
  p.id = 42;
  p.ref = "pay_abc";
  p.provider = provider;
  p.plan = "PRO";
  p.amount_paisa = 390000;
  p.created_at = ParseTime("2026-11-23T10:00:00Z").value();
  return p;
}

const ReturnUrls kUrls{"https://api.test/billing/esewa/callback/",
                       "https://api.test/billing/esewa/failure/?ref=pay_abc", "https://app.test"};

TEST(ServerGatewayAdapters, EsewaIsOnOnlyWithItsSecretKey) {
  auto off = OpenGateways(Config{}, PaymentTiming{});
  ASSERT_TRUE(off.ok()) << off.error().message;
  ASSERT_NE(off->For(Provider::kKhalti), nullptr);
  EXPECT_EQ(off->For(Provider::kEsewa), nullptr);
  auto on = OpenGateways(WithEsewa(), PaymentTiming{});
  ASSERT_TRUE(on.ok()) << on.error().message;
  ASSERT_NE(on->For(Provider::kEsewa), nullptr);
  EXPECT_EQ(on->For(Provider::kEsewa)->name(), "eSewa");
  EXPECT_EQ(on->For(Provider::kKhalti)->name(), "Khalti");
  EXPECT_EQ(GatewaySlug(Provider::kEsewa), "esewa");
  EXPECT_EQ(GatewaySlug(Provider::kKhalti), "khalti");
}

TEST(ServerGatewayAdapters, RefusesAGatewayUrlThatIsNotHttp) {
  Config c = WithEsewa();
  c.esewa_status_url = "ftp://esewa.test/status/";
  auto opened = OpenGateways(c, PaymentTiming{});
  ASSERT_FALSE(opened.ok());
  EXPECT_EQ(opened.error().extra["field"], "ESEWA_STATUS_URL");
  c = Config{};
  c.khalti_base_url = "khalti.test";
  EXPECT_EQ(OpenGateways(c, PaymentTiming{}).error().extra["field"], "KHALTI_BASE_URL");
}

TEST(ServerGatewayAdapters, EsewaStartsWithAFreshUuidPayableForTheSession) {
  PaymentTiming timing;
  timing.esewa_session = std::chrono::minutes{90};
  auto gateways = OpenGateways(WithEsewa(), timing);
  ASSERT_TRUE(gateways.ok());
  const PaymentGateway& esewa = *gateways->For(Provider::kEsewa);
  Payment p = StoredPayment(Provider::kEsewa);
  const auto begun = esewa.Begin(p, BeginRequest{kUrls, "PRO plan, 30 days", "00ff"}, p.created_at);
  ASSERT_TRUE(begun.ok()) << begun.detail;
  EXPECT_EQ(begun.value->reference, "42-00ff");
  EXPECT_EQ(begun.value->expires_at, ParseTime("2026-11-23T11:30:00Z"));
  EXPECT_EQ(begun.value->payment_url, std::nullopt);

  // The next step is the signed form, posted to eSewa, coming back to our two targets.
  p.reference_id = begun.value->reference;
  const Checkout next = esewa.CheckoutFor(p, kUrls);
  EXPECT_EQ(next.url, Config{}.esewa_form_url);
  std::map<std::string, std::string> fields(next.form.begin(), next.form.end());
  EXPECT_EQ(fields["transaction_uuid"], "42-00ff");
  EXPECT_EQ(fields["total_amount"], "3900");
  EXPECT_EQ(fields["success_url"], kUrls.success);
  EXPECT_EQ(fields["failure_url"], kUrls.failure);
  EXPECT_EQ(next.form.back().first, "signature");
  EXPECT_TRUE(esewa.reference_field().empty());  // verify takes only payment_id
}

TEST(ServerGatewayAdapters, KhaltiSendsTheBrowserToItsPaymentUrl) {
  auto gateways = OpenGateways(Config{}, PaymentTiming{});
  ASSERT_TRUE(gateways.ok());
  const PaymentGateway& khalti = *gateways->For(Provider::kKhalti);
  Payment p = StoredPayment(Provider::kKhalti);
  p.reference_id = "pidx1";
  p.payment_url = "https://pay.khalti.test/?pidx=pidx1";
  const Checkout next = khalti.CheckoutFor(p, kUrls);
  EXPECT_EQ(next.url, "https://pay.khalti.test/?pidx=pidx1");
  EXPECT_TRUE(next.form.empty());
  EXPECT_EQ(khalti.reference_field(), "pidx");
  EXPECT_EQ(khalti.reference_aliases(), std::vector<std::string>{"token"});
}

TEST(ServerGatewayAdapters, KhaltiRedirectIsMatchedByPidxAloneAndCompletedIsAPaidClaim) {
  auto gateways = OpenGateways(Config{}, PaymentTiming{});
  ASSERT_TRUE(gateways.ok());
  const PaymentGateway& khalti = *gateways->For(Provider::kKhalti);
  const ReturnVisit paid =
      khalti.ReadReturn({{"pidx", "pidx1"}, {"status", "Completed"}, {"purchase_order_id", "x"}});
  EXPECT_TRUE(paid.rejected.empty());
  EXPECT_EQ(paid.reference, "pidx1");
  EXPECT_TRUE(paid.paid_claim);
  EXPECT_EQ(paid.claimed_paisa, std::nullopt);
  EXPECT_FALSE(khalti.ReadReturn({{"pidx", "pidx1"}, {"status", "User canceled"}}).paid_claim);
  const ReturnVisit none = khalti.ReadReturn({{"purchase_order_id", "x"}});
  EXPECT_EQ(none.rejected, "unknown_payment");
  EXPECT_TRUE(none.reference.empty());
  EXPECT_EQ(khalti.ReadReturn({{"pidx", std::string(201, 'p')}}).rejected, "unknown_payment");
}

// Khalti's initiate request carries the payment's breakdown as amount_breakdown (a credit
// line negative), summing to the amount.
TEST(ServerGatewayAdapters, KhaltiInitiateCarriesTheAmountBreakdown) {
  httplib::Server khalti;
  Json seen;
  khalti.Post("/api/v2/epayment/initiate/",
              [&](const httplib::Request& req, httplib::Response& res) {
                seen = Json::parse(req.body, nullptr, false);
                res.set_content(R"({"pidx":"p1","payment_url":"https://pay.test/?pidx=p1"})",
                                "application/json");
              });
  const int port = khalti.bind_to_any_port("127.0.0.1");
  std::thread t([&] { khalti.listen_after_bind(); });
  while (!khalti.is_running()) std::this_thread::sleep_for(std::chrono::milliseconds{1});
  Config c;
  c.khalti_base_url = "http://127.0.0.1:" + std::to_string(port) + "/api/v2/";
  auto gateways = OpenGateways(c, PaymentTiming{});
  ASSERT_TRUE(gateways.ok());
  Payment p = StoredPayment(Provider::kKhalti);
  p.amount_paisa = 295000;
  p.breakdown = {{"PRO, 30 days", 390000}, {"Credit: unused BASIC until 2026-12-15", -95000}};
  const auto begun =
      gateways->For(Provider::kKhalti)->Begin(p, BeginRequest{kUrls, "PRO", "n"}, p.created_at);
  khalti.stop();
  t.join();
  ASSERT_TRUE(begun.ok()) << begun.detail;
  EXPECT_EQ(seen["amount"], 295000);
  EXPECT_EQ(seen["amount_breakdown"], Json::parse(R"([{"label":"PRO, 30 days","amount":390000},
                            {"label":"Credit: unused BASIC until 2026-12-15","amount":-95000}])"));
}

}  // namespace
}  // namespace sima::server
