"""dockerd (Debian's docker.io) with berth-runtime as its default runtime, through containerd's
runc shim: what `docker` users do, each with the effect checked on the host (cgroup files,
processes) or inside.

The daemon is /work/shared/peers/private-dockerd.sh's (or $PRIVATE_DOCKERD, or the copy of that
script kept here when the machine has no /work/shared): its own network
namespace (so its bridge and firewall rules never touch the host's), data root, exec root and
socket under a session temp dir, `--add-runtime` of a wrapper that logs each call and execs the
runtime under test, `--default-runtime` that.  The session removes every container, the daemon,
its namespace and what it left under /sys/fs/cgroup.
"""

import hashlib
import json
import os
import shutil
import subprocess
import tarfile
import time
import uuid
from pathlib import Path

import pytest

from berth import CACHE, cgroup_dir, cgroup_layout, proc_start_time, wait_until
from peers import PeerCLI, check_interactive_tty, have, require_runtime, unmount_all_under

pytestmark = pytest.mark.peer

HERE = Path(__file__).resolve().parent
# the peers' script when this machine has it, else the copy kept here (a fresh CI machine)
PRIVATE_DOCKERD = Path(os.environ.get("PRIVATE_DOCKERD") or next(
    p for p in (Path("/work/shared/peers/private-dockerd.sh"), HERE / "private-dockerd.sh")
    if p.exists()))
IMAGE = "berth-bb:latest"
WATCH_IMAGE = "berth-watch:latest"
MB = 1 << 20


class Docker(PeerCLI):
    tool = "docker"
    timeout = 120

    def __init__(self, base, netns):
        self.base = Path(base)
        self.netns = netns
        self.env = dict(os.environ, D=str(self.base / "d"), NETNS=netns)

    def script(self, *args, env=None, check=True, timeout=120):
        p = subprocess.run([str(PRIVATE_DOCKERD), *args], env=dict(self.env, **(env or {})),
                           capture_output=True, text=True, timeout=timeout,
                           stdin=subprocess.DEVNULL)
        if check and p.returncode != 0:
            pytest.fail(f"private-dockerd.sh {' '.join(args)}: exit {p.returncode}\n"
                        f"{p.stdout}\n{p.stderr}")
        return p

    def argv(self, *args):
        return [str(PRIVATE_DOCKERD), "exec", "docker", *[str(a) for a in args]]

    def runtime_calls(self):
        try:
            return [line.split() for line in (self.base / "calls").read_text().splitlines()]
        except FileNotFoundError:
            return []


def image_tar(rootfs, out, extra=None):
    with tarfile.open(out, "w") as tar:
        for entry in sorted(os.listdir(rootfs)):
            tar.add(os.path.join(rootfs, entry), arcname=entry, filter=_root_owned)
        for name, path in (extra or {}).items():
            tar.add(path, arcname=name, filter=_root_owned)
    return out


def _root_owned(ti):
    ti.uid = ti.gid = 0
    ti.uname = ti.gname = "root"
    return ti


def watcher_binary():
    src = HERE.parent / "system" / "helpers" / "watcher.c"
    out = CACHE / f"watcher-{hashlib.sha256(src.read_bytes()).hexdigest()[:16]}"
    if not out.exists():
        tmp = out.with_suffix(".tmp")
        subprocess.run(["gcc", "-static", "-O2", "-Wall", "-o", str(tmp), str(src)], check=True,
                       capture_output=True)
        tmp.rename(out)
    return out


@pytest.fixture(scope="session")
def docker(tmp_path_factory, rootfs_tar):
    if not (have("dockerd") and have("docker") and PRIVATE_DOCKERD.exists()):
        pytest.skip("dockerd, docker or private-dockerd.sh missing (scripts/install-deps.sh)")
    runtime = require_runtime()
    base = tmp_path_factory.mktemp("dockerd")
    netns = f"berth-dk-{uuid.uuid4().hex[:6]}"
    dk = Docker(base, netns)
    wrapper = base / "runtime-wrapper"
    wrapper.write_text(f'#!/bin/sh\necho "$@" >> {base}/calls\nexec {runtime} "$@"\n')
    wrapper.chmod(0o755)
    try:
        dk.script("up", env={"RUNTIME": str(wrapper)})
        dk("import", rootfs_tar, IMAGE)
        w = image_tar(CACHE / "rootfs", base / "watch.tar", {"watcher": watcher_binary()})
        dk("import", "--change", 'CMD ["/watcher", "/watch/log", "/watch/stop"]', w, WATCH_IMAGE)
        yield dk
    finally:
        ids = dk("ps", "-aq", check=False).stdout.split()
        if ids:
            dk("rm", "-f", *ids, check=False)
        dk.script("down", check=False)
        unmount_all_under(base)
        # what the daemon made under its cgroup parent (/<netns>) in every hierarchy
        left = []
        root = Path("/sys/fs/cgroup")  # /<netns> on a pure v2 host
        for top in [*root.glob(netns), *root.glob(f"*/{netns}")]:
            for d, _, _ in sorted(os.walk(top), key=lambda e: len(e[0]), reverse=True):
                try:
                    os.rmdir(d)
                except OSError:
                    left.append(d)
        shutil.rmtree(base / "d", ignore_errors=True)
        assert not Path(f"/run/netns/{netns}").exists(), "the daemon's netns is left"
        assert not left, f"cgroups left behind: {left}"


