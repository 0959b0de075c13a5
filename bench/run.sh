#!/usr/bin/env bash
# Side-by-side benchmark: proxyd vs nginx stream vs HAProxy (mode tcp), on loopback.
#
#   bench/run.sh build/bin/proxyd          # full run (3 repetitions x 10 s per scenario)
#   BENCH_QUICK=1 bench/run.sh build/bin/proxyd   # smoke run (1 repetition x 3 s)
#
# See bench/README.md for what is measured and how.  Results: stdout and
# <build>/bench/results.md (<build> = the directory above the binary's bin/).
#
# Environment knobs (all optional):
#   BENCH_QUICK=1            smoke run: 1 repetition, 3 s per wrk run
#   BENCH_REPS=N             repetitions (default 3; 1 when quick)
#   BENCH_DURATION=S         seconds per wrk run (default 10; 3 when quick)
#   BENCH_IDLE_SESSIONS=N    idle sessions for the memory scenario (default 2000)
#   BENCH_PIN=0              do not pin (default 1: proxy on BENCH_PROXY_CPU, wrk+backends on BENCH_LOAD_CPU)
#   BENCH_PROXY_CPU=1 BENCH_LOAD_CPU=0
#   BENCH_SCENARIOS="rps cps bulk1m bulk64m sni_rps sni_cps udp"   subset of throughput scenarios
#                            (sni_*: TLS to the backend through ssl_preread + a map on the SNI;
#                            udp: DNS-like queries through `listen ... udp`, nginx and proxyd only:
#                            Debian's HAProxy has no UDP proxying)
#   BENCH_UDP_CLIENTS=N      client sockets of the udp scenario, one query in flight each (default 32)
#   BENCH_IMPLS="direct nginx haproxy proxyd"   subset of implementations (direct = no proxy)
#   BENCH_STRACE=0           skip the strace syscall-count runs
#   BENCH_OUT_DIR=DIR        where results.md / raw.tsv go
#   BENCH_PORT_BASE=N        first of 100 loopback ports to use (default: a free block in 20000-31999)
set -uo pipefail

die() { echo "bench: $*" >&2; exit 2; }

