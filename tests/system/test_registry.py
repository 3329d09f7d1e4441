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
