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

from berth import wait_until
from cli import DOCKER28, need_docker28
from daemon import needs_berthd

pytestmark = [needs_berthd]


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
        assert wait_until(lambda: api_client.exec_inspect(x["Id"])["Pid"] > 0, timeout=10)
        ins = api_client.exec_inspect(x["Id"])
        assert ins["Running"] is True and ins["ExitCode"] is None
        pids.append(ins["Pid"])
    plain, priv = pids
    for ns in ("mnt", "pid", "net", "ipc", "uts", "cgroup", "user"):
        assert os.readlink(f"/proc/{plain}/ns/{ns}") == os.readlink(f"/proc/{init}/ns/{ns}"), ns
    assert Path(f"/proc/{plain}/cgroup").read_text() == Path(f"/proc/{init}/cgroup").read_text()
    # nothing of the shim's (its cgroup.procs files, the namespaces it opened) came along
    for pid in (plain, priv):
        assert sorted(os.listdir(f"/proc/{pid}/fd")) == ["0", "1", "2"], os.listdir(
            f"/proc/{pid}/fd")
    a, b, p = status_fields(plain), status_fields(init), status_fields(priv)
    for k in ("CapEff", "CapBnd", "CapPrm", "Seccomp", "NoNewPrivs"):
        assert a[k] == b[k], k
    assert a["Seccomp"] == "2"
    host_bnd = status_fields(os.getpid())["CapBnd"]
    assert p["CapEff"] == p["CapBnd"] == host_bnd != a["CapEff"]
    assert p["Seccomp"] == "2"  # --privileged gives caps, the container's filter stays


def test_exec_loads_the_program_create_compiled(bd, api_client):
    """An exec'd process gets the container's seccomp program as the shim's create made it,
    kept in memory: a syscall the profile denies is denied in an exec, and when the cached file
    of the profile holds another program (one that lets mkdir through) both the init and every
    exec of a container created from it run that program; the profile is not compiled again for
    the exec, and a container created before keeps its own program."""
    cache = bd.exec_root / "seccomp"
    deny = json.dumps({"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [
        {"names": ["mkdir", "mkdirat", "quotactl"], "action": "SCMP_ACT_ERRNO", "errnoRet": 13}]})
    other = json.dumps({"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [
        {"names": ["quotactl"], "action": "SCMP_ACT_ERRNO", "errnoRet": 13}]})
    made = []

    def start(profile):
        hc = api_client.create_host_config(security_opt=[f"seccomp={profile}"],
                                           network_mode="none")
        c = api_client.create_container("busybox", ["sleep", "1000"], host_config=hc)
        made.append(c["Id"])
        api_client.start(c["Id"])
        return c["Id"]

    def mkdir(cid):
        x = api_client.exec_create(cid, ["sh", "-c", "mkdir /tmp/d$$ && echo made"])
        out = api_client.exec_start(x["Id"])
        return api_client.exec_inspect(x["Id"])["ExitCode"], out

    try:
        before = set(cache.glob("*.bpf"))
        first = start(deny)
        (deny_file,) = set(cache.glob("*.bpf")) - before
        code, out = mkdir(first)
        assert code == 1 and b"Permission denied" in out, out
        before = set(cache.glob("*.bpf"))
        start(other)
        (other_file,) = set(cache.glob("*.bpf")) - before
        # the deny profile's text over the other program: what its next create loads
        key = deny_file.read_bytes().split(b"\0", 1)[0]
        deny_file.write_bytes(key + b"\0" + other_file.read_bytes().split(b"\0", 1)[1])
        second = start(deny)
        code, out = mkdir(second)
        assert (code, out) == (0, b"made\n"), out
        pid = api_client.inspect_container(second)["State"]["Pid"]
        assert status_fields(pid)["Seccomp"] == "2"
        code, out = mkdir(first)  # the first container's program is its own
        assert code == 1 and b"Permission denied" in out, out
    finally:
        for cid in made:
            api(bd, "DELETE", f"/containers/{cid}?force=1")
        for f in (cache.glob("*.bpf")):
            if b"quotactl" in f.read_bytes().split(b"\0", 1)[0]:
                f.unlink()


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
    # read raw: python3-docker can lose bytes that follow the 101 head in the same read
    body = b'{"Tty":false}'
    out = bd.raw(b"POST /exec/%s/start HTTP/1.1\r\nHost: d\r\nConnection: Upgrade\r\n"
                 b"Upgrade: tcp\r\nContent-Type: application/json\r\nContent-Length: %d\r\n"
                 b"\r\n%s" % (x["Id"].encode(), len(body), body))
    head, _, frames = out.partition(b"\r\n\r\n")
    assert b"multiplexed-stream" in head
    assert frames[:1] == b"\x01"  # dockerd writes it to the stdout stream
    assert b"OCI runtime exec failed" in frames and b"/no/such" in frames
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


