#include "proxyd/core/limit_conn_zone.h"

namespace proxyd {

struct LimitConnZone::Node {
  std::string key;
  unsigned conn = 0;
  SlabModel::Chunk chunk;
};

LimitConnZone::LimitConnZone(std::string name, std::string key_text, std::size_t size)
    : name_(std::move(name)), key_text_(std::move(key_text)), size_(size), slab_(size) {
  // ngx_stream_limit_conn_init_zone's own allocations: the tree's root
  // with its sentinel (64 bytes), and the " in limit_conn_zone "NAME""
  // context of the slab's messages.
  (void)slab_.alloc(64);
  (void)slab_.alloc(sizeof(" in limit_conn_zone \"\"") + name_.size());
}

LimitConnZone::~LimitConnZone() = default;

LimitConnZone::Admission LimitConnZone::acquire(std::string_view key, unsigned limit) {
  std::lock_guard lock(mutex_);
  if (auto it = nodes_.find(key); it != nodes_.end()) {
    Node& node = *it->second;
    if (node.conn >= limit) return {Outcome::over_limit, nullptr};
    ++node.conn;
    return {Outcome::counted, &node};
  }
  auto chunk = slab_.alloc(kNodeOverhead + key.size());
  if (!chunk) return {Outcome::no_memory, nullptr};
  auto node = std::make_unique<Node>();
  node->key = std::string(key);
  node->conn = 1;
  node->chunk = *chunk;
  Node* raw = node.get();
  nodes_.emplace(std::string_view(raw->key), std::move(node));
  return {Outcome::counted, raw};
}

void LimitConnZone::release(Node* node) {
  std::lock_guard lock(mutex_);
  if (--node->conn > 0) return;
  // The last session of the key: nginx deletes the node and frees its chunk.
  slab_.free(node->chunk);
  nodes_.erase(nodes_.find(std::string_view(node->key)));
}

std::size_t LimitConnZone::keys() const {
  std::lock_guard lock(mutex_);
  return nodes_.size();
}

unsigned LimitConnZone::count(std::string_view key) const {
  std::lock_guard lock(mutex_);
  auto it = nodes_.find(key);
  return it == nodes_.end() ? 0 : it->second->conn;
}

}  // namespace proxyd
