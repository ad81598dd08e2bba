// Errors as values: every fallible call in sima's core returns a Status or a Result<T>.
// Nothing in sdk/ throws across its API (the wasm build ignores exceptions).
#pragma once

#include <string>
#include <string_view>
#include <utility>

#include "sima/expected.h"

namespace sima {

// The machine-readable kind of an error. The names on the wire (code_name) match the
// `code` field of docs/api.md where the two meet.
enum class Code {
  kOk,
  kInvalidArgument,    // "validation_error": a value is missing, of the wrong type or out of range
  kInvalidJson,        // "invalid_json": text that is not JSON, or not the expected shape
  kInvalidCatalog,     // "invalid_catalog": a plan catalog that breaks a rule
  kUnknownFeature,     // "unknown_feature"
  kInvalidPlan,        // "invalid_plan": unknown plan, or one that cannot be bought (FREE)
  kConflict,           // "conflict": e.g. a lower plan while a higher one is active
  kIllegalTransition,  // "illegal_transition": a payment state change the machine forbids
};

// The wire name of a code, e.g. "validation_error".
std::string_view code_name(Code code);

class Status {
 public:
  Status() = default;  // OK
  Status(Code code, std::string message) : code_(code), message_(std::move(message)) {}

  static Status Ok() { return {}; }
  static Status InvalidArgument(std::string m) { return {Code::kInvalidArgument, std::move(m)}; }
  static Status InvalidJson(std::string m) { return {Code::kInvalidJson, std::move(m)}; }
  static Status InvalidCatalog(std::string m) { return {Code::kInvalidCatalog, std::move(m)}; }
  static Status UnknownFeature(std::string m) { return {Code::kUnknownFeature, std::move(m)}; }
  static Status InvalidPlan(std::string m) { return {Code::kInvalidPlan, std::move(m)}; }
  static Status Conflict(std::string m) { return {Code::kConflict, std::move(m)}; }
  static Status IllegalTransition(std::string m) {
    return {Code::kIllegalTransition, std::move(m)};
  }

  bool ok() const { return code_ == Code::kOk; }
  Code code() const { return code_; }
  const std::string& message() const { return message_; }
  // "OK" or "<code_name>: <message>".
  std::string ToString() const;

 private:
  Code code_ = Code::kOk;
  std::string message_;
};

// A value or the Status that explains why there is none (sima/expected.h).
// REQUIRES: value() only when ok(); status() is OK when ok().
template <typename T>
using Result = Expected<T, Status>;

}  // namespace sima
