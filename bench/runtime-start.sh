#!/bin/bash
# bench/runtime-start.sh: how long a container start takes, and how much memory the runtime
# needs, for berth-runtime, crun and runc, measured in one run (see bench/README.md).
#
#   bench/runtime-start.sh            # RUNS=50 timed rounds, MEM_RUNS=15 memory rounds
#   RUNS=100 BERTH_RUNTIME=/usr/local/bin/berth-runtime bench/runtime-start.sh
#
# The container is /bin/true from a busybox bundle (scripts/mkbundle.sh).  Two measures:
#   run        `RT run --bundle B ID` with a fresh ID: create + start + wait + delete in one call
#   lifecycle  `RT create`, `RT start`, `RT state` until "stopped", `RT delete`: four calls
# plus the peak RSS of the runtime process (GNU time's %M) during `run`.
# Rounds are interleaved (every runtime once per round, rotating who goes first), so drift of
# the machine's speed hits all alike; medians are reported, with ratios against crun and runc.
#
# crun 1.8 refuses this kind of host (cgroup v1 controllers plus a cgroup2 mount holding
# hugetlb).  So the script runs itself, whole, in a private mount namespace without
# /sys/fs/cgroup/unified: every runtime meets the same (legacy cgroup v1) host, and no runtime call
# pays for a wrapper that is not part of the runtime.  The host's mounts are untouched.
set -euo pipefail

if [ -z "${BENCH_PRIVATE_MOUNTS:-}" ]; then
	[ "$(id -u)" -eq 0 ] || { echo "runtime-start: run as root" >&2; exit 1; }
	exec env BENCH_PRIVATE_MOUNTS=1 unshare -m --propagation private "$0" "$@"
fi
umount /sys/fs/cgroup/unified 2>/dev/null || true

here=$(cd "$(dirname "$0")" && pwd)
repo=$(dirname "$here")
RUNS=${RUNS:-50}
MEM_RUNS=${MEM_RUNS:-15}
WARMUP=${WARMUP:-3}
BERTH=${BERTH_RUNTIME:-$repo/build/runtime/berth-runtime}
CRUN=${CRUN:-$(command -v crun || true)}
RUNC=${RUNC:-$(command -v runc || true)}
GNU_TIME=/usr/bin/time

[ "$(id -u)" -eq 0 ] || { echo "runtime-start: run as root" >&2; exit 1; }
[ -x "$GNU_TIME" ] || { echo "runtime-start: $GNU_TIME missing: apt-get install time" >&2; exit 1; }

