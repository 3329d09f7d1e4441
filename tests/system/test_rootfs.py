"""The root filesystem through berth-runtime on real bundles: hostile images (symlinks and '..'
that point out of the rootfs), root.readonly, maskedPaths, readonlyPaths, rootfsPropagation,
root.path, --no-pivot, and what the container does not see of the host.  Effects are checked
inside (/proc/self/mountinfo, EROFS, file contents) and on the host (files and mounts)."""

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from berth import mounts_under, new_id, wait_until
from test_mounts import MOUNTINFO, host_root, mount_at, parse_mountinfo, run_sh, sections


def host_mount_points():
    return {l.split()[4] for l in Path("/proc/self/mountinfo").read_text().splitlines()}


# Where other engines on this machine mount while a test runs (a berthd of another suite or
# worktree: its containers' roots and network namespaces, the guest's unit test): never where a
# container of this test could leak to.
OTHERS_MOUNTS = re.compile(r"^(/tmp/berthd-[^/]+/|/run/netns/|/tmp/berth-test-rootfs)")


def new_host_mounts(before):
    """Mount points the host has now and had not in `before`: what a container leaked.  (One
    that went away meanwhile is another test's business: a bind mount of a namespace file an
    earlier test made can vanish while this one runs.)"""
    return {m for m in host_mount_points() - before if not OTHERS_MOUNTS.match(m)}


@pytest.fixture
def host_mounts(tmp_path):
    made = []

    def mount(*args):
        subprocess.run(["mount", *map(str, args)], check=True, capture_output=True)
        made.append(str(args[-1]))

    yield mount
    for m in sorted(made, key=len, reverse=True):
        subprocess.run(["umount", "-R", "-l", m], capture_output=True)
    assert not mounts_under(tmp_path), "host mounts left"


# ---- hostile images ----------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["absolute", "dotdot-absolute", "relative"])
def test_symlinked_destination_stays_inside(runtime, bundle, tmp_path, kind):
    """/etc in the image is a symlink to a host path: the mounts through it land inside the
    rootfs, and the host path is untouched."""
    target = tmp_path / "host-target"
    target.mkdir()
    src = tmp_path / "src"
    src.mkdir()
    (src / "f").write_text("bound\n")
    etc = bundle.rootfs / "etc"
    shutil.rmtree(etc)
    link = {"absolute": str(target),
            "dotdot-absolute": "/../../../../.." + str(target),
            "relative": "../../../../../../../../.." + str(target)}[kind]
    etc.symlink_to(link)
    bundle.add_mount("/etc/sub", "tmpfs", "tmpfs", ["size=1m"])
    bundle.add_mount("/etc/bound", "bind", src, ["rbind"])
    bundle.add_mount("/etc/file", "bind", src / "f", ["bind"])
    before = host_mount_points()
    bundle.set_args("sh", "-c", "echo in > /etc/sub/x; cat /etc/bound/f /etc/file; "
                    + MOUNTINFO + "; echo @@end; exec sleep 100")
    bundle.write()
    cid = runtime.create(bundle)
    runtime.start(cid)
    assert wait_until(lambda: "@@end" in runtime.output(cid)[0], 5), runtime.output(cid)
    # the host, while the container runs: no new mount, nothing made at the target
    assert new_host_mounts(before) == set()
    assert list(target.iterdir()) == []
    assert mounts_under(target) == []
    runtime.delete(cid, force=True)
    out = runtime.output(cid)[0]
    s = sections("@@head\n" + out)
    assert s["head"] == "bound\nbound\n", out
    infos = parse_mountinfo(s["mountinfo"])
    # inside, the symlink resolved as if the rootfs were "/": the mounts sit at the target path
    inside = str(target)
    assert mount_at(infos, inside + "/sub")["fstype"] == "tmpfs"
    assert mount_at(infos, inside + "/bound")["root"] == host_root(src)
    assert mount_at(infos, inside + "/file")["root"] == host_root(src / "f")
    # the mount points were made inside the rootfs
    assert (bundle.rootfs / inside.lstrip("/") / "sub").is_dir()
    assert (bundle.rootfs / inside.lstrip("/") / "file").is_file()
    assert list(target.iterdir()) == []


def test_dotdot_in_destination(runtime, bundle, tmp_path):
    escape = tmp_path / "escape"
    dest = "/../../../../../.." + str(escape) + "/../escape/m"
    bundle.add_mount(dest, "tmpfs", "tmpfs", ["size=1m"])
    out = run_sh(runtime, bundle, "echo x > " + str(escape) + "/m/f; " + MOUNTINFO)
    infos = parse_mountinfo(sections(out)["mountinfo"])
    assert mount_at(infos, str(escape) + "/m")["fstype"] == "tmpfs"
    assert not escape.exists()
    assert (bundle.rootfs / str(escape).lstrip("/") / "m").is_dir()


