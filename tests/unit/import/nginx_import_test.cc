#include "import/nginx/nginx_import.h"

#include <stdlib.h>

#include <catch2/catch.hpp>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "common/config_text.h"
#include "proxyd/core/config.h"

#include "tests/unit/support/diagnostics.h"
#include "tests/unit/support/temp_dir.h"

using namespace std::chrono_literals;
namespace fs = std::filesystem;

using test_support::TempDir;

namespace {

// The seed's files live beside the tests in the source tree.
fs::path seedDir() {
  return fs::path(__FILE__).parent_path().parent_path().parent_path() / "data" / "seed" / "nginx";
}

// A scratch directory removed at the end of the test.
struct Loaded {
  proxyd::ImportResult imported;
  proxyd::ProxyConfig cfg;
  common::Diagnostics diag;
  std::string text() const {
    std::ostringstream out;
    out << imported.ini << "\n--- importer:\n";
    for (const auto& w : imported.warnings) out << w << "\n";
    out << "--- loader:\n" << test_support::diagnosticText(diag);
    return out.str();
  }
  bool hasWarning(const std::string& text) const {
    return std::any_of(imported.warnings.begin(), imported.warnings.end(),
                       [&](const std::string& w) { return w.find(text) != std::string::npos; });
  }
  size_t countWarnings(const std::string& text) const {
    return std::count_if(imported.warnings.begin(), imported.warnings.end(),
                         [&](const std::string& w) { return w.find(text) != std::string::npos; });
  }
};

// Imports `path` and loads the result with proxyd's own loader.
Loaded importAndLoad(const std::string& path) {
  Loaded l;
  l.imported = proxyd::importNginx(path);
  l.cfg = proxyd::parseProxyConfig(l.imported.ini, "/etc/proxyd/proxyd.ini", "/usr/local/nginx",
                                   l.diag);
  return l;
}

// nginx's concatenation of the seed's three quoted pieces.
const std::string kSeedFormat =
    "[$time_local] $protocol status:$status, bytes client:$bytes_sent/$bytes_received "
    "$session_time, client: $remote_addr, upstream:\"$upstream_addr\", bytes "
    "upstream:$upstream_bytes_sent $upstream_bytes_received $upstream_connect_time";

}  // namespace

TEST_CASE("nginx import: the seed's nginx.conf + stream.conf + default.conf mean the same") {
  const std::string main_conf = (seedDir() / "nginx.conf").string();
  auto l = importAndLoad(main_conf);
  INFO(l.text());
  REQUIRE(l.imported.ok);
  REQUIRE_FALSE(l.diag.hasErrors());
  CHECK(l.imported.ini.rfind("; proxyd.ini imported from " + main_conf, 0) == 0);

  CHECK(l.cfg.main.worker_processes == 1);
  CHECK(l.cfg.main.worker_connections == 1024);

  REQUIRE(l.cfg.log_format_text.count("proxy") == 1);
  CHECK(l.cfg.log_format_text.at("proxy") == kSeedFormat);

  const proxyd::UpstreamSection* up = l.cfg.findUpstream("k8sapiserver");
  REQUIRE(up != nullptr);
  CHECK(up->method == proxyd::BalanceMethod::consistent_hash);
  CHECK(up->hash_key == "$remote_addr");
  REQUIRE(up->servers.size() == 3);
  const char* names[] = {"192.0.2.11:6443", "192.0.2.12:6443", "192.0.2.13:6443"};
  for (size_t i = 0; i < 3; ++i) {
    CHECK(up->servers[i].name == names[i]);
    CHECK(up->servers[i].max_fails == 3);
    CHECK(up->servers[i].fail_timeout == 30s);
    CHECK(up->servers[i].weight == 1);
  }

  REQUIRE(l.cfg.servers.size() == 1);
  const auto& sv = l.cfg.servers[0];
  REQUIRE(sv.listen.size() == 1);
  CHECK(sv.listen[0].address.port() == 10443);
  CHECK(sv.proxy_pass == "k8sapiserver");
  CHECK(sv.connect_timeout == 1s);
  CHECK(sv.timeout == 600s);  // nginx's default, not written
  REQUIRE(sv.access_logs.size() == 1);
  // Relative, as in nginx.conf: resolved against proxyd's prefix.
  CHECK(sv.access_logs[0].path == "/usr/local/nginx/logs/10443_access.log");
  CHECK(sv.access_logs[0].format_name == "proxy");
  REQUIRE(sv.error_log.size() == 1);
  CHECK(sv.error_log.front().path == "/usr/local/nginx/logs/10443_error.log");

  REQUIRE(l.cfg.status);
  CHECK(l.cfg.status->listen.port() == 10088);

  // Every line fits libinih's 199 characters; the long format is continued.
  std::istringstream lines(l.imported.ini);
  std::string line;
  int format_lines = 0;
  bool in_format = false;
  while (std::getline(lines, line)) {
    CHECK(line.size() <= 199);
    if (line.rfind("format = ", 0) == 0) in_format = true;
    if (in_format && (line.rfind("format = ", 0) == 0 || line.rfind("    ", 0) == 0)) {
      ++format_lines;
    } else {
      in_format = false;
    }
  }
  CHECK(format_lines == 3);  // one line per quoted piece, as nginx.conf had them
}

