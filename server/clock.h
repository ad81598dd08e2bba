// The server's clock, injected so tests can move time (period rollover, session expiry)
// without sleeping.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>

#include "sima/time.h"

namespace sima::server {

// Returns the current time. Must be safe to call from many threads at once.
using NowFn = std::function<Time()>;

// The system clock, truncated to whole seconds.
inline Time SystemNow() { return std::chrono::floor<std::chrono::seconds>(Clock::now()); }

// A clock that only moves when told to. Thread-safe.
class FakeClock {
 public:
  explicit FakeClock(Time start) : secs_(start.time_since_epoch().count()) {}
  Time Now() const { return Time{std::chrono::seconds{secs_.load()}}; }
  void Set(Time t) { secs_.store(t.time_since_epoch().count()); }
  void Advance(std::chrono::seconds d) { secs_.fetch_add(d.count()); }
  // A NowFn reading this clock; the clock must outlive it.
  NowFn AsFn() {
    return [this] { return Now(); };
  }

 private:
  std::atomic<long long> secs_;
};

}  // namespace sima::server
