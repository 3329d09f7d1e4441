"""berthd against docker-registry serving TLS with certificates openssl makes here, in a network
namespace of this module on an address of its own (10.141.0.1: 127.0.0.0/8 is always an
insecure registry for dockerd and berthd, which would not verify anything there): certs.d
beside berthd's config file (dockerd's /etc/docker/certs.d) with the CA (*.crt) and a client
certificate (*.cert + *.key) for a registry that asks for one; without them the pull is refused
in docker's words; insecure-registries (reloaded with SIGHUP) skips the verification; a client
certificate without its key is refused as dockerd refuses it.  Also pull --all-tags.
"""

import json
import shutil
import signal
import subprocess
import tempfile
import time
import uuid
from pathlib import Path

import pytest

from cli import DOCKER28, BerthCLI, need_docker28
from berth import wait_until
from daemon import shared_berthd
from test_registry import REGISTRY_BIN, free_port

ADDR = "10.141.0.1"


def sh(*args, **kw):
    return subprocess.run([str(a) for a in args], check=True, capture_output=True, text=True,
                          timeout=60, **kw)


@pytest.fixture(scope="module")
def netns():
    name = f"bt{uuid.uuid4().hex[:8]}"
    sh("ip", "netns", "add", name)
    try:
        sh("ip", "-n", name, "link", "set", "lo", "up")
        # an address of the namespace's own (on its loopback link: no dummy module here)
        sh("ip", "-n", name, "addr", "add", f"{ADDR}/32", "dev", "lo")
        yield name
    finally:
        subprocess.run(["ip", "netns", "del", name], check=False)


@pytest.fixture(scope="module")
def certs():
    d = Path(tempfile.mkdtemp(prefix="berth-tls-", dir="/tmp"))
    ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
    sh("openssl", "req", "-x509", *ec, "-keyout", d / "ca.key", "-out", d / "ca.crt",
       "-days", "2", "-subj", "/CN=berth test CA")
    for who, ext in (("server", f"subjectAltName=IP:{ADDR}"),
                     ("client", "extendedKeyUsage=clientAuth")):
        sh("openssl", "req", *ec, "-keyout", d / f"{who}.key", "-out", d / f"{who}.csr",
           "-subj", f"/CN=berth test {who}")
        (d / f"{who}.ext").write_text(ext + "\n")
        sh("openssl", "x509", "-req", "-in", d / f"{who}.csr", "-CA", d / "ca.crt", "-CAkey",
           d / "ca.key", "-CAcreateserial", "-out", d / f"{who}.crt", "-days", "2",
           "-extfile", d / f"{who}.ext")
    yield d
    shutil.rmtree(d)


class TLSRegistry:
    """docker-registry on ADDR:<port> in netns with TLS (and client certificates when asked)."""

    def __init__(self, netns, certs, client_cas=False):
        self.dir = Path(tempfile.mkdtemp(prefix="registry-tls-", dir="/tmp"))
        self.port = free_port()
        self.host = f"{ADDR}:{self.port}"
        cas = f"\n    clientcas:\n      - {certs}/ca.crt" if client_cas else ""
        (self.dir / "config.yml").write_text(f"""version: 0.1
log:
  level: info
storage:
  filesystem:
    rootdirectory: {self.dir}/storage
http:
  addr: {self.host}
  tls:
    certificate: {certs}/server.crt
    key: {certs}/server.key{cas}
""")
        self.log = open(self.dir / "registry.log", "wb")
        self.proc = subprocess.Popen(["ip", "netns", "exec", netns, REGISTRY_BIN, "serve",
                                      str(self.dir / "config.yml")], stdout=self.log,
                                     stderr=subprocess.STDOUT)
        up = lambda: subprocess.run(
            ["ip", "netns", "exec", netns, "curl", "-sk", "-o", "/dev/null",
             f"https://{self.host}/v2/"], timeout=5).returncode in (0, 35, 56)
        assert wait_until(up, timeout=15), (self.dir / "registry.log").read_text()

    def requests(self):
        """(method, path) of each request the registry answered, from its log."""
        import re
        self.log.flush()
        text = (self.dir / "registry.log").read_text(errors="replace")
        return re.findall(r'"(GET|HEAD|POST|PUT|PATCH|DELETE) (/v2/[^ "]*) HTTP', text)

    def stop(self):
        self.proc.terminate()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.log.close()
        shutil.rmtree(self.dir, ignore_errors=True)


