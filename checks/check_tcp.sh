#!/bin/bash
# check_tcp.sh - vrrpd track script: a TCP port accepts connections.
#
# Connects with bash's /dev/tcp under coreutils' timeout (hard limit).
# Exit 0 connected, 1 not (one reason line on stderr), 2 usage error.

set -u

prog=${0##*/}

usage() {
	cat <<EOF2
Usage: $prog [-t SECS] HOST PORT
       $prog [-t SECS] HOST:PORT      ([ADDR]:PORT for IPv6)

Track script for vrrpd: exit 0 when a TCP connection to HOST PORT is
established within the time limit, else print one reason line on stderr and
exit 1. Nothing is sent: the connection is closed at once. Examples: the
local apiserver (127.0.0.1 6443), a proxyd listener (127.0.0.1 10443).

Options:
  -t, --timeout SECS   hard limit on the connect (default \$CHECK_TCP_TIMEOUT,
                       else 2; decimals allowed)
  -h, --help           print this help and exit 0

Exit status: 0 connected, 1 not, 2 bad usage.
EOF2
}

die_usage() {
	echo "$prog: $*" >&2
	usage >&2
	exit 2
}

timeout_s=${CHECK_TCP_TIMEOUT:-2}
args=()
while [ $# -gt 0 ]; do
	case $1 in
	-t | --timeout)
		[ $# -ge 2 ] || die_usage "option $1 needs a value"
		timeout_s=$2
		shift 2
		;;
	--timeout=*) timeout_s=${1#*=}; shift ;;
	-h | --help) usage; exit 0 ;;
	--) shift; args+=("$@"); break ;;
	-*) die_usage "unknown option: $1" ;;
	*) args+=("$1"); shift ;;
	esac
done

case ${#args[@]} in
1)
	hp=${args[0]}
	port=${hp##*:}
	host=${hp%:*}
	[ "$host" != "$hp" ] || die_usage "expected HOST:PORT, got '$hp'"
	;;
2) host=${args[0]}; port=${args[1]} ;;
*) die_usage "expected HOST PORT" ;;
esac
# [2001:db8::1] -> 2001:db8::1
host=${host#[}
host=${host%]}
[ -n "$host" ] || die_usage "empty host"
if ! { [[ $port =~ ^[0-9]+$ ]] && [ "$port" -ge 1 ] && [ "$port" -le 65535 ]; }; then
	die_usage "bad port '$port'"
fi
if ! { [[ $timeout_s =~ ^[0-9]+(\.[0-9]+)?$|^\.[0-9]+$ ]] && [[ ! $timeout_s =~ ^[0.]+$ ]]; }; then
	die_usage "bad --timeout '$timeout_s' (seconds > 0)"
fi

# The child bash opens the connection and exits (closing it); timeout kills
# it (TERM, then KILL 1 s later) if the connect hangs.
# shellcheck disable=SC2016  # $1 and $2 expand in the child bash, from its arguments
err=$(timeout -k 1 "$timeout_s" bash -c 'exec 3<>"/dev/tcp/$1/$2"' _ "$host" "$port" 2>&1)
rc=$?
case $rc in
0) exit 0 ;;
124 | 137) reason="no connection within ${timeout_s}s" ;;
*)
	# bash says e.g. "_: connect: Connection refused" or "_: line 1: HOST:
	# Name or service not known" first; keep the end of that first line.
	err=${err%%$'\n'*}
	err=${err##*: }
	reason=${err:-connect failed (exit $rc)}
	;;
esac
echo "$prog: $host port $port: $reason" >&2
exit 1
