"""Tests of the test harness itself: the rootfs and bundle scripts, the runtime fixture and its
leak check.  They pass against runc too (BERTH_RUNTIME=/usr/sbin/runc), which is how the
harness was proven before berth-runtime existed."""

import json
import os
import stat
import subprocess
import time
from pathlib import Path

import pytest

from berth import (CACHE, SCRIPTS, Runtime, cgroup2_root, cgroup_dir, cgroup_v1, make_bundle_at,
                   mounts_under, new_id, runtime_binary, wait_until)


def test_rootfs_has_busybox_and_applets(rootfs_cache):
    bb = rootfs_cache / "bin" / "busybox"
    assert bb.is_file() and os.access(bb, os.X_OK)
    for applet in ("sh", "echo", "sleep", "cat", "true", "mount", "hostname"):
        link = rootfs_cache / "bin" / applet
        assert link.is_symlink() and os.readlink(link) == "busybox", applet
    # PATH directories all lead to bin/
    for d in ("sbin", "usr/bin", "usr/sbin"):
        assert (rootfs_cache / d / "sh").exists(), d
    passwd = (rootfs_cache / "etc" / "passwd").read_text()
    assert passwd.startswith("root:x:0:0:") and "\nnobody:x:65534:65534:" in passwd
    assert "nogroup:x:65534:" in (rootfs_cache / "etc" / "group").read_text()
    for d in ("proc", "sys", "dev", "tmp", "etc", "root"):
        assert (rootfs_cache / d).is_dir(), d
    assert stat.S_IMODE((rootfs_cache / "tmp").stat().st_mode) == 0o1777


def test_rootfs_is_cached(rootfs_cache):
    before = (rootfs_cache / "bin" / "busybox").stat().st_ino
    t = time.monotonic()
    subprocess.run([SCRIPTS / "mkrootfs.sh", rootfs_cache], check=True)
    assert time.monotonic() - t < 2
    assert (rootfs_cache / "bin" / "busybox").stat().st_ino == before, "rootfs was rebuilt"


def test_rootfs_rebuilt_when_stamp_differs(tmp_path):
    d = tmp_path / "rootfs"
    subprocess.run([SCRIPTS / "mkrootfs.sh", d], check=True)
    (d / "etc" / "berth-rootfs").write_text("stale\n")
    (d / "junk").write_text("x")
    subprocess.run([SCRIPTS / "mkrootfs.sh", d], check=True)
    assert not (d / "junk").exists() and (d / "bin" / "busybox").is_file()
    assert not list(tmp_path.glob("rootfs.*")), "temporary trees left behind"


def test_mkrootfs_rejects_bad_usage(tmp_path):
    p = subprocess.run([SCRIPTS / "mkrootfs.sh"], capture_output=True, text=True)
    assert p.returncode == 2 and "usage" in p.stderr
    p = subprocess.run([SCRIPTS / "mkrootfs.sh", tmp_path / "r"], capture_output=True, text=True,
                       env={**os.environ, "BUSYBOX": str(tmp_path / "nope")})
    assert p.returncode != 0 and "not found" in p.stderr
    assert not (tmp_path / "r").exists()


def test_bundle_config_is_complete(make_bundle):
    b = make_bundle(args=["sh", "-c", "echo 'a b'\n", ""])
    cfg = json.loads(b.config_path.read_text())
    assert cfg == b.config
    p = cfg["process"]
    assert p["args"] == ["sh", "-c", "echo 'a b'\n", ""]
    assert p["terminal"] is False and p["cwd"] == "/" and p["user"] == {"uid": 0, "gid": 0}
    assert any(e.startswith("PATH=") for e in p["env"])
    caps = ["CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"]
    for s in ("bounding", "effective", "permitted"):
        assert p["capabilities"][s] == caps
    assert p["rlimits"] == [{"type": "RLIMIT_NOFILE", "hard": 1024, "soft": 1024}]
    assert cfg["root"] == {"path": "rootfs", "readonly": True}
    assert [n["type"] for n in cfg["linux"]["namespaces"]] == \
        ["pid", "network", "ipc", "uts", "mount"]
    dests = [m["destination"] for m in cfg["mounts"]]
    assert dests == ["/proc", "/dev", "/dev/pts", "/dev/shm", "/dev/mqueue", "/sys"]
    assert "/proc/kcore" in cfg["linux"]["maskedPaths"]
    assert "/proc/sys" in cfg["linux"]["readonlyPaths"]
    assert (b.rootfs / "bin" / "busybox").is_file()


def test_bundle_default_args_and_rewrite(tmp_path, rootfs_cache):
    b = make_bundle_at(tmp_path / "b")
    assert b.config["process"]["args"] == ["sh"]
    (b.rootfs / "marker").write_text("x")
    b2 = make_bundle_at(tmp_path / "b", args=["true"])   # rootfs replaced, config rewritten
    assert not (b2.rootfs / "marker").exists()
    assert json.loads(b2.config_path.read_text())["process"]["args"] == ["true"]
    # the bundle's rootfs is a copy: writing to it leaves the cache alone
    assert not (rootfs_cache / "marker").exists()


def test_run_bundle_captures_output_and_exit_code(runtime, make_bundle):
    b = make_bundle(args=["sh", "-c", "echo out; echo err >&2; exit 3"])
    code, out, err = runtime.run_bundle(b)
    assert (code, out) == (3, "out\n")
    assert "err\n" in err


