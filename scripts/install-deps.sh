#!/bin/bash
# Installs, with apt-get and without questions, everything berth's build, tests, demo and
# benchmark need on a Debian 12 machine.  Idempotent: when every package is already installed
# it only asks dpkg and returns (no apt-get update, well under a second).
set -euo pipefail

PKGS=(
	# build
	meson ninja-build pkg-config gcc libc6-dev clang clang-format libclang-rt-14-dev
	libjansson-dev libseccomp-dev libcap-dev libsystemd-dev libarchive-dev libssl-dev libmnl-dev libnftables-dev
	libcurl4-openssl-dev libfyaml-dev nettle-dev
	# test images, system and compat tests
	busybox-static python3-pytest python3-pexpect python3-docker systemd jq iproute2 uidmap
	nftables
	podman runc crun containerd
	# dockerd, for lib/dockerspec's conformance test against docker (tests/compat), the
	# image store's tests (a real docker save and docker load) and dockerd driving
	# berth-runtime (tests/compat); zstd layers; util-linux's setpriv, nsenter, unshare (tests)
	docker.io zstd util-linux
	# berthd's `top` runs ps on the host, as dockerd does
	procps
	# berthd clones git build contexts (POST /build remote=); the tests serve them with git daemon
	git
	# lib/registry's tests (tests/system/test_registry.py): distribution 2.8, skopeo and umoci
	# on the other end, a token server (JWT signed with a certificate the registry trusts)
	docker-registry skopeo umoci python3-jwt python3-cryptography
	# the cgroup v2 guest (tests/guest): QEMU; its kernel is fetched by tests/guest/run
	qemu-system-x86
	# benchmark
	time hyperfine
)

missing=()
for p in "${PKGS[@]}"; do
	# "install ok installed" only: a package that was removed but left its config behind
	# ("deinstall ok config-files") still needs installing.
	st=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
	[ "$st" = "install ok installed" ] || missing+=("$p")
done

if [ ${#missing[@]} -eq 0 ]; then
	echo "install-deps: all ${#PKGS[@]} packages present"
	exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
	echo "install-deps: missing ${missing[*]}; run as root" >&2
	exit 1
fi

echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq \
	-o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold "${missing[@]}" \
	</dev/null
