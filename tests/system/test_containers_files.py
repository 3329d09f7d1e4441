"""A container's files (issue 12): cp both ways (GET/HEAD/PUT /containers/{id}/archive), diff
(/changes), commit (/commit), export, through berth and the real docker CLI against a private
berthd.  What is checked is the effect: the bytes, modes, owners and symlinks of the trees on
either side (read back through the other tool or the tar stream), the image a commit made run
as a container, the host's filesystem after a container played the attacker.
"""

import hashlib
import http.client
import io
import json
import os
import shutil
import subprocess
import tarfile
import tempfile
import time
import urllib.parse
import uuid
from pathlib import Path

import pytest

from cli import berth_binary
from daemon import DOCKER_CLI, needs_berthd

pytestmark = [
    needs_berthd,
    pytest.mark.skipif(DOCKER_CLI is None, reason="no docker CLI"),
]

BIG = 100 << 20


def run(bd, tool, *args, input=None, check=True, timeout=120):
    exe = DOCKER_CLI if tool == "docker" else str(berth_binary())
    env = dict(os.environ, DOCKER_HOST=f"unix://{bd.sock}",
               DOCKER_CONFIG=str(bd.dir / "docker-config"))
    p = subprocess.run([exe, *args], capture_output=True, env=env, input=input, timeout=timeout,
                       stdin=None if input is not None else subprocess.DEVNULL)
    if check and p.returncode != 0:
        raise AssertionError(f"{tool} {' '.join(args)}: exit {p.returncode}\n{p.stdout[-2000:]!r}\n"
                             f"{p.stderr.decode(errors='replace')}\n{bd.log_text()[-3000:]}")
    return p


def api(bd, method, path, body=None, headers=None):
    return bd.http(method, path, body=body, headers=headers, timeout=60)


def start(bd, name, script="sleep 1000", image="busybox", ready=None):
    """Run a container; with ready, wait until that path exists in it."""
    run(bd, "docker", "run", "-d", "--name", name, image, "sh", "-c", script)
    if ready:
        deadline = time.monotonic() + 15
        while api(bd, "HEAD", f"/containers/{name}/archive?path={ready}")[0] != 200:
            assert time.monotonic() < deadline, f"{ready} never appeared in {name}"
            time.sleep(0.05)


def rm(bd, *names):
    for n in names:
        api(bd, "DELETE", f"/containers/{n}?force=1")


def tree(root):
    """path -> (type, mode, uid, gid, content sha256 | link target) of every entry below root."""
    out = {}
    root = Path(root)
    for dirpath, dirs, files in os.walk(root):
        for name in dirs + files:
            p = Path(dirpath) / name
            st = p.lstat()
            rel = str(p.relative_to(root))
            if p.is_symlink():
                out[rel] = ("l", st.st_mode & 0o7777, st.st_uid, st.st_gid, os.readlink(p))
            elif p.is_dir():
                out[rel] = ("d", st.st_mode & 0o7777, st.st_uid, st.st_gid, None)
            else:
                h = hashlib.sha256()
                with open(p, "rb") as f:
                    for chunk in iter(lambda: f.read(1 << 20), b""):
                        h.update(chunk)
                out[rel] = ("f", st.st_mode & 0o7777, st.st_uid, st.st_gid, h.hexdigest())
    return out


def tar_tree(data, strip=""):
    """The same description of a tar stream's members (names without a leading strip)."""
    out = {}
    with tarfile.open(fileobj=io.BytesIO(data)) as t:
        for m in t.getmembers():
            name = m.name.rstrip("/")
            if strip and name == strip.rstrip("/"):
                continue
            if strip and name.startswith(strip):
                name = name[len(strip):]
            if not name or name == ".":
                continue
            if m.issym():
                v = ("l", m.mode & 0o7777, m.uid, m.gid, m.linkname)
            elif m.isdir():
                v = ("d", m.mode & 0o7777, m.uid, m.gid, None)
            elif m.isfile():
                v = ("f", m.mode & 0o7777, m.uid, m.gid,
                     hashlib.sha256(t.extractfile(m).read()).hexdigest())
            else:
                v = (m.type.decode(), m.mode & 0o7777, m.uid, m.gid, None)
            out[name] = v
    return out


