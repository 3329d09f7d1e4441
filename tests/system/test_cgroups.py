"""The cgroup v1 driver on a v1 or hybrid host (v1 controllers under /sys/fs/cgroup/<controller>;
on a hybrid host such as the CI machine hugetlb is in the cgroup2 mount at
/sys/fs/cgroup/unified): linux.resources, cgroupsPath, update, pause/resume, ps, events --stats
and delete, each checked in the host's cgroup files or from inside the container.

On a pure cgroup v2 host the runtime uses its v2 driver and there are no v1 files to check:
the whole module is skipped there, with that reason (allowed_skip).  The v2 driver is
test_cgroups_v2.py (its core, on any host with a cgroup2 mount) and tests/guest (every v2
controller on a live pure v2 kernel)."""

import json
import os
import re
import signal
from pathlib import Path

import pytest

from berth import (CGROUP_ROOT, LOOP_CONTROL, cgroup_dir, cgroup_v1, new_id, proc_cgroups,
                   proc_state, run_with_loop_control, wait_until)

V1 = ("memory", "cpu", "cpuset", "pids", "blkio", "devices", "freezer")
MB = 1024 * 1024

V1_ONLY = ("cgroup v1 driver tests: this host has no cgroup v1 hierarchies (pure cgroup v2; "
           "the v2 driver is test_cgroups_v2.py and tests/guest)")
pytestmark = [pytest.mark.skipif(not cgroup_v1(), reason=V1_ONLY),
              pytest.mark.allowed_skip(reason=V1_ONLY)]


def resources(b, **groups):
    b.config["linux"].setdefault("resources", {}).update(groups)
    b.write()
    return b


def created(runtime, make_bundle, args=("sleep", "100"), **groups):
    """A created (not started) container with linux.resources groups set -> (id, init pid)."""
    b = resources(make_bundle(args=args), **groups)
    cid = runtime.create(b)
    return cid, runtime.container_pid(cid)


def cg(pid, controller, name):
    return (cgroup_dir(pid, controller) / name).read_text().strip()


def first_block_device():
    """"major:minor" of a real disk (not loop/ram/zram) from /sys/block, or None."""
    for d in sorted(Path("/sys/block").iterdir()):
        if not d.name.startswith(("loop", "ram", "zram")) and (d / "dev").exists():
            return (d / "dev").read_text().strip()
    return None


# ---------------------------------------------------------------------------------------------
# linux.resources at create


def test_memory_limit_reservation_swap(runtime, make_bundle):
    cid, pid = created(runtime, make_bundle,
                       memory={"limit": 64 * MB, "reservation": 32 * MB, "swap": 96 * MB})
    assert int(cg(pid, "memory", "memory.limit_in_bytes")) == 64 * MB
    assert int(cg(pid, "memory", "memory.soft_limit_in_bytes")) == 32 * MB
    assert int(cg(pid, "memory", "memory.memsw.limit_in_bytes")) == 96 * MB
    runtime.delete(cid, force=True)


def test_memory_swappiness_and_oom_killer(runtime, make_bundle):
    cid, pid = created(runtime, make_bundle,
                       memory={"swappiness": 30, "disableOOMKiller": True})
    assert cg(pid, "memory", "memory.swappiness") == "30"
    assert "oom_kill_disable 1" in cg(pid, "memory", "memory.oom_control").splitlines()
    runtime.delete(cid, force=True)
    b = resources(make_bundle(args=["true"]), memory={"swappiness": 101})
    p = runtime.create(b, check=False)
    assert p.returncode == 1 and "swappiness" in p.stderr, p.stderr


def test_memory_limit_enforced_inside(runtime, make_bundle):
    # tmpfs pages are charged to the writer's cgroup: 40 MiB do not fit in 16 MiB without swap
    b = resources(make_bundle(args=[
        "sh", "-c", "dd if=/dev/zero of=/dev/shm/f bs=1M count=40 2>/dev/null; echo rc=$?"]),
        memory={"limit": 16 * MB, "swap": 16 * MB})
    code, out, _ = runtime.run_bundle(b)
    assert code == 0
    assert out.strip() != "rc=0", "40 MiB written under a 16 MiB memory+swap limit"


