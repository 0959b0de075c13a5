// proxyd -t's host warnings against a made-up host: the loader asks only
// the host it is given (common/host.h).
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "proxyd/core/config.h"
#include "tests/unit/support/diagnostics.h"
#include "tests/unit/support/fake_host.h"

namespace {

const std::string kPath = "/etc/proxyd/proxyd.ini";

struct Loaded {
  proxyd::ProxyConfig cfg;
  std::vector<std::string> lines;
};

Loaded load(const std::string& text, const test_support::FakeHost& host) {
  Loaded l;
  common::Diagnostics diag;
  l.cfg = proxyd::parseProxyConfig(text, kPath, "/etc/proxyd", diag, host);
  l.lines = test_support::diagnosticLines(diag);
  return l;
}

const std::string kText =
    "[main]\n"                                                     // 1
    "worker_processes = auto\n"                                    // 2
    "error_log = /var/log/proxyd/error.log\n"                      // 3
    "[upstream kube]\n"                                            // 4
    "server = 127.0.0.1:6443\n"                                    // 5
    "health_check = type=https verify=on ca=/etc/proxyd/ca.pem\n"  // 6
    "[server api]\n"                                               // 7
    "listen = 127.0.0.1:16443\n"                                   // 8
    "proxy_pass = kube\n"                                          // 9
    "access_log = /var/log/proxyd/k8s-access.log main\n"           // 10
    "[log_format main]\n"                                          // 11
    "format = $remote_addr\n";                                     // 12

test_support::FakeHost fullHost() {
  test_support::FakeHost h;
  h.addFile("/var/log/proxyd/error.log", S_IFREG | 0640);
  h.addFile("/etc/proxyd/ca.pem", S_IFREG | 0644);
  h.cpus = 7;
  return h;
}

}  // namespace

TEST_CASE("proxyd -t on a host that has the files: no warning; auto is the host's CPUs") {
  auto l = load(kText, fullHost());
  for (const auto& line : l.lines) UNSCOPED_INFO(line);
  CHECK(l.lines.empty());
  CHECK(l.cfg.main.worker_processes == 7);
}

TEST_CASE("proxyd -t: a missing log directory or unreadable health-check file is a warning") {
  auto h = fullHost();
  h.files.erase("/var/log/proxyd");
  h.files.erase("/etc/proxyd/ca.pem");
  auto l = load(kText, h);
  CHECK(l.lines ==
        std::vector<std::string>{
            kPath + ":3: warning: error_log: directory \"/var/log/proxyd\" does not exist",
            kPath + ":6: warning: health_check: cannot read \"/etc/proxyd/ca.pem\"",
            kPath + ":10: warning: access_log: directory \"/var/log/proxyd\" does not "
                    "exist"});
}
