#include "vrrpd/core/config.h"

#include <net/if.h>  // IFNAMSIZ
#include <sys/stat.h>
#include <unistd.h>  // F_OK, X_OK

#include <fmt/format.h>

#include <algorithm>
#include <cstdlib>
#include <functional>
#include <map>
#include <set>

#include "common/config_text.h"
#include "common/duration.h"
#include "common/ini_section_walker.h"
#include "vrrpd/core/script_policy.h"
#include "vrrpd/core/script_security.h"
#include "vrrpd/core/value_limits.h"

namespace vrrpd {

using common::directoryOf;
using common::splitWords;

using common::Diagnostics;
using common::IniEntry;
using common::IniSection;
using common::IpAddress;
using common::Result;
using common::SectionWalker;
using std::chrono::milliseconds;

int InstanceSection::effectiveVersion(int global_version) const {
  for (const Vip& v : vips) {
    if (v.addr.isV6()) return 3;
  }
  return version != 0 ? version : global_version;
}

const ScriptSection* VrrpConfig::findScript(const std::string& name) const {
  for (const auto& s : scripts) {
    if (s.name == name) return &s;
  }
  return nullptr;
}

const InstanceSection* VrrpConfig::findInstance(const std::string& name) const {
  for (const auto& i : instances) {
    if (i.name == name) return &i;
  }
  return nullptr;
}

namespace {

constexpr int kMaxWeight = 253;  // keepalived: -253..253 (254 would cross 1..254)
constexpr const char* kDefaultScriptUser = "vrrpd_script";

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

std::string familyName(const IpAddress& a) {
  return a.isV6() ? "IPv6" : "IPv4";
}

std::string seconds(milliseconds ms) {
  if (ms.count() % 1000 == 0) return fmt::format("{}", ms.count() / 1000);
  std::string s = fmt::format("{}.{:03}", ms.count() / 1000, ms.count() % 1000);
  while (s.back() == '0') s.pop_back();
  return s;
}

// The program a command line runs: its first word, which may be quoted.
// `begin`/`end` delimit the word's text inside `command` (without quotes).
struct FirstWord {
  std::string word;
  size_t begin = 0;
  size_t end = 0;
};

FirstWord firstWord(const std::string& command) {
  FirstWord w;
  size_t i = 0;
  while (i < command.size() && (command[i] == ' ' || command[i] == '\t')) ++i;
  if (i < command.size() && (command[i] == '"' || command[i] == '\'')) {
    char q = command[i];
    size_t close = command.find(q, i + 1);
    if (close == std::string::npos) close = command.size();
    w.begin = i + 1;
    w.end = close;
  } else {
    w.begin = i;
    while (i < command.size() && command[i] != ' ' && command[i] != '\t') ++i;
    w.end = i;
  }
  w.word = command.substr(w.begin, w.end - w.begin);
  return w;
}

// What the loader remembers about an instance's keys for the checks that can
// only run once every section has been read (the global vrrp_version and the
// [vrrp_script] sections may come later in the file).
struct InstanceNotes {
  int interface_line = 0;
  int vrid_line = 0;
  int version_line = 0;
  int advert_line = 0;
  int state_line = 0;
  int priority_line = 0;
  int nopreempt_line = 0;  // nonzero: "nopreempt = yes" was written
  int preempt_delay_line = 0;
  int auth_type_line = 0;
  int auth_pass_line = 0;
  int mcast_src_line = 0;
  int unicast_src_line = 0;
  std::vector<int> peer_lines;
  bool have_interface = false;
  bool have_vrid = false;
  bool bad_vip = false;  // a virtual_ipaddress was refused: do not also say "needs"
};

class Loader {
 public:
  Loader(VrrpConfig& cfg, Diagnostics& diag, const common::Host& host)
      : cfg_(cfg), diag_(diag), host_(host) {}

  void load(const common::IniDocument& doc) {
    bool have_global = false;
    for (const IniSection& s : doc.sections) {
      if (s.type == "global" && s.label.empty()) {
        if (have_global) error(s.line, "[global] is duplicate");
        have_global = true;
        loadGlobal(s);
      } else if (s.type == "vrrp_script") {
        loadScript(s);
      } else if (s.type == "vrrp_instance") {
        loadInstance(s);
      } else if (s.type == "vrrp_sync_group") {
        loadSyncGroup(s);
      } else {
        error(s.line, fmt::format("unknown section [{}] (expected [global], [vrrp_script NAME], "
                                  "[vrrp_instance NAME] or [vrrp_sync_group NAME])",
                                  s.header));
      }
    }
    if (cfg_.global.router_id.empty()) {
      cfg_.global.router_id = host_.hostName();
    }
    for (size_t i = 0; i < cfg_.instances.size(); ++i) finishInstance(i);
    crossCheck();
    flush();
  }

 private:
  void error(int line, std::string msg) { mine_.error(cfg_.path, line, std::move(msg)); }
  void warning(int line, std::string msg) { mine_.warning(cfg_.path, line, std::move(msg)); }

  // The password is a secret on the segment: a configuration that other
  // users can read gives it away (keepalived says nothing; sshd refuses a
  // readable key). Said once per file, at the first auth_pass.
  void warnIfPasswordReadable(int line) {
    if (password_mode_checked_) return;
    password_mode_checked_ = true;
    auto st = host_.stat(cfg_.path);
    if (!st || (st->st_mode & (S_IRGRP | S_IROTH)) == 0) return;
    warning(line, fmt::format("auth_pass: \"{}\" is readable by other users (mode {:04o}): "
                              "they can read the password (chmod 0600 it)",
                              cfg_.path, st->st_mode & 07777));
  }

