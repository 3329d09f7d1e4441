"""berthd's images as their clients meet them: the docker CLI 28, python3-docker 5.0 and raw HTTP
over berthd's socket -- load, list, inspect, history, tag, rmi, prune, save, import, system df,
image events -- with busybox images made here (no registry, no internet).

What is checked is the effect: images.json, the blobs and layers under the data root, what a
second daemon (berthd or the real dockerd) makes of an archive, and for every refused input that
the data root is exactly as before and berthd still serves.
"""

import gzip
import hashlib
import io
import json
import os
import socket
import subprocess
import tarfile
import threading
import time
import uuid
from pathlib import Path
from urllib.parse import quote

import pytest

from berth import CACHE, SCRIPTS, wait_until
from daemon import DOCKER_CLI, berthd_binary
from imagebuild import (ARCH, Dir, File, Image, Symlink, compress, docker_archive, layer_tar,
                        oci_layout, sha256)

pytestmark = pytest.mark.skipif(not os.access(berthd_binary(), os.X_OK),
                                reason="berthd not built")

BB_CREATED = "2024-01-02T03:04:05Z"
CHILD_CREATED = "2024-02-03T04:05:06Z"


# ---------------------------------------------------------------------------------------------
# images made here


def rootfs_layer():
    """The cached busybox root filesystem (scripts/mkrootfs.sh) as an uncompressed layer tar."""
    root = CACHE / "rootfs"
    subprocess.run([str(SCRIPTS / "mkrootfs.sh"), str(root)], check=True, timeout=120)
    buf = io.BytesIO()

    def owner(ti):
        ti.uid = ti.gid = 0
        ti.uname = ti.gname = "root"
        ti.mtime = 0
        return ti

    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for entry in sorted(os.listdir(root)):
            tar.add(root / entry, arcname=entry, filter=owner)
    return buf.getvalue()


class Images:
    """busybox:latest (one layer, a label) and child:1/child:2 (busybox plus a layer), as
    docker-archives (the family one records busybox as the child's parent) and as the root
    filesystem tar `docker import` takes."""

    def __init__(self):
        self.layer = rootfs_layer()
        self.bb = Image([self.layer], tags=["busybox:latest"], extra={
            "created": BB_CREATED,
            "config": {"Env": ["PATH=/usr/sbin:/usr/bin:/sbin:/bin"], "Cmd": ["sh"],
                       "Labels": {"org.example.kind": "base"}}})
        self.child = Image([self.layer, layer_tar([File("hello", b"hi\n")])],
                           tags=["child:1", "child:2"], parent=self.bb,
                           extra={"created": CHILD_CREATED})
        self.bb_tar = docker_archive([self.bb])
        self.child_tar = docker_archive([self.child])
        # a parent is recorded only between images of one archive (dockerd's rule)
        self.family_tar = docker_archive([self.bb, self.child])
        self.rootfs_tar = self.layer


@pytest.fixture(scope="module")
def images():
    return Images()


# ---------------------------------------------------------------------------------------------
# helpers


def index(b):
    return json.loads((b.data_root / "images.json").read_text())


def refs(b):
    return index(b).get("references", {})


def listing(root):
    """Everything under root: relative path -> (kind, size, sha256 of a file's content)."""
    out = {}
    for dirpath, dirs, files in os.walk(root):
        for name in dirs + files:
            p = Path(dirpath) / name
            st = p.lstat()
            rel = str(p.relative_to(root))
            if p.is_symlink():
                out[rel] = ("link", os.readlink(p), None)
            elif p.is_dir():
                out[rel] = ("dir", 0, None)
            else:
                out[rel] = ("file", st.st_size, hashlib.sha256(p.read_bytes()).hexdigest())
    return out


def layer_dir(b, chain_id):
    return b.data_root / "layers" / chain_id[7:]


def docker_ok(b, *args, input=None):
    """docker CLI with stdin; returns stdout (fails the test on a non-zero exit)."""
    env = dict(os.environ, DOCKER_HOST=f"unix://{b.sock}",
               DOCKER_CONFIG=str(b.dir / "docker-config"))
    p = subprocess.run([DOCKER_CLI, *map(str, args)], input=input, capture_output=True,
                       env=env, timeout=120)
    assert p.returncode == 0, f"docker {args}: {p.returncode} {p.stderr.decode()}"
    return p.stdout


def docker_run(b, *args, input=None):
    env = dict(os.environ, DOCKER_HOST=f"unix://{b.sock}",
               DOCKER_CONFIG=str(b.dir / "docker-config"))
    return subprocess.run([DOCKER_CLI, *map(str, args)], input=input, capture_output=True,
                          env=env, timeout=120)


def post_tar(b, path, data, headers=None):
    h = {"Content-Type": "application/x-tar"}
    h.update(headers or {})
    return b.http("POST", path, body=data, headers=h, timeout=120)


def lines(body):
    """The JSON lines of a progress stream (each must end "\\r\\n")."""
    assert body.endswith(b"\r\n"), body[-200:]
    return [json.loads(l) for l in body.split(b"\r\n") if l]


def load(b, data, query=""):
    status, headers, body = post_tar(b, "/images/load" + query, data)
    assert status == 200 and headers["content-type"] == "application/json", (status, body)
    return lines(body)


def loaded(b, images, *which):
    for data in which:
        msgs = load(b, data)
        assert not any("error" in m for m in msgs), msgs


def events(b, since, *filters):
    f = quote(json.dumps({"type": ["image"], **dict(filters)}))
    until = time.time() + 0.5
    status, _, body = b.http("GET", f"/events?since={since}&until={until:.3f}&filters={f}")
    assert status == 200
    return [json.loads(l) for l in body.splitlines() if l]


def info_images(b):
    return json.loads(b.http("GET", "/info")[2])["Images"]


def untagged_only(img):
    return docker_archive([Image(img.layers, tags=[], extra=img.extra)])


needs_cli = pytest.mark.skipif(DOCKER_CLI is None, reason="no docker CLI")


# ---------------------------------------------------------------------------------------------
# docker load, images, inspect, history


