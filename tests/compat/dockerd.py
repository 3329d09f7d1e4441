"""A private dockerd for the conformance tests, and what it generated.

dockerd (with its containerd) runs in a network namespace of its own, with its data and exec
roots under a temp dir, as `unshare --mount --propagation shared` (this VM's / is private and
dockerd's rshared binds need a shared one).  Its only runtime is a wrapper script that saves the
config.json dockerd generated for each container (by container id) and then execs runc, so a
test can read exactly what docker would run.  The docker CLI talks to it through a small
unix-socket proxy that records the body of every POST /containers/create: the request as the
CLI made it from the flags, which is what lib/dockerspec gets from a client.
"""

import json
import os
import shutil
import socket
import subprocess
import threading
import time
from pathlib import Path

DOCKERD = shutil.which("dockerd") or "/usr/bin/dockerd"
DOCKER = "/usr/local/bin/docker" if os.path.exists("/usr/local/bin/docker") else shutil.which(
    "docker")
RUNC = shutil.which("runc") or "/usr/sbin/runc"

WRAPPER = """#!/bin/sh
# saves the bundle's config.json of every `create`, then runs runc (tests only)
bundle=""; prev=""; id=""
for a in "$@"; do
	[ "$prev" = "--bundle" ] || [ "$prev" = "-b" ] && bundle="$a"
	prev="$a"; id="$a"
done
case " $* " in
*" create "*) [ -n "$bundle" ] && cp "$bundle/config.json" "{capture}/$id.json" ;;
esac
exec {runc} "$@"
"""


def available():
    return bool(DOCKER) and os.path.exists(DOCKERD) and os.path.exists(RUNC) and \
        shutil.which("containerd") is not None and os.geteuid() == 0


class CreateProxy:
    """Relays a unix socket to dockerd's, keeping the body of each container create."""

    def __init__(self, listen, target):
        self.listen, self.target = str(listen), str(target)
        self.bodies = []
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.bind(self.listen)
        self.sock.listen(16)
        self.stopping = False
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while not self.stopping:
            try:
                c, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(c,), daemon=True).start()

    def _serve(self, c):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            s.connect(self.target)
        except OSError:
            c.close()
            return
        seen = bytearray()

        def up():
            try:
                while True:
                    b = c.recv(65536)
                    if not b:
                        break
                    seen.extend(b)
                    self._scan(seen)
                    s.sendall(b)
            except OSError:
                pass
            try:
                s.shutdown(socket.SHUT_WR)
            except OSError:
                pass

        t = threading.Thread(target=up, daemon=True)
        t.start()
        try:
            while True:
                b = s.recv(65536)
                if not b:
                    break
                c.sendall(b)
        except OSError:
            pass
        t.join(timeout=5)
        c.close()
        s.close()

    def _scan(self, buf):
        """Pull complete `POST .../containers/create` requests out of buf."""
        while True:
            head_end = buf.find(b"\r\n\r\n")
            if head_end < 0:
                return
            head = bytes(buf[:head_end]).decode("latin-1")
            length = 0
            for line in head.split("\r\n")[1:]:
                k, _, v = line.partition(":")
                if k.strip().lower() == "content-length":
                    length = int(v.strip())
            if len(buf) < head_end + 4 + length:
                return
            body = bytes(buf[head_end + 4:head_end + 4 + length])
            if "/containers/create" in head.split("\r\n")[0]:
                path = head.split(" ")[1]
                api = path.split("/")[1][1:] if path.startswith("/v") else "1.44"
                self.bodies.append((api, json.loads(body)))
            del buf[:head_end + 4 + length]

    def close(self):
        self.stopping = True
        self.sock.close()