def test_cpu_shares_quota_period(runtime, make_bundle):
    cid, pid = created(runtime, make_bundle,
                       cpu={"shares": 512, "quota": 25000, "period": 50000})
    assert cg(pid, "cpu", "cpu.shares") == "512"
    assert cg(pid, "cpu", "cpu.cfs_quota_us") == "25000"
    assert cg(pid, "cpu", "cpu.cfs_period_us") == "50000"
    runtime.delete(cid, force=True)


def test_cpuset_cpus_and_mems_inside(runtime, make_bundle):
    last = os.cpu_count() - 1
    b = resources(make_bundle(args=["sh", "-c", "grep -E '^(Cpus|Mems)_allowed_list' "
                                                "/proc/self/status; cat /proc/self/cgroup"]),
                  cpu={"cpus": str(last), "mems": "0"})
    code, out, err = runtime.run_bundle(b)
    assert code == 0, err
    assert re.search(rf"^Cpus_allowed_list:\s+{last}$", out, re.M), out
    assert re.search(r"^Mems_allowed_list:\s+0$", out, re.M), out
    # the cpuset cgroup the container sat in was named after it
    assert re.search(r"^\d+:cpuset:/.*t-[0-9a-f]{12}$", out, re.M), out


def test_pids_limit_stops_a_fork_bomb_lite(runtime, make_bundle):
    # ash ends a script whose fork fails, so the loop runs in a subshell; afterwards the pids
    # are used up: count and clean up with builtins only
    script = ("(for i in $(seq 50); do sleep 10 & done) 2>/tmp/err; echo rc=$?; "
              "n=0; for p in /proc/[0-9]*; do n=$((n+1)); done; kill -9 -1; wait; "
              "echo n=$n; cat /tmp/err")
    b = make_bundle(args=["sh", "-c", script])
    b.config["root"]["readonly"] = False
    resources(b, pids={"limit": 10})
    code, out, err = runtime.run_bundle(b)
    assert code == 0, err
    lines = out.splitlines()
    assert lines[0] != "rc=0", "50 forks under pids.max 10 all succeeded"
    n = int(lines[1].removeprefix("n="))
    assert 5 <= n <= 10, f"{n} processes under pids.max 10"
    assert re.search(r"can't fork: Resource temporarily unavailable", out), out


def test_pids_max_on_host(runtime, make_bundle):
    cid, pid = created(runtime, make_bundle, pids={"limit": 7})
    assert cg(pid, "pids", "pids.max") == "7"
    runtime.delete(cid, force=True)


def test_blkio_throttle_and_weight(runtime, make_bundle):
    dev = first_block_device()
    if dev is None:
        pytest.skip("no whole disk in /proc/partitions for a throttle rule")
    major, minor = (int(x) for x in dev.split(":"))
    cid, pid = created(runtime, make_bundle, blockIO={
        "throttleReadBpsDevice": [{"major": major, "minor": minor, "rate": 1048576}],
        "throttleWriteIOPSDevice": [{"major": major, "minor": minor, "rate": 100}]})
    assert f"{dev} 1048576" in cg(pid, "blkio", "blkio.throttle.read_bps_device")
    assert f"{dev} 100" in cg(pid, "blkio", "blkio.throttle.write_iops_device")
    runtime.delete(cid, force=True)


@pytest.mark.allowed_skip(reason="blkio.weight exists only with a proportional io scheduler "
                                 "(CFQ/BFQ weight files); this kernel may lack it")
def test_blkio_weight(runtime, make_bundle):
    # the weight file exists in child cgroups only (blkio.weight with CFQ, blkio.bfq.weight
    # with BFQ); without either the runtime must refuse the value clearly, not pretend
    b = resources(make_bundle(), blockIO={"weight": 500})
    cid = new_id()
    p = runtime.create(b, cid=cid, check=False)
    if p.returncode != 0:
        assert p.returncode == 1 and "blkio.weight" in p.stderr, p.stderr
        pytest.skip("no blkio weight file on this kernel (refusal checked)")
    d = cgroup_dir(runtime.container_pid(cid), "blkio")
    f = next(d / f for f in ("blkio.weight", "blkio.bfq.weight") if (d / f).exists())
    assert f.read_text().splitlines()[0].split()[-1] == "500"
    runtime.run("update", "--blkio-weight", "700", cid)
    assert f.read_text().splitlines()[0].split()[-1] == "700"
    runtime.delete(cid, force=True)


