// The server's clock, injected so tests can move time (period rollover, session expiry)
// without sleeping, and the one conversion between Time and the Unix seconds stores keep.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <utility>

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

// SIMA_DEMO_CLOCK=1: another clock plus an offset that only grows, so a demo can show the
// second month without waiting for it (POST /demo/clock/). Never in production: the server
// refuses the setting unless every gateway URL is loopback (the simulator). Thread-safe.
class DemoClock {
 public:
  explicit DemoClock(NowFn base) : base_(std::move(base)) {}
  Time Now() const { return base_() + std::chrono::seconds{offset_.load()}; }
  // Moves the clock `by` forward (a negative or zero `by` moves nothing). Returns the offset.
  std::chrono::seconds Advance(std::chrono::seconds by) {
    if (by.count() <= 0) return offset();
    return std::chrono::seconds{offset_.fetch_add(by.count()) + by.count()};
  }
  std::chrono::seconds offset() const { return std::chrono::seconds{offset_.load()}; }
  // A NowFn reading this clock; the clock must outlive it.
  NowFn AsFn() const {
    return [this] { return Now(); };
  }

 private:
  NowFn base_;
  std::atomic<int64_t> offset_{0};
};

}  // namespace sima::server
