"""Helpers for berth's system and compat tests: the runtime under test, bundles, leak checks.

Every test that drives berth-runtime goes through a `Runtime` (fixture `runtime`):

    def test_hostname(runtime, make_bundle):
        b = make_bundle(args=["hostname"])
        b.config["hostname"] = "box"
        b.write()
        code, out, err = runtime.run_bundle(b)
        assert (code, out) == (0, "box\\n")

The runtime keeps its state (--root) and log (--log) in the test's own temporary directory,
remembers every container id and pid it saw, and at teardown deletes (--force) each container
and then fails the test if anything is left: a state entry, a cgroup named after an id, a live
process, a mount under the test's directory.  See docs/testing.md.
"""

import json
import os
import re
import shutil
import signal
import subprocess
import tempfile
import time
import uuid
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
SCRIPTS = REPO / "scripts"
CACHE = Path(os.environ.get("BERTH_CACHE", "/var/tmp/berth-cache"))
CGROUP_ROOT = Path("/sys/fs/cgroup")
CGROUP2_NS = SCRIPTS / "in-cgroup2-ns.sh"
DEFAULT_TIMEOUT = 30


def runtime_binary():
    """The berth-runtime under test: $BERTH_RUNTIME, else this tree's build/runtime/berth-runtime."""
    env = os.environ.get("BERTH_RUNTIME")
    path = Path(env) if env else REPO / "build" / "runtime" / "berth-runtime"
    if not path.is_absolute():
        path = Path.cwd() / path
    return path


def ci():
    return os.environ.get("CI", "").lower() in ("1", "true", "yes")


def strict_skips():
    """In CI (or with BERTH_STRICT_SKIPS=1) a skip not marked allowed_skip is a failure."""
    return ci() or os.environ.get("BERTH_STRICT_SKIPS") == "1"


def new_id(prefix="t"):
    """A container id that no other test (or run) uses; short enough for any cgroup name."""
    return f"{prefix}-{uuid.uuid4().hex[:12]}"


# ---------------------------------------------------------------------------------------------
# Bundles


class Bundle:
    """An OCI bundle in `path`: rootfs/ (a copy of the cached busybox rootfs) and config.json.

    `config` is the parsed default config (scripts/mkbundle.sh writes it); edit it, then
    `write()` before using the bundle.  `rootfs` is writable from the host.
    """

    def __init__(self, path, config):
        self.path = Path(path)
        self.config = config

    @property
    def rootfs(self):
        return self.path / self.config["root"]["path"]

    @property
    def config_path(self):
        return self.path / "config.json"

    def write(self):
        tmp = self.config_path.with_suffix(".json.tmp")
        tmp.write_text(json.dumps(self.config, indent=1))
        tmp.rename(self.config_path)
        return self

    def write_raw(self, text):
        """Replaces config.json with `text` as is (for malformed-input tests)."""
        self.config_path.write_text(text)
        return self

    def set_args(self, *args):
        self.config["process"]["args"] = list(args)
        return self

    def add_mount(self, destination, type_, source, options=()):
        self.config["mounts"].append(
            {"destination": destination, "type": type_, "source": str(source),
             "options": list(options)})
        return self


def make_bundle_at(path, args=("sh",)):
    """Runs scripts/mkbundle.sh into `path` and returns the Bundle (config already written)."""
    path = Path(path)
    subprocess.run([str(SCRIPTS / "mkbundle.sh"), str(path), *args], check=True,
                   capture_output=True, text=True, timeout=120)
    return Bundle(path, json.loads((path / "config.json").read_text()))


# ---------------------------------------------------------------------------------------------
# Processes, cgroups and mounts, as the host sees them


