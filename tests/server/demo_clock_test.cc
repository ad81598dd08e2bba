// The demo clock (SIMA_DEMO_CLOCK=1): only the admin on this machine moves it, only forward,
// and without the setting the routes do not exist.
#include "server_fixture.h"

namespace sima::server::testing {
namespace {

using ServerNoDemoClock = ServerTest;

TEST_F(ServerNoDemoClock, TheRoutesDoNotExist) {
  EXPECT_EQ(Get("/demo/clock/", kAdminToken).status, 404);
  EXPECT_EQ(Post("/demo/clock/", kAdminToken, {{"advance_seconds", 60}}).status, 404);
  EXPECT_EQ(Send("PUT", "/demo/clock/", kAdminToken, "{}").status, 404);
}

class ServerDemoClock : public ServerTest {
 protected:
  void SetUp() override {
    config_.demo_clock = 1;
    ServerTest::SetUp();
  }
};

TEST_F(ServerDemoClock, TheAdminFromLoopbackMovesTheServersClockForward) {
  Response r = Get("/demo/clock/", kAdminToken);
  ASSERT_EQ(r.status, 200) << r.raw;
  EXPECT_EQ(r.body["now"], FormatTime(Start()));
  EXPECT_EQ(r.body["offset_seconds"], 0);
  const std::string key = NewKey("BASIC");
  r = Post("/demo/clock/", kAdminToken, {{"advance_seconds", 31 * 86400}});
  ASSERT_EQ(r.status, 200) << r.raw;
  EXPECT_EQ(r.body["now"], FormatTime(Start() + Days{31}));
  EXPECT_EQ(r.body["offset_seconds"], 31 * 86400);
  // The whole server lives at the new time: BASIC is in grace.
  EXPECT_EQ(Get("/billing/usage/", key).body["subscription"]["state"], "grace");
  clock_.Advance(std::chrono::seconds{5});  // the base clock goes on beneath the offset
  EXPECT_EQ(Get("/demo/clock/", kAdminToken).body["now"],
            FormatTime(Start() + Days{31} + std::chrono::seconds{5}));
}

TEST_F(ServerDemoClock, TimeOnlyMovesForwardWithinFourHundredDays) {
  for (const Json& n : {Json(0), Json(-60), Json(400 * 86400 + 1), Json("60"), Json(1.5)}) {
    Response r = Post("/demo/clock/", kAdminToken, {{"advance_seconds", n}});
    EXPECT_EQ(r.status, 400) << n;
    EXPECT_EQ(r.body["field"], "advance_seconds");
  }
  EXPECT_EQ(Get("/demo/clock/", kAdminToken).body["offset_seconds"], 0);
  EXPECT_EQ(Post("/demo/clock/", kAdminToken, {{"advance_seconds", 400 * 86400}}).status, 200);
}

TEST_F(ServerDemoClock, AnyoneElseSeesNoRoute) {
  const std::string key = NewKey();
  for (const std::string& token : {std::string(), key, std::string("wrong")}) {
    EXPECT_EQ(Post("/demo/clock/", token, {{"advance_seconds", 60}}).status, 404);
    EXPECT_EQ(Get("/demo/clock/", token).status, 404);
  }
  // Through a proxy it is not this machine's admin.
  Response proxied = Send("POST", "/demo/clock/", kAdminToken, R"({"advance_seconds":60})",
                          "application/json", {{"X-Forwarded-For", "203.0.113.9"}});
  EXPECT_EQ(proxied.status, 404);
  EXPECT_EQ(Get("/demo/clock/", kAdminToken).body["offset_seconds"], 0);
}

TEST(ServerDemoClockConfig, AServerWithARealGatewayRefusesToStart) {
  TempDir dir;
  App::Options options;
  options.config.db = dir.path() + "/sima.db";
  options.config.demo_clock = 1;
  options.config.khalti_base_url = "https://khalti.com/api/v2/";
  options.background = false;
  auto app = App::Create(options);
  ASSERT_FALSE(app.ok());
  EXPECT_EQ(app.error().extra["field"], "SIMA_DEMO_CLOCK");
}

}  // namespace
}  // namespace sima::server::testing
