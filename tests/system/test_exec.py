"""berth-runtime exec: a new process in a running container, with its flags, checked by what the
process itself sees (/proc/self/status, id, its namespaces)."""

import json
import os
import subprocess
import time
from pathlib import Path

import pytest

from berth import proc_state, wait_until


@pytest.fixture
def running(runtime, make_bundle, tmp_path):
    """A running container (init: a shell that writes /shared/init-file, then sleeps);
    /shared is a host directory, returned as .shared."""
    b = make_bundle(args=["sh", "-c", "echo init > /tmp/init-file; touch /shared/ready; "
                          "exec sleep 1000"])
    d = tmp_path / "shared"
    d.mkdir()
    b.add_mount("/shared", "bind", d, ["rbind", "rw"])
    b.add_mount("/tmp", "tmpfs", "tmpfs", ["nosuid"])
    b.config["hostname"] = "exec-box"
    b.config["process"]["env"].append("FROM_CONFIG=yes")
    b.write()
    cid = runtime.create(b)
    runtime.start(cid)
    assert wait_until(lambda: (d / "ready").exists())

    class C:
        id = cid
        shared = d
        bundle = b
        pid = runtime.container_pid(cid)

    yield C
    runtime.delete(cid, force=True)


def ex(runtime, c, *argv, opts=(), check=True):
    return runtime.exec(c.id, *argv, opts=opts, check=check)


def test_exec_inline_args_and_output(runtime, running):
    p = ex(runtime, running, "sh", "-c", "echo out; echo err >&2; echo $FROM_CONFIG")
    assert (p.stdout, p.stderr) == ("out\nyes\n", "err\n")


def test_exec_exit_code(runtime, running):
    assert ex(runtime, running, "sh", "-c", "exit 42", check=False).returncode == 42
    assert ex(runtime, running, "false", check=False).returncode == 1
    # death by a signal: 128 + N
    p = ex(runtime, running, "sh", "-c", "kill -USR1 $$", check=False)
    assert p.returncode == 128 + 10


def test_exec_env(runtime, running):
    p = ex(runtime, running, "sh", "-c", "echo $A-$B-$FROM_CONFIG",
           opts=["--env", "A=1", "-e", "B=two words", "--env", "FROM_CONFIG=over"])
    assert p.stdout == "1-two words-over\n"
    runtime.fails("exec", "--env", "NOEQUALS", running.id, "true", code=1, says="'NOEQUALS'")


def test_exec_cwd(runtime, running):
    assert ex(runtime, running, "pwd", opts=["--cwd", "/etc"]).stdout == "/etc\n"
    # a cwd that does not exist (and cannot be made on the read-only root) fails
    runtime.fails("exec", "--cwd", "/no/such/dir", running.id, "pwd", says="/no/such/dir")


def test_exec_user_and_groups(runtime, running):
    p = ex(runtime, running, "id", opts=["--user", "1000:1000"])
    assert p.stdout.startswith("uid=1000 gid=1000"), p.stdout
    st = ex(runtime, running, "cat", "/proc/self/status", opts=["--user", "1000:1000",
            "--additional-gids", "20", "--additional-gids", "30"]).stdout
    fields = dict(l.split(":", 1) for l in st.splitlines())
    assert fields["Uid"].split() == ["1000"] * 4
    assert fields["Gid"].split() == ["1000"] * 4
    assert sorted(fields["Groups"].split()) == ["20", "30"]
    # a non-root user has no effective capabilities
    assert int(fields["CapEff"], 16) == 0
    runtime.fails("exec", "--user", "bob", running.id, "id", code=1, says="'bob'")


def test_exec_cap(runtime, running):
    def capeff(*opts):
        st = ex(runtime, running, "cat", "/proc/self/status", opts=list(opts)).stdout
        return int(dict(l.split(":", 1) for l in st.splitlines())["CapEff"], 16)

    base = capeff()
    assert not base & (1 << 12)  # CAP_NET_ADMIN not in the config
    assert capeff("--cap", "CAP_NET_ADMIN") == base | (1 << 12)
    runtime.fails("exec", "--cap", "CAP_NOPE", running.id, "true", code=1, says="CAP_NOPE")


def test_exec_no_new_privs(runtime, make_bundle):
    # the default bundle sets noNewPrivileges; this container does not
    b = make_bundle(args=["sleep", "1000"])
    b.config["process"]["noNewPrivileges"] = False
    b.write()
    cid = runtime.create(b)
    runtime.start(cid)

    def nnp(*opts):
        st = runtime.exec(cid, "cat", "/proc/self/status", opts=list(opts)).stdout
        return dict(l.split(":", 1) for l in st.splitlines())["NoNewPrivs"].strip()

    assert nnp() == "0"
    assert nnp("--no-new-privs") == "1"
    runtime.delete(cid, force=True)