[ $# -ge 1 ] || die "usage: $0 PATH/TO/proxyd"
PROXYD=$(readlink -f "$1") || die "cannot resolve $1"
[ -x "$PROXYD" ] || die "$PROXYD is not an executable (build it first)"
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

QUICK=${BENCH_QUICK:-0}
if [ "$QUICK" = 1 ]; then
  REPS=${BENCH_REPS:-1}; DUR=${BENCH_DURATION:-3}
else
  REPS=${BENCH_REPS:-3}; DUR=${BENCH_DURATION:-10}
fi
IDLE_N=${BENCH_IDLE_SESSIONS:-2000}
PIN=${BENCH_PIN:-1}
PROXY_CPU=${BENCH_PROXY_CPU:-1}
LOAD_CPU=${BENCH_LOAD_CPU:-0}
SCENARIOS=${BENCH_SCENARIOS:-"rps cps bulk1m bulk64m sni_rps sni_cps udp"}
UDP_CLIENTS=${BENCH_UDP_CLIENTS:-32}
IMPLS=${BENCH_IMPLS:-"direct nginx haproxy proxyd"}
DO_STRACE=${BENCH_STRACE:-1}
OUT_DIR=${BENCH_OUT_DIR:-$(dirname "$(dirname "$PROXYD")")/bench}
NGINX=${NGINX:-/usr/sbin/nginx}
HAPROXY=${HAPROXY:-/usr/sbin/haproxy}
STREAM_MODULE=${NGINX_STREAM_MODULE:-/usr/share/nginx/modules/ngx_stream_module.so}
CLK_TCK=$(getconf CLK_TCK)

# ---------------------------------------------------------------- prerequisites
for tool in "$NGINX" "$HAPROXY" wrk python3 taskset setsid timeout ss pgrep openssl; do
  command -v "$tool" >/dev/null 2>&1 || die "missing tool: $tool (install nginx-light libnginx-mod-stream haproxy wrk python3 procps iproute2)"
done
[ -f "$STREAM_MODULE" ] || die "missing $STREAM_MODULE (apt-get install libnginx-mod-stream)"
HAVE_STRACE=0
if [ "$DO_STRACE" = 1 ] && command -v strace >/dev/null 2>&1; then HAVE_STRACE=1; fi
NCPU=$(nproc)
if [ "$PIN" = 1 ] && [ "$NCPU" -lt 2 ]; then
  echo "bench: only $NCPU CPU: not pinning" >&2; PIN=0
fi
if [ "$PIN" = 1 ]; then
  PIN_PROXY=(taskset -c "$PROXY_CPU"); PIN_LOAD=(taskset -c "$LOAD_CPU")
else
  PIN_PROXY=(); PIN_LOAD=()
fi
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
[ "$(ulimit -n)" -ge 9000 ] || echo "bench: warning: open-files limit $(ulimit -n) is low for $IDLE_N idle sessions" >&2

# ---------------------------------------------------------------- cleanup
WORK=$(mktemp -d /tmp/proxyd-bench.XXXXXX) || die "mktemp failed"
chmod 755 "$WORK"
cd "$WORK" || die "cannot enter $WORK"
PGIDS=()
# shellcheck disable=SC2317  # reached through the EXIT trap
cleanup() {
  local pg
  for pg in "${PGIDS[@]}"; do kill -TERM -- "-$pg" 2>/dev/null; done
  sleep 0.3
  for pg in "${PGIDS[@]}"; do kill -KILL -- "-$pg" 2>/dev/null; done
  wait 2>/dev/null
  rm -rf "$WORK"
}
trap cleanup EXIT
trap 'echo "bench: interrupted" >&2; exit 130' INT TERM HUP

# Starts "$@" in its own session (process group) in the background; sets SPAWNED_PID.
# A background job of a non-interactive shell is not a group leader, so setsid
# execs without forking and $! is the daemon's pid (= its process group id).
spawn() {
  local log=$1; shift
  setsid "$@" >"$log" 2>&1 </dev/null &
  SPAWNED_PID=$!
  PGIDS+=("$SPAWNED_PID")
}
stop_group() {
  local pg=$1 i
  kill -TERM -- "-$pg" 2>/dev/null
  for i in $(seq 1 30); do kill -0 "$pg" 2>/dev/null || break; sleep 0.1; done
  kill -KILL -- "-$pg" 2>/dev/null
  wait "$pg" 2>/dev/null
  local keep=() p
  for p in "${PGIDS[@]}"; do [ "$p" = "$pg" ] || keep+=("$p"); done
  PGIDS=("${keep[@]}")
}

# ---------------------------------------------------------------- ports
port_free() { [ -z "$(ss -Hltn "sport = :$1" 2>/dev/null)" ]; }
pick_base() {
  local b p ok
  if [ -n "${BENCH_PORT_BASE:-}" ]; then echo "$BENCH_PORT_BASE"; return; fi
  for _ in $(seq 1 50); do
    b=$(( 20000 + (RANDOM % 120) * 100 ))
    ok=1
    for p in 0 1 2 10 11 12 13 20 21 22 23 30 31 32 33; do port_free $((b + p)) || { ok=0; break; }; done
    [ "$ok" = 1 ] && { echo "$b"; return; }
  done
  die "no free block of loopback ports found"
}
BASE=$(pick_base)
P_HTTP=$((BASE)); P_ECHO=$((BASE + 1)); P_HTTPS=$((BASE + 2))
declare -A P_PROXY_HTTP=([nginx]=$((BASE + 10)) [haproxy]=$((BASE + 20)) [proxyd]=$((BASE + 30)) [direct]=$P_HTTP)
# The sni_* scenarios: TLS from wrk to the backend, routed by each proxy
# through its preread of the ClientHello and a map on the SNI.
declare -A P_PROXY_SNI=([nginx]=$((BASE + 13)) [haproxy]=$((BASE + 23)) [proxyd]=$((BASE + 33)) [direct]=$P_HTTPS)
declare -A P_PROXY_MEM=([nginx]=$((BASE + 12)) [haproxy]=$((BASE + 22)) [proxyd]=$((BASE + 32)))
# The udp scenario: a UDP echo backend and each proxy's `listen ... udp`.
P_UDP_ECHO=$((BASE + 3))
declare -A P_PROXY_UDP=([nginx]=$((BASE + 14)) [proxyd]=$((BASE + 34)) [direct]=$P_UDP_ECHO)

wait_listen() {  # port seconds
  local i
  for i in $(seq 1 $(( $2 * 10 ))); do
    port_free "$1" || return 0
    sleep 0.1
  done
  return 1
}

# ---------------------------------------------------------------- backends
mkdir -p "$WORK/www/files" "$WORK/backend" "$WORK/out"
head -c $((1 << 20)) /dev/urandom >"$WORK/www/files/1m.bin"
head -c $((64 << 20)) /dev/urandom >"$WORK/www/files/64m.bin"
# wrk sends the URL's host as SNI: "localhost", which may resolve to ::1
# first, so the TLS listeners take both loopbacks.
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 \
  -subj /CN=localhost -keyout "$WORK/backend/tls.key" -out "$WORK/backend/tls.crt" >/dev/null 2>&1 \
  || die "openssl could not make the backend's certificate"
SMALL_BODY="proxyd bench: small response body, about one hundred bytes long, for the requests/s runs.\n"
cat >"$WORK/backend/nginx.conf" <<EOF
user root;
worker_processes 1;
daemon off;
pid $WORK/backend/nginx.pid;
error_log $WORK/backend/error.log error;
events { worker_connections 8192; }
http {
  access_log off;
  sendfile on;
  tcp_nopush on;
  keepalive_requests 100000000;
  keepalive_timeout 300s;
  default_type application/octet-stream;
  server {
    listen 127.0.0.1:$P_HTTP backlog=4096;
    listen 127.0.0.1:$P_HTTPS ssl backlog=4096;
    listen [::1]:$P_HTTPS ssl backlog=4096;
    ssl_certificate $WORK/backend/tls.crt;
    ssl_certificate_key $WORK/backend/tls.key;
    location = /small { default_type text/plain; return 200 "$SMALL_BODY"; }
    location /files/ { root $WORK/www; }
  }
}
EOF
spawn "$WORK/backend/nginx.out" "${PIN_LOAD[@]}" "$NGINX" -p "$WORK/backend" -c "$WORK/backend/nginx.conf" -e "$WORK/backend/error.log"
spawn "$WORK/backend/echo.out" "${PIN_LOAD[@]}" python3 "$HERE/echo_server.py" 127.0.0.1 "$P_ECHO"
spawn "$WORK/backend/udp-echo.out" "${PIN_LOAD[@]}" python3 "$HERE/udp_load.py" echo 127.0.0.1 "$P_UDP_ECHO"
wait_listen "$P_HTTP" 10 || { cat "$WORK/backend/nginx.out" "$WORK/backend/error.log" >&2; die "backend nginx did not start"; }
wait_listen "$P_ECHO" 10 || { cat "$WORK/backend/echo.out" >&2; die "echo backend did not start"; }

# ---------------------------------------------------------------- proxies
# write_config IMPL DIR SNI_LISTEN LISTEN:BACKEND...   (no access log in any of the three)
# SNI_LISTEN (0: none) is the sni_* scenarios' listener: ssl_preread, and a map
# of the SNI (hostnames, a regex, an exact name) choosing between two groups
# of the same TLS backend.
write_config() {
  local impl=$1 dir=$2 sni=$3; shift 3
  local pair l b i=0
  mkdir -p "$dir"
  case $impl in
    nginx)
      {
        echo "load_module $STREAM_MODULE;"
        echo "worker_processes 1;"
        echo "daemon off;"
        echo "pid $dir/nginx.pid;"
        echo "error_log $dir/error.log error;"
        echo "events { worker_connections 8192; }"
        echo "stream {"
        for pair in "$@"; do
          l=${pair%%:*}; b=${pair##*:}
          echo "  server { listen 127.0.0.1:$l backlog=4096; proxy_pass 127.0.0.1:$b; }"
        done
        if [ "$sni" != 0 ]; then
          echo "  map \$ssl_preread_server_name \$sni_upstream {"
          echo "    hostnames; *.example.com tls_fallback; ~^api[0-9]+\\. tls_fallback;"
          echo "    localhost tls_backend; default tls_fallback;"
          echo "  }"
          echo "  upstream tls_backend { server 127.0.0.1:$P_HTTPS; }"
          echo "  upstream tls_fallback { server 127.0.0.1:$P_HTTPS; }"
          echo "  server { listen 127.0.0.1:$sni backlog=4096; listen [::1]:$sni backlog=4096;"
          echo "           ssl_preread on; proxy_pass \$sni_upstream; }"
        fi
        echo "}"
      } >"$dir/nginx.conf" ;;
    haproxy)
      {
        echo "global"
        echo "  nbthread 1"
        echo "  maxconn 8192"
        echo "defaults"
        echo "  mode tcp"
        echo "  maxconn 8192"
        echo "  timeout connect 60s"
        echo "  timeout client 10m"
        echo "  timeout server 10m"
        for pair in "$@"; do
          l=${pair%%:*}; b=${pair##*:}; i=$((i + 1))
          echo "listen l$i"
          echo "  bind 127.0.0.1:$l"
          echo "  backlog 4096"
          echo "  server s$i 127.0.0.1:$b"
        done
        if [ "$sni" != 0 ]; then
          echo "frontend sni"
          echo "  bind 127.0.0.1:$sni"
          echo "  bind [::1]:$sni"
          echo "  backlog 4096"
          echo "  tcp-request inspect-delay 5s"
          echo "  tcp-request content accept if { req_ssl_hello_type 1 }"
          echo "  use_backend tls_fallback if { req_ssl_sni -m end .example.com }"
          echo "  use_backend tls_fallback if { req_ssl_sni -m reg ^api[0-9]+\\. }"
          echo "  use_backend tls_backend if { req_ssl_sni -i localhost }"
          echo "  default_backend tls_fallback"
          echo "backend tls_backend"
          echo "  server t1 127.0.0.1:$P_HTTPS"
          echo "backend tls_fallback"
          echo "  server t2 127.0.0.1:$P_HTTPS"
        fi
      } >"$dir/haproxy.cfg" ;;
    proxyd)
      {
        echo "[main]"
        echo "worker_processes = 1"
        echo "worker_connections = 8192"
        echo "error_log = $dir/error.log error"
        echo "pid = $dir/proxyd.pid"
        for pair in "$@"; do
          l=${pair%%:*}; b=${pair##*:}; i=$((i + 1))
          printf '\n[upstream up%d]\nserver = 127.0.0.1:%d\n\n[server s%d]\nlisten = 127.0.0.1:%d\nproxy_pass = up%d\n' "$i" "$b" "$i" "$l" "$i"
        done
        if [ "$sni" != 0 ]; then
          # shellcheck disable=SC2016  # proxyd's variables, not the shell's
          printf '\n[map $sni_upstream]\nsource = $ssl_preread_server_name\nhostnames = on\n'
          printf 'entry = *.example.com tls_fallback\nentry = ~^api[0-9]+\\. tls_fallback\n'
          printf 'entry = localhost tls_backend\ndefault = tls_fallback\n'
          printf '\n[upstream tls_backend]\nserver = 127.0.0.1:%d\n' "$P_HTTPS"
          printf '\n[upstream tls_fallback]\nserver = 127.0.0.1:%d\n' "$P_HTTPS"
          printf '\n[server sni]\nlisten = 127.0.0.1:%d\nlisten = [::1]:%d\n' "$sni" "$sni"
          # shellcheck disable=SC2016
          printf 'ssl_preread = on\nproxy_pass = $sni_upstream\n'
        fi
      } >"$dir/proxyd.ini" ;;
  esac
}

# start_proxy IMPL DIR FIRST_PORT SNI_LISTEN LISTEN:BACKEND...  -> sets PROXY_PID (group) and MEASURE_PIDS (processes to account)
start_proxy() {
  local impl=$1 dir=$2 first=$3 sni=$4; shift 4
  write_config "$impl" "$dir" "$sni" "$@"
  case $impl in
    nginx)   spawn "$dir/out.log" "${PIN_PROXY[@]}" "$NGINX" -p "$dir" -c "$dir/nginx.conf" -e "$dir/error.log" ;;
    haproxy) spawn "$dir/out.log" "${PIN_PROXY[@]}" "$HAPROXY" -db -f "$dir/haproxy.cfg" ;;
    proxyd)  spawn "$dir/out.log" "${PIN_PROXY[@]}" "$PROXYD" -c "$dir/proxyd.ini" ;;
  esac
  PROXY_PID=$SPAWNED_PID
  if ! wait_listen "$first" 10; then
    echo "bench: $impl did not start listening on $first:" >&2
    cat "$dir/out.log" "$dir/error.log" 2>/dev/null | tail -20 >&2
    return 1
  fi
  MEASURE_PIDS=$PROXY_PID
  if [ "$impl" = nginx ]; then
    local w i
    for i in $(seq 1 50); do w=$(pgrep -P "$PROXY_PID" | tr '\n' ' '); [ -n "$w" ] && break; sleep 0.1; done
    MEASURE_PIDS="$PROXY_PID $w"   # master + worker(s): CPU is summed over both
    WORKER_PID=${w%% *}
  else
    WORKER_PID=$PROXY_PID
  fi
  return 0
}

