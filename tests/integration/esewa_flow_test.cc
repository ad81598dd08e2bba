// eSewa ePay v2 through the real simulator and server: the signed form, pay, the signed
// success redirect, tampered and foreign data, the failure target, every status, outages.
#include <algorithm>
#include <cctype>

#include "harness.h"
#include "sima/crypto.h"
#include "sima/esewa_signature.h"
#include "sima/text.h"

namespace sima::integration {
namespace {

using nlohmann::ordered_json;

constexpr const char* kResponseNames = kEsewaResponseNames;

// Success data as eSewa would send it, signed with `key` over `names`.
std::string MakeData(const std::string& uuid, const std::string& total, const std::string& status,
                     const std::string& names = kResponseNames, const std::string& key = kEsewaKey,
                     const std::string& product = "EPAYTEST") {
  return SignedEsewaData(uuid, total, status, names, key, product);
}

// The data of a gateway redirect URL, as the server will see it after URL decoding.
std::string DataOf(const std::string& url) {
  const auto at = url.find("data=");
  if (at == std::string::npos) return "";
  return PercentDecode(url.substr(at + 5), /*plus_is_space=*/true);
}

class IntegrationEsewa : public IntegrationTest {
 protected:
  void SetUp() override {
    IntegrationTest::SetUp();
    if (HasFatalFailure()) return;
    StartServer();
  }
  std::string Self() const { return "http://127.0.0.1:" + std::to_string(server_port_); }

