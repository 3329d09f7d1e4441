"""Watching and changing running containers -- top, stats, pause/unpause, update -- through the
real docker CLI and the berth CLI against a private berthd.  What is checked is the effect: the
cgroup files read directly, host pids in /proc, a counter the container writes that stops and
moves again, the record after a restart of the container and of berthd.
"""

import json
import os
import subprocess
import time
import uuid
from pathlib import Path

import pytest

from berth import SCRIPTS, cgroup2_root, cgroup_dir, cgroup_v1, cgroups_named, wait_until
from cli import BerthCLI, berth_binary
from daemon import (DOCKER_CLI, Berthd, container_ids_seen, import_busybox, needs_berthd,
                    shared_berthd)

pytestmark = [
    needs_berthd,
    pytest.mark.skipif(DOCKER_CLI is None, reason="no docker CLI"),
]

COUNTER = ["sh", "-c", "i=0; while :; do i=$((i+1)); echo $i > /tmp/n; sleep 0.05; done"]


@pytest.fixture(scope="module")
def cli(bd):
    if not berth_binary().exists():
        pytest.fail(f"no berth binary at {berth_binary()}: build first")
    c = BerthCLI(bd)
    yield c
    c.close()


def docker(bd, *args, check=True, timeout=60):
    return bd.docker(*args, check=check, timeout=timeout)


def api(bd, method, path, body=None):
    headers = {"Content-Type": "application/json"} if body is not None else None
    status, _, data = bd.http(method, path, body=body, headers=headers, timeout=60)
    return status, (json.loads(data) if data and data[:1] in (b"[", b"{") else data)


def inspect(bd, name):
    return json.loads(docker(bd, "inspect", name).stdout)[0]


def run_d(bd, name, *args, cmd=COUNTER):
    docker(bd, "run", "-d", "--name", name, *args, "busybox", *cmd)
    return inspect(bd, name)["State"]["Pid"]


def counter(pid):
    try:
        return int(Path(f"/proc/{pid}/root/tmp/n").read_text().strip() or 0)
    except (FileNotFoundError, ValueError):
        return 0


def mem_dir(pid):
    return cgroup_dir(pid, "memory") if cgroup_v1() else cgroup_dir(pid, "")


def freezer_state(pid):
    if cgroup_v1():
        return (cgroup_dir(pid, "freezer") / "freezer.state").read_text().strip()
    return "FROZEN" if (cgroup_dir(pid, "") / "cgroup.freeze").read_text().strip() == "1" \
        else "THAWED"


def test_top_lists_host_pids(bd, cli):
    pid = run_d(bd, "topper")
    try:
        out = docker(bd, "top", "topper").stdout.splitlines()
        assert out[0].split() == ["UID", "PID", "PPID", "C", "STIME", "TTY", "TIME", "CMD"]
        pids = {int(line.split()[1]) for line in out[1:]}
        assert pid in pids
        # every pid is a host pid in the container's cgroup; the counter's sleeps come and go
        procs = set(int(p) for p in
                    (mem_dir(pid) / "cgroup.procs").read_text().split())
        assert pids <= procs | {p for p in pids if not Path(f"/proc/{p}").exists()}
        st, j = api(bd, "GET", "/containers/topper/top?ps_args=-o%20pid,comm")
        assert st == 200 and j["Titles"] == ["PID", "COMMAND"]
        assert [str(pid), "sh"] in j["Processes"]
        p = cli.run("top", "topper")
        assert p.returncode == 0, p.stderr
        assert p.stdout.splitlines()[0].split()[:2] == ["UID", "PID"] and f" {pid} " in p.stdout
        st, j = api(bd, "GET", "/containers/topper/top?ps_args=-o%20user=PID")
        assert st == 500 and j["message"] == 'specifying "user=PID" is not allowed'
    finally:
        docker(bd, "rm", "-f", "topper")
    docker(bd, "create", "--name", "topstop", "busybox", "true")
    p = docker(bd, "top", "topstop", check=False)
    assert p.returncode == 1 and "is not running" in p.stderr
    st, j = api(bd, "GET", "/containers/topstop/top")
    assert st == 409
    docker(bd, "rm", "topstop")


