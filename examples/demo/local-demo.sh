#!/usr/bin/env bash
# The local demo (`make demo`): proxyd in front of three stand-in apiservers
# on loopback, with the seed's upstream block (consistent hash on the client
# address, max_fails=3 fail_timeout=30s, connect timeout 1s). A client
# connects from several source addresses and prints which backend answered;
# then one backend is stopped and the same clients are served by the others
# at the cost of a retry, never a failed session. Everything started here is
# stopped on every exit path.
set -euo pipefail

proxyd=${1:-build/bin/proxyd}
proxyd=$(realpath "$proxyd")
work=$(mktemp -d /tmp/proxyd-demo.XXXXXX)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

base=$((20000 + RANDOM % 20000))
api=($((base + 1)) $((base + 2)) $((base + 3)))
listen=$((base + 10))
status=$((base + 11))

cat >"$work/backend.py" <<'PY'
import socket, sys, threading
name, port = sys.argv[1], int(sys.argv[2])
l = socket.socket(); l.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
l.bind(("127.0.0.1", port)); l.listen(128)
def serve(c):
    with c:
        data = c.recv(1024)
        c.sendall(b"%s answered %s" % (name.encode(), data))
while True:
    c, _ = l.accept()
    threading.Thread(target=serve, args=(c,), daemon=True).start()
PY
cat >"$work/client.py" <<'PY'
import socket, sys
port = int(sys.argv[1])
for src in sys.argv[2:]:
    s = socket.socket(); s.bind((src, 0)); s.settimeout(5)
    try:
        s.connect(("127.0.0.1", port)); s.sendall(b"GET /version\n")
        print(f"  client {src:<12} -> {s.recv(1024).decode().strip()}")
    except OSError as e:
        print(f"  client {src:<12} -> FAILED: {e}")
    finally:
        s.close()
PY

cat >"$work/proxyd.ini" <<INI
; The seed's nginx stream.conf, as proxyd.ini
[main]
error_log = error.log notice
pid = proxyd.pid

[status]
listen = 127.0.0.1:$status

[log_format proxy]
format = [\$time_local] \$protocol status:\$status, bytes client:\$bytes_sent/\$bytes_received \$session_time,
    client: \$remote_addr, upstream:"\$upstream_addr",
    bytes upstream:\$upstream_bytes_sent \$upstream_bytes_received \$upstream_connect_time

[upstream k8sapiserver]
hash = \$remote_addr consistent
server = 127.0.0.1:${api[0]} max_fails=3 fail_timeout=30s
server = 127.0.0.1:${api[1]} max_fails=3 fail_timeout=30s
server = 127.0.0.1:${api[2]} max_fails=3 fail_timeout=30s

[server k8s]
listen = 127.0.0.1:$listen
proxy_pass = k8sapiserver
proxy_connect_timeout = 1s
access_log = access.log proxy
INI

echo "== configuration ($work/proxyd.ini)"
sed 's/^/  /' "$work/proxyd.ini"
echo
echo "== proxyd -t"
"$proxyd" -t -c "$work/proxyd.ini"

for i in 0 1 2; do
  python3 "$work/backend.py" "apiserver-$((i + 1))" "${api[$i]}" &
  pids+=($!)
done
"$proxyd" -c "$work/proxyd.ini" &
proxyd_pid=$!
pids+=("$proxyd_pid")
for _ in $(seq 50); do
  curl -s -o /dev/null "http://127.0.0.1:$status/" && break
  sleep 0.1
done

clients=(127.0.0.2 127.0.0.3 127.0.0.4 127.0.0.5 127.0.0.6 127.0.0.7)
echo
echo "== status page: curl http://127.0.0.1:$status/"
echo "  $(curl -s "http://127.0.0.1:$status/")"
echo
echo "== six clients through proxyd (consistent hash: each client keeps its apiserver)"
python3 "$work/client.py" "$listen" "${clients[@]}"
echo
echo "== the same clients again: same answers"
python3 "$work/client.py" "$listen" "${clients[@]}"
echo
echo "== apiserver-2 goes down; its clients cost one retry each, none fails"
kill "${pids[1]}"
wait "${pids[1]}" 2>/dev/null || true
python3 "$work/client.py" "$listen" "${clients[@]}"
sleep 0.2
echo
echo "== access log (nginx's format: every tried upstream listed, a refused try shows '-')"
sed 's/^/  /' "$work/access.log"
echo
echo "== error log"
sed 's/^/  /' "$work/error.log"
kill -TERM "$proxyd_pid"
wait "$proxyd_pid" || true
echo
echo "demo finished: proxyd and the backends stopped, $work removed"
