#!/bin/bash
# bench/stats.sh: `stats --no-stream` of 50 running containers, one call each, berthd against
# dockerd (Debian's docker.io), measured in one run (see bench/README.md).
#
#   bench/stats.sh                  # N=50 containers, RUNS=10 calls per daemon, interleaved
#   N=20 RUNS=20 bench/stats.sh
#
# Two private daemons (their own socket, data and exec roots under a temporary directory; dockerd
# and its containerd in a network namespace of their own, no bridge, no iptables), each running N
# busybox `sleep` containers.  Per call: the wall time of the docker CLI's `stats --no-stream`
# (every running container), and the CPU time the daemon side spent on it (berthd alone; dockerd,
# its containerd and its containerd-shims, which read the cgroups for it), from /proc/PID/stat
# before and after.  The berth CLI's `stats --no-stream` against berthd is timed as well.  Medians.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
repo=$(dirname "$here")
N=${N:-50}
RUNS=${RUNS:-10}
BERTH=${BERTH_CLI:-$repo/build/cli/berth}
BERTHD=${BERTHD:-$repo/build/daemon/berthd}
DOCKER=${DOCKER:-$( [ -x /usr/local/bin/docker ] && echo /usr/local/bin/docker || command -v docker || true)}

[ "$(id -u)" = 0 ] || { echo "stats.sh: needs root (it starts daemons)" >&2; exit 1; }
[ -x "$BERTH" ] && [ -x "$BERTHD" ] || { echo "stats.sh: build first" >&2; exit 1; }
[ -n "$DOCKER" ] && command -v dockerd >/dev/null || { echo "stats.sh: needs docker and dockerd" >&2; exit 1; }

