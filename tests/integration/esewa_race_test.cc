// Exactly once under races: the same eSewa success redirect, verifies and the failure target
// for one paid payment, all at the same time.
#include "harness.h"

namespace sima::integration {
namespace {

class IntegrationEsewaRace : public RaceTest {};

TEST_F(IntegrationEsewaRace, ConcurrentCallbacksVerifiesAndFailureTargetsActivateOnce) {
  const std::string key = NewOrg();
  Response init = EsewaInit(key);
  ASSERT_EQ(init.status, 201) << init.raw;
  const int64_t id = init.body["payment_id"];
  const Json fields = init.body["fields"];
  ASSERT_EQ(EsewaPostForm(fields), 200);
  const std::string redirect = EsewaPay(fields["transaction_uuid"]);
  const std::string callback = redirect.substr(redirect.find("/billing/"));
  const std::string failure_url = fields["failure_url"];
  const std::string failure = failure_url.substr(failure_url.find("/billing/"));

  constexpr int kEach = 15;
  std::vector<std::string> callbacks(kEach), failures(kEach), verifies(kEach);
  std::vector<int> verify_status(kEach);
  std::vector<std::function<void(httplib::Client&)>> calls;
  for (int i = 0; i < kEach; ++i) {
    calls.emplace_back([&, i](httplib::Client& cli) {
      auto r = cli.Get(callback);
      callbacks[i] = r ? r->get_header_value("Location") : "";
    });
    calls.emplace_back([&, i](httplib::Client& cli) {
      auto r = cli.Get(failure);
      failures[i] = r ? r->get_header_value("Location") : "";
    });
    calls.emplace_back([&, i](httplib::Client& cli) {
      auto r = cli.Post("/billing/esewa/verify/", {{"Authorization", "Bearer " + key}},
                        Json{{"payment_id", id}}.dump(), "application/json");
      verify_status[i] = r ? r->status : 0;
      verifies[i] = r ? r->body : "";
    });
  }
  RunAtOnce(calls);

  const std::string success =
      "http://app.test/demo/success.html?payment_id=" + std::to_string(id) + "&status=SUCCESS";
  // Anonymous callers share one status check per few seconds: the others answer from the
  // payment as stored, SUCCESS or, a moment earlier, PENDING (the app's pages then poll).
  const std::string pending =
      "http://app.test/demo/success.html?payment_id=" + std::to_string(id) + "&status=PENDING";
  const std::string failure_pending =
      "http://app.test/demo/failure.html?payment_id=" + std::to_string(id) +
      "&status=PENDING&reason=";
  for (int i = 0; i < kEach; ++i) {
    EXPECT_TRUE(callbacks[i] == success || callbacks[i] == pending) << callbacks[i];
    EXPECT_TRUE(failures[i] == success || failures[i] == failure_pending) << failures[i];
    EXPECT_EQ(verify_status[i], 200) << verifies[i];
    EXPECT_EQ(verifies[i], verifies[0]);
  }
  ExpectActivatedOnce(key, "PRO");
}

}  // namespace
}  // namespace sima::integration