def proc_start_time(pid):
    """Field 22 of /proc/PID/stat (start time in clock ticks), or None if there is no such pid."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError):
        return None
    # comm (field 2) may hold spaces and parentheses: split after the last ')'.
    return int(stat[stat.rindex(")") + 2:].split()[19])


def proc_state(pid):
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError):
        return None
    return stat[stat.rindex(")") + 2:].split()[0]


def proc_status(pid):
    """/proc/PID/status as a dict of strings."""
    out = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        k, _, v = line.partition(":")
        out[k] = v.strip()
    return out


def proc_cgroups(pid):
    """{controller: path} from /proc/PID/cgroup; the cgroup2 entry is under key ''."""
    out = {}
    for line in Path(f"/proc/{pid}/cgroup").read_text().splitlines():
        _, controllers, path = line.split(":", 2)
        for c in controllers.split(",") if controllers else [""]:
            out[c.removeprefix("name=")] = path
    return out


def _cgroup_mounts():
    """{mount point: fstype} of the cgroup and cgroup2 mounts at or below /sys/fs/cgroup."""
    out = {}
    for line in Path("/proc/self/mountinfo").read_text().splitlines():
        fields = line.split()
        fstype = fields[fields.index("-") + 1]
        mnt = Path(unescape_mount(fields[4]))
        if fstype in ("cgroup", "cgroup2") and \
                (mnt == CGROUP_ROOT or CGROUP_ROOT in mnt.parents):
            out[mnt] = fstype
    return out


def cgroup_layout():
    """This host's cgroup layout: "v2" (pure: cgroup2 at /sys/fs/cgroup), "hybrid" (v1
    controllers and a cgroup2 mount, /sys/fs/cgroup/unified) or "v1" (v1 only)."""
    mounts = _cgroup_mounts()
    if mounts.get(CGROUP_ROOT) == "cgroup2":
        return "v2"
    return "hybrid" if "cgroup2" in mounts.values() else "v1"


def cgroup2_root():
    """Where this host's cgroup2 hierarchy is mounted (/sys/fs/cgroup on a pure v2 host, the
    unified mount of a hybrid one), or None."""
    for mnt, fstype in sorted(_cgroup_mounts().items()):
        if fstype == "cgroup2":
            return mnt
    return None


def cgroup_v1():
    """True when cgroup v1 hierarchies are mounted (a v1 or hybrid host): the runtime's own
    driver here is then v1, and test_cgroups.py applies."""
    return "cgroup" in _cgroup_mounts().values()


def cgroup_dir(pid, controller):
    """The host directory of PID's cgroup for a v1 controller ("memory", ...) or, with
    controller "" (or "unified"), for cgroup2 (at /sys/fs/cgroup on a pure v2 host, at
    /sys/fs/cgroup/unified on a hybrid one)."""
    cgs = proc_cgroups(pid)
    if controller in ("", "unified"):
        return cgroup2_root() / cgs[""].lstrip("/")
    return CGROUP_ROOT / controller / cgs[controller].lstrip("/")


def cgroup_hierarchies():
    """Every cgroup mount point at or below /sys/fs/cgroup (v1 controllers, unified, or the
    cgroup2 mount of a pure v2 host)."""
    return sorted(_cgroup_mounts())


def cgroups_named(needles):
    """Cgroup directories anywhere under /sys/fs/cgroup whose name contains one of `needles`."""
    found = []
    if not needles:
        return found
    for top in cgroup_hierarchies():
        for dirpath, dirnames, _ in os.walk(top):
            for d in dirnames:
                if any(n in d for n in needles):
                    found.append(Path(dirpath) / d)
    return found


def unescape_mount(s):
    return re.sub(r"\\([0-7]{3})", lambda m: chr(int(m.group(1), 8)), s)


def mounts_under(prefix):
    """Mount points in this mount namespace at or below `prefix`, deepest first."""
    prefix = str(Path(prefix).resolve())
    out = []
    for line in Path("/proc/self/mountinfo").read_text().splitlines():
        mnt = unescape_mount(line.split()[4])
        if mnt == prefix or mnt.startswith(prefix + "/"):
            out.append(mnt)
    return sorted(out, key=len, reverse=True)


def wait_until(predicate, timeout=5.0, interval=0.02):
    """Polls predicate() until it returns a true value (returned) or `timeout` passes (None)."""
    deadline = time.monotonic() + timeout
    while True:
        v = predicate()
        if v:
            return v
        if time.monotonic() >= deadline:
            return None
        time.sleep(interval)


def wait_signal_handled(pid, sig, timeout=30.0):
    """Waits until process `pid` catches or ignores signal `sig` (SigCgt/SigIgn in its
    /proc status): a test that signals a shell's trap must not signal before the shell has run
    `trap`.  A container's shell is its PID 1, which drops a signal it has no handler for, so an
    early stop signal is lost and the stop ends in SIGKILL (as CI's loaded machines showed)."""
    bit = 1 << (int(sig) - 1)

    def handled():
        try:
            lines = Path(f"/proc/{pid}/status").read_text().splitlines()
        except OSError:
            return False
        masks = [int(x.split(":", 1)[1], 16) for x in lines if x.startswith(("SigCgt:", "SigIgn:"))]
        return any(m & bit for m in masks)

    return wait_until(handled, timeout)


# ---------------------------------------------------------------------------------------------
# The runtime under test


class RuntimeError_(AssertionError):
    pass


class Runtime:
    """berth-runtime (or any runtime with runc's command line) with private state.

    binary:  the runtime executable
    workdir: the test's directory; state goes to workdir/state, the log to workdir/runtime.log
    wrapper: argv put before the runtime (scripts/in-cgroup2-ns.sh for the v2 driver)
    """

    def __init__(self, binary, workdir, wrapper=(), log_format="json"):
        self.binary = Path(binary)
        self.workdir = Path(workdir)
        self.root = self.workdir / "state"
        self.log = self.workdir / "runtime.log"
        self.log_format = log_format
        self.wrapper = list(wrapper)
        self.ids = []            # every id this runtime was asked to create, in order
        self.pids = {}           # pid -> start time, for every container process seen
        self.workdir.mkdir(parents=True, exist_ok=True)

    # -- running commands

    def argv(self, *args, global_args=()):
        return [*self.wrapper, str(self.binary), "--root", str(self.root), "--log",
                str(self.log), "--log-format", self.log_format, *global_args,
                *[str(a) for a in args]]

    def run(self, *args, check=True, input=None, timeout=DEFAULT_TIMEOUT, env=None,
            global_args=(), cwd=None, output=None):
        """Runs `berth-runtime [global flags] ARGS...`; returns a CompletedProcess (text).

        check=True fails the test, with stdout, stderr and the log's tail, on a non-zero exit.
        stdout and stderr go through files, not pipes: a container started by this command
        inherits them and may outlive it, and must not keep us waiting for an EOF.  With
        output=PATH they are PATH.out and PATH.err, kept (a detached container's output lands
        there too); otherwise anonymous temporary files.
        """
        argv = self.argv(*args, global_args=global_args)
        if output is not None:
            fout = open(f"{output}.out", "w+b")
            ferr = open(f"{output}.err", "w+b")
        else:
            fout = tempfile.TemporaryFile(dir=self.workdir)
            ferr = tempfile.TemporaryFile(dir=self.workdir)
        with fout, ferr:
            try:
                proc = subprocess.Popen(
                    argv, stdin=subprocess.PIPE if input is not None else subprocess.DEVNULL,
                    stdout=fout, stderr=ferr, env=env, cwd=cwd, text=True)
            except OSError as e:
                raise RuntimeError_(f"{' '.join(argv)}: {e}") from None
            try:
                if input is not None:
                    try:
                        proc.stdin.write(input)
                        proc.stdin.close()
                    except BrokenPipeError:
                        pass
                code = proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
                raise RuntimeError_(f"{' '.join(argv)}: timed out after {timeout}s\n"
                                    f"stdout: {_readback(fout)!r}\n"
                                    f"stderr: {_readback(ferr)!r}\n"
                                    f"log:\n{self.log_tail()}") from None
            p = subprocess.CompletedProcess(argv, code, _readback(fout), _readback(ferr))
        sanitizer_check(f"{' '.join(argv)}", p.stderr)
        if check and p.returncode != 0:
            raise RuntimeError_(f"{' '.join(argv)}: exit {p.returncode}\nstdout: {p.stdout!r}\n"
                                f"stderr: {p.stderr!r}\nlog:\n{self.log_tail()}")
        return p

    def fails(self, *args, says=(), code=None, **kw):
        """Runs a command that must fail: returns the CompletedProcess, asserts a message.
        `says`: a string (or several) that stderr must contain -- the field or value at fault,
        so that a test cannot pass on the wrong error; `code`: the exit code it must have."""
        p = self.run(*args, check=False, **kw)
        assert p.returncode != 0, f"{args}: expected failure, got exit 0 ({p.stdout!r})"
        assert p.stderr.strip(), f"{args}: failed with exit {p.returncode} but said nothing"
        if code is not None:
            assert p.returncode == code, f"{args}: exit {p.returncode}, not {code}: {p.stderr}"
        for s in ([says] if isinstance(says, str) else says):
            assert str(s) in p.stderr, f"{args}: the message does not name {s!r}: {p.stderr!r}"
        return p

    def log_tail(self, n=20):
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-n:])
        except FileNotFoundError:
            return "(no log)"

    def log_entries(self):
        """The --log file parsed as JSON lines (log_format json)."""
        try:
            text = self.log.read_text()
        except FileNotFoundError:
            return []
        return [json.loads(line) for line in text.splitlines() if line.strip()]

    # -- lifecycle helpers; each records the id before acting, so a half-made container is
    #    still cleaned up and checked

    def track(self, cid):
        if cid not in self.ids:
            self.ids.append(cid)
        return cid

    def note_pid(self, pid):
        if pid and pid > 0 and pid not in self.pids:
            st = proc_start_time(pid)
            if st is not None:
                self.pids[pid] = st

    def create(self, bundle, cid=None, extra=(), check=True, **kw):
        """`create --bundle B --pid-file F [EXTRA] ID` -> the id (check=False: the
        CompletedProcess)."""
        cid = self.track(cid or new_id())
        pidfile = self.workdir / f"{cid}.pid"
        kw.setdefault("output", self.workdir / cid)
        p = self.run("create", "--bundle", Path(getattr(bundle, "path", bundle)),
                     "--pid-file", pidfile, *extra, cid, check=check, **kw)
        if p.returncode == 0:
            self.note_pid(int(pidfile.read_text()))
        return cid if check else p

    def output(self, cid):
        """(stdout, stderr) the container has written so far, for one made by create()."""
        return tuple(Path(f"{self.workdir / cid}.{s}").read_text(errors="replace")
                     for s in ("out", "err"))

    def start(self, cid, **kw):
        return self.run("start", cid, **kw)

    def state(self, cid):
        """The state JSON as a dict (and the pid is remembered for the leak check)."""
        st = json.loads(self.run("state", cid).stdout)
        self.note_pid(st.get("pid", 0))
        return st

    def status(self, cid):
        return self.state(cid)["status"]

    def kill(self, cid, sig="KILL", *extra, **kw):
        return self.run("kill", *extra, cid, str(sig), **kw)

    def delete(self, cid, force=False, **kw):
        return self.run("delete", *(["--force"] if force else []), cid, **kw)

    def exec(self, cid, *argv, opts=(), **kw):
        """`exec [OPTS] ID ARGV...` -> CompletedProcess (check=False to look at failures)."""
        return self.run("exec", *opts, cid, *argv, **kw)

    def wait_status(self, cid, status, timeout=10):
        got = wait_until(lambda: self.status(cid) == status, timeout)
        assert got, f"{cid}: status {self.status(cid)!r}, want {status!r} within {timeout}s"

    def run_bundle(self, bundle, cid=None, extra=(), timeout=DEFAULT_TIMEOUT, input=None):
        """`run --bundle B ID` in the foreground (terminal false): (exit code, stdout, stderr).

        The container is expected to be gone afterwards (run deletes it); teardown checks.
        """
        cid = self.track(cid or new_id())
        pidfile = self.workdir / f"{cid}.pid"
        p = self.run("run", "--bundle", Path(getattr(bundle, "path", bundle)),
                     "--pid-file", pidfile, *extra, cid, check=False, timeout=timeout,
                     input=input)
        try:
            # The process is gone by now; remembering the pid still proves it stays gone.
            self.note_pid(int(pidfile.read_text()))
        except (FileNotFoundError, ValueError):
            pass
        return p.returncode, p.stdout, p.stderr

    def container_pid(self, cid):
        return self.state(cid)["pid"]

    def cgroup_file(self, cid, controller, name):
        """Text of a cgroup file of the container's init, as the host sees it (v1 controller
        name, or "" for cgroup2)."""
        return (cgroup_dir(self.container_pid(cid), controller) / name).read_text().strip()

    # -- teardown

    def leftovers(self):
        """What is left of this runtime's containers: a list of human-readable strings."""
        left = []
        if self.root.exists():
            for e in sorted(os.listdir(self.root)):
                if not e.startswith("."):
                    left.append(f"state entry {self.root / e}")
        for d in cgroups_named(self.ids):
            left.append(f"cgroup {d}")
        for pid, st in self.pids.items():
            if proc_start_time(pid) == st and proc_state(pid) not in (None, "Z", "X"):
                left.append(f"process {pid} ({proc_state(pid)})")
        for m in mounts_under(self.workdir):
            left.append(f"mount {m}")
        return left

    def force_cleanup(self):
        """Removes by force what leftovers() reports, so one leak does not fail later tests."""
        for pid, st in self.pids.items():
            if proc_start_time(pid) == st:
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
        for m in mounts_under(self.workdir):
            subprocess.run(["umount", "-l", m], capture_output=True)
        # A cgroup named after one of our ids holds only our processes (a container of a
        # test's second Runtime, say): thaw every one first (a frozen task cannot die), kill
        # what they hold, then rmdir them, deepest first, as their processes go.
        dirs = sorted(cgroups_named(self.ids), key=lambda p: len(str(p)), reverse=True)
        for d in dirs:
            _thaw(d)
        for d in dirs:
            for pid in _cgroup_pids(d):
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
        for d in dirs:
            wait_until(lambda: not _cgroup_busy(d), 2)
            try:
                d.rmdir()
            except OSError:
                pass
        if self.root.exists():
            shutil.rmtree(self.root, ignore_errors=True)

    def teardown(self):
        """delete --force of every id, then the leak check.  Returns the leftovers found."""
        for cid in reversed(self.ids):
            self.run("delete", "--force", cid, check=False, timeout=DEFAULT_TIMEOUT)
        # the init between clone and exec is ours too: a report of its lands in the
        # container's stderr, which create() keeps in WORKDIR/<id>.err
        for f in self.workdir.glob("*.err"):
            sanitizer_check(f"container output {f.name}", f.read_text(errors="replace"))
        # Processes die and cgroups go asynchronously after SIGKILL: give them a moment.
        if wait_until(lambda: not self.leftovers(), 5):
            return []
        left = self.leftovers()
        if left:
            self.force_cleanup()
        return left


