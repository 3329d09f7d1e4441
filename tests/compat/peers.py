"""Helpers shared by the compat tests (podman, containerd)."""

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