def test_symlink_through_proc_magic_link_refused(runtime, bundle, tmp_path):
    """A destination through /proc/self/root (a magic link) must not reach the host's root."""
    (bundle.rootfs / "evil").symlink_to("/proc/self/root" + str(tmp_path))
    bundle.add_mount("/evil/magic", "tmpfs", "tmpfs", ["size=1m"])
    bundle.write()
    code, out, err = runtime.run_bundle(bundle.set_args("true").write())
    # refused (a magic link is never followed while resolving inside the root)
    assert code == 1 and "/evil/magic" in err, err
    assert "symbolic links" in err, err
    assert not (tmp_path / "magic").exists()
    assert mounts_under(tmp_path) == []


# ---- root.readonly, maskedPaths, readonlyPaths -------------------------------------------------


def test_root_readonly_with_tmpfs_tmp(runtime, bundle):
    assert bundle.config["root"]["readonly"] is True
    bundle.add_mount("/tmp", "tmpfs", "tmpfs", ["size=1m"])
    out = run_sh(runtime, bundle, """
        echo @@root; touch /x 2>&1; echo "rc=$?"
        echo @@tmp; touch /tmp/x && echo ok
        """ + MOUNTINFO)
    s = sections(out)
    assert "Read-only file system" in s["root"] and "rc=1" in s["root"]
    assert s["tmp"] == "ok\n"
    infos = parse_mountinfo(s["mountinfo"])
    assert "ro" in mount_at(infos, "/")["opts"]
    assert "rw" in mount_at(infos, "/tmp")["opts"]
    assert not (bundle.rootfs / "x").exists()


def test_root_writable(runtime, bundle):
    bundle.config["root"]["readonly"] = False
    out = run_sh(runtime, bundle, "echo hi > /written; " + MOUNTINFO)
    assert (bundle.rootfs / "written").read_text() == "hi\n"
    assert "rw" in mount_at(parse_mountinfo(sections(out)["mountinfo"]), "/")["opts"]


def test_masked_paths(runtime, bundle):
    d = bundle.rootfs / "secret"
    d.mkdir()
    (d / "key").write_text("hidden\n")
    (bundle.rootfs / "secret.txt").write_text("hidden\n")
    bundle.config["linux"]["maskedPaths"] = ["/secret", "/secret.txt", "/does/not/exist",
                                             "/proc/keys"]
    out = run_sh(runtime, bundle, """
        echo @@dir; ls -A /secret
        echo @@file; cat /secret.txt; wc -c < /proc/keys
        echo @@write; touch /secret/new 2>&1; echo "rc=$?"
        """ + MOUNTINFO)
    s = sections(out)
    assert s["dir"] == ""
    assert s["file"].split() == ["0"]  # nothing from the file, /proc/keys reads empty
    assert "Read-only file system" in s["write"]
    infos = parse_mountinfo(s["mountinfo"])
    m = mount_at(infos, "/secret")
    assert m["fstype"] == "tmpfs" and "ro" in m["opts"]
    f = mount_at(infos, "/secret.txt")
    assert f is not None and f["root"].endswith("/null"), f
    assert mount_at(infos, "/does/not/exist") is None
    assert (d / "key").read_text() == "hidden\n"


def test_readonly_paths(runtime, bundle):
    bundle.config["root"]["readonly"] = False
    for n in ("rodir", "rwdir"):
        (bundle.rootfs / n).mkdir()
    bundle.config["linux"]["readonlyPaths"] = ["/rodir", "/proc/sys", "/not/there"]
    out = run_sh(runtime, bundle, """
        echo @@ro; touch /rodir/f 2>&1; echo "rc=$?"
        echo @@rw; touch /rwdir/f && echo ok
        echo @@sys; sh -c 'echo 1 > /proc/sys/kernel/domainname' 2>&1; echo "rc=$?"
        """ + MOUNTINFO)
    s = sections(out)
    assert "Read-only file system" in s["ro"] and "rc=1" in s["ro"]
    assert s["rw"] == "ok\n"
    assert "Read-only file system" in s["sys"], s["sys"]
    infos = parse_mountinfo(s["mountinfo"])
    assert "ro" in mount_at(infos, "/rodir")["opts"]
    ps = mount_at(infos, "/proc/sys")
    assert "ro" in ps["opts"] and ps["fstype"] == "proc", ps
    assert not (bundle.rootfs / "rodir" / "f").exists()


# ---- rootfsPropagation -------------------------------------------------------------------------


@pytest.fixture
def shared_parent(tmp_path, host_mounts):
    """A shared host mount to put the bundle under, as on a systemd host."""
    d = tmp_path / "sharedparent"
    d.mkdir()
    host_mounts("--bind", d, d)
    subprocess.run(["mount", "--make-shared", str(d)], check=True)
    return d