  // Our problems in line order (the checks that need the whole file run
  // last), after whatever the INI reader reported.
  void flush() {
    std::vector<common::Diagnostic> items = mine_.items();
    std::stable_sort(items.begin(), items.end(),
                     [](const auto& a, const auto& b) { return a.line < b.line; });
    for (auto& d : items) {
      if (d.severity == common::Severity::error) {
        diag_.error(d.file, d.line, std::move(d.message));
      } else {
        diag_.warning(d.file, d.line, std::move(d.message));
      }
    }
  }

  template <class T>
  bool take(const IniEntry& e, Result<T> r, T& out) {
    if (!r) {
      error(e.line, fmt::format("{}: {}", e.key, r.error()));
      return false;
    }
    out = std::move(*r);
    return true;
  }

  std::function<void(const IniEntry&)> flag(bool& out) {
    return [this, &out](const IniEntry& e) { take(e, common::parseFlag(e.value), out); };
  }

  // A number of the limits table (value_limits.cc), range-checked.
  // Durations are seconds with decimals as keepalived writes them, or nginx
  // units.
  std::optional<std::int64_t> number(std::string_view section, const IniEntry& e,
                                     std::string_view text) {
    auto r = common::parseLimited(limitOf(section, e.key), text);
    if (!r) {
      error(e.line, fmt::format("{}: {}", e.key, r.error()));
      return std::nullopt;
    }
    return *r;
  }
  std::optional<std::int64_t> number(std::string_view section, const IniEntry& e) {
    return number(section, e, e.value);
  }

  std::function<void(const IniEntry&)> duration(std::string_view section, milliseconds& out) {
    return [this, section, &out](const IniEntry& e) {
      if (auto n = number(section, e)) out = milliseconds(*n);
    };
  }

  std::function<void(const IniEntry&)> count(std::string_view section, int& out) {
    return [this, section, &out](const IniEntry& e) {
      if (auto n = number(section, e)) out = static_cast<int>(*n);
    };
  }

  // A notify or track script: the command line is run through /bin/sh -c; its
  // first word is the program, checked here (a warning: the config may be
  // checked on another machine). A relative path resolves against the
  // configuration file's directory, as every relative path does.
  std::function<void(const IniEntry&)> command(std::string& out, int* line = nullptr) {
    return [this, &out, line](const IniEntry& e) {
      std::string cmd = e.value;
      FirstWord w = firstWord(cmd);
      if (w.word.empty()) {
        error(e.line, fmt::format("{}: expected a command line", e.key));
        return;
      }
      std::string path = w.word;
      if (path.find('/') != std::string::npos && path[0] != '/') {
        path = directoryOf(cfg_.path) + "/" + (path.rfind("./", 0) == 0 ? path.substr(2) : path);
        cmd.replace(w.begin, w.end - w.begin, path);
      }
      out = cmd;
      if (line != nullptr) *line = e.line;
      checkProgram(e, path);
    };
  }

  void checkProgram(const IniEntry& e, const std::string& program) {
    std::string found = program;
    if (program.find('/') == std::string::npos) {
      // keepalived searches PATH for a bare name too; a script gets
      // kScriptPath, whatever vrrpd's own PATH.
      std::string dirs = kScriptPath;
      found.clear();
      size_t pos = 0;
      while (pos <= dirs.size()) {
        size_t colon = dirs.find(':', pos);
        if (colon == std::string::npos) colon = dirs.size();
        std::string dir = dirs.substr(pos, colon - pos);
        std::string candidate = (dir.empty() ? "." : dir) + "/" + program;
        if (host_.access(candidate, F_OK)) {
          found = candidate;
          break;
        }
        pos = colon + 1;
      }
      if (found.empty()) {
        warning(e.line,
                fmt::format("{}: \"{}\" is not found in PATH on this host", e.key, program));
        return;
      }
    }
    auto st = host_.stat(found);
    if (!st) {
      warning(e.line, fmt::format("{}: \"{}\" does not exist on this host", e.key, found));
    } else if (!S_ISREG(st->st_mode) || !host_.access(found, X_OK)) {
      warning(e.line, fmt::format("{}: \"{}\" is not executable", e.key, found));
    }
  }

  // `KEY = NAME [GROUP]`: keepalived's `[username [groupname]]`.
  bool runAs(const IniEntry& e, ScriptRunAs& out) {
    auto words = splitWords(e.value);
    if (words.empty() || words.size() > 2 || words[0].empty()) {
      error(e.line,
            fmt::format("{}: expected a user name, optionally followed by a group name", e.key));
      return false;
    }
    if (words[0][0] == ':' || (words.size() == 2 && words[1][0] == ':')) {
      error(e.line, fmt::format("{}: \":GROUP\" (keepalived's supplementary groups) is not "
                                "supported: scripts run with no supplementary groups",
                                e.key));
      return false;
    }
    out.user = words[0];
    out.group = words.size() == 2 ? words[1] : "";
    // A missing user or group is host-dependent (a warning), but a script
    // that would run as it does not run at all.
    if (!userExists(out.user)) {
      warning(e.line, fmt::format("{}: user \"{}\" does not exist on this host: scripts that "
                                  "run as it will not run",
                                  e.key, out.user));
    } else if (!out.group.empty() && !groupExists(out.group)) {
      warning(e.line, fmt::format("{}: group \"{}\" does not exist on this host: scripts that "
                                  "run as it will not run",
                                  e.key, out.group));
    }
    return true;
  }