def test_exec_process_file(runtime, running, tmp_path):
    proc = {
        "terminal": False,
        "user": {"uid": 7, "gid": 8},
        "args": ["sh", "-c", "echo $X; pwd; id -u; id -g"],
        "env": ["PATH=/bin:/usr/bin", "X=from-file"],
        "cwd": "/proc",
    }
    f = tmp_path / "process.json"
    f.write_text(json.dumps(proc))
    p = runtime.exec(running.id, opts=["--process", f])
    assert p.stdout == "from-file\n/proc\n7\n8\n"
    # a process file and a command line together are refused
    runtime.fails("exec", "--process", f, running.id, "true", code=1, says="--process")
    # malformed or wrongly typed process files: the message names the file and the field
    f.write_text("{not json")
    runtime.fails("exec", "--process", f, running.id, code=1, says=[str(f), "line 1"])
    f.write_text(json.dumps({**proc, "args": "sh"}))
    runtime.fails("exec", "--process", f, running.id, code=1, says="args")
    f.write_text(json.dumps({**proc, "args": []}))
    runtime.fails("exec", "--process", f, running.id, code=1, says="args")
    runtime.fails("exec", "--process", tmp_path / "missing.json", running.id, code=1,
                  says=str(tmp_path / "missing.json"))


def test_exec_detach_pid_file(runtime, running, tmp_path):
    pidfile = tmp_path / "exec.pid"
    t = time.monotonic()
    runtime.exec(running.id, "sh", "-c", "sleep 0.3; touch /shared/detached; exec sleep 1000",
                 opts=["--detach", "--pid-file", pidfile])
    assert time.monotonic() - t < 5
    pid = int(pidfile.read_text())
    runtime.note_pid(pid)
    assert proc_state(pid) not in (None, "Z")
    assert wait_until(lambda: (running.shared / "detached").exists())
    # the exec'd process is in the container's pid namespace and cgroups
    assert os.readlink(f"/proc/{pid}/ns/pid") == os.readlink(f"/proc/{running.pid}/ns/pid")
    assert Path(f"/proc/{pid}/cgroup").read_text() == \
        Path(f"/proc/{running.pid}/cgroup").read_text()
    # the shell touches the file, then execs sleep: give it that moment
    assert wait_until(
        lambda: Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")[0] == b"sleep")
    # it dies with the container
    runtime.delete(running.id, force=True)
    assert wait_until(lambda: proc_state(pid) in (None, "Z"))


def test_exec_sees_container_namespaces(runtime, running):
    assert ex(runtime, running, "hostname").stdout == "exec-box\n"
    # pid 1 is the container's init (sleep), and the exec'd shell is not pid 1
    p = ex(runtime, running, "sh", "-c", "cat /proc/1/cmdline | tr '\\0' ' '; echo; echo $$")
    cmd, mypid = p.stdout.splitlines()
    assert cmd.split()[0] == "sleep" and int(mypid) > 1
    # same mount namespace: the file init wrote to its private tmpfs is there
    assert ex(runtime, running, "cat", "/tmp/init-file").stdout == "init\n"
    for ns in ("mnt", "uts", "ipc", "net", "pid"):
        inner = ex(runtime, running, "readlink", f"/proc/self/ns/{ns}").stdout.strip()
        assert inner == os.readlink(f"/proc/{running.pid}/ns/{ns}"), ns


def test_exec_missing_binary(runtime, running):
    p = runtime.fails("exec", running.id, "no-such-binary")
    assert p.returncode != 0
    assert "executable file not found in $PATH" in p.stderr
    p = runtime.fails("exec", running.id, "/bin/nope")
    assert p.returncode != 0
    # the container is unharmed
    assert runtime.status(running.id) == "running"


def test_exec_into_stopped_and_created(runtime, make_bundle):
    b = make_bundle(args=["true"])
    cid = runtime.create(b)
    runtime.start(cid)
    runtime.wait_status(cid, "stopped")
    p = runtime.fails("exec", cid, "true")
    assert p.returncode == 1
    assert "not running" in p.stderr or "stopped" in p.stderr
    runtime.delete(cid)
    runtime.fails("exec", cid, "true", code=1, says=f"'{cid}'")
    runtime.fails("exec", "never-existed", "true", code=1, says="'never-existed'")


def test_exec_missing_args(runtime, running):
    runtime.fails("exec", code=1, says="container id")
    runtime.fails("exec", running.id, code=1, says="command")
    runtime.fails("exec", "--bogus", running.id, "true", code=1, says="--bogus")


def test_exec_preserve_fds(runtime, running, tmp_path):
    src = tmp_path / "fd3"
    src.write_text("exec-fd-3\n")
    argv = ["bash", "-c", 'exec 3<"$0"; exec "$@"', str(src),
            *runtime.argv("exec", "--preserve-fds", "1", running.id, "cat", "/proc/self/fd/3")]
    p = subprocess.run(argv, capture_output=True, text=True, timeout=30)
    assert (p.returncode, p.stdout) == (0, "exec-fd-3\n"), p.stderr
