"""The foreground of `run` and `exec` (runtime/io.c over lib/base's event loop): what happens
when their caller dies by SIGKILL, terminal output drained after the process exits, a terminal
fed from a regular file, and the init's errors reaching `start` instead of the container's own
stderr.  Each check looks at the host: processes, the container's cgroups, the state directory,
mounts (the fixture's leak check, and runtime.leftovers() right where it matters)."""

import os
import signal
import subprocess

import pexpect

from berth import new_id, proc_state, wait_until


def alive(pid):
    return proc_state(pid) not in (None, "Z", "X")


def shared_dir(b, tmp_path, name="shared"):
    d = tmp_path / name
    d.mkdir()
    b.add_mount("/shared", "bind", d, ["rbind", "rw"])
    return d


def popen(runtime, *args, **kw):
    return subprocess.Popen(runtime.argv(*args), stdin=subprocess.DEVNULL,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, **kw)


def sigkill(proc):
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=10)


def test_kill9_of_run_leaves_nothing_once_deleted(runtime, make_bundle, tmp_path):
    b = make_bundle(args=["sh", "-c", "touch /shared/ready; exec sleep 1000"])
    d = shared_dir(b, tmp_path)
    b.write()
    cid = runtime.track(new_id())
    pidfile = tmp_path / "init.pid"
    proc = popen(runtime, "run", "--bundle", b.path, "--pid-file", pidfile, cid)
    try:
        assert wait_until(lambda: (d / "ready").exists(), 10)
        pid = int(pidfile.read_text())
        runtime.note_pid(pid)
    finally:
        sigkill(proc)
    # as with runc, the container outlives its foreground runtime ...
    assert alive(pid)
    assert runtime.status(cid) == "running"
    # ... and delete removes every trace of it
    runtime.delete(cid, force=True)
    assert wait_until(lambda: not alive(pid))
    assert runtime.leftovers() == []


def test_kill9_of_run_with_a_terminal(runtime, make_bundle):
    b = make_bundle(args=["sh"])
    b.config["process"]["terminal"] = True
    b.write()
    cid = runtime.track(new_id())
    argv = runtime.argv("run", "--bundle", b.path, cid)
    child = pexpect.spawn(argv[0], argv[1:], encoding="utf-8", timeout=10)
    try:
        child.sendline("echo $((40+2))")
        child.expect("42")
        pid = runtime.container_pid(cid)
        os.kill(child.pid, signal.SIGKILL)
        child.expect(pexpect.EOF)
    finally:
        child.close(force=True)
    # the pty master died with run: the shell gets SIGHUP and exits; delete cleans up
    assert wait_until(lambda: not alive(pid), 10)
    runtime.delete(cid, force=True)
    assert runtime.leftovers() == []


def test_kill9_of_run_during_create(runtime, make_bundle, tmp_path):
    """run killed while a createRuntime hook holds create half-way: the half-made init dies
    with it (parent-death signal), `state` says stopped, delete removes the rest."""
    started = tmp_path / "hook-started"
    hook = tmp_path / "hook.sh"
    hook.write_text(f"#!/bin/sh\ntouch {started}\nexec sleep 3\n")
    hook.chmod(0o755)
    b = make_bundle(args=["true"])
    b.config["hooks"] = {"createRuntime": [{"path": str(hook)}]}
    b.write()
    cid = runtime.track(new_id())
    proc = popen(runtime, "run", "--bundle", b.path, cid)
    try:
        assert wait_until(lambda: started.exists(), 10)
        assert runtime.status(cid) == "creating"
    finally:
        sigkill(proc)
    runtime.wait_status(cid, "stopped")
    runtime.delete(cid)
    assert runtime.leftovers() == []


def test_kill9_of_exec_takes_its_process_along(runtime, make_bundle, tmp_path):
    b = make_bundle(args=["sleep", "1000"])
    cid = runtime.create(b)
    runtime.start(cid)
    pidfile = tmp_path / "exec.pid"
    proc = popen(runtime, "exec", "--pid-file", pidfile, cid, "sleep", "999")
    try:
        assert wait_until(lambda: pidfile.exists() and pidfile.read_text().strip(), 10)
        pid = int(pidfile.read_text())
        runtime.note_pid(pid)
        assert alive(pid)
    finally:
        sigkill(proc)
    # a foreground exec's process dies with its runtime (parent-death signal); the container
    # itself runs on
    assert wait_until(lambda: not alive(pid), 10), f"exec'd process {pid} outlived exec"
    assert runtime.status(cid) == "running"
    runtime.delete(cid, force=True)
    assert runtime.leftovers() == []


