// vrrpd --import-keepalived. A reader turns keepalived.conf (and its
// includes) into a tree of statements, each keeping FILE:LINE, with
// keepalived's rules (keepalived/core/parser.c): one keyword and its
// arguments a line, "{ }" blocks, "#" and "!" comments anywhere outside a
// quoted string, "include" relative to the including file's directory. A walk
// over the tree then writes vrrpd.ini.
#include "import/keepalived/keepalived_import.h"

#include <glob.h>

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <map>
#include <optional>
#include <set>
#include <string_view>

#include "common/conf_include.h"
#include "common/config_text.h"
#include "common/ini_file.h"
#include "import/conf_walk.h"
#include "import/imported_ini.h"
#include "vrrpd/core/config.h"

namespace vrrpd {

using common::directoryOf;

namespace {

using Messages = common::Diagnostics;
using Statement = importer::ConfStatement;
using Section = importer::ImportedSection;

// ------------------------------------------------------------ the reader

struct Lex {
  enum Kind { word, open, close, eol };
  Kind kind;
  std::string text;
  std::string file;
  int line = 0;
};

bool isSpace(char c) {
  return std::isspace(static_cast<unsigned char>(c)) != 0;
}

class Reader {
 public:
  explicit Reader(Messages& msg) : msg_(msg) {}

  // Appends the file's lexemes (includes expanded in place) to `out`.
  bool lexFile(const std::string& path, std::vector<Lex>& out, int depth, const Lex* from) {
    std::optional<std::string> content = common::readConfFile(path);
    if (!content) {
      if (from) {
        msg_.error(from->file, from->line, fmt::format("include: cannot read \"{}\"", path));
      } else {
        msg_.error(path, 0, "cannot read the file");
      }
      return false;
    }
    std::string_view rest = *content;
    int line_no = 0;
    bool warned_semicolon = false;
    while (!rest.empty()) {
      auto nl = rest.find('\n');
      std::string_view line = rest.substr(0, nl);
      rest = nl == std::string_view::npos ? std::string_view() : rest.substr(nl + 1);
      ++line_no;
      std::vector<Lex> lexes;
      if (!lexLine(line, path, line_no, lexes, warned_semicolon)) return false;
      // "include FILE" (and keepalived's includer/includem/... variants).
      if (!lexes.empty() && lexes[0].kind == Lex::word &&
          (lexes[0].text == "include" ||
           (lexes[0].text.size() == 8 && lexes[0].text.rfind("include", 0) == 0))) {
        if (lexes.size() != 2 || lexes[1].kind != Lex::word) {
          msg_.error(path, line_no, "include: expected \"include FILE\"");
          return false;
        }
        if (!include(lexes[1].text, lexes[0], out, depth)) return false;
        continue;
      }
      for (auto& l : lexes) out.push_back(std::move(l));
      out.push_back({Lex::eol, {}, path, line_no});
    }
    return true;
  }

 private:
  bool lexLine(std::string_view line, const std::string& file, int line_no, std::vector<Lex>& out,
               bool& warned_semicolon) {
    size_t i = 0;
    while (i < line.size()) {
      char c = line[i];
      if (isSpace(c)) {
        ++i;
        continue;
      }
      if (c == '#' || c == '!') break;  // a comment, anywhere outside quotes
      if (c == '{' || c == '}') {
        out.push_back({c == '{' ? Lex::open : Lex::close, std::string(1, c), file, line_no});
        ++i;
        continue;
      }
      if (c == ';') {
        // Not a separator in keepalived.conf (it would become part of the
        // value); the article's shorthand uses it as one, so read it so.
        if (!warned_semicolon) {
          msg_.warning(file, line_no,
                       "\";\" is not a separator in keepalived.conf (keepalived would read it as "
                       "part of a value): read as the end of a line here; write one item a line");
          warned_semicolon = true;
        }
        out.push_back({Lex::eol, {}, file, line_no});
        ++i;
        continue;
      }
      if (c == '"') {
        auto close = line.find('"', i + 1);
        if (close == std::string_view::npos) {
          msg_.error(file, line_no, "unmatched quote: the string has no closing '\"'");
          return false;
        }
        out.push_back({Lex::word, std::string(line.substr(i + 1, close - i - 1)), file, line_no});
        i = close + 1;
        continue;
      }
      size_t start = i;
      while (i < line.size() && !isSpace(line[i]) && line[i] != '{' && line[i] != '}' &&
             line[i] != '"' && line[i] != '#' && line[i] != '!' && line[i] != ';') {
        ++i;
      }
      out.push_back({Lex::word, std::string(line.substr(start, i - start)), file, line_no});
    }
    return true;
  }

