"""lib/runtime used in-process, the way the shim will use it, through
tests/helpers/libapi-driver.c: create from a config held in memory, the process's stdio on pipes
the caller gave (or inherited), exec with its own pipes, exit codes and signals through pidfds in
one event loop, the forked-init path under a subreaper, OOM events from lib/cgroup's watch,
delete.  What the driver reports is
checked against what the container's processes did; the runtime fixture's leak check runs on
the same --root and ids."""

import json
import os
import subprocess
from pathlib import Path

import pytest

from berth import REPO, new_id, runtime_binary

MB = 1024 * 1024


def driver_binary():
    env = os.environ.get("BERTH_LIBAPI_DRIVER")
    if env:
        return Path(env)
    # beside the runtime under test when it is a build of this tree (build/, build-asan/)
    rt = runtime_binary()
    near = rt.parent.parent / "tests" / "helpers" / "libapi-driver"
    return near if near.exists() else REPO / "build" / "tests" / "helpers" / "libapi-driver"


@pytest.fixture
def drive(runtime):
    binary = driver_binary()
    if not os.access(binary, os.X_OK):
        pytest.skip(f"{binary} not built")

    def run(bundle, args, exec_args=(), stdin=None, extra=(), cid=None):
        cid = runtime.track(cid or new_id())
        argv = [str(binary), "--root", str(runtime.root), "--bundle", str(bundle.path),
                "--id", cid, "--args", json.dumps(args), *extra]
        if stdin is not None:
            argv += ["--stdin", stdin]
        if exec_args:
            argv += ["--", *exec_args]
        p = subprocess.run(argv, stdin=subprocess.DEVNULL, capture_output=True, text=True,
                           timeout=60)
        result = json.loads(p.stdout) if p.returncode == 0 and p.stdout.strip() else None
        return p, result

    return run


def test_in_memory_config_stdio_pipes_and_exec(drive, runtime, make_bundle):
    # config.json on disk says `false`: only the config in memory can produce this output
    b = make_bundle(args=["false"])
    p, r = drive(b, ["sh", "-c", "read x; echo init:$x; echo init-err >&2; exit 3"],
                 exec_args=["sh", "-c", "echo exec-out; echo exec-err >&2; exit 5"],
                 stdin="hello\n", extra=["--debug"])
    assert p.returncode == 0, p.stderr
    assert r["init"] == {**r["init"], "has_status": True, "exit": 3, "signal": 0,
                         "stdout": "init:hello\n", "stderr": "init-err\n"}, r
    assert r["exec"] == {**r["exec"], "has_status": True, "exit": 5, "signal": 0,
                         "stdout": "exec-out\n", "stderr": "exec-err\n"}, r
    assert r["exec"]["pid"] != r["init"]["pid"]
    assert r["deleted"] is True
    # the library's log lines came through the callback
    assert f"log debug: container '{r['id']}' created" in p.stderr, p.stderr
    assert f"log debug: exec in container '{r['id']}'" in p.stderr, p.stderr
    assert runtime.leftovers() == []


def test_exit_by_signal_through_the_pidfd(drive, make_bundle):
    b = make_bundle(args=["true"])
    # the init waits for its input, which comes once the exec'd process is done (its exit is
    # the driver's cue): the exec'd one is not killed by the pid namespace's end
    p, r = drive(b, ["sh", "-c", "read x"], stdin="\n",
                 exec_args=["sh", "-c", "echo bye; kill -TERM $$; sleep 5"])
    assert p.returncode == 0, p.stderr
    assert r["exec"]["has_status"] and r["exec"]["signal"] == 15, r
    assert r["exec"]["stdout"] == "bye\n"
    assert r["init"]["exit"] == 0 and r["init"]["signal"] == 0


def test_forked_init_status_under_a_subreaper(drive, make_bundle):
    """A time namespace makes create fork the init from an intermediate: the pidfd comes over
    the sync socket, and the caller (a subreaper, as the shim is) still reaps its status."""
    if not os.path.exists("/proc/self/ns/time"):
        pytest.skip("kernel without time namespaces")
    b = make_bundle(args=["true"])
    b.config["linux"]["namespaces"].append({"type": "time"})
    b.write()
    p, r = drive(b, ["sh", "-c", "read x; echo got:$x; exit 6"], stdin="t\n",
                 extra=["--debug"])
    assert p.returncode == 0, p.stderr
    assert "forked after joining namespaces" in p.stderr, p.stderr
    assert r["init"]["has_status"] and r["init"]["exit"] == 6, r
    assert r["init"]["stdout"] == "got:t\n"


def test_inherited_stderr(drive, make_bundle):
    """stdio -1: that stream is the caller's own."""
    b = make_bundle(args=["true"])
    p, r = drive(b, ["sh", "-c", "echo to-out; echo to-callers-stderr >&2"],
                 extra=["--inherit-stderr"])
    assert p.returncode == 0, p.stderr
    assert r["init"]["stdout"] == "to-out\n"
    assert "to-callers-stderr" in p.stderr, p.stderr


def test_exec_failure_is_reported_and_the_init_goes_on(drive, make_bundle):
    b = make_bundle(args=["true"])
    p, r = drive(b, ["sh", "-c", "read x; echo init-still-here"], stdin="\n",
                 exec_args=["no-such-program"])
    assert p.returncode == 0, p.stderr
    assert "executable file not found" in r["exec_error"], r
    assert r["init"]["stdout"] == "init-still-here\n" and r["init"]["exit"] == 0


def test_stdio_with_a_terminal_is_refused(drive, runtime, make_bundle):
    b = make_bundle(args=["true"])
    b.config["process"]["terminal"] = True
    b.write()
    p, r = drive(b, ["true"])
    assert p.returncode == 1 and r is None
    assert "stdio" in p.stderr and "process.terminal" in p.stderr, p.stderr
    assert runtime.leftovers() == []


def test_bad_config_in_memory_names_the_field(drive, runtime, make_bundle):
    b = make_bundle(args=["true"])
    # valid JSON of the wrong type, so that it is lib/runtime that refuses it, not the driver
    p, r = drive(b, {"not": "an array"})
    assert p.returncode == 1
    assert "process.args: expected an array of strings" in p.stderr, p.stderr
    assert runtime.leftovers() == []


def test_oom_events_in_process(drive, make_bundle):
    """An allocation past the memory limit: the OOM killer ends the init (SIGKILL) and the
    cgroup's OOM watch reports it."""
    b = make_bundle(args=["true"])
    b.config["linux"].setdefault("resources", {})["memory"] = {"limit": 16 * MB, "swap": 16 * MB}
    b.write()
    p, r = drive(b, ["sh", "-c", "tail /dev/zero"], extra=["--oom"])
    assert p.returncode == 0, p.stderr
    assert r["init"]["has_status"] and r["init"]["signal"] == 9, r
    assert r["oom"]["oom"] + r["oom"]["oom_kill"] >= 1, r