@pytest.mark.allowed_skip(reason="needs the hugetlb controller and 2MB pages")
def test_hugepage_limit_in_unified(runtime, make_bundle):
    # on this hybrid host hugetlb is a controller of the cgroup2 mount, not a v1 hierarchy
    unified = CGROUP_ROOT / "unified"
    if not (unified / "cgroup.controllers").exists() or \
            "hugetlb" not in (unified / "cgroup.controllers").read_text().split() or \
            not Path("/sys/kernel/mm/hugepages/hugepages-2048kB").is_dir():
        pytest.skip("no hugetlb with 2MB pages in the unified hierarchy")
    cid, pid = created(runtime, make_bundle,
                       hugepageLimits=[{"pageSize": "2MB", "limit": 4 * MB}])
    assert cg(pid, "", "hugetlb.2MB.max") == str(4 * MB)
    runtime.run("update", "-r", "-", cid,
                input='{"hugepageLimits": [{"pageSize": "2MB", "limit": 6291456}]}')
    assert cg(pid, "", "hugetlb.2MB.max") == "6291456"
    assert json.loads(runtime.run("events", "--stats", cid).stdout)["data"]["hugetlb"]["2MB"] \
        ["usage"] == 0
    runtime.delete(cid, force=True)


def test_hugepage_bad_page_size_fails_cleanly(runtime, make_bundle):
    b = resources(make_bundle(args=["true"]),
                  hugepageLimits=[{"pageSize": "3MB", "limit": 4 * MB}])
    p = runtime.create(b, check=False)
    assert p.returncode == 1 and "3MB" in p.stderr, p.stderr


def test_devices_deny_and_allow(runtime, make_bundle):
    # /dev/loop-control bound in: the bundle's "deny all" makes it unusable, an allow rule for it
    # makes it usable
    deny_all = [{"allow": False, "access": "rwm"}]
    code, out, err = run_with_loop_control(runtime, make_bundle, deny_all)
    assert "open-ok" not in out and "Operation not permitted" in err, (out, err)
    assert "null-ok" in out
    code, out, err = run_with_loop_control(
        runtime, make_bundle, deny_all + [{"allow": True, **LOOP_CONTROL, "access": "rw"}])
    assert "open-ok" in out, (out, err)


def test_devices_list_on_host(runtime, make_bundle):
    b = make_bundle()
    b.config["linux"]["resources"]["devices"] = [
        {"allow": False, "access": "rwm"},
        {"allow": True, "type": "c", "major": 10, "minor": 200, "access": "rw"}]
    b.write()
    cid = runtime.create(b)
    lst = cg(runtime.container_pid(cid), "devices", "devices.list").splitlines()
    assert "c 10:200 rw" in lst and "c 1:3 rwm" in lst and "a *:* rwm" not in lst, lst
    runtime.delete(cid, force=True)


def test_default_device_stays_usable_after_a_deny_rule(runtime, make_bundle):
    # runc appends its default device rules (null, zero, ...) after the spec's: a deny of
    # /dev/null in linux.resources.devices does not take it away.  Same here.
    b = make_bundle(args=["sh", "-c", "echo x >/dev/null && echo null-ok; "
                                      "head -c1 /dev/zero >/dev/null && echo zero-ok"])
    b.config["linux"]["resources"]["devices"].append(
        {"allow": False, "type": "c", "major": 1, "minor": 3, "access": "rwm"})
    b.write()
    code, out, err = runtime.run_bundle(b)
    assert code == 0 and out.split() == ["null-ok", "zero-ok"], (out, err)


def test_every_hierarchy_holds_the_container(runtime, make_bundle):
    cid, pid = created(runtime, make_bundle)
    cgs = proc_cgroups(pid)
    for c in V1:
        assert cgs[c].endswith("/" + cid), (c, cgs[c])
        assert str(pid) in cg(pid, c, "cgroup.procs").split(), c
    assert cgs[""].endswith("/" + cid)
    assert str(pid) in cg(pid, "", "cgroup.procs").split()
    runtime.delete(cid, force=True)
    for c in V1:
        assert not (CGROUP_ROOT / c / cgs[c].lstrip("/")).exists(), c


# ---------------------------------------------------------------------------------------------
# cgroupsPath