@pytest.fixture(scope="module")
def src_tree():
    """A tree with a 100 MiB file, modes, owners, symlinks (relative, absolute, dangling)."""
    d = Path(tempfile.mkdtemp(prefix="berth-cp-"))
    t = d / "tree"
    (t / "sub" / "deeper").mkdir(parents=True)
    with open(t / "big.bin", "wb") as f:
        block = os.urandom(1 << 20)
        for i in range(BIG >> 20):
            f.write(block[i:] + block[:i])
    (t / "sub" / "small.txt").write_bytes(b"small\n")
    (t / "sub" / "deeper" / "x").write_bytes(b"x" * 5000)
    os.chmod(t / "sub" / "small.txt", 0o640)
    os.chmod(t / "sub" / "deeper", 0o750)
    os.chmod(t / "sub" / "deeper" / "x", 0o4755)
    os.chown(t / "sub" / "small.txt", 1234, 5678)
    os.chown(t / "sub" / "deeper", 42, 43)
    os.symlink("small.txt", t / "sub" / "rel-link")
    os.symlink("/etc/passwd", t / "abs-link")
    os.symlink("nowhere", t / "dangling")
    yield t
    shutil.rmtree(d)


@pytest.mark.parametrize("tool,running", [("docker", True), ("berth", False)])
def test_cp_tree_round_trip(bd, src_tree, tool, running):
    """A tree goes in and comes back byte for byte (modes, symlinks; owners in the container and
    in the tar stream), into a running container with one tool and a stopped one with the other,
    read back with the other tool."""
    other = "berth" if tool == "docker" else "docker"
    name = f"cp-{tool}"
    start(bd, name)
    if not running:
        run(bd, "docker", "stop", "-t", "0", name)
    try:
        want = tree(src_tree)
        run(bd, tool, "cp", str(src_tree), f"{name}:/data")       # /data does not exist yet
        run(bd, tool, "cp", f"{src_tree}/sub/.", f"{name}:/tmp")  # "dir/." copies the contents
        # the tar stream keeps owners: what is inside the container
        data = run(bd, other, "cp", f"{name}:/data", "-").stdout
        assert tar_tree(data, "data/") == want
        data = run(bd, other, "cp", f"{name}:/tmp/deeper", "-").stdout
        assert tar_tree(data, "deeper/") == {"x": want["sub/deeper/x"]}
        # out to the host: owners are the caller's (docker's NoLchown); with berth -a, kept
        out = Path(tempfile.mkdtemp(prefix="berth-cpout-"))
        try:
            run(bd, other, "cp", f"{name}:/data", str(out / "copy"))
            got = tree(out / "copy")
            strip = {k: (v[0], v[1], v[4]) for k, v in want.items()}
            assert {k: (v[0], v[1], v[4]) for k, v in got.items()} == strip
            run(bd, "berth", "cp", "-a", f"{name}:/data/sub", str(out / "owned"))
            assert tree(out / "owned") == {k[4:]: v for k, v in want.items()
                                           if k.startswith("sub/")}
            # into an existing directory: a new entry named after the source
            run(bd, other, "cp", f"{name}:/data/sub/small.txt", str(out))
            assert (out / "small.txt").read_bytes() == b"small\n"
        finally:
            shutil.rmtree(out)
    finally:
        rm(bd, name)


