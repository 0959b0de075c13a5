#include "proxyd/io/access_log.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/resource.h>
#include <unistd.h>

#include <catch2/catch.hpp>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <zlib.h>

#include "tests/unit/support/temp_dir.h"

namespace fs = std::filesystem;
using proxyd::AccessLog;
using proxyd::LostLineReport;
using proxyd::wholeLinesWritten;

using test_support::slurp;
using test_support::TempDir;

namespace {

// A file size limit makes write(2) stop short and then fail (EFBIG), as a
// full disk does (ENOSPC) -- without root or a small file system. SIGXFSZ
// would kill us: ignored while the limit is on.
class FileSizeLimit {
 public:
  explicit FileSizeLimit(rlim_t bytes) {
    ::getrlimit(RLIMIT_FSIZE, &old_);
    old_handler_ = ::signal(SIGXFSZ, SIG_IGN);
    set(bytes);
  }
  void set(rlim_t bytes) {
    rlimit r{bytes, old_.rlim_max};
    REQUIRE(::setrlimit(RLIMIT_FSIZE, &r) == 0);
  }
  ~FileSizeLimit() {
    ::setrlimit(RLIMIT_FSIZE, &old_);
    ::signal(SIGXFSZ, old_handler_);
  }

 private:
  rlimit old_{};
  sighandler_t old_handler_ = SIG_DFL;
};

// The read end of a pipe that a common::Log writes to.
class ErrorPipe {
 public:
  ErrorPipe() { REQUIRE(::pipe2(fds_, O_NONBLOCK | O_CLOEXEC) == 0); }
  ~ErrorPipe() {
    ::close(fds_[0]);
    ::close(fds_[1]);
  }
  std::string path() const { return "/proc/self/fd/" + std::to_string(fds_[1]); }
  std::string read() {
    std::string out;
    char buf[4096];
    ssize_t n;
    while ((n = ::read(fds_[0], buf, sizeof buf)) > 0) out.append(buf, static_cast<size_t>(n));
    return out;
  }

 private:
  int fds_[2] = {-1, -1};
};

void addLine(AccessLog& log, const std::string& text) {
  log.startLine() += text;
  log.endLine();
}

}  // namespace

TEST_CASE("wholeLinesWritten: the whole lines of what was written, the rest lost") {
  CHECK(wholeLinesWritten("aa\nbb\ncc\n", 9).keep == 9);
  CHECK(wholeLinesWritten("aa\nbb\ncc\n", 9).lost == 0);
  CHECK(wholeLinesWritten("aa\nbb\ncc\n", 7).keep == 6);
  CHECK(wholeLinesWritten("aa\nbb\ncc\n", 7).lost == 1);
  CHECK(wholeLinesWritten("aa\nbb\ncc\n", 6).keep == 6);
  CHECK(wholeLinesWritten("aa\nbb\ncc\n", 2).keep == 0);
  CHECK(wholeLinesWritten("aa\nbb\ncc\n", 2).lost == 3);
  CHECK(wholeLinesWritten("aa\nbb\ncc\n", 0).lost == 3);
}

TEST_CASE("LostLineReport: the first loss at once, then at most once a minute") {
  common::FakeClock clock;
  LostLineReport r;
  CHECK_FALSE(r.due(clock.now()));
  r.lost(3);
  CHECK(r.due(clock.now()) == std::optional<std::uint64_t>(3));
  r.lost(2);
  clock.advance(std::chrono::seconds(59));
  CHECK_FALSE(r.due(clock.now()));
  r.lost(1);
  clock.advance(std::chrono::seconds(1));
  CHECK(r.due(clock.now()) == std::optional<std::uint64_t>(3));  // 2 + 1 since the last
  clock.advance(std::chrono::minutes(5));
  CHECK_FALSE(r.due(clock.now()));  // nothing new: quiet
}

TEST_CASE("access log on a full file system: whole lines or none, lost lines counted") {
  TempDir t("access_log");
  common::FakeClock clock;
  std::string path = t.at("access.log");
  // The error log goes to a pipe: the file size limit below would cut it too.
  ErrorPipe said;
  common::Log errors(common::LogLevel::debug);
  REQUIRE(errors.openFile(said.path()).ok());
  AccessLog log(path, clock);
  REQUIRE(log.open().ok());
  const std::string line(9, 'x');  // 10 bytes with its newline

  FileSizeLimit limit(25);  // room for two lines and a half
  for (int i = 0; i < 3; ++i) addLine(log, line);
  CHECK(log.flush(errors) == 1);  // one write: 25 bytes written, then EFBIG
  CHECK(slurp(path) == line + "\n" + line + "\n");
  for (int i = 0; i < 2; ++i) addLine(log, line);
  CHECK(log.flush(errors) == 2);  // no room at all
  CHECK(slurp(path).size() == 20);

  // Space again: the next line starts a line, it is not glued to a half.
  limit.set(RLIM_INFINITY);
  addLine(log, "after");
  CHECK(log.flush(errors) == 0);
  CHECK(slurp(path) == line + "\n" + line + "\n" + "after\n");

  // The error log: one line for the first loss, the second loss within the
  // minute waits for the next report.
  std::string first = said.read();
  CHECK_THAT(first, Catch::Contains("(27: File too large): 1 access log line(s) lost"));
  CHECK(std::count(first.begin(), first.end(), '\n') == 1);
  clock.advance(std::chrono::seconds(59));
  CHECK(log.flush(errors) == 0);
  CHECK(said.read().empty());
  clock.advance(std::chrono::seconds(1));
  CHECK(log.flush(errors) == 0);
  CHECK_THAT(said.read(), Catch::Contains("2 access log line(s) lost"));
}

