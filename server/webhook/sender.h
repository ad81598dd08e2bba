// The webhook sender: takes due deliveries from the outbox (Store::ClaimDueDeliveries), POSTs
// each event's body signed (webhook/signature.h) to its endpoint with libcurl, and records
// every try (Store::CompleteDelivery). A 2xx answer delivers; anything else — another status,
// a redirect, a timeout, a refused connection, a blocked address — is retried with exponential
// backoff and jitter until the event is older than SIMA_WEBHOOK_RETRY_HOURS, then given up.
// It only touches the outbox, so a receiver that is down never blocks a payment or a change.
//
// Each pass keeps up to SIMA_WEBHOOK_CONCURRENCY tries in flight on one curl multi handle and
// claims more as tries finish, until nothing is due. A claim is leased (LeaseFor), so a sender
// that dies mid-try leaves its deliveries to be claimed again after the lease: at least once.
#pragma once

#include <atomic>
#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "clock.h"
#include "config.h"
#include "periodic.h"
#include "store.h"

namespace sima::server::webhook {

struct SenderOptions {
  bool allow_private = false;                // SIMA_WEBHOOK_ALLOW_PRIVATE
  std::chrono::milliseconds timeout{10000};  // SIMA_WEBHOOK_TIMEOUT_MS: one try, all of it
  int64_t concurrency = 8;                   // SIMA_WEBHOOK_CONCURRENCY
  std::chrono::hours retry_for{24};          // SIMA_WEBHOOK_RETRY_HOURS
  std::chrono::seconds retry_base{10};       // the first retry's delay (unit tests shorten it)
  static SenderOptions From(const Config& config);
};

// Where the sender's work comes from and goes to: the store (the usual), or a test's queue.
class DeliveryQueue {
 public:
  virtual ~DeliveryQueue() = default;
  // Store::ClaimDueDeliveries and Store::CompleteDelivery, same contracts.
  virtual Expected<std::vector<DueDelivery>> Claim(Time now, Time lease_until, int64_t limit) = 0;
  virtual ExpectedDone Complete(int64_t delivery_id, const std::string& lease,
                                const DeliveryResult& result, Time now) = 0;
};

class Sender {
 public:
  Sender(Store& store, SenderOptions options, NowFn now);
  Sender(DeliveryQueue& queue, SenderOptions options, NowFn now);
  ~Sender();
  Sender(const Sender&) = delete;
  Sender& operator=(const Sender&) = delete;

  // One pass: tries every delivery due now (and those that become due as earlier ones of their
  // organization finish), at most `concurrency` at once. Returns how many were delivered.
  // REQUIRES: not started (the background thread runs passes itself).
  int RunOnce();

  void Start(std::chrono::milliseconds interval);
  // Stops the thread. Tries in flight are abandoned unrecorded: their lease runs out and they
  // are tried again (the receiver may see one twice, as at-least-once allows).
  void Stop();
  // Runs a pass soon instead of at the end of the interval (a re-send, a new event).
  void Poke() { worker_.Poke(); }

  // How long a claim is leased: a whole try (the timeout) twice over and 5 s for the store.
  std::chrono::seconds LeaseFor() const;

  // The delay after try number `tries` (1 = the first) failed: `base` doubling each try, at
  // most an hour, times 1 + 0.2 * `jitter` (jitter in [-1, 1]), at least one second.
  static std::chrono::seconds RetryDelay(int64_t tries, std::chrono::seconds base, double jitter);
  // When a failed try of `due` (made at `after`) is tried again: after RetryDelay, but never
  // later than the event's created time + retry_for (one last try then); nullopt = give up,
  // the event is already older than that.
  static std::optional<Time> RetryAt(const DueDelivery& due, Time after,
                                     const SenderOptions& options, double jitter);

 private:
  struct Transfers;
  std::unique_ptr<DeliveryQueue> owned_queue_;
  DeliveryQueue& queue_;
  SenderOptions options_;
  NowFn now_;
  std::unique_ptr<Transfers> transfers_;
  std::atomic<bool> stopping_{false};
  Periodic worker_;
};

}  // namespace sima::server::webhook
