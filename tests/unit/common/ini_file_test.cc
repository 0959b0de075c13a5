#include "common/ini_file.h"
#include "tests/unit/support/diagnostics.h"

#include <unistd.h>

#include <catch2/catch.hpp>

#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

using common::Diagnostic;
using common::Diagnostics;
using common::IniDocument;
using common::IniEntry;
using common::IniSection;
using common::loadIniFile;
using common::parseIni;
using common::Severity;

namespace {

struct Parsed {
  IniDocument doc;
  Diagnostics diag;
  std::vector<std::string> messages() const { return test_support::diagnosticLines(diag); }
};

Parsed parse(std::string_view text) {
  Parsed p;
  p.doc = parseIni(text, "test.ini", p.diag);
  return p;
}

const IniSection& section(const Parsed& p, std::size_t i) {
  REQUIRE(p.doc.sections.size() > i);
  return p.doc.sections[i];
}

const IniEntry& entry(const Parsed& p, std::size_t s, std::size_t e) {
  const IniSection& sec = section(p, s);
  REQUIRE(sec.entries.size() > e);
  return sec.entries[e];
}

const std::string kSyntax = "syntax error (expected \"key = value\" or \"[section]\")";

}  // namespace

TEST_CASE("ini: sections, entries and their line numbers", "[ini]") {
  auto p = parse(
      "; proxyd.ini\n"                                           // 1
      "[main]\n"                                                 // 2
      "worker_processes = auto\n"                                // 3
      "\n"                                                       // 4
      "[upstream k8sapiserver]\n"                                // 5
      "  ; indented comment\n"                                   // 6
      "server = 192.0.2.11:6443 max_fails=3 fail_timeout=30s\n"  // 7
      "# hash comment\n"                                         // 8
      "server=192.0.2.12:6443\n"                                 // 9
      "[status]\n");                                             // 10
  CHECK(p.messages().empty());
  REQUIRE(p.doc.sections.size() == 3);
  CHECK(p.doc.path == "test.ini");

  const auto& main = section(p, 0);
  CHECK(main.header == "main");
  CHECK(main.type == "main");
  CHECK(main.label.empty());
  CHECK(main.line == 2);
  REQUIRE(main.entries.size() == 1);
  CHECK(main.entries[0].key == "worker_processes");
  CHECK(main.entries[0].value == "auto");
  CHECK(main.entries[0].line == 3);

  const auto& up = section(p, 1);
  CHECK(up.header == "upstream k8sapiserver");
  CHECK(up.type == "upstream");
  CHECK(up.label == "k8sapiserver");
  CHECK(up.line == 5);
  CHECK(entry(p, 1, 0).value == "192.0.2.11:6443 max_fails=3 fail_timeout=30s");
  CHECK(entry(p, 1, 0).line == 7);
  CHECK(entry(p, 1, 1).key == "server");
  CHECK(entry(p, 1, 1).value == "192.0.2.12:6443");
  CHECK(entry(p, 1, 1).line == 9);

  const auto& status = section(p, 2);  // a section without keys is kept
  CHECK(status.line == 10);
  CHECK(status.entries.empty());
}

TEST_CASE("ini: section header type and label, whitespace collapsed", "[ini]") {
  auto p = parse("[ upstream   k8s  api ]\n[vrrp_instance\tVI_1]\n");
  CHECK(p.messages().empty());
  CHECK(section(p, 0).header == "upstream   k8s  api");
  CHECK(section(p, 0).type == "upstream");
  CHECK(section(p, 0).label == "k8s api");
  CHECK(section(p, 1).type == "vrrp_instance");
  CHECK(section(p, 1).label == "VI_1");
}

TEST_CASE("ini: repeated keys each add one entry", "[ini]") {
  auto p = parse(
      "[vrrp_instance VI_1]\n"
      "virtual_ipaddress = 192.0.2.100/24\n"
      "priority = 100\n"
      "virtual_ipaddress = 203.0.113.100/24\n");
  CHECK(p.messages().empty());
  const auto& sec = section(p, 0);
  REQUIRE(sec.entries.size() == 3);
  auto vips = sec.all("virtual_ipaddress");
  REQUIRE(vips.size() == 2);
  CHECK(vips[0]->value == "192.0.2.100/24");
  CHECK(vips[0]->line == 2);
  CHECK(vips[1]->value == "203.0.113.100/24");
  CHECK(vips[1]->line == 4);
  CHECK(sec.all("priority").size() == 1);
  CHECK(sec.all("nopreempt").empty());
}

