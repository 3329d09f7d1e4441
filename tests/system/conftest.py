"""pytest set-up for berth's system tests: the fixtures and hooks live in berth.py (shared with
tests/compat) and daemon.py (a private berthd); importing them here is what makes pytest use
them.  Here too, the pair most modules share: bd, one berthd for the whole module, and cli, the
berth CLI on it.  A module that needs its berthd started otherwise defines its own bd."""

import os

import pytest

# Every test names its berthd by DOCKER_HOST or -H: a BERTH_HOST left in the caller's shell
# would win over both for berth's CLI and send it to another daemon.
os.environ.pop("BERTH_HOST", None)

from berth import *  # noqa: F401,F403  (fixtures and hooks are found by name)
from daemon import berthd, make_berthd, shared_berthd  # noqa: F401,E402
from cli import BerthCLI, berth_cli  # noqa: F401,E402


@pytest.fixture(scope="module")
def bd():
    """A module-wide berthd with busybox:latest (daemon.shared_berthd and its leak checks)."""
    yield from shared_berthd()


@pytest.fixture(scope="module")
def cli(bd):
    """The berth CLI pointed at the module's bd."""
    c = BerthCLI(bd)
    yield c
    c.close()
