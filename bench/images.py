#!/usr/bin/python3
"""bench/images.py: docker load, save, import, images and rmi of a busybox image through berthd
and through dockerd (Debian's docker.io), with the same docker CLI, in one run.

    bench/images.py                 # RUNS=10 rounds, the two daemons interleaved round by round
    RUNS=30 BERTHD=build/daemon/berthd bench/images.py

Each daemon is private: its own data root, exec root and socket under a temporary directory
(dockerd and its containerd also in a network namespace of their own), removed at the end.  The
image is the busybox root filesystem of scripts/mkrootfs.sh as one layer (about 2 MB), saved as a
docker-archive; every load starts from an empty store (rmi before it), so it unpacks the layer.
Prints medians in milliseconds and berthd's over dockerd's.
"""

import io
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
import uuid
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tests" / "system"))
from imagebuild import Image, docker_archive  # noqa: E402

DOCKER = shutil.which("docker", path="/usr/local/bin:" + os.environ.get("PATH", ""))
RUNS = int(os.environ.get("RUNS", "10"))


def rootfs_layer(root):
    subprocess.run([str(REPO / "scripts" / "mkrootfs.sh"), str(root)], check=True)
    buf = io.BytesIO()

    def owner(ti):
        ti.uid = ti.gid = 0
        ti.uname = ti.gname = "root"
        return ti

    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for e in sorted(os.listdir(root)):
            tar.add(root / e, arcname=e, filter=owner)
    return buf.getvalue()


def wait_ping(host, proc, timeout=60):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if proc.poll() is not None:
            sys.exit(f"the daemon exited {proc.returncode}")
        if subprocess.run([DOCKER, "-H", host, "version"], capture_output=True).returncode == 0:
            return
        time.sleep(0.1)
    sys.exit(f"{host} did not answer")


class Daemon:
    def __init__(self, name, base):
        self.name, self.base = name, Path(base)
        self.base.mkdir(parents=True)
        self.host = f"unix://{self.base}/d.sock"
        self.proc = None
        self.netns = None

    def start_berthd(self):
        binary = os.environ.get("BERTHD", str(REPO / "build" / "daemon" / "berthd"))
        (self.base / "daemon.json").write_text("{}")
        self.proc = subprocess.Popen(
            [binary, "-H", self.host, "--data-root", str(self.base / "data"), "--exec-root",
             str(self.base / "exec"), "--config-file", str(self.base / "daemon.json")],
            stdout=subprocess.DEVNULL, stderr=open(self.base / "log", "w"))
        wait_ping(self.host, self.proc)

    def start_dockerd(self):
        self.netns = "bench-img-" + uuid.uuid4().hex[:6]
        subprocess.run(["ip", "netns", "add", self.netns], check=True)
        enter = ["nsenter", f"--net=/run/netns/{self.netns}"]
        subprocess.run([*enter, "ip", "link", "set", "lo", "up"], check=True)
        (self.base / "daemon.json").write_text("{}")
        self.proc = subprocess.Popen(
            [*enter, "unshare", "--mount", "--propagation", "shared", "--", "dockerd", "-H",
             self.host, "--data-root", str(self.base / "data"), "--exec-root",
             str(self.base / "exec"), "--pidfile", str(self.base / "pid"), "--config-file",
             str(self.base / "daemon.json"), "--bridge", "none", "--iptables=false",
             "--cgroup-parent", "/" + self.netns],
            stdout=subprocess.DEVNULL, stderr=open(self.base / "log", "w"),
            start_new_session=True)
        wait_ping(self.host, self.proc)

    def docker(self, *args, input=None):
        p = subprocess.run([DOCKER, "-H", self.host, *map(str, args)], input=input,
                           capture_output=True)
        if p.returncode != 0:
            sys.exit(f"{self.name}: docker {' '.join(map(str, args))}: {p.stderr.decode()}")
        return p.stdout

    def timed(self, *args, input=None):
        t0 = time.perf_counter()
        self.docker(*args, input=input)
        return (time.perf_counter() - t0) * 1000

    def rss_kib(self):
        """The daemon's resident memory (dockerd: with its containerd)."""
        pids = [self.proc.pid]
        if self.netns:
            pids = [int(p) for p in (self.base / "pid").read_text().split()]
            out = subprocess.run(["pgrep", "-f", str(self.base / "exec")], capture_output=True,
                                 text=True).stdout.split()
            pids += [int(p) for p in out if int(p) not in pids]
        total = 0
        for pid in pids:
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
        return total

    def stop(self):
        if self.proc and self.proc.poll() is None:
            if self.netns:
                os.kill(int((self.base / "pid").read_text()), signal.SIGTERM)
            else:
                self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL) if self.netns else self.proc.kill()
                self.proc.wait()
        if self.netns:
            subprocess.run(["ip", "netns", "delete", self.netns], capture_output=True)
            for c in Path("/sys/fs/cgroup").glob(f"*/{self.netns}"):
                for d in sorted((Path(p) for p, _, _ in os.walk(c)), key=lambda p: -len(str(p))):
                    try:
                        d.rmdir()
                    except OSError:
                        pass


def main():
    if os.geteuid() != 0:
        sys.exit("bench/images.py needs root (it starts daemons)")
    if not DOCKER or not shutil.which("dockerd"):
        sys.exit("needs the docker CLI and dockerd (scripts/install-deps.sh)")
    tmp = Path(tempfile.mkdtemp(prefix="bench-images-"))
    daemons = []
    try:
        layer = rootfs_layer(tmp / "rootfs")
        archive = tmp / "bb.tar"
        archive.write_bytes(docker_archive([Image([layer], tags=["bbench:1"])]))
        rootfs = tmp / "rootfs.tar"
        rootfs.write_bytes(layer)
        b = Daemon("berthd", tmp / "berthd")
        b.start_berthd()
        daemons.append(b)
        d = Daemon("dockerd", tmp / "dockerd")
        d.start_dockerd()
        daemons.append(d)

        ops = ["load", "images", "save", "import", "rmi"]
        times = {(x.name, op): [] for x in daemons for op in ops}
        for _ in range(RUNS):
            for x in daemons:
                times[(x.name, "load")].append(x.timed("load", "-q", "-i", archive))
                times[(x.name, "images")].append(x.timed("images"))
                times[(x.name, "save")].append(x.timed("save", "-o", tmp / "out.tar", "bbench:1"))
                t = x.timed("import", rootfs, "bimport:1")
                times[(x.name, "import")].append(t)
                times[(x.name, "rmi")].append(x.timed("rmi", "bbench:1", "bimport:1"))
        rss = {x.name: x.rss_kib() for x in daemons}
        size = archive.stat().st_size
        print(f"busybox image: {size / 1e6:.2f} MB archive, {RUNS} rounds, medians in ms")
        print(f"{'operation':<10} {'berthd':>9} {'dockerd':>9} {'berthd/dockerd':>15}")
        for op in ops:
            mb = statistics.median(times[("berthd", op)])
            md = statistics.median(times[("dockerd", op)])
            print(f"{op:<10} {mb:>9.1f} {md:>9.1f} {mb / md:>15.2f}")
        print(f"{'RSS (KiB)':<10} {rss['berthd']:>9} {rss['dockerd']:>9} "
              f"{rss['berthd'] / rss['dockerd']:>15.2f}   (dockerd: with its containerd)")
        print(json.dumps({"times_ms": {f"{k[0]}/{k[1]}": statistics.median(v)
                                       for k, v in times.items()}, "rss_kib": rss}))
    finally:
        for x in daemons:
            x.stop()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
