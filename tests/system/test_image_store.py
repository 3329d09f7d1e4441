"""The image store (lib/image) as root, against real files, real mounts and a real dockerd,
through build/tests/helpers/image-tool (one subcommand per store function).

What is checked is the effect: the files in the data root and in the overlay's merged view,
the mount table, what the real `docker load` and `docker run` make of our archives, and that
a failed operation leaves the data root byte for byte as it was.
"""

import hashlib
import io
import json
import os
import shutil
import signal
import subprocess
import tarfile
import time
import uuid
from pathlib import Path

import pytest

from berth import CACHE, REPO, SCRIPTS, mounts_under, wait_until
from imagebuild import (Dir, File, Hardlink, Image, Opaque, Symlink, Whiteout, docker_archive,
                        layer_tar, oci_layout, sha256)

TOOL = REPO / "build" / "tests" / "helpers" / "image-tool"


# ---------------------------------------------------------------------------------------------
# helpers


def tool(*args, input=None, check=True, timeout=120):
    """Runs image-tool; returns the CompletedProcess (bytes).  check: fail on a non-zero exit."""
    if not TOOL.exists():
        pytest.fail(f"{TOOL} is not built (ninja -C build)")
    p = subprocess.run([str(TOOL), *map(str, args)], input=input, capture_output=True,
                       timeout=timeout)
    if check and p.returncode != 0:
        pytest.fail(f"image-tool {' '.join(map(str, args))} exited {p.returncode}: "
                    f"{p.stderr.decode(errors='replace')}")
    return p


def fails(*args, input=None, code="EINVAL", message=None):
    """Runs image-tool expecting a failure with errno name `code` and `message` in it."""
    p = tool(*args, input=input, check=False)
    err = p.stderr.decode(errors="replace")
    assert p.returncode == 1, f"expected a failure, got {p.returncode}: {p.stdout[:300]} {err}"
    assert f"image-tool: {code}: " in err, err
    if message:
        assert message in err, err
    return err


def tool_json(*args, input=None):
    return json.loads(tool(*args, input=input).stdout)


def load(root, data, *limits):
    """Loads an archive; returns (loaded images, progress events)."""
    out = tool(*limits, "load", root, input=data).stdout.decode().splitlines()
    events = [json.loads(l)["progress"] for l in out if l.startswith('{"progress"')]
    loaded = json.loads(out[-1])["loaded"]
    return loaded, events


def snapshot(root):
    """Everything in a data root: path -> (type, size/target, sha256), the lock file aside."""
    root = Path(root)
    out = {}
    if not root.exists():
        return out
    for dirpath, dirnames, filenames in os.walk(root):
        for name in dirnames + filenames:
            p = Path(dirpath) / name
            rel = str(p.relative_to(root))
            if rel == ".lock":
                continue
            st = p.lstat()
            if p.is_symlink():
                out[rel] = ("l", os.readlink(p))
            elif p.is_dir():
                out[rel] = ("d", oct(st.st_mode))
            elif p.is_file():
                out[rel] = ("f", st.st_size, hashlib.sha256(p.read_bytes()).hexdigest())
            else:
                out[rel] = ("o", st.st_mode, st.st_rdev)
    return out


def tar_names(data):
    with tarfile.open(fileobj=io.BytesIO(data)) as t:
        return [m.name for m in t.getmembers()]


@pytest.fixture
def mounted(tmp_path):
    """Container directories the test mounted; unmounted (and checked) at teardown."""
    dirs = []
    yield dirs
    for d in dirs:
        subprocess.run([str(TOOL), "umount", str(d)], capture_output=True)
    left = mounts_under(tmp_path)
    for m in left:
        subprocess.run(["umount", "-l", m], capture_output=True)
    assert left == [], f"mounts left behind: {left}"


def mount(root, ref, cdir, mounted, *extra):
    mounted.append(cdir)
    tool("mount", root, ref, cdir, *extra)
    merged = Path(cdir) / "merged"
    assert mounts_under(merged) == [str(merged.resolve())]
    return merged


@pytest.fixture(scope="session")
def rootfs_tar(tmp_path_factory):
    """The cached busybox root filesystem as a tar (numeric owners 0)."""
    subprocess.run([str(SCRIPTS / "mkrootfs.sh"), str(CACHE / "rootfs")], check=True)
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for entry in sorted(os.listdir(CACHE / "rootfs")):
            def owner(ti):
                ti.uid = ti.gid = 0
                ti.uname = ti.gname = "root"
                return ti
            tar.add(CACHE / "rootfs" / entry, arcname=entry, filter=owner)
    return buf.getvalue()


