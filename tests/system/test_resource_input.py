"""Resource input as the real callers send it (runc's rules, which dockerd and containerd rely
on): every field present, 0 for what the user did not set, on create and on update.  0 leaves
the value in force (at create: the kernel's default, unlimited); a memory reservation of 0 is no
soft limit; an update that the kernel refuses changes nothing, and one it accepts keeps what it
asked for.  Effects are read in the host's cgroup files (the v1 driver on this host)."""

import json

import pytest

from berth import cgroup_dir, cgroup_v1

MB = 1024 * 1024
UNLIMITED = 1 << 60  # v1 prints "no limit" as a page-rounded LONG_MAX

# The values are read in v1 files; on a pure v2 host the same rule (0 leaves a value alone) is
# berth_resources_parse's, the driver's input, and the guest checks update on v2 (tests/guest).
V1_ONLY = "reads the v1 driver's files: this host has no cgroup v1 hierarchies (pure cgroup v2)"
pytestmark = [pytest.mark.skipif(not cgroup_v1(), reason=V1_ONLY),
              pytest.mark.allowed_skip(reason=V1_ONLY)]


def cg(pid, controller, name):
    return (cgroup_dir(pid, controller) / name).read_text().strip()


def state_resources(runtime, cid):
    doc = json.loads((runtime.root / cid / "state.json").read_text())
    return doc["config"]["linux"].get("resources", {})


# What dockerd (20.10, daemon/update_linux.go) hands containerd for `docker update`: the cpu
# group always (0 for what was not given), the memory group always, pids when given.
def dockerd_update(memory=None, quota=0, period=0, pids=None):
    doc = {"memory": {}, "cpu": {"shares": 0, "quota": quota, "period": period,
                                 "realtimeRuntime": 0, "realtimePeriod": 0,
                                 "cpus": "", "mems": ""},
           "blockIO": {"weight": 0}}
    if memory is not None:
        doc["memory"]["limit"] = memory
    if pids is not None:
        doc["pids"] = {"limit": pids}
    return json.dumps(doc)


@pytest.fixture
def limited(runtime, make_bundle):
    """A created container with memory, reservation, cpu quota/period/shares and pids set."""
    b = make_bundle(args=["sleep", "100"])
    b.config["linux"]["resources"] = {
        "memory": {"limit": 64 * MB, "reservation": 32 * MB},
        "cpu": {"shares": 512, "quota": 50000, "period": 100000},
        "pids": {"limit": 20},
    }
    b.write()
    cid = runtime.create(b)
    return cid, runtime.container_pid(cid)


def test_update_memory_alone_as_dockerd_sends_it(runtime, limited):
    cid, pid = limited
    runtime.run("update", "-r", "-", cid, input=dockerd_update(memory=128 * MB))
    assert cg(pid, "memory", "memory.limit_in_bytes") == str(128 * MB)
    # the zeros left everything else as it was
    assert cg(pid, "cpu", "cpu.cfs_quota_us") == "50000"
    assert cg(pid, "cpu", "cpu.cfs_period_us") == "100000"
    assert cg(pid, "cpu", "cpu.shares") == "512"
    assert cg(pid, "pids", "pids.max") == "20"
    assert cg(pid, "memory", "memory.soft_limit_in_bytes") == str(32 * MB)
    # and the record keeps the values in force, not the zeros
    res = state_resources(runtime, cid)
    assert res["memory"]["limit"] == 128 * MB and res["memory"]["reservation"] == 32 * MB
    assert res["cpu"]["quota"] == 50000 and res["cpu"]["shares"] == 512
    assert "cpus" not in res["cpu"]
    runtime.delete(cid, force=True)


def test_update_cpus_and_pids_as_dockerd_sends_them(runtime, limited):
    cid, pid = limited
    # docker update --cpus 0.25 --pids-limit 40
    runtime.run("update", "-r", "-", cid,
                input=dockerd_update(quota=25000, period=100000, pids=40))
    assert cg(pid, "cpu", "cpu.cfs_quota_us") == "25000"
    assert cg(pid, "pids", "pids.max") == "40"
    assert cg(pid, "memory", "memory.limit_in_bytes") == str(64 * MB)
    assert cg(pid, "cpu", "cpu.shares") == "512"
    runtime.delete(cid, force=True)


