// A background thread that runs one pass of some work every `interval` until stopped.
// Stop() wakes it at once and joins; a pass in progress finishes first.
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <thread>

namespace sima::server {

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
