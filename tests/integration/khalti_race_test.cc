// Exactly once under races: many verifies and callbacks for one paid payment at the same time.
#include "harness.h"

namespace sima::integration {
namespace {

class IntegrationKhaltiRace : public RaceTest {};

TEST_F(IntegrationKhaltiRace, FiftyVerifiesAndCallbacksActivateOnceAndAgree) {
  const std::string key = NewOrg();
  Response init = Init(key);
  ASSERT_EQ(init.status, 201);
  const int64_t id = init.body["payment_id"];
  const std::string pidx = init.body["pidx"];
  const std::string redirect = Pay(pidx);
  const std::string path = redirect.substr(redirect.find("/billing/"));

  constexpr int kVerifies = 50;
  constexpr int kCallbacks = 20;
  std::vector<std::string> verify_answers(kVerifies);
  std::vector<int> verify_status(kVerifies);
  std::vector<std::string> locations(kCallbacks);
  std::vector<std::function<void(httplib::Client&)>> calls;
  for (int i = 0; i < kVerifies; ++i) {
    calls.emplace_back([&, i](httplib::Client& cli) {
      auto r = cli.Post("/billing/khalti/verify/", {{"Authorization", "Bearer " + key}},
                        Json{{"payment_id", id}, {"pidx", pidx}}.dump(), "application/json");
      verify_status[i] = r ? r->status : 0;
      verify_answers[i] = r ? r->body : "";
    });
  }
  for (int i = 0; i < kCallbacks; ++i) {
    calls.emplace_back([&, i](httplib::Client& cli) {
      auto r = cli.Get(path);
      locations[i] = r ? r->get_header_value("Location") : "";
    });
  }
  RunAtOnce(calls);

  for (int i = 0; i < kVerifies; ++i) {
    EXPECT_EQ(verify_status[i], 200) << verify_answers[i];
    EXPECT_EQ(verify_answers[i], verify_answers[0]);
  }
  const std::string success =
      "http://app.test/demo/success.html?payment_id=" + std::to_string(id) + "&status=SUCCESS";
  // Callbacks share one Khalti lookup per few seconds: the others answer from the payment as
  // stored, which is SUCCESS or, a moment earlier, PENDING (the success page then polls).
  const std::string pending =
      "http://app.test/demo/success.html?payment_id=" + std::to_string(id) + "&status=PENDING";
  for (const std::string& l : locations) EXPECT_TRUE(l == success || l == pending) << l;
  ExpectActivatedOnce(key, "PRO");
  EXPECT_EQ(CountRows("SELECT COUNT(*) FROM subscriptions WHERE plan = 'PRO'"), 1);
  EXPECT_TRUE(Json::parse(verify_answers[0])["subscription"]["end_date"].is_string());
}

}  // namespace
}  // namespace sima::integration
