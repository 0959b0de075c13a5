#include "proxyd/core/config.h"

#include <strings.h>  // strcasecmp
#include <unistd.h>   // F_OK, R_OK

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <functional>

#include "common/config_text.h"
#include "common/duration.h"
#include "common/ini_section_walker.h"
#include "proxyd/core/config_context.h"
#include "proxyd/core/geo_section.h"
#include "proxyd/core/limits_config.h"
#include "proxyd/core/map_section.h"
#include "proxyd/core/pass_address.h"
#include "proxyd/core/server_names.h"
#include "proxyd/core/split_clients_section.h"
#include "proxyd/core/template.h"
#include "proxyd/core/value_limits.h"
#include "proxyd/core/variable_table.h"
#include "proxyd/core/virtual_servers.h"

namespace proxyd {

using common::directoryOf;
using common::splitWords;

using common::Diagnostics;
using common::IniEntry;
using common::IniSection;
using common::SectionWalker;

namespace {

// 127.0.0.0/8 (also IPv4-mapped) or ::1; a wildcard is not.
bool isLoopback(const common::SocketAddress& addr) {
  for (const char* net : {"127.0.0.0/8", "::1"}) {
    auto cidr = common::Cidr::parse(net);
    if (cidr && cidr->contains(addr)) return true;
  }
  return false;
}

class SetOnlyVariable : public VariableSource {
 public:
  bool evaluate(SessionVariables&, std::string&) const override { return true; }
};

class Loader {
 public:
  Loader(ProxyConfig& cfg, Diagnostics& diag, const common::Host& host)
      : cfg_(cfg), diag_(diag), host_(host), ctx_{cfg.path,
                                                  cfg.prefix,
                                                  diag,
                                                  host,
                                                  *cfg.variables.table,
                                                  &cfg.variables.text} {}

  void load(const common::IniDocument& doc) {
    declareVariables(doc);
    bool have_main = false;
    for (const IniSection& s : doc.sections) {
      if (s.type == "main" && s.label.empty()) {
        if (have_main) error(s.line, "[main] is duplicate");
        have_main = true;
        loadMain(s);
      } else if (s.type == "status" && s.label.empty()) {
        if (cfg_.status) error(s.line, "[status] is duplicate");
        loadStatus(s);
      } else if (s.type == "log_format") {
        loadLogFormat(s);
      } else if (s.type == "upstream") {
        loadUpstream(s);
      } else if (s.type == "server") {
        loadServer(s);
      } else if (s.type == "map") {
        loadMapSection(s, ctx_);
      } else if (s.type == "geo") {
        loadGeoSection(s, ctx_);
      } else if (s.type == "split_clients") {
        loadSplitClientsSection(s, ctx_);
      } else {
        error(s.line, fmt::format("unknown section [{}] (expected [main], [status], "
                                  "[log_format NAME], [map $NAME], [geo $NAME], "
                                  "[split_clients $NAME], [upstream NAME] or [server NAME])",
                                  s.header));
      }
    }
    crossCheck();
  }

 private:
  // nginx declares a variable wherever the configuration makes one, and
  // checks the uses at the end; so every name is declared before any
  // template compiles, and sections may come in any order.
  void declareVariables(const common::IniDocument& doc) {
    for (const IniSection& s : doc.sections) {
      if (s.type == "map" || s.type == "geo" || s.type == "split_clients") {
        cfg_.variables.text += "[" + s.header + "]\n";
        for (const IniEntry& e : s.entries) cfg_.variables.text += e.key + "=" + e.value + "\n";
        declare(s.line, s.label, s.type);
        if (s.type == "map") cfg_.variables.text += declareMapCaptures(s, ctx_);
      } else if (s.type == "server") {
        for (const IniEntry& e : s.entries) {
          if (e.key != "set") continue;
          auto words = splitWords(e.value);
          if (!words.empty()) declare(e.line, words[0], "set");
        }
      }
    }
  }

  void declare(int line, const std::string& word, const std::string& what) {
    if (word.size() < 2 || word[0] != '$') {
      error(line, fmt::format("{}: expected a variable (\"$NAME\"), not \"{}\"", what, word));
      return;
    }
    if (auto r = cfg_.variables.table->declare(std::string_view(word).substr(1)); !r) {
      error(line, fmt::format("{}: {}", what, r.error()));
    }
  }