@pytest.fixture
def name(docker):
    n = f"berth-dk-{uuid.uuid4().hex[:10]}"
    yield n
    docker("rm", "-f", n, check=False)


# On a pure cgroup v2 host the same values are in the v2 files: the v1 name a test asks for is
# read from its v2 counterpart, in the v1 form.
V2_FILES = {
    "freezer.state": lambda d: "FROZEN" if read(d / "cgroup.freeze") == "1" else "THAWED",
    "memory.limit_in_bytes": lambda d: read(d / "memory.max"),
    "cpu.cfs_quota_us": lambda d: read(d / "cpu.max").split()[0],
    "cpu.cfs_period_us": lambda d: read(d / "cpu.max").split()[1],
    "pids.max": lambda d: read(d / "pids.max"),
}


def read(path):
    return path.read_text().strip()


def cg(pid, controller, f):
    if cgroup_layout() == "v2":
        return V2_FILES[f](cgroup_dir(pid, ""))
    return read(cgroup_dir(pid, controller) / f)


def sleeper(docker, name, *opts):
    docker("run", "-d", "--name", name, *opts, IMAGE, "sleep", "1000")
    pid = docker.pid(name)
    assert pid > 0 and proc_start_time(pid) is not None
    return pid


def test_dockerd_runs_berth_runtime(docker, name):
    p = docker("run", "--rm", "--name", name, IMAGE, "echo", "hello from berth")
    assert p.stdout == "hello from berth\n"
    cid = [c for c in docker.runtime_calls() if "create" in c]
    assert cid, "dockerd did not call the runtime under test"
    info = json.loads(docker("info", "--format", "{{json .}}").stdout)
    assert info["DefaultRuntime"] == "alt"
    # `runtime --version`'s commit line is what docker info shows
    assert info["RuncCommit"]["ID"] not in ("", "N/A"), info["RuncCommit"]


def test_exit_code_and_exec(docker, name):
    assert docker("run", "--rm", IMAGE, "sh", "-c", "exit 7", check=False).returncode == 7
    sleeper(docker, name)
    out = docker("exec", name, "sh", "-c", "cat /proc/1/cmdline | tr '\\0' ' '; echo; echo $$").stdout
    lines = out.splitlines()
    assert lines[0] == "sleep 1000 " and int(lines[1]) > 1
    assert docker("exec", name, "sh", "-c", "exit 5", check=False).returncode == 5
    assert any("exec" in c for c in docker.runtime_calls())


def test_run_interactive_tty(docker, name):
    check_interactive_tty(docker, name, IMAGE)


def test_stop(docker, name):
    pid = sleeper(docker, name)
    docker("stop", "-t", "2", name)
    assert wait_until(lambda: proc_start_time(pid) is None, 10), f"{pid} still alive"
    assert docker.inspect(name, "{{.State.Status}}") == "exited"
    assert docker.inspect(name, "{{.State.ExitCode}}") in ("143", "137")


def test_pause_unpause(docker, name):
    pid = sleeper(docker, name)
    docker("pause", name)
    assert cg(pid, "freezer", "freezer.state") == "FROZEN"
    assert docker.inspect(name, "{{.State.Status}}") == "paused"
    docker("unpause", name)
    assert cg(pid, "freezer", "freezer.state") == "THAWED"
    assert docker("exec", name, "true", check=False).returncode == 0


def test_update_memory_alone(docker, name):
    pid = sleeper(docker, name, "--memory", "128m", "--cpus", "0.5", "--pids-limit", "30")
    docker("update", "--memory", "300m", "--memory-swap", "600m", name)
    assert cg(pid, "memory", "memory.limit_in_bytes") == str(300 * MB)
    # the zeros dockerd sent for the rest changed nothing
    assert cg(pid, "cpu", "cpu.cfs_quota_us") == "50000"
    assert cg(pid, "pids", "pids.max") == "30"


def test_update_cpus_alone_and_pids_alone(docker, name):
    pid = sleeper(docker, name, "--memory", "128m", "--cpus", "0.5", "--pids-limit", "30")
    docker("update", "--cpus", "0.25", name)
    assert cg(pid, "cpu", "cpu.cfs_quota_us") == "25000"
    assert cg(pid, "cpu", "cpu.cfs_period_us") == "100000"
    docker("update", "--pids-limit", "40", name)
    assert cg(pid, "pids", "pids.max") == "40"
    assert cg(pid, "memory", "memory.limit_in_bytes") == str(128 * MB)
    assert cg(pid, "cpu", "cpu.cfs_quota_us") == "25000"


