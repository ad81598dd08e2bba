// A background thread that runs one pass of some work every `interval` until stopped.
// Stop() wakes it at once and joins; a pass in progress finishes first.
#pragma once

#include <algorithm>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <thread>

namespace sima::server {

// The pause before try number `tries` (1 = the first retry) of background work that failed:
// `base` doubling each time up to an hour (or `base` when that is longer), scaled by
// 1 + 0.2 * jitter (jitter in [-1, 1]; 0 = none), never under a second. The e-mail outbox and
// the webhook sender both retry on it.
inline std::chrono::seconds RetryDelay(int64_t tries, std::chrono::seconds base,
                                       double jitter = 0) {
  constexpr int64_t kMaxSeconds = 3600;
  const int64_t shift = std::clamp<int64_t>(tries - 1, 0, 20);
  const int64_t plain =
      std::min<int64_t>(base.count() << shift, std::max(base.count(), kMaxSeconds));
  const double factor = 1.0 + 0.2 * std::clamp(jitter, -1.0, 1.0);
  return std::chrono::seconds{
      std::max<int64_t>(1, std::llround(static_cast<double>(plain) * factor))};
}

class Periodic {
 public:
  Periodic() = default;
  ~Periodic() { Stop(); }
  Periodic(const Periodic&) = delete;
  Periodic& operator=(const Periodic&) = delete;

  // Starts the thread; `pass` runs first after one interval. REQUIRES: not running.
  void Start(std::chrono::milliseconds interval, std::function<void()> pass) {
    stop_ = false;
    thread_ = std::thread([this, interval, pass = std::move(pass)] {
      std::unique_lock lock(mu_);
      while (!stop_) {
        cv_.wait_for(lock, interval, [this] { return stop_ || poke_; });
        if (stop_) break;
        poke_ = false;
        lock.unlock();
        pass();
        lock.lock();
      }
    });
  }
  // Runs a pass soon instead of at the end of the interval.
  void Poke() {
    {
      std::lock_guard lock(mu_);
      poke_ = true;
    }
    cv_.notify_all();
  }
  void Stop() {
    {
      std::lock_guard lock(mu_);
      stop_ = true;
    }
    cv_.notify_all();
    if (thread_.joinable()) thread_.join();
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;
  bool poke_ = false;
  std::thread thread_;
};

}  // namespace sima::server
