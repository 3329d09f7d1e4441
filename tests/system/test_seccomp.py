"""linux.seccomp through berth-runtime: a denied syscall fails inside the container with the
configured errno and has no effect on the host, SCMP_ACT_KILL kills, argument filters, the
default action and errno, architectures, flags, bad profiles, and listenerPath (the notify fd
sent over a unix socket with the container's state)."""

import array
import json
import os
import re
import socket
import threading
from pathlib import Path

import pytest

from berth import proc_status

ALL_ARCHES = {"x86_64": ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"],
              "aarch64": ["SCMP_ARCH_AARCH64", "SCMP_ARCH_ARM"]}


def data_bundle(make_bundle, tmp_path, script):
    """A bundle running `sh -c script` with tmp_path/data bind-mounted rw at /data."""
    data = tmp_path / "data"
    data.mkdir(exist_ok=True)
    b = make_bundle(args=["sh", "-c", script])
    b.add_mount("/data", "bind", data, ["rbind", "rw"])
    return b, data


def seccomp(default="SCMP_ACT_ALLOW", syscalls=(), **kw):
    s = {"defaultAction": default, "syscalls": list(syscalls)}
    s.update(kw)
    return s


def host_syscall_names():
    """Every syscall name of this architecture, from the kernel's uapi header."""
    for hdr in ("/usr/include/x86_64-linux-gnu/asm/unistd_64.h",
                "/usr/include/asm-generic/unistd.h"):
        if os.path.exists(hdr):
            names = re.findall(r"#define __NR_(\w+)\s+\d+", Path(hdr).read_text())
            if names:
                return sorted(set(names))
    pytest.skip("no asm/unistd header to list syscalls")


def assert_clean_failure(runtime, b, *needles):
    p = runtime.create(b, check=False)
    assert p.returncode == 1, (p.returncode, p.stderr)
    for n in needles:
        assert n in p.stderr, (n, p.stderr)
    assert not (runtime.root.exists() and
                [e for e in os.listdir(runtime.root) if not e.startswith(".")])


# ---- actions ------------------------------------------------------------------------------


def test_errno_ret_denies_mkdir(runtime, make_bundle, tmp_path):
    b, data = data_bundle(make_bundle, tmp_path,
                          "mkdir /data/denied; echo rc=$?; touch /data/allowed; echo ok")
    b.config["linux"]["seccomp"] = seccomp(syscalls=[
        {"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO", "errnoRet": 38}])
    b.write()
    code, out, err = runtime.run_bundle(b)
    assert code == 0, err
    assert "Function not implemented" in err, err
    assert out.splitlines() == ["rc=1", "ok"], out
    assert not (data / "denied").exists()
    assert (data / "allowed").exists()  # other syscalls still work


def test_errno_without_errno_ret_is_eperm(runtime, make_bundle, tmp_path):
    b, data = data_bundle(make_bundle, tmp_path, "mkdir /data/denied")
    b.config["linux"]["seccomp"] = seccomp(syscalls=[
        {"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO"}])
    b.write()
    code, out, err = runtime.run_bundle(b)
    assert code == 1 and "Operation not permitted" in err, (code, err)
    assert not (data / "denied").exists()


def test_seccomp_mode_seen_from_host(runtime, make_bundle):
    b = make_bundle(args=["sleep", "100"])
    b.config["linux"]["seccomp"] = seccomp(syscalls=[
        {"names": ["mkdir"], "action": "SCMP_ACT_ERRNO"}])
    b.write()
    cid = runtime.create(b)
    pid = runtime.container_pid(cid)
    assert proc_status(pid)["Seccomp"] == "0"  # loaded only at start, just before exec
    runtime.start(cid)
    st = proc_status(pid)
    assert st["Seccomp"] == "2" and st["Seccomp_filters"] == "1", st
    runtime.delete(cid, force=True)


@pytest.mark.parametrize("action", ["SCMP_ACT_KILL", "SCMP_ACT_KILL_PROCESS",
                                    "SCMP_ACT_KILL_THREAD"])
def test_kill_action(runtime, make_bundle, tmp_path, action):
    data = tmp_path / "data"
    data.mkdir()
    b = make_bundle(args=["mkdir", "/data/x"])
    b.add_mount("/data", "bind", data, ["rbind", "rw"])
    b.config["linux"]["seccomp"] = seccomp(syscalls=[
        {"names": ["mkdir", "mkdirat"], "action": action}])
    b.write()
    code, out, err = runtime.run_bundle(b)
    assert code == 128 + 31, (code, err)  # SIGSYS
    assert not (data / "x").exists()


