// One result template for all of sima: a value, or the error that explains why there is none.
// The core spells it `Result<T>` (= Expected<T, Status>, sima/status.h); the server spells it
// `server::Expected<T>` (= Expected<T, server::Error>, server/error.h). Nothing here throws.
#pragma once

#include <concepts>
#include <utility>
#include <variant>

namespace sima {

class Status;

// A value of type T, or an error of type E.
// REQUIRES: value(), operator* and operator-> only when ok(); error() only when !ok().
template <typename T, typename E>
class Expected {
 public:
  Expected(T value) : v_(std::in_place_index<0>, std::move(value)) {}  // NOLINT: implicit
  Expected(E error) : v_(std::in_place_index<1>, std::move(error)) {}  // NOLINT: implicit
  // A value built in place from `args` (no move of a large T on the way out of a function).
  template <typename... Args>
  explicit Expected(std::in_place_t, Args&&... args)
      : v_(std::in_place_index<0>, std::forward<Args>(args)...) {}

  bool ok() const { return v_.index() == 0; }
  explicit operator bool() const { return ok(); }

  const T& value() const& { return std::get<0>(v_); }
  T& value() & { return std::get<0>(v_); }
  T&& value() && { return std::get<0>(std::move(v_)); }
  const T& operator*() const& { return value(); }
  const T* operator->() const { return &value(); }

  const E& error() const { return std::get<1>(v_); }

  // For Result<T>: the error, or an OK Status when there is a value.
  E status() const requires std::same_as<E, Status> { return ok() ? E() : error(); }

 private:
  std::variant<T, E> v_;
};

}  // namespace sima