@pytest.fixture(scope="module")
def bd(netns):
    # the registry's address is the namespace's own: direct, not through the closed proxy
    direct = f"127.0.0.1,localhost,::1,{ADDR}"
    yield from shared_berthd(netns=f"/run/netns/{netns}",
                             env={"no_proxy": direct, "NO_PROXY": direct})


@pytest.fixture(scope="module")
def cli(bd):
    c = BerthCLI(bd)
    yield c
    c.close()


@pytest.fixture(scope="module")
def reg(netns, certs):
    r = TLSRegistry(netns, certs)
    yield r
    r.stop()


@pytest.fixture(scope="module")
def mreg(netns, certs):
    r = TLSRegistry(netns, certs, client_cas=True)
    yield r
    r.stop()


def certs_dir(bd, host):
    return bd.dir / "certs.d" / host


@pytest.fixture
def trust(bd, certs):
    """certs.d/<host>/ca.crt for the hosts given; removed afterwards."""
    made = []

    def add(host, client=False):
        d = certs_dir(bd, host)
        d.mkdir(parents=True, exist_ok=True)
        shutil.copy(certs / "ca.crt", d / "ca.crt")
        if client:
            shutil.copy(certs / "client.crt", d / "client.cert")
            shutil.copy(certs / "client.key", d / "client.key")
        made.append(d)
    yield add
    shutil.rmtree(bd.dir / "certs.d", ignore_errors=True)


def ok(p):
    assert p.returncode == 0, (p.args, p.stdout, p.stderr)
    return p


def hup(bd, config):
    n = bd.log_text().count("reloaded the configuration")
    bd.write_config(config)
    bd.signal(signal.SIGHUP)
    assert wait_until(lambda: bd.log_text().count("reloaded the configuration") > n, 5)


def test_certs_d_ca(bd, cli, reg, trust):
    ref = f"{reg.host}/bb:1"
    # no CA for it: docker's refusal, nothing sent
    ok(cli.run("tag", "busybox", ref))
    p = cli.run("push", ref)
    assert p.returncode == 1
    assert f'"https://{reg.host}/v2/": tls: failed to verify certificate: x509: certificate ' \
        "signed by unknown authority" in p.stderr, p.stderr
    # the CA in certs.d/<host:port>: push, remove, pull back, run
    trust(reg.host)
    ok(cli.run("push", ref))
    ok(cli.run("rmi", ref))
    ok(cli.run("pull", ref))
    assert ok(cli.run("run", "--rm", ref, "echo", "pulled over TLS")).stdout == \
        "pulled over TLS\n"
    # a CA for another host does not help this one
    shutil.rmtree(bd.dir / "certs.d")
    trust(f"{ADDR}:1")
    ok(cli.run("rmi", ref))
    p = cli.run("pull", ref)
    assert p.returncode == 1 and "certificate signed by unknown authority" in p.stderr
    assert cli.run("image", "inspect", ref).returncode == 1


def test_insecure_registries(bd, cli, reg, trust):
    ref = f"{reg.host}/bb:ins"
    trust(reg.host)
    ok(cli.run("tag", "busybox", ref))
    ok(cli.run("push", ref))
    ok(cli.run("rmi", ref))
    shutil.rmtree(bd.dir / "certs.d")
    try:
        # an insecure registry: TLS without verification
        hup(bd, {"insecure-registries": [reg.host]})
        ok(cli.run("pull", ref))
        ok(cli.run("rmi", ref))
        # as a CIDR
        hup(bd, {"insecure-registries": ["10.141.0.0/24"]})
        ok(cli.run("pull", ref))
        ok(cli.run("rmi", ref))
    finally:
        hup(bd, {})
    p = cli.run("pull", ref)
    assert p.returncode == 1 and "certificate signed by unknown authority" in p.stderr


def test_client_certificate(bd, cli, mreg, trust):
    ref = f"{mreg.host}/bb:2"
    ok(cli.run("tag", "busybox", ref))
    # the CA alone: the registry wants a client certificate
    trust(mreg.host)
    p = cli.run("push", ref)
    assert p.returncode == 1 and f"https://{mreg.host}/v2/" in p.stderr, p.stderr
    # with one: push and pull
    trust(mreg.host, client=True)
    ok(cli.run("push", ref))
    ok(cli.run("rmi", ref))
    ok(cli.run("pull", ref))
    # a client certificate without its key, a key without its certificate: dockerd's words
    (certs_dir(bd, mreg.host) / "client.key").unlink()
    p = cli.run("pull", ref)
    assert p.returncode == 1 and "missing key client.key for client certificate client.cert. " \
        "CA certificates must use the extension .crt" in p.stderr, p.stderr
    (certs_dir(bd, mreg.host) / "client.cert").rename(certs_dir(bd, mreg.host) / "other.key")
    p = cli.run("pull", ref)
    assert p.returncode == 1 and \
        "missing client certificate other.cert for key other.key" in p.stderr, p.stderr


