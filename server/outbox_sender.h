// The e-mail outbox sender: takes due rows from the outbox, delivers them with a Mailer and
// marks them sent; a failure is retried with exponential backoff. It only ever touches the
// outbox, so a mail failure can never undo or block a payment or an activation.
#pragma once

#include <memory>
#include <string>

#include "clock.h"
#include "mail/mailer.h"
#include "periodic.h"
#include "store.h"

namespace sima::server {

class OutboxSender {
 public:
  OutboxSender(Store& store, std::unique_ptr<Mailer> mailer, std::string from, NowFn now);
  ~OutboxSender() { Stop(); }

  // Sends what is due now. Returns how many were sent.
  int RunOnce();

  void Start(std::chrono::milliseconds interval);
  void Stop() { worker_.Stop(); }
  // Sends soon instead of at the end of the interval (the scheduler queued reminders).
  void Poke() { worker_.Poke(); }

  // The delay before retry number `attempts` + 1: 10 s doubling, at most an hour.
  static std::chrono::seconds RetryBackoff(int64_t attempts);

 private:
  Store& store_;
  std::unique_ptr<Mailer> mailer_;
  std::string from_;
  NowFn now_;
  Periodic worker_;
};

}  // namespace sima::server