def test_cgroups_path_absolute(runtime, make_bundle):
    cid = new_id()
    b = make_bundle()
    b.config["linux"]["cgroupsPath"] = f"/berth-test/{cid}-abs"
    b.write()
    runtime.create(b, cid=cid)
    pid = runtime.container_pid(cid)
    for c in ("memory", "pids", "freezer"):
        assert proc_cgroups(pid)[c] == f"/berth-test/{cid}-abs"
    assert (CGROUP_ROOT / "memory" / "berth-test" / f"{cid}-abs").is_dir()
    runtime.delete(cid, force=True)
    assert not (CGROUP_ROOT / "memory" / "berth-test" / f"{cid}-abs").exists()
    # the parent goes with it when the runtime made it; one another test made may stay
    for c in V1 + ("unified", "systemd"):
        try:
            (CGROUP_ROOT / c / "berth-test").rmdir()
        except OSError:
            pass


def test_cgroups_path_relative(runtime, make_bundle):
    cid = new_id()
    b = make_bundle()
    b.config["linux"]["cgroupsPath"] = f"{cid}-rel"
    b.write()
    runtime.create(b, cid=cid)
    pid = runtime.container_pid(cid)
    path = proc_cgroups(pid)["pids"]
    assert path.endswith(f"/{cid}-rel"), path
    assert (CGROUP_ROOT / "pids" / path.lstrip("/")).is_dir()
    runtime.delete(cid, force=True)
    assert not (CGROUP_ROOT / "pids" / path.lstrip("/")).exists()


def test_cgroups_path_relative_parents_removed(runtime, make_bundle):
    """A relative cgroupsPath with parents that did not exist: delete removes the directories
    create made, in every hierarchy, and nothing above them."""
    cid = new_id()
    b = make_bundle()
    b.config["linux"]["cgroupsPath"] = f"{cid}-top/mid/leaf"
    b.write()
    runtime.create(b, cid=cid)
    pid = runtime.container_pid(cid)
    cgs = proc_cgroups(pid)
    dirs = {c: CGROUP_ROOT / c / cgs[c].lstrip("/") for c in ("memory", "pids", "freezer")}
    tops = {c: d.parent.parent for c, d in dirs.items()}
    assert all(t.name == f"{cid}-top" and t.is_dir() for t in tops.values()), tops
    runtime.delete(cid, force=True)
    for c, t in tops.items():
        assert not t.exists(), f"{t} left behind in {c}"
        assert t.parent.is_dir(), f"{t.parent} (not ours) was removed"


def test_cgroups_path_dotdot_refused(runtime, make_bundle):
    b = make_bundle()
    b.config["linux"]["cgroupsPath"] = "/berth/../../escape"
    b.write()
    p = runtime.create(b, check=False)
    assert p.returncode == 1 and ".." in p.stderr, p.stderr
    assert not (CGROUP_ROOT / "memory" / "escape").exists()


def test_systemd_cgroup_path(runtime, make_bundle):
    cid = new_id()
    b = make_bundle()
    b.config["linux"]["cgroupsPath"] = f"system.slice:berth:{cid}"
    b.write()
    had_slice = {c: (CGROUP_ROOT / c / "system.slice").exists() for c in V1}
    runtime.create(b, cid=cid, extra=(), global_args=("--systemd-cgroup",))
    pid = runtime.container_pid(cid)
    assert proc_cgroups(pid)["memory"] == f"/system.slice/berth-{cid}.scope"
    assert (CGROUP_ROOT / "pids" / "system.slice" / f"berth-{cid}.scope" / "cgroup.procs") \
        .read_text().split() == [str(pid)]
    runtime.run("delete", "--force", cid, global_args=("--systemd-cgroup",))
    for c in V1:
        assert not (CGROUP_ROOT / c / "system.slice" / f"berth-{cid}.scope").exists()
        if not had_slice[c]:
            try:
                (CGROUP_ROOT / c / "system.slice").rmdir()
            except OSError:
                pass


def test_systemd_cgroup_path_malformed(runtime, make_bundle):
    b = make_bundle()
    b.config["linux"]["cgroupsPath"] = "no-colons-here"
    b.write()
    p = runtime.create(b, check=False, global_args=("--systemd-cgroup",))
    assert p.returncode == 1 and "slice:prefix:name" in p.stderr, p.stderr


