// The walk over every numeric key of both loaders: each key of the limits
// tables (proxyd/value_limits.cc, vrrpd/value_limits.cc) is loaded with its
// minimum and maximum (accepted), and with one below, one above and absurd
// values (refused with FILE:LINE, never wrapped). The tables are checked
// to be complete against the loaders themselves: the keys a loader knows
// are read from its own "unknown key" error and the parameters of a
// NAME=VALUE key from its "invalid parameter" error, so a numeric key added
// to a loader without a limit fails here. The man pages' LIMITS tables are
// checked against the same tables, both ways.
#include <catch2/catch.hpp>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "common/value_limits.h"
#include "proxyd/core/config.h"
#include "proxyd/core/value_limits.h"
#include "vrrpd/core/config.h"
#include "vrrpd/core/value_limits.h"

namespace {

using common::TextKey;
using common::ValueKind;
using common::ValueLimit;
namespace fs = std::filesystem;

constexpr const char* kProxyPath = "/etc/proxyd/proxyd.ini";
constexpr const char* kVrrpPath = "/etc/vrrpd/vrrpd.ini";

struct Loaded {
  std::vector<common::Diagnostic> items;
  std::string text;
  bool hasErrors() const {
    for (const auto& d : items) {
      if (d.severity == common::Severity::error) return true;
    }
    return false;
  }
  std::string errors() const {
    std::string out;
    for (const auto& d : items) {
      if (d.severity == common::Severity::error) out += d.format() + "\n";
    }
    return out;
  }
};

Loaded loadProxy(const std::string& text) {
  common::Diagnostics diag;
  proxyd::parseProxyConfig(text, kProxyPath, "/tmp", diag);
  return {diag.items(), text};
}

Loaded loadVrrp(const std::string& text) {
  common::Diagnostics diag;
  vrrpd::parseVrrpConfig(text, kVrrpPath, diag);
  return {diag.items(), text};
}

// One loader as the walk sees it: its tables, how to load a text, and a
// smallest valid file with the line under test put into the right section.
struct LoaderUnderTest {
  std::string name;
  std::span<const ValueLimit> limits;
  std::span<const TextKey> text_keys;
  std::function<Loaded(const std::string&)> load;
  // The file with `line` inside a section of type `section`; `*line_no` gets
  // the line number the entry is on.
  std::function<std::string(const std::string& section, const std::string& key,
                            const std::string& line, int* line_no)>
      file;
  std::vector<std::string> section_types;  // found from the loader's error
  // A value that elicits the list of NAME=VALUE parameters for a key.
  std::map<std::string, std::string> option_probe;
};

// Counts the lines of `head` to know where the next one lands.
int nextLine(const std::string& head) {
  return static_cast<int>(std::count(head.begin(), head.end(), '\n')) + 1;
}

LoaderUnderTest proxydLoader() {
  LoaderUnderTest l;
  l.name = "proxyd";
  l.limits = proxyd::valueLimits();
  l.text_keys = proxyd::textKeys();
  l.load = loadProxy;
  l.file = [](const std::string& section, const std::string& key, const std::string& line,
              int* line_no) {
    std::string head;
    std::string upstream_server = "server = 127.0.0.1:1\n";
    if (section == "main" || section == "status" || section == "log_format") {
      head += section == "log_format" ? "[log_format f]\n" : "[" + section + "]\n";
      if (section == "status" && key != "listen") head += "listen = 127.0.0.1:2\n";
      if (section == "log_format" && key != "format") head += "format = $remote_addr\n";
      *line_no = nextLine(head);
      head += line + "\n";
      head += "[upstream u]\n" + upstream_server;
    } else if (section == "map") {
      head += "[map $m]\n";
      if (key != "source") head += "source = $remote_addr\n";
      *line_no = nextLine(head);
      head += line + "\n";
      head += "[upstream u]\n" + upstream_server;
    } else if (section == "upstream") {
      head += "[upstream u]\n";
      if (key != "server") head += upstream_server;
      *line_no = nextLine(head);
      head += line + "\n";
    } else if (section == "geo" || section == "split_clients") {
      // A user variable's section: "[TYPE $NAME]", then the line.
      head += "[" + section + " $probe]\n";
      if (section == "split_clients" && key != "source") head += "source = $remote_addr\n";
      *line_no = nextLine(head);
      head += line + "\n";
      head += "[upstream u]\n" + upstream_server;
    } else {
      head += "[upstream u]\n" + upstream_server;
    }
    head += "[server s]\n";
    if (section == "server" && key != "listen") head += "listen = 127.0.0.1:1\n";
    if (section == "server" && key != "proxy_pass") head += "proxy_pass = u\n";
    if (section == "server") {
      *line_no = nextLine(head);
      head += line + "\n";
    }
    if (section != "server") head += "listen = 127.0.0.1:1\nproxy_pass = u\n";
    return head;
  };
  l.option_probe = {{"server", "127.0.0.1:1 zzz_probe=1"},
                    {"health_check", "zzz_probe=1"},
                    {"listen", "127.0.0.1:1 zzz_probe=1"}};
  return l;
}

LoaderUnderTest vrrpdLoader() {
  LoaderUnderTest l;
  l.name = "vrrpd";
  l.limits = vrrpd::valueLimits();
  l.text_keys = vrrpd::textKeys();
  l.load = loadVrrp;
  l.file = [](const std::string& section, const std::string& key, const std::string& line,
              int* line_no) {
    std::string head;
    if (section == "global") {
      head += "[global]\n";
      *line_no = nextLine(head);
      head += line + "\n";
    }
    head += "[vrrp_script chk]\n";
    if (section == "vrrp_script") {
      *line_no = nextLine(head);
      head += line + "\n";
    }
    if (!(section == "vrrp_script" && key == "script")) head += "script = /bin/true\n";
    head += "[vrrp_instance VI_1]\n";
    std::map<std::string, std::string> base = {{"interface", "lo"},
                                               {"virtual_router_id", "51"},
                                               {"priority", "100"},
                                               {"virtual_ipaddress", "192.0.2.10/24"},
                                               {"track_script", "chk"}};
    for (const auto& [k, v] : base) {
      if (section == "vrrp_instance" && k == key) continue;
      head += k + " = " + v + "\n";
    }
    if (section == "vrrp_instance") {
      *line_no = nextLine(head);
      head += line + "\n";
    }
    if (section == "vrrp_sync_group") {
      head +=
          "[vrrp_instance VI_2]\ninterface = lo\nvirtual_router_id = 52\n"
          "virtual_ipaddress = 192.0.2.11/24\n[vrrp_sync_group g]\n";
      if (key != "group") head += "group = VI_1 VI_2\n";
      *line_no = nextLine(head);
      head += line + "\n";
    }
    return head;
  };
  l.option_probe = {{"track_script", "chk zzz_probe=1"}, {"track_interface", "lo zzz_probe=1"}};
  return l;
}

// The words of the list an error ends with: "(expected [main], [status] or
// [server NAME])", "(known keys: a, b, c)", "(expected weight=, ... or down)".
std::set<std::string> listedWords(const std::string& message, const std::string& after) {
  std::set<std::string> out;
  auto at = message.rfind(after);
  if (at == std::string::npos) return out;
  std::string list = message.substr(at + after.size());
  static const std::regex word("[a-z][a-z0-9_]*");
  for (auto it = std::sregex_iterator(list.begin(), list.end(), word); it != std::sregex_iterator();
       ++it) {
    std::string w = it->str();
    if (w != "or" && w != "and") out.insert(w);
  }
  return out;
}

std::string firstError(const Loaded& l) {
  for (const auto& d : l.items) {
    if (d.severity == common::Severity::error) return d.message;
  }
  return {};
}

// The keys a loader's walker has handlers for, per section type, as its
// "unknown key" error lists them.
std::map<std::string, std::set<std::string>> keysOf(const LoaderUnderTest& l) {
  std::map<std::string, std::set<std::string>> out;
  for (const std::string& type : l.section_types) {
    int line = 0;
    std::string text = l.file(type, "zzz_probe", "zzz_probe = 1", &line);
    Loaded loaded = l.load(text);
    std::string message;
    for (const auto& d : loaded.items) {
      if (d.line == line && d.message.find("unknown key") != std::string::npos) message = d.message;
    }
    INFO(l.name << " [" << type << "]: " << loaded.errors());
    REQUIRE(!message.empty());
    out[type] = listedWords(message, "known keys:");
  }
  return out;
}

std::vector<std::string> sectionTypesOf(const std::function<Loaded(const std::string&)>& load) {
  Loaded loaded = load("[zzz_probe]\n");
  std::string message = firstError(loaded);
  REQUIRE(message.find("unknown section") != std::string::npos);
  auto at = message.find("(expected");
  REQUIRE(at != std::string::npos);
  std::string list = message.substr(at);
  std::vector<std::string> out;
  static const std::regex header("\\[([a-z_]+)");
  for (auto it = std::sregex_iterator(list.begin(), list.end(), header);
       it != std::sregex_iterator(); ++it) {
    out.push_back((*it)[1].str());
  }
  return out;
}

std::string valueText(ValueKind kind, std::int64_t v) {
  return kind == ValueKind::duration ? std::to_string(v) + "ms" : std::to_string(v);
}

std::string entryLine(const ValueLimit& l, const std::string& value) {
  std::string line = std::string(l.key) + " = ";
  if (l.key == "server") line += "127.0.0.1:1 ";
  if (l.key == "listen") line += "127.0.0.1:1 ";
  // so_keepalive=IDLE:INTVL:CNT: each part has a limit of its own.
  if (l.option == "so_keepalive_idle") return line + "so_keepalive=" + value + "::";
  if (l.option == "so_keepalive_interval") return line + "so_keepalive=:" + value + ":";
  if (l.option == "so_keepalive_count") return line + "so_keepalive=::" + value;
  if (l.key == "track_script") line += "chk ";
  if (l.key == "track_interface") line += "lo ";
  if (l.option.empty()) return line + value;
  return line + std::string(l.option) + "=" + value;
}

// advert_int: VRRPv2 carries whole seconds, VRRPv3 hundredths up to 40.95 s;
// the table's range is their union, so each value is tried with the version
// that can carry it.
std::string withContext(const ValueLimit& l, const std::string& line, std::int64_t v) {
  if (l.key == "advert_int" && v >= 0 && v < 1000) return "version = 3\n" + line;
  return line;
}

void walk(LoaderUnderTest& loader) {
  loader.section_types = sectionTypesOf(loader.load);
  auto keys = keysOf(loader);

  // 1. Every key and parameter the loader knows is classified exactly once.
  std::set<std::tuple<std::string, std::string, std::string>> numeric, text;
  for (const ValueLimit& l : loader.limits) {
    CHECK(
        numeric.emplace(std::string(l.section), std::string(l.key), std::string(l.option)).second);
  }
  for (const TextKey& t : loader.text_keys) {
    text.emplace(std::string(t.section), std::string(t.key), std::string(t.option));
  }
  auto classified = [&](const std::string& s, const std::string& k, const std::string& o) {
    auto key = std::make_tuple(s, k, o);
    return numeric.count(key) + text.count(key);
  };
  auto hasOptions = [&](const std::string& s, const std::string& k) {
    for (const auto& set : {numeric, text}) {
      for (const auto& [ss, kk, oo] : set) {
        if (ss == s && kk == k && !oo.empty()) return true;
      }
    }
    return false;
  };
  for (const auto& [section, names] : keys) {
    for (const std::string& key : names) {
      INFO(loader.name << ": [" << section << "] " << key
                       << " is neither in the limits table nor in the text keys: a numeric "
                          "key needs a documented maximum");
      CHECK((classified(section, key, "") == 1 || hasOptions(section, key)));
      if (!hasOptions(section, key)) continue;
      // Its NAME=VALUE parameters, from the loader's own message.
      auto probe = loader.option_probe.find(key);
      INFO("no option probe for " << key);
      REQUIRE(probe != loader.option_probe.end());
      int line = 0;
      Loaded loaded = loader.load(loader.file(section, key, key + " = " + probe->second, &line));
      std::string message;
      for (const auto& d : loaded.items) {
        if (d.line == line && d.severity == common::Severity::error) message = d.message;
      }
      INFO(loaded.errors());
      REQUIRE(message.find("zzz_probe") != std::string::npos);
      std::set<std::string> options = listedWords(message, "(expected");
      REQUIRE(!options.empty());
      for (const std::string& o : options) {
        INFO(loader.name << ": [" << section << "] " << key << " " << o
                         << "= is neither in the limits table nor in the text keys");
        CHECK(classified(section, key, o) == 1);
      }
    }
  }
  // And nothing stale: every table entry names a key the loader has.
  for (const auto& set : {numeric, text}) {
    for (const auto& [s, k, o] : set) {
      INFO(loader.name << ": the table lists [" << s << "] " << k << " which the loader lacks");
      CHECK(keys.count(s) == 1);
      if (keys.count(s)) CHECK(keys[s].count(k) == 1);
    }
  }

  // 2. The walk: minimum and maximum load; one below, one above and absurd
  // values are refused at their line, naming the key.
  for (const ValueLimit& l : loader.limits) {
    std::string what = std::string(l.key) + (l.option.empty() ? "" : " " + std::string(l.option));
    const std::string section(l.section), key(l.key);
    auto tryValue = [&](const std::string& value, std::int64_t numeric_value, bool ok) {
      int line = 0;
      std::string text =
          loader.file(section, key, withContext(l, entryLine(l, value), numeric_value), &line);
      if (text.find("version = 3\n" + entryLine(l, value)) != std::string::npos) ++line;
      Loaded loaded = loader.load(text);
      INFO(loader.name << " [" << section << "] " << what << " = " << value << "\n"
                       << text << "---\n"
                       << loaded.errors());
      if (ok) {
        CHECK_FALSE(loaded.hasErrors());
        return;
      }
      bool at_line = false;
      for (const auto& d : loaded.items) {
        at_line = at_line || (d.severity == common::Severity::error && d.line == line &&
                              d.message.find(key) != std::string::npos &&
                              d.message.find(l.option) != std::string::npos);
      }
      CHECK(at_line);
    };
    tryValue(valueText(l.kind, l.min), l.min, true);
    tryValue(valueText(l.kind, l.max), l.max, true);
    tryValue(valueText(l.kind, l.max + 1), l.max + 1, false);
    if (l.min > INT64_MIN) tryValue(valueText(l.kind, l.min - 1), l.min - 1, false);
    for (std::string absurd :
         {"9000000000000000", "-9000000000000000", "99999999999999999999999999", "1000y"}) {
      tryValue(absurd, -1, false);
    }
    // A bound the run time can add to the clock: the steady clock counts
    // nanoseconds in an int64, which the largest duration must not wrap.
    if (l.kind == ValueKind::duration) {
      auto now = std::chrono::steady_clock::now();
      auto later = now + std::chrono::milliseconds(l.max);
      CHECK(later > now);
      // Half the clock's range (146 years) is left for the clock itself.
      CHECK(l.max <= INT64_MAX / 1000000 / 2);
    }
  }
}

// The LIMITS table of a man page: "SECTION<TAB>KEY<TAB>RANGE" rows between
// .TS and .TE after ".SH LIMITS".
std::set<std::string> manRows(const fs::path& page) {
  std::ifstream in(page);
  REQUIRE(in);
  std::set<std::string> rows;
  std::string line;
  bool in_section = false, in_table = false;
  while (std::getline(in, line)) {
    if (line.rfind(".SH", 0) == 0) in_section = line == ".SH LIMITS";
    if (!in_section) continue;
    if (line.rfind(".TS", 0) == 0) {
      in_table = true;
      std::getline(in, line);  // the format line
      std::getline(in, line);  // the heading
      continue;
    }
    if (line.rfind(".TE", 0) == 0) in_table = false;
    if (in_table && line.find('\t') != std::string::npos) {
      std::string row;
      for (char c : line) {
        if (c != '\\') row += c;  // "\-253" is troff's minus
      }
      rows.insert(row);
    }
  }
  return rows;
}

std::set<std::string> expectedRows(std::span<const ValueLimit> limits) {
  std::set<std::string> rows;
  for (const ValueLimit& l : limits) {
    std::string key(l.key);
    if (!l.option.empty()) key += " " + std::string(l.option) + "=";
    std::string range = common::describeRange(l).substr(5);  // without "from "
    rows.insert(std::string(l.section) + "\t" + key + "\t" + range);
  }
  return rows;
}

void checkManPage(const char* page, std::span<const ValueLimit> limits) {
  fs::path path = fs::path(__FILE__).parent_path().parent_path().parent_path().parent_path() /
                  "packaging" / "man" / page;
  auto have = manRows(path);
  auto want = expectedRows(limits);
  std::string missing, extra;
  for (const auto& r : want) {
    if (!have.count(r)) missing += r + "\n";
  }
  for (const auto& r : have) {
    if (!want.count(r)) extra += r + "\n";
  }
  INFO(page << ": rows missing from .SH LIMITS:\n"
            << missing << "rows that are not limits:\n"
            << extra);
  CHECK(missing.empty());
  CHECK(extra.empty());
}

}  // namespace