TEST_CASE("nginx import: the seed's http noise is one warning per directive, with FILE:LINE") {
  const std::string dir = seedDir().string();
  auto l = importAndLoad(dir + "/nginx.conf");
  INFO(l.text());
  CHECK(l.hasWarning(dir + "/nginx.conf:15: warning: gzip is not supported by proxyd: dropped"));
  CHECK(l.countWarnings(": gzip is not supported") == 1);
  CHECK(l.hasWarning(dir +
                     "/nginx.conf:37: warning: fastcgi_temp_file_write_size is not supported by "
                     "proxyd: dropped"));
  // location appears twice in default.conf: one warning, counting the other.
  CHECK(l.countWarnings("location is not supported by proxyd: dropped") == 1);
  CHECK(l.hasWarning(dir + "/conf.d/default.conf:7: warning: location is not supported by proxyd: "
                           "dropped (http; 1 more like it)"));
  // The status page replaces the static page, and says what it serves.
  CHECK(l.hasWarning(dir + "/conf.d/default.conf:2: warning: http server on 10088 becomes "
                           "[status] listen = 10088"));
  CHECK(l.hasWarning("root html, index index.html index.htm"));
  CHECK(l.hasWarning("GET / answers 200"));
  // mime.types is not part of the article: the include inside http is skipped.
  CHECK(l.hasWarning(dir + "/nginx.conf:6: warning: include mime.types"));
  // Nothing from the stream block is dropped.
  CHECK_FALSE(l.hasWarning("stream.conf"));
  // No more than one warning per line of the sources.
  CHECK(l.imported.warnings.size() < 40);
}

TEST_CASE("nginx import: quoting, escapes, comments, ${var} and stream-level defaults") {
  TempDir t("nginx_import");
  std::string main_conf = t.write("nginx.conf", R"(# top comment
worker_processes auto;  # trailing comment
error_log logs/error.log notice;
pid /run/proxyd.pid;
stream {
    proxy_timeout 5m;
    proxy_connect_timeout 3s;
    allow 127.0.0.0/8;
    deny all;
    log_format "q" "${remote_addr} \"x\" " '$status'
        ' it\'s';
    upstream "up one" {
        least_conn;
        server 127.0.0.1:81 weight=2 max_conns=10 slow_start=10s;
        server 127.0.0.1:82 backup;
    }
    upstream two {
        random two least_conn;
        server 127.0.0.1:83;
    }
    server {
        listen 127.0.0.1:9000 reuseport;
        proxy_pass "up one";
        proxy_timeout 30s;
        access_log logs/a.log q buffer=32k;
        ssl_preread on;
    }
    server {
        listen 9001;
        listen [::1]:9001;
        proxy_pass two;
        allow 10.0.0.0/8;
        proxy_half_close on;
    }
    server {
        listen 9002;
        proxy_pass 127.0.0.1:84;
    }
}
)");
  auto l = importAndLoad(main_conf);
  INFO(l.text());
  REQUIRE(l.imported.ok);
  // "up one" has a space: not a valid [upstream] name for proxyd's reader?
  // It is: the section label keeps inner spaces.
  REQUIRE_FALSE(l.diag.hasErrors());
  CHECK(l.cfg.main.error_log.size() == 1);
  CHECK(l.cfg.main.pid_path == "/run/proxyd.pid");
  REQUIRE(l.cfg.log_format_text.count("q"));
  CHECK(l.cfg.log_format_text.at("q") == "${remote_addr} \"x\" $status it's");

  const auto* one = l.cfg.findUpstream("up one");
  REQUIRE(one);
  CHECK(one->method == proxyd::BalanceMethod::least_conn);
  REQUIRE(one->servers.size() == 2);
  CHECK(one->servers[0].weight == 2);
  CHECK(one->servers[0].max_conns == 10);
  CHECK(one->servers[1].backup);
  CHECK(
      l.hasWarning(main_conf + ":14: warning: server 127.0.0.1:81: parameter \"slow_start=10s\""));
  const auto* two = l.cfg.findUpstream("two");
  REQUIRE(two);
  CHECK(two->method == proxyd::BalanceMethod::random_two);

  REQUIRE(l.cfg.servers.size() == 3);
  const auto& a = l.cfg.servers[0];
  CHECK(a.name == "up one");
  CHECK(a.timeout == 30s);            // its own
  CHECK(a.connect_timeout == 3s);     // inherited from stream { }
  CHECK(a.access_rules.size() == 2);  // inherited: it has none of its own
  REQUIRE(a.access_logs.size() == 1);
  CHECK(a.access_logs[0].format_name == "q");
  CHECK(a.access_logs[0].buffering.size == 32 * 1024);  // carried
  // reuseport is carried now (proxyd's sockets are always SO_REUSEPORT).
  CHECK_FALSE(l.hasWarning(main_conf + ":22: warning: listen 127.0.0.1:9000"));
  CHECK(a.listen.front().socket.reuseport);
  CHECK_FALSE(l.hasWarning(main_conf + ":25: warning: access_log"));
  CHECK(a.ssl_preread);  // carried, without a warning
  CHECK_FALSE(l.hasWarning("ssl_preread"));

  const auto& b = l.cfg.servers[1];
  CHECK(b.name == "two");
  CHECK(b.listen.size() == 2);
  CHECK(b.timeout == 300s);
  CHECK(b.access_rules.size() == 1);  // its own rules replace the stream's
  CHECK(b.half_close);

  const auto& c = l.cfg.servers[2];
  CHECK(c.name == "server_9002");
  CHECK(c.proxy_pass == "127.0.0.1:84");
}

