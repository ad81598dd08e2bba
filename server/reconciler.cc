#include "reconciler.h"

#include <iostream>

#include "events.h"
#include "payment_flow.h"

namespace sima::server {
namespace {

void Log(const Json& line) {
  std::cerr << line.dump(-1, ' ', false, Json::error_handler_t::replace) << std::endl;
}

}  // namespace

Reconciler::Reconciler(Store& store, PaymentGateways gateways, NowFn now, PaymentTiming timing,
                       ChangeFeed* changes)
    : store_(store),
      gateways_(std::move(gateways)),
      now_(std::move(now)),
      timing_(timing),
      changes_(changes) {}

void Reconciler::Start(std::chrono::milliseconds interval) {
  worker_.Start(interval, [this] { RunOnce(); });
}

int Reconciler::RunOnce() {
  auto due = store_.DuePendingPayments(now_(), kBatch, kPerOrg);
  if (!due) {
    Log({{"msg", "reconciler: cannot read pending payments"}, {"error", due.error().message}});
    return 0;
  }
  int looked = 0;
  if (!due->empty()) {
    Json orgs = Json::object();
    Json ids = Json::array();
    for (const Payment& p : due.value()) {
      orgs[p.org_id] = orgs.value(p.org_id, 0) + 1;
      ids.push_back(p.id);
    }
    Log({{"msg", "reconciler: pass"}, {"orgs", std::move(orgs)}, {"payment_ids", std::move(ids)}});
  }
  for (const Payment& p : due.value()) {
    const Time now = now_();
    ++looked;
    if (!p.reference_id) {
      auto r = store_.ApplyPaymentOutcome(
          p.id, std::nullopt,
          InitiateFailed("not_initiated", "no gateway reference was stored; nobody can pay it"),
          PaymentCause::kReconciler, now);
      if (!r) Log({{"msg", "reconciler: cannot fail payment"}, {"payment_id", p.id}});
      if (r && r->changed && changes_ != nullptr) changes_->Changed(p.org_id);
      continue;
    }
    const PaymentGateway* gateway = gateways_.For(p.provider);
    if (gateway == nullptr) {
      // That gateway is off (not configured): look again later.
      (void)store_.ScheduleRecheck(p.id, now + timing_.RecheckBackoff(p.check_attempts), now);
      continue;
    }
    auto confirmed =
        ConfirmPayment(store_, *gateway, p, PaymentCause::kReconciler, now, false, changes_);
    if (!confirmed) {
      Log({{"msg", "reconciler: cannot store an outcome"},
           {"payment_id", p.id},
           {"error", confirmed.error().message}});
      continue;
    }
    const Payment& after = confirmed->state.payment;
    if (after.status != PaymentStatus::kPending) {
      Log({{"msg", "reconciler: payment decided"},
           {"payment_id", p.id},
           {"status", to_string(after.status)}});
      continue;
    }
    if (auto r = store_.ScheduleRecheck(
            p.id, timing_.NextCheck(p.check_attempts, p.expires_at, now), now);
        !r) {
      Log({{"msg", "reconciler: cannot reschedule"}, {"payment_id", p.id}});
    }
  }
  return looked;
}

}  // namespace sima::server
