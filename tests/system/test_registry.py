"""berthd against registries: Debian's docker-registry (distribution 2.8) started here on a free
loopback port with its own storage, skopeo on the other end, the docker CLI 28 as the client, and
a fake registry in this file for hostile answers.

What is checked is the effect: the registry's own storage and API (manifests, blobs), what skopeo
copies out and verifies, berthd's store (images.json, blobs, layers) and, for every refused
answer, that the data root is exactly as before.  Running a pulled image waits for the container
endpoints; the pulled images are checked through inspect, save and the store instead.
"""

import base64
import gzip
import hashlib
import http.server
import io
import json
import os
import shutil
import socket
import socketserver
import subprocess
import tarfile
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

import pytest

import test_images_api as tia
from berth import wait_until
from daemon import DOCKER_CLI, berthd_binary
from imagebuild import ARCH, File, Image, compress, docker_archive, layer_tar, sha256

REGISTRY_BIN = "/usr/bin/docker-registry"
SKOPEO = shutil.which("skopeo") or "/usr/bin/skopeo"

pytestmark = [
    pytest.mark.skipif(not os.access(berthd_binary(), os.X_OK), reason="berthd not built"),
]


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# ---------------------------------------------------------------------------------------------
# docker-registry


class Registry:
    """Debian's docker-registry on 127.0.0.1:<free port>, storage in a temp dir; extra: more of
    its config (auth)."""

    def __init__(self, extra=""):
        self.dir = Path(tempfile.mkdtemp(prefix="registry-", dir="/tmp"))
        self.port = free_port()
        self.host = f"127.0.0.1:{self.port}"
        (self.dir / "config.yml").write_text(f"""version: 0.1
log:
  level: warn
storage:
  filesystem:
    rootdirectory: {self.dir}/storage
  delete:
    enabled: true
http:
  addr: 127.0.0.1:{self.port}
{extra}""")
        self.log = open(self.dir / "registry.log", "wb")
        self.proc = subprocess.Popen([REGISTRY_BIN, "serve", str(self.dir / "config.yml")],
                                     stdout=self.log, stderr=subprocess.STDOUT)
        ok = wait_until(self._up, timeout=15)
        assert ok, (self.dir / "registry.log").read_text()

    def _up(self):
        try:
            urllib.request.urlopen(f"http://{self.host}/v2/", timeout=1)
            return True
        except urllib.error.HTTPError:
            return True  # 401 with auth: it answers
        except OSError:
            return False

    def stop(self):
        self.proc.terminate()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.log.close()
        shutil.rmtree(self.dir, ignore_errors=True)

    # -- the registry's API, as a second opinion

    def req(self, method, path, data=None, headers=None, auth=None):
        r = urllib.request.Request(f"http://{self.host}{path}", data=data, method=method,
                                   headers=dict(headers or {}))
        if auth:
            r.add_header("Authorization",
                         "Basic " + base64.b64encode(f"{auth[0]}:{auth[1]}".encode()).decode())
        try:
            with urllib.request.urlopen(r, timeout=30) as resp:
                return resp.status, dict(resp.headers), resp.read()
        except urllib.error.HTTPError as e:
            return e.code, dict(e.headers), e.read()

    def manifest(self, repo, ref, auth=None):
        accept = ", ".join(["application/vnd.oci.image.index.v1+json",
                            "application/vnd.docker.distribution.manifest.list.v2+json",
                            "application/vnd.oci.image.manifest.v1+json",
                            "application/vnd.docker.distribution.manifest.v2+json"])
        status, headers, body = self.req("GET", f"/v2/{repo}/manifests/{ref}",
                                         headers={"Accept": accept}, auth=auth)
        assert status == 200, (status, body)
        return json.loads(body), body

    def blob(self, repo, digest, auth=None):
        status, _, body = self.req("GET", f"/v2/{repo}/blobs/{digest}", auth=auth)
        assert status == 200, (status, body)
        assert sha256(body) == digest
        return body

    def put_blob(self, repo, data):
        d = sha256(data)
        status, headers, _ = self.req("POST", f"/v2/{repo}/blobs/uploads/", data=b"")
        assert status == 202
        loc = headers["Location"]
        sep = "&" if "?" in loc else "?"
        path = loc.split(self.host, 1)[-1] if "://" in loc else loc
        status, _, body = self.req("PUT", f"{path}{sep}digest={d}", data=data,
                                   headers={"Content-Type": "application/octet-stream"})
        assert status == 201, body
        return d

    def put_manifest(self, repo, ref, doc, media_type):
        body = json.dumps(doc).encode()
        status, _, resp = self.req("PUT", f"/v2/{repo}/manifests/{ref}", data=body,
                                   headers={"Content-Type": media_type})
        assert status == 201, resp
        return sha256(body)

    def push_image(self, repo, tag, img, compression="gzip"):
        """Put an imagebuild.Image with Docker's schema 2 (gzip) or OCI media types."""
        layers = []
        for l in img.layers:
            data = compress(l, compression)
            mt = {"gzip": "application/vnd.docker.image.rootfs.diff.tar.gzip",
                  "zstd": "application/vnd.oci.image.layer.v1.tar+zstd",
                  None: "application/vnd.oci.image.layer.v1.tar"}[compression]
            layers.append({"mediaType": mt, "size": len(data),
                           "digest": self.put_blob(repo, data)})
        cfg = img.config()
        mt = "application/vnd.docker.distribution.manifest.v2+json"
        doc = {"schemaVersion": 2, "mediaType": mt,
               "config": {"mediaType": "application/vnd.docker.container.image.v1+json",
                          "size": len(cfg), "digest": self.put_blob(repo, cfg)},
               "layers": layers}
        return self.put_manifest(repo, tag, doc, mt), doc