def test_cp_follow_link_and_stat_header(bd):
    start(bd, "cp-links", "mkdir -p /d && echo target > /d/f && ln -s /d/f /lnk && "
          "ln -s d /dirlink && touch /ready && sleep 1000", ready="/ready")
    out = Path(tempfile.mkdtemp(prefix="berth-cplink-"))
    try:
        st, headers, _ = api(bd, "HEAD", "/containers/cp-links/archive?path=/lnk")
        assert st == 200
        import base64
        stat = json.loads(base64.b64decode(headers["x-docker-container-path-stat"]))
        assert stat["name"] == "lnk" and stat["linkTarget"] == "/d/f"
        assert stat["mode"] & (1 << 27)  # os.ModeSymlink
        # the names of the tar, as dockerd's: "d" -> d/, d/f; "d/." -> ./, ./f; "/" -> /, /bin/
        def names(path):
            st, _, body = api(bd, "GET", f"/containers/cp-links/archive?path={path}")
            assert st == 200
            with tarfile.open(fileobj=io.BytesIO(body)) as t:
                return t.getnames()
        assert names("/d") == ["d", "d/f"]
        assert names("/d/.") == [".", "./f"]
        assert names("/dirlink") == ["dirlink"]
        assert names("/dirlink/") == ["dirlink", "dirlink/f"]
        root = names("/")
        # (tarfile shows the first entry, "/", without its slash)
        assert root[0] == "" and "/d/f" in root and "/bin/busybox" in root
        # without -L the link itself, with -L its target under the link's name
        for tool in ("docker", "berth"):
            run(bd, tool, "cp", "cp-links:/lnk", str(out / f"{tool}-plain"))
            assert os.readlink(out / f"{tool}-plain") == "/d/f"
            run(bd, tool, "cp", "-L", "cp-links:/lnk", str(out / f"{tool}-follow"))
            assert (out / f"{tool}-follow").read_text() == "target\n"
            # "dirlink/" follows the link to the directory
            run(bd, tool, "cp", "cp-links:/dirlink/", str(out / f"{tool}-dir"))
            assert (out / f"{tool}-dir" / "f").read_text() == "target\n"
    finally:
        shutil.rmtree(out)
        rm(bd, "cp-links")


def test_diff_lists_exactly_the_changes(bd):
    start(bd, "df", "echo new > /newfile && rm /bin/ls && echo extra >> /etc/passwd && "
          "mkdir -p /etc/newdir && touch /etc/newdir/f && touch /tmp/ready && sleep 1000",
          ready="/tmp/ready")
    try:
        want = ["C /bin", "D /bin/ls", "C /etc", "A /etc/newdir", "A /etc/newdir/f",
                "C /etc/passwd", "A /newfile", "C /tmp", "A /tmp/ready"]
        assert run(bd, "docker", "diff", "df").stdout.decode().splitlines() == want
        assert run(bd, "berth", "diff", "df").stdout.decode().splitlines() == want
        st, _, body = api(bd, "GET", "/containers/df/changes")
        assert st == 200
        assert json.loads(body)[:2] == [{"Path": "/bin", "Kind": 0}, {"Path": "/bin/ls", "Kind": 2}]
        run(bd, "docker", "stop", "-t", "0", "df")
        assert run(bd, "berth", "container", "diff", "df").stdout.decode().splitlines() == want
        # nothing changed: null, and no lines
        run(bd, "docker", "create", "--name", "df-clean", "busybox", "sh")
        st, _, body = api(bd, "GET", "/containers/df-clean/changes")
        assert (st, json.loads(body)) == (200, None)
        assert run(bd, "berth", "diff", "df-clean").stdout == b""
        p = run(bd, "berth", "diff", "nope", check=False)
        assert p.returncode == 1 and b"No such container: nope" in p.stderr
    finally:
        rm(bd, "df", "df-clean")


