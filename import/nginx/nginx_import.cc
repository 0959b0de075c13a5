// proxyd --import-nginx. Two halves: a reader that turns nginx.conf (and its
// includes) into a tree of directives, each keeping FILE:LINE, with nginx's
// own tokenizing rules (ngx_conf_read_token in src/core/ngx_conf_file.c); and
// a walk over that tree that writes proxyd.ini and names, with FILE:LINE,
// everything proxyd cannot carry.
#include "import/nginx/nginx_import.h"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <map>
#include <optional>
#include <set>
#include <string_view>

#include "common/address.h"
#include "common/conf_include.h"
#include "common/config_text.h"
#include "common/duration.h"
#include "common/ini_file.h"
#include "common/log.h"
#include "common/nginx_conf_lexer.h"
#include "import/conf_walk.h"
#include "import/imported_ini.h"
#include "import/nginx/limits_import.h"
#include "import/nginx/nginx_import_tls.h"
#include "proxyd/core/config.h"
#include "proxyd/core/listen.h"
#include "proxyd/core/log_format.h"
#include "proxyd/core/map_variable.h"
#include "proxyd/core/resolver_spec.h"
#include "proxyd/core/value_limits.h"
#include "proxyd/core/variable_table.h"

namespace proxyd {

using common::directoryOf;

namespace {

// ------------------------------------------------------------ diagnostics

using Messages = common::Diagnostics;
using Directive = importer::ConfStatement;

// ------------------------------------------------------------ the reader

using common::NginxLexer;
using Lexer = NginxLexer;
using Token = common::NginxToken;

bool hasWildcard(const std::string& s) {
  return s.find_first_of("*?[") != std::string::npos;
}

class ConfReader {
 public:
  ConfReader(std::string prefix, Messages& msg) : prefix_(std::move(prefix)), msg_(msg) {}

  // `from`: the include directive that names the file (none for the main file).
  bool readFile(const std::string& path, std::vector<Directive>& out, bool in_http, int depth,
                const Directive* from) {
    std::optional<std::string> content = common::readConfFile(path);
    if (!content) {
      if (from == nullptr) {
        msg_.error(path, 0, "cannot read the file");
        return false;
      }
      if (in_http) {
        // nginx would refuse to start; the http block is dropped anyway.
        msg_.warning(from->file, from->line,
                     fmt::format("include {}: cannot read \"{}\": skipped (inside http, which "
                                 "proxyd does not carry)",
                                 from->arg(0), path));
        return true;
      }
      msg_.error(from->file, from->line,
                 fmt::format("include {}: cannot read \"{}\"", from->arg(0), path));
      return false;
    }
    Lexer lexer(*content);
    return parseBlock(lexer, path, out, false, in_http, depth, 0);
  }

 private:
  bool parseBlock(Lexer& lexer, const std::string& file, std::vector<Directive>& out, bool nested,
                  bool in_http, int depth, int open_line, bool in_map = false) {
    std::vector<Token> words;
    auto makeDirective = [&] {
      Directive d;
      d.name = words[0].text;
      d.line = words[0].line;
      d.file = file;
      for (size_t i = 1; i < words.size(); ++i) d.args.push_back(std::move(words[i].text));
      words.clear();
      return d;
    };
    for (;;) {
      Lexer::Lexeme lx = lexer.next();
      switch (lx.kind) {
        case Lexer::Kind::word:
          words.push_back(std::move(lx.token));
          break;
        case Lexer::Kind::semicolon: {
          if (words.empty()) {
            msg_.error(file, lx.line, "unexpected \";\"");
            return false;
          }
          Directive d = makeDirective();
          if (d.name == "include" && !in_map) {
            if (!include(d, out, in_http, depth)) return false;
          } else {
            out.push_back(std::move(d));
          }
          break;
        }
        case Lexer::Kind::open: {
          if (words.empty()) {
            msg_.error(file, lx.line, "unexpected \"{\"");
            return false;
          }
          Directive d = makeDirective();
          d.block = true;
          bool child_http = in_http || d.name == "http";
          // A map's include stays a statement: proxyd.ini's [map] has an
          // include key of its own, which reads the same file.
          bool child_map = !in_http && d.name == "map";
          if (!parseBlock(lexer, file, d.children, true, child_http, depth, d.line, child_map)) {
            return false;
          }
          out.push_back(std::move(d));
          break;
        }
        case Lexer::Kind::close:
          if (!words.empty()) {
            msg_.error(file, lx.line,
                       fmt::format("unexpected \"}}\": \"{}\" on line {} is not terminated by "
                                   "\";\"",
                                   words[0].text, words[0].line));
            return false;
          }
          if (!nested) {
            msg_.error(file, lx.line, "unexpected \"}\"");
            return false;
          }
          return true;
        case Lexer::Kind::end:
          if (!words.empty()) {
            msg_.error(file, words[0].line,
                       fmt::format("unexpected end of file, expecting \";\" or \"}}\" after "
                                   "\"{}\"",
                                   words[0].text));
            return false;
          }
          if (nested) {
            msg_.error(file, open_line,
                       "unexpected end of file, expecting \"}\" to close the block opened here");
            return false;
          }
          return true;
        case Lexer::Kind::error:
          msg_.error(file, lx.line, lx.error);
          return false;
      }
    }
  }

  // nginx's include: relative to the conf prefix (the main file's
  // directory), wildcards expanded in sorted order, no match is no error.
  bool include(const Directive& d, std::vector<Directive>& out, bool in_http, int depth) {
    if (d.args.size() != 1) {
      msg_.error(d.file, d.line, "include: expected one file name or pattern");
      return false;
    }
    if (!common::includeDepthAllowed(depth, d.file, d.line, msg_)) return false;
    std::string pattern = common::includePath(d.arg(0), prefix_);
    std::vector<std::string> files = {pattern};
    if (hasWildcard(pattern)) {
      auto matched = common::matchingFiles(pattern, 0);
      if (!matched) {
        msg_.error(d.file, d.line,
                   fmt::format("include {}: cannot expand \"{}\"", d.arg(0), pattern));
        return false;
      }
      files = std::move(*matched);
    }
    for (const auto& f : files) {
      if (!readFile(f, out, in_http, depth + 1, &d)) return false;
    }
    return true;
  }

