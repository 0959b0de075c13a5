#!/bin/bash
# Captures real keepalived adverts to use as known vectors in
# tests/unit/vrrpd/vrrp_packet_test.cc.
#
# Builds a two-namespace lab (a veth pair, documentation addresses only, the
# host's interfaces are never touched), runs Debian's keepalived (2.2.7 when the
# vectors were taken) in namespace "a" with one config per scenario, captures
# its adverts with tcpdump in namespace "b", and prints, for each packet, the
# IP datagram (IP header + VRRP message, Ethernet header and padding removed)
# as one hex string, plus tcpdump's verbose decoding of it.
#
#   sudo tests/unit/vrrpd/vectors/capture_keepalived.sh [OUTDIR]
#
# The last packet(s) of each scenario are the priority-0 adverts keepalived
# sends when it stops (TERM) as master.
#
# With OUTDIR, the configs, keepalived logs and pcap files are kept there.
# Needs root, keepalived, tcpdump and iproute2. Self-cleaning: keepalived is
# stopped and both namespaces are deleted on every exit path (trap), so
# `ip netns list` shows nothing of ours afterwards.
#
# Scenarios (keepalived instance in namespace a, interface va, 192.0.2.1/24,
# fe80::a/64, peer namespace b on vb with 192.0.2.2/24 and 192.0.2.3/24):
#   a  VRRPv2, auth_type PASS, auth_pass K8SHA_KA_AUTH (cut to 8 bytes),
#      vrid 51, priority 100, advert_int 1, VIPs 192.0.2.100/24, 203.0.113.100/24
#   b  VRRPv3 IPv4, vrid 52, priority 150, advert_int 0.5, VIP 192.0.2.52/24
#   c  VRRPv3 IPv6, vrid 53, priority 100, advert_int 1, VIP 2001:db8::100/64
#      (source is the interface's link-local address fe80::a)
#   d  VRRPv3 IPv4 unicast, vrid 54, priority 100, advert_int 1,
#      unicast_src_ip 192.0.2.1, unicast_peer 192.0.2.2 and 192.0.2.3,
#      VIP 192.0.2.54/24 (one checksum per peer: the pseudo-header's dst)
set -euo pipefail

if [[ $(id -u) -ne 0 ]]; then
  echo "$0: needs root (network namespaces)" >&2
  exit 2
fi
for tool in keepalived tcpdump ip; do
  command -v "$tool" >/dev/null || { echo "$0: $tool not found" >&2; exit 2; }
done

PFX="kv$$-"
NSA="${PFX}a"
NSB="${PFX}b"
WORK=$(mktemp -d /tmp/capture_keepalived.XXXXXX)
OUTDIR=${1:-}
KA_PID=""
TD_PID=""