TEST_CASE("access log to /dev/full: every line counted as lost") {
  REQUIRE(::access("/dev/full", W_OK) == 0);
  common::FakeClock clock;
  common::Log errors(common::LogLevel::emerg);
  AccessLog log("/dev/full", clock);
  REQUIRE(log.open().ok());
  for (int i = 0; i < 4; ++i) addLine(log, "line");
  CHECK(log.flush(errors) == 4);
}

namespace {

// Everything gzip members concatenated hold, as zcat reads them.
std::string gunzipAll(const std::string& file) {
  std::string out;
  z_stream z{};
  REQUIRE(inflateInit2(&z, 15 + 16) == Z_OK);
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(file.data()));
  z.avail_in = static_cast<uInt>(file.size());
  char buf[4096];
  while (z.avail_in > 0) {
    z.next_out = reinterpret_cast<Bytef*>(buf);
    z.avail_out = sizeof buf;
    int rc = inflate(&z, Z_NO_FLUSH);
    REQUIRE((rc == Z_OK || rc == Z_STREAM_END));
    out.append(buf, sizeof buf - z.avail_out);
    if (rc == Z_STREAM_END && z.avail_in > 0) REQUIRE(inflateReset(&z) == Z_OK);  // next member
  }
  inflateEnd(&z);
  return out;
}

}  // namespace

TEST_CASE("access log buffer=: lines wait until the next one would not fit") {
  TempDir t("access_log");
  common::FakeClock clock;
  common::Log errors(common::LogLevel::emerg);
  std::string path = t.at("buffered.log");
  AccessLog log(path, clock, std::make_shared<std::mutex>(), {.size = 25});
  REQUIRE(log.open().ok());
  const std::string line(9, 'x');  // 10 bytes with its newline
  addLine(log, line);
  addLine(log, line);
  CHECK(log.flush(errors) == 0);
  CHECK(slurp(path).empty());  // no flush=: only a full buffer writes
  addLine(log, "y");           // 22 bytes: fits
  CHECK(slurp(path).empty());
  addLine(log, line);  // 32 > 25: the first three go out, this one waits
  CHECK(slurp(path) == line + "\n" + line + "\ny\n");
  const std::string huge(40, 'h');  // longer than the whole buffer: written on its own
  addLine(log, huge);
  CHECK(slurp(path) == line + "\n" + line + "\ny\n" + line + "\n" + huge + "\n");
  CHECK_FALSE(log.hasPending());
  addLine(log, "tail");
  CHECK(log.flushAll(errors) == 0);  // exit and reopen write everything
  CHECK(slurp(path).ends_with(huge + "\ntail\n"));
}

TEST_CASE("access log flush=: the buffer goes out that long after its first line") {
  TempDir t("access_log");
  common::FakeClock clock;
  common::Log errors(common::LogLevel::emerg);
  std::string path = t.at("flushed.log");
  using std::chrono::milliseconds;
  AccessLog log(path, clock, std::make_shared<std::mutex>(),
                {.size = 4096, .flush = milliseconds(1000)});
  REQUIRE(log.open().ok());
  CHECK_FALSE(log.deadline());
  addLine(log, "one");
  REQUIRE(log.deadline());
  CHECK(*log.deadline() == clock.now() + milliseconds(1000));
  clock.advance(milliseconds(600));
  addLine(log, "two");  // the timer runs from the first line, not the last
  CHECK(*log.deadline() == clock.now() + milliseconds(400));
  log.flush(errors);
  CHECK(slurp(path).empty());
  clock.advance(milliseconds(399));
  log.flush(errors);
  CHECK(slurp(path).empty());
  clock.advance(milliseconds(1));
  log.flush(errors);
  CHECK(slurp(path) == "one\ntwo\n");
  CHECK_FALSE(log.deadline());
  addLine(log, "three");  // a new first line, a new timer
  CHECK(*log.deadline() == clock.now() + milliseconds(1000));
}

TEST_CASE("access log reopen: the buffer goes to the old file first") {
  TempDir t("access_log");
  common::FakeClock clock;
  common::Log errors(common::LogLevel::emerg);
  std::string path = t.at("rotated.log");
  AccessLog log(path, clock, std::make_shared<std::mutex>(), {.size = 4096});
  REQUIRE(log.open().ok());
  addLine(log, "before");
  fs::rename(path, path + ".1");
  std::uint64_t lost = 9;
  REQUIRE(log.reopen(errors, lost).ok());
  CHECK(lost == 0);
  CHECK(slurp(path + ".1") == "before\n");
  addLine(log, "after");
  log.flushAll(errors);
  CHECK(slurp(path) == "after\n");
}

TEST_CASE("access log gzip: each write is one gzip member, zcat reads them all") {
  TempDir t("access_log");
  common::FakeClock clock;
  common::Log errors(common::LogLevel::emerg);
  std::string path = t.at("zipped.log.gz");
  AccessLog log(path, clock, std::make_shared<std::mutex>(), {.size = 30, .gzip = 1});
  REQUIRE(log.open().ok());
  const std::string line(19, 'a');  // 20 bytes: one per buffer
  addLine(log, line);
  addLine(log, line);    // writes the first as a member
  log.flushAll(errors);  // the second as another
  std::string file = slurp(path);
  // Two members, each starting with the gzip magic and deflate.
  CHECK(file.substr(0, 3) == "\x1f\x8b\x08");
  CHECK(file.find("\x1f\x8b\x08", 3) != std::string::npos);
  CHECK(gunzipAll(file) == line + "\n" + line + "\n");
}
