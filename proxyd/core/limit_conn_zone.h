// One limit_conn_zone while running: the number of sessions per key,
// shared by every worker thread (nginx keeps it in shared memory for its
// worker processes). One lock per zone, as nginx's one mutex per zone: the
// slab accounting that bounds the zone is zone-wide. Sessions of servers
// without limit_conn never reach it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

#include "proxyd/core/slab_model.h"

namespace proxyd {

class LimitConnZone {
 public:
  // What nginx's node costs in the zone: its rbtree node up to `color`
  // (32 bytes), the counter's header (4) and the key.
  static constexpr std::size_t kNodeOverhead = 36;
  static constexpr std::size_t kMaxKey = 255;

  struct Node;  // a key's counter; stays valid while a session holds it
  enum class Outcome { counted, over_limit, no_memory };
  struct Admission {
    Outcome outcome = Outcome::counted;
    Node* node = nullptr;  // counted: release it when the session ends
  };

  LimitConnZone(std::string name, std::string key_text, std::size_t size);
  ~LimitConnZone();
  LimitConnZone(const LimitConnZone&) = delete;
  LimitConnZone& operator=(const LimitConnZone&) = delete;

  const std::string& name() const { return name_; }
  const std::string& keyText() const { return key_text_; }
  std::size_t size() const { return size_; }

  // Counts one more session for `key` (1..kMaxKey bytes) unless it already
  // has `limit`, or a new key finds the zone full.
  Admission acquire(std::string_view key, unsigned limit);
  void release(Node* node);

  // For tests and the status page: keys held, and the sessions of one key.
  std::size_t keys() const;
  unsigned count(std::string_view key) const;

 private:
  std::string name_;
  std::string key_text_;
  std::size_t size_;
  mutable std::mutex mutex_;
  SlabModel slab_;
  std::unordered_map<std::string_view, std::unique_ptr<Node>> nodes_;  // views into Node::key
};

}  // namespace proxyd
