"""pytest set-up for the compat tests: other engines (podman, containerd's ctr) driving the
runtime under test.  The shared fixtures and hooks come from tests/system/berth.py."""

import os
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest

os.environ.pop("BERTH_HOST", None)  # as tests/system/conftest.py: the tests name their daemon
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "system"))

from berth import *  # noqa: E402,F401,F403  (fixtures and hooks are found by name)
from berth import CACHE, SCRIPTS  # noqa: E402


@pytest.fixture(scope="session")
def rootfs_tar(tmp_path_factory):
    """The cached busybox rootfs as a tar (numeric owners), for `podman import`."""
    subprocess.run([str(SCRIPTS / "mkrootfs.sh"), str(CACHE / "rootfs")], check=True)
    path = tmp_path_factory.mktemp("image") / "rootfs.tar"
    with tarfile.open(path, "w", format=tarfile.PAX_FORMAT) as tar:
        for entry in sorted(os.listdir(CACHE / "rootfs")):
            tar.add(CACHE / "rootfs" / entry, arcname=entry, filter=_root_owned)
    return path


def _root_owned(ti):
    ti.uid = ti.gid = 0
    ti.uname = ti.gname = "root"
    return ti