@pytest.mark.parametrize("prop,field", [("rshared", "shared:"), ("shared", "shared:"),
                                        ("rprivate", None), ("private", None)])
def test_rootfs_propagation_field(runtime, make_bundle, shared_parent, prop, field):
    b = make_bundle(name=str(shared_parent / "b"))
    b.config["linux"]["rootfsPropagation"] = prop
    before = host_mount_points()
    out = run_sh(runtime, b, "mount -t tmpfs tmpfs /mnt 2>/dev/null; " + MOUNTINFO)
    opt = mount_at(parse_mountinfo(sections(out)["mountinfo"]), "/")["optional"]
    if field:
        assert any(o.startswith(field) for o in opt), opt
    else:
        assert opt == [], opt
    # whatever the container mounted, the host got none of it
    assert new_host_mounts(before) == set()
    assert mounts_under(b.path) == []


@pytest.mark.parametrize("prop,receives", [(None, True), ("rslave", True), ("rprivate", False)])
def test_rootfs_receives_host_mounts(runtime, make_bundle, shared_parent, host_mounts, prop,
                                     receives):
    """Default (rslave): a mount the host makes in the rootfs after start shows inside."""
    b = make_bundle(name=str(shared_parent / "b"), args=["sleep", "100"])
    if prop:
        b.config["linux"]["rootfsPropagation"] = prop
    b.write()
    cid = runtime.create(b)
    runtime.start(cid)
    pid = runtime.container_pid(cid)
    host_mounts("-t", "tmpfs", "-o", "size=1m", "tmpfs", b.rootfs / "mnt")
    seen = wait_until(lambda: mount_at(
        parse_mountinfo(Path(f"/proc/{pid}/mountinfo").read_text()), "/mnt"), 0.5)
    assert bool(seen) == receives
    runtime.delete(cid, force=True)


# ---- root.path, --no-pivot, isolation from the host's mounts ------------------------------------


def test_root_path_absolute(runtime, bundle, tmp_path):
    elsewhere = tmp_path / "elsewhere" / "root"
    elsewhere.parent.mkdir()
    shutil.move(str(bundle.rootfs), str(elsewhere))
    (elsewhere / "marker").write_text("abs\n")
    bundle.config["root"]["path"] = str(elsewhere)
    out = run_sh(runtime, bundle, "cat /marker; " + MOUNTINFO)
    assert out.startswith("abs\n")
    assert mount_at(parse_mountinfo(sections(out)["mountinfo"]), "/")["root"] == \
        host_root(elsewhere)


def test_root_path_relative_to_bundle_not_cwd(runtime, bundle, tmp_path):
    (bundle.rootfs / "marker").write_text("rel\n")
    bundle.set_args("cat", "/marker").write()
    cid = runtime.track(new_id())
    p = runtime.run("run", "--bundle", bundle.path, cid, cwd="/", check=False)
    assert (p.returncode, p.stdout) == (0, "rel\n"), p.stderr


def test_missing_rootfs(runtime, bundle):
    bundle.config["root"]["path"] = "nope"
    bundle.write()
    p = runtime.create(bundle, check=False)
    assert p.returncode == 1 and "nope" in p.stderr, p.stderr
    assert mounts_under(bundle.path) == []


def expected_mounts(config):
    exp = {"/"} | {m["destination"] for m in config["mounts"]}
    exp |= set(config["linux"].get("maskedPaths", []))
    exp |= set(config["linux"].get("readonlyPaths", []))
    return exp


@pytest.mark.parametrize("no_pivot", [False, True])
def test_host_mounts_not_visible(runtime, bundle, no_pivot):
    (bundle.rootfs / "marker").write_text("mine\n")
    bundle.set_args("sh", "-c", "cat /marker; " + MOUNTINFO).write()
    code, out, err = runtime.run_bundle(bundle, extra=["--no-pivot"] if no_pivot else [])
    assert code == 0, err
    s = sections("@@head\n" + out)
    assert s["head"] == "mine\n"
    infos = parse_mountinfo(s["mountinfo"])
    points = [m["mnt"] for m in infos]
    # exactly one root, the rootfs: the old root is gone after pivot_root
    roots = [m for m in infos if m["mnt"] == "/"]
    assert len(roots) == 1 and roots[0]["root"] == host_root(bundle.rootfs), roots
    assert set(points) <= expected_mounts(bundle.config), set(points) - expected_mounts(
        bundle.config)
    for host_only in ("/work", "/mnt/sandboxing", "/sys/fs/cgroup"):
        assert not any(p == host_only or p.startswith(host_only + "/") for p in points)