work=$(mktemp -d /tmp/berth-stats-bench.XXXXXX)
netns=bench-stats-$$
berthd_pid= dockerd_proc=
bsock=$work/b/d.sock
dsock=$work/d/d.sock
cleanup() {
	set +e
	if [ -n "$berthd_pid" ]; then
		"$BERTH" -H "unix://$bsock" ps -aq --no-trunc 2>/dev/null |
			xargs -r "$BERTH" -H "unix://$bsock" rm -f >/dev/null 2>&1
		kill -TERM "$berthd_pid" 2>/dev/null
		wait "$berthd_pid" 2>/dev/null
	fi
	if [ -n "$dockerd_proc" ]; then
		"$DOCKER" -H "unix://$dsock" ps -aq 2>/dev/null |
			xargs -r "$DOCKER" -H "unix://$dsock" rm -f >/dev/null 2>&1
		[ -s "$work/d/pid" ] && kill -TERM "$(cat "$work/d/pid")" 2>/dev/null
		wait "$dockerd_proc" 2>/dev/null
		ip netns delete "$netns" 2>/dev/null
		for c in /sys/fs/cgroup/*/"$netns"; do
			[ -d "$c" ] && find "$c" -depth -type d -exec rmdir {} + 2>/dev/null
		done
	fi
	rm -rf "$work"
}
trap cleanup EXIT

up() { # SOCK: wait until the daemon answers
	for _ in $(seq 300); do
		"$DOCKER" -H "unix://$1" version >/dev/null 2>&1 && return 0
		sleep 0.1
	done
	echo "stats.sh: the daemon at $1 did not answer" >&2
	exit 1
}

mkdir -p "$work/b" "$work/d" "$work/cfg"
echo "{}" >"$work/b/daemon.json"
echo "{}" >"$work/d/daemon.json"
"$BERTHD" -H "unix://$bsock" --data-root "$work/b/data" --exec-root "$work/b/exec" \
	--config-file "$work/b/daemon.json" >"$work/b/log" 2>&1 &
berthd_pid=$!
ip netns add "$netns"
nsenter --net="/run/netns/$netns" ip link set lo up
nsenter --net="/run/netns/$netns" unshare --mount --propagation shared -- dockerd \
	-H "unix://$dsock" --data-root "$work/d/data" --exec-root "$work/d/exec" \
	--pidfile "$work/d/pid" --config-file "$work/d/daemon.json" --bridge none \
	--iptables=false --cgroup-parent "/$netns" >"$work/d/log" 2>&1 &
dockerd_proc=$!
up "$bsock"
up "$dsock"
export DOCKER_CONFIG=$work/cfg
unset DOCKER_HOST DOCKER_CONTEXT DOCKER_API_VERSION

# busybox from the cached root filesystem the tests use (scripts/mkrootfs.sh), no network
rootfs=${BERTH_CACHE:-/var/tmp/berth-cache}/rootfs
"$repo/scripts/mkrootfs.sh" "$rootfs" >/dev/null
tar -C "$rootfs" -c . >"$work/rootfs.tar"
for s in "$bsock" "$dsock"; do
	"$DOCKER" -H "unix://$s" import "$work/rootfs.tar" busybox:latest >/dev/null
	for i in $(seq "$N"); do
		"$DOCKER" -H "unix://$s" run -d --network none --name "st-$i" busybox sleep 3600 >/dev/null
	done
done

# CPU ticks (utime + stime) of the daemon side
berthd_pids() { echo "$berthd_pid"; }
dockerd_pids() { echo "$(cat "$work/d/pid")"; pgrep -f "$work/d/exec" || true; }
ticks() {
	local t=0 p
	for p in $("$1"); do
		[ -r "/proc/$p/stat" ] || continue
		t=$((t + $(awk '{ sub(/.*\) /, ""); print $12 + $13 }' "/proc/$p/stat")))
	done
	echo "$t"
}
hz=$(getconf CLK_TCK)

# one NAME SOCK PIDS-FN CLI: a timed call, "wall_ms cpu_ms" appended to NAME's file
one() {
	local name=$1 sock=$2 pids=$3 cli=$4 t0 t1 c0 c1 rows
	c0=$(ticks "$pids")
	t0=$(date +%s%N)
	rows=$("$cli" -H "unix://$sock" stats --no-stream | wc -l)
	t1=$(date +%s%N)
	c1=$(ticks "$pids")
	[ "$rows" -eq $((N + 1)) ] || { echo "stats.sh: $name showed $((rows - 1)) of $N" >&2; exit 1; }
	echo "$(( (t1 - t0) / 1000000 )) $(( (c1 - c0) * 1000 / hz ))" >>"$work/$name"
}

for r in $(seq "$RUNS"); do
	if (( r % 2 )); then
		one berthd "$bsock" berthd_pids "$DOCKER"
		one dockerd "$dsock" dockerd_pids "$DOCKER"
	else
		one dockerd "$dsock" dockerd_pids "$DOCKER"
		one berthd "$bsock" berthd_pids "$DOCKER"
	fi
	one berth-cli "$bsock" berthd_pids "$BERTH"
done

median() { # FILE COLUMN
	awk -v c="$2" '{ print $c }' "$1" | sort -g | awk '{ v[NR] = $1 } END {
		if (NR % 2) m = v[(NR + 1) / 2]; else m = (v[NR / 2] + v[NR / 2 + 1]) / 2
		printf "%d", m }'
}

printf "stats --no-stream of %d running containers, %d calls each, medians\n" "$N" "$RUNS"
printf "%-28s %10s %18s\n" "" "wall (ms)" "daemon CPU (ms)"
printf "%-28s %10s %18s\n" "docker CLI -> berthd" "$(median "$work/berthd" 1)" "$(median "$work/berthd" 2)"
printf "%-28s %10s %18s\n" "docker CLI -> dockerd" "$(median "$work/dockerd" 1)" "$(median "$work/dockerd" 2)"
printf "%-28s %10s %18s\n" "berth CLI -> berthd" "$(median "$work/berth-cli" 1)" "$(median "$work/berth-cli" 2)"
printf "resident memory: berthd %s KiB; dockerd + containerd + its shims %s KiB (berth-shims take no\npart in stats and are not counted)\n" \
	"$(awk '/^VmRSS/ { print $2 }' "/proc/$berthd_pid/status")" \
	"$(for p in $(dockerd_pids); do awk '/^VmRSS/ { print $2 }' "/proc/$p/status"; done |
		awk '{ s += $1 } END { print s }')"