@pytest.fixture(scope="module")
def registry():
    r = Registry()
    yield r
    r.stop()


# ---------------------------------------------------------------------------------------------
# images and helpers


@pytest.fixture(scope="module")
def layer():
    return tia.rootfs_layer()


def load(b, img):
    status, _, body = tia.post_tar(b, "/images/load?quiet=1", docker_archive([img]))
    assert status == 200 and b"error" not in body, body


def stream(body):
    """The JSON messages of a progress stream."""
    return [json.loads(l) for l in body.decode().splitlines() if l.strip()]


def pull(b, ref, tag=None, platform=None, auth=None):
    from urllib.parse import quote
    q = f"/images/create?fromImage={quote(ref, safe='')}"
    if tag:
        q += f"&tag={quote(tag, safe='')}"
    if platform:
        q += f"&platform={quote(platform, safe='')}"
    headers = {}
    if auth is not None:
        headers["X-Registry-Auth"] = base64.urlsafe_b64encode(json.dumps(auth).encode()).decode()
    return b.http("POST", q, headers=headers, timeout=120)


def push(b, name, tag=None, auth=None):
    from urllib.parse import quote
    q = f"/images/{name}/push"
    if tag:
        q += f"?tag={quote(tag, safe='')}"
    headers = {}
    if auth is not None:
        headers["X-Registry-Auth"] = base64.urlsafe_b64encode(json.dumps(auth).encode()).decode()
    return b.http("POST", q, headers=headers, timeout=120)


def inspect(b, name):
    status, _, body = b.http("GET", f"/images/{name}/json")
    assert status == 200, body
    return json.loads(body)


def saved_config(b, name):
    """The config blob of name in a docker save of it."""
    status, _, body = b.http("GET", f"/images/{name}/get", timeout=60)
    assert status == 200
    with tarfile.open(fileobj=io.BytesIO(body)) as t:
        man = json.load(t.extractfile("manifest.json"))
        return t.extractfile(man[0]["Config"]).read()


def small_image(tag, text=b"hi\n", layer0=None):
    layers = ([layer0] if layer0 else []) + [layer_tar([File("hello", text)])]
    return Image(layers, tags=[tag])


# ---------------------------------------------------------------------------------------------
# push, remove, pull back


