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
NAME=compose
. "$(dirname "$0")/lib.sh"
RUNS=${RUNS:-10}
SERVICES=${SERVICES:-10}
COMPOSE=${COMPOSE:-/usr/bin/docker-compose}
[ -x "$COMPOSE" ] || { echo "compose.sh: no docker-compose at $COMPOSE" >&2; exit 1; }

bench_cleanup_hook() {
	[ -z "$berthd_pid" ] || (cd "$work/project" && env "$BH" "$BERTH" compose -p bench down -t 0 \
		>/dev/null 2>&1)
}

bench_busybox_tar

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

bench_berthd_netns
env "$BH" "$DOCKER" import "$work/bb.tar" busybox >/dev/null
names+=(berth-compose dc-berthd)
up[berth-compose]="$BH $BERTH compose -p bench up -d"
down[berth-compose]="$BH $BERTH compose -p bench down -t 0"
up[dc-berthd]="$BH $COMPOSE --no-ansi -p bench up -d"
down[dc-berthd]="$BH $COMPOSE --no-ansi -p bench down -t 0"

if bench_dockerd; then
	env "$DH" "$DOCKER" import "$work/bb.tar" busybox >/dev/null
	names+=(dc-dockerd)
	up[dc-dockerd]="$DH $COMPOSE --no-ansi -p bench up -d"
	down[dc-dockerd]="$DH $COMPOSE --no-ansi -p bench down -t 0"
fi

declare -A tup tdown
cd "$work/project"
# one warm-up round each (page cache, image layers)
for n in "${names[@]}"; do us_of ${up[$n]} >/dev/null 2>&1; us_of ${down[$n]} >/dev/null 2>&1; done
for ((i = 0; i < RUNS; i++)); do
	for ((k = 0; k < ${#names[@]}; k++)); do
		n=${names[$(((i + k) % ${#names[@]}))]}
		tup[$n]+="$(us_of ${up[$n]} 2>/dev/null) "
		tdown[$n]+="$(us_of ${down[$n]} 2>/dev/null) "
	done
done

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
