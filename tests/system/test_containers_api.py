"""berthd's containers through python3-docker 5.0 and raw HTTP: the SDK's run/list/get/logs/
wait/stop/remove, the create options mapped through lib/dockerspec (checked inside the container
and from the host's cgroup files), docker's default confinement seen from inside a default
container, and bad input (Docker's status codes and words, never a 500, berthd still serving).
"""

import json
import os
import signal
import time
from pathlib import Path

import pytest

from berth import cgroup_dir, cgroup_v1, wait_signal_handled, wait_until
from daemon import import_busybox, make_berthd, needs_berthd  # noqa: F401

pytestmark = needs_berthd

# docker's default capability set: CHOWN DAC_OVERRIDE FOWNER FSETID KILL SETGID SETUID SETPCAP
# NET_BIND_SERVICE NET_RAW SYS_CHROOT MKNOD AUDIT_WRITE SETFCAP
DOCKER_DEFAULT_CAPS = 0xa80425fb


@pytest.fixture(scope="module")
def client(bd):
    c = bd.client(version="1.41")
    yield c
    c.close()


def run(client, cmd, **kw):
    """Output of a container run to its end (and removed), as bytes."""
    return client.containers.run("busybox", cmd, remove=True, **kw)


def host_pid(bd, cid):
    return json.loads(bd.http("GET", f"/containers/{cid}/json")[2])["State"]["Pid"]


# ---------------------------------------------------------------------------------------------
# the SDK


def test_sdk_run_remove(client, bd):
    assert client.containers.run("busybox", "echo hi", remove=True) == b"hi\n"
    assert client.containers.list(all=True) == []


def test_sdk_list_get_logs_wait_stop_remove(client):
    c = client.containers.run("busybox", ["sh", "-c", "echo started; exec sleep 60"],
                              detach=True, name="sdk1", labels={"k": "v"})
    try:
        assert wait_until(lambda: c.logs() == b"started\n", 5)
        assert [x.name for x in client.containers.list(filters={"label": "k=v"})] == ["sdk1"]
        got = client.containers.get("sdk1")
        assert got.id == c.id and got.status == "running" and got.labels == {"k": "v"}
        c.stop(timeout=1)
        assert c.wait(timeout=10)["StatusCode"] == 137
        c.reload()
        assert c.status == "exited"
        assert c.attrs["State"]["FinishedAt"] > c.attrs["State"]["StartedAt"]
    finally:
        c.remove(force=True)
    with pytest.raises(Exception) as e:
        client.containers.get("sdk1")
    assert "404" in str(e.value) or "No such container" in str(e.value)


# ---------------------------------------------------------------------------------------------
# options


def test_env_workdir_user_hostname(client):
    out = run(client, ["sh", "-c", "echo $FOO; pwd; id; hostname; echo $HOME"],
              environment={"FOO": "bar baz"}, working_dir="/tmp", user="nobody",
              hostname="boxy")
    assert out.decode().splitlines() == [
        "bar baz", "/tmp", "uid=65534(nobody) gid=65534(nogroup) groups=65534(nogroup)",
        "boxy", "/nonexistent"]
    assert run(client, "id -u", user="1234:5678") == b"1234\n"


def test_init_reaps_and_passes_the_exit_code(client):
    out = run(client, ["sh", "-c", "cat /proc/1/cmdline | tr '\\0' ' '; echo; exit 0"],
              init=True)
    assert out == b"/sbin/docker-init -- sh -c cat /proc/1/cmdline | tr '\\0' ' '; echo; " \
                  b"exit 0 \n"
    c = client.containers.run("busybox", ["sh", "-c", "exit 5"], init=True, detach=True)
    try:
        assert c.wait(timeout=10)["StatusCode"] == 5
    finally:
        c.remove()


