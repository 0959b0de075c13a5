// The outputs of an error_log chain as the configuration lists them: files
// and stderr as they are, "syslog:..." targets as syslog senders.
#pragma once

#include <vector>

#include "common/log.h"
#include "proxyd/core/config.h"

namespace proxyd {

std::vector<common::LogOutput> errorLogOutputs(const std::vector<LogTarget>& chain);

}  // namespace proxyd