  std::string resolvePath(const std::string& path) const { return ctx_.resolvePath(path); }
  const VariableTable* variables() const { return cfg_.variables.table.get(); }

  void error(int line, std::string msg) { diag_.error(cfg_.path, line, std::move(msg)); }
  void warning(int line, std::string msg) { diag_.warning(cfg_.path, line, std::move(msg)); }

  template <class T>
  bool take(const IniEntry& e, common::Result<T> r, T& out) {
    if (!r) {
      error(e.line, fmt::format("{}: {}", e.key, r.error()));
      return false;
    }
    out = std::move(*r);
    return true;
  }

  // A number of the limits table (value_limits.cc), range-checked.
  std::optional<std::int64_t> number(std::string_view section, const IniEntry& e) {
    auto r = common::parseLimited(limitOf(section, e.key), e.value);
    if (!r) {
      error(e.line, fmt::format("{}: {}", e.key, r.error()));
      return std::nullopt;
    }
    return *r;
  }

  template <class T>
  std::function<void(const IniEntry&)> numberInto(std::string_view section, T& out) {
    return [this, section, &out](const IniEntry& e) {
      if (auto n = number(section, e)) out = static_cast<T>(*n);
    };
  }

  std::function<void(const IniEntry&)> durationInto(std::string_view section,
                                                    std::chrono::milliseconds& out) {
    return [this, section, &out](const IniEntry& e) {
      if (auto n = number(section, e)) out = std::chrono::milliseconds(*n);
    };
  }

  // error_log = PATH|stderr|syslog:... [LEVEL]; repeatable, each adds one
  // target to the chain.
  void parseErrorLog(const IniEntry& e, std::vector<LogTarget>& chain) {
    auto words = splitWords(e.value);
    if (words.empty() || words.size() > 2) {
      error(e.line, "error_log: expected \"PATH|syslog:... [LEVEL]\"");
      return;
    }
    LogTarget t;
    if (words.size() == 2 && !take(e, common::parseLogLevel(words[1]), t.level)) return;
    if (isSyslogTarget(words[0])) {
      t.path = words[0];
      if (!take(e, parseSyslogTarget(words[0]), t.syslog.emplace())) return;
    } else {
      t.path = resolvePath(words[0]);
      checkLogDirectory(e, t.path);
    }
    chain.push_back(std::move(t));
  }

  // A log directory that does not exist here is a warning: the config may be
  // checked on another machine (DESIGN.md); the start then fails with exit 2.
  void checkLogDirectory(const IniEntry& e, const std::string& path) {
    if (path == "stderr") return;
    std::string dir = directoryOf(path);
    if (!host_.access(dir, F_OK)) {
      warning(e.line, fmt::format("{}: directory \"{}\" does not exist", e.key, dir));
    }
  }

  void loadMain(const IniSection& s) {
    SectionWalker w(cfg_.path, s, diag_);
    w.on("worker_processes", [&](const IniEntry& e) {
      if (e.value == "auto") {
        cfg_.main.worker_processes = static_cast<int>(host_.cpuCount());
        return;
      }
      if (auto n = number("main", e)) cfg_.main.worker_processes = static_cast<int>(*n);
    });
    w.on("worker_connections", numberInto("main", cfg_.main.worker_connections));
    w.on(
        "error_log", [&](const IniEntry& e) { parseErrorLog(e, cfg_.main.error_log); },
        /*repeatable=*/true);
    w.on("worker_rlimit_nofile", numberInto("main", cfg_.main.worker_rlimit_nofile));
    w.on("worker_shutdown_timeout", durationInto("main", cfg_.main.worker_shutdown_timeout));
    addLimitConnZoneKey(w, ctx_, cfg_.main.limit_conn_zones);
    w.on("pid", [&](const IniEntry& e) {
      cfg_.main.pid_path = resolvePath(e.value);
      checkLogDirectory(e, cfg_.main.pid_path);
    });
    onResolverKeys(w, ctx_, "main", cfg_.main.resolver);
    w.run();
  }

