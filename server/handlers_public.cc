#include "handlers.h"
#include "sima/json.h"

namespace sima::server {

// 200 only when the database can be read and written: a load balancer stops sending
// requests to a server whose disk is full, read-only or whose file is gone.
Expected<Reply> Healthz(const Services& s, const Call&) {
  if (auto health = s.store.CheckHealth(); !health) {
    Error e{ErrorKind::kUnavailable, "the database cannot be read and written"};
    e.extra["status"] = "unavailable";
    return e;
  }
  return Reply{200, {{"status", "ok"}}};
}

Expected<Reply> GetPlans(const Services& s, const Call&) {
  return Reply{200, CatalogToJson(s.catalog)};
}

}  // namespace sima::server
