"""Escapes, played from inside a container (docs/security.md).

A watcher (helpers/watcher.c, static) runs in a container and attacks every process it can see,
as a hostile image would: it opens /proc/PID/exe with O_PATH and keeps it, tries again and again
to reopen what it holds for writing (CVE-2019-5736: the runtime's binary, once the runtime has
exited), and tries to ptrace each process (CVE-2016-9962).  It writes nothing.  Meanwhile the test
makes the runtime enter the container hundreds of times: exec, create joining the container's pid
namespace, exec into a created container whose init waits for start.

What must hold: no process of the runtime is ever found running the host's binary (the watcher
never holds the host file, let alone for writing); what it finds instead is a sealed memfd; no
ptrace of a runtime process succeeds unless the container holds CAP_SYS_PTRACE over the host.
Also here: sysctls and the hostname refused when the namespace joined is the runtime's own."""

import contextlib
import hashlib
import json
import os
import subprocess
import time
from pathlib import Path

import pytest

from berth import CACHE, new_id, runtime_binary, wait_until

HERE = Path(__file__).resolve().parent
WATCHER_SRC = HERE / "helpers" / "watcher.c"

# docker's default capability set (no CAP_SYS_PTRACE): what a container usually holds
DOCKER_CAPS = ["CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FSETID", "CAP_FOWNER", "CAP_MKNOD",
               "CAP_NET_RAW", "CAP_SETGID", "CAP_SETUID", "CAP_SETFCAP", "CAP_SETPCAP",
               "CAP_NET_BIND_SERVICE", "CAP_SYS_CHROOT", "CAP_KILL", "CAP_AUDIT_WRITE"]
ALL_SEALS = 0x1 | 0x2 | 0x4 | 0x8  # F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE


@pytest.fixture(scope="session")
def watcher_binary():
    """helpers/watcher.c built static (the busybox rootfs has no libc), cached by its hash."""
    src = WATCHER_SRC.read_bytes()
    out = CACHE / f"watcher-{hashlib.sha256(src).hexdigest()[:16]}"
    if not out.exists():
        CACHE.mkdir(parents=True, exist_ok=True)
        tmp = out.with_suffix(".tmp")
        subprocess.run(["gcc", "-static", "-O2", "-Wall", "-o", str(tmp), str(WATCHER_SRC)],
                       check=True, capture_output=True, text=True)
        tmp.rename(out)
    return out


def host_binary_id():
    """dev:ino of the runtime's binary as the watcher prints them (major:minor:ino)."""
    st = os.stat(runtime_binary())
    return f"{os.major(st.st_dev)}:{os.minor(st.st_dev)}:{st.st_ino}"


def set_caps(b, caps):
    b.config["process"]["capabilities"] = {k: list(caps) for k in
                                           ("bounding", "effective", "permitted")}


class Watch:
    """The watcher's log directory (bound at /watch in the container) and its findings."""

    def __init__(self, tmp_path):
        self.dir = tmp_path / "watch"
        self.dir.mkdir()
        self.dir.chmod(0o777)
        self.log = self.dir / "log"

    def mount(self):
        return {"destination": "/watch", "type": "bind", "source": str(self.dir),
                "options": ["rbind", "rw"]}

    def argv(self):
        return ["/watcher", "/watch/log", "/watch/stop"]

    def started(self):
        return wait_until(lambda: self.log.exists() and "START" in self.log.read_text(), 10)

    def stop(self):
        (self.dir / "stop").touch()
        assert wait_until(lambda: "DONE" in self.log.read_text(), 20), self.log.read_text()

    def findings(self):
        out = []
        for line in self.log.read_text().splitlines():
            f = line.split()
            if f[0] in ("OPEN", "PTRACED"):
                out.append({"kind": f[0], "pid": int(f[1]), "id": f[2], "comm": f[3],
                            "target": " ".join(f[4:])})
            elif f[0] == "WRITABLE":
                out.append({"kind": f[0], "pid": int(f[1]), "id": f[2], "comm": f[3],
                            "seals": int(f[4]), "target": " ".join(f[5:])})
            elif f[0] == "DONE":
                self.seen = int(f[2].split("=")[1])
        return out


