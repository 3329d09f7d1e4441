"""Volume subpaths (API 1.45, `--mount type=volume,...,volume-subpath=DIR`) against a private
berthd: what docker's own integration test asks (moby's TestRunMountVolumeSubdir: a directory,
a link inside the volume, a file, back-tracks refused at create, a missing path and links out of
the volume refused at start), and what an attacker in a container that shares the volume tries:
swapping the subpath for a link between two starts.  The effects are read on the host: the
volume's files, the mount table, the container's state.
"""

import json
import subprocess
from pathlib import Path

import pytest

from berth import mounts_under
from cli import ok
from daemon import needs_berthd

pytestmark = [needs_berthd]

VOLUME = "subpath-vol"
SETUP = ("echo foo > /volume/bar.txt && mkdir /volume/bin /volume/subdir /volume/hack && "
         "echo world > /volume/subdir/hello.txt && ln -s / /volume/hack/root && "
         "ln -s ../subdir /volume/hack/good && ln -s root /volume/hack/bad")


def api(bd, method, path, body=None):
    status, _, data = bd.http(method, path, json.dumps(body) if body is not None else None,
                              {"Content-Type": "application/json"})
    return status, json.loads(data) if data else None


@pytest.fixture(scope="module")
def volume(bd, cli):
    """The volume of moby's test, made by a container; its directory on the host."""
    ok(cli.run("run", "--rm", "-v", f"{VOLUME}:/volume", "busybox", "sh", "-c", SETUP))
    status, v = api(bd, "GET", f"/volumes/{VOLUME}")
    assert status == 200, v
    yield Path(v["Mountpoint"])


def mount_arg(sub, dst="/volume", extra=""):
    return f"type=volume,src={VOLUME},dst={dst},volume-subpath={sub}{extra}"


def create(bd, sub, name=None, cmd=("ls", "/volume")):
    body = {"Image": "busybox", "Cmd": list(cmd), "HostConfig": {"Mounts": [
        {"Type": "volume", "Source": VOLUME, "Target": "/volume",
         "VolumeOptions": {"Subpath": sub}}]}}
    return api(bd, "POST", "/v1.47/containers/create" + (f"?name={name}" if name else ""), body)


def no_pins(bd):
    return [m for m in mounts_under(bd.dir) if "/subpaths/" in m]


@pytest.mark.parametrize("sub,cmd,expected", [
    ("subdir", "ls /volume", "hello.txt"),
    ("hack/good", "ls /volume", "hello.txt"),  # a link that stays inside the volume
    ("bar.txt", "cat /volume", "foo"),  # a file
    ("x/../subdir", "ls /volume", "hello.txt"),  # local once cleaned
])
def test_subpath_mounted(cli, volume, sub, cmd, expected):
    out = ok(cli.run("run", "--rm", "--mount", mount_arg(sub), "busybox", "sh", "-c", cmd))
    assert out.strip() == expected


def test_subpath_through_the_docker_cli(bd, volume):
    p = bd.docker("run", "--rm", "--mount", mount_arg("subdir"), "busybox", "ls", "/volume")
    assert p.stdout.strip() == "hello.txt"


def test_writes_land_in_the_subpath_and_read_only_holds(cli, volume):
    ok(cli.run("run", "--rm", "--mount", mount_arg("subdir"), "busybox", "sh", "-c",
               "echo made > /volume/new.txt"))
    assert (volume / "subdir" / "new.txt").read_text() == "made\n"
    assert not (volume / "new.txt").exists()
    p = cli.run("run", "--rm", "--mount", mount_arg("subdir", extra=",readonly"), "busybox",
                "sh", "-c", "echo no > /volume/ro.txt")
    assert p.returncode != 0 and not (volume / "subdir" / "ro.txt").exists()
    (volume / "subdir" / "new.txt").unlink()


@pytest.mark.parametrize("sub", ["../../../../../../etc/passwd", "/etc", "a/../../b", ".."])
def test_subpath_leaving_the_volume_refused_at_create(bd, volume, sub):
    status, body = create(bd, sub, name="subpath-bad")
    assert status == 400, body
    assert body["message"] == ('invalid mount config for type "volume": subpath must be a '
                               "relative path within the volume")
    assert api(bd, "GET", "/containers/subpath-bad/json")[0] == 404, "nothing made"


def test_subpath_leaving_the_volume_refused_by_the_cli(cli, volume):
    p = cli.run("run", "--rm", "--mount", mount_arg("../x"), "busybox", "true")
    assert p.returncode == 125
    assert "subpath must be a relative path within the volume" in p.stderr


def start(bd, cid):
    return api(bd, "POST", f"/containers/{cid}/start")


def test_missing_subpath_refused_at_start(bd, volume):
    status, body = create(bd, "not-existing-path")
    assert status == 201, body
    cid = body["Id"]
    status, body = start(bd, cid)
    assert status == 404 and body["message"].startswith("cannot access path "), body
    assert "not-existing-path: no such file or directory" in body["message"]
    state = api(bd, "GET", f"/containers/{cid}/json")[1]["State"]
    assert not state["Running"] and state["ExitCode"] == 255
    assert no_pins(bd) == []
    assert api(bd, "DELETE", f"/containers/{cid}?force=1")[0] == 204