  std::string prefix_;
  Messages& msg_;
};

// ------------------------------------------------------------ INI writing

using Entry = importer::ImportedEntry;
using Section = importer::ImportedSection;

Entry entryFrom(const std::string& key, const std::string& value, const std::string& file,
                int line) {
  return Entry{key, value, file, line};
}

// ------------------------------------------------------------ the walk

// Stream directives that nginx inherits from `stream { }` into each server.
const std::vector<std::string> kServerKeys = {
    "proxy_connect_timeout",
    "proxy_timeout",
    "proxy_buffer_size",
    "proxy_half_close",
    "proxy_next_upstream",
    "proxy_next_upstream_tries",
    "proxy_next_upstream_timeout",
    "ssl_preread",
    "preread_buffer_size",
    "preread_timeout",
    "limit_conn_log_level",
    "limit_conn_dry_run",
    "proxy_upload_rate",
    "proxy_download_rate",
    "proxy_protocol_timeout",
    "proxy_protocol",
    "tcp_nodelay",
    "proxy_socket_keepalive",
    "proxy_bind",
    "resolver",
    "resolver_timeout",
    "proxy_requests",
    "proxy_responses",
};

// One access_log as carried, with the format it names (checked once the
// whole stream block is read).
struct AccessLogEntry {
  Entry entry;
  std::string format;  // empty for `off`
};

struct ServerSettings {
  std::map<std::string, Entry> keys;              // kServerKeys
  std::vector<Entry> rules;                       // allow / deny, in order
  std::vector<AccessLogEntry> access_logs;        // in order; nginx allows several
  std::vector<Entry> error_logs;                  // nginx's chain: all of them, in order
  std::vector<Entry> limit_conns;                 // limit_conn, in order
  std::vector<Entry> real_ip_from;                // set_real_ip_from, in order
  std::map<std::string, std::vector<Entry>> tls;  // ssl_*, proxy_ssl_* (nginx_import_tls.h)
};

struct PendingServer {
  std::string preferred_name;
  std::string port;
  Section section;
};

class Importer : importer::ConfWalk {
 public:
  Importer(const std::string& path, Messages& msg) : ConfWalk("proxyd", msg), path_(path) {}

  std::string run(const std::vector<Directive>& top) {
    for (const auto& d : top) topLevel(d);
    return checkedRender();
  }

 private:
  void topLevel(const Directive& d) {
    if (d.name == "worker_processes" && expect(d, 1, 1, "NUMBER|auto")) {
      if (d.arg(0) == "auto") {
        setMain(d, "worker_processes", "auto");
      } else if (auto v = carried(d, limitOf("main", d.name), d.arg(0), d.name)) {
        setMain(d, "worker_processes", *v);
      }
    } else if (d.name == "worker_rlimit_nofile" && expect(d, 1, 1, "NUMBER")) {
      if (auto v = carried(d, limitOf("main", d.name), d.arg(0), d.name)) {
        setMain(d, "worker_rlimit_nofile", *v);
      }
    } else if (d.name == "worker_shutdown_timeout" && expect(d, 1, 1, "TIME")) {
      if (auto v = carried(d, limitOf("main", d.name), d.arg(0), d.name)) {
        setMain(d, "worker_shutdown_timeout", *v);
      }
    } else if (d.name == "pid" && expect(d, 1, 1, "PATH")) {
      if (d.arg(0) == "off") return;  // no pid file: proxyd's default too
      setMain(d, "pid", d.arg(0));
    } else if (d.name == "error_log") {
      // Repeatable: every one joins the main chain, as in nginx.
      if (auto v = errorLog(d); v && writable(d, "error_log", *v)) {
        main_.entries.push_back(entryFrom("error_log", *v, d.file, d.line));
      }
    } else if (d.name == "events" && d.block) {
      for (const auto& c : d.children) {
        if (c.name == "worker_connections" && expect(c, 1, 1, "NUMBER")) {
          if (auto v = carried(c, limitOf("main", c.name), c.arg(0), c.name)) {
            setMain(c, "worker_connections", *v);
          }
        } else if (c.name != "worker_connections") {
          drop(c, "proxyd picks its own event method");
        }
      }
    } else if (d.name == "stream" && d.block) {
      stream(d);
    } else if (d.name == "http" && d.block) {
      http(d);
    } else if (d.name == "worker_processes" || d.name == "worker_rlimit_nofile" ||
               d.name == "worker_shutdown_timeout" || d.name == "pid") {
      // malformed: expectArgs said so
    } else if (d.name == "daemon" || d.name == "master_process") {
      drop(d, "proxyd always stays in the foreground");
    } else if (d.name == "user") {
      drop(d, "run proxyd as the user its systemd unit names");
    } else {
      drop(d);
    }
  }

  void setMain(const Directive& d, const std::string& key, const std::string& value) {
    if (!writable(d, key, value)) return;
    for (auto& e : main_.entries) {
      if (e.key == key) {
        msg_.warning(
            d.file, d.line,
            fmt::format("{}: given again: the first one is kept, this one is dropped", d.name));
        return;
      }
    }
    main_.entries.push_back(entryFrom(key, value, d.file, d.line));
  }

  // A number nginx took, for a key of proxyd's limits table
  // (value_limits.cc): carried as written when proxyd's range holds it, else
  // as the nearest bound, with a warning (nginx -t takes values such as
  // proxy_timeout 9000000000000000 that its own timers then wrap, and
  // proxy_buffer_size 0). nullopt, with a warning: not a number of that kind.
  std::optional<std::string> carried(const Directive& d, const common::ValueLimit& limit,
                                     const std::string& text, const std::string& what) {
    common::Fit fit = common::fitOf(limit, text);
    if (fit == common::Fit::inside) return text;
    if (fit == common::Fit::malformed) {
      msg_.warning(d.file, d.line,
                   fmt::format("{}: {}: dropped", what, common::parseLimited(limit, text).error()));
      return std::nullopt;
    }
    std::int64_t bound = fit == common::Fit::below ? limit.min : limit.max;
    std::string written = common::formatLimitValue(limit, bound);
    std::string name(limit.option.empty() ? limit.key : limit.option);
    msg_.warning(d.file, d.line,
                 fmt::format("{}{}{}: proxyd takes {} {}: written as {}", what,
                             what.back() == '=' ? "" : " ", text, name,
                             common::describeRange(limit), written));
    return written;
  }

  // error_log PATH|stderr|syslog:... [LEVEL].
  std::optional<std::string> errorLog(const Directive& d) {
    if (!expect(d, 1, 2, "PATH [LEVEL]")) return std::nullopt;
    const std::string path = d.arg(0);
    if (path.rfind("memory:", 0) == 0) {
      msg_.warning(d.file, d.line,
                   fmt::format("error_log {}: nginx's debug memory buffer is not supported by "
                               "proxyd: dropped",
                               path));
      return std::nullopt;
    }
    if (!syslogAccepted(d, path)) return std::nullopt;
    if (d.args.size() == 2 && !common::parseLogLevel(d.arg(1))) {
      msg_.warning(d.file, d.line,
                   fmt::format("error_log: invalid level \"{}\": dropped", d.arg(1)));
      return std::nullopt;
    }
    return d.joined();
  }

  // A "syslog:..." destination is carried as written when nginx takes it;
  // nginx's own complaint otherwise. Not a syslog target: true.
  bool syslogAccepted(const Directive& d, const std::string& target) {
    if (!proxyd::isSyslogTarget(target)) return true;
    auto r = proxyd::parseSyslogTarget(target);
    if (!r) msg_.warning(d.file, d.line, fmt::format("{}: {}: dropped", d.name, r.error()));
    return static_cast<bool>(r);
  }

  // ------------------------------------------------------------ stream