# ---------------------------------------------------------------------------------------------
# update


UPDATE_FLAGS = [
    # flag, value, controller, file, expected
    ("--memory", "48m", "memory", "memory.limit_in_bytes", str(48 * MB)),
    ("--memory-reservation", "24m", "memory", "memory.soft_limit_in_bytes", str(24 * MB)),
    ("--cpu-quota", "30000", "cpu", "cpu.cfs_quota_us", "30000"),
    ("--cpu-period", "60000", "cpu", "cpu.cfs_period_us", "60000"),
    ("--cpu-shares", "256", "cpu", "cpu.shares", "256"),
    ("--cpuset-mems", "0", "cpuset", "cpuset.mems", "0"),
    ("--pids-limit", "33", "pids", "pids.max", "33"),
]


def state_resources(runtime, cid):
    """linux.resources as recorded in the container's state directory."""
    for f in sorted((runtime.root / cid).iterdir()):
        if f.suffix == ".json":
            try:
                doc = json.loads(f.read_text())
            except ValueError:
                continue
            for cfg in (doc, doc.get("config", {}), doc.get("spec", {})):
                if isinstance(cfg, dict) and "linux" in cfg:
                    return cfg["linux"].get("resources", {})
    raise AssertionError(f"no config in {runtime.root / cid}")


def test_update_each_flag(runtime, make_bundle):
    cid, pid = created(runtime, make_bundle, memory={"limit": 64 * MB, "swap": 128 * MB})
    for flag, value, controller, name, want in UPDATE_FLAGS:
        runtime.run("update", flag, value, cid)
        assert cg(pid, controller, name) == want, flag
    last = str(os.cpu_count() - 1)
    runtime.run("update", "--cpuset-cpus", last, cid)
    assert cg(pid, "cpuset", "cpuset.cpus") == last
    runtime.run("update", "--memory-swap", "100m", cid)
    assert cg(pid, "memory", "memory.memsw.limit_in_bytes") == str(100 * MB)
    # the new values are what the state now records
    res = state_resources(runtime, cid)
    assert res["memory"]["limit"] == 48 * MB and res["memory"]["swap"] == 100 * MB
    assert res["cpu"]["shares"] == 256 and res["cpu"]["cpus"] == last
    assert res["pids"]["limit"] == 33
    runtime.delete(cid, force=True)


def test_update_minus_one_is_unlimited(runtime, make_bundle):
    cid, pid = created(runtime, make_bundle, memory={"limit": 64 * MB}, pids={"limit": 9})
    runtime.run("update", "--memory", "-1", cid)
    assert int(cg(pid, "memory", "memory.limit_in_bytes")) > 1 << 60
    # pids -1 is no limit; other negative values are refused (runc would read them as -1)
    p = runtime.fails("update", "-r", "-", cid, input='{"pids": {"limit": -5}}')
    assert p.returncode == 1 and "pids.limit" in p.stderr and "-5" in p.stderr, p.stderr
    assert cg(pid, "pids", "pids.max") == "9"
    runtime.run("update", "-r", "-", cid, input='{"pids": {"limit": -1}}')
    assert cg(pid, "pids", "pids.max") == "max"
    runtime.delete(cid, force=True)


def test_update_running_container_inside(runtime, make_bundle):
    b = make_bundle(args=["sleep", "100"])
    cid = runtime.create(b)
    runtime.start(cid)
    runtime.run("update", "--pids-limit", "5", cid)
    p = runtime.exec(cid, "sh", "-c", "for i in 1 2 3 4 5 6; do sleep 5 & done; echo done",
                     check=False)
    assert "can't fork" in p.stderr or "Resource temporarily unavailable" in p.stderr, p
    runtime.delete(cid, force=True)