  struct Started {
    int64_t id = 0;
    std::string uuid;
    Json fields;
  };
  // init + the browser's form post to the simulator.
  Started Begin(const std::string& key, const std::string& plan = "PRO") {
    Response r = EsewaInit(key, plan);
    EXPECT_EQ(r.status, 201) << r.raw;
    Started s{r.body.value("payment_id", int64_t{0}), "", r.body.value("fields", Json::object())};
    s.uuid = s.fields.value("transaction_uuid", "");
    EXPECT_EQ(EsewaPostForm(s.fields), 200);
    return s;
  }
  Response Callback(const std::string& data) {
    return FollowToServer(Self() + "/billing/esewa/callback/?data=" + PercentEncode(data));
  }
  std::string Status(const std::string& key, int64_t id) {
    return GetPayment(key, id).body.value("status", "");
  }
  std::string Page(const std::string& page, const std::string& query) {
    return "http://app.test/demo/" + page + "?" + query;
  }
};

TEST_F(IntegrationEsewa, UpgradeThroughTheSignedFormPayAndCallbackOnce) {
  const std::string key = NewOrg();
  Response init = EsewaInit(key);
  ASSERT_EQ(init.status, 201) << init.raw;
  EXPECT_EQ(init.raw.find(kEsewaKey), std::string::npos);
  EXPECT_EQ(init.body["provider"], "ESEWA");
  EXPECT_EQ(init.body["plan"], "PRO");
  EXPECT_EQ(init.body["amount"], 3900);
  EXPECT_EQ(init.body["amount_paisa"], 390000);
  EXPECT_EQ(init.body["status"], "PENDING");
  EXPECT_EQ(init.body["form_url"],
            "http://127.0.0.1:" + std::to_string(sim_port_) + "/api/epay/main/v2/form");
  const int64_t id = init.body["payment_id"];
  const Json& f = init.body["fields"];
  for (const char* name :
       {"amount", "tax_amount", "product_service_charge", "product_delivery_charge", "total_amount",
        "transaction_uuid", "product_code", "success_url", "failure_url", "signed_field_names",
        "signature"}) {
    ASSERT_TRUE(f.contains(name) && f[name].is_string()) << name << " in " << f.dump();
  }
  EXPECT_EQ(f.size(), 11u);
  EXPECT_EQ(f["amount"], "3900");
  EXPECT_EQ(f["total_amount"], "3900");
  EXPECT_EQ(f["tax_amount"], "0");
  EXPECT_EQ(f["product_service_charge"], "0");
  EXPECT_EQ(f["product_delivery_charge"], "0");
  EXPECT_EQ(f["product_code"], "EPAYTEST");
  const std::string uuid = f["transaction_uuid"];
  EXPECT_TRUE(!uuid.empty() && std::all_of(uuid.begin(), uuid.end(), [](unsigned char c) {
    return std::isalnum(c) || c == '-';
  })) << uuid;
  EXPECT_EQ(uuid.rfind(std::to_string(id) + "-", 0), 0u) << uuid;
  EXPECT_EQ(f["success_url"], Self() + "/billing/esewa/callback/");
  // The failure target names the payment by an unguessable ref, never by its sequential id.
  const std::string failure_url = f["failure_url"];
  const std::string failure_prefix = Self() + "/billing/esewa/failure/?ref=pay_";
  ASSERT_EQ(failure_url.rfind(failure_prefix, 0), 0u) << failure_url;
  const std::string ref_rest = failure_url.substr(failure_prefix.size());
  EXPECT_EQ(ref_rest.size(), 22u) << failure_url;
  EXPECT_TRUE(std::all_of(ref_rest.begin(), ref_rest.end(), [](unsigned char c) {
    return std::isalnum(c) != 0;
  })) << failure_url;
  EXPECT_EQ(f["signed_field_names"], "total_amount,transaction_uuid,product_code");
  EXPECT_EQ(f["signature"], crypto::EsewaSign(kEsewaKey, "total_amount=3900,transaction_uuid=" +
                                                             uuid + ",product_code=EPAYTEST"));
  ASSERT_EQ(EsewaPostForm(f), 200);

  Response got = GetPayment(key, id);
  EXPECT_EQ(got.body["provider"], "ESEWA");
  EXPECT_EQ(got.body["status"], "PENDING");
  EXPECT_EQ(got.body["reference_id"], uuid);

  const std::string redirect = EsewaPay(uuid);
  ASSERT_EQ(redirect.rfind(Self() + "/billing/esewa/callback/?data=", 0), 0u) << redirect;
  Response cb = FollowToServer(redirect);
  EXPECT_EQ(cb.status, 302);
  const std::string success =
      Page("success.html", "payment_id=" + std::to_string(id) + "&status=SUCCESS");
  EXPECT_EQ(cb.header("Location"), success);
  EXPECT_EQ(Plan(key), "PRO");
  Response v = EsewaVerify(key, id);
  ASSERT_EQ(v.status, 200) << v.raw;
  EXPECT_EQ(v.body["status"], "SUCCESS");
  EXPECT_EQ(v.body["subscription"]["plan"], "PRO");

  // A replay of the old success: the same decision, nothing changes.
  const int64_t events = CountRows("SELECT COUNT(*) FROM payment_events");
  EXPECT_EQ(FollowToServer(redirect).header("Location"), success);
  EXPECT_EQ(CountRows("SELECT COUNT(*) FROM payment_events"), events);
  EXPECT_EQ(CountRows("SELECT COUNT(*) FROM plan_changes"), 1);
  EXPECT_EQ(
      CountRows("SELECT COUNT(*) FROM payment_events WHERE payment_id = " + std::to_string(id) +
                " AND from_status = 'PENDING' AND to_status = 'SUCCESS' AND "
                "cause = 'callback'"),
      1);
  EXPECT_TRUE(WaitFor([&] { return MailCount() == 1; }, 5000));
}

TEST_F(IntegrationEsewa, TamperedDataActivatesNothingEvenForAPaidPayment) {
  const std::string key = NewOrg();
  const Started a = Begin(key);
  // Paid at eSewa: any data the server wrongly accepted would activate through the status API.
  const std::string redirect = EsewaPay(a.uuid);
  const std::string genuine = DataOf(redirect);
  ordered_json j = ordered_json::parse(crypto::Base64Decode(genuine).value_or("{}"));
  ASSERT_EQ(j.value("total_amount", ""), "3900.0");

  std::vector<std::pair<std::string, std::string>> forged;
  {
    ordered_json t = j;
    t["total_amount"] = "39.0";
    forged.emplace_back("changed amount", crypto::Base64Encode(t.dump()));
  }
  {
    ordered_json t = ordered_json::parse(
        crypto::Base64Decode(MakeData(a.uuid, "3900.0", "CANCELED")).value_or("{}"));
    t["status"] = "COMPLETE";
    forged.emplace_back("changed status", crypto::Base64Encode(t.dump()));
  }
  forged.emplace_back(
      "wrong key", MakeData(a.uuid, "3900.0", "COMPLETE", kResponseNames, "not-the-merchant-key"));
  forged.emplace_back("status not signed",
                      MakeData(a.uuid, "3900.0", "COMPLETE",
                               "transaction_code,total_amount,transaction_uuid,product_code,"
                               "signed_field_names"));
  forged.emplace_back("amount not signed",
                      MakeData(a.uuid, "3900.0", "COMPLETE",
                               "transaction_code,status,transaction_uuid,product_code"));
  forged.emplace_back("uuid not signed",
                      MakeData(a.uuid, "3900.0", "COMPLETE", "status,total_amount,product_code"));
  forged.emplace_back("another merchant", MakeData(a.uuid, "3900.0", "COMPLETE", kResponseNames,
                                                   kEsewaKey, "OTHERCODE"));
  // Rejected data learns nothing about the payment it names.
  const std::string rejected = Page("failure.html", "status=UNKNOWN&reason=invalid_signature");
  for (const auto& [what, data] : forged) {
    Response r = Callback(data);
    EXPECT_EQ(r.status, 302) << what;
    EXPECT_EQ(r.header("Location"), rejected) << what;
    EXPECT_EQ(Status(key, a.id), "PENDING") << what;
  }
  Response garbage = Callback("bm90IGpzb24");
  EXPECT_EQ(garbage.header("Location"),
            Page("failure.html", "status=UNKNOWN&reason=invalid_signature"));
  EXPECT_EQ(FollowToServer(Self() + "/billing/esewa/callback/").header("Location"),
            Page("failure.html", "status=UNKNOWN&reason=invalid_signature"));
  EXPECT_EQ(Plan(key), "FREE");
  EXPECT_EQ(CountRows("SELECT COUNT(*) FROM plan_changes"), 0);
  // On the payment's record once, however many forgeries came within the window.
  EXPECT_EQ(CountRows("SELECT COUNT(*) FROM payment_events WHERE payment_id = " +
                      std::to_string(a.id) + " AND detail LIKE 'rejected esewa data%'"),
            1);

  // The genuine data still works, once.
  EXPECT_EQ(FollowToServer(redirect).header("Location"),
            Page("success.html", "payment_id=" + std::to_string(a.id) + "&status=SUCCESS"));
  EXPECT_EQ(Plan(key), "PRO");
  EXPECT_EQ(CountRows("SELECT COUNT(*) FROM plan_changes"), 1);
}

TEST_F(IntegrationEsewa, DataOfAnotherPaymentDecidesOnlyThatOne) {
  const std::string key = NewOrg();
  const Started a = Begin(key);
  const Started b = Begin(key, "BASIC");  // the same plan would be A offered again
  const std::string redirect_b = EsewaPay(b.uuid);
  // B's genuine data presented where A's was expected: it routes to B; A is untouched.
  const std::string success_b =
      Page("success.html", "payment_id=" + std::to_string(b.id) + "&status=SUCCESS");
  EXPECT_EQ(Callback(DataOf(redirect_b)).header("Location"), success_b);
  EXPECT_EQ(Callback(DataOf(redirect_b)).header("Location"), success_b);
  EXPECT_EQ(Status(key, a.id), "PENDING");
  EXPECT_EQ(Status(key, b.id), "SUCCESS");
  // A's own failure target asks the status API about A: still pending there.
  EXPECT_EQ(FollowToServer(a.fields["failure_url"]).header("Location"),
            Page("failure.html", "payment_id=" + std::to_string(a.id) + "&status=PENDING&reason="));
  EXPECT_EQ(Status(key, a.id), "PENDING");
  // Data signed for a uuid we never issued routes nowhere.
  EXPECT_EQ(Callback(MakeData("999-0000", "3900.0", "COMPLETE")).header("Location"),
            Page("failure.html", "status=UNKNOWN&reason=unknown_payment"));
  EXPECT_EQ(CountRows("SELECT COUNT(*) FROM plan_changes"), 1);
  EXPECT_TRUE(WaitFor([&] { return MailCount() == 1; }, 5000));
}

TEST_F(IntegrationEsewa, EveryStatusGoesThroughTheStateMachine) {
  struct Case {
    const char* status;
    int http;
    const char* stored;
    const char* reason;
    bool attention;
  };
  const Case cases[] = {
      {"COMPLETE", 200, "SUCCESS", "", false},
      {"PENDING", 202, "PENDING", "", false},
      {"AMBIGUOUS", 202, "PENDING", "", false},
      // Within the payer's eSewa session NOT_FOUND is "not there yet" (ESEWA_SESSION_MINUTES).
      {"NOT_FOUND", 202, "PENDING", "", false},
      {"CANCELED", 400, "FAILED", "CANCELED", false},
      {"FULL_REFUND", 400, "FAILED", "FULL_REFUND", false},
      {"PARTIAL_REFUND", 400, "FAILED", "PARTIAL_REFUND", true},
  };
  for (const Case& c : cases) {
    const std::string key = NewOrg();
    const Started p = Begin(key, "BASIC");
    EsewaForceStatus(p.uuid, c.status);
    Response v = EsewaVerify(key, p.id);
    EXPECT_EQ(v.status, c.http) << c.status << ": " << v.raw;
    EXPECT_EQ(v.body["status"], c.stored) << c.status;
    Response got = GetPayment(key, p.id);
    EXPECT_EQ(got.body["status"], c.stored) << c.status;
    if (*c.reason != 0) {
      EXPECT_EQ(got.body["reason"], c.reason) << c.status;
    }
    EXPECT_EQ(got.body["needs_attention"], c.attention) << c.status;
    EXPECT_EQ(Plan(key), std::string(c.stored) == "SUCCESS" ? "BASIC" : "FREE") << c.status;
    // Decided: the same answer again, without changes.
    if (std::string(c.stored) != "PENDING") {
      EXPECT_EQ(EsewaVerify(key, p.id).raw, v.raw);
    }
  }
  EXPECT_EQ(CountRows("SELECT COUNT(*) FROM plan_changes"), 1);
}

TEST_F(IntegrationEsewa, OutageAndBrokenAnswersKeepItPendingUntilTheReconcilerDecides) {
  const std::string key = NewOrg();
  const Started p = Begin(key);
  const std::string redirect = EsewaPay(p.uuid);
  SetFaults({{"esewa_status_outage", true}});
  EXPECT_EQ(FollowToServer(redirect).header("Location"),
            Page("success.html", "payment_id=" + std::to_string(p.id) + "&status=PENDING"));
  Response v = EsewaVerify(key, p.id);
  EXPECT_EQ(v.status, 202) << v.raw;
  EXPECT_EQ(v.body["status"], "PENDING");
  for (const char* fault :
       {"esewa_status_http_500", "esewa_status_malformed", "esewa_status_reset"}) {
    SetFaults({{"esewa_status_outage", false}, {fault, true}});
    Response broken = EsewaVerify(key, p.id);
    EXPECT_TRUE(broken.status == 502 || broken.status == 504) << fault << ": " << broken.raw;
    EXPECT_EQ(broken.body["status"], "PENDING") << fault;
    SetFaults({{fault, false}});
  }
  Response got = GetPayment(key, p.id);
  EXPECT_EQ(got.body["status"], "PENDING");
  EXPECT_EQ(got.body["needs_attention"], false);
  EXPECT_EQ(Plan(key), "FREE");
  // Nobody comes back: the reconciler asks the status API and activates.
  EXPECT_TRUE(WaitFor([&] { return Status(key, p.id) == "SUCCESS"; }, 15000));
  EXPECT_EQ(Plan(key), "PRO");
  EXPECT_EQ(CountRows("SELECT COUNT(*) FROM payment_events WHERE to_status = 'SUCCESS' AND "
                      "from_status = 'PENDING' AND cause = 'reconciler'"),
            1);
}

TEST_F(IntegrationEsewa, FailureTargetAsksTheStatusApi) {
  const std::string key = NewOrg();
  const Started a = Begin(key);
  Response cancel = SimCall("POST", "/_sim/esewa/" + a.uuid + "/cancel", Json::object());
  ASSERT_EQ(cancel.status, 200) << cancel.raw;
  EXPECT_EQ(cancel.body["redirect_url"], a.fields["failure_url"]);
  EXPECT_EQ(FollowToServer(cancel.body["redirect_url"]).header("Location"),
            Page("failure.html",
                 "payment_id=" + std::to_string(a.id) + "&status=FAILED&reason=CANCELED"));
  Response v = EsewaVerify(key, a.id);
  EXPECT_EQ(v.status, 400);
  EXPECT_EQ(v.code(), "payment_failed");
  EXPECT_EQ(v.body["reason"], "CANCELED");
  EXPECT_EQ(Plan(key), "FREE");

  // Paid, but the browser landed on the failure target: the status API says it is paid.
  const Started b = Begin(key);
  EsewaPay(b.uuid);
  EXPECT_EQ(FollowToServer(b.fields["failure_url"]).header("Location"),
            Page("success.html", "payment_id=" + std::to_string(b.id) + "&status=SUCCESS"));
  EXPECT_EQ(Plan(key), "PRO");

  const std::string unknown = Page("failure.html", "status=UNKNOWN&reason=unknown_payment");
  EXPECT_EQ(FollowToServer(Self() + "/billing/esewa/failure/?payment_id=99999").header("Location"),
            unknown);
  EXPECT_EQ(FollowToServer(Self() + "/billing/esewa/failure/?payment_id=x").header("Location"),
            unknown);
  // A Khalti payment is not eSewa's: neither its failure target nor its verify.
  const std::string other = NewOrg("other@acme.test");
  Response khalti = Init(other);
  ASSERT_EQ(khalti.status, 201);
  const int64_t kid = khalti.body["payment_id"];
  EXPECT_EQ(FollowToServer(Self() + "/billing/esewa/failure/?payment_id=" + std::to_string(kid))
                .header("Location"),
            unknown);
  EXPECT_EQ(EsewaVerify(other, kid).code(), "validation_error");
  EXPECT_EQ(EsewaVerify(key, kid).status, 404);  // another organization's
  EXPECT_EQ(EsewaInit(key, "NOPE").code(), "invalid_plan");
  EXPECT_EQ(EsewaInit(key, "BASIC").status, 409);  // PRO is active
}

TEST_F(IntegrationEsewa, ThousandsSeparatorAndRawBase64AreAccepted) {
  SetFaults({{"esewa_thousands_separator", true}, {"esewa_data_raw", true}});
  const std::string key = NewOrg();
  const Started p = Begin(key);
  const std::string redirect = EsewaPay(p.uuid);
  const std::string data = DataOf(redirect);
  EXPECT_NE(crypto::Base64Decode(PercentDecode(redirect.substr(redirect.find("data=") + 5)))
                .value_or("")
                .find("3,900.0"),
            std::string::npos)
      << redirect;
  EXPECT_EQ(FollowToServer(redirect).header("Location"),
            Page("success.html", "payment_id=" + std::to_string(p.id) + "&status=SUCCESS"));
  EXPECT_EQ(Plan(key), "PRO");
}

}  // namespace
}  // namespace sima::integration
