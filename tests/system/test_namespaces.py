"""linux.namespaces, hostname/domainname, uid/gid mappings, timeOffsets: through berth-runtime on
real bundles, each checked from the host (/proc/PID/ns/*, /proc/PID/uid_map, file owners) or
inside the container (what the container's process prints)."""

import os
import shutil
import subprocess
import tempfile
import uuid
from pathlib import Path

import pytest

from berth import make_bundle_at, proc_status

NS_FILES = {"pid": "pid", "network": "net", "ipc": "ipc", "uts": "uts", "mount": "mnt",
            "user": "user", "cgroup": "cgroup", "time": "time"}

USER_MAP = [{"containerID": 0, "hostID": 100000, "size": 65536}]


def ns_inode(pid, nsfile):
    return os.stat(f"/proc/{pid}/ns/{nsfile}").st_ino


def set_namespaces(b, *types, **paths):
    """Replaces linux.namespaces with `types` (new) and `paths` (type=path, joined)."""
    ns = [{"type": t} for t in types]
    ns += [{"type": t, "path": str(p)} for t, p in paths.items()]
    b.config["linux"]["namespaces"] = ns


def use_userns(b, uid_map=USER_MAP, gid_map=USER_MAP):
    b.config["linux"]["uidMappings"] = uid_map
    b.config["linux"]["gidMappings"] = gid_map
    # the device cgroup rules and sysfs are fine in a user namespace; the rootfs must be
    # readable by the mapped root, which "other" permissions give.


@pytest.fixture
def open_bundle(rootfs_cache):
    """Like make_bundle, but in a directory that the mapped root of a user namespace can
    traverse (pytest's own temporary directories are 0700 root)."""
    top = Path(tempfile.mkdtemp(prefix="berth-userns-", dir="/var/tmp"))
    top.chmod(0o755)
    n = [0]

    def make(args=("sh",), name=None):
        n[0] += 1
        return make_bundle_at(top / (name or f"bundle{n[0]}"), args=list(args))

    yield make
    shutil.rmtree(top, ignore_errors=True)


def assert_clean_failure(runtime, b, *needles):
    """create must fail with exit 1, say each needle on stderr, and leave nothing behind (the
    fixture's teardown checks state, cgroups, processes, mounts)."""
    p = runtime.create(b, check=False)
    assert p.returncode == 1, (p.returncode, p.stderr)
    for n in needles:
        assert n in p.stderr, (n, p.stderr)
    assert not (runtime.root.exists() and
                [e for e in os.listdir(runtime.root) if not e.startswith(".")]), \
        os.listdir(runtime.root)
    return p


# ---- new namespaces -----------------------------------------------------------------------


@pytest.mark.parametrize("ns", ["pid", "network", "ipc", "uts", "mount", "cgroup", "time"])
def test_new_namespace_differs_from_host(runtime, make_bundle, ns):
    b = make_bundle(args=["sleep", "100"])
    types = {"mount", ns}
    set_namespaces(b, *sorted(types))
    if ns != "uts":
        b.config.pop("hostname", None)
    if ns != "network":
        # sysfs needs a network namespace of our own (the kernel refuses it otherwise)
        b.config["mounts"] = [m for m in b.config["mounts"] if m["type"] != "sysfs"]
    b.write()
    cid = runtime.create(b)
    pid = runtime.container_pid(cid)
    f = NS_FILES[ns]
    assert ns_inode(pid, f) != ns_inode(os.getpid(), f), f"{ns} namespace is the host's"
    # every namespace not asked for is the host's
    for other, of in NS_FILES.items():
        if other not in types and os.path.exists(f"/proc/self/ns/{of}"):
            assert ns_inode(pid, of) == ns_inode(os.getpid(), of), f"{other} not shared"