def test_run_terminal_output_drained_after_exit(runtime, make_bundle, tmp_path):
    """Everything the process wrote to its terminal arrives, though it exits at once."""
    b = make_bundle(args=["seq", "1", "20000"])
    b.config["process"]["terminal"] = True
    b.write()
    cid = runtime.track(new_id())
    out = tmp_path / "out"
    with open(out, "wb") as f:
        p = subprocess.run(runtime.argv("run", "--bundle", b.path, cid),
                           stdin=subprocess.DEVNULL, stdout=f, stderr=subprocess.PIPE,
                           timeout=30)
    assert p.returncode == 0, p.stderr
    lines = out.read_text().split()
    assert lines[-1] == "20000" and len(lines) == 20000, lines[-3:]


def test_run_terminal_input_from_a_file(runtime, make_bundle, tmp_path):
    """stdin a regular file (epoll cannot watch one): the loop still feeds it to the pty."""
    b = make_bundle(args=["sh", "-c", "read a; read b; echo \"sum=$((a+b))\""])
    b.config["process"]["terminal"] = True
    b.write()
    src = tmp_path / "in"
    src.write_text("40\n2\n")
    cid = runtime.track(new_id())
    with open(src, "rb") as f:
        p = subprocess.run(runtime.argv("run", "--bundle", b.path, cid), stdin=f,
                           capture_output=True, timeout=30)
    assert p.returncode == 0, p.stderr
    assert b"sum=42" in p.stdout, p.stdout


def test_start_failure_after_the_start_byte_goes_to_start_only(runtime, make_bundle):
    """exec fails after the init said "started" (here: an executable that is no program): the
    reason reaches `start`; nothing is written into the container's own stderr."""
    b = make_bundle(args=["/not-a-program"])
    (b.rootfs / "not-a-program").write_bytes(b"\x7fELF garbage, not a binary\n")
    (b.rootfs / "not-a-program").chmod(0o755)
    cid = runtime.create(b)
    p = runtime.start(cid, check=False)
    assert p.returncode == 1
    assert "exec '/not-a-program'" in p.stderr and "format" in p.stderr.lower(), p.stderr
    runtime.wait_status(cid, "stopped")
    assert runtime.output(cid) == ("", ""), runtime.output(cid)
    runtime.delete(cid)


def test_run_debug_log_has_the_library_lines(runtime, make_bundle):
    """lib/runtime's log callback is wired to --log: with --debug its lines are there."""
    b = make_bundle(args=["true"])
    cid = runtime.track(new_id())
    p = runtime.run("run", "--bundle", b.path, cid, global_args=["--debug"])
    assert p.returncode == 0
    msgs = [e["msg"] for e in runtime.log_entries() if e["level"] == "debug"]
    assert any(m.startswith(f"container '{cid}' created: init pid ") for m in msgs), msgs
    assert any(m.startswith(f"container '{cid}' deleted") for m in msgs), msgs
    # without --debug, none
    runtime.log.unlink()
    runtime.run("run", "--bundle", b.path, runtime.track(new_id()))
    assert not [e for e in runtime.log_entries() if e["level"] == "debug"]


def test_run_terminal_unread_input_does_not_stall_output(runtime, make_bundle, tmp_path):
    """1 MB of input the container never reads, while it writes 20000 lines: the input waits
    in the copy (the pty master is non-blocking), the output still flows, run ends."""
    b = make_bundle(args=["sh", "-c", "sleep 0.3; seq 1 20000"])
    b.config["process"]["terminal"] = True
    b.write()
    src = tmp_path / "in"
    src.write_text(("x" * 99 + "\n") * 10000)
    cid = runtime.track(new_id())
    with open(src, "rb") as f:
        p = subprocess.run(runtime.argv("run", "--bundle", b.path, cid), stdin=f,
                           capture_output=True, timeout=30)
    assert p.returncode == 0, p.stderr
    assert p.stdout.split(b"\n")[-2].strip() == b"20000", p.stdout[-200:]