def test_push_rmi_pull_round_trip(berthd, registry, layer):
    name = f"{registry.host}/roundtrip"
    img = small_image(f"{name}:1", layer0=layer)
    load(berthd, img)
    before = inspect(berthd, f"{name}:1")

    p = berthd.docker("push", f"{name}:1", timeout=120)
    assert "1: digest: sha256:" in p.stdout
    # the registry has what berthd sent: the config and the layers, byte for byte
    man, raw = registry.manifest("roundtrip", "1")
    assert man["config"]["digest"] == img.id
    assert registry.blob("roundtrip", img.id) == img.config()
    assert [registry.blob("roundtrip", l["digest"]) for l in man["layers"]] == img.layers
    pushed_digest = sha256(raw)
    assert f"digest: {pushed_digest}" in p.stdout

    berthd.docker("rmi", f"{name}:1")
    status, _, _ = berthd.http("GET", f"/images/{name}:1/json")
    assert status == 404

    p = berthd.docker("pull", f"{name}:1", timeout=120)
    assert f"Digest: {pushed_digest}" in p.stdout, p.stdout
    assert f"Status: Downloaded newer image for {name}:1" in p.stdout
    after = inspect(berthd, f"{name}:1")
    assert after["Id"] == before["Id"] == img.id
    assert after["RootFS"]["Layers"] == [sha256(l) for l in img.layers]
    assert f"{name}@{pushed_digest}" in after["RepoDigests"]
    assert saved_config(berthd, f"{name}:1") == img.config()

    # a second pull finds everything there
    p = berthd.docker("pull", f"{name}:1", timeout=120)
    assert f"Status: Image is up to date for {name}:1" in p.stdout

    # by digest: the image gets name@digest and no tag
    berthd.docker("rmi", f"{name}:1")
    p = berthd.docker("pull", f"{name}@{pushed_digest}", timeout=120)
    assert f"Status: Downloaded newer image for {name}@{pushed_digest}" in p.stdout, p.stdout
    got = inspect(berthd, f"{name}@{pushed_digest}")
    assert got["Id"] == img.id and got["RepoTags"] == []
    assert got["RepoDigests"] == [f"{name}@{pushed_digest}"]
    status, _, body = pull(berthd, name, tag="sha256:" + "0" * 64)
    assert status == 404 and b"not found" in body, body


# ---------------------------------------------------------------------------------------------
# skopeo on the other end


def umoci_layout(where, tag="t"):
    """An OCI layout made by umoci from a busybox root filesystem: where/lay:tag."""
    lay, bundle = where / "lay", where / "bundle"
    run = lambda *a: subprocess.run(["umoci", *a], check=True, capture_output=True, timeout=60)
    run("init", "--layout", str(lay))
    run("new", "--image", f"{lay}:{tag}")
    run("unpack", "--image", f"{lay}:{tag}", str(bundle))
    (bundle / "rootfs" / "bin").mkdir(parents=True)
    shutil.copy("/bin/busybox", bundle / "rootfs" / "bin" / "busybox")
    run("repack", "--image", f"{lay}:{tag}", str(bundle))
    run("config", "--image", f"{lay}:{tag}", "--config.cmd", "/bin/busybox",
        "--config.cmd", "sh", "--architecture", ARCH, "--os", "linux")
    return lay


def test_pull_what_skopeo_pushed(berthd, registry, tmp_path):
    lay = umoci_layout(tmp_path)
    subprocess.run([SKOPEO, "copy", "--dest-tls-verify=false", f"oci:{lay}:t",
                    f"docker://{registry.host}/from-skopeo:1"], check=True,
                   capture_output=True, timeout=120)
    man, raw = registry.manifest("from-skopeo", "1")
    config = json.loads(registry.blob("from-skopeo", man["config"]["digest"]))

    p = berthd.docker("pull", f"{registry.host}/from-skopeo:1", timeout=120)
    assert f"Digest: {sha256(raw)}" in p.stdout
    img = inspect(berthd, f"{registry.host}/from-skopeo:1")
    assert img["Id"] == man["config"]["digest"]
    assert img["RootFS"]["Layers"] == config["rootfs"]["diff_ids"]
    # the layer is unpacked in the store: busybox is there, byte for byte
    chain = config["rootfs"]["diff_ids"][-1] if len(config["rootfs"]["diff_ids"]) == 1 else None
    if chain:
        f = berthd.data_root / "layers" / chain[7:] / "diff" / "bin" / "busybox"
        assert f.read_bytes() == Path("/bin/busybox").read_bytes()