TEST_CASE("ini: continuation lines are joined with one space", "[ini]") {
  auto p = parse(
      "[log_format proxy]\n"                                                                  // 1
      "format = [$time_local] $protocol status:$status,\n"                                    // 2
      "    client: $remote_addr, upstream:\"$upstream_addr\",\n"                              // 3
      "\t  bytes upstream:$upstream_bytes_sent $upstream_bytes_received   ; trailing note\n"  // 4
      "other = x\n");                                                                         // 5
  CHECK(p.messages().empty());
  REQUIRE(section(p, 0).entries.size() == 2);
  const auto& fmt = entry(p, 0, 0);
  CHECK(fmt.key == "format");
  CHECK(fmt.line == 2);  // the line of the key, not of the last piece
  CHECK(fmt.value ==
        "[$time_local] $protocol status:$status, client: $remote_addr, "
        "upstream:\"$upstream_addr\", bytes upstream:$upstream_bytes_sent "
        "$upstream_bytes_received");
  CHECK(entry(p, 0, 1).key == "other");
  CHECK(entry(p, 0, 1).line == 5);
}

TEST_CASE("ini: continuation rules follow inih", "[ini]") {
  SECTION("blank and comment lines do not end a value") {
    auto p = parse("[s]\nk = a\n\n; note\n  b\n");
    CHECK(p.messages().empty());
    CHECK(entry(p, 0, 0).value == "a b");
  }
  SECTION("an empty first value takes no leading space") {
    auto p = parse("[s]\nk =\n  a\n  b\n");
    CHECK(p.messages().empty());
    CHECK(entry(p, 0, 0).value == "a b");
  }
  SECTION("an indented key line after a key is continuation text") {
    auto p = parse("[s]\nk = a\n  j = b\n");
    CHECK(p.messages().empty());
    REQUIRE(section(p, 0).entries.size() == 1);
    CHECK(entry(p, 0, 0).value == "a j = b");
  }
  SECTION("an indented first line of a section is a key") {
    auto p = parse("[s]\n  k = a\n[t]\n  j = b\n");
    CHECK(p.messages().empty());
    CHECK(entry(p, 0, 0).key == "k");
    CHECK(entry(p, 1, 0).key == "j");
    CHECK(entry(p, 1, 0).line == 4);
  }
  SECTION("a repeated key continues its own entry, not the first one") {
    auto p = parse("[u]\nserver = a\nserver = b\n  weight=2\n");
    CHECK(p.messages().empty());
    auto servers = section(p, 0).all("server");
    REQUIRE(servers.size() == 2);
    CHECK(servers[0]->value == "a");
    CHECK(servers[1]->value == "b weight=2");
  }
}

TEST_CASE("ini: comments", "[ini]") {
  auto p = parse(
      ";start\n"
      "#start\n"
      "[s] ; after a header\n"
      "a = 1 ; inline\n"
      "b = 2\t; tab before it\n"
      "c = x;y\n"    // no whitespace before ';': part of the value
      "d = x # y\n"  // '#' is only a comment at the start of a line
      "e = ; all comment\n"
      "f =;y\n"
      "   # indented hash comment\n");
  CHECK(p.messages().empty());
  const auto& s = section(p, 0);
  REQUIRE(s.entries.size() == 6);
  CHECK(s.all("a")[0]->value == "1");
  CHECK(s.all("b")[0]->value == "2");
  CHECK(s.all("c")[0]->value == "x;y");
  CHECK(s.all("d")[0]->value == "x # y");
  CHECK(s.all("e")[0]->value.empty());
  CHECK(s.all("f")[0]->value == ";y");
}

TEST_CASE("ini: an over-long line is an error and parsing goes on", "[ini]") {
  std::string ok199 = "k = " + std::string(195, 'v');       // exactly 199 characters
  std::string long200 = "long = " + std::string(193, 'x');  // 200 characters
  REQUIRE(ok199.size() == 199);
  REQUIRE(long200.size() == 200);
  auto p = parse("[s]\n" + ok199 + "\n" + long200 + "\nafter = 1\nbad line\n");
  REQUIRE(p.messages().size() == 2);
  CHECK(p.messages()[0] ==
        "test.ini:3: error: line is longer than 199 characters; continue a long value on "
        "indented lines");
  CHECK(p.messages()[1] == "test.ini:5: error: " + kSyntax);
  const auto& s = section(p, 0);
  REQUIRE(s.entries.size() == 2);
  CHECK(s.entries[0].value == std::string(195, 'v'));
  CHECK(s.entries[1].key == "after");
  CHECK(s.entries[1].line == 4);
  CHECK(s.all("long").empty());
}