def test_update_from_file_and_stdin(runtime, make_bundle, tmp_path):
    cid, pid = created(runtime, make_bundle)
    f = tmp_path / "res.json"
    f.write_text(json.dumps({"memory": {"limit": 40 * MB}, "cpu": {"shares": 300},
                             "pids": {"limit": 21}}))
    runtime.run("update", "-r", f, cid)
    assert cg(pid, "memory", "memory.limit_in_bytes") == str(40 * MB)
    assert cg(pid, "cpu", "cpu.shares") == "300"
    assert cg(pid, "pids", "pids.max") == "21"
    runtime.run("update", "-r", "-", cid, input=json.dumps({"pids": {"limit": 22}}))
    assert cg(pid, "pids", "pids.max") == "22"
    # untouched by the second update
    assert cg(pid, "cpu", "cpu.shares") == "300"
    res = state_resources(runtime, cid)
    assert res["pids"]["limit"] == 22 and res["cpu"]["shares"] == 300
    runtime.delete(cid, force=True)


@pytest.mark.parametrize("args,words", [
    (("--memory", "abc"), ["abc", "memory"]),
    (("--pids-limit", "ten"), ["ten"]),
    (("--cpu-shares", "1.5"), ["1.5"]),
])
def test_update_bad_flag_values(runtime, make_bundle, args, words):
    cid, pid = created(runtime, make_bundle, pids={"limit": 9})
    p = runtime.fails("update", *args, cid)
    assert p.returncode == 1
    for w in words:
        assert w in p.stderr, p.stderr
    assert cg(pid, "pids", "pids.max") == "9"
    runtime.delete(cid, force=True)


@pytest.mark.parametrize("doc,word", [
    ('{"pids": {"limit": "many"}}', "limit"),
    ('{"memory": {"limit": -5}} x', ""),
    ('[1, 2]', "object"),
    ('{"cpu": {"shares": {}}}', "shares"),
])
def test_update_bad_resources_json(runtime, make_bundle, doc, word):
    cid, pid = created(runtime, make_bundle, pids={"limit": 9})
    p = runtime.fails("update", "-r", "-", cid, input=doc)
    assert p.returncode == 1 and word in p.stderr, p.stderr
    assert cg(pid, "pids", "pids.max") == "9"
    assert state_resources(runtime, cid)["pids"]["limit"] == 9
    runtime.delete(cid, force=True)


def test_update_refuses_device_rules(runtime, make_bundle):
    # applied alone they would drop the default devices from a running container
    cid, pid = started(runtime, make_bundle)
    before = cg(pid, "devices", "devices.list")
    p = runtime.fails("update", "-r", "-", cid,
                      input='{"devices": [{"allow": false, "access": "rwm"}]}')
    assert p.returncode == 1 and "devices" in p.stderr, p.stderr
    assert cg(pid, "devices", "devices.list") == before
    assert runtime.exec(cid, "sh", "-c", "echo x >/dev/null && echo ok").stdout == "ok\n"
    runtime.delete(cid, force=True)


def test_update_cpuset_out_of_range_changes_nothing(runtime, make_bundle):
    cid, pid = created(runtime, make_bundle, pids={"limit": 9}, memory={"limit": 64 * MB})
    before = cg(pid, "cpuset", "cpuset.cpus")
    p = runtime.fails("update", "--cpuset-cpus", "99999", "--pids-limit", "11",
                      "--memory", "32m", cid)
    assert p.returncode == 1 and "99999" in p.stderr, p.stderr
    # nothing of the update is in force, nor recorded
    assert cg(pid, "cpuset", "cpuset.cpus") == before
    assert cg(pid, "pids", "pids.max") == "9"
    assert cg(pid, "memory", "memory.limit_in_bytes") == str(64 * MB)
    res = state_resources(runtime, cid)
    assert res["pids"]["limit"] == 9 and res["memory"]["limit"] == 64 * MB
    assert res.get("cpu", {}).get("cpus") is None
    runtime.delete(cid, force=True)


def test_update_memory_pair_refused_changes_nothing(runtime, make_bundle):
    # memory+swap below memory: the kernel refuses memsw after the memory limit was written;
    # the memory limit in force before the update is put back
    cid, pid = created(runtime, make_bundle, memory={"limit": 64 * MB, "swap": 96 * MB})
    p = runtime.fails("update", "--memory", "32m", "--memory-swap", "16m", cid)
    assert p.returncode == 1 and "memsw" in p.stderr, p.stderr
    assert cg(pid, "memory", "memory.limit_in_bytes") == str(64 * MB)
    assert cg(pid, "memory", "memory.memsw.limit_in_bytes") == str(96 * MB)
    runtime.delete(cid, force=True)