  void loadStatus(const IniSection& s) {
    StatusSection st;
    st.line = s.line;
    bool have_listen = false;
    int listen_line = s.line;
    SectionWalker w(cfg_.path, s, diag_);
    w.on("listen", [&](const IniEntry& e) {
      have_listen = take(e, common::parseListenAddress(e.value), st.listen);
      listen_line = e.line;
    });
    auto rule = [&](bool allow) {
      return [&, allow](const IniEntry& e) {
        common::Cidr c;
        if (take(e, common::Cidr::parse(e.value), c)) st.rules.push_back({allow, c});
      };
    };
    w.on("allow", rule(true), true);
    w.on("deny", rule(false), true);
    w.run();
    if (!have_listen && !diag_.hasErrors()) error(s.line, "[status] needs \"listen\"");
    if (have_listen && st.rules.empty() && !isLoopback(st.listen)) {
      // /status and /metrics describe the whole setup, and every client
      // costs the control thread something: say so when nothing limits who
      // may ask.
      warning(listen_line,
              fmt::format("listen: the status page on {} is reachable beyond loopback with no "
                          "allow/deny (e.g. allow = 127.0.0.0/8, allow = ::1, deny = all)",
                          st.listen.toString()));
    }
    cfg_.status = std::move(st);
  }

  void loadLogFormat(const IniSection& s) {
    if (s.label.empty()) {
      error(s.line, "[log_format] needs a name: [log_format NAME]");
      return;
    }
    if (cfg_.log_format_text.count(s.label)) {
      error(s.line, fmt::format("log_format \"{}\" is duplicate", s.label));
      return;
    }
    std::string text;
    bool have = false;
    Escape escape = Escape::standard;
    SectionWalker w(cfg_.path, s, diag_);
    w.on("escape", [&](const IniEntry& e) {
      // ngx_stream_log_compile_format's escape= argument.
      if (e.value == "default") {
        escape = Escape::standard;
      } else if (e.value == "json") {
        escape = Escape::json;
      } else if (e.value == "none") {
        escape = Escape::none;
      } else {
        error(e.line, fmt::format("escape: unknown log format escaping \"{}\" (expected "
                                  "default, json or none)",
                                  e.value));
      }
    });
    w.on("format", [&](const IniEntry& e) {
      auto compiled = LogFormat::compile(e.value, Escape::standard, variables());
      if (!compiled) {
        error(e.line, fmt::format("format: {}", compiled.error()));
        return;
      }
      text = e.value;
      have = true;
    });
    w.run();
    if (!have) {
      if (!diag_.hasErrors()) error(s.line, fmt::format("[{}] needs \"format\"", s.header));
      return;
    }
    cfg_.log_format_text[s.label] = text;
    cfg_.log_format_escape[s.label] = escape;
  }

  void loadUpstream(const IniSection& s) {
    if (s.label.empty()) {
      error(s.line, "[upstream] needs a name: [upstream NAME]");
      return;
    }
    if (cfg_.findUpstream(s.label)) {
      error(s.line, fmt::format("upstream \"{}\" is duplicate", s.label));
      return;
    }
    UpstreamSection up;
    up.name = s.label;
    up.line = s.line;
    for (const IniEntry& e : s.entries) up.source_text += e.key + "=" + e.value + "\n";
    bool have_method = false;
    std::vector<int> backup_lines;
    SectionWalker w(cfg_.path, s, diag_);
    auto method_once = [&](const IniEntry& e) {
      if (have_method) {
        error(e.line, "only one of \"hash\" and \"balance\" may be given");
        return false;
      }
      have_method = true;
      return true;
    };
    w.on("hash", [&](const IniEntry& e) {
      if (method_once(e)) hashMethod(e, up);
    });
    w.on("balance", [&](const IniEntry& e) {
      if (method_once(e)) balanceMethod(e, up);
    });
    w.on("health_check", [&](const IniEntry& e) { up.health_check = parseHealthCheckKey(e); });
    onResolverKeys(w, ctx_, "upstream", up.resolver);
    w.on("zone", [&](const IniEntry& e) { up.zone = e.value; });
    w.on(
        "server",
        [&](const IniEntry& e) {
          auto server = parseUpstreamServer(e.value, host_);
          if (!server) {
            error(e.line, fmt::format("server: {}", server.error()));
            return;
          }
          if (server->backup) backup_lines.push_back(e.line);
          up.servers.push_back(std::move(*server));
        },
        true);
    w.run();
    checkServers(s, up, backup_lines);
    cfg_.upstreams.push_back(std::move(up));
  }