class PrivateDockerd:
    def __init__(self, root):
        self.root = Path(root)
        self.netns = f"berth-ds-{os.getpid()}"
        self.capture = self.root / "capture"
        self.sock = self.root / "docker.sock"
        self.proxy_sock = self.root / "proxy.sock"
        self.proc = None
        self.proxy = None

    def start(self):
        self.capture.mkdir(parents=True, exist_ok=True)
        wrapper = self.root / "runc-capture"
        wrapper.write_text(WRAPPER.replace("{capture}", str(self.capture)).replace("{runc}",
                                                                                   RUNC))
        wrapper.chmod(0o755)
        (self.root / "daemon.json").write_text(json.dumps({
            "runtimes": {"capture": {"path": str(wrapper)}}, "default-runtime": "capture",
            "bridge": "none", "iptables": False, "ip6tables": False}))
        subprocess.run(["ip", "netns", "add", self.netns], check=True)
        subprocess.run(["ip", "netns", "exec", self.netns, "ip", "link", "set", "lo", "up"],
                       check=True)
        log = open(self.root / "dockerd.log", "wb")
        self.proc = subprocess.Popen(
            # nsenter, not `ip netns exec`: that one mounts a fresh /sys and hides the cgroups
            ["nsenter", f"--net=/run/netns/{self.netns}", "unshare", "--mount", "--propagation",
             "shared",
             "--", DOCKERD, "-H", f"unix://{self.sock}", "--data-root", str(self.root / "data"),
             "--exec-root", str(self.root / "exec"), "--pidfile", str(self.root / "dockerd.pid"),
             "--config-file", str(self.root / "daemon.json"),
             "--cgroup-parent", f"/{self.netns}"],
            stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.docker("version", check=False).returncode == 0:
                break
            if self.proc.poll() is not None:
                raise RuntimeError("dockerd exited: " + (self.root / "dockerd.log").read_text())
            time.sleep(0.2)
        else:
            raise RuntimeError("dockerd did not come up: " +
                               (self.root / "dockerd.log").read_text()[-2000:])
        self.proxy = CreateProxy(self.proxy_sock, self.sock)

    def docker(self, *args, check=True, proxy=False, timeout=60):
        env = dict(os.environ, DOCKER_HOST=f"unix://{self.proxy_sock if proxy else self.sock}")
        env.pop("DOCKER_CONTEXT", None)
        return subprocess.run([DOCKER, *args], env=env, capture_output=True, text=True,
                              check=check, timeout=timeout)

    def run_and_capture(self, args, cmd):
        """`docker run -d` through the proxy: (api, create body, config.json) of that run."""
        n = len(self.proxy.bodies)
        r = self.docker("create", *args, "bb", *cmd, proxy=True, check=False)
        if r.returncode != 0:
            raise RuntimeError(f"docker create {args}: {r.stderr}")
        cid = r.stdout.strip()
        try:
            self.docker("start", cid, check=False)
            path = self.capture / f"{cid}.json"
            deadline = time.monotonic() + 20
            while not path.exists() and time.monotonic() < deadline:
                time.sleep(0.1)
            spec = json.loads(path.read_text())
        finally:
            self.docker("rm", "-f", cid, check=False)
        api, body = self.proxy.bodies[n]
        return api, body, spec

    def stop(self):
        if self.proxy:
            self.proxy.close()
        if self.proc and self.proc.poll() is None:
            pidfile = self.root / "dockerd.pid"
            pid = int(pidfile.read_text()) if pidfile.exists() else None
            if pid:
                os.kill(pid, 15)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                if pid:
                    os.kill(pid, 9)
                self.proc.wait(timeout=10)
        subprocess.run(["ip", "netns", "delete", self.netns], check=False)
        # /sys/fs/cgroup/<controller>/<parent> on a v1 host, /sys/fs/cgroup/<parent> on pure v2
        cg = Path("/sys/fs/cgroup")
        for c in [*cg.glob(self.netns), *cg.glob(f"*/{self.netns}")]:
            try:
                c.rmdir()
            except OSError:
                pass
        subprocess.run(["umount", "-R", "-l", str(self.root / "exec")], check=False,
                       stderr=subprocess.DEVNULL)
        subprocess.run(["umount", "-R", "-l", str(self.root / "data")], check=False,
                       stderr=subprocess.DEVNULL)
