// The scheduler: finds organizations with a reminder due (renewal notices, trial ending, grace
// started, expired; sima/reminders.h) and sends each exactly once through
// Store::SendDueReminder, which records the reminder's key and queues the e-mail in one
// transaction. Like the reconciler it runs in every instance; the key, unique per
// organization, makes a second instance or a pass after a restart send nothing twice. Time
// comes from the injected clock, so tests travel instead of waiting.
#pragma once

#include <cstdint>
#include <functional>

#include "clock.h"
#include "periodic.h"
#include "sima/catalog.h"
#include "store.h"

namespace sima::server {

class Scheduler {
 public:
  // `compose` writes the e-mails (mail/reminder.h); `sent` runs after a pass that queued
  // e-mails (pokes the outbox sender). The store must outlive the scheduler.
  Scheduler(Store& store, ComposeReminder compose, NowFn now, std::function<void()> sent);
  ~Scheduler() { Stop(); }

  struct Pass {
    int64_t candidates = 0;  // organizations looked at
    int64_t sent = 0;        // reminders recorded (each at most once, ever)
    int64_t emailed = 0;     // of those, e-mails queued (an organization without a billing
                             // e-mail gets none)
    int64_t errors = 0;      // store failures (logged; the next pass tries again)
  };
  // One pass at now: Store::ReminderCandidates in batches of kBatch, SendDueReminder for each.
  // A pass that sent something logs what, per organization (kinds and keys, never a link).
  // Thread-safe: passes may overlap (the store sends each reminder once).
  Pass RunOnce();

  static constexpr int64_t kBatch = 200;

  void Start(std::chrono::milliseconds interval);
  void Stop() { worker_.Stop(); }
  // Runs a pass soon (the background thread), instead of at the end of the interval.
  void Poke() { worker_.Poke(); }

 private:
  Store& store_;
  ComposeReminder compose_;
  NowFn now_;
  std::function<void()> sent_;
  Periodic worker_;
};

}  // namespace sima::server