# /dev/loop-control (c 10:237) is not one of a container's default devices: the cgroup device
# tests bind it in and deny or allow it by rule
LOOP_CONTROL = {"type": "c", "major": 10, "minor": 237}
# `true` is a regular builtin: a failed redirection does not end the shell
LOOP_CONTROL_PROBE = "true </dev/loop-control && echo open-ok; echo x >/dev/null && echo null-ok"


def run_with_loop_control(rt, make_bundle, rules, script=LOOP_CONTROL_PROBE):
    """(code, stdout, stderr) of `sh -c script` run by rt in a container with /dev/loop-control
    bound in and the device cgroup rules given; skips where the host has no /dev/loop-control.
    The default script says open-ok when it could open the device and null-ok when /dev/null
    works."""
    if not Path("/dev/loop-control").exists():
        pytest.skip("no /dev/loop-control")
    b = make_bundle(args=["sh", "-c", script])
    b.add_mount("/dev/loop-control", "bind", "/dev/loop-control", ["bind"])
    b.config["linux"]["resources"]["devices"] = rules
    b.write()
    return rt.run_bundle(b)


SANITIZER_REPORT = re.compile(r"==\d+==ERROR: (Address|Leak)Sanitizer|: runtime error: |"
                              r"SUMMARY: (Address|UndefinedBehavior|Leak)Sanitizer")


