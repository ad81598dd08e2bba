// Field checks for JSON request bodies. Each failure is a validation_error naming the field.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "error.h"

namespace sima::server {

// What a string field may contain. All kinds refuse NUL and other C0 controls except where
// noted; JSON parsing has already refused invalid UTF-8.
enum class TextKind {
  kLine,   // one line of text (names)
  kText,   // free text: tabs and line breaks allowed (descriptions)
  kEmail,  // local@domain, no spaces, one '@', a dot in the domain
  kKey,    // an opaque key: printable ASCII without spaces (idempotency keys)
};

// kValidation for the first key of `body` not in `allowed`.
ExpectedDone OnlyFields(const Json& body, std::initializer_list<std::string_view> allowed);
ExpectedDone OnlyFields(const Json& body, std::span<const std::string_view> allowed);

// An integer in [min, max]; `fallback` when the field is absent (kValidation when absent and
// there is no fallback). Floats, strings, booleans and numbers out of range are refused.
Expected<int64_t> IntField(const Json& body, std::string_view key, int64_t min, int64_t max,
                           std::optional<int64_t> fallback = std::nullopt);

// A string of 1..max_bytes bytes of `kind`; nullopt when absent (or null) and not required.
// Surrounding spaces are trimmed from kLine and kEmail values.
Expected<std::optional<std::string>> StringField(const Json& body, std::string_view key,
                                                 bool required, size_t max_bytes, TextKind kind);

// Nesting depth of JSON text (brackets outside strings), to refuse deep nesting before parsing.
size_t JsonDepth(std::string_view text);

}  // namespace sima::server
