#!/bin/bash
# mkrootfs.sh DIR
# Makes DIR a minimal root filesystem built from Debian's static busybox (busybox-static):
# /bin/busybox with a symlink per applet, /sbin /usr/bin /usr/sbin pointing at /bin, an
# /etc with root and nobody, and the empty mount points a container needs.
#
# Cached: DIR/etc/berth-rootfs records a digest of busybox and of this script; a second call
# with both unchanged returns at once.  The tree is built next to DIR and renamed into place,
# so a concurrent caller never sees half a rootfs.  BUSYBOX overrides the binary.
set -euo pipefail

[ $# -eq 1 ] || { echo "usage: mkrootfs.sh DIR" >&2; exit 2; }
dir=${1%/}
bb=${BUSYBOX:-/bin/busybox}

[ -x "$bb" ] || { echo "mkrootfs: '$bb' not found: apt-get install busybox-static" >&2; exit 1; }
# A dynamically linked busybox would need its libraries inside the rootfs.
if ! "$bb" --list >/dev/null 2>&1 || file -L "$bb" 2>/dev/null | grep -q 'dynamically linked'; then
	echo "mkrootfs: '$bb' is not a static busybox" >&2
	exit 1
fi

stamp="$(sha256sum <"$bb" | cut -d' ' -f1) $(sha256sum <"$0" | cut -d' ' -f1)"
if [ -f "$dir/etc/berth-rootfs" ] && [ "$(cat "$dir/etc/berth-rootfs")" = "$stamp" ]; then
	exit 0
fi

mkdir -p "$(dirname "$dir")"
tmp=$(mktemp -d "$dir.tmp.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
chmod 755 "$tmp"

install -d -m 755 "$tmp"/{bin,etc,dev,proc,sys,root,home,run,var,usr,mnt}
install -d -m 1777 "$tmp"/tmp "$tmp"/var/tmp
install -m 755 "$bb" "$tmp/bin/busybox"
for applet in $("$bb" --list); do
	[ "$applet" = busybox ] || ln -s busybox "$tmp/bin/$applet"
done
ln -s bin "$tmp/sbin"
ln -s ../bin "$tmp/usr/bin"
ln -s ../bin "$tmp/usr/sbin"

cat >"$tmp/etc/passwd" <<'PW'
root:x:0:0:root:/root:/bin/sh
nobody:x:65534:65534:nobody:/nonexistent:/bin/false
PW
cat >"$tmp/etc/group" <<'GR'
root:x:0:
tty:x:5:
nogroup:x:65534:
GR
printf '127.0.0.1\tlocalhost\n::1\tlocalhost\n' >"$tmp/etc/hosts"
: >"$tmp/etc/resolv.conf"
echo berth >"$tmp/etc/hostname"
printf '%s\n' "$stamp" >"$tmp/etc/berth-rootfs"

# Swap in the new tree; an old one (other busybox or script) goes away whole.
if [ -e "$dir" ]; then
	old=$(mktemp -d "$dir.old.XXXXXX")
	mv "$dir" "$old/rootfs"
	mv "$tmp" "$dir"
	rm -rf "$old"
else
	mv "$tmp" "$dir"
fi
trap - EXIT
