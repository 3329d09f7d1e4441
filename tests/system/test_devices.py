"""/dev through berth-runtime on real bundles: the default device nodes and links, linux.devices
(char, block, fifo; mode, owner, nested paths), /dev in a user namespace (binds of the host's
nodes), and bad device entries.  Checked from inside: stat, readlink, reads and writes."""

import os
from pathlib import Path

import pytest

from berth import make_bundle_at, mounts_under
from test_mounts import MOUNTINFO, mount_at, open_dir, parse_mountinfo, run_sh, sections  # noqa: F401

STAT = "stat -c '%n|%F|%t:%T|%a|%u:%g'"


def parse_stat(text):
    """Lines of STAT output -> {path: (type, (major, minor), mode, owner)}."""
    out = {}
    for line in text.splitlines():
        name, typ, mm, mode, owner = line.split("|")
        ma, mi = (int(x, 16) for x in mm.split(":"))
        out[name] = (typ, (ma, mi), mode, owner)
    return out


DEFAULTS = {
    "/dev/null": (1, 3), "/dev/zero": (1, 5), "/dev/full": (1, 7), "/dev/random": (1, 8),
    "/dev/urandom": (1, 9), "/dev/tty": (5, 0),
}

WORKS = """
echo @@null; echo x > /dev/null && echo ok
echo @@zero; head -c 4 /dev/zero | od -An -tx1 | tr -d ' \\n'; echo
echo @@full; sh -c 'echo x > /dev/full' 2>&1
echo @@urandom; head -c 16 /dev/urandom | wc -c
echo @@random; head -c 4 /dev/random | wc -c
"""


def check_works(s):
    assert s["null"] == "ok\n"
    assert s["zero"] == "00000000\n"
    assert "No space left on device" in s["full"], s["full"]
    assert s["urandom"].strip() == "16"
    assert s["random"].strip() == "4"


def test_default_devices(runtime, bundle):
    out = run_sh(runtime, bundle, "echo @@stat; " + STAT + " " + " ".join(DEFAULTS) + """
        echo @@links; for l in ptmx fd stdin stdout stderr; do readlink /dev/$l; done
        echo @@fd; ls /dev/fd/ | tr '\\n' ' '; echo
        echo @@stdin; echo via-link | cat /dev/stdin
        """ + WORKS)
    s = sections(out)
    st = parse_stat(s["stat"])
    for path, mm in DEFAULTS.items():
        typ, got, mode, owner = st[path]
        assert (typ, got, mode, owner) == ("character special file", mm, "666", "0:0"), path
    assert s["links"].split() == ["pts/ptmx", "/proc/self/fd", "/proc/self/fd/0",
                                  "/proc/self/fd/1", "/proc/self/fd/2"]
    assert {"0", "1", "2"} <= set(s["fd"].split())
    assert s["stdin"] == "via-link\n"
    check_works(s)


def test_linux_devices(runtime, bundle):
    bundle.config["linux"]["devices"] = [
        {"path": "/dev/mynull", "type": "c", "major": 1, "minor": 3, "fileMode": 0o640,
         "uid": 1000, "gid": 1000},
        {"path": "/dev/myblk", "type": "b", "major": 7, "minor": 0, "fileMode": 0o600,
         "uid": 0, "gid": 6},
        {"path": "/dev/myfifo", "type": "p", "fileMode": 0o620, "uid": 1000, "gid": 0},
        {"path": "/dev/deep/er/myzero", "type": "c", "major": 1, "minor": 5, "fileMode": 0o604},
        # replaces the default /dev/full with another node
        {"path": "/dev/full", "type": "c", "major": 1, "minor": 3, "fileMode": 0o666},
    ]
    # the process runs as 1000: it owns mynull (0640) and may write it; myzero is world-readable
    bundle.config["process"]["user"] = {"uid": 1000, "gid": 1000}
    out = run_sh(runtime, bundle, "echo @@stat; " + STAT +
                 " /dev/mynull /dev/myblk /dev/myfifo /dev/deep/er/myzero /dev/full" + """
        echo @@write; echo x > /dev/mynull && echo ok
        echo @@zero; head -c 2 /dev/deep/er/myzero | od -An -tx1 | tr -d ' \\n'; echo
        echo @@full; echo x > /dev/full && echo ok
        echo @@blk; sh -c 'head -c 1 /dev/myblk' 2>&1; true
        """)
    s = sections(out)
    st = parse_stat(s["stat"])
    assert st["/dev/mynull"] == ("character special file", (1, 3), "640", "1000:1000")
    assert st["/dev/myblk"] == ("block special file", (7, 0), "600", "0:6")
    assert st["/dev/myfifo"][0] == "fifo" and st["/dev/myfifo"][2:] == ("620", "1000:0")
    assert st["/dev/deep/er/myzero"] == ("character special file", (1, 5), "604", "0:0")
    assert st["/dev/full"] == ("character special file", (1, 3), "666", "0:0")
    assert s["write"] == "ok\n"
    assert s["zero"] == "0000\n"
    assert s["full"] == "ok\n"  # now a null device: the write succeeds
    assert "Permission denied" in s["blk"]  # mode 0600 root-owned, we are 1000