@needs_cli
def test_docker_load_images_inspect_history(berthd, images, tmp_path):
    archive = tmp_path / "bb.tar"
    archive.write_bytes(images.bb_tar)
    out = docker_ok(berthd, "load", "-i", archive)
    assert out == b"Loaded image: busybox:latest\n"
    out = docker_ok(berthd, "load", input=images.family_tar)
    assert out == b"Loaded image: busybox:latest\nLoaded image: child:1\nLoaded image: child:2\n"

    # on disk: the references, the config blob named by its sha256, each layer once
    r = refs(berthd)
    assert r == {"docker.io/library/busybox:latest": images.bb.id,
                 "docker.io/library/child:1": images.child.id,
                 "docker.io/library/child:2": images.child.id}
    for img in (images.bb, images.child):
        blob = berthd.data_root / "blobs" / "sha256" / img.id[7:]
        assert sha256(blob.read_bytes()) == img.id
    bottom = layer_dir(berthd, sha256(images.layer))
    assert (bottom / "diff" / "bin" / "busybox").is_file()
    assert len(list((berthd.data_root / "layers").iterdir())) == 2, "the shared layer once"
    assert info_images(berthd) == 2

    # docker images and its flags
    fmt = "{{.Repository}}:{{.Tag}} {{.ID}} {{.Size}}"
    rows = docker_ok(berthd, "images", "--format", fmt).decode().splitlines()
    assert rows == [f"child:1 {images.child.id[7:19]} 1.98MB",
                    f"child:2 {images.child.id[7:19]} 1.98MB",
                    f"busybox:latest {images.bb.id[7:19]} 1.98MB"], "newest first"
    q = docker_ok(berthd, "images", "-q").decode().split()
    assert q == [images.child.id[7:19]] * 2 + [images.bb.id[7:19]]
    assert docker_ok(berthd, "images", "-a", "--no-trunc", "-q").decode().split()[-1] == \
        images.bb.id
    out = docker_ok(berthd, "images", "--digests", "busybox").decode().splitlines()
    assert out[0].split() == ["REPOSITORY", "TAG", "DIGEST", "IMAGE", "ID", "CREATED", "SIZE"]
    assert out[1].split()[:3] == ["busybox", "latest", "<none>"]

    def filtered(*f):
        args = [a for x in f for a in ("--filter", x)]
        return docker_ok(berthd, "images", *args, "--format",
                         "{{.Repository}}:{{.Tag}}").decode().split()

    assert filtered("reference=child:*") == ["child:1", "child:2"]
    assert filtered("reference=child:2") == ["child:2"], "only the matching tag is shown"
    assert filtered("reference=bus*") == ["busybox:latest"]
    assert filtered("label=org.example.kind=base") == ["busybox:latest"]
    assert filtered("label=org.example.kind") == ["busybox:latest"]
    assert filtered("before=child:1") == ["busybox:latest"]
    assert filtered("since=busybox") == ["child:1", "child:2"]
    assert filtered("dangling=true") == []
    assert filtered("dangling=false") == ["child:1", "child:2", "busybox:latest"]
    bad = docker_run(berthd, "images", "--filter", "bogus=1")
    assert bad.returncode == 1 and b"invalid filter 'bogus'" in bad.stderr

    # inspect
    fmt = ("{{.Id}}|{{.Parent}}|{{.Os}}|{{.Architecture}}|{{json .RepoTags}}|"
           "{{json .RepoDigests}}|{{.Config.Cmd}}|{{index .Config.Labels \"org.example.kind\"}}|"
           "{{.RootFS.Type}}|{{len .RootFS.Layers}}|{{.GraphDriver.Name}}|{{.Size}}|{{.Created}}")
    out = docker_ok(berthd, "image", "inspect", "-f", fmt, "busybox").decode().strip()
    size = json.loads((bottom / "layer.json").read_text())["size"]
    assert out.split("|") == [images.bb.id, "", "linux", ARCH, '["busybox:latest"]', "[]",
                              "[sh]", "base", "layers", "1", "overlay2", str(size), BB_CREATED]
    ins = json.loads(docker_ok(berthd, "image", "inspect", "child:1"))[0]
    assert ins["Parent"] == images.bb.id
    assert ins["RootFS"]["Layers"] == [sha256(l) for l in images.child.layers]
    gd = ins["GraphDriver"]["Data"]
    assert (Path(gd["UpperDir"]) / "hello").read_bytes() == b"hi\n"
    assert (Path(gd["LowerDir"]) / "bin" / "busybox").is_file()
    assert ins["Metadata"]["LastTagTime"] == "0001-01-01T00:00:00Z", "load does not stamp"
    assert "VirtualSize" not in ins
    missing = docker_run(berthd, "image", "inspect", "nosuch")
    assert missing.returncode == 1 and b"No such image: nosuch" in missing.stderr

    # history: the child's own layer, then its parent's
    out = docker_ok(berthd, "history", "--no-trunc", "--format",
                    "{{.ID}} {{.CreatedBy}} {{.Size}}", "child:1").decode().splitlines()
    assert out[0] == f"{images.child.id} layer 1 3B"
    assert out[1].startswith(f"{images.bb.id} layer 0 ")


