"""Bad and hostile input to berth-runtime: each fails with exit code 1, says why on stderr, writes
the error to the --log as a JSON line, and leaves nothing behind (the runtime fixture checks: no
state entry, no cgroup named after the id, no process, no mount).  Failures are provoked at
different stages of create: parsing, validation, namespace paths, hooks, the executable lookup.
"""

import json
import os
import re
import socket
import stat
import subprocess
from pathlib import Path

import pytest

from berth import cgroups_named, new_id, runtime_binary, wait_until


def failed_create(runtime, bundle, cid=None, extra=(), want=()):
    """create must fail with exit 1, a message containing `want` (a string or several: the
    field or value at fault, required), the same message as the last JSON log line, and no
    state entry for the id."""
    assert want, "say what the message must name"
    cid = cid if cid is not None else new_id()
    valid = bool(re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_+.-]{0,254}", cid)) and cid not in (".", "..")
    if valid:
        runtime.track(cid)  # invalid ids are never made: nothing by that name to look for
    p = runtime.run("create", "--bundle", getattr(bundle, "path", bundle), *extra, cid,
                    check=False)
    assert p.returncode == 1, (p.returncode, p.stdout, p.stderr)
    msg = p.stderr.strip()
    assert msg, "no message on stderr"
    for w in ([want] if isinstance(want, str) else want):
        assert str(w) in msg, (w, msg)
    entries = runtime.log_entries()
    assert entries and entries[-1]["level"] == "error", entries[-1:]
    assert entries[-1]["msg"] and entries[-1]["msg"] in msg
    if valid:
        assert not (runtime.root / cid).exists()
        assert not cgroups_named([cid])
    if runtime.root.exists():
        assert not [e for e in os.listdir(runtime.root) if not e.startswith(".")]
    return p


# ---- config.json ---------------------------------------------------------------------------


def test_malformed_json(runtime, bundle):
    bundle.write_raw('{"ociVersion": "1.0.2", "process": {')
    failed_create(runtime, bundle, want="config.json")


def test_empty_and_non_object_config(runtime, bundle):
    for text, want in (("", "invalid JSON at line 1"), ("[]", "config: expected an object"),
                       ("42", "invalid JSON at line 1"), ('"x"', "invalid JSON at line 1"),
                       ("null", "invalid JSON at line 1")):
        bundle.write_raw(text)
        failed_create(runtime, bundle, want=["config.json", want])


@pytest.mark.parametrize("path,value,want", [
    (("process", "args"), "sh", "process.args: expected an array of strings"),
    (("process", "args"), [1, 2], "process.args: expected an array of strings"),
    (("process", "terminal"), "yes", "process.terminal: expected a boolean"),
    (("process", "user", "uid"), "root", "process.user.uid: expected an integer"),
    (("process", "user", "uid"), -1, "process.user.uid: -1 out of range"),
    (("process", "env"), {"A": "b"}, "process.env: expected an array of strings"),
    (("root", "path"), 7, "root.path: expected a string"),
    (("hostname",), ["x"], "hostname: expected a string"),
    (("mounts",), {"destination": "/x"}, "mounts: expected an array"),
    (("linux", "namespaces"), [{"type": "bogus"}], "linux.namespaces[0].type: unknown"),
    (("linux", "resources", "memory"), {"limit": "lots"},
     "linux.resources.memory.limit: expected an integer"),
    (("process", "capabilities", "bounding"), ["CAP_NOT_A_CAP"],
     "process.capabilities.bounding: unknown capability"),
    (("process", "rlimits"), [{"type": "RLIMIT_BOGUS", "hard": 1, "soft": 1}],
     "process.rlimits[0].type: unknown rlimit 'RLIMIT_BOGUS'"),
])
def test_wrong_field_types(runtime, bundle, path, value, want):
    obj = bundle.config
    for k in path[:-1]:
        obj = obj.setdefault(k, {})
    obj[path[-1]] = value
    bundle.write()
    failed_create(runtime, bundle, want=want)


