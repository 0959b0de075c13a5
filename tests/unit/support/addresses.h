// Addresses as tests write them: text in, the value out; a typo in a test
// fails that test (or, in a constant, the whole binary, with the text)
// instead of dereferencing an empty result. No Catch macros: constants at
// namespace scope are built before any test runs.
#pragma once

#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>

#include "common/address.h"
#include "common/ip_address.h"

namespace test_support {

inline common::IpAddress ip(std::string_view text) {
  auto a = common::IpAddress::parse(text);
  if (!a)
    throw std::invalid_argument("test IP address \"" + std::string(text) + "\": " + a.error());
  return *a;
}

inline common::SocketAddress socketAddress(const std::string& host, std::uint16_t port) {
  auto a = common::SocketAddress::fromNumeric(host, port);
  if (!a.ok()) throw std::invalid_argument("test address \"" + host + "\": " + a.error());
  return *a;
}

// "192.0.2.11:6443", "[2001:db8::1]:443": numeric only, no resolver in tests.
inline common::SocketAddress socketAddress(const std::string& host_port) {
  auto colon = host_port.rfind(':');
  if (colon == std::string::npos) throw std::invalid_argument("test address without a port");
  std::string host = host_port.substr(0, colon);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  return socketAddress(host, static_cast<std::uint16_t>(std::stoi(host_port.substr(colon + 1))));
}

}  // namespace test_support
