#include "in_process_harness.h"

#include "config.h"
#include "reconciler.h"

namespace sima::integration {

void InProcessTest::StartSim() {
  simulator::Options options;
  options.port = 0;
  options.now = clock_.AsFn();
  sim_in_ = std::make_unique<simulator::Simulator>(std::move(options));
  sim_port_ = sim_in_->BindToAnyPort();
  ASSERT_GT(sim_port_, 0) << "the simulator cannot bind";
  sim_thread_ = std::thread([this] { sim_in_->Listen(); });
  sim_in_->WaitUntilReady();
}

void InProcessTest::StartServer() {
  if (server_port_ == 0) server_port_ = FreePort();
  ++server_starts_;
  const auto env = ServerEnv(server_port_);
  auto loaded = server::LoadConfig({}, [&env](const char* name) -> const char* {
    const auto it = env.find(name);
    return it == env.end() ? nullptr : it->second.c_str();
  });
  ASSERT_TRUE(loaded.ok()) << loaded.error().message;
  server::App::Options options;
  options.config = loaded->config;
  options.now = clock_.AsFn();
  options.background = false;
  auto app = server::App::Create(std::move(options));
  ASSERT_TRUE(app.ok()) << app.error().message;
  app_ = std::move(app).value();
  auto port = app_->Bind();
  ASSERT_TRUE(port.ok()) << port.error().message;
  app_thread_ = std::thread([this] { app_->Listen(); });
  ASSERT_TRUE(WaitFor([&] { return Healthy(server_port_, "/healthz"); }, 15000))
      << "sima-server did not start";
}

int InProcessTest::RunReconciler() { return app_->reconciler().RunOnce(); }

void InProcessTest::TearDown() {
  if (app_) app_->Stop();
  if (app_thread_.joinable()) app_thread_.join();
  app_.reset();
  if (sim_in_) sim_in_->Stop();
  if (sim_thread_.joinable()) sim_thread_.join();
  sim_in_.reset();
  IntegrationTest::TearDown();
}

}  // namespace sima::integration