  // hash = KEY [consistent]: the key compiles as a log format would.
  void hashMethod(const IniEntry& e, UpstreamSection& up) {
    auto words = splitWords(e.value);
    if (words.empty() || words.size() > 2 || (words.size() == 2 && words[1] != "consistent")) {
      error(e.line, "hash: expected \"KEY [consistent]\", e.g. \"$remote_addr consistent\"");
      return;
    }
    auto compiled = Template::compile(words[0], variables());
    if (!compiled) {
      error(e.line, fmt::format("hash: {}", compiled.error()));
      return;
    }
    up.hash_key = words[0];
    up.method = words.size() == 2 ? BalanceMethod::consistent_hash : BalanceMethod::hash;
  }

  // balance = round_robin | least_conn | random | random two [least_conn].
  void balanceMethod(const IniEntry& e, UpstreamSection& up) {
    auto words = splitWords(e.value);
    std::string v;
    for (auto& word : words) v += (v.empty() ? "" : " ") + word;
    if (v == "round_robin") {
      up.method = BalanceMethod::round_robin;
    } else if (v == "least_conn") {
      up.method = BalanceMethod::least_conn;
    } else if (v == "random") {
      up.method = BalanceMethod::random;
    } else if (v == "random two" || v == "random two least_conn") {
      up.method = BalanceMethod::random_two;
    } else {
      error(e.line, fmt::format("balance: invalid value \"{}\" (expected round_robin, "
                                "least_conn, random or \"random two\")",
                                e.value));
    }
  }

  // What nginx refuses about a group's servers as a whole.
  void checkServers(const IniSection& s, const UpstreamSection& up,
                    const std::vector<int>& backup_lines) {
    if (!UpstreamGroup::allowsBackup(up.method)) {
      for (int line : backup_lines) {
        error(line,
              "server: \"backup\" cannot be used with hash or random balancing (as in nginx)");
      }
    }
    if (up.servers.empty()) {
      error(s.line, fmt::format("[{}] has no \"server\"", s.header));
    } else if (std::all_of(up.servers.begin(), up.servers.end(),
                           [](const UpstreamServer& sv) { return sv.backup; })) {
      error(s.line, fmt::format("[{}] has only backup servers", s.header));
    }
  }

  // health_check: the options, with ca/cert/key resolved against the
  // prefix. A file missing here is a warning (the config may be checked on
  // another machine, DESIGN.md); proxyd then fails to start (exit 2).
  std::optional<HealthCheckOptions> parseHealthCheckKey(const IniEntry& e) {
    HealthCheckOptions hc;
    if (!take(e, parseHealthCheck(e.value), hc)) return std::nullopt;
    for (std::string* path : {&hc.ca, &hc.cert, &hc.key}) {
      if (path->empty()) continue;
      *path = resolvePath(*path);
      if (!host_.access(*path, R_OK)) {
        warning(e.line, fmt::format("health_check: cannot read \"{}\"", *path));
      }
    }
    return hc;
  }

