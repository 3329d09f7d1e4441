#!/bin/bash
# bench/engine.sh: the engine under many containers, berthd against dockerd in one run
# (bench/README.md):
#   1. N x `run -d` one after the other (the wall time of the loop);
#   2. `ps` with those N running (the median of PS_RUNS calls);
#   3. N `run -d` at once from N parallel clients (the wall time until all have answered).
# Each through the docker CLI against berthd and dockerd, and berth's own CLI against berthd;
# the containers are busybox `sleep` with --network none, so the engines' own work is compared
# (not their bridges).  ROUNDS rounds, the engines' order rotating; medians of the rounds and
# the ratios berthd / dockerd.  The issue's target: each at most 1/5 of dockerd's.
#
#   bench/engine.sh                 # N=50 ROUNDS=3 PS_RUNS=10
#   N=20 ROUNDS=5 bench/engine.sh
NAME=engine
. "$(dirname "$0")/lib.sh"
N=${N:-50}
ROUNDS=${ROUNDS:-3}
PS_RUNS=${PS_RUNS:-10}

bench_busybox_tar
names=()
declare -A host cli

bench_berthd
env "$BH" "$DOCKER" import "$work/bb.tar" busybox >/dev/null
names+=(berthd berth)
host[berthd]=$BH cli[berthd]=$DOCKER
host[berth]=BERTH_HOST=unix://$work/berthd/s.sock cli[berth]=$BERTH
if bench_dockerd; then
	env "$DH" "$DOCKER" import "$work/bb.tar" busybox >/dev/null
	names+=(dockerd)
	host[dockerd]=$DH cli[dockerd]=$DOCKER
fi

c() { # ENGINE ARGS...: the engine's CLI, quiet
	env "${host[$1]}" "${cli[$1]}" "${@:2}" >/dev/null
}
clear_all() { # ENGINE: remove every container (not timed)
	local ids
	ids=$(env "${host[$1]}" "${cli[$1]}" ps -aq)
	[ -z "$ids" ] || c "$1" rm -f $ids
}
now() { echo "${EPOCHREALTIME/./}"; }

declare -A seq ps par
one_round() { # ENGINE
	local e=$1 t0 t1 i pids=() pst=""
	t0=$(now)
	for ((i = 0; i < N; i++)); do c "$e" run -d --network none busybox sleep 100000; done
	t1=$(now)
	seq[$e]+="$((t1 - t0)) "
	for ((i = 0; i < PS_RUNS; i++)); do pst+="$(us_of "${host[$e]}" "${cli[$e]}" ps) "; done
	ps[$e]+="$(echo "$pst" | median) "
	clear_all "$e"
	t0=$(now)
	for ((i = 0; i < N; i++)); do
		c "$e" run -d --network none busybox sleep 100000 &
		pids+=($!)
	done
	for p in "${pids[@]}"; do wait "$p"; done
	t1=$(now)
	par[$e]+="$((t1 - t0)) "
	[ "$(env "${host[$e]}" "${cli[$e]}" ps -q | wc -l)" -eq "$N" ] ||
		{ echo "engine: $e does not run $N containers" >&2; exit 1; }
	clear_all "$e"
}

for ((r = 0; r < ROUNDS; r++)); do
	for ((k = 0; k < ${#names[@]}; k++)); do one_round "${names[$(((r + k) % ${#names[@]}))]}"; done
done

ms() { echo "$1 / 1000" | bc -l; }
printf '%-8s %16s %14s %18s\n' engine "$N x run -d (ms)" "ps (ms)" "$N parallel (ms)"
declare -A mseq mps mpar
for n in "${names[@]}"; do
	mseq[$n]=$(echo "${seq[$n]}" | median)
	mps[$n]=$(echo "${ps[$n]}" | median)
	mpar[$n]=$(echo "${par[$n]}" | median)
	printf '%-8s %16.0f %14.1f %18.0f\n' "$n" "$(ms "${mseq[$n]}")" "$(ms "${mps[$n]}")" \
		"$(ms "${mpar[$n]}")"
done
if [ -n "${mseq[dockerd]:-}" ]; then
	for b in berthd berth; do
		printf '%s / dockerd: run -d %.3f, ps %.3f, parallel %.3f\n' "$b" \
			"$(echo "${mseq[$b]} / ${mseq[dockerd]}" | bc -l)" \
			"$(echo "${mps[$b]} / ${mps[dockerd]}" | bc -l)" \
			"$(echo "${mpar[$b]} / ${mpar[dockerd]}" | bc -l)"
	done
fi
echo "(N=$N, $ROUNDS rounds, ps over $PS_RUNS calls; load $(cut -d' ' -f1-3 /proc/loadavg);" \
	"$("$DOCKER" --version))"
