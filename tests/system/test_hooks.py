"""OCI hooks through berth-runtime: all six kinds run in order, each with the state JSON on
stdin, their args and env, in the right namespaces; timeouts; failures (fatal before the
process starts, warnings after)."""

import json
import os
import time
from pathlib import Path

import pytest

KINDS = ["prestart", "createRuntime", "createContainer", "startContainer", "poststart",
         "poststop"]

# Appends one JSON line: the kind (argv[1]), the extra args, HOOK_ENV, the state from stdin, the
# mount and uts namespaces it ran in, and the hostname it sees.
RECORDER = r"""#!/bin/sh
log="$LOG_DIR/log"
kind=$1
shift
state=$(cat)
mnt=$(readlink /proc/self/ns/mnt)
host=$(hostname)
printf '{"kind":"%s","args":"%s","env":"%s","mnt":"%s","hostname":"%s","state":%s}\n' \
	"$kind" "$*" "$HOOK_ENV" "$mnt" "$host" "$state" >> "$log"
"""


@pytest.fixture
def hook_env(tmp_path):
    """(host dir for the log, host recorder script path)."""
    logdir = tmp_path / "hooklog"
    logdir.mkdir()
    script = tmp_path / "record.sh"
    script.write_text(RECORDER)
    script.chmod(0o755)
    return logdir, script


def hook(path, kind, *extra, env=(), timeout=None, log_dir):
    h = {"path": str(path), "args": [str(path), kind, *extra],
         "env": [f"LOG_DIR={log_dir}", "PATH=/usr/sbin:/usr/bin:/sbin:/bin", *env]}
    if timeout is not None:
        h["timeout"] = timeout
    return h


def records(logdir):
    p = logdir / "log"
    if not p.exists():
        return []
    return [json.loads(l) for l in p.read_text().splitlines() if l.strip()]


def hooked_bundle(make_bundle, hook_env, args=("true",)):
    """A bundle with one recorder hook of every kind; startContainer's copy is in the rootfs
    (it runs inside the container after pivot_root) and logs to /hooklog, a bind of the
    host's log dir."""
    logdir, script = hook_env
    b = make_bundle(args=list(args))
    b.config["hostname"] = "hooked"
    b.config["annotations"] = {"org.example.k": "v"}
    b.add_mount("/hooklog", "bind", logdir, ["rbind", "rw"])
    (b.rootfs / "record.sh").write_text(RECORDER)
    (b.rootfs / "record.sh").chmod(0o755)
    b.config["hooks"] = {}
    for k in KINDS:
        if k == "startContainer":
            b.config["hooks"][k] = [hook("/record.sh", k, "x y", env=["HOOK_ENV=in"],
                                         log_dir="/hooklog")]
        else:
            b.config["hooks"][k] = [hook(script, k, "x y", env=[f"HOOK_ENV={k}-env"],
                                         log_dir=logdir)]
    return b


def assert_clean_failure(runtime, p):
    assert p.returncode == 1, (p.returncode, p.stderr)
    assert not (runtime.root.exists() and
                [e for e in os.listdir(runtime.root) if not e.startswith(".")])


def test_all_hooks_order_state_args_env(runtime, make_bundle, hook_env):
    logdir, _ = hook_env
    b = hooked_bundle(make_bundle, hook_env, args=["sleep", "100"])
    b.write()
    cid = runtime.create(b)
    pid = runtime.container_pid(cid)
    got = records(logdir)
    assert [r["kind"] for r in got] == KINDS[:3], got
    host_mnt = os.readlink("/proc/self/ns/mnt")
    ctr_mnt = os.readlink(f"/proc/{pid}/ns/mnt")
    for r in got:
        st = r["state"]
        assert st["id"] == cid and st["pid"] == pid, st
        assert st["bundle"] == str(b.path) and st["status"] == "created", st
        assert st["annotations"] == {"org.example.k": "v"}, st
        assert st["ociVersion"], st
        assert r["args"] == "x y" and r["env"] == f"{r['kind']}-env", r
    # prestart and createRuntime run in the runtime's namespaces, createContainer in the
    # container's mount namespace (before pivot_root: the host path still resolves)
    assert got[0]["mnt"] == host_mnt and got[1]["mnt"] == host_mnt
    # (the hostname is set later, as runc does: createContainer still sees the copied one)
    assert got[2]["mnt"] == ctr_mnt

    runtime.start(cid)
    got = records(logdir)
    assert [r["kind"] for r in got] == KINDS[:5], got
    sc, ps = got[3], got[4]
    # startContainer: inside the container, after pivot, with the container's hostname
    assert sc["mnt"] == ctr_mnt and sc["hostname"] == "hooked" and sc["env"] == "in", sc
    assert sc["state"]["id"] == cid and sc["state"]["pid"] == pid, sc
    assert ps["mnt"] == host_mnt and ps["state"]["status"] == "running", ps
    assert ps["state"]["pid"] == pid
    # poststart runs after the process is started: the hook saw it running
    assert runtime.status(cid) == "running"

    runtime.kill(cid, "KILL")
    runtime.wait_status(cid, "stopped")
    assert len(records(logdir)) == 5  # poststop waits for delete
    runtime.delete(cid)
    got = records(logdir)
    assert [r["kind"] for r in got] == KINDS, got
    st = got[5]["state"]
    assert st["id"] == cid and st["status"] == "stopped" and st["bundle"] == str(b.path), st
    assert got[5]["mnt"] == host_mnt


