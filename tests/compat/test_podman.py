"""podman, as root, driving the runtime under test (`podman --runtime $BERTH_RUNTIME`).

Each test checks the effect twice: inside the container (what the process sees) and from the
host (the cgroup files, /proc/PID/status of the container's init).  podman's storage, run
directory and configuration are private to the session (under a temp dir), the network is
"none" (no firewall or link changes on the host), and each test removes its container.
"""

import os
import re
import time
import uuid
from pathlib import Path

import pytest

from berth import cgroup_dir, cgroup_layout, proc_start_time, proc_status, wait_until
from peers import (PeerCLI, check_interactive_tty, existing_cgroups, have, remove_new_cgroups,
                   require_runtime, unmount_all_under)

pytestmark = pytest.mark.peer

# On a pure cgroup v2 host podman gives the container a cgroup namespace and a cgroup2 mount:
# the files have their v2 names, inside and on the host; on a v1 or hybrid host the v1 ones.
V2 = cgroup_layout() == "v2"


def cgfile(pid, controller, v1_name, v2_name):
    """(host path, path inside the container) of one cgroup file of the container's init."""
    if V2:
        return cgroup_dir(pid, "") / v2_name, f"/sys/fs/cgroup/{v2_name}"
    return cgroup_dir(pid, controller) / v1_name, f"/sys/fs/cgroup/{controller}/{v1_name}"

IMAGE = "localhost/berth-bb:latest"

# podman as root asks for rlimits (nofile 1048576, nproc 4194304) above this VM's hard limits,
# and the process lacks CAP_SYS_RESOURCE to raise them: every runtime would fail setrlimit().
CONTAINERS_CONF = """\
[containers]
default_ulimits = ["nofile=20000:20000", "nproc=32768:32768"]
netns = "none"
log_driver = "k8s-file"

[engine]
cgroup_manager = "cgroupfs"
events_logger = "file"
"""


class Podman(PeerCLI):
    tool = "podman"

    def __init__(self, base, runtime):
        self.base = Path(base)
        self.runtime = Path(runtime)
        self.conf = self.base / "containers.conf"
        self.conf.write_text(CONTAINERS_CONF)
        self.env = dict(os.environ, CONTAINERS_CONF=str(self.conf))

    def argv(self, *args):
        return ["podman", "--root", str(self.base / "storage"), "--runroot",
                str(self.base / "run"), "--tmpdir", str(self.base / "tmp"), "--runtime",
                str(self.runtime), "--cgroup-manager", "cgroupfs", *[str(a) for a in args]]



@pytest.fixture(scope="session")
def podman(tmp_path_factory, rootfs_tar):
    if not have("podman"):
        pytest.skip("podman not installed (scripts/install-deps.sh installs it)")
    runtime = require_runtime()
    before = existing_cgroups("libpod_parent")
    base = tmp_path_factory.mktemp("podman")
    pm = Podman(base, runtime)
    try:
        pm("import", "--change", 'CMD ["sh"]', rootfs_tar, IMAGE)
        yield pm
    finally:
        pm("rm", "--all", "--force", "--time", "0", check=False)
        pm("rmi", "--all", "--force", check=False)
        unmount_all_under(base)
        left = remove_new_cgroups("libpod_parent", before)
        assert not left, f"cgroups left behind: {left}"


@pytest.fixture
def name(podman):
    """A container name for this test; the container is removed afterwards, whatever happens."""
    n = f"berth-compat-{uuid.uuid4().hex[:10]}"
    yield n
    p = podman("rm", "--force", "--time", "0", n, check=False)
    assert p.returncode == 0 or "no such container" in p.stderr.lower(), p.stderr


def start_sleeper(podman, name, *opts):
    podman("run", "-d", "--name", name, *opts, IMAGE, "sleep", "1000")
    pid = podman.pid(name)
    assert pid > 0 and proc_start_time(pid) is not None
    return pid


def test_run_rm_echo(podman, name):
    p = podman("run", "--rm", "--name", name, IMAGE, "echo", "hello from berth")
    assert p.stdout == "hello from berth\n"
    # --rm: the container is gone
    assert podman("container", "exists", name, check=False).returncode == 1


def test_run_exit_code_propagates(podman, name):
    p = podman("run", "--rm", "--name", name, IMAGE, "sh", "-c", "echo out; echo err >&2; exit 7",
               check=False)
    assert p.returncode == 7
    assert p.stdout == "out\n" and "err" in p.stderr


def test_run_detached_then_stop(podman, name):
    pid = start_sleeper(podman, name)
    assert podman.inspect(name, "{{.State.Status}}") == "running"
    assert Path(f"/proc/{pid}/cmdline").read_bytes() == b"sleep\x001000\x00"
    t = time.monotonic()
    # sleep as pid 1 ignores SIGTERM: stop must escalate to SIGKILL after the 2 s timeout
    podman("stop", "--time", "2", name, timeout=30)
    elapsed = time.monotonic() - t
    assert elapsed < 15, f"stop took {elapsed:.1f}s"
    assert podman.inspect(name, "{{.State.Status}}") == "exited"
    assert wait_until(lambda: proc_start_time(pid) is None, 5), f"pid {pid} still alive"


def test_exec(podman, name):
    start_sleeper(podman, name)
    p = podman("exec", name, "sh", "-c", "cat /proc/1/cmdline | tr '\\0' ' '; echo; echo $$")
    lines = p.stdout.splitlines()
    assert lines[0] == "sleep 1000 "
    assert int(lines[1]) > 1  # a new process in the container's pid namespace
    assert podman("exec", name, "sh", "-c", "exit 5", check=False).returncode == 5
    p = podman("exec", "--env", "X=y z", "--workdir", "/tmp", name, "sh", "-c", 'echo "$X"; pwd')
    assert p.stdout == "y z\n/tmp\n"


