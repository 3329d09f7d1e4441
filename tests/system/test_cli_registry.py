"""berth login, logout, push and pull against Debian's docker-registry with htpasswd auth on a
loopback port (test_registry's fixture): the config file login writes (docker's format, 0600,
written whole), the credentials push and pull take from it (X-Registry-Auth: without them the
registry refuses), the manifest the registry then holds, the pulled image run by `berth run`;
output and refusals compared with the docker CLI 28's on the same berthd.

Also the client's connection handling: a daemon that answers "Connection: close" gets the next
request on a new connection.
"""

import base64
import io
import json
import os
import re
import socket
import stat
import subprocess
import tarfile
import threading
from urllib.parse import quote

import pexpect
import pytest

from cli import DOCKER28, berth_binary, need_docker28
from daemon import DOCKER_CLI, needs_berthd
from test_registry import REGISTRY_BIN, Registry, bcrypt_hash, free_port

pytestmark = [needs_berthd]


@pytest.fixture(scope="module")
def reg(tmp_path_factory):
    if not os.access(REGISTRY_BIN, os.X_OK):
        pytest.fail(f"{REGISTRY_BIN} missing: scripts/install-deps.sh installs docker-registry")
    d = tmp_path_factory.mktemp("htpasswd")
    (d / "htpasswd").write_text(f"alice:{bcrypt_hash('s3cret')}\n")
    r = Registry(extra=f"""auth:
  htpasswd:
    realm: berth-test
    path: {d}/htpasswd
""")
    yield r
    r.stop()


def as_berth(s):
    return re.sub(r"\bdocker(?=[ :'])", "berth", s)


def conf(path):
    return {"DOCKER_CONFIG": str(path)}


def api(bd, method, path):
    status, _, out = bd.http(method, path, timeout=60)
    return status, out


def test_login_push_pull_run(bd, cli, reg, tmp_path):
    host = reg.host
    cfg = tmp_path / "cfg"

    # a wrong password: the registry's refusal, nothing written
    p = cli.run("login", "-u", "alice", "--password-stdin", host, input="wrong\n", env=conf(cfg))
    assert p.returncode == 1
    assert p.stderr == (f"Error response from daemon: login attempt to http://{host}/v2/ "
                        "failed with status: 401 Unauthorized\n")
    assert not (cfg / "config.json").exists()

    # without credentials the registry refuses the push
    assert cli.run("tag", "busybox", f"{host}/cli/bb:1").returncode == 0
    p = cli.run("push", f"{host}/cli/bb:1", env=conf(tmp_path / "none"))
    assert p.returncode == 1 and "unauthorized" in p.stderr, p.stderr
    assert reg.req("GET", "/v2/cli/bb/manifests/1", auth=("alice", "s3cret"))[0] == 404

    # a config file berth cannot read is left alone
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "config.json").write_text("{not json")
    p = cli.run("login", "-u", "alice", "--password-stdin", host, input="s3cret\n", env=conf(bad))
    assert p.returncode == 1 and "left as it is" in p.stderr, p.stderr
    assert (bad / "config.json").read_text() == "{not json"

    # login: docker's file, 0600, in a 0700 directory, written whole (no temporary file left)
    (cfg).mkdir(mode=0o700)
    (cfg / "config.json").write_text('{"psFormat": "{{.ID}}"}')
    os.chmod(cfg / "config.json", 0o600)
    p = cli.run("login", "-u", "alice", "--password-stdin", host, input="s3cret\n", env=conf(cfg))
    assert (p.returncode, p.stdout) == (0, "Login Succeeded\n"), p.stderr
    assert "WARNING! Your credentials are stored unencrypted in " \
        f"'{cfg}/config.json'" in p.stderr
    text = (cfg / "config.json").read_text()
    assert json.loads(text) == {"psFormat": "{{.ID}}", "auths": {
        host: {"auth": base64.b64encode(b"alice:s3cret").decode()}}}
    assert text.startswith('{\n\t"psFormat"')  # Go's MarshalIndent with tabs
    assert stat.S_IMODE(os.stat(cfg / "config.json").st_mode) == 0o600
    assert os.listdir(cfg) == ["config.json"]

    # push with the stored credentials: the registry has the manifest berth names
    p = cli.run("push", f"{host}/cli/bb:1", env=conf(cfg))
    assert p.returncode == 0, p.stderr
    lines = p.stdout.splitlines()
    assert lines[0] == f"The push refers to repository [{host}/cli/bb]"
    m = re.fullmatch(r"1: digest: (sha256:[0-9a-f]{64}) size: (\d+)", lines[-1])
    assert m, p.stdout
    status, headers, body = reg.req(
        "GET", "/v2/cli/bb/manifests/1", auth=("alice", "s3cret"),
        headers={"Accept": ", ".join(["application/vnd.oci.image.manifest.v1+json",
                                      "application/vnd.docker.distribution.manifest.v2+json"])})
    assert status == 200 and headers["Docker-Content-Digest"] == m.group(1)
    assert len(body) == int(m.group(2))

    # remove it here, pull it back, run it
    assert cli.run("rmi", f"{host}/cli/bb:1").returncode == 0
    p = cli.run("pull", f"{host}/cli/bb:1", env=conf(cfg))
    assert p.returncode == 0, p.stderr
    lines = p.stdout.splitlines()
    assert lines[0] == "1: Pulling from cli/bb"
    assert lines[-3:] == [f"Digest: {m.group(1)}",
                          f"Status: Downloaded newer image for {host}/cli/bb:1",
                          f"{host}/cli/bb:1"]
    p = cli.run("run", "--rm", f"{host}/cli/bb:1", "echo", "pulled")
    assert (p.returncode, p.stdout) == (0, "pulled\n"), p.stderr
    # again: up to date; -q: the name only; image pull is the same command
    p = cli.run("image", "pull", f"{host}/cli/bb:1", env=conf(cfg))
    assert f"Status: Image is up to date for {host}/cli/bb:1\n" in p.stdout
    p = cli.run("pull", "-q", f"{host}/cli/bb:1", env=conf(cfg))
    assert (p.returncode, p.stdout, p.stderr) == (0, f"{host}/cli/bb:1\n", "")
    # a name alone is its :latest
    assert cli.run("tag", "busybox", f"{host}/cli/bb").returncode == 0
    p = cli.run("image", "push", "-q", f"{host}/cli/bb", env=conf(cfg))
    assert (p.returncode, p.stdout) == (0, f"{host}/cli/bb:latest\n"), p.stderr
    status, _, body = reg.req("GET", "/v2/cli/bb/tags/list", auth=("alice", "s3cret"))
    assert status == 200 and sorted(json.loads(body)["tags"]) == ["1", "latest"]

    # login again without a password uses the stored one
    p = cli.run("login", host, env=conf(cfg))
    assert (p.returncode, p.stdout) == (0, "Login Succeeded\n")
    assert p.stderr.startswith("Authenticating with existing credentials... [Username: alice]")

    # logout drops the registry's entry, the rest stays
    p = cli.run("logout", host, env=conf(cfg))
    assert (p.returncode, p.stdout) == (0, f"Removing login credentials for {host}\n")
    assert json.loads((cfg / "config.json").read_text()) == {"psFormat": "{{.ID}}", "auths": {}}
    p = cli.run("push", f"{host}/cli/bb:1", env=conf(cfg))
    assert p.returncode == 1 and "unauthorized" in p.stderr
    for name in ("cli/bb:1", "cli/bb:latest"):
        api(bd, "DELETE", f"/images/{host}/{name}")