  bool include(const std::string& name, const Lex& at, std::vector<Lex>& out, int depth) {
    if (!common::includeDepthAllowed(depth, at.file, at.line, msg_)) return false;
    std::string pattern = common::includePath(name, directoryOf(at.file));
    // A pattern glob(3) cannot expand matches nothing, as in keepalived.
    std::vector<std::string> files =
        common::matchingFiles(pattern, GLOB_BRACE).value_or(std::vector<std::string>{});
    if (files.empty()) {
      // keepalived logs "No config files matched" and goes on.
      msg_.warning(at.file, at.line,
                   fmt::format("include {}: no file matches \"{}\"", name, pattern));
      return true;
    }
    Lex from = at;
    for (const auto& f : files) {
      if (!lexFile(f, out, depth + 1, &from)) return false;
    }
    return true;
  }

  Messages& msg_;
};

// Lexemes into statements: a statement ends at the end of its line; "{"
// opens its block (also on the next line), "}" closes the current one.
class Parser {
 public:
  Parser(const std::vector<Lex>& lexes, Messages& msg) : l_(lexes), msg_(msg) {}

  bool parse(std::vector<Statement>& out) { return block(out, nullptr); }

 private:
  bool block(std::vector<Statement>& out, Statement* owner) {
    Statement* last = nullptr;  // the previous statement, if its line ended without "{"
    while (pos_ < l_.size()) {
      const Lex& x = l_[pos_];
      if (x.kind == Lex::eol) {
        ++pos_;
        continue;
      }
      if (x.kind == Lex::close) {
        ++pos_;
        if (!owner) {
          msg_.error(x.file, x.line, "unexpected \"}\" (no block is open)");
          return false;
        }
        return true;
      }
      if (x.kind == Lex::open) {
        // "NAME\n{": the block belongs to the statement on the line before.
        if (!last || last->block) {
          msg_.error(x.file, x.line, "unexpected \"{\" (no keyword before it)");
          return false;
        }
        ++pos_;
        last->block = true;
        if (!block(last->children, last)) return false;
        continue;
      }
      Statement s;
      s.name = x.text;
      s.file = x.file;
      s.line = x.line;
      ++pos_;
      bool opened = false;
      while (pos_ < l_.size() && l_[pos_].kind == Lex::word) s.args.push_back(l_[pos_++].text);
      if (pos_ < l_.size() && l_[pos_].kind == Lex::open) {
        ++pos_;
        opened = true;
        s.block = true;
      }
      out.push_back(std::move(s));
      last = &out.back();
      if (opened) {
        if (!block(last->children, last)) return false;
      }
    }
    if (owner) {
      msg_.error(owner->file, owner->line,
                 fmt::format("unexpected end of file: the block of \"{}\" opened here is not "
                             "closed by \"}}\"",
                             owner->name));
      return false;
    }
    return true;
  }

  const std::vector<Lex>& l_;
  Messages& msg_;
  size_t pos_ = 0;
};

// ------------------------------------------------------------ the walk

struct ScriptInfo {
  int weight = 0;
  std::string file;
  int line = 0;
};

class Importer : importer::ConfWalk {
 public:
  Importer(const std::string& path, Messages& msg) : ConfWalk("vrrpd", msg), path_(path) {}

  std::string run(const std::vector<Statement>& top) {
    for (const auto& s : top) {
      if (s.name == "global_defs" && s.block) {
        global(s);
      } else if (s.name == "vrrp_script" && s.block) {
        script(s);
      } else if (s.name == "vrrp_instance" && s.block) {
        pending_instances_.push_back(&s);
      } else if (s.name == "vrrp_sync_group" && s.block) {
        syncGroup(s);
      } else if (s.name == "virtual_server" || s.name == "virtual_server_group") {
        drop(s, "LVS load balancing is proxyd's job");
      } else {
        drop(s);
      }
    }
    // Instances last: their track_script checks need every vrrp_script, which
    // keepalived.conf may define after the instance.
    for (const Statement* s : pending_instances_) instance(*s);
    return checkedRender();
  }

