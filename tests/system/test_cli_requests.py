"""The requests berth's CLI makes: the API version without a /_ping round-trip (berth's newest,
negotiated only when the daemon refuses it: a fake older dockerd here), the requests of ps,
version and exec counted through a proxy in front of berthd, and exec's errors (no inspect
first) against the docker CLI 28's on the same berthd.
"""

import json
import os
import re
import socket
import threading
import urllib.parse

import pytest

from cli import DOCKER_MAJOR, CountingProxy
from daemon import needs_berthd

pytestmark = [needs_berthd]


@pytest.fixture
def proxy(bd, tmp_path):
    p = CountingProxy(str(bd.sock), tmp_path / "proxy.sock")
    yield p
    p.close()


# ---- a dockerd that speaks API 1.41 at most --------------------------------------------------


class OldDaemon:
    """A unix-socket HTTP/1.1 server answering as dockerd 20.10 (API 1.41) does: /_ping with its
    API-Version, a version newer than 1.41 refused with dockerd's 400, /v1.41/version,
    /v1.41/containers/json (empty) and an exec on a missing container (404)."""

    MAX = "1.41"

    def __init__(self, path):
        self.path = str(path)
        self.requests = []
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.bind(self.path)
        self.sock.listen(8)
        threading.Thread(target=self.accept_loop, daemon=True).start()

    def accept_loop(self):
        while True:
            try:
                c, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self.serve, args=(c,), daemon=True).start()

    def answer(self, method, target):
        m = re.match(r"^/v([0-9.]+)(/.*)$", target)
        if target == "/_ping":
            return 200, "text/plain; charset=utf-8", b"OK"
        if not m:
            return 404, "application/json", b'{"message":"page not found"}\n'
        version, path = m.groups()
        if tuple(map(int, version.split("."))) > (1, 41):
            return 400, "application/json", json.dumps({
                "message": f"client version {version} is too new. Maximum supported API "
                           f"version is {self.MAX}"}).encode() + b"\n"
        if method == "GET" and path == "/version":
            return 200, "application/json", json.dumps({
                "Version": "20.10.24", "ApiVersion": self.MAX, "MinAPIVersion": "1.12",
                "GitCommit": "5d6db84", "GoVersion": "go1.19", "Os": "linux", "Arch": "amd64",
                "KernelVersion": "6.1.0", "BuildTime": "2023-04-04T10:00:00.000000000+00:00",
            }).encode() + b"\n"
        if method == "GET" and path.startswith("/containers/json"):
            return 200, "application/json", b"[]\n"
        if method == "POST" and path == "/containers/ghost/exec":
            return 404, "application/json", b'{"message":"No such container: ghost"}\n'
        return 404, "application/json", b'{"message":"page not found"}\n'

    def serve(self, c):
        buf = b""
        try:
            while True:
                while b"\r\n\r\n" not in buf:
                    data = c.recv(65536)
                    if not data:
                        return
                    buf += data
                head, buf = buf.split(b"\r\n\r\n", 1)
                lines = head.decode().split("\r\n")
                method, target, _ = lines[0].split(" ", 2)
                length = 0
                for line in lines[1:]:
                    k, _, v = line.partition(":")
                    if k.strip().lower() == "content-length":
                        length = int(v)
                while len(buf) < length:
                    buf += c.recv(65536)
                buf = buf[length:]
                self.requests.append(f"{method} {target}")
                status, ctype, body = self.answer(method, target)
                reason = {200: "OK", 400: "Bad Request", 404: "Not Found"}[status]
                extra = f"API-Version: {self.MAX}\r\n" if target == "/_ping" else ""
                c.sendall(f"HTTP/1.1 {status} {reason}\r\nContent-Type: {ctype}\r\n{extra}"
                          f"Content-Length: {len(body)}\r\n\r\n".encode() + body)
        except OSError:
            pass
        finally:
            c.close()

    def close(self):
        self.sock.close()
        os.unlink(self.path)


@pytest.fixture
def old(tmp_path):
    d = OldDaemon(tmp_path / "old.sock")
    yield d
    d.close()