def test_skopeo_copies_out_what_berth_pushed(berthd, registry, layer, tmp_path):
    name = f"{registry.host}/to-skopeo"
    img = small_image(f"{name}:2", text=b"for skopeo\n", layer0=layer)
    load(berthd, img)
    berthd.docker("push", f"{name}:2", timeout=120)
    out = tmp_path / "out"
    # skopeo checks every blob's digest as it copies
    subprocess.run([SKOPEO, "copy", "--src-tls-verify=false", f"docker://{name}:2",
                    f"oci:{out}:2"], check=True, capture_output=True, timeout=120)
    index = json.loads((out / "index.json").read_text())
    mdig = index["manifests"][0]["digest"]
    man = json.loads((out / "blobs" / "sha256" / mdig[7:]).read_bytes())
    assert man["config"]["digest"] == img.id
    assert (out / "blobs" / "sha256" / img.id[7:]).read_bytes() == img.config()
    got = [(out / "blobs" / "sha256" / l["digest"][7:]).read_bytes() for l in man["layers"]]
    # skopeo compresses uncompressed layers for an OCI layout: compare the tars
    got = [gzip.decompress(g) if g[:2] == b"\x1f\x8b" else g for g in got]
    assert got == img.layers
    info = json.loads(subprocess.run([SKOPEO, "inspect", "--tls-verify=false",
                                      f"docker://{name}:2"], check=True, capture_output=True,
                                     timeout=60).stdout)
    rman, _ = registry.manifest("to-skopeo", "2")
    assert info["Layers"] == [l["digest"] for l in rman["layers"]] == \
        [sha256(l) for l in img.layers]


# ---------------------------------------------------------------------------------------------
# an index: the right platform


def test_multi_platform_index_pulls_the_right_platform(berthd, registry):
    other_arch = "arm64" if ARCH != "arm64" else "amd64"
    mine = Image([layer_tar([File("which", b"mine\n")])], extra={"architecture": ARCH})
    other = Image([layer_tar([File("which", b"other\n")])], extra={"architecture": other_arch})
    d_mine, m_mine = registry.push_image("multi", "mine", mine)
    d_other, m_other = registry.push_image("multi", "other", other, compression="zstd")
    mt = "application/vnd.docker.distribution.manifest.v2+json"
    index = {"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json",
             "manifests": [
                 {"mediaType": mt, "digest": d_other, "size": len(json.dumps(m_other)),
                  "platform": {"os": "linux", "architecture": other_arch}},
                 {"mediaType": mt, "digest": d_mine, "size": len(json.dumps(m_mine)),
                  "platform": {"os": "linux", "architecture": ARCH}}]}
    registry.put_manifest("multi", "both", index, "application/vnd.oci.image.index.v1+json")

    status, _, body = pull(berthd, f"{registry.host}/multi", "both")
    assert status == 200, body
    msgs = stream(body)
    assert not [m for m in msgs if "error" in m], msgs
    assert {"status": f"Digest: {d_mine}"} in msgs
    assert inspect(berthd, f"{registry.host}/multi:both")["Id"] == mine.id

    status, _, body = pull(berthd, f"{registry.host}/multi", "both",
                           platform=f"linux/{other_arch}")
    assert status == 200 and b"error" not in body, body
    got = inspect(berthd, f"{registry.host}/multi:both")
    assert got["Id"] == other.id and got["Architecture"] == other_arch
    # the zstd layer was unpacked
    chain = sha256(other.layers[0])
    assert (berthd.data_root / "layers" / chain[7:] / "diff" / "which").read_bytes() == b"other\n"

    status, _, body = pull(berthd, f"{registry.host}/multi", "both", platform="linux/s390x")
    assert status == 404
    assert json.loads(body)["message"] == \
        "no matching manifest for linux/s390x in the manifest list entries"


def test_pull_errors_in_dockers_words(berthd, registry):
    p = berthd.docker("pull", f"{registry.host}/nothing-here:1", check=False)
    assert p.returncode == 1
    assert (f"manifest for {registry.host}/nothing-here:1 not found: manifest unknown"
            in p.stderr), p.stderr
    status, _, body = pull(berthd, "Bad:Name")
    assert status == 400
    status, _, body = pull(berthd, "scratch")
    assert status == 403


# ---------------------------------------------------------------------------------------------
# basic auth (htpasswd)


def bcrypt_hash(password):
    import warnings
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        import crypt
        return crypt.crypt(password, crypt.mksalt(crypt.METHOD_BLOWFISH))


@pytest.fixture(scope="module")
def auth_registry():
    d = Path(tempfile.mkdtemp(prefix="htpasswd-", dir="/tmp"))
    (d / "htpasswd").write_text(f"alice:{bcrypt_hash('s3cret')}\n")
    r = Registry(extra=f"""auth:
  htpasswd:
    realm: berth-test
    path: {d}/htpasswd
""")
    yield r
    r.stop()
    shutil.rmtree(d, ignore_errors=True)