declare -A RUN_PID RUN_MEASURE RUN_DIR
THROUGHPUT_IMPLS=""
for impl in $IMPLS; do [ "$impl" = direct ] || THROUGHPUT_IMPLS+="$impl "; done
start_throughput_proxy() {
  local impl=$1
  local dir="$WORK/$impl"
  start_proxy "$impl" "$dir" "${P_PROXY_HTTP[$impl]}" "${P_PROXY_SNI[$impl]}" \
    "${P_PROXY_HTTP[$impl]}:$P_HTTP" || return 1
  RUN_PID[$impl]=$PROXY_PID; RUN_MEASURE[$impl]=$MEASURE_PIDS; RUN_DIR[$impl]=$dir
}
for impl in $THROUGHPUT_IMPLS; do
  start_throughput_proxy "$impl" || die "$impl failed to start"
done

# ---------------------------------------------------------------- measurement helpers
RAW="$WORK/out/raw.tsv"
printf 'rep\tscenario\timpl\tkey\tvalue\n' >"$RAW"
ANOMALIES="$WORK/out/anomalies.txt"
: >"$ANOMALIES"
record() { printf '%s\t%s\t%s\t%s\t%s\n' "$@" >>"$RAW"; }
anomaly() { echo "$*" | tee -a "$ANOMALIES" >&2; }

