"""berth's image commands against a private berthd: images/image ls, image inspect/inspect, history,
tag, rmi, image prune, save, load, import and system df.

Each effect is checked where it shows -- berthd's API (the image list, an inspect, the bytes of
GET /images/get) and the archives themselves -- not only in what berth printed.  Where berth's
output must be docker's, it is compared with the docker CLI 28 on the same berthd.  Bad input
(unknown images, invalid references, unknown flags, corrupt archives) gets docker's message and
exit code, and a refused command line reaches nothing (the counting proxy).
"""

import hashlib
import io
import json
import re
import subprocess
import tarfile
from urllib.parse import quote

import pexpect
import pytest

from cli import DOCKER28, need_docker28, ok
from imagebuild import Dir, File, Image, docker_archive, layer_tar, sha256

BASE_CREATED = "2024-01-02T03:04:05Z"
CHILD_CREATED = "2024-02-03T04:05:06Z"


class Images:
    """base:latest (one layer, a label) and child:1/child:2 (base plus a layer) in one
    docker-archive (child's parent is base), and a root filesystem tar for import."""

    def __init__(self):
        self.base_layer = layer_tar([Dir("bin"), File("bin/tool", b"#!/bin/sh\n" * 600, 0o755),
                                     Dir("etc"), File("etc/os-release", b"ID=berth-test\n")])
        self.child_layer = layer_tar([File("hello", b"hi\n")])
        self.base = Image([self.base_layer], tags=["base:latest"], extra={
            "created": BASE_CREATED,
            "config": {"Env": ["PATH=/bin"], "Cmd": ["sh"],
                       "Labels": {"org.example.kind": "base"}}})
        self.child = Image([self.base_layer, self.child_layer], tags=["child:1", "child:2"],
                           parent=self.base, extra={"created": CHILD_CREATED})
        self.family_tar = docker_archive([self.base, self.child])
        self.rootfs_tar = layer_tar([Dir("etc"), File("etc/imported", b"yes\n")])


@pytest.fixture(scope="module")
def images():
    return Images()


# ---- helpers --------------------------------------------------------------------------------


def api(berth_cli, method, path, body=None):
    status, _, data = berth_cli.berthd.http(method, path, body=body, timeout=60)
    return status, (json.loads(data) if data and data[:1] in (b"[", b"{") else data)


def image_list(berth_cli, all=False):
    status, body = api(berth_cli, "GET", "/images/json" + ("?all=1" if all else ""))
    assert status == 200, body
    return body


def tags_of(berth_cli):
    """{repo:tag: id} of every tagged image, from the API."""
    return {t: i["Id"] for i in image_list(berth_cli, all=True) for t in i.get("RepoTags") or []}


def image_id(berth_cli, name):
    """The Id berthd resolves a name to, or None."""
    status, body = api(berth_cli, "GET", f"/images/{quote(name, safe='')}/json")
    return body["Id"] if status == 200 else None


def run_bytes(berth_cli, *args, input=None, timeout=60):
    """berth with bytes on stdin and stdout (archives)."""
    return subprocess.run([str(berth_cli.binary), *args], input=input, capture_output=True,
                          env=berth_cli.env(), timeout=timeout,
                          stdin=subprocess.DEVNULL if input is None else None)


def load_family(berth_cli, images):
    p = run_bytes(berth_cli, "load", input=images.family_tar)
    assert p.returncode == 0, p.stderr
    return p


def import_dangling(berth_cli, images):
    """An image with no name (import without a repository): a dangling one. Returns its Id."""
    p = run_bytes(berth_cli, "import", "-", input=images.rootfs_tar)
    assert p.returncode == 0, p.stderr
    return p.stdout.decode().strip()


def members(archive):
    """{name: bytes} of the regular files in a tar."""
    out = {}
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        for m in tar.getmembers():
            if m.isfile():
                out[m.name] = tar.extractfile(m).read()
    return out


def spawn(berth_cli, *args, dimensions=(24, 140)):
    return pexpect.spawn(str(berth_cli.binary), list(args), env=berth_cli.env(), timeout=30,
                         dimensions=dimensions)


def usage_error(cmd, use, flag="--bogus"):
    return (f"unknown flag: {flag}\n\nUsage:  berth {cmd} {use}\n\n"
            f"Run 'berth {cmd} --help' for more information\n")


# ---- load and images -----------------------------------------------------------------------


