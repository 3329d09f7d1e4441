#!/bin/bash
# mkbundle.sh DIR [ARG...]
# Makes DIR an OCI bundle: DIR/rootfs copied from the cached busybox rootfs (scripts/mkrootfs.sh,
# kept in $BERTH_CACHE, default /var/tmp/berth-cache) and DIR/config.json, a complete default
# Linux config written here (not by any runtime's `spec`), whose process runs ARG... (default
# `sh`) without a terminal.  An existing DIR/rootfs is replaced.
#
# The config follows what runtimes write by default: new pid, ipc, uts, mount and network
# namespaces; /proc, /dev (tmpfs), /dev/pts, /dev/shm, /dev/mqueue and /sys (read-only)
# mounted; runc's masked and read-only paths; CAP_AUDIT_WRITE, CAP_KILL, CAP_NET_BIND_SERVICE;
# RLIMIT_NOFILE 1024; noNewPrivileges; a read-only root; every device denied in the cgroup.
set -euo pipefail

[ $# -ge 1 ] || { echo "usage: mkbundle.sh DIR [ARG...]" >&2; exit 2; }
dir=${1%/}
shift
[ $# -gt 0 ] || set -- sh

here=$(cd "$(dirname "$0")" && pwd)
cache=${BERTH_CACHE:-/var/tmp/berth-cache}
"$here/mkrootfs.sh" "$cache/rootfs"

command -v jq >/dev/null || { echo "mkbundle: jq not found: apt-get install jq" >&2; exit 1; }

mkdir -p "$dir"
rm -rf "$dir/rootfs"
cp -a "$cache/rootfs" "$dir/rootfs"

# jq does the JSON quoting of the arguments, whatever characters they hold: each travels as a
# named string argument (--arg), then they are put back in order.
jqargs=()
for ((i = 1; i <= $#; i++)); do
	jqargs+=(--arg "a$i" "${!i}")
done
args=$(jq -cn "${jqargs[@]}" --argjson n $# '[range(1; $n + 1) as $i | $ARGS.named["a\($i)"]]')
caps='["CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"]'

cat >"$dir/config.json.tmp" <<JSON
{
	"ociVersion": "1.0.2",
	"process": {
		"terminal": false,
		"user": { "uid": 0, "gid": 0 },
		"args": $args,
		"env": [
			"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
			"TERM=xterm",
			"HOME=/root"
		],
		"cwd": "/",
		"capabilities": {
			"bounding": $caps,
			"effective": $caps,
			"permitted": $caps
		},
		"rlimits": [ { "type": "RLIMIT_NOFILE", "hard": 1024, "soft": 1024 } ],
		"noNewPrivileges": true
	},
	"root": { "path": "rootfs", "readonly": true },
	"hostname": "berth",
	"mounts": [
		{ "destination": "/proc", "type": "proc", "source": "proc" },
		{ "destination": "/dev", "type": "tmpfs", "source": "tmpfs",
		  "options": ["nosuid", "strictatime", "mode=755", "size=65536k"] },
		{ "destination": "/dev/pts", "type": "devpts", "source": "devpts",
		  "options": ["nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"] },
		{ "destination": "/dev/shm", "type": "tmpfs", "source": "shm",
		  "options": ["nosuid", "noexec", "nodev", "mode=1777", "size=65536k"] },
		{ "destination": "/dev/mqueue", "type": "mqueue", "source": "mqueue",
		  "options": ["nosuid", "noexec", "nodev"] },
		{ "destination": "/sys", "type": "sysfs", "source": "sysfs",
		  "options": ["nosuid", "noexec", "nodev", "ro"] }
	],
	"linux": {
		"resources": { "devices": [ { "allow": false, "access": "rwm" } ] },
		"namespaces": [
			{ "type": "pid" },
			{ "type": "network" },
			{ "type": "ipc" },
			{ "type": "uts" },
			{ "type": "mount" }
		],
		"maskedPaths": [
			"/proc/acpi", "/proc/asound", "/proc/kcore", "/proc/keys", "/proc/latency_stats",
			"/proc/timer_list", "/proc/timer_stats", "/proc/sched_debug", "/proc/scsi",
			"/sys/firmware"
		],
		"readonlyPaths": [
			"/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"
		]
	}
}
JSON
# Validate before the rename, so a broken template never leaves a config.json behind.
jq -e . "$dir/config.json.tmp" >/dev/null
mv "$dir/config.json.tmp" "$dir/config.json"