def three_layers():
    """A 3-layer image with whiteouts, an opaque directory and hard links."""
    l0 = layer_tar([Dir("etc"), File("etc/passwd", b"root:x:0:0::/root:/bin/sh\n"),
                    File("etc/group", b"root:x:0:\n"), Dir("d"), File("d/a", b"a"),
                    Dir("d/sub"), File("d/sub/b", b"b"), File("gone", b"soon"),
                    Dir("keep"), File("keep/k", b"k")])
    l1 = layer_tar([Whiteout("gone"), Dir("d"), File("d/c", b"c"), File("new", b"new")])
    l2 = layer_tar([Dir("d"), Opaque("d"), File("d/only", b"only"),
                    Hardlink("d/hard", "d/only"), Symlink("link", "/keep/k")])
    return Image([l0, l1, l2], tags=["three:1"])


# ---------------------------------------------------------------------------------------------
# a private dockerd (docker.io), in its own network and mount namespaces


class Dockerd:
    def __init__(self, base):
        self.base = Path(base)
        self.netns = "berth-img-" + uuid.uuid4().hex[:6]
        self.sock = self.base / "docker.sock"
        self.proc = None

    def start(self):
        if not shutil.which("dockerd") or not shutil.which("docker"):
            pytest.fail("dockerd/docker not installed (scripts/install-deps.sh installs docker.io)")
        subprocess.run(["ip", "netns", "add", self.netns], check=True)
        # nsenter, not `ip netns exec`: that one mounts a new /sys, without the cgroup mounts
        enter = ["nsenter", f"--net=/run/netns/{self.netns}"]
        subprocess.run([*enter, "ip", "link", "set", "lo", "up"], check=True)
        (self.base / "daemon.json").write_text("{}")
        log = open(self.base / "dockerd.log", "w")
        self.proc = subprocess.Popen(
            [*enter, "unshare", "--mount", "--propagation", "shared",
             "--", "dockerd", "-H", f"unix://{self.sock}", "--data-root", str(self.base / "data"),
             "--exec-root", str(self.base / "exec"), "--pidfile", str(self.base / "pid"),
             "--config-file", str(self.base / "daemon.json"), "--bridge", "none",
             "--iptables=false", "--cgroup-parent", "/" + self.netns],
            stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            start_new_session=True)
        ok = wait_until(lambda: self.docker("version", check=False).returncode == 0
                        or self.proc.poll() is not None, timeout=60, interval=0.2)
        if not ok or self.proc.poll() is not None:
            log_text = (self.base / "dockerd.log").read_text()[-3000:]
            self.stop()
            pytest.fail(f"dockerd did not start:\n{log_text}")

    def docker(self, *args, input=None, check=True, timeout=120):
        env = dict(os.environ, DOCKER_HOST=f"unix://{self.sock}", DOCKER_BUILDKIT="0")
        p = subprocess.run(["docker", *map(str, args)], input=input, capture_output=True,
                           env=env, timeout=timeout)
        if check and p.returncode != 0:
            pytest.fail(f"docker {' '.join(map(str, args))}: {p.stderr.decode()}")
        return p

    def stop(self):
        if self.proc and self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        subprocess.run(["ip", "netns", "delete", self.netns], capture_output=True)
        # /sys/fs/cgroup/<controller>/<parent> on a v1 host, /sys/fs/cgroup/<parent> on pure v2
        cg = Path("/sys/fs/cgroup")
        for c in [*cg.glob(self.netns), *cg.glob(f"*/{self.netns}")]:
            for d in sorted((Path(p) for p, _, _ in os.walk(c)), key=lambda p: -len(str(p))):
                try:
                    d.rmdir()
                except OSError:
                    pass
        shutil.rmtree(self.base, ignore_errors=True)


@pytest.fixture(scope="module")
def dockerd(tmp_path_factory):
    d = Dockerd(tmp_path_factory.mktemp("dockerd"))
    d.start()
    yield d
    d.stop()


@pytest.fixture(scope="module")
def docker_saved(dockerd, rootfs_tar, tmp_path_factory):
    """`docker save` of a busybox image built by the real dockerd: the imported root
    filesystem, then two RUN layers (a whiteout, an opaque directory, a hard link)."""
    ctx = tmp_path_factory.mktemp("ctx")
    dockerd.docker("import", "-", "bbase:1", input=rootfs_tar)
    (ctx / "Dockerfile").write_text(
        "FROM bbase:1\n"
        "RUN rm /bin/ls && mkdir -p /d/sub && echo x > /d/sub/x && echo keep > /d/keep\n"
        "RUN rm -rf /d && mkdir /d && echo new > /d/only && ln /d/only /d/hard\n"
        'CMD ["sh"]\n')
    dockerd.docker("build", "--network", "none", "-q", "-t", "bbmulti:1", str(ctx))
    return dockerd.docker("save", "bbmulti:1").stdout