def test_load_then_images_lists_them(berth_cli, images):
    p = run_bytes(berth_cli, "load", "-i", "/dev/stdin", input=images.family_tar)
    assert p.returncode == 0, p.stderr
    # not a terminal: no progress, the names only
    assert p.stdout == b"Loaded image: base:latest\nLoaded image: child:1\nLoaded image: child:2\n"
    assert tags_of(berth_cli) == {"base:latest": images.base.id, "child:1": images.child.id,
                                  "child:2": images.child.id}

    out = ok(berth_cli.run("images"))
    lines = out.splitlines()
    assert re.split(r"\s{2,}", lines[0]) == ["REPOSITORY", "TAG", "IMAGE ID", "CREATED", "SIZE"]
    rows = [re.split(r"\s{2,}", line) for line in lines[1:]]
    # newest first; the size is the sum of the layers' contents in docker's units
    assert [(r[0], r[1], r[2]) for r in rows] == [
        ("child", "1", images.child.id[7:19]), ("child", "2", images.child.id[7:19]),
        ("base", "latest", images.base.id[7:19])]
    assert all(r[3].endswith("years ago") for r in rows), rows
    # -q: the short ids, --no-trunc: the full ones
    assert ok(berth_cli.run("images", "-q")).split() == [images.child.id[7:19]] * 2 + \
        [images.base.id[7:19]]
    assert ok(berth_cli.run("images", "-q", "--no-trunc")).split() == [images.child.id] * 2 + \
        [images.base.id]
    # json: one object a line, docker's fields
    objs = [json.loads(line) for line in ok(berth_cli.run("images", "--format", "json"))
            .splitlines()]
    assert [(o["Repository"], o["Tag"], o["ID"]) for o in objs] == [
        (r[0], r[1], r[2]) for r in rows]
    assert set(objs[0]) == {"Containers", "CreatedAt", "CreatedSince", "Digest", "ID",
                            "Repository", "SharedSize", "Size", "Tag", "UniqueSize",
                            "VirtualSize"}
    assert objs[-1]["CreatedAt"] == "2024-01-02 03:04:05 +0000 UTC"
    # a table template
    assert ok(berth_cli.run("images", "--format", "table {{.Repository}}:{{.Tag}}\t{{.ID}}")) \
        .splitlines()[0].split() == ["REPOSITORY:TAG", "IMAGE", "ID"]


def test_images_filters(berth_cli, images):
    load_family(berth_cli, images)
    dangling = import_dangling(berth_cli, images)
    run_bytes(berth_cli, "tag", "base", "other/name:v1")
    cid, bid = images.child.id[7:19], images.base.id[7:19]

    def ids(*args):
        return ok(berth_cli.run("images", "-q", *args)).split()

    assert set(ids()) == {cid, bid, dangling[7:19]}
    assert ids("-f", "dangling=true") == [dangling[7:19]]
    assert dangling[7:19] not in ids("-f", "dangling=false")
    assert ids("-f", "reference=child") == [cid, cid]
    assert ids("-f", "reference=child:2") == [cid]
    assert ids("-f", "reference=*/name") == [bid]
    assert ids("-f", "label=org.example.kind=base") == [bid, bid]
    assert ids("-f", "label=org.example.kind=other") == []
    assert ids("-f", "before=child:1") == [bid, bid]
    assert ids("-f", "since=base") == [dangling[7:19], cid, cid]
    assert ids("child") == [cid, cid]
    assert ids("child:1") == [cid]
    assert ids("nothing:here") == []
    # --digests adds the column; -a shows the same here (no intermediate images)
    assert "DIGEST" in ok(berth_cli.run("images", "--digests")).splitlines()[0]
    assert sorted(ids("-a")) == sorted(ids())

    for args, message in [
            (["-f", "dangling=maybe"], "Error response from daemon: invalid filter 'dangling="
                                       "[maybe]'\n"),
            (["-f", "bogus=1"], "Error response from daemon: invalid filter 'bogus'\n"),
            (["-f", "since=nope"], "Error response from daemon: No such image: nope:latest\n"),
            (["--format", "{{.Nope}}"], "template parsing error: template: :1:2: executing \"\" "
                                        "at <.Nope>: can't evaluate field Nope in type "
                                        "*formatter.imageContext\n")]:
        p = berth_cli.run("images", *args)
        assert (p.returncode, p.stderr) == (1, message), args