TEST_CASE("nginx import: includes resolve against the main file's directory") {
  TempDir t("nginx_import");
  std::string main_conf = t.write("conf/nginx.conf", "stream {\n    include streams/*.conf;\n}\n");
  // Included from conf/streams/a.conf, but relative to conf/ (nginx's prefix).
  t.write("conf/streams/a.conf",
          "include upstreams/up.inc;\nserver { listen 9100; proxy_pass u; }\n");
  t.write("conf/upstreams/up.inc", "upstream u {\n    server 127.0.0.1:9101;\n}\n");
  t.write("conf/streams/b.conf", "server { listen 9102; proxy_pass u; }\n");
  auto l = importAndLoad(main_conf);
  INFO(l.text());
  REQUIRE(l.imported.ok);
  REQUIRE_FALSE(l.diag.hasErrors());
  REQUIRE(l.cfg.servers.size() == 2);
  CHECK(l.cfg.servers[0].listen[0].address.port() == 9100);  // a.conf before b.conf, as glob sorts
  CHECK(l.cfg.servers[1].listen[0].address.port() == 9102);
  CHECK(l.cfg.servers[0].name == "server_9100");  // two servers share upstream u
  REQUIRE(l.cfg.findUpstream("u"));

  SECTION("a missing include outside http is an error") {
    std::string bad = t.write("conf/bad.conf", "stream {\n    include nothere.conf;\n}\n");
    auto r = proxyd::importNginx(bad);
    INFO(r.warnings.size());
    CHECK_FALSE(r.ok);
    REQUIRE_FALSE(r.warnings.empty());
    CHECK(r.warnings[0].find(bad + ":2: error: include nothere.conf: cannot read") == 0);
  }
}

TEST_CASE("nginx import: a long log_format is continued so the loader gives it back exactly") {
  TempDir t("nginx_import");
  // Pieces that end and begin with spaces, double spaces, a piece that begins
  // with "#" (a comment at the start of an INI line), and a piece longer than
  // a line.
  std::string long_piece;
  for (int i = 0; i < 30; ++i) long_piece += "$status ";
  std::string conf =
      "stream {\n    log_format long '$remote_addr  -  [$time_local] '\n"
      "        ' $status  ' 'x $bytes_sent ' '#hash $msec ' '" +
      long_piece +
      "'\n"
      "        'end:$session_time';\n"
      "    server { listen 9200; proxy_pass 127.0.0.1:9201; access_log a.log long; }\n"
      "}\n";
  std::string expected = "$remote_addr  -  [$time_local]  $status  x $bytes_sent #hash $msec " +
                         long_piece + "end:$session_time";
  std::string main_conf = t.write("nginx.conf", conf);
  auto l = importAndLoad(main_conf);
  INFO(l.text());
  REQUIRE(l.imported.ok);
  REQUIRE_FALSE(l.diag.hasErrors());
  REQUIRE(l.cfg.log_format_text.count("long"));
  CHECK(l.cfg.log_format_text.at("long") == expected);
  std::istringstream lines(l.imported.ini);
  std::string line;
  while (std::getline(lines, line)) CHECK(line.size() <= 199);
}

TEST_CASE("nginx import: several access_log with every parameter, log_format escape=") {
  TempDir t("nginx_import");
  std::string conf =
      "stream {\n"
      "    log_format js escape=json '{\"s\":\"$status\"}';\n"  // 2
      "    log_format raw escape=none '$status';\n"             // 3
      "    log_format plain escape=default '$status';\n"        // 4
      "    access_log inherited.log plain;\n"                   // 5
      "    server {\n"
      "        listen 9300; proxy_pass 127.0.0.1:9301;\n"
      "        access_log a.log js buffer=16k flush=2s;\n"      // 8
      "        access_log b.log.gz raw gzip=5 'if=$status';\n"  // 9
      "    }\n"
      "    server { listen 9302; proxy_pass 127.0.0.1:9301; }\n"  // 11: inherits
      "    server { listen 9304; proxy_pass 127.0.0.1:9301; access_log off; }\n"
      "}\n";
  auto l = importAndLoad(t.write("nginx.conf", conf));
  INFO(l.text());
  REQUIRE(l.imported.ok);
  REQUIRE_FALSE(l.diag.hasErrors());
  CHECK(l.imported.warnings.empty());
  CHECK(l.cfg.log_format_escape.at("js") == proxyd::Escape::json);
  CHECK(l.cfg.log_format_escape.at("raw") == proxyd::Escape::none);
  CHECK(l.cfg.log_format_escape.at("plain") == proxyd::Escape::standard);
  REQUIRE(l.cfg.servers.size() == 3);
  const auto& own = l.cfg.servers[0].access_logs;
  REQUIRE(own.size() == 2);  // its own replace the stream block's
  CHECK(own[0].format_name == "js");
  CHECK(own[0].buffering.size == 16 * 1024);
  CHECK(own[0].buffering.flush == 2s);
  CHECK(own[1].buffering.gzip == 5);
  CHECK(own[1].buffering.size == 64 * 1024);
  CHECK(own[1].condition == "$status");
  REQUIRE(l.cfg.servers[1].access_logs.size() == 1);
  CHECK(l.cfg.servers[1].access_logs[0].format_name == "plain");
  CHECK(l.cfg.servers[2].access_logs.empty());
}

