// sd_notify(3) through libsystemd: a no-op unless NOTIFY_SOCKET is set.
#pragma once

#include <string_view>

namespace common {

void notifyReady(std::string_view status);
void notifyReloading();
void notifyStopping();
void notifyStatus(std::string_view status);

}  // namespace common
