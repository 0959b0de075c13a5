#include "common/sd_notify.h"

#include <fmt/format.h>
#include <systemd/sd-daemon.h>
#include <time.h>

namespace common {

void notifyReady(std::string_view status) {
  sd_notify(0, fmt::format("READY=1\nSTATUS={}", status).c_str());
}

void notifyReloading() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  long long usec = static_cast<long long>(ts.tv_sec) * 1000000 + ts.tv_nsec / 1000;
  sd_notify(0, fmt::format("RELOADING=1\nMONOTONIC_USEC={}", usec).c_str());
}

void notifyStopping() {
  sd_notify(0, "STOPPING=1");
}

void notifyStatus(std::string_view status) {
  sd_notify(0, fmt::format("STATUS={}", status).c_str());
}

}  // namespace common