TEST_CASE("nginx import: an access_log nginx would refuse is dropped with nginx's reason") {
  TempDir t("nginx_import");
  auto l = importAndLoad(t.write("nginx.conf",
                                 "stream {\n    log_format f '$status';\n"
                                 "    server { listen 9310; proxy_pass 127.0.0.1:9311;\n"
                                 "        access_log a.log f flush=1s; }\n}\n"));
  CHECK(l.hasWarning(":4: warning: access_log: no buffer is defined for access_log \"a.log\""));
  REQUIRE_FALSE(l.diag.hasErrors());
  CHECK(l.cfg.servers.at(0).access_logs.empty());
}

TEST_CASE("nginx import: what proxyd's INI cannot hold is a warning, not a wrong value") {
  TempDir t("nginx_import");
  std::string main_conf = t.write("nginx.conf",
                                  "stream {\n    log_format semi '$status ;x';\n"
                                  "    log_format nl '$status\\n';\n"
                                  "    log_format bad '$request';\n"
                                  "    server { listen 9300; proxy_pass 127.0.0.1:9301;"
                                  " access_log x.log semi; }\n}\n");
  auto l = importAndLoad(main_conf);
  INFO(l.text());
  REQUIRE(l.imported.ok);
  REQUIRE_FALSE(l.diag.hasErrors());
  CHECK(l.cfg.log_format_text.empty());
  CHECK(l.hasWarning(main_conf + ":2: warning: log_format: the value cannot be written"));
  CHECK(l.hasWarning(main_conf + ":3: warning: log_format: the value cannot be written"));
  CHECK(l.hasWarning(main_conf + ":4: warning: log_format bad: unknown variable"));
  CHECK(l.hasWarning("log_format \"semi\" was dropped: the access log is dropped"));
}

TEST_CASE("nginx import: syntax errors are FILE:LINE errors and ok=false") {
  TempDir t("nginx_import");
  struct Case {
    const char* text;
    int line;
    const char* what;
  };
  const Case cases[] = {
      {"stream {\n    server {\n        listen 1\n    }\n}\n", 4, "unexpected \"}\""},
      {"stream {\n    upstream u {\n        server a:1;\n", 2, "unexpected end of file"},
      {"events { }\n}\n", 2, "unexpected \"}\""},
      {"worker_processes 1\n", 1, "unexpected end of file"},
      {"stream {\n    log_format x '$status;\n}\n", 2, "no closing"},
      {"stream {\n    log_format x '$status'x;\n}\n", 2, "unexpected \"x\""},
      {"stream {\n    ;\n}\n", 2, "unexpected \";\""},
  };
  for (const auto& c : cases) {
    std::string path = t.write("bad.conf", c.text);
    auto r = proxyd::importNginx(path);
    INFO(c.text);
    CHECK_FALSE(r.ok);
    REQUIRE(r.warnings.size() == 1);
    CHECK(r.warnings[0].find(path + ":" + std::to_string(c.line) + ": error: ") == 0);
    CHECK(r.warnings[0].find(c.what) != std::string::npos);
  }
  auto missing = proxyd::importNginx((t.path / "nope.conf").string());
  CHECK_FALSE(missing.ok);
  REQUIRE(missing.warnings.size() == 1);
  CHECK(missing.warnings[0].find("error: cannot read") != std::string::npos);
}

// Values Debian's nginx -t accepts (tests/interop/test_import_limits.py runs
// it): each imports into a file proxyd's loader accepts, as written when
// proxyd's range holds it, else as the nearest bound with a warning at the
// nginx.conf line. proxy_buffer_size 1 used to import as a file proxyd -t
// refused (its minimum was 512).
TEST_CASE("nginx import: edge values nginx accepts import into a file that loads") {
  TempDir dir("nginx_import");
  const std::string conf = dir.write("nginx.conf",
                                     "worker_processes 100000;\n"          // 1
                                     "events { worker_connections 1; }\n"  // 2
                                     "stream {\n"                          // 3
                                     "  upstream api {\n"                  // 4
                                     "    server 127.0.0.1:6443 fail_timeout=1000y "
                                     "weight=9223372036854775807 max_fails=0;\n"  // 5
                                     "  }\n"                                      // 6
                                     "  proxy_timeout 9000000000000000;\n"        // 7
                                     "  server {\n"                               // 8
                                     "    listen 127.0.0.1:10443;\n"              // 9
                                     "    proxy_pass api;\n"                      // 10
                                     "    proxy_buffer_size 1;\n"                 // 11
                                     "    proxy_connect_timeout 0;\n"             // 12
                                     "  }\n"                                      // 13
                                     "  server {\n"                               // 14
                                     "    listen 127.0.0.1:10444;\n"              // 15
                                     "    proxy_pass api;\n"                      // 16
                                     "    proxy_buffer_size 0;\n"                 // 17
                                     "  }\n"
                                     "}\n");
  auto l = importAndLoad(conf);
  INFO(l.text());
  REQUIRE(l.imported.ok);
  CHECK_FALSE(l.diag.hasErrors());
  CHECK(l.cfg.main.worker_processes == 1024);
  CHECK(l.hasWarning(conf + ":1: warning: worker_processes 100000: proxyd takes"));
  CHECK(l.cfg.main.worker_connections == 1);
  const proxyd::UpstreamSection* up = l.cfg.findUpstream("api");
  REQUIRE(up != nullptr);
  REQUIRE(up->servers.size() == 1);
  CHECK(up->servers[0].fail_timeout == std::chrono::seconds(2147483647));
  CHECK(up->servers[0].weight == 100000);
  CHECK(up->servers[0].max_fails == 0);
  CHECK(l.hasWarning(conf + ":5: warning: server 127.0.0.1:6443 fail_timeout=1000y"));
  CHECK(l.hasWarning(conf + ":7: warning: proxy_timeout 9000000000000000"));
  REQUIRE(l.cfg.servers.size() == 2);
  CHECK(l.cfg.servers[0].buffer_size == 1);
  CHECK(l.cfg.servers[0].timeout == std::chrono::milliseconds(2147483647));
  CHECK(l.cfg.servers[0].connect_timeout == 0ms);
  CHECK(l.cfg.servers[1].buffer_size == 1);
  CHECK(l.hasWarning(conf + ":17: warning: proxy_buffer_size 0: proxyd takes proxy_buffer_size "
                            "from 1 to 64m: written as 1"));
}

