// vrrpd --import-keepalived. A reader turns keepalived.conf (and its
// includes) into a tree of statements, each keeping FILE:LINE, with
// keepalived's rules (keepalived/core/parser.c): one keyword and its
// arguments a line, "{ }" blocks, "#" and "!" comments anywhere outside a
// quoted string, "include" relative to the including file's directory. A walk
// over the tree then writes vrrpd.ini.
#include "import/keepalived/keepalived_import.h"
#include "common/config_text.h"
#include "common/ini_file.h"
#include "vrrpd/core/config.h"

#include <glob.h>

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <fstream>
#include <map>
#include <optional>
#include <regex>
#include <set>
#include <sstream>
#include <string_view>
#include <tuple>

namespace vrrpd {

using common::directoryOf;

namespace {

using Messages = common::Diagnostics;

// ------------------------------------------------------------ the reader

struct Lex {
  enum Kind { word, open, close, eol };
  Kind kind;
  std::string text;
  std::string file;
  int line = 0;
};

struct Statement {
  std::string name;
  std::vector<std::string> args;
  std::string file;
  int line = 0;
  bool block = false;
  int close_line = 0;
  std::vector<Statement> children;

  std::string arg(size_t i) const { return i < args.size() ? args[i] : std::string(); }
  std::string joined(size_t from = 0) const {
    std::string v;
    for (size_t i = from; i < args.size(); ++i) v += (v.empty() ? "" : " ") + args[i];
    return v;
  }
};

bool isSpace(char c) {
  return std::isspace(static_cast<unsigned char>(c)) != 0;
}

class Reader {
 public:
  explicit Reader(Messages& msg) : msg_(msg) {}

