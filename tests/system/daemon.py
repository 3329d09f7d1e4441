"""A private berthd for system tests: its own data root, exec root and socket in a temp dir.

    def test_ping(berthd):
        status, headers, body = berthd.http("GET", "/_ping")
        assert (status, body) == (200, b"OK")

The `berthd` fixture starts one (waits until /_ping answers), and at the end stops it with
SIGTERM, then fails the test if berthd exited badly or left anything behind: a live process
that mentions its directory, a mount under it, a file in the exec root, anything in its
directory besides data/, exec/, the config file and the log, or one of the default paths
(/run/berth, /var/lib/berth) that did not exist before.  `make_berthd(...)` makes more, with
other flags, a config file or environment, started or not.

Clients: `berthd.http(...)` (raw HTTP over the socket, http.client), `berthd.docker(...)` (the
docker CLI, DOCKER_HOST set), `berthd.client()` / `berthd.api_client(version)` (python3-docker).
"""

import http.client
import json
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import pytest

from berth import REPO, mounts_under, wait_until

DOCKER_CLI = next((p for p in ("/usr/local/bin/docker", shutil.which("docker") or "")
                   if p and os.access(p, os.X_OK)), None)
DEFAULT_PATHS = ("/run/berth", "/var/lib/berth")


def berthd_binary():
    env = os.environ.get("BERTHD")
    path = Path(env) if env else REPO / "build" / "daemon" / "berthd"
    return path if path.is_absolute() else Path.cwd() / path


# The mark of a module whose tests need a built berthd: pytestmark = [needs_berthd]
needs_berthd = pytest.mark.skipif(not os.access(berthd_binary(), os.X_OK),
                                  reason="berthd not built")


class UnixHTTPConnection(http.client.HTTPConnection):
    def __init__(self, path, timeout=30):
        super().__init__("localhost", timeout=timeout)
        self.unix_path = path

    def connect(self):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.settimeout(self.timeout)
        s.connect(self.unix_path)
        self.sock = s


CLOSED_PROXY = "http://127.0.0.1:9"  # discard's port: nothing listens there


