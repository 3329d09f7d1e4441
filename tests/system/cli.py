"""The berth CLI under test, against a private berthd (daemon.py), beside the real docker CLI.

    def test_x(berth_cli):
        p = berth_cli.run("version")            # CompletedProcess, text
        d = berth_cli.docker("version")         # the docker CLI on the same berthd

`berth_cli.counting_proxy()` puts a unix socket in front of berthd that counts connections and
records request lines, to prove that a command line the CLI refuses never reaches the daemon.

The binary is $BERTH_CLI, default build/cli/berth of the worktree.
"""

import os
import shutil
import socket
import subprocess
import threading
from pathlib import Path

import pytest

from berth import REPO
from daemon import DOCKER_CLI


def berth_binary():
    env = os.environ.get("BERTH_CLI")
    path = Path(env) if env else REPO / "build" / "cli" / "berth"
    return path if path.is_absolute() else Path.cwd() / path


def docker_version():
    if DOCKER_CLI is None:
        return None
    p = subprocess.run([DOCKER_CLI, "--version"], capture_output=True, text=True)
    # "Docker version 28.2.2, build e6534b4"
    try:
        return int(p.stdout.split()[2].split(".")[0])
    except (IndexError, ValueError):
        return None


DOCKER_MAJOR = docker_version()


# the comparisons need docker 28's CLI; a machine without it (install-deps brings Debian's 20.10)
# may skip them
DOCKER28 = pytest.mark.allowed_skip(reason="compares with docker CLI 28's layouts and messages; "
                                           "skipped where only an older docker CLI is installed")


def need_docker28():
    """The comparisons are with docker 28's CLI (its layouts and messages)."""
    if DOCKER_MAJOR is None or DOCKER_MAJOR < 28:
        pytest.skip(f"docker CLI 28 not installed ({DOCKER_CLI}: {DOCKER_MAJOR})")


class CountingProxy:
    """A unix socket relaying to berthd, counting connections and keeping the request lines."""

    def __init__(self, target, path):
        self.target = target
        self.path = str(path)
        self.connections = 0
        self.requests = []
        self.lock = threading.Lock()
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.bind(self.path)
        self.sock.listen(16)
        self.stopping = False
        self.thread = threading.Thread(target=self.accept_loop, daemon=True)
        self.thread.start()

    def accept_loop(self):
        while not self.stopping:
            try:
                c, _ = self.sock.accept()
            except OSError:
                return
            with self.lock:
                self.connections += 1
            threading.Thread(target=self.relay, args=(c,), daemon=True).start()

    def relay(self, c):
        up = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            up.connect(self.target)
        except OSError:
            c.close()
            return

        def pump(src, dst, record):
            buf = b""
            skip = 0  # body bytes of the request before
            try:
                while True:
                    data = src.recv(65536)
                    if not data:
                        break
                    if record:
                        buf += data
                        record = self.take_requests(buf, skip)
                        if record:
                            buf, skip = record
                    dst.sendall(data)
            except OSError:
                pass
            finally:
                try:
                    dst.shutdown(socket.SHUT_WR)
                except OSError:
                    pass

        t = threading.Thread(target=pump, args=(up, c, False), daemon=True)
        t.start()
        pump(c, up, True)
        t.join(30)
        c.close()
        up.close()

    def take_requests(self, buf, skip):
        """Record the request lines in buf, each head's body skipped by its Content-Length.
        Returns what is left and the body bytes still to skip, or None once the connection
        stops being requests (hijacked, or a chunked body)."""
        while True:
            n = min(skip, len(buf))
            buf, skip = buf[n:], skip - n
            if skip or b"\r\n\r\n" not in buf:
                return buf, skip
            head, buf = buf.split(b"\r\n\r\n", 1)
            lines = head.decode(errors="replace").split("\r\n")
            with self.lock:
                self.requests.append(lines[0])
            fields = {k.strip().lower(): v.strip() for k, _, v in
                      (line.partition(":") for line in lines[1:])}
            if "upgrade" in fields or "chunked" in fields.get("transfer-encoding", ""):
                return None
            skip = int(fields.get("content-length", "0"))

    def close(self):
        self.stopping = True
        self.sock.close()
        try:
            os.unlink(self.path)
        except FileNotFoundError:
            pass


def ok(p):
    """The stdout of a finished CLI run, which must have exited 0."""
    assert p.returncode == 0, (p.returncode, p.stdout, p.stderr)
    return p.stdout


def refused_as_docker(cli, *args):
    """berth and the docker CLI 28 both refuse args on cli's berthd: the same exit code (1 or
    125), docker's message with its name changed, nothing on stdout."""
    b = cli.run(*args)
    d = cli.docker(*args)
    assert b.returncode == d.returncode and b.returncode in (1, 125), (b, d)
    assert b.stderr == d.stderr.replace("docker", "berth"), (b.stderr, d.stderr)
    assert b.stdout == d.stdout == ""


class BerthCLI:
    def __init__(self, berthd):
        self.berthd = berthd
        self.binary = berth_binary()
        self.config = berthd.dir / "docker-config"
        self.proxies = []

    @property
    def host(self):
        return f"unix://{self.berthd.sock}"

    def env(self, extra=None, host=None):
        env = {k: v for k, v in os.environ.items()
               if k not in ("DOCKER_HOST", "BERTH_HOST", "DOCKER_CONTEXT", "DOCKER_API_VERSION",
                            "DOCKER_CONFIG")}
        env.update(BERTH_HOST=host or self.host, DOCKER_CONFIG=str(self.config), TZ="UTC")
        env.update(extra or {})
        return {k: v for k, v in env.items() if v is not None}

    def run(self, *args, env=None, host=None, timeout=60, input=None):
        return subprocess.run([str(self.binary), *args], capture_output=True, text=True,
                              env=self.env(env, host), timeout=timeout,
                              stdin=subprocess.DEVNULL if input is None else None, input=input)

    def popen(self, *args, env=None, host=None):
        return subprocess.Popen([str(self.binary), *args], stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True, env=self.env(env, host),
                                stdin=subprocess.DEVNULL)

    def docker(self, *args, env=None, timeout=60):
        if DOCKER_CLI is None:
            pytest.skip("no docker CLI")
        e = {k: v for k, v in os.environ.items()
             if k not in ("DOCKER_HOST", "DOCKER_CONTEXT", "DOCKER_API_VERSION")}
        e.update(DOCKER_HOST=self.host, DOCKER_CONFIG=str(self.config), TZ="UTC")
        e.update(env or {})
        return subprocess.run([DOCKER_CLI, *args], capture_output=True, text=True, env=e,
                              timeout=timeout, stdin=subprocess.DEVNULL)

    def counting_proxy(self):
        p = CountingProxy(str(self.berthd.sock), self.berthd.dir / "extra" / "proxy.sock")
        self.proxies.append(p)
        return p

    def close(self):
        for p in self.proxies:
            p.close()


@pytest.fixture
def berth_cli(berthd):
    """The berth CLI pointed at a private berthd (BERTH_HOST), with its own docker config dir."""
    if not berth_binary().exists():
        pytest.fail(f"no berth binary at {berth_binary()}: build first")
    (berthd.dir / "extra").mkdir(exist_ok=True)
    c = BerthCLI(berthd)
    yield c
    c.close()
    shutil.rmtree(berthd.dir / "extra", ignore_errors=True)
