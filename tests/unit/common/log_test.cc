#include "common/log.h"

#include <catch2/catch.hpp>

#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "tests/unit/support/temp_dir.h"

namespace {

struct Captured final : common::LogSink {
  std::vector<std::pair<common::LogLevel, std::string>> lines;
  void write(common::LogLevel level, std::string_view line) override {
    lines.emplace_back(level, std::string(line));
  }
};

std::string contents(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

}  // namespace

TEST_CASE("log: nginx's error_log chain, each output at its own level", "[log]") {
  test_support::TempDir dir("log_test");
  auto sink = std::make_shared<Captured>();
  common::Log log;
  REQUIRE(log.setOutputs({{dir.at("warn.log"), nullptr, common::LogLevel::warn},
                          {"", sink, common::LogLevel::debug}}));
  CHECK(log.enabled(common::LogLevel::debug));
  log.debug("connection accepted");
  log.error("upstream timed out");
  const std::string file = contents(dir.at("warn.log"));
  CHECK(file.find("connection accepted") == std::string::npos);
  CHECK(file.find(" [error] ") != std::string::npos);
  CHECK(file.back() == '\n');
  REQUIRE(sink->lines.size() == 2);
  CHECK(sink->lines[0].first == common::LogLevel::debug);
  CHECK(sink->lines[0].second.find(" [debug] ") != std::string::npos);
  // A sink gets the whole line without its newline.
  CHECK(sink->lines[1].second.back() == 't');
  CHECK(log.path() == dir.at("warn.log"));
}

TEST_CASE("log: the lowest output level decides what is formatted", "[log]") {
  test_support::TempDir dir("log_test");
  common::Log log;
  REQUIRE(log.setOutputs({{dir.at("a.log"), nullptr, common::LogLevel::error},
                          {dir.at("b.log"), nullptr, common::LogLevel::notice}}));
  CHECK_FALSE(log.enabled(common::LogLevel::info));
  CHECK(log.enabled(common::LogLevel::notice));
  log.notice("reload");
  CHECK(contents(dir.at("a.log")).empty());
  CHECK(contents(dir.at("b.log")).find("reload") != std::string::npos);
}

TEST_CASE("log: a file that cannot be opened leaves the chain as it was", "[log]") {
  test_support::TempDir dir("log_test");
  common::Log log;
  REQUIRE(log.openFile(dir.at("ok.log")));
  CHECK_FALSE(log.setOutputs({{dir.at("missing/x.log"), nullptr, common::LogLevel::error}}));
  CHECK(log.path() == dir.at("ok.log"));
}