  // A script the checks at the end look at: who runs it, and is it safe.
  struct ScriptUse {
    int line = 0;     // the command's line
    std::string key;  // script, notify_master, ...
    std::string command;
    ScriptRunAs as;   // empty user: the global script user
    int as_line = 0;  // the line of its user key
  };
  void useScript(int line, const std::string& key, const std::string& command,
                 const ScriptRunAs& as, int as_line) {
    if (line != 0 && !command.empty()) uses_.push_back({line, key, command, as, as_line});
  }

  void checkInterface(const IniEntry& e, const std::string& name) {
    if (!host_.hasInterface(name)) {
      warning(e.line, fmt::format("{}: interface \"{}\" does not exist on this host", e.key, name));
    }
  }

  // notify_STATE = COMMAND and notify_STATE_user = NAME [GROUP].
  struct NotifyKey {
    std::string key;
    std::string* command;
    ScriptRunAs* as;
    int line = 0, as_line = 0;
  };
  using NotifyKeys = std::vector<NotifyKey>;
  void notifyKeys(SectionWalker& w, NotifyKeys& keys) {
    for (NotifyKey& k : keys) {
      w.on(k.key, command(*k.command, &k.line));
      w.on(k.key + "_user", [this, &k](const IniEntry& e) {
        if (runAs(e, *k.as)) k.as_line = e.line;
      });
    }
  }
  void useNotifyKeys(const NotifyKeys& keys) {
    for (const NotifyKey& k : keys) useScript(k.line, k.key, *k.command, *k.as, k.as_line);
  }

  // ---------------------------------------------------------------- [global]

  void loadGlobal(const IniSection& s) {
    GlobalSection& g = cfg_.global;
    SectionWalker w(cfg_.path, s, mine_);
    w.on("router_id", [&](const IniEntry& e) { g.router_id = e.value; });
    w.on("run_dir", [&](const IniEntry& e) {
      if (e.value.empty()) {
        error(e.line, "run_dir: expected a directory");
        return;
      }
      g.run_dir = e.value[0] == '/' ? e.value : directoryOf(cfg_.path) + "/" + e.value;
    });
    w.on("script_user", [&](const IniEntry& e) {
      ScriptRunAs as;
      if (!runAs(e, as)) return;
      g.script_user = as.user;
      g.script_group = as.group;
      script_user_line_ = e.line;
    });
    w.on("enable_script_security", flag(g.enable_script_security));
    w.on("vrrp_version", [&](const IniEntry& e) {
      if (auto n = number("global", e)) {
        g.vrrp_version = static_cast<int>(*n);
        global_version_line_ = e.line;
      }
    });
    w.on("vrrp_skip_check_adv_addr", flag(g.skip_check_adv_addr));
    w.on("vrrp_check_unicast_src", flag(g.check_unicast_src));
    w.on("v3_checksum_as_v2", flag(g.v3_checksum_as_v2));
    w.on("vrrp_garp_interval", duration("global", g.garp_interval));
    w.on("vrrp_gna_interval", duration("global", g.gna_interval));
    w.on("notify_fifo", [&](const IniEntry& e) {
      g.notify_fifo = e.value;
      warning(e.line, "notify_fifo: not supported, ignored (use the notify scripts)");
    });
    w.on("notify_timeout", duration("global", g.notify_timeout));
    w.on("script_max_processes", count("global", g.script_max_processes));
    w.run();
  }

  // ----------------------------------------------------------- [vrrp_script]

  void loadScript(const IniSection& s) {
    if (s.label.empty()) {
      error(s.line, "[vrrp_script] needs a name: [vrrp_script NAME]");
      return;
    }
    if (cfg_.findScript(s.label)) {
      error(s.line, fmt::format("vrrp_script \"{}\" is duplicate", s.label));
      return;
    }
    ScriptSection sc;
    sc.name = s.label;
    sc.line = s.line;
    bool have_script = false;
    int script_line = 0, user_line = 0;
    SectionWalker w(cfg_.path, s, mine_);
    w.on("script", [&, run = command(sc.script, &script_line)](const IniEntry& e) {
      run(e);
      have_script = !sc.script.empty();
    });
    w.on("interval", duration("vrrp_script", sc.interval));
    w.on("timeout", [&](const IniEntry& e) {
      if (auto n = number("vrrp_script", e)) sc.timeout = milliseconds(*n);
    });
    w.on("weight", [&](const IniEntry& e) {
      auto words = splitWords(e.value);
      if (words.empty() || words.size() > 2 || (words.size() == 2 && words[1] != "reverse")) {
        error(e.line, fmt::format("weight: invalid value \"{}\" (expected a whole number from "
                                  "{} to {}, optionally followed by \"reverse\")",
                                  e.value, -kMaxWeight, kMaxWeight));
        return;
      }
      auto n = number("vrrp_script", e, words[0]);
      if (!n) return;
      sc.weight = static_cast<int>(*n);
      sc.reverse = words.size() == 2;
    });
    w.on("fall", count("vrrp_script", sc.fall));
    w.on("rise", count("vrrp_script", sc.rise));
    w.on("init_fail", flag(sc.init_fail));
    w.on("user", [&](const IniEntry& e) {
      ScriptRunAs as;
      if (!runAs(e, as)) return;
      sc.user = as.user;
      sc.group = as.group;
      user_line = e.line;
    });
    w.run();
    useScript(script_line, "script", sc.script, {sc.user, sc.group}, user_line);
    if (!have_script) error(s.line, fmt::format("[{}] needs \"script\"", s.header));
    cfg_.scripts.push_back(std::move(sc));
  }

