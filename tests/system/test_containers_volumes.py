"""Containers with volumes, binds and tmpfs through the docker CLI: named volumes shared between
containers, read-only and read-write binds seen from the host, tmpfs empty at each start with its
size, an image's VOLUME pre-filled from the image, anonymous volumes removed by rm -v and --rm,
--volumes-from, volumes in use, and bad mount specifications refused with docker's words and
nothing made."""

import json
import os
import subprocess
import tempfile
from pathlib import Path

import pytest


def volumes(bd):
    return sorted(v["Name"] for v in
                  json.loads(bd.http("GET", "/volumes")[2])["Volumes"] or [])


def test_named_volume_outlives_its_container(bd):
    bd.docker("run", "--rm", "-v", "data:/data", "busybox", "sh", "-c", "echo kept > /data/f")
    assert (bd.data_root / "volumes" / "data" / "_data" / "f").read_text() == "kept\n"
    out = bd.docker("run", "--rm", "-v", "data:/data:ro", "busybox", "cat", "/data/f").stdout
    assert out == "kept\n"
    p = bd.docker("run", "--rm", "-v", "data:/data:ro", "busybox", "sh", "-c",
                  "echo x > /data/g", check=False)
    assert p.returncode != 0 and "Read-only file system" in p.stderr
    assert "data" in volumes(bd)
    bd.docker("volume", "rm", "data")


def test_volume_in_use_and_mounts_in_inspect(bd):
    bd.docker("run", "-d", "--name", "user1", "-v", "inuse:/d", "busybox", "sleep", "60")
    try:
        p = bd.docker("volume", "rm", "inuse", check=False)
        assert p.returncode == 1 and "volume is in use" in p.stderr
        mounts = json.loads(bd.docker("inspect", "user1").stdout)[0]["Mounts"]
        assert mounts == [{"Type": "volume", "Name": "inuse",
                           "Source": str(bd.data_root / "volumes" / "inuse" / "_data"),
                           "Destination": "/d", "Driver": "local", "Mode": "", "RW": True,
                           "Propagation": ""}]
        dangling = json.loads(bd.http(
            "GET", "/volumes?filters=%7B%22dangling%22%3A%5B%22true%22%5D%7D")[2])["Volumes"]
        assert "inuse" not in [v["Name"] for v in dangling]
    finally:
        bd.docker("rm", "-f", "user1")
    bd.docker("volume", "rm", "inuse")


def test_binds_read_write_and_read_only(bd):
    with tempfile.TemporaryDirectory(dir="/tmp") as host:
        Path(host, "in").write_text("from host\n")
        out = bd.docker("run", "--rm", "-v", f"{host}:/mnt", "busybox", "sh", "-c",
                        "cat /mnt/in; echo from container > /mnt/out").stdout
        assert out == "from host\n"
        assert Path(host, "out").read_text() == "from container\n"
        p = bd.docker("run", "--rm", "--mount", f"type=bind,src={host},dst=/mnt,readonly",
                      "busybox", "sh", "-c", "echo x > /mnt/x", check=False)
        assert p.returncode != 0 and "Read-only file system" in p.stderr
        assert not Path(host, "x").exists()
        # -v makes a missing host directory, --mount refuses it
        missing = Path(host, "made")
        bd.docker("run", "--rm", "-v", f"{missing}:/m", "busybox", "true")
        assert missing.is_dir()
        p = bd.docker("run", "--rm", "--mount", f"type=bind,src={host}/nope,dst=/m", "busybox",
                      "true", check=False)
        assert p.returncode == 125 and "bind source path does not exist" in p.stderr


def test_tmpfs_empty_each_start_with_its_size(bd):
    bd.docker("create", "--name", "tmp1", "--tmpfs", "/t:size=1m",
              "--mount", "type=tmpfs,dst=/t2,tmpfs-size=2097152", "busybox", "sh", "-c",
              "ls -A /t /t2; touch /t/x /t2/y; df -k /t /t2 | tail -2")
    try:
        for _ in range(2):
            out = bd.docker("start", "-a", "tmp1").stdout.split("\n")
            assert out[0] == "/t:" and out[2] == "/t2:"  # both empty: no names listed
            sizes = [l.split()[1] for l in out if l.startswith("tmpfs")]
            assert sizes == ["1024", "2048"], out
    finally:
        bd.docker("rm", "-f", "tmp1")