def test_older_daemon_refuses_the_newest_version_then_negotiates(cli, old):
    host = f"unix://{old.path}"
    p = cli.run("version", host=host)
    assert p.returncode == 0, p.stderr
    assert re.search(r"^ API version:\s+1\.41 \(downgraded from 1\.47\)$", p.stdout, re.M)
    assert re.search(r"^  Version:\s+20\.10\.24$", p.stdout, re.M)
    # refused, negotiated, asked again at the daemon's version
    assert old.requests == ["GET /v1.47/version", "GET /_ping", "GET /v1.41/version"]
    del old.requests[:]
    p = cli.run("ps", host=host)
    assert (p.returncode, p.stderr) == (0, "")
    assert p.stdout.split() == ["CONTAINER", "ID", "IMAGE", "COMMAND", "CREATED", "STATUS",
                                "PORTS", "NAMES"]
    assert old.requests == ["GET /v1.47/containers/json", "GET /_ping",
                            "GET /v1.41/containers/json"]
    # a refused exec: the error of the request asked again, docker's words and code
    del old.requests[:]
    p = cli.run("exec", "ghost", "true", host=host)
    assert (p.returncode, p.stderr) == (1, "Error response from daemon: No such container: "
                                           "ghost\n")
    assert old.requests == ["POST /v1.47/containers/ghost/exec", "GET /_ping",
                            "POST /v1.41/containers/ghost/exec"]
    # DOCKER_API_VERSION: that version, no negotiation; too new: the daemon's refusal is the error
    del old.requests[:]
    p = cli.run("version", "--format", "{{.Server.Version}}", host=host,
                env={"DOCKER_API_VERSION": "1.40"})
    assert (p.returncode, p.stdout) == (0, "20.10.24\n")
    assert old.requests == ["GET /v1.40/version"]
    del old.requests[:]
    p = cli.run("ps", host=host, env={"DOCKER_API_VERSION": "1.45"})
    assert (p.returncode, p.stderr) == (1, "Error response from daemon: client version 1.45 "
                                           "is too new. Maximum supported API version is "
                                           "1.41\n")
    assert old.requests == ["GET /v1.45/containers/json"]


# ---- berthd: one request where one is needed ------------------------------------------------


def test_requests_without_ping(cli, proxy):
    host = f"unix://{proxy.path}"
    p = cli.run("version", host=host)
    assert p.returncode == 0, p.stderr
    assert re.search(r"^ API version:\s+1\.47$", p.stdout, re.M)
    p = cli.run("ps", "-a", host=host)
    assert p.returncode == 0, p.stderr
    p = cli.run("info", "--format", "{{.ID}}", host=host)
    assert p.returncode == 0 and p.stdout.strip(), (p.stdout, p.stderr)
    assert proxy.requests == ["GET /v1.47/version HTTP/1.1",
                              "GET /v1.47/containers/json?all=1 HTTP/1.1",
                              "GET /v1.47/info HTTP/1.1"]


def test_a_bad_request_is_not_taken_for_a_refused_version(cli, proxy):
    # berthd's 400 about the filter: read once, and it is the error (no ping, no second try)
    p = cli.run("ps", "--filter", "nosuch=1", host=f"unix://{proxy.path}")
    assert (p.returncode, p.stderr) == (1, "Error response from daemon: invalid filter "
                                           "'nosuch'\n")
    assert len(proxy.requests) == 1 and proxy.requests[0].startswith(
        "GET /v1.47/containers/json?filters=")


@pytest.mark.parametrize("args,sized", [
    (["--format", "json"], False),  # the template docker runs first is the word "json"
    (["--format", "{{json .}}"], True),  # MarshalJSON reads every field
    (["--format", "{{.Size}}"], True),
    (["--format", "table {{.Names}}\t{{.Size}}"], True),
    (["--format", "{{if false}}{{.Size}}{{end}}"], False),  # .Size never run
    (["--format", "{{.Names}}"], False),
    (["--size=false", "--format", "{{.Size}}"], False),
    (["-q", "--format", "{{.Size}}"], False),
])
def test_ps_asks_sizes_when_the_template_reads_them(cli, proxy, args, sized):
    p = cli.run("ps", "-a", *args, host=f"unix://{proxy.path}")
    assert p.returncode == 0, p.stderr
    assert len(proxy.requests) == 1 and proxy.requests[0].startswith("GET /v1.47/containers/json")
    assert ("size=1" in proxy.requests[0]) == sized, proxy.requests


@pytest.mark.parametrize("template,message", [
    ("{{", "failed to parse template: template: :1: unclosed action"),
    # run once on an empty container before the request: its ID is ""
    ("{{slice .ID 0 4}}", "failed to execute template: template: :1:2: executing \"\" at "
                          "<slice .ID 0 4>: error calling slice: index out of range: 4"),
    ("{{index .Names 0}}", "failed to execute template: template: :1:2: executing \"\" at "
                           "<index .Names 0>: error calling index: reflect: string index out "
                           "of range"),
])
def test_ps_template_checked_before_the_request(cli, proxy, template, message):
    p = cli.run("ps", "--format", template, host=f"unix://{proxy.path}")
    assert (p.returncode, p.stdout, p.stderr) == (1, "", message + "\n")
    assert proxy.requests == []
    if DOCKER_MAJOR and DOCKER_MAJOR >= 28:
        d = cli.docker("ps", "--format", template)
        assert (d.returncode, d.stderr) == (p.returncode, p.stderr)


def test_ps_quiet_ignores_a_format(cli, box, proxy):
    p = cli.run("ps", "-q", "--format", "{{.Names}}", host=f"unix://{proxy.path}")
    assert p.returncode == 0
    assert p.stdout == box[:12] + "\n"
    assert p.stderr == ("WARNING: Ignoring custom format, because both --format and --quiet "
                        "are set.\n")
    assert "size=1" not in proxy.requests[0]


