#!/bin/bash
# scripts/demo-berthd.sh: berthd says hello through the Docker Engine API (make demo).
#
# Uses a berthd already answering on $SOCK, or starts one (its log in $DATA_ROOT/../berthd-demo.log,
# left running afterwards, as a daemon is); makes busybox:latest from busybox-static
# (scripts/mkrootfs.sh) when berthd has none; then runs `docker run --rm busybox echo ...` with
# the docker CLI when there is one, else the same create/attach/start/wait/delete sequence with
# curl.
#
#   scripts/demo-berthd.sh                         # /run/berth/berth.sock, /var/lib/berth
#   BERTHD=build/daemon/berthd SOCK=/tmp/d/s.sock DATA_ROOT=/tmp/d/data EXEC_ROOT=/tmp/d/exec \
#       scripts/demo-berthd.sh
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
PREFIX=${PREFIX:-/usr/local}
BERTHD=${BERTHD:-$PREFIX/bin/berthd}
SOCK=${SOCK:-/run/berth/berth.sock}
DATA_ROOT=${DATA_ROOT:-/var/lib/berth}
EXEC_ROOT=${EXEC_ROOT:-/run/berth}
DOCKER=$(command -v /usr/local/bin/docker docker 2>/dev/null | head -1 || true)
CACHE=${BERTH_CACHE:-/var/tmp/berth-cache}

api() { curl -sf --unix-socket "$SOCK" "$@"; }

if ! api http://d/_ping >/dev/null 2>&1; then
	echo "+ $BERTHD -H unix://$SOCK --data-root $DATA_ROOT --exec-root $EXEC_ROOT &"
	mkdir -p "$(dirname "$SOCK")"
	log=$(dirname "$DATA_ROOT")/berthd-demo.log
	"$BERTHD" -H "unix://$SOCK" --data-root "$DATA_ROOT" --exec-root "$EXEC_ROOT" \
		>>"$log" 2>&1 </dev/null &
	for _ in $(seq 200); do api http://d/_ping >/dev/null 2>&1 && break; sleep 0.05; done
	api http://d/_ping >/dev/null || { echo "berthd did not come up (see $log)" >&2; exit 1; }
fi

if ! api http://d/images/busybox:latest/json >/dev/null 2>&1; then
	"$here/mkrootfs.sh" "$CACHE/rootfs" >/dev/null
	echo "+ import busybox:latest (busybox-static)"
	tar -C "$CACHE/rootfs" -c . |
		api -X POST -H 'Content-Type: application/x-tar' --data-binary @- \
			'http://d/images/create?fromSrc=-&repo=busybox&tag=latest' >/dev/null
fi

if [ -n "$DOCKER" ]; then
	echo "+ DOCKER_HOST=unix://$SOCK docker run --rm busybox echo hello from berthd"
	DOCKER_HOST=unix://$SOCK "$DOCKER" run --rm busybox echo hello from berthd
else
	echo "+ (no docker CLI) create, start, wait, logs, delete over the API with curl"
	id=$(api -X POST -H 'Content-Type: application/json' \
		-d '{"Image":"busybox","Cmd":["echo","hello from berthd"]}' \
		http://d/containers/create | sed 's/.*"Id":"\([0-9a-f]*\)".*/\1/')
	api -X POST "http://d/containers/$id/start"
	api -X POST "http://d/containers/$id/wait" >/dev/null
	api "http://d/containers/$id/logs?stdout=1" | tail -c +9
	api -X DELETE "http://d/containers/$id"
fi