  // --------------------------------------------------------- [vrrp_instance]

  void loadInstance(const IniSection& s) {
    if (s.label.empty()) {
      error(s.line, "[vrrp_instance] needs a name: [vrrp_instance NAME]");
      return;
    }
    if (cfg_.findInstance(s.label)) {
      error(s.line, fmt::format("vrrp_instance \"{}\" is duplicate", s.label));
      return;
    }
    InstanceSection in;
    InstanceNotes notes;
    in.name = s.label;
    in.line = s.line;
    SectionWalker w(cfg_.path, s, mine_);
    routerKeys(w, in, notes);
    sourceKeys(w, in, notes);
    authKeys(w, in, notes);
    vipKeys(w, in, notes);
    trackKeys(w, in);
    w.on("garp_master_delay", duration("vrrp_instance", in.garp_master_delay));
    w.on("garp_master_repeat", count("vrrp_instance", in.garp_master_repeat));
    w.on("garp_master_refresh", duration("vrrp_instance", in.garp_master_refresh));
    w.on("garp_master_refresh_repeat", count("vrrp_instance", in.garp_master_refresh_repeat));
    NotifyKeys keys{{{"notify_master", &in.notify_master, &in.notify_master_as},
                     {"notify_backup", &in.notify_backup, &in.notify_backup_as},
                     {"notify_fault", &in.notify_fault, &in.notify_fault_as},
                     {"notify_stop", &in.notify_stop, &in.notify_stop_as},
                     {"notify", &in.notify, &in.notify_as}}};
    notifyKeys(w, keys);
    w.run();
    useNotifyKeys(keys);

    requireInstanceKeys(s, in, notes);
    cfg_.instances.push_back(std::move(in));
    notes_.push_back(std::move(notes));
  }

  // The virtual router itself: its link, VRID, priority, timing, preemption.
  void routerKeys(SectionWalker& w, InstanceSection& in, InstanceNotes& notes) {
    w.on("state", [&](const IniEntry& e) {
      std::string v = lower(e.value);
      if (v == "master") {
        in.initial_master = true;
      } else if (v == "backup") {
        in.initial_master = false;
      } else {
        error(e.line,
              fmt::format("state: invalid value \"{}\" (expected MASTER or BACKUP)", e.value));
        return;
      }
      notes.state_line = e.line;
    });
    w.on("interface", [&](const IniEntry& e) {
      notes.have_interface = true;  // present, even if refused: no "needs" error then
      auto words = splitWords(e.value);
      if (words.size() != 1 || words[0].size() >= IFNAMSIZ) {
        error(e.line, fmt::format("interface: invalid value \"{}\" (expected an interface name of "
                                  "at most {} characters)",
                                  e.value, IFNAMSIZ - 1));
        return;
      }
      in.interface = words[0];
      notes.interface_line = e.line;
      checkInterface(e, in.interface);
    });
    w.on("virtual_router_id", [&](const IniEntry& e) {
      notes.have_vrid = true;  // present, even if refused: no "needs" error then
      if (auto n = number("vrrp_instance", e)) {
        in.vrid = static_cast<int>(*n);
        notes.vrid_line = e.line;
      }
    });
    w.on("priority", [&](const IniEntry& e) {
      if (auto n = number("vrrp_instance", e)) {
        in.priority = static_cast<int>(*n);
        notes.priority_line = e.line;
      }
    });
    w.on("advert_int", [&](const IniEntry& e) {
      auto n = number("vrrp_instance", e);
      if (!n) return;
      in.advert_interval = milliseconds(*n);
      notes.advert_line = e.line;
    });
    w.on("version", [&](const IniEntry& e) {
      if (auto n = number("vrrp_instance", e)) {
        in.version = static_cast<int>(*n);
        notes.version_line = e.line;
      }
    });
    w.on("nopreempt", [&](const IniEntry& e) {
      bool nopreempt = false;
      if (!take(e, common::parseFlag(e.value), nopreempt)) return;
      in.preempt = !nopreempt;
      notes.nopreempt_line = nopreempt ? e.line : 0;
    });
    w.on("preempt_delay", [&](const IniEntry& e) {
      auto n = number("vrrp_instance", e);
      if (!n) return;
      in.preempt_delay = milliseconds(*n);
      notes.preempt_delay_line = e.line;
    });
  }