# ---------------------------------------------------------------------------------------------
# docker-archive from the real dockerd, and back


def test_load_docker_save_and_mount(tmp_path, docker_saved, mounted):
    root = tmp_path / "root"
    loaded, events = load(root, docker_saved)
    assert [img["tags"] for img in loaded] == [["docker.io/library/bbmulti:1"]]
    info = tool_json("inspect", root, "bbmulti:1")
    assert info["id"] == loaded[0]["id"]
    assert len(info["layers"]) == 3 and info["repo_tags"] == ["bbmulti:1"]
    # the image id is the sha256 of its config blob, which is in the store
    config = (root / "blobs" / "sha256" / info["id"][7:]).read_bytes()
    assert sha256(config) == info["id"]
    # each layer unpacked once, named by its chain id, with its metadata
    for diff, chain in zip(info["diff_ids"], info["layers"]):
        meta = json.loads((root / "layers" / chain[7:] / "layer.json").read_text())
        assert meta["diff_id"] == diff and meta["chain_id"] == chain
        assert (root / "blobs" / "sha256" / meta["blob"][7:]).exists()
    # progress: every layer from 0 to its total
    by_layer = {}
    for e in events:
        assert e["action"] == "Loading layer"
        by_layer.setdefault(e["id"], []).append((e["current"], e["total"]))
    assert sorted(by_layer) == sorted(d[7:19] for d in info["diff_ids"])
    for steps in by_layer.values():
        assert steps[0][0] == 0 and steps[-1][0] == steps[-1][1] > 0
        assert [c for c, _ in steps] == sorted(c for c, _ in steps)

    merged = mount(root, "bbmulti:1", tmp_path / "c", mounted)
    assert (merged / "bin" / "busybox").is_file()
    assert not (merged / "bin" / "ls").exists(), "a whiteout hides the lower file"
    assert sorted(os.listdir(merged / "d")) == ["hard", "only"], "an opaque directory"
    assert (merged / "d" / "only").stat().st_ino == (merged / "d" / "hard").stat().st_ino
    # GraphDriver.Data: lowers topmost first, each a layer's diff
    paths = tool_json("paths", root, "bbmulti:1", tmp_path / "c")
    assert paths["LowerDir"].split(":") == [
        str(root.resolve() / "layers" / c[7:] / "diff") for c in reversed(info["layers"])]
    assert paths["MergedDir"] == str(tmp_path / "c" / "merged")


def test_our_save_runs_on_docker(tmp_path, dockerd, docker_saved):
    """save -> the real `docker load` -> `docker run`; and our load of our save."""
    root = tmp_path / "root"
    load(root, docker_saved)
    tool("tag", root, "bbmulti:1", "berth-saved:2")
    ours = tool("save", root, "berth-saved:2").stdout
    names = tar_names(ours)
    for n in ("index.json", "manifest.json", "oci-layout", "repositories"):
        assert n in names
    assert names == sorted(names), "members in byte order"
    assert tool("save", root, "berth-saved:2").stdout == ours, "the same bytes every time"
    manifest = json.loads(tarfile.open(fileobj=io.BytesIO(ours)).extractfile("manifest.json").read())
    assert manifest[0]["RepoTags"] == ["berth-saved:2"]

    out = dockerd.docker("load", input=ours).stdout.decode()
    assert "Loaded image: berth-saved:2" in out
    run = dockerd.docker("run", "--rm", "--network", "none", "berth-saved:2", "sh", "-c",
                         "cat /d/only; ls /d; test -e /bin/ls || echo no-ls")
    assert run.stdout.decode() == "new\nhard\nonly\nno-ls\n"
    dockerd.docker("rmi", "berth-saved:2")

    # and our own load of it (the docker 25+ form: manifest.json plus index.json)
    root2 = tmp_path / "root2"
    loaded, _ = load(root2, ours)
    assert loaded[0]["id"] == tool("resolve", root, "berth-saved:2").stdout.decode().strip()
    assert tool("save", root2, "berth-saved:2").stdout == ours