def test_limits_from_the_host(client, bd):
    c = client.containers.run("busybox", "sleep 60", detach=True, mem_limit="64m",
                              memswap_limit="96m", nano_cpus=500_000_000, cpu_shares=512,
                              pids_limit=40, cpuset_cpus="0")
    try:
        pid = host_pid(bd, c.id)
        if cgroup_v1():
            def cg(ctrl, name):
                return (cgroup_dir(pid, ctrl) / name).read_text().strip()
            assert cg("memory", "memory.limit_in_bytes") == str(64 << 20)
            if (cgroup_dir(pid, "memory") / "memory.memsw.limit_in_bytes").exists():
                assert cg("memory", "memory.memsw.limit_in_bytes") == str(96 << 20)
            assert (cg("cpu", "cpu.cfs_quota_us"), cg("cpu", "cpu.cfs_period_us")) == \
                ("50000", "100000")
            assert cg("cpu", "cpu.shares") == "512"
            assert cg("pids", "pids.max") == "40"
            assert cg("cpuset", "cpuset.cpus") == "0"
            assert c.id in str(cgroup_dir(pid, "memory"))
        else:
            # a pure v2 host (the QEMU guest): the unified files, as runc converts docker's
            def cg(name):
                return (cgroup_dir(pid, "") / name).read_text().strip()
            assert c.id in str(cgroup_dir(pid, ""))
            assert cg("memory.max") == str(64 << 20)
            assert cg("memory.swap.max") == str(32 << 20)  # v2's swap is the swap alone
            assert cg("cpu.max") == "50000 100000"
            assert cg("cpu.weight") == str(1 + ((512 - 2) * 9999) // 262142)
            assert cg("pids.max") == "40"
            assert cg("cpuset.cpus") == "0"
    finally:
        c.remove(force=True)


def test_oom_killed(client, bd):
    since = int(time.time()) - 1
    c = client.containers.run("busybox", "dd if=/dev/zero of=/dev/null bs=64M count=1",
                              detach=True, mem_limit="32m", memswap_limit="32m")
    try:
        assert c.wait(timeout=20)["StatusCode"] == 137
        c.reload()
        assert c.attrs["State"]["OOMKilled"] is True
        evs = [json.loads(x) for x in bd.http("GET", "/events?since=%d&until=%d&filters=%s" % (
            since, int(time.time()) + 1, '{"event":["oom"]}'))[2].splitlines() if x.strip()]
        assert [e["Actor"]["ID"] for e in evs] == [c.id]
    finally:
        c.remove(force=True)


def test_read_only_tmpfs_shm(client):
    out = run(client, ["sh", "-c",
                       "touch /x 2>&1; touch /scratch/y && echo tmpfs-ok; "
                       "grep -E ' /dev/shm | /scratch ' /proc/mounts"],
              read_only=True, tmpfs={"/scratch": "size=1m"}, shm_size="8m")
    lines = out.decode().splitlines()
    assert "Read-only file system" in lines[0]
    assert lines[1] == "tmpfs-ok"
    shm = next(x for x in lines if " /dev/shm " in x)
    scratch = next(x for x in lines if " /scratch " in x)
    assert "size=8192k" in shm and "size=1024k" in scratch


def test_network_modes(client):
    lo = run(client, "ip -o link show lo").decode()
    assert "UP" in lo.split("<")[1].split(">")[0]
    links = run(client, "ls /sys/class/net", network_mode="none").decode().split()
    assert links == ["lo"]
    host_links = set(os.listdir("/sys/class/net"))
    out = run(client, "ls /sys/class/net", network_mode="host").decode().split()
    assert set(out) == host_links


def test_restart_policy_on_failure(client, bd):
    c = client.containers.run("busybox", ["sh", "-c", "exit 3"], detach=True,
                              restart_policy={"Name": "on-failure", "MaximumRetryCount": 2})
    try:
        # docker's backoff: 100 ms, 200 ms, then it gives up
        assert wait_until(lambda: (c.reload() or True) and c.attrs["RestartCount"] == 2 and
                          c.status == "exited", 15)
        assert c.attrs["State"]["ExitCode"] == 3
    finally:
        c.remove(force=True)


def test_restart_always_survives_kill_of_its_process(client, bd):
    c = client.containers.run("busybox", "sleep 60", detach=True,
                              restart_policy={"Name": "always"})
    try:
        pid = host_pid(bd, c.id)
        os.kill(pid, 9)
        assert wait_until(lambda: host_pid(bd, c.id) not in (0, pid), 10)
        c.reload()
        assert c.status == "running" and c.attrs["RestartCount"] == 1
        c.stop(timeout=1)  # a stop the user asked for is not restarted
        time.sleep(0.5)
        c.reload()
        assert c.status == "exited"
    finally:
        c.remove(force=True)


def test_stop_signal_and_timeout(client, bd):
    c = client.containers.run("busybox", ["sh", "-c",
                                          "trap 'echo usr1; exit 9' USR1; "
                                          "while :; do sleep 0.05; done"],
                              detach=True, stop_signal="SIGUSR1")
    try:
        c.reload()
        assert wait_signal_handled(c.attrs["State"]["Pid"], signal.SIGUSR1)
        c.stop(timeout=5)
        assert c.wait(timeout=10)["StatusCode"] == 9
        assert c.logs() == b"usr1\n"
    finally:
        c.remove(force=True)


# ---------------------------------------------------------------------------------------------
# confinement from inside a default container


def test_default_confinement(client):
    script = (
        "grep -E '^Cap(Eff|Prm|Bnd):|^NoNewPrivs|^Seccomp:' /proc/self/status; "
        "echo kcore=$(head -c 16 /proc/kcore | wc -c); "
        "echo keys=$(cat /proc/keys 2>/dev/null | wc -c) "
        "timer=$(cat /proc/timer_list 2>/dev/null | wc -c); "
        "echo firmware=$(ls /sys/firmware | wc -l); "
        "echo 1 > /proc/sys/kernel/domainname 2>/dev/null && echo procsys=rw || "
        "echo procsys=ro; "
        "mount -t tmpfs none /mnt 2>/dev/null && echo mount=ok || echo mount=refused; "
        "mknod /tmp/sda b 8 0 && (head -c1 /tmp/sda >/dev/null 2>&1 && echo dev=open || "
        "echo dev=refused); "
        "swapoff /no/such 2>&1; true")
    out = run(client, ["sh", "-c", script]).decode().splitlines()
    kv = dict(x.split(":", 1) for x in out if ":" in x and x[0].isupper() and "\t" in x)
    for k in ("CapEff", "CapPrm", "CapBnd"):
        assert int(kv[k].strip(), 16) == DOCKER_DEFAULT_CAPS, (k, out)
    assert kv["Seccomp"].strip() == "2"
    assert "kcore=0" in out and "keys=0 timer=0" in out and "firmware=0" in out
    assert "procsys=ro" in out and "mount=refused" in out and "dev=refused" in out
    # swapoff is in no rule of docker's profile: EPERM from seccomp (without it: the path's
    # ENOENT once CAP_SYS_ADMIN is there, see below)
    assert any("Operation not permitted" in x for x in out if "swapoff" in x), out
    out = run(client, ["sh", "-c", "swapoff /no/such 2>&1; true"], cap_add=["SYS_ADMIN"])
    assert b"Operation not permitted" in out
    out = run(client, ["sh", "-c", "swapoff /no/such 2>&1; true"], cap_add=["SYS_ADMIN"],
              security_opt=["seccomp=unconfined"])
    assert b"No such file or directory" in out


def test_seccomp_programs_cached_by_profile(client, bd):
    """Each profile's compiled program is kept once under the exec root and reused: the second
    container of a profile runs with the same filter (a denied syscall still fails), a different
    profile gets a file of its own and its own rules, and a cached file that no longer holds
    its profile is never used."""
    cache = bd.exec_root / "seccomp"
    swapoff = ["sh", "-c", "swapoff /no/such 2>&1; mkdir /tmp/d 2>&1; true"]
    run(client, swapoff)
    files = sorted(cache.glob("*.bpf"))
    assert len(files) >= 1
    default_files = set(files)
    out = run(client, swapoff)
    assert b"swapoff: /no/such: Operation not permitted" in out, out
    assert b"Permission denied" not in out, out
    assert set(cache.glob("*.bpf")) == default_files
    # a profile of its own: docker's format, mkdir and mkdirat refused with EACCES
    profile = json.dumps({"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [
        {"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO", "errnoRet": 13}]})
    out = run(client, swapoff, security_opt=[f"seccomp={profile}"])
    assert b"mkdir: can't create directory '/tmp/d': Permission denied" in out, out
    mine = set(cache.glob("*.bpf")) - default_files
    assert len(mine) == 1
    out = run(client, swapoff, security_opt=[f"seccomp={profile}"])
    assert b"Permission denied" in out, out
    # another profile's text under this profile's name: a miss, compiled again, still enforced
    (f,) = mine
    other = next(iter(default_files)).read_bytes()
    f.write_bytes(other)
    out = run(client, swapoff, security_opt=[f"seccomp={profile}"])
    assert b"mkdir: can't create directory '/tmp/d': Permission denied" in out, out
    assert f.read_bytes() != other
    # and a file that holds the profile is what the shim loads: this profile's text over an
    # allow-all program lets mkdir through
    allow = json.dumps({"defaultAction": "SCMP_ACT_ALLOW"})
    before = set(cache.glob("*.bpf"))
    run(client, swapoff, security_opt=[f"seccomp={allow}"])
    (allow_file,) = set(cache.glob("*.bpf")) - before
    key = f.read_bytes().split(b"\0", 1)[0]
    f.write_bytes(key + b"\0" + allow_file.read_bytes().split(b"\0", 1)[1])
    out = run(client, swapoff, security_opt=[f"seccomp={profile}"])
    assert b"Permission denied" not in out, out
    f.unlink()
    assert all((p.stat().st_mode & 0o777) == 0o600 for p in cache.glob("*.bpf"))
    assert (cache.stat().st_mode & 0o777) == 0o700


