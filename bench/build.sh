#!/bin/bash
# bench/build.sh: `build` of a 5-RUN + COPY Dockerfile, uncached (--no-cache) and fully cached,
# for berthd (the docker CLI's classic builder against it), dockerd's legacy builder (the same
# CLI: docker 28 without buildx speaks the classic /build), BuildKit when a buildx plugin is
# there, and podman (buildah), measured in one run with the rounds interleaved; medians and
# ratios (see bench/README.md).
#
#   bench/build.sh                 # RUNS=10
#   RUNS=20 BERTHD=/usr/local/bin/berthd bench/build.sh
#   BERTHD_BASE=/tmp/old/build/daemon/berthd bench/build.sh   # and another berthd, same run
#
# Rows: each engine through its CLI (berthd twice: the docker CLI's classic builder, and "berth",
# berth's own CLI, the analogue of the dockerd row); "berthd-api", berthd's own part: POST /build of the tar the
# docker CLI would send, as curl times it (no process start, no tar made); "cli-floor", `docker version`
# against berthd (the CLI's start and two small requests); "berthd-base", BERTHD_BASE when set
# (its berth-shim from BERTHD_SHIM, else ../shim/berth-shim beside it), to compare two builds of
# berthd in one interleaved run.
#
# Each engine gets its own roots under a temporary directory, removed at the end, and a busybox
# image imported from the cached root filesystem (scripts/mkrootfs.sh).  RUN steps use network
# none everywhere (they need none).  dockerd runs through tests/compat/private-dockerd.sh (its
# own network namespace); podman with its own --root/--runroot and runc.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
repo=$(dirname "$here")
RUNS=${RUNS:-10}
WARMUP=${WARMUP:-1}
BERTHD=${BERTHD:-$repo/build/daemon/berthd}
BERTH_CLI=${BERTH_CLI:-$repo/build/cli/berth}
DOCKER=${DOCKER:-/usr/local/bin/docker}
[ -x "$DOCKER" ] || DOCKER=$(command -v docker)
PODMAN=${PODMAN:-$(command -v podman || true)}
DOCKERD=$(command -v dockerd || true)

[ "$(id -u)" -eq 0 ] || { echo "build.sh: run as root" >&2; exit 1; }
work=$(mktemp -d /tmp/berth-buildbench.XXXXXX)
berthd_pid=
dockerd_env=(D="$work/dockerd" NETNS="berthbuild$$")
podman_args=(--root "$work/podman/root" --runroot "$work/podman/run" --runtime runc
	--cgroup-manager cgroupfs --events-backend file)