  void stream(const Directive& s) {
    ServerSettings defaults;
    std::vector<const Directive*> servers;
    declareVariables(s);
    declareSetVariables(s);
    for (const auto& d : s.children) {
      if (d.name == "log_format") {
        logFormat(d);
      } else if (d.name == "upstream" && d.block) {
        upstream(d);
      } else if (d.name == "map" && d.block) {
        map(d);
      } else if (d.name == "geo" && d.block) {
        geo(d);
      } else if (d.name == "split_clients" && d.block) {
        splitClients(d);
      } else if (d.name == "server" && d.block) {
        servers.push_back(&d);
      } else if (isHashSizing(d.name)) {
        // nginx's hash-table sizes: proxyd's tables have no such bound.
      } else if (d.name == "geoip_country" || d.name == "geoip_city" || d.name == "geoip_org") {
        msg_.warning(d.file, d.line,
                     fmt::format("{} is obsolete: the legacy MaxMind GeoIP databases it reads "
                                 "were discontinued in 2019; a [geo] of CIDRs does the same: "
                                 "dropped",
                                 d.name));
      } else if (d.name == "limit_conn_zone") {
        // Repeatable, and [main]'s: the zones are the process's.
        if (auto v = importer::limitConnValue(d, msg_); v && writable(d, d.name, *v)) {
          main_.entries.push_back(entryFrom(d.name, *v, d.file, d.line));
        }
      } else if (d.name == "resolver" || d.name == "resolver_timeout") {
        // Process-wide in proxyd.ini: [main]'s is every [server]'s and
        // [upstream]'s default, as stream{}'s is in nginx.
        ServerSettings main_level;
        serverSetting(d, main_level);
        if (auto it = main_level.keys.find(d.name); it != main_level.keys.end()) {
          setMain(d, d.name, it->second.value);
        }
      } else if (!serverSetting(d, defaults)) {
        drop(d);
      }
    }
    // Servers after the whole block: nginx inherits stream-level settings
    // wherever in the block they are written.
    for (const Directive* d : servers) server(*d, defaults);
  }

  static bool isHashSizing(std::string_view name) {
    for (std::string_view prefix : {"variables_hash_", "server_names_hash_", "map_hash_"}) {
      if (name.substr(0, prefix.size()) == prefix &&
          (name.substr(prefix.size()) == "max_size" ||
           name.substr(prefix.size()) == "bucket_size")) {
        return true;
      }
    }
    return false;
  }

  // Every `set $NAME` of the block's servers, before anything compiles
  // (nginx resolves variable names after the whole configuration).
  void declareSetVariables(const Directive& stream) {
    for (const auto& srv : stream.children) {
      if (srv.name != "server" || !srv.block) continue;
      for (const auto& d : srv.children) {
        if (d.name == "set" && !d.args.empty() && d.arg(0).size() > 1 && d.arg(0)[0] == '$') {
          (void)declared_.declare(std::string_view(d.arg(0)).substr(1));
        }
      }
    }
  }

  void logFormat(const Directive& d) {
    if (d.block || d.args.size() < 2) {
      msg_.warning(d.file, d.line,
                   "log_format: expected \"log_format NAME [escape=...] STRING ...\": dropped");
      return;
    }
    const std::string name = d.arg(0);
    size_t first = 1;
    std::optional<Entry> escape;
    if (d.arg(1).rfind("escape=", 0) == 0) {
      std::string how = d.arg(1).substr(7);
      if (how != "default" && how != "json" && how != "none") {
        msg_.warning(
            d.file, d.line,
            fmt::format("log_format {}: unknown log format escaping \"{}\": dropped", name, how));
        bad_formats_.insert(name);
        return;
      }
      if (how != "default") escape = entryFrom("escape", how, d.file, d.line);
      first = 2;
    }
    // nginx compiles the pieces one after the other: the format is their
    // plain concatenation, with no separator.
    Entry e = entryFrom("format", {}, d.file, d.line);
    for (size_t i = first; i < d.args.size(); ++i) {
      if (i > first) e.breaks.push_back(e.value.size());
      e.value += d.args[i];
    }
    if (log_formats_.count(name)) {
      msg_.warning(d.file, d.line,
                   fmt::format("log_format {}: defined again: the first one is kept", name));
      return;
    }
    if (!writable(d, e.key, e.value)) {
      bad_formats_.insert(name);
      return;
    }
    auto compiled = LogFormat::compile(e.value, Escape::standard, &declared_);
    if (!compiled) {
      msg_.warning(d.file, d.line,
                   fmt::format("log_format {}: {}: dropped", name, compiled.error()));
      bad_formats_.insert(name);
      return;
    }
    log_formats_.insert(name);
    Section sec{"log_format " + name, d.where(), {}, d.file, d.line};
    if (escape) sec.entries.push_back(std::move(*escape));
    sec.entries.push_back(std::move(e));
    sections_log_.push_back(std::move(sec));
  }

  // The user variables of the stream block, wherever they are made, so that
  // log formats and hash keys compile against them as proxyd's loader will:
  // map, geo and split_clients results and the named captures of map regexes.
  void declareVariables(const Directive& s) {
    for (const auto& d : s.children) {
      if (d.block && !d.args.empty() && d.args.back().size() > 1 &&
          ((d.name == "geo" && d.args.size() <= 2) ||
           (d.name == "split_clients" && d.args.size() == 2))) {
        (void)declared_.declare(d.args.back().substr(1));
      }
      if (d.name != "map" || !d.block || d.args.size() != 2 || d.arg(1).size() < 2) continue;
      (void)declared_.declare(d.arg(1).substr(1));
      for (const auto& c : d.children) {
        if (!c.name.empty() && c.name[0] == '~') (void)parseMapKey(c.name, false, declared_);
      }
    }
  }

  // map SOURCE $RESULT { ... } -> [map $RESULT], every word as written
  // (quoted where INI needs it), in nginx's order.
  void map(const Directive& m) {
    if (m.args.size() != 2 || m.arg(1).size() < 2 || m.arg(1)[0] != '$') {
      msg_.warning(m.file, m.line, "map: expected \"map SOURCE $RESULT { ... }\": dropped");
      return;
    }
    Section sec{"map " + m.arg(1), m.where(), {}, m.file, m.line};
    put(sec, m, "source", common::quoteToken(m.arg(0)));
    std::vector<Entry> body;
    const Directive* wildcard_before = nullptr;
    for (const auto& d : m.children) {
      const std::string key = d.arg(0);
      if (d.args.empty() && (d.name == "hostnames" || d.name == "volatile")) {
        if (d.name == "hostnames" && wildcard_before) {
          // nginx reads the keys before `hostnames` as plain ones.
          msg_.warning(wildcard_before->file, wildcard_before->line,
                       fmt::format("map {}: \"{}\" comes before \"hostnames\", which proxyd "
                                   "applies to the whole map: it becomes a wildcard",
                                   m.arg(1), wildcard_before->name));
        }
        put(sec, d, d.name, "on");
      } else if (d.block || d.args.size() != 1) {
        msg_.warning(d.file, d.line,
                     fmt::format("map {}: expected \"KEY VALUE;\" (invalid number of the map "
                                 "parameters, as nginx says): dropped",
                                 m.arg(1)));
      } else if (d.name == "default" || d.name == "include") {
        if (writable(d, d.name, common::quoteToken(key))) {
          body.push_back(entryFrom(d.name, common::quoteToken(key), d.file, d.line));
        }
      } else {
        if (!wildcard_before && (d.name.find('*') != std::string::npos || d.name[0] == '.')) {
          wildcard_before = &d;
        }
        std::string v = common::quoteToken(d.name) + " " + common::quoteToken(key);
        if (writable(d, "entry", v)) body.push_back(entryFrom("entry", v, d.file, d.line));
      }
    }
    for (auto& e : body) sec.entries.push_back(std::move(e));
    sections_var_.push_back(std::move(sec));
  }

