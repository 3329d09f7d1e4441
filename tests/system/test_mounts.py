"""mounts[] through berth-runtime on real bundles: bind/rbind and their flags, recursive
attributes, propagation, file binds, tmpfs, proc, sysfs, devpts, mqueue, cgroup, idmapped binds,
and bad entries.  Each test checks the effect from inside the container (/proc/self/mountinfo
parsed here, stat, df, what a write or an exec returned) and, where it matters, from the host."""

import os
import shutil
import stat
import tempfile
import subprocess
import uuid
from pathlib import Path

import pytest

from berth import cgroup_v1, make_bundle_at, mounts_under, proc_cgroups, wait_until

# ---- helpers -----------------------------------------------------------------------------------


def unescape(s):
    import re
    return re.sub(r"\\([0-7]{3})", lambda m: chr(int(m.group(1), 8)), s)


def parse_mountinfo(text):
    """Lines of /proc/PID/mountinfo as dicts: mnt, root, opts (per-mount, a set), optional
    (list of shared:N / master:N ...), fstype, source, super (a set)."""
    out = []
    for line in text.splitlines():
        if not line.strip():
            continue
        f = line.split()
        i = f.index("-")
        out.append({
            "id": int(f[0]), "parent": int(f[1]), "dev": f[2], "root": unescape(f[3]),
            "mnt": unescape(f[4]), "opts": set(f[5].split(",")), "optional": f[6:i],
            "fstype": f[i + 1], "source": unescape(f[i + 2]), "super": set(f[i + 3].split(",")),
        })
    return out


def mount_of(path):
    """The host's mount (a parse_mountinfo dict) that holds `path`."""
    path = os.path.realpath(path)
    best = None
    for m in parse_mountinfo(Path("/proc/self/mountinfo").read_text()):
        mnt = m["mnt"]
        if path == mnt or path.startswith(mnt.rstrip("/") + "/"):
            if best is None or len(mnt) >= len(best["mnt"]):
                best = m
    return best


def host_root(path):
    """The root field a bind mount of host `path` shows in mountinfo: its path inside the
    filesystem it lives on, which is `path` only when that filesystem is mounted at / (on a
    host whose /tmp is a tmpfs of its own, tmp_path/x shows as /pytest-of-root/.../x)."""
    path = os.path.realpath(path)
    m = mount_of(path)
    rest = path[len(m["mnt"].rstrip("/")):]
    return m["root"].rstrip("/") + rest if rest else m["root"]


def mount_at(infos, path):
    """The topmost mount at `path` (the last one listed), or None."""
    found = [m for m in infos if m["mnt"] == path]
    return found[-1] if found else None


def sections(out):
    """Splits output made of '@@name' header lines into {name: text}."""
    res, cur = {}, None
    for line in out.splitlines(keepends=True):
        if line.startswith("@@"):
            cur = line[2:].strip()
            res[cur] = ""
        elif cur is not None:
            res[cur] += line
    return res


def run_sh(runtime, b, script, **kw):
    b.set_args("sh", "-c", script)
    b.write()
    code, out, err = runtime.run_bundle(b, **kw)
    assert code == 0, f"exit {code}\nstdout: {out}\nstderr: {err}\nlog:\n{runtime.log_tail()}"
    return out


MOUNTINFO = "echo @@mountinfo; cat /proc/self/mountinfo"


@pytest.fixture
def host_mounts(tmp_path):
    """Mounts this test makes on the host: mount(args..., target) records the target; all are
    unmounted (deepest first) at teardown."""
    made = []

    def mount(*args):
        subprocess.run(["mount", *map(str, args)], check=True, capture_output=True)
        made.append(str(args[-1]))

    yield mount
    for m in sorted(made, key=len, reverse=True):
        subprocess.run(["umount", "-R", "-l", m], capture_output=True)
    assert not mounts_under(tmp_path), "host mounts left"


def host_dir(tmp_path, name="src"):
    d = tmp_path / name
    d.mkdir()
    (d / "hello").write_text("from the host\n")
    return d


