#!/bin/bash
# (A copy of /work/shared/peers/private-dockerd.sh, for machines without /work/shared: CI.)
# private-dockerd.sh up|down|status|exec CMD...  -- a dockerd of its own, in a network namespace of its own.
#
# For comparing berth with docker, or for letting dockerd drive berth-runtime, without touching the host's
# firewall, bridges or any other engine: the daemon, its containerd, its bridge (docker0 172.17.0.0/16) and its
# iptables rules live in netns $NETNS; its data and exec roots are under $D. `exec` runs a command in that netns
# with DOCKER_HOST set (the host's mounts and files are all still seen).
#
#   private-dockerd.sh up                                   # stock runtime (runc)
#   RUNTIME=/usr/local/bin/berth-runtime private-dockerd.sh up   # berth-runtime as the default runtime
#   private-dockerd.sh exec docker run --rm bb true         # bb: import one first (docker import)
#   private-dockerd.sh down
#
# Environment: D (default /tmp/private-dockerd), NETNS (default privdocker), RUNTIME (optional).
# Needs: docker.io, iproute2, util-linux. dockerd runs as `unshare --mount --propagation shared` because this
# VM's / is a private mount and dockerd's rshared binds need a shared one.
set -u
D=${D:-/tmp/private-dockerd}; NETNS=${NETNS:-privdocker}; NSF=/run/netns/$NETNS
SOCK=$D/docker.sock
alive() { [ -s "$D/dockerd.pid" ] && kill -0 "$(cat "$D/dockerd.pid")" 2>/dev/null; }
case "${1:-status}" in
up)
	alive && { echo "already running: pid $(cat "$D/dockerd.pid")"; exit 0; }
	mkdir -p "$D"
	[ -e "$NSF" ] || ip netns add "$NETNS" || exit 1
	nsenter --net="$NSF" ip link set lo up
	if [ -n "${RUNTIME:-}" ]; then
		printf '{"runtimes": {"alt": {"path": "%s"}}, "default-runtime": "alt"}\n' "$RUNTIME" >"$D/daemon.json"
	else
		echo '{}' >"$D/daemon.json"
	fi
	nsenter --net="$NSF" unshare --mount --propagation shared -- dockerd -H "unix://$SOCK" --data-root "$D/data" \
		--exec-root "$D/exec" --pidfile "$D/dockerd.pid" --config-file "$D/daemon.json" \
		--cgroup-parent "/$NETNS" >"$D/dockerd.log" 2>&1 &
	for _ in $(seq 300); do curl -sf --unix-socket "$SOCK" http://d/_ping >/dev/null && break; sleep 0.1; done
	curl -sf --unix-socket "$SOCK" http://d/_ping >/dev/null || { echo "dockerd did not come up (see $D/dockerd.log)"; exit 1; }
	echo "dockerd up: unix://$SOCK in netns $NETNS, default runtime $(DOCKER_HOST=unix://$SOCK docker info --format '{{.DefaultRuntime}}' 2>/dev/null)"
	;;
exec)
	shift; exec nsenter --net="$NSF" env DOCKER_HOST="unix://$SOCK" "$@" ;;
down)
	if alive; then
		p=$(cat "$D/dockerd.pid"); kill -TERM "$p"
		for _ in $(seq 300); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
	fi
	[ -e "$NSF" ] && ip netns delete "$NETNS"
	for c in /sys/fs/cgroup/*/"$NETNS" /sys/fs/cgroup/"$NETNS"; do [ -d "$c" ] && rmdir "$c" 2>/dev/null; done
	echo "down (data kept in $D; rm -rf it yourself)"
	;;
status) alive && echo "running: pid $(cat "$D/dockerd.pid"), unix://$SOCK, netns $NETNS" || echo "not running" ;;
*) sed -n '2,16p' "$0"; exit 2 ;;
esac