@pytest.fixture(scope="module")
def box(bd, cli):
    p = cli.run("run", "-d", "--name", "reqbox", "busybox", "sleep", "1000")
    assert p.returncode == 0, p.stderr
    cid = p.stdout.strip()
    p = cli.run("create", "--name", "reqstopped", "busybox", "true")
    assert p.returncode == 0, p.stderr
    yield cid
    cli.run("rm", "-f", "reqbox", "reqstopped")


def test_exec_requests(cli, box, proxy):
    p = cli.run("exec", "reqbox", "sh", "-c", "echo $((6*7)); exit 3", host=f"unix://{proxy.path}")
    assert (p.returncode, p.stdout, p.stderr) == (3, "42\n", "")
    # create, start (hijacked), the exec's exit code: no ping, no container inspect
    assert [r.split("?")[0].split(" ")[:2] for r in proxy.requests] == [
        ["POST", "/v1.47/containers/reqbox/exec"],
        ["POST", f"/v1.47/exec/{proxy.requests[1].split('/')[3]}/start"],
        ["GET", f"/v1.47/exec/{proxy.requests[1].split('/')[3]}/json"]]


def exec_errors(argv, env):
    import subprocess

    def run(*a):
        p = subprocess.run(argv + list(a), env=env, capture_output=True, text=True, timeout=60,
                           stdin=subprocess.DEVNULL)
        return p.returncode, p.stdout, p.stderr
    return [
        run("exec", "nope", "true"),
        run("exec", "reqstopped", "true"),
        # -it without a terminal: a missing container's error comes first, docker's order
        run("exec", "-it", "nope", "true"),
        run("exec", "-it", "reqbox", "true"),
        run("exec", "-d", "nope", "true"),
    ]


def test_exec_errors_as_docker(cli, box):
    got = exec_errors([str(cli.binary)], cli.env())
    sid = cli.run("inspect", "--format", "{{.Id}}", "reqstopped").stdout.strip()
    assert got == [
        (1, "", "Error response from daemon: No such container: nope\n"),
        (1, "", f"Error response from daemon: container {sid} is not running\n"),
        (1, "", "Error response from daemon: No such container: nope\n"),
        (1, "", "the input device is not a TTY\n"),
        (1, "", "Error response from daemon: No such container: nope\n"),
    ]
    if DOCKER_MAJOR and DOCKER_MAJOR >= 28:
        from daemon import DOCKER_CLI
        assert exec_errors([DOCKER_CLI], cli.env({"DOCKER_HOST": cli.host})) == got


# ---- berthd's list, written as text ----------------------------------------------------------


def test_list_text_is_the_summary(bd, cli):
    """GET /containers/json writes its answer as text; with ?size=1 it is built as values: the
    two agree field for field (escapes in labels, annotations at 1.46+, ports, mounts)."""
    p = cli.run("run", "-d", "--name", "reqlabels", "--label", "a=b", "--label",
                'c=\u00e9"\\x\t', "--annotation", "k=v", "-p", "18080:80", "busybox", "sleep",
                "1000")
    assert p.returncode == 0, p.stderr
    p = cli.run("create", "--name", "reqmount", "-v", "/tmp:/hosttmp", "busybox", "true")
    assert p.returncode == 0, p.stderr
    try:
        for version in ("v1.45", "v1.47"):
            q = "all=1&filters=" + urllib.parse.quote(
                json.dumps({"name": {"reqlabels": True, "reqmount": True}}))
            st, _, text = bd.http("GET", f"/{version}/containers/json?{q}")
            assert st == 200 and text.endswith(b"]\n")
            plain = json.loads(text)
            st, _, sized = bd.http("GET", f"/{version}/containers/json?{q}&size=1")
            sized = json.loads(sized)
            for s in sized:
                s.pop("SizeRw", None)
                s.pop("SizeRootFs", None)
            for a, b in zip(plain, sized):
                assert list(a) == list(b)
                assert {k: v for k, v in a.items() if k != "Status"} == \
                       {k: v for k, v in b.items() if k != "Status"}
            lab = next(s for s in plain if s["Names"] == ["/reqlabels"])
            assert lab["Labels"] == {"a": "b", "c": '\u00e9"\\x\t'}
            assert [(p["PrivatePort"], p["Type"]) for p in lab["Ports"]] == [(80, "tcp")]
            assert ("Annotations" in lab["HostConfig"]) == (version == "v1.47")
            mnt = next(s for s in plain if s["Names"] == ["/reqmount"])
            assert mnt["Mounts"][0]["Destination"] == "/hosttmp"
            assert [s["Names"] for s in plain] == [["/reqmount"], ["/reqlabels"]]
    finally:
        cli.run("rm", "-f", "reqlabels", "reqmount")