# ---- bind, rbind and their flags ---------------------------------------------------------------


def test_bind_rw_content_visible_writes_land_on_host(runtime, bundle, tmp_path):
    src = host_dir(tmp_path)
    bundle.add_mount("/data", "bind", src, ["bind", "rw"])
    out = run_sh(runtime, bundle, "cat /data/hello; echo written > /data/new; " + MOUNTINFO)
    s = sections("@@cat\n" + out)
    assert s["cat"] == "from the host\n"
    assert (src / "new").read_text() == "written\n"
    m = mount_at(parse_mountinfo(s["mountinfo"]), "/data")
    assert m is not None and "rw" in m["opts"]
    assert m["root"] == host_root(src)  # the host directory is the mount's root


def test_bind_vs_rbind_submounts(runtime, bundle, tmp_path, host_mounts):
    src = host_dir(tmp_path)
    (src / "sub").mkdir()
    host_mounts("-t", "tmpfs", "-o", "size=1m", "tmpfs", src / "sub")
    (src / "sub" / "inner").write_text("submount\n")
    bundle.add_mount("/one", "bind", src, ["bind"])
    bundle.add_mount("/rec", "bind", src, ["rbind"])
    out = run_sh(runtime, bundle,
                 "echo @@one; ls /one/sub; echo @@rec; cat /rec/sub/inner; " + MOUNTINFO)
    s = sections(out)
    assert s["one"] == ""                 # a plain bind leaves the submount out
    assert s["rec"] == "submount\n"       # rbind brings it
    infos = parse_mountinfo(s["mountinfo"])
    assert mount_at(infos, "/one/sub") is None
    sub = mount_at(infos, "/rec/sub")
    assert sub is not None and sub["fstype"] == "tmpfs"


def test_bind_ro_nosuid_nodev_noexec(runtime, bundle, tmp_path):
    src = host_dir(tmp_path)
    script = src / "script.sh"
    script.write_text("#!/bin/sh\necho ran\n")
    script.chmod(0o755)
    os.mknod(src / "null", 0o666 | stat.S_IFCHR, os.makedev(1, 3))
    bundle.add_mount("/data", "bind", src, ["rbind", "ro", "nosuid", "nodev", "noexec"])
    # the same directory without the flags: the script runs and the node works there
    bundle.add_mount("/plain", "bind", src, ["rbind"])
    out = run_sh(runtime, bundle, """
        echo @@touch; touch /data/x 2>&1; echo "rc=$?"
        echo @@exec; /data/script.sh 2>&1; echo "rc=$?"
        echo @@dev; sh -c 'echo hi > /data/null' 2>&1; echo "rc=$?"
        echo @@plain; /plain/script.sh; echo hi > /plain/null; echo "rc=$?"
        """ + MOUNTINFO)
    s = sections(out)
    assert "Read-only file system" in s["touch"] and "rc=1" in s["touch"]
    assert "Permission denied" in s["exec"] and "rc=0" not in s["exec"]
    assert "Permission denied" in s["dev"] and "rc=0" not in s["dev"]
    assert s["plain"] == "ran\nrc=0\n"
    assert not (src / "x").exists()
    infos = parse_mountinfo(s["mountinfo"])
    m = mount_at(infos, "/data")
    assert {"ro", "nosuid", "nodev", "noexec"} <= m["opts"], m
    p = mount_at(infos, "/plain")
    assert not {"ro", "nosuid", "nodev", "noexec"} & p["opts"], p


def test_bind_atime_flags(runtime, bundle, tmp_path):
    src = host_dir(tmp_path)
    bundle.add_mount("/na", "bind", src, ["rbind", "noatime"])
    bundle.add_mount("/sa", "bind", src, ["rbind", "strictatime"])
    infos = parse_mountinfo(run_sh(runtime, bundle, "cat /proc/self/mountinfo"))
    assert "noatime" in mount_at(infos, "/na")["opts"]
    sa = mount_at(infos, "/sa")["opts"]
    assert not {"noatime", "relatime"} & sa, sa


