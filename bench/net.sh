#!/bin/bash
# bench/net.sh: what berthd's networking costs, beside dockerd's, in one run (bench/README.md):
#   1. `run --rm busybox true` on the default bridge and with --network none (the docker CLI
#      against each daemon), rounds interleaved; the bridge's cost is bridge - none;
#   2. TCP throughput through a published port on 127.0.0.1: BYTES sent from the daemon's
#      namespace to `-p PORT:80` of a busybox `nc -l` (berthd's in-kernel DNAT against dockerd's
#      default userland proxy), TP_RUNS times each, interleaved.
#
#   bench/net.sh                          # RUNS=20 TP_RUNS=5 BYTES_MB=1024
#   RUNS=40 BERTHD=/usr/local/bin/berthd bench/net.sh
#
# Each daemon runs in a network namespace of its own (its bridge, its firewall, its 127.0.0.1):
# berthd under nsenter, dockerd through tests/compat/private-dockerd.sh; both with their own data
# and exec roots under a temporary directory, removed at the end.  Traffic stays inside those
# namespaces.  Medians and ratios are printed; nothing is asserted (see the issue's targets).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
repo=$(dirname "$here")
RUNS=${RUNS:-20}
WARMUP=${WARMUP:-2}
TP_RUNS=${TP_RUNS:-5}
BYTES_MB=${BYTES_MB:-1024}
BERTHD=${BERTHD:-$repo/build/daemon/berthd}
DOCKER=${DOCKER:-/usr/local/bin/docker}
[ -x "$DOCKER" ] || DOCKER=$(command -v docker)
DOCKERD=$(command -v dockerd || true)

[ "$(id -u)" -eq 0 ] || { echo "net: run as root" >&2; exit 1; }
work=$(mktemp -d /tmp/berth-netbench.XXXXXX)
bns=berthnet$$
berthd_pid=
dockerd_env=(D="$work/dockerd" NETNS="berthnetd$$")
cleanup() {
	if [ -n "$berthd_pid" ]; then
		DOCKER_HOST=unix://$work/berthd/s.sock "$DOCKER" rm -f bench-sink >/dev/null 2>&1 || true
		kill "$berthd_pid" 2>/dev/null && wait "$berthd_pid" 2>/dev/null || true
	fi
	if [ -n "$DOCKERD" ]; then
		DOCKER_HOST=unix://$work/dockerd/docker.sock "$DOCKER" rm -f bench-sink >/dev/null 2>&1 || true
		env "${dockerd_env[@]}" "$repo/tests/compat/private-dockerd.sh" down >/dev/null 2>&1 || true
	fi
	ip netns del "$bns" 2>/dev/null || true
	grep -o " $work[^ ]*" /proc/mounts | sort -r | xargs -r -n1 umount -l 2>/dev/null || true
	rm -rf "$work"
}
trap cleanup EXIT

"$repo/scripts/mkrootfs.sh" /var/tmp/berth-cache/rootfs >/dev/null
tar -C /var/tmp/berth-cache/rootfs -cf "$work/bb.tar" .

names=()
declare -A sock netns

# berthd, in its namespace, with its default bridge
ip netns add "$bns"
ip -n "$bns" link set lo up
mkdir -p "$work/berthd"
echo '{}' >"$work/berthd/daemon.json"
nsenter --net="/run/netns/$bns" "$BERTHD" -H "unix://$work/berthd/s.sock" \
	--data-root "$work/berthd/data" --exec-root "$work/berthd/exec" \
	--config-file "$work/berthd/daemon.json" >"$work/berthd/log" 2>&1 &
berthd_pid=$!
for _ in $(seq 100); do [ -S "$work/berthd/s.sock" ] && break; sleep 0.05; done
names+=(berthd)
sock[berthd]=$work/berthd/s.sock
netns[berthd]=$bns

# dockerd
if [ -n "$DOCKERD" ]; then
	env "${dockerd_env[@]}" "$repo/tests/compat/private-dockerd.sh" up >/dev/null
	names+=(dockerd)
	sock[dockerd]=$work/dockerd/docker.sock
	netns[dockerd]=berthnetd$$
else
	echo "net: no dockerd, left out" >&2