  // Where adverts come from and go (multicast or unicast).
  void sourceKeys(SectionWalker& w, InstanceSection& in, InstanceNotes& notes) {
    auto source = [this](std::optional<IpAddress>& out, int& line) {
      return [this, out = &out, line = &line](const IniEntry& e) {
        IpAddress a;
        if (!take(e, IpAddress::parse(e.value), a)) return;
        *out = a;
        *line = e.line;
        if (!host_.hasLocalAddress(a).value_or(true)) {
          warning(e.line,
                  fmt::format("{}: {} is not configured on this host", e.key, a.toString()));
        }
      };
    };
    w.on("mcast_src_ip", source(in.mcast_src_ip, notes.mcast_src_line));
    w.on("unicast_src_ip", source(in.unicast_src_ip, notes.unicast_src_line));
    w.on(
        "unicast_peer",
        [&](const IniEntry& e) {
          IpAddress a;
          if (!take(e, IpAddress::parse(e.value), a)) return;
          for (size_t i = 0; i < in.unicast_peers.size(); ++i) {
            if (in.unicast_peers[i] == a) {
              error(e.line, fmt::format("unicast_peer: {} is duplicate (also on line {})",
                                        a.toString(), notes.peer_lines[i]));
              return;
            }
          }
          in.unicast_peers.push_back(a);
          notes.peer_lines.push_back(e.line);
        },
        true);
  }

  // VRRPv2 simple password authentication.
  void authKeys(SectionWalker& w, InstanceSection& in, InstanceNotes& notes) {
    w.on("auth_type", [&](const IniEntry& e) {
      notes.auth_type_line = e.line;  // written, even if refused
      std::string v = lower(e.value);
      if (v == "pass") {
        in.auth_type = AuthType::pass;
      } else if (v == "none") {
        in.auth_type = AuthType::none;
      } else if (v == "ah") {
        error(e.line, "auth_type: AH is not supported (keepalived has it; use PASS or none)");
        return;
      } else {
        error(e.line,
              fmt::format("auth_type: invalid value \"{}\" (expected PASS or none)", e.value));
        return;
      }
    });
    w.on("auth_pass", [&](const IniEntry& e) {
      if (e.value.empty()) {
        error(e.line, "auth_pass: expected a password");
        return;
      }
      in.auth_pass = e.value;
      notes.auth_pass_line = e.line;
      warnIfPasswordReadable(e.line);
      if (in.auth_pass.size() > 8) {
        in.auth_pass.resize(8);
        warning(e.line, fmt::format("auth_pass: truncated to 8 bytes: {} (VRRP carries 8 bytes; "
                                    "keepalived truncates it the same way)",
                                    in.auth_pass));
      }
    });
  }

  // virtual_ipaddress: one family per instance, no address twice.
  void vipKeys(SectionWalker& w, InstanceSection& in, InstanceNotes& notes) {
    w.on(
        "virtual_ipaddress",
        [&](const IniEntry& e) {
          auto r = parseVip(e.value);
          if (!r) {
            error(e.line, fmt::format("virtual_ipaddress: {}", r.error()));
            notes.bad_vip = true;
            return;
          }
          Vip vip = std::move(*r);
          vip.line = e.line;
          if (!in.vips.empty() && in.vips.front().addr.family() != vip.addr.family()) {
            const Vip& first = in.vips.front();
            error(e.line,
                  fmt::format("virtual_ipaddress: {} is {} but {} (line {}) is {}: one instance "
                              "carries one family; put the {} addresses in a [vrrp_instance] of "
                              "their own (keepalived ignores such an address)",
                              vip.addr.toString(), familyName(vip.addr), first.addr.toString(),
                              first.line, familyName(first.addr), familyName(vip.addr)));
            notes.bad_vip = true;
            return;
          }
          for (const Vip& other : in.vips) {
            if (other.addr == vip.addr) {
              error(e.line, fmt::format("virtual_ipaddress: {} is duplicate (also on line {})",
                                        vip.addr.toString(), other.line));
              notes.bad_vip = true;
              return;
            }
          }
          if (!vip.dev.empty()) checkInterface(e, vip.dev);
          in.vips.push_back(std::move(vip));
        },
        true);
  }

  // track_script and track_interface, each named once.
  void trackKeys(SectionWalker& w, InstanceSection& in) {
    w.on(
        "track_script",
        [&](const IniEntry& e) {
          auto ref = parseTrackRef(e, "NAME [weight=N]");
          if (!ref) return;
          for (const auto& other : in.track_scripts) {
            if (other.name == ref->first) {
              error(e.line, fmt::format("track_script: \"{}\" is already tracked (line {})",
                                        ref->first, other.line));
              return;
            }
          }
          in.track_scripts.push_back(TrackScriptRef{ref->first, ref->second, e.line});
        },
        true);
    w.on(
        "track_interface",
        [&](const IniEntry& e) {
          auto ref = parseTrackRef(e, "INTERFACE [weight=N]");
          if (!ref) return;
          for (const auto& other : in.track_interfaces) {
            if (other.name == ref->first) {
              error(e.line, fmt::format("track_interface: \"{}\" is already tracked (line {})",
                                        ref->first, other.line));
              return;
            }
          }
          checkInterface(e, ref->first);
          in.track_interfaces.push_back(
              TrackInterfaceRef{ref->first, ref->second.value_or(0), e.line});
        },
        true);
  }

  // What an instance cannot do without.
  void requireInstanceKeys(const IniSection& s, const InstanceSection& in,
                           const InstanceNotes& notes) {
    if (!notes.have_interface) error(s.line, fmt::format("[{}] needs \"interface\"", s.header));
    if (!notes.have_vrid) {
      error(s.line, fmt::format("[{}] needs \"virtual_router_id\" (1 to 255, the same on every "
                                "node of the group)",
                                s.header));
    }
    if (in.vips.empty() && !notes.bad_vip) {
      error(s.line, fmt::format("[{}] needs \"virtual_ipaddress\"", s.header));
    }
  }