def test_ro_is_not_recursive_rro_is(runtime, bundle, tmp_path, host_mounts):
    src = host_dir(tmp_path)
    (src / "sub").mkdir()
    host_mounts("-t", "tmpfs", "-o", "size=1m", "tmpfs", src / "sub")
    bundle.add_mount("/ro", "bind", src, ["rbind", "ro"])
    bundle.add_mount("/rro", "bind", src, ["rbind", "rro"])
    out = run_sh(runtime, bundle, """
        echo @@ro; touch /ro/sub/a 2>&1; echo "rc=$?"
        echo @@rro; touch /rro/sub/b 2>&1; echo "rc=$?"; touch /rro/c 2>&1; echo "rc=$?"
        """ + MOUNTINFO)
    s = sections(out)
    assert s["ro"] == "rc=0\n"  # ro only covers the top of an rbind
    assert (src / "sub" / "a").exists()
    assert s["rro"].count("Read-only file system") == 2, s["rro"]
    assert not (src / "sub" / "b").exists() and not (src / "c").exists()
    infos = parse_mountinfo(s["mountinfo"])
    assert "ro" in mount_at(infos, "/rro")["opts"]
    assert "ro" in mount_at(infos, "/rro/sub")["opts"]
    assert "rw" in mount_at(infos, "/ro/sub")["opts"]


def test_bind_single_file(runtime, bundle, tmp_path):
    f = tmp_path / "file.txt"
    f.write_text("one\n")
    # the destination does not exist in the image: an empty file is made for it
    bundle.add_mount("/etc/berth/file.txt", "bind", f, ["bind"])
    out = run_sh(runtime, bundle, "cat /etc/berth/file.txt; echo two >> /etc/berth/file.txt; "
                 "[ -f /etc/berth/file.txt ] && echo isfile; " + MOUNTINFO)
    s = sections("@@head\n" + out)
    assert s["head"] == "one\nisfile\n"
    assert f.read_text() == "one\ntwo\n"
    m = mount_at(parse_mountinfo(s["mountinfo"]), "/etc/berth/file.txt")
    assert m is not None and m["root"] == host_root(f)
    assert (bundle.rootfs / "etc/berth/file.txt").is_file()


# ---- propagation -------------------------------------------------------------------------------


@pytest.fixture
def shared_src(tmp_path, host_mounts):
    """A host directory that is a shared mount (a bind onto itself, made shared)."""
    src = host_dir(tmp_path, "shared-src")
    host_mounts("--bind", src, src)
    subprocess.run(["mount", "--make-shared", str(src)], check=True)
    return src


@pytest.mark.parametrize("prop,receives,field", [
    ("rslave", True, "master:"),
    ("rshared", True, "shared:"),
    ("rprivate", False, None),
])
def test_bind_propagation(runtime, bundle, tmp_path, shared_src, host_mounts, prop, receives,
                          field):
    (shared_src / "later").mkdir()
    bundle.add_mount("/data", "bind", shared_src, ["rbind", prop])
    bundle.set_args("sleep", "100")
    bundle.write()
    cid = runtime.create(bundle)
    runtime.start(cid)
    pid = runtime.container_pid(cid)
    infos = parse_mountinfo(runtime.exec(cid, "cat", "/proc/self/mountinfo").stdout)
    opt = mount_at(infos, "/data")["optional"]
    if field:
        assert any(o.startswith(field) for o in opt), opt
    else:
        assert opt == [], opt
    if prop == "rslave":
        assert not any(o.startswith("shared:") for o in opt), opt

    # a mount made on the host after start
    host_mounts("-t", "tmpfs", "-o", "size=1m", "tmpfs", shared_src / "later")
    (shared_src / "later" / "f").write_text("late\n")
    # seen from the host, in the container's mount namespace
    seen = wait_until(lambda: mount_at(
        parse_mountinfo(Path(f"/proc/{pid}/mountinfo").read_text()), "/data/later"), 0.5)
    assert bool(seen) == receives
    r = runtime.exec(cid, "cat", "/data/later/f", check=False)
    assert (r.stdout == "late\n") == receives
    runtime.delete(cid, force=True)