def test_list_and_inspect_shapes_by_version(berthd, images):
    loaded(berthd, images, images.family_tar)

    def get(path):
        status, _, body = berthd.http("GET", path)
        assert status == 200, body
        return json.loads(body)

    new = get("/v1.44/images/json?all=1")
    assert [i["Id"] for i in new] == [images.child.id, images.bb.id]
    assert list(new[0]) == ["Containers", "Created", "Id", "Labels", "ParentId", "RepoDigests",
                            "RepoTags", "SharedSize", "Size"]
    assert new[1]["RepoDigests"] == [] and new[1]["Labels"] == {"org.example.kind": "base"}
    assert new[0]["Containers"] == -1 and new[0]["SharedSize"] == -1
    assert new[0]["ParentId"] == images.bb.id
    # before 1.43 an image without names shows "<none>"; before 1.44 VirtualSize is there
    old = get("/v1.41/images/json")
    assert old[1]["RepoDigests"] is None and old[1]["VirtualSize"] == old[1]["Size"]
    untag = berthd.http("DELETE", "/images/busybox:latest")
    assert untag[0] == 200
    dangling = get("/v1.42/images/json?filters=" + quote('{"dangling":["true"]}'))
    assert dangling == [], "busybox is the child's parent: not a dangling head"
    noname = get("/v1.42/images/json?all=1")
    assert noname[1]["RepoTags"] == ["<none>:<none>"] and \
        noname[1]["RepoDigests"] == ["<none>@<none>"]
    assert get("/v1.43/images/json?all=1")[1]["RepoTags"] == []
    assert len(get("/v1.44/images/json")) == 1, "an intermediate image is hidden without all"
    # the legacy filter= parameter before 1.41
    assert [i["RepoTags"] for i in get("/v1.40/images/json?filter=child*")] == \
        [["child:1", "child:2"]]
    assert len(get("/v1.41/images/json?filter=nomatch")) == 1, "ignored from 1.41"
    # shared-size from 1.42
    shared = get("/v1.42/images/json?shared-size=1&all=1")
    size = json.loads((layer_dir(berthd, sha256(images.layer)) / "layer.json").read_text())
    assert shared[0]["SharedSize"] == size["size"]
    assert get("/v1.41/images/json?shared-size=1")[0]["SharedSize"] == -1

    ins = get("/v1.43/images/child:1/json")
    assert ins["VirtualSize"] == ins["Size"]
    assert list(ins) == ["Id", "RepoTags", "RepoDigests", "Parent", "Comment", "Created",
                         "Container", "ContainerConfig", "DockerVersion", "Author", "Config",
                         "Architecture", "Os", "Size", "VirtualSize", "GraphDriver", "RootFS",
                         "Metadata"]
    assert ins["ContainerConfig"]["Cmd"] is None and ins["Config"]["Cmd"] == ["sh"]
    assert list(ins["GraphDriver"]["Data"]) == ["LowerDir", "MergedDir", "UpperDir", "WorkDir"]
    hist = get("/images/child:1/history")
    assert [list(h) for h in hist] == [["Comment", "Created", "CreatedBy", "Id", "Size",
                                        "Tags"]] * 2
    assert hist[0]["Tags"] == ["child:1", "child:2"] and hist[1]["Tags"] is None
    for path, status, msg in (
            ("/images/nosuch/json", 404, "No such image: nosuch:latest"),
            ("/images/NoSuch/json", 400, "invalid reference format"),
            ("/images/nosuch/history", 404, "No such image: nosuch:latest"),
            ("/images/json?filters=" + quote('{"dangling":["maybe"]}'), 400,
             "invalid filter 'dangling=[maybe]'"),
            ("/images/json?filters=" + quote('{"before":["nosuch"]}'), 404,
             "No such image: nosuch:latest"),
            ("/images/json?filters=" + quote('{"reference":["["]}'), 400,
             "syntax error in pattern"),
            ("/images/json?filters=" + quote('{"until":["soon"]}'), 400, "soon")):
        got = berthd.http("GET", path)
        assert got[0] == status and msg in json.loads(got[2])["message"], (path, got)


# ---------------------------------------------------------------------------------------------
# the load stream


def test_load_stream_as_dockerd_writes_it(berthd, images):
    msgs = load(berthd, images.child_tar, "?quiet=0")
    progress = [m for m in msgs if "progressDetail" in m]
    diff_ids = [sha256(l)[7:19] for l in images.child.layers]
    assert {m["id"] for m in progress} == set(diff_ids), "per layer, by its short diff id"
    for m in progress:
        assert m["status"] == "Loading layer" and set(m) == {"status", "progressDetail",
                                                             "progress", "id"}
        d = m["progressDetail"]
        assert 0 < d["current"] <= d["total"]
        assert m["progress"].startswith("[") and "/" in m["progress"]
    for i in diff_ids:
        last = [m for m in progress if m["id"] == i][-1]["progressDetail"]
        assert last["current"] == last["total"], "each layer ends at 100%"
    assert msgs[len(progress):] == [{"stream": "Loaded image: child:1\n"},
                                    {"stream": "Loaded image: child:2\n"}]

    # layers the store has: no progress; quiet by default
    assert load(berthd, images.child_tar, "?quiet=0") == msgs[len(progress):]
    assert load(berthd, images.child_tar) == msgs[len(progress):]

    # a tag that named another image: dockerd's line, then the old image is dangling
    other = Image(images.child.layers, tags=["child:1"], extra={"created": CHILD_CREATED,
                                                                "comment": "other"})
    assert load(berthd, docker_archive([other])) == [
        {"stream": f"The image child:1 already exists, renaming the old one with ID "
                   f"{images.child.id} to empty string\n"},
        {"stream": "Loaded image: child:1\n"}]
    assert refs(berthd)["docker.io/library/child:1"] == other.id

    # no tags: the ids; the ids again only when the archive's last image has no tag
    a = Image([images.layer], tags=[], extra={"created": "2024-05-05T00:00:00Z"})
    bimg = Image([images.layer], tags=["named:1"], extra={"created": "2024-06-06T00:00:00Z"})
    assert load(berthd, docker_archive([a])) == [{"stream": f"Loaded image ID: {a.id}\n"}]
    assert load(berthd, docker_archive([bimg, a])) == [
        {"stream": "Loaded image: named:1\n"},
        {"stream": f"Loaded image ID: {bimg.id}\nLoaded image ID: {a.id}\n"}]
    assert load(berthd, docker_archive([a, bimg])) == [{"stream": "Loaded image: named:1\n"}]
    # the OCI layout form, zstd layers
    oci = Image([images.layer], tags=["oci:1"], extra={"created": "2024-07-07T00:00:00Z"})
    assert load(berthd, oci_layout([oci], compression="zstd")) == [
        {"stream": "Loaded image: oci:1\n"}]
    assert refs(berthd)["docker.io/library/oci:1"] == oci.id


@needs_cli
def test_docker_load_lines_and_codes(berthd, images):
    assert docker_ok(berthd, "load", input=images.bb_tar) == b"Loaded image: busybox:latest\n"
    assert docker_ok(berthd, "load", input=images.bb_tar) == b"Loaded image: busybox:latest\n"
    renamed = Image([images.layer], tags=["busybox:latest"], extra={"created": CHILD_CREATED})
    out = docker_ok(berthd, "load", input=docker_archive([renamed])).decode()
    assert out == (f"The image busybox:latest already exists, renaming the old one with ID "
                   f"{images.bb.id} to empty string\nLoaded image: busybox:latest\n")
    out = docker_ok(berthd, "load", "-q", input=untagged_only(images.child)).decode()
    assert out.startswith("Loaded image ID: sha256:")
    dangling = docker_ok(berthd, "images", "-f", "dangling=true", "-q", "--no-trunc").split()
    assert images.bb.id.encode() in dangling
    bad = docker_run(berthd, "load", input=b"not an archive" * 100)
    assert bad.returncode == 1 and bad.stdout == b""
    assert bad.stderr.startswith(b"load: "), bad.stderr


# ---------------------------------------------------------------------------------------------
# tag