def watcher_bundle(make_bundle, watcher_binary, watch, caps=DOCKER_CAPS):
    b = make_bundle(args=watch.argv())
    (b.rootfs / "watcher").write_bytes(watcher_binary.read_bytes())
    (b.rootfs / "watcher").chmod(0o755)
    b.config["mounts"].append(watch.mount())
    set_caps(b, caps)
    b.write()
    return b


def runtime_findings(findings):
    """Findings about a process that ran the runtime's code (the host binary or a copy)."""
    host = host_binary_id()
    # what the watcher holds (OPEN, WRITABLE) is the fd's target; a PTRACED process was looked
    # at while stopped, so its name says what it ran then
    return [f for f in findings
            if f["id"] == host or "berth" in f["target"] or "memfd:" in f["target"]
            or (f["kind"] == "PTRACED" and f["comm"].startswith(("berth", "memfd:")))]


def assert_host_binary_unreached(findings):
    host = host_binary_id()
    hits = [f for f in findings if f["id"] == host]
    assert not hits, f"the watcher reached the host's runtime binary: {hits}"


def test_exec_runtime_unreachable_from_container(runtime, make_bundle, watcher_binary, tmp_path):
    """200 execs into a container with docker's default capabilities: the watcher as PID 1
    neither opens the runtime's exe nor ptraces it (it is non-dumpable from birth to exec)."""
    watch = Watch(tmp_path)
    b = watcher_bundle(make_bundle, watcher_binary, watch)
    cid = runtime.create(b)
    runtime.start(cid)
    assert watch.started()
    n = 200
    for _ in range(n):
        runtime.exec(cid, "/bin/true")
    watch.stop()
    findings = watch.findings()
    # the watcher did look: it saw every exec'd process (and opened their exe, busybox)
    assert watch.seen >= n * 9 // 10, (watch.seen, findings[:5])
    assert [f for f in findings if f["kind"] == "OPEN"], "the watcher opened nothing at all"
    assert_host_binary_unreached(findings)
    assert not runtime_findings(findings), runtime_findings(findings)
    runtime.delete(cid, force=True)


def test_exec_with_cap_sys_ptrace_finds_only_a_sealed_copy(runtime, make_bundle, watcher_binary,
                                                           tmp_path):
    """With CAP_SYS_PTRACE over the host's user namespace the container may open a non-dumpable
    process's exe: what it gets must be the sealed memfd, never the host's file."""
    watch = Watch(tmp_path)
    b = watcher_bundle(make_bundle, watcher_binary, watch, caps=DOCKER_CAPS + ["CAP_SYS_PTRACE"])
    cid = runtime.create(b)
    runtime.start(cid)
    assert watch.started()
    for _ in range(150):
        runtime.exec(cid, "/bin/true")
    watch.stop()
    findings = watch.findings()
    assert_host_binary_unreached(findings)
    reached = runtime_findings(findings)
    for f in reached:
        assert "memfd:" in f["target"], f
        if f["kind"] == "WRITABLE":
            assert f["seals"] & ALL_SEALS == ALL_SEALS, f
    runtime.delete(cid, force=True)


