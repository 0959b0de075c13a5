#include "proxyd/worker.h"

#include "proxyd/session.h"

namespace proxyd {

std::unique_ptr<char[]> BufferPool::take(size_t size) {
  auto& list = free_[size];
  if (list.empty()) return std::make_unique_for_overwrite<char[]>(size);
  auto buf = std::move(list.back());
  list.pop_back();
  return buf;
}

void BufferPool::give(std::unique_ptr<char[]> buf, size_t size) {
  auto& list = free_[size];
  if (list.size() < keep_) list.push_back(std::move(buf));
}

Worker::Worker(event_base* base, common::Log& log, const ProcessInfo& process)
    : base_(base), log_(log), process_(process) {}

Worker::~Worker() {
  closeAllSessions();
  flushAccessLogs();
}

AccessLog* Worker::accessLog(const std::string& path) {
  auto it = access_logs_.find(path);
  if (it != access_logs_.end()) return it->second.get();
  auto log = std::make_unique<AccessLog>(path);
  if (auto r = log->open(); !r) {
    log_.alert("{}", r.error());
    return nullptr;
  }
  return access_logs_.emplace(path, std::move(log)).first->second.get();
}

void Worker::flushAccessLogs() {
  for (auto& [path, log] : access_logs_) log->flush(log_);
}

void Worker::reopenLogs() {
  for (auto& [path, log] : access_logs_) {
    if (auto r = log->reopen(); !r) log_.alert("{}", r.error());
  }
}

char* Worker::scratch(size_t size) {
  if (scratch_.size() < size) scratch_.resize(size);
  return scratch_.data();
}

void Worker::adopt(std::unique_ptr<Session> s) {
  Session* raw = s.release();
  raw->next_ = sessions_;
  if (sessions_) sessions_->prev_ = raw;
  sessions_ = raw;
  ++active_;
}

void Worker::destroy(Session* s) {
  if (s->prev_)
    s->prev_->next_ = s->next_;
  else
    sessions_ = s->next_;
  if (s->next_) s->next_->prev_ = s->prev_;
  --active_;
  std::unique_ptr<Session> owned(s);
}

void Worker::closeAllSessions() {
  while (sessions_) sessions_->abort();
}

void Worker::run() {
  running_ = true;
  while (running_) {
    int rc = event_base_loop(base_, EVLOOP_ONCE);
    flushAccessLogs();
    if (rc != 0) break;  // -1 error, 1 no events registered
  }
}

}  // namespace proxyd