cleanup() {
  set +e
  # Stop what we started, by pid; then anything still left inside our own
  # namespaces (only processes this script started can be in them).
  [[ -n $TD_PID ]] && kill "$TD_PID" 2>/dev/null
  [[ -n $KA_PID ]] && kill "$KA_PID" 2>/dev/null && wait "$KA_PID" 2>/dev/null
  for ns in "$NSA" "$NSB"; do
    if ip netns list | grep -qw "$ns"; then
      for pid in $(ip netns pids "$ns" 2>/dev/null); do kill -9 "$pid" 2>/dev/null; done
      ip netns del "$ns"
    fi
  done
  if [[ -n $OUTDIR ]]; then
    mkdir -p "$OUTDIR" && cp -a "$WORK"/. "$OUTDIR"/
  fi
  rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

ip netns add "$NSA"
ip netns add "$NSB"
# Created inside namespace a with its peer directly in namespace b: the veth
# never exists in the host's namespace.
ip -n "$NSA" link add va type veth peer name vb netns "$NSB"
# Fixed MACs and link-local addresses so that the vectors are reproducible.
ip -n "$NSA" link set va address 02:00:00:00:00:0a addrgenmode none
ip -n "$NSB" link set vb address 02:00:00:00:00:0b addrgenmode none
ip -n "$NSA" addr add 192.0.2.1/24 dev va
ip -n "$NSA" addr add fe80::a/64 dev va nodad
ip -n "$NSA" addr add 2001:db8::a/64 dev va nodad
ip -n "$NSB" addr add 192.0.2.2/24 dev vb
ip -n "$NSB" addr add 192.0.2.3/24 dev vb
ip -n "$NSB" addr add fe80::b/64 dev vb nodad
ip -n "$NSB" addr add 2001:db8::b/64 dev vb nodad
for ns in "$NSA" "$NSB"; do ip -n "$ns" link set lo up; done
ip -n "$NSA" link set va up
ip -n "$NSB" link set vb up

write_conf() {  # name, instance body
  cat >"$WORK/$1.conf" <<EOF
global_defs {
  router_id capture_$1
}
vrrp_instance VI_$1 {
  state MASTER
  interface va
$2
}
EOF
}

write_conf a '  virtual_router_id 51
  priority 100
  advert_int 1
  authentication {
    auth_type PASS
    auth_pass K8SHA_KA_AUTH
  }
  virtual_ipaddress {
    192.0.2.100/24
    203.0.113.100/24
  }'
write_conf b '  version 3
  virtual_router_id 52
  priority 150
  advert_int 0.5
  virtual_ipaddress {
    192.0.2.52/24
  }'
write_conf c '  version 3
  virtual_router_id 53
  priority 100
  advert_int 1
  virtual_ipaddress {
    2001:db8::100/64
  }'
write_conf d '  version 3
  virtual_router_id 54
  priority 100
  advert_int 1
  unicast_src_ip 192.0.2.1
  unicast_peer {
    192.0.2.2
    192.0.2.3
  }
  virtual_ipaddress {
    192.0.2.54/24
  }'

# Prints each captured packet as "<scenario> <n> <hex of IP header + payload>".
dump_hex() {  # scenario, pcap
  local scen=$1 pcap=$2 n=0 hex="" line
  flush() {
    [[ -z $hex ]] && return 0
    n=$((n + 1))
    local ip=${hex:28}  # drop the 14-byte Ethernet header
    local len
    if [[ ${ip:0:1} == 4 ]]; then
      len=$((16#${ip:4:4}))          # IPv4 total length
    else
      len=$((40 + 16#${ip:8:4}))     # IPv6 header + payload length
    fi
    echo "$scen $n ${ip:0:$((len * 2))}"
    hex=""
  }
  while IFS= read -r line; do
    if [[ $line =~ ^[[:space:]]+0x[0-9a-f]+: ]]; then
      line=${line#*:}
      line=${line//[[:space:]]/}
      hex+=$line
    else
      flush
    fi
  done < <(tcpdump -nn -xx -r "$pcap" 2>/dev/null)
  flush
}

run_scenario() {  # scenario, adverts to capture at least before stopping keepalived
  local scen=$1 count=$2
  local pcap="$WORK/$scen.pcap" seen=0 tries=0
  ip netns exec "$NSB" timeout 30 tcpdump -i vb -nn -U -w "$pcap" \
    'ip proto 112 or ip6 proto 112' 2>"$WORK/$scen.tcpdump.log" &
  TD_PID=$!
  sleep 1
  ip netns exec "$NSA" keepalived -n -l -D -G -P -f "$WORK/$scen.conf" \
    -p "$WORK/$scen.pid" -r "$WORK/$scen.vrrp.pid" >"$WORK/$scen.keepalived.log" 2>&1 &
  KA_PID=$!
  # Once the regular adverts are in, stop keepalived (TERM): as a master it
  # then sends priority 0 (RFC 3768 6.4.3), which is captured too.
  while ((seen < count && tries < 200)); do
    sleep 0.1
    tries=$((tries + 1))
    seen=$(tcpdump -nn -r "$pcap" 2>/dev/null | wc -l || true)
  done
  kill "$KA_PID" 2>/dev/null || true
  wait "$KA_PID" 2>/dev/null || true
  KA_PID=""
  sleep 0.5
  kill -INT "$TD_PID" 2>/dev/null || true
  wait "$TD_PID" || true
  TD_PID=""
  echo "## scenario $scen: keepalived $(keepalived --version 2>&1 | head -1 | awk '{print $2}')"
  sed 's/^/#   /' "$WORK/$scen.conf"
  tcpdump -nn -v -r "$pcap" 2>/dev/null | sed 's/^/# /'
  dump_hex "$scen" "$pcap"
}

run_scenario a 2
run_scenario b 3
run_scenario c 2
run_scenario d 4