def test_run_runs_all_hooks(runtime, make_bundle, hook_env):
    logdir, _ = hook_env
    b = hooked_bundle(make_bundle, hook_env, args=["echo", "main"])
    b.write()
    code, out, err = runtime.run_bundle(b)
    assert (code, out) == (0, "main\n"), err
    assert [r["kind"] for r in records(logdir)] == KINDS


def test_hook_without_args_gets_path_as_argv0(runtime, make_bundle, tmp_path):
    out = tmp_path / "argv"
    script = tmp_path / "h.sh"
    script.write_text(f"#!/bin/sh\necho \"$0|$#|$(env | grep -c .)\" > {out}\n")
    script.chmod(0o755)
    b = make_bundle(args=["true"])
    b.config["hooks"] = {"prestart": [{"path": str(script)}]}
    b.write()
    code, _, err = runtime.run_bundle(b)
    assert code == 0, err
    argv0, argc, nenv = out.read_text().strip().split("|")
    assert argv0 == str(script) and argc == "0", out.read_text()
    # no env given: the hook starts with (almost) nothing; sh may add PWD and the like
    assert int(nenv) <= 3, out.read_text()


@pytest.mark.parametrize("kind", ["prestart", "createRuntime", "createContainer"])
def test_failing_create_hook_fails_create(runtime, make_bundle, tmp_path, kind):
    script = tmp_path / "fail.sh"
    script.write_text("#!/bin/sh\necho 'hook says: no-way' >&2\nexit 3\n")
    script.chmod(0o755)
    b = make_bundle(args=["true"])
    b.config["hooks"] = {kind: [{"path": str(script)}]}
    b.write()
    p = runtime.create(b, check=False)
    assert_clean_failure(runtime, p)
    assert "hook says: no-way" in p.stderr and kind in p.stderr, p.stderr
    assert "status 3" in p.stderr, p.stderr


def test_failing_start_container_hook_fails_start(runtime, make_bundle, tmp_path):
    """startContainer fails inside the container, after pivot: the process never runs."""
    b = make_bundle(args=["sh", "-c", "echo ran > /data/ran"])
    data = tmp_path / "data"
    data.mkdir()
    b.add_mount("/data", "bind", data, ["rbind", "rw"])
    (b.rootfs / "fail.sh").write_text("#!/bin/sh\necho inside-fail >&2\nexit 4\n")
    (b.rootfs / "fail.sh").chmod(0o755)
    b.config["hooks"] = {"startContainer": [{"path": "/fail.sh"}]}
    b.write()
    code, out, err = runtime.run_bundle(b)
    assert code != 0, (code, err)
    assert "inside-fail" in err, err
    assert not (data / "ran").exists()


def test_missing_hook_binary_fails_create(runtime, make_bundle, tmp_path):
    b = make_bundle(args=["true"])
    b.config["hooks"] = {"prestart": [{"path": str(tmp_path / "no-such-hook")}]}
    b.write()
    p = runtime.create(b, check=False)
    assert_clean_failure(runtime, p)
    assert "no-such-hook" in p.stderr, p.stderr


def test_hook_timeout_kills_and_fails_create(runtime, make_bundle, tmp_path):
    pidfile = tmp_path / "hook.pid"
    script = tmp_path / "slow.sh"
    script.write_text(f"#!/bin/sh\necho $$ > {pidfile}\nexec sleep 30\n")
    script.chmod(0o755)
    b = make_bundle(args=["true"])
    b.config["hooks"] = {"createRuntime": [{"path": str(script), "timeout": 1}]}
    b.write()
    t0 = time.monotonic()
    p = runtime.create(b, check=False)
    took = time.monotonic() - t0
    assert_clean_failure(runtime, p)
    assert "timed out" in p.stderr and "createRuntime" in p.stderr, p.stderr
    assert took < 5, took
    hook_pid = int(pidfile.read_text())
    try:
        st = Path(f"/proc/{hook_pid}/stat").read_text()
        assert ") Z" in st, f"hook process {hook_pid} still alive: {st}"
    except FileNotFoundError:
        pass


