#!/bin/bash
# check_proxyd.sh - vrrpd (or keepalived) track script for proxyd.
#
# Healthy means HTTP 200 from proxyd's status page within a hard time limit.
# Exit 0 healthy, 1 not healthy (one reason line on stderr), 2 usage error.
# Needs bash, curl and coreutils only. Run `check_proxyd.sh --help`.

set -u

prog=${0##*/}

usage() {
	cat <<EOF
Usage: $prog [OPTIONS]

Track script for vrrpd: exit 0 when proxyd's status page answers HTTP 200
within the time limit, else print one reason line on stderr and exit 1.
Wire it with weight = 0 so that a failing proxyd puts the node in FAULT and
the VIP moves (see checks/README.md).

Options:
  -u, --url URL        page to check (default \$CHECK_PROXYD_URL, else
                       http://127.0.0.1:10088/; with --ready
                       \$CHECK_PROXYD_READY_URL, else http://127.0.0.1:10088/ready)
  -t, --timeout SECS   hard limit on the whole request, curl --max-time
                       (default \$CHECK_PROXYD_TIMEOUT, else 2; decimals allowed)
      --ready          check /ready instead of /: fails (503) while proxyd has
                       no usable upstream, so the VIP leaves a node that
                       cannot reach any backend
      --restart CMD    when the check fails, run CMD once (sh -c), wait, check
                       again (the seed's check_nginx.sh), e.g.
                       --restart 'systemctl restart proxyd'
  -w, --wait SECS      wait after --restart before checking again (default 2)
      --stop-vrrpd [CMD]
                       when still failing, run CMD (default: systemctl stop
                       vrrpd), the seed's last resort; not needed with weight = 0
  -h, --help           print this help and exit 0

By default nothing is restarted: proxyd's unit has Restart=always and the
script runs as the unprivileged script_user. --restart and --stop-vrrpd need
the privilege to run their commands, and the vrrp_script timeout must cover
2 x timeout + wait + the commands' own time.

Exit status: 0 healthy, 1 unhealthy (also after --restart/--stop-vrrpd ran
and the page still failed), 2 bad usage.
EOF
}

die_usage() {
	echo "$prog: $*" >&2
	usage >&2
	exit 2
}

# A positive duration in seconds: 2, 0.5, 1.25.
is_duration() {
	[[ $1 =~ ^[0-9]+(\.[0-9]+)?$|^\.[0-9]+$ ]] && [[ ! $1 =~ ^[0.]+$ ]]
}
# Like is_duration, but 0 is allowed.
is_duration0() {
	[[ $1 =~ ^[0-9]+(\.[0-9]+)?$|^\.[0-9]+$ ]]
}

url=
timeout=${CHECK_PROXYD_TIMEOUT:-2}
wait_s=${CHECK_PROXYD_WAIT:-2}
ready=0
restart=0
restart_cmd=
stop_vrrpd=0
stop_cmd='systemctl stop vrrpd'

while [ $# -gt 0 ]; do
	opt=$1
	shift
	val=
	has_val=0
	case $opt in
	--*=*) val=${opt#*=}; opt=${opt%%=*}; has_val=1 ;;
	esac
	case $opt in
	-u | --url | -t | --timeout | -w | --wait | --restart)
		if [ $has_val = 0 ]; then
			[ $# -gt 0 ] || die_usage "option $opt needs a value"
			val=$1
			shift
		fi
		case $opt in
		-u | --url) url=$val ;;
		-t | --timeout) timeout=$val ;;
		-w | --wait) wait_s=$val ;;
		--restart) restart=1; restart_cmd=$val ;;
		esac
		;;
	--stop-vrrpd)
		stop_vrrpd=1
		# Optional value: --stop-vrrpd=CMD, or a following word that is not
		# an option (the script takes no operands, so this is unambiguous).
		if [ $has_val = 1 ]; then
			stop_cmd=$val
		elif [ $# -gt 0 ] && [ "${1#-}" = "$1" ]; then
			stop_cmd=$1
			shift
		fi
		;;
	--ready)
		[ $has_val = 0 ] || die_usage "option $opt takes no value"
		ready=1
		;;
	-h | --help)
		usage
		exit 0
		;;
	*)
		die_usage "unknown option or operand: $opt"
		;;
	esac
done

if [ -z "$url" ]; then
	if [ $ready = 1 ]; then
		url=${CHECK_PROXYD_READY_URL:-http://127.0.0.1:10088/ready}
	else
		url=${CHECK_PROXYD_URL:-http://127.0.0.1:10088/}
	fi
fi
is_duration "$timeout" || die_usage "bad --timeout '$timeout' (seconds > 0)"
is_duration0 "$wait_s" || die_usage "bad --wait '$wait_s' (seconds)"
[ $restart = 0 ] || [ -n "$restart_cmd" ] || die_usage "empty --restart command"
[ $stop_vrrpd = 0 ] || [ -n "$stop_cmd" ] || die_usage "empty --stop-vrrpd command"

if ! command -v curl >/dev/null 2>&1; then
	echo "$prog: curl not found in PATH" >&2
	exit 1
fi

reason=

# check: one request, sets $reason when it fails.
check() {
	local code rc
	# -q first: ignore ~/.curlrc; --noproxy: never via an http_proxy;
	# -g: no globbing, so http://[::1]:10088/ works.
	code=$(curl -q -g -s -o /dev/null -w '%{http_code}' --noproxy '*' \
		--max-time "$timeout" -- "$url" 2>/dev/null)
	rc=$?
	if [ $rc -eq 0 ] && [ "$code" = 200 ]; then
		reason=
		return 0
	fi
	case $rc in
	0) reason="HTTP ${code:-?}" ;;
	6) reason="cannot resolve host (curl exit 6)" ;;
	7) reason="connection refused or unreachable (curl exit 7)" ;;
	28) reason="no answer within ${timeout}s (curl exit 28)" ;;
	52) reason="empty reply (curl exit 52)" ;;
	56) reason="connection reset (curl exit 56)" ;;
	*) reason="curl exit $rc" ;;
	esac
	return 1
}

check && exit 0
first_reason=$reason

if [ $restart = 1 ]; then
	sh -c "$restart_cmd" >&2
	rrc=$?
	sleep "$wait_s"
	if check; then
		echo "$prog: $url: $first_reason; recovered after restart ($restart_cmd, exit $rrc)" >&2
		exit 0
	fi
	reason="$reason after restart ($restart_cmd, exit $rrc)"
fi

if [ $stop_vrrpd = 1 ]; then
	sh -c "$stop_cmd" >&2
	reason="$reason; ran '$stop_cmd' (exit $?)"
fi

echo "$prog: $url: $reason" >&2
exit 1