@pytest.mark.parametrize("tool", ["docker", "berth"])
def test_commit_then_run(bd, tool):
    name = f"cm-{tool}"
    start(bd, name, "echo committed > /made && rm /bin/ls && sleep 1000", ready="/made")
    img = f"committed-{tool}:v1"
    try:
        p = run(bd, tool, "commit", "-a", "Ann <a@b>", "-m", "my message",
                "-c", 'CMD ["sh", "-c", "cat /made; echo $GREETING; ls /bin/ls || echo gone"]',
                "-c", "ENV GREETING=hi", name, img)
        image_id = p.stdout.decode().strip()
        assert image_id.startswith("sha256:")
        out = run(bd, "docker", "run", "--rm", img).stdout.decode()
        assert out.splitlines() == ["committed", "hi", "gone"]
        info = json.loads(run(bd, "docker", "image", "inspect", img).stdout)[0]
        assert info["Id"] == image_id and info["Author"] == "Ann <a@b>"
        assert "GREETING=hi" in info["Config"]["Env"]
        assert len(info["RootFS"]["Layers"]) == 2
        hist = run(bd, "docker", "history", "--no-trunc", "--format", "{{.Comment}}|{{.CreatedBy}}",
                   img).stdout.decode().splitlines()
        assert hist[0].startswith("my message|sh -c echo committed")
        # the container was paused and resumed around it (events), and still runs
        flt = urllib.parse.quote(json.dumps({"container": [name]}))
        st, _, body = api(bd, "GET", f"/events?since=0&until={int(time.time()) + 1}"
                          f"&filters={flt}")
        ev = [json.loads(line) for line in body.decode().splitlines() if line]
        assert [e["Action"] for e in ev][-3:] == ["pause", "unpause", "commit"]
        assert ev[-1]["Actor"]["Attributes"]["imageID"] == image_id
        assert ev[-1]["Actor"]["Attributes"]["comment"] == "my message"
        st, _, body = api(bd, "GET", f"/containers/{name}/json")
        assert json.loads(body)["State"]["Running"]
    finally:
        rm(bd, name)
        run(bd, "docker", "rmi", img, check=False)


def test_commit_without_changes_adds_an_empty_layer_row(bd):
    run(bd, "docker", "create", "--name", "cm-empty", "-e", "C=3", "-e", "A=0", "busybox", "sh")
    try:
        # a config in the body, merged with the container's as dockerd's merge() does
        cfg = {"Env": ["A=1"], "Labels": {"l": "v"}, "Cmd": ["echo", "from-body"]}
        st, _, body = api(bd, "POST", "/commit?container=cm-empty&repo=cm-empty&pause=0"
                          "&changes=ENV+B%3D2", body=json.dumps(cfg).encode(),
                          headers={"Content-Type": "application/json"})
        assert st == 201, body
        image_id = json.loads(body)["Id"]
        info = json.loads(run(bd, "docker", "image", "inspect", image_id).stdout)[0]
        assert len(info["RootFS"]["Layers"]) == 1  # nothing changed: no layer
        env = info["Config"]["Env"]
        # the body's A wins over the container's A=0, the container's C is added
        assert env[:3] == ["A=1", "B=2", "C=3"] and "A=0" not in env, env
        assert info["Config"]["Labels"] == {"l": "v"}
        assert info["Config"]["Cmd"] == ["echo", "from-body"]
        hist = json.loads(api(bd, "GET", f"/images/{image_id}/history")[2])
        assert len(hist) == 2
        st, _, body = api(bd, "POST", "/commit?container=nope")
        assert st == 404 and b"No such container: nope" in body
    finally:
        rm(bd, "cm-empty")
        run(bd, "docker", "rmi", "cm-empty", check=False)


def test_export_import_same_tree(bd):
    start(bd, "ex", "echo hi > /hello && mkdir -p /a/b && ln -s /hello /a/b/l && rm /bin/ls && "
          "touch /ready && sleep 1000", ready="/ready")
    try:
        first = run(bd, "docker", "export", "ex").stdout
        out = Path(tempfile.mkdtemp(prefix="berth-export-"))
        try:
            run(bd, "berth", "export", "-o", str(out / "ex.tar"), "ex")
            assert (out / "ex.tar").read_bytes() == first
        finally:
            shutil.rmtree(out)
        want = tar_tree(first)
        assert "hello" in want and "bin/ls" not in want and want["a/b/l"][4] == "/hello"
        image_id = run(bd, "berth", "import", "-", "exported:v1", input=first).stdout
        assert image_id
        run(bd, "docker", "create", "--name", "ex2", "exported:v1", "sh")
        again = run(bd, "berth", "container", "export", "ex2").stdout
        assert tar_tree(again) == want
        p = run(bd, "berth", "export", "nope", check=False)
        assert p.returncode == 1 and b"No such container: nope" in p.stderr
    finally:
        rm(bd, "ex", "ex2")
        run(bd, "docker", "rmi", "exported:v1", check=False)


# ---- the attacker inside -------------------------------------------------------------------

