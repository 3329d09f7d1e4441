#!/bin/bash
# bench/memory.sh: the memory an engine costs, in one run (see bench/README.md):
#   idle       the daemon(s) with nothing running: berthd | dockerd + containerd | (podman: none)
#   per ctr    what N running `sleep` containers add: the monitors' RSS and PSS per container
#              (berth-shim | containerd-shim-runc-v2 | conmon), from /proc/PID/smaps_rollup
#
#   bench/memory.sh            # N=20 containers each
#   N=50 bench/memory.sh
#
# Each engine gets its own roots under a temporary directory (dockerd through
# tests/compat/private-dockerd.sh, podman with its own --root/--runroot and runc), a busybox
# image imported from the cached root filesystem, and is emptied and stopped at the end.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
repo=$(dirname "$here")
N=${N:-20}
BERTHD=${BERTHD:-$repo/build/daemon/berthd}
DOCKER=${DOCKER:-/usr/local/bin/docker}
[ -x "$DOCKER" ] || DOCKER=$(command -v docker)
PODMAN=${PODMAN:-$(command -v podman || true)}
DOCKERD=$(command -v dockerd || true)

[ "$(id -u)" -eq 0 ] || { echo "memory: run as root" >&2; exit 1; }
work=$(mktemp -d /tmp/berth-mem.XXXXXX)
berthd_pid=
dockerd_env=(D="$work/dockerd" NETNS="berthmem$$")
podman_args=(--root "$work/podman/root" --runroot "$work/podman/run" --runtime runc
	--cgroup-manager cgroupfs --events-backend file)
cleanup() {
	if [ -n "$berthd_pid" ]; then
		DOCKER_HOST=unix://$work/berthd/s.sock "$DOCKER" rm -f $(DOCKER_HOST=unix://$work/berthd/s.sock "$DOCKER" ps -aq) >/dev/null 2>&1 || true
		kill "$berthd_pid" 2>/dev/null && wait "$berthd_pid" 2>/dev/null || true
	fi
	if [ -n "$DOCKERD" ]; then
		DOCKER_HOST=unix://$work/dockerd/docker.sock "$DOCKER" rm -f $(DOCKER_HOST=unix://$work/dockerd/docker.sock "$DOCKER" ps -aq 2>/dev/null) >/dev/null 2>&1 || true
		env "${dockerd_env[@]}" "$repo/tests/compat/private-dockerd.sh" down >/dev/null 2>&1 || true
	fi
	if [ -n "$PODMAN" ]; then
		podman "${podman_args[@]}" rm -af -t 0 >/dev/null 2>&1 || true
		podman "${podman_args[@]}" system reset -f >/dev/null 2>&1 || true
	fi
	grep -o " $work[^ ]*" /proc/mounts | sort -r | xargs -r -n1 umount -l 2>/dev/null || true
	rm -rf "$work"
}
trap cleanup EXIT

kib() { # FIELD PID...: sum of FIELD (kB) of smaps_rollup over the pids
	local f=$1 total=0 p v
	shift
	for p in "$@"; do
		v=$(awk -v f="$f:" '$1 == f {print $2}' "/proc/$p/smaps_rollup" 2>/dev/null || echo 0)
		total=$((total + ${v:-0}))
	done
	echo "$total"
}
pids_of() { # COMM [under PPID-agnostic pattern in cmdline]
	local comm=$1 pat=$2 p
	for p in $(pgrep -x "$comm" || true); do
		tr '\0' ' ' <"/proc/$p/cmdline" 2>/dev/null | grep -q -- "$pat" && echo "$p"
	done
	return 0
}
mib() { echo "scale=1; $1 / 1024" | bc; }

"$repo/scripts/mkrootfs.sh" /var/tmp/berth-cache/rootfs >/dev/null
tar -C /var/tmp/berth-cache/rootfs -cf "$work/bb.tar" .
printf '%-28s %12s %14s %14s\n' engine "idle (MiB)" "RSS/ctr (MiB)" "PSS/ctr (MiB)"

# berthd
mkdir -p "$work/berthd"
echo '{}' >"$work/berthd/daemon.json"
"$BERTHD" -H "unix://$work/berthd/s.sock" --data-root "$work/berthd/data" \
	--exec-root "$work/berthd/exec" --config-file "$work/berthd/daemon.json" \
	>"$work/berthd/log" 2>&1 &
berthd_pid=$!
for _ in $(seq 100); do [ -S "$work/berthd/s.sock" ] && break; sleep 0.05; done
export DOCKER_HOST=unix://$work/berthd/s.sock
"$DOCKER" import "$work/bb.tar" busybox >/dev/null
"$DOCKER" run --rm --network none busybox true
sleep 1
idle=$(kib Rss "$berthd_pid")
for ((i = 0; i < N; i++)); do "$DOCKER" run -d --network none busybox sleep 600 >/dev/null; done
sleep 1
shims=$(pids_of berth-shim "$work/berthd")
rss=$(kib Rss $shims)
pss=$(kib Pss $shims)
printf '%-28s %12s %14s %14s\n' "berthd / berth-shim" "$(mib "$idle")" \
	"$(mib $((rss / N)))" "$(mib $((pss / N)))"
"$DOCKER" rm -f $("$DOCKER" ps -q) >/dev/null
unset DOCKER_HOST

# dockerd
if [ -n "$DOCKERD" ]; then
	env "${dockerd_env[@]}" "$repo/tests/compat/private-dockerd.sh" up >/dev/null
	export DOCKER_HOST=unix://$work/dockerd/docker.sock
	"$DOCKER" import "$work/bb.tar" busybox >/dev/null
	"$DOCKER" run --rm --network none busybox true
	sleep 1
	dpid=$(cat "$work/dockerd/dockerd.pid")
	cpid=$(pids_of containerd "$work/dockerd" | head -1)
	idle=$(kib Rss "$dpid" $cpid)
	for ((i = 0; i < N; i++)); do "$DOCKER" run -d --network none busybox sleep 600 >/dev/null; done
	sleep 1
	shims=$(pids_of containerd-shim "$work/dockerd") # comm is cut at 15 characters
	rss=$(kib Rss $shims)
	pss=$(kib Pss $shims)
	printf '%-28s %12s %14s %14s\n' "dockerd+containerd / shim" "$(mib "$idle")" \
		"$(mib $((rss / N)))" "$(mib $((pss / N)))"
	"$DOCKER" rm -f $("$DOCKER" ps -q) >/dev/null
	unset DOCKER_HOST
fi

# podman (no daemon: conmon per container)
if [ -n "$PODMAN" ]; then
	cat >"$work/containers.conf" <<'CONF'
[containers]
default_ulimits = ["nofile=20000:20000", "nproc=32768:32768"]
CONF
	export CONTAINERS_CONF=$work/containers.conf
	podman "${podman_args[@]}" import "$work/bb.tar" busybox >/dev/null 2>&1
	for ((i = 0; i < N; i++)); do
		podman "${podman_args[@]}" run -d --network none busybox sleep 600 >/dev/null
	done
	sleep 1
	mons=$(pids_of conmon "$work/podman")
	rss=$(kib Rss $mons)
	pss=$(kib Pss $mons)
	printf '%-28s %12s %14s %14s\n' "podman / conmon" "-" "$(mib $((rss / N)))" \
		"$(mib $((pss / N)))"
	podman "${podman_args[@]}" rm -af -t 0 >/dev/null
fi
echo "($N containers each; RSS and PSS from /proc/PID/smaps_rollup)"