  // The statement's words as nginx read them, each quoted for the INI only
  // where it must be (common::quoteToken), so they come back byte for byte.
  static std::string quotedWords(const Directive& d, size_t from_arg = 0) {
    std::string out = from_arg == 0 ? common::quoteToken(d.name) : std::string();
    for (size_t i = from_arg; i < d.args.size(); ++i) {
      if (!out.empty()) out += ' ';
      out += common::quoteToken(d.args[i]);
    }
    return out;
  }

  // geo [$SOURCE] $NAME { ... }: [geo $NAME], its statements in order
  // (nginx's include is already read in by the reader).
  void geo(const Directive& g) {
    if (g.args.empty() || g.args.size() > 2) {
      msg_.warning(g.file, g.line, "geo: expected \"geo [$ADDRESS] $NAME { ... }\": dropped");
      return;
    }
    Section sec{"geo " + g.args.back(), g.where(), {}, g.file, g.line};
    if (g.args.size() == 2) put(sec, g, "source", common::quoteToken(g.arg(0)));
    for (const auto& d : g.children) {
      if (d.block) {
        msg_.warning(d.file, d.line,
                     fmt::format("geo: a block \"{}\" inside geo: dropped", d.name));
      } else if (d.name == "ranges" && d.args.empty()) {
        put(sec, d, "ranges", "on");
      } else if ((d.name == "default" || d.name == "delete") && d.args.size() == 1) {
        put(sec, d, d.name, common::quoteToken(d.arg(0)));
      } else {
        put(sec, d, "entry", quotedWords(d));
      }
    }
    sections_var_.push_back(std::move(sec));
  }

  // split_clients STRING $NAME { PERCENT VALUE; ... }
  void splitClients(const Directive& g) {
    if (g.args.size() != 2) {
      msg_.warning(g.file, g.line,
                   "split_clients: expected \"split_clients STRING $NAME { ... }\": dropped");
      return;
    }
    Section sec{"split_clients " + g.arg(1), g.where(), {}, g.file, g.line};
    put(sec, g, "source", common::quoteToken(g.arg(0)));
    for (const auto& d : g.children) {
      if (d.block) {
        msg_.warning(
            d.file, d.line,
            fmt::format("split_clients: a block \"{}\" inside split_clients: dropped", d.name));
      } else {
        put(sec, d, "entry", quotedWords(d));
      }
    }
    sections_var_.push_back(std::move(sec));
  }

  void upstream(const Directive& u) {
    if (u.args.size() != 1) {
      msg_.warning(u.file, u.line, "upstream: expected \"upstream NAME { ... }\": dropped");
      return;
    }
    Section sec{"upstream " + u.arg(0), u.where(), {}, u.file, u.line};
    bool have_method = false;
    int servers = 0;
    auto method = [&](const Directive& d, const std::string& key, const std::string& value) {
      if (have_method) {
        msg_.warning(d.file, d.line,
                     fmt::format("{}: a balancing method is already set: dropped", d.name));
        return;
      }
      have_method = true;
      sec.entries.push_back(entryFrom(key, value, d.file, d.line));
    };
    for (const auto& d : u.children) {
      if (d.name == "server") {
        if (auto v = upstreamServer(d)) {
          sec.entries.push_back(entryFrom("server", *v, d.file, d.line));
          ++servers;
        }
      } else if (d.name == "hash" && expect(d, 1, 2, "KEY [consistent]")) {
        if (d.args.size() == 2 && d.arg(1) != "consistent") {
          expect(d, 9, 9, "KEY [consistent]");
          continue;
        }
        auto key = LogFormat::compile(d.arg(0), Escape::none, &declared_);
        if (!key) {
          msg_.warning(d.file, d.line, fmt::format("hash: {}: dropped", key.error()));
          continue;
        }
        method(d, "hash", d.joined());
      } else if (d.name == "least_conn" && expect(d, 0, 0, "")) {
        method(d, "balance", "least_conn");
      } else if (d.name == "random" && expect(d, 0, 2, "[two [least_conn]]")) {
        std::string v = d.joined();
        if (v.empty() || v == "two" || v == "two least_conn") {
          method(d, "balance", v.empty() ? "random" : "random " + v);
        } else {
          msg_.warning(d.file, d.line,
                       fmt::format("random {}: only \"random\", \"random two\" and \"random two "
                                   "least_conn\" are supported by proxyd: dropped",
                                   v));
        }
      } else if (d.name == "zone" || d.name == "resolver" || d.name == "resolver_timeout") {
        // zone: accepted as is (proxyd's workers are threads: the state is
        // always shared); the resolver of the group's `resolve` servers.
        ServerSettings checked;
        if (d.name == "zone" && expect(d, 1, 2, "NAME [SIZE]")) {
          sec.entries.push_back(entryFrom("zone", d.joined(), d.file, d.line));
        } else if (d.name != "zone" && serverSetting(d, checked) && checked.keys.count(d.name)) {
          sec.entries.push_back(checked.keys[d.name]);
        }
      } else if (d.name != "hash" && d.name != "least_conn" && d.name != "random") {
        drop(d);
      }
    }
    if (servers == 0) {
      msg_.warning(u.file, u.line,
                   fmt::format("upstream {}: no server left: the upstream is dropped", u.arg(0)));
      return;
    }
    upstreams_.insert(u.arg(0));
    sections_up_.push_back(std::move(sec));
  }