  // Appends the file's lexemes (includes expanded in place) to `out`.
  bool lexFile(const std::string& path, std::vector<Lex>& out, int depth, const Lex* from) {
    std::ifstream in(path, std::ios::binary);
    std::ostringstream text;
    if (in) text << in.rdbuf();
    if (!in || in.bad()) {
      if (from) {
        msg_.error(from->file, from->line, fmt::format("include: cannot read \"{}\"", path));
      } else {
        msg_.error(path, 0, "cannot read the file");
      }
      return false;
    }
    std::string content = text.str();
    std::string_view rest = content;
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
    if (depth >= 16) {
      msg_.error(at.file, at.line, "include: nested more than 16 deep (an include loop?)");
      return false;
    }
    std::string pattern = name;
    if (!pattern.empty() && pattern[0] != '/') pattern = directoryOf(at.file) + "/" + pattern;
    glob_t g{};
    int rc = ::glob(pattern.c_str(), GLOB_BRACE, nullptr, &g);
    std::vector<std::string> files;
    if (rc == 0) {
      for (size_t i = 0; i < g.gl_pathc; ++i) files.emplace_back(g.gl_pathv[i]);
    }
    ::globfree(&g);
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
        owner->close_line = x.line;
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

// ------------------------------------------------------------ INI writing

struct Entry {
  std::string key;
  std::string value;
  std::string file;  // the keepalived statement it came from
  int line = 0;
};

struct Section {
  std::string header;
  std::string origin;
  std::vector<Entry> entries;
  std::string file;  // the block of `origin`
  int line = 0;
  bool dropped = false;  // refused by vrrpd's loader as a whole
};

// Where each line of the rendered vrrpd.ini came from.
struct RenderedLine {
  Section* section = nullptr;
  int entry = -1;  // index in section->entries, -1: the header or a comment
};

constexpr size_t kLineTarget = 190;  // libinih reads at most 199 characters

// Why vrrpd's INI reader could not give the value back as written, or empty.
std::string unrepresentable(const std::string& v) {
  if (v.empty()) return "it is empty";
  if (isSpace(v.front()) || isSpace(v.back())) return "it begins or ends with white space";
  for (size_t i = 1; i < v.size(); ++i) {
    if (v[i] == ';' && isSpace(v[i - 1])) return "\" ;\" would start an INI comment";
  }
  return {};
}

// "key = value", continued on indented lines when long: the reader joins the
// pieces with one space, so cut only at a single space between two other
// characters, never before a comment character.
void writeEntry(std::string& out, const Entry& e) {
  const std::string& v = e.value;
  std::string lead = e.key + " = ";
  auto canCut = [&](size_t i) {
    return i > 0 && i + 1 < v.size() && v[i] == ' ' && !isSpace(v[i - 1]) && !isSpace(v[i + 1]) &&
           v[i + 1] != ';' && v[i + 1] != '#';
  };
  size_t start = 0;
  while (lead.size() + v.size() - start > kLineTarget) {
    size_t room = kLineTarget - lead.size();
    size_t cut = std::string::npos;
    for (size_t i = start + 1; i < v.size() && i - start <= room; ++i) {
      if (canCut(i)) cut = i;
    }
    for (size_t i = start + room; cut == std::string::npos && i < v.size(); ++i) {
      if (canCut(i)) cut = i;
    }
    if (cut == std::string::npos) break;
    out += lead + v.substr(start, cut - start) + "\n";
    start = cut + 1;
    lead = "    ";
  }
  out += lead + v.substr(start) + "\n";
}

// ------------------------------------------------------------ the walk

struct ScriptInfo {
  int weight = 0;
  std::string file;
  int line = 0;
};

class Importer {
 public:
  Importer(const std::string& path, Messages& msg) : path_(path), msg_(msg) {}

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
  void drop(const Statement& s, const std::string& why = {}) {
    msg_.warning(s.file, s.line,
                 fmt::format("{} is not supported by vrrpd: dropped{}", s.name,
                             why.empty() ? "" : " (" + why + ")"));
  }

  bool expect(const Statement& s, size_t min, size_t max, const char* form) {
    if (s.args.size() < min || s.args.size() > max || s.block) {
      msg_.warning(s.file, s.line,
                   fmt::format("{}: expected \"{} {}\": dropped", s.name, s.name, form));
      return false;
    }
    return true;
  }

  void put(Section& sec, const Statement& s, const std::string& key, const std::string& value) {
    std::string why = unrepresentable(value);
    if (!why.empty()) {
      msg_.warning(
          s.file, s.line,
          fmt::format("{}: the value cannot be written to vrrpd.ini ({}): dropped", s.name, why));
      return;
    }
    sec.entries.push_back({key, value, s.file, s.line});
  }

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
        std::string as = runAs(s, 0);
        if (as.empty()) {
          expect(s, 9, 9, "USER [GROUP]");
          continue;
        }
        put(global_, s, n, as);
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

  void script(const Statement& b) {
    if (b.args.size() != 1) {
      msg_.warning(b.file, b.line, "vrrp_script: expected \"vrrp_script NAME { ... }\": dropped");
      return;
    }
    const std::string name = b.arg(0);
    if (scripts_.count(name)) {
      msg_.warning(b.file, b.line,
                   fmt::format("vrrp_script {}: defined again: the first one is kept", name));
      return;
    }
    Section sec{"vrrp_script " + name, fmt::format("{}:{}", b.file, b.line), {}, b.file, b.line};
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
        std::string as = runAs(s, 0);
        if (as.empty()) {
          expect(s, 9, 9, "USER [GROUP]");
          continue;
        }
        put(sec, s, n, as);
      } else {
        drop(s);
      }
    }
    scripts_[name] = info;
    sections_.push_back(std::move(sec));
  }