def test_container_mounts_do_not_reach_host(runtime, bundle, tmp_path, shared_src):
    """rslave: the container's mounts under a bind of a shared host mount stay inside."""
    (shared_src / "in").mkdir()
    bundle.add_mount("/data", "bind", shared_src, ["rbind", "rslave"])
    bundle.add_mount("/data/in", "tmpfs", "tmpfs", ["size=1m"])
    out = run_sh(runtime, bundle, "echo x > /data/in/f; " + MOUNTINFO)
    assert mount_at(parse_mountinfo(sections(out)["mountinfo"]), "/data/in")["fstype"] == "tmpfs"
    assert mounts_under(shared_src / "in") == []
    assert not (shared_src / "in" / "f").exists()


# ---- filesystems -------------------------------------------------------------------------------


def test_tmpfs_size_and_mode(runtime, bundle):
    bundle.add_mount("/scratch", "tmpfs", "tmpfs", ["size=2m", "mode=1770", "nodev", "nosuid"])
    out = run_sh(runtime, bundle, "echo @@stat; stat -c '%a %U' /scratch; echo @@df; "
                 "df -k /scratch | tail -1; " + MOUNTINFO)
    s = sections(out)
    assert s["stat"] == "1770 root\n"
    assert s["df"].split()[1] == "2048"  # 1K blocks
    m = mount_at(parse_mountinfo(s["mountinfo"]), "/scratch")
    assert m["fstype"] == "tmpfs"
    assert {"size=2048k", "mode=1770"} <= m["super"], m
    assert {"nodev", "nosuid"} <= m["opts"]


def test_default_filesystems(runtime, bundle):
    """proc, sysfs (ro), devpts (newinstance, ptmxmode), mqueue, shm as the default config has
    them."""
    out = run_sh(runtime, bundle, """
        echo @@sys; touch /sys/kernel/x 2>&1; echo "rc=$?"
        echo @@ptmx; readlink /dev/ptmx; stat -c '%a' /dev/pts/ptmx; stat -c '%d' /dev/pts
        echo @@mq; ls -d /dev/mqueue
        echo @@proc; cat /proc/self/stat | cut -d' ' -f1
        """ + MOUNTINFO)
    s = sections(out)
    infos = parse_mountinfo(s["mountinfo"])
    assert mount_at(infos, "/proc")["fstype"] == "proc"
    assert s["proc"] == "1\n" or s["proc"].strip().isdigit()
    sysm = mount_at(infos, "/sys")
    assert sysm["fstype"] == "sysfs" and {"ro", "nosuid", "nodev", "noexec"} <= sysm["opts"]
    assert "Read-only file system" in s["sys"]
    pts = mount_at(infos, "/dev/pts")
    assert pts["fstype"] == "devpts"
    assert {"ptmxmode=666", "mode=620", "gid=5"} <= pts["super"], pts
    ptmx_link, ptmx_mode, pts_dev = s["ptmx"].split()
    assert (ptmx_link, ptmx_mode) == ("pts/ptmx", "666")
    # newinstance: not the host's devpts
    assert int(pts_dev) != os.stat("/dev/pts").st_dev
    assert mount_at(infos, "/dev/mqueue")["fstype"] == "mqueue"
    shm = mount_at(infos, "/dev/shm")
    assert shm["fstype"] == "tmpfs" and {"nosuid", "nodev", "noexec"} <= shm["opts"]


V1_ONLY = "the runtime's own driver is v1 only on a host with cgroup v1 hierarchies"