def docker_login(b, host, user, password):
    env = dict(os.environ, DOCKER_HOST=f"unix://{b.sock}", DOCKER_CONFIG=str(b.dir / "docker-config"))
    return subprocess.run([DOCKER_CLI, "login", "-u", user, "--password-stdin", host],
                          input=password, capture_output=True, text=True, env=env, timeout=60)


def test_login_basic_auth(berthd, auth_registry):
    host = auth_registry.host
    status, _, body = berthd.http("POST", "/auth", body=json.dumps(
        {"username": "alice", "password": "wrong", "serveraddress": host}),
        headers={"Content-Type": "application/json"})
    assert status == 401
    assert json.loads(body)["message"] == \
        f"login attempt to http://{host}/v2/ failed with status: 401 Unauthorized"
    status, _, body = berthd.http("POST", "/auth", body=json.dumps(
        {"username": "alice", "password": "s3cret", "serveraddress": host}),
        headers={"Content-Type": "application/json"})
    assert status == 200 and json.loads(body)["Status"] == "Login Succeeded", body

    # the docker CLI: refused with docker's words, then accepted and stored in its config.json
    p = docker_login(berthd, host, "alice", "nope")
    assert p.returncode == 1
    assert f"login attempt to http://{host}/v2/ failed with status: 401 Unauthorized" in p.stderr
    p = docker_login(berthd, host, "alice", "s3cret")
    assert p.returncode == 0 and "Login Succeeded" in p.stdout, p.stderr
    auths = json.loads((berthd.dir / "docker-config" / "config.json").read_text())["auths"]
    assert host in auths


def test_push_pull_with_credentials(berthd, auth_registry, layer):
    host = auth_registry.host
    name = f"{host}/private"
    img = small_image(f"{name}:1", text=b"secret\n")
    load(berthd, img)
    good = {"username": "alice", "password": "s3cret", "serveraddress": host}

    # anonymous and a wrong password are refused; nothing reaches the registry
    status, _, body = push(berthd, name, "1")
    assert b"errorDetail" in body and b"unauthorized" in body, body
    status, _, body = push(berthd, name, "1", auth=dict(good, password="bad"))
    assert b"errorDetail" in body and b"unauthorized" in body, body
    assert auth_registry.req("GET", "/v2/private/manifests/1", auth=("alice", "s3cret"))[0] == 404

    # the docker CLI sends X-Registry-Auth after docker login
    assert docker_login(berthd, host, "alice", "s3cret").returncode == 0
    berthd.docker("push", f"{name}:1", timeout=120)
    man, _ = auth_registry.manifest("private", "1", auth=("alice", "s3cret"))
    assert man["config"]["digest"] == img.id

    berthd.docker("rmi", f"{name}:1")
    before = tia.listing(berthd.data_root)
    status, _, body = pull(berthd, name, "1")
    assert status == 404
    assert json.loads(body)["message"].startswith(
        f"pull access denied for {name}, repository does not exist or may require 'docker login'")
    status, _, body = pull(berthd, name, "1", auth=dict(good, password="bad"))
    assert status == 404 and b"pull access denied" in body
    assert tia.listing(berthd.data_root) == before
    status, _, body = pull(berthd, name, "1", auth=good)
    assert status == 200 and b"Downloaded newer image" in body, body
    assert inspect(berthd, f"{name}:1")["Id"] == img.id
    berthd.docker("rmi", f"{name}:1")
    berthd.docker("pull", f"{name}:1", timeout=120)
    assert inspect(berthd, f"{name}:1")["Id"] == img.id


# ---------------------------------------------------------------------------------------------
# hostile registries: a fake one that answers what each repository name asks for