def test_create_joining_pid_namespace(runtime, make_bundle, watcher_binary, tmp_path):
    """100 containers created into the watcher's pid namespace (their init is forked there and
    sets up in sight of the watcher) and started: never reachable."""
    watch = Watch(tmp_path)
    b = watcher_bundle(make_bundle, watcher_binary, watch)
    cid = runtime.create(b)
    runtime.start(cid)
    assert watch.started()
    wpid = runtime.container_pid(cid)
    j = make_bundle(args=["/bin/true"], name="joiner")
    set_caps(j, DOCKER_CAPS)
    j.config["linux"]["namespaces"] = [
        {"type": "pid", "path": f"/proc/{wpid}/ns/pid"}, {"type": "mount"}, {"type": "ipc"},
        {"type": "uts"}, {"type": "network"}]
    j.write()
    n = 100
    for i in range(n):
        jid = runtime.create(j, cid=new_id("j"))
        p = runtime.start(jid, check=False)
        assert p.returncode == 0, (i, p.stderr, runtime.output(jid))
        runtime.wait_status(jid, "stopped")
        runtime.delete(jid)
    watch.stop()
    findings = watch.findings()
    assert watch.seen >= n * 9 // 10, watch.seen
    assert_host_binary_unreached(findings)
    assert not runtime_findings(findings), runtime_findings(findings)
    runtime.delete(cid, force=True)


def test_created_container_init_unreachable_from_exec(runtime, make_bundle, watcher_binary,
                                                      tmp_path):
    """A created container's init is the runtime's code until start: a process exec'd into it
    (here with CAP_SYS_PTRACE) finds PID 1 running the sealed copy, not the host's binary."""
    watch = Watch(tmp_path)
    b = watcher_bundle(make_bundle, watcher_binary, watch)
    b.config["process"]["args"] = ["sleep", "100"]
    b.write()
    cid = runtime.create(b)
    runtime.exec(cid, *watch.argv(), opts=["--detach", "--cap", "CAP_SYS_PTRACE"])
    assert watch.started()
    time.sleep(0.5)
    watch.stop()
    findings = watch.findings()
    assert_host_binary_unreached(findings)
    init = [f for f in findings if f["pid"] == 1 and f["kind"] == "OPEN"]
    assert init and all("memfd:" in f["target"] for f in init), findings
    runtime.delete(cid, force=True)


def test_runtime_processes_run_from_a_sealed_copy(runtime, make_bundle, tmp_path):
    """The processes of create/exec, seen from the host: their exe is a memfd with every seal."""
    b = make_bundle(args=["sleep", "100"])
    cid = runtime.create(b)
    pid = runtime.container_pid(cid)
    exe = os.readlink(f"/proc/{pid}/exe")
    assert exe.startswith("/memfd:"), exe
    fd = os.open(f"/proc/{pid}/exe", os.O_RDONLY)
    try:
        import fcntl
        seals = fcntl.fcntl(fd, 1034)  # F_GET_SEALS
        assert seals & ALL_SEALS == ALL_SEALS, seals
        with pytest.raises(OSError):
            os.open(f"/proc/self/fd/{fd}", os.O_WRONLY)
            raise AssertionError("unreachable")
    finally:
        os.close(fd)
    # and it is non-dumpable until start: its /proc files are root's, whatever its uid
    st = os.stat(f"/proc/{pid}/environ")
    assert st.st_uid == 0
    with open(f"/proc/{pid}/status") as f:
        assert "berth-runtime" in f.readline()  # comm taken back from the memfd's name
    runtime.delete(cid, force=True)


# ---- namespaces are device and inode, not "a path was given" ---------------------------------

def own_ns(name):
    return f"/proc/{os.getpid()}/ns/{name}"


@contextlib.contextmanager
def host_value_kept(procfile):
    """Asserts the host's /proc/sys value is unchanged at the end, and puts it back if a
    runtime under test did change it (a failing test must not leave the host changed)."""
    before = Path(procfile).read_text()
    try:
        yield
    finally:
        after = Path(procfile).read_text()
        if after != before:
            Path(procfile).write_text(before)
    assert after == before, f"{procfile} changed on the host: {before!r} -> {after!r}"