def test_tag(berthd, images):
    loaded(berthd, images, images.bb_tar)
    status, _, body = berthd.http("POST", "/images/busybox/tag?repo=bb&tag=x")
    assert (status, body) == (201, b"")
    status, _, body = berthd.http("POST", "/images/busybox/tag?repo=localhost:5000/a/b")
    assert status == 201
    assert refs(berthd)["docker.io/library/bb:x"] == images.bb.id
    assert refs(berthd)["localhost:5000/a/b:latest"] == images.bb.id
    ins = json.loads(berthd.http("GET", "/images/bb:x/json")[2])
    assert ins["RepoTags"] == ["bb:x", "busybox:latest", "localhost:5000/a/b:latest"]
    assert ins["Metadata"]["LastTagTime"].startswith(time.strftime("%Y-", time.gmtime()))
    before = listing(berthd.data_root)
    for query, status, msg in (
            ("repo=BB", 400, "invalid reference format: repository name (library/BB) must "
                             "be lowercase"),
            ("repo=bb&tag=x:y", 400, "invalid tag format"),
            ("repo=bb@sha256:" + "0" * 64, 400, "refusing to create a tag with a digest "
                                                "reference"),
            ("repo=sha256&tag=x", 400, "refusing to create an ambiguous tag using digest "
                                       "algorithm as name"),
            ("tag=x", 400, "invalid reference format"),
            ("repo=" + "a" * 300, 400, "repository name must not be more than 255 characters")):
        got = berthd.http("POST", "/images/busybox/tag?" + query)
        assert (got[0], json.loads(got[2])["message"]) == (status, msg), query
    got = berthd.http("POST", "/images/nosuch/tag?repo=a")
    assert (got[0], json.loads(got[2])["message"]) == (404, "No such image: nosuch:latest")
    assert berthd.http("POST", "/images/NoSuch/tag?repo=a")[0] == 404, "dockerd: 404 too"
    assert listing(berthd.data_root) == before, "refused tags change nothing"
    if DOCKER_CLI:
        docker_ok(berthd, "tag", "busybox", "cli/tagged:v1")
        assert refs(berthd)["docker.io/cli/tagged:v1"] == images.bb.id


# ---------------------------------------------------------------------------------------------
# rmi


@needs_cli
def test_rmi(berthd, images):
    loaded(berthd, images, images.family_tar)
    bottom = sha256(images.layer)
    top = json.loads(berthd.http("GET", "/images/child:1/json")[2])["RootFS"]["Layers"]
    # a name of several: only the name goes
    assert docker_ok(berthd, "rmi", "child:1") == b"Untagged: child:1\n"
    assert "docker.io/library/child:1" not in refs(berthd)
    # by id with two names: docker's conflict
    docker_ok(berthd, "tag", "child:2", "child:3")
    p = docker_run(berthd, "rmi", images.child.id[7:19])
    assert p.returncode == 1
    assert p.stderr.decode().strip() == (
        f"Error response from daemon: conflict: unable to delete {images.child.id[7:19]} "
        f"(must be forced) - image is referenced in multiple repositories")
    # a parent with a child: untagged, kept
    assert docker_ok(berthd, "rmi", "busybox") == b"Untagged: busybox:latest\n"
    p = docker_run(berthd, "rmi", images.bb.id)
    assert p.returncode == 1 and b"(cannot be forced) - image has dependent child images" \
        in p.stderr
    assert images.bb.id in index(berthd)["images"]
    # -f by id: every name, the image, its own layer, then the untagged parent and its layer
    out = docker_ok(berthd, "rmi", "-f", images.child.id[7:19]).decode().splitlines()
    chain1 = sha256(f"{bottom} {top[1]}".encode())
    assert out == ["Untagged: child:2", "Untagged: child:3",
                   f"Deleted: {images.child.id}", f"Deleted: {chain1}",
                   f"Deleted: {images.bb.id}", f"Deleted: {bottom}"]
    assert index(berthd)["images"] == {} and refs(berthd) == {}
    assert list((berthd.data_root / "layers").iterdir()) == []
    assert list((berthd.data_root / "blobs" / "sha256").iterdir()) == []
    assert info_images(berthd) == 0

    # --no-prune keeps the untagged parent
    loaded(berthd, images, images.family_tar)
    docker_ok(berthd, "rmi", "busybox")
    out = docker_ok(berthd, "rmi", "--no-prune", "child:1", "child:2").decode().splitlines()
    assert out[:2] == ["Untagged: child:1", "Untagged: child:2"]
    assert f"Deleted: {images.child.id}" in out and f"Deleted: {images.bb.id}" not in out
    assert list(index(berthd)["images"]) == [images.bb.id]
    assert (layer_dir(berthd, bottom) / "diff" / "bin" / "busybox").is_file()

    before = listing(berthd.data_root)
    p = docker_run(berthd, "rmi", "nosuch")
    assert p.returncode == 1 and p.stderr == \
        b"Error response from daemon: No such image: nosuch:latest\n"
    for path, status, msg in (("/images/NoSuch", 400, "invalid reference format"),
                              ("/images/%20", 400, "image name cannot be blank"),
                              ("/images/nosuch:1", 404, "No such image: nosuch:1")):
        got = berthd.http("DELETE", path)
        assert got[0] == status and msg in json.loads(got[2])["message"], path
    assert listing(berthd.data_root) == before


# ---------------------------------------------------------------------------------------------
# prune


def test_prune(berthd, images):
    loaded(berthd, images, images.family_tar)
    status, _, body = berthd.http("POST", "/images/prune")
    assert (status, json.loads(body)) == (200, {"ImagesDeleted": None, "SpaceReclaimed": 0})
    # make busybox:latest's old image dangling
    other = Image([images.layer, layer_tar([File("x", b"12345")])], tags=["busybox:latest"],
                  extra={"created": CHILD_CREATED})
    loaded(berthd, images, docker_archive([other]))
    # untouched by a filter that leaves it out, then pruned
    q = "/images/prune?filters=" + quote(json.dumps({"until": ["2020-01-01T00:00:00Z"]}))
    assert json.loads(berthd.http("POST", q)[2])["ImagesDeleted"] is None
    got = json.loads(berthd.http("POST", "/images/prune")[2])
    assert got["ImagesDeleted"] is None, "busybox's old image is the child's parent: kept"
    berthd.http("DELETE", "/images/child:1")
    berthd.http("DELETE", "/images/child:2?noprune=1")  # child gone, its parent left dangling
    assert set(index(berthd)["images"]) == {images.bb.id, other.id}
    got = json.loads(berthd.http("POST", "/images/prune")[2])
    assert got["ImagesDeleted"] == [{"Deleted": images.bb.id}]
    assert got["SpaceReclaimed"] == 0, "its layer is other's bottom layer too"
    assert list(index(berthd)["images"]) == [other.id]

    # --all with a label filter: only the matching ones go; labels on images without config
    labelled = Image([images.layer], tags=["keep:1"], extra={
        "created": BB_CREATED, "config": {"Labels": {"keep": "yes"}}})
    loaded(berthd, images, docker_archive([labelled]))
    q = "/images/prune?filters=" + quote(json.dumps({"dangling": ["false"],
                                                     "label!": ["keep=yes"]}))
    sizes = {p.name: json.loads((p / "layer.json").read_text())["size"]
             for p in (berthd.data_root / "layers").iterdir()}
    top = [c for c in sizes if (berthd.data_root / "layers" / c / "diff" / "x").exists()]
    got = json.loads(berthd.http("POST", q)[2])
    assert got["ImagesDeleted"][0] == {"Untagged": "busybox:latest"}
    assert {"Deleted": other.id} in got["ImagesDeleted"]
    assert got["SpaceReclaimed"] == sizes[top[0]], "the layer only it had"
    assert list(index(berthd)["images"]) == [labelled.id]
    for filt, msg in (({"bogus": ["1"]}, "invalid filter 'bogus'"),
                      ({"until": ["1h", "2h"]}, "more than one until filter specified"),
                      ({"dangling": ["maybe"]}, "invalid filter 'dangling=[maybe]'")):
        got = berthd.http("POST", "/images/prune?filters=" + quote(json.dumps(filt)))
        assert got[0] == 400 and msg in json.loads(got[2])["message"], filt
    if DOCKER_CLI:
        out = docker_ok(berthd, "image", "prune", "-af").decode()
        assert out == (f"Deleted Images:\nuntagged: keep:1\ndeleted: {labelled.id}\n"
                       f"deleted: {sha256(images.layer)}\n\nTotal reclaimed space: 1.984MB\n")
        assert index(berthd)["images"] == {}