@DOCKER28
def test_login_and_pull_as_docker(bd, cli, reg, tmp_path):
    need_docker28()
    host = reg.host
    dead = f"127.0.0.1:{free_port()}"  # nothing listens there

    def same(*args, input=None, cfg="c"):
        env = conf(tmp_path / cfg)
        b = cli.run(*args, input=input, env=env)
        d = subprocess.run([DOCKER_CLI, *args], capture_output=True, text=True, input=input,
                           timeout=60, env=dict(os.environ, DOCKER_HOST=cli.host, TZ="UTC",
                                                DOCKER_CONFIG=str(tmp_path / ("d" + cfg))))
        assert (b.returncode, b.stdout, b.stderr) == \
            (d.returncode, as_berth(d.stdout),
             as_berth(d.stderr).replace(str(tmp_path / ("d" + cfg)), str(tmp_path / cfg))), args
        return b

    for args, stdin in ((["login", "-u", "alice", "-p", "x", "--password-stdin", host], ""),
                        (["login", "--password-stdin", host], "x\n"),
                        (["login", host], ""),
                        (["login", "-u", "alice", host], ""),
                        (["login", "-u", "alice", "--password-stdin", host], "wrong\n"),
                        (["login", "-u", "alice", "--password-stdin", dead], "x\n"),
                        (["login", "-u", "alice", "--password-stdin", host], "s3cret\n"),
                        (["login", "-u", "alice", "-p", "s3cret", host], None),
                        (["pull"], None), (["pull", "a", "b"], None), (["pull", "Bad"], None),
                        (["pull", "--bogus", "x"], None),
                        (["pull", f"{host}/nothere:1"], None),
                        (["pull", f"{host}/bad name"], None),
                        (["pull", f"{dead}/x:1"], None),
                        (["push"], None), (["push", f"{host}/cli/absent:1"], None),
                        (["push", f"{host}/x@sha256:{'a' * 64}"], None),
                        (["logout", host], None), (["logout", "elsewhere:1"], None)):
        same(*args, input=stdin)
    assert json.loads((tmp_path / "c" / "config.json").read_text()) == \
        json.loads((tmp_path / "dc" / "config.json").read_text())


