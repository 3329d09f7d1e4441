"""The container lifecycle through the real docker CLI 28 against a private berthd: run --rm
(the fixed create/attach/wait/start sequence), run -d + logs -f + stop, ps -a --format,
inspect -f, rm -f, rename, wait, kill -s, restart, container prune, and the events of each
step.  What is checked is the effect: the container's process by PID, its log file, a file it
wrote, its directory, its cgroup.
"""

import json
import os
import signal
import subprocess
import time
from pathlib import Path

import pytest

from berth import cgroups_named, wait_signal_handled, wait_until
from daemon import DOCKER_CLI, needs_berthd

pytestmark = [
    needs_berthd,
    pytest.mark.skipif(DOCKER_CLI is None, reason="no docker CLI"),
]

# a PID 1 that ignores SIGTERM (no handler: the kernel protects a namespace's init) ...
IGNORES_TERM = ["sh", "-c", "i=0; while :; do echo line $i; i=$((i+1)); sleep 0.1; done"]
# ... and one that exits on it
EXITS_ON_TERM = ["sh", "-c", "trap 'echo bye; exit 0' TERM; while :; do sleep 0.05; done"]


def docker(bd, *args, check=True, timeout=60):
    return bd.docker(*args, check=check, timeout=timeout)


def alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # a zombie is gone for our purposes
    try:
        return Path(f"/proc/{pid}/stat").read_text().split(") ")[1][0] != "Z"
    except (FileNotFoundError, IndexError):
        return False


def inspect(bd, name):
    return json.loads(docker(bd, "inspect", name).stdout)[0]


def test_run_rm_says_hello_and_leaves_nothing(bd):
    before = set(os.listdir(bd.data_root / "containers"))
    p = docker(bd, "run", "--rm", "--name", "hello", "busybox", "echo", "hello")
    assert p.stdout == "hello\n"
    assert set(os.listdir(bd.data_root / "containers")) == before
    assert docker(bd, "ps", "-a", "-q", "--filter", "name=hello").stdout == ""
    assert list((bd.exec_root / "shims").iterdir()) == []


def test_run_exit_code_and_stderr(bd):
    p = docker(bd, "run", "--rm", "busybox", "sh", "-c", "echo out; echo err >&2; exit 7",
               check=False)
    assert (p.returncode, p.stdout, p.stderr) == (7, "out\n", "err\n")
    p = docker(bd, "run", "--rm", "busybox", "/no/such/program", check=False)
    assert p.returncode == 127 and "no such file or directory" in p.stderr
    assert docker(bd, "ps", "-aq").stdout == ""


def test_run_d_logs_f_stop_ignoring_term(bd):
    cid = docker(bd, "run", "-d", "--name", "looper", "busybox", *IGNORES_TERM).stdout.strip()
    assert len(cid) == 64
    info = inspect(bd, "looper")
    pid = info["State"]["Pid"]
    assert info["State"]["Status"] == "running" and alive(pid)
    assert Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")[0] == b"sh"
    # the log on disk: docker's json-file lines
    log = Path(info["LogPath"])
    assert wait_until(lambda: log.exists() and log.stat().st_size > 0, 5)
    rec = json.loads(log.read_text().splitlines()[0])
    assert rec["log"] == "line 0\n" and rec["stream"] == "stdout" and rec["time"].endswith("Z")
    # the root: merged overlay while running
    merged = Path(info["GraphDriver"]["Data"]["MergedDir"])
    assert (merged / "bin" / "busybox").exists()

    env = dict(os.environ, DOCKER_HOST=f"unix://{bd.sock}",
               DOCKER_CONFIG=str(bd.dir / "docker-config"))
    follow = subprocess.Popen([DOCKER_CLI, "logs", "-f", "looper"], stdout=subprocess.PIPE,
                              text=True, env=env)
    try:
        first = [follow.stdout.readline() for _ in range(3)]
        assert first == ["line 0\n", "line 1\n", "line 2\n"]
        t0 = time.monotonic()
        docker(bd, "stop", "-t", "1", "looper")
        took = time.monotonic() - t0
        # SIGTERM is ignored: SIGKILL after the 1 s timeout
        assert 0.9 <= took < 6, took
        assert not alive(pid)
        rest = follow.communicate(timeout=10)[0]
        assert follow.returncode == 0 and rest.endswith("\n")
    finally:
        if follow.poll() is None:
            follow.kill()
            follow.wait()
    st = inspect(bd, "looper")["State"]
    assert (st["Status"], st["ExitCode"], st["Running"]) == ("exited", 137, False)
    assert not merged.joinpath("bin").exists(), "the root stays mounted after the exit"
    assert cgroups_named([cid]) == []
    docker(bd, "rm", "looper")
    assert not (bd.data_root / "containers" / cid).exists()


