"""docker run's host-facing options against berthd, checked from the host and from inside:
--device, --sysctl, --ipc and --pid (host, shareable, container:<x>), --cgroup-parent; and the
refusals docker gives for them.
"""

import json
import os
import signal
from pathlib import Path

import pytest

from berth import wait_until
from daemon import DOCKER_CLI, needs_berthd

pytestmark = [
    needs_berthd,
    pytest.mark.skipif(DOCKER_CLI is None, reason="no docker CLI"),
]


def run(bd, *args, check=True):
    return bd.docker("run", "--rm", *args, check=check)


def inspect(bd, name):
    return json.loads(bd.docker("inspect", name).stdout)[0]


def test_device_is_bound_and_allowed(bd):
    out = run(bd, "--device", "/dev/null:/dev/mynull:rw", "busybox", "sh", "-c",
              "stat -c '%t:%T %F' /dev/mynull && echo x > /dev/mynull && echo wrote").stdout
    assert out.split("\n")[:2] == ["1:3 character special file", "wrote"]
    # a device the container was not given cannot be made and opened, even by root
    p = run(bd, "busybox", "sh", "-c", "mknod /dev/mem2 c 1 1 && head -c1 /dev/mem2",
            check=False)
    assert p.returncode != 0
    # a read-only grant (of a device outside docker's default list): opening it for reading
    # works, for writing the devices cgroup refuses
    out = run(bd, "--device", "/dev/loop-control:/dev/lc:r", "busybox", "sh", "-c",
              "head -c0 /dev/lc && echo read-ok; echo x > /dev/lc; echo $?", check=False)
    assert out.stdout.split() == ["read-ok", "1"] and "not permitted" in out.stderr, out


def test_missing_device_refused(bd):
    p = run(bd, "--device", "/dev/berth-no-such-device", "busybox", "true", check=False)
    assert p.returncode == 127, p.stderr
    assert "/dev/berth-no-such-device" in p.stderr and "no such file or directory" in p.stderr


def test_sysctls_set_in_the_container_only(bd):
    host_forward = Path("/proc/sys/net/ipv4/ip_forward").read_text()
    want = "0" if host_forward.strip() == "1" else "1"
    out = run(bd, "--sysctl", f"net.ipv4.ip_forward={want}", "--sysctl",
              "kernel.shm_rmid_forced=1", "busybox", "sh", "-c",
              "cat /proc/sys/net/ipv4/ip_forward /proc/sys/kernel/shm_rmid_forced").stdout
    assert out.split() == [want, "1"]
    assert Path("/proc/sys/net/ipv4/ip_forward").read_text() == host_forward


@pytest.mark.parametrize("args, message", [
    (["--sysctl", "vm.swappiness=1"], "sysctl 'vm.swappiness=1' is not allowed"),
    (["--network", "host", "--sysctl", "net.ipv4.ip_forward=1"],
     'sysctl "net.ipv4.ip_forward" not allowed in host network namespace'),
])
def test_sysctls_docker_refuses(bd, args, message):
    p = run(bd, *args, "busybox", "true", check=False)
    assert p.returncode == 125 and message in p.stderr, p.stderr


def test_ipc_and_pid_host(bd):
    out = run(bd, "--ipc", "host", "--pid", "host", "busybox", "sh", "-c",
              "readlink /proc/self/ns/ipc; readlink /proc/self/ns/pid").stdout.split()
    assert out == [os.readlink("/proc/self/ns/ipc"), os.readlink("/proc/self/ns/pid")]
    # the default: namespaces of its own
    out = run(bd, "busybox", "sh", "-c",
              "readlink /proc/self/ns/ipc; readlink /proc/self/ns/pid").stdout
    assert os.readlink("/proc/self/ns/ipc") not in out
    assert os.readlink("/proc/self/ns/pid") not in out


def test_ipc_and_pid_of_another_container(bd):
    bd.docker("run", "-d", "--name", "donor", "--ipc", "shareable", "busybox", "sh", "-c",
              "echo from-donor > /dev/shm/marker; exec sleep 300")
    bd.docker("run", "-d", "--name", "private", "busybox", "sleep", "300")
    try:
        pid = inspect(bd, "donor")["State"]["Pid"]
        assert wait_until(lambda: Path(f"/proc/{pid}/cmdline").read_bytes().startswith(b"sleep"))
        out = run(bd, "--ipc", "container:donor", "--pid", "container:donor", "busybox", "sh",
                  "-c", "readlink /proc/self/ns/ipc; readlink /proc/self/ns/pid; "
                  "cat /dev/shm/marker; cat /proc/1/cmdline").stdout.split()
        assert out[:2] == [os.readlink(f"/proc/{pid}/ns/ipc"),
                           os.readlink(f"/proc/{pid}/ns/pid")]
        # the donor's /dev/shm (a tmpfs of berthd's), and its PID 1 seen as PID 1
        assert out[2] == "from-donor"
        assert out[3].startswith("sleep")

        # docker's answers at start: the donor must exist, run, and share its IPC
        for args, message in [
            (["--ipc", "container:private"], "container private: non-shareable IPC"),
            (["--ipc", "container:nosuch"], "No such container: nosuch"),
            (["--pid", "container:nosuch"], "No such container: nosuch"),
            (["--ipc", "container:"], "invalid IPC mode: container:"),
        ]:
            p = run(bd, *args, "busybox", "true", check=False)
            assert p.returncode == 125 and message in p.stderr, (args, p.stderr)
        bd.docker("stop", "-t", "0", "donor")
        p = run(bd, "--pid", "container:donor", "busybox", "true", check=False)
        assert p.returncode == 125 and "container donor is not running" in p.stderr, p.stderr
        # stopped: its /dev/shm is gone with it
        shm = Path(bd.data_root) / "containers" / inspect(bd, "donor")["Id"] / "shm"
        assert not os.path.ismount(shm)
    finally:
        bd.docker("rm", "-f", "donor", "private", check=False)