# ---------------------------------------------------------------------------------------------
# save


@needs_cli
def test_save_load_round_trip(berthd, make_berthd, images, tmp_path):
    loaded(berthd, images, images.bb_tar, images.child_tar)
    one = docker_ok(berthd, "save", "busybox")
    names = {m.name for m in tarfile.open(fileobj=io.BytesIO(one))}
    assert {"manifest.json", "index.json", "oci-layout", "repositories",
            f"blobs/sha256/{images.bb.id[7:]}",
            f"blobs/sha256/{sha256(images.layer)[7:]}"} <= names
    manifest = json.loads(tarfile.open(fileobj=io.BytesIO(one)).extractfile(
        "manifest.json").read())
    assert manifest[0]["RepoTags"] == ["busybox:latest"]
    # the same images give the same bytes, through the CLI, -o, the API and python
    out = tmp_path / "both.tar"
    docker_ok(berthd, "save", "-o", out, "busybox", "child:1")
    status, headers, body = berthd.http("GET", "/images/get?names=busybox&names=child:1")
    assert status == 200 and headers["content-type"] == "application/x-tar"
    assert body == out.read_bytes()
    assert b"".join(berthd.client().images.get("busybox").save(named=True)) == one
    assert berthd.http("GET", "/images/busybox/get")[2] == one

    # into a second daemon: the same ids, names and layers
    other = make_berthd()
    assert docker_ok(other, "load", "-i", out) == \
        b"Loaded image: busybox:latest\nLoaded image: child:1\n"
    assert refs(other) == {"docker.io/library/busybox:latest": images.bb.id,
                           "docker.io/library/child:1": images.child.id}
    assert listing(other.data_root / "layers") == listing(berthd.data_root / "layers")

    p = docker_run(berthd, "save", "busybox", "nosuch")
    assert p.returncode == 1 and \
        p.stderr == b"Error response from daemon: No such image: nosuch\n"
    got = berthd.http("GET", "/images/get?names=NoSuch")
    assert got[0] == 400 and "must be lowercase" in json.loads(got[2])["message"]


def test_save_client_gone_and_rmi_during_save(berthd, images):
    """A client that goes away mid-save ends the save; berthd keeps serving."""
    loaded(berthd, images, images.bb_tar)
    for _ in range(3):
        s = berthd.connect()
        s.sendall(b"GET /images/busybox/get HTTP/1.1\r\nHost: x\r\n\r\n")
        assert s.recv(4096).startswith(b"HTTP/1.1 200 OK")
        s.close()
    assert wait_until(lambda: berthd.http("GET", "/_ping")[0] == 200, 5)
    assert not list((berthd.data_root / "tmp").iterdir())
    assert berthd.http("GET", "/images/busybox/get")[0] == 200


# ---------------------------------------------------------------------------------------------
# import


@needs_cli
def test_docker_import(berthd, images, tmp_path):
    tar = tmp_path / "rootfs.tar"
    tar.write_bytes(images.rootfs_tar)
    out = docker_ok(berthd, "import", "--change", 'CMD ["/bin/sh", "-c", "echo $A"]',
                    "--change", "ENV A=1 B=$A", "--change", "ENV C=$A", "--change", "EXPOSE 80/udp",
                    "--change", "WORKDIR /srv", "--change", "LABEL x=y", "--change", "USER nobody",
                    "-m", "made by a test", tar, "imp:1").decode().strip()
    assert out.startswith("sha256:") and refs(berthd)["docker.io/library/imp:1"] == out
    ins = json.loads(docker_ok(berthd, "image", "inspect", "imp:1"))[0]
    c = ins["Config"]
    assert (c["Cmd"], c["Env"], c["ExposedPorts"], c["WorkingDir"], c["Labels"], c["User"]) == (
        ["/bin/sh", "-c", "echo $A"], ["A=1", "B=", "C=1"], {"80/udp": {}}, "/srv", {"x": "y"},
        "nobody")
    assert ins["Comment"] == "made by a test" and ins["Os"] == "linux"
    assert ins["Metadata"]["LastTagTime"] != "0001-01-01T00:00:00Z"
    hist = json.loads(berthd.http("GET", "/images/imp:1/history")[2])
    assert [(h["Comment"], h["CreatedBy"]) for h in hist] == [("made by a test", "")]
    # the layer is the tar as it came: its diff id is the tar's sha256
    assert ins["RootFS"]["Layers"] == [sha256(images.rootfs_tar)]
    assert (Path(ins["GraphDriver"]["Data"]["UpperDir"]) / "bin" / "busybox").is_file()

    # stdin, gzip and zstd; without a name; dockerd's comment
    for data in (gzip.compress(images.rootfs_tar), compress(images.rootfs_tar, "zstd")):
        iid = docker_ok(berthd, "import", "-", input=data).decode().strip()
        got = json.loads(berthd.http("GET", f"/images/{iid}/json")[2])
        assert got["RepoTags"] == [] and got["Comment"] == "Imported from -"
        assert got["RootFS"]["Layers"] == [sha256(images.rootfs_tar)]

    before = listing(berthd.data_root)
    p = docker_run(berthd, "import", "--change", "RUN echo", tar)
    assert p.returncode == 1 and \
        p.stderr == b"Error response from daemon: RUN is not a valid change command\n"
    p = docker_run(berthd, "import", "--change", "ENV A", tar)
    assert p.returncode == 1 and b"ENV must have two arguments" in p.stderr
    p = docker_run(berthd, "import", tar, "Bad:Name")
    assert p.returncode == 1 and b"invalid reference format" in p.stderr
    assert listing(berthd.data_root) == before


