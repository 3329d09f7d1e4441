#!/bin/bash
# bench/compose.sh: `up -d` and `down` of a 10-service project (busybox, each on the project's
# default network), for `berth compose` on berthd, docker-compose 1.29 on berthd and
# docker-compose 1.29 on dockerd, measured in one run with the rounds interleaved; medians and
# ratios (see bench/README.md).  The issue's target: `berth compose up -d` at most 1/5 of
# docker-compose on dockerd.
#
#   bench/compose.sh                 # RUNS=10
#   RUNS=20 bench/compose.sh
#
# berthd runs in a network namespace of its own (its bridges and rules stay there), with its own
# roots under a temporary directory; dockerd through tests/compat/private-dockerd.sh (its own
# namespace and roots).  busybox is imported into both from the cached root filesystem
# (scripts/mkrootfs.sh).  Everything is removed at the end.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
repo=$(dirname "$here")
RUNS=${RUNS:-10}
SERVICES=${SERVICES:-10}
BERTHD=${BERTHD:-$repo/build/daemon/berthd}
BERTH=${BERTH:-$repo/build/cli/berth}
DOCKER=${DOCKER:-/usr/local/bin/docker}
[ -x "$DOCKER" ] || DOCKER=$(command -v docker)
COMPOSE=${COMPOSE:-/usr/bin/docker-compose}
DOCKERD=$(command -v dockerd || true)

[ "$(id -u)" -eq 0 ] || { echo "compose.sh: run as root" >&2; exit 1; }
[ -x "$COMPOSE" ] || { echo "compose.sh: no docker-compose at $COMPOSE" >&2; exit 1; }
work=$(mktemp -d /tmp/berth-compose-bench.XXXXXX)
ns=berthcb$$
berthd_pid=
dockerd_env=(D="$work/dockerd" NETNS="berthcbd$$")
cleanup() {
	if [ -n "$berthd_pid" ]; then
		(cd "$work/project" && env DOCKER_HOST="unix://$work/berthd/s.sock" \
			"$BERTH" compose -p bench down -t 0 >/dev/null 2>&1) || true
		kill "$berthd_pid" 2>/dev/null && wait "$berthd_pid" 2>/dev/null
	fi
	if [ -n "$DOCKERD" ]; then
		env "${dockerd_env[@]}" "$repo/tests/compat/private-dockerd.sh" down >/dev/null 2>&1 || true
	fi
	ip netns del "$ns" 2>/dev/null || true
	grep -o " $work[^ ]*" /proc/mounts | sort -r | xargs -r -n1 umount -l 2>/dev/null || true
	rm -rf "$work"
}
trap cleanup EXIT

"$repo/scripts/mkrootfs.sh" /var/tmp/berth-cache/rootfs >/dev/null
tar -C /var/tmp/berth-cache/rootfs -cf "$work/bb.tar" .

# the project: SERVICES services that sleep (SIGKILL stops them at once, for every engine alike)
mkdir -p "$work/project"
{
	echo "services:"
	for ((i = 0; i < SERVICES; i++)); do
		printf '  s%d:\n    image: busybox\n    command: sleep 100000\n' "$i"
		printf '    stop_signal: SIGKILL\n    environment:\n      N: "%d"\n' "$i"
	done
} >"$work/project/compose.yml"

names=()
declare -A up down

# berthd, in a network namespace of its own
ip netns add "$ns"
ip -n "$ns" link set lo up
mkdir -p "$work/berthd"
echo '{}' >"$work/berthd/daemon.json"
nsenter --net="/run/netns/$ns" "$BERTHD" -H "unix://$work/berthd/s.sock" \
	--data-root "$work/berthd/data" --exec-root "$work/berthd/exec" \
	--config-file "$work/berthd/daemon.json" >"$work/berthd/log" 2>&1 &
berthd_pid=$!
for _ in $(seq 100); do [ -S "$work/berthd/s.sock" ] && break; sleep 0.05; done
DOCKER_HOST=unix://$work/berthd/s.sock "$DOCKER" import "$work/bb.tar" busybox >/dev/null
bh="DOCKER_HOST=unix://$work/berthd/s.sock"
names+=(berth-compose dc-berthd)
up[berth-compose]="env $bh $BERTH compose -p bench up -d"
down[berth-compose]="env $bh $BERTH compose -p bench down -t 0"
up[dc-berthd]="env $bh $COMPOSE --no-ansi -p bench up -d"
down[dc-berthd]="env $bh $COMPOSE --no-ansi -p bench down -t 0"

# dockerd
if [ -n "$DOCKERD" ]; then
	env "${dockerd_env[@]}" "$repo/tests/compat/private-dockerd.sh" up >/dev/null
	DOCKER_HOST=unix://$work/dockerd/docker.sock "$DOCKER" import "$work/bb.tar" busybox >/dev/null
	dh="DOCKER_HOST=unix://$work/dockerd/docker.sock"
	names+=(dc-dockerd)
	up[dc-dockerd]="env $dh $COMPOSE --no-ansi -p bench up -d"
	down[dc-dockerd]="env $dh $COMPOSE --no-ansi -p bench down -t 0"
else
	echo "compose.sh: no dockerd, left out" >&2
fi

declare -A tup tdown
ms_of() { # CMD...: run once, print microseconds (fails the script if the run fails)
	local t0 t1
	t0=$(date +%s%N)
	"$@" >/dev/null 2>&1
	t1=$(date +%s%N)
	echo $(((t1 - t0) / 1000))
}
cd "$work/project"
# one warm-up round each (page cache, image layers)
for n in "${names[@]}"; do ${up[$n]} >/dev/null 2>&1; ${down[$n]} >/dev/null 2>&1; done
for ((i = 0; i < RUNS; i++)); do
	for ((k = 0; k < ${#names[@]}; k++)); do
		n=${names[$(((i + k) % ${#names[@]}))]}
		tup[$n]+="$(ms_of ${up[$n]}) "
		tdown[$n]+="$(ms_of ${down[$n]}) "
	done
done

median() { tr ' ' '\n' | grep . | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
declare -A mup mdown
printf '%-14s %14s %14s\n' tool "up -d (ms)" "down (ms)"
for n in "${names[@]}"; do
	mup[$n]=$(echo "${tup[$n]}" | median)
	mdown[$n]=$(echo "${tdown[$n]}" | median)
	printf '%-14s %14.1f %14.1f\n' "$n" "$(echo "${mup[$n]} / 1000" | bc -l)" \
		"$(echo "${mdown[$n]} / 1000" | bc -l)"
done
for n in dc-berthd dc-dockerd; do
	[ -n "${mup[$n]:-}" ] && printf 'berth-compose / %s: up %.3f, down %.3f\n' "$n" \
		"$(echo "${mup[berth-compose]} / ${mup[$n]}" | bc -l)" \
		"$(echo "${mdown[berth-compose]} / ${mdown[$n]}" | bc -l)"
done
echo "($SERVICES services, $RUNS rounds after a warm-up round; $($COMPOSE version --short))"
