#include "handlers.h"
#include "sima/json.h"

namespace sima::server {

Expected<Reply> Healthz(const Services&, const Call&) {
  return Reply{200, {{"status", "ok"}}};
}

Expected<Reply> GetPlans(const Services& s, const Call&) {
  return Reply{200, CatalogToJson(s.catalog)};
}

}  // namespace sima::server
