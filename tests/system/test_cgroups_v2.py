"""The cgroup v2 driver, through the `runtime_v2` fixture.  On a hybrid host (the CI machine)
every command runs in scripts/in-cgroup2-ns.sh, where the host's cgroup2 mount is
/sys/fs/cgroup, so berth-runtime picks its v2 driver, and the container's cgroup is seen from
the host under /sys/fs/cgroup/unified; on a pure cgroup v2 host the runtime is run as it is and
the cgroup is under /sys/fs/cgroup (cgroup2_root()).  A hybrid host's cgroup2 mount offers only
hugetlb, so these tests cover the core files (cgroup.procs, cgroup.freeze, cgroup.events,
cgroup.kill), hugetlb, the eBPF device filter, and the refusal of resources whose controller is
absent (which cannot be provoked on a pure v2 host: skipped there, with that reason).

memory, cpu, io, pids and cpuset, with their effect, are checked on a live pure cgroup v2 kernel
by tests/guest (a QEMU guest); their file handling also by the unit tests against a fake cgroup2
tree (tests/unit/test-cgroup.c)."""

import json
from pathlib import Path

import pytest

from berth import (LOOP_CONTROL, cgroup2_root, cgroup_v1, new_id, proc_cgroups, proc_state,
                   run_with_loop_control, wait_until)

NO_CGROUP2 = "needs a cgroup2 mount (a pure v2 host, or the unified mount of a hybrid one)"
pytestmark = [pytest.mark.cgroup2,
              pytest.mark.skipif(cgroup2_root() is None, reason=NO_CGROUP2),
              pytest.mark.allowed_skip(reason=NO_CGROUP2)]

MB = 1024 * 1024


def v2_dir(pid):
    """The host directory of pid's cgroup2 cgroup."""
    return cgroup2_root() / proc_cgroups(pid)[""].lstrip("/")


def available(controller):
    """Whether controller is in the cgroup2 root's cgroup.controllers here (a hybrid host's
    cgroup2 mount has hugetlb at most; a pure v2 host has them all)."""
    return controller in (cgroup2_root() / "cgroup.controllers").read_text().split()


def created(rt, make_bundle, args=("sleep", "100"), resources=None, cid=None):
    b = make_bundle(args=list(args))
    if resources is not None:
        b.config["linux"]["resources"].update(resources)
    b.write()
    cid = rt.create(b, cid=cid)
    return cid, rt.container_pid(cid)


def started(rt, make_bundle, args=("sleep", "100"), **kw):
    cid, pid = created(rt, make_bundle, args, **kw)
    rt.start(cid)
    return cid, pid


def hugetlb_ok():
    return available("hugetlb") and Path("/sys/kernel/mm/hugepages/hugepages-2048kB").is_dir()


def test_create_start_delete(runtime_v2, make_bundle):
    rt = runtime_v2
    cid, pid = created(rt, make_bundle)
    d = v2_dir(pid)
    assert proc_cgroups(pid)[""].endswith("/" + cid)
    assert d.is_dir() and (d / "cgroup.procs").read_text().split() == [str(pid)]
    # the v2 driver does not touch the v1 hierarchies (on a host that has them)
    if cgroup_v1():
        assert not proc_cgroups(pid)["memory"].endswith("/" + cid)
    assert rt.status(cid) == "created"
    rt.start(cid)
    assert rt.status(cid) == "running"
    assert (d / "cgroup.procs").read_text().split() == [str(pid)]
    rt.delete(cid, force=True)
    assert not d.exists()


def test_cgroups_path_absolute(runtime_v2, make_bundle):
    rt = runtime_v2
    cid = new_id()
    b = make_bundle()
    b.config["linux"]["cgroupsPath"] = f"/berth-v2test/{cid}"
    b.write()
    rt.create(b, cid=cid)
    pid = rt.container_pid(cid)
    assert proc_cgroups(pid)[""] == f"/berth-v2test/{cid}"
    assert str(pid) in (cgroup2_root() / "berth-v2test" / cid / "cgroup.procs").read_text().split()
    made_parent = "cgroup_made_from" in json.loads((rt.root / cid / "state.json").read_text()) \
        and json.loads((rt.root / cid / "state.json").read_text())["cgroup_made_from"] == \
        "/berth-v2test"
    rt.delete(cid, force=True)
    assert not (cgroup2_root() / "berth-v2test" / cid).exists()
    # the parent the create made goes with the container
    if made_parent:
        assert not (cgroup2_root() / "berth-v2test").exists()
    try:
        (cgroup2_root() / "berth-v2test").rmdir()
    except OSError:
        pass


