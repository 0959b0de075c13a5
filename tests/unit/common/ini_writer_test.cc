// The INI writer against the INI reader: a model written and read back is
// the same model, and what the reader could not give back is refused.
#include "common/ini_writer.h"

#include <catch2/catch.hpp>

#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "common/ini_file.h"

using common::IniWriter;
using common::kIniMaxLine;

namespace {

struct Key {
  std::string key;
  std::string value;
  std::vector<std::size_t> breaks = {};
};

struct Section {
  std::string header;
  std::vector<Key> keys;
};

// Writes the model, requiring the writer to take all of it.
std::string write(const std::vector<Section>& model) {
  IniWriter w;
  w.comment("written by ini_writer_test");
  for (const auto& s : model) {
    w.blankLine();
    auto header = w.section(s.header);
    INFO(s.header);
    REQUIRE(header.ok());
    for (const auto& k : s.keys) {
      auto line = w.entry(k.key, k.value, k.breaks);
      INFO(k.key << " = " << k.value);
      REQUIRE(line.ok());
    }
  }
  return w.text();
}

// Reads `text` back and requires it to be `model`, every line readable.
void requireRoundTrip(const std::vector<Section>& model) {
  std::string text = write(model);
  INFO(text);
  common::Diagnostics diag;
  common::IniDocument doc = common::parseIni(text, "written.ini", diag);
  std::ostringstream problems;
  diag.print(problems);
  INFO(problems.str());
  REQUIRE(diag.items().empty());
  REQUIRE(doc.sections.size() == model.size());
  for (std::size_t i = 0; i < model.size(); ++i) {
    CHECK(doc.sections[i].header == model[i].header);
    REQUIRE(doc.sections[i].entries.size() == model[i].keys.size());
    for (std::size_t j = 0; j < model[i].keys.size(); ++j) {
      CHECK(doc.sections[i].entries[j].key == model[i].keys[j].key);
      CHECK(doc.sections[i].entries[j].value == model[i].keys[j].value);
    }
  }
  std::istringstream lines(text);
  std::string line;
  while (std::getline(lines, line)) CHECK(line.size() <= kIniMaxLine);
}

std::string refusal(const std::string& key, const std::string& value) {
  IniWriter w;
  REQUIRE(w.section("s").ok());
  std::string before = w.text();
  auto r = w.entry(key, value);
  REQUIRE_FALSE(r.ok());
  CHECK(w.text() == before);  // nothing written
  return r.error();
}

}  // namespace

TEST_CASE("ini writer: a model written and read back is the same model") {
  requireRoundTrip({
      {"main", {{"worker_processes", "auto"}, {"pid", "/run/proxyd/proxyd.pid"}}},
      {"upstream k8s",
       {{"server", "192.0.2.11:6443 max_fails=3"}, {"server", "192.0.2.12:6443 max_fails=3"}}},
      // What the reader leaves alone: "#" and ";" inside a word, "=", ":",
      // brackets, quotes, a "#" that begins the value, runs of spaces.
      {"server a:b", {{"format", "#x a;b c=d e:f [g] \"h\" 'i'   j\tk"}, {"key with spaces", "v"}}},
  });
}

TEST_CASE("ini writer: a long value continues on indented lines the reader joins") {
  std::string words;
  for (int i = 0; i < 60; ++i) words += (i ? " " : "") + std::string("$status");
  // Continuation lines must not begin with ";" or "#" (comments there), and
  // a run of spaces cannot be cut (the reader trims the pieces).
  std::string tricky;
  for (int i = 0; i < 40; ++i) tricky += "a ;b #c  d\t";
  tricky += "end";
  std::string tricky_no_comment;
  for (int i = 0; i < 40; ++i) tricky_no_comment += "a #b x;;c  d #e ";
  tricky_no_comment += "end";
  requireRoundTrip({{"log_format long", {{"format", words}}}});
  requireRoundTrip({{"s", {{"format", tricky_no_comment}}}});
  CHECK_FALSE(common::iniEntryProblem("format", tricky).empty());  // " ;" inside

  IniWriter w;
  REQUIRE(w.section("s").ok());
  REQUIRE(w.entry("format", words).ok());
  CHECK(w.lines() > 2);  // it was continued
}

TEST_CASE("ini writer: the source's pieces are kept one a line where they fit") {
  std::string value = "[$time_local] $remote_addr ";
  std::size_t second = value.size();
  value += "upstream:$upstream_addr bytes:$bytes_sent";
  std::size_t third = value.size() + 1;
  value += " session:$session_time";
  for (int i = 0; i < 20; ++i) value += " $status";
  IniWriter w;
  REQUIRE(w.section("log_format proxy").ok());
  REQUIRE(w.entry("format", value, {second, third}).ok());
  CHECK(w.text() ==
        "[log_format proxy]\n"
        "format = [$time_local] $remote_addr\n"
        "    upstream:$upstream_addr bytes:$bytes_sent\n"
        "    session:$session_time $status $status $status $status $status $status $status "
        "$status $status $status $status $status $status $status $status $status $status $status "
        "$status $status\n");
  requireRoundTrip({{"log_format proxy", {{"format", value, {second, third}}}}});
}

