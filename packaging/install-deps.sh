#!/usr/bin/env bash
# Installs every Debian package the build, the tests, the benchmarks and the
# demo need. Idempotent: only what is missing is installed, so a second run
# costs one dpkg query. Package services are never started here: a
# policy-rc.d forbids it while we install, so no stray nginx listens on :80
# and no keepalived sends VRRP on the host's interfaces.
set -euo pipefail

packages=(
  build-essential cmake pkg-config clang-format
  clang  # the tree must build clang-clean too (CC=clang CXX=clang++, -Werror)
  libclang-rt-14-dev  # libFuzzer and the sanitizers' runtimes for clang (make fuzz); only recommended by clang
  shellcheck pyflakes3  # the lint tests (pyflakes3: Debian's python3, whatever python3 is first on PATH)
  libevent-dev libnl-3-dev libnl-route-3-dev libssl-dev libinih-dev
  zlib1g-dev  # access_log gzip
  catch2 libsystemd-dev libfmt-dev nlohmann-json3-dev
  libpcre2-dev  # proxyd map's regular expressions, as nginx's
  libc-ares-dev  # proxyd's run-time DNS (resolver, server ... resolve, SRV)
  nginx-light libnginx-mod-stream haproxy keepalived
  wrk tcpdump strace iproute2 curl procps psmisc python3 openssl
  # make package (dpkg-shlibdeps needs file) and its test (groff, systemd-analyze)
  dpkg-dev file groff-base systemd
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
  echo "install-deps: missing packages: ${missing[*]}" >&2
  echo "install-deps: run as root (or: sudo $0) to install them" >&2
  exit 1
fi

# Forbid service starts for the duration of the install only, and put back
# whatever policy the machine had before.
policy=/usr/sbin/policy-rc.d
saved=""
if [ -e "$policy" ]; then saved=$(mktemp); cp -p "$policy" "$saved"; fi
restore() {
  if [ -n "$saved" ]; then mv -f "$saved" "$policy"; else rm -f "$policy"; fi
}
trap restore EXIT
printf '#!/bin/sh\nexit 101\n' >"$policy"
chmod 755 "$policy"

export DEBIAN_FRONTEND=noninteractive
echo "install-deps: installing ${missing[*]}"
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