def test_missing_config(runtime, tmp_path):
    d = tmp_path / "empty-bundle"
    d.mkdir()
    failed_create(runtime, d, want="config.json")
    failed_create(runtime, tmp_path / "no-such-dir", want=f"bundle '{tmp_path / 'no-such-dir'}'")


def test_missing_rootfs(runtime, bundle):
    bundle.config["root"]["path"] = "nope"
    bundle.write()
    failed_create(runtime, bundle, want="nope")


def test_rootfs_is_a_file(runtime, bundle):
    (bundle.path / "afile").write_text("x")
    bundle.config["root"]["path"] = "afile"
    bundle.write()
    failed_create(runtime, bundle, want="not a directory")


def test_missing_process(runtime, bundle):
    del bundle.config["process"]
    bundle.write()
    failed_create(runtime, bundle, want="process")


def test_missing_args(runtime, bundle):
    bundle.config["process"]["args"] = []
    bundle.write()
    failed_create(runtime, bundle, want="process.args: at least one argument is required")


def test_huge_config_refused(runtime, bundle):
    bundle.config["annotations"] = {"pad": "x" * (20 << 20)}
    bundle.write()
    failed_create(runtime, bundle, want=["config.json", "is larger than 16777216 bytes"])


def test_deeply_nested_config_refused(runtime, bundle):
    text = json.dumps(bundle.config)
    deep = "[" * 100000 + "]" * 100000
    bundle.write_raw(text[:-1] + ', "annotations": {"a": ' + deep + "}}")
    failed_create(runtime, bundle, want=["config.json", "maximum pars"])


# ---- ids -----------------------------------------------------------------------------------


@pytest.mark.parametrize("cid", ["a/b", "../escape", "..", ".", "-dash", "sp ace", "x\ny",
                                 "a" * 1025, "é"])
def test_bad_ids(runtime, bundle, cid):
    # the message names the id as given (a word getopt takes for a flag: as that flag)
    want = (f"unknown flag '{cid}'" if cid.startswith("-") else
            f"invalid id format: '{cid[:32]}...' is too long" if len(cid) > 1024 else
            f"invalid id format: '{cid}'")
    failed_create(runtime, bundle, cid=cid, want=want)
    # nothing appeared next to or above the state directory
    assert not (runtime.root.parent / "escape").exists()


def test_empty_id(runtime, bundle):
    failed_create(runtime, bundle, cid="", want="container id cannot be empty")


def test_long_but_valid_id(runtime, bundle):
    # 300 characters pass the id rules but exceed a file name's limit: a clean failure
    cid = "l" + "o" * 299
    runtime.track(cid)
    p = runtime.run("create", "--bundle", bundle.path, cid, check=False)
    if p.returncode == 0:
        runtime.delete(cid, force=True)
    else:
        assert p.returncode == 1 and cid in p.stderr, p.stderr
    if runtime.root.exists():
        assert not [e for e in os.listdir(runtime.root) if not e.startswith(".")]


def test_id_in_use(runtime, make_bundle, tmp_path):
    b = make_bundle(args=["sh", "-c", "touch /shared/ran; exec sleep 100"])
    d = tmp_path / "shared"
    d.mkdir()
    b.add_mount("/shared", "bind", d, ["rbind", "rw"])
    b.write()
    cid = runtime.create(b)
    pid = runtime.container_pid(cid)
    p = runtime.run("create", "--bundle", b.path, cid, check=False)
    assert p.returncode == 1 and "exists" in p.stderr, p.stderr
    # the first one is untouched and still works
    st = runtime.state(cid)
    assert (st["status"], st["pid"]) == ("created", pid)
    runtime.start(cid)
    assert wait_until(lambda: (d / "ran").exists())
    assert runtime.status(cid) == "running"
    runtime.delete(cid, force=True)


# ---- failures later in create --------------------------------------------------------------


def test_namespace_path_not_a_namespace(runtime, bundle):
    bundle.config["linux"]["namespaces"] = [
        n for n in bundle.config["linux"]["namespaces"] if n["type"] != "uts"
    ] + [{"type": "uts", "path": "/etc/hostname"}]
    bundle.write()
    failed_create(runtime, bundle, want="/etc/hostname")


