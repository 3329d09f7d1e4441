"""The local driver's options (-o type=... -o device=... -o o=...) through berth and the docker
CLI 28 against berthd with real containers: a tmpfs volume mounted on the volume's _data while a
container uses it (shared by two, its size enforced, gone when the last one stops), a bind of a
host directory (read-write and read-only), an ext4 filesystem on a loop device the test makes,
and the refusals: options docker's local driver refuses at create, and mounts the kernel refuses
at start with docker's words, nothing left mounted and the container not running.
"""

import json
import os
import shutil
import signal
import subprocess
import tempfile
from pathlib import Path

import pytest

from cli import DOCKER28, need_docker28


def data(bd, name):
    return bd.data_root / "volumes" / name / "_data"


def mount_of(path):
    """(fstype, source, options) of the mount whose root is path, or None."""
    for line in Path("/proc/self/mountinfo").read_text().splitlines():
        f = line.split()
        if f[4] == str(path):
            rest = f[f.index("-") + 1:]
            return rest[0], rest[1], f[5] + "," + rest[2]
    return None


def ok(p):
    assert p.returncode == 0, (p.args, p.stdout, p.stderr)
    return p


def rm(cli, *names):
    for n in names:
        cli.run("rm", "-f", n)


def test_tmpfs_volume(bd, cli):
    ok(cli.run("volume", "create", "-o", "type=tmpfs", "-o", "device=tmpfs", "-o",
               "o=size=2m,mode=0750,noexec", "tv"))
    try:
        v = json.loads(ok(cli.run("volume", "inspect", "tv")).stdout)[0]
        assert v["Options"] == {"type": "tmpfs", "device": "tmpfs", "o": "size=2m,mode=0750,noexec"}
        assert mount_of(data(bd, "tv")) is None  # nothing mounted until a container uses it
        ok(cli.run("run", "-d", "--name", "tv1", "-v", "tv:/t", "busybox", "sleep", "300"))
        m = mount_of(data(bd, "tv"))
        assert m and m[0] == "tmpfs" and "size=2048k" in m[2] and "mode=750" in m[2] and \
            "noexec" in m[2], m
        ok(cli.run("run", "-d", "--name", "tv2", "-v", "tv:/t", "busybox", "sleep", "300"))
        # one tmpfs, shared: what the host writes into _data both containers read
        (data(bd, "tv") / "f").write_text("shared\n")
        for c in ("tv1", "tv2"):
            pid = json.loads(cli.run("inspect", c).stdout)[0]["State"]["Pid"]
            assert Path(f"/proc/{pid}/root/t/f").read_text() == "shared\n"
        # its size holds
        p = cli.run("run", "--rm", "-v", "tv:/t", "busybox", "dd", "if=/dev/zero",
                    "of=/t/big", "bs=1024", "count=3000")
        assert p.returncode != 0 and "No space left on device" in p.stderr, p
        # the last user's stop unmounts it, not the first's
        ok(cli.run("stop", "-t", "0", "tv1"))
        assert mount_of(data(bd, "tv"))
        ok(cli.run("stop", "-t", "0", "tv2"))
        assert mount_of(data(bd, "tv")) is None
        assert list(data(bd, "tv").iterdir()) == []
        # a new start: a new, empty tmpfs
        p = ok(cli.run("run", "--rm", "-v", "tv:/t", "busybox", "ls", "-A", "/t"))
        assert p.stdout == ""
        assert mount_of(data(bd, "tv")) is None
        p = cli.run("volume", "rm", "tv")
        assert p.returncode == 1 and "volume is in use" in p.stderr
    finally:
        rm(cli, "tv1", "tv2")
        cli.run("volume", "rm", "tv")
    assert not (bd.data_root / "volumes" / "tv").exists()


