"""containerd's `ctr` driving the runtime under test (`ctr run --runc-binary`).

The session starts its own containerd (root, state, sockets, config under a temp dir; the CRI
plugin off), imports the busybox image from an OCI layout tar made by ociimage.py, and stops it
by pid at the end.  The runc binary ctr hands the shim is a one-line wrapper that records each
invocation and execs the runtime under test, so the tests can prove it was the one used.
"""

import os
import signal
import subprocess
import time
import uuid
from pathlib import Path

import pytest

import ociimage
from berth import CACHE, proc_start_time, wait_until
from peers import existing_cgroups, have, remove_new_cgroups, require_runtime, \
    unmount_all_under

pytestmark = pytest.mark.peer

IMAGE = "localhost/berth-bb:latest"

CONFIG = """\
version = 2
root = "{base}/root"
state = "{base}/state"
disabled_plugins = ["io.containerd.grpc.v1.cri", "io.containerd.snapshotter.v1.btrfs",
                    "io.containerd.snapshotter.v1.zfs", "io.containerd.snapshotter.v1.aufs",
                    "io.containerd.snapshotter.v1.devmapper", "io.containerd.internal.v1.tracing",
                    "io.containerd.tracing.processor.v1.otlp"]
[grpc]
  address = "{base}/containerd.sock"
[ttrpc]
  address = "{base}/containerd.sock.ttrpc"
[debug]
  address = ""
[metrics]
  address = ""
[plugins."io.containerd.internal.v1.opt"]
  path = "{base}/opt"
"""


class Ctr:
    def __init__(self, base, namespace, runc_binary):
        self.base = Path(base)
        self.address = self.base / "containerd.sock"
        self.namespace = namespace
        self.runc_binary = runc_binary
        self.calls = self.base / "runtime-calls"

    def __call__(self, *args, check=True, timeout=60):
        argv = ["ctr", "--address", str(self.address), "--namespace", self.namespace,
                *[str(a) for a in args]]
        p = subprocess.run(argv, capture_output=True, text=True, timeout=timeout,
                           stdin=subprocess.DEVNULL)
        if check and p.returncode != 0:
            pytest.fail(f"ctr {' '.join(map(str, args))}: exit {p.returncode}\n"
                        f"stdout: {p.stdout}\nstderr: {p.stderr}")
        return p

    def run(self, *args, **kw):
        return self("run", "--runc-binary", self.runc_binary, *args, **kw)

    def task_pid(self, cid):
        for line in self("task", "ls").stdout.splitlines()[1:]:
            f = line.split()
            if f[0] == cid:
                return int(f[1])
        return None

    def task_status(self, cid):
        for line in self("task", "ls").stdout.splitlines()[1:]:
            f = line.split()
            if f[0] == cid:
                return f[2]
        return None

    def runtime_commands(self):
        try:
            return [line.split() for line in self.calls.read_text().splitlines()]
        except FileNotFoundError:
            return []