class FakeRegistry:
    """An HTTP registry on a free loopback port serving one small image (two gzip layers) per
    repository, spoilt as the repository's name says."""

    def __init__(self):
        self.l0 = layer_tar([File("a", b"first layer\n" * 1000)])
        self.l1 = layer_tar([File("b", os.urandom(300000))])  # incompressible
        self.z0, self.z1 = gzip.compress(self.l0, mtime=0), gzip.compress(self.l1, mtime=0)
        self.img = Image([self.l0, self.l1])
        self.cfg = self.img.config()
        lie = Image([self.l0, self.l1], diff_ids=[sha256(self.l0), sha256(b"not the tar")])
        self.lie_cfg = lie.config()
        self.blobs = {sha256(b): b for b in (self.z0, self.z1, self.cfg, self.lie_cfg)}
        self.requests = []
        self.cut = set()  # repositories whose layer was cut once already
        fake = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *a):
                pass

            def handle(self):
                try:
                    super().handle()
                except OSError:  # the connections this fake cuts on purpose
                    pass

            def send(self, status, body=b"", ctype="application/json", length=None,
                     headers=()):
                self.send_response(status)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(body) if length is None else length))
                for k, v in headers:
                    self.send_header(k, v)
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(body)

            def do_GET(self):
                fake.requests.append((self.path, self.headers.get("Range")))
                parts = self.path.split("/")
                if self.path == "/v2/":
                    return self.send(200, b"{}")
                # /v2/<repo>/manifests/<ref> | /v2/<repo>/blobs/<digest>
                repo, kind, ref = parts[2], parts[3], parts[4]
                if kind == "manifests":
                    return fake.manifest(self, repo, ref)
                return fake.blob(self, repo, ref)

            do_HEAD = do_GET

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.host = f"127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def stop(self):
        self.server.shutdown()
        self.server.server_close()

    def doc(self, repo):
        mt = "application/vnd.docker.image.rootfs.diff.tar.gzip"
        cfg = self.lie_cfg if repo == "difflie" else self.cfg
        layers = [{"mediaType": mt, "size": len(z), "digest": sha256(z)}
                  for z in (self.z0, self.z1)]
        if repo == "layertype":
            layers[1]["mediaType"] = "application/vnd.example.unknown"
        doc = {"schemaVersion": 2,
               "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
               "config": {"mediaType": "application/vnd.docker.container.image.v1+json",
                          "size": len(cfg), "digest": sha256(cfg)},
               "layers": layers}
        if repo == "mediatype":
            doc["mediaType"] = "application/x-weird"
        if repo == "huge":
            doc["annotations"] = {"pad": "x" * (5 << 20)}
        return json.dumps(doc).encode()

    def manifest(self, h, repo, ref):
        if repo == "redirect":
            return h.send(302, b"", headers=[("Location", h.path)])
        body = self.doc(repo)
        ctype = "application/x-weird" if repo == "mediatype" else \
            "application/vnd.docker.distribution.manifest.v2+json"
        h.send(200, body, ctype=ctype)

    def blob(self, h, repo, digest):
        data = self.blobs.get(digest)
        if data is None:
            return h.send(404, b'{"errors":[{"code":"BLOB_UNKNOWN","message":"blob unknown"}]}')
        if digest != sha256(self.z1):
            return h.send(200, data, ctype="application/octet-stream")
        half = len(data) // 2
        if repo in ("flaky", "norange") and repo in self.cut:
            rng = h.headers.get("Range")
            if repo == "flaky" and rng and rng.startswith("bytes=") and rng.endswith("-"):
                start = int(rng[6:-1])
                return h.send(206, data[start:], ctype="application/octet-stream", headers=[
                    ("Content-Range", f"bytes {start}-{len(data) - 1}/{len(data)}")])
            return h.send(200, data, ctype="application/octet-stream")
        if repo in ("flaky", "norange"):
            self.cut.add(repo)
            repo = "truncated"
        if repo == "baddigest":
            return h.send(200, data[:half] + bytes([data[half] ^ 1]) + data[half + 1:],
                          ctype="application/octet-stream")
        if repo == "short":
            return h.send(200, data[:half], ctype="application/octet-stream")
        if repo == "long":
            return h.send(200, data + b"more", ctype="application/octet-stream")
        if repo == "redirectblob":
            return h.send(307, b"", headers=[("Location", h.path)])
        if repo in ("truncated", "disconnect"):
            h.send_response(200)
            h.send_header("Content-Type", "application/octet-stream")
            h.send_header("Content-Length", str(len(data)))
            h.end_headers()
            h.wfile.write(data[:half])
            h.wfile.flush()
            if repo == "disconnect":  # a reset, not a clean close
                import struct
                h.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                                        struct.pack("ii", 1, 0))
            h.close_connection = True
            h.connection.shutdown(socket.SHUT_RDWR) if repo == "truncated" else None
            h.connection.close()
            return
        h.send(200, data, ctype="application/octet-stream")


@pytest.fixture(scope="module")
def fake():
    f = FakeRegistry()
    yield f
    f.stop()