def test_update_memory_cpus_pids_together(docker, name):
    pid = sleeper(docker, name, "--memory", "128m")
    docker("update", "--memory", "200m", "--memory-swap", "400m", "--cpus", "1.5",
           "--pids-limit", "50", name)
    assert cg(pid, "memory", "memory.limit_in_bytes") == str(200 * MB)
    assert cg(pid, "cpu", "cpu.cfs_quota_us") == "150000"
    assert cg(pid, "pids", "pids.max") == "50"
    # and it holds inside: a fork bomb of 60 stops at the limit
    p = docker("exec", name, "sh", "-c",
               "for i in $(seq 60); do sleep 5 & done 2>&1 | head -1; echo done", check=False)
    assert "can't fork" in p.stdout + p.stderr or "Resource temporarily" in p.stdout + p.stderr


def test_update_restart_policy_of_running_container(docker, name):
    """`docker update --restart` of a running container makes dockerd send an update of zeros:
    it succeeds and leaves the limits as they were."""
    pid = sleeper(docker, name, "--memory", "128m", "--cpus", "0.5")
    docker("update", "--restart", "always", name)
    assert docker.inspect(name, "{{.HostConfig.RestartPolicy.Name}}") == "always"
    assert cg(pid, "memory", "memory.limit_in_bytes") == str(128 * MB)
    assert cg(pid, "cpu", "cpu.cfs_quota_us") == "50000"


def test_restart_on_failure(docker, name):
    docker("run", "-d", "--name", name, "--restart", "on-failure:2", IMAGE, "sh", "-c",
           "exit 3")
    assert wait_until(lambda: docker.inspect(name, "{{.RestartCount}}") == "2" and
                      docker.inspect(name, "{{.State.Status}}") == "exited", 60), \
        docker.inspect(name, "{{.RestartCount}} {{.State.Status}}")
    assert docker.inspect(name, "{{.State.ExitCode}}") == "3"


def test_restart_always_brings_a_killed_container_back(docker, name):
    pid = sleeper(docker, name, "--restart", "always")
    os.kill(pid, 9)
    assert wait_until(lambda: docker.inspect(name, "{{.RestartCount}}") == "1" and
                      docker.inspect(name, "{{.State.Status}}") == "running", 60)
    new = docker.pid(name)
    assert new != pid and proc_start_time(new) is not None


def test_exec_escape_through_dockerd(docker, name, tmp_path):
    """The watcher as the container's PID 1 (docker's default capabilities) while dockerd runs
    `docker exec` 60 times: the runtime's binary is never reached, no runtime process is
    ptraced."""
    watch = tmp_path / "watch"
    watch.mkdir()
    watch.chmod(0o777)
    docker("run", "-d", "--name", name, "-v", f"{watch}:/watch", WATCH_IMAGE)
    assert wait_until(lambda: (watch / "log").exists(), 20)
    for _ in range(60):
        docker("exec", name, "true")
    (watch / "stop").touch()
    assert wait_until(lambda: "DONE" in (watch / "log").read_text(), 20)
    st = os.stat(require_runtime())
    host = f"{os.major(st.st_dev)}:{os.minor(st.st_dev)}:{st.st_ino}"
    bad = [line for line in (watch / "log").read_text().splitlines()
           if line.startswith(("OPEN", "WRITABLE", "PTRACED")) and
           (host in line or "berth" in line or "memfd:" in line)]
    assert not bad, bad


def test_host_network_sysctl_refused(docker, name):
    """`docker run --network host --sysctl net...`: dockerd joins its own network namespace by
    a path (exec-root/netns/default); the sysctl would change the daemon's (the host's) value.
    berth-runtime refuses it; the value stays."""
    ns = f"/run/netns/{docker.netns}"
    read = ["nsenter", f"--net={ns}", "cat", "/proc/sys/net/ipv4/ip_forward"]
    before = subprocess.run(read, capture_output=True, text=True, check=True).stdout
    flip = "0" if before.strip() == "1" else "1"
    try:
        p = docker("run", "--rm", "--name", name, "--network", "host", "--sysctl",
                   f"net.ipv4.ip_forward={flip}", IMAGE, "true", check=False)
        assert p.returncode != 0 and "runtime's own" in p.stderr, p.stderr
    finally:
        after = subprocess.run(read, capture_output=True, text=True, check=True).stdout
        if after != before:
            subprocess.run(["nsenter", f"--net={ns}", "sh", "-c",
                            f"echo {before.strip()} > /proc/sys/net/ipv4/ip_forward"])
    assert after == before