def sanitizer_check(what, text):
    """A sanitizer build (build-asan, tests/run-all's ASan phase) reports on stderr: any report
    fails the test, whatever the exit code and whatever else the test expected."""
    if text and SANITIZER_REPORT.search(text):
        pytest.fail(f"{what}: sanitizer report:\n{text[-6000:]}", pytrace=False)


def _readback(f):
    f.flush()
    f.seek(0)
    return f.read().decode(errors="replace")


def _thaw(d):
    """A frozen task cannot die of SIGKILL until thawed (v1 freezer, v2 cgroup.freeze)."""
    for name, value in (("freezer.state", "THAWED"), ("cgroup.freeze", "0")):
        try:
            (d / name).write_text(value)
        except OSError:
            pass


def _cgroup_pids(d):
    try:
        return [int(p) for p in (d / "cgroup.procs").read_text().split()]
    except OSError:
        return []


def _cgroup_busy(d):
    try:
        return bool((d / "cgroup.procs").read_text().strip())
    except OSError:
        return False


def assert_no_leftovers(rt):
    left = rt.teardown()
    assert not left, "left behind after delete --force:\n  " + "\n  ".join(left) + \
        f"\nruntime log:\n{rt.log_tail()}"


# ---------------------------------------------------------------------------------------------
# pytest plumbing shared by tests/system and tests/compat (imported by each conftest.py)