IMAGES_AS_DOCKER = [
    ["images"], ["images", "-a"], ["images", "--digests"], ["images", "--no-trunc"],
    ["images", "-q"], ["image", "ls", "--filter", "dangling=true"],
    ["images", "-f", "reference=child:*"], ["images", "-f", "label=org.example.kind"],
    ["images", "-f", "before=child:2"], ["images", "-f", "dangling=nope"],
    ["images", "--format", "{{.Repository}} {{.Tag}} {{.Digest}} {{.CreatedAt}} {{.Size}}"],
    ["images", "--format", "table {{.ID}}\t{{.VirtualSize}}\t{{.Containers}}"],
    ["images", "--format", "json"], ["images", "--format", "{{json .}}"], ["images", "child"],
    ["image", "inspect", "base", "child:1"], ["image", "inspect", "-f", "{{.Id}} {{.Config.Cmd}} "
                                             "{{.Config.Labels}} {{.Created}}", "base"],
    ["image", "inspect", "-f", "{{json .RootFS}}", "child:2"], ["image", "inspect", "nope"],
    ["image", "inspect", "base", "nope"], ["inspect", "--type", "image", "child:1"],
    ["inspect", "nope"], ["image", "inspect", "-f", "{{.Nope}}", "base"],
    ["history", "child:1"], ["history", "--no-trunc", "child:1"], ["history", "-q", "child:1"],
    ["history", "-H=false", "base"], ["history", "--format", "json", "child:1"],
    ["history", "--format", "table {{.ID}}\t{{.CreatedBy}}\t{{.Size}}", "child:1"],
    ["history", "nope"],
    ["system", "df"], ["system", "df", "-v"], ["system", "df", "--format", "json"],
    ["system", "df", "-v", "--format", "json"],
    ["system", "df", "--format", "table {{.Type}}\t{{.TotalCount}}\t{{.Reclaimable}}"],
    ["tag", "nope", "x"], ["tag", "base", "Bad:x"], ["rmi", "nope"], ["rmi", "-f", "nope"],
    ["rmi", "Bad"], ["save", "nope"], ["image", "prune", "-f", "--filter", "until=xx"],
    ["image", "prune", "-f", "--filter", "bogus=1"], ["import", "-c", "BOGUS x", "-"],
    ["images", "--bogus"], ["history"], ["tag", "base"], ["images", "--format", "{{json .}"],
]


@DOCKER28
@pytest.mark.parametrize("args", IMAGES_AS_DOCKER, ids=[" ".join(a) for a in IMAGES_AS_DOCKER])
def test_output_as_docker(berth_cli, images, args):
    """The same output, errors and exit code as docker 28's on the same berthd (the commands
    here change nothing, or fail)."""
    need_docker28()
    load_family(berth_cli, images)
    import_dangling(berth_cli, images)
    # an image made just now reads "Less than a second ago", then "1 second ago": two calls
    # may straddle that second, so a difference gets two more tries
    for _ in range(3):
        d = berth_cli.docker(*args)
        b = berth_cli.run(*args)
        if (b.returncode, b.stdout) == (d.returncode, d.stdout):
            break
    assert (b.returncode, b.stdout) == (d.returncode, d.stdout)
    assert b.stderr == d.stderr.replace("docker", "berth")


def test_load_progress_on_a_terminal(berth_cli, images, tmp_path):
    archive = tmp_path / "family.tar"
    archive.write_bytes(images.family_tar)
    child = spawn(berth_cli, "load", "-i", str(archive))
    out = child.read().decode()
    child.close()
    assert child.exitstatus == 0, out
    # the layer's progress line, redrawn in place, then the names
    short = sha256(images.base_layer)[7:19]
    assert re.search(re.escape(short) + r": Loading layer \[=+>\]\s+10\.24kB/10\.24kB\r", out), repr(out)
    assert "\x1b[1A\x1b[2K" in out, repr(out)
    assert out.endswith("Loaded image: base:latest\r\nLoaded image: child:1\r\n"
                        "Loaded image: child:2\r\n"), repr(out)
    # -q: no progress even on a terminal
    child = spawn(berth_cli, "load", "-q", "-i", str(archive))
    out = child.read().decode()
    child.close()
    assert child.exitstatus == 0 and "Loading layer" not in out and "\x1b" not in out, repr(out)
    assert tags_of(berth_cli)["child:2"] == images.child.id
    # no -i and stdin a terminal: docker's refusal
    child = spawn(berth_cli, "load")
    out = child.read().decode()
    child.close()
    assert child.exitstatus == 1
    assert out == "requested load from stdin, but stdin is empty\r\n"