def shims_of(address):
    """Pids of containerd shims started for our containerd (their argv names its address)."""
    pids = []
    for d in Path("/proc").iterdir():
        if not d.name.isdigit():
            continue
        try:
            argv = (d / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if argv and argv[0].endswith(b"containerd-shim-runc-v2") and \
                str(address).encode() in b" ".join(argv):
            pids.append(int(d.name))
    return pids


def remove_empty_dirs(top):
    """rmdir `top` and the directories below it, bottom-up, where they are empty."""
    if not top.is_dir():
        return
    for d, _, _ in sorted(os.walk(top), key=lambda e: len(e[0]), reverse=True):
        try:
            os.rmdir(d)
        except OSError:
            pass


@pytest.fixture(scope="session")
def ctr(tmp_path_factory):
    if not (have("containerd") and have("ctr") and have("containerd-shim-runc-v2")):
        pytest.skip("containerd not installed (scripts/install-deps.sh installs it)")
    runtime = require_runtime()
    base = tmp_path_factory.mktemp("containerd")
    namespace = f"berth-compat-{uuid.uuid4().hex[:8]}"
    before = existing_cgroups(namespace)
    # the shim keeps runc's state under /run/containerd/runc/<namespace> whatever our config says
    run_dir = Path("/run/containerd")
    run_dir_existed = run_dir.exists()

    wrapper = base / "runtime-wrapper"
    wrapper.write_text(f'#!/bin/sh\necho "$@" >> {base}/runtime-calls\nexec {runtime} "$@"\n')
    wrapper.chmod(0o755)
    (base / "config.toml").write_text(CONFIG.format(base=base))
    log = open(base / "containerd.log", "w")
    daemon = subprocess.Popen(["containerd", "--config", str(base / "config.toml")],
                              stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    c = Ctr(base, namespace, str(wrapper))
    try:
        up = wait_until(lambda: daemon.poll() is None and c("version", check=False).returncode == 0,
                        20, 0.1)
        assert up, f"containerd did not start:\n{(base / 'containerd.log').read_text()[-3000:]}"
        image = base / "image.tar"
        subprocess.run([str(Path(__file__).parent.parent.parent / "scripts" / "mkrootfs.sh"),
                        str(CACHE / "rootfs")], check=True)
        ociimage.build(str(CACHE / "rootfs"), str(image), IMAGE)
        c("image", "import", image)
        yield c
    finally:
        for line in c("task", "ls", check=False).stdout.splitlines()[1:]:
            c("task", "delete", "--force", line.split()[0], check=False)
        for line in c("container", "ls", "-q", check=False).stdout.split():
            c("container", "delete", line, check=False)
        c("image", "rm", IMAGE, check=False)
        shims = shims_of(c.address)
        daemon.send_signal(signal.SIGTERM)
        try:
            daemon.wait(15)
        except subprocess.TimeoutExpired:
            daemon.kill()
            daemon.wait()
        log.close()
        for pid in shims:
            start = proc_start_time(pid)
            if start is not None:
                os.kill(pid, signal.SIGKILL)
        unmount_all_under(base)
        remove_empty_dirs(run_dir / "runc" / namespace)
        if not run_dir_existed:
            remove_empty_dirs(run_dir)
        left = remove_new_cgroups(namespace, before)
        assert not left, f"cgroups left behind: {left}"


@pytest.fixture
def cid(ctr):
    """A container id for this test; its task and container are deleted afterwards."""
    c = f"c-{uuid.uuid4().hex[:10]}"
    yield c
    ctr("task", "delete", "--force", c, check=False)
    ctr("container", "delete", c, check=False)
    assert c not in ctr("container", "ls", "-q").stdout.split()


def test_run_rm_echo(ctr, cid):
    p = ctr.run("--rm", IMAGE, cid, "echo", "hello from berth")
    assert p.stdout == "hello from berth\n"
    assert cid not in ctr("container", "ls", "-q").stdout.split()
    cmds = [c for c in ctr.runtime_commands() if cid in c]
    verbs = {w for c in cmds for w in c if w in ("create", "start", "delete")}
    assert verbs == {"create", "start", "delete"}, f"runtime calls for {cid}: {cmds}"


def test_run_exit_code(ctr, cid):
    p = ctr.run("--rm", IMAGE, cid, "sh", "-c", "exit 9", check=False)
    assert p.returncode == 9


def test_run_detached_kill_delete(ctr, cid):
    ctr.run("-d", IMAGE, cid, "sleep", "1000")
    pid = ctr.task_pid(cid)
    assert pid and ctr.task_status(cid) == "RUNNING"
    assert Path(f"/proc/{pid}/cmdline").read_bytes() == b"sleep\x001000\x00"
    ctr("task", "kill", "--signal", "SIGKILL", cid)
    assert wait_until(lambda: ctr.task_status(cid) == "STOPPED", 10), ctr.task_status(cid)
    assert wait_until(lambda: proc_start_time(pid) is None, 5), f"pid {pid} still alive"
    ctr("task", "delete", cid)
    assert ctr.task_status(cid) is None
    ctr("container", "delete", cid)
    assert any("kill" in c and cid in c for c in ctr.runtime_commands())


def test_task_exec(ctr, cid):
    ctr.run("-d", IMAGE, cid, "sleep", "1000")
    p = ctr("task", "exec", "--exec-id", "e1", cid, "sh", "-c",
            "cat /proc/1/cmdline | tr '\\0' ' '; echo; echo $$")
    lines = p.stdout.splitlines()
    assert lines[0] == "sleep 1000 " and int(lines[1]) > 1
    assert ctr("task", "exec", "--exec-id", "e2", cid, "sh", "-c", "exit 4",
               check=False).returncode == 4
    assert any("exec" in c and cid in c for c in ctr.runtime_commands())
    ctr("task", "kill", "--signal", "SIGKILL", cid)
    wait_until(lambda: ctr.task_status(cid) == "STOPPED", 10)
