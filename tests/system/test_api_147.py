"""Engine API 1.45-1.47 against a private berthd: each version-gated difference asked for at
the version before it and at the version that brings it, and the docker CLI (which negotiates
1.47 now) reading the new fields.
"""

import json
from urllib.parse import quote

from cli import DOCKER28, DOCKER_CLI, need_docker28, ok
from daemon import needs_berthd

pytestmark = [needs_berthd]


def get(bd, path):
    status, _, body = bd.http("GET", path, timeout=30)
    assert status == 200, body
    return json.loads(body)


def test_version_range(bd):
    assert get(bd, "/version")["ApiVersion"] == "1.47"
    status, _, body = bd.http("GET", "/v1.48/version")
    assert status == 400 and json.loads(body)["message"] == (
        "client version 1.48 is too new. Maximum supported API version is 1.47")


def test_image_inspect_drops_container_fields_at_1_45(bd):
    old = get(bd, "/v1.44/images/busybox/json")
    assert "Container" in old and "ContainerConfig" in old
    new = get(bd, "/v1.45/images/busybox/json")
    assert "Container" not in new and "ContainerConfig" not in new
    assert new["Config"] == old["Config"] and new["Id"] == old["Id"]


def test_container_list_annotations_at_1_46(bd, cli):
    ok(cli.run("create", "--name", "a147", "--annotation", "org.example.k=v1",
               "--annotation", "io.x=", "busybox", "true"))
    try:
        flt = "filters=" + quote(json.dumps({"name": ["a147"]}))
        old = get(bd, f"/v1.45/containers/json?all=1&{flt}")
        assert "Annotations" not in old[0]["HostConfig"]
        new = get(bd, f"/v1.46/containers/json?all=1&{flt}")
        assert new[0]["HostConfig"]["Annotations"] == {"org.example.k": "v1", "io.x": ""}
        # none: omitted
        ok(cli.run("create", "--name", "b147", "busybox", "true"))
        flt = "filters=" + quote(json.dumps({"name": ["b147"]}))
        assert "Annotations" not in get(bd, f"/v1.47/containers/json?all=1&{flt}")[0]["HostConfig"]
    finally:
        cli.run("rm", "-f", "a147", "b147")


def test_image_list_manifests_at_1_47(bd, cli):
    ok(cli.run("create", "--name", "m147", "busybox", "true"))
    try:
        cid = get(bd, "/containers/m147/json")["Id"]
        img = get(bd, "/images/busybox/json")
        for path in ("/v1.46/images/json?manifests=1", "/v1.47/images/json",
                     "/v1.47/images/json?manifests=0"):
            assert all("Manifests" not in i for i in get(bd, path)), path
        (s,) = [i for i in get(bd, "/v1.47/images/json?manifests=1") if i["Id"] == img["Id"]]
        (m,) = s["Manifests"]
        assert m["ID"] == img["Id"] and m["Kind"] == "image" and m["Available"] is True
        assert m["Descriptor"]["digest"] == img["Id"] and m["Descriptor"]["size"] > 0
        assert m["ImageData"]["Platform"] == {"architecture": img["Architecture"],
                                              "os": img["Os"]}
        assert m["ImageData"]["Containers"] == [cid]
        assert m["ImageData"]["Size"]["Unpacked"] == img["Size"]
        assert m["Size"]["Content"] == img["Size"] + m["Descriptor"]["size"]
    finally:
        cli.run("rm", "-f", "m147")


@DOCKER28
def test_docker_cli_negotiates_1_47(cli):
    need_docker28()
    assert ok(cli.docker("version", "--format", "{{.Client.APIVersion}}")).strip() == "1.47"
    ok(cli.docker("create", "--name", "d147", "--annotation", "org.example.d=1",
                  "busybox", "true"))
    try:
        out = ok(cli.docker("ps", "-a", "--filter", "name=d147", "--format", "{{json .}}"))
        assert json.loads(out)["Names"] == "d147"
        out = ok(cli.docker("image", "inspect", "busybox", "--format", "{{json .}}"))
        assert "ContainerConfig" not in json.loads(out)
    finally:
        cli.run("rm", "-f", "d147")


def test_tmpfs_options_at_1_46(bd, cli):
    def run(version, options):
        body = {"Image": "busybox", "Cmd": ["sh", "-c", "grep ' /t ' /proc/mounts"],
                "HostConfig": {"Mounts": [{"Type": "tmpfs", "Target": "/t",
                                           "TmpfsOptions": {"Options": options}}]}}
        status, _, data = bd.http("POST", f"/v{version}/containers/create", json.dumps(body),
                                  {"Content-Type": "application/json"})
        if status != 201:
            return status, json.loads(data)["message"]
        cid = json.loads(data)["Id"]
        try:
            assert bd.http("POST", f"/containers/{cid}/start")[0] == 204
            assert bd.http("POST", f"/containers/{cid}/wait", timeout=30)[0] == 200
            _, _, logs = bd.http("GET", f"/containers/{cid}/logs?stdout=1")
            return status, logs[8:].decode().split()[3].split(",")
        finally:
            bd.http("DELETE", f"/containers/{cid}?force=1")

    status, opts = run("1.46", [["exec"]])
    assert status == 201 and "noexec" not in opts, opts
    status, opts = run("1.46", [["noexec"]])
    assert status == 201 and "noexec" in opts, opts
    # before 1.46 the field is not there: dropped, the default (noexec) stays
    status, opts = run("1.45", [["exec"]])
    assert status == 201 and "noexec" in opts, opts
    assert run("1.46", [["suid"]]) == (400, "invalid option: suid")
    assert run("1.46", [["exec", "1", "2"]]) == (400, "invalid option array length")


def pty_output(argv, env, dimensions):
    import pexpect
    child = pexpect.spawn(argv[0], argv[1:], env=env, timeout=30, dimensions=dimensions)
    out = child.read()
    child.close()
    return child.exitstatus, out


@DOCKER28
def test_images_tree_as_docker(cli):
    """berth images --tree prints what docker 28's does against the same berthd: a pipe, a
    terminal (colours, chips, the width), names and platforms, in use or not, bad combinations."""
    need_docker28()

    def same(*args):
        b, d = cli.run("images", *args), cli.docker("images", *args)
        assert (b.returncode, b.stdout, b.stderr) == \
            (d.returncode, d.stdout, d.stderr.replace("docker", "berth")), args
        return b.stdout

    out = same("--tree")
    assert "└─ linux/amd64" in out and " U " not in out.split("\n", 3)[3]
    ok(cli.run("create", "--name", "t147", "busybox", "true"))
    ok(cli.run("tag", "busybox", "zz/other:1"))
    ok(cli.run("tag", "busybox", "a-very-very-long-repository-name/with/parts:and-a-tag"))
    try:
        out = same("--tree")
        assert "U    " in out
        same("--tree", "-a")
        same("--tree", "zz/*")
        for bad in ("-q", "--no-trunc", "--digests", "--format=x"):
            same("--tree", bad)
        for dims in ((24, 140), (24, 60), (24, 30)):
            b = pty_output([str(cli.binary), "images", "--tree"], cli.env(), dims)
            d = pty_output([DOCKER_CLI, "images", "--tree"],
                           {**cli.env(), "DOCKER_HOST": cli.host}, dims)
            assert b == d, dims
    finally:
        cli.run("rm", "-f", "t147")
        cli.run("rmi", "zz/other:1", "a-very-very-long-repository-name/with/parts:and-a-tag")
