// PgStore: refunds of payments (asked of a gateway or recorded by hand) and what they do to
// the payment and the subscription.
#include "pg_store.h"

namespace sima::server {

// --- not built yet (the refunds branch) ---
namespace {
Error RefundsNotBuilt() { return Error::Internal("refunds are not built yet"); }
}  // namespace

Expected<Refund> PgStore::BeginRefund(const Refund&, Time) { return RefundsNotBuilt(); }
Expected<Refund> PgStore::SettleRefund(const std::string&, RefundStatus, const std::string&,
                                           const std::optional<std::string>&, bool, Time) {
  return RefundsNotBuilt();
}
Expected<std::vector<Refund>> PgStore::ListRefunds(int64_t) { return RefundsNotBuilt(); }

}  // namespace sima::server
