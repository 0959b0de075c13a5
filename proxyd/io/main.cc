// proxyd: command line as nginx's (DESIGN.md), always in the foreground.
//   proxyd [-c FILE] [-p PREFIX] [-t] [-T] [-s reload|reopen|quit|stop] [-v]
// Exit codes: 0 success, 1 configuration error, 2 runtime failure.
#include <unistd.h>

#include <csignal>
#include <cstring>
#include <fstream>
#include <iostream>
#include <optional>
#include <sstream>
#include <string_view>

#include <fmt/format.h>

#include "common/held_signals.h"
#include "common/pid_file.h"
#include "common/safe_file.h"
#include "common/sys_error.h"
#include "common/version.h"
#include "import/nginx/nginx_import.h"
#include "proxyd/core/config.h"
#include "proxyd/io/error_log_chain.h"
#include "proxyd/io/proxy.h"

namespace {

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
    int err = errno;
    std::cerr << fmt::format("proxyd: {}\n",
                             common::SysError{fmt::format("kill({}, {})", *pid, name), err});
    return 2;
  }
  return 0;
}

// What the command line asks for.
struct Options {
  std::string config_path = kDefaultConfig;
  std::string prefix;
  std::string signal_name;
  bool test = false, dump = false;
};

// Reads the command line into `opts`. An exit code when that is all there
// is to do (-v, -h, a wrong option).
std::optional<int> parseOptions(int argc, char** argv, Options& opts) {
  int opt;
  opterr = 0;
  while ((opt = ::getopt(argc, argv, "c:p:tTs:vh")) != -1) {
    switch (opt) {
      case 'c':
        opts.config_path = optarg;
        break;
      case 'p':
        opts.prefix = optarg;
        break;
      case 't':
        opts.test = true;
        break;
      case 'T':
        opts.test = opts.dump = true;
        break;
      case 's':
        opts.signal_name = optarg;
        break;
      case 'v':
        std::cout << "proxyd " << common::kVersion << "\n";
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
  return std::nullopt;
}

// -t and -T, once the problems are printed: the verdict, and for -T the file.
int testConfig(const Options& opts, const common::Diagnostics& diag) {
  if (diag.hasErrors()) {
    std::cerr << "proxyd: configuration file " << opts.config_path << " test failed\n";
    return 1;
  }
  std::cerr << "proxyd: configuration file " << opts.config_path << " test is successful\n";
  if (opts.dump) {
    std::ifstream in(opts.config_path);
    std::cout << "# configuration file " << opts.config_path << ":\n" << in.rdbuf();
  }
  return 0;
}

// A failure to start: on the error log, and on stderr too when the error log
// is a file (whoever started proxyd is looking there).
void startFailed(common::Log& log, const std::string& message) {
  log.emerg("{}", message);
  if (log.path() != "stderr") std::cerr << "proxyd: " << message << "\n";
}

// [main] pid, held for as long as proxyd runs. False (said) when it cannot be.
bool holdPidFile(const std::string& path, common::Log& log,
                 std::optional<common::PidFile>& pid_file) {
  // The pid file's directory follows vrrpd's run_dir rules: created 0755
  // when missing, refused when anyone else could plant a file in it.
  auto slash = path.find_last_of('/');
  std::string dir = slash == std::string::npos ? "." : slash == 0 ? "/" : path.substr(0, slash);
  auto pf = [&]() -> common::Result<common::PidFile> {
    if (auto r = common::prepareRunDir(dir, ::geteuid()); !r) {
      return common::Result<common::PidFile>::fail(r.error());
    }
    return common::PidFile::create(path);
  }();
  if (!pf) {
    startFailed(log, pf.error());
    return false;
  }
  if (auto old = pf->tookOverFrom()) {
    log.notice("pid file \"{}\" named pid {}, which does not hold its lock: taken over", path,
               *old);
  }
  pid_file.emplace(std::move(*pf));
  return true;
}

// Runs the proxy until it stops; its exit code.
int run(proxyd::ProxyConfig cfg) {
  auto log = std::make_shared<common::Log>(common::LogLevel::error);
  if (!cfg.main.error_log.empty()) {
    if (auto r = log->setOutputs(proxyd::errorLogOutputs(cfg.main.error_log)); !r) {
      std::cerr << "proxyd: " << r.error() << "\n";
      return 2;
    }
  }
  common::HeldSignals held({SIGTERM, SIGINT, SIGQUIT, SIGHUP, SIGUSR1});
  std::optional<common::PidFile> pid_file;
  if (!cfg.main.pid_path.empty() && !holdPidFile(cfg.main.pid_path, *log, pid_file)) return 2;
  proxyd::ProcessInfo process{hostName(), ::getpid()};
  proxyd::Proxy proxy(std::move(cfg), log, process);
  if (auto r = proxy.start(); !r) {
    startFailed(*log, r.error());
    return 2;
  }
  held.release();
  return proxy.run();
}

}  // namespace

int main(int argc, char** argv) {
  // --import-nginx FILE: prints the equivalent INI on stdout, warnings (and
  // errors) as FILE:LINE on stderr; exit 1 if the source could not be read.
  if (argc == 3 && std::string_view(argv[1]) == "--import-nginx") {
    return importer::printImport(proxyd::importNginx(argv[2]), std::cout, std::cerr);
  }
  Options opts;
  if (auto done = parseOptions(argc, argv, opts)) return *done;

  common::Diagnostics diag;
  proxyd::ProxyConfig cfg = proxyd::loadProxyConfig(opts.config_path, opts.prefix, diag);
  diag.print(std::cerr);
  if (opts.test) return testConfig(opts, diag);
  if (diag.hasErrors()) return 1;
  if (!opts.signal_name.empty()) return sendSignal(cfg, opts.signal_name);
  return run(std::move(cfg));
}