def test_stop_exits_at_once_on_term(bd):
    docker(bd, "run", "-d", "--name", "polite", "busybox", *EXITS_ON_TERM)
    pid = inspect(bd, "polite")["State"]["Pid"]
    assert wait_signal_handled(pid, signal.SIGTERM)
    t0 = time.monotonic()
    docker(bd, "stop", "-t", "10", "polite")
    assert time.monotonic() - t0 < 5
    assert not alive(pid)
    assert inspect(bd, "polite")["State"]["ExitCode"] == 0
    assert docker(bd, "logs", "polite").stdout.endswith("bye\n")
    docker(bd, "rm", "polite")


def test_ps_format_inspect_format(bd):
    docker(bd, "run", "-d", "--name", "lister", "-l", "team=blue", "busybox", "sleep", "30")
    docker(bd, "create", "--name", "idle", "busybox", "true")
    try:
        out = docker(bd, "ps", "-a", "--format", "{{.Names}}|{{.Image}}|{{.Command}}|{{.State}}|"
                     "{{.Label \"team\"}}").stdout.splitlines()
        assert sorted(out) == ['idle|busybox|"true"|created|',
                               'lister|busybox|"sleep 30"|running|blue']
        assert docker(bd, "ps", "--format", "{{.Names}}").stdout == "lister\n"
        assert docker(bd, "ps", "-a", "--filter", "status=created",
                      "--format", "{{.Names}}").stdout == "idle\n"
        assert docker(bd, "ps", "-a", "--filter", "label=team=blue",
                      "--format", "{{.Names}}").stdout == "lister\n"
        out = docker(bd, "inspect", "-f", "{{.Name}} {{.State.Status}} {{.Config.Image}} "
                     "{{.HostConfig.NetworkMode}} {{.RestartCount}} {{.State.Pid}}",
                     "lister").stdout.split()
        assert out[:5] == ["/lister", "running", "busybox", "bridge", "0"]
        assert alive(int(out[5]))
    finally:
        docker(bd, "rm", "-f", "lister", "idle")


def test_rm_f_running(bd):
    cid = docker(bd, "run", "-d", "--name", "doomed", "busybox", "sleep", "60").stdout.strip()
    pid = inspect(bd, "doomed")["State"]["Pid"]
    p = docker(bd, "rm", "doomed", check=False)
    assert p.returncode == 1 and "container is running" in p.stderr
    assert alive(pid)
    docker(bd, "rm", "-f", "doomed")
    assert not alive(pid)
    assert not (bd.data_root / "containers" / cid).exists()
    assert not (bd.exec_root / "shims" / cid).exists()
    assert docker(bd, "inspect", "doomed", check=False).returncode == 1


def test_rename(bd):
    docker(bd, "create", "--name", "before", "busybox", "true")
    docker(bd, "create", "--name", "taken", "busybox", "true")
    try:
        p = docker(bd, "rename", "before", "taken", check=False)
        assert p.returncode == 1 and "is already in use" in p.stderr
        docker(bd, "rename", "before", "after")
        assert inspect(bd, "after")["Name"] == "/after"
        assert docker(bd, "inspect", "before", check=False).returncode == 1
        p = docker(bd, "create", "--name", "taken", "busybox", "true", check=False)
        assert p.returncode == 1 and "Conflict" in p.stderr
    finally:
        docker(bd, "rm", "-f", "after", "taken")