def test_run_interactive_tty(podman, name):
    check_interactive_tty(podman, name, IMAGE)


def test_memory_limit(podman, name):
    pid = start_sleeper(podman, name, "--memory", "64m")
    host, inside = cgfile(pid, "memory", "memory.limit_in_bytes", "memory.max")
    assert host.read_text().strip() == "67108864"
    assert podman("exec", name, "cat", inside).stdout.strip() == "67108864"


def test_cpus(podman, name):
    pid = start_sleeper(podman, name, "--cpus", "0.5")
    if V2:
        host, inside = cgfile(pid, "cpu", None, "cpu.max")
        assert host.read_text().strip() == "50000 100000"
        assert podman("exec", name, "cat", inside).stdout.strip() == "50000 100000"
        return
    d = cgroup_dir(pid, "cpu")
    assert (d / "cpu.cfs_quota_us").read_text().strip() == "50000"
    assert (d / "cpu.cfs_period_us").read_text().strip() == "100000"
    inside = podman("exec", name, "cat", "/sys/fs/cgroup/cpu/cpu.cfs_quota_us").stdout
    assert inside.strip() == "50000"


def test_pids_limit(podman, name):
    pid = start_sleeper(podman, name, "--pids-limit", "20")
    host, inside = cgfile(pid, "pids", "pids.max", "pids.max")
    assert host.read_text().strip() == "20"
    assert podman("exec", name, "cat", inside).stdout.strip() == "20"
    # the limit bites: of 30 background sleeps only as many start as fit under 20 pids
    p = podman("exec", name, "sh", "-c",
               "i=0; while [ $i -lt 30 ]; do sleep 30 & i=$((i+1)); done", check=False)
    assert "fork" in p.stderr.lower(), p.stderr
    current = host.with_name("pids.current")
    assert 10 < int(current.read_text()) <= 20


def test_pause_unpause(podman, name):
    pid = start_sleeper(podman, name)
    if V2:
        d = cgroup_dir(pid, "")
        state = d / "cgroup.freeze"
        frozen, thawed = "1", "0"
    else:
        state = cgroup_dir(pid, "freezer") / "freezer.state"
        frozen, thawed = "FROZEN", "THAWED"
    podman("pause", name)
    assert podman.inspect(name, "{{.State.Status}}") == "paused"
    assert state.read_text().strip() == frozen
    if V2:
        assert "frozen 1" in (d / "cgroup.events").read_text().splitlines()
    else:
        # a task frozen by the v1 freezer shows as D (uninterruptible) in /proc
        assert proc_status(pid)["State"].startswith("D"), proc_status(pid)["State"]
    podman("unpause", name)
    assert podman.inspect(name, "{{.State.Status}}") == "running"
    assert state.read_text().strip() == thawed
    if V2:
        assert "frozen 0" in (d / "cgroup.events").read_text().splitlines()
    assert wait_until(lambda: proc_status(pid)["State"].startswith("S"), 5)
    assert podman("exec", name, "true").returncode == 0


def capeff(text):
    return int(re.search(r"^CapEff:\s*([0-9a-f]+)$", text, re.M).group(1), 16)


CAP_CHOWN, CAP_NET_RAW = 0, 13


def test_cap_drop_all_add_net_raw(podman, name):
    pid = start_sleeper(podman, name, "--cap-drop", "ALL", "--cap-add", "NET_RAW")
    inside = podman("exec", name, "cat", "/proc/1/status").stdout
    assert capeff(inside) == 1 << CAP_NET_RAW
    assert capeff(Path(f"/proc/{pid}/status").read_text()) == 1 << CAP_NET_RAW


def test_cap_drop_chown(podman, name):
    pid = start_sleeper(podman, name, "--cap-drop", "CHOWN")
    eff = capeff(Path(f"/proc/{pid}/status").read_text())
    assert not eff & (1 << CAP_CHOWN) and eff & (1 << 1)  # CAP_DAC_OVERRIDE kept
    p = podman("exec", name, "sh", "-c", "touch /tmp/f && chown nobody /tmp/f", check=False)
    assert p.returncode != 0 and "not permitted" in p.stderr.lower()


def test_read_only(podman, name):
    p = podman("run", "--rm", "--name", name, "--read-only", IMAGE, "sh", "-c",
               "touch /x; echo rc=$?; touch /tmp/ok && echo tmp-ok", check=False)
    assert "Read-only file system" in p.stderr
    assert "rc=1" in p.stdout
    # podman mounts a tmpfs on /tmp with --read-only
    assert "tmp-ok" in p.stdout


def test_init_then_rm_of_a_created_container(podman, name):
    """`podman init` leaves the container created (never started); `podman rm` removes it: the
    runtime's delete of a created container needs --force (the spec), which podman passes."""
    podman("create", "--name", name, IMAGE, "sleep", "1000")
    podman("init", name)
    assert podman.inspect(name, "{{.State.Status}}") == "initialized"  # podman's "created"
    pid = podman.pid(name)
    assert pid > 0 and proc_start_time(pid) is not None
    podman("rm", name)
    assert wait_until(lambda: proc_start_time(pid) is None, 10), f"init {pid} still alive"
    assert podman("container", "exists", name, check=False).returncode == 1
