"""`events` reporting an OOM kill, on whatever cgroup driver the runtime picks here (v1 on this
hybrid host, v2 on a pure cgroup v2 host; the cgroup v2 guest, tests/guest, runs it on v2 too).
The stats side of `events` is in test_cgroups.py and test_cgroups_v2.py."""

import json
import subprocess

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