def test_cp_never_leaves_the_container(bd):
    """/x -> /, /y -> ../../.., and /r swapped between a directory and a symlink to / in a
    loop while cp runs both ways: nothing is created on the host, no host file is read."""
    tag = uuid.uuid4().hex[:12]
    marker = Path(f"/tmp/berth-escape-{tag}")
    secret = Path(f"/tmp/berth-secret-{tag}")
    secret.write_text("HOST SECRET\n")
    start(bd, "esc", "ln -s / /x; ln -s ../../.. /y; mkdir -p /tmp; "
          "while :; do rm -rf /r; mkdir -p /r/tmp; echo inside > /r/tmp/" + secret.name +
          "; rm -rf /r; ln -s / /r; done", ready="/y")
    src = Path(tempfile.mkdtemp(prefix="berth-escsrc-"))
    try:
        (src / marker.name).write_text("written\n")
        for tool in ("docker", "berth"):
            for link in ("x", "y"):
                run(bd, tool, "cp", str(src / marker.name), f"esc:/{link}/tmp/")
                assert not marker.exists()
                p = run(bd, tool, "cp", f"esc:/{link}/tmp/{secret.name}", "-", check=False)
                assert p.returncode == 1 and b"Could not find the file" in p.stderr
            # "../" in the container path stays at its root
            run(bd, tool, "cp", str(src / marker.name), f"esc:/../../../tmp/{marker.name}")
            assert not marker.exists()
        # the write landed inside the container, under its own /tmp
        data = run(bd, "docker", "cp", f"esc:/tmp/{marker.name}", "-").stdout
        assert tar_tree(data)[marker.name][0] == "f"
        # the race: cp in and out while /r flips
        deadline = time.monotonic() + 4
        n = 0
        while time.monotonic() < deadline:
            tool = "docker" if n % 2 else "berth"
            run(bd, tool, "cp", str(src / marker.name), "esc:/r/tmp/", check=False)
            p = run(bd, tool, "cp", f"esc:/r/tmp/{secret.name}", "-", check=False)
            assert b"HOST SECRET" not in p.stdout
            n += 1
        assert n >= 4
        assert not marker.exists()
        st, _, body = api(bd, "PUT", "/containers/esc/archive?path=/x", body=b"")
        assert not marker.exists()
    finally:
        shutil.rmtree(src)
        secret.unlink()
        if marker.exists():
            marker.unlink()
        rm(bd, "esc")


def make_tar(members):
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as t:
        for name, kind, data in members:
            info = tarfile.TarInfo(name)
            if kind == "f":
                info.size = len(data)
                t.addfile(info, io.BytesIO(data))
            elif kind == "d":
                info.type = tarfile.DIRTYPE
                t.addfile(info)
            elif kind == "l":
                info.type = tarfile.SYMTYPE
                info.linkname = data
                t.addfile(info)
            elif kind == "h":
                info.type = tarfile.LNKTYPE
                info.linkname = data
                t.addfile(info)
    return buf.getvalue()


