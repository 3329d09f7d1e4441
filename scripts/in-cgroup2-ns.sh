#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
#
# in-cgroup2-ns.sh CMD [ARG...]: run CMD on a pure cgroup v2 view of this host.
#
# On a hybrid host (cgroup v1 controllers under /sys/fs/cgroup, a cgroup2 mount at
# /sys/fs/cgroup/unified) CMD runs in a private mount namespace where /sys/fs/cgroup is a bind
# of the cgroup2 mount.  berth then detects cgroup v2 and uses its v2 driver, whose core (cgroup
# creation, cgroup.procs, cgroup.freeze, cgroup.kill, hugetlb, the BPF device filter) is the
# real kernel's.  Nothing changes outside the namespace; it goes away with CMD.
# On a host that is already pure cgroup v2, CMD just runs.
set -eu

if [ $# -eq 0 ]; then
	echo "usage: $0 CMD [ARG...]" >&2
	exit 2
fi

src=${BERTH_CGROUP2_MOUNT:-/sys/fs/cgroup/unified}

if [ "$(stat -f -c %T /sys/fs/cgroup)" = cgroup2fs ]; then
	exec "$@"
fi
if [ ! -d "$src" ] || [ "$(stat -f -c %T "$src")" != cgroup2fs ]; then
	echo "$0: '$src' is not a cgroup2 mount" >&2
	exit 1
fi
if [ "$(id -u)" != 0 ]; then
	echo "$0: needs root (a new mount namespace)" >&2
	exit 1
fi

# --propagation private: the bind below must not travel back to the host's namespace
exec unshare --mount --propagation private -- sh -c '
	mount --bind "$1" /sys/fs/cgroup || exit 1
	shift
	exec "$@"
' in-cgroup2-ns "$src" "$@"
