"""berth run/create's namespace, resource, logging and image flags against a private berthd:
--uts, --userns, --pid, --ipc, --group-add, --domainname, --memory-reservation,
--memory-swappiness, --cpu-period/--cpu-quota, --cpu-rt-*, --oom-kill-disable, --oom-score-adj,
--sysctl, --log-driver/--log-opt (json-file, local, none), --cidfile, --pull, --platform, -a.
Each is checked by its effect on a real container (cgroup files from the host, /proc files and
ids from inside, the log files); the create request is compared with the one the docker CLI 28
makes from the same flags (as berthd recorded both), and bad values with docker's messages and
exit codes on the same berthd.
"""

import json
import os
from pathlib import Path

import pytest

from cli import DOCKER28, need_docker28, ok, refused_as_docker
from daemon import container_json, needs_berthd

pytestmark = [needs_berthd]


def rm(cli, *names):
    cli.run("rm", "-f", *names)


def host_cgroup_dir(pid, controller):
    """The container's cgroup directory for a v1 controller, from the host's side."""
    for line in Path(f"/proc/{pid}/cgroup").read_text().splitlines():
        _, ctls, path = line.split(":", 2)
        if controller in ctls.split(","):
            mount = next(d for d in Path("/sys/fs/cgroup").iterdir()
                         if controller in d.name.split(","))
            return mount / path.lstrip("/")
    raise AssertionError(f"no {controller} cgroup for {pid}")


# ---- effects ----------------------------------------------------------------------------------

def test_namespace_flags(cli):
    out = ok(cli.run("run", "--rm", "--uts", "host", "--userns", "host", "--pid", "host",
                     "--ipc", "host", "busybox", "sh", "-c",
                     "hostname; for n in user pid ipc uts; do readlink /proc/self/ns/$n; done"))
    assert out.split() == [os.uname().nodename] + [
        os.readlink(f"/proc/self/ns/{n}") for n in ("user", "pid", "ipc", "uts")]
    # without them: namespaces of its own (but the user namespace, which berth never makes)
    out = ok(cli.run("run", "--rm", "busybox", "sh", "-c",
                     "for n in pid ipc uts; do readlink /proc/self/ns/$n; done")).split()
    assert not set(out) & {os.readlink(f"/proc/self/ns/{n}") for n in ("pid", "ipc", "uts")}


def test_identity_flags(cli):
    out = ok(cli.run("run", "--rm", "--group-add", "1234", "--group-add", "nogroup",
                     "--domainname", "example.org", "-h", "box", "--oom-score-adj", "321",
                     "busybox", "sh", "-c",
                     "id -G; cat /proc/sys/kernel/domainname /proc/sys/kernel/hostname "
                     "/proc/self/oom_score_adj"))
    assert out.split("\n")[:4] == ["0 1234 65534", "example.org", "box", "321"]
    # a group the image does not have: docker's message, at start (exit 125 from run)
    p = cli.run("run", "--rm", "--group-add", "no-such-group", "busybox", "true")
    assert p.returncode == 125
    assert "Unable to find group no-such-group: no matching entries in group file" in p.stderr


def test_resource_flags_in_the_cgroups(cli):
    name = "rf-res"
    ok(cli.run("run", "-d", "--name", name, "-m", "128m", "--memory-reservation", "64m",
               "--memory-swappiness", "10", "--oom-kill-disable", "--cpu-period", "50000",
               "--cpu-quota", "25000", "busybox", "sleep", "300"))
    try:
        pid = container_json(cli.berthd, name)["State"]["Pid"]
        mem, cpu = host_cgroup_dir(pid, "memory"), host_cgroup_dir(pid, "cpu")
        assert int((mem / "memory.soft_limit_in_bytes").read_text()) == 64 << 20
        assert int((mem / "memory.limit_in_bytes").read_text()) == 128 << 20
        assert int((mem / "memory.swappiness").read_text()) == 10
        assert "oom_kill_disable 1" in (mem / "memory.oom_control").read_text()
        assert int((cpu / "cpu.cfs_period_us").read_text()) == 50000
        assert int((cpu / "cpu.cfs_quota_us").read_text()) == 25000
        hc = container_json(cli.berthd, name)["HostConfig"]
        assert (hc["MemoryReservation"], hc["CpuPeriod"], hc["CpuQuota"]) == \
            (64 << 20, 50000, 25000)
    finally:
        rm(cli, name)