TEST_CASE("value limits: every numeric key of proxyd.ini, walked", "[value_limits]") {
  auto loader = proxydLoader();
  walk(loader);
}

TEST_CASE("value limits: every numeric key of vrrpd.ini, walked", "[value_limits]") {
  auto loader = vrrpdLoader();
  walk(loader);
}

TEST_CASE("value limits: the man pages list every limit", "[value_limits]") {
  checkManPage("proxyd.ini.5", proxyd::valueLimits());
  checkManPage("vrrpd.ini.5", vrrpd::valueLimits());
}

TEST_CASE("value limits: parsing checks the range, never wraps", "[value_limits]") {
  ValueLimit weight{"s", "weight", "", ValueKind::count, -253, 253, ""};
  CHECK(*common::parseLimited(weight, "-253") == -253);
  CHECK(common::parseLimited(weight, "254").error() ==
        "invalid value \"254\" (expected a whole number from -253 to 253)");
  CHECK_FALSE(common::parseLimited(weight, "18446744073709551615"));
  CHECK_FALSE(common::parseLimited(weight, "--1"));
  ValueLimit timer{"s", "t", "", ValueKind::duration, 0, common::kMaxTimerMs, ""};
  CHECK(*common::parseLimited(timer, "24d20h31m23s647ms") == 2147483647);
  CHECK(common::parseLimited(timer, "24d20h31m23s648ms").error() ==
        "invalid value \"24d20h31m23s648ms\" (expected a duration from 0 to "
        "24d20h31m23s647ms)");
  CHECK_FALSE(common::parseLimited(timer, "9000000000000000"));
  CHECK_FALSE(common::parseLimited(timer, "300000y"));
  ValueLimit size{"s", "b", "", ValueKind::size, 1, 64 << 20, ""};
  CHECK(*common::parseLimited(size, "64m") == 64 << 20);
  CHECK_FALSE(common::parseLimited(size, "16777216g"));
  CHECK(common::describeRange(size) == "from 1 to 64m");
  CHECK(common::formatDuration(std::chrono::milliseconds(90061001)) == "1d1h1m1s1ms");
}