def test_pull_progress_on_a_terminal(bd, cli, reg, tmp_path):
    """On a terminal: each layer's line rewritten in place with docker's progress bars (the
    same escape sequences as docker 28's, byte counts aside)."""
    host = reg.host
    cfg = tmp_path / "cfg"
    cfg.mkdir()
    (cfg / "config.json").write_text(json.dumps(
        {"auths": {host: {"auth": base64.b64encode(b"alice:s3cret").decode()}}}))
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as t:
        data = os.urandom(3 << 20)
        info = tarfile.TarInfo("blob")
        info.size = len(data)
        t.addfile(info, io.BytesIO(data))
    name = f"{host}/cli/big:1"
    status, _, body = bd.http("POST", f"/images/create?fromSrc=-&repo={quote(name)}",
                              body=buf.getvalue(), headers={"Content-Type": "application/x-tar"})
    assert status == 200, body
    assert cli.run("push", "-q", name, env=conf(cfg)).returncode == 0
    image_id = json.loads(api(bd, "GET", f"/images/{name}/json")[1])["Id"]

    def pull(program):
        assert api(bd, "DELETE", f"/images/{name}")[0] == 200
        env = dict(cli.env(conf(cfg)), DOCKER_HOST=cli.host)
        p = pexpect.spawn(str(program), ["pull", name], env=env, dimensions=(24, 120))
        p.expect(pexpect.EOF, timeout=60)
        p.close()
        assert p.exitstatus == 0, p.before
        return p.before.decode()

    out = pull(berth_binary())
    assert out.startswith("1: Pulling from cli/big\r\n")
    assert re.search(r"\x1b\[1A\x1b\[2K\r[0-9a-f]{12}: Downloading \[=+>", out), out
    assert re.search(r"\x1b\[1A\x1b\[2K\r[0-9a-f]{12}: Pull complete \r\x1b\[1B", out), out
    assert out.endswith(f"Status: Downloaded newer image for {name}\r\n{name}\r\n")
    # the image is back, the same config
    assert json.loads(api(bd, "GET", f"/images/{name}/json")[1])["Id"] == image_id
    if DOCKER_CLI and os.access(DOCKER_CLI, os.X_OK):
        # the same terminal output as docker's, counts and bars aside
        # (how many progress updates there are depends on timing: repeats are collapsed)
        def norm(s):
            s = re.sub(r"(Downloading|Extracting) \[[^\r]*", r"\1", s)
            return re.sub(r"(\x1b\[1A\x1b\[2K\r[0-9a-f]{12}: (?:Downloading|Extracting)"
                          r"\r\x1b\[1B)(?:\1)+", r"\1", s)
        assert norm(out) == norm(pull(DOCKER_CLI))
    api(bd, "DELETE", f"/images/{name}")


# ---- the connection ------------------------------------------------------------------------------


class CloseAfterPing:
    """A fake daemon: answers /_ping with "Connection: close" and closes; then /volumes."""

    def __init__(self, path):
        self.path = str(path)
        self.connections = 0
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.bind(self.path)
        self.sock.listen(4)
        self.thread = threading.Thread(target=self.serve, daemon=True)
        self.thread.start()

    def serve(self):
        while True:
            try:
                c, _ = self.sock.accept()
            except OSError:
                return
            self.connections += 1
            with c:
                data = b""
                while b"\r\n\r\n" not in data:
                    chunk = c.recv(4096)
                    if not chunk:
                        break
                    data += chunk
                line = data.split(b"\r\n", 1)[0].decode()
                if " /_ping " in line:
                    c.sendall(b"HTTP/1.1 200 OK\r\nAPI-Version: 1.44\r\nContent-Length: 2\r\n"
                              b"Connection: close\r\nContent-Type: text/plain\r\n\r\nOK")
                    continue
                body = b'{"Volumes":[{"Name":"v","Driver":"local"}],"Warnings":null}'
                c.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                          b"Content-Length: %d\r\nConnection: close\r\n\r\n%s"
                          % (len(body), body))

    def close(self):
        self.sock.close()


def test_reconnects_after_connection_close(tmp_path):
    srv = CloseAfterPing(tmp_path / "d.sock")
    try:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("DOCKER_", "BERTH_"))}
        p = subprocess.run([str(berth_binary()), "-H", f"unix://{tmp_path}/d.sock", "volume",
                            "ls", "-q"], capture_output=True, text=True, timeout=30,
                           env=dict(env, DOCKER_CONFIG=str(tmp_path)))
        assert (p.returncode, p.stdout, p.stderr) == (0, "v\n", "")
        assert srv.connections == 2
    finally:
        srv.close()