def test_all_namespaces_new_with_user(runtime, open_bundle):
    b = open_bundle(args=["sh", "-c", "cat /proc/self/uid_map /proc/self/gid_map; "
                          "cat /proc/self/cgroup; hostname; echo $$"])
    set_namespaces(b, *NS_FILES)
    use_userns(b)
    b.write()
    cid = runtime.create(b)
    pid = runtime.container_pid(cid)
    for ns, f in NS_FILES.items():
        assert ns_inode(pid, f) != ns_inode(os.getpid(), f), f"{ns} namespace is the host's"
    # the user namespace owns the others: the maps as the host sees them
    assert Path(f"/proc/{pid}/uid_map").read_text().split() == ["0", "100000", "65536"]
    assert Path(f"/proc/{pid}/gid_map").read_text().split() == ["0", "100000", "65536"]
    runtime.start(cid)
    runtime.wait_status(cid, "stopped")
    out, err = runtime.output(cid)
    lines = out.splitlines()
    assert lines[0].split() == ["0", "100000", "65536"], out
    assert lines[1].split() == ["0", "100000", "65536"], out
    cg = [l for l in lines[2:] if l.count(":") >= 2]
    assert cg and all(l.split(":", 2)[2] == "/" for l in cg), out
    assert "berth" in lines and lines[-1] == "1", out


def test_pid_namespace_init_is_pid_1(runtime, make_bundle):
    b = make_bundle(args=["sh", "-c", "echo $$; echo /proc/[0-9]*"])
    b.write()
    code, out, err = runtime.run_bundle(b)
    assert code == 0, err
    assert out.split() == ["1", "/proc/1"], out  # the shell is alone


def test_cgroup_namespace_root_is_container_cgroup(runtime, make_bundle):
    b = make_bundle(args=["cat", "/proc/self/cgroup"])
    set_namespaces(b, "pid", "network", "ipc", "uts", "mount", "cgroup")
    b.write()
    code, out, err = runtime.run_bundle(b)
    assert code == 0, err
    lines = [l for l in out.splitlines() if l]
    assert lines, out
    assert all(l.split(":", 2)[2] == "/" for l in lines), out


def test_cgroup_without_namespace_shows_host_path(runtime, make_bundle):
    b = make_bundle(args=["cat", "/proc/self/cgroup"])
    b.write()
    cid = "cg-" + uuid.uuid4().hex[:10]
    code, out, err = runtime.run_bundle(b, cid=cid)
    assert code == 0, err
    assert any(l.split(":", 2)[2] != "/" and cid in l for l in out.splitlines()), out


# ---- hostname, domainname -----------------------------------------------------------------


def test_hostname_and_domainname(runtime, make_bundle):
    b = make_bundle(args=["sh", "-c", "hostname; cat /proc/sys/kernel/domainname"])
    b.config["hostname"] = "box-1"
    b.config["domainname"] = "example.org"
    b.write()
    host_before = os.uname().nodename
    code, out, err = runtime.run_bundle(b)
    assert (code, out) == (0, "box-1\nexample.org\n"), err
    assert os.uname().nodename == host_before


def test_hostname_without_uts_namespace_fails(runtime, make_bundle):
    b = make_bundle(args=["true"])
    set_namespaces(b, "pid", "network", "ipc", "mount")
    b.config["hostname"] = "nope"
    b.write()
    before = os.uname().nodename
    assert_clean_failure(runtime, b, "UTS namespace")
    assert os.uname().nodename == before


# ---- user namespace -----------------------------------------------------------------------


def test_user_namespace_maps_and_file_owner(runtime, open_bundle):
    b = open_bundle(args=["sh", "-c", "cat /proc/self/uid_map; cat /proc/self/gid_map; id; "
                          "touch /shared/made; mkdir /shared/dir; "
                          "chown 1000:2000 /shared/dir"])
    set_namespaces(b, "pid", "network", "ipc", "uts", "mount", "user")
    use_userns(b, uid_map=[{"containerID": 0, "hostID": 100000, "size": 65536}],
               gid_map=[{"containerID": 0, "hostID": 200000, "size": 65536}])
    shared = b.path / "shared"
    shared.mkdir()
    os.chown(shared, 100000, 200000)
    # the mapped root cannot make the mount point in a root-owned rootfs (nor could runc's)
    (b.rootfs / "shared").mkdir()
    b.add_mount("/shared", "bind", shared, ["rbind", "rw"])
    for k in ("bounding", "effective", "permitted"):
        b.config["process"]["capabilities"][k].append("CAP_CHOWN")
    b.write()
    code, out, err = runtime.run_bundle(b)
    assert code == 0, err
    lines = out.splitlines()
    assert lines[0].split() == ["0", "100000", "65536"], out
    assert lines[1].split() == ["0", "200000", "65536"], out
    assert lines[2].startswith("uid=0(root) gid=0(root)"), out
    st = os.stat(shared / "made")
    assert (st.st_uid, st.st_gid) == (100000, 200000)
    st = os.stat(shared / "dir")
    assert (st.st_uid, st.st_gid) == (101000, 202000)