@pytest.mark.skipif(not cgroup_v1(), reason=V1_ONLY)
@pytest.mark.allowed_skip(reason=V1_ONLY)
def test_cgroup_mount_v1(runtime, bundle):
    bundle.add_mount("/sys/fs/cgroup", "cgroup", "cgroup", ["ro", "nosuid", "nodev", "noexec"])
    bundle.set_args("sleep", "100")
    bundle.write()
    cid = runtime.create(bundle)
    runtime.start(cid)
    pid = runtime.container_pid(cid)
    cgs = proc_cgroups(pid)
    r = runtime.exec(cid, "sh", "-c", """
        echo @@ls; ls /sys/fs/cgroup
        echo @@procs; cat /sys/fs/cgroup/pids/cgroup.procs
        echo @@touch; touch /sys/fs/cgroup/x /sys/fs/cgroup/pids/x 2>&1
        """ + MOUNTINFO)
    s = sections(r.stdout)
    infos = parse_mountinfo(s["mountinfo"])
    top = mount_at(infos, "/sys/fs/cgroup")
    assert top["fstype"] == "tmpfs" and "ro" in top["opts"]
    names = set(s["ls"].split())
    assert {"memory", "pids", "cpu", "devices", "freezer"} <= names, names
    pids = mount_at(infos, "/sys/fs/cgroup/pids")
    assert pids["fstype"] == "cgroup" and "ro" in pids["opts"]
    # the container's own cgroup, not the host's root
    assert pids["root"] == cgs["pids"], (pids, cgs)
    assert "1" in s["procs"].split()
    assert s["touch"].count("Read-only file system") == 2, s["touch"]
    runtime.delete(cid, force=True)


@pytest.mark.cgroup2
@pytest.mark.allowed_skip(reason="needs a cgroup2 mount (a v1-only host has none)")
@pytest.mark.parametrize("prop", [[], ["rprivate"]])
def test_cgroup_mount_v2(runtime_v2, bundle, prop):
    """With the cgroup v2 driver the cgroup mount is cgroup2; in a new cgroup namespace it shows
    the container's own cgroup as its root.  With a propagation option (podman's config has
    rprivate) it is the new mount's, not the directory's under it."""
    bundle.add_mount("/sys/fs/cgroup", "cgroup", "cgroup",
                     [*prop, "ro", "nosuid", "nodev", "noexec"])
    bundle.config["linux"]["namespaces"].append({"type": "cgroup"})
    bundle.set_args("sleep", "100")
    bundle.write()
    cid = runtime_v2.create(bundle)
    runtime_v2.start(cid)
    r = runtime_v2.exec(cid, "sh", "-c", """
        echo @@procs; cat /sys/fs/cgroup/cgroup.procs
        echo @@touch; mkdir /sys/fs/cgroup/x 2>&1
        """ + MOUNTINFO)
    s = sections(r.stdout)
    m = mount_at(parse_mountinfo(s["mountinfo"]), "/sys/fs/cgroup")
    assert m["fstype"] == "cgroup2" and "ro" in m["opts"], m
    # only the container's processes (pid 1 and the exec'd shell and cat) are in it
    procs = s["procs"].split()
    assert "1" in procs and "0" not in procs and len(procs) <= 3, procs
    # from the host: the container's init is in a cgroup of its own, which holds them
    host_procs = runtime_v2.cgroup_file(cid, "", "cgroup.procs").split()
    assert host_procs == [str(runtime_v2.container_pid(cid))], host_procs
    assert "Read-only file system" in s["touch"], s["touch"]
    runtime_v2.delete(cid, force=True)


def test_tmpfs_tmpcopyup(runtime, bundle):
    """tmpcopyup: the tmpfs starts with what the image had there; writes stay in the tmpfs."""
    d = bundle.rootfs / "seeded"
    (d / "sub").mkdir(parents=True)
    (d / "sub" / "f").write_text("image\n")
    (d / "link").symlink_to("sub/f")
    os.chmod(d / "sub", 0o710)
    bundle.add_mount("/seeded", "tmpfs", "tmpfs", ["tmpcopyup", "size=1m"])
    out = run_sh(runtime, bundle, "cat /seeded/link; stat -c %a /seeded/sub; "
                 "echo new > /seeded/sub/f; cat /seeded/sub/f; " + MOUNTINFO)
    assert out.startswith("image\n710\nnew\n"), out
    assert mount_at(parse_mountinfo(sections(out)["mountinfo"]), "/seeded")["fstype"] == "tmpfs"
    assert (d / "sub" / "f").read_text() == "image\n"