  void loadServer(const IniSection& s) {
    if (s.label.empty()) {
      error(s.line, "[server] needs a name: [server NAME]");
      return;
    }
    ServerSection sv;
    sv.name = s.label;
    sv.line = s.line;
    int pass_line = 0;
    SectionWalker w(cfg_.path, s, diag_);
    w.on(
        "listen",
        [&](const IniEntry& e) {
          ListenDirective l;
          if (!take(e, parseListen(e.value), l)) return;
          l.line = e.line;
          sv.listen.push_back(std::move(l));
        },
        true);
    w.on("proxy_pass", [&](const IniEntry& e) {
      sv.proxy_pass = e.value;
      pass_line = e.line;
      if (sv.passHasVariables()) checkTemplate(e, e.value);
    });
    int return_line = 0;
    w.on("return", [&](const IniEntry& e) {
      return_line = e.line;
      sv.return_text = parseReturn(e);
    });
    int handoff_line = 0;
    w.on("pass", [&](const IniEntry& e) {
      handoff_line = e.line;
      sv.pass = parsePass(e);
    });
    w.on(
        "set", [&](const IniEntry& e) { parseSet(e, sv); }, true);
    w.on("proxy_connect_timeout", durationInto("server", sv.connect_timeout));
    w.on("proxy_timeout", durationInto("server", sv.timeout));
    w.on("proxy_next_upstream_timeout", durationInto("server", sv.next_upstream_timeout));
    w.on("proxy_buffer_size", numberInto("server", sv.buffer_size));
    w.on("proxy_half_close",
         [&](const IniEntry& e) { take(e, common::parseFlag(e.value), sv.half_close); });
    w.on("proxy_next_upstream",
         [&](const IniEntry& e) { take(e, common::parseFlag(e.value), sv.next_upstream); });
    w.on("proxy_next_upstream_tries", numberInto("server", sv.next_upstream_tries));
    bool access_log_off = false;
    w.on(
        "access_log",
        [&](const IniEntry& e) {
          auto target = parseAccessLogKey(e);
          if (!target) return;
          if (!*target) {
            access_log_off = true;
            return;
          }
          access_log_lines_.push_back({cfg_.servers.size(), sv.access_logs.size(), e.line});
          sv.access_logs.push_back(std::move(**target));
        },
        true);
    w.on(
        "error_log", [&](const IniEntry& e) { parseErrorLog(e, sv.error_log); },
        /*repeatable=*/true);
    // nginx stream's allow/deny (ngx_stream_access_module): first match wins.
    auto rule = [&](bool allow) {
      return [&, allow](const IniEntry& e) {
        common::Cidr c;
        if (take(e, common::Cidr::parse(e.value), c)) sv.access_rules.push_back({allow, c});
      };
    };
    w.on("allow", rule(true), true);
    w.on("deny", rule(false), true);
    w.on(
        "server_name", [&](const IniEntry& e) { loadServerNames(e, sv.server_names); }, true);
    w.on("ssl_preread",
         [&](const IniEntry& e) { take(e, common::parseFlag(e.value), sv.ssl_preread); });
    w.on("preread_buffer_size", numberInto("server", sv.preread_buffer_size));
    w.on("preread_timeout", durationInto("server", sv.preread_timeout));
    addServerLimitKeys(w, ctx_, sv);
    addProxyProtocolKeys(w, ctx_, sv.proxy_protocol);
    w.on("tcp_nodelay",
         [&](const IniEntry& e) { take(e, common::parseFlag(e.value), sv.tcp_nodelay); });
    w.on("proxy_socket_keepalive", [&](const IniEntry& e) {
      take(e, common::parseFlag(e.value), sv.proxy_socket_keepalive);
    });
    w.on("proxy_bind", [&](const IniEntry& e) { loadProxyBind(e, sv); });
    onResolverKeys(w, ctx_, "server", sv.resolver);
    w.on("proxy_requests", numberInto("server", sv.proxy_requests));
    w.on("proxy_responses", [&](const IniEntry& e) {
      if (auto n = number("server", e)) sv.proxy_responses = static_cast<unsigned>(*n);
    });
    addTlsKeys(w, ctx_, sv.ssl, sv.proxy_ssl);
    w.run();
    checkTlsSettings(ctx_, sv.ssl, sv.proxy_ssl, s.line, firstSslListenLine(sv.listen));
    // As nginx's `access_log off`: no line at all from this server, whatever
    // else is given.
    if (access_log_off) {
      std::erase_if(access_log_lines_,
                    [&](const AccessLogLine& l) { return l.server == cfg_.servers.size(); });
      sv.access_logs.clear();
    }
    if (sv.listen.empty()) error(s.line, fmt::format("[{}] needs \"listen\"", s.header));
    const int handlers =
        int(sv.return_text.has_value()) + int(!sv.proxy_pass.empty()) + int(sv.pass.has_value());
    if (handlers > 1) {
      // nginx keeps whichever handler comes last, silently; here that is a
      // mistake to say.
      error(std::max({return_line, pass_line, handoff_line}),
            sv.pass ? "\"pass\", \"proxy_pass\" and \"return\" exclude each other (nginx would "
                      "use only the last)"
                    : "\"return\" and \"proxy_pass\" exclude each other (nginx would use only "
                      "the last)");
    } else if (handlers == 0) {
      error(s.line, fmt::format("[{}] needs \"proxy_pass\", \"pass\" or \"return\"", s.header));
    } else if (!sv.proxy_pass.empty() && !sv.passHasVariables()) {
      pass_lines_.push_back({cfg_.servers.size(), pass_line});
    }
    cfg_.servers.push_back(std::move(sv));
  }