 private:
  // keepalived's boolean keywords: alone means on; a value may follow.
  void flag(Section& sec, const Statement& s, const std::string& key) {
    if (s.args.empty()) {
      put(sec, s, key, "yes");
      return;
    }
    static const std::set<std::string> kWords = {"on", "off", "yes", "no", "true", "false"};
    if (s.args.size() == 1 && kWords.count(s.arg(0))) {
      put(sec, s, key, s.arg(0));
      return;
    }
    expect(s, 0, 0, "");
  }

  // A command line: keepalived takes the (usually quoted) words as written.
  void command(Section& sec, const Statement& s, const std::string& key) {
    if (s.args.empty()) {
      expect(s, 1, 1, "\"COMMAND\"");
      return;
    }
    put(sec, s, key, s.joined());
  }

  // keepalived's `USER [[:]GROUP]` (also `USER :` and `USER : GROUP`):
  // "USER [GROUP]" for vrrpd.ini, the ':' (supplementary groups) dropped with
  // a warning. Empty when the words are not that shape.
  std::string runAs(const Statement& s, size_t from) {
    std::vector<std::string> words(s.args.begin() + static_cast<long>(from), s.args.end());
    if (words.empty() || words.size() > 3) return "";
    std::string user = words[0], group;
    bool colon = false;
    for (size_t i = 1; i < words.size(); ++i) {
      std::string w = words[i];
      if (!w.empty() && w[0] == ':' && i == 1) {
        colon = true;
        w = w.substr(1);
      }
      if (w.empty()) continue;
      if (!group.empty()) return "";
      group = w;
    }
    if (user.empty() || user[0] == ':') return "";
    if (colon) {
      msg_.warning(s.file, s.line,
                   fmt::format("{}: \":\" (the user's supplementary groups) is not supported by "
                               "vrrpd: dropped (scripts run with no supplementary groups)",
                               s.name));
    }
    return group.empty() ? user : user + " " + group;
  }

  // keepalived's `notify_STATE SCRIPT [username [[:]groupname]]`: the
  // script is the first word (quoted when it has arguments); the words after
  // it are who runs it, carried as notify_STATE_user.
  void notifyCommand(Section& sec, const Statement& s, const std::string& key) {
    if (s.args.empty() || s.block) {
      expect(s, 1, 1, "\"COMMAND\" [USER [GROUP]]");
      return;
    }
    std::string as;
    if (s.args.size() > 1) {
      as = runAs(s, 1);
      if (as.empty()) {
        expect(s, 9, 9, "\"COMMAND\" [USER [GROUP]]");
        return;
      }
    }
    put(sec, s, key, s.arg(0));
    if (!as.empty()) put(sec, s, key + "_user", as);
  }

  // ------------------------------------------------------------ sections

  void global(const Statement& g) {
    for (const auto& s : g.children) {
      const std::string& n = s.name;
      if (n == "router_id" || n == "vrrp_version" || n == "vrrp_garp_interval" ||
          n == "vrrp_gna_interval") {
        if (expect(s, 1, 1, "VALUE")) put(global_, s, n, s.arg(0));
      } else if (n == "vrrp_skip_check_adv_addr" || n == "enable_script_security" ||
                 n == "vrrp_check_unicast_src") {
        flag(global_, s, n);
      } else if (n == "script_user") {
        user(global_, s);
      } else if (n == "vrrp_strict") {
        drop(s,
             "vrrpd does not enforce RFC-strict mode; without it keepalived would also accept "
             "this configuration");
      } else if (n == "notify_fifo" || n == "vrrp_notify_fifo") {
        drop(s, "use the notify scripts");
      } else if (n.rfind("notification_email", 0) == 0 || n.rfind("smtp_", 0) == 0) {
        drop(s, "vrrpd sends no mail: use a notify script");
      } else {
        drop(s);
      }
    }
    global_origin_ = fmt::format("{}:{}", g.file, g.line);
    global_.file = g.file;
    global_.line = g.line;
    have_global_ = true;
  }