def test_bind_volume(bd, cli):
    host = Path(tempfile.mkdtemp(dir="/tmp", prefix="berth-bindvol-"))
    try:
        (host / "in").write_text("from host\n")
        ok(cli.run("volume", "create", "-o", "type=none", "-o", "o=bind", "-o",
                   f"device={host}", "bv"))
        ok(cli.run("volume", "create", "-o", "type=none", "-o", "o=bind,ro", "-o",
                   f"device={host}", "bvro"))
        p = ok(cli.run("run", "--rm", "-v", "bv:/b", "busybox", "sh", "-c",
                       "cat /b/in; echo out > /b/out"))
        assert p.stdout == "from host\n"
        assert (host / "out").read_text() == "out\n"
        assert mount_of(data(bd, "bv")) is None
        p = cli.run("run", "--rm", "-v", "bvro:/b", "busybox", "sh", "-c", "echo x > /b/x")
        assert p.returncode != 0 and "Read-only file system" in p.stderr, p
        assert not (host / "x").exists()
        # --mount with volume-opt makes such a volume too
        ok(cli.run("run", "--rm", "--mount",
                   f"type=volume,src=bvm,dst=/m,volume-opt=type=none,volume-opt=o=bind,"
                   f"volume-opt=device={host}", "busybox", "sh", "-c", "echo m > /m/m"))
        assert (host / "m").read_text() == "m\n"
        assert json.loads(cli.run("volume", "inspect", "bvm").stdout)[0]["Options"] == \
            {"type": "none", "o": "bind", "device": str(host)}
        # the volume's removal leaves the host directory alone
        ok(cli.run("volume", "rm", "bv", "bvro", "bvm"))
        assert (host / "in").read_text() == "from host\n"
    finally:
        cli.run("volume", "rm", "-f", "bv", "bvro", "bvm")
        shutil.rmtree(host)


@pytest.fixture
def loopdev(tmp_path):
    img = tmp_path / "fs.img"
    with open(img, "wb") as f:
        f.truncate(8 << 20)
    subprocess.run(["mkfs.ext4", "-q", "-F", str(img)], check=True, capture_output=True)
    dev = subprocess.run(["losetup", "-f", "--show", str(img)], check=True, capture_output=True,
                         text=True).stdout.strip()
    yield dev, img
    subprocess.run(["losetup", "-d", dev], check=False)


def test_ext4_on_a_loop_device(bd, cli, loopdev, tmp_path):
    dev, img = loopdev
    ok(cli.run("volume", "create", "-o", "type=ext4", "-o", f"device={dev}", "ev"))
    try:
        ok(cli.run("run", "--rm", "-v", "ev:/e", "busybox", "sh", "-c",
                   "echo on-ext4 > /e/f; grep ' /e ' /proc/mounts"))
        assert mount_of(data(bd, "ev")) is None
        # the file is on the device, not in the directory under it
        assert not (data(bd, "ev") / "f").exists()
        p = ok(cli.run("run", "--rm", "-v", "ev:/e:ro", "busybox", "cat", "/e/f"))
        assert p.stdout == "on-ext4\n"
        # a regular file is no block device: the kernel's refusal, in docker's words
        ok(cli.run("volume", "create", "-o", "type=ext4", "-o", f"device={img}", "evf"))
        p = cli.run("run", "--rm", "--name", "evf1", "-v", "evf:/e", "busybox", "true")
        path = data(bd, "evf")
        assert p.returncode == 125, p
        assert f"error while mounting volume '{path}': failed to mount local volume: mount " \
            f"{img}:{path}: block device required" in p.stderr, p.stderr
        assert mount_of(path) is None
    finally:
        rm(cli, "evf1")
        cli.run("volume", "rm", "-f", "ev", "evf")