def test_namespace_path_missing(runtime, bundle):
    bundle.config["linux"]["namespaces"] = [
        n for n in bundle.config["linux"]["namespaces"] if n["type"] != "ipc"
    ] + [{"type": "ipc", "path": "/proc/999999999/ns/ipc"}]
    bundle.write()
    failed_create(runtime, bundle, want="ipc namespace '/proc/999999999/ns/ipc'")


def test_namespace_path_wrong_type(runtime, bundle):
    bundle.config["linux"]["namespaces"] = [
        n for n in bundle.config["linux"]["namespaces"] if n["type"] != "uts"
    ] + [{"type": "uts", "path": "/proc/self/ns/net"}]
    bundle.write()
    failed_create(runtime, bundle, want="'/proc/self/ns/net' is not a uts namespace")


def test_namespace_duplicate(runtime, bundle):
    bundle.config["linux"]["namespaces"].append({"type": "pid"})
    bundle.write()
    failed_create(runtime, bundle, want="duplicate namespace type 'pid'")


def test_failing_create_runtime_hook(runtime, bundle, tmp_path):
    hook = tmp_path / "hook.sh"
    marker = tmp_path / "hook-ran"
    hook.write_text(f"#!/bin/sh\ncat > {marker}\nexit 1\n")
    hook.chmod(0o755)
    bundle.config["hooks"] = {"createRuntime": [{"path": str(hook)}]}
    bundle.write()
    cid = new_id()
    failed_create(runtime, bundle, cid=cid, want=f"createRuntime hook '{hook}': exited with "
                  "status 1")
    # the hook did run, with the state on stdin, and the container is gone afterwards
    st = json.loads(marker.read_text())
    assert st["id"] == cid and st["pid"] > 0
    assert wait_until(lambda: not Path(f"/proc/{st['pid']}").exists()
                      or "Z" in Path(f"/proc/{st['pid']}/stat").read_text().split()[2])


def test_hook_missing_binary(runtime, bundle, tmp_path):
    bundle.config["hooks"] = {"prestart": [{"path": str(tmp_path / "no-hook")}]}
    bundle.write()
    failed_create(runtime, bundle, want=f"prestart hook '{tmp_path / 'no-hook'}'")


def test_missing_executable(runtime, bundle):
    bundle.config["process"]["args"] = ["no-such-program"]
    bundle.write()
    failed_create(runtime, bundle,
                  want='exec: "no-such-program": executable file not found in $PATH')
    bundle.config["process"]["args"] = ["/etc/hostname"]  # exists, not executable
    bundle.write()
    failed_create(runtime, bundle, want='exec: "/etc/hostname": Permission denied')


def test_bad_cwd(runtime, bundle):
    bundle.config["process"]["cwd"] = "relative"
    bundle.write()
    failed_create(runtime, bundle, want="process.cwd: 'relative' is not an absolute path")


def test_console_socket_nothing_listening(runtime, make_bundle, tmp_path):
    b = make_bundle()
    b.config["process"]["terminal"] = True
    b.write()
    failed_create(runtime, b, extra=["--console-socket", tmp_path / "nobody.sock"],
                  want="nobody.sock")
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.bind(str(tmp_path / "closed.sock"))
    s.close()
    failed_create(runtime, b, extra=["--console-socket", tmp_path / "closed.sock"],
                  want=f"console socket '{tmp_path / 'closed.sock'}'")
    # and with terminal: false a console socket is refused
    b.config["process"]["terminal"] = False
    b.write()
    failed_create(runtime, b, extra=["--console-socket", tmp_path / "nobody.sock"],
                  want="--console-socket given, but proce")


def test_pid_file_unwritable(runtime, bundle, tmp_path):
    pid_file = tmp_path / "no" / "such" / "x.pid"
    failed_create(runtime, bundle, extra=["--pid-file", pid_file], want=str(pid_file))


# ---- the command line --------------------------------------------------------------------


