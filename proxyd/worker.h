// One event loop and everything that runs on it: listeners, sessions, the
// access-log buffers and the receive scratch buffer that sessions share.
#pragma once

#include <event2/event.h>

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "common/event.h"
#include "common/log.h"
#include "proxyd/access_log.h"
#include "proxyd/log_format.h"

namespace proxyd {

class Session;

// Direction buffers are taken only while data is held back by a slow
// receiver, and given back when it drains, so an idle session holds none.
class BufferPool {
 public:
  explicit BufferPool(size_t keep = 256) : keep_(keep) {}
  std::unique_ptr<char[]> take(size_t size);
  void give(std::unique_ptr<char[]> buf, size_t size);

 private:
  size_t keep_;
  std::map<size_t, std::vector<std::unique_ptr<char[]>>> free_;
};

class Worker {
 public:
  Worker(event_base* base, common::Log& log, const ProcessInfo& process);
  ~Worker();
  Worker(const Worker&) = delete;
  Worker& operator=(const Worker&) = delete;

  event_base* base() const { return base_; }
  common::Log& log() { return log_; }
  const ProcessInfo& process() const { return process_; }

  // The access log for `path`, opened on first use (one per path per worker).
  AccessLog* accessLog(const std::string& path);
  void flushAccessLogs();
  void reopenLogs();

  std::uint64_t nextConnectionNumber() { return ++connections_; }

  // Scratch space for one recv(); data that cannot be sent on at once is
  // copied into a pooled per-direction buffer.
  char* scratch(size_t size);
  BufferPool& buffers() { return buffers_; }

  // Session ownership: sessions are linked into the worker's list and
  // destroyed through it.
  void adopt(std::unique_ptr<Session> s);
  void destroy(Session* s);
  size_t activeSessions() const { return active_; }
  std::uint64_t handledSessions() const { return connections_; }
  // Ends every session at once (fast stop).
  void closeAllSessions();

  // Runs the loop until stop(); flushes the access logs after every pass.
  void run();
  void stop() {
    running_ = false;
    event_base_loopbreak(base_);
  }

 private:
  event_base* base_;
  common::Log& log_;
  ProcessInfo process_;
  std::map<std::string, std::unique_ptr<AccessLog>> access_logs_;
  std::vector<char> scratch_;
  BufferPool buffers_;
  Session* sessions_ = nullptr;  // intrusive list head
  size_t active_ = 0;
  std::uint64_t connections_ = 0;
  bool running_ = false;
};

}  // namespace proxyd