def test_destination_created_nested(runtime, bundle):
    bundle.add_mount("/a/b/c", "tmpfs", "tmpfs", [])
    out = run_sh(runtime, bundle, "echo x > /a/b/c/f && cat /a/b/c/f; " + MOUNTINFO)
    assert out.startswith("x\n")
    assert mount_at(parse_mountinfo(sections(out)["mountinfo"]), "/a/b/c")["fstype"] == "tmpfs"
    # made in the rootfs, nothing of the tmpfs content stays
    assert (bundle.rootfs / "a/b/c").is_dir()
    assert list((bundle.rootfs / "a/b/c").iterdir()) == []


def test_relative_destination_joined_to_root(runtime, bundle, tmp_path):
    src = host_dir(tmp_path)
    bundle.add_mount("data/rel", "bind", src, ["rbind"])
    out = run_sh(runtime, bundle, "cd /tmp; cat /data/rel/hello; " + MOUNTINFO)
    assert out.startswith("from the host\n")
    assert mount_at(parse_mountinfo(sections(out)["mountinfo"]), "/data/rel") is not None


def idmap_supported():
    return os.path.exists("/proc/self/ns/user")


def kernel_at_least(major, minor):
    v = tuple(int(x) for x in os.uname().release.split("-")[0].split(".")[:2])
    return v >= (major, minor)


IDMAP_TMPFS = "idmapped mounts of a tmpfs need Linux 6.3, and tmp_path is on a tmpfs here"


@pytest.mark.allowed_skip(reason=IDMAP_TMPFS)
def test_idmap_bind(runtime, bundle, tmp_path):
    if mount_of(tmp_path)["fstype"] == "tmpfs" and not kernel_at_least(6, 3):
        pytest.skip(IDMAP_TMPFS)
    src = tmp_path / "idsrc"
    src.mkdir()
    f = src / "owned"
    f.write_text("x\n")
    os.chown(f, 1234, 1234)
    os.chmod(src, 0o755)
    bundle.config["mounts"].append({
        "destination": "/idm", "type": "bind", "source": str(src), "options": ["rbind", "idmap"],
        "uidMappings": [{"containerID": 1234, "hostID": 5000, "size": 1}],
        "gidMappings": [{"containerID": 1234, "hostID": 6000, "size": 1}],
    })
    bundle.config["mounts"].append({
        "destination": "/plain", "type": "bind", "source": str(src), "options": ["rbind"]})
    out = run_sh(runtime, bundle, "stat -c '%u:%g' /idm/owned /plain/owned; " + MOUNTINFO)
    lines = out.splitlines()
    assert lines[:2] == ["5000:6000", "1234:1234"], lines[:2]
    m = mount_at(parse_mountinfo(sections(out)["mountinfo"]), "/idm")
    assert "idmapped" in m["opts"], m
    # the host's view is unchanged
    assert (f.stat().st_uid, f.stat().st_gid) == (1234, 1234)


@pytest.fixture
def open_dir():
    """A directory every uid can traverse (tmp_path is 0700): for bundles a mapped root must
    reach.  Removed at teardown; no mount may be left under it."""
    d = Path(tempfile.mkdtemp(prefix="berth-devices-", dir="/tmp"))
    d.chmod(0o755)
    yield d
    left = mounts_under(d)
    shutil.rmtree(d, ignore_errors=True)
    assert not left, left