def test_import_api(berthd, images):
    status, headers, body = post_tar(
        berthd, "/images/create?fromSrc=-&repo=api&tag=2&platform=linux/arm/7&changes=" +
        quote("STOPSIGNAL SIGINT") + "&changes=" + quote("VOLUME /data"), images.rootfs_tar)
    assert status == 200 and headers["content-type"] == "application/json"
    [msg] = lines(body)
    iid = msg["status"]
    assert iid.startswith("sha256:")
    ins = json.loads(berthd.http("GET", "/images/api:2/json")[2])
    assert (ins["Architecture"], ins["Variant"], ins["Config"]["StopSignal"],
            ins["Config"]["Volumes"]) == ("arm", "v7", "SIGINT", {"/data": {}})
    # the config blob is what the id says
    blob = berthd.data_root / "blobs" / "sha256" / iid[7:]
    assert sha256(blob.read_bytes()) == iid
    before = listing(berthd.data_root)
    for query, status, msg in (
            ("fromSrc=-&platform=windows/amd64", 400, "operating system is not supported"),
            ("fromSrc=-&platform=linux/nonsense", 400, "unknown operating system or "
                                                       "architecture"),
            ("fromSrc=-&repo=a@sha256:" + "1" * 64, 400, "digest reference"),
            ("fromSrc=-&changes=" + quote("HEALTHCHECK --interval=1us CMD x"), 400,
             'Interval "interval" cannot be less than 1ms'),
            ("fromSrc=http://127.0.0.1:1/x.tar", 501, "not supported yet")):
        got = post_tar(berthd, "/images/create?" + query, images.rootfs_tar)
        assert got[0] == status and msg in json.loads(got[2])["message"], (query, got)
    got = post_tar(berthd, "/images/create?fromSrc=-", b"\x00garbage" * 1000)
    assert got[0] == 400 and json.loads(got[2])["message"].startswith("import: "), got
    assert listing(berthd.data_root) == before


# ---------------------------------------------------------------------------------------------
# system df, events, python3-docker


@needs_cli
def test_system_df(berthd, images):
    loaded(berthd, images, images.bb_tar, images.child_tar)
    status, _, body = berthd.http("GET", "/system/df")
    du = json.loads(body)
    sizes = {p.name: json.loads((p / "layer.json").read_text())["size"]
             for p in (berthd.data_root / "layers").iterdir()}
    assert du["LayersSize"] == sum(sizes.values())
    assert (du["Containers"], du["Volumes"], du["BuildCache"]) == ([], [], [])
    assert [i["Id"] for i in du["Images"]] == [images.child.id, images.bb.id]
    for i in du["Images"]:
        assert i["Containers"] == 0 and i["SharedSize"] == sizes[sha256(images.layer)[7:]]
    only = json.loads(berthd.http("GET", "/v1.44/system/df?type=image")[2])
    assert only["Containers"] is None and len(only["Images"]) == 2
    assert berthd.http("GET", "/v1.44/system/df?type=bogus")[0] == 400
    assert json.loads(berthd.http("GET", "/v1.41/system/df")[2])["BuilderSize"] == 0
    out = docker_ok(berthd, "system", "df", "--format", "{{.Type}} {{.TotalCount}} {{.Size}}")
    assert out.decode().splitlines() == ["Images 2 1.984MB", "Containers 0 0B",
                                         "Local Volumes 0 0B", "Build Cache 0 0B"]


@needs_cli
def test_docker_events_for_images(berthd, images, tmp_path):
    since = time.time()
    loaded(berthd, images, images.bb_tar)
    docker_ok(berthd, "tag", "busybox", "ev:1")
    docker_ok(berthd, "save", "-o", tmp_path / "s.tar", "ev:1")
    docker_ok(berthd, "rmi", "ev:1")
    iid = docker_ok(berthd, "import", "-", "ev:2", input=images.rootfs_tar).decode().strip()
    docker_ok(berthd, "rmi", "ev:2")
    docker_ok(berthd, "image", "prune", "-f")
    until = time.time() + 1
    out = docker_ok(berthd, "events", "--since", f"{since:.3f}", "--until", f"{until:.3f}",
                    "--filter", "type=image", "--format",
                    "{{.Type}} {{.Action}} {{.Actor.ID}} {{.Actor.Attributes.name}}")
    bb = images.bb.id
    assert out.decode().splitlines() == [
        f"image load {bb} {bb}", f"image tag {bb} ev:1", f"image save {bb} {bb}",
        f"image untag {bb} {bb}", f"image tag {iid} ev:2", f"image import {iid} {iid}",
        f"image untag {iid} {iid}", f"image delete {iid} {iid}", "image prune  <no value>"]
    tagged = events(berthd, since, ("event", ["tag"]))
    assert tagged[0]["Actor"]["Attributes"] == {"name": "ev:1", "org.example.kind": "base"}
    assert tagged[0]["status"] == "tag" and tagged[0]["id"] == bb
    prune = events(berthd, since, ("event", ["prune"]))[0]
    assert prune["Actor"] == {"ID": "", "Attributes": {"reclaimed": "0"}} and "id" not in prune


def test_python_docker_images(berthd, images):
    import docker
    c = berthd.client()
    [img] = c.images.load(images.bb_tar)
    assert img.id == images.bb.id and img.tags == ["busybox:latest"]
    assert img.labels == {"org.example.kind": "base"}
    assert [i.id for i in c.images.list()] == [images.bb.id]
    assert img.history()[0]["CreatedBy"] == "layer 0"
    assert img.tag("py", "1") is True and c.images.get("py:1").id == images.bb.id
    data = b"".join(img.save())
    assert tarfile.open(fileobj=io.BytesIO(data)).getmember("manifest.json")
    c.images.remove("py:1")
    assert c.images.get("busybox").tags == ["busybox:latest"]
    with pytest.raises(docker.errors.ImageNotFound):
        c.images.get("py:1")
    with pytest.raises(docker.errors.ImageLoadError):
        c.images.load(b"garbage")
    assert c.images.prune() == {"ImagesDeleted": None, "SpaceReclaimed": 0}
    assert c.images.prune(filters={"dangling": False})["ImagesDeleted"][0] == \
        {"Untagged": "busybox:latest"}
    assert c.images.list() == []
    # a pull goes to the registry (a closed loopback port here: tests stay on loopback)
    with pytest.raises(docker.errors.APIError) as e:
        c.images.pull("127.0.0.1:1/busybox", tag="latest")
    assert e.value.response.status_code == 500 and "127.0.0.1:1/v2/" in str(e.value)
    old = berthd.api_client(version="1.24")
    assert old.images() == []
    assert any("stream" in m for m in old.load_image(images.bb_tar))
    assert old.images()[0]["RepoTags"] == ["busybox:latest"]