def test_refusals(bd, cli):
    before = sorted(os.listdir(bd.data_root / "volumes"))
    for opts, msg in (
            (["-o", "type=tmpfs"], 'missing required option: "device"'),
            (["-o", "device=/x"], 'missing required option: "type"'),
            (["-o", "o=bind", "-o", "type=none"], 'missing required option: "device"'),
            (["-o", "size=10m"], "quota size requested but no quota support"),
            (["-o", "colour=blue"], 'invalid option key: "colour"')):
        p = cli.run("volume", "create", *opts, "badv")
        assert p.returncode == 1 and msg in p.stderr, (opts, p.stderr)
    assert sorted(os.listdir(bd.data_root / "volumes")) == before
    # a missing bind source: refused at start, nothing mounted, the container not running
    ok(cli.run("volume", "create", "-o", "type=none", "-o", "o=bind", "-o",
               "device=/nonexistent-berth", "missing"))
    try:
        p = cli.run("run", "-d", "--name", "miss1", "-v", "missing:/m", "busybox", "sleep", "60")
        path = data(bd, "missing")
        # 127: docker's CLI gives it to any start error that says "no such file or directory"
        assert p.returncode == 127
        assert p.stderr.startswith("berth: Error response from daemon: error while mounting "
                                   f"volume '{path}': failed to mount local volume: mount "
                                   f"/nonexistent-berth:{path}, flags: 0x1000: no such file or directory\n"), p.stderr
        assert mount_of(path) is None
        st = json.loads(cli.run("inspect", "miss1").stdout)[0]["State"]
        assert not st["Running"] and "error while mounting volume" in st["Error"]
        assert st["ExitCode"] == 255
        # a bad tmpfs option: the kernel's EINVAL
        ok(cli.run("volume", "create", "-o", "type=tmpfs", "-o", "device=tmpfs", "-o",
                   "o=size=lots", "badtmp"))
        p = cli.run("run", "--rm", "-v", "badtmp:/m", "busybox", "true")
        assert p.returncode == 125 and "data: size=lots: invalid argument" in p.stderr, p.stderr
        assert mount_of(data(bd, "badtmp")) is None
    finally:
        rm(cli, "miss1")
        cli.run("volume", "rm", "-f", "missing", "badtmp")


@DOCKER28
def test_as_docker(bd, cli):
    need_docker28()
    p = cli.docker("volume", "create", "-o", "type=tmpfs", "-o", "device=tmpfs", "-o",
                   "o=size=1m", "dv")
    assert (p.returncode, p.stdout) == (0, "dv\n"), p
    try:
        p = cli.docker("run", "--rm", "-v", "dv:/t", "busybox", "sh", "-c",
                       "grep ' /t ' /proc/mounts")
        assert p.returncode == 0 and p.stdout.startswith("tmpfs /t tmpfs ") and \
            "size=1024k" in p.stdout, p
        assert mount_of(data(bd, "dv")) is None
        p = cli.docker("run", "--rm", "--mount",
                       "type=volume,dst=/a,volume-opt=type=tmpfs,volume-opt=device=tmpfs",
                       "busybox", "sh", "-c", "grep ' /a ' /proc/mounts")
        assert p.returncode == 0 and p.stdout.startswith("tmpfs /a tmpfs "), p
        for args in (["volume", "create", "-o", "type=tmpfs", "x1"],
                     ["volume", "create", "-o", "size=1g", "x2"]):
            b, d = cli.run(*args), cli.docker(*args)
            assert (b.returncode, b.stdout, b.stderr) == (d.returncode, d.stdout, d.stderr)
    finally:
        cli.docker("volume", "rm", "-f", "dv")


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGKILL])
def test_mounts_outlive_a_restart_of_berthd(bd, cli, sig):
    """A running container's tmpfs volume stays mounted while berthd restarts (live restore): the
    next user shares it, not a new tmpfs; the last stop after the restart unmounts it."""
    ok(cli.run("volume", "create", "-o", "type=tmpfs", "-o", "device=tmpfs", "rv"))
    try:
        ok(cli.run("run", "-d", "--name", "rv1", "-v", "rv:/t", "busybox", "sleep", "300"))
        (data(bd, "rv") / "kept").write_text("across\n")
        bd.signal(sig)
        bd.proc.wait(timeout=20)
        bd.logf.close()
        bd.start()
        assert mount_of(data(bd, "rv"))
        p = ok(cli.run("run", "--rm", "-v", "rv:/t", "busybox", "cat", "/t/kept"))
        assert p.stdout == "across\n"
        assert mount_of(data(bd, "rv"))  # rv1 still uses it
        ok(cli.run("stop", "-t", "0", "rv1"))
        assert mount_of(data(bd, "rv")) is None
    finally:
        rm(cli, "rv1")
        cli.run("volume", "rm", "-f", "rv")
