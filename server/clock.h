// The server's clock, injected so tests can move time (period rollover, session expiry)
// without sleeping, and the one conversion between Time and the Unix seconds stores keep.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>

#include "sima/time.h"

namespace sima::server {

// Seconds since 1970-01-01T00:00:00Z, as every table stores a time, and back.
constexpr int64_t ToUnixSeconds(Time t) { return t.time_since_epoch().count(); }
constexpr Time FromUnixSeconds(int64_t seconds) { return Time{std::chrono::seconds{seconds}}; }

// Returns the current time. Must be safe to call from many threads at once.
using NowFn = std::function<Time()>;

// The system clock, truncated to whole seconds.
inline Time SystemNow() { return std::chrono::floor<std::chrono::seconds>(Clock::now()); }

// A clock that only moves when told to. Thread-safe.
class FakeClock {
 public:
  explicit FakeClock(Time start) : secs_(ToUnixSeconds(start)) {}
  Time Now() const { return FromUnixSeconds(secs_.load()); }
  void Set(Time t) { secs_.store(ToUnixSeconds(t)); }
  void Advance(std::chrono::seconds d) { secs_.fetch_add(d.count()); }
  // A NowFn reading this clock; the clock must outlive it.
  NowFn AsFn() {
    return [this] { return Now(); };
  }

 private:
  std::atomic<int64_t> secs_;
};

}  // namespace sima::server