cpu_ticks() {  # sum of utime+stime (all threads) over the given pids
  local p sum=0 v
  for p in "$@"; do
    v=$(sed 's/^.*) //' "/proc/$p/stat" 2>/dev/null | awk '{print $12 + $13}')
    sum=$((sum + ${v:-0}))
  done
  echo "$sum"
}
cpu_busy() {  # busy ticks (all but idle and iowait) of one CPU, from /proc/stat
  awk -v c="cpu$1" '$1 == c { print $2 + $3 + $4 + $7 + $8 + $9 }' /proc/stat
}
mem_kib() {  # prints "RSS PSS" in KiB of one pid
  awk '/^Rss:/{r=$2} /^Pss:/{p=$2} END{print r+0, p+0}' "/proc/$1/smaps_rollup" 2>/dev/null || echo "0 0"
}

# Checks that a proxy is still alive; on death records how and restarts it.
check_alive() {
  local impl=$1 when=$2 pid=${RUN_PID[$1]:-}
  [ "$impl" = direct ] && return 0
  if ! kill -0 "$pid" 2>/dev/null; then
    wait "$pid" 2>/dev/null; local rc=$?
    local how="exit status $rc"
    [ "$rc" -gt 128 ] && how="killed by signal $((rc - 128)) ($(kill -l $((rc - 128)) 2>/dev/null))"
    anomaly "$impl DIED during $when: $how; last log lines: $(tail -5 "${RUN_DIR[$impl]}/out.log" "${RUN_DIR[$impl]}/error.log" 2>/dev/null | tr '\n' '|')"
    cp "${RUN_DIR[$impl]}/out.log" "$WORK/out/$impl-crash-$(date +%s).log" 2>/dev/null
    local keep=() p
    for p in "${PGIDS[@]}"; do [ "$p" = "$pid" ] || keep+=("$p"); done
    PGIDS=("${keep[@]}")
    start_throughput_proxy "$impl" || anomaly "$impl could not be restarted"
    return 1
  fi
  return 0
}

