#!/bin/bash
# bench/net.sh: what berthd's networking costs, beside dockerd's, in one run (bench/README.md):
#   1. `run --rm busybox true` on the default bridge and with --network none (the docker CLI
#      against each daemon), rounds interleaved; the bridge's cost is bridge - none;
#   2. TCP throughput through a published port on 127.0.0.1 (berthd's in-kernel DNAT against
#      dockerd's default userland proxy): bench/tcpbench.c, built static here, sends BYTES_MB MiB
#      from the daemon's namespace to `-p 127.0.0.1:PORT:80` of a container running the same
#      program as a sink (bind-mounted read-only), TP_RUNS times each, interleaved.  Beside them,
#      for scale: the sink in the daemon's own namespace over loopback (no bridge, no NAT: the
#      machine's ceiling) and the container's address on berthd's bridge (the veth without DNAT).
#
#   bench/net.sh                          # RUNS=20 TP_RUNS=5 BYTES_MB=1024
#   RUNS=40 BERTHD=/usr/local/bin/berthd bench/net.sh
#
# Each daemon runs in a network namespace of its own (its bridge, its firewall, its 127.0.0.1):
# berthd under nsenter, dockerd through tests/compat/private-dockerd.sh; both with their own data
# and exec roots under a temporary directory, removed at the end.  Traffic stays inside those
# namespaces.  Medians and ratios are printed; nothing is asserted (see the issue's targets).
NAME=net
. "$(dirname "$0")/lib.sh"
RUNS=${RUNS:-20}
WARMUP=${WARMUP:-2}
TP_RUNS=${TP_RUNS:-5}
BYTES_MB=${BYTES_MB:-1024}
PORT=18080

sink_pid=
bench_cleanup_hook() {
	[ -z "$sink_pid" ] || kill "$sink_pid" 2>/dev/null
	[ -z "${BH:-}" ] || env "$BH" "$DOCKER" rm -f bench-sink >/dev/null 2>&1
	[ -z "${DH:-}" ] || env "$DH" "$DOCKER" rm -f bench-sink >/dev/null 2>&1
}

gcc -O2 -static -o "$work/tcpbench" "$here/tcpbench.c"
bench_busybox_tar
engines=()
declare -A host netns
bench_berthd_netns
engines+=(berthd)
host[berthd]=$BH
netns[berthd]=$bns
if bench_dockerd; then
	engines+=(dockerd)
	host[dockerd]=$DH
	netns[dockerd]=${dockerd_env[1]#NETNS=}
fi
for e in "${engines[@]}"; do env "${host[$e]}" "$DOCKER" import "$work/bb.tar" busybox >/dev/null; done

# ---- 1. run latency, bridge and none
names=()
declare -A cmd
for e in "${engines[@]}"; do
	for m in bridge none; do
		names+=("$e/$m")
		cmd[$e/$m]="${host[$e]} $DOCKER run --rm --network $m busybox true"
	done
done
bench_rounds
bench_report "berthd/bridge" "dockerd/bridge"
# the medians are per timer (lib.sh's med[timer:name]): a bridge cost for each
for t in "${bench_timers[@]}"; do
	for e in "${engines[@]}"; do
		printf '%-16s %8.1f ms (%s)\n' "$e bridge cost" \
			"$(echo "(${med[$t:$e/bridge]} - ${med[$t:$e/none]}) / 1000" | bc -l)" "$t"
	done
done

# ---- 2. throughput through a published port on 127.0.0.1
for e in "${engines[@]}"; do
	env "${host[$e]}" "$DOCKER" run -d --name bench-sink -p "127.0.0.1:$PORT:80" \
		-v "$work/tcpbench:/tcpbench:ro" busybox /tcpbench sink 80 >/dev/null
done
ip netns exec "$bns" "$work/tcpbench" sink $((PORT + 1)) &
sink_pid=$!
cip=$(env "$BH" "$DOCKER" inspect -f '{{.NetworkSettings.IPAddress}}' bench-sink)
tp_names=("${engines[@]}" loopback berthd-direct)
declare -A target=([loopback]="$bns 127.0.0.1 $((PORT + 1))" [berthd-direct]="$bns $cip 80")
for e in "${engines[@]}"; do target[$e]="${netns[$e]} 127.0.0.1 $PORT"; done
send() { # NAME MIB: prints the microseconds the transfer took
	local t=(${target[$1]})
	ip netns exec "${t[0]}" "$work/tcpbench" send "${t[1]}" "${t[2]}" "$2" |
		awk '{printf "%d\n", $2 / 1000}'
}
for n in "${tp_names[@]}"; do
	for _ in $(seq 50); do send "$n" 1 >/dev/null 2>&1 && break; sleep 0.1; done
	send "$n" "$BYTES_MB" >/dev/null # warm-up
done
declare -A tput
for ((i = 0; i < TP_RUNS; i++)); do
	for ((k = 0; k < ${#tp_names[@]}; k++)); do
		n=${tp_names[$(((i + k) % ${#tp_names[@]}))]}
		tput[$n]+="$(send "$n" "$BYTES_MB") "
	done
done
printf '%-16s %14s\n' "tcp" "MiB/s (median)"
declare -A mibs
for n in "${tp_names[@]}"; do
	us=$(echo "${tput[$n]}" | median)
	mibs[$n]=$(echo "$BYTES_MB * 1000000 / $us" | bc -l)
	printf '%-16s %14.0f\n' "$n" "${mibs[$n]}"
done
[ -n "${mibs[dockerd]:-}" ] && printf 'berthd / dockerd (throughput) = %.2f\n' \
	"$(echo "${mibs[berthd]} / ${mibs[dockerd]}" | bc -l)"
printf 'berthd / loopback (throughput) = %.2f\n' "$(echo "${mibs[berthd]} / ${mibs[loopback]}" | bc -l)"
echo "($TP_RUNS x $BYTES_MB MiB, load $(cut -d' ' -f1-3 /proc/loadavg))"