def test_load_forms_order_and_compression(tmp_path, mounted):
    img = three_layers()
    reverse = lambda members: list(reversed(members))  # noqa: E731
    archives = {
        "legacy": docker_archive([img]),
        "legacy-reversed": docker_archive([img], order=reverse),
        "blobs": docker_archive([img], form="blobs"),
        "oci": oci_layout([img]),
        "oci-gzip": oci_layout([img], compression="gzip"),
        "oci-zstd": oci_layout([img], compression="zstd"),
        "oci-multiplatform": oci_layout([img], compression="gzip", multiplatform=True),
    }
    for name, data in archives.items():
        root = tmp_path / name
        loaded, _ = load(root, data)
        assert loaded == [{"id": img.id, "tags": ["docker.io/library/three:1"],
                           "previous": [None]}], name
    # a compressed archive as a whole (docker save | gzip | docker load)
    import gzip
    loaded, _ = load(tmp_path / "gz", gzip.compress(archives["legacy"]))
    assert loaded[0]["id"] == img.id
    # every form gives the same layers: same chain ids, same trees
    root = tmp_path / "oci-zstd"
    info = tool_json("inspect", root, "three:1")
    assert info["diff_ids"] == [sha256(l) for l in img.layers]
    assert info["size"] == sum(len(x) for x in (b"root:x:0:0::/root:/bin/sh\n", b"root:x:0:\n",
                                                 b"a", b"b", b"soon", b"k", b"c", b"new",
                                                 b"only", b"/keep/k"))
    merged = mount(root, "three:1", tmp_path / "c", mounted)
    assert not (merged / "gone").exists()
    assert sorted(os.listdir(merged / "d")) == ["hard", "only"]
    assert (merged / "keep" / "k").read_text() == "k"
    assert os.readlink(merged / "link") == "/keep/k"
    assert (merged / "new").read_text() == "new"
    # a whiteout in the layer as overlayfs wants it
    gone = root / "layers" / info["layers"][1][7:] / "diff" / "gone"
    st = gone.lstat()
    assert (st.st_mode & 0o170000) == 0o020000 and st.st_rdev == 0
    opq = root / "layers" / info["layers"][2][7:] / "diff" / "d"
    assert os.getxattr(opq, "trusted.overlay.opaque") == b"y"


def test_image_without_layers(tmp_path, mounted):
    """An OCI image may have no layers: it loads, saves, and mounts on an empty lower."""
    root = tmp_path / "root"
    empty = Image([], tags=["empty:1"])
    loaded, events = load(root, oci_layout([empty]))
    assert loaded[0]["id"] == empty.id and events == []
    info = tool_json("inspect", root, "empty:1")
    assert info["layers"] == [] and info["top_layer"] is None and info["size"] == 0
    assert tool_json("paths", root, "empty:1", tmp_path / "c")["LowerDir"] is None
    merged = mount(root, "empty:1", tmp_path / "c", mounted)
    assert os.listdir(merged) == []
    (merged / "hello").write_text("hi")
    assert (tmp_path / "c" / "upper" / "hello").read_text() == "hi"
    tool("rootfs-rm", tmp_path / "c")
    assert not (tmp_path / "c" / "empty").exists()
    saved = tool("save", root, "empty:1").stdout
    loaded, _ = load(tmp_path / "root2", saved)
    assert loaded[0]["id"] == empty.id


def test_copy_up_diff_and_export(tmp_path, mounted):
    root = tmp_path / "root"
    img = three_layers()
    load(root, docker_archive([img]))
    info = tool_json("inspect", root, "three:1")
    before = snapshot(root / "layers")
    c = tmp_path / "c"
    merged = mount(root, "three:1", c, mounted)
    (merged / "keep" / "k").write_text("changed")
    (merged / "d" / "only").unlink()
    os.remove(merged / "etc" / "group")
    shutil.rmtree(merged / "keep")
    os.mkdir(merged / "keep")
    (merged / "keep" / "fresh").write_text("f")
    os.mkfifo(merged / "fifo")
    assert snapshot(root / "layers") == before, "copy-up leaves the lower layers untouched"
    # the upper directory as a layer: whiteouts and opaque directories in the OCI form
    diff = tool("diff", c / "upper").stdout
    names = tar_names(diff)
    assert "etc/.wh.group" in names and "d/.wh.only" in names
    assert "keep/.wh..wh..opq" in names and "keep/fresh" in names
    assert tool("diff", c / "upper").stdout == diff, "deterministic"
    # applying that diff on top of the image gives the container's view
    tool("umount", c)
    assert mounts_under(c) == []
    layer = tmp_path / "layer"
    layer.mkdir()
    tool("apply", layer, "--whiteouts", input=diff)
    assert (layer / "etc" / "group").lstat().st_rdev == 0
    assert os.getxattr(layer / "keep", "trusted.overlay.opaque") == b"y"
    # export: a plain tar of a whole tree
    merged = mount(root, "three:1", tmp_path / "c2", mounted)
    exported = tool("export", merged).stdout
    names = tar_names(exported)
    assert "d/only" in names and "gone" not in names and "bin" not in names
    assert not any(".wh." in n for n in names)
    tool("rootfs-rm", tmp_path / "c2")
    assert not (tmp_path / "c2" / "upper").exists() and mounts_under(tmp_path / "c2") == []
    assert len(info["layers"]) == 3