def test_default_action_errno_with_default_errno_ret(runtime, make_bundle, tmp_path):
    """An allow list of every syscall but mkdir/mkdirat, with defaultAction ERRNO and
    defaultErrnoRet EOPNOTSUPP: mkdir fails with that errno."""
    allowed = [n for n in host_syscall_names() if n not in ("mkdir", "mkdirat")]
    b, data = data_bundle(make_bundle, tmp_path, "mkdir /data/denied; touch /data/ok")
    b.config["linux"]["seccomp"] = seccomp(
        default="SCMP_ACT_ERRNO", defaultErrnoRet=95,
        architectures=ALL_ARCHES.get(os.uname().machine, []),
        syscalls=[{"names": allowed, "action": "SCMP_ACT_ALLOW"}])
    b.write()
    code, out, err = runtime.run_bundle(b)
    assert code == 0, err
    assert "not supported" in err, err
    assert not (data / "denied").exists() and (data / "ok").exists()


def test_args_filter(runtime, make_bundle, tmp_path):
    """chmod to 0700 is refused with EACCES; chmod to 0755 goes through (mode is arg 1 of
    chmod, arg 2 of fchmodat/fchmodat2)."""
    b, data = data_bundle(make_bundle, tmp_path,
                          "touch /data/a /data/b; chmod 700 /data/a; echo rc=$?; "
                          "chmod 755 /data/b; echo rc=$?")
    rule = {"action": "SCMP_ACT_ERRNO", "errnoRet": 13}
    b.config["linux"]["seccomp"] = seccomp(syscalls=[
        dict(rule, names=["chmod"], args=[{"index": 1, "value": 0o700, "op": "SCMP_CMP_EQ"}]),
        dict(rule, names=["fchmodat", "fchmodat2"],
             args=[{"index": 2, "value": 0o700, "op": "SCMP_CMP_EQ"}]),
    ])
    b.write()
    code, out, err = runtime.run_bundle(b)
    assert code == 0, err
    assert out.splitlines() == ["rc=1", "rc=0"], (out, err)
    assert "Permission denied" in err
    assert (data / "a").stat().st_mode & 0o777 != 0o700
    assert (data / "b").stat().st_mode & 0o777 == 0o755


def test_args_masked_eq(runtime, make_bundle, tmp_path):
    """SCMP_CMP_MASKED_EQ with valueTwo: a mode whose group-write bit is set is refused."""
    b, data = data_bundle(make_bundle, tmp_path,
                          "touch /data/a /data/b; chmod 664 /data/a; echo rc=$?; "
                          "chmod 644 /data/b; echo rc=$?")
    rule = {"action": "SCMP_ACT_ERRNO", "errnoRet": 1}
    b.config["linux"]["seccomp"] = seccomp(syscalls=[
        dict(rule, names=["chmod"],
             args=[{"index": 1, "value": 0o020, "valueTwo": 0o020,
                    "op": "SCMP_CMP_MASKED_EQ"}]),
        dict(rule, names=["fchmodat", "fchmodat2"],
             args=[{"index": 2, "value": 0o020, "valueTwo": 0o020,
                    "op": "SCMP_CMP_MASKED_EQ"}]),
    ])
    b.write()
    code, out, err = runtime.run_bundle(b)
    assert out.splitlines() == ["rc=1", "rc=0"], (out, err)
    assert (data / "b").stat().st_mode & 0o777 == 0o644


def test_architectures_and_flags(runtime, make_bundle, tmp_path):
    arches = ALL_ARCHES.get(os.uname().machine)
    if not arches:
        pytest.skip("architecture list written for x86_64 and aarch64")
    b, data = data_bundle(make_bundle, tmp_path, "mkdir /data/x")
    b.config["linux"]["seccomp"] = seccomp(
        architectures=arches, flags=["SECCOMP_FILTER_FLAG_LOG"],
        syscalls=[{"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO", "errnoRet": 38}])
    b.write()
    code, out, err = runtime.run_bundle(b)
    assert code == 1 and "Function not implemented" in err, (code, err)
    assert not (data / "x").exists()


def test_seccomp_with_nnp_false_and_non_root(runtime, make_bundle, tmp_path):
    """Without noNewPrivileges the filter is loaded while still privileged, before the
    switch to the user: it must still be in force for the user's process."""
    b, data = data_bundle(make_bundle, tmp_path, "mkdir /data/x; id -u")
    data.chmod(0o777)
    b.config["process"]["noNewPrivileges"] = False
    b.config["process"]["user"] = {"uid": 1000, "gid": 1000}
    b.config["linux"]["seccomp"] = seccomp(syscalls=[
        {"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO", "errnoRet": 38}])
    b.write()
    code, out, err = runtime.run_bundle(b)
    assert out == "1000\n" and "Function not implemented" in err, (out, err)
    assert not (data / "x").exists()