def test_archive_bad_input(bd):
    start(bd, "bad", "mkdir -p /dest && echo f > /file && sleep 1000", ready="/file")
    try:
        put = lambda path, data: api(bd, "PUT", f"/containers/bad/archive?path={path}", body=data,
                                     headers={"Content-Type": "application/x-tar"})
        st, _, body = api(bd, "GET", "/containers/nope/archive?path=/")
        assert (st, json.loads(body)["message"]) == (404, "No such container: nope")
        st, _, body = api(bd, "GET", "/containers/bad/archive?path=/missing")
        assert (st, json.loads(body)["message"]) == (404,
                                                     "Could not find the file /missing in "
                                                     "container bad")
        st, _, body = api(bd, "HEAD", "/containers/bad/archive?path=/missing")
        assert st == 404
        st, _, body = api(bd, "GET", "/containers/bad/archive")
        assert (st, json.loads(body)["message"]) == (400, "bad parameter: pathcannot be empty")
        st, _, body = put("/file", make_tar([("a", "f", b"a")]))
        assert (st, json.loads(body)["message"]) == (400, "extraction point is not a directory")
        st, _, body = put("/nowhere", make_tar([("a", "f", b"a")]))
        assert st == 404
        # hostile members: refused before anything is written
        for members, bad in (([("good", "f", b"1"), ("../evil", "f", b"2")], "../evil"),
                             ([("good", "f", b"1"), ("h", "h", "../../etc/passwd")],
                              "../../etc/passwd")):
            st, _, body = put("/dest", make_tar(members))
            # dockerd's status and words (its 20.10 adds "Error processing tar file(...): ")
            assert (st, json.loads(body)["message"]) == (500, f'"{bad}" is outside of "/dest"')
            st, _, _ = api(bd, "HEAD", "/containers/bad/archive?path=/dest/good")
            assert st == 404
        # absolute names are made relative to the destination (docker's filepath.Clean)
        st, _, body = put("/dest", make_tar([("/abs/x", "f", b"ok")]))
        assert st == 200, body
        data = run(bd, "docker", "cp", "bad:/dest/abs/x", "-").stdout
        assert tar_tree(data)["x"][0] == "f"
        # noOverwriteDirNonDir: a file over a directory is refused
        st, _, body = api(bd, "PUT", "/containers/bad/archive?path=/&noOverwriteDirNonDir=1",
                          body=make_tar([("dest", "f", b"x")]))
        assert st in (400, 500) and b"cannot overwrite directory" in body
        # the CLIs: docker's words
        p = run(bd, "docker", "cp", "bad:/missing", "-", check=False)
        assert p.returncode == 1 and b"Could not find the file /missing in container bad" in p.stderr
        p = run(bd, "berth", "cp", "bad:/missing", "/tmp/x", check=False)
        assert p.returncode == 1 and b"Could not find the file /missing in container bad" in p.stderr
        p = run(bd, "berth", "cp", "/etc/hostname", "nope:/tmp", check=False)
        assert p.returncode == 1 and b"No such container: nope" in p.stderr
        p = run(bd, "berth", "cp", "a:/x", "b:/y", check=False)
        assert p.stderr == b"copying between containers is not supported\n"
        p = run(bd, "berth", "cp", "/a", "/b", check=False)
        assert p.stderr == b"must specify at least one container source\n"
    finally:
        rm(bd, "bad")


def test_cp_on_a_terminal_says_what_it_copied(bd):
    """docker's closing line on a terminal (stderr), byte for byte the same from both CLIs."""
    start(bd, "cp-tty")
    d = Path(tempfile.mkdtemp(prefix="berth-cptty-"))
    try:
        (d / "small").write_bytes(b"x" * 100)
        env = dict(os.environ, DOCKER_HOST=f"unix://{bd.sock}",
                   DOCKER_CONFIG=str(bd.dir / "docker-config"))
        said = {}
        for tool, exe in (("docker", DOCKER_CLI), ("berth", str(berth_binary()))):
            lines = []
            for args in (f"{exe} cp {d}/small cp-tty:/tmp/", f"{exe} cp cp-tty:/tmp/small {d}/back"):
                p = subprocess.run(["script", "-qec", args, "/dev/null"], env=env,
                                   capture_output=True, timeout=60)
                lines.append(p.stdout.replace(f"-{tool}".encode(), b""))
            said[tool] = lines
            assert (d / "back").read_bytes() == b"x" * 100
            (d / "back").unlink()
        assert said["berth"] == said["docker"]
        assert said["berth"][0] == b"Successfully copied 2.05kB to cp-tty:/tmp/\r\n"
    finally:
        shutil.rmtree(d)
        rm(bd, "cp-tty")


def test_cp_into_a_running_containers_volume(bd):
    """A running container's volume is where its processes see it: cp writes into the volume."""
    run(bd, "docker", "run", "-d", "--name", "cp-vol", "-v", "cpvol:/vol", "busybox", "sleep",
        "1000")
    d = Path(tempfile.mkdtemp(prefix="berth-cpvol-"))
    try:
        (d / "f").write_bytes(b"into the volume\n")
        run(bd, "berth", "cp", str(d / "f"), "cp-vol:/vol/")
        mp = json.loads(run(bd, "docker", "volume", "inspect", "cpvol").stdout)[0]["Mountpoint"]
        assert (Path(mp) / "f").read_bytes() == b"into the volume\n"
        data = run(bd, "docker", "cp", "cp-vol:/vol/f", "-").stdout
        assert tar_tree(data)["f"][0] == "f"
    finally:
        shutil.rmtree(d)
        rm(bd, "cp-vol")
        run(bd, "docker", "volume", "rm", "cpvol", check=False)