def test_import_and_run(tmp_path, mounted, rootfs_tar, runtime, make_bundle):
    import gzip
    root = tmp_path / "root"
    image_id = tool("import", root, "imported:1", input=gzip.compress(rootfs_tar)).stdout
    image_id = image_id.decode().strip()
    info = tool_json("inspect", root, "imported:1")
    assert info["id"] == image_id and len(info["layers"]) == 1
    assert info["diff_ids"] == [sha256(rootfs_tar)], "diff id of the uncompressed tar"
    assert info["config"]["rootfs"] == {"type": "layers", "diff_ids": [sha256(rootfs_tar)]}
    assert info["config"]["config"]["Cmd"] == ["sh"]
    # the blob kept is the compressed stream as it came
    layer = json.loads((root / "layers" / info["layers"][0][7:] / "layer.json").read_text())
    assert layer["blob"] != layer["diff_id"] and (root / "blobs/sha256" / layer["blob"][7:]).exists()
    # run a container on the overlay root with berth-runtime
    merged = mount(root, "imported:1", tmp_path / "c", mounted)
    b = make_bundle(args=["sh", "-c", "echo from-overlay > /tmp/x; cat /tmp/x; ls /bin/busybox"])
    b.config["root"] = {"path": str(merged), "readonly": False}
    b.write()
    code, out, err = runtime.run_bundle(b)
    assert (code, out) == (0, "from-overlay\n/bin/busybox\n"), err
    assert (tmp_path / "c" / "upper" / "tmp" / "x").read_text() == "from-overlay\n"
    tool("umount", tmp_path / "c")
    # a bad tag is refused before anything is read
    fails("import", root, "Bad:Tag", input=rootfs_tar,
          message="invalid reference format: repository name (library/Bad) must be lowercase")


@pytest.mark.parametrize("legacy,n", [(False, 200), (True, 500)], ids=["lowerdir+", "links"])
def test_many_layers_mount(tmp_path, mounted, legacy, n):
    """200 layers with "lowerdir+"; overlayfs' maximum, 500, with the short links."""
    layers = [layer_tar([Dir("l"), File(f"l/{i:03d}", str(i).encode())]
                        + ([Whiteout(f"l/{i - 1:03d}")] if i % 50 == 49 else []))
              for i in range(n)]
    img = Image(layers, tags=["tall:1"])
    root = tmp_path / "root"
    t0 = time.monotonic()
    load(root, docker_archive([img], form="blobs"))
    took = time.monotonic() - t0
    merged = mount(root, "tall:1", tmp_path / "c", mounted, *(["--legacy"] if legacy else []))
    names = sorted(os.listdir(merged / "l"))
    assert len(names) == n - n // 50 and "048" not in names and f"{n - 1}" in names
    paths = tool_json("paths", root, "tall:1", tmp_path / "c")
    assert len(paths["LowerDir"]) > 4096, "more than mount(2)'s one page of options"
    opts = [l for l in Path("/proc/self/mountinfo").read_text().splitlines()
            if str((tmp_path / "c" / "merged").resolve()) in l]
    assert ("lowerdir=l/0:l/1:" in opts[0]) == legacy
    print(f"{n} layers loaded in {took:.2f}s")


# ---------------------------------------------------------------------------------------------
# hostile layers


OUTSIDE_REL = "../../../../../../../../../../../../../.."


@pytest.mark.parametrize("case", [
    "dotdot", "absolute", "symlink-then-write", "symlink-abs-then-write", "hardlink-out",
    "hardlink-abs", "dir-over-symlink", "symlink-parent-chain"])