def test_pull_all_tags(bd, cli, reg, trust):
    trust(reg.host)
    repo = f"{reg.host}/many"
    for t in ("a", "b", "c"):
        ok(cli.run("tag", "busybox", f"{repo}:{t}"))
        ok(cli.run("push", f"{repo}:{t}"))
        ok(cli.run("rmi", f"{repo}:{t}"))
    p = ok(cli.run("pull", "-a", repo))
    lines = p.stdout.splitlines()
    for t in ("a", "b", "c"):
        assert f"{t}: Pulling from many" in lines, lines
        assert cli.run("image", "inspect", f"{repo}:{t}").returncode == 0
    assert sum(l.startswith("Digest: sha256:") for l in lines) == 3
    assert lines[-2:] == [f"Status: Downloaded newer image for {repo}", repo], lines
    assert "Using default tag" not in p.stdout
    # again: nothing new
    p = ok(cli.run("pull", "--all-tags", "-q", repo))
    assert p.stdout == f"{repo}\n"
    p = ok(cli.run("pull", "-a", repo))
    assert p.stdout.splitlines()[-2] == f"Status: Image is up to date for {repo}"
    p = cli.run("pull", "-a", f"{repo}:a")
    assert (p.returncode, p.stderr) == (1, "tag can't be used with --all-tags/-a\n")
    p = cli.run("pull", "-a", f"{reg.host}/nothing-here")
    assert p.returncode == 1 and "repository" in p.stderr and "not found" in p.stderr, p.stderr
    for t in ("a", "b", "c"):
        cli.run("rmi", f"{repo}:{t}")


@DOCKER28
def test_as_docker(bd, cli, reg, trust):
    need_docker28()
    ref = f"{reg.host}/bb:d"
    ok(cli.run("tag", "busybox", ref))
    p = cli.docker("push", ref)
    assert p.returncode == 1 and "certificate signed by unknown authority" in p.stderr
    trust(reg.host)
    ok(cli.docker("push", ref))
    ok(cli.docker("rmi", ref))
    p = ok(cli.docker("pull", "-a", f"{reg.host}/bb"))
    assert p.stdout.splitlines()[-1] == f"{reg.host}/bb"
    assert cli.run("image", "inspect", ref).returncode == 0
    p, b = cli.docker("pull", "-a", f"{reg.host}/bb:x"), cli.run("pull", "-a", f"{reg.host}/bb:x")
    assert (p.returncode, p.stderr) == (b.returncode, b.stderr)


def test_chunked_push(bd, cli, reg, trust):
    """A blob past 16 MiB goes up in PATCH chunks with their Content-Range, closed by an empty
    PUT ?digest=; what comes back from a pull is the same image."""
    trust(reg.host)
    ref = f"{reg.host}/big:1"
    ok(cli.run("run", "--name", "bigw", "busybox", "sh", "-c",
               "head -c 20000000 /dev/urandom > /big"))
    try:
        ok(cli.run("commit", "bigw", ref))
    finally:
        cli.run("rm", "-f", "bigw")
    want = json.loads(ok(cli.run("image", "inspect", ref)).stdout)[0]
    before = len(reg.requests())
    ok(cli.run("push", ref))
    reqs = reg.requests()[before:]
    patches = [p for m, p in reqs if m == "PATCH"]
    assert len(patches) == 2, reqs  # 16 MiB, then the rest
    assert any(m == "PUT" and "digest=" in p for m, p in reqs)
    ok(cli.run("rmi", ref))
    ok(cli.run("pull", ref))
    got = json.loads(ok(cli.run("image", "inspect", ref)).stdout)[0]
    assert got["RootFS"] == want["RootFS"] and got["Id"] == want["Id"]
    p = ok(cli.run("run", "--rm", ref, "wc", "-c", "/big"))
    assert p.stdout.split()[0] == "20000000"
    ok(cli.run("rmi", ref))