def test_update_without_values_or_container(runtime, make_bundle):
    cid, _ = created(runtime, make_bundle)
    p = runtime.fails("update", cid)
    assert p.returncode == 1
    p = runtime.fails("update", "--memory", "10m", "no-such-container")
    assert p.returncode == 1 and "no-such-container" in p.stderr
    p = runtime.fails("update", "-r", "/nonexistent/res.json", cid)
    assert "/nonexistent/res.json" in p.stderr
    runtime.delete(cid, force=True)


def test_create_with_bad_values_leaves_nothing(runtime, make_bundle):
    for groups, word in [({"cpu": {"cpus": "99999"}}, "cpus"),
                         ({"memory": {"limit": "abc"}}, "limit"),
                         ({"pids": {"limit": "x"}}, "limit")]:
        b = resources(make_bundle(args=["true"]), **groups)
        cid = new_id()
        p = runtime.create(b, cid=cid, check=False)
        assert p.returncode == 1 and word in p.stderr, (groups, p.stderr)
        assert not (runtime.root / cid).exists()
        for c in V1:
            assert not (CGROUP_ROOT / c / "berth" / cid).exists()


# ---------------------------------------------------------------------------------------------
# pause / resume, kill --all, ps, events


def started(runtime, make_bundle, args=("sleep", "100")):
    b = make_bundle(args=list(args))
    cid = runtime.create(b)
    runtime.start(cid)
    return cid, runtime.container_pid(cid)


def test_pause_resume(runtime, make_bundle):
    cid, pid = started(runtime, make_bundle)
    runtime.run("pause", cid)
    assert cg(pid, "freezer", "freezer.state") == "FROZEN"
    assert runtime.status(cid) == "paused"
    assert proc_state(pid) in ("D", "T"), proc_state(pid)
    p = runtime.fails("exec", cid, "true")
    assert p.returncode == 1 and "paused" in p.stderr, p.stderr
    runtime.fails("pause", cid, code=1, says="container not running")  # already paused
    runtime.run("resume", cid)
    assert cg(pid, "freezer", "freezer.state") == "THAWED"
    assert runtime.status(cid) == "running"
    assert runtime.exec(cid, "echo", "alive").stdout == "alive\n"
    p = runtime.fails("resume", cid)
    assert p.returncode == 1 and "not paused" in p.stderr
    runtime.delete(cid, force=True)


def test_kill_all_of_a_paused_container(runtime, make_bundle):
    cid, pid = started(runtime, make_bundle, args=["sh", "-c", "sleep 100 & sleep 100 & wait"])
    procs = wait_until(lambda: len(cg(pid, "pids", "cgroup.procs").split()) >= 3 and
                       cg(pid, "pids", "cgroup.procs").split())
    assert procs
    runtime.run("pause", cid)
    runtime.kill(cid, "KILL", "--all")
    assert wait_until(lambda: all(proc_state(int(p)) in (None, "Z") for p in procs))
    runtime.wait_status(cid, "stopped")
    runtime.delete(cid)


def test_kill_of_a_paused_container(runtime, make_bundle):
    cid, pid = started(runtime, make_bundle)
    runtime.run("pause", cid)
    # ps and events still work on a frozen container
    assert json.loads(runtime.run("ps", "--format", "json", cid).stdout) == [pid]
    assert json.loads(runtime.run("events", "--stats", cid).stdout)["data"]["pids"]["current"] == 1
    p = runtime.fails("delete", cid)
    assert p.returncode == 1 and "paused" in p.stderr
    # SIGKILL lands (the cgroup is thawed for it, as runc does); other signals wait
    runtime.kill(cid, "KILL")
    runtime.wait_status(cid, "stopped", timeout=5)
    assert cg_gone_or_thawed(pid)
    runtime.delete(cid)
    p = runtime.fails("update", "--memory", "10m", cid)
    assert p.returncode == 1


def cg_gone_or_thawed(pid):
    return wait_until(lambda: proc_state(pid) in (None, "Z"))


def test_update_of_a_stopped_container(runtime, make_bundle):
    cid, pid = created(runtime, make_bundle, args=["true"])
    runtime.start(cid)
    runtime.wait_status(cid, "stopped")
    p = runtime.fails("update", "--pids-limit", "5", cid)
    assert p.returncode == 1 and "not running" in p.stderr, p.stderr
    runtime.delete(cid)