def test_hostile_layer(tmp_path, case):
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "victim").write_text("untouched")
    root = tmp_path / "root"
    o = str(outside)
    entries, refused, inside = {
        "dotdot": ([File(OUTSIDE_REL + o + "/x", b"x")], "leaves the root", None),
        "absolute": ([File(o + "/x", b"x")], False, o.lstrip("/") + "/x"),
        "symlink-then-write": ([Symlink("a", OUTSIDE_REL + o), File("a/victim", b"owned")],
                               False, o.lstrip("/") + "/victim"),
        "symlink-abs-then-write": ([Symlink("a", o), File("a/victim", b"owned")], False,
                                   o.lstrip("/") + "/victim"),
        "hardlink-out": ([Hardlink("h", OUTSIDE_REL + o + "/victim")], "leaves the root", None),
        # absolute: looked up inside the layer, where there is no such file
        "hardlink-abs": ([Hardlink("h", o + "/victim")], "No such file or directory", None),
        "dir-over-symlink": ([Symlink("d", o), Dir("d"), File("d/victim", b"owned")], False,
                             "d/victim"),
        "symlink-parent-chain": ([Symlink("x", "y/.."), Symlink("y", ".."),
                                  File("x/x/x" + o + "/victim", b"owned")], False, None),
    }[case]
    img = Image([layer_tar([Dir("etc"), File("etc/hostname", b"h")]), layer_tar(entries)],
                tags=["hostile:1"])
    tool("import", root, "base:1", input=layer_tar([File("base", b"b")]))
    before = snapshot(root)
    p = tool("load", root, input=docker_archive([img]), check=False)
    assert (outside / "victim").read_text() == "untouched"
    assert sorted(os.listdir(outside)) == ["victim"], "nothing written outside"
    assert sorted(os.listdir(tmp_path)) == ["outside", "root"]
    if refused:
        assert p.returncode == 1 and refused.encode() in p.stderr, p.stderr
        assert snapshot(root) == before, "a refused load leaves the store as it was"
        return
    assert p.returncode == 0, p.stderr
    info = tool_json("inspect", root, "hostile:1")
    diff = root / "layers" / info["layers"][1][7:] / "diff"
    if inside:
        assert (diff / inside).read_bytes() in (b"x", b"owned"), "landed inside the layer"


def test_apply_hostile_as_root_both_resolvers(tmp_path):
    """berth_tar_apply as root (owners, devices restored) with openat2 and with the walk."""
    for walk in ([], ["--walk"]):
        box = tmp_path / ("walk" if walk else "openat2")
        (box / "root").mkdir(parents=True)
        (box / "outside").mkdir()
        tar = layer_tar([Symlink("etc", "../outside"), File("etc/passwd", b"p"),
                         Symlink("up", "../../../.."), Dir("up/outside"),
                         File("up/outside/y", b"y")])
        stats = json.loads(tool("apply", box / "root", "--whiteouts", *walk, input=tar).stdout)
        assert stats["entries"] == 5
        assert os.listdir(box / "outside") == []
        assert (box / "root" / "outside" / "passwd").read_text() == "p"
        assert (box / "root" / "outside" / "y").read_text() == "y"
        fails("apply", box / "root", *walk, input=layer_tar([Hardlink("h", "../outside/z")]),
              message="leaves the root")


# ---------------------------------------------------------------------------------------------
# broken archives: the store is left exactly as it was


@pytest.fixture
def populated(tmp_path):
    """A store with one image in it, and its snapshot."""
    root = tmp_path / "root"
    load(root, docker_archive([Image([layer_tar([File("base", b"b")])], tags=["base:1"])]))
    return root, snapshot(root)