def test_stats_agree_with_cgroup(bd, cli):
    pid = run_d(bd, "busy", "-m", "64m", cmd=["sh", "-c", "while :; do :; done"])
    try:
        st, a = api(bd, "GET", "/containers/busy/stats?stream=false&one-shot=true")
        assert st == 200 and a["id"] == inspect(bd, "busy")["Id"] and a["name"] == "/busy"
        d = mem_dir(pid)
        usage = int((d / ("memory.usage_in_bytes" if cgroup_v1() else "memory.current"))
                    .read_text())
        assert abs(a["memory_stats"]["usage"] - usage) <= usage * 0.01 + 64 * 1024
        assert a["memory_stats"]["limit"] == 64 << 20
        assert a["pids_stats"]["current"] >= 1
        time.sleep(0.3)
        st, b = api(bd, "GET", "/containers/busy/stats?stream=false")
        # two samples a second apart: precpu filled, a busy loop's usage rising
        assert b["precpu_stats"]["cpu_usage"]["total_usage"] > 0
        assert b["cpu_stats"]["cpu_usage"]["total_usage"] > \
            b["precpu_stats"]["cpu_usage"]["total_usage"] > \
            a["cpu_stats"]["cpu_usage"]["total_usage"]
        assert b["cpu_stats"]["system_cpu_usage"] > b["precpu_stats"]["system_cpu_usage"]
        assert b["cpu_stats"]["online_cpus"] == os.cpu_count()
        if cgroup_v1():
            assert "total_inactive_file" in b["memory_stats"]["stats"]
            assert len(b["cpu_stats"]["cpu_usage"]["percpu_usage"]) >= 1
        # docker's own table from our numbers
        out = docker(bd, "stats", "--no-stream", "--format",
                     "{{.Name}} {{.CPUPerc}} {{.MemUsage}} {{.PIDs}}", "busy").stdout.split()
        assert out[0] == "busy" and float(out[1].rstrip("%")) > 20
        assert out[4] == "64MiB"
        p = cli.run("stats", "--no-stream", "--format", "{{.Name}} {{.CPUPerc}} {{.MemPerc}}",
                    "busy")
        assert p.returncode == 0, p.stderr
        name, cpu, memp = p.stdout.split()
        assert name == "busy" and float(cpu.rstrip("%")) > 20 and memp.endswith("%")
    finally:
        docker(bd, "rm", "-f", "busy")
    # a stopped container: zeros, as docker
    docker(bd, "create", "--name", "still", "busybox", "true")
    st, j = api(bd, "GET", "/containers/still/stats?stream=false")
    assert st == 200 and j["read"] == "0001-01-01T00:00:00Z" and j["memory_stats"] == {}
    assert j["cpu_stats"]["cpu_usage"]["total_usage"] == 0
    docker(bd, "rm", "still")
    assert api(bd, "GET", "/containers/nothere/stats?stream=false")[0] == 404


def test_berth_stats_redraws_on_a_terminal(bd, cli):
    import pexpect
    run_d(bd, "live")
    try:
        child = pexpect.spawn(str(cli.binary), ["stats"], env=cli.env(), encoding="utf-8",
                              timeout=10, dimensions=(24, 120))
        # each second: clear the screen, home, the table
        for _ in range(2):
            child.expect_exact("\x1b[2J\x1b[H")
            child.expect(r"CONTAINER ID +NAME +CPU % +MEM USAGE / LIMIT +MEM % +NET I/O +"
                         r"BLOCK I/O +PIDS\r\n[0-9a-f]{12} +live +[0-9.]+% ")
        child.sendintr()
        child.expect(pexpect.EOF)
    finally:
        docker(bd, "rm", "-f", "live")


def test_stats_stream(bd):
    run_d(bd, "streamer")
    try:
        c = bd.connect(timeout=10)
        c.sendall(b"GET /containers/streamer/stats HTTP/1.1\r\nHost: x\r\n\r\n")
        buf = b""
        t0 = time.time()
        while buf.count(b"\n{") < 2 and time.time() - t0 < 8:
            buf += c.recv(65536)
        c.close()
        assert b"200 OK" in buf and buf.count(b'"precpu_stats"') >= 2
    finally:
        docker(bd, "rm", "-f", "streamer")