def test_update_all_together_as_dockerd_sends_them(runtime, limited):
    cid, pid = limited
    runtime.run("update", "-r", "-", cid,
                input=dockerd_update(memory=96 * MB, quota=150000, period=100000, pids=-1))
    assert cg(pid, "memory", "memory.limit_in_bytes") == str(96 * MB)
    assert cg(pid, "cpu", "cpu.cfs_quota_us") == "150000"
    assert cg(pid, "pids", "pids.max") == "max"
    runtime.delete(cid, force=True)


def test_update_of_nothing_changes_nothing(runtime, limited):
    """`docker update --restart always` of a running container sends an update of zeros."""
    cid, pid = limited
    before = {(c, f): cg(pid, c, f) for c, f in [
        ("memory", "memory.limit_in_bytes"), ("memory", "memory.soft_limit_in_bytes"),
        ("cpu", "cpu.cfs_quota_us"), ("cpu", "cpu.cfs_period_us"), ("cpu", "cpu.shares"),
        ("pids", "pids.max"), ("cpuset", "cpuset.cpus")]}
    runtime.run("update", "-r", "-", cid, input=dockerd_update())
    assert {k: cg(pid, *k) for k in before} == before
    runtime.delete(cid, force=True)


def test_update_flags_zero_leave_values(runtime, limited):
    cid, pid = limited
    runtime.run("update", "--memory", "0", "--cpu-quota", "0", "--pids-limit", "0",
                "--memory-reservation", "0", cid)
    assert cg(pid, "memory", "memory.limit_in_bytes") == str(64 * MB)
    assert cg(pid, "memory", "memory.soft_limit_in_bytes") == str(32 * MB)
    assert cg(pid, "cpu", "cpu.cfs_quota_us") == "50000"
    assert cg(pid, "pids", "pids.max") == "20"
    runtime.delete(cid, force=True)


def test_create_with_zeros_runs_unlimited(runtime, make_bundle):
    """A config whose resources are all 0 (what dockerd writes for a plain `docker run`)."""
    b = make_bundle(args=["sh", "-c", "echo ok"])
    b.config["linux"]["resources"] = {
        "memory": {"limit": 0, "reservation": 0, "swap": 0, "kernel": 0, "kernelTCP": 0},
        "cpu": {"shares": 0, "quota": 0, "period": 0, "realtimeRuntime": 0,
                "realtimePeriod": 0, "cpus": "", "mems": ""},
        "pids": {"limit": 0},
        "blockIO": {"weight": 0, "leafWeight": 0},
    }
    b.config["process"]["args"] = ["sleep", "100"]
    b.write()
    cid = runtime.create(b)
    pid = runtime.container_pid(cid)
    assert int(cg(pid, "memory", "memory.limit_in_bytes")) > UNLIMITED
    # reservation 0 is no soft limit, not a soft limit of 0
    assert int(cg(pid, "memory", "memory.soft_limit_in_bytes")) > UNLIMITED
    assert cg(pid, "cpu", "cpu.cfs_quota_us") == "-1"
    assert cg(pid, "pids", "pids.max") == "max"
    assert cg(pid, "cpu", "cpu.shares") == "1024"
    runtime.start(cid)
    assert runtime.status(cid) == "running"
    runtime.delete(cid, force=True)


def test_failed_update_changes_nothing_and_a_good_one_sticks(runtime, limited):
    cid, pid = limited
    # the kernel refuses the cpuset: nothing of this update is in force
    p = runtime.fails("update", "-r", "-", cid,
                      input=json.dumps({"memory": {"limit": 300 * MB},
                                        "cpu": {"cpus": "99999"}}))
    assert "99999" in p.stderr, p.stderr
    assert cg(pid, "memory", "memory.limit_in_bytes") == str(64 * MB)
    # the same memory change alone is applied and recorded
    runtime.run("update", "-r", "-", cid, input=dockerd_update(memory=300 * MB))
    assert cg(pid, "memory", "memory.limit_in_bytes") == str(300 * MB)
    assert state_resources(runtime, cid)["memory"]["limit"] == 300 * MB
    runtime.delete(cid, force=True)


def test_version_has_a_commit_line(runtime):
    """dockerd reads `runtime --version` for `docker info`'s runtime version: runc's lines."""
    out = runtime.run("--version").stdout.splitlines()
    assert out[0].startswith("berth-runtime version "), out
    commit = [line for line in out if line.startswith("commit: ")]
    assert len(commit) == 1 and len(commit[0]) > len("commit: "), out
    assert any(line.startswith("spec: ") for line in out), out