  // A named block's section ("vrrp_script NAME { ... }"), or nullopt with a
  // warning when the block has no single name or `seen` has that name.
  std::optional<Section> namedBlock(const Statement& b, std::set<std::string>* seen = nullptr) {
    if (b.args.size() != 1) {
      msg_.warning(b.file, b.line,
                   fmt::format("{0}: expected \"{0} NAME {{ ... }}\": dropped", b.name));
      return std::nullopt;
    }
    const std::string name = b.arg(0);
    if (seen && !seen->insert(name).second) {
      msg_.warning(b.file, b.line,
                   fmt::format("{} {}: defined again: the first one is kept", b.name, name));
      return std::nullopt;
    }
    return Section{b.name + " " + name, b.where(), {}, b.file, b.line};
  }

  // keepalived's `user USER [[:]GROUP]` keywords, as "USER [GROUP]".
  void user(Section& sec, const Statement& s) {
    std::string as = runAs(s, 0);
    if (as.empty()) {
      expect(s, 9, 9, "USER [GROUP]");
      return;
    }
    put(sec, s, s.name, as);
  }

  void script(const Statement& b) {
    std::optional<Section> block = namedBlock(b, &script_names_);
    if (!block) return;
    Section& sec = *block;
    const std::string name = b.arg(0);
    ScriptInfo info{0, b.file, b.line};
    for (const auto& s : b.children) {
      const std::string& n = s.name;
      if (n == "script") {
        command(sec, s, n);
      } else if (n == "interval" || n == "timeout" || n == "fall" || n == "rise") {
        if (expect(s, 1, 1, "NUMBER")) put(sec, s, n, s.arg(0));
      } else if (n == "weight") {
        if (!expect(s, 1, 2, "N [reverse]")) continue;
        if (s.args.size() == 2 && s.arg(1) != "reverse") {
          expect(s, 9, 9, "N [reverse]");
          continue;
        }
        try {
          info.weight = std::stoi(s.arg(0));
        } catch (...) {
          info.weight = 0;
        }
        info.line = s.line;
        info.file = s.file;
        put(sec, s, n, s.joined());
      } else if (n == "init_fail") {
        flag(sec, s, n);
      } else if (n == "user") {
        user(sec, s);
      } else {
        drop(s);
      }
    }
    scripts_[name] = info;
    sections_.push_back(std::move(*block));
  }

  // What an instance's keywords say that keepalived warns about once the
  // whole block is read.
  struct InstanceFacts {
    bool master = false;
    const Statement* nopreempt = nullptr;
    struct Track {
      std::string name;
      std::optional<int> weight;
      std::string file;
      int line;
    };
    std::vector<Track> tracks;
  };

  void instance(const Statement& b) {
    std::optional<Section> sec = namedBlock(b, &instances_);
    if (!sec) return;
    InstanceFacts facts;
    for (const auto& s : b.children) instanceKeyword(*sec, s, facts);
    // keepalived's own warning, repeated (vrrp_complete_instance()).
    if (facts.master && facts.nopreempt) {
      msg_.warning(facts.nopreempt->file, facts.nopreempt->line,
                   "nopreempt: has no effect with \"state MASTER\": keepalived clears it (and so "
                   "does vrrpd): this node takes the VIP back whenever it returns with the "
                   "highest priority; for nopreempt to work, use \"state BACKUP\" on every node");
    }
    if (facts.nopreempt) warnTracksUnderNopreempt(facts.tracks);
    sections_.push_back(std::move(*sec));
  }