# Scenario parameters: path, connections, extra wrk args, unit.
declare -A SC_PATH=([rps]=/small [cps]=/small [bulk1m]=/files/1m.bin [bulk64m]=/files/64m.bin
  [sni_rps]=/small [sni_cps]=/small)
declare -A SC_CONNS=([rps]=50 [cps]=50 [bulk1m]=8 [bulk64m]=2 [sni_rps]=50 [sni_cps]=50)
declare -A SC_CLOSE=([rps]=0 [cps]=1 [bulk1m]=0 [bulk64m]=0 [sni_rps]=0 [sni_cps]=1)

# run_wrk REP SCENARIO IMPL [DURATION] -> records results; sets WRK_REQUESTS
run_wrk() {
  local rep=$1 sc=$2 impl=$3 dur=${4:-$DUR}
  local url="http://127.0.0.1:${P_PROXY_HTTP[$impl]}" out="$WORK/out/wrk-$rep-$sc-$impl.txt"
  case $sc in sni_*) url="https://localhost:${P_PROXY_SNI[$impl]}" ;; esac
  local args=(-t1 -c"${SC_CONNS[$sc]}" -d"${dur}s" --timeout 10s -s "$HERE/wrk_report.lua")
  [ "${SC_CLOSE[$sc]}" = 1 ] && args+=(-H "Connection: close")
  local pids=${RUN_MEASURE[$impl]:-}
  local t0 c0 t1 c1
  # shellcheck disable=SC2086
  c0=$( [ -n "$pids" ] && cpu_ticks $pids || echo 0 )
  local l0 x0 l1 x1
  l0=$(cpu_busy "$LOAD_CPU"); x0=$(cpu_busy "$PROXY_CPU")
  t0=$(date +%s%N)
  timeout -k 5 $((dur + 30)) "${PIN_LOAD[@]}" wrk "${args[@]}" "$url${SC_PATH[$sc]}" >"$out" 2>&1
  local wrc=$?
  t1=$(date +%s%N)
  l1=$(cpu_busy "$LOAD_CPU"); x1=$(cpu_busy "$PROXY_CPU")
  # shellcheck disable=SC2086
  c1=$( [ -n "$pids" ] && cpu_ticks $pids || echo 0 )
  local line
  line=$(grep '^WRKRESULT' "$out" | tail -1)
  if [ -z "$line" ]; then
    anomaly "rep $rep $sc $impl: wrk produced no result (rc $wrc): $(tail -3 "$out" | tr '\n' '|')"
    WRK_REQUESTS=0
    check_alive "$impl" "$sc rep $rep"
    return 1
  fi
  local requests bytes dus p50 p99
  eval "$(echo "$line" | sed 's/^WRKRESULT //' | tr ' ' '\n' | sed 's/^\([a-z0-9_]*\)=/local_\1=/')"
  # shellcheck disable=SC2154
  requests=$local_requests bytes=$local_bytes dus=$local_duration_us p50=$local_p50_us p99=$local_p99_us
  # shellcheck disable=SC2154
  local errors=$((local_connect + local_read + local_write + local_status + local_timeout))
  WRK_REQUESTS=$requests
  record "$rep" "$sc" "$impl" requests "$requests"
  record "$rep" "$sc" "$impl" bytes "$bytes"
  record "$rep" "$sc" "$impl" duration_us "$dus"
  record "$rep" "$sc" "$impl" errors "$errors"
  record "$rep" "$sc" "$impl" p50_us "$p50"
  record "$rep" "$sc" "$impl" p99_us "$p99"
  record "$rep" "$sc" "$impl" req_per_s "$(awk -v r="$requests" -v d="$dus" 'BEGIN{printf "%.1f", (d > 0 ? r * 1e6 / d : 0)}')"
  record "$rep" "$sc" "$impl" mib_per_s "$(awk -v b="$bytes" -v d="$dus" 'BEGIN{printf "%.2f", (d > 0 ? b * 1e6 / d / 1048576 : 0)}')"
  if [ "$PIN" = 1 ]; then
    # Whole-CPU busy time (every process, softirq included) of the two cores: shows
    # whether the load side was saturated and how much else ran on the proxy's core.
    record "$rep" "$sc" "$impl" load_cpu_pct "$(awk -v t=$((l1 - l0)) -v hz="$CLK_TCK" -v w=$((t1 - t0)) 'BEGIN{printf "%.1f", t / hz * 100 / (w / 1e9)}')"
    record "$rep" "$sc" "$impl" proxy_core_pct "$(awk -v t=$((x1 - x0)) -v hz="$CLK_TCK" -v w=$((t1 - t0)) 'BEGIN{printf "%.1f", t / hz * 100 / (w / 1e9)}')"
  fi
  if [ -n "$pids" ]; then
    local ticks=$((c1 - c0))
    record "$rep" "$sc" "$impl" cpu_ticks "$ticks"
    record "$rep" "$sc" "$impl" cpu_pct "$(awk -v t="$ticks" -v hz="$CLK_TCK" -v w=$((t1 - t0)) 'BEGIN{printf "%.1f", t / hz * 100 / (w / 1e9)}')"
    record "$rep" "$sc" "$impl" cpu_us_per_req "$(awk -v t="$ticks" -v hz="$CLK_TCK" -v r="$requests" 'BEGIN{printf "%.2f", (r > 0 ? t / hz * 1e6 / r : 0)}')"
    record "$rep" "$sc" "$impl" cpu_us_per_mib "$(awk -v t="$ticks" -v hz="$CLK_TCK" -v b="$bytes" 'BEGIN{printf "%.1f", (b > 0 ? t / hz * 1e6 / (b / 1048576) : 0)}')"
  fi
  if [ "$errors" -gt 0 ]; then
    anomaly "rep $rep $sc $impl: wrk errors: connect $local_connect read $local_read write $local_write status $local_status timeout $local_timeout (of $requests requests)"
  fi
  check_alive "$impl" "$sc rep $rep"
  printf '  %-8s %-8s %10.1f req/s %9.1f MiB/s %s %s\n' "$sc" "$impl" \
    "$(awk -v r="$requests" -v d="$dus" 'BEGIN{print r * 1e6 / d}')" \
    "$(awk -v b="$bytes" -v d="$dus" 'BEGIN{print b * 1e6 / d / 1048576}')" \
    "$( [ -n "$pids" ] && awk -v t="$((c1 - c0))" -v hz="$CLK_TCK" -v r="$requests" -v w=$((t1 - t0)) 'BEGIN{printf "cpu %.0f%%  %.2f us/req", t / hz * 100 / (w / 1e9), t / hz * 1e6 / r}')" \
    "$( [ "$PIN" = 1 ] && awk -v l=$((l1 - l0)) -v x=$((x1 - x0)) -v hz="$CLK_TCK" -v w=$((t1 - t0)) 'BEGIN{printf "(cores: load %.0f%%, proxy %.0f%%)", l / hz * 100 / (w / 1e9), x / hz * 100 / (w / 1e9)}')"
}

