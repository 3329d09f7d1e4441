"""`berth-runtime events` as a stream: stats every interval, an {"type":"oom"} event when the
OOM killer kills a process of the container (as runc reports it), and the end of the stream when
the container's init exits or is killed.  The OOMs are real: allocations past the memory limit,
on whatever cgroup driver the runtime picks here (v1 on this hybrid host, v2 on a pure cgroup v2
host; the cgroup v2 guest, tests/guest, runs this file on v2 too).  The stats side of `events` is
in test_cgroups.py and test_cgroups_v2.py."""

import json
import subprocess
import time

from berth import wait_until

MB = 1024 * 1024
# takes more than 24 MiB (a string doubled until it is 64 MiB long)
HOG = "awk 'BEGIN { s = \"x\"; while (length(s) < 64 * 1048576) s = s s }'"


def test_events_reports_an_oom_kill(runtime, make_bundle):
    # init waits for /go, runs the hog (killed: 137), and lives on
    b = make_bundle(args=["sh", "-c", "while [ ! -e /go ]; do sleep 0.1; done; " + HOG +
                          "; echo $? >/rc; exec sleep 100"])
    b.config["root"]["readonly"] = False
    b.config["linux"]["resources"]["memory"] = {"limit": 24 * MB, "swap": 24 * MB}
    b.write()
    cid = runtime.create(b)
    runtime.start(cid)
    out = runtime.workdir / "events.out"
    with open(out, "w") as f:
        ev = subprocess.Popen(runtime.argv("events", "--interval", "1s", cid), stdout=f,
                              stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    try:
        # events takes its starting count, and writes its first stats line, before the kill
        assert wait_until(lambda: '"type":"stats"' in out.read_text(), 10), out.read_text()
        (b.rootfs / "go").touch()
        assert wait_until(lambda: (b.rootfs / "rc").exists() and
                          (b.rootfs / "rc").read_text().strip(), 30), "the hog did not end"
        assert (b.rootfs / "rc").read_text().strip() == "137"
        assert wait_until(lambda: '"type":"oom"' in out.read_text(), 5), out.read_text()
        ooms = [json.loads(line) for line in out.read_text().splitlines()
                if '"type":"oom"' in line]
        assert ooms == [{"type": "oom", "id": cid}], out.read_text()
        assert runtime.status(cid) == "running"
        runtime.kill(cid, "KILL")
        assert ev.wait(timeout=10) == 0, out.read_text()
    finally:
        if ev.poll() is None:
            ev.kill()
            ev.wait()
    runtime.delete(cid)


def test_events_reports_oom(runtime, make_bundle, tmp_path):
    d = tmp_path / "shared"
    d.mkdir()
    b = make_bundle(args=["sh", "-c",
                          "while [ ! -e /shared/go ]; do sleep 0.05; done; tail /dev/zero; "
                          "echo after-oom > /shared/after"])
    b.add_mount("/shared", "bind", d, ["rbind", "rw"])
    b.config["linux"].setdefault("resources", {})["memory"] = {"limit": 16 * MB,
                                                               "swap": 16 * MB}
    b.write()
    cid = runtime.create(b)
    runtime.start(cid)
    proc = subprocess.Popen(runtime.argv("events", "--interval", "30s", cid),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        first = json.loads(proc.stdout.readline())
        assert first["type"] == "stats" and first["id"] == cid
        (d / "go").touch()
        # the shell outlives its OOM-killed child, writes, exits: the stream ends with it
        out, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 0, err
    events = [json.loads(line) for line in out.splitlines()]
    ooms = [e for e in events if e["type"] == "oom"]
    assert ooms, out
    assert all(e == {"type": "oom", "id": cid} for e in ooms), ooms
    assert (d / "after").read_text() == "after-oom\n"
    runtime.wait_status(cid, "stopped")
    runtime.delete(cid)


def test_events_no_oom_without_one(runtime, make_bundle):
    b = make_bundle(args=["sleep", "0.4"])
    cid = runtime.create(b)
    runtime.start(cid)
    out = runtime.run("events", "--interval", "100ms", cid, timeout=10).stdout
    types = {json.loads(line)["type"] for line in out.splitlines()}
    assert types == {"stats"}, out
    runtime.delete(cid)


def test_events_end_when_the_container_is_killed(runtime, make_bundle):
    b = make_bundle(args=["sleep", "1000"])
    cid = runtime.create(b)
    runtime.start(cid)
    proc = subprocess.Popen(runtime.argv("events", "--interval", "1h", cid),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert json.loads(proc.stdout.readline())["type"] == "stats"
        t = time.monotonic()
        runtime.kill(cid, "KILL")
        proc.wait(timeout=10)
        # the init's pidfd woke the loop: no waiting for the hour-long interval
        assert time.monotonic() - t < 5
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 0
    assert wait_until(lambda: runtime.status(cid) == "stopped")
    runtime.delete(cid)
    # events on a container that is gone: a clear error naming it
    p = runtime.fails("events", cid)
    assert cid in p.stderr