def test_pause_freezes_and_unpause_resumes(bd, cli):
    pid = run_d(bd, "pauser")
    try:
        wait_until(lambda: counter(pid) > 0, timeout=5)
        docker(bd, "pause", "pauser")
        assert freezer_state(pid) == "FROZEN"
        i = inspect(bd, "pauser")
        assert i["State"]["Paused"] and i["State"]["Status"] == "paused"
        assert "(Paused)" in docker(bd, "ps", "--format", "{{.Status}}",
                                    "--filter", "name=pauser").stdout
        n = counter(pid)
        time.sleep(0.4)
        assert counter(pid) == n
        # pausing twice: docker's 409 and words
        p = docker(bd, "pause", "pauser", check=False)
        assert p.returncode == 1 and "is already paused" in p.stderr
        assert api(bd, "POST", "/containers/pauser/pause")[0] == 409
        assert cli.run("unpause", "pauser").returncode == 0
        assert freezer_state(pid) == "THAWED"
        wait_until(lambda: counter(pid) > n, timeout=5)
        assert not inspect(bd, "pauser")["State"]["Paused"]
        st, j = api(bd, "POST", "/containers/pauser/unpause")
        assert st == 500 and j["message"] == f"Container {inspect(bd, 'pauser')['Id']} is not paused"
        assert cli.run("pause", "pauser").returncode == 0
        ev = docker(bd, "events", "--since", "0", "--until", str(int(time.time()) + 1),
                    "--filter", "container=pauser", "--format", "{{.Action}}").stdout.split()
        assert ev == ["create", "start", "pause", "unpause", "pause"]
        # pause survives a restart of berthd (the freezer is read back)
        bd.stop()
        bd.start()
        i = inspect(bd, "pauser")
        assert i["State"]["Paused"] and i["State"]["Running"]
        # stop of a paused container works (thawed after the signal)
        docker(bd, "stop", "-t", "1", "pauser")
        i = inspect(bd, "pauser")
        assert not i["State"]["Running"] and not i["State"]["Paused"]
        p = docker(bd, "pause", "pauser", check=False)
        assert p.returncode == 1 and "is not running" in p.stderr
        # after the restart: the stop's kill, then the thaw that lets it land
        ev = docker(bd, "events", "--since", "0", "--until", str(int(time.time()) + 1),
                    "--filter", "container=pauser", "--format", "{{.Action}}").stdout.split()
        assert ev[:2] == ["kill", "unpause"] and "die" in ev
    finally:
        docker(bd, "rm", "-f", "pauser")