def bare(runtime, *args, says):
    """A command that must fail with exit 1 and a message naming `says` (one or several)."""
    p = runtime.run(*args, check=False)
    assert p.returncode == 1, (args, p.returncode, p.stdout, p.stderr)
    assert p.stderr.strip(), args
    for w in ([says] if isinstance(says, str) else says):
        assert str(w) in p.stderr, (args, w, p.stderr)
    return p


def test_unknown_command(runtime):
    bare(runtime, "frobnicate", says="unknown command 'frobnicate'")
    e = runtime.log_entries()[-1]
    assert e["level"] == "error" and "frobnicate" in e["msg"]


def test_no_command(runtime):
    bare(runtime, says="Usage: berth-runtime")


def test_unknown_flags(runtime, bundle):
    for args in (("create", "--frob", "x"), ("kill", "--frob", "x"), ("delete", "--frob", "x"),
                 ("state", "--frob", "x"), ("list", "--frob"), ("exec", "--frob", "x", "true"),
                 ("spec", "--frob"), ("ps", "--frob", "x"), ("update", "--frob", "x"),
                 ("events", "--frob", "x"), ("run", "--frob", "x")):
        bare(runtime, *args, says=f"berth-runtime {args[0]}: unknown flag '--frob'")
    bare(runtime, "--frob", "list", says="'--frob'")
    bare(runtime, "--log-format", "xml", "list", says="unknown log format 'xml'")
    # a cluster of short flags is named as written, not by its neighbour
    bare(runtime, "create", "--bundle", bundle.path, "-dx", "x", says="unknown flag '-dx'")


def test_missing_arguments(runtime):
    for args in (("create",), ("start",), ("state",), ("kill",), ("delete",), ("exec",),
                 ("ps",), ("pause",), ("resume",), ("update",), ("events",), ("run",),
                 ("create", "--bundle"), ("create", "--pid-file")):
        bare(runtime, *args, says=(f"flag '{args[1]}' needs an argument" if args[1:] else
                                   f"berth-runtime {args[0]}: missing container id"))
    # too many
    bare(runtime, "state", "a", "b", says="unexpected argument 'b'")
    bare(runtime, "kill", "a", "KILL", "extra", says="unexpected argument 'extra'")


def test_commands_on_unknown_container(runtime):
    for cmd in ("start", "state", "kill", "delete", "pause", "resume", "ps", "events"):
        cid = "ghost-" + new_id()
        bare(runtime, cmd, cid, says=f"container '{cid}' does not exist")
    bare(runtime, "update", "--pids-limit", "5", "ghost", says="container 'ghost' does not exist")
    bare(runtime, "exec", "ghost", "true", says="container 'ghost' does not exist")


def test_kill_unknown_signal_on_created(runtime, bundle):
    cid = runtime.create(bundle)
    for sig in ("SIGNOPE", "NOPE", "65", "1.5", "KILL9"):
        bare(runtime, "kill", cid, sig, says=f"unknown signal '{sig}'")
    assert runtime.status(cid) == "created"
    runtime.delete(cid, force=True)


def test_update_bad_values(runtime, make_bundle, tmp_path):
    b = make_bundle(args=["sleep", "100"])
    cid = runtime.create(b)
    runtime.start(cid)
    bare(runtime, "update", "--memory", "lots", cid, says="invalid value 'lots' for --memory")
    bare(runtime, "update", "--cpu-shares", "-5", cid, says="cpu.shares: -5 out of range")
    r = tmp_path / "r.json"
    r.write_text("[1, 2]")
    bare(runtime, "update", "-r", r, cid, says=f"resources '{r}'")
    r.write_text("{not json")
    bare(runtime, "update", "-r", r, cid, says=[f"resources '{r}'", "invalid JSON at line 1"])
    bare(runtime, "update", "-r", tmp_path / "missing.json", cid,
         says=f"'{tmp_path / 'missing.json'}'")
    bare(runtime, "update", "-r", r, "--pids-limit", "3", cid,
         says="-r and resource flags cannot go together")
    assert runtime.status(cid) == "running"
    runtime.delete(cid, force=True)


def test_bad_preserve_fds(runtime, bundle):
    for v in ("-1", "abc", "99999999999"):
        bare(runtime, "create", "--bundle", bundle.path, "--preserve-fds", v, new_id(),
             says=f"invalid value '{v}' for --preserve-fds")


