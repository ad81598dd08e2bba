// The reconciler: PENDING payments are looked up again at their gateway with backoff until
// they are decided. Its state is the payments table (next_check_at, check_attempts), so it
// carries on after a restart. It never holds the write lock during a gateway call.
#pragma once

#include <cstdint>

#include "clock.h"
#include "gateway_adapters.h"
#include "periodic.h"
#include "store.h"

namespace sima::server {

class ChangeFeed;

class Reconciler {
 public:
  // A gateway missing from `gateways` is off: its payments are looked at later. `timing`:
  // when to look again and when to give up. Each payment a pass decides is told to `changes`
  // (nullptr: live usage off). The store and the feed must outlive the reconciler.
  Reconciler(Store& store, PaymentGateways gateways, NowFn now, PaymentTiming timing = {},
             ChangeFeed* changes = nullptr);
  ~Reconciler() { Stop(); }

  // One pass over the payments due now, at most kBatch, fair across organizations: round-robin
  // with at most kPerOrg of one organization (Store::DuePendingPayments), so one
  // organization's backlog never delays another's payment. Each is looked up and applied with
  // cause "reconciler"; one still pending is rescheduled (PaymentTiming::NextCheck). A pass
  // that looked at payments logs which, per organization. A payment that never got a gateway
  // reference (the server stopped during initiate) is failed: nobody can pay it. One still
  // pending give_up_after_expiry (a day) past its expiry is no longer looked at and needs
  // attention.
  // Returns how many payments were looked at.
  int RunOnce();

  static constexpr int64_t kBatch = 32;
  static constexpr int64_t kPerOrg = 8;

  void Start(std::chrono::milliseconds interval);
  void Stop() { worker_.Stop(); }

 private:
  Store& store_;
  PaymentGateways gateways_;
  NowFn now_;
  PaymentTiming timing_;
  ChangeFeed* changes_;
  Periodic worker_;
};

}  // namespace sima::server