MARKERS = [
    "cgroup2: runs the runtime through scripts/in-cgroup2-ns.sh so the cgroup v2 driver is used",
    "peer: drives berth-runtime through another engine (podman, containerd's ctr)",
    "allowed_skip(reason): this test may skip in CI; the reason says why (docs/testing.md)",
]


def pytest_configure(config):
    for m in MARKERS:
        config.addinivalue_line("markers", m)


def _unexpected_skip(report, item=None):
    if not strict_skips() or not report.skipped:
        return False
    if hasattr(report, "wasxfail"):
        return False
    if item is not None:
        mark = item.get_closest_marker("allowed_skip")
        if mark is not None:
            assert mark.kwargs.get("reason") or mark.args, \
                f"{item.nodeid}: allowed_skip needs a reason"
            return False
    return True


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if _unexpected_skip(report, item):
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else report.longrepr
        report.outcome = "failed"
        report.longrepr = (f"unexpected skip (CI counts a skip as a failure unless the test is "
                           f"marked allowed_skip): {reason}")


@pytest.hookimpl(hookwrapper=True)
def pytest_make_collect_report(collector):
    outcome = yield
    report = outcome.get_result()
    # A whole module skipped at import (pytest.importorskip, module-level skip).
    if _unexpected_skip(report):
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else report.longrepr
        report.outcome = "failed"
        report.longrepr = f"unexpected skip of {collector.nodeid} in CI: {reason}"