# ---------------------------------------------------------------------------------------------
# bad input


def post_json(bd, path, obj):
    body = obj if isinstance(obj, (bytes, str)) else json.dumps(obj)
    return bd.http("POST", path, body=body, headers={"Content-Type": "application/json"})


def message(body):
    return json.loads(body)["message"]


@pytest.mark.parametrize("body,status,words", [
    (b"{not json", 400, "invalid"),
    (b"[]", 400, "cannot unmarshal array"),
    ({"Image": "busybox", "Cmd": 5}, 400, "Cmd"),
    ({"Image": "busybox", "Env": "A=1"}, 400, "Env"),
    ({"Image": "busybox", "HostConfig": {"Memory": "lots"}}, 400, "Memory"),
    ({"Image": "busybox", "HostConfig": {"RestartPolicy": {"Name": "sometimes"}}}, 400,
     "restart policy"),
    ({"Image": "busybox", "HostConfig": {"Memory": 1024}}, 400, "Minimum memory limit"),
    ({"Image": "busybox", "HostConfig": {"CpusetCpus": "99"}}, 400, "requested cpus"),
    ({"Image": "no-such-image:1"}, 404, "No such image"),
    ({"Image": "Bad//Ref"}, 400, "invalid reference format"),
])
def test_create_bad_bodies(bd, body, status, words):
    before = sorted(os.listdir(bd.data_root / "containers"))
    st, _, out = post_json(bd, "/containers/create", body)
    assert st == status, out
    assert words.lower() in message(out).lower(), out
    assert sorted(os.listdir(bd.data_root / "containers")) == before