def test_detach_keys_on_the_server_side(bd, api_client, cli):
    """A client that sends the detach keys itself (the API's detachKeys): the shim ends its
    session and the container runs on; events `detach` and `exec_detach` as dockerd's."""
    p = cli.run("run", "-dit", "--name", "dk", "busybox", "sh")
    assert p.returncode == 0, p.stderr
    since = time.time() - 1
    try:
        x = api_client.exec_create("dk", ["sh"], stdin=True, tty=True, detach_keys="ctrl-x")
        for path, body in (("/containers/dk/attach?stream=1&stdin=1&stdout=1&detachKeys=ctrl-a",
                            b""),
                           (f"/exec/{x['Id']}/start", b'{"Tty":true}')):
            s = bd.connect()
            try:
                s.sendall(b"POST %s HTTP/1.1\r\nHost: d\r\nConnection: Upgrade\r\n"
                          b"Upgrade: tcp\r\nContent-Type: application/json\r\n"
                          b"Content-Length: %d\r\n\r\n%s" % (path.encode(), len(body), body))
                head = s.recv(4096)
                assert head.startswith(b"HTTP/1.1 101"), head
                s.sendall(b"echo $((3*5))\n")
                out = b""
                while b"15" not in out:
                    out += s.recv(4096)
                s.sendall(b"\x01" if "attach" in path else b"\x18")
                rest = b""
                while True:  # the shim closes the session
                    chunk = s.recv(4096)
                    if not chunk:
                        break
                    rest += chunk
            finally:
                s.close()
        assert api(bd, "GET", "/containers/dk/json")[1]["State"]["Running"] is True
        assert api_client.exec_inspect(x["Id"])["Running"] is True
        from urllib.parse import quote

        def actions():
            st, _, body = bd.http("GET", f"/events?since={since}&until={time.time()}&filters=" +
                                  quote(json.dumps({"container": ["dk"]})))
            return [json.loads(ln)["Action"] for ln in body.splitlines() if ln.strip()]
        assert wait_until(lambda: "detach" in actions() and "exec_detach" in actions(),
                          timeout=5), actions()
    finally:
        api(bd, "DELETE", "/containers/dk?force=1")


# ---- berth exec / attach and the docker CLI -------------------------------------------------------


def both(cli):
    """berth's CLI and, where docker 28's is installed, docker's, on the same berthd."""
    from cli import DOCKER_MAJOR
    out = [("berth", [str(cli.binary)], cli.env())]
    if DOCKER_MAJOR and DOCKER_MAJOR >= 28:
        from daemon import DOCKER_CLI
        out.append(("docker", [DOCKER_CLI], cli.env({"DOCKER_HOST": cli.host})))
    return out


def test_cli_exec_streams_codes_and_errors(bd, cli, box, tmp_path):
    envf = tmp_path / "env"
    envf.write_text("# c\nFROM_FILE=f\n")
    results = {}
    for name, argv, env in both(cli):
        import subprocess
        def run(*a, **kw):
            return subprocess.run(argv + list(a), env=env, capture_output=True, text=True,
                                  timeout=60, **kw)
        got = []
        p = run("exec", box, "sh", "-c", "echo out; echo err >&2; exit 9",
                stdin=subprocess.DEVNULL)
        got.append((p.returncode, p.stdout, p.stderr))
        p = run("exec", "-e", "A=a", "--env-file", str(envf), "-u", "nobody", "-w", "/etc",
                "xbox", "sh", "-c", "echo $A $FROM_FILE $(id -un) $(pwd)")
        got.append((p.returncode, p.stdout, p.stderr))
        p = run("exec", "-i", "xbox", "tr", "a-z", "A-Z", input="piped\n")
        got.append((p.returncode, p.stdout, p.stderr))
        p = run("exec", "nope", "true")
        got.append((p.returncode, p.stdout, p.stderr))
        p = run("exec", "xbox", "/no/such/program")
        got.append((p.returncode, "OCI runtime exec failed" in p.stdout + p.stderr))
        p = run("exec", "-d", "xbox", "sh", "-c", f"echo {name} > /tmp/detached")
        got.append((p.returncode, p.stdout, p.stderr))
        results[name] = got
        assert got[0] == (9, "out\n", "err\n")
        assert got[1] == (0, "a f nobody /etc\n", "")
        assert got[2] == (0, "PIPED\n", "")
        assert got[3][0] == 1 and "No such container: nope" in got[3][2]
        assert got[4] == (127, True)
        assert got[5] == (0, "", "")
        assert wait_until(
            lambda: run("exec", "xbox", "cat", "/tmp/detached").stdout == name + "\n", timeout=10)
    if "docker" in results:
        assert results["docker"][:4] == results["berth"][:4]


