#!/bin/bash
# bench/exec-latency.sh: `exec CTR true` into a running busybox container (network none), end to
# end through the client, for berthd (berth's CLI, and the docker CLI), dockerd (the docker CLI;
# a private dockerd of its own) and podman, measured in one run with the rounds interleaved;
# medians and ratios (see bench/README.md).  The issue's target: berthd at most 1/10 of dockerd.
#
#   bench/exec-latency.sh                # RUNS=30
#   RUNS=50 BERTHD=/usr/local/bin/berthd bench/exec-latency.sh
#
# Each engine gets its own roots under a temporary directory, removed at the end, and a busybox
# image imported from the cached root filesystem (scripts/mkrootfs.sh): nothing of the host's
# engines is touched (bench/lib.sh).
NAME=exec-latency
. "$(dirname "$0")/lib.sh"
RUNS=${RUNS:-30}
WARMUP=${WARMUP:-3}

bench_cleanup_hook() {
	[ -z "${bc:-}" ] || env "$BH" "$DOCKER" rm -f "$bc" >/dev/null 2>&1
}

bench_busybox_tar
names=()
declare -A cmd

bench_berthd
env "$BH" "$DOCKER" import "$work/bb.tar" busybox >/dev/null
bc=$(env "$BH" "$DOCKER" run -d --network none busybox sleep 100000)
names+=(berthd berth-cli)
cmd[berthd]="$BH $DOCKER exec $bc true"
cmd[berth-cli]="BERTH_HOST=unix://$work/berthd/s.sock $BERTH exec $bc true"

if bench_dockerd; then
	env "$DH" "$DOCKER" import "$work/bb.tar" busybox >/dev/null
	dc=$(env "$DH" "$DOCKER" run -d --network none busybox sleep 100000)
	names+=(dockerd)
	cmd[dockerd]="$DH $DOCKER exec $dc true"
fi

if bench_podman; then
	podman "${podman_args[@]}" import "$work/bb.tar" busybox >/dev/null
	pc=$(podman "${podman_args[@]}" run -d --network none busybox sleep 100000)
	names+=(podman)
	cmd[podman]="podman ${podman_args[*]} exec $pc true"
fi

bench_rounds
bench_report "berthd berth-cli" "dockerd podman"