def test_create_bad_names_and_conflict(bd):
    body = {"Image": "busybox", "Cmd": ["true"]}
    st, _, out = post_json(bd, "/containers/create?name=bad%20name", body)
    assert st == 400 and "Invalid container name" in message(out)
    st, _, out = post_json(bd, "/containers/create?name=twin", body)
    assert st == 201
    cid = json.loads(out)["Id"]
    st, _, out = post_json(bd, "/containers/create?name=twin", body)
    assert st == 409 and f'is already in use by container "{cid}"' in message(out)
    assert bd.http("DELETE", f"/containers/{cid}")[0] == 204


def test_unknown_ids_and_bad_query_values(bd):
    for method, path in [("GET", "/containers/nope/json"), ("POST", "/containers/nope/start"),
                         ("POST", "/containers/nope/stop"), ("POST", "/containers/nope/kill"),
                         ("POST", "/containers/nope/wait"), ("DELETE", "/containers/nope"),
                         ("POST", "/containers/nope/rename?name=x"),
                         ("GET", "/containers/nope/logs?stdout=1")]:
        st, _, out = bd.http(method, path)
        assert st == 404 and message(out).endswith("No such container: nope"), (path, out)
    st, _, out = post_json(bd, "/containers/create?name=q1", {"Image": "busybox",
                                                              "Cmd": ["sleep", "30"]})
    assert st == 201
    try:
        assert bd.http("POST", "/containers/q1/start")[0] == 204
        assert bd.http("POST", "/containers/q1/start")[0] == 304
        for path in ["/containers/q1/stop?t=soon", "/containers/q1/kill?signal=NOPE",
                     "/containers/q1/wait?condition=whenever", "/containers/q1/rename",
                     "/containers/json?filters=%7Bbad", "/containers/json?limit=x",
                     "/containers/json?filters=%7B%22colour%22%3A%5B%22x%22%5D%7D"]:
            method = "GET" if "/json" in path else "POST"
            st, _, out = bd.http(method, path)
            assert st == 400, (path, st, out)
            assert message(out), path
        st, _, out = bd.http("DELETE", "/containers/q1")
        assert st == 409 and "container is running" in message(out)
        st, _, out = bd.http("GET", "/containers/q1/logs")
        assert st == 400 and "at least one" in message(out).lower()
    finally:
        assert bd.http("DELETE", "/containers/q1?force=1")[0] == 204
    assert bd.http("GET", "/_ping")[0] == 200