  // access_log = PATH FORMAT [buffer=..] ...: nothing when in error, an
  // empty optional for `off`.
  std::optional<std::optional<AccessLogTarget>> parseAccessLogKey(const IniEntry& e) {
    auto words = common::splitTokens(e.value);
    if (!words) {
      error(e.line, fmt::format("access_log: {}", words.error()));
      return std::nullopt;
    }
    auto target = parseAccessLog(*words);
    if (!target) {
      error(e.line, fmt::format("access_log: {}", target.error()));
      return std::nullopt;
    }
    if (*target) {
      AccessLogTarget& t = **target;
      if (!t.syslog) {
        t.path = resolvePath(t.path);
        checkLogDirectory(e, t.path);
      }
      if (t.condition) {
        if (auto c = Template::compile(*t.condition, variables()); !c) {
          error(e.line, fmt::format("access_log: if={}: {}", *t.condition, c.error()));
        }
      }
    }
    return std::move(*target);
  }

  // Format names (nginx finds them ignoring case), and one buffer per file
  // as nginx's: buffered twice means the same buffer=, flush=, gzip; an
  // unbuffered access_log of a buffered file goes through that buffer.
  void checkAccessLogs() {
    std::map<std::string, std::pair<AccessLogBuffering, int>> buffered;  // path -> first
    for (const AccessLogLine& l : access_log_lines_) {
      AccessLogTarget& t = cfg_.servers[l.server].access_logs[l.log];
      if (!cfg_.log_format_text.count(t.format_name)) {
        auto it = std::find_if(
            cfg_.log_format_text.begin(), cfg_.log_format_text.end(),
            [&](const auto& f) { return common::equalsIgnoringCase(f.first, t.format_name); });
        if (it == cfg_.log_format_text.end()) {
          error(l.line, fmt::format("access_log: unknown log format \"{}\" (no [log_format {}])",
                                    t.format_name, t.format_name));
        } else {
          t.format_name = it->first;
        }
      }
      if (t.buffering.size == 0) continue;
      auto [it, fresh] = buffered.emplace(t.path, std::pair{t.buffering, l.line});
      if (!fresh && it->second.first != t.buffering) {
        error(l.line, fmt::format("access_log: access_log \"{}\" already defined with "
                                  "conflicting parameters (line {})",
                                  t.path, it->second.second));
      }
    }
    for (const AccessLogLine& l : access_log_lines_) {
      AccessLogTarget& t = cfg_.servers[l.server].access_logs[l.log];
      if (auto it = buffered.find(t.path); it != buffered.end()) t.buffering = it->second.first;
    }
  }

  // set = $NAME VALUE (ngx_stream_set): the name is a user variable (a
  // built-in one is refused), the value a template.
  void parseSet(const IniEntry& e, ServerSection& sv) {
    auto words = common::splitTokens(e.value);
    if (!words) {
      error(e.line, fmt::format("set: {}", words.error()));
      return;
    }
    if (words->size() != 2) {
      error(e.line, "set: expected \"$NAME VALUE\"");
      return;
    }
    const std::string& name = (*words)[0];
    // The pre-pass (declareVariables) declared it, or said why not.
    if (name.size() < 2) return;
    auto index = variables()->find(std::string_view(name).substr(1));
    if (!index) return;
    if (!checkTemplate(e, (*words)[1])) return;
    sv.sets.push_back({variables()->at(*index).name, (*words)[1], e.line});
  }

