#include "sima/status.h"

namespace sima {

std::string_view code_name(Code code) {
  switch (code) {
    case Code::kOk: return "ok";
    case Code::kInvalidArgument: return "validation_error";
    case Code::kInvalidJson: return "invalid_json";
    case Code::kInvalidCatalog: return "invalid_catalog";
    case Code::kUnknownFeature: return "unknown_feature";
    case Code::kInvalidPlan: return "invalid_plan";
    case Code::kConflict: return "conflict";
    case Code::kIllegalTransition: return "illegal_transition";
  }
  return "unknown";
}

std::string Status::ToString() const {
  if (ok()) return "OK";
  std::string out(code_name(code_));
  out += ": ";
  out += message_;
  return out;
}

}  // namespace sima