  std::optional<std::string> upstreamServer(const Directive& d) {
    if (d.block || d.args.empty()) {
      msg_.warning(d.file, d.line, "server: expected \"server ADDRESS [PARAMETERS]\": dropped");
      return std::nullopt;
    }
    const std::string addr = d.arg(0);
    bool service = std::any_of(d.args.begin(), d.args.end(),
                               [](const std::string& a) { return a.rfind("service=", 0) == 0; });
    if (common::hasUnixPrefix(addr)) {
      if (auto a = common::parseListenAddress(addr); !a) {
        msg_.warning(d.file, d.line, fmt::format("server {}: {}: dropped", addr, a.error()));
        return std::nullopt;
      }
    } else if (addr.find(':') == std::string::npos && !service) {
      // nginx's default port in stream is none: it refuses this too.
      msg_.warning(d.file, d.line,
                   fmt::format("server {}: no port (nginx stream needs one too): dropped", addr));
      return std::nullopt;
    }
    std::string v = addr;
    for (size_t i = 1; i < d.args.size(); ++i) {
      const std::string& p = d.args[i];
      static const char* kNumeric[] = {"weight", "max_fails", "fail_timeout", "max_conns"};
      bool known = p == "backup" || p == "down" || p == "resolve" ||
                   (p.rfind("service=", 0) == 0 && p.size() > 8);
      if (known) v += " " + p;
      for (const char* k : kNumeric) {
        std::string name = k;
        if (p.rfind(name + "=", 0) != 0) continue;
        known = true;
        auto carried_value =
            carried(d, limitOf("upstream", "server", name), p.substr(name.size() + 1),
                    "server " + addr + " " + name + "=");
        if (carried_value) v += " " + name + "=" + *carried_value;
      }
      if (!known) {
        msg_.warning(d.file, d.line,
                     fmt::format("server {}: parameter \"{}\" is not supported by proxyd: dropped",
                                 addr, p));
      }
    }
    if (!writable(d, "server", v)) return std::nullopt;
    return v;
  }

  // The directives a server (or the stream block, for every server) may set.
  // Returns false when `d` is not one of them.
  bool serverSetting(const Directive& d, ServerSettings& out) {
    const std::string& n = d.name;
    // proxyd keeps every log file open, variables or not: nothing to cache.
    if (n == "open_log_file_cache") return true;
    if (n == "proxy_downstream_buffer" || n == "proxy_upstream_buffer") {
      // Obsolete since nginx 1.9.4, which reads either as proxy_buffer_size.
      msg_.warning(d.file, d.line,
                   fmt::format("{} is obsolete (nginx: \"deprecated, use proxy_buffer_size\"): "
                               "carried as proxy_buffer_size",
                               n));
      Directive alias = d;
      alias.name = "proxy_buffer_size";
      return serverSetting(alias, out);
    }
    if (importer::isTlsDirective(n)) {
      tlsSetting(d, out);
      return true;
    }
    if (n == "allow" || n == "deny") {
      if (!expect(d, 1, 1, "ADDRESS|CIDR|all")) return true;
      if (d.arg(0).rfind("unix:", 0) == 0) {
        drop(d, "UNIX sockets are not supported by proxyd");
        return true;
      }
      if (!common::Cidr::parse(d.arg(0))) {
        msg_.warning(d.file, d.line, fmt::format("{} {}: invalid address: dropped", n, d.arg(0)));
        return true;
      }
      out.rules.push_back(entryFrom(n, d.arg(0), d.file, d.line));
      return true;
    }
    if (n == "access_log") {
      if (auto log = accessLog(d); log && writable(d, n, log->entry.value)) {
        out.access_logs.push_back(std::move(*log));
      }
      return true;
    }
    if (n == "error_log") {
      if (auto v = errorLog(d); v && writable(d, n, *v)) {
        out.error_logs.push_back(entryFrom(n, *v, d.file, d.line));
      }
      return true;
    }
    if (n == "limit_conn") {
      if (auto v = importer::limitConnValue(d, msg_); v && writable(d, n, *v)) {
        out.limit_conns.push_back(entryFrom(n, *v, d.file, d.line));
      }
      return true;
    }
    if (n == "set_real_ip_from") {
      if (!expect(d, 1, 1, "ADDRESS|CIDR|unix:")) return true;
      proxyd::RealIpFrom check;
      if (auto r = proxyd::addRealIpFrom(check, d.arg(0)); !r) {
        drop(d, "only addresses, networks and \"unix:\" are supported by proxyd");
        return true;
      }
      out.real_ip_from.push_back(entryFrom(n, d.arg(0), d.file, d.line));
      return true;
    }
    if (std::find(kServerKeys.begin(), kServerKeys.end(), n) == kServerKeys.end()) return false;
    std::optional<std::string> value;
    if (importer::isLimitConnDirective(n)) value = importer::limitConnValue(d, msg_);
    // A rate with variables is evaluated per session, as nginx's.
    if ((n == "proxy_upload_rate" || n == "proxy_download_rate") && expect(d, 1, 1, "SIZE")) {
      value = d.arg(0).find('$') != std::string::npos
                  ? std::optional(common::quoteToken(d.arg(0)))
                  : carried(d, limitOf("server", n), d.arg(0), n);
    }
    if (n == "proxy_connect_timeout" || n == "proxy_timeout" ||
        n == "proxy_next_upstream_timeout" || n == "preread_timeout" ||
        n == "proxy_protocol_timeout") {
      if (expect(d, 1, 1, "TIME")) value = carried(d, limitOf("server", n), d.arg(0), n);
    } else if (n == "proxy_buffer_size" || n == "preread_buffer_size") {
      if (expect(d, 1, 1, "SIZE")) value = carried(d, limitOf("server", n), d.arg(0), n);
    } else if (n == "proxy_bind") {
      value = proxyBind(d);
    } else if (n == "proxy_half_close" || n == "proxy_next_upstream" || n == "ssl_preread" ||
               n == "tcp_nodelay" || n == "proxy_socket_keepalive") {
      if (expect(d, 1, 1, "on|off")) {
        if (d.arg(0) == "on" || d.arg(0) == "off") {
          value = d.arg(0);
        } else {
          expect(d, 9, 9, "on|off");
        }
      }
    } else if (n == "proxy_protocol") {
      // nginx 1.29's v2 as well as on|off.
      if (expect(d, 1, 1, "on|off|v2")) {
        if (d.arg(0) == "on" || d.arg(0) == "off" || d.arg(0) == "v2") {
          value = d.arg(0);
        } else {
          expect(d, 9, 9, "on|off|v2");
        }
      }
    } else if (n == "proxy_next_upstream_tries" || n == "proxy_requests" ||
               n == "proxy_responses") {
      if (expect(d, 1, 1, "NUMBER")) value = carried(d, limitOf("server", n), d.arg(0), n);
    } else if (n == "resolver_timeout") {
      if (expect(d, 1, 1, "TIME")) value = carried(d, limitOf("server", n), d.arg(0), n);
    } else if (n == "resolver") {
      if (auto spec = proxyd::parseResolverSpec(d.joined()); !spec) {
        msg_.warning(d.file, d.line, fmt::format("resolver: {}: dropped", spec.error()));
      } else {
        value = d.joined();
      }
    }
    if (!value || !writable(d, n, *value)) return true;
    if (out.keys.count(n)) {
      msg_.warning(d.file, d.line,
                   fmt::format("{}: given again in the same block: proxyd keeps one, the first; "
                               "this one is dropped",
                               n));
      return true;
    }
    out.keys[n] = entryFrom(n, *value, d.file, d.line);
    return true;
  }

  // proxy_bind ADDRESS [transparent] | off, as proxyd reads it.
  std::optional<std::string> proxyBind(const Directive& d) {
    if (!expect(d, 1, 2, "ADDRESS [transparent] | off")) return std::nullopt;
    std::string value;
    for (const std::string& word : d.args) {
      value += (value.empty() ? "" : " ") + common::quoteToken(word);
    }
    if (auto bind = proxyd::parseProxyBind(value); !bind) {
      msg_.warning(d.file, d.line, fmt::format("proxy_bind: {}: dropped", bind.error()));
      return std::nullopt;
    }
    return value;
  }