// What proxyd's loader still refuses in the output is a warning at the
// nginx.conf line, and the line is left out: never a file that does not load.
TEST_CASE("nginx import: what proxyd's loader refuses is left out, at the nginx line") {
  TempDir dir("nginx_import");
  const std::string conf = dir.write("nginx.conf",
                                     "stream {\n"                           // 1
                                     "  upstream api {\n"                   // 2
                                     "    hash $remote_addr consistent;\n"  // 3
                                     "    server 127.0.0.1:6443;\n"         // 4
                                     "    server 127.0.0.1:6444 backup;\n"  // 5
                                     "  }\n"                                // 6
                                     "  server {\n"                         // 7
                                     "    listen 127.0.0.1:10443;\n"        // 8
                                     "    listen 127.0.0.1:10443;\n"        // 9
                                     "    proxy_pass api;\n"                // 10
                                     "  }\n"
                                     "}\n");
  auto l = importAndLoad(conf);
  INFO(l.text());
  REQUIRE(l.imported.ok);
  CHECK_FALSE(l.diag.hasErrors());
  CHECK(l.hasWarning(conf + ":5: warning: server: \"backup\" cannot be used with hash"));
  CHECK(l.hasWarning(conf + ":9: warning: listen: duplicate 127.0.0.1:10443 (also on " + conf +
                     ":8)"));
  REQUIRE(l.cfg.findUpstream("api") != nullptr);
  CHECK(l.cfg.findUpstream("api")->servers.size() == 1);
}

TEST_CASE("nginx import: a line break in any value is refused, not written") {
  TempDir t("nginx_import");
  // nginx turns "\n" in a quoted string into a line break; written as is, it
  // would cut the INI line in two.
  std::string main_conf = t.write("nginx.conf",
                                  "stream {\n    server {\n        listen 9400;\n"
                                  "        proxy_pass \"192.0.2.1:80\\n[main]\";\n    }\n}\n");
  auto l = importAndLoad(main_conf);
  INFO(l.text());
  REQUIRE(l.imported.ok);
  CHECK_FALSE(l.diag.hasErrors());
  CHECK(l.hasWarning(main_conf +
                     ":4: warning: proxy_pass: the value cannot be written to proxyd.ini (it "
                     "contains a line break): dropped"));
  CHECK(l.imported.ini.find("[main]") == std::string::npos);
}

TEST_CASE("nginx import: stream map blocks become [map $x] sections, word for word") {
  TempDir t("nginx_import");
  t.write("conf/maps/extra.map", "extra.example.com extra;\n");
  std::string main_conf = t.write("conf/nginx.conf",
                                  "stream {\n"
                                  // Variables of maps further down.
                                  "    log_format m '$backend $sub $plain';\n"
                                  "    map $ssl_preread_server_name $backend {\n"
                                  "        hostnames;\n"
                                  "        volatile;\n"
                                  "        default apiserver;\n"
                                  "        api.example.com       apiserver;\n"
                                  "        *.example.com         wild;\n"
                                  "        \"~^(?<sub>[^;]+) #x$\" \"$sub pool\";\n"
                                  "        ~*^INGRESS\\.          ingress;\n"
                                  "        \\default             literal-default;\n"
                                  "        include maps/extra.map;\n"
                                  "        \"\"                   empty;\n"
                                  "    }\n"
                                  "    map \"${remote_addr}x\" $plain {\n"
                                  "        127.0.0.1x  local;\n"
                                  "        bad one two;\n"
                                  "    }\n"
                                  "    upstream u { server 127.0.0.1:9101; }\n"
                                  "    server { listen 9100; proxy_pass u; }\n"
                                  "}\n");
  auto l = importAndLoad(main_conf);
  INFO(l.text());
  REQUIRE(l.imported.ok);
  CHECK_FALSE(l.hasWarning("map is not supported"));
  const std::string want_backend =
      "[map $backend]\n"
      "source = $ssl_preread_server_name\n"
      "hostnames = on\n"
      "volatile = on\n"
      "default = apiserver\n"
      "entry = api.example.com apiserver\n"
      "entry = *.example.com wild\n"
      "entry = " +
      common::quoteToken("~^(?<sub>[^;]+) #x$") + " " + common::quoteToken("$sub pool") +
      "\n"
      "entry = \"~*^INGRESS\\\\.\" ingress\n"
      "entry = \"\\\\default\" literal-default\n"
      "include = maps/extra.map\n"
      "entry = \"\" empty\n";
  CHECK(l.imported.ini.find(want_backend) != std::string::npos);
  const std::string want_plain =
      "[map $plain]\n"
      "source = ${remote_addr}x\n"
      "entry = 127.0.0.1x local\n";
  CHECK(l.imported.ini.find(want_plain) != std::string::npos);
  CHECK(l.hasWarning(main_conf + ":17: warning: map $plain: expected \"KEY VALUE;\""));
  // The sections load, the include relative to nginx's directory as the
  // prefix: no warning beyond the dropped line.
  CHECK(l.countWarnings("warning") == 1);
  common::Diagnostics diag;
  auto cfg = proxyd::parseProxyConfig(l.imported.ini, "/etc/proxyd/proxyd.ini", t.at("conf"), diag);
  INFO(test_support::diagnosticText(diag));
  CHECK_FALSE(diag.hasErrors());
  CHECK(cfg.variables.table->find("sub"));
}

