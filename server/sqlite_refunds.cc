// SqliteStore: refunds of payments (asked of a gateway or recorded by hand) and what they do to
// the payment and the subscription.
#include "sqlite_store.h"

namespace sima::server {

// --- not built yet (the refunds branch) ---
namespace {
Error RefundsNotBuilt() { return Error::Internal("refunds are not built yet"); }
}  // namespace

Expected<Refund> SqliteStore::BeginRefund(const Refund&, Time) { return RefundsNotBuilt(); }
Expected<Refund> SqliteStore::SettleRefund(const std::string&, RefundStatus, const std::string&,
                                           const std::optional<std::string>&, bool, Time) {
  return RefundsNotBuilt();
}
Expected<std::vector<Refund>> SqliteStore::ListRefunds(int64_t) { return RefundsNotBuilt(); }

}  // namespace sima::server
