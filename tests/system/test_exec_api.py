"""berthd's exec instances, attach and terminals, and healthchecks: the Engine API (python3-docker
and raw requests), berth's `exec`/`attach` and the docker CLI 28 on the same berthd, driven
under real ptys (pexpect).  Effects are checked on the host: the exec'd process's namespaces,
cgroup, capabilities and seccomp mode against the container's init, what it wrote, the exit
code; errors against dockerd's status codes and words.
"""

import json
import os
import re
import time
from pathlib import Path

import pexpect
import pytest

from cli import DOCKER28, BerthCLI, need_docker28
from daemon import berthd_binary, shared_berthd

pytestmark = [
    pytest.mark.skipif(not os.access(berthd_binary(), os.X_OK), reason="berthd not built"),
]


@pytest.fixture(scope="module")
def bd():
    yield from shared_berthd()


@pytest.fixture(scope="module")
def cli(bd):
    c = BerthCLI(bd)
    yield c
    c.close()


@pytest.fixture(scope="module")
def api_client(bd):
    return bd.api_client()


def api(bd, method, path, body=None):
    if body is not None:
        body = json.dumps(body)
    status, _, data = bd.http(method, path, body=body, timeout=60,
                              headers={"Content-Type": "application/json"} if body else None)
    return status, (json.loads(data) if data and data[:1] in (b"[", b"{") else data)


def msg(j):
    return j["message"] if isinstance(j, dict) else j


def wait_for(pred, timeout=10):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if pred():
            return True
        time.sleep(0.05)
    return pred()


@pytest.fixture(scope="module")
def box(bd, cli):
    """A running container (busybox sleeping) shared by the tests that only exec into it."""
    p = cli.run("run", "-d", "--name", "xbox", "busybox", "sleep", "1000")
    assert p.returncode == 0, p.stderr
    cid = p.stdout.strip()
    yield cid
    api(bd, "DELETE", f"/containers/{cid}?force=1")


def status_fields(pid):
    out = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        k, _, v = line.partition(":")
        out[k] = v.strip()
    return out


# ---- the API -------------------------------------------------------------------------------------


def test_exec_streams_apart_and_exit_code(api_client, box):
    x = api_client.exec_create(box, ["sh", "-c", "echo out; echo err >&2; exit 3"])
    out, err = api_client.exec_start(x["Id"], demux=True)
    assert (out, err) == (b"out\n", b"err\n")
    ins = api_client.exec_inspect(x["Id"])
    assert (ins["ExitCode"], ins["Running"], ins["ContainerID"]) == (3, False, box)
    assert ins["ProcessConfig"] == {"arguments": ["-c", "echo out; echo err >&2; exit 3"],
                                    "entrypoint": "sh", "privileged": False, "tty": False}
    # env, user, working dir of the exec
    x = api_client.exec_create(box, ["sh", "-c", "echo $A $HOSTNAME; id -u; pwd"],
                               environment=["A=1"], user="65534", workdir="/tmp")
    out = api_client.exec_start(x["Id"]).decode()
    hostname = api_client.inspect_container(box)["Config"]["Hostname"]
    assert out == f"1 {hostname}\n65534\n/tmp\n"


def test_exec_joins_the_container(bd, api_client, box):
    """The exec'd process: every namespace and the cgroup of the init, its capabilities,
    seccomp filter and no_new_privs; --privileged: every capability."""
    init = api_client.inspect_container(box)["State"]["Pid"]
    pids = []
    for priv in (False, True):
        x = api_client.exec_create(box, ["sleep", "100"], privileged=priv)
        api_client.exec_start(x["Id"], detach=True)
        assert wait_for(lambda: api_client.exec_inspect(x["Id"])["Pid"] > 0)
        ins = api_client.exec_inspect(x["Id"])
        assert ins["Running"] is True and ins["ExitCode"] is None
        pids.append(ins["Pid"])
    plain, priv = pids
    for ns in ("mnt", "pid", "net", "ipc", "uts", "cgroup", "user"):
        assert os.readlink(f"/proc/{plain}/ns/{ns}") == os.readlink(f"/proc/{init}/ns/{ns}"), ns
    assert Path(f"/proc/{plain}/cgroup").read_text() == Path(f"/proc/{init}/cgroup").read_text()
    a, b, p = status_fields(plain), status_fields(init), status_fields(priv)
    for k in ("CapEff", "CapBnd", "CapPrm", "Seccomp", "NoNewPrivs"):
        assert a[k] == b[k], k
    assert a["Seccomp"] == "2"
    host_bnd = status_fields(os.getpid())["CapBnd"]
    assert p["CapEff"] == p["CapBnd"] == host_bnd != a["CapEff"]
    assert p["Seccomp"] == "2"  # --privileged gives caps, the container's filter stays