def test_donor_namespaces_are_opened_by_berthd(bd):
    """berthd opens the donor's namespaces itself, checks the donor is still that process, and
    hands the open files to the shim: the runtime never looks a pid up again.  Played here with
    the window that check closes: the donor's init dead but not yet reaped (its shim stopped),
    so berthd still has it running.  A path handed on would fail in the runtime (or, had the
    pid been reused, join a stranger); the open fd answers docker's "not running" instead."""
    # network none: its network namespace is its init's alone (no bind mount of berthd's)
    bd.docker("run", "-d", "--name", "donor2", "--ipc", "shareable", "--network", "none",
              "busybox", "sleep", "300")
    shim = None
    try:
        pid = inspect(bd, "donor2")["State"]["Pid"]
        assert wait_until(lambda: Path(f"/proc/{pid}/cmdline").read_bytes().startswith(b"sleep"))
        # joined: the donor's namespaces, and no fd of the shim's leaks into the container
        out = run(bd, "--ipc", "container:donor2", "--pid", "container:donor2", "--network",
                  "container:donor2", "busybox", "sh", "-c",
                  "readlink /proc/self/ns/ipc; readlink /proc/self/ns/pid; "
                  "readlink /proc/self/ns/net; "
                  "for f in /proc/$$/fd/*; do echo ${f##*/} $(readlink $f); done").stdout
        lines = out.split("\n")
        assert lines[:3] == [os.readlink(f"/proc/{pid}/ns/{ns}") for ns in ("ipc", "pid", "net")]
        # 0-2, and the glob's directory (busybox's ls and globs run in the shell itself)
        fds = dict((line.split(" ", 1) + [""])[:2] for line in lines[3:] if line)
        assert sorted(fds) in (["0", "1", "2"], ["0", "1", "2", "3"]), out
        assert not any(":[" in t and not t.startswith("pipe:") for t in fds.values()), out

        shim = int(Path(f"/proc/{pid}/status").read_text().split("PPid:")[1].split()[0])
        assert Path(f"/proc/{shim}/comm").read_text().strip() == "berth-shim"
        os.kill(shim, signal.SIGSTOP)
        os.kill(pid, signal.SIGKILL)
        assert wait_until(lambda: Path(f"/proc/{pid}/stat").read_text().split(") ")[1][0] == "Z")
        assert inspect(bd, "donor2")["State"]["Running"]  # berthd cannot know yet
        for mode, message in [
            ("--ipc", "container donor2 is not running"),
            ("--pid", "container donor2 is not running"),
            ("--network", "cannot join network namespace of a non running container: "
                          "container donor2 is exited"),
        ]:
            p = run(bd, mode, "container:donor2", "busybox", "true", check=False)
            assert p.returncode == 125, p
            assert message in p.stderr, p.stderr
            assert "no such file" not in p.stderr, p.stderr
        os.kill(shim, signal.SIGCONT)
        shim = None
        assert wait_until(lambda: not inspect(bd, "donor2")["State"]["Running"])
    finally:
        if shim:
            os.kill(shim, signal.SIGCONT)
        bd.docker("rm", "-f", "donor2", check=False)


def test_cgroup_parent(bd):
    parent = f"berth-test-parent-{os.getpid()}"
    try:
        out = run(bd, "--cgroup-parent", f"/{parent}", "busybox", "cat",
                  "/proc/self/cgroup").stdout
        paths = {line.split(":", 2)[1]: line.split(":", 2)[2] for line in out.split()}
        assert paths["memory"].startswith(f"/{parent}/") and len(paths["memory"]) > 64
        assert paths["pids"].startswith(f"/{parent}/")
    finally:
        # the parent is the user's (docker leaves it too); the container's own is gone
        for ctl in os.listdir("/sys/fs/cgroup"):
            d = Path("/sys/fs/cgroup") / ctl / parent
            if d.is_dir():
                assert [c for c in d.iterdir() if c.is_dir()] == []
                d.rmdir()