def test_big_body_refused(bd):
    big = b'{"Image":"busybox","Env":["' + b"A" * (16 << 20) + b'"]}'
    try:
        st, _, out = bd.http("POST", "/containers/create", body=big,
                             headers={"Content-Type": "application/json"})
        assert st in (400, 413)
    except (ConnectionResetError, BrokenPipeError):
        pass  # it may close the connection before reading it all
    assert bd.http("GET", "/_ping")[0] == 200
    assert json.loads(bd.http("GET", "/containers/json?all=1")[2]) == []


# ---------------------------------------------------------------------------------------------
# images in use, df, info


def test_image_in_use_df_info(bd, client):
    st, _, out = post_json(bd, "/containers/create?name=user1",
                           {"Image": "busybox", "Cmd": ["sleep", "30"]})
    assert st == 201
    cid = json.loads(out)["Id"]
    try:
        img = json.loads(bd.http("GET", "/images/busybox/json")[2])["Id"]
        st, _, out = bd.http("DELETE", "/images/busybox")
        assert st == 409 and f"container {cid[:12]} is using its referenced image" in \
            message(out)
        assert bd.http("POST", "/containers/user1/start")[0] == 204
        st, _, out = bd.http("DELETE", f"/images/{img}?force=1")
        assert st == 409 and "being used by running container" in message(out)
        info = json.loads(bd.http("GET", "/info")[2])
        assert (info["Containers"], info["ContainersRunning"], info["ContainersStopped"]) == \
            (1, 1, 0)
        df = json.loads(bd.http("GET", "/system/df")[2])
        assert [c["Id"] for c in df["Containers"]] == [cid]
        assert df["Containers"][0]["State"] == "running"
        assert next(i for i in df["Images"] if i["Id"] == img)["Containers"] == 1
        # a stopped container's image goes with force, as on docker; its layers stay for it
        assert bd.http("POST", "/containers/user1/kill")[0] == 204
        assert bd.http("POST", "/containers/user1/wait")[0] == 200
        st, _, out = bd.http("DELETE", f"/images/{img}?force=1")
        assert st == 200 and bd.http("GET", "/images/busybox/json")[0] == 404
        assert bd.http("POST", "/containers/user1/start")[0] == 204
        assert json.loads(bd.http("GET", "/containers/user1/json")[2])["State"]["Running"]
    finally:
        assert bd.http("DELETE", "/containers/user1?force=1")[0] == 204
        if bd.http("GET", "/images/busybox/json")[0] == 404:
            import_busybox(bd)


def test_daemon_default_ulimits(make_berthd):
    b = make_berthd(config={"default-ulimits": {
        "nofile": {"Name": "nofile", "Hard": 2048, "Soft": 1000}}})
    import_busybox(b)
    out = b.docker("run", "--rm", "busybox", "sh", "-c", "ulimit -n; ulimit -Hn").stdout
    assert out == "1000\n2048\n"
    out = b.docker("run", "--rm", "--ulimit", "nofile=300:400", "busybox", "sh", "-c",
                   "ulimit -n; ulimit -Hn").stdout
    assert out == "300\n400\n"
