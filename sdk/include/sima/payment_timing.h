// Payment timing policy in one place: how long a payment may take to start, when it is first
// looked up, how the background look-ups back off and when they give up, what a client is told
// to wait, and the windows that keep anonymous redirect targets cheap. Every default below is
// the server's (docs/payments.md, "Timing"); the server fills the configured ones
// (ESEWA_SESSION_MINUTES) from its settings and reads the rest from here.
//
//   PaymentTiming timing;                        // the defaults
//   timing.esewa_session = std::chrono::minutes{90};
//   auto next = timing.NextCheck(attempts, payment.expires_at, now);   // nullopt: give up
//
// Pure values and functions: no clock, no I/O.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>

#include "sima/time.h"

namespace sima {

struct PaymentTiming {
  // --- starting a payment ---
  // A payment without its gateway reference (its init was cut off) is left alone this long
  // after it was opened; then the reconciler fails it as "not_initiated" (nobody can pay it).
  std::chrono::seconds initiate_grace{15 * 60};
  // The first background look-up of a payment, this long after it got its gateway reference.
  std::chrono::seconds first_check{5};
  // An open payment is offered again by init only with at least this long left to pay it.
  std::chrono::seconds reuse_margin{5 * 60};

  // --- background look-ups (the reconciler) ---
  // After n inconclusive look-ups the next waits backoff_start * 2^n, at most backoff_max.
  std::chrono::seconds backoff_start{5};
  std::chrono::seconds backoff_max{10 * 60};
  // A payment still pending this long past its expiry is no longer looked up: a human looks.
  std::chrono::seconds give_up_after_expiry{24 * 3600};

  // --- what clients are told ---
  // retry_after (and Retry-After) of a verify that found the payment still pending, or could
  // not ask the gateway.
  std::chrono::seconds retry_after{5};
  // retry_after of a 429 to an init while the same payment is still being started (it has no
  // gateway reference yet and was opened within starting_window).
  std::chrono::seconds starting_retry_after{1};
  std::chrono::seconds starting_window{30};
  // New payments per organization are counted over this window (SIMA_INIT_PER_MINUTE).
  std::chrono::seconds init_rate_window{60};
  // retry_after of a 429 because too many payments are open (SIMA_OPEN_PAYMENTS_MAX).
  std::chrono::seconds open_cap_retry_after{60};

  // --- what a gateway's "not paid" means ---
  // Khalti: a pidx whose expiry Khalti did not give lives this long (its production default);
  // "Not found." fails a payment only not_found_grace past the expiry (clocks disagree).
  std::chrono::seconds khalti_pidx_lifetime{3600};
  std::chrono::seconds khalti_not_found_grace{10 * 60};
  // eSewa: NOT_FOUND fails a payment only this long after init (ESEWA_SESSION_MINUTES): eSewa
  // also says it for a transaction the payer has not reached yet.
  std::chrono::seconds esewa_session{3600};

  // --- anonymous redirect targets (callbacks, the failure target) ---
  // A payment is looked up from them at most once per window; within it the stored payment
  // answers. Init shares it before offering an open payment again.
  std::chrono::seconds anonymous_lookup_window{5};
  // A rejected (forged, broken) redirect naming a real payment is audited at most once per
  // payment per window; the rest are only counted in the log.
  std::chrono::seconds rejected_audit_window{60};

  // The reconciler's first look at a payment opened at `now`, before it has a gateway
  // reference: now + initiate_grace (init attaches the reference and moves it to FirstCheck).
  Time InitiateDeadline(Time now) const { return now + initiate_grace; }
  // The first look-up of a payment that got its gateway reference at `now`.
  Time FirstCheck(Time now) const { return now + first_check; }
  // The delay before the next look-up after `attempts` inconclusive ones (negative counts as
  // 0): 5 s, 10 s, 20 s ... at most 10 minutes with the defaults.
  std::chrono::seconds RecheckBackoff(int64_t attempts) const;
  // When to look a still-pending payment up again after `attempts` inconclusive look-ups:
  // now + RecheckBackoff(attempts), or nullopt (give up, a human looks) once `now` is more
  // than give_up_after_expiry past `expires_at`. A payment without an expiry is never given up.
  std::optional<Time> NextCheck(int64_t attempts, std::optional<Time> expires_at, Time now) const;
  // retry_after of a 429 past the init rate, whose oldest counted payment was opened at
  // `oldest`: until it leaves init_rate_window, at least 1 s.
  std::chrono::seconds InitRateRetryAfter(Time oldest, Time now) const;
};

}  // namespace sima
