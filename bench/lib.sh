# bench/lib.sh: what the engine benchmarks share (sourced, never run).  A script sets NAME,
# sources this file, and gets: $repo, $work (a temporary directory removed at exit with every
# engine started below), the private engines, a timer without fork overhead, and medians.
#
#   NAME=exec-latency; . "$(dirname "$0")/lib.sh"
#   bench_berthd            # berthd on $work/berthd/s.sock: $berthd_pid, $BH (DOCKER_HOST=...)
#   bench_berthd_netns      # the same in a network namespace of its own ($bns)
#   bench_dockerd           # dockerd (tests/compat/private-dockerd.sh): $DH, or false if missing
#   bench_podman            # podman with its own roots: the array podman_args, or false
#   bench_busybox_tar       # $work/bb.tar, the cached busybox root filesystem
#   us_of VAR=VAL... CMD... # run once, print microseconds (the script fails if the run does)
#                           # BENCH_TIMER=spawn (default): bench/spawn-time.c; shell: bash;
#                           # both: bench_rounds and bench_report use each in the same rounds
#   median <<<"1 3 2"       # the median of whitespace-separated numbers
#   bench_rounds            # cmd[name] for each of names, interleaved: times[timer:name]
#   bench_report "OURS" "PEERS"  # medians, and each of OURS over each of PEERS
#
# Each engine keeps its data under $work; dockerd runs in a network namespace of its own.
# bench_cleanup_hook, when a script defines it, runs first at exit (its own containers).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(dirname "$here")
BERTHD=${BERTHD:-$repo/build/daemon/berthd}
BERTH=${BERTH:-$repo/build/cli/berth}
DOCKER=${DOCKER:-/usr/local/bin/docker}
[ -x "$DOCKER" ] || DOCKER=$(command -v docker)
PODMAN=${PODMAN:-$(command -v podman || true)}
DOCKERD=$(command -v dockerd || true)

[ "$(id -u)" -eq 0 ] || { echo "$NAME: run as root" >&2; exit 1; }
work=$(mktemp -d "/tmp/berth-$NAME.XXXXXX")
berthd_pid=
berthd_wrap=()
bns=
dockerd_up=
# podman's tmpdir (default /run/libpod, shared by every podman on the host) and file locks in it:
# another podman's `system reset` or lock numbers cannot meet ours
podman_args=(--root "$work/podman/root" --runroot "$work/podman/run" --tmpdir "$work/podman/tmp"
	--runtime runc --cgroup-manager cgroupfs --events-backend file)
podman_up=
dockerd_env=(D="$work/dockerd" NETNS="berthbench$$")

bench_cleanup() {
	set +e
	declare -F bench_cleanup_hook >/dev/null && bench_cleanup_hook
	if [ -n "$berthd_pid" ]; then
		kill "$berthd_pid" 2>/dev/null && wait "$berthd_pid" 2>/dev/null
	fi
	if [ -n "$dockerd_up" ]; then
		env "${dockerd_env[@]}" "$repo/tests/compat/private-dockerd.sh" down >/dev/null 2>&1
	fi
	if [ -n "$podman_up" ]; then
		podman "${podman_args[@]}" rm -af >/dev/null 2>&1
		podman "${podman_args[@]}" system reset -f >/dev/null 2>&1
	fi
	[ -z "$bns" ] || ip netns del "$bns" 2>/dev/null
	grep -o " $work[^ ]*" /proc/mounts | sort -r | xargs -r -n1 umount -l 2>/dev/null
	rm -rf "$work"
}
trap bench_cleanup EXIT

bench_busybox_tar() {
	"$repo/scripts/mkrootfs.sh" /var/tmp/berth-cache/rootfs >/dev/null
	tar -C /var/tmp/berth-cache/rootfs -cf "$work/bb.tar" .
}

# berthd with an empty daemon.json (or $1 as its content), its roots under $work/berthd.
bench_berthd() {
	local conf=${1:-'{}'}
	mkdir -p "$work/berthd"
	echo "$conf" >"$work/berthd/daemon.json"
	"${berthd_wrap[@]}" "$BERTHD" -H "unix://$work/berthd/s.sock" --data-root "$work/berthd/data" \
		--exec-root "$work/berthd/exec" --config-file "$work/berthd/daemon.json" \
		>"$work/berthd/log" 2>&1 &
	berthd_pid=$!
	for _ in $(seq 100); do [ -S "$work/berthd/s.sock" ] && break; sleep 0.05; done
	[ -S "$work/berthd/s.sock" ] || { echo "$NAME: berthd did not start" >&2; exit 1; }
	BH=DOCKER_HOST=unix://$work/berthd/s.sock
}

# berthd in a network namespace of its own: its bridges and rules stay there.
bench_berthd_netns() {
	bns=berthbench-b$$
	ip netns add "$bns"
	ip -n "$bns" link set lo up
	berthd_wrap=(nsenter --net="/run/netns/$bns")
	bench_berthd "$@"
}

