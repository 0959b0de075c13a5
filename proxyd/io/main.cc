// proxyd: command line as nginx's (DESIGN.md), always in the foreground.
//   proxyd [-c FILE] [-p PREFIX] [-t] [-T] [-s reload|reopen|quit|stop] [-v]
// Exit codes: 0 success, 1 configuration error, 2 runtime failure.
#include <unistd.h>

#include <csignal>
#include <cstring>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string_view>

#include <fmt/format.h>

#include "common/pid_file.h"
#include "common/safe_file.h"
#include "import/nginx/nginx_import.h"
#include "proxyd/core/config.h"
#include "proxyd/io/proxy.h"

namespace {

constexpr const char* kVersion = "proxyd 0.1.0";
constexpr const char* kDefaultConfig = "/etc/proxyd/proxyd.ini";

void usage(std::ostream& out) {
  out << "usage: proxyd [-c FILE] [-p PREFIX] [-t] [-T] [-s reload|reopen|quit|stop] [-v]\n"
         "       proxyd --import-nginx NGINX.CONF   (prints the equivalent proxyd.ini)\n"
         "  -c FILE    configuration file (default "
      << kDefaultConfig
      << ")\n"
         "  -p PREFIX  directory that relative paths resolve against\n"
         "             (default: the configuration file's directory)\n"
         "  -t         check the configuration and exit\n"
         "  -T         check the configuration, print it and exit\n"
         "  -s SIGNAL  send reload, reopen, quit or stop to the running proxyd (via its pid file)\n"
         "  -v         print the version and exit\n";
}

std::string hostName() {
  char buf[256] = {};
  if (::gethostname(buf, sizeof buf - 1) != 0) return "localhost";
  return buf;
}

int sendSignal(const proxyd::ProxyConfig& cfg, const std::string& name) {
  int sig = name == "reload"   ? SIGHUP
            : name == "reopen" ? SIGUSR1
            : name == "quit"   ? SIGQUIT
            : name == "stop"   ? SIGTERM
                               : 0;
  if (sig == 0) {
    std::cerr << "proxyd: invalid option: \"-s " << name
              << "\" (expected reload, reopen, quit or stop)\n";
    return 1;
  }
  if (cfg.main.pid_path.empty()) {
    std::cerr << "proxyd: " << cfg.path
              << ": [main] has no \"pid\": cannot find the running proxyd\n";
    return 1;
  }
  // Only the process that holds the pid file's lock is signalled: a pid
  // read from the file may belong to anything by now (nginx's `-s` trusts
  // the number; a stale file then signals an unrelated process).
  auto pid = common::pidFileHolder(cfg.main.pid_path);
  if (!pid) {
    std::cerr << "proxyd: " << pid.error() << "\n";
    return 2;
  }
  if (::kill(*pid, sig) != 0) {
    std::cerr << fmt::format("proxyd: kill({}, {}) failed ({}: {})\n", *pid, name, errno,
                             std::strerror(errno));
    return 2;
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  // --import-nginx FILE: prints the equivalent INI on stdout, warnings (and
  // errors) as FILE:LINE on stderr; exit 1 if the source could not be read.
  if (argc == 3 && std::string_view(argv[1]) == "--import-nginx") {
    auto imported = proxyd::importNginx(argv[2]);
    std::cout << imported.ini;
    for (const auto& w : imported.warnings) std::cerr << w << "\n";
    return imported.ok ? 0 : 1;
  }
  std::string config_path = kDefaultConfig;
  std::string prefix;
  std::string signal_name;
  bool test = false, dump = false;
  int opt;
  opterr = 0;
  while ((opt = ::getopt(argc, argv, "c:p:tTs:vh")) != -1) {
    switch (opt) {
      case 'c':
        config_path = optarg;
        break;
      case 'p':
        prefix = optarg;
        break;
      case 't':
        test = true;
        break;
      case 'T':
        test = dump = true;
        break;
      case 's':
        signal_name = optarg;
        break;
      case 'v':
        std::cout << kVersion << "\n";
        return 0;
      case 'h':
        usage(std::cout);
        return 0;
      default:
        std::cerr << "proxyd: invalid option: \"-" << static_cast<char>(optopt) << "\"\n";
        usage(std::cerr);
        return 1;
    }
  }
  if (optind < argc) {
    std::cerr << "proxyd: unexpected argument \"" << argv[optind] << "\"\n";
    usage(std::cerr);
    return 1;
  }

  common::Diagnostics diag;
  proxyd::ProxyConfig cfg = proxyd::loadProxyConfig(config_path, prefix, diag);
  diag.print(std::cerr);
  if (test) {
    if (diag.hasErrors()) {
      std::cerr << "proxyd: configuration file " << config_path << " test failed\n";
      return 1;
    }
    std::cerr << "proxyd: configuration file " << config_path << " test is successful\n";
    if (dump) {
      std::ifstream in(config_path);
      std::cout << "# configuration file " << config_path << ":\n" << in.rdbuf();
    }
    return 0;
  }
  if (diag.hasErrors()) return 1;
  if (!signal_name.empty()) return sendSignal(cfg, signal_name);

  auto log = std::make_shared<common::Log>(common::LogLevel::error);
  if (cfg.main.error_log) {
    log->setMinimum(cfg.main.error_log->level);
    if (auto r = log->openFile(cfg.main.error_log->path); !r) {
      std::cerr << "proxyd: " << r.error() << "\n";
      return 2;
    }
  }
  std::optional<common::PidFile> pid_file;
  if (!cfg.main.pid_path.empty()) {
    // The pid file's directory follows vrrpd's run_dir rules: created 0755
    // when missing, refused when anyone else could plant a file in it.
    const std::string& path = cfg.main.pid_path;
    auto slash = path.find_last_of('/');
    std::string dir = slash == std::string::npos ? "." : slash == 0 ? "/" : path.substr(0, slash);
    auto pf = [&]() -> common::Result<common::PidFile> {
      if (auto r = common::prepareRunDir(dir, ::geteuid()); !r) {
        return common::Result<common::PidFile>::fail(r.error());
      }
      return common::PidFile::create(path);
    }();
    if (!pf) {
      log->emerg("{}", pf.error());
      if (log->path() != "stderr") std::cerr << "proxyd: " << pf.error() << "\n";
      return 2;
    }
    if (auto old = pf->tookOverFrom()) {
      log->notice("pid file \"{}\" named pid {}, which does not hold its lock: taken over", path,
                  *old);
    }
    pid_file.emplace(std::move(*pf));
  }
  proxyd::ProcessInfo process{hostName(), ::getpid()};
  proxyd::Proxy proxy(std::move(cfg), log, process);
  if (auto r = proxy.start(); !r) {
    log->emerg("{}", r.error());
    if (log->path() != "stderr") std::cerr << "proxyd: " << r.error() << "\n";
    return 2;
  }
  return proxy.run();
}