def test_load_corrupt_archives(berth_cli, images, tmp_path):
    load_family(berth_cli, images)
    before = image_list(berth_cli, all=True)
    layers = sorted(p.name for p in (berth_cli.berthd.data_root / "layers").iterdir())
    full = images.family_tar
    cases = [
        (b"this is not a tar archive\n" * 40, "Unrecognized archive format"),
        (full[:len(full) // 2], "Truncated tar archive"),
        (b"", "Unrecognized archive format"),
    ]
    for data, message in cases:
        p = run_bytes(berth_cli, "load", input=data)
        assert p.returncode == 1, p
        assert message in p.stderr.decode(), p.stderr
        assert p.stderr.decode().startswith("load: ") and p.stdout == b""
    # a missing file: the CLI's own message, nothing sent
    proxy = berth_cli.counting_proxy()
    p = berth_cli.run("load", "-i", str(tmp_path / "none.tar"), host=f"unix://{proxy.path}")
    assert (p.returncode, p.stderr) == (1, f"open {tmp_path}/none.tar: no such file or "
                                           "directory\n")
    assert proxy.connections == 0
    # nothing changed, nothing half-written
    assert image_list(berth_cli, all=True) == before
    assert sorted(p.name for p in (berth_cli.berthd.data_root / "layers").iterdir()) == layers


# ---- tag, rmi -------------------------------------------------------------------------------


def test_tag_then_the_reference_resolves(berth_cli, images):
    load_family(berth_cli, images)
    assert ok(berth_cli.run("tag", "base", "my/app:v1")) == ""
    assert image_id(berth_cli, "my/app:v1") == images.base.id
    assert image_id(berth_cli, "docker.io/my/app:v1") == images.base.id
    # by short id, to a name without a tag (latest), to a registry's name
    ok(berth_cli.run("tag", images.base.id[7:19], "plain"))
    assert image_id(berth_cli, "plain:latest") == images.base.id
    ok(berth_cli.run("tag", "child:1", "localhost:5000/team/x:2"))
    assert image_id(berth_cli, "localhost:5000/team/x:2") == images.child.id
    # a name in use moves to the new image
    ok(berth_cli.run("tag", "child:1", "my/app:v1"))
    assert image_id(berth_cli, "my/app:v1") == images.child.id
    assert "my/app:v1" in ok(berth_cli.run("image", "inspect", "-f", "{{.RepoTags}}", "child:1"))


@pytest.mark.parametrize("target,message", [
    ("Bad:x", "invalid reference format: repository name (library/Bad) must be lowercase"),
    ("a:-x", "invalid reference format"),
    ("x@sha256:0123456789012345678901234567890123456789012345678901234567890123",
     "refusing to create a tag with a digest reference"),
    ("0123456789012345678901234567890123456789012345678901234567890123",
     "invalid repository name (0123456789012345678901234567890123456789012345678901234567890123),"
     " cannot specify 64-byte hexadecimal strings"),
])
def test_tag_invalid_reference(berth_cli, images, target, message):
    load_family(berth_cli, images)
    before = tags_of(berth_cli)
    proxy = berth_cli.counting_proxy()
    p = berth_cli.run("tag", "base", target, host=f"unix://{proxy.path}")
    assert p.returncode == 1
    if "digest" in message:
        assert p.stderr == f"{message}\n"
    else:
        assert p.stderr == f"Error parsing reference: \"{target}\" is not a valid " \
                           f"repository/tag: {message}\n"
    assert proxy.connections == 0, proxy.requests
    assert tags_of(berth_cli) == before


def test_tag_unknown_image(berth_cli):
    p = berth_cli.run("tag", "nope", "x:1")
    assert (p.returncode, p.stderr) == (1, "Error response from daemon: No such image: "
                                           "nope:latest\n")
    assert image_id(berth_cli, "x:1") is None


def test_rmi_removes(berth_cli, images):
    load_family(berth_cli, images)
    # one name of two: untagged only
    assert ok(berth_cli.run("rmi", "child:1")) == "Untagged: child:1\n"
    assert image_id(berth_cli, "child:1") is None
    assert image_id(berth_cli, "child:2") == images.child.id
    # the last name: the image and its own layer go; base's stays (base:latest names it)
    out = ok(berth_cli.run("rmi", "child:2"))
    assert out.startswith(f"Untagged: child:2\nDeleted: {images.child.id}\n"), out
    assert image_id(berth_cli, images.child.id) is None
    assert {i["Id"] for i in image_list(berth_cli, all=True)} == {images.base.id}
    # by id while two names use it: docker's conflict, then -f
    ok(berth_cli.run("tag", "base", "again:1"))
    p = berth_cli.run("rmi", images.base.id[7:19])
    assert p.returncode == 1
    assert p.stderr == (f"Error response from daemon: conflict: unable to delete "
                        f"{images.base.id[7:19]} (must be forced) - image is referenced in "
                        "multiple repositories\n")
    assert image_id(berth_cli, "again:1") == images.base.id
    out = ok(berth_cli.run("rmi", "-f", images.base.id[7:19]))
    assert out == f"Untagged: again:1\nUntagged: base:latest\nDeleted: {images.base.id}\n" \
        f"Deleted: {sha256(images.base_layer)}\n"
    assert image_list(berth_cli, all=True) == []


def test_rmi_no_prune_keeps_untagged_parents(berth_cli, images):
    for no_prune in (False, True):
        load_family(berth_cli, images)
        # base loses its name but stays: child:1 and child:2 are built on it
        assert ok(berth_cli.run("rmi", "base")) == "Untagged: base:latest\n"
        assert image_id(berth_cli, images.base.id) == images.base.id
        args = ["rmi"] + (["--no-prune"] if no_prune else []) + ["child:1", "child:2"]
        out = ok(berth_cli.run(*args))
        assert f"Deleted: {images.child.id}\n" in out
        left = {i["Id"] for i in image_list(berth_cli, all=True)}
        if no_prune:
            assert left == {images.base.id} and images.base.id not in out
            ok(berth_cli.run("rmi", images.base.id))
        else:
            assert left == set() and f"Deleted: {images.base.id}\n" in out


def test_rmi_errors(berth_cli, images):
    load_family(berth_cli, images)
    p = berth_cli.run("rmi", "nope")
    assert (p.returncode, p.stdout, p.stderr) == (
        1, "", "Error response from daemon: No such image: nope:latest\n")
    # the others are still removed; exit 1 for the one that failed
    p = berth_cli.run("rmi", "child:1", "nope", "child:2")
    assert p.returncode == 1
    assert p.stdout.startswith("Untagged: child:1\nUntagged: child:2\n")
    assert p.stderr == "Error response from daemon: No such image: nope:latest\n"
    assert image_id(berth_cli, images.child.id) is None
    # -f: an unknown image is no error (docker's)
    assert berth_cli.run("rmi", "-f", "nope").returncode == 0
    p = berth_cli.run("rmi", "Bad")
    assert (p.returncode, p.stderr) == (1, "Error response from daemon: invalid reference "
                                           "format: repository name (library/Bad) must be "
                                           "lowercase\n")
    assert image_id(berth_cli, "base") == images.base.id


# ---- save and load ---------------------------------------------------------------------------


def test_save_load_round_trip(berth_cli, images, tmp_path):
    load_family(berth_cli, images)
    # to stdout (a pipe): the bytes berthd serves
    p = run_bytes(berth_cli, "save", "base", "child:1")
    assert p.returncode == 0 and p.stderr == b"", p.stderr
    saved = p.stdout
    status, _, served = berth_cli.berthd.http("GET", "/images/get?names=base&names=child%3A1")
    assert status == 200 and saved == served
    # the layers' bytes are the ones that were loaded
    files = members(saved)
    assert files["blobs/sha256/" + sha256(images.base_layer)[7:]] == images.base_layer
    assert files["blobs/sha256/" + sha256(images.child_layer)[7:]] == images.child_layer
    manifest = json.loads(files["manifest.json"])
    assert [m["RepoTags"] for m in manifest] == [["base:latest"], ["child:1"]]
    # -o: the same bytes in a file
    out = tmp_path / "x.tar"
    ok(berth_cli.run("save", "-o", str(out), "base", "child:1"))
    assert out.read_bytes() == saved

    # gone, then back from the archive through a pipe: the same ids, layers and bytes
    ok(berth_cli.run("rmi", "-f", "base", "child:1", "child:2"))
    assert image_list(berth_cli, all=True) == []
    p = run_bytes(berth_cli, "load", input=saved)
    assert p.returncode == 0, p.stderr
    assert p.stdout == b"Loaded image: base:latest\nLoaded image: child:1\n"
    assert tags_of(berth_cli) == {"base:latest": images.base.id, "child:1": images.child.id}
    status, body = api(berth_cli, "GET", "/images/child:1/json")
    assert body["RootFS"]["Layers"] == [sha256(images.base_layer), sha256(images.child_layer)]
    again = run_bytes(berth_cli, "save", "base", "child:1")
    assert again.returncode == 0 and again.stdout == saved
    # berth save | berth load, a real pipe between two berth processes
    ok(berth_cli.run("rmi", "child:1"))
    env = berth_cli.env()
    save = subprocess.Popen([str(berth_cli.binary), "save", "base"], stdout=subprocess.PIPE,
                            env=env, stdin=subprocess.DEVNULL)
    load = subprocess.run([str(berth_cli.binary), "load", "-q"], stdin=save.stdout,
                          capture_output=True, text=True, env=env, timeout=60)
    save.stdout.close()
    assert save.wait(30) == 0 and load.returncode == 0, load.stderr
    assert load.stdout == "Loaded image: base:latest\n"


def test_save_refuses_a_terminal(berth_cli, images, tmp_path):
    load_family(berth_cli, images)
    proxy = berth_cli.counting_proxy()
    env = berth_cli.env(host=f"unix://{proxy.path}")
    child = pexpect.spawn(str(berth_cli.binary), ["save", "base"], env=env, timeout=30)
    out = child.read().decode()
    child.close()
    assert child.exitstatus == 1
    assert out == "cowardly refusing to save to a terminal. Use the -o flag or redirect\r\n"
    assert proxy.connections == 0, proxy.requests


def test_save_errors(berth_cli, images, tmp_path):
    load_family(berth_cli, images)
    out = tmp_path / "kept.tar"
    out.write_bytes(b"old content")
    p = berth_cli.run("save", "-o", str(out), "nope")
    assert (p.returncode, p.stderr) == (1, "Error response from daemon: No such image: nope\n")
    # the file is not touched by a failed save
    assert out.read_bytes() == b"old content"
    p = berth_cli.run("save", "-o", str(tmp_path / "no" / "dir.tar"), "base")
    assert p.returncode == 1 and "no such file or directory" in p.stderr, p.stderr
    p = berth_cli.run("save")
    assert p.returncode == 1
    assert p.stderr.startswith("berth: 'berth save' requires at least 1 argument\n")


# ---- import ----------------------------------------------------------------------------------


def test_import_with_changes_sets_the_config(berth_cli, images, tmp_path):
    rootfs = tmp_path / "rootfs.tar"
    rootfs.write_bytes(images.rootfs_tar)
    p = berth_cli.run("import", "-c", "ENV A=b C=d", "-c", 'CMD ["sh", "-c", "echo hi"]',
                      "-c", "LABEL x=y", "-c", "EXPOSE 80/udp 443", "-c", "WORKDIR /w",
                      "--change", "USER 1000:1000", "-c", "ENTRYPOINT /bin/tool",
                      "-c", "VOLUME /data", "-c", "STOPSIGNAL SIGINT", "-m", "made by a test",
                      str(rootfs), "imported:1")
    new_id = ok(p).strip()
    assert re.fullmatch(r"sha256:[0-9a-f]{64}", new_id), p.stdout
    status, body = api(berth_cli, "GET", "/images/imported:1/json")
    assert status == 200 and body["Id"] == new_id
    cfg = body["Config"]
    assert cfg["Env"] == ["A=b", "C=d"]
    assert cfg["Cmd"] == ["sh", "-c", "echo hi"]
    assert cfg["Entrypoint"] == ["/bin/sh", "-c", "/bin/tool"]
    assert cfg["Labels"] == {"x": "y"}
    assert cfg["ExposedPorts"] == {"80/udp": {}, "443/tcp": {}}
    assert cfg["WorkingDir"] == "/w" and cfg["User"] == "1000:1000"
    assert cfg["Volumes"] == {"/data": {}} and cfg["StopSignal"] == "SIGINT"
    assert body["Comment"] == "made by a test"
    # the layer is the tar as it was sent
    assert body["RootFS"]["Layers"] == [sha256(images.rootfs_tar)]
    # from stdin, no changes
    p = run_bytes(berth_cli, "import", "-", "imported:2", input=images.rootfs_tar)
    assert p.returncode == 0, p.stderr
    status, body = api(berth_cli, "GET", "/images/imported:2/json")
    assert body["Id"] == p.stdout.decode().strip()
    assert body["RootFS"]["Layers"] == [sha256(images.rootfs_tar)]
    assert body["Config"].get("Cmd") is None and body["Comment"] == "Imported from -"


def test_import_bad_input(berth_cli, images, tmp_path):
    rootfs = tmp_path / "rootfs.tar"
    rootfs.write_bytes(images.rootfs_tar)
    before = image_list(berth_cli, all=True)
    for change, message in [("BOGUS x", "BOGUS is not a valid change command"),
                             ("FROM x", "FROM is not a valid change command"),
                             ("ENV", "ENV requires at least one argument")]:
        p = berth_cli.run("import", "-c", change, str(rootfs), "bad:1")
        assert (p.returncode, p.stderr) == (1, f"Error response from daemon: {message}\n")
    garbage = tmp_path / "garbage.tar"
    garbage.write_bytes(b"\x00not a tar" * 300)
    p = berth_cli.run("import", str(garbage), "bad:2")
    assert p.returncode == 1 and p.stderr.startswith("Error response from daemon: import: "), \
        p.stderr
    # refused before anything is sent: an invalid name, a missing file
    proxy = berth_cli.counting_proxy()
    host = f"unix://{proxy.path}"
    p = berth_cli.run("import", str(rootfs), "Bad:x", host=host)
    assert (p.returncode, p.stderr) == (1, "invalid reference format: repository name "
                                           "(library/Bad) must be lowercase\n")
    p = berth_cli.run("import", str(tmp_path / "none.tar"), host=host)
    assert (p.returncode, p.stderr) == (1, f"open {tmp_path}/none.tar: no such file or "
                                           "directory\n")
    assert proxy.connections == 0, proxy.requests
    assert image_list(berth_cli, all=True) == before


# ---- prune -----------------------------------------------------------------------------------


def test_image_prune_removes_dangling(berth_cli, images):
    load_family(berth_cli, images)
    dangling = import_dangling(berth_cli, images)
    assert image_id(berth_cli, dangling) == dangling
    # asked first: "n" (or no answer) keeps everything
    for answer in ("n\n", ""):
        p = berth_cli.run("image", "prune", input=answer)
        assert p.returncode == 0
        assert p.stdout == ("WARNING! This will remove all dangling images.\n"
                            "Are you sure you want to continue? [y/N] ")
        assert image_id(berth_cli, dangling) == dangling
    p = berth_cli.run("image", "prune", input="y\n")
    assert p.returncode == 0, p.stderr
    # the image and its layer (a single layer's chain id is its diff id); 4 bytes of content
    assert p.stdout.endswith("[y/N] Deleted Images:\n"
                             f"deleted: {dangling}\ndeleted: {sha256(images.rootfs_tar)}\n\n"
                             "Total reclaimed space: 4B\n"), p.stdout
    assert image_id(berth_cli, dangling) is None
    # the named ones stay
    assert tags_of(berth_cli) == {"base:latest": images.base.id, "child:1": images.child.id,
                                  "child:2": images.child.id}
    # nothing left to prune
    assert ok(berth_cli.run("image", "prune", "-f")) == "Total reclaimed space: 0B\n"


def test_image_prune_all_and_filters(berth_cli, images):
    load_family(berth_cli, images)
    ok(berth_cli.run("tag", "base", "keep:1"))
    # label: only base carries org.example.kind; base and keep:1 are the same image
    p = berth_cli.run("image", "prune", "-a", "-f", "--filter", "label!=org.example.kind")
    assert "untagged: child:1\n" in ok(p) and f"deleted: {images.child.id}\n" in p.stdout
    assert set(tags_of(berth_cli)) == {"base:latest", "keep:1"}
    # until: base was made in 2024; a date before that keeps it
    p = berth_cli.run("image", "prune", "-a", "-f", "--filter", "until=2023-12-31T00:00:00Z")
    assert ok(p) == "Total reclaimed space: 0B\n"
    assert set(tags_of(berth_cli)) == {"base:latest", "keep:1"}
    # -a: every image no container uses
    p = berth_cli.run("image", "prune", "-a", "-f")
    assert f"deleted: {images.base.id}\n" in ok(p)
    assert image_list(berth_cli, all=True) == []
    for args, message in [(["--filter", "until=xx"], "Error response from daemon: failed to "
                                                     "parse value as time or duration: "
                                                     "\"xx\"\n"),
                          (["--filter", "bogus=1"], "Error response from daemon: invalid filter "
                                                    "'bogus'\n")]:
        p = berth_cli.run("image", "prune", "-f", *args)
        assert (p.returncode, p.stderr) == (1, message), p.stderr


# ---- inspect, history, system df ---------------------------------------------------------------


def test_inspect_is_the_apis_object(berth_cli, images):
    load_family(berth_cli, images)
    status, body = api(berth_cli, "GET", "/images/child:1/json")
    for args in (["image", "inspect", "child:1"], ["inspect", "child:1"],
                 ["inspect", "--type", "image", "child:1"]):
        p = berth_cli.run(*args)
        assert json.loads(ok(p)) == [body], args
    assert ok(berth_cli.run("image", "inspect", "-f", "{{.Id}}", "base", "child:2")) == \
        f"{images.base.id}\n{images.child.id}\n"
    assert json.loads(ok(berth_cli.run("image", "inspect", "-f", "json", "base"))) == \
        [api(berth_cli, "GET", "/images/base/json")[1]]
    p = berth_cli.run("image", "inspect", "base", "nope")
    assert p.returncode == 1
    assert [i["Id"] for i in json.loads(p.stdout)] == [images.base.id]
    assert p.stderr == "Error response from daemon: No such image: nope:latest\n"
    p = berth_cli.run("inspect", "nope")
    assert (p.returncode, p.stdout, p.stderr) == (1, "[]\n", "Error: No such object: nope\n")


def test_history_matches_the_api(berth_cli, images):
    load_family(berth_cli, images)
    status, hist = api(berth_cli, "GET", "/images/child:1/history")
    assert status == 200
    out = ok(berth_cli.run("history", "-q", "--no-trunc", "child:1")).split()
    assert out == [h["Id"] for h in hist]
    assert out[0] == images.child.id
    lines = ok(berth_cli.run("history", "child:1")).splitlines()
    assert re.split(r"\s{2,}", lines[0]) == ["IMAGE", "CREATED", "CREATED BY", "SIZE",
                                             "COMMENT"]
    assert lines[1].startswith(images.child.id[7:19]) and "layer 1" in lines[1]
    rows = [json.loads(line) for line in ok(berth_cli.run("history", "--format", "json",
                                                          "child:1")).splitlines()]
    assert [r["CreatedBy"] for r in rows] == ["layer 1", "layer 0"]
    # -H=false: RFC 3339 times and sizes in bytes
    out = ok(berth_cli.run("history", "-H=false", "--format", "{{.CreatedAt}} {{.Size}}",
                           "child:1")).splitlines()
    assert out[-1].startswith("2024-01-02T03:04:05") and \
        re.fullmatch(r"\S+ \d+", out[-1]), out


def test_system_df_counts(berth_cli, images):
    load_family(berth_cli, images)
    import_dangling(berth_cli, images)
    rows = {r["Type"]: r for r in map(json.loads, ok(berth_cli.run(
        "system", "df", "--format", "json")).splitlines())}
    assert set(rows) == {"Images", "Containers", "Local Volumes", "Build Cache"}
    assert rows["Images"]["TotalCount"] == "3" and rows["Images"]["Active"] == "0"
    status, df = api(berth_cli, "GET", "/system/df")
    assert len(df["Images"]) == 3
    verbose = ok(berth_cli.run("system", "df", "-v"))
    assert verbose.startswith("Images space usage:\n\nREPOSITORY   TAG")
    for section in ("Containers space usage:", "Local Volumes space usage:",
                    "Build cache usage: 0B"):
        assert section in verbose
    assert images.child.id[7:19] in verbose and images.base.id[7:19] in verbose


# ---- the command line ---------------------------------------------------------------------------

BAD_LINES = [
    (["images", "--bogus"], 125, usage_error("images", "[OPTIONS] [REPOSITORY[:TAG]]")),
    (["image", "ls", "--bogus"], 125, usage_error("image ls", "[OPTIONS] [REPOSITORY[:TAG]]")),
    (["image", "inspect", "--bogus", "x"], 125,
     usage_error("image inspect", "[OPTIONS] IMAGE [IMAGE...]")),
    (["history", "--bogus", "x"], 125, usage_error("history", "[OPTIONS] IMAGE")),
    (["tag", "--bogus", "a", "b"], 125, usage_error("tag", "SOURCE_IMAGE[:TAG] "
                                                   "TARGET_IMAGE[:TAG]")),
    (["rmi", "--bogus", "x"], 125, usage_error("rmi", "[OPTIONS] IMAGE [IMAGE...]")),
    (["image", "prune", "--bogus"], 125, usage_error("image prune", "[OPTIONS]")),
    (["save", "-x", "a"], 125, "unknown shorthand flag: 'x' in -x\n\nUsage:  berth save "
                               "[OPTIONS] IMAGE [IMAGE...]\n\nRun 'berth save --help' for more "
                               "information\n"),
    (["load", "--bogus"], 125, usage_error("load", "[OPTIONS]")),
    (["import", "--bogus", "-"], 125, usage_error("import", "[OPTIONS] file|URL|- "
                                                  "[REPOSITORY[:TAG]]")),
    (["system", "df", "--bogus"], 125, usage_error("system df", "[OPTIONS]")),
    (["images", "--filter"], 125, "flag needs an argument: --filter\n\nUsage:  berth images "
                                  "[OPTIONS] [REPOSITORY[:TAG]]\n\nRun 'berth images --help' "
                                  "for more information\n"),
    (["images", "-f", "nokey"], 125, "invalid argument \"nokey\" for \"-f, --filter\" flag: "
                                     "bad format of filter (expected name=value)\n\nUsage:  "
                                     "berth images [OPTIONS] [REPOSITORY[:TAG]]\n\nRun 'berth "
                                     "images --help' for more information\n"),
    (["tag", "base"], 1, "berth: 'berth tag' requires 2 arguments\n\nUsage:  berth tag "
                         "SOURCE_IMAGE[:TAG] TARGET_IMAGE[:TAG]\n\nRun 'berth tag --help' for "
                         "more information\n"),
    (["rmi"], 1, "berth: 'berth rmi' requires at least 1 argument\n\nUsage:  berth rmi "
                 "[OPTIONS] IMAGE [IMAGE...]\n\nSee 'berth rmi --help' for more information\n"),
    (["history"], 1, "berth: 'berth history' requires 1 argument\n\nUsage:  berth history "
                     "[OPTIONS] IMAGE\n\nRun 'berth history --help' for more information\n"),
    (["images", "a", "b"], 1, "berth: 'berth images' requires at most 1 argument\n\nUsage:  "
                              "berth images [OPTIONS] [REPOSITORY[:TAG]]\n\nRun 'berth images "
                              "--help' for more information\n"),
    (["image", "inspect", "-f", "{{.Bad", "x"], 64, "template parsing error: template: :1: "
                                                    "unclosed action\n"),
    (["image", "bogus"], 1, "berth: unknown command: berth image bogus\n\nUsage:  berth image\n\n"
                            "Run 'berth image --help' for more information\n"),
]


@pytest.mark.parametrize("args,code,stderr", BAD_LINES, ids=[" ".join(b[0]) for b in BAD_LINES])
def test_bad_command_lines(berth_cli, args, code, stderr):
    proxy = berth_cli.counting_proxy()
    p = berth_cli.run(*args, host=f"unix://{proxy.path}")
    assert (p.returncode, p.stderr) == (code, stderr)
    assert p.stdout == ""
    assert proxy.connections == 0, proxy.requests


def test_completion_offers_image_names(berth_cli, images):
    load_family(berth_cli, images)
    import_dangling(berth_cli, images)

    def complete(*words):
        p = berth_cli.run("__complete", *words)
        assert p.returncode == 0, p.stderr
        return p.stdout.split()

    names = ["child:1", "child:2", "base:latest"]
    assert complete("rmi", "") == names
    assert complete("image", "inspect", "ch") == ["child:1", "child:2"]
    assert complete("history", "b") == ["base:latest"]
    assert complete("image", "") == ["build", "history", "import", "inspect", "load", "ls",
                                     "prune", "pull", "push", "rm", "save", "tag"]