def test_truncated_archives(populated):
    root, before = populated
    data = docker_archive([three_layers()], form="blobs")
    with tarfile.open(fileobj=io.BytesIO(data)) as t:
        last = t.getmembers()[-1]
    # in the first header, in the first layer, half way, one byte short of the last member
    for cut in (100, 1500, len(data) // 2, last.offset_data + last.size - 1):
        err = fails("load", root, input=data[:cut])
        assert "load: " in err
        assert snapshot(root) == before, f"cut at {cut}: the store changed"
    assert tool_json("list", root)[0]["repo_tags"] == ["base:1"]


def test_corrupted_layer(populated):
    root, before = populated
    img = three_layers()
    data = bytearray(docker_archive([img]))
    # flip one byte of the content of the last layer's file "only" (a data block, 512-aligned)
    pos = next(p for p in range(0, len(data), 512) if data[p:p + 5] == b"only\0")
    data[pos] = ord("X")
    err = fails("load", root, input=bytes(data), message="diff id mismatch")
    assert sha256(img.layers[2])[:20] in err, "the error names the layer's diff id"
    assert snapshot(root) == before


def test_digest_and_diff_id_mismatches(populated):
    root, before = populated
    img = three_layers()
    # a config naming diff ids its layers do not have
    liar = Image(img.layers, tags=["liar:1"], diff_ids=[sha256(l) for l in reversed(img.layers)])
    fails("load", root, input=docker_archive([liar]), message="diff id mismatch")
    assert snapshot(root) == before
    # an OCI blob whose name is not its digest
    good = oci_layout([img])
    with tarfile.open(fileobj=io.BytesIO(good)) as t:
        members = [(m, t.extractfile(m).read() if m.isfile() else None) for m in t.getmembers()]
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as t:
        for m, content in members:
            if m.name.startswith("blobs/") and content and content == img.layers[1]:
                content = content.replace(b"new", b"NEW")
            t.addfile(m, io.BytesIO(content) if content is not None else None)
    fails("load", root, input=buf.getvalue(), message="digest mismatch")
    # layer count and config disagree; a missing member; no manifest at all
    short = Image(img.layers[:2], tags=["short:1"], diff_ids=[sha256(l) for l in img.layers])
    fails("load", root, input=docker_archive([short]), message="layers length mismatch")
    missing = docker_archive([img], order=lambda ms: [m for m in ms if not m[0].endswith(".json")
                                                       or m[0] == "manifest.json"])
    fails("load", root, input=missing, message="is not in the archive")
    fails("load", root, input=layer_tar([File("hello", b"x")]),
          message="neither manifest.json nor index.json")
    fails("load", root, input=b"garbage" * 100)
    assert snapshot(root) == before


def test_limits(tmp_path):
    img = three_layers()
    root = tmp_path / "root"
    fails("--max-layers", "2", "load", root, input=docker_archive([img]), code="EFBIG",
          message="more than 2 entries")
    fails("--max-entries", "4", "load", root, input=docker_archive([img]), code="EFBIG",
          message="more than 4 members")
    fails("--max-json", "64", "load", root, input=docker_archive([img]), code="EFBIG")
    fails("--max-layer-size", "4096", "load", root,
          input=docker_archive([Image([layer_tar([File("big", b"x" * 100000)])])]),
          code="EFBIG", message="larger than 4096 bytes")
    fails("--max-archive-size", "10000", "load", root, input=docker_archive([img]),
          code="EFBIG")
    fails("--max-path", "100", "load", root,
          input=docker_archive([Image([layer_tar([File("a" * 150, b"x")])])]), code="EFBIG",
          message="entry name longer than 100 bytes")
    fails("--max-images", "1", "load", root,
          input=docker_archive([img, Image([layer_tar([File("z", b"z")])], tags=["z:1"])]),
          code="EFBIG")
    assert not (root / "images.json").exists() or tool_json("list", root) == []


# ---------------------------------------------------------------------------------------------
# names, tags, delete, prune, gc, history


def test_tags_and_delete(tmp_path):
    root = tmp_path / "root"
    base = Image([layer_tar([File("base", b"b")])], tags=["base:1"])
    img = three_layers()
    load(root, docker_archive([base, img]))
    assert tool("resolve", root, "three:1").stdout.decode().strip() == img.id
    assert tool("resolve", root, img.id[7:19]).stdout.decode().strip() == img.id
    fails("resolve", root, "missing", code="ENOENT", message="No such image: missing:latest")
    fails("resolve", root, "Missing", message="must be lowercase")

    tool("tag", root, "three:1", "localhost:5000/team/three:v2")
    assert tool_json("inspect", root, img.id)["repo_tags"] == [
        "localhost:5000/team/three:v2", "three:1"]
    # loading the same name again moves it and says which image had it
    moved = Image([layer_tar([File("other", b"o")])], tags=["three:1"])
    loaded, _ = load(root, docker_archive([moved]))
    assert loaded[0]["previous"] == [img.id]
    assert tool_json("inspect", root, img.id)["repo_tags"] == ["localhost:5000/team/three:v2"]

    # a stopped container uses it: the last tag needs force, the id too
    fails("rmi", root, "localhost:5000/team/three:v2", "--stopped", f"{img.id}:0123456789abcdef",
          code="EBUSY", message="container 0123456789ab is using its referenced image")
    fails("rmi", root, img.id, "--stopped", f"{img.id}:0123456789abcdef", code="EBUSY",
          message="(must be forced) - image is being used by stopped container 0123456789ab")
    fails("rmi", root, img.id, "--force", "--running", f"{img.id}:fedcba987654", code="EBUSY",
          message="(cannot be forced) - image is being used by running container fedcba987654")
    tool("untag", root, "localhost:5000/team/three:v2")
    fails("untag", root, "localhost:5000/team/three:v2", code="ENOENT")
    history = tool_json("history", root, img.id)
    assert [h["created_by"] for h in history] == ["layer 2", "layer 1", "layer 0"]
    assert history[0]["id"] == img.id and history[1]["id"] == "<missing>"
    assert history[0]["size"] == len(b"only") + len(b"/keep/k")
    layers_before = set(os.listdir(root / "layers"))
    out = tool_json("rmi", root, img.id[7:19])
    assert {"Deleted": img.id} in out
    removed = {x["Deleted"] for x in out if "Deleted" in x} - {img.id}
    info_chains = set()
    for c in removed:
        assert not (root / "layers" / c[7:]).exists()
        info_chains.add(c[7:])
    assert layers_before - set(os.listdir(root / "layers")) == info_chains
    assert not (root / "blobs" / "sha256" / img.id[7:]).exists(), "the config blob went too"

    # prune: the dangling one goes, the tagged ones stay (unless --all)
    tool("untag", root, "three:1")
    out = tool_json("prune", root)
    assert {"Deleted": moved.id} in out["deleted"] and out["reclaimed"] == 1
    assert [i["repo_tags"] for i in tool_json("list", root)] == [["base:1"]]
    out = tool_json("prune", root, "--all", "--running", f"{base.id}:c1")
    assert out["deleted"] == [], "an image a container uses is not pruned"
    out = tool_json("prune", root, "--all")
    assert {"Untagged": "base:1"} in out["deleted"] and tool_json("list", root) == []
    assert os.listdir(root / "layers") == [] and os.listdir(root / "blobs" / "sha256") == []


def test_parents_and_children(tmp_path):
    """manifest.json's Parent, kept when the parent's history is a prefix of the child's."""
    root = tmp_path / "root"
    base_layer = layer_tar([File("p", b"p")])
    hist = [{"created": "2024-01-02T03:04:05Z", "created_by": "parent step"}]
    parent = Image([base_layer], history=hist)
    child = Image([base_layer, layer_tar([File("c", b"c")])], tags=["child:1"], parent=parent,
                  history=hist + [{"created": "2024-01-02T03:04:06Z", "created_by": "child"}])
    load(root, docker_archive([parent, child]))
    assert tool_json("inspect", root, "child:1")["parent"] == parent.id
    history = tool_json("history", root, "child:1")
    assert [h["id"] for h in history] == [child.id, parent.id], "ids along the parent chain"
    fails("rmi", root, parent.id, "--force", code="EBUSY",
          message="(cannot be forced) - image has dependent child images")
    # noprune keeps the untagged parent; without it the parent goes with its last child
    out = tool_json("rmi", root, "child:1", "--no-prune")
    assert {"Deleted": child.id} in out and {"Deleted": parent.id} not in out
    assert [i["id"] for i in tool_json("list", root)] == [parent.id]
    load(root, docker_archive([parent, child]))
    out = tool_json("rmi", root, "child:1")
    assert {"Untagged": "child:1"} in out and {"Deleted": child.id} in out
    assert {"Deleted": parent.id} in out and tool_json("list", root) == []
    # a Parent whose history does not lead to the child is not recorded
    stranger = Image([base_layer], history=[{"created_by": "something else"}])
    orphan = Image(child.layers, tags=["orphan:1"], parent=stranger, history=child.history)
    load(root, docker_archive([stranger, orphan]))
    assert tool_json("inspect", root, "orphan:1")["parent"] is None


def test_gc_keeps_held_layers(tmp_path, mounted):
    root = tmp_path / "root"
    img = three_layers()
    load(root, docker_archive([img]))
    info = tool_json("inspect", root, "three:1")
    merged = mount(root, "three:1", tmp_path / "c", mounted)
    # the image goes while a container still stands on its layers
    tool("rmi", root, "three:1", "--force", "--held", info["top_layer"])
    assert tool("gc", root, info["top_layer"]).stdout.decode().strip() == "0"
    assert sorted(os.listdir(root / "layers")) == sorted(c[7:] for c in info["layers"])
    assert (merged / "new").read_text() == "new"
    tool("umount", tmp_path / "c")
    # without holders everything goes: three layers and their three blobs
    assert tool("gc", root).stdout.decode().strip() == str(3 + 3)
    assert os.listdir(root / "layers") == []


def test_save_names(tmp_path):
    root = tmp_path / "root"
    a = Image([layer_tar([File("a", b"a")])], tags=["repo:1", "repo:2"])
    b = Image([layer_tar([File("b", b"b")])], tags=["other:1"])
    load(root, docker_archive([a, b]))
    m = lambda data: json.loads(tarfile.open(fileobj=io.BytesIO(data))  # noqa: E731
                                .extractfile("manifest.json").read())
    assert m(tool("save", root, "repo").stdout)[0]["RepoTags"] == ["repo:1", "repo:2"]
    assert m(tool("save", root, "repo:2", "other:1").stdout) == [
        {"Config": "blobs/sha256/" + a.id[7:], "RepoTags": ["repo:2"],
         "Layers": ["blobs/sha256/" + sha256(a.layers[0])[7:]]},
        {"Config": "blobs/sha256/" + b.id[7:], "RepoTags": ["other:1"],
         "Layers": ["blobs/sha256/" + sha256(b.layers[0])[7:]]}]
    assert m(tool("save", root, a.id[7:15]).stdout)[0]["RepoTags"] is None
    fails("save", root, "nope:1", code="ENOENT", message="No such image: nope:1")
    fails("save", root, "Nope", message="must be lowercase")
