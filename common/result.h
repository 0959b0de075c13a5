// A value or the reason there is none. Failures the outside world causes (a
// bad config value, a refused connection) are values, not exceptions.
#pragma once

#include <optional>
#include <string>
#include <utility>
#include <variant>

namespace common {

struct Error {
  std::string message;
};

template <class T>
class Result {
 public:
  Result(T value) : v_(std::move(value)) {}  // NOLINT: implicit on purpose
  Result(Error e) : v_(std::move(e)) {}      // NOLINT
  static Result fail(std::string message) { return Result(Error{std::move(message)}); }

  bool ok() const { return v_.index() == 0; }
  explicit operator bool() const { return ok(); }
  T& value() { return std::get<0>(v_); }
  const T& value() const { return std::get<0>(v_); }
  T& operator*() { return value(); }
  const T& operator*() const { return value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  const std::string& error() const { return std::get<1>(v_).message; }

 private:
  std::variant<T, Error> v_;
};

// A call that gives nothing back but may fail: `return {};` on success.
template <>
class Result<void> {
 public:
  Result() = default;
  Result(Error e) : error_(std::move(e)) {}  // NOLINT: implicit on purpose
  static Result fail(std::string message) { return Result(Error{std::move(message)}); }

  bool ok() const { return !error_.has_value(); }
  explicit operator bool() const { return ok(); }
  const std::string& error() const { return error_->message; }

 private:
  std::optional<Error> error_;
};

}  // namespace common