class Berthd:
    """One berthd under a short temp dir (unix socket paths are limited to 107 bytes)."""

    def __init__(self, args=(), config=None, env=None, binary=None, netns=None, bridge=False):
        self.dir = Path(tempfile.mkdtemp(prefix="berthd-", dir="/tmp"))
        self.data_root = self.dir / "data"
        self.exec_root = self.dir / "exec"
        self.sock = self.dir / "berth.sock"
        self.config_file = self.dir / "daemon.json"
        self.log = self.dir / "berthd.log"
        self.binary = Path(binary or berthd_binary())
        self.args = list(args)
        # berthd's default bridge network makes a bridge and a firewall table in berthd's
        # network namespace: only where a test gave it one of its own (netns, a path under
        # /run/netns), never in the host's
        self.netns = netns
        self.bridge = bridge
        # Tests send traffic to loopback only: whatever in berthd would reach a registry off this
        # machine (a docker.io pull, `docker run` of a missing image) goes to a closed port on
        # loopback instead, through libcurl's proxy variables; loopback registries are direct.
        self.env = dict(os.environ, https_proxy=CLOSED_PROXY, http_proxy=CLOSED_PROXY,
                        HTTPS_PROXY=CLOSED_PROXY, no_proxy="127.0.0.1,localhost,::1",
                        NO_PROXY="127.0.0.1,localhost,::1")
        self.env.update(env or {})
        self.proc = None
        self.exit_code = None
        self.default_paths_before = {p for p in DEFAULT_PATHS if os.path.exists(p)}
        self.write_config(config if config is not None else {})

    # -- life cycle

    def write_config(self, config):
        text = config if isinstance(config, str) else json.dumps(config)
        self.config_file.write_text(text)

    def argv(self, hosts=True):
        argv = ["nsenter", f"--net={self.netns}", str(self.binary)] if self.netns else \
            [str(self.binary)]
        if hosts:
            argv += ["-H", f"unix://{self.sock}"]
        argv += ["--data-root", str(self.data_root), "--exec-root", str(self.exec_root),
                 "--config-file", str(self.config_file), *self.args]
        if not self.bridge and not any(a in ("--bridge", "-b") for a in self.args) and \
                not (self.config_file.exists() and '"bridge"' in self.config_file.read_text()):
            argv += ["--bridge", "none"]
        return argv

    def start(self, wait=True, argv=None):
        self.logf = open(self.log, "ab")
        self.proc = subprocess.Popen(argv or self.argv(), stdin=subprocess.DEVNULL,
                                     stdout=self.logf, stderr=subprocess.STDOUT, env=self.env)
        if wait:
            self.wait_ready()
        return self

    def wait_ready(self, timeout=15):
        def up():
            if self.proc.poll() is not None:
                raise AssertionError(f"berthd exited {self.proc.returncode}:\n{self.log_text()}")
            try:
                return self.http("GET", "/_ping", timeout=2)[0] == 200
            except OSError:
                return False
        assert wait_until(up, timeout, 0.01), f"berthd did not answer /_ping:\n{self.log_text()}"

    def run_to_exit(self, timeout=15):
        """Runs berthd expecting it to exit by itself: (exit code, its output)."""
        p = subprocess.run(self.argv(), stdin=subprocess.DEVNULL, capture_output=True,
                           text=True, env=self.env, timeout=timeout)
        return p.returncode, p.stdout + p.stderr

    @property
    def pid(self):
        return self.proc.pid

    def signal(self, sig):
        os.kill(self.proc.pid, sig)

    def stop(self, timeout=15):
        if self.proc is None or self.proc.poll() is not None:
            self.exit_code = self.proc.returncode if self.proc else None
            return self.exit_code
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.exit_code = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            raise AssertionError(f"berthd did not stop on SIGTERM in {timeout}s:\n"
                                 f"{self.log_text()}") from None
        return self.exit_code

    def log_text(self):
        try:
            return self.log.read_text(errors="replace")
        except FileNotFoundError:
            return "(no log)"

    def rss_kib(self, field="VmRSS"):
        for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1])
        return None

    def threads(self):
        return len(os.listdir(f"/proc/{self.pid}/task"))

    # -- clients

    def http(self, method, path, body=None, headers=None, timeout=30):
        """One request on a fresh connection: (status, headers dict (lower-case), body bytes)."""
        c = UnixHTTPConnection(str(self.sock), timeout=timeout)
        try:
            c.request(method, path, body=body, headers=headers or {})
            r = c.getresponse()
            data = r.read()
            return r.status, {k.lower(): v for k, v in r.getheaders()}, data
        finally:
            c.close()

    def connect(self, timeout=10):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.settimeout(timeout)
        s.connect(str(self.sock))
        return s

    def raw(self, data, timeout=10):
        """Send bytes as they are, read until the server closes (or timeout)."""
        s = self.connect(timeout)
        try:
            s.sendall(data)
            out = b""
            while True:
                try:
                    chunk = s.recv(65536)
                except socket.timeout:
                    break
                if not chunk:
                    break
                out += chunk
            return out
        finally:
            s.close()

    def docker(self, *args, check=True, timeout=60):
        if DOCKER_CLI is None:
            pytest.skip("no docker CLI")
        env = dict(os.environ, DOCKER_HOST=f"unix://{self.sock}",
                   DOCKER_CONFIG=str(self.dir / "docker-config"))
        p = subprocess.run([DOCKER_CLI, *args], capture_output=True, text=True, env=env,
                           timeout=timeout, stdin=subprocess.DEVNULL)
        if check and p.returncode != 0:
            raise AssertionError(f"docker {' '.join(args)}: exit {p.returncode}\n"
                                 f"{p.stdout}\n{p.stderr}\nberthd log:\n{self.log_text()}")
        return p

    def client(self, **kw):
        import docker
        return docker.DockerClient(base_url=f"unix://{self.sock}", **kw)

    def api_client(self, version="auto", **kw):
        import docker
        return docker.APIClient(base_url=f"unix://{self.sock}", version=version, **kw)

    # -- the leak check

    def leftovers(self):
        left = []
        root = str(self.dir)
        for pid in os.listdir("/proc"):
            if not pid.isdigit() or int(pid) == os.getpid():
                continue
            try:
                cmd = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(
                    errors="replace")
            except OSError:
                continue
            if root in cmd and (self.proc is None or int(pid) != self.proc.pid or
                                self.proc.poll() is None):
                left.append(f"process {pid}: {cmd.strip()}")
        for m in mounts_under(self.dir):
            left.append(f"mount {m}")
        if self.exec_root.exists():
            for e in sorted(self.exec_root.iterdir()):
                left.append(f"file in the exec root: {e}")
        allowed = {"data", "exec", "daemon.json", "berthd.log", "docker-config", "extra", "certs.d"}
        for e in sorted(self.dir.iterdir()):
            if e.name not in allowed:
                left.append(f"file outside the roots: {e}")
        for p in DEFAULT_PATHS:
            if p not in self.default_paths_before and os.path.exists(p):
                left.append(f"{p} created (berthd was given other roots)")
        return left

    def cleanup(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        for m in mounts_under(self.dir):
            subprocess.run(["umount", "-l", m], capture_output=True)
        shutil.rmtree(self.dir, ignore_errors=True)
        if getattr(self, "logf", None):
            self.logf.close()


@pytest.fixture
def make_berthd():
    """Factory: make_berthd(args=(), config={}, env={}, start=True) -> Berthd.  Each one is
    stopped at the end and must exit 0 (if it was running) and leave nothing behind."""
    made = []

    def make(args=(), config=None, env=None, start=True, netns=None, bridge=False):
        b = Berthd(args=args, config=config, env=env, netns=netns, bridge=bridge)
        made.append(b)
        if start:
            b.start()
        return b

    yield make
    problems = []
    for b in made:
        try:
            was_running = b.proc is not None and b.proc.poll() is None
            code = b.stop()
            if was_running and code != 0:
                problems.append(f"berthd exited {code} on SIGTERM:\n{b.log_text()}")
            if b.proc is not None:
                left = b.leftovers()
                if left:
                    problems.append("left behind:\n  " + "\n  ".join(left))
        finally:
            b.cleanup()
    assert not problems, "\n".join(problems)


@pytest.fixture
def berthd(make_berthd):
    """A running private berthd (see Berthd)."""
    return make_berthd()


# -- containers


def import_busybox(b, tag="busybox:latest"):
    """Make `tag` in b from the cached busybox root (scripts/mkrootfs.sh) through
    POST /images/create?fromSrc=- (docker import): one layer, no network."""
    from berth import CACHE, SCRIPTS
    root = CACHE / "rootfs"
    subprocess.run([str(SCRIPTS / "mkrootfs.sh"), str(root)], check=True, timeout=120)
    tar = subprocess.run(["tar", "-C", str(root), "-c", "."], check=True,
                         capture_output=True).stdout
    from urllib.parse import quote
    status, _, body = b.http("POST", f"/images/create?fromSrc=-&repo={quote(tag)}", body=tar,
                             headers={"Content-Type": "application/x-tar"}, timeout=120)
    assert status == 200, body


def container_ids_seen(b):
    """Every container id berthd's event ring has named (create .. destroy)."""
    status, _, body = b.http("GET", "/events?since=0&until=%d&filters=%s" % (
        int(time.time()) + 1, '{"type":["container"]}'))
    assert status == 200, body
    ids = {json.loads(line)["Actor"]["ID"] for line in body.splitlines() if line.strip()}
    return {i for i in ids if len(i) == 64}  # prune's event names no container


def container_json(bd, name):
    """GET /containers/{name}/json on bd, which must answer 200: the container's JSON."""
    status, _, data = bd.http("GET", f"/containers/{name}/json", timeout=30)
    assert status == 200, data
    return json.loads(data)


def shared_berthd(args=(), config=None, netns=None, bridge=False, env=None):
    """A module-wide berthd with busybox:latest (a generator for a module fixture).  At the end:
    every container is removed, then berthd must stop cleanly and leave nothing behind -- the
    usual leak check, plus no cgroup named after a container it ever had."""
    from berth import cgroups_named
    b = Berthd(args=args, config=config, netns=netns, bridge=bridge, env=env)
    try:
        b.start()
        import_busybox(b)
        yield b
        if b.proc.poll() is not None:
            raise AssertionError(f"berthd died ({b.proc.returncode}):\n{b.log_text()}")
        problems = []
        status, _, body = b.http("GET", "/containers/json?all=1")
        for c in json.loads(body) if status == 200 else []:
            st, _, msg = b.http("DELETE", f"/containers/{c['Id']}?force=1")
            if st != 204:
                problems.append(f"rm -f {c['Id']}: {st} {msg!r}")
        ids = container_ids_seen(b)
        code = b.stop()
        if code != 0:
            problems.append(f"berthd exited {code} on SIGTERM:\n{b.log_text()}")
        problems += b.leftovers()
        left = cgroups_named(ids)
        if left:
            problems.append(f"cgroups left: {left}")
        if problems:
            problems.append("berthd log (last 60 lines):\n" +
                            "\n".join(b.log_text().splitlines()[-60:]))
        assert not problems, "\n".join(problems)
    finally:
        b.cleanup()
