// vrrpd: command line as keepalived's (DESIGN.md), always in the foreground.
//   vrrpd [-f FILE] [-t] [-l] [-D] [-p PIDFILE] [-v]
//   vrrpd --status [-f FILE] [-p FILE]
// Exit codes: 0 success, 1 configuration error, 2 runtime failure.
#include <getopt.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <fstream>
#include <iostream>
#include <optional>
#include <string_view>
#include <thread>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "common/held_signals.h"
#include "common/pid_file.h"
#include "common/safe_file.h"
#include "common/version.h"
#include "import/keepalived/keepalived_import.h"
#include "vrrpd/core/config.h"
#include "vrrpd/io/daemon.h"

namespace {

constexpr const char* kDefaultConfig = "/etc/vrrpd/vrrpd.ini";

void usage(std::ostream& out) {
  out << "usage: vrrpd [-f FILE] [-t] [-l] [-D] [-p PIDFILE] [-v]\n"
         "       vrrpd --status [-f FILE] [-p FILE]\n"
         "       vrrpd --import-keepalived KEEPALIVED.CONF   (prints the equivalent vrrpd.ini)\n"
         "  -f, --use-file FILE   configuration file (default "
      << kDefaultConfig
      << ")\n"
         "  -t, --config-test     check the configuration and exit\n"
         "  -l, --log-console     log to the console (stderr; always on: vrrpd stays in the "
         "foreground)\n"
         "  -D, --log-detail      log in detail (debug: every dropped packet with its reason)\n"
         "  -p, --pid FILE        pid file (default RUN_DIR/vrrpd.pid)\n"
         "      --status          print the running instances' state\n"
         "  -v, --version         print the version and exit\n";
}

// `vrrpd --status`: asks the running daemon for a fresh state file (USR1)
// and prints it.
int printStatus(const vrrpd::VrrpConfig& cfg, const std::string& pid_path) {
  std::string path = cfg.global.run_dir + "/state.json";
  struct stat before {};
  bool had = ::stat(path.c_str(), &before) == 0;
  nlohmann::json doc;
  auto read = [&]() -> bool {
    std::ifstream in(path);
    if (!in) return false;
    try {
      in >> doc;
    } catch (const std::exception&) {
      return false;
    }
    return true;
  };
  if (!had || !read()) {
    std::cerr << "vrrpd: no state file " << path << ": vrrpd is not running\n";
    return 2;
  }
  // USR1's default action kills: only the process that holds the pid
  // file's lock is provably vrrpd (state.json's pid may be anyone's now).
  pid_t pid = doc.value("pid", 0);
  auto holder = common::pidFileHolder(pid_path);
  if (!holder) std::cerr << "vrrpd: " << holder.error() << "\n";
  if (holder) pid = *holder;
  bool alive = holder.ok();
  if (alive && ::kill(pid, SIGUSR1) == 0) {
    for (int i = 0; i < 50; ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
      struct stat now {};
      if (::stat(path.c_str(), &now) == 0 && (now.st_mtim.tv_sec != before.st_mtim.tv_sec ||
                                              now.st_mtim.tv_nsec != before.st_mtim.tv_nsec)) {
        break;
      }
    }
    read();
  }
  std::cout << fmt::format("vrrpd pid {} {} (router_id {}, state written {})\n", pid,
                           alive ? "running" : "NOT RUNNING (stale state file)",
                           doc.value("router_id", ""), doc.value("written", ""));
  std::cout << fmt::format("{:<12} {:<8} {:>4} {:>2} {:<7} {:>4} {:<18} {:>8} {:>8} {:>6}  {}\n",
                           "INSTANCE", "IFACE", "VRID", "V", "STATE", "PRIO", "MASTER", "SENT",
                           "RECV", "DROPS", "LAST TRANSITION");
  for (const auto& i : doc["instances"]) {
    std::uint64_t drops = 0;
    for (const auto& [k, v] : i["dropped"].items()) drops += v.get<std::uint64_t>();
    std::cout << fmt::format(
        "{:<12} {:<8} {:>4} {:>2} {:<7} {:>4} {:<18} {:>8} {:>8} {:>6}  {} at {}\n",
        i.value("name", ""), i.value("interface", ""), i.value("vrid", 0), i.value("version", 0),
        i.value("state", ""), i.value("priority", 0), i.value("master", ""),
        i.value("adverts_sent", 0), i.value("adverts_received", 0), drops,
        i.value("last_transition", ""), i.value("last_transition_time", ""));
    for (const auto& [k, v] : i["dropped"].items()) {
      std::cout << fmt::format("{:<12}   dropped {}: {}\n", "", k, v.get<std::uint64_t>());
    }
  }
  // Drops before an instance was found (bad header, checksum, unknown
  // VRID), per interface and family.
  if (doc.contains("interface_drops") && doc["interface_drops"].is_array()) {
    for (const auto& p : doc["interface_drops"]) {
      for (const auto& [k, v] : p["dropped"].items()) {
        std::cout << fmt::format("interface {} {}: dropped {}: {}\n", p.value("interface", ""),
                                 p.value("family", ""), k, v.get<std::uint64_t>());
      }
    }
  }
  return alive ? 0 : 2;
}

// What the command line asks for.
struct Options {
  std::string config_path = kDefaultConfig;
  std::string pid_path;
  bool test = false, detail = false, status = false;
};

// Reads the command line into `opts`. An exit code when that is all there
// is to do (-v, -h, a wrong option).
std::optional<int> parseOptions(int argc, char** argv, Options& opts) {
  enum { kStatus = 1000, kImport };
  static const option longopts[] = {{"use-file", required_argument, nullptr, 'f'},
                                    {"config-test", no_argument, nullptr, 't'},
                                    {"log-console", no_argument, nullptr, 'l'},
                                    {"log-detail", no_argument, nullptr, 'D'},
                                    {"pid", required_argument, nullptr, 'p'},
                                    {"version", no_argument, nullptr, 'v'},
                                    {"help", no_argument, nullptr, 'h'},
                                    {"status", no_argument, nullptr, kStatus},
                                    {nullptr, 0, nullptr, 0}};
  int opt;
  opterr = 0;
  while ((opt = ::getopt_long(argc, argv, "f:tlDp:vh", longopts, nullptr)) != -1) {
    switch (opt) {
      case 'f':
        opts.config_path = optarg;
        break;
      case 't':
        opts.test = true;
        break;
      case 'l':
        break;  // the console is where we always log
      case 'D':
        opts.detail = true;
        break;
      case 'p':
        opts.pid_path = optarg;
        break;
      case 'v':
        std::cout << "vrrpd " << common::kVersion << "\n";
        return 0;
      case 'h':
        usage(std::cout);
        return 0;
      case kStatus:
        opts.status = true;
        break;
      default:
        std::cerr << "vrrpd: invalid option \"" << (optind > 0 ? argv[optind - 1] : "?") << "\"\n";
        usage(std::cerr);
        return 1;
    }
  }
  if (optind < argc) {
    std::cerr << "vrrpd: unexpected argument \"" << argv[optind] << "\"\n";
    return 1;
  }
  return std::nullopt;
}

// --status, also with a configuration that has errors.
int status(const Options& opts, const vrrpd::VrrpConfig& cfg, const common::Diagnostics& diag) {
  // After a refused reload the file on disk is broken while vrrpd keeps
  // running the old one: that is when the operator asks. Say what is
  // wrong and still read run_dir (the loader keeps it, or its default).
  if (diag.hasErrors()) {
    diag.print(std::cerr);
    std::cerr << "vrrpd: " << opts.config_path
              << " has errors (a reload would be refused); the running vrrpd keeps its "
                 "configuration\n";
  }
  return printStatus(cfg,
                     opts.pid_path.empty() ? cfg.global.run_dir + "/vrrpd.pid" : opts.pid_path);
}

// Runs the daemon until it stops; its exit code.
int run(vrrpd::VrrpConfig cfg, const Options& opts) {
  auto log =
      std::make_shared<common::Log>(opts.detail ? common::LogLevel::debug : common::LogLevel::info);
  if (::geteuid() != 0) {
    log->warn("not running as root: raw sockets and netlink need CAP_NET_RAW and CAP_NET_ADMIN");
  }
  std::string pid_path = opts.pid_path.empty() ? cfg.global.run_dir + "/vrrpd.pid" : opts.pid_path;
  // run_dir holds state.json and (by default) the pid file: created 0755
  // when missing, refused when another user could plant a file in it.
  if (auto r = common::prepareRunDir(cfg.global.run_dir, ::geteuid()); !r) {
    log->emerg("{}", r.error());
    return 2;
  }
  common::HeldSignals held({SIGHUP, SIGUSR1, SIGTERM, SIGINT});
  auto pid_file = common::PidFile::create(pid_path);
  if (!pid_file) {
    log->emerg("{}", pid_file.error());
    return 2;
  }
  if (auto old = pid_file->tookOverFrom()) {
    log->notice("pid file \"{}\" named pid {}, which does not hold its lock: taken over", pid_path,
                *old);
  }
  vrrpd::Daemon daemon(std::move(cfg), log);
  if (auto r = daemon.start(); !r) {
    log->emerg("{}", r.error());
    return 2;
  }
  held.release();
  return daemon.run();
}

}  // namespace

int main(int argc, char** argv) {
  // --import-keepalived FILE: prints the equivalent INI on stdout, warnings (and
  // errors) as FILE:LINE on stderr; exit 1 if the source could not be read.
  if (argc == 3 && std::string_view(argv[1]) == "--import-keepalived") {
    return importer::printImport(vrrpd::importKeepalived(argv[2]), std::cout, std::cerr);
  }
  Options opts;
  if (auto done = parseOptions(argc, argv, opts)) return *done;

  common::Diagnostics diag;
  vrrpd::VrrpConfig cfg = vrrpd::loadVrrpConfig(opts.config_path, diag);
  if (opts.status) return status(opts, cfg, diag);
  diag.print(std::cerr);
  if (opts.test) {
    std::cerr << "vrrpd: configuration file " << opts.config_path
              << (diag.hasErrors() ? " test failed\n" : " test is successful\n");
    return diag.hasErrors() ? 1 : 0;
  }
  if (diag.hasErrors()) return 1;
  return run(std::move(cfg), opts);
}