@pytest.mark.parametrize("timeout", [0, -1, "5"])
def test_hook_bad_timeout_rejected(runtime, make_bundle, tmp_path, timeout):
    b = make_bundle(args=["true"])
    b.config["hooks"] = {"prestart": [{"path": "/bin/true", "timeout": timeout}]}
    b.write()
    p = runtime.create(b, check=False)
    assert_clean_failure(runtime, p)
    assert "hooks.prestart[0].timeout" in p.stderr, p.stderr


def test_hook_relative_path_rejected(runtime, make_bundle):
    b = make_bundle(args=["true"])
    b.config["hooks"] = {"prestart": [{"path": "bin/true"}]}
    b.write()
    p = runtime.create(b, check=False)
    assert_clean_failure(runtime, p)
    assert "hooks.prestart[0].path" in p.stderr and "'bin/true'" in p.stderr, p.stderr


def test_failing_poststart_is_a_warning(runtime, make_bundle, tmp_path):
    script = tmp_path / "fail.sh"
    script.write_text("#!/bin/sh\necho poststart-broke >&2\nexit 2\n")
    script.chmod(0o755)
    b = make_bundle(args=["sleep", "100"])
    b.config["hooks"] = {"poststart": [{"path": str(script)}]}
    b.write()
    cid = runtime.create(b)
    p = runtime.start(cid, check=False)
    assert p.returncode == 0, (p.returncode, p.stderr)
    assert "poststart-broke" in p.stderr and "warning" in p.stderr.lower(), p.stderr
    assert runtime.status(cid) == "running"
    runtime.delete(cid, force=True)


def test_failing_poststop_is_a_warning(runtime, make_bundle, tmp_path):
    script = tmp_path / "fail.sh"
    script.write_text("#!/bin/sh\necho poststop-broke >&2\nexit 2\n")
    script.chmod(0o755)
    b = make_bundle(args=["true"])
    b.config["hooks"] = {"poststop": [{"path": str(script)}]}
    b.write()
    cid = runtime.create(b)
    runtime.start(cid)
    runtime.wait_status(cid, "stopped")
    p = runtime.delete(cid, check=False)
    assert p.returncode == 0, (p.returncode, p.stderr)
    assert "poststop-broke" in p.stderr and "warning" in p.stderr.lower(), p.stderr
    assert not (runtime.root / cid).exists()


def test_several_hooks_of_a_kind_run_in_order_and_stop_at_failure(runtime, make_bundle,
                                                                     tmp_path):
    log = tmp_path / "order"
    hooks = []
    for i, code in enumerate([0, 0, 5, 0]):
        s = tmp_path / f"h{i}.sh"
        s.write_text(f"#!/bin/sh\necho {i} >> {log}\nexit {code}\n")
        s.chmod(0o755)
        hooks.append({"path": str(s)})
    b = make_bundle(args=["true"])
    b.config["hooks"] = {"prestart": hooks}
    b.write()
    p = runtime.create(b, check=False)
    assert_clean_failure(runtime, p)
    assert log.read_text().split() == ["0", "1", "2"]
    assert f"prestart hook '{tmp_path / 'h2.sh'}': exited with status 5" in p.stderr, p.stderr


def test_failing_start_container_hook_fails_start_command(runtime, make_bundle):
    """`start` reports the failure (exit 1, the hook and its output in the message) and runs no
    poststart hook.  The reason goes to `start` only: nothing is written into the container's
    own stderr, which belongs to the container (a daemon would log it as the container's)."""
    b = make_bundle(args=["true"])
    (b.rootfs / "fail.sh").write_text("#!/bin/sh\necho inside-fail >&2\nexit 4\n")
    (b.rootfs / "fail.sh").chmod(0o755)
    mark = b.path / "poststart-ran"
    b.config["hooks"] = {"startContainer": [{"path": "/fail.sh"}],
                         "poststart": [{"path": "/bin/touch", "args": ["touch", str(mark)]}]}
    b.write()
    cid = runtime.create(b)
    p = runtime.start(cid, check=False)
    assert p.returncode == 1 and p.stderr.strip(), (p.returncode, p.stderr)
    assert "startContainer hook '/fail.sh'" in p.stderr and "status 4" in p.stderr, p.stderr
    assert "inside-fail" in p.stderr, p.stderr
    assert runtime.output(cid) == ("", ""), runtime.output(cid)
    assert not mark.exists()
    runtime.wait_status(cid, "stopped")
    runtime.delete(cid)