def test_device_cgroup_denies_unlisted_nodes(runtime, bundle):
    """A node the spec does not list may be made (mknod is allowed for any node, as runc
    does) but not opened: the device cgroup denies it, while a listed one works."""
    bundle.config["root"]["readonly"] = False
    for k in ("bounding", "effective", "permitted"):
        bundle.config["process"]["capabilities"][k].append("CAP_MKNOD")
    out = run_sh(runtime, bundle, """
        echo @@mknod; mknod /dev/mem2 c 1 1 && mknod /dev/null2 c 1 3 && echo made
        echo @@open; head -c 1 /dev/mem2 2>&1 >/dev/null; echo "rc=$?"
        echo @@listed; echo x > /dev/null2 && echo ok
        """)
    s = sections(out)
    assert s["mknod"] == "made\n"
    assert "Operation not permitted" in s["open"] and "rc=1" in s["open"], s["open"]
    assert s["listed"] == "ok\n"


@pytest.mark.parametrize("rules,read,write", [
    ([], False, False),
    ([{"allow": True, "type": "c", "major": 10, "minor": 237, "access": "r"}], True, False),
    ([{"allow": True, "type": "c", "major": 10, "minor": 237, "access": "rw"}], True, True),
])
def test_linux_devices_entry_follows_the_device_rules(runtime, bundle, rules, read, write):
    """A linux.devices entry makes the node; what the container may do with it is what
    linux.resources.devices says, as with runc (a node given with a read-only rule, as docker's
    --device X:X:r writes it, must not be writable).  /dev/loop-control is not a default
    device; opening it for writing is enough (the write itself is refused by the driver)."""
    bundle.config["linux"]["devices"] = [
        {"path": "/dev/loop-control", "type": "c", "major": 10, "minor": 237, "fileMode": 0o666}]
    bundle.config["linux"]["resources"]["devices"] += rules
    out = run_sh(runtime, bundle, """
        echo @@read; head -c 0 /dev/loop-control 2>&1 && echo opened
        echo @@write; sh -c ': >/dev/loop-control' 2>&1 && echo opened; true
        """)
    s = sections(out)
    for what, allowed in (("read", read), ("write", write)):
        if allowed:
            assert s[what] == "opened\n", (what, s[what])
        else:
            assert "Operation not permitted" in s[what], (what, s[what])


def test_devices_in_user_namespace(runtime, open_dir):
    b = make_bundle_at(open_dir / "bundle")
    b.config["linux"]["namespaces"].append({"type": "user"})
    b.config["linux"]["uidMappings"] = [{"containerID": 0, "hostID": 100000, "size": 65536}]
    b.config["linux"]["gidMappings"] = [{"containerID": 0, "hostID": 100000, "size": 65536}]
    # in a user namespace a listed device is the host's node at the same path, bound
    b.config["linux"]["devices"] = [{"path": "/dev/kmsg", "type": "c", "major": 1,
                                     "minor": 11}]
    out = run_sh(runtime, b, "echo @@uidmap; cat /proc/self/uid_map; echo @@stat; " + STAT +
                 " " + " ".join(DEFAULTS) + "; " + WORKS +
                 "echo @@kmsg; " + STAT + " /dev/kmsg;"
                 + MOUNTINFO)
    s = sections(out)
    assert s["uidmap"].split() == ["0", "100000", "65536"]
    st = parse_stat(s["stat"])
    for path, mm in DEFAULTS.items():
        assert st[path][:2] == ("character special file", mm), path
    check_works(s)
    assert parse_stat(s["kmsg"])["/dev/kmsg"][:2] == ("character special file", (1, 11))
    infos = parse_mountinfo(s["mountinfo"])
    host_dev = mount_at(parse_mountinfo(Path("/proc/self/mountinfo").read_text()), "/dev")
    for path in list(DEFAULTS) + ["/dev/kmsg"]:
        m = mount_at(infos, path)
        # a bind of the host's node, not a node made inside
        assert m is not None and m["fstype"] == host_dev["fstype"], (path, m)
        assert m["root"] == host_dev["root"].rstrip("/") + path[len("/dev"):], (path, m)


@pytest.mark.parametrize("dev,needle", [
    ({"path": "/dev/bad", "type": "x", "major": 1, "minor": 3}, "linux.devices[0].type"),
    ({"path": "/dev/neg", "type": "c", "major": -1, "minor": 3}, "linux.devices[0].major"),
    ({"path": "/dev/", "type": "c", "major": 1, "minor": 3}, "/dev/"),
    ({"path": "/dev/..", "type": "c", "major": 1, "minor": 3}, "/dev/.."),
    ({"type": "c", "major": 1, "minor": 3}, "path"),
])
def test_bad_device(runtime, bundle, dev, needle):
    bundle.config["linux"]["devices"] = [dev]
    bundle.write()
    p = runtime.create(bundle, check=False)
    assert p.returncode == 1, (p.returncode, p.stderr)
    assert needle in p.stderr, p.stderr
    assert mounts_under(bundle.path) == []


def test_device_through_hostile_symlink(runtime, bundle, tmp_path):
    """A device whose parent directory in the image is a symlink to a host path is made inside
    the rootfs; nothing appears at the host path."""
    target = tmp_path / "host-target"
    target.mkdir()
    (bundle.rootfs / "devlink").symlink_to("/../../.." + str(target))
    bundle.config["linux"]["devices"] = [
        {"path": "/devlink/sub/hostile", "type": "c", "major": 1, "minor": 3, "fileMode": 0o666}]
    out = run_sh(runtime, bundle, STAT + " " + str(target) + "/sub/hostile")
    (typ, mm, mode, _), = parse_stat(out).values()
    assert (typ, mm, mode) == ("character special file", (1, 3), "666")
    assert list(target.iterdir()) == []
    inside = bundle.rootfs / str(target).lstrip("/") / "sub" / "hostile"
    assert inside.is_char_device()