  // access_log PATH FORMAT [buffer=] [flush=] [gzip[=]] [if=] | off: every
  // word carried as written (quoted where INI needs it); what nginx itself
  // would refuse is dropped with nginx's reason.
  std::optional<AccessLogEntry> accessLog(const Directive& d) {
    auto parsed = parseAccessLog(d.args);
    if (!parsed) {
      msg_.warning(d.file, d.line, fmt::format("access_log: {}: dropped", parsed.error()));
      return std::nullopt;
    }
    std::string value;
    for (const std::string& word : d.args) {
      value += (value.empty() ? "" : " ") + common::quoteToken(word);
    }
    return AccessLogEntry{entryFrom("access_log", value, d.file, d.line),
                          *parsed ? (*parsed)->format_name : std::string()};
  }

  // The port of a listen address, for the section name: "10443", "*:10443",
  // "192.0.2.1:10443", "[::]:10443".
  static std::string portOf(const std::string& listen) {
    auto colon = listen.rfind(':');
    std::string port = colon == std::string::npos ? listen : listen.substr(colon + 1);
    if (port.empty() || !std::all_of(port.begin(), port.end(), ::isdigit)) return {};
    return port;
  }

  void server(const Directive& s, const ServerSettings& defaults) {
    ServerSettings own;
    std::vector<std::string> listens;
    std::vector<const Directive*> listen_ds;
    std::optional<std::string> pass;
    const Directive* pass_d = nullptr;
    std::vector<Entry> scripts;    // set and return, in order
    std::optional<Entry> handoff;  // pass (nginx 1.25.5)
    std::vector<Entry> names;      // server_name, the words as written
    for (const auto& d : s.children) {
      if (d.name == "server_name") {
        if (auto e = serverName(d)) names.push_back(std::move(*e));
      } else if (d.name == "listen") {
        if (auto l = listen(d)) {
          listens.push_back(*l);
          listen_ds.push_back(&d);
        }
      } else if (d.name == "proxy_pass") {
        if (!expect(d, 1, 1, "UPSTREAM|ADDRESS")) continue;
        pass_d = &d;
        pass = d.arg(0);
      } else if (d.name == "set" || d.name == "return") {
        scriptDirective(d, scripts);
      } else if (d.name == "pass") {
        if (!expect(d, 1, 1, "ADDRESS")) continue;
        std::string value = common::quoteToken(d.arg(0));
        if (writable(d, d.name, value)) handoff = entryFrom("pass", value, d.file, d.line);
      } else if (!serverSetting(d, own)) {
        drop(d);
      }
    }
    if (listens.empty()) {
      msg_.warning(s.file, s.line, "stream server without a usable listen: dropped");
      return;
    }
    keepLastHandler(listens[0], pass, pass_d, scripts, handoff);
    if (!pass && returnOf(scripts) == nullptr && !handoff) {
      msg_.warning(s.file, s.line,
                   fmt::format("stream server on {} has no proxy_pass: dropped", listens[0]));
      return;
    }
    const std::string p = pass.value_or("");
    if (common::hasUnixPrefix(p)) {
      if (auto a = common::parseListenAddress(p); !a) {
        msg_.warning(pass_d->file, pass_d->line,
                     fmt::format("proxy_pass {}: {}: the server on {} is dropped", p, a.error(),
                                 listens[0]));
        return;
      }
    }
    // A value with variables is evaluated per session (proxyd as nginx).
    if (pass && p.find('$') == std::string::npos && !upstreams_.count(p) &&
        p.find(':') == std::string::npos) {
      msg_.warning(pass_d->file, pass_d->line,
                   fmt::format("proxy_pass {}: no upstream of that name was imported: the server "
                               "on {} is dropped",
                               p, listens[0]));
      return;
    }
    PendingServer ps;
    ps.port = portOf(listens[0].substr(0, listens[0].find(' ')));
    ps.preferred_name = upstreams_.count(p) ? p : std::string();
    ps.section.origin = s.where();
    ps.section.file = s.file;
    ps.section.line = s.line;
    for (size_t i = 0; i < listens.size(); ++i) {
      ps.section.entries.push_back(
          entryFrom("listen", listens[i], listen_ds[i]->file, listen_ds[i]->line));
    }
    for (Entry& e : names) ps.section.entries.push_back(std::move(e));
    if (pass) ps.section.entries.push_back(entryFrom("proxy_pass", p, pass_d->file, pass_d->line));
    for (Entry& e : scripts) ps.section.entries.push_back(std::move(e));
    if (handoff) ps.section.entries.push_back(std::move(*handoff));
    addSettings(ps.section, s, own, defaults);
    servers_.push_back(std::move(ps));
  }

  // proxy_pass, return and pass are each the server's content handler:
  // nginx runs whichever came last; proxyd refuses two, so the others go.
  void keepLastHandler(const std::string& listen, std::optional<std::string>& pass,
                       const Directive* pass_d, std::vector<Entry>& scripts,
                       std::optional<Entry>& handoff) {
    const Entry* ret = returnOf(scripts);
    struct Handler {
      const char* name;
      const std::string* file;
      int line;
    };
    std::vector<Handler> handlers;
    if (pass) handlers.push_back({"proxy_pass", &pass_d->file, pass_d->line});
    if (ret) handlers.push_back({"return", &ret->file, ret->line});
    if (handoff) handlers.push_back({"pass", &handoff->file, handoff->line});
    if (handlers.size() < 2) return;
    auto last =
        std::max_element(handlers.begin(), handlers.end(),
                         [](const Handler& a, const Handler& b) { return a.line < b.line; });
    for (const Handler& h : handlers) {
      if (&h == &*last) continue;
      // Named in one order whichever came first: "return", "proxy_pass", "pass".
      auto rank = [](std::string_view n) { return n == "return" ? 0 : n == "proxy_pass" ? 1 : 2; };
      bool dropped_first = rank(h.name) < rank(last->name);
      msg_.warning(*h.file, h.line,
                   fmt::format("stream server on {}: \"{}\" and \"{}\" exclude each other in "
                               "proxyd; nginx uses the last, so this one is dropped",
                               listen, dropped_first ? h.name : last->name,
                               dropped_first ? last->name : h.name));
    }
    const std::string kept = last->name;
    if (kept != "proxy_pass") pass.reset();
    if (kept != "return" && ret) scripts.erase(scripts.begin() + (ret - scripts.data()));
    if (kept != "pass") handoff.reset();
  }

