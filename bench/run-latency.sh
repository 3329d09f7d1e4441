#!/bin/bash
# bench/run-latency.sh: `run --rm busybox true` (network none), end to end through the client,
# for berthd (through the docker CLI, and through berth's own CLI), dockerd (the docker CLI; a
# private dockerd of its own) and podman,
# measured in one run with the rounds interleaved; medians and ratios (see bench/README.md).
#
#   bench/run-latency.sh                 # RUNS=30
#   RUNS=50 BERTHD=/usr/local/bin/berthd bench/run-latency.sh
#   BERTH_CLI=/usr/local/bin/berth bench/run-latency.sh
#
# Each engine gets its own roots under a temporary directory, removed at the end, and a busybox
# image imported from the cached root filesystem (scripts/mkrootfs.sh): nothing of the host's
# engines is touched.  dockerd runs through tests/compat/private-dockerd.sh (its own network
# namespace); podman with its own --root/--runroot and runc (crun refuses this host's layout).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
repo=$(dirname "$here")
RUNS=${RUNS:-30}
WARMUP=${WARMUP:-3}
BERTHD=${BERTHD:-$repo/build/daemon/berthd}
BERTH_CLI=${BERTH_CLI:-$repo/build/cli/berth}
DOCKER=${DOCKER:-/usr/local/bin/docker}
[ -x "$DOCKER" ] || DOCKER=$(command -v docker)
PODMAN=${PODMAN:-$(command -v podman || true)}
DOCKERD=$(command -v dockerd || true)

[ "$(id -u)" -eq 0 ] || { echo "run-latency: run as root" >&2; exit 1; }
work=$(mktemp -d /tmp/berth-runlat.XXXXXX)
berthd_pid=
dockerd_env=(D="$work/dockerd" NETNS="berthbench$$")
cleanup() {
	[ -n "$berthd_pid" ] && kill "$berthd_pid" 2>/dev/null && wait "$berthd_pid" 2>/dev/null
	if [ -n "$DOCKERD" ]; then
		env "${dockerd_env[@]}" "$repo/tests/compat/private-dockerd.sh" down >/dev/null 2>&1 || true
	fi
	if [ -n "$PODMAN" ]; then
		podman "${podman_args[@]}" rm -af >/dev/null 2>&1 || true
		podman "${podman_args[@]}" system reset -f >/dev/null 2>&1 || true
	fi
	grep -o " $work[^ ]*" /proc/mounts | sort -r | xargs -r -n1 umount -l 2>/dev/null || true
	rm -rf "$work"
}
trap cleanup EXIT

"$repo/scripts/mkrootfs.sh" /var/tmp/berth-cache/rootfs >/dev/null
tar -C /var/tmp/berth-cache/rootfs -cf "$work/bb.tar" .

names=()
declare -A cmd

# berthd
mkdir -p "$work/berthd"
echo '{}' >"$work/berthd/daemon.json"
"$BERTHD" -H "unix://$work/berthd/s.sock" --data-root "$work/berthd/data" \
	--exec-root "$work/berthd/exec" --config-file "$work/berthd/daemon.json" \
	>"$work/berthd/log" 2>&1 &
berthd_pid=$!
for _ in $(seq 100); do [ -S "$work/berthd/s.sock" ] && break; sleep 0.05; done
DOCKER_HOST=unix://$work/berthd/s.sock "$DOCKER" import "$work/bb.tar" busybox >/dev/null
names+=(berthd)
cmd[berthd]="env DOCKER_HOST=unix://$work/berthd/s.sock $DOCKER run --rm --network none busybox true"
# the same berthd through berth's own CLI: what a berth user meets, without the docker CLI's start
if [ -x "$BERTH_CLI" ]; then
	names+=(berth)
	cmd[berth]="env BERTH_HOST=unix://$work/berthd/s.sock $BERTH_CLI run --rm --network none busybox true"
else
	echo "run-latency: no $BERTH_CLI, the berth row left out" >&2
fi

# dockerd
if [ -n "$DOCKERD" ]; then
	env "${dockerd_env[@]}" "$repo/tests/compat/private-dockerd.sh" up >/dev/null
	DOCKER_HOST=unix://$work/dockerd/docker.sock "$DOCKER" import "$work/bb.tar" busybox >/dev/null
	names+=(dockerd)
	cmd[dockerd]="env DOCKER_HOST=unix://$work/dockerd/docker.sock $DOCKER run --rm --network none busybox true"
else
	echo "run-latency: no dockerd, left out" >&2
fi

# podman
podman_args=(--root "$work/podman/root" --runroot "$work/podman/run" --runtime runc
	--cgroup-manager cgroupfs --events-backend file)
if [ -n "$PODMAN" ]; then
	cat >"$work/containers.conf" <<'CONF'
[containers]
default_ulimits = ["nofile=20000:20000", "nproc=32768:32768"]
CONF
	export CONTAINERS_CONF=$work/containers.conf
	podman "${podman_args[@]}" import "$work/bb.tar" busybox >/dev/null
	names+=(podman)
	cmd[podman]="podman ${podman_args[*]} run --rm --network none busybox true"
else
	echo "run-latency: no podman, left out" >&2
fi

declare -A times
ms_of() { # CMD...: run once, print milliseconds (fails the script if the run fails)
	local t0 t1
	t0=$(date +%s%N)
	"$@" >/dev/null
	t1=$(date +%s%N)
	echo $(((t1 - t0) / 1000))
}
for ((i = 0; i < WARMUP; i++)); do
	for n in "${names[@]}"; do ${cmd[$n]} >/dev/null; done
done
for ((i = 0; i < RUNS; i++)); do
	# rotate who goes first, so the machine's drift hits all alike
	for ((k = 0; k < ${#names[@]}; k++)); do
		n=${names[$(((i + k) % ${#names[@]}))]}
		times[$n]+="$(ms_of ${cmd[$n]}) "
	done
done

median() { tr ' ' '\n' | grep . | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
declare -A med
printf '%-8s %12s\n' engine "median (ms)"
for n in "${names[@]}"; do
	med[$n]=$(echo "${times[$n]}" | median)
	printf '%-8s %12.1f\n' "$n" "$(echo "${med[$n]} / 1000" | bc -l)"
done
for b in berthd berth; do
	[ -n "${med[$b]:-}" ] || continue
	for n in dockerd podman; do
		[ -n "${med[$n]:-}" ] && printf '%s / %s = %.3f\n' "$b" "$n" \
			"$(echo "${med[$b]} / ${med[$n]}" | bc -l)"
	done
done
echo "($RUNS rounds after $WARMUP warm-up rounds; $("$DOCKER" --version))"