def test_image_volume_prefilled_and_removed_with_rm_v(bd):
    root = subprocess.run(["tar", "-C", str(Path("/var/tmp/berth-cache/rootfs")), "-c", "."],
                          capture_output=True, check=True).stdout
    status, _, body = bd.http("POST", "/images/create?fromSrc=-&repo=bbvol&tag=latest&changes="
                              "VOLUME%20%2Fetc", body=root,
                              headers={"Content-Type": "application/x-tar"})
    assert status == 200, body
    before = set(volumes(bd))
    bd.docker("run", "--name", "anon1", "-v", "/cache", "bbvol", "true")
    made = set(volumes(bd)) - before
    mounts = json.loads(bd.docker("inspect", "anon1").stdout)[0]["Mounts"]
    assert sorted(m["Destination"] for m in mounts) == ["/cache", "/etc"]
    assert {m["Name"] for m in mounts} == made and all(len(n) == 64 for n in made)
    etc = [m for m in mounts if m["Destination"] == "/etc"][0]
    # filled from the image's /etc on the first start
    assert Path(etc["Source"], "passwd").read_text() == \
        Path("/var/tmp/berth-cache/rootfs/etc/passwd").read_text()
    bd.docker("rm", "-v", "anon1")
    assert set(volumes(bd)) == before
    # --rm takes anonymous volumes with it too, never named ones
    bd.docker("run", "--rm", "-v", "/scratch", "-v", "keepme:/k", "busybox", "true")
    assert set(volumes(bd)) == before | {"keepme"}
    bd.docker("volume", "rm", "keepme")


def test_volumes_from(bd):
    bd.docker("run", "--name", "donor", "-v", "shared:/s", "busybox", "sh", "-c",
              "echo shared > /s/f")
    try:
        out = bd.docker("run", "--rm", "--volumes-from", "donor:ro", "busybox", "sh", "-c",
                        "cat /s/f; touch /s/g 2>&1 || true").stdout
        assert out.startswith("shared\n") and "Read-only file system" in out
        # (the docker CLI takes create's 404 for a missing image and tries a pull: the API)
        status, _, body = bd.http("POST", "/containers/create", json.dumps({
            "Image": "busybox", "Cmd": ["true"], "HostConfig": {"VolumesFrom": ["ghost"]}}),
            {"Content-Type": "application/json"})
        assert status == 404 and json.loads(body)["message"] == "No such container: ghost"
    finally:
        bd.docker("rm", "donor")
    bd.docker("volume", "rm", "shared")


@pytest.mark.parametrize("args,message", [
    (["-v", "data:relative"], "mount path must be absolute"),
    (["-v", "data:/"], "destination can't be '/'"),
    (["-v", "a b:/x"], "includes invalid characters for a local volume name"),
    (["-v", "data:/x:bogus"], "invalid mode: bogus"),
    (["--mount", "type=bind,src=relative/p,dst=/x"], "mount path must be absolute"),
    (["--mount", "type=tmpfs,src=/x,dst=/t"], "field Source must not be specified"),
    (["--mount", "type=volume,src=v1,dst=/a", "--mount", "type=volume,src=v2,dst=/a"],
     "Duplicate mount point: /a"),
])
def test_bad_mounts_refused_and_nothing_made(bd, args, message):
    before = volumes(bd)
    p = bd.docker("run", "--rm", *args, "busybox", "true", check=False)
    assert p.returncode == 125 and message in p.stderr, p.stderr
    assert volumes(bd) == before
    assert json.loads(bd.http("GET", "/containers/json?all=1")[2]) == []


@pytest.mark.parametrize("sub", ["volumes", "build-mounts", "tmp/build-x"])
def test_bind_into_berths_data_root_refused(bd, sub):
    # build-mounts/ and tmp/build-* are bound by the builder's RUN --mount only, never by a user
    made = not (bd.data_root / sub).exists()
    (bd.data_root / sub).mkdir(parents=True, exist_ok=True)
    try:
        p = bd.docker("run", "--rm", "-v", f"{bd.data_root}/{sub}:/v", "busybox", "true",
                      check=False)
    finally:
        if made:
            (bd.data_root / sub).rmdir()
    assert p.returncode == 125 and "inside berth's data root" in p.stderr