TEST_CASE("nginx import: syslog targets and several error_log are carried") {
  TempDir t("nginx_import");
  std::string conf = t.write("nginx.conf", R"(error_log logs/error.log;
error_log syslog:server=127.0.0.1:5514,tag=lb warn;
stream {
    log_format p '$remote_addr $status';
    error_log syslog:server=unix:/dev/log,nohostname info;
    server {
        listen 9000;
        proxy_pass 127.0.0.1:84;
        access_log syslog:server=127.0.0.1,facility=local0,severity=notice p;
    }
    server {
        listen 9001;
        proxy_pass 127.0.0.1:85;
        error_log logs/9001.log debug;
        error_log syslog:server=127.0.0.1:5515 error;
        access_log syslog:server=127.0.0.1,facility=local9 p;
    }
}
)");
  auto l = importAndLoad(conf);
  INFO(l.text());
  REQUIRE(l.imported.ok);
  REQUIRE_FALSE(l.diag.hasErrors());
  REQUIRE(l.cfg.main.error_log.size() == 2);
  REQUIRE(l.cfg.main.error_log[1].syslog);
  CHECK(l.cfg.main.error_log[1].syslog->tag == "lb");
  CHECK(l.cfg.main.error_log[1].level == common::LogLevel::warn);
  REQUIRE(l.cfg.servers.size() == 2);
  // The stream block's chain is inherited by a server without its own.
  const auto& a = l.cfg.servers[0];
  REQUIRE(a.error_log.size() == 1);
  CHECK(a.error_log[0].syslog->unix_path == "/dev/log");
  CHECK(a.error_log[0].syslog->nohostname);
  REQUIRE(a.access_logs.size() == 1);
  REQUIRE(a.access_logs[0].syslog);
  CHECK(a.access_logs[0].syslog->facility == 16);
  const auto& b = l.cfg.servers[1];
  REQUIRE(b.error_log.size() == 2);
  CHECK(b.error_log[0].level == common::LogLevel::debug);
  CHECK(b.error_log[1].syslog->server.port() == 5515);
  // nginx -t refuses it; the importer says nginx's reason and drops it.
  CHECK(b.access_logs.empty());
  CHECK(
      l.hasWarning("nginx.conf:16: warning: access_log: unknown syslog facility \"local9\": "
                   "dropped"));
  CHECK(l.imported.warnings.size() == 1);
}

TEST_CASE(
    "nginx import: geo and split_clients become [geo $x] / [split_clients $x] word for word") {
  TempDir t("nginx_import");
  t.write("conf/offices.geo", "198.51.100.0/24 branch;\n");
  std::string main_conf = t.write("conf/nginx.conf", R"(stream {
    geo $client_net {
        default      "far away";
        192.0.2.0/24 office;
        include      offices.geo;
        delete       192.0.2.128/25;
        2001:db8::/32 'v6 ; lab';
    }
    geo $remote_addr $client_range {
        ranges;
        default none;
        192.0.2.1-192.0.2.99 low;
    }
    split_clients "${remote_addr}AAA" $variant {
        0.5% .one;
        2%   "";
        *    "#rest";
    }
    log_format geo '$client_net $client_range $variant';
    upstream u { hash $variant; server 127.0.0.1:9101; }
    server { listen 9100; proxy_pass u; access_log /tmp/geo.log geo; }
}
)");
  auto l = importAndLoad(main_conf);
  INFO(l.text());
  REQUIRE(l.imported.ok);
  REQUIRE_FALSE(l.diag.hasErrors());
  CHECK(l.imported.warnings.empty());
  // Log formats and hash keys that name them are carried too.
  CHECK_THAT(l.imported.ini, Catch::Contains("format = $client_net $client_range $variant\n"));
  CHECK_THAT(l.imported.ini, Catch::Contains("hash = $variant\n"));
  // Each statement in order, each word quoted only where the INI needs it.
  CHECK_THAT(l.imported.ini, Catch::Contains("[geo $client_net]\n"
                                             "default = \"far away\"\n"
                                             "entry = 192.0.2.0/24 office\n"
                                             "entry = 198.51.100.0/24 branch\n"
                                             "delete = 192.0.2.128/25\n"
                                             "entry = 2001:db8::/32 \"v6 \\x3B lab\"\n"));
  CHECK_THAT(l.imported.ini, Catch::Contains("[geo $client_range]\n"
                                             "source = $remote_addr\n"
                                             "ranges = on\n"
                                             "default = none\n"
                                             "entry = 192.0.2.1-192.0.2.99 low\n"));
  CHECK_THAT(l.imported.ini, Catch::Contains("[split_clients $variant]\n"
                                             "source = ${remote_addr}AAA\n"
                                             "entry = 0.5% .one\n"
                                             "entry = 2% \"\"\n"
                                             "entry = * \"#rest\"\n"));
  for (const char* name : {"client_net", "client_range", "variant"}) {
    INFO(name);
    auto index = l.cfg.variables.table->find(name);
    REQUIRE(index);
    CHECK(l.cfg.variables.table->at(*index).source);
  }
}