  // set $NAME VALUE and return TEXT, byte for byte: each argument one INI
  // token (common::quoteToken), as the INI spelling reads them back.
  void scriptDirective(const Directive& d, std::vector<Entry>& scripts) {
    if (d.name == "set" ? !expect(d, 2, 2, "$VARIABLE VALUE") : !expect(d, 1, 1, "TEXT")) return;
    if (d.name == "return" && returnOf(scripts) != nullptr) {
      msg_.warning(d.file, d.line, "\"return\" directive is duplicate: dropped");
      return;
    }
    std::string value;
    for (const std::string& arg : d.args) {
      value += (value.empty() ? "" : " ") + common::quoteToken(arg);
    }
    if (writable(d, d.name, value)) scripts.push_back(entryFrom(d.name, value, d.file, d.line));
  }

  static const Entry* returnOf(const std::vector<Entry>& scripts) {
    for (const Entry& e : scripts) {
      if (e.key == "return") return &e;
    }
    return nullptr;
  }

  void tlsSetting(const Directive& d, ServerSettings& out) {
    std::string why;
    auto value = importer::tlsValue(d, why);
    if (!value) {
      msg_.warning(d.file, d.line, fmt::format("{}: {}: dropped", d.name, why));
      return;
    }
    if (!writable(d, d.name, *value)) return;
    auto& entries = out.tls[d.name];
    if (!entries.empty() && !importer::isRepeatableTlsKey(d.name)) {
      msg_.warning(d.file, d.line, fmt::format("\"{}\" directive is duplicate: dropped", d.name));
      return;
    }
    entries.push_back(entryFrom(d.name, *value, d.file, d.line));
  }

  // The server's own settings, else the stream block's (nginx's
  // inheritance), minus an access log whose format was not imported.
  void addSettings(Section& sec, const Directive& s, const ServerSettings& own,
                   const ServerSettings& defaults) {
    for (const std::string& key : kServerKeys) {
      const Entry* e = nullptr;
      if (auto it = own.keys.find(key); it != own.keys.end()) {
        e = &it->second;
      } else if (auto it2 = defaults.keys.find(key); it2 != defaults.keys.end()) {
        e = &it2->second;
      }
      if (!e) continue;
      sec.entries.push_back(*e);
    }
    // A server's own access_log lines replace the stream block's (nginx's merge).
    const auto& logs = own.access_logs.empty() ? defaults.access_logs : own.access_logs;
    for (const AccessLogEntry& log : logs) {
      if (!log.format.empty() && !log_formats_.count(log.format)) {
        msg_.warning(s.file, s.line,
                     fmt::format("access_log {}: log_format \"{}\" was {}: the access log is "
                                 "dropped",
                                 log.entry.value, log.format,
                                 bad_formats_.count(log.format) ? "dropped" : "not defined"));
        continue;
      }
      sec.entries.push_back(log.entry);
    }
    // A server's own error_log chain replaces the stream block's.
    for (const auto& e : own.error_logs.empty() ? defaults.error_logs : own.error_logs) {
      sec.entries.push_back(e);
    }
    // limit_conn, like the access rules, only by a server that has none.
    for (const auto& e : own.limit_conns.empty() ? defaults.limit_conns : own.limit_conns) {
      sec.entries.push_back(e);
    }
    // TLS: each directive's own lines, else the stream block's.
    std::map<std::string, std::vector<Entry>> tls = defaults.tls;
    for (const auto& [name, entries] : own.tls) tls[name] = entries;
    for (const auto& [name, entries] : tls) {
      for (const Entry& e : entries) sec.entries.push_back(e);
    }
    // nginx's access rules are inherited only by a server that has none.
    const auto& rules = own.rules.empty() ? defaults.rules : own.rules;
    for (const auto& r : rules) sec.entries.push_back(r);
    // set_real_ip_from likewise (ngx_stream_realip_merge_srv_conf).
    for (const auto& r : own.real_ip_from.empty() ? defaults.real_ip_from : own.real_ip_from) {
      sec.entries.push_back(r);
    }
  }

  // nginx 1.25.5's server_name: every word, quoted as proxyd.ini reads it.
  std::optional<Entry> serverName(const Directive& d) {
    if (d.args.empty() || d.block) {
      msg_.warning(d.file, d.line, "server_name: expected \"server_name NAME ...\": dropped");
      return std::nullopt;
    }
    std::string value;
    for (const std::string& w : d.args) {
      if (!value.empty()) value += ' ';
      value += common::quoteToken(w);
    }
    if (!writable(d, "server_name", value)) return std::nullopt;
    return entryFrom("server_name", value, d.file, d.line);
  }

  // nginx's listen parameters for the socket, which proxyd applies as they are.
  static bool isSocketParameter(std::string_view p) {
    for (std::string_view flag : {"deferred", "bind", "reuseport"}) {
      if (p == flag) return true;
    }
    for (std::string_view key :
         {"backlog=", "rcvbuf=", "sndbuf=", "so_keepalive=", "fastopen=", "ipv6only="}) {
      if (p.substr(0, key.size()) == key) return true;
    }
    return false;
  }

  std::optional<std::string> listen(const Directive& d) {
    if (d.args.empty() || d.block) {
      msg_.warning(d.file, d.line, "listen: expected \"listen ADDRESS [PARAMETERS]\": dropped");
      return std::nullopt;
    }
    const std::string a = d.arg(0);
    std::string params;
    for (size_t i = 1; i < d.args.size(); ++i) {
      if (d.args[i] == "default_server" || d.args[i] == "proxy_protocol" || d.args[i] == "udp" ||
          d.args[i] == "ssl" || isSocketParameter(d.args[i])) {
        if (params.find(" " + d.args[i]) == std::string::npos) params += " " + d.args[i];
        continue;
      }
      msg_.warning(d.file, d.line,
                   fmt::format("listen {}: parameter \"{}\" is not supported by proxyd: dropped", a,
                               d.args[i]));
    }
    if (!common::hasUnixPrefix(a) && !common::splitHostPort(a, true)) {
      msg_.warning(d.file, d.line, fmt::format("listen {}: invalid address: dropped", a));
      return std::nullopt;
    }
    // proxyd reads the same words: nginx's refusals (backlog=0, ...) drop it.
    if (auto parsed = proxyd::parseListen(a + params); !parsed) {
      msg_.warning(d.file, d.line, fmt::format("listen {}: {}: dropped", a, parsed.error()));
      return std::nullopt;
    }
    return a + params;
  }

  // ------------------------------------------------------------ http

  // One warning per directive name for the whole http block, at its first
  // occurrence, instead of hundreds.
  struct Noise {
    std::string file;
    int line = 0;
    int more = 0;
  };

  void noise(const Directive& d) {
    auto [it, inserted] = noise_.emplace(d.name, Noise{d.file, d.line, 0});
    if (inserted) {
      noise_order_.push_back(d.name);
    } else {
      ++it->second.more;
    }
    // Blocks of directives are walked; blocks of data (types, map, geo,
    // split_clients, upstream) are one name each.
    static const std::set<std::string> kDirectiveBlocks = {"server", "location", "if",
                                                           "limit_except"};
    if (kDirectiveBlocks.count(d.name) == 0) return;
    for (const auto& c : d.children) noise(c);
  }

