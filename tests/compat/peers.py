"""Helpers shared by the compat tests (dockerd, podman, containerd)."""

import os
import shutil
import subprocess
import time
from pathlib import Path

import pytest

from berth import mounts_under, runtime_binary


def have(tool):
    return shutil.which(tool) is not None


def require_runtime():
    binary = runtime_binary()
    if not os.access(binary, os.X_OK):
        pytest.skip(f"runtime under test '{binary}' not built (set BERTH_RUNTIME or build it)")
    return binary


def existing_cgroups(name):
    """The cgroups called `name` at the top of every hierarchy: /sys/fs/cgroup/<controller>/name
    on a v1 or hybrid host (unified/name too), /sys/fs/cgroup/name on a pure cgroup v2 host."""
    root = Path("/sys/fs/cgroup")
    return {p for p in [*root.glob(name), *root.glob(f"*/{name}")] if p.is_dir()}


def remove_new_cgroups(name, before, timeout=10):
    """rmdir, deepest first, the cgroups called `name` (and below) that were not there before.
    Monitors (conmon, shims) leave their cgroups a moment after the engine returns: retry."""
    deadline = time.monotonic() + timeout
    while True:
        left = existing_cgroups(name) - before
        for top in left:
            dirs = [Path(d) for d, _, _ in os.walk(top)]
            for d in sorted(dirs, key=lambda p: len(str(p)), reverse=True):
                try:
                    d.rmdir()
                except OSError:
                    pass
        left = existing_cgroups(name) - before
        if not left or time.monotonic() > deadline:
            return sorted(left)
        time.sleep(0.1)


def unmount_all_under(path):
    for m in mounts_under(path):
        subprocess.run(["umount", "-l", m], capture_output=True)


class PeerCLI:
    """A peer engine's command line (docker, podman) with its environment: call it with the
    command's arguments.  A subclass names the tool and gives argv() and env."""

    tool = ""
    timeout = 60
    env = None

    def argv(self, *args):
        raise NotImplementedError

    def __call__(self, *args, check=True, timeout=None, input=None):
        p = subprocess.run(self.argv(*args), env=self.env, capture_output=True, text=True,
                           timeout=timeout or self.timeout, input=input,
                           stdin=None if input is not None else subprocess.DEVNULL)
        if check and p.returncode != 0:
            pytest.fail(f"{self.tool} {' '.join(map(str, args))}: exit {p.returncode}\n"
                        f"stdout: {p.stdout}\nstderr: {p.stderr}")
        return p

    def inspect(self, name, fmt):
        return self("inspect", "--format", fmt, name).stdout.strip()

    def pid(self, name):
        return int(self.inspect(name, "{{.State.Pid}}"))


def check_interactive_tty(cli, name, image):
    """`run -it --rm` of a shell through cli (a PeerCLI) under a pty: it has a terminal, answers
    what is typed, and its exit status is the container's."""
    pexpect = pytest.importorskip("pexpect")
    argv = cli.argv("run", "-it", "--rm", "--name", name, image, "sh")
    child = pexpect.spawn(argv[0], argv[1:], env=cli.env, timeout=30, encoding="utf-8")
    try:
        child.expect(r"[#$] ")
        child.sendline("tty; echo $((6*7))")
        child.expect(r"/dev/pts/\d+")
        child.expect("42")
        child.sendline("exit 3")
        child.expect(pexpect.EOF)
    finally:
        child.close()
    assert child.exitstatus == 3
