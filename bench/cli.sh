#!/bin/bash
# bench/cli.sh: how long the berth CLI takes for a command, against the docker CLI doing the same
# on the same berthd, measured in one run (see bench/README.md).
#
#   bench/cli.sh                 # RUNS=40 per command, in ROUND=5-run rounds, interleaved
#   RUNS=100 BERTH_CLI=/usr/local/bin/berth DOCKER=/usr/local/bin/docker bench/cli.sh
#
# A private berthd (its own socket, data and exec roots under a temporary directory) serves
# both CLIs.  Each command is timed by hyperfine without a shell (-N): the whole process, exec
# to exit, as a user waits for it.  Rounds alternate berth and docker (and who goes first), so
# drift of the machine's speed hits both; medians are reported with the ratio berth/docker.
# Commands: version, info, and those of the list below that berthd serves (ps with 50
# containers, inspect and exec need the containers API; they are left out, with a note, without
# it).
# busybox is imported from the tests' cached root filesystem; the containers are removed at the end.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
repo=$(dirname "$here")
RUNS=${RUNS:-40}
ROUND=${ROUND:-5}
WARMUP=${WARMUP:-3}
BERTH=${BERTH_CLI:-$repo/build/cli/berth}
BERTHD=${BERTHD:-$repo/build/daemon/berthd}
DOCKER=${DOCKER:-$( [ -x /usr/local/bin/docker ] && echo /usr/local/bin/docker || command -v docker || true)}

for tool in hyperfine jq; do
	command -v $tool >/dev/null || { echo "cli.sh: $tool missing: apt-get install $tool" >&2; exit 1; }
done
[ -x "$BERTH" ] || { echo "cli.sh: no berth at $BERTH (build first)" >&2; exit 1; }
[ -x "$BERTHD" ] || { echo "cli.sh: no berthd at $BERTHD (build first)" >&2; exit 1; }
[ -n "$DOCKER" ] && [ -x "$DOCKER" ] || { echo "cli.sh: no docker CLI to compare with" >&2; exit 1; }

work=$(mktemp -d /tmp/berth-cli-bench.XXXXXX)
berthd_pid=
cleanup() {
	if [ -n "$berthd_pid" ]; then
		# the containers go first: a berthd stopped with running ones leaves their shims
		"$BERTH" ps -aq --no-trunc 2>/dev/null | xargs -r "$BERTH" rm -f >/dev/null 2>&1 || true
		kill -TERM "$berthd_pid" 2>/dev/null || true
		wait "$berthd_pid" 2>/dev/null || true
	fi
	rm -rf "$work"
}
trap cleanup EXIT

sock=$work/berth.sock
echo "{}" >"$work/daemon.json"
"$BERTHD" -H "unix://$sock" --data-root "$work/data" --exec-root "$work/exec" \
	--config-file "$work/daemon.json" >"$work/berthd.log" 2>&1 &
berthd_pid=$!
for _ in $(seq 100); do
	"$BERTH" -H "unix://$sock" version --format '{{.Server.Version}}' >/dev/null 2>&1 && break
	sleep 0.05
done
"$BERTH" -H "unix://$sock" version --format '{{.Server.Version}}' >/dev/null ||
	{ echo "cli.sh: berthd did not start:" >&2; cat "$work/berthd.log" >&2; exit 1; }

export DOCKER_HOST=unix://$sock BERTH_HOST=unix://$sock DOCKER_CONFIG=$work/docker-config
unset DOCKER_CONTEXT DOCKER_API_VERSION
mkdir -p "$DOCKER_CONFIG"

# has berthd this endpoint? (ps and inspect need the containers API)
serves() { "$BERTH" "$@" >/dev/null 2>&1; }

commands=("version" "info")
if serves ps; then
	# busybox from the cached root filesystem the tests use (scripts/mkrootfs.sh), no network
	rootfs=${BERTH_CACHE:-/var/tmp/berth-cache}/rootfs
	"$repo/scripts/mkrootfs.sh" "$rootfs" >/dev/null
	tar -C "$rootfs" -c . | "$BERTH" import - busybox:latest >/dev/null
	for i in $(seq 50); do
		"$BERTH" run -d --name "bench-$i" busybox sleep 600 >/dev/null 2>&1 || break
	done
	commands+=("ps" "inspect bench-1" "exec bench-1 true")
else
	echo "(ps with 50 containers, inspect, exec: berthd does not serve the containers API yet)"
fi

# time NAME CMD...: one hyperfine round of ROUND runs, its times (seconds) appended to NAME's file
time_round() {
	local name=$1
	shift
	hyperfine -N --style none --runs "$ROUND" --warmup 0 --export-json "$work/round.json" \
		-- "$*" >/dev/null 2>&1 || { echo "cli.sh: '$*' failed" >&2; "$@" >&2 || true; exit 1; }
	jq -r '.results[0].times[]' "$work/round.json" >>"$work/$name.times"
}

median_ms() {
	sort -g "$1" | awk '{ v[NR] = $1 } END {
		if (NR % 2) m = v[(NR + 1) / 2]; else m = (v[NR / 2] + v[NR / 2 + 1]) / 2
		printf "%.2f", m * 1000 }'
}

printf "%-22s %12s %12s %8s %14s   (%s runs each, medians)\n" command berth docker ratio \
	"over the floor" "$RUNS"
# the floor: starting any process at all on this machine now (a loaded machine raises it for
# both CLIs alike; "over the floor" compares what each adds to it)
rm -f "$work/true.times"
for _ in $(seq $(( (RUNS + ROUND - 1) / ROUND ))); do time_round true /bin/true; done
floor=$(median_ms "$work/true.times")
printf "%-22s %9s ms\n" "(/bin/true)" "$floor"
for cmd in "${commands[@]}"; do
	key=${cmd// /_}
	rm -f "$work/berth-$key.times" "$work/docker-$key.times"
	# shellcheck disable=SC2086
	for _ in $(seq "$WARMUP"); do "$BERTH" $cmd >/dev/null; "$DOCKER" $cmd >/dev/null; done
	rounds=$(( (RUNS + ROUND - 1) / ROUND ))
	for r in $(seq "$rounds"); do
		if (( r % 2 )); then
			time_round "berth-$key" "$BERTH" $cmd
			time_round "docker-$key" "$DOCKER" $cmd
		else
			time_round "docker-$key" "$DOCKER" $cmd
			time_round "berth-$key" "$BERTH" $cmd
		fi
	done
	b=$(median_ms "$work/berth-$key.times")
	d=$(median_ms "$work/docker-$key.times")
	printf "%-22s %9s ms %9s ms %8s %14s\n" "$cmd" "$b" "$d" \
		"$(awk -v b="$b" -v d="$d" 'BEGIN { printf "%.3f", b / d }')" \
		"$(awk -v b="$b" -v d="$d" -v f="$floor" 'BEGIN { printf "%.3f", (b - f) / (d - f) }')"
done

if serves ps; then
	for i in $(seq 50); do "$BERTH" rm -f "bench-$i" >/dev/null 2>&1 || true; done
fi