  // "NAME [weight=N]" (keepalived's "NAME weight N" works too).
  std::optional<std::pair<std::string, std::optional<int>>> parseTrackRef(const IniEntry& e,
                                                                          std::string_view form) {
    auto words = splitWords(e.value);
    std::optional<std::string> weight_text;
    if (words.size() == 2 && words[1].rfind("weight=", 0) == 0) {
      weight_text = words[1].substr(7);
    } else if (words.size() == 3 && words[1] == "weight") {
      weight_text = words[2];
    } else if (words.size() != 1) {
      error(e.line,
            fmt::format("{}: invalid value \"{}\" (expected \"{}\")", e.key, e.value, form));
      return std::nullopt;
    }
    std::optional<int> weight;
    if (weight_text) {
      auto r = common::parseLimited(limitOf("vrrp_instance", e.key, "weight"), *weight_text);
      if (!r) {
        error(e.line, fmt::format("{}: weight: {}", e.key, r.error()));
        return std::nullopt;
      }
      weight = static_cast<int>(*r);
    }
    return std::make_pair(words[0], weight);
  }

  // Checks that need the global section (vrrp_version may come after the
  // instance in the file).
  void finishInstance(size_t index) {
    InstanceSection& in = cfg_.instances[index];
    const InstanceNotes& n = notes_[index];
    VersionChoice v = settleVersion(in, n);
    checkAdvertInterval(in, n, v.version, v.from);
    settleAuth(in, n, v.version);
    checkSourceFamilies(in, n);
    settlePreemption(in, n);
  }

  // The version the instance runs, and where that came from (for messages).
  struct VersionChoice {
    int version = 2;
    std::string from;
  };
  VersionChoice settleVersion(InstanceSection& in, const InstanceNotes& n) {
    bool v6 = isV6(in);
    // IPv6 forces VRRPv3, as in keepalived (which sets version 3).
    if (v6 && in.version == 2) {
      warning(n.version_line,
              "version: VRRPv2 cannot carry IPv6 addresses: using version 3 "
              "(as keepalived does)");
      in.version = 3;
    }
    int version = in.effectiveVersion(cfg_.global.vrrp_version);
    int version_line = n.version_line ? n.version_line : global_version_line_;
    std::string version_from = version_line
                                   ? fmt::format(" (line {})", version_line)
                                   : std::string(v6 ? " (IPv6 addresses)" : " (the default)");
    return {version, version_from};
  }

  void checkAdvertInterval(const InstanceSection& in, const InstanceNotes& n, int version,
                           const std::string& version_from) {
    long ms = in.advert_interval.count();
    if (version == 2 && (ms % 1000 != 0 || ms > 255000)) {
      error(n.advert_line,
            fmt::format("advert_int: {} is not possible with VRRPv2{}, which carries whole "
                        "seconds from 1 to 255; use version = 3 for fractions of a second",
                        seconds(in.advert_interval), version_from));
    } else if (version == 3 && (ms % 10 != 0 || ms > 40950)) {
      error(n.advert_line,
            fmt::format("advert_int: {} is not possible with VRRPv3{}, which carries hundredths "
                        "of a second from 0.01 to 40.95",
                        seconds(in.advert_interval), version_from));
    }
  }

  void settleAuth(InstanceSection& in, const InstanceNotes& n, int version) {
    if (in.auth_type == AuthType::pass && version == 3) {
      warning(n.auth_type_line, "auth_type: VRRPv3 has no authentication: ignored (as keepalived)");
      in.auth_type = AuthType::none;
    } else if (in.auth_type == AuthType::pass && in.auth_pass.empty()) {
      error(n.auth_type_line, "auth_type: PASS needs \"auth_pass\"");
    } else if (n.auth_type_line == 0 && !in.auth_pass.empty()) {
      warning(n.auth_pass_line, "auth_pass: not used without \"auth_type = PASS\"");
    }
  }

  // Addresses of the other family.
  void checkSourceFamilies(const InstanceSection& in, const InstanceNotes& n) {
    bool v6 = isV6(in);
    int family = v6 ? AF_INET6 : AF_INET;
    const char* family_name = v6 ? "IPv6" : "IPv4";
    auto checkFamily = [&](const std::optional<IpAddress>& a, int line, std::string_view key) {
      if (a && a->family() != family) {
        error(line, fmt::format("{}: {} is {} but the virtual addresses are {}", key, a->toString(),
                                familyName(*a), family_name));
      }
    };
    checkFamily(in.mcast_src_ip, n.mcast_src_line, "mcast_src_ip");
    checkFamily(in.unicast_src_ip, n.unicast_src_line, "unicast_src_ip");
    for (size_t i = 0; i < in.unicast_peers.size(); ++i) {
      checkFamily(in.unicast_peers[i], n.peer_lines[i], "unicast_peer");
    }
    if (in.mcast_src_ip && in.unicast_src_ip && *in.mcast_src_ip != *in.unicast_src_ip) {
      error(std::max(n.mcast_src_line, n.unicast_src_line),
            "mcast_src_ip and unicast_src_ip differ: they name the same source address (as in "
            "keepalived); give one");
    }
    if (in.unicast_src_ip && in.unicast_peers.empty()) {
      warning(n.unicast_src_line,
              "unicast_src_ip: no unicast_peer is given: adverts go to the "
              "multicast group");
    }
  }