def test_update_running_and_persisted(bd, cli):
    pid = run_d(bd, "upd", "-m", "64m")
    try:
        mem = mem_dir(pid)
        limit_file = "memory.limit_in_bytes" if cgroup_v1() else "memory.max"
        p = docker(bd, "update", "--memory", "96m", "--memory-swap", "200m", "--pids-limit",
                   "50", "--cpu-shares", "512", "upd")
        assert p.stdout.strip() == "upd"
        assert int((mem / limit_file).read_text()) == 96 << 20
        pids_dir = cgroup_dir(pid, "pids") if cgroup_v1() else cgroup_dir(pid, "")
        assert (pids_dir / "pids.max").read_text().strip() == "50"
        hc = inspect(bd, "upd")["HostConfig"]
        assert (hc["Memory"], hc["MemorySwap"], hc["PidsLimit"], hc["CpuShares"]) == \
            (96 << 20, 200 << 20, 50, 512)
        p = cli.run("update", "--cpus", "0.5", "--restart", "on-failure:3", "upd")
        assert p.returncode == 0, p.stderr
        cpu = cgroup_dir(pid, "cpu") if cgroup_v1() else cgroup_dir(pid, "")
        if cgroup_v1():
            assert (cpu / "cpu.cfs_quota_us").read_text().strip() == "50000"
        hc = inspect(bd, "upd")["HostConfig"]
        assert hc["NanoCpus"] == 500000000
        assert hc["RestartPolicy"] == {"Name": "on-failure", "MaximumRetryCount": 3}
        # the next start has it
        docker(bd, "restart", "-t", "0", "upd")
        pid = inspect(bd, "upd")["State"]["Pid"]
        assert int((mem_dir(pid) / limit_file).read_text()) == 96 << 20
        # bad input: docker's code and words, nothing changed
        for args, word in [(["--memory", "1m"], "Minimum memory limit allowed is 6MB"),
                           (["--memory", "300m"], "Memory limit should be smaller than already "
                            "set memoryswap limit"),
                           (["--cpu-period", "100"], "CPU cfs period can not be less than 1ms"),
                           (["--cpu-quota", "50000"], "Conflicting options: CPU Quota cannot be "
                            "updated as NanoCPUs has already been set")]:
            p = docker(bd, "update", *args, "upd", check=False)
            assert p.returncode == 1 and word in p.stderr, (args, p.stderr)
        assert int((mem_dir(pid) / limit_file).read_text()) == 96 << 20
        # a weight the host cannot apply is a warning (v1 without CFQ has no blkio.weight)
        for p in (docker(bd, "update", "--blkio-weight", "5", "upd", check=False),
                  cli.run("update", "--blkio-weight", "5", "upd")):
            if cgroup_v1() and not Path("/sys/fs/cgroup/blkio/blkio.weight").exists():
                assert p.returncode == 0 and p.stdout == (
                    "upd\nYour kernel does not support Block I/O weight or the cgroup is not "
                    "mounted. Weight discarded.\n")
                assert inspect(bd, "upd")["HostConfig"]["BlkioWeight"] == 0
            else:
                assert p.returncode == 1 and "Range of blkio weight is from 10 to 1000" in \
                    p.stderr
        st, j = api(bd, "POST", "/containers/upd/update", body=b'{"Memory": "big"}')
        assert st == 400 and j["message"] == ("invalid JSON: json: cannot unmarshal string into "
                                              "Go struct field UpdateConfig.Memory of type int64")
        st, j = api(bd, "POST", "/containers/upd/update", body=b'{"Memory": -5}')
        assert st == 400 and "Minimum memory limit" in j["message"]
        st, j = api(bd, "POST", "/containers/upd/update",
                    body=b'{"Memory": 99999999999999999999}')
        assert st == 400
        st, j = api(bd, "POST", "/containers/upd/update", body=b'{"NanoCpus": -1}')
        assert st == 400 and "range of CPUs" in j["message"]
        assert inspect(bd, "upd")["HostConfig"]["Memory"] == 96 << 20
        ev = docker(bd, "events", "--since", "0", "--until", str(int(time.time()) + 1),
                    "--filter", "container=upd", "--filter", "event=update",
                    "--format", "{{.Action}}").stdout.split()
        assert ev.count("update") >= 2
    finally:
        docker(bd, "rm", "-f", "upd")
    p = docker(bd, "update", "--memory", "96m", "upd", check=False)
    assert p.returncode == 1 and "No such container: upd" in p.stderr
    st, _ = api(bd, "POST", "/containers/upd/update", body=b'{"CpuShares": 512}')
    assert st == 404


def test_cli_errors_as_docker(bd, cli):
    """The berth CLI and the docker CLI say the same, with the same exit code."""
    run_d(bd, "errs", cmd=["sleep", "600"])
    try:
        for args in (["update", "errs"], ["update", "--cpus", "-1", "errs"],
                     ["update", "--restart", "bogus", "errs"],
                     ["update", "--restart", ":3", "errs"],
                     ["update", "--memory", "lots", "errs"],
                     ["update", "--pids-limit", "abc", "errs"],
                     ["unpause", "errs"], ["top", "nothere"],
                     ["stats", "--no-stream", "errs", "nothere"],
                     ["stats", "--no-stream", "--format", "{{.Bogus}}", "errs"]):
            d = docker(bd, *args, check=False)
            b = cli.run(*args)
            assert (b.returncode, b.stdout, b.stderr.replace("berth", "docker")) == \
                (d.returncode, d.stdout, d.stderr), args
    finally:
        docker(bd, "rm", "-f", "errs")


class V2Berthd(Berthd):
    """A berthd that sees a pure cgroup v2 host: on a hybrid host, in a mount namespace where
    /sys/fs/cgroup is the host's cgroup2 mount (scripts/in-cgroup2-ns.sh; only hugetlb is
    delegated there, so memory, pids and io read as absent; the freezer and cpu.stat are real)."""

    def argv(self, hosts=True):
        return [str(SCRIPTS / "in-cgroup2-ns.sh"), *super().argv(hosts)]