TEST_CASE("ini writer: 199 characters a line, no more") {
  const std::string lead = "k = ";
  std::string fits(kIniMaxLine - lead.size(), 'x');
  requireRoundTrip({{"s", {{"k", fits}}}});
  std::string why = refusal("k", fits + "x");
  CHECK(why.find("line of 200 characters") != std::string::npos);
  CHECK(why.find("at most 199") != std::string::npos);
  // A word too long for a line is refused even where the rest could be cut.
  CHECK_FALSE(refusal("k", "a b " + std::string(kIniMaxLine, 'y') + " c").empty());
  // A header too.
  CHECK(common::iniHeaderProblem(std::string(kIniMaxLine - 2, 'h')).empty());
  CHECK_FALSE(common::iniHeaderProblem(std::string(kIniMaxLine - 1, 'h')).empty());
}

TEST_CASE("ini writer: what the reader could not give back is refused, with why") {
  CHECK(refusal("k", "") == "it is empty");
  CHECK(refusal("k", "a\nb") == "it contains a line break");
  CHECK(refusal("k", "a\rb") == "it contains a line break");
  CHECK(refusal("k", std::string("a\0b", 3)) == "it contains a NUL byte");
  CHECK(refusal("k", " a") == "it begins or ends with white space");
  CHECK(refusal("k", "a\t") == "it begins or ends with white space");
  CHECK(refusal("k", "a ;b") == "\" ;\" would start an INI comment");
  CHECK(refusal("k", "a\t;b") == "\" ;\" would start an INI comment");
  CHECK(refusal("k", "\xEF\xBB\xBFx") == "it begins with a byte order mark");
  CHECK(refusal("", "v") == "the key is empty");
  CHECK(refusal("a=b", "v").find("\"=\" or \":\"") != std::string::npos);
  CHECK(refusal("a:b", "v").find("\"=\" or \":\"") != std::string::npos);
  for (const char* key : {";k", "#k", "[k"}) {
    CHECK(refusal(key, "v").find("a comment or a header") != std::string::npos);
  }
  CHECK(refusal(" k", "v").find("white space") != std::string::npos);
  CHECK(refusal("k\n", "v").find("line break") != std::string::npos);
  CHECK(refusal("a ;b", "v").find("comment") != std::string::npos);

  CHECK(common::iniHeaderProblem("") == "it is empty");
  CHECK(common::iniHeaderProblem("a]b") == "\"]\" would end the header");
  CHECK(common::iniHeaderProblem("a ;b") == "\" ;\" would start an INI comment");
  CHECK(common::iniHeaderProblem(" a") == "it begins or ends with white space");
  CHECK(common::iniHeaderProblem("a\nb") == "it contains a line break");

  IniWriter w;
  auto outside = w.entry("k", "v");
  REQUIRE_FALSE(outside.ok());
  CHECK(outside.error().find("before a section") != std::string::npos);
  CHECK(w.text().empty());
}

TEST_CASE("ini writer: a comment that does not fit a line is left out") {
  IniWriter w;
  w.comment("from nginx.conf:12");
  w.comment(std::string(kIniMaxLine - 1, 'c'));  // "; " + 198 characters: one too many
  w.comment("two\nlines");
  CHECK(w.text() == "; from nginx.conf:12\n");
  w.comment(std::string(kIniMaxLine - 2, 'c'));  // exactly 199
  CHECK(w.lines() == 2);
  common::Diagnostics diag;
  common::parseIni(w.text(), "comments.ini", diag);
  CHECK(diag.items().empty());
}

TEST_CASE("ini writer: every value it takes, the reader gives back") {
  // Values drawn from the characters the reader's rules are about; the
  // writer must refuse each one the reader would change.
  const std::string alphabet = "ab ;#=:[]\t\"\\";
  std::mt19937 rng(10);
  std::uniform_int_distribution<std::size_t> pick(0, alphabet.size() - 1);
  std::uniform_int_distribution<int> length(1, 260);
  int taken = 0;
  for (int round = 0; round < 2000; ++round) {
    std::string value;
    for (int n = length(rng); n > 0; --n) value += alphabet[pick(rng)];
    if (!common::iniEntryProblem("key", value).empty()) continue;
    ++taken;
    requireRoundTrip({{"s", {{"key", value}}}});
  }
  CHECK(taken > 100);  // the round trip was tried on many values
}