def test_user_namespace_without_mappings_fails(runtime, make_bundle):
    b = make_bundle(args=["true"])
    set_namespaces(b, "pid", "mount", "user")
    b.config.pop("hostname", None)
    b.config["mounts"] = [m for m in b.config["mounts"] if m["type"] != "sysfs"]
    b.write()
    assert_clean_failure(runtime, b, "mappings")


def test_mappings_without_user_namespace_fails(runtime, make_bundle):
    b = make_bundle(args=["true"])
    use_userns(b)
    b.write()
    assert_clean_failure(runtime, b, "user namespace")


def test_user_namespace_bad_mapping_fails_cleanly(runtime, make_bundle):
    """Overlapping ranges: the kernel refuses the uid_map write; create fails, nothing stays."""
    b = make_bundle(args=["true"])
    set_namespaces(b, "pid", "network", "ipc", "uts", "mount", "user")
    use_userns(b, uid_map=[{"containerID": 0, "hostID": 100000, "size": 10},
                           {"containerID": 5, "hostID": 200000, "size": 10}])
    b.write()
    assert_clean_failure(runtime, b, "uid")


# ---- time namespace -----------------------------------------------------------------------


def test_time_namespace_offsets(runtime, make_bundle):
    day = 86400
    b = make_bundle(args=["sh", "-c", "cat /proc/uptime; cat /proc/self/timens_offsets"])
    set_namespaces(b, "pid", "network", "ipc", "uts", "mount", "time")
    b.config["linux"]["timeOffsets"] = {"monotonic": {"secs": 3 * day, "nanosecs": 5},
                                        "boottime": {"secs": 10 * day, "nanosecs": 0}}
    b.write()
    host_up = float(Path("/proc/uptime").read_text().split()[0])
    code, out, err = runtime.run_bundle(b)
    assert code == 0, err
    lines = out.splitlines()
    inside_up = float(lines[0].split()[0])
    # /proc/uptime follows CLOCK_BOOTTIME, shifted by the boottime offset
    assert 10 * day - 5 < inside_up - host_up < 10 * day + 5, (host_up, inside_up)
    offsets = {l.split()[0]: l.split()[1:] for l in lines[1:]}
    assert offsets["monotonic"] == [str(3 * day), "5"], out
    assert offsets["boottime"] == [str(10 * day), "0"], out


def test_time_offsets_without_time_namespace_fail(runtime, make_bundle):
    b = make_bundle(args=["true"])
    b.config["linux"]["timeOffsets"] = {"monotonic": {"secs": 10, "nanosecs": 0}}
    b.write()
    assert_clean_failure(runtime, b, "time namespace")


# ---- joining by path ------------------------------------------------------------------------


@pytest.fixture
def netns():
    name = "berth-t-" + uuid.uuid4().hex[:8]
    subprocess.run(["ip", "netns", "add", name], check=True, capture_output=True)
    path = Path("/run/netns") / name
    yield path
    subprocess.run(["ip", "netns", "delete", name], check=False, capture_output=True)
    assert not path.exists()


def test_join_network_namespace_by_path(runtime, make_bundle, netns):
    # a marker only this namespace has: a per-namespace sysctl (the host keeps its own value)
    subprocess.run(["ip", "netns", "exec", netns.name, "sh", "-c",
                    "echo 77 > /proc/sys/net/ipv4/ip_default_ttl"], check=True)
    assert Path("/proc/sys/net/ipv4/ip_default_ttl").read_text().strip() != "77"
    b = make_bundle(args=["cat", "/proc/sys/net/ipv4/ip_default_ttl"])
    set_namespaces(b, "pid", "ipc", "uts", "mount", network=netns)
    b.write()
    cid = runtime.create(b)
    pid = runtime.container_pid(cid)
    assert ns_inode(pid, "net") == os.stat(netns).st_ino
    runtime.start(cid)
    runtime.wait_status(cid, "stopped")
    out, err = runtime.output(cid)
    assert out == "77\n", (out, err)
    runtime.delete(cid)
    # the namespace is not the runtime's: it survives the container
    assert netns.exists()
    out = subprocess.run(["ip", "netns", "exec", netns.name, "cat",
                          "/proc/sys/net/ipv4/ip_default_ttl"], capture_output=True, text=True)
    assert out.stdout == "77\n", out.stderr


