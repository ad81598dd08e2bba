// The demo clock (SIMA_DEMO_CLOCK=1 only; clock.h): the admin, from this machine, moves the
// server's clock forward so a demo shows renewals, grace and expiry without waiting. The
// routes are not installed without the setting, and answer 404 to anyone else.
#include "handlers.h"
#include "validate.h"

namespace sima::server {
namespace {

constexpr int64_t kMaxAdvance = int64_t{400} * 24 * 3600;  // 400 days

Reply ClockReply(const DemoClock& clock) {
  return Reply{200, {{"now", FormatTime(clock.Now())}, {"offset_seconds", clock.offset().count()}}};
}

}  // namespace

// GET /demo/clock/: {"now", "offset_seconds"}.
Expected<Reply> GetDemoClockHandler(const Services& s, const Call&) {
  if (s.demo_clock == nullptr) return Error::NotFound("no such route");
  return ClockReply(*s.demo_clock);
}

// POST /demo/clock/ {"advance_seconds": 1..400 days}: the clock only moves forward; the
// scheduler runs a pass at once, so reminders due at the new time are queued on return.
Expected<Reply> AdvanceDemoClockHandler(const Services& s, const Call& call) {
  if (s.demo_clock == nullptr) return Error::NotFound("no such route");
  if (auto r = OnlyFields(call.body, {"advance_seconds"}); !r) return r.error();
  auto seconds = IntField(call.body, "advance_seconds", 1, kMaxAdvance);
  if (!seconds) return seconds.error();
  s.demo_clock->Advance(std::chrono::seconds{*seconds});
  if (s.run_scheduler) s.run_scheduler();
  return ClockReply(*s.demo_clock);
}

}  // namespace sima::server