def test_sysctl_flag(cli):
    out = ok(cli.run("run", "--rm", "--sysctl", "kernel.shm_rmid_forced=1", "busybox", "cat",
                     "/proc/sys/kernel/shm_rmid_forced"))
    assert out.strip() == "1"


def test_attach_picks_the_streams(cli):
    script = "echo to-out; echo to-err >&2"
    p = cli.run("run", "--rm", "-a", "stdout", "busybox", "sh", "-c", script)
    assert (p.returncode, p.stdout, p.stderr) == (0, "to-out\n", "")
    p = cli.run("run", "--rm", "-a", "STDERR", "busybox", "sh", "-c", script)
    assert (p.returncode, p.stdout, p.stderr) == (0, "", "to-err\n")
    p = cli.run("run", "--rm", "busybox", "sh", "-c", script)
    assert (p.stdout, p.stderr) == ("to-out\n", "to-err\n")


# ---- logging ----------------------------------------------------------------------------------

def test_log_driver_local_rotates_and_reads(cli):
    name = "rf-local"
    ok(cli.run("run", "--name", name, "--log-driver", "local", "--log-opt", "max-size=1k",
               "--log-opt", "max-file=2", "busybox", "sh", "-c",
               "i=0; while [ $i -lt 200 ]; do echo line-$i; i=$((i+1)); done"))
    try:
        st = container_json(cli.berthd, name)
        assert st["HostConfig"]["LogConfig"] == {"Type": "local",
                                                 "Config": {"max-size": "1k", "max-file": "2"}}
        # docker's local driver shows no LogPath; berth's file is in the container's directory
        assert st["LogPath"] == ""
        log = Path(st["GraphDriver"]["Data"]["MergedDir"]).parent / "local-logs" / "container.log"
        assert log.is_file()
        files = sorted(p.name for p in log.parent.iterdir())
        assert files == ["container.log", "container.log.1"]
        assert sum(p.stat().st_size for p in log.parent.iterdir()) < 3 * 1024
        lines = ok(cli.run("logs", name)).split()
        assert lines[-1] == "line-199" and 5 < len(lines) < 200
    finally:
        rm(cli, name)


def test_log_driver_none_has_no_logs(cli):
    name = "rf-nolog"
    p = cli.run("run", "--name", name, "--log-driver", "none", "busybox", "echo", "hi")
    try:
        assert (p.returncode, p.stdout) == (0, "hi\n")  # attached: the stream, not the log
        st = container_json(cli.berthd, name)
        assert st["LogPath"] == ""
        assert not [f for f in Path(st["GraphDriver"]["Data"]["MergedDir"]).parent.iterdir()
                    if f.name.endswith(".log") or f.name == "local-logs"]
        p = cli.run("logs", name)
        assert p.returncode == 1
        assert p.stderr == ("Error response from daemon: configured logging driver does not "
                            "support reading\n")
    finally:
        rm(cli, name)


# ---- cidfile, pull, platform ------------------------------------------------------------------

def test_cidfile(cli, tmp_path):
    cid = tmp_path / "cid"
    out = ok(cli.run("run", "-d", "--cidfile", str(cid), "busybox", "sleep", "300"))
    try:
        assert cid.read_text() == out.strip() and len(out.strip()) == 64
        assert container_json(cli.berthd, out.strip())["HostConfig"]["ContainerIDFile"] == str(cid)
        # a file that is there: refused before anything is created, the file left alone
        before = ok(cli.run("ps", "-aq"))
        p = cli.run("run", "--cidfile", str(cid), "busybox", "true")
        assert p.returncode == 125
        assert p.stderr.startswith(f"berth: container ID file found, make sure the other "
                                   f"container isn't running or delete {cid}\n")
        p = cli.run("create", "--cidfile", str(cid), "busybox", "true")
        assert p.returncode == 1 and "container ID file found" in p.stderr
        assert ok(cli.run("ps", "-aq")) == before and cid.read_text() == out.strip()
    finally:
        rm(cli, out.strip())
    # a create that fails leaves no file behind
    p = cli.run("run", "--cidfile", str(tmp_path / "cid2"), "--pull", "never", "busybox:nosuch")
    assert p.returncode == 125 and not (tmp_path / "cid2").exists()