  void settlePreemption(InstanceSection& in, const InstanceNotes& n) {
    // State, priority and preemption, as keepalived's vrrp_complete_instance()
    // settles them: a missing priority follows the state (MASTER: 255, the
    // address owner; else 100), a missing state follows the priority.
    if (n.priority_line == 0 && in.initial_master) {
      in.priority = 255;
      warning(n.state_line,
              "state: MASTER without a priority makes this node the address owner "
              "(priority 255, as keepalived derives it); set a priority below 255 "
              "unless it really owns the addresses");
    } else if (n.state_line == 0 && in.priority == 255) {
      in.initial_master = true;
    }
    if (in.priority == 255 && !in.preempt) {
      warning(n.nopreempt_line,
              "nopreempt: priority 255 (the address owner) always preempts: "
              "nopreempt is cleared (as keepalived)");
      in.preempt = true;
    }
    if (in.priority == 255 && !in.initial_master && n.state_line) {
      warning(n.priority_line,
              "priority: 255 makes this node the address owner: it takes the VIP from any other "
              "node as soon as it runs, whatever \"state = BACKUP\" says; give a backup a "
              "priority below 255");
    }
    if (in.initial_master) {
      if (!in.preempt) {
        warning(n.nopreempt_line,
                "nopreempt: has no effect with \"state = MASTER\" and is cleared (as keepalived "
                "does): this node takes the VIP back whenever it returns with the highest "
                "priority; for nopreempt to work, set \"state = BACKUP\" on every node");
        in.preempt = true;
      }
      if (in.preempt_delay.count() != 0) {
        warning(n.preempt_delay_line,
                "preempt_delay: has no effect with \"state = MASTER\" and is "
                "cleared (as keepalived does)");
        in.preempt_delay = milliseconds(0);
      }
    } else if (!in.preempt && in.preempt_delay.count() != 0) {
      warning(n.preempt_delay_line,
              "preempt_delay: has no effect with nopreempt and is cleared "
              "(as keepalived does)");
      in.preempt_delay = milliseconds(0);
    }
  }

  // ------------------------------------------------------- [vrrp_sync_group]

  void loadSyncGroup(const IniSection& s) {
    if (s.label.empty()) {
      error(s.line, "[vrrp_sync_group] needs a name: [vrrp_sync_group NAME]");
      return;
    }
    for (const auto& g : cfg_.sync_groups) {
      if (g.name == s.label) {
        error(s.line, fmt::format("vrrp_sync_group \"{}\" is duplicate", s.label));
        return;
      }
    }
    SyncGroupSection g;
    g.name = s.label;
    g.line = s.line;
    std::vector<int> lines;
    SectionWalker w(cfg_.path, s, mine_);
    w.on(
        "group",
        [&](const IniEntry& e) {
          auto words = splitWords(e.value);
          if (words.empty()) {
            error(e.line, "group: expected instance names, e.g. \"VI_1 VI_2\"");
            return;
          }
          for (auto& name : words) {
            if (std::find(g.members.begin(), g.members.end(), name) != g.members.end()) {
              error(e.line, fmt::format("group: \"{}\" is listed twice", name));
              continue;
            }
            g.members.push_back(name);
            lines.push_back(e.line);
          }
        },
        true);
    NotifyKeys keys{{{"notify_master", &g.notify_master, &g.notify_master_as},
                     {"notify_backup", &g.notify_backup, &g.notify_backup_as},
                     {"notify_fault", &g.notify_fault, &g.notify_fault_as},
                     {"notify", &g.notify, &g.notify_as}}};
    notifyKeys(w, keys);
    w.run();
    useNotifyKeys(keys);
    if (g.members.empty()) error(s.line, fmt::format("[{}] needs \"group\"", s.header));
    sync_member_lines_.push_back(std::move(lines));
    cfg_.sync_groups.push_back(std::move(g));
  }

  // -------------------------------------------------------- whole-file checks