def test_fake_registry_good_pull(berthd, fake):
    """The fake's unspoilt image pulls: the spoilt ones below fail for their spoiling alone."""
    status, _, body = pull(berthd, f"{fake.host}/good", "1")
    assert status == 200 and b"Downloaded newer image" in body, body
    assert inspect(berthd, f"{fake.host}/good:1")["Id"] == fake.img.id


@pytest.mark.parametrize("repo", ["flaky", "norange"])
def test_broken_transfer_is_resumed(berthd, fake, repo):
    """A layer cut off half-way is asked for again: the rest with Range where the registry
    answers 206, the whole again where it answers 200."""
    del fake.requests[:]
    status, _, body = pull(berthd, f"{fake.host}/{repo}", "1")
    assert status == 200 and b"Downloaded newer image" in body, body
    assert inspect(berthd, f"{fake.host}/{repo}:1")["Id"] == fake.img.id
    z1 = f"/v2/{repo}/blobs/{sha256(fake.z1)}"
    tries = [rng for path, rng in fake.requests if path == z1]
    assert len(tries) == 2 and tries[0] is None, tries
    # what came before the cut is kept: the second request asks for the rest
    assert tries[1].startswith("bytes=") and 0 < int(tries[1][6:-1]) <= len(fake.z1) // 2, tries
    # the layer is whole in the store
    assert any((d / "diff" / "b").exists() for d in (berthd.data_root / "layers").iterdir())


HOSTILE = {
    "baddigest": "filesystem layer verification failed for digest",
    "short": "filesystem layer verification failed for digest",
    "long": "more than the",
    "truncated": "fetch blob",
    "disconnect": "fetch blob",
    "huge": "larger than 4194304 bytes",
    "redirect": "redirects",
    "redirectblob": "redirects",
    "mediatype": "unsupported manifest media type and no default available: application/x-weird",
    "layertype": "unsupported media type 'application/vnd.example.unknown'",
    "difflie": "diff id mismatch",
}


@pytest.mark.parametrize("repo", sorted(HOSTILE))
def test_hostile_registry_leaves_the_store_unchanged(berthd, fake, repo):
    # a layer the store has already stays (and is not what breaks)
    before = tia.listing(berthd.data_root)
    status, _, body = pull(berthd, f"{fake.host}/{repo}", "1")
    if status == 200:
        msgs = stream(body)
        errors = [m["error"] for m in msgs if "error" in m]
        assert errors, msgs
        assert not any("Status: Downloaded" in m.get("status", "") for m in msgs)
        message = errors[-1]
    else:
        message = json.loads(body)["message"]
    assert HOSTILE[repo] in message, message
    assert tia.listing(berthd.data_root) == before
    status, _, _ = berthd.http("GET", f"/images/{fake.host}/{repo}:1/json")
    assert status == 404
    assert berthd.http("GET", "/_ping")[0] == 200


# ---------------------------------------------------------------------------------------------
# bearer tokens: a token server here, the registry configured to trust its certificate