@pytest.fixture(scope="module")
def bd2():
    if cgroup2_root() is None:
        pytest.skip("no cgroup2 mount")
    b = V2Berthd()
    try:
        b.start()
        import_busybox(b)
        yield b
        status, _, body = b.http("GET", "/containers/json?all=1")
        for c in json.loads(body) if status == 200 else []:
            b.http("DELETE", f"/containers/{c['Id']}?force=1")
        ids = container_ids_seen(b)
        assert b.stop() == 0, b.log_text()
        assert not b.leftovers() and not cgroups_named(ids)
    finally:
        b.cleanup()


def test_v2_pause_and_stats(bd2):
    """The v2 driver's files: cgroup.freeze, cpu.stat, the v2 memory key set."""
    pid = run_d(bd2, "v2c", cmd=["sh", "-c", "i=0; while :; do i=$((i+1)); echo $i > /tmp/n; "
                                 "done"])
    try:
        assert "cgroup v2" in bd2.log_text()
        cg = cgroup_dir(pid, "")
        wait_until(lambda: counter(pid) > 0, timeout=5)
        docker(bd2, "pause", "v2c")
        assert (cg / "cgroup.freeze").read_text().strip() == "1"
        assert "frozen 1" in (cg / "cgroup.events").read_text()
        n = counter(pid)
        time.sleep(0.3)
        assert counter(pid) == n
        docker(bd2, "unpause", "v2c")
        assert (cg / "cgroup.freeze").read_text().strip() == "0"
        wait_until(lambda: counter(pid) > n, timeout=5)
        st, j = api(bd2, "GET", "/containers/v2c/stats?stream=false")
        assert st == 200
        usage = j["cpu_stats"]["cpu_usage"]
        want = int(dict(line.split() for line in (cg / "cpu.stat").read_text().splitlines())
                   ["usage_usec"]) * 1000
        assert 0 < usage["total_usage"] <= want
        assert usage["total_usage"] > j["precpu_stats"]["cpu_usage"]["total_usage"]
        assert "percpu_usage" not in usage
        assert "inactive_file" in j["memory_stats"]["stats"]
        assert "total_inactive_file" not in j["memory_stats"]["stats"]
        # top reads cgroup.procs of the v2 cgroup
        out = docker(bd2, "top", "v2c").stdout
        assert f" {pid} " in out
    finally:
        docker(bd2, "rm", "-f", "v2c")


@pytest.fixture(scope="module")
def bd_net():
    """A berthd with its default bridge network, in a network namespace of the test's own."""
    name = f"bo{uuid.uuid4().hex[:8]}"
    subprocess.run(["ip", "netns", "add", name], check=True)
    subprocess.run(["ip", "-n", name, "link", "set", "lo", "up"], check=True)
    try:
        yield from shared_berthd(netns=f"/run/netns/{name}", bridge=True)
    finally:
        subprocess.run(["ip", "netns", "del", name], check=False)


def net_dev(pid):
    rows = {}
    for line in Path(f"/proc/{pid}/net/dev").read_text().splitlines()[2:]:
        name, rest = line.split(":", 1)
        v = [int(x) for x in rest.split()]
        rows[name.strip()] = {"rx_bytes": v[0], "rx_packets": v[1], "tx_bytes": v[8],
                              "tx_packets": v[9]}
    return rows


def test_stats_networks(bd_net):
    """networks: the container's interfaces but lo, as its namespace counts them."""
    pid = run_d(bd_net, "netter", cmd=["sh", "-c", "ping -c 3 -i 0.2 10.210.0.1; sleep 600"])
    try:
        wait_until(lambda: net_dev(pid)["eth0"]["rx_packets"] >= 3, timeout=10)
        st, j = api(bd_net, "GET", "/containers/netter/stats?stream=false&one-shot=true")
        assert st == 200 and list(j["networks"]) == ["eth0"]
        want = net_dev(pid)["eth0"]
        got = j["networks"]["eth0"]
        assert {k: got[k] for k in want} == want
        assert got["tx_packets"] >= 3 and set(got) == {
            "rx_bytes", "rx_packets", "rx_errors", "rx_dropped", "tx_bytes", "tx_packets",
            "tx_errors", "tx_dropped"}
        out = docker(bd_net, "stats", "--no-stream", "--format", "{{.NetIO}}", "netter").stdout
        assert out.strip() != "0B / 0B" and "B / " in out
    finally:
        docker(bd_net, "rm", "-f", "netter")