def test_edited_config_takes_effect(runtime, make_bundle):
    b = make_bundle(args=["sh", "-c", 'echo "$GREETING"; hostname; cat /etc/x'])
    b.config["process"]["env"].append("GREETING=hello from berth")
    b.config["hostname"] = "harness"
    (b.rootfs / "etc" / "x").write_text("from the host\n")
    b.write()
    code, out, err = runtime.run_bundle(b)
    assert code == 0, err
    assert out == "hello from berth\nharness\nfrom the host\n"


def test_lifecycle_helpers(runtime, make_bundle):
    b = make_bundle(args=["sleep", "60"])
    cid = runtime.create(b)
    st = runtime.state(cid)
    assert st["id"] == cid and st["status"] == "created" and st["pid"] > 0
    assert os.path.realpath(st["bundle"]) == os.path.realpath(b.path)
    runtime.start(cid)
    runtime.wait_status(cid, "running")
    p = runtime.exec(cid, "sh", "-c", "echo $$; cat /proc/1/cmdline | tr '\\0' ' '")
    assert p.stdout.splitlines()[1] == "sleep 60 "
    # the container's pid is in its own cgroup, named after its id on the host (its memory
    # hierarchy on a v1 host, the cgroup2 one on a pure v2 host)
    assert cid in str(cgroup_dir(st["pid"], "memory" if cgroup_v1() else ""))
    runtime.kill(cid, "KILL")
    runtime.wait_status(cid, "stopped")
    runtime.delete(cid)
    assert runtime.leftovers() == []


def test_bad_config_fails_cleanly(runtime, make_bundle):
    """The model for bad-input tests: non-zero exit, a message, nothing left behind."""
    b = make_bundle().write_raw('{"ociVersion": "1.0.2", "process": ')
    p = runtime.create(b, check=False)
    assert p.returncode != 0 and p.stderr.strip()
    # berth names the file and where it broke (runc, which this file also runs against, says
    # only "unexpected EOF")
    if "berth" in runtime_binary().name:
        assert "config.json" in p.stderr and "invalid JSON at line 1" in p.stderr, p.stderr
    assert runtime.leftovers() == []


def test_leak_check_finds_a_live_container(tmp_path, make_bundle):
    """The teardown check must be able to fail: a container left running is reported (its
    state entry, cgroups and process), then force_cleanup removes it."""
    binary = runtime_binary()
    if not os.access(binary, os.X_OK):
        pytest.skip(f"runtime under test '{binary}' not built")
    rt = Runtime(binary, tmp_path / "leaky")
    try:
        cid = rt.create(make_bundle(args=["sh", "-c", "echo up; exec sleep 60"]))
        rt.start(cid)
        pid = rt.state(cid)["pid"]
        assert wait_until(lambda: rt.output(cid)[0] == "up\n"), rt.output(cid)
        left = rt.leftovers()
        assert f"state entry {rt.root / cid}" in left
        assert any(x.startswith("cgroup ") and cid in x for x in left)
        assert any(x.startswith(f"process {pid} ") for x in left)
    finally:
        # and teardown (delete --force) leaves nothing
        assert rt.teardown() == []
    assert rt.leftovers() == []


def test_leak_check_finds_a_mount(tmp_path):
    rt = Runtime("/bin/true", tmp_path / "rt")
    m = rt.workdir / "m"
    m.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "leaktest", m], check=True)
    try:
        assert rt.leftovers() == [f"mount {m}"]
        rt.force_cleanup()
        assert mounts_under(rt.workdir) == []
    finally:
        subprocess.run(["umount", "-l", m], capture_output=True)


def test_leak_check_finds_a_cgroup(tmp_path):
    """A cgroup named after an id is reported; force_cleanup kills what it holds (even frozen)
    and removes it.  v1 (or hybrid) host: one in the pids and one in the freezer hierarchy, the
    latter frozen; pure v2 host: one cgroup2 cgroup, frozen through cgroup.freeze."""
    rt = Runtime("/bin/true", tmp_path / "rt")
    cid = rt.track(new_id("leak"))
    if cgroup_v1():
        dirs = [Path("/sys/fs/cgroup/pids") / cid, Path("/sys/fs/cgroup/freezer") / cid]
        freeze, frozen, thawed = dirs[1] / "freezer.state", "FROZEN", "THAWED"
    else:
        dirs = [cgroup2_root() / cid]
        freeze, frozen, thawed = dirs[0] / "cgroup.freeze", "1", "0"
    sleeper = None
    try:
        for d in dirs:
            d.mkdir()
        sleeper = subprocess.Popen(["sleep", "60"])
        for d in dirs:
            (d / "cgroup.procs").write_text(str(sleeper.pid))
        freeze.write_text(frozen)
        assert sorted(rt.leftovers()) == sorted(f"cgroup {d}" for d in dirs)
        rt.force_cleanup()
        assert sleeper.wait(5) == -9
        assert not any(d.exists() for d in dirs)
    finally:
        if sleeper and sleeper.poll() is None:
            sleeper.kill()
            sleeper.wait()
        for d in dirs:
            if d.exists():
                if freeze.parent == d:
                    freeze.write_text(thawed)
                d.rmdir()


@pytest.mark.cgroup2
@pytest.mark.allowed_skip(reason="needs a cgroup2 mount (a v1-only host has none)")
def test_runtime_v2_uses_the_cgroup2_mount(runtime_v2, make_bundle):
    b = make_bundle(args=["sleep", "60"])
    cid = runtime_v2.create(b)
    pid = runtime_v2.state(cid)["pid"]
    d = cgroup_dir(pid, "")
    assert cid in str(d) and (d / "cgroup.procs").exists()
    assert str(pid) in (d / "cgroup.procs").read_text().split()
    runtime_v2.delete(cid, force=True)