class TokenServer:
    """Docker's token protocol: GET /token?service=&scope=... with basic credentials (alice /
    s3cret); answers a JWT (RS256, x5c) granting the scopes asked for, or nothing to anonymous
    callers.  Wrong credentials: 401."""

    def __init__(self, service, issuer):
        import datetime
        from cryptography import x509
        from cryptography.hazmat.primitives import hashes, serialization
        from cryptography.hazmat.primitives.asymmetric import rsa
        from cryptography.x509.oid import NameOID

        self.dir = Path(tempfile.mkdtemp(prefix="tokens-", dir="/tmp"))
        self.key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "berth-test-tokens")])
        now = datetime.datetime.utcnow()
        cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
                .public_key(self.key.public_key()).serial_number(x509.random_serial_number())
                .not_valid_before(now - datetime.timedelta(days=1))
                .not_valid_after(now + datetime.timedelta(days=1))
                .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
                .sign(self.key, hashes.SHA256()))
        self.cert_pem = self.dir / "cert.pem"
        self.cert_pem.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
        self.x5c = base64.b64encode(cert.public_bytes(serialization.Encoding.DER)).decode()
        self.service, self.issuer = service, issuer
        self.requests = []
        tok = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *a):
                pass

            def do_GET(self):
                from urllib.parse import parse_qs, urlparse
                q = parse_qs(urlparse(self.path).query)
                tok.requests.append(q)
                authz = self.headers.get("Authorization", "")
                user = None
                if authz.startswith("Basic "):
                    u, _, pw = base64.b64decode(authz[6:]).decode().partition(":")
                    if (u, pw) != ("alice", "s3cret"):
                        body = b'{"details":"incorrect username or password"}'
                        self.send_response(401)
                        self.send_header("Content-Length", str(len(body)))
                        self.end_headers()
                        self.wfile.write(body)
                        return
                    user = u
                body = json.dumps({"token": tok.token(user, q.get("scope", [])),
                                   "expires_in": 300}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.realm = f"http://127.0.0.1:{self.server.server_address[1]}/token"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def token(self, user, scopes):
        import jwt
        access = []
        for sc in scopes if user else []:
            for one in sc.split(" "):
                typ, name, actions = one.split(":")
                access.append({"type": typ, "name": name, "actions": actions.split(",")})
        now = int(time.time())
        claims = {"iss": self.issuer, "sub": user or "", "aud": self.service, "exp": now + 300,
                  "nbf": now - 10, "iat": now, "jti": os.urandom(8).hex(), "access": access}
        return jwt.encode(claims, self.key, algorithm="RS256", headers={"x5c": [self.x5c]})

    def stop(self):
        self.server.shutdown()
        self.server.server_close()
        shutil.rmtree(self.dir, ignore_errors=True)


@pytest.fixture(scope="module")
def token_registry():
    t = TokenServer("berth-registry", "berth-tokens")
    r = Registry(extra=f"""auth:
  token:
    realm: {t.realm}
    service: {t.service}
    issuer: {t.issuer}
    rootcertbundle: {t.cert_pem}
""")
    r.tokens = t
    yield r
    r.stop()
    t.stop()


def test_bearer_token_login_push_pull(berthd, token_registry):
    host = token_registry.host
    tokens = token_registry.tokens
    name = f"{host}/tokened"
    img = small_image(f"{name}:1", text=b"by token\n")
    load(berthd, img)

    assert docker_login(berthd, host, "alice", "wrong").returncode == 1
    p = docker_login(berthd, host, "alice", "s3cret")
    assert p.returncode == 0 and "Login Succeeded" in p.stdout, p.stderr

    del tokens.requests[:]
    berthd.docker("push", f"{name}:1", timeout=120)
    # one token for the whole push (its scope asked for pull and push), reused for every request
    assert len(tokens.requests) == 1, tokens.requests
    assert tokens.requests[0]["scope"] == ["repository:tokened:pull,push"]
    assert tokens.requests[0]["service"] == ["berth-registry"]

    berthd.docker("rmi", f"{name}:1")
    before = tia.listing(berthd.data_root)
    status, _, body = pull(berthd, name, "1")  # anonymous: a token without access
    assert status == 404 and b"pull access denied" in body, body
    assert tia.listing(berthd.data_root) == before

    del tokens.requests[:]
    berthd.docker("pull", f"{name}:1", timeout=120)
    assert inspect(berthd, f"{name}:1")["Id"] == img.id
    assert len(tokens.requests) == 1 and tokens.requests[0]["scope"] == ["repository:tokened:pull"]


def test_a_docker_io_pull_in_the_tests_stays_on_loopback(make_berthd):
    """The fixture's safety net: berthd's traffic to a registry off this machine goes to a proxy
    on loopback (a closed port by default).  Here a listener plays that proxy and sees the
    CONNECT that would otherwise have left the machine."""
    import socket
    import threading
    lsock = socket.socket()
    lsock.bind(("127.0.0.1", 0))
    lsock.listen(1)
    lsock.settimeout(20)
    seen = []

    def accept():
        try:
            conn, _ = lsock.accept()
            seen.append(conn.recv(4096))
            conn.close()
        except OSError:
            pass

    t = threading.Thread(target=accept)
    t.start()
    proxy = f"http://127.0.0.1:{lsock.getsockname()[1]}"
    b = make_berthd(env={"https_proxy": proxy, "HTTPS_PROXY": proxy})
    status, _, body = b.http("POST", "/images/create?fromImage=busybox&tag=latest", timeout=60)
    t.join(30)
    lsock.close()
    assert seen and seen[0].startswith(b"CONNECT registry-1.docker.io:443"), seen
    assert b"registry-1.docker.io" in body and status != 200 or b"error" in body.lower()