def test_join_ipc_namespace_kept_by_bind_mount(runtime, make_bundle, tmp_path):
    """unshare --ipc=FILE keeps a namespace alive through a bind mount on FILE."""
    holder = tmp_path / "ipcns"
    holder.touch()
    subprocess.run(["unshare", f"--ipc={holder}", "true"], check=True)
    try:
        b = make_bundle(args=["true"])
        set_namespaces(b, "pid", "network", "uts", "mount", ipc=holder)
        b.write()
        cid = runtime.create(b)
        pid = runtime.container_pid(cid)
        assert ns_inode(pid, "ipc") == os.stat(holder).st_ino
        assert ns_inode(pid, "ipc") != ns_inode(os.getpid(), "ipc")
        runtime.delete(cid, force=True)
    finally:
        subprocess.run(["umount", str(holder)], check=False)


def test_join_other_container_namespaces(runtime, make_bundle):
    """B joins A's pid, network, ipc and uts namespaces by /proc/A/ns/* and sees A's process."""
    a = make_bundle(args=["sleep", "1000"], name="a")
    a.config["hostname"] = "first"
    a.write()
    ca = runtime.create(a)
    runtime.start(ca)
    apid = runtime.container_pid(ca)
    b = make_bundle(args=["sh", "-c", "hostname; cat /proc/1/cmdline | tr '\\0' ' '; echo"],
                    name="b")
    b.config.pop("hostname")
    b.config["mounts"] = [m for m in b.config["mounts"] if m["type"] != "sysfs"]
    set_namespaces(b, "mount", pid=f"/proc/{apid}/ns/pid", network=f"/proc/{apid}/ns/net",
                   ipc=f"/proc/{apid}/ns/ipc", uts=f"/proc/{apid}/ns/uts")
    b.write()
    cb = runtime.create(b)
    bpid = runtime.container_pid(cb)
    for f in ("net", "ipc", "uts", "pid"):
        assert ns_inode(bpid, f) == ns_inode(apid, f), f
    assert ns_inode(bpid, "mnt") != ns_inode(apid, "mnt")
    # B's init is in A's pid namespace: its NSpid has two levels, and it is not pid 1 there
    nspid = proc_status(bpid)["NSpid"].split()
    assert len(nspid) == 2 and nspid[1] != "1", nspid
    runtime.start(cb)
    runtime.wait_status(cb, "stopped")
    out, err = runtime.output(cb)
    assert out.splitlines() == ["first", "sleep 1000 "], (out, err)
    runtime.delete(cb)
    runtime.kill(ca, "KILL")
    runtime.wait_status(ca, "stopped")
    runtime.delete(ca)


def test_join_other_container_user_namespace(runtime, open_bundle):
    a = open_bundle(args=["sleep", "1000"], name="a")
    set_namespaces(a, "pid", "network", "ipc", "uts", "mount", "user")
    use_userns(a)
    a.write()
    ca = runtime.create(a)
    apid = runtime.container_pid(ca)
    b = open_bundle(args=["sh", "-c", "cat /proc/self/uid_map; id -u"], name="b")
    set_namespaces(b, "pid", "ipc", "uts", "mount", user=f"/proc/{apid}/ns/user",
                   network=f"/proc/{apid}/ns/net")
    b.write()
    cb = runtime.create(b)
    bpid = runtime.container_pid(cb)
    assert ns_inode(bpid, "user") == ns_inode(apid, "user")
    assert ns_inode(bpid, "net") == ns_inode(apid, "net")
    assert ns_inode(bpid, "pid") != ns_inode(apid, "pid")
    # the new namespaces B made are owned by A's user namespace: B's uid_map is A's
    assert Path(f"/proc/{bpid}/uid_map").read_text().split() == ["0", "100000", "65536"]
    assert proc_status(bpid)["Uid"].split()[0] == "100000"
    runtime.start(cb)
    runtime.wait_status(cb, "stopped")
    out, err = runtime.output(cb)
    assert out.split() == ["0", "100000", "65536", "0"], (out, err)
    runtime.delete(cb)
    runtime.delete(ca, force=True)