def host_mounts_below(path):
    with open("/proc/self/mountinfo") as f:
        return [line.split()[4] for line in f if line.split()[4].startswith(str(path))]


def test_cp_with_a_stopped_containers_volumes(bd):
    """An exited container's volumes and binds are where it saw them, for cp as for docker:
    out of a volume and a bind, into a volume; a read-only bind refuses with docker's words;
    export leaves the volumes out; nothing stays mounted afterwards."""
    host = Path(tempfile.mkdtemp(prefix="berth-cpbind-"))
    ro = Path(tempfile.mkdtemp(prefix="berth-cpro-"))
    d = Path(tempfile.mkdtemp(prefix="berth-cpin-"))
    try:
        (host / "h").write_bytes(b"from the bind\n")
        (ro / "r").write_bytes(b"read-only\n")
        run(bd, "docker", "run", "--name", "cp-stopped", "-v", "cpstopvol:/vol",
            "-v", f"{host}:/data/bind", "-v", f"{ro}:/ro:ro", "busybox", "sh", "-c",
            "echo written by the container > /vol/a")
        before = host_mounts_below(bd.dir)

        for tool in ("docker", "berth"):
            assert tar_tree(run(bd, tool, "cp", "cp-stopped:/vol/a", "-").stdout)["a"][0] == "f"
            out = d / f"out-{tool}"
            run(bd, tool, "cp", "cp-stopped:/vol/a", str(out))
            assert out.read_bytes() == b"written by the container\n"
            run(bd, tool, "cp", "cp-stopped:/data/bind/h", str(d / f"h-{tool}"))
            assert (d / f"h-{tool}").read_bytes() == b"from the bind\n"

        (d / "in").write_bytes(b"into a stopped container's volume\n")
        run(bd, "berth", "cp", str(d / "in"), "cp-stopped:/vol/")
        mp = json.loads(run(bd, "docker", "volume", "inspect", "cpstopvol").stdout)[0]["Mountpoint"]
        assert (Path(mp) / "in").read_bytes() == b"into a stopped container's volume\n"

        for tool in ("docker", "berth"):
            p = run(bd, tool, "cp", str(d / "in"), "cp-stopped:/ro/", check=False)
            assert p.returncode == 1, p
            assert b"mounted volume is marked read-only" in p.stderr, p.stderr
        assert sorted(os.listdir(ro)) == ["r"]

        names = tarfile.open(fileobj=io.BytesIO(run(bd, "docker", "export", "cp-stopped").stdout))
        assert "vol/a" not in [n.lstrip("./") for n in names.getnames()]
        assert host_mounts_below(bd.dir) == before
        assert not [m for m in host_mounts_below("/") if str(host) in m or str(ro) in m]
    finally:
        rm(bd, "cp-stopped")
        run(bd, "docker", "volume", "rm", "cpstopvol", check=False)
        for p in (host, ro, d):
            shutil.rmtree(p)


def test_cp_out_never_hangs_on_a_fifo_swapped_in(bd):
    """The container swaps a file and a FIFO in a loop: cp out either copies the file, gets the
    FIFO as a FIFO entry, or fails -- it never blocks opening the FIFO for reading."""
    start(bd, "fifo", "while :; do rm -f /p; echo data > /p; rm -f /p; mkfifo /p; done",
          ready="/bin")
    try:
        deadline = time.monotonic() + 3
        n = 0
        while time.monotonic() < deadline:
            try:
                st, _, body = bd.http("GET", "/containers/fifo/archive?path=/p", timeout=10)
                assert st in (200, 404, 500, 503), (st, body)
            except http.client.IncompleteRead:
                pass  # swapped after its header went out: the stream is cut short, as documented
            n += 1
        assert n >= 10
    finally:
        rm(bd, "fifo")