TEST_CASE("nginx import: tuning knobs go quietly, obsolete directives with a warning") {
  TempDir t("nginx_import");
  std::string main_conf = t.write("nginx.conf", R"(stream {
    variables_hash_max_size 2048;
    variables_hash_bucket_size 128;
    server_names_hash_max_size 1024;
    server_names_hash_bucket_size 64;
    map_hash_max_size 4096;
    map_hash_bucket_size 128;
    open_log_file_cache max=1000 inactive=20s;
    geoip_country /usr/share/GeoIP/GeoIP.dat;
    upstream blue { server 127.0.0.1:81; }
    server {
        listen 9000;
        proxy_downstream_buffer 32k;
        proxy_pass blue;
    }
}
)");
  auto l = importAndLoad(main_conf);
  INFO(l.text());
  REQUIRE(l.imported.ok);
  REQUIRE_FALSE(l.diag.hasErrors());
  REQUIRE(l.imported.warnings.size() == 2);
  CHECK(l.hasWarning("nginx.conf:9: warning: geoip_country is obsolete"));
  CHECK(l.hasWarning("nginx.conf:13: warning: proxy_downstream_buffer is obsolete"));
  REQUIRE(l.cfg.servers.size() == 1);
  CHECK(l.cfg.servers[0].buffer_size == 32768);
}

TEST_CASE("nginx import: pass is carried; with another handler the last one stays") {
  TempDir t("nginx_import");
  std::string main_conf = t.write("nginx.conf", R"(stream {
    upstream blue { server 127.0.0.1:81; }
    server {
        listen 9000;
        pass 127.0.0.1:9001;
    }
    server {
        listen 9001;
        set $target 127.0.0.1:9000;
        proxy_pass blue;
        pass $target;
    }
}
)");
  auto l = importAndLoad(main_conf);
  INFO(l.text());
  REQUIRE(l.imported.ok);
  REQUIRE_FALSE(l.diag.hasErrors());
  REQUIRE(l.imported.warnings.size() == 1);
  CHECK(
      l.hasWarning("nginx.conf:10: warning: stream server on 9001: \"proxy_pass\" and "
                   "\"pass\" exclude each other"));
  REQUIRE(l.cfg.servers.size() == 2);
  CHECK(l.cfg.servers[0].pass == "127.0.0.1:9001");
  CHECK(l.cfg.servers[1].pass == "$target");
  CHECK(l.cfg.servers[1].proxy_pass.empty());
}

TEST_CASE("nginx import: set, return and proxy_pass with variables are carried byte for byte") {
  TempDir t("nginx_import");
  std::string main_conf = t.write("nginx.conf", R"(stream {
    upstream blue { server 127.0.0.1:81; }
    server {
        listen 9000;
        set $pool blue;
        set $note "a b; #c\t\"q\" $remote_addr";
        proxy_pass $pool;
    }
    server {
        listen 9001;
        return "ok $remote_addr:$server_port\n";
    }
    server {
        listen 9002;
        return "first";
        proxy_pass blue;
    }
}
)");
  auto l = importAndLoad(main_conf);
  INFO(l.text());
  REQUIRE(l.imported.ok);
  REQUIRE_FALSE(l.diag.hasErrors());
  // Only the server with both handlers warns: nginx runs the last one.
  REQUIRE(l.imported.warnings.size() == 1);
  CHECK(
      l.hasWarning("nginx.conf:15: warning: stream server on 9002: \"return\" and "
                   "\"proxy_pass\" exclude each other"));
  REQUIRE(l.cfg.servers.size() == 3);
  const auto& routed = l.cfg.servers[0];
  CHECK(routed.proxy_pass == "$pool");
  REQUIRE(routed.sets.size() == 2);
  CHECK(routed.sets[0].value == "blue");
  CHECK(routed.sets[1].name == "note");
  CHECK(routed.sets[1].value == "a b; #c\t\"q\" $remote_addr");
  REQUIRE(l.cfg.servers[1].return_text);
  CHECK(*l.cfg.servers[1].return_text == "ok $remote_addr:$server_port\n");
  CHECK(l.cfg.servers[1].proxy_pass.empty());
  CHECK(l.cfg.servers[2].proxy_pass == "blue");
  CHECK_FALSE(l.cfg.servers[2].return_text);
}

