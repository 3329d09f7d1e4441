"""pytest set-up for berth's system tests: the fixtures and hooks live in berth.py (shared with
tests/compat) and daemon.py (a private berthd); importing them here is what makes pytest use
them."""

import os

# Every test names its berthd by DOCKER_HOST or -H: a BERTH_HOST left in the caller's shell
# would win over both for berth's CLI and send it to another daemon.
os.environ.pop("BERTH_HOST", None)

from berth import *  # noqa: F401,F403  (fixtures and hooks are found by name)
from daemon import berthd, make_berthd  # noqa: F401
from cli import berth_cli  # noqa: F401,E402