TEST_CASE("ini: over-long line counts characters without CR; long values continue", "[ini]") {
  std::string ok199 = "k = " + std::string(195, 'v');
  auto p = parse("[s]\r\n" + ok199 + "\r\n  " + std::string(150, 'w') + "\r\n  " +
                 std::string(150, 'z') + "\r\n" + "  " + std::string(300, 'q') + "\r\nj = 1\r\n");
  REQUIRE(p.messages().size() == 1);
  CHECK(p.messages()[0].rfind("test.ini:5: error: line is longer than 199 characters", 0) == 0);
  CHECK(entry(p, 0, 0).value ==
        std::string(195, 'v') + " " + std::string(150, 'w') + " " + std::string(150, 'z'));
  CHECK(entry(p, 0, 1).key == "j");
  CHECK(entry(p, 0, 1).line == 6);
}

TEST_CASE("ini: a key before any section", "[ini]") {
  auto p = parse("x = 1\n  more\n[s]\ny = 2\n");
  REQUIRE(p.messages().size() == 1);
  CHECK(p.messages()[0] == "test.ini:1: error: key \"x\" outside of any section");
  REQUIRE(p.doc.sections.size() == 1);
  REQUIRE(section(p, 0).entries.size() == 1);
  CHECK(entry(p, 0, 0).key == "y");
  CHECK(entry(p, 0, 0).value == "2");
}

TEST_CASE("ini: every malformed line is reported, with its line", "[ini]") {
  auto p = parse(
      "[main]\n"          // 1
      "no equals sign\n"  // 2
      "listen: 10443\n"   // 3  inih would take it; we want "="
      "= value\n"         // 4
      "ok = 1\n"          // 5
      "a ; = b\n"         // 6  the comment hides the "="
      "[main] junk\n"     // 7
      "[]\n"              // 8
      "z = 3\n"           // 9  dropped with its broken section
      "[unclosed\n"       // 10
      "y = 2\n"           // 11 dropped with its broken section
      "[next]\n"          // 12
      "w = 4\n");         // 13
  std::vector<std::string> want = {
      "test.ini:2: error: " + kSyntax,
      "test.ini:3: error: " + kSyntax,
      "test.ini:4: error: " + kSyntax,
      "test.ini:6: error: " + kSyntax,
      "test.ini:7: error: syntax error (text after \"[main]\"; a comment at the end of a line "
      "starts with \" ;\")",
      "test.ini:8: error: " + kSyntax,
      "test.ini:10: error: " + kSyntax,
  };
  CHECK(p.messages() == want);
  CHECK(p.diag.hasErrors());
  REQUIRE(p.doc.sections.size() == 3);
  CHECK(section(p, 0).entries.size() == 1);
  CHECK(entry(p, 0, 0).key == "ok");
  CHECK(section(p, 1).header == "main");
  CHECK(section(p, 1).line == 7);
  CHECK(section(p, 1).entries.empty());
  CHECK(section(p, 2).header == "next");
  CHECK(entry(p, 2, 0).key == "w");
  CHECK(entry(p, 2, 0).line == 13);
}

TEST_CASE("ini: continuations of a refused key are dropped with it", "[ini]") {
  auto p = parse("[s]\nkey: v\n  more\nok = 1\n  tail\n");
  REQUIRE(p.messages().size() == 1);
  CHECK(p.messages()[0] == "test.ini:2: error: " + kSyntax);
  REQUIRE(section(p, 0).entries.size() == 1);
  CHECK(entry(p, 0, 0).value == "1 tail");
}

TEST_CASE("ini: CRLF line endings", "[ini]") {
  auto p = parse("[s]\r\na = 1\r\nb = two words \r\n  and more\r\n\r\nc = 3");
  CHECK(p.messages().empty());
  const auto& s = section(p, 0);
  REQUIRE(s.entries.size() == 3);
  CHECK(s.entries[0].value == "1");
  CHECK(s.entries[1].value == "two words and more");
  CHECK(s.entries[2].value == "3");  // last line without a newline
  CHECK(s.entries[2].line == 6);
}