TEST_CASE("nginx import: ssl_preread, preread_*, server_name and listen default_server") {
  TempDir t("nginx_import");
  std::string main_conf = t.write("nginx.conf", R"(events { }
stream {
    preread_timeout 5s;
    server {
        listen 127.0.0.1:9443;
        ssl_preread on;
        preread_buffer_size 32k;
        server_name api.example.com "~^(?<x>.+)\.ingress\.test;$";
        proxy_pass 127.0.0.1:6443;
    }
    server {
        listen 127.0.0.1:9443 default_server;
        server_name *.example.com;
        proxy_pass 127.0.0.1:8443;
    }
}
)");
  auto l = importAndLoad(main_conf);
  INFO(l.text());
  REQUIRE_FALSE(l.diag.hasErrors());
  CHECK(l.imported.warnings.empty());
  REQUIRE(l.cfg.servers.size() == 2);
  const auto& a = l.cfg.servers[0];
  CHECK(a.ssl_preread);
  CHECK(a.preread_buffer_size == 32768);
  CHECK(a.preread_timeout == 5s);  // inherited from stream { }
  CHECK(a.server_names ==
        std::vector<std::string>{"api.example.com", "~^(?<x>.+)\\.ingress\\.test;$"});
  CHECK_FALSE(a.listen.front().default_server);
  const auto& b = l.cfg.servers[1];
  CHECK_FALSE(b.ssl_preread);
  CHECK(b.server_names == std::vector<std::string>{"*.example.com"});
  CHECK(b.listen.front().default_server);
}

TEST_CASE("nginx import: limit_conn_zone, limit_conn and the rates, with nginx's inheritance") {
  TempDir t("nginx_import");
  std::string main_conf = t.write("nginx.conf", R"(events { }
stream {
    limit_conn_zone $binary_remote_addr zone=addr:10m;
    limit_conn_zone "$server_port x" zone=port:1m;
    limit_conn addr 10;
    limit_conn_log_level warn;
    proxy_download_rate 1m;
    server {
        listen 127.0.0.1:9443;
        limit_conn port 2;
        limit_conn addr 3;
        limit_conn_dry_run on;
        proxy_upload_rate $server_port;
        proxy_pass 127.0.0.1:6443;
    }
    server {
        listen 127.0.0.1:9444;
        proxy_pass 127.0.0.1:6443;
    }
}
)");
  auto l = importAndLoad(main_conf);
  INFO(l.text());
  REQUIRE_FALSE(l.diag.hasErrors());
  CHECK(l.imported.warnings.empty());
  REQUIRE(l.cfg.main.limit_conn_zones.size() == 2);
  CHECK(l.cfg.main.limit_conn_zones[0].key == "$binary_remote_addr");
  CHECK(l.cfg.main.limit_conn_zones[0].size == 10u << 20);
  CHECK(l.cfg.main.limit_conn_zones[1].key == "$server_port x");
  REQUIRE(l.cfg.servers.size() == 2);
  const auto& a = l.cfg.servers[0];
  // A server's own limit_conn lines replace the stream block's (nginx's merge).
  REQUIRE(a.limit_conn.size() == 2);
  CHECK(a.limit_conn[0].zone == "port");
  CHECK(a.limit_conn[1].conn == 3);
  CHECK(a.limit_conn_dry_run);
  CHECK(a.limit_conn_log_level == common::LogLevel::warn);
  CHECK(a.upload_rate == "$server_port");
  CHECK(a.download_rate == "1m");
  const auto& b = l.cfg.servers[1];
  REQUIRE(b.limit_conn.size() == 1);
  CHECK(b.limit_conn[0].zone == "addr");
  CHECK(b.limit_conn[0].conn == 10);
  CHECK_FALSE(b.limit_conn_dry_run);
}

TEST_CASE("nginx import: PROXY protocol and realip, inherited as nginx merges them") {
  TempDir t("nginx_import");
  auto l = importAndLoad(t.write(
      "nginx.conf",
      "stream {\n    proxy_protocol_timeout 5s;\n    set_real_ip_from 10.0.0.0/8;\n"
      "    server { listen 9320 proxy_protocol; proxy_protocol v2; proxy_pass 127.0.0.1:9321; }\n"
      "    server { listen 9322; set_real_ip_from unix:; set_real_ip_from 192.0.2.1;\n"
      "        proxy_protocol on; proxy_pass 127.0.0.1:9321; }\n"
      "    server { listen 9323; set_real_ip_from lb.example; proxy_pass 127.0.0.1:9321; }\n}\n"));
  INFO(l.text());
  CHECK(l.hasWarning(":7: warning: set_real_ip_from"));
  CHECK(l.imported.warnings.size() == 1);
  REQUIRE_FALSE(l.diag.hasErrors());
  REQUIRE(l.cfg.servers.size() == 3);
  const auto& a = l.cfg.servers[0];
  CHECK(a.listen.at(0).proxy_protocol);
  CHECK(a.proxy_protocol.send == proxyd::ProxyProtocolSend::v2);
  CHECK(a.proxy_protocol.timeout == 5s);
  CHECK(a.proxy_protocol.real_ip_from.networks.size() == 1);
  const auto& b = l.cfg.servers[1];
  CHECK_FALSE(b.listen.at(0).proxy_protocol);
  CHECK(b.proxy_protocol.send == proxyd::ProxyProtocolSend::v1);
  CHECK(b.proxy_protocol.real_ip_from.unix_peers);
  CHECK(b.proxy_protocol.real_ip_from.networks.size() == 1);  // its own list replaces the block's
}
