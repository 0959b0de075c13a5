// The UDP sessions of one listening socket of one worker, by client address
// (nginx's ngx_udp_connection tree, ngx_event_udp.c): a datagram from an
// address with a session goes to it, one from any other address starts one.
// Bounded: worker_connections is the caller's limit over all listeners,
// `capacity` this table's own.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <functional>
#include <string_view>
#include <unordered_map>

#include "common/address.h"

namespace proxyd {

// Hashes the bytes that make the address (family, port, IP), the same ones
// SocketAddress::operator== compares.
struct ClientAddressHash {
  std::size_t operator()(const common::SocketAddress& a) const;
};

template <class Session>
class UdpSessionTable {
 public:
  explicit UdpSessionTable(std::size_t capacity) : capacity_(capacity) {}

  Session* find(const common::SocketAddress& client) const {
    auto it = map_.find(client);
    return it == map_.end() ? nullptr : it->second;
  }
  // False when full or when the address already has a session.
  bool insert(const common::SocketAddress& client, Session* s) {
    if (map_.size() >= capacity_) return false;
    return map_.emplace(client, s).second;
  }
  // Removes the entry only if it is still `s`'s (a session that left at
  // proxy_requests may end after a new one took its address).
  void erase(const common::SocketAddress& client, const Session* s) {
    auto it = map_.find(client);
    if (it != map_.end() && it->second == s) map_.erase(it);
  }
  std::size_t size() const { return map_.size(); }
  std::size_t capacity() const { return capacity_; }

 private:
  std::size_t capacity_;
  std::unordered_map<common::SocketAddress, Session*, ClientAddressHash> map_;
};

}  // namespace proxyd
