// change(v): makes v differ from what it was, whatever its type: the reload
// plan tests change every field of a config struct, one at a time, and check
// what the plan does. The plain types are here; each test adds its domain's.
#pragma once

#include <chrono>
#include <cstddef>
#include <string>

namespace test_support {

inline void change(int& v) {
  ++v;
}
inline void change(unsigned& v) {
  ++v;
}
inline void change(unsigned long& v) {
  ++v;
}
inline void change(bool& v) {
  v = !v;
}
inline void change(std::string& v) {
  v += "x";
}
inline void change(std::chrono::milliseconds& v) {
  v += std::chrono::milliseconds(10);
}

}  // namespace test_support