  void instance(const Statement& b) {
    if (b.args.size() != 1) {
      msg_.warning(b.file, b.line,
                   "vrrp_instance: expected \"vrrp_instance NAME { ... }\": dropped");
      return;
    }
    const std::string name = b.arg(0);
    if (!instances_.insert(name).second) {
      msg_.warning(b.file, b.line,
                   fmt::format("vrrp_instance {}: defined again: the first one is kept", name));
      return;
    }
    Section sec{"vrrp_instance " + name, fmt::format("{}:{}", b.file, b.line), {}, b.file, b.line};
    bool master = false;
    const Statement* nopreempt = nullptr;
    struct Track {
      std::string name;
      std::optional<int> weight;
      std::string file;
      int line;
    };
    std::vector<Track> tracks;
    for (const auto& s : b.children) {
      const std::string& n = s.name;
      if (n == "state") {
        if (!expect(s, 1, 1, "MASTER|BACKUP")) continue;
        std::string v = s.arg(0);
        std::transform(v.begin(), v.end(), v.begin(), ::toupper);
        master = v == "MASTER";
        put(sec, s, n, s.arg(0));
      } else if (n == "interface" || n == "virtual_router_id" || n == "priority" ||
                 n == "advert_int" || n == "preempt_delay" || n == "mcast_src_ip" ||
                 n == "unicast_src_ip" || n == "version" || n == "garp_master_delay" ||
                 n == "garp_master_repeat" || n == "garp_master_refresh" ||
                 n == "garp_master_refresh_repeat") {
        if (expect(s, 1, 1, "VALUE")) put(sec, s, n, s.arg(0));
      } else if (n == "nopreempt") {
        nopreempt = &s;
        flag(sec, s, n);
      } else if (n == "preempt") {
        // keepalived's default: nothing to write.
      } else if (n == "unicast_peer" && s.block) {
        for (const auto& p : s.children) {
          for (const auto& extra : p.args) {
            msg_.warning(p.file, p.line,
                         fmt::format("unicast_peer {}: parameter \"{}\" is not supported by "
                                     "vrrpd: dropped",
                                     p.name, extra));
          }
          put(sec, p, "unicast_peer", p.name);
        }
      } else if (n == "authentication" && s.block) {
        for (const auto& a : s.children) {
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
      } else if (n == "virtual_ipaddress" && s.block) {
        for (const auto& v : s.children) vip(sec, v);
      } else if (n == "track_script" && s.block) {
        for (const auto& t : s.children) {
          TrackRef ref = trackRef(t);
          if (!ref.ok) continue;
          tracks.push_back({t.name, ref.weight, t.file, t.line});
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
    // keepalived's own warning, repeated (vrrp_complete_instance()).
    if (master && nopreempt) {
      msg_.warning(nopreempt->file, nopreempt->line,
                   "nopreempt: has no effect with \"state MASTER\": keepalived clears it (and so "
                   "does vrrpd): this node takes the VIP back whenever it returns with the "
                   "highest priority; for nopreempt to work, use \"state BACKUP\" on every node");
    }
    // The seed's trap.
    if (nopreempt) {
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
            fmt::format(
                "track_script {}: weight {} (vrrp_script at {}:{}) can never move the "
                "VIP with nopreempt: a BACKUP with nopreempt never takes over from a live "
                "MASTER whatever the priorities (in the seed, 100 - 2 = 98 is still above "
                "the next node's 80 anyway), which is why the seed's check_nginx.sh "
                "stops keepalived instead; use \"weight = 0\" in [vrrp_script {}] so that a "
                "failing check puts this node in FAULT, it gives the VIP up, and it "
                "comes back as BACKUP once the check passes",
                t.name, weight, it->second.file, it->second.line, t.name));
      }
    }
    sections_.push_back(std::move(sec));
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
    if (b.args.size() != 1) {
      msg_.warning(b.file, b.line,
                   "vrrp_sync_group: expected \"vrrp_sync_group NAME { ... }\": dropped");
      return;
    }
    Section sec{
        "vrrp_sync_group " + b.arg(0), fmt::format("{}:{}", b.file, b.line), {}, b.file, b.line};
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
    sync_sections_.push_back(std::move(sec));
  }

  // The output goes through vrrpd's own loader, so that what it refuses (a
  // value out of range, which keepalived ignores with a message, a reference
  // to something dropped) is a warning at the keepalived.conf line and left
  // out, never a vrrpd.ini that does not start. Each round drops what the
  // loader refused, until it accepts.
  std::string checkedRender() {
    for (;;) {
      std::vector<RenderedLine> lines;
      std::string ini = render(&lines);
      common::Diagnostics diag;
      parseVrrpConfig(ini, path_ + " (imported)", diag);
      // "(line 13)" names a line of the vrrpd.ini: say the keepalived one.
      auto origin = [&](int line) -> std::string {
        if (line <= 0 || static_cast<size_t>(line) > lines.size()) return {};
        const RenderedLine& at = lines[line - 1];
        if (!at.section) return {};
        if (at.entry >= 0 && at.section->entries[at.entry].line) {
          const Entry& e = at.section->entries[at.entry];
          return fmt::format("{}:{}", e.file, e.line);
        }
        return at.section->origin;
      };
      auto translate = [&](std::string message) {
        static const std::regex kLine("line ([0-9]+)");
        std::smatch m;
        if (std::regex_search(message, m, kLine)) {
          std::string where = origin(std::stoi(m[1].str()));
          if (!where.empty()) message.replace(m.position(0), m.length(0), where);
        }
        return message;
      };
      std::map<Section*, std::set<int, std::greater<int>>> drop_entries;
      std::set<Section*> drop_sections;
      for (const common::Diagnostic& dg : diag.items()) {
        if (dg.severity != common::Severity::error) continue;
        if (dg.line <= 0 || static_cast<size_t>(dg.line) > lines.size()) continue;
        const RenderedLine& at = lines[dg.line - 1];
        if (at.section == nullptr) continue;
        if (at.entry >= 0) {
          const Entry& e = at.section->entries[at.entry];
          msg_.warning(
              e.file.empty() ? at.section->file : e.file, e.line ? e.line : at.section->line,
              fmt::format("{} (vrrpd -t would refuse it): dropped", translate(dg.message)));
          drop_entries[at.section].insert(at.entry);
        } else if (drop_sections.insert(at.section).second) {
          msg_.warning(at.section->file, at.section->line,
                       fmt::format("{} (vrrpd -t would refuse it): [{}] is dropped",
                                   translate(dg.message), at.section->header));
        }
      }
      if (drop_entries.empty() && drop_sections.empty()) return ini;
      for (auto& [section, indexes] : drop_entries) {
        for (int i : indexes) section->entries.erase(section->entries.begin() + i);
      }
      for (Section* section : drop_sections) section->dropped = true;
    }
  }

  std::string render(std::vector<RenderedLine>* lines = nullptr) {
    std::string out;
    auto mark = [&](Section* s, int entry) {
      if (!lines) return;
      size_t n = static_cast<size_t>(std::count(out.begin(), out.end(), '\n'));
      while (lines->size() < n) lines->push_back({s, entry});
    };
    out += fmt::format("; vrrpd.ini imported from {} by vrrpd --import-keepalived\n", path_);
    auto section = [&](Section& s) {
      if (s.dropped) return;
      mark(nullptr, -1);
      out += "\n";
      std::string origin = "; from " + s.origin;
      if (origin.size() <= kLineTarget) out += origin + "\n";
      out += "[" + s.header + "]\n";
      mark(&s, -1);
      for (size_t i = 0; i < s.entries.size(); ++i) {
        writeEntry(out, s.entries[i]);
        mark(&s, static_cast<int>(i));
      }
    };
    if (have_global_ && !global_.entries.empty()) {
      global_.header = "global";
      global_.origin = global_origin_;
      section(global_);
    }
    for (auto& s : sections_) section(s);
    for (auto& s : sync_sections_) section(s);
    return out;
  }

  std::string path_;
  Messages& msg_;
  Section global_;
  std::string global_origin_;
  bool have_global_ = false;
  std::vector<Section> sections_;  // scripts, then instances
  std::vector<Section> sync_sections_;
  std::map<std::string, ScriptInfo> scripts_;
  std::set<std::string> instances_;
  std::vector<const Statement*> pending_instances_;
};

}  // namespace

ImportResult importKeepalived(const std::string& path) {
  ImportResult result;
  Messages msg;
  std::vector<Lex> lexes;
  std::vector<Statement> top;
  Reader reader(msg);
  if (reader.lexFile(path, lexes, 0, nullptr) && Parser(lexes, msg).parse(top)) {
    result.ini = Importer(path, msg).run(top);
  }
  result.warnings = msg.formattedInSourceOrder();
  result.ok = !msg.hasErrors();
  return result;
}

}  // namespace vrrpd
