#include "vrrpd/core/sync_group.h"

#include <fmt/format.h>

namespace vrrpd {

std::string groupFault(const SyncGroupSection& group, const std::string& member,
                       const std::set<std::string>& own_faults) {
  for (const auto& peer : group.members) {
    if (peer != member && own_faults.count(peer)) {
      return fmt::format("sync group {}: {} is FAULT", group.name, peer);
    }
  }
  return "";
}

}  // namespace vrrpd