cleanup() {
	for p in $berthd_pid; do kill "$p" 2>/dev/null && wait "$p" 2>/dev/null; done
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

# the context: a small tree and the Dockerfile
ctx=$work/ctx
mkdir -p "$ctx/app/lib"
for i in $(seq 50); do echo "file $i" >"$ctx/app/lib/f$i.txt"; done
head -c 1048576 /dev/urandom >"$ctx/app/blob.bin"
cat >"$ctx/Dockerfile" <<'DOCKERFILE'
FROM busybox
COPY app/ /app/
RUN echo one > /one
RUN mkdir -p /data && echo two > /data/two
RUN cp -r /app /app2
RUN for i in $(seq 100); do echo $i; done > /nums
RUN rm /one && ls /app2/lib | wc -l > /count
DOCKERFILE

# what the docker CLI sends for this context (no .dockerignore: the whole directory)
tar -C "$ctx" -cf "$work/ctx.tar" .

names=()
declare -A uncached cached

start_berthd() { # NAME BINARY: a private berthd in $work/NAME with busybox; its pid in berthd_pid
	mkdir -p "$work/$1"
	echo '{}' >"$work/$1/daemon.json"
	"$2" -H "unix://$work/$1/s.sock" --data-root "$work/$1/data" --exec-root "$work/$1/exec" \
		--config-file "$work/$1/daemon.json" --bridge none >"$work/$1/log" 2>&1 &
	berthd_pid+=" $!"
	for _ in $(seq 100); do [ -S "$work/$1/s.sock" ] && break; sleep 0.05; done
	DOCKER_HOST=unix://$work/$1/s.sock "$DOCKER" import "$work/bb.tar" busybox >/dev/null
}

# berthd, through the docker CLI and through curl
start_berthd berthd "$BERTHD"
names+=(berthd berthd-api)
b="env DOCKER_HOST=unix://$work/berthd/s.sock $DOCKER build -q --network none -t bench"
uncached[berthd]="$b --no-cache $ctx"
cached[berthd]="$b $ctx"
api_post() { # [QUERY]: POST /build of the context tar; prints curl's own time in microseconds
	# (curl's start, 100 ms and more on a loaded machine, is not berthd's part)
	curl -sf -o /dev/null -w '%{time_total}\n' --unix-socket "$work/berthd/s.sock" \
		-H Content-Type:application/x-tar --data-binary "@$work/ctx.tar" \
		"http://berthd/v1.47/build?q=1&networkmode=none&t=bench-api${1:-}" |
		awk '{printf "%d\n", $1 * 1000000}'
}
declare -A own_timer=([berthd-api]=1)
uncached[berthd-api]="api_post &nocache=1"
cached[berthd-api]="api_post"
# berth's own CLI against berthd: berth's whole stack, as the dockerd row is docker's
if [ -x "$BERTH_CLI" ]; then
	names+=(berth)
	b="env BERTH_HOST=unix://$work/berthd/s.sock $BERTH_CLI build -q --network none -t bench-cli"
	uncached[berth]="$b --no-cache $ctx"
	cached[berth]="$b $ctx"
fi
# the floor of the CLI rows: the docker CLI's start and two requests (/_ping, /version)
names+=(cli-floor)
uncached[cli-floor]="env DOCKER_HOST=unix://$work/berthd/s.sock $DOCKER version"
cached[cli-floor]=${uncached[cli-floor]}
if [ -n "${BERTHD_BASE:-}" ]; then
	BERTHD_SHIM=${BERTHD_SHIM:-$(dirname "$BERTHD_BASE")/../shim/berth-shim} \
		start_berthd berthd-base "$BERTHD_BASE"
	names+=(berthd-base)
	b="env DOCKER_HOST=unix://$work/berthd-base/s.sock $DOCKER build -q --network none -t bench"
	uncached[berthd-base]="$b --no-cache $ctx"
	cached[berthd-base]="$b $ctx"
fi

# dockerd, legacy builder
if [ -n "$DOCKERD" ]; then
	env "${dockerd_env[@]}" "$repo/tests/compat/private-dockerd.sh" up >/dev/null
	DOCKER_HOST=unix://$work/dockerd/docker.sock "$DOCKER" import "$work/bb.tar" busybox >/dev/null
	names+=(dockerd)
	b="env DOCKER_BUILDKIT=0 DOCKER_HOST=unix://$work/dockerd/docker.sock $DOCKER build -q --network none -t bench"
	uncached[dockerd]="$b --no-cache $ctx"
	cached[dockerd]="$b $ctx"
	if "$DOCKER" buildx version >/dev/null 2>&1; then
		names+=(buildkit)
		b="env DOCKER_BUILDKIT=1 DOCKER_HOST=unix://$work/dockerd/docker.sock $DOCKER build -q --network none -t bench-bk"
		uncached[buildkit]="$b --no-cache $ctx"
		cached[buildkit]="$b $ctx"
	else
		echo "build.sh: no buildx plugin for the docker CLI: BuildKit left out" >&2
	fi
else
	echo "build.sh: no dockerd, left out" >&2
fi

# podman
if [ -n "$PODMAN" ]; then
	cat >"$work/containers.conf" <<'CONF'
[containers]
default_ulimits = ["nofile=20000:20000", "nproc=32768:32768"]
CONF
	export CONTAINERS_CONF=$work/containers.conf
	podman "${podman_args[@]}" import "$work/bb.tar" busybox >/dev/null
	names+=(podman)
	b="podman ${podman_args[*]} build -q --network none --layers -t bench"
	uncached[podman]="$b --no-cache $ctx"
	cached[podman]="$b $ctx"
else
	echo "build.sh: no podman, left out" >&2
fi

declare -A times
ms_of() { # CMD...: run once, print microseconds (fails the script if the run fails)
	# bash's clock, not date(1): a date process around each run was in every figure
	local t0=${EPOCHREALTIME/[.,]/} t1
	# the docker CLI's deprecation notice goes to stderr every time: shown only on a failure
	"$@" >/dev/null 2>"$work/stderr" || { cat "$work/stderr" >&2; return 1; }
	t1=${EPOCHREALTIME/[.,]/}
	echo $((t1 - t0))
}
time_of() { # ENGINE CMD...: microseconds of one run (the command's own figure, or ms_of)
	if [ -n "${own_timer[$1]:-}" ]; then "${@:2}"; else ms_of "${@:2}"; fi
}
for ((i = 0; i < WARMUP; i++)); do
	for n in "${names[@]}"; do
		time_of "$n" ${uncached[$n]} >/dev/null
		time_of "$n" ${cached[$n]} >/dev/null
	done
done
for ((i = 0; i < RUNS; i++)); do
	for ((k = 0; k < ${#names[@]}; k++)); do
		n=${names[$(((i + k) % ${#names[@]}))]}
		times[$n.uncached]+="$(time_of "$n" ${uncached[$n]}) "
		times[$n.cached]+="$(time_of "$n" ${cached[$n]}) "
	done
done

median() { tr ' ' '\n' | grep . | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
declare -A med
printf '%-11s %16s %14s\n' engine "uncached (ms)" "cached (ms)"
for n in "${names[@]}"; do
	med[$n.uncached]=$(echo "${times[$n.uncached]}" | median)
	med[$n.cached]=$(echo "${times[$n.cached]}" | median)
	printf '%-11s %16.1f %14.1f\n' "$n" "$(echo "${med[$n.uncached]} / 1000" | bc -l)" \
		"$(echo "${med[$n.cached]} / 1000" | bc -l)"
done
for me in berthd berth; do
	[ -n "${med[$me.uncached]:-}" ] || continue
	for n in berthd-base dockerd buildkit podman; do
		[ -n "${med[$n.uncached]:-}" ] && printf '%s / %s: uncached %.3f, cached %.3f\n' \
			"$me" "$n" "$(echo "${med[$me.uncached]} / ${med[$n.uncached]}" | bc -l)" \
			"$(echo "${med[$me.cached]} / ${med[$n.cached]}" | bc -l)"
	done
done
echo "($RUNS rounds after $WARMUP warm-up rounds; $("$DOCKER" --version); load $(cut -d' ' -f1-3 /proc/loadavg))"