# run_idle REP IMPL: fresh proxy instance, N idle sessions, RSS/PSS before and after.
run_idle() {
  local rep=$1 impl=$2
  local dir="$WORK/mem-$impl-$rep" port=${P_PROXY_MEM[$impl]}
  if ! start_proxy "$impl" "$dir" "$port" 0 "$port:$P_ECHO"; then
    anomaly "rep $rep idle $impl: proxy did not start"; return 1
  fi
  local pg=$PROXY_PID wpid=$WORKER_PID
  # Warm-up: one session, so that one-time lazy allocations are in the baseline.
  python3 "$HERE/idle_client.py" 127.0.0.1 "$port" 1 "$dir/warm.ready" 0 >/dev/null 2>&1
  sleep 0.5
  local before after closed
  before=$(mem_kib "$wpid")
  rm -f "$dir/ready"
  spawn "$dir/client.log" "${PIN_LOAD[@]}" python3 "$HERE/idle_client.py" 127.0.0.1 "$port" "$IDLE_N" "$dir/ready" 120
  local cpid=$SPAWNED_PID i
  for i in $(seq 1 600); do [ -f "$dir/ready" ] && break; kill -0 "$cpid" 2>/dev/null || break; sleep 0.1; done
  local status
  status=$(cat "$dir/ready" 2>/dev/null || echo "fail 0 no-ready-file")
  sleep 1
  after=$(mem_kib "$wpid")
  stop_group "$cpid"
  sleep 1
  closed=$(mem_kib "$wpid")
  if ! kill -0 "$wpid" 2>/dev/null; then
    anomaly "rep $rep idle $impl: proxy process $wpid died during the idle-session run: $(tail -5 "$dir/out.log" "$dir/error.log" 2>/dev/null | tr '\n' '|')"
  fi
  stop_group "$pg"
  case $status in
    ok*) ;;
    *) anomaly "rep $rep idle $impl: only some sessions established: $status"; return 1 ;;
  esac
  local n=${status#ok }; n=${n%% *}
  local rb=${before% *} pb=${before#* } ra=${after% *} pa=${after#* } rc=${closed% *}
  record "$rep" idle "$impl" sessions "$n"
  record "$rep" idle "$impl" rss_base_kib "$rb"
  record "$rep" idle "$impl" rss_idle_kib "$ra"
  record "$rep" idle "$impl" rss_closed_kib "$rc"
  record "$rep" idle "$impl" rss_kib_per_session "$(awk -v a="$ra" -v b="$rb" -v n="$n" 'BEGIN{printf "%.2f", (a - b) / n}')"
  record "$rep" idle "$impl" pss_kib_per_session "$(awk -v a="$pa" -v b="$pb" -v n="$n" 'BEGIN{printf "%.2f", (a - b) / n}')"
  printf '  %-8s %-8s %d sessions: RSS %d -> %d KiB (%.2f KiB/session, PSS %.2f), after close %d KiB\n' idle "$impl" "$n" "$rb" "$ra" \
    "$(awk -v a="$ra" -v b="$rb" -v n="$n" 'BEGIN{print (a - b) / n}')" "$(awk -v a="$pa" -v b="$pb" -v n="$n" 'BEGIN{print (a - b) / n}')" "$rc"
}

# run_strace SCENARIO IMPL: syscalls per request under strace -c (separate, short run).
run_strace() {
  local sc=$1 impl=$2 pid=${RUN_PID[$2]}
  local target=$pid
  [ "$impl" = nginx ] && target=$(pgrep -P "$pid" | head -1)
  local sout="$WORK/out/strace-$sc-$impl.txt"
  spawn "$WORK/out/strace-$sc-$impl.log" strace -c -f -S calls -o "$sout" -p "$target"
  local spid=$SPAWNED_PID
  sleep 1
  run_wrk strace "$sc" "$impl" 3 >/dev/null
  local req=$WRK_REQUESTS
  kill -INT "$spid" 2>/dev/null
  local i
  for i in $(seq 1 50); do kill -0 "$spid" 2>/dev/null || break; sleep 0.1; done
  stop_group "$spid"
  # Rows are "% time, seconds, usecs/call, calls, [errors,] syscall": calls is column 4.
  local total
  total=$(awk '$1 ~ /^[0-9.]+$/ && $NF != "total" && NF >= 5 { c += $4 } END { if (c) print c }' "$sout" 2>/dev/null)
  if [ -z "$total" ] || [ "${req:-0}" -le 0 ]; then
    anomaly "strace $sc $impl: no syscall summary"; return 1
  fi
  record strace "$sc" "$impl" syscalls_per_req "$(awk -v t="$total" -v r="$req" 'BEGIN{printf "%.2f", t / r}')"
  # Top syscalls, per request.
  awk -v r="$req" '$1 ~ /^[0-9.]+$/ && $NF != "total" && NF >= 5 { printf "%s=%.2f\n", $NF, $4 / r }' "$sout" \
    | head -6 | tr '\n' ' ' | sed 's/ $//' >"$WORK/out/strace-top-$sc-$impl.txt"
  record strace "$sc" "$impl" top_syscalls "$(cat "$WORK/out/strace-top-$sc-$impl.txt")"
  printf '  strace %-6s %-8s %.2f syscalls/request (%s)\n' "$sc" "$impl" "$(awk -v t="$total" -v r="$req" 'BEGIN{print t / r}')" "$(cat "$WORK/out/strace-top-$sc-$impl.txt")"
}

# udp_bound PORT SECONDS: waits for a UDP socket on PORT.
udp_bound() {
  local i
  for i in $(seq 1 $(( $2 * 10 ))); do
    [ -n "$(ss -Hlun "sport = :$1" 2>/dev/null)" ] && return 0
    sleep 0.1
  done
  return 1
}

# run_udp REP IMPL: a fresh proxy with one `listen ... udp` in front of the UDP
# echo backend (proxy_responses 1: a session per query, as a DNS proxy is
# set up), UDP_CLIENTS closed-loop clients for DUR seconds.
run_udp() {
  local rep=$1 impl=$2 dir="$WORK/udp-$1-$2" port=${P_PROXY_UDP[$2]} pg="" pids=""
  mkdir -p "$dir"
  case $impl in
    nginx)
      printf 'load_module %s;\nworker_processes 1;\ndaemon off;\npid %s/nginx.pid;\nerror_log %s/error.log error;\nevents { worker_connections 8192; }\nstream { server { listen 127.0.0.1:%d udp; proxy_pass 127.0.0.1:%d; proxy_responses 1; proxy_timeout 10s; } }\n' \
        "$STREAM_MODULE" "$dir" "$dir" "$port" "$P_UDP_ECHO" >"$dir/nginx.conf"
      spawn "$dir/out.log" "${PIN_PROXY[@]}" "$NGINX" -p "$dir" -c "$dir/nginx.conf" -e "$dir/error.log" ;;
    proxyd)
      printf '[main]\nworker_processes = 1\nworker_connections = 8192\nerror_log = %s/error.log error\npid = %s/proxyd.pid\n\n[server udp]\nlisten = 127.0.0.1:%d udp\nproxy_pass = 127.0.0.1:%d\nproxy_responses = 1\nproxy_timeout = 10s\n' \
        "$dir" "$dir" "$port" "$P_UDP_ECHO" >"$dir/proxyd.ini"
      spawn "$dir/out.log" "${PIN_PROXY[@]}" "$PROXYD" -c "$dir/proxyd.ini" ;;
  esac
  if [ "$impl" != direct ]; then
    pg=$SPAWNED_PID
    if ! udp_bound "$port" 10; then
      anomaly "rep $rep udp $impl: did not bind its UDP port: $(tail -3 "$dir/out.log" "$dir/error.log" 2>/dev/null | tr '\n' '|')"
      stop_group "$pg"; return 1
    fi
    pids=$pg
    [ "$impl" = nginx ] && { sleep 0.3; pids="$pg $(pgrep -P "$pg" | tr '\n' ' ')"; }
  fi
  local c0 c1 t0 t1 out="$WORK/out/udp-$rep-$impl.txt"
  # shellcheck disable=SC2086
  c0=$( [ -n "$pids" ] && cpu_ticks $pids || echo 0 )
  t0=$(date +%s%N)
  timeout -k 5 $((DUR + 30)) "${PIN_LOAD[@]}" python3 "$HERE/udp_load.py" load 127.0.0.1 "$port" "$UDP_CLIENTS" "$DUR" >"$out" 2>&1
  t1=$(date +%s%N)
  # shellcheck disable=SC2086
  c1=$( [ -n "$pids" ] && cpu_ticks $pids || echo 0 )
  [ -n "$pg" ] && stop_group "$pg"
  local line
  line=$(grep '^UDPRESULT' "$out" | tail -1)
  if [ -z "$line" ]; then
    anomaly "rep $rep udp $impl: no result: $(tail -3 "$out" | tr '\n' '|')"; return 1
  fi
  local local_requests local_duration_us local_timeouts local_p50_us local_p99_us
  eval "$(echo "$line" | sed 's/^UDPRESULT //' | tr ' ' '\n' | sed 's/^\([a-z0-9_]*\)=/local_\1=/')"
  record "$rep" udp "$impl" requests "$local_requests"
  record "$rep" udp "$impl" errors "$local_timeouts"
  record "$rep" udp "$impl" p50_us "$local_p50_us"
  record "$rep" udp "$impl" p99_us "$local_p99_us"
  record "$rep" udp "$impl" req_per_s "$(awk -v r="$local_requests" -v d="$local_duration_us" 'BEGIN{printf "%.1f", (d > 0 ? r * 1e6 / d : 0)}')"
  if [ -n "$pids" ]; then
    local ticks=$((c1 - c0))
    record "$rep" udp "$impl" cpu_pct "$(awk -v t="$ticks" -v hz="$CLK_TCK" -v w=$((t1 - t0)) 'BEGIN{printf "%.1f", t / hz * 100 / (w / 1e9)}')"
    record "$rep" udp "$impl" cpu_us_per_req "$(awk -v t="$ticks" -v hz="$CLK_TCK" -v r="$local_requests" 'BEGIN{printf "%.2f", (r > 0 ? t / hz * 1e6 / r : 0)}')"
  fi
  [ "${local_timeouts:-0}" -gt 0 ] && anomaly "rep $rep udp $impl: $local_timeouts queries unanswered within 1 s (resent)"
  printf '  %-8s %-8s %10.1f req/s  p50 %s us  p99 %s us  timeouts %s\n' udp "$impl" \
    "$(awk -v r="$local_requests" -v d="$local_duration_us" 'BEGIN{print r * 1e6 / d}')" "$local_p50_us" "$local_p99_us" "$local_timeouts"
}

