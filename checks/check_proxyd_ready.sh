#!/bin/bash
# check_proxyd_ready.sh - vrrpd track script: proxyd has a usable upstream.
#
# Same as `check_proxyd.sh --ready`: HTTP 200 from proxyd's /ready page
# (503 while no upstream is usable) within a hard time limit.
# Exit 0 ready, 1 not ready (one reason line on stderr), 2 usage error.

set -u

prog=${0##*/}

usage() {
	cat <<EOF2
Usage: $prog [OPTIONS]

Track script for vrrpd: exit 0 when proxyd's /ready page answers HTTP 200
within the time limit, else print one reason line on stderr and exit 1.
proxyd answers 503 there while none of its upstreams is usable, so with
weight = 0 the VIP leaves a node that cannot reach any backend (apiserver).
Use it beside check_proxyd.sh, not instead of it, if a node whose proxyd is
up but cut off from every apiserver should give the VIP away.

Options (as check_proxyd.sh --ready):
  -u, --url URL        page to check (default \$CHECK_PROXYD_READY_URL, else
                       http://127.0.0.1:10088/ready)
  -t, --timeout SECS   hard limit on the whole request, curl --max-time
                       (default \$CHECK_PROXYD_TIMEOUT, else 2)
      --restart CMD, -w/--wait SECS, --stop-vrrpd [CMD]
                       as in check_proxyd.sh (rarely useful here: restarting
                       proxyd does not bring an apiserver back)
  -h, --help           print this help and exit 0

Exit status: 0 ready, 1 not ready, 2 bad usage.
EOF2
}

for a in "$@"; do
	case $a in
	-h | --help) usage; exit 0 ;;
	esac
done

# The main script lives beside this one (also when this one is a symlink).
self=$(readlink -f -- "$0" 2>/dev/null) || self=$0
dir=${self%/*}
[ "$dir" != "$self" ] || dir=.
main=$dir/check_proxyd.sh
if [ ! -r "$main" ]; then
	echo "$prog: $main not found (install it beside this script)" >&2
	exit 1
fi
exec bash "$main" --ready "$@"