def test_exec_errors(bd, api_client, box):
    st, j = api(bd, "POST", "/containers/nope/exec", {"Cmd": ["true"]})
    assert (st, msg(j)) == (404, "No such container: nope")
    st, j = api(bd, "POST", f"/containers/{box}/exec", {"Cmd": []})
    assert (st, msg(j)) == (400, "No exec command specified")
    for path in ("/exec/nope/json", "/exec/nope/resize?h=1&w=1"):
        st, j = api(bd, "GET" if path.endswith("json") else "POST", path)
        assert (st, msg(j)) == (404, "No such exec instance: nope")
    st, j = api(bd, "POST", "/exec/nope/start", {"Detach": True})
    assert (st, msg(j)) == (404, "No such exec instance: nope")
    st, j = api(bd, "POST", f"/containers/{box}/exec", {"Cmd": ["true"], "User": "nobody2"})
    assert (st, msg(j)) == (400, "unable to find user nobody2: no matching entries in passwd file")
    # a started exec cannot start again
    x = api_client.exec_create(box, ["true"])
    api_client.exec_start(x["Id"])
    st, j = api(bd, "POST", f"/exec/{x['Id']}/start", {"Detach": True})
    assert (st, msg(j)) == (409, f"exec command {x['Id']} has already run")
    # a missing program: 127, with the runtime's words in the stream
    x = api_client.exec_create(box, ["/no/such"])
    out = api_client.exec_start(x["Id"])
    assert b"OCI runtime exec failed" in out and b"/no/such" in out
    assert api_client.exec_inspect(x["Id"])["ExitCode"] == 127


def test_exec_stopped_paused_and_resize_words(bd, api_client, cli):
    p = cli.run("run", "-d", "--name", "xstop", "busybox", "sleep", "1000")
    cid = p.stdout.strip()
    try:
        x = api_client.exec_create(cid, ["true"])
        # resize: dockerd 28's Uint32Value words; 0 and 100000 are numbers it takes
        for q, want in (("h=-1&w=10", 'invalid resize height "-1": value out of range'),
                        ("h=abc&w=10", 'invalid resize height "abc": invalid syntax'),
                        ("h=10&w=99999999999", 'invalid resize width "99999999999": value out '
                                               'of range'),
                        ("w=10", 'invalid resize height "": invalid syntax')):
            for base in (f"/containers/{cid}", f"/exec/{x['Id']}"):
                st, j = api(bd, "POST", f"{base}/resize?{q}")
                assert (st, msg(j)) == (400, want), base
        for q in ("h=0&w=0", "h=100000&w=100000"):
            assert api(bd, "POST", f"/containers/{cid}/resize?{q}")[0] == 200
        # paused (the freezer written directly: berthd must see it)
        init = api_client.inspect_container(cid)["State"]["Pid"]
        line = [ln for ln in Path(f"/proc/{init}/cgroup").read_text().splitlines()
                if ":freezer:" in ln]
        if line:
            state = Path("/sys/fs/cgroup/freezer" + line[0].split(":", 2)[2]) / "freezer.state"
            frozen, thawed = "FROZEN", "THAWED"
        else:
            path = Path("/sys/fs/cgroup" + Path(f"/proc/{init}/cgroup").read_text()
                        .split("::", 1)[1].strip())
            state, frozen, thawed = path / "cgroup.freeze", "1", "0"
        st_p, _ = api(bd, "POST", f"/containers/{cid}/pause")
        if st_p != 204:
            state.write_text(frozen)
        try:
            st, j = api(bd, "POST", "/containers/xstop/exec", {"Cmd": ["true"]})
            assert (st, msg(j)) == (409, "Container xstop is paused, unpause the container "
                                         "before exec")
        finally:
            if st_p == 204:
                api(bd, "POST", f"/containers/{cid}/unpause")
            else:
                state.write_text(thawed)
        # stopped: the exec instances of the container are gone, as dockerd forgets them
        assert api(bd, "POST", f"/containers/{cid}/stop?t=0")[0] == 204
        st, j = api(bd, "POST", f"/containers/{cid}/exec", {"Cmd": ["true"]})
        assert (st, msg(j)) == (409, f"container {cid} is not running")
        st, j = api(bd, "GET", f"/exec/{x['Id']}/json")
        assert (st, msg(j)) == (404, f"No such exec instance: {x['Id']}")
        st, j = api(bd, "POST", "/containers/nope/attach?stream=1&stdout=1")
        assert (st, msg(j)) == (404, "No such container: nope")
    finally:
        api(bd, "DELETE", f"/containers/{cid}?force=1")


def test_exec_events(bd, api_client, box):
    since = time.time() - 1
    x = api_client.exec_create(box, ["sh", "-c", "exit 4"])
    api_client.exec_start(x["Id"])
    until = time.time() + 1
    from urllib.parse import quote
    st, _, body = bd.http("GET", f"/events?since={since}&until={until}&filters=" +
                          quote(json.dumps({"container": [box]})))
    evs = [json.loads(ln) for ln in body.splitlines() if ln.strip()]
    mine = [(e["Action"], e["Actor"]["Attributes"].get("exitCode")) for e in evs
            if e["Actor"]["Attributes"].get("execID") == x["Id"]]
    assert mine == [("exec_create: sh -c exit 4", None), ("exec_start: sh -c exit 4", None),
                    ("exec_die", "4")]