TEST_CASE("ini: a UTF-8 byte order mark is skipped", "[ini]") {
  auto p = parse("\xEF\xBB\xBF[main]\nname = \xC3\xA9t\xC3\xA9\n");
  CHECK(p.messages().empty());
  CHECK(section(p, 0).header == "main");
  CHECK(section(p, 0).line == 1);
  CHECK(entry(p, 0, 0).value == "\xC3\xA9t\xC3\xA9");

  // Only at the very start: elsewhere it is just bytes in a malformed line.
  auto q = parse("[main]\n\xEF\xBB\xBF[other]\n");
  REQUIRE(q.messages().size() == 1);
  CHECK(q.messages()[0] == "test.ini:2: error: " + kSyntax);
}

TEST_CASE("ini: long names are kept whole, empty input is empty", "[ini]") {
  std::string name(80, 'n');
  std::string header = "upstream " + std::string(70, 'u');
  auto p = parse("[" + header + "]\n" + name + " = 1\n  2\n");
  CHECK(p.messages().empty());
  CHECK(section(p, 0).header == header);
  CHECK(entry(p, 0, 0).key == name);  // inih itself cuts names at 49 characters
  CHECK(entry(p, 0, 0).value == "1 2");

  auto empty = parse("");
  CHECK(empty.messages().empty());
  CHECK(empty.doc.sections.empty());
}

TEST_CASE("ini: a NUL byte is reported", "[ini]") {
  auto p = parse(std::string("[s]\na = x\0y\nb = 2\n", 16));
  REQUIRE(p.messages().size() == 1);
  CHECK(p.messages()[0] == "test.ini:2: error: line contains a NUL byte");
  CHECK(entry(p, 0, 0).key == "b");
}

TEST_CASE("Diagnostic::format and Diagnostics::print", "[ini]") {
  CHECK(Diagnostic{Severity::error, "a.ini", 3, "bad"}.format() == "a.ini:3: error: bad");
  CHECK(Diagnostic{Severity::warning, "a.ini", 7, "hmm"}.format() == "a.ini:7: warning: hmm");
  CHECK(Diagnostic{Severity::error, "a.ini", 0, "whole file"}.format() ==
        "a.ini: error: whole file");

  Diagnostics d;
  CHECK_FALSE(d.hasErrors());
  d.warning("a.ini", 1, "first");
  CHECK_FALSE(d.hasErrors());
  d.error("b.ini", 2, "second");
  CHECK(d.hasErrors());
  std::ostringstream out;
  d.print(out);
  CHECK(out.str() == "a.ini:1: warning: first\nb.ini:2: error: second\n");
}

TEST_CASE("loadIniFile", "[ini]") {
  char dir_template[] = "/tmp/ini_file_test.XXXXXX";
  REQUIRE(mkdtemp(dir_template) != nullptr);
  std::string dir = dir_template;

  SECTION("reads a file") {
    std::string path = dir + "/proxyd.ini";
    std::ofstream(path) << "[main]\npid = /run/proxyd.pid\n\n[server k8s]\nlisten = 10443\n";
    Diagnostics diag;
    auto doc = loadIniFile(path, diag);
    CHECK(diag.items().empty());
    CHECK(doc.path == path);
    REQUIRE(doc.sections.size() == 2);
    CHECK(doc.sections[1].label == "k8s");
    REQUIRE(doc.sections[1].entries.size() == 1);
    CHECK(doc.sections[1].entries[0].line == 5);
    std::remove(path.c_str());
  }
  SECTION("a missing file") {
    Diagnostics diag;
    auto doc = loadIniFile(dir + "/missing.ini", diag);
    REQUIRE(diag.items().size() == 1);
    CHECK(diag.items()[0].format() ==
          dir + "/missing.ini: error: cannot read: No such file or directory");
    CHECK(doc.sections.empty());
  }
  SECTION("a directory") {
    Diagnostics diag;
    loadIniFile(dir, diag);
    REQUIRE(diag.items().size() == 1);
    CHECK(diag.items()[0].line == 0);
    CHECK(diag.items()[0].format() == dir + ": error: cannot read: Is a directory");
  }
  rmdir(dir.c_str());
}
