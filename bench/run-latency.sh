#!/bin/bash
# bench/run-latency.sh: `run --rm busybox true` (network none), end to end through the client,
# for berthd (through the docker CLI, and through berth's own CLI), dockerd (the docker CLI; a
# private dockerd of its own) and podman, measured in one run with the rounds interleaved;
# medians and ratios (see bench/README.md).  The issue's targets: berthd at most 1/10 of
# dockerd and 1/5 of podman.
#
#   bench/run-latency.sh                 # RUNS=30
#   RUNS=50 BERTHD=/usr/local/bin/berthd bench/run-latency.sh
#   BERTH=/usr/local/bin/berth bench/run-latency.sh
#
# Each engine gets its own roots under a temporary directory, removed at the end, and a busybox
# image imported from the cached root filesystem (scripts/mkrootfs.sh): nothing of the host's
# engines is touched (bench/lib.sh).
NAME=run-latency
. "$(dirname "$0")/lib.sh"
RUNS=${RUNS:-30}
WARMUP=${WARMUP:-3}

bench_busybox_tar
names=()
declare -A cmd

bench_berthd
env "$BH" "$DOCKER" import "$work/bb.tar" busybox >/dev/null
names+=(berthd berth)
cmd[berthd]="$BH $DOCKER run --rm --network none busybox true"
# the same berthd through berth's own CLI: what a berth user meets, without the docker CLI's start
cmd[berth]="BERTH_HOST=unix://$work/berthd/s.sock $BERTH run --rm --network none busybox true"

if bench_dockerd; then
	env "$DH" "$DOCKER" import "$work/bb.tar" busybox >/dev/null
	names+=(dockerd)
	cmd[dockerd]="$DH $DOCKER run --rm --network none busybox true"
fi

if bench_podman; then
	podman "${podman_args[@]}" import "$work/bb.tar" busybox >/dev/null
	names+=(podman)
	cmd[podman]="podman ${podman_args[*]} run --rm --network none busybox true"
fi

bench_rounds
bench_report "berthd berth" "dockerd podman"
