// How many fields an aggregate has, counted at compile time: the largest N
// for which `T{f1, ..., fN}` compiles with initialisers that convert to any
// type. The reload-plan tests compare it with the number of fields their
// decision tables name, so a field added without a decision fails the build
// of the tests with the struct's name in the message.
#pragma once

#include <cstddef>

namespace test_support {

// Converts to any field type; never called (unevaluated operands only).
struct AnyField {
  template <class T>
  operator T() const;
};

template <class T, class... Fields>
constexpr std::size_t fieldCount() {
  if constexpr (requires { T{Fields{}..., AnyField{}}; }) {
    return fieldCount<T, Fields..., AnyField>();
  } else {
    return sizeof...(Fields);
  }
}

}  // namespace test_support