  // return = TEXT: one token (quoted as needed), a template.
  // pass = ADDRESS | TEMPLATE: an address without variables is checked now,
  // as nginx does.
  std::optional<std::string> parsePass(const IniEntry& e) {
    auto words = common::splitTokens(e.value);
    if (!words || words->size() != 1) {
      error(e.line, "pass: expected one address or value (\"127.0.0.1:8443\", \"$target\")");
      return std::nullopt;
    }
    const std::string& value = words->front();
    if (value.find('$') != std::string::npos) {
      if (!checkTemplate(e, value)) return std::nullopt;
      return value;
    }
    if (auto addr = parsePassAddress(value); !addr) {
      error(e.line, fmt::format("pass: \"{}\" {}", value, addr.error()));
      return std::nullopt;
    }
    return value;
  }

  std::optional<std::string> parseReturn(const IniEntry& e) {
    auto words = common::splitTokens(e.value);
    if (!words) {
      error(e.line, fmt::format("return: {}", words.error()));
      return std::nullopt;
    }
    if (words->size() != 1) {
      error(e.line, "return: expected one value (quote a text with blanks: \"...\")");
      return std::nullopt;
    }
    if (!checkTemplate(e, words->front())) return std::nullopt;
    return words->front();
  }

  bool checkTemplate(const IniEntry& e, std::string_view text) {
    auto compiled = Template::compile(text, variables());
    if (!compiled) error(e.line, fmt::format("{}: {}", e.key, compiled.error()));
    return static_cast<bool>(compiled);
  }

  // nginx gives a variable that only `set` names an empty value until a
  // `set` assigns it (ngx_stream_set_var): found, not "-" in a log.
  void defineSetOnlyVariables() {
    static const auto empty = std::make_shared<const SetOnlyVariable>();
    VariableTable& table = *cfg_.variables.table;
    for (const ServerSection& sv : cfg_.servers) {
      for (const SetDirective& set : sv.sets) {
        auto index = table.find(set.name);
        if (index && !table.at(*index).source) (void)table.define(*index, empty);
      }
    }
  }

  // nginx's server_name: names checked as the directive checks them,
  // "$hostname" made this host's name.
  void loadServerNames(const IniEntry& e, std::vector<std::string>& names) {
    auto words = common::splitTokens(e.value);
    if (!words || words->empty()) {
      error(e.line, words ? "server_name: expected \"NAME ...\"" : "server_name: " + words.error());
      return;
    }
    for (std::string& w : *words) {
      if (::strcasecmp(w.c_str(), "$hostname") == 0) w = host_.hostName();
      auto name = parseServerName(w);
      if (!name) {
        error(e.line, fmt::format("server_name: {}", name.error()));
        continue;
      }
      if (w.find('/') != std::string::npos) {
        warning(e.line, fmt::format("server name \"{}\" has suspicious symbols", w));
      }
      names.push_back(std::move(w));
    }
  }

  void loadProxyBind(const IniEntry& e, ServerSection& sv) {
    std::optional<ProxyBind> bind;
    if (!take(e, parseProxyBind(e.value), bind)) return;
    if (bind && bind->hasVariables() && !checkTemplate(e, bind->value)) return;
    sv.proxy_bind = std::move(bind);
  }

  // [main]'s resolver for every [server] and [upstream] without one; a
  // `resolve` server needs one (nginx 1.27.3 refuses to start without).
  void inheritResolvers() {
    for (ServerSection& sv : cfg_.servers) inheritResolver(sv.resolver, cfg_.main.resolver);
    for (UpstreamSection& up : cfg_.upstreams) {
      inheritResolver(up.resolver, cfg_.main.resolver);
      bool resolves = std::any_of(up.servers.begin(), up.servers.end(),
                                  [](const UpstreamServer& s) { return s.resolve; });
      if (resolves && !up.resolver.resolver) {
        error(up.line, fmt::format("no resolver defined to resolve names at run time in upstream "
                                   "\"{}\" (set resolver in [main] or the [upstream])",
                                   up.name));
      }
    }
  }