# ---------------------------------------------------------------- run
echo "proxyd bench: $(basename "$PROXYD") $("$PROXYD" -v 2>&1 | head -1) | $("$NGINX" -v 2>&1) | $("$HAPROXY" -v | head -1 | cut -d' ' -f1-3)"
if [ "$PIN" = 1 ]; then
  echo "pinning: proxies on CPU $PROXY_CPU; wrk, backend nginx and echo backend on CPU $LOAD_CPU ($NCPU CPUs)"
else
  echo "pinning: none ($NCPU CPUs)"
fi
echo "reps $REPS x ${DUR}s per run; idle sessions $IDLE_N; ports $BASE-$((BASE + 32)); implementations: $IMPLS"

# Warm-up: page cache for the files, connection paths of every proxy.
for impl in $IMPLS; do
  timeout 20 "${PIN_LOAD[@]}" wrk -t1 -c4 -d1s "http://127.0.0.1:${P_PROXY_HTTP[$impl]}/files/1m.bin" >/dev/null 2>&1
done

for rep in $(seq 1 "$REPS"); do
  echo "--- repetition $rep/$REPS"
  # Rotate the order of implementations each repetition to spread drift and noise.
  read -r -a order <<<"$IMPLS"
  n=${#order[@]}
  rot=()
  for i in $(seq 0 $((n - 1))); do rot+=("${order[$(( (i + rep - 1) % n ))]}"); done
  for sc in $SCENARIOS; do
    for impl in "${rot[@]}"; do
      if [ "$sc" = udp ]; then
        # HAProxy (Debian's 2.6) proxies no UDP.
        [ "$impl" = haproxy ] || run_udp "$rep" "$impl"
        continue
      fi
      run_wrk "$rep" "$sc" "$impl"
    done
  done
  for impl in "${rot[@]}"; do [ "$impl" = direct ] || run_idle "$rep" "$impl"; done
done

if [ "$HAVE_STRACE" = 1 ]; then
  echo "--- syscalls per request (strace -c -f, 3 s runs; strace slows the proxy, counts stay valid)"
  for sc in rps cps; do
    for impl in $THROUGHPUT_IMPLS; do run_strace "$sc" "$impl"; done
  done
elif [ "$DO_STRACE" = 1 ]; then
  echo "--- strace not installed: skipping syscall counts (apt-get install strace)"
fi

# ---------------------------------------------------------------- report
mkdir -p "$OUT_DIR"
META="reps $REPS x ${DUR}s, median; idle sessions $IDLE_N; $( [ "$PIN" = 1 ] && echo "proxy pinned to CPU $PROXY_CPU, wrk+backends on CPU $LOAD_CPU" || echo "no pinning" ); $(nproc) CPUs; $(date -u '+%Y-%m-%d %H:%M UTC')"
python3 "$HERE/report.py" "$RAW" "$ANOMALIES" "$META" >"$OUT_DIR/results.md" || die "report failed"
cp "$RAW" "$OUT_DIR/raw.tsv"
cat "$OUT_DIR/results.md"
echo
echo "written: $OUT_DIR/results.md (raw samples: $OUT_DIR/raw.tsv)"
exit 0