def test_delete_force_of_a_paused_container(runtime, make_bundle):
    cid, pid = started(runtime, make_bundle)
    runtime.run("pause", cid)
    freezer = cgroup_dir(pid, "freezer")
    runtime.delete(cid, force=True)
    assert not freezer.exists()
    assert wait_until(lambda: proc_state(pid) in (None, "Z"))


def test_ps_lists_the_cgroups_processes(runtime, make_bundle):
    cid, pid = started(runtime, make_bundle, args=["sh", "-c", "sleep 100 & sleep 101 & wait"])
    assert wait_until(lambda: len(cg(pid, "pids", "cgroup.procs").split()) == 3)
    procs = sorted(int(p) for p in cg(pid, "pids", "cgroup.procs").split())
    out = runtime.run("ps", "--format", "json", cid).stdout
    assert sorted(json.loads(out)) == procs
    table = runtime.run("ps", cid).stdout.splitlines()
    assert "PID" in table[0].split()
    col = table[0].split().index("PID")
    assert sorted(int(line.split()[col]) for line in table[1:]) == procs
    assert any("sleep 101" in line for line in table[1:])
    # ps(1) options after the id replace the default -ef
    custom = runtime.run("ps", cid, "-o", "pid,args").stdout.splitlines()
    assert custom[0].split() == ["PID", "COMMAND"]
    assert sorted(int(line.split()[0]) for line in custom[1:]) == procs
    p = runtime.fails("ps", "--format", "yaml", cid)
    assert "yaml" in p.stderr
    runtime.delete(cid, force=True)


def test_events_stats(runtime, make_bundle):
    cid, pid = started(runtime, make_bundle, args=["sh", "-c", "sleep 100 & sleep 101 & wait"])
    assert wait_until(lambda: len(cg(pid, "pids", "cgroup.procs").split()) == 3)
    runtime.run("update", "--memory", "50m", "--pids-limit", "40", cid)
    ev = json.loads(runtime.run("events", "--stats", cid).stdout)
    assert ev["type"] == "stats" and ev["id"] == cid
    d = ev["data"]
    assert d["pids"]["current"] == 3 and d["pids"]["limit"] == 40
    assert d["memory"]["usage"]["usage"] > 0
    assert d["memory"]["usage"]["limit"] == 50 * MB
    assert d["cpu"]["usage"]["total"] > 0
    runtime.delete(cid, force=True)
    runtime.fails("events", "--stats", cid, code=1, says=f"'{cid}'")


def test_events_stream_until_the_container_stops(runtime, make_bundle):
    cid, pid = started(runtime, make_bundle, args=["sleep", "0.5"])
    out = runtime.run("events", "--interval", "100ms", cid, timeout=10).stdout
    evs = [json.loads(line) for line in out.splitlines()]
    assert len(evs) >= 2 and all(e["type"] == "stats" and e["id"] == cid for e in evs), out
    assert runtime.status(cid) == "stopped"
    runtime.delete(cid)


def test_events_bad_interval(runtime, make_bundle):
    cid, _ = created(runtime, make_bundle)
    p = runtime.fails("events", "--interval", "soon", cid)
    assert "soon" in p.stderr
    runtime.delete(cid, force=True)


# ---------------------------------------------------------------------------------------------
# delete


def test_delete_removes_child_cgroups(runtime, make_bundle):
    cid, pid = started(runtime, make_bundle)
    dirs = {c: cgroup_dir(pid, c) for c in ("memory", "pids", "cpu", "freezer", "")}
    for d in dirs.values():
        (d / "child" / "grandchild").mkdir(parents=True)
    # a process of the container moved into a child cgroup goes too
    (dirs["pids"] / "child" / "cgroup.procs").write_text(str(pid))
    runtime.delete(cid, force=True)
    for c, d in dirs.items():
        assert not d.exists(), (c, d)
    assert wait_until(lambda: proc_state(pid) in (None, "Z"))


def test_delete_of_stopped_container_removes_cgroup(runtime, make_bundle):
    cid, pid = created(runtime, make_bundle, args=["true"])
    mem = cgroup_dir(pid, "memory")
    runtime.start(cid)
    runtime.wait_status(cid, "stopped")
    assert mem.exists()
    runtime.delete(cid)
    assert not mem.exists()