def spawn(argv, env, dims=(24, 80)):
    return pexpect.spawn(argv[0], argv[1:], env=env, timeout=20, dimensions=dims,
                         encoding="utf-8")


def test_cli_exec_tty_resize_and_exit(bd, cli, box):
    for name, argv, env in both(cli):
        child = spawn(argv + ["exec", "-it", "xbox", "sh"], env, dims=(30, 99))
        try:
            child.expect(r"[#$] ")
            child.sendline("echo typed-$((6*7)); stty size; tty")
            child.expect(r"typed-42\r+\n")
            child.expect(r"30 99\r+\n")
            child.expect(r"/dev/pts/\d+")
            child.setwinsize(40, 120)
            time.sleep(0.3)
            child.sendline("stty size")
            child.expect(r"40 120\r+\n")
            child.sendline("exit 7")
            child.expect(pexpect.EOF)
            child.close()
            assert child.exitstatus == 7, name
        finally:
            child.close(force=True)


def prompt_after_attach(child):
    """The shell's prompt once attached: redrawn on the size's nudge, which can come before the
    attach's socket reaches the shim (dockerd has the same window between its 101 and wiring the
    streams); then an empty line asks the shell for a new one."""
    if child.expect([r"[#$] ", pexpect.TIMEOUT], timeout=5) == 1:
        child.sendline("")
        child.expect(r"[#$] ")


def test_cli_attach_detach_and_reattach(bd, cli):
    p = cli.run("run", "-dit", "--name", "att", "busybox", "sh")
    assert p.returncode == 0, p.stderr
    try:
        codes = {}
        for name, argv, env in both(cli):
            for round_ in range(2):
                child = spawn(argv + ["attach", "att"], env, dims=(33, 77))
                try:
                    prompt_after_attach(child)
                    child.sendline(f"echo {name}-{round_}-$((2+3)); stty size")
                    child.expect(f"{name}-{round_}-5\r+\n")
                    child.expect(r"33 77\r+\n")
                    # ctrl-p ctrl-q: the session ends, the container runs on
                    child.send("\x10\x11")
                    child.expect(pexpect.EOF)
                    out = child.before
                    child.close()
                    codes[name] = (child.exitstatus, "read escape sequence" in out)
                finally:
                    child.close(force=True)
                assert api(bd, "GET", "/containers/att/json")[1]["State"]["Running"] is True
        assert codes["berth"] == (1, True)
        if "docker" in codes:
            assert codes["docker"] == codes["berth"]
        # attach to a missing and to a stopped container
        for name, argv, env in both(cli):
            import subprocess
            p = subprocess.run(argv + ["attach", "nope"], env=env, capture_output=True,
                               text=True, timeout=30)
            assert p.returncode == 1 and "No such container: nope" in p.stderr, (name, p.stderr)
        api(bd, "POST", "/containers/att/stop?t=0")
        p = cli.run("attach", "att")
        assert (p.returncode, p.stderr) == (
            1, "You cannot attach to a stopped container, start it first\n")
    finally:
        api(bd, "DELETE", "/containers/att?force=1")