def test_join_not_a_namespace(runtime, make_bundle, tmp_path):
    f = tmp_path / "plain"
    f.write_text("x")
    b = make_bundle(args=["true"])
    set_namespaces(b, "pid", "ipc", "uts", "mount", network=f)
    b.write()
    assert_clean_failure(runtime, b, f"'{f}' is not a namespace")


def test_join_missing_namespace_path(runtime, make_bundle, tmp_path):
    b = make_bundle(args=["true"])
    missing = tmp_path / "nope"
    set_namespaces(b, "pid", "ipc", "uts", "mount", network=missing)
    b.write()
    assert_clean_failure(runtime, b, str(missing))


def test_join_wrong_type_namespace(runtime, make_bundle):
    b = make_bundle(args=["true"])
    set_namespaces(b, "pid", "ipc", "uts", "mount", network="/proc/self/ns/ipc")
    b.write()
    assert_clean_failure(runtime, b, "is not a network namespace")


def test_join_wrong_type_user_namespace(runtime, make_bundle):
    """The slow path (a user namespace joined) checks the type too, before any process."""
    b = make_bundle(args=["true"])
    set_namespaces(b, "pid", "ipc", "uts", "mount", "network", user="/proc/self/ns/net")
    b.write()
    assert_clean_failure(runtime, b, "is not a user namespace")


def test_unknown_namespace_type_fails(runtime, make_bundle):
    b = make_bundle(args=["true"])
    b.config["linux"]["namespaces"].append({"type": "bogus"})
    b.write()
    p = assert_clean_failure(runtime, b, "bogus")
    assert "namespace" in p.stderr


def test_duplicate_namespace_type_fails(runtime, make_bundle):
    b = make_bundle(args=["true"])
    b.config["linux"]["namespaces"].append({"type": "pid"})
    b.write()
    assert_clean_failure(runtime, b, "pid")


def test_mount_namespace_required(runtime, make_bundle):
    b = make_bundle(args=["true"])
    set_namespaces(b, "pid", "network", "ipc", "uts")
    b.write()
    assert_clean_failure(runtime, b, "mount")


def test_join_other_container_time_namespace(runtime, make_bundle):
    """B joins A's time namespace by path and sees A's boottime offset in /proc/uptime."""
    day = 86400
    a = make_bundle(args=["sleep", "1000"], name="a")
    set_namespaces(a, "pid", "network", "ipc", "uts", "mount", "time")
    a.config["linux"]["timeOffsets"] = {"boottime": {"secs": 20 * day, "nanosecs": 0}}
    a.write()
    ca = runtime.create(a)
    apid = runtime.container_pid(ca)
    b = make_bundle(args=["cat", "/proc/uptime"], name="b")
    set_namespaces(b, "pid", "network", "ipc", "uts", "mount", time=f"/proc/{apid}/ns/time")
    b.write()
    cb = runtime.create(b)
    bpid = runtime.container_pid(cb)
    assert ns_inode(bpid, "time") == ns_inode(apid, "time") != ns_inode(os.getpid(), "time")
    host_up = float(Path("/proc/uptime").read_text().split()[0])
    runtime.start(cb)
    runtime.wait_status(cb, "stopped")
    out, err = runtime.output(cb)
    assert 20 * day - 5 < float(out.split()[0]) - host_up < 20 * day + 5, (out, err)
    runtime.delete(cb)
    runtime.delete(ca, force=True)


def test_join_time_namespace_with_offsets_fails(runtime, make_bundle):
    """Offsets can only be set on a new time namespace."""
    b = make_bundle(args=["true"])
    set_namespaces(b, "pid", "network", "ipc", "uts", "mount", time="/proc/self/ns/time")
    b.config["linux"]["timeOffsets"] = {"monotonic": {"secs": 1, "nanosecs": 0}}
    b.write()
    assert_clean_failure(runtime, b, "time namespace")