  void crossCheck() {
    // track_script must name a [vrrp_script]. keepalived reports it as a
    // configuration error ("track script X not found, ignoring...") and runs
    // without the check; silently losing a health check is worse than
    // refusing the file, so it is an error here.
    for (size_t i = 0; i < cfg_.instances.size(); ++i) {
      const InstanceSection& in = cfg_.instances[i];
      for (const TrackScriptRef& ref : in.track_scripts) {
        const ScriptSection* sc = cfg_.findScript(ref.name);
        if (!sc) {
          error(ref.line, fmt::format("track_script: no [vrrp_script {}] is defined", ref.name));
          continue;
        }
        int weight = ref.weight.value_or(sc->weight);
        // The seed's trap: with nopreempt a backup never takes over from a
        // live master, so a weight (the seed's -2) can never move the VIP.
        if (weight != 0 && notes_[i].nopreempt_line != 0) {
          warning(ref.line,
                  fmt::format("track_script {}: weight {} can never move the VIP with nopreempt "
                              "(a BACKUP with nopreempt never takes over from a live MASTER, "
                              "whatever the priorities); use weight 0 so that a failing script "
                              "puts this node in FAULT and the VIP moves",
                              ref.name, weight));
        }
      }
    }

    // One (interface, VRID, family) per instance: VRRP tells routers apart by
    // VRID on a link, IPv4 and IPv6 separately.
    for (size_t i = 0; i < cfg_.instances.size(); ++i) {
      const InstanceSection& a = cfg_.instances[i];
      if (a.interface.empty() || a.vrid == 0) continue;
      for (size_t j = 0; j < i; ++j) {
        const InstanceSection& b = cfg_.instances[j];
        if (b.interface.empty() || b.vrid == 0) continue;
        if (a.interface != b.interface || a.vrid != b.vrid || isV6(a) != isV6(b)) continue;
        error(notes_[i].vrid_line,
              fmt::format("virtual_router_id: {} on {} ({}) is also used by [vrrp_instance {}] "
                          "(line {})",
                          a.vrid, a.interface, isV6(a) ? "IPv6" : "IPv4", b.name, b.line));
        break;
      }
    }

    // Sync groups name instances, each instance in at most one group.
    std::map<std::string, std::string> group_of;
    for (size_t g = 0; g < cfg_.sync_groups.size(); ++g) {
      const SyncGroupSection& sg = cfg_.sync_groups[g];
      for (size_t k = 0; k < sg.members.size(); ++k) {
        const std::string& name = sg.members[k];
        int line = sync_member_lines_[g][k];
        if (!cfg_.findInstance(name)) {
          error(line, fmt::format("group: no [vrrp_instance {}] is defined", name));
          continue;
        }
        auto [it, inserted] = group_of.emplace(name, sg.name);
        if (!inserted) {
          error(line, fmt::format("group: [vrrp_instance {}] is already in [vrrp_sync_group {}]",
                                  name, it->second));
        }
      }
      if (sg.members.size() == 1) {
        warning(sync_member_lines_[g][0],
                fmt::format("group: [vrrp_sync_group {}] has only one instance, which is probably "
                            "not what you want (keepalived warns too)",
                            sg.name));
      }
    }

    checkScriptUsers();
  }

  // Who runs the scripts (keepalived's rule), and whether root may run them.
  void checkScriptUsers() {
    const GlobalSection& g = cfg_.global;
    bool security = g.enable_script_security;
    std::set<int> warned;  // one "runs as root" warning per line that says so
    for (const ScriptUse& u : uses_) {
      ScriptRunAs as = u.as;
      int as_line = u.as_line;
      if (as.user.empty()) {
        as = {g.script_user, g.script_group};
        as_line = script_user_line_;
      }
      if (as.user.empty()) {
        if (userExists(kDefaultScriptUser)) {
          as.user = kDefaultScriptUser;
        } else {
          if (warned.insert(-1).second) {
            warning(u.line, fmt::format("no script_user is set and user \"{}\" does not exist "
                                        "on this host: scripts will not run (they count as "
                                        "failing); create the user, or say script_user = root "
                                        "in [global] to run them as root",
                                        kDefaultScriptUser));
          }
          continue;
        }
      }
      auto who = lookupScriptUser(as.user, as.group, host_);
      if (!who) continue;  // said at the user's line: it will not run
      bool root = who->uid == 0 || who->gid == 0;
      if (!security) {
        if (root && warned.insert(as_line).second) {
          if (as_line != 0 && as_line == script_user_line_) {
            warning(as_line, fmt::format("script_user: scripts run as root (user \"{}\") "
                                         "without enable_script_security: nothing checks that "
                                         "only root can modify them",
                                         as.user));
          } else {
            warning(as_line != 0 ? as_line : u.line,
                    fmt::format("{}: runs as root (user \"{}\") without enable_script_security: "
                                "nothing checks that only root can modify it",
                                u.key, as.user));
          }
        }
        continue;
      }
      if (auto why = refuseInsecure(u.command, who->uid, who->gid, kScriptPath, host_)) {
        warning(u.line, fmt::format("{}: will not run: refused by enable_script_security: {}",
                                    u.key, *why));
      }
    }
  }

  static bool isV6(const InstanceSection& in) {
    return !in.vips.empty() && in.vips.front().addr.isV6();
  }

  // A user or group the host lists (a failed lookup counts as missing).
  bool userExists(const std::string& name) const {
    auto u = host_.user(name);
    return u && *u;
  }
  bool groupExists(const std::string& name) const {
    auto g = host_.group(name);
    return g && *g;
  }

  VrrpConfig& cfg_;
  bool password_mode_checked_ = false;
  Diagnostics& diag_;
  const common::Host& host_;
  Diagnostics mine_;
  std::vector<InstanceNotes> notes_;                 // parallel to cfg_.instances
  std::vector<std::vector<int>> sync_member_lines_;  // parallel to cfg_.sync_groups
  int global_version_line_ = 0;
  int script_user_line_ = 0;
  std::vector<ScriptUse> uses_;
};

VrrpConfig build(const common::IniDocument& doc, const std::string& path, Diagnostics& diag,
                 const common::Host& host) {
  VrrpConfig cfg;
  cfg.path = path;
  Loader(cfg, diag, host).load(doc);
  return cfg;
}

}  // namespace

VrrpConfig loadVrrpConfig(const std::string& path, Diagnostics& diag, const common::Host& host) {
  auto doc = common::loadIniFile(path, diag);
  return build(doc, path, diag, host);
}

VrrpConfig parseVrrpConfig(std::string_view text, const std::string& path, Diagnostics& diag,
                           const common::Host& host) {
  auto doc = common::parseIni(text, path, diag);
  return build(doc, path, diag, host);
}

}  // namespace vrrpd
