// The gateway simulator and sima-server in this process instead of as children, on one
// FakeClock that only the test moves, with the server's background work off: a test drives
// reconciler passes by hand and lets minutes pass without waiting for them. Everything else is
// as in IntegrationTest: free ports, real HTTP between the test, the server and the simulator,
// and the server configured from the environment StartServer() gives the child process.
#pragma once

#include <chrono>
#include <memory>
#include <thread>

#include "app.h"
#include "clock.h"
#include "harness.h"
#include "sima/simulator/simulator.h"

namespace sima::integration {

class InProcessTest : public IntegrationTest {
 protected:
  // 2026-01-01T00:00:00Z.
  static Time Start() { return Time{std::chrono::seconds{1767225600}}; }

  void TearDown() override;
  void StartSim() override;
  void StartServer() override;

  // Moves the clock the server and the simulator read by `d`.
  void Advance(std::chrono::seconds d) { clock_.Advance(d); }
  // One reconciler pass at the current time; how many payments it looked at.
  int RunReconciler();
  // The server in this process (after StartServer).
  server::App& app() { return *app_; }

  server::FakeClock clock_{Start()};

 private:
  std::unique_ptr<simulator::Simulator> sim_in_;
  std::thread sim_thread_;
  std::unique_ptr<server::App> app_;
  std::thread app_thread_;
};

}  // namespace sima::integration