def test_cli_run_it_resize_detach_reattach(bd, cli):
    """run -it through each CLI: a typed command, stty size following the pty, ctrl-p ctrl-q
    (exit 0, the container runs on), then the other CLI attaches to the same shell."""
    clis = both(cli)
    for i, (name, argv, env) in enumerate(clis):
        ctr = f"runit-{name}"
        child = spawn(argv + ["run", "-it", "--name", ctr, "busybox", "sh"], env, dims=(25, 90))
        try:
            child.expect(r"[#$] ")
            child.sendline("echo ran-$((40+2)); stty size")
            child.expect(r"ran-42\r+\n")
            child.expect(r"25 90\r+\n")
            child.setwinsize(50, 132)
            time.sleep(0.3)
            child.sendline("stty size")
            child.expect(r"50 132\r+\n")
            child.send("\x10\x11")
            child.expect(pexpect.EOF)
            child.close()
            assert child.exitstatus == 0, name
            assert api(bd, "GET", f"/containers/{ctr}/json")[1]["State"]["Running"] is True
            # re-attach with the other CLI (or the same when docker's is missing)
            oname, oargv, oenv = clis[(i + 1) % len(clis)]
            again = spawn(oargv + ["attach", ctr], oenv, dims=(20, 70))
            try:
                prompt_after_attach(again)
                again.sendline("echo back-$((1+1)); stty size")
                again.expect(r"back-2\r+\n")
                again.expect(r"20 70\r+\n")
                again.sendline("exit 3")
                again.expect(pexpect.EOF)
                again.close()
                assert again.exitstatus == 3, oname
            finally:
                again.close(force=True)
        finally:
            child.close(force=True)
            api(bd, "DELETE", f"/containers/{ctr}?force=1")


# ---- healthchecks ----------------------------------------------------------------------------------


def test_healthcheck_flips_to_unhealthy(bd, cli):
    p = cli.run("run", "-d", "--name", "hc", "--health-cmd", "test -e /tmp/ok && echo fine",
                "--health-interval", "200ms", "--health-retries", "2", "busybox",
                "sh", "-c", "touch /tmp/ok; exec sleep 1000")
    assert p.returncode == 0, p.stderr
    since = time.time() - 1
    try:
        cfg = api(bd, "GET", "/containers/hc/json")[1]["Config"]["Healthcheck"]
        assert cfg == {"Test": ["CMD-SHELL", "test -e /tmp/ok && echo fine"],
                       "Interval": 200000000, "Retries": 2}

        def health():
            return api(bd, "GET", "/containers/hc/json")[1]["State"]["Health"]
        assert wait_until(lambda: health()["Status"] == "healthy", timeout=15), health()
        h = health()
        assert h["FailingStreak"] == 0
        assert h["Log"][-1]["ExitCode"] == 0 and h["Log"][-1]["Output"] == "fine\n"
        p = cli.run("ps", "--filter", "health=healthy", "--format", "{{.Names}} {{.Status}}")
        assert re.fullmatch(r"hc Up .* \(healthy\)\n", p.stdout), p.stdout
        # the file goes: two failures in a row make it unhealthy
        assert cli.run("exec", "hc", "rm", "/tmp/ok").returncode == 0
        assert wait_until(lambda: health()["Status"] == "unhealthy", timeout=15), health()
        h = health()
        assert h["FailingStreak"] >= 2 and len(h["Log"]) <= 5
        assert h["Log"][-1]["ExitCode"] == 1
        p = cli.run("ps", "--filter", "health=unhealthy", "--format", "{{.Names}}")
        assert p.stdout == "hc\n"
        for name, argv, env in both(cli):
            import subprocess
            p = subprocess.run(argv + ["ps", "--filter", "health=unhealthy", "--format",
                                       "{{.Names}} {{.Status}}"], env=env, capture_output=True,
                               text=True, timeout=30)
            assert re.fullmatch(r"hc Up .* \(unhealthy\)\n", p.stdout), (name, p.stdout)
        assert cli.run("ps", "--filter", "health=healthy", "-q").stdout == ""
        from urllib.parse import quote
        st, _, body = bd.http("GET", f"/events?since={since}&until={time.time()}&filters=" +
                              quote(json.dumps({"container": ["hc"]})))
        acts = [json.loads(ln)["Action"] for ln in body.splitlines() if ln.strip()]
        assert [a for a in acts if a.startswith("health_status")] == [
            "health_status: healthy", "health_status: unhealthy"]
        assert "exec_create: /bin/sh -c test -e /tmp/ok && echo fine" in acts
    finally:
        api(bd, "DELETE", "/containers/hc?force=1")
    # --no-healthcheck against the image's: the Test is NONE, no State.Health
    p = cli.run("run", "-d", "--name", "nohc", "--no-healthcheck", "busybox", "sleep", "100")
    try:
        j = api(bd, "GET", "/containers/nohc/json")[1]
        assert j["Config"]["Healthcheck"] == {"Test": ["NONE"]} and "Health" not in j["State"]
    finally:
        api(bd, "DELETE", "/containers/nohc?force=1")