@pytest.mark.parametrize("ns,key,value,procfile", [
    ("network", "net.ipv4.ip_forward", "1", "/proc/sys/net/ipv4/ip_forward"),
    ("network", "net/ipv4/conf/all/forwarding", "1", "/proc/sys/net/ipv4/conf/all/forwarding"),
    ("ipc", "kernel.msgmax", "4242", "/proc/sys/kernel/msgmax"),
    ("uts", "kernel.domainname", "nothost", "/proc/sys/kernel/domainname"),
])
def test_sysctl_in_runtimes_own_namespace_refused(runtime, make_bundle, ns, key, value,
                                                  procfile):
    """`docker run --network host --sysctl net...` joins the host's namespace by a path: the
    sysctl would land on the host.  Refused, and the host's value is untouched."""
    b = make_bundle(args=["true"])
    nss = [n for n in b.config["linux"]["namespaces"] if n["type"] != ns]
    nss.append({"type": ns, "path": own_ns({"network": "net"}.get(ns, ns))})
    b.config["linux"]["namespaces"] = nss
    b.config["linux"]["sysctl"] = {key: value}
    if ns == "uts":
        b.config.pop("hostname", None)
    b.write()
    with host_value_kept(procfile):
        p = runtime.create(b, check=False)
        assert p.returncode == 1 and key in p.stderr and "runtime's own" in p.stderr, p.stderr
    assert runtime.leftovers() == []


def test_sysctl_in_runtimes_own_namespace_through_a_bind(runtime, make_bundle, tmp_path):
    """The same namespace reached through a bind mount of its nsfs file (docker's
    /var/run/docker/netns/default) is still the host's."""
    holder = tmp_path / "netns"
    holder.touch()
    subprocess.run(["mount", "--bind", own_ns("net"), str(holder)], check=True)
    try:
        before = Path("/proc/sys/net/ipv4/ip_forward").read_text()
        b = make_bundle(args=["true"])
        nss = [n for n in b.config["linux"]["namespaces"] if n["type"] != "network"]
        b.config["linux"]["namespaces"] = nss + [{"type": "network", "path": str(holder)}]
        b.config["linux"]["sysctl"] = {"net.ipv4.ip_forward": "0" if before == "1\n" else "1"}
        b.write()
        with host_value_kept("/proc/sys/net/ipv4/ip_forward"):
            p = runtime.create(b, check=False)
            assert p.returncode == 1 and "runtime's own" in p.stderr, p.stderr
    finally:
        subprocess.run(["umount", str(holder)], check=True)


def test_hostname_in_runtimes_own_uts_namespace_refused(runtime, make_bundle):
    b = make_bundle(args=["true"])
    nss = [n for n in b.config["linux"]["namespaces"] if n["type"] != "uts"]
    b.config["linux"]["namespaces"] = nss + [{"type": "uts", "path": own_ns("uts")}]
    b.config["hostname"] = "not-the-host"
    b.write()
    with host_value_kept("/proc/sys/kernel/hostname"):
        p = runtime.create(b, check=False)
        assert p.returncode == 1 and "hostname" in p.stderr and "runtime's own" in p.stderr, \
            p.stderr


def test_sysctl_in_another_joined_namespace_is_fine(runtime, make_bundle):
    """Joining a namespace that is not ours by path still takes its sysctls."""
    a = make_bundle(args=["sleep", "100"], name="holder")
    aid = runtime.create(a)
    apid = runtime.container_pid(aid)
    b = make_bundle(args=["cat", "/proc/sys/net/ipv4/ip_forward"], name="joiner")
    nss = [n for n in b.config["linux"]["namespaces"] if n["type"] != "network"]
    b.config["linux"]["namespaces"] = nss + [{"type": "network",
                                              "path": f"/proc/{apid}/ns/net"}]
    b.config["linux"]["sysctl"] = {"net.ipv4.ip_forward": "1"}
    b.config["linux"]["readonlyPaths"] = []
    b.write()
    code, out, err = runtime.run_bundle(b)
    assert code == 0 and out == "1\n", err
    runtime.delete(aid, force=True)