def test_pull_policy(cli):
    # never: a missing image is an error, nothing pulled
    p = cli.run("run", "--rm", "--pull", "never", "busybox:nosuch", "true")
    assert p.returncode == 125
    assert "Unable to find image" not in p.stderr
    assert "No such image: busybox:nosuch" in p.stderr
    # always: pulls even though busybox is here (the tests' berthd reaches no registry: the
    # pull's failure shows it was tried)
    p = cli.run("run", "--rm", "--pull", "always", "busybox", "true")
    assert p.returncode == 125 and "registry-1.docker.io" in p.stderr, p.stderr
    # missing (the default): busybox is here, runs without a pull
    p = cli.run("run", "--rm", "--pull", "missing", "busybox", "echo", "ran")
    assert (p.returncode, p.stdout) == (0, "ran\n")


def test_platform(cli, bd):
    for plat in ("linux/amd64", "amd64", "Linux/x86_64"):
        p = cli.run("run", "--rm", "--platform", plat, "busybox", "echo", "ran")
        assert (p.returncode, p.stdout) == (0, "ran\n"), (plat, p.stderr)
    # another platform: berthd has no such image ("does not match"), so it is pulled, which
    # cannot work here
    status, _, data = bd.http("POST", "/containers/create?platform=linux/arm64",
                              body=json.dumps({"Image": "busybox"}).encode(),
                              headers={"Content-Type": "application/json"})
    assert status == 404 and b"does not match the specified platform" in data
    p = cli.run("run", "--rm", "--platform", "linux/arm64", "busybox", "true")
    assert p.returncode == 125 and "Unable to find image 'busybox:latest' locally" in p.stderr


# ---- bad values: berth's answer is docker 28's on the same berthd -----------------------------

BAD = [
    ["--userns", "private"], ["--uts", "container:x"], ["--pid", "nope"], ["--ipc", "nope"],
    ["--cgroupns", "nope"], ["--memory-swappiness", "101"], ["--memory-reservation", "lots"],
    ["--cpu-period", "1.5"], ["--cpu-quota", "x"], ["--cpu-rt-period", "1000"],
    ["--cpu-rt-runtime", "1000"], ["--oom-score-adj", "1001"], ["--oom-score-adj", "x"],
    ["--log-driver", "syslog"], ["--log-driver", "none", "--log-opt", "max-size=1m"],
    ["--log-opt", "nope=1"], ["--log-driver", "local", "--log-opt", "labels=x"],
    ["--pull", "sometimes"], ["--platform", "linux/amd64/v2/x"], ["--platform", "bogus"],
    ["-a", "stdall"],
    ["-d", "-a", "stdout"], ["--link", "a:b:c"], ["--sysctl", "vm.swappiness=1"],
    ["--sysctl", "kernel.domainname"],
]


@DOCKER28
@pytest.mark.parametrize("flags", BAD, ids=[" ".join(f) for f in BAD])
def test_bad_values_as_docker(cli, flags):
    need_docker28()
    refused_as_docker(cli, "run", "--rm", *flags, "busybox", "true")


# ---- the docker CLI: the same request, honoured -----------------------------------------------

FLAGS = ["--userns", "host", "--pid", "host", "--group-add", "1234",
         "--domainname", "example.org", "--memory-reservation", "32m", "-m", "64m",
         "--memory-swappiness", "5", "--cpu-period", "100000", "--cpu-quota", "50000",
         "--oom-kill-disable", "--oom-score-adj", "7", "--sysctl", "net.ipv4.ip_forward=1",
         "--log-driver", "json-file", "--log-opt", "max-size=2m", "--log-opt", "max-file=2",
         "--ipc", "shareable", "--cgroupns", "private", "-a", "stdout", "-a", "stderr"]