def test_state_dir_tampering(runtime, bundle):
    # a state.json replaced with garbage is reported clearly, not trusted
    cid = runtime.create(bundle)
    pid = runtime.container_pid(cid)
    (runtime.root / cid / "state.json").write_text("{garbage")
    bare(runtime, "state", cid, says=[f"{cid}/state.json", "invalid JSON"])
    bare(runtime, "kill", cid, "KILL", says=f"{cid}/state.json")
    assert Path(f"/proc/{pid}").exists()
    # the state no longer names the process or the cgroup: clean up by hand
    runtime.force_cleanup()


def test_log_json_line_escapes(tmp_path):
    """The JSON log stays valid JSON whatever the message holds."""
    from berth import Runtime
    rt = Runtime(runtime_binary(), tmp_path / "rt")
    bad = 'q"uo\\te\nnl\ttab'
    rt.fails("state", bad, code=1, says=f"invalid id format: '{bad}'")
    e = rt.log_entries()[-1]
    assert e["level"] == "error" and 'q"uo' in e["msg"]
    assert rt.teardown() == []


def test_state_changes_refused(runtime, make_bundle, tmp_path):
    b = make_bundle(args=["sleep", "100"])
    cid = runtime.create(b)
    # a created container cannot be paused, exec'd into or resumed
    bare(runtime, "resume", cid, says="container not paused")
    runtime.start(cid)
    bare(runtime, "update", cid, says="nothing to update")
    bare(runtime, "exec", "--console-socket", tmp_path / "x.sock", cid, "true",
         says="--console-socket given, but no terminal")
    runtime.run("pause", cid)
    assert runtime.status(cid) == "paused"
    bare(runtime, "pause", cid, says="container not running")
    bare(runtime, "exec", cid, "true", says="cannot exec in a paused container")
    runtime.run("resume", cid)
    bare(runtime, "resume", cid, says="container not paused")
    assert runtime.status(cid) == "running"
    assert runtime.exec(cid, "echo", "ok").stdout == "ok\n"
    runtime.delete(cid, force=True)


def test_run_failure_leaves_nothing(runtime, bundle):
    bundle.config["process"]["args"] = ["no-such-program"]
    bundle.write()
    code, out, err = runtime.run_bundle(bundle)
    assert code == 1 and "executable file not found in $PATH" in err
    assert runtime.log_entries()[-1]["level"] == "error"
    code, out, err = runtime.run_bundle(bundle, extra=["--detach"])
    assert code == 1 and "executable file not found in $PATH" in err


def test_create_killed_half_way(runtime, bundle, tmp_path):
    """The create process dies (SIGKILL) in the middle, during a createRuntime hook: the init it
    made must not survive, and delete cleans up the rest."""
    hook = tmp_path / "hook.sh"
    hook.write_text(f"#!/bin/sh\ncat > {tmp_path}/stdin\ntouch {tmp_path}/in-hook\n"
                    "exec sleep 30\n")
    hook.chmod(0o755)
    bundle.config["hooks"] = {"createRuntime": [{"path": str(hook)}]}
    bundle.write()
    cid = runtime.track(new_id())
    argv = runtime.argv("create", "--bundle", bundle.path, cid)
    proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        assert wait_until(lambda: (tmp_path / "in-hook").exists(), 10)
        init = json.loads((tmp_path / "stdin").read_text())["pid"]
        runtime.note_pid(init)
        os.killpg(proc.pid, 9)  # create and its hook
    finally:
        proc.wait()
    assert wait_until(lambda: runtime.run("state", cid, check=False).returncode != 0
                      or runtime.status(cid) in ("stopped",), 5), runtime.status(cid)
    p = runtime.run("delete", cid, check=False)
    if p.returncode != 0:
        runtime.run("delete", "--force", cid)
    assert not (runtime.root / cid).exists()
    assert wait_until(lambda: not Path(f"/proc/{init}").exists()
                      or Path(f"/proc/{init}/stat").read_text().split()[2] in "ZX", 5)