  void instanceKeyword(Section& sec, const Statement& s, InstanceFacts& facts) {
    const std::string& n = s.name;
    if (n == "state") {
      if (!expect(s, 1, 1, "MASTER|BACKUP")) return;
      std::string v = s.arg(0);
      std::transform(v.begin(), v.end(), v.begin(), ::toupper);
      facts.master = v == "MASTER";
      put(sec, s, n, s.arg(0));
    } else if (n == "interface" || n == "virtual_router_id" || n == "priority" ||
               n == "advert_int" || n == "preempt_delay" || n == "mcast_src_ip" ||
               n == "unicast_src_ip" || n == "version" || n == "garp_master_delay" ||
               n == "garp_master_repeat" || n == "garp_master_refresh" ||
               n == "garp_master_refresh_repeat") {
      if (expect(s, 1, 1, "VALUE")) put(sec, s, n, s.arg(0));
    } else if (n == "nopreempt") {
      facts.nopreempt = &s;
      flag(sec, s, n);
    } else if (n == "preempt") {
      // keepalived's default: nothing to write.
    } else if (n == "unicast_peer" && s.block) {
      unicastPeers(sec, s);
    } else if (n == "authentication" && s.block) {
      authentication(sec, s);
    } else if (n == "virtual_ipaddress" && s.block) {
      for (const auto& v : s.children) vip(sec, v);
    } else if (n == "track_script" && s.block) {
      for (const auto& t : s.children) {
        TrackRef ref = trackRef(t);
        if (!ref.ok) continue;
        facts.tracks.push_back({t.name, ref.weight, t.file, t.line});
        put(sec, t, "track_script", ref.value);
      }
    } else if (n == "track_interface" && s.block) {
      for (const auto& t : s.children) {
        TrackRef ref = trackRef(t);
        if (ref.ok) put(sec, t, "track_interface", ref.value);
      }
    } else if (n == "notify_master" || n == "notify_backup" || n == "notify_fault" ||
               n == "notify_stop" || n == "notify") {
      notifyCommand(sec, s, n);
    } else if (n == "virtual_ipaddress_excluded") {
      drop(s, "put those addresses in virtual_ipaddress, or in an instance of their own");
    } else {
      drop(s);
    }
  }

  void unicastPeers(Section& sec, const Statement& block) {
    for (const auto& p : block.children) {
      for (const auto& extra : p.args) {
        msg_.warning(p.file, p.line,
                     fmt::format("unicast_peer {}: parameter \"{}\" is not supported by "
                                 "vrrpd: dropped",
                                 p.name, extra));
      }
      put(sec, p, "unicast_peer", p.name);
    }
  }

  void authentication(Section& sec, const Statement& block) {
    for (const auto& a : block.children) {
      if ((a.name == "auth_type" || a.name == "auth_pass") && expect(a, 1, 1, "VALUE")) {
        if (a.name == "auth_pass" && a.arg(0).size() > 8) {
          msg_.warning(a.file, a.line,
                       fmt::format("auth_pass: \"{}\" is longer than 8 bytes: keepalived "
                                   "truncates it to \"{}\" (VRRP carries 8 bytes), and so "
                                   "does vrrpd; kept as written",
                                   a.arg(0), a.arg(0).substr(0, 8)));
        }
        put(sec, a, a.name, a.arg(0));
      } else if (a.name != "auth_type" && a.name != "auth_pass") {
        drop(a);
      }
    }
  }

  // The seed's trap: with nopreempt, a track weight can never move the VIP.
  void warnTracksUnderNopreempt(const std::vector<InstanceFacts::Track>& tracks) {
    for (const auto& t : tracks) {
      auto it = scripts_.find(t.name);
      if (it == scripts_.end()) {
        msg_.warning(t.file, t.line,
                     fmt::format("track_script {}: no vrrp_script of that name (keepalived "
                                 "ignores it; vrrpd refuses it)",
                                 t.name));
        continue;
      }
      int weight = t.weight.value_or(it->second.weight);
      if (weight == 0) continue;
      msg_.warning(
          t.file, t.line,
          fmt::format("track_script {}: weight {} (vrrp_script at {}:{}) can never move the "
                      "VIP with nopreempt: a BACKUP with nopreempt never takes over from a live "
                      "MASTER whatever the priorities (in the seed, 100 - 2 = 98 is still above "
                      "the next node's 80 anyway), which is why the seed's check_nginx.sh "
                      "stops keepalived instead; use \"weight = 0\" in [vrrp_script {}] so that a "
                      "failing check puts this node in FAULT, it gives the VIP up, and it "
                      "comes back as BACKUP once the check passes",
                      t.name, weight, it->second.file, it->second.line, t.name));
    }
  }

  struct TrackRef {
    bool ok = false;
    std::optional<int> weight;
    std::string value;  // "NAME" or "NAME weight=N", as vrrpd.ini writes it
  };

