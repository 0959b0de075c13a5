// The running proxy: builds the runtime objects from a checked config, opens
// the listeners, and runs the event loop with the signal handlers of
// DESIGN.md (TERM/INT fast stop, QUIT graceful stop, USR1 reopen logs).
#pragma once

#include <memory>
#include <vector>

#include "common/event.h"
#include "common/log.h"
#include "common/result.h"
#include "proxyd/config.h"
#include "proxyd/listener.h"
#include "proxyd/server_block.h"
#include "proxyd/status_page.h"
#include "proxyd/worker.h"

namespace proxyd {

// Builds the ready-to-run form of every [server]; errors (a log that
// cannot be opened) are values.
common::Result<std::vector<std::shared_ptr<const ServerBlock>>> buildServerBlocks(
    const ProxyConfig& cfg, const std::shared_ptr<common::Log>& main_log);

class Proxy {
 public:
  Proxy(ProxyConfig cfg, std::shared_ptr<common::Log> log, ProcessInfo process);
  ~Proxy();

  // Opens everything; an address in use or a log that cannot be opened is
  // an error (exit 2).
  common::Result<bool> start();
  // Runs until stopped by a signal; returns the exit code.
  int run();

 private:
  static void onSignal(evutil_socket_t sig, short, void* arg);
  static void onDrainCheck(evutil_socket_t, short, void* arg);
  void gracefulStop();

  ProxyConfig cfg_;
  std::shared_ptr<common::Log> log_;
  ProcessInfo process_;
  common::EventBasePtr base_;
  std::unique_ptr<Worker> worker_;
  std::vector<std::shared_ptr<const ServerBlock>> blocks_;
  std::vector<std::unique_ptr<Listener>> listeners_;
  std::unique_ptr<StatusPage> status_;
  std::vector<common::EventPtr> signals_;
  common::EventPtr drain_timer_;
  bool draining_ = false;
};

}  // namespace proxyd