@pytest.mark.parametrize("sub", ["hack/root", "hack/bad"])
def test_link_out_of_the_volume_refused_at_start(bd, volume, sub):
    status, body = create(bd, sub)
    assert status == 201, body
    cid = body["Id"]
    status, body = start(bd, cid)
    assert status == 400, body
    assert body["message"].startswith("path concatenation escapes the base directory"), body
    assert f"subpath: {sub}" in body["message"]
    assert no_pins(bd) == []
    assert api(bd, "DELETE", f"/containers/{cid}?force=1")[0] == 204


def test_subpath_is_resolved_again_at_each_start(bd, cli, volume):
    """A container of the volume swaps the subpath for a link to the host's root between two
    starts of another: the second start refuses it, and the container never sees the host."""
    status, body = create(bd, "victim", cmd=("ls", "/volume"))
    cid = body["Id"]
    ok(cli.run("run", "--rm", "-v", f"{VOLUME}:/volume", "busybox", "sh", "-c",
               "mkdir /volume/victim && echo mine > /volume/victim/file"))
    try:
        assert start(bd, cid)[0] == 204
        ok(cli.run("wait", cid))
        assert ok(cli.run("logs", cid)).split() == ["file"]
        ok(cli.run("run", "--rm", "-v", f"{VOLUME}:/volume", "busybox", "sh", "-c",
                   "mv /volume/victim /volume/victim.old && ln -s / /volume/victim"))
        status, body = start(bd, cid)
        assert status == 400 and "escapes the base directory" in body["message"], body
        assert ok(cli.run("logs", cid)).split() == ["file"], "it never ran again"
        # a link back inside the volume is followed
        ok(cli.run("run", "--rm", "-v", f"{VOLUME}:/volume", "busybox", "sh", "-c",
                   "rm /volume/victim && ln -s victim.old /volume/victim"))
        assert start(bd, cid)[0] == 204
        ok(cli.run("wait", cid))
        assert ok(cli.run("logs", cid)).split() == ["file", "file"]
    finally:
        api(bd, "DELETE", f"/containers/{cid}?force=1")
        ok(cli.run("run", "--rm", "-v", f"{VOLUME}:/volume", "busybox", "rm", "-rf",
                   "/volume/victim", "/volume/victim.old"))


def test_no_pin_outlives_the_start_and_rm_keeps_the_volume(bd, cli, volume):
    cid = ok(cli.run("run", "-d", "--mount", mount_arg("subdir"), "busybox", "sleep",
                     "60")).strip()
    try:
        assert no_pins(bd) == [], "the pin is taken down once the container has its mounts"
        out = ok(cli.run("exec", cid, "cat", "/volume/hello.txt"))
        assert out == "world\n"
        ok(cli.run("restart", "-t", "0", cid))
        assert ok(cli.run("exec", cid, "ls", "/volume")).split() == ["hello.txt"]
        assert no_pins(bd) == []
    finally:
        ok(cli.run("rm", "-f", cid))
    assert (volume / "subdir" / "hello.txt").read_text() == "world\n"


def test_cp_into_a_stopped_containers_subpath(cli, volume, tmp_path):
    cid = ok(cli.run("create", "--mount", mount_arg("subdir"), "busybox", "true")).strip()
    try:
        src = tmp_path / "copied.txt"
        src.write_text("by cp\n")
        ok(cli.run("cp", str(src), f"{cid}:/volume/copied.txt"))
        assert (volume / "subdir" / "copied.txt").read_text() == "by cp\n"
        assert not (volume / "copied.txt").exists()
        ok(cli.run("cp", f"{cid}:/volume/hello.txt", str(tmp_path / "back.txt")))
        assert (tmp_path / "back.txt").read_text() == "world\n"
    finally:
        ok(cli.run("rm", "-f", cid))
        (volume / "subdir" / "copied.txt").unlink(missing_ok=True)


def test_rm_never_reaches_through_a_left_mount(bd, cli, volume, tmp_path):
    """A crash between a pin and its removal leaves a bind mount of the volume under the
    container's directory: rm takes it down and removes nothing of the volume; a bind mount
    anywhere else in that directory is not descended into either."""
    cid = ok(cli.run("create", "--mount", mount_arg("subdir"), "busybox", "true")).strip()
    cdir = bd.dir / "data" / "containers" / cid
    assert cdir.is_dir()
    pin = cdir / "subpaths" / "0"
    pin.mkdir(parents=True)
    subprocess.run(["mount", "--bind", str(volume / "subdir"), str(pin)], check=True)
    other = tmp_path / "other"
    other.mkdir()
    (other / "canary").write_text("keep\n")
    stray = cdir / "stray"
    stray.mkdir()
    subprocess.run(["mount", "--bind", str(other), str(stray)], check=True)
    try:
        ok(cli.run("rm", cid))
        assert (volume / "subdir" / "hello.txt").read_text() == "world\n"
        assert (other / "canary").read_text() == "keep\n"
        assert no_pins(bd) == []
    finally:
        for m in mounts_under(bd.dir):
            if m.endswith("/stray") or "/subpaths/" in m:
                subprocess.run(["umount", "-l", m], check=False)
        for t in (bd.dir / "data").rglob(".trash-*"):
            subprocess.run(["rm", "-rf", "--one-file-system", str(t)], check=False)