def test_pause_resume_with_cgroup_freeze(runtime_v2, make_bundle):
    rt = runtime_v2
    cid, pid = started(rt, make_bundle)
    d = v2_dir(pid)
    rt.run("pause", cid)
    assert (d / "cgroup.freeze").read_text().strip() == "1"
    assert "frozen 1" in (d / "cgroup.events").read_text().splitlines()
    assert rt.status(cid) == "paused"
    assert proc_state(pid) in ("D", "T", "S")
    p = rt.fails("exec", cid, "true")
    assert p.returncode == 1 and "paused" in p.stderr
    rt.run("resume", cid)
    assert (d / "cgroup.freeze").read_text().strip() == "0"
    assert "frozen 0" in (d / "cgroup.events").read_text().splitlines()
    assert rt.status(cid) == "running"
    assert rt.exec(cid, "echo", "thawed").stdout == "thawed\n"
    rt.delete(cid, force=True)


def test_kill_all_paused(runtime_v2, make_bundle):
    rt = runtime_v2
    cid, pid = started(rt, make_bundle, args=["sh", "-c", "sleep 100 & sleep 101 & wait"])
    d = v2_dir(pid)
    procs = wait_until(lambda: len((d / "cgroup.procs").read_text().split()) == 3 and
                       (d / "cgroup.procs").read_text().split())
    assert procs
    rt.run("pause", cid)
    rt.kill(cid, "KILL", "--all")
    assert wait_until(lambda: all(proc_state(int(p)) in (None, "Z") for p in procs))
    rt.wait_status(cid, "stopped")
    rt.delete(cid)
    assert not d.exists()


def test_kill_of_a_paused_container(runtime_v2, make_bundle):
    rt = runtime_v2
    cid, pid = started(rt, make_bundle)
    d = v2_dir(pid)
    rt.run("pause", cid)
    assert json.loads(rt.run("ps", "--format", "json", cid).stdout) == [pid]
    rt.kill(cid, "KILL")
    rt.wait_status(cid, "stopped", timeout=5)
    rt.delete(cid)
    assert not d.exists()


def test_ps_and_events(runtime_v2, make_bundle):
    rt = runtime_v2
    cid, pid = started(rt, make_bundle, args=["sh", "-c", "sleep 100 & sleep 101 & wait"])
    d = v2_dir(pid)
    assert wait_until(lambda: len((d / "cgroup.procs").read_text().split()) == 3)
    procs = sorted(int(p) for p in (d / "cgroup.procs").read_text().split())
    assert sorted(json.loads(rt.run("ps", "--format", "json", cid).stdout)) == procs
    ev = json.loads(rt.run("events", "--stats", cid).stdout)
    assert ev["type"] == "stats" and ev["id"] == cid
    assert ev["data"]["cpu"]["usage"]["total"] > 0
    rt.delete(cid, force=True)


@pytest.mark.allowed_skip(reason="needs hugetlb in the cgroup2 mount and 2MB pages")
def test_hugetlb_limit_and_update(runtime_v2, make_bundle, tmp_path):
    if not hugetlb_ok():
        pytest.skip("no hugetlb controller with 2MB pages in the cgroup2 mount")
    rt = runtime_v2
    cid, pid = created(rt, make_bundle,
                       resources={"hugepageLimits": [{"pageSize": "2MB", "limit": 4 * MB}]})
    d = v2_dir(pid)
    assert (d / "hugetlb.2MB.max").read_text().strip() == str(4 * MB)
    assert "hugetlb" in (d.parent / "cgroup.subtree_control").read_text().split()
    f = tmp_path / "res.json"
    f.write_text(json.dumps({"hugepageLimits": [{"pageSize": "2MB", "limit": 8 * MB}]}))
    rt.run("update", "-r", f, cid)
    assert (d / "hugetlb.2MB.max").read_text().strip() == str(8 * MB)
    rt.run("update", "-r", "-", cid,
           input=json.dumps({"hugepageLimits": [{"pageSize": "2MB", "limit": 2 * MB}]}))
    assert (d / "hugetlb.2MB.max").read_text().strip() == str(2 * MB)
    p = rt.fails("update", "-r", "-", cid,
                 input=json.dumps({"hugepageLimits": [{"pageSize": "7MB", "limit": 1}]}))
    assert p.returncode == 1 and "7MB" in p.stderr
    assert (d / "hugetlb.2MB.max").read_text().strip() == str(2 * MB)
    rt.delete(cid, force=True)


def test_devices_filter(runtime_v2, make_bundle):
    # /dev/loop-control bound in: the bundle's "deny all" keeps it closed; an allow rule opens
    # it.  /dev/null stays usable (default rules).
    rt = runtime_v2
    deny_all = [{"allow": False, "access": "rwm"}]
    read_only = deny_all + [{"allow": True, **LOOP_CONTROL, "access": "r"}]
    code, out, err = run_with_loop_control(rt, make_bundle, deny_all)
    assert "open-ok" not in out and "Operation not permitted" in err, (out, err)
    assert "null-ok" in out, (out, err)
    code, out, err = run_with_loop_control(rt, make_bundle, read_only)
    assert "open-ok" in out and "null-ok" in out, (out, err)
    # a read-only grant does not allow writing
    code, out, err = run_with_loop_control(rt, make_bundle, read_only,
                                           "echo >/dev/loop-control || echo write-denied")
    assert "write-denied" in out and "Operation not permitted" in err, (out, err)