@pytest.fixture
def runtime(tmp_path):
    """berth-runtime with private --root/--log under tmp_path; leak-checked at teardown."""
    binary = runtime_binary()
    if not os.access(binary, os.X_OK):
        pytest.skip(f"runtime under test '{binary}' not built (set BERTH_RUNTIME or build it)")
    rt = Runtime(binary, tmp_path / "rt")
    yield rt
    assert_no_leftovers(rt)


@pytest.fixture
def runtime_v2(tmp_path):
    """Like `runtime`, but the runtime's cgroup v2 driver is used.  On a hybrid host each command
    runs through scripts/in-cgroup2-ns.sh (inside, the host's cgroup2 mount is /sys/fs/cgroup);
    on a pure v2 host the runtime picks its v2 driver as it is.  From the host, the container's
    cgroup is under cgroup2_root() (cgroup_file(cid, "", name)).  Without any cgroup2 mount
    (a v1-only host) the test is skipped: mark it allowed_skip."""
    binary = runtime_binary()
    if not os.access(binary, os.X_OK):
        pytest.skip(f"runtime under test '{binary}' not built (set BERTH_RUNTIME or build it)")
    layout = cgroup_layout()
    if layout == "v1":
        pytest.skip("no cgroup2 mount on this host (cgroup v1 only)")
    if layout == "hybrid" and not os.access(CGROUP2_NS, os.X_OK):
        pytest.skip(f"{CGROUP2_NS} missing")
    wrapper = [str(CGROUP2_NS)] if layout == "hybrid" else []
    rt = Runtime(binary, tmp_path / "rt2", wrapper=wrapper)
    yield rt
    assert_no_leftovers(rt)


@pytest.fixture(scope="session")
def rootfs_cache():
    """The cached busybox rootfs (scripts/mkrootfs.sh), made once per session."""
    path = CACHE / "rootfs"
    subprocess.run([str(SCRIPTS / "mkrootfs.sh"), str(path)], check=True, timeout=120)
    return path


@pytest.fixture
def make_bundle(tmp_path, rootfs_cache):
    """Factory: make_bundle(args=[...], name="bundle") -> Bundle in tmp_path (written)."""
    n = [0]

    def make(args=("sh",), name=None):
        n[0] += 1
        return make_bundle_at(tmp_path / (name or f"bundle{n[0]}"), args=list(args))

    return make


@pytest.fixture
def bundle(make_bundle):
    """A default bundle (process: sh); edit .config and call .write() before use."""
    return make_bundle()


__all__ = [
    "REPO", "SCRIPTS", "CACHE", "Bundle", "Runtime", "make_bundle_at", "new_id", "ci",
    "runtime_binary", "proc_start_time", "proc_state", "proc_status", "proc_cgroups",
    "cgroup_layout", "cgroup2_root", "cgroup_v1", "cgroup_dir", "cgroups_named", "mounts_under", "wait_until", "assert_no_leftovers",
    "pytest_configure", "pytest_runtest_makereport", "pytest_make_collect_report",
    "runtime", "runtime_v2", "rootfs_cache", "make_bundle", "bundle",
]