  void crossCheck() {
    defineSetOnlyVariables();
    inheritResolvers();
    // proxy_pass names an [upstream]; an address instead becomes a group of
    // one server named as written (as nginx's `proxy_pass host:port`).
    for (auto [index, line] : pass_lines_) {
      ServerSection& sv = cfg_.servers[index];
      if (cfg_.findUpstream(sv.proxy_pass)) continue;
      if (sv.proxy_pass.find(':') == std::string::npos) {
        error(line, fmt::format("proxy_pass: no [upstream {}] is defined", sv.proxy_pass));
        continue;
      }
      auto server = parseUpstreamServer(sv.proxy_pass, host_);
      if (!server) {
        error(line, fmt::format("proxy_pass: {}", server.error()));
        continue;
      }
      UpstreamSection up;
      up.name = sv.proxy_pass;
      up.line = line;
      up.source_text = "server=" + sv.proxy_pass + "\n";
      up.servers.push_back(std::move(*server));
      cfg_.upstreams.push_back(std::move(up));
    }
    checkAccessLogs();
    checkLimitConnZones(cfg_, ctx_);
    // Several [server]s may share an address (server_name); the same one
    // twice is nginx's "duplicate listen".
    checkVirtualServers(cfg_, diag_);
    checkListens();
  }

  // nginx: one server may not listen on a socket twice; the status page's
  // address is its own; only one server may give an address's socket options.
  void checkListens() {
    std::vector<const ListenDirective*> with_options;
    for (const ServerSection& sv : cfg_.servers) {
      for (size_t i = 0; i < sv.listen.size(); ++i) {
        const ListenDirective& l = sv.listen[i];
        for (size_t j = 0; j < i; ++j) {
          if (l.sameSocket(sv.listen[j])) {
            error(l.line, fmt::format("listen: duplicate {} (also on line {})", l.toString(),
                                      sv.listen[j].line));
          }
        }
        if (cfg_.status && !l.udp && l.address == cfg_.status->listen) {
          error(l.line, fmt::format("listen: {} is also the status page's",
                                    cfg_.status->listen.toString()));
        }
        if (!l.socket.any()) continue;
        for (const ListenDirective* other : with_options) {
          if (other->sameSocket(l)) {
            error(l.line, fmt::format("listen: duplicate listen options for {} (also on line {})",
                                      l.toString(), other->line));
          }
        }
        with_options.push_back(&l);
      }
    }
  }

  ProxyConfig& cfg_;
  Diagnostics& diag_;
  const common::Host& host_;
  ConfigContext ctx_;  // for the section loaders in their own files
  std::vector<std::pair<size_t, int>> pass_lines_;
  struct AccessLogLine {
    std::size_t server = 0;  // index in cfg_.servers
    std::size_t log = 0;     // index in its access_logs
    int line = 0;
  };
  std::vector<AccessLogLine> access_log_lines_;
};

ProxyConfig build(const common::IniDocument& doc, const std::string& path,
                  const std::string& prefix, Diagnostics& diag, const common::Host& host) {
  ProxyConfig cfg;
  cfg.path = path;
  cfg.prefix = prefix.empty() ? directoryOf(path) : prefix;
  Loader(cfg, diag, host).load(doc);
  return cfg;
}

}  // namespace

const UpstreamSection* ProxyConfig::findUpstream(const std::string& name) const {
  for (const auto& u : upstreams) {
    if (u.name == name) return &u;
  }
  return nullptr;
}

ProxyConfig loadProxyConfig(const std::string& path, const std::string& prefix, Diagnostics& diag,
                            const common::Host& host) {
  auto doc = common::loadIniFile(path, diag);
  return build(doc, path, prefix, diag, host);
}

ProxyConfig parseProxyConfig(std::string_view text, const std::string& path,
                             const std::string& prefix, Diagnostics& diag,
                             const common::Host& host) {
  auto doc = common::parseIni(text, path, diag);
  return build(doc, path, prefix, diag, host);
}

}  // namespace proxyd