  // keepalived's "NAME [weight N]" in track_script / track_interface.
  TrackRef trackRef(const Statement& t) {
    TrackRef ref;
    ref.value = t.name;
    if (t.args.empty()) {
      ref.ok = true;
      return ref;
    }
    if (t.args.size() == 2 && t.arg(0) == "weight") {
      try {
        size_t used = 0;
        int w = std::stoi(t.arg(1), &used);
        if (used == t.arg(1).size() && (w > 253 || w < -253)) {
          // keepalived: "weight for chk cannot be +/-254. Setting to +/-253".
          int bound = w > 0 ? 253 : -253;
          msg_.warning(t.file, t.line,
                       fmt::format("{}: weight {} is outside -253..253: keepalived sets it to {}, "
                                   "and so does the import",
                                   t.name, w, bound));
          w = bound;
        }
        if (used == t.arg(1).size()) {
          ref.ok = true;
          ref.weight = w;
          ref.value = fmt::format("{} weight={}", t.name, w);
          return ref;
        }
      } catch (...) {
      }
    }
    msg_.warning(t.file, t.line,
                 fmt::format("{}: expected \"{} [weight N]\": dropped", t.name, t.name));
    return ref;
  }

  // IP[/len] [dev IF] [label L] [scope S], keeping what vrrpd takes.
  void vip(Section& sec, const Statement& v) {
    std::string value = v.name;
    static const std::set<std::string> kKept = {"dev", "label", "scope"};
    for (size_t i = 0; i < v.args.size(); ++i) {
      const std::string& w = v.args[i];
      bool has_value = i + 1 < v.args.size();
      if (kKept.count(w) && has_value) {
        value += " " + w + " " + v.args[i + 1];
        ++i;
        continue;
      }
      bool takes_value = w == "brd" || w == "broadcast" || w == "peer" || w == "preferred_lft";
      msg_.warning(v.file, v.line,
                   fmt::format("virtual_ipaddress {}: \"{}{}\" is not supported by vrrpd: "
                               "dropped",
                               v.name, w, takes_value && has_value ? " " + v.args[i + 1] : ""));
      if (takes_value && has_value) ++i;
    }
    put(sec, v, "virtual_ipaddress", value);
  }

  void syncGroup(const Statement& b) {
    std::optional<Section> block = namedBlock(b);
    if (!block) return;
    Section& sec = *block;
    for (const auto& s : b.children) {
      if (s.name == "group" && s.block) {
        for (const auto& m : s.children) {
          std::string names = m.name;
          for (const auto& a : m.args) names += " " + a;
          put(sec, m, "group", names);
        }
      } else if (s.name == "notify_master" || s.name == "notify_backup" ||
                 s.name == "notify_fault" || s.name == "notify") {
        notifyCommand(sec, s, s.name);
      } else {
        drop(s);
      }
    }
    sync_sections_.push_back(std::move(*block));
  }

  // The output goes through vrrpd's own loader, so that what it refuses (a
  // value out of range, which keepalived ignores with a message, a reference
  // to something dropped) is a warning at the keepalived.conf line and left
  // out, never a vrrpd.ini that does not start.
  std::string checkedRender() {
    importer::DaemonCheck check{"vrrpd", "vrrpd.ini",
                                [&](const std::string& ini, common::Diagnostics& diag) {
                                  parseVrrpConfig(ini, path_ + " (imported)", diag);
                                }};
    auto sections = [&] {
      std::vector<Section*> out;
      if (have_global_ && !global_.entries.empty()) {
        global_.header = "global";
        global_.origin = global_origin_;
        out.push_back(&global_);
      }
      for (auto& s : sections_) out.push_back(&s);
      for (auto& s : sync_sections_) out.push_back(&s);
      return out;
    };
    return importer::vetThroughLoader(
        {fmt::format("vrrpd.ini imported from {} by vrrpd --import-keepalived", path_)}, sections,
        check, msg_);
  }

  std::string path_;
  Section global_;
  std::string global_origin_;
  bool have_global_ = false;
  std::vector<Section> sections_;  // scripts, then instances
  std::vector<Section> sync_sections_;
  std::map<std::string, ScriptInfo> scripts_;
  std::set<std::string> script_names_;
  std::set<std::string> instances_;
  std::vector<const Statement*> pending_instances_;
};

}  // namespace

ImportResult importKeepalived(const std::string& path) {
  Messages msg;
  std::vector<Lex> lexes;
  std::vector<Statement> top;
  Reader reader(msg);
  std::string ini;
  if (reader.lexFile(path, lexes, 0, nullptr) && Parser(lexes, msg).parse(top)) {
    ini = Importer(path, msg).run(top);
  }
  return importer::importResultOf(std::move(ini), msg);
}

}  // namespace vrrpd