ABSENT = ("the controller is available in this host's cgroup2 mount (a pure v2 host): its "
          "absence cannot be provoked here; tests/unit/test-cgroup.c checks the refusal on a "
          "fake tree")


@pytest.mark.allowed_skip(reason=ABSENT)
@pytest.mark.parametrize("res,word", [
    ({"memory": {"limit": 64 * MB}}, "memory"),
    ({"pids": {"limit": 10}}, "pids"),
    ({"cpu": {"shares": 512}}, "cpu"),
    ({"unified": {"memory.high": "1000000"}}, "memory"),
])
def test_absent_controller_is_refused(runtime_v2, make_bundle, res, word):
    if available(word):
        pytest.skip(ABSENT)
    rt = runtime_v2
    cid = new_id()
    b = make_bundle(args=["true"])
    b.config["linux"]["resources"].update(res)
    b.write()
    p = rt.create(b, cid=cid, check=False)
    assert p.returncode == 1 and word in p.stderr, p.stderr
    assert not (rt.root / cid).exists()
    assert not (cgroup2_root() / "berth" / cid).exists()


@pytest.mark.allowed_skip(reason=ABSENT)
def test_update_needing_an_absent_controller_fails_cleanly(runtime_v2, make_bundle):
    if available("memory"):
        pytest.skip(ABSENT)
    rt = runtime_v2
    cid, pid = created(rt, make_bundle)
    p = rt.fails("update", "--memory", "64m", cid)
    assert p.returncode == 1 and "memory" in p.stderr, p.stderr
    assert not (v2_dir(pid) / "memory.max").exists()
    assert "memory" not in (v2_dir(pid).parent / "cgroup.subtree_control").read_text().split()
    rt.delete(cid, force=True)


def test_delete_removes_child_cgroups(runtime_v2, make_bundle):
    rt = runtime_v2
    cid, pid = started(rt, make_bundle)
    d = v2_dir(pid)
    (d / "sub" / "subsub").mkdir(parents=True)
    rt.delete(cid, force=True)
    assert not d.exists()
    assert wait_until(lambda: proc_state(pid) in (None, "Z"))


def test_delete_removes_cgroups_the_container_made(runtime_v2, make_bundle):
    # a container with its own cgroup namespace and a writable cgroup mount makes a child
    # cgroup and moves itself there; delete still removes the whole tree
    rt = runtime_v2
    b = make_bundle(args=["sh", "-c", "mkdir /sys/fs/cgroup/inner && "
                                      "echo $$ >/sys/fs/cgroup/inner/cgroup.procs && "
                                      "echo moved && exec sleep 100"])
    b.config["linux"]["namespaces"].append({"type": "cgroup"})
    b.add_mount("/sys/fs/cgroup", "cgroup", "cgroup", ["nosuid", "noexec", "nodev", "rw"])
    b.write()
    cid = rt.create(b)
    pid = rt.container_pid(cid)
    d = v2_dir(pid)
    rt.start(cid)
    assert wait_until(lambda: rt.output(cid)[0] == "moved\n"), rt.output(cid)
    assert (d / "inner" / "cgroup.procs").read_text().split() == [str(pid)]
    rt.delete(cid, force=True)
    assert not d.exists()
    assert wait_until(lambda: proc_state(pid) in (None, "Z"))


def test_cgroup_namespace_and_mount_inside(runtime_v2, make_bundle):
    # with a cgroup namespace the container's cgroup is its root, and a "cgroup" mount shows
    # the v2 hierarchy with the container's own files
    rt = runtime_v2
    b = make_bundle(args=["sh", "-c", "cat /proc/self/cgroup; echo --; ls /sys/fs/cgroup; "
                                      "echo --; cat /sys/fs/cgroup/cgroup.procs"])
    b.config["linux"]["namespaces"].append({"type": "cgroup"})
    b.add_mount("/sys/fs/cgroup", "cgroup", "cgroup", ["nosuid", "noexec", "nodev", "ro"])
    b.write()
    code, out, err = rt.run_bundle(b)
    assert code == 0, err
    own, files, procs = (part.split() for part in out.split("--\n"))
    # on a hybrid host the v1 lines are the kernel's too; the v2 one is the namespace root
    assert "0::/" in own, out
    assert "cgroup.freeze" in files and "cgroup.procs" in files, out
    # the cgroup holds the container's one process: sh exec'd cat as pid 1 of its namespace
    assert procs == ["1"], out