# ---------------------------------------------------------------------------------------------
# bad input: dockerd's status and message, the data root as it was, berthd still serving


def bad_archives(images):
    layer = images.layer
    good = Image([layer], tags=["bad:1"], extra={"created": BB_CREATED})
    whole = docker_archive([good], form="blobs")
    corrupt = bytearray(whole)
    i = corrupt.find(b"bin/busybox")
    corrupt[i + 2000] ^= 0xff
    escape_dir = f"berth-escape-{uuid.uuid4().hex[:8]}"
    return {
        "truncated": (whole[:len(whole) // 2], "load: "),
        "corrupted layer": (bytes(corrupt), "digest mismatch"),
        "lying diff id": (docker_archive([Image([layer], tags=["bad:1"],
                                                diff_ids=[sha256(b"other")])]),
                          "diff id mismatch"),
        "dot-dot entry": (docker_archive([Image([layer_tar([File("../../etc/owned", b"x")])],
                                                tags=["bad:1"])]), "leaves the root"),
        "bad tag": (docker_archive([Image([layer], tags=["Bad:Tag"])]),
                    "invalid reference format"),
        "not a tar": (b"\x01\x02" * 5000, "load: "),
        "empty": (b"", "load: "),
    }, escape_dir


def test_bad_archives_change_nothing(berthd, images):
    loaded(berthd, images, images.bb_tar)
    cases, _ = bad_archives(images)
    before = listing(berthd.data_root)
    for name, (data, msg) in cases.items():
        msgs = load(berthd, data, "?quiet=0")
        err = msgs[-1]
        assert set(err) == {"errorDetail", "error"}, (name, msgs)
        assert err["errorDetail"] == {"message": err["error"]} and msg in err["error"], \
            (name, err)
        assert listing(berthd.data_root) == before, name
        assert berthd.http("GET", "/_ping")[0] == 200
    if DOCKER_CLI:
        p = docker_run(berthd, "load", input=cases["corrupted layer"][0])
        assert p.returncode == 1 and b"digest mismatch" in p.stderr and p.stdout == b""


def test_symlink_out_of_the_root_stays_in(berthd, images):
    """An absolute symlink and a file through it land inside the layer, never on the host."""
    target = f"/tmp/berth-escape-{uuid.uuid4().hex[:8]}"
    layer = layer_tar([Symlink("esc", target), File("esc/owned", b"owned")])
    msgs = load(berthd, docker_archive([Image([layer], tags=["esc:1"])]))
    assert msgs == [{"stream": "Loaded image: esc:1\n"}]
    assert not os.path.exists(target)
    diff = layer_dir(berthd, sha256(layer)) / "diff"
    assert os.readlink(diff / "esc") == target
    assert (diff / target.lstrip("/") / "owned").read_bytes() == b"owned"


def stream_body(b, head, chunks, close_early=False):
    """Sends a request with a chunked body from an iterator; returns (reply, bytes sent)."""
    s = b.connect(timeout=60)
    sent = 0
    try:
        s.sendall(head)
        for c in chunks:
            try:
                s.sendall(b"%x\r\n%s\r\n" % (len(c), c))
            except (BrokenPipeError, ConnectionResetError):
                break
            sent += len(c)
        if close_early:
            return b"", sent
        try:
            s.sendall(b"0\r\n\r\n")
        except (BrokenPipeError, ConnectionResetError):
            pass
        s.settimeout(30)
        reply = b""
        while True:
            try:
                d = s.recv(65536)
            except (ConnectionResetError, socket.timeout):
                break
            if not d:
                break
            reply += d
        return reply, sent
    finally:
        s.close()


def test_huge_body_refused_early(berthd, images):
    """1 GiB that is no archive: refused at its first bytes, not read to the end."""
    loaded(berthd, images, images.bb_tar)
    before = listing(berthd.data_root)
    junk = os.urandom(1 << 20)
    t0 = time.monotonic()
    reply, sent = stream_body(berthd, b"POST /images/load HTTP/1.1\r\nHost: x\r\n"
                              b"Content-Type: application/x-tar\r\n"
                              b"Transfer-Encoding: chunked\r\n\r\n", (junk for _ in range(1024)))
    assert time.monotonic() - t0 < 60
    assert sent < 1 << 30, "berthd stopped reading"
    assert b"HTTP/1.1 200 OK" in reply and b'"errorDetail"' in reply, reply[:300]
    assert listing(berthd.data_root) == before
    assert berthd.http("GET", "/_ping")[0] == 200


def test_body_broken_off_imports_nothing(berthd, images):
    """A complete tar cut at a member boundary, then the client goes: no image, no layer."""
    loaded(berthd, images, images.bb_tar)
    before = listing(berthd.data_root)
    tar = layer_tar([Dir("a"), File("a/one", b"1" * 5000), File("a/two", b"2" * 5000)])
    first = tar[:512 + 5120]  # the dir's header, then the first file whole
    head = (b"POST /images/create?fromSrc=-&repo=cut HTTP/1.1\r\nHost: x\r\n"
            b"Content-Type: application/x-tar\r\nContent-Length: %d\r\n\r\n" % len(tar))
    s = berthd.connect()
    s.sendall(head + first)
    time.sleep(0.3)
    s.close()
    assert wait_until(lambda: not list((berthd.data_root / "tmp").iterdir()) and
                      listing(berthd.data_root) == before, 10), "nothing imported"
    assert "docker.io/library/cut:latest" not in refs(berthd)
    # the same through a chunked body that stops
    reply, _ = stream_body(berthd, b"POST /images/load HTTP/1.1\r\nHost: x\r\n"
                           b"Transfer-Encoding: chunked\r\n\r\n",
                           [images.child_tar[:len(images.child_tar) - 1024]], close_early=True)
    assert wait_until(lambda: listing(berthd.data_root) == before, 10)
    assert berthd.http("GET", "/_ping")[0] == 200


def test_slow_load_holds_up_nothing(berthd, images):
    """A load whose client stalls mid-body: other requests go on; the stalled one leaves nothing."""
    loaded(berthd, images, images.bb_tar)
    before = listing(berthd.data_root)
    s = berthd.connect()
    s.sendall(b"POST /images/load HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n"
              % len(images.child_tar) + images.child_tar[:len(images.child_tar) // 2])
    t0 = time.monotonic()
    assert berthd.http("GET", "/_ping")[0] == 200
    status, _, body = berthd.http("GET", "/images/json")
    assert status == 200 and len(json.loads(body)) == 1
    assert berthd.http("GET", "/images/busybox/json")[0] == 200
    assert time.monotonic() - t0 < 2
    s.close()
    assert wait_until(lambda: listing(berthd.data_root) == before, 10)


# ---------------------------------------------------------------------------------------------
# the registry's endpoints, restart


@needs_cli
def test_pull_push_checked_before_the_network(berthd, images):
    """dockerd's checks come before any registry is asked; a registry that is not there is a
    plain error.  (Pull and push themselves: test_registry.py; every registry a test names is on
    loopback.)"""
    p = docker_run(berthd, "pull", "127.0.0.1:1/busybox")
    assert p.returncode == 1 and b"127.0.0.1:1/v2/" in p.stderr, p.stderr
    for path, status, msg in (
            ("/images/create?fromImage=BAD", 400, "invalid reference format"),
            ("/images/create?fromImage=busybox&tag=x:y", 400, "invalid tag format"),
            ("/images/create?fromImage=scratch", 403, "'scratch' is a reserved name"),
            ("/images/create?fromImage=busybox&tag=latest&platform=linux/vax", 400,
             "unknown operating system or architecture"),
            ("/images/create?fromImage=127.0.0.1:1/busybox&tag=sha256:" + "a" * 64, 500,
             "127.0.0.1:1/v2/")):
        got = berthd.http("POST", path)
        assert got[0] == status and msg in json.loads(got[2])["message"], (path, got)
    # push: the image is looked for before the registry is (dockerd's lines, in the stream)
    got = berthd.http("POST", "/images/busybox/push")
    assert got[0] == 200
    msgs = [json.loads(l) for l in got[2].decode().splitlines() if l.strip()]
    assert msgs[0] == {"status": "The push refers to repository [docker.io/library/busybox]"}
    assert msgs[-1]["error"] == "An image does not exist locally with the tag: busybox"
    # search: an index that does not answer is a 500 naming its ping
    got = berthd.http("GET", "/images/search?term=127.0.0.1:1/x")
    assert got[0] == 500 and "127.0.0.1:1/v1/_ping" in json.loads(got[2])["message"], got
    assert not (berthd.data_root / "images.json").exists(), "nothing was written"


def test_restart_keeps_images_and_collects_garbage(make_berthd, images):
    b = make_berthd()
    loaded(b, images, images.bb_tar, images.child_tar)
    b.http("DELETE", "/images/child:1")
    b.stop()
    # what an interrupted operation or a crash can leave: an unused blob and layer, staging
    junk_blob = b.data_root / "blobs" / "sha256" / ("ab" * 32)
    junk_blob.write_bytes(b"junk")
    junk_layer = b.data_root / "layers" / ("cd" * 32)
    (junk_layer / "diff").mkdir(parents=True)
    (junk_layer / "layer.json").write_text(json.dumps({
        "chain_id": "sha256:" + "cd" * 32, "diff_id": "sha256:" + "cd" * 32, "parent": None,
        "blob": "sha256:" + "ab" * 32, "size": 0, "tar_size": 0}))
    (b.data_root / "tmp" / "load-interrupted").mkdir()
    b.start()
    assert not junk_blob.exists() and not junk_layer.exists()
    assert list((b.data_root / "tmp").iterdir()) == []
    assert info_images(b) == 2
    assert refs(b) == {"docker.io/library/busybox:latest": images.bb.id,
                       "docker.io/library/child:2": images.child.id}
    assert (layer_dir(b, sha256(images.layer)) / "diff" / "bin" / "busybox").is_file()


# ---------------------------------------------------------------------------------------------
# beside the real dockerd


@pytest.fixture(scope="module")
def dockerd(tmp_path_factory):
    from test_image_store import Dockerd
    d = Dockerd(tmp_path_factory.mktemp("dockerd"))
    d.start()
    yield d
    d.stop()


@needs_cli
def test_same_as_dockerd(berthd, dockerd, images, tmp_path):
    """The docker CLI's output and exit codes for the same steps on dockerd and on berthd, and
    archives going both ways."""
    def both(*args, input=None):
        ours = docker_run(berthd, *args, input=input)
        theirs = dockerd.docker(*args, input=input, check=False)
        return ours, theirs

    renamed = docker_archive([Image([images.layer], tags=["busybox:latest"],
                                    extra={"created": CHILD_CREATED})])
    steps = [("load", images.bb_tar), ("load", images.bb_tar), ("load", images.child_tar),
             ("load", renamed), ("load", b"garbage")]
    for what, data in steps:
        ours, theirs = both(what, input=data)
        assert ours.returncode == theirs.returncode, (ours, theirs)
        if ours.returncode == 0:
            assert ours.stdout == theirs.stdout, (ours.stdout, theirs.stdout)
    fields = ("{{.Id}} {{.Parent}} {{.Os}} {{.Architecture}} {{.Config.Cmd}} {{.Config.Env}} "
              "{{.Size}} {{.Created}} {{json .RepoTags}} {{.RootFS.Layers}}")
    for ref in ("busybox", "child:1", images.bb.id):
        ours, theirs = both("image", "inspect", "-f", fields, ref)
        assert ours.stdout == theirs.stdout
    for args in (("rmi", "child:1"), ("rmi", images.child.id[7:19]), ("rmi", "nosuch"),
                 ("tag", "child:2", "t:1"), ("rmi", "-f", images.child.id[7:19])):
        ours, theirs = both(*args)
        assert (ours.returncode, ours.stdout) == (theirs.returncode, theirs.stdout), args
    # archives both ways
    ours = docker_ok(berthd, "save", "busybox")
    dockerd.docker("rmi", "busybox")
    assert dockerd.docker("load", input=ours).stdout == b"Loaded image: busybox:latest\n"
    theirs = dockerd.docker("save", "busybox").stdout
    docker_ok(berthd, "rmi", "busybox")
    assert docker_ok(berthd, "load", input=theirs) == b"Loaded image: busybox:latest\n"
    assert dockerd.docker("image", "inspect", "-f", "{{.Id}}", "busybox").stdout == \
        docker_ok(berthd, "image", "inspect", "-f", "{{.Id}}", "busybox")