@DOCKER28
def test_create_request_same_as_docker(cli, tmp_path):
    need_docker28()
    p = cli.run("create", "--name", "rf-berth", "--cidfile", str(tmp_path / "b"), *FLAGS,
                "busybox", "true")
    d = cli.docker("create", "--name", "rf-docker", "--cidfile", str(tmp_path / "d"), *FLAGS,
                   "busybox", "true")
    try:
        assert (p.returncode, d.returncode) == (0, 0), (p.stderr, d.stderr)
        b, k = container_json(cli.berthd, "rf-berth"), container_json(cli.berthd, "rf-docker")
        assert b["HostConfig"].pop("ContainerIDFile") == str(tmp_path / "b")
        assert k["HostConfig"].pop("ContainerIDFile") == str(tmp_path / "d")
        for key in ("Config", "HostConfig"):
            b[key].pop("Hostname", None), k[key].pop("Hostname", None)
            assert b[key] == k[key], key
        # and docker's own request is honoured: its container's effects
        ok(cli.docker("start", "rf-docker"))
        out = ok(cli.docker("run", "--rm", "--pid", "host", "--group-add", "1234", "--uts", "host",
                            "--oom-score-adj", "7",
                            "busybox", "sh", "-c", "id -G; cat /proc/self/oom_score_adj; "
                            "readlink /proc/self/ns/pid; hostname"))
        assert out.split() == ["0", "1234", "7", os.readlink("/proc/self/ns/pid"),
                               os.uname().nodename]
        out = ok(cli.docker("run", "--rm", "--domainname", "example.org", "busybox", "cat",
                            "/proc/sys/kernel/domainname"))
        assert out == "example.org\n"
    finally:
        rm(cli, "rf-berth", "rf-docker")


def test_links_without_a_default_bridge(cli):
    """This berthd runs with --bridge none: a link is refused at start, never ignored (the
    default bridge's links are in test_containers_net.py)."""
    ok(cli.run("create", "--name", "rf-child", "busybox", "true"))
    try:
        p = cli.run("run", "--rm", "--link", "rf-child:db", "busybox", "true")
        assert p.returncode == 125
        assert "links need the default bridge network, and berthd runs with --bridge none" \
            in p.stderr, p.stderr
        p = cli.run("create", "--link", "rf-nosuch:db", "busybox", "true")
        assert p.returncode == 1
        assert p.stderr == ("Error response from daemon: could not get container for rf-nosuch: "
                            "No such container: rf-nosuch\n")
    finally:
        rm(cli, "rf-child")


def test_pull_always_and_quiet_through_a_registry(cli):
    """--pull always pulls an image berthd has (from a registry on loopback); -q keeps the
    pull's progress off stderr; the run goes on either way."""
    from test_registry import Registry
    reg = Registry()
    name = f"{reg.host}/rf-busybox:1"
    try:
        ok(cli.run("tag", "busybox", name))
        ok(cli.run("push", name, timeout=120))
        p = cli.run("run", "--rm", "--pull", "always", name, "echo", "ran", timeout=120)
        assert (p.returncode, p.stdout) == (0, "ran\n"), p.stderr
        assert p.stderr.startswith("1: Pulling from rf-busybox\n"), p.stderr
        assert "Status: Image is up to date for " + name in p.stderr, p.stderr
        p = cli.run("run", "--rm", "-q", "--pull", "always", name, "echo", "ran", timeout=120)
        assert (p.returncode, p.stdout, p.stderr) == (0, "ran\n", "")
        # the registry gone: always fails at the pull, though the image is here
        reg.stop()
        reg = None
        p = cli.run("run", "--rm", "-q", "--pull", "always", name, "true", timeout=120)
        assert p.returncode == 125 and p.stderr, p
    finally:
        if reg:
            reg.stop()
        cli.run("rmi", "-f", name)


def test_run_detach_keys(cli):
    """run -it --detach-keys: those keys detach (berth exits 0, the container runs on), and
    ctrl-p ctrl-q are then the shell's own."""
    import pexpect
    child = pexpect.spawn(str(cli.binary), ["run", "-it", "--name", "rf-keys", "--detach-keys",
                                            "ctrl-x,x", "busybox", "sh"],
                          env=cli.env(), timeout=20)
    try:
        child.expect(r"[#$] ")
        child.send("\x10\x11")  # not the detach keys now: the shell gets them
        child.sendline("echo still-$((20+22))")
        child.expect("still-42")
        child.send("\x18x")
        child.expect(pexpect.EOF)
        child.close()
        assert child.exitstatus == 0
        assert container_json(cli.berthd, "rf-keys")["State"]["Running"]
    finally:
        child.close(force=True)
        rm(cli, "rf-keys")