def test_unknown_syscall_name_is_ignored(runtime, make_bundle, tmp_path):
    """As runc: a name this libseccomp does not know is skipped, the rest still applies."""
    b, data = data_bundle(make_bundle, tmp_path, "mkdir /data/x")
    b.config["linux"]["seccomp"] = seccomp(syscalls=[
        {"names": ["no_such_syscall_xyz", "mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO",
         "errnoRet": 38}])
    b.write()
    code, out, err = runtime.run_bundle(b)
    assert code == 1 and "Function not implemented" in err, (code, err)


# ---- bad profiles -------------------------------------------------------------------------


@pytest.mark.parametrize("field,value,needle", [
    ("defaultAction", "SCMP_ACT_BOGUS", "SCMP_ACT_BOGUS"),
    ("architectures", ["SCMP_ARCH_NOPE"], "SCMP_ARCH_NOPE"),
    ("flags", ["SECCOMP_FILTER_FLAG_NOPE"], "SECCOMP_FILTER_FLAG_NOPE"),
    ("syscalls", [{"names": ["mkdir"], "action": "SCMP_ACT_NOPE"}], "SCMP_ACT_NOPE"),
    ("syscalls", [{"names": ["mkdir"], "action": "SCMP_ACT_ERRNO",
                   "args": [{"index": 0, "value": 1, "op": "SCMP_CMP_NOPE"}]}],
     "SCMP_CMP_NOPE"),
    ("syscalls", [{"names": ["mkdir"], "action": "SCMP_ACT_ERRNO",
                   "args": [{"index": 9, "value": 1, "op": "SCMP_CMP_EQ"}]}], "index"),
    ("syscalls", [{"names": ["mkdir"], "action": "SCMP_ACT_NOTIFY"}], "listenerPath"),
])
def test_bad_profile_fails_cleanly(runtime, make_bundle, field, value, needle):
    b = make_bundle(args=["true"])
    b.config["linux"]["seccomp"] = seccomp()
    b.config["linux"]["seccomp"][field] = value
    b.write()
    assert_clean_failure(runtime, b, needle)


def test_bad_profile_wrong_type_fails(runtime, make_bundle):
    b = make_bundle(args=["true"])
    b.config["linux"]["seccomp"] = {"defaultAction": 5}
    b.write()
    assert_clean_failure(runtime, b, "defaultAction")


def test_listener_path_unreachable_fails(runtime, make_bundle, tmp_path):
    b = make_bundle(args=["true"])
    b.config["linux"]["seccomp"] = seccomp(
        listenerPath=str(tmp_path / "nobody.sock"),
        syscalls=[{"names": ["acct"], "action": "SCMP_ACT_NOTIFY"}])
    b.write()
    assert_clean_failure(runtime, b, "nobody.sock")


# ---- listenerPath -------------------------------------------------------------------------


def test_listener_receives_notify_fd_and_state(runtime, make_bundle, tmp_path):
    sock_path = tmp_path / "listener.sock"
    srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    srv.bind(str(sock_path))
    srv.listen(1)
    srv.settimeout(20)
    got = {}

    def serve():
        try:
            conn, _ = srv.accept()
            with conn:
                fds = array.array("i")
                data = b""
                while True:
                    msg, anc, _, _ = conn.recvmsg(65536, socket.CMSG_SPACE(4 * 4))
                    for level, typ, payload in anc:
                        if level == socket.SOL_SOCKET and typ == socket.SCM_RIGHTS:
                            fds.frombytes(payload[:len(payload) - len(payload) % 4])
                    if not msg:
                        break
                    data += msg
                    try:
                        got["json"] = json.loads(data)
                        break
                    except ValueError:
                        continue
                got["fds"] = list(fds)
                got["links"] = [os.readlink(f"/proc/self/fd/{fd}") for fd in fds]
                for fd in fds:
                    os.close(fd)
        except Exception as e:  # reported by the main thread
            got["error"] = repr(e)

    t = threading.Thread(target=serve, daemon=True)
    t.start()
    try:
        b = make_bundle(args=["sleep", "100"])
        b.config["annotations"] = {"org.test": "yes"}
        b.config["linux"]["seccomp"] = seccomp(
            listenerPath=str(sock_path), listenerMetadata="meta-1",
            syscalls=[{"names": ["acct"], "action": "SCMP_ACT_NOTIFY"}])
        b.write()
        cid = runtime.create(b)
        pid = runtime.container_pid(cid)
        runtime.start(cid)
        t.join(15)
        assert not t.is_alive(), "no message on the listener socket"
        assert "error" not in got, got
        assert len(got["fds"]) == 1, got
        assert got["links"][0] == "anon_inode:seccomp notify", got
        msg = got["json"]
        assert msg["fds"] == ["seccompFd"], msg
        assert msg["pid"] == pid and msg["metadata"] == "meta-1", msg
        st = msg["state"]
        assert st["id"] == cid and st["pid"] == pid, st
        assert st["bundle"] == str(b.path) and st["status"] in ("creating", "created",
                                                                 "running"), st
        assert st["annotations"] == {"org.test": "yes"}, st
        assert proc_status(pid)["Seccomp"] == "2"
        runtime.delete(cid, force=True)
    finally:
        srv.close()