bench_dockerd() {
	[ -n "$DOCKERD" ] || { echo "$NAME: no dockerd, left out" >&2; return 1; }
	dockerd_up=1
	env "${dockerd_env[@]}" "$repo/tests/compat/private-dockerd.sh" up >/dev/null
	DH=DOCKER_HOST=unix://$work/dockerd/docker.sock
}

# podman with runc (crun refuses this host's hybrid cgroup layout) and docker's ulimits.
bench_podman() {
	[ -n "$PODMAN" ] || { echo "$NAME: no podman, left out" >&2; return 1; }
	podman_up=1
	cat >"$work/containers.conf" <<'CONF'
[containers]
default_ulimits = ["nofile=20000:20000", "nproc=32768:32768"]
[engine]
lock_type = "file"
CONF
	export CONTAINERS_CONF=$work/containers.conf
}

# Two timers, both leaving the client's variables to the child, so no `env` process is timed.
# spawn (the default): bench/spawn-time.c, built here, posix_spawn()s the client (vfork
# semantics) and times it from the spawn to the reaped exit; shell: $EPOCHREALTIME around a
# fork of this shell, as a user's shell runs a command (the fork of a large bash is ~3.7 ms here,
# the same for every client).  BENCH_TIMER=both: bench_rounds times every command with each, in
# the same rounds, and bench_report shows both (us_of alone then uses spawn).  bench/README.md
# has figures.
BENCH_TIMER=${BENCH_TIMER:-spawn}
case $BENCH_TIMER in
spawn | both)
	spawn_time=$work/spawn-time
	${CC:-cc} -O2 -o "$spawn_time" "$here/spawn-time.c" ||
		{ echo "$NAME: cannot build bench/spawn-time.c" >&2; exit 1; }
	;;
shell) ;;
*) echo "$NAME: BENCH_TIMER is spawn, shell or both" >&2; exit 1 ;;
esac
bench_timers=("$BENCH_TIMER")
[ "$BENCH_TIMER" != both ] || bench_timers=(spawn shell)

# us_with TIMER VAR=VAL... CMD...: one run timed by TIMER (spawn or shell), in microseconds.
us_with() {
	local timer=$1
	shift
	local -a vars=()
	while [[ $# -gt 0 && $1 == [A-Z_]*=* ]]; do vars+=("$1"); shift; done
	if [ "$timer" = spawn ]; then
		"$spawn_time" "${vars[@]}" "$@"
		return
	fi
	local t0 t1
	t0=${EPOCHREALTIME/./}
	(
		[ ${#vars[@]} -eq 0 ] || export "${vars[@]}"
		exec "$@" >/dev/null
	)
	t1=${EPOCHREALTIME/./}
	echo $((t1 - t0))
}

us_of() { us_with "${bench_timers[0]}" "$@"; }

median() { tr ' ' '\n' | grep . | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

# WARMUP rounds unmeasured, then RUNS measured, the order rotating each round so that the
# machine's drift hits every engine alike (and with two timers, which one goes first).  Reads
# names and cmd; fills times[timer:name] (us).
bench_rounds() {
	declare -gA times=()
	local i k t n nt=${#bench_timers[@]}
	for ((i = 0; i < WARMUP; i++)); do
		for n in "${names[@]}"; do us_of ${cmd[$n]} >/dev/null; done
	done
	for ((i = 0; i < RUNS; i++)); do
		for ((k = 0; k < ${#names[@]}; k++)); do
			n=${names[$(((i + k) % ${#names[@]}))]}
			for ((t = 0; t < nt; t++)); do
				local timer=${bench_timers[$(((i + t) % nt))]}
				times[$timer:$n]+="$(us_with "$timer" ${cmd[$n]}) "
			done
		done
	done
}

# The medians of times (med[timer:name], us) in ms, then the ratio of each of the names in $1
# over each of the names in $2 that ran; a column and a set of ratios per timer.
bench_report() {
	local -a ours=($1) peers=($2)
	local n b t line
	declare -gA med=()
	line=$(printf '%-10s' engine)
	for t in "${bench_timers[@]}"; do line+=$(printf ' %14s' "$t (ms)"); done
	echo "$line"
	for n in "${names[@]}"; do
		line=$(printf '%-10s' "$n")
		for t in "${bench_timers[@]}"; do
			med[$t:$n]=$(echo "${times[$t:$n]}" | median)
			line+=$(printf ' %14.1f' "$(echo "${med[$t:$n]} / 1000" | bc -l)")
		done
		echo "$line"
	done
	for t in "${bench_timers[@]}"; do
		for b in "${ours[@]}"; do
			[ -n "${med[$t:$b]:-}" ] || continue
			for n in "${peers[@]}"; do
				[ -n "${med[$t:$n]:-}" ] && printf '%s / %s = %.3f (%s)\n' "$b" "$n" \
					"$(echo "${med[$t:$b]} / ${med[$t:$n]}" | bc -l)" "$t"
			done
		done
	done
	echo "($RUNS rounds after $WARMUP warm-up rounds, load $(cut -d' ' -f1-3 /proc/loadavg);" \
		"$("$DOCKER" --version))"
}
