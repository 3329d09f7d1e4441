"""Terminals: process.terminal with run in the foreground (driven through pexpect), and the pty
master handed over a --console-socket (SCM_RIGHTS) for create and exec -t."""

import os
import select
import socket
import stat
import threading
import time

import pexpect
import pytest

from berth import new_id, wait_until


def tty_bundle(make_bundle, args=("sh",), size=None):
    b = make_bundle(args=list(args))
    b.config["process"]["terminal"] = True
    if size:
        b.config["process"]["consoleSize"] = {"height": size[0], "width": size[1]}
    b.write()
    return b


def spawn_run(runtime, b, cid):
    argv = runtime.argv("run", "--bundle", b.path, cid)
    return pexpect.spawn(argv[0], argv[1:], encoding="utf-8", timeout=10,
                         dimensions=(24, 80))


def test_run_terminal_interactive(runtime, make_bundle):
    b = tty_bundle(make_bundle)
    cid = runtime.track(new_id())
    child = spawn_run(runtime, b, cid)
    try:
        child.sendline("echo $((6*7))")
        child.expect("42")
        child.sendline("tty")
        child.expect("/dev/pts/0")
        # the container's stdin is a terminal of its own, in its own devpts
        child.sendline("test -t 0 && echo is-a-tty")
        child.expect("is-a-tty")
        # the host's terminal size was passed on
        child.sendline("stty size")
        child.expect("24 80")
        st = runtime.state(cid)
        assert st["status"] == "running"
        child.sendline("exit 5")
        child.expect(pexpect.EOF)
    finally:
        child.close(force=True)
    assert child.exitstatus == 5
    runtime.fails("state", cid, code=1, says=f"'{cid}'")


def test_run_terminal_window_resize(runtime, make_bundle):
    b = tty_bundle(make_bundle)
    cid = runtime.track(new_id())
    child = spawn_run(runtime, b, cid)
    try:
        child.sendline("echo ready")
        child.expect("ready")
        child.setwinsize(33, 111)  # SIGWINCH to berth-runtime, which passes the size on
        child.sendline("sleep 0.2; stty size")
        child.expect("33 111")
        child.sendline("exit")
        child.expect(pexpect.EOF)
    finally:
        child.close(force=True)
    assert child.exitstatus == 0


class ConsoleServer:
    """A unix socket that accepts one connection and receives the pty master (SCM_RIGHTS)."""

    def __init__(self, path):
        self.path = str(path)
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.bind(self.path)
        self.sock.listen(1)
        self.fds = []
        self.error = None
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self):
        try:
            self.sock.settimeout(15)
            conn, _ = self.sock.accept()
            with conn:
                msg, fds, _, _ = socket.recv_fds(conn, 4096, 4)
                self.fds = fds
                self.msg = msg
        except Exception as e:  # noqa: BLE001  (reported by master())
            self.error = e

    def master(self):
        self.thread.join(15)
        assert not self.error, self.error
        assert len(self.fds) == 1, f"got {len(self.fds)} fds"
        return self.fds[0]

    def close(self):
        self.sock.close()
        for fd in self.fds:
            try:
                os.close(fd)
            except OSError:
                pass


def read_until(fd, needle, timeout=10):
    buf = b""
    deadline = time.monotonic() + timeout
    while needle.encode() not in buf:
        left = deadline - time.monotonic()
        if left <= 0:
            raise AssertionError(f"{needle!r} not seen; got {buf!r}")
        r, _, _ = select.select([fd], [], [], left)
        if r:
            try:
                chunk = os.read(fd, 4096)
            except OSError:
                break
            if not chunk:
                break
            buf += chunk
    assert needle.encode() in buf, f"{needle!r} not seen; got {buf!r}"
    return buf.decode(errors="replace")


def test_console_socket_create(runtime, make_bundle, tmp_path):
    b = tty_bundle(make_bundle, size=(40, 120))
    srv = ConsoleServer(tmp_path / "console.sock")
    try:
        cid = runtime.create(b, extra=["--console-socket", srv.path])
        master = srv.master()
        assert stat.S_ISCHR(os.fstat(master).st_mode) and os.isatty(master)
        # the master is a ptmx (major 5, minor 2)
        assert os.major(os.fstat(master).st_rdev) == 5
        runtime.start(cid)
        os.write(master, b"echo $((6*7))\n")
        read_until(master, "42")
        os.write(master, b"tty; stty size\n")
        out = read_until(master, "40 120")
        assert "/dev/pts/0" in out
        os.write(master, b"exit 3\n")
        runtime.wait_status(cid, "stopped")
        runtime.delete(cid)
    finally:
        srv.close()


def test_console_socket_exec_tty(runtime, make_bundle, tmp_path):
    b = make_bundle(args=["sleep", "1000"])
    cid = runtime.create(b)
    runtime.start(cid)
    srv = ConsoleServer(tmp_path / "exec.sock")
    try:
        runtime.exec(cid, "sh", opts=["-t", "--detach", "--console-socket", srv.path])
        master = srv.master()
        os.write(master, b"echo $((6*7)); tty\n")
        out = read_until(master, "/dev/pts/")
        assert "42" in out
        os.write(master, b"exit\n")
    finally:
        srv.close()
    runtime.delete(cid, force=True)


def test_console_socket_nobody_listening(runtime, make_bundle, tmp_path):
    b = tty_bundle(make_bundle)
    # a path with nothing at all, and a socket file with no listener behind it
    for path in (tmp_path / "none.sock", tmp_path / "dead.sock"):
        if path.name == "dead.sock":
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            s.bind(str(path))
            s.close()
        p = runtime.create(b, extra=["--console-socket", path], check=False)
        assert p.returncode == 1 and p.stderr.strip(), p.stderr
        assert str(path) in p.stderr or "console" in p.stderr
        if runtime.root.exists():
            assert not [e for e in os.listdir(runtime.root) if not e.startswith(".")]


def test_terminal_without_console_socket_create_fails(runtime, make_bundle):
    # create with terminal: true needs somewhere to send the master (as runc)
    b = tty_bundle(make_bundle)
    p = runtime.create(b, check=False)
    assert p.returncode == 1 and "console" in p.stderr, p.stderr


def test_exec_tty_foreground(runtime, make_bundle):
    b = make_bundle(args=["sleep", "1000"])
    cid = runtime.create(b)
    runtime.start(cid)
    argv = runtime.argv("exec", "-t", cid, "sh")
    child = pexpect.spawn(argv[0], argv[1:], encoding="utf-8", timeout=10, dimensions=(30, 90))
    try:
        child.sendline("echo $((6*7)); tty; stty size")
        child.expect("42")
        child.expect("/dev/pts/")
        child.expect("30 90")
        child.sendline("exit 4")
        child.expect(pexpect.EOF)
    finally:
        child.close(force=True)
    assert child.exitstatus == 4
    assert runtime.status(cid) == "running"
    runtime.delete(cid, force=True)


def test_run_detach_terminal_needs_console_socket(runtime, make_bundle):
    b = tty_bundle(make_bundle)
    code, _, err = runtime.run_bundle(b, extra=["--detach"])
    assert code == 1 and "console" in err, err