work=$(mktemp -d /tmp/berth-bench.XXXXXX)
names=()
cleanup() {
	# delete whatever a failed round left, then the work dir
	local n c
	for n in "${names[@]}"; do
		for c in "$work/state-$n"/*; do
			[ -e "$c" ] && rt "$n" delete --force "$(basename "$c")" >/dev/null 2>&1 || true
		done
	done
	rm -rf "$work"
}
trap cleanup EXIT

"$repo/scripts/mkbundle.sh" "$work/bundle" /bin/true

# name -> binary
declare -A rt_bin
add_runtime() { # NAME BINARY
	if [ -n "$2" ] && [ -x "$2" ]; then
		names+=("$1")
		rt_bin[$1]=$2
		mkdir -p "$work/state-$1"
	else
		echo "runtime-start: $1 not found (${2:-not installed}); skipped" >&2
	fi
}
add_runtime berth "$BERTH"
add_runtime crun "$CRUN"
add_runtime runc "$RUNC"
[ ${#names[@]} -gt 0 ] || { echo "runtime-start: no runtime to measure" >&2; exit 1; }

# rt NAME ARGS...: the runtime NAME with its own --root
rt() {
	local n=$1
	shift
	"${rt_bin[$n]}" --root "$work/state-$n" "$@"
}

now_us() { echo "${EPOCHREALTIME/./}"; }
seq_id=0
fresh_id() { seq_id=$((seq_id + 1)); echo "bench-$$-$seq_id"; }

fail() { # NAME WHAT
	echo "runtime-start: $1: $2 failed" >&2
	echo 1 >>"$work/$1.failures"
}

# one_run NAME: time `run` of /bin/true, in microseconds, appended to $work/NAME.run
one_run() {
	local n=$1 id t0 t1
	id=$(fresh_id)
	t0=$(now_us)
	if rt "$n" run --bundle "$work/bundle" "$id" </dev/null >/dev/null 2>"$work/$n.err"; then
		t1=$(now_us)
		echo $((t1 - t0)) >>"$work/$n.run"
	else
		fail "$n" "run"
		rt "$n" delete --force "$id" >/dev/null 2>&1 || true
	fi
}

# one_lifecycle NAME: create, start, state until stopped, delete
one_lifecycle() {
	local n=$1 id t0 t1 s i
	id=$(fresh_id)
	t0=$(now_us)
	if rt "$n" create --bundle "$work/bundle" "$id" </dev/null >/dev/null 2>"$work/$n.err" &&
		rt "$n" start "$id" 2>>"$work/$n.err"; then
		for ((i = 0; i < 1000; i++)); do
			s=$(rt "$n" state "$id" 2>>"$work/$n.err") || break
			[[ $s == *'"stopped"'* ]] && break
		done
		if rt "$n" delete "$id" 2>>"$work/$n.err"; then
			t1=$(now_us)
			echo $((t1 - t0)) >>"$work/$n.lifecycle"
			return
		fi
	fi
	fail "$n" "create/start/delete"
	rt "$n" delete --force "$id" >/dev/null 2>&1 || true
}

# one_mem NAME: peak RSS (KiB) of the runtime process during `run`
one_mem() {
	local n=$1 id
	id=$(fresh_id)
	"$GNU_TIME" -f %M -o "$work/mem.tmp" "${rt_bin[$n]}" --root "$work/state-$n" \
		run --bundle "$work/bundle" "$id" </dev/null >/dev/null 2>&1 || { fail "$n" mem; return; }
	tail -n1 "$work/mem.tmp" >>"$work/$n.mem"
}

# rounds COUNT FUNC...: every runtime once per round, the first one rotating
rounds() {
	local count=$1 r k j n f
	shift
	for ((r = 0; r < count; r++)); do
		for ((k = 0; k < ${#names[@]}; k++)); do
			n=${names[$(((r + k) % ${#names[@]}))]}
			for f in "$@"; do
				"$f" "$n"
			done
		done
	done
}

echo "runtime-start: warming up ($WARMUP rounds)" >&2
rounds "$WARMUP" one_run one_lifecycle
for n in "${names[@]}"; do rm -f "$work/$n.run" "$work/$n.lifecycle" "$work/$n.failures"; done
echo "runtime-start: $RUNS timed rounds of ${names[*]}" >&2
rounds "$RUNS" one_run one_lifecycle
echo "runtime-start: $MEM_RUNS memory rounds" >&2
rounds "$MEM_RUNS" one_mem

# median FILE -> the median of its numbers, or empty
median() {
	[ -s "$1" ] || return 0
	sort -n "$1" | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

declare -A med_run med_lc med_mem
for n in "${names[@]}"; do
	med_run[$n]=$(median "$work/$n.run")
	med_lc[$n]=$(median "$work/$n.lifecycle")
	med_mem[$n]=$(median "$work/$n.mem")
done

ms() { [ -n "$1" ] && awk -v v="$1" 'BEGIN { printf "%.1f", v / 1000 }' || printf 'n/a'; }
mib() { [ -n "$1" ] && awk -v v="$1" 'BEGIN { printf "%.1f", v / 1024 }' || printf 'n/a'; }
ratio() { # A B -> A/B
	[ -n "$1" ] && [ -n "$2" ] && awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2fx", a / b }' ||
		printf 'n/a'
}
count() { [ -s "$1" ] && wc -l <"$1" | tr -d ' ' || echo 0; }

echo
echo "### Container start: /bin/true from a busybox bundle ($(date -u +%Y-%m-%d), $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg))"
echo
echo "| runtime | run (ms) | create+start+wait+delete (ms) | peak RSS (MiB) | run vs crun | run vs runc | RSS vs crun | n | failed |"
echo "|---|---:|---:|---:|---:|---:|---:|---:|---:|"
for n in "${names[@]}"; do
	label=$n
	[ "$n" = berth ] && label="berth-runtime"
	echo "| $label | $(ms "${med_run[$n]}") | $(ms "${med_lc[$n]}") | $(mib "${med_mem[$n]}") |" \
		"$(ratio "${med_run[$n]}" "${med_run[crun]:-}") | $(ratio "${med_run[$n]}" "${med_run[runc]:-}") |" \
		"$(ratio "${med_mem[$n]}" "${med_mem[crun]:-}") | $(count "$work/$n.run") | $(count "$work/$n.failures") |"
done
echo
echo "Medians of $RUNS rounds (memory: $MEM_RUNS), interleaved, all in one private mount namespace"
echo "without the cgroup2 mount (cgroup v1 only), so that crun runs here."

# A runtime that failed every time is an error, not a result.
status=0
for n in "${names[@]}"; do
	if [ -z "${med_run[$n]}" ]; then
		echo "runtime-start: $n never completed a run; last error:" >&2
		tail -n5 "$work/$n.err" >&2 || true
		status=1
	fi
done
exit $status