  void http(const Directive& h) {
    for (const auto& d : h.children) {
      if (d.name == "server" && d.block && !status_ && hasListen(d)) {
        statusServer(d);
      } else if (d.name == "server" && d.block && hasListen(d)) {
        for (const auto& c : d.children) {
          if (c.name == "listen") {
            msg_.warning(c.file, c.line,
                         fmt::format("http server on {}: dropped (proxyd serves one HTTP page, "
                                     "its status page, which another http server already "
                                     "became)",
                                     c.arg(0)));
            break;
          }
        }
        for (const auto& c : d.children) {
          if (c.name != "listen") noise(c);
        }
      } else {
        noise(d);
      }
    }
    for (const auto& name : noise_order_) {
      const Noise& n = noise_[name];
      msg_.warning(n.file, n.line,
                   fmt::format("{} is not supported by proxyd: dropped (http{})", name,
                               n.more ? fmt::format("; {} more like it", n.more) : ""));
    }
  }

  static bool hasListen(const Directive& s) {
    for (const auto& c : s.children) {
      if (c.name == "listen" && !c.args.empty()) return true;
    }
    return false;
  }

  void statusServer(const Directive& s) {
    Section sec{"status", s.where(), {}, s.file, s.line};
    const Directive* first_listen = nullptr;
    std::vector<Entry> rules;
    std::string root, index;
    for (const auto& c : s.children) {
      if (c.name == "listen" && !first_listen) {
        first_listen = &c;
        for (size_t i = 1; i < c.args.size(); ++i) {
          msg_.warning(c.file, c.line,
                       fmt::format("listen {}: parameter \"{}\" is not supported by proxyd's "
                                   "status page: dropped",
                                   c.arg(0), c.arg(i)));
        }
      } else if (c.name == "listen") {
        msg_.warning(c.file, c.line,
                     fmt::format("listen {}: proxyd's status page listens on one address, {}: "
                                 "dropped",
                                 c.arg(0), first_listen->arg(0)));
      } else if ((c.name == "allow" || c.name == "deny") && c.args.size() == 1 &&
                 common::Cidr::parse(c.arg(0))) {
        rules.push_back(entryFrom(c.name, c.arg(0), c.file, c.line));
      } else {
        if (c.name == "root" || c.name == "index") (c.name == "root" ? root : index) = c.joined();
        if (c.name == "location" && c.block && c.joined() == "/") {
          for (const auto& l : c.children) {
            if (l.name == "root") root = l.joined();
            if (l.name == "index") index = l.joined();
            if ((l.name == "allow" || l.name == "deny") && l.args.size() == 1 &&
                common::Cidr::parse(l.arg(0)) && rules.empty()) {
              rules.push_back(entryFrom(l.name, l.arg(0), l.file, l.line));
            }
          }
        }
        noise(c);
      }
    }
    std::string port = first_listen->arg(0);
    if (!common::splitHostPort(port, true)) {
      msg_.warning(first_listen->file, first_listen->line,
                   fmt::format("listen {}: invalid address: no status page", port));
      return;
    }
    sec.entries.push_back(entryFrom("listen", port, first_listen->file, first_listen->line));
    for (auto& r : rules) sec.entries.push_back(r);
    std::string served = "its static page";
    if (!root.empty() || !index.empty()) {
      served = fmt::format("the static page ({}{}{})", root.empty() ? "" : "root " + root,
                           !root.empty() && !index.empty() ? ", " : "",
                           index.empty() ? "" : "index " + index);
    }
    msg_.warning(first_listen->file, first_listen->line,
                 fmt::format("http server on {} becomes [status] listen = {}: proxyd's status "
                             "page replaces {}: GET / answers 200 \"proxyd <hostname> ok\" (and "
                             "/status JSON, /metrics, /stub_status); a check that wants HTTP 200 "
                             "from it, as check_nginx.sh does, keeps working",
                             port, port, served));
    status_ = std::move(sec);
  }

  // ------------------------------------------------------------ output

  // The output goes through proxyd's own loader, so that what it refuses
  // (a value it cannot carry, a reference to something dropped) is a warning
  // at the nginx.conf line and left out, never a proxyd.ini that does not
  // start. Each round drops what the loader refused; the loop ends when it
  // accepts, or when what is left is about the host (a name that does not
  // resolve here, as nginx -t would also say).
  std::string checkedRender() {
    importer::DaemonCheck check{"proxyd", "proxyd.ini",
                                [&](const std::string& ini, common::Diagnostics& diag) {
                                  parseProxyConfig(ini, path_ + " (imported)", directoryOf(path_),
                                                   diag);
                                },
                                [](const common::Diagnostic& dg) {
                                  return dg.message.find("host not found") != std::string::npos;
                                }};
    return importer::vetThroughLoader(
        {fmt::format("proxyd.ini imported from {} by proxyd --import-nginx", path_),
         "Relative paths resolve against proxyd's -p prefix (default: this file's directory),",
         "as nginx's do against its -p prefix."},
        [&] { return sections(); }, check, msg_);
  }

  // In the order they are written.
  std::vector<Section*> sections() {
    std::vector<Section*> out;
    if (!main_.entries.empty()) {
      main_.header = "main";
      main_.origin = path_;
      main_.file = path_;
      out.push_back(&main_);
    }
    if (status_) out.push_back(&*status_);
    // User variables before what uses them (log formats, servers).
    for (auto& s : sections_var_) out.push_back(&s);
    for (auto& s : sections_log_) out.push_back(&s);
    for (auto& s : sections_up_) out.push_back(&s);
    // Names: the upstream's when one server alone uses it, else server_PORT.
    std::map<std::string, int> uses;
    for (const auto& s : servers_) ++uses[s.preferred_name];
    std::set<std::string> taken;
    for (auto& s : servers_) {
      std::string name = !s.preferred_name.empty() && uses[s.preferred_name] == 1
                             ? s.preferred_name
                             : "server_" + (s.port.empty() ? std::string("listen") : s.port);
      std::string unique = name;
      for (int n = 2; taken.count(unique); ++n) unique = fmt::format("{}_{}", name, n);
      taken.insert(unique);
      s.section.header = "server " + unique;
      out.push_back(&s.section);
    }
    return out;
  }

  std::string path_;
  Section main_;
  std::optional<Section> status_;
  VariableTable declared_;             // the stream block's user variables
  std::vector<Section> sections_var_;  // [map $x], [geo $x], [split_clients $x]
  std::vector<Section> sections_log_;
  std::vector<Section> sections_up_;
  std::vector<PendingServer> servers_;
  std::set<std::string> log_formats_;
  std::set<std::string> bad_formats_;
  std::set<std::string> upstreams_;
  std::map<std::string, Noise> noise_;
  std::vector<std::string> noise_order_;
};

}  // namespace

ImportResult importNginx(const std::string& path) {
  Messages msg;
  std::vector<Directive> top;
  ConfReader reader(directoryOf(path), msg);
  std::string ini;
  if (reader.readFile(path, top, false, 0, nullptr)) ini = Importer(path, msg).run(top);
  return importer::importResultOf(std::move(ini), msg);
}

}  // namespace proxyd