fi
dk() { # ENGINE ARGS...: the docker CLI against that engine
	local e=$1
	shift
	DOCKER_HOST=unix://${sock[$e]} "$DOCKER" "$@"
}
for n in "${names[@]}"; do dk "$n" import "$work/bb.tar" busybox >/dev/null; done

ms_of() { # CMD...: run once, print microseconds (fails the script if the run fails)
	local t0 t1
	t0=$(date +%s%N)
	"$@" >/dev/null
	t1=$(date +%s%N)
	echo $(((t1 - t0) / 1000))
}
median() { tr ' ' '\n' | grep . | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

# ---- 1. run latency, bridge and none
declare -A times
cases=()
for n in "${names[@]}"; do cases+=("$n/bridge" "$n/none"); done
for ((i = 0; i < WARMUP; i++)); do
	for c in "${cases[@]}"; do dk "${c%/*}" run --rm --network "${c#*/}" busybox true; done
done
for ((i = 0; i < RUNS; i++)); do
	for ((k = 0; k < ${#cases[@]}; k++)); do
		c=${cases[$(((i + k) % ${#cases[@]}))]}
		times[$c]+="$(ms_of dk "${c%/*}" run --rm --network "${c#*/}" busybox true) "
	done
done
declare -A med
printf '%-16s %12s\n' "run --rm" "median (ms)"
for c in "${cases[@]}"; do
	med[$c]=$(echo "${times[$c]}" | median)
	printf '%-16s %12.1f\n' "$c" "$(echo "${med[$c]} / 1000" | bc -l)"
done
for n in "${names[@]}"; do
	printf '%-16s %12.1f\n' "$n bridge cost" \
		"$(echo "(${med[$n/bridge]} - ${med[$n/none]}) / 1000" | bc -l)"
done
[ -n "${med[dockerd/bridge]:-}" ] && printf 'berthd / dockerd (bridge) = %.3f\n' \
	"$(echo "${med[berthd/bridge]} / ${med[dockerd/bridge]}" | bc -l)"

# ---- 2. throughput through a published port on 127.0.0.1
declare -A tput
port=18080
for n in "${names[@]}"; do
	dk "$n" run -d --name bench-sink -p "127.0.0.1:$port:80" busybox \
		sh -c 'while :; do nc -l -p 80 -e dd of=/dev/null bs=1M 2>/dev/null; done' >/dev/null
done
send() { # ENGINE: BYTES_MB MiB to the published port from the daemon's namespace; prints us
	local t0 t1
	t0=$(date +%s%N)
	ip netns exec "${netns[$1]}" bash -c \
		"dd if=/dev/zero bs=1M count=$BYTES_MB status=none >/dev/tcp/127.0.0.1/$port"
	t1=$(date +%s%N)
	echo $(((t1 - t0) / 1000))
}
for n in "${names[@]}"; do
	for _ in $(seq 50); do
		ip netns exec "${netns[$n]}" bash -c "echo >/dev/tcp/127.0.0.1/$port" 2>/dev/null && break
		sleep 0.1
	done
	sleep 0.2
	send "$n" >/dev/null # warm-up
done
for ((i = 0; i < TP_RUNS; i++)); do
	for ((k = 0; k < ${#names[@]}; k++)); do
		n=${names[$(((i + k) % ${#names[@]}))]}
		sleep 0.2 # the sink's nc is listening again
		tput[$n]+="$(send "$n") "
	done
done
printf '%-16s %12s\n' "-p 127.0.0.1" "MiB/s (median)"
declare -A mibs
for n in "${names[@]}"; do
	us=$(echo "${tput[$n]}" | median)
	mibs[$n]=$(echo "$BYTES_MB * 1000000 / $us" | bc -l)
	printf '%-16s %12.0f\n' "$n" "${mibs[$n]}"
done
[ -n "${mibs[dockerd]:-}" ] && printf 'berthd / dockerd (throughput) = %.2f\n' \
	"$(echo "${mibs[berthd]} / ${mibs[dockerd]}" | bc -l)"
echo "($RUNS run rounds after $WARMUP warm-up rounds, $TP_RUNS x $BYTES_MB MiB; $("$DOCKER" --version))"