def test_wait_kill_s(bd):
    # the container writes a file in its root when USR1 comes, and exits 3 on TERM
    docker(bd, "run", "-d", "--name", "signals", "busybox", "sh", "-c",
           "trap 'touch /got-usr1' USR1; trap 'exit 3' TERM; "
           "while :; do sleep 0.05; done")
    info = inspect(bd, "signals")
    upper = Path(info["GraphDriver"]["Data"]["UpperDir"])
    assert wait_signal_handled(info["State"]["Pid"], signal.SIGTERM)
    docker(bd, "kill", "-s", "USR1", "signals")
    assert wait_until(lambda: (upper / "got-usr1").exists(), 5)
    assert inspect(bd, "signals")["State"]["Running"]
    env = dict(os.environ, DOCKER_HOST=f"unix://{bd.sock}",
               DOCKER_CONFIG=str(bd.dir / "docker-config"))
    waiter = subprocess.Popen([DOCKER_CLI, "wait", "signals"], stdout=subprocess.PIPE, text=True,
                              env=env)
    try:
        time.sleep(0.2)  # the wait is registered before the kill
        docker(bd, "kill", "-s", "TERM", "signals")
        assert waiter.communicate(timeout=15)[0] == "3\n"
    finally:
        if waiter.poll() is None:
            waiter.kill()
    assert not alive(info["State"]["Pid"])
    p = docker(bd, "kill", "signals", check=False)
    assert p.returncode == 1 and "is not running" in p.stderr
    p = docker(bd, "kill", "-s", "NOPE", "signals", check=False)
    assert p.returncode == 1 and "Invalid signal" in p.stderr
    docker(bd, "rm", "signals")


def test_restart(bd):
    docker(bd, "run", "-d", "--name", "again", "busybox", *EXITS_ON_TERM)
    pid1 = inspect(bd, "again")["State"]["Pid"]
    assert wait_signal_handled(pid1, signal.SIGTERM)
    docker(bd, "restart", "-t", "5", "again")
    st = inspect(bd, "again")["State"]
    assert st["Running"] and st["Pid"] != pid1
    assert not alive(pid1) and alive(st["Pid"])
    docker(bd, "rm", "-f", "again")
    assert not alive(st["Pid"])


def test_prune(bd):
    docker(bd, "create", "--name", "old1", "busybox", "true")
    docker(bd, "run", "--name", "old2", "busybox", "true")
    docker(bd, "run", "-d", "--name", "keeper", "busybox", "sleep", "30")
    try:
        out = docker(bd, "container", "prune", "-f").stdout
        assert "Deleted Containers:" in out
        assert docker(bd, "ps", "-a", "--format", "{{.Names}}").stdout == "keeper\n"
    finally:
        docker(bd, "rm", "-f", "keeper")


def test_events_of_each_step(bd):
    since = str(int(time.time()) - 1)
    docker(bd, "run", "-d", "--name", "evented", "busybox", *EXITS_ON_TERM)
    # the stop must find TERM trapped (the shell is PID 1: a signal it has no handler for is
    # dropped, and the stop would end in SIGKILL); USR2 stays untrapped and is dropped
    assert wait_signal_handled(inspect(bd, "evented")["State"]["Pid"], signal.SIGTERM)
    docker(bd, "kill", "-s", "USR2", "evented")
    docker(bd, "stop", "evented")
    docker(bd, "rename", "evented", "evented2")
    docker(bd, "rm", "evented2")
    until = str(int(time.time()) + 1)
    out = docker(bd, "events", "--since", since, "--until", until, "--filter", "type=container",
                 "--format", "{{.Action}} {{.Actor.Attributes.name}} "
                 "{{index .Actor.Attributes \"exitCode\"}} {{index .Actor.Attributes \"signal\"}}"
                 ).stdout.splitlines()
    mine = [line.split() for line in out
            if "evented" in line.split()[1]]
    actions = [m[0] for m in mine]
    assert actions[:2] == ["create", "start"]
    assert ["kill", "evented", "12"] in [m[:2] + m[3:] for m in mine] or \
        any(m[0] == "kill" and m[-1] == "12" for m in mine)
    assert any(m[0] == "kill" and m[-1] == "15" for m in mine)
    assert ["die", "evented", "0"] == next(m[:3] for m in mine if m[0] == "die")
    assert actions.index("die") < actions.index("stop")
    assert "rename" in actions and actions[-1] == "destroy"
    assert mine[-1][1] == "evented2"


def test_run_sequence_many_short(bd):
    """create, attach and wait registered before start: none of 20 short runs loses output or
    hangs (the race docker's run sequence is about)."""
    for i in range(20):
        p = docker(bd, "run", "--rm", "busybox", "echo", f"n{i}", timeout=20)
        assert p.stdout == f"n{i}\n"