def test_user_namespace_mounts(runtime, open_dir):
    """In a user namespace without its own network namespace sysfs cannot be mounted: the
    host's /sys is bound instead, read-only all the way down as the spec's "ro" asks; binds
    keep their flags and the cgroup mount shows the container's own cgroups."""
    b = make_bundle_at(open_dir / "bundle")
    src = open_dir / "src"
    src.mkdir()
    (src / "f").write_text("x\n")
    src.chmod(0o777)
    ns = b.config["linux"]["namespaces"]
    b.config["linux"]["namespaces"] = [n for n in ns if n["type"] != "network"] + [
        {"type": "user"}]
    b.config["linux"]["uidMappings"] = [{"containerID": 0, "hostID": 100000, "size": 65536}]
    b.config["linux"]["gidMappings"] = [{"containerID": 0, "hostID": 100000, "size": 65536}]
    b.add_mount("/data", "bind", src, ["rbind", "ro", "nosuid", "nodev"])
    b.add_mount("/cg", "cgroup", "cgroup", ["ro"])
    for n in ("data", "cg"):  # the mapped root may not create them in a root-owned image
        (b.rootfs / n).mkdir()
    # the host's /sys comes with its cgroup mounts: v1 hierarchies, or the cgroup2 root
    sub = "pids/" if cgroup_v1() else ""
    out = run_sh(runtime, b, f"""
        echo @@data; cat /data/f; touch /data/g 2>&1
        echo @@root; touch /x 2>&1
        echo @@sys; mkdir /sys/fs/cgroup/{sub}x 2>&1; touch /sys/fs/cgroup/y 2>&1
        """ + MOUNTINFO)
    s = sections(out)
    assert s["data"].startswith("x\n") and "Read-only file system" in s["data"], s["data"]
    assert "Read-only file system" in s["root"]
    assert s["sys"].count("Read-only file system") == 2, s["sys"]
    infos = parse_mountinfo(s["mountinfo"])
    assert {"ro", "nosuid", "nodev"} <= mount_at(infos, "/data")["opts"]
    for m in infos:
        if m["mnt"] == "/sys" or m["mnt"].startswith("/sys/"):
            assert "ro" in m["opts"], m
    assert mount_at(infos, "/sys")["fstype"] == "sysfs"
    # the cgroup mount is the container's own cgroup: a v1 hierarchy's (pids, say) in a tmpfs,
    # or on a pure v2 host a bind of its cgroup2 directory (a user namespace that does not own
    # a cgroup namespace may not mount cgroup2)
    cg = mount_at(infos, "/cg/pids") if cgroup_v1() else mount_at(infos, "/cg")
    assert cg["fstype"] == ("cgroup" if cgroup_v1() else "cgroup2") and "ro" in cg["opts"], cg
    assert cg["root"].endswith("/" + runtime.ids[-1]), cg
    assert not (src / "g").exists()


# ---- bad entries -------------------------------------------------------------------------------


def assert_failed_clean(runtime, b, p, *needles):
    assert p.returncode == 1, (p.returncode, p.stderr)
    for n in needles:
        assert n in p.stderr, (n, p.stderr)
    assert mounts_under(b.path) == []
    assert not (runtime.root.exists() and [e for e in os.listdir(runtime.root)
                                           if not e.startswith(".")])


def test_unknown_fs_type(runtime, bundle):
    bundle.add_mount("/weird", "nosuchfs", "weirdsrc", [])
    bundle.write()
    p = runtime.create(bundle, check=False)
    assert_failed_clean(runtime, bundle, p, "/weird", "weirdsrc")


def test_bind_missing_source(runtime, bundle, tmp_path):
    missing = tmp_path / f"missing-{uuid.uuid4().hex[:6]}"
    bundle.add_mount("/data", "bind", missing, ["rbind"])
    bundle.write()
    p = runtime.create(bundle, check=False)
    assert_failed_clean(runtime, bundle, p, str(missing), "/data")
    assert "no such file or directory" in p.stderr.lower()
    assert not missing.exists()


def test_run_failure_leaves_nothing(runtime, bundle, tmp_path):
    """The same through `run`: exit 1, a message, no container."""
    bundle.add_mount("/x", "tmpfs", "tmpfs", ["size=notanumber"])
    bundle.write()
    code, out, err = runtime.run_bundle(bundle)
    assert code == 1 and "/x" in err, (code, err)
    assert mounts_under(bundle.path) == []
