#include "vrrpd/core/garp_burst.h"

namespace vrrpd {

void GarpBurst::start(const std::vector<common::IpAddress>& vips, int repeat) {
  pending_.clear();
  for (int i = 0; i < repeat; ++i) pending_.insert(pending_.end(), vips.begin(), vips.end());
}

GarpBurst::Step GarpBurst::next() {
  Step step;
  if (gap_ <= common::Duration::zero()) {
    step.send.assign(pending_.begin(), pending_.end());
    pending_.clear();
    return step;
  }
  if (pending_.empty()) return step;
  step.send.push_back(pending_.front());
  pending_.pop_front();
  if (!pending_.empty()) step.wait = gap_;
  return step;
}

}  // namespace vrrpd
