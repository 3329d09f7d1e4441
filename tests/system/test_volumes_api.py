"""berthd's volumes through the Engine API and the docker CLI: create (named and anonymous),
list with filters, inspect, remove, prune by API version, /system/df, persistence across a
restart, and bad input that changes nothing on disk.  Mounting volumes into containers comes
with the container manager."""

import json
import os
import time
from urllib.parse import quote

import pytest


def api(b, method, path, body=None):
    data = json.dumps(body).encode() if body is not None and not isinstance(body, bytes) \
        else body
    headers = {"Content-Type": "application/json"} if data is not None else {}
    status, _, out = b.http(method, path, data, headers)
    return status, (json.loads(out) if out else None)


def on_disk(b):
    root = b.data_root / "volumes"
    return sorted(str(p.relative_to(root)) for p in root.rglob("*"))


def names(b, filters=None):
    q = "?filters=" + quote(json.dumps(filters)) if filters else ""
    status, out = api(b, "GET", "/volumes" + q)
    assert status == 200, out
    assert out["Warnings"] is None
    return sorted(v["Name"] for v in out["Volumes"])


def test_create_inspect_remove(berthd):
    status, v = api(berthd, "POST", "/volumes/create", {"Name": "data", "Labels": {"app": "db"}})
    assert status == 201, v
    mp = berthd.data_root / "volumes" / "data" / "_data"
    assert v == {"CreatedAt": v["CreatedAt"], "Driver": "local", "Labels": {"app": "db"},
                 "Mountpoint": str(mp), "Name": "data", "Options": None, "Scope": "local"}
    assert v["CreatedAt"].endswith("Z") and len(v["CreatedAt"]) == 20
    assert mp.is_dir()
    record = json.loads((mp.parent / "volume.json").read_text())
    assert record["Name"] == "data" and record["Labels"] == {"app": "db"}
    assert api(berthd, "GET", "/volumes/data")[1] == v
    # creating it again returns the same volume (docker's rule), files kept
    (mp / "f").write_text("kept")
    status, again = api(berthd, "POST", "/volumes/create", {"Name": "data"})
    assert status == 201 and again == v and (mp / "f").read_text() == "kept"
    assert api(berthd, "DELETE", "/volumes/data")[0] == 204
    assert not mp.parent.exists()
    status, out = api(berthd, "GET", "/volumes/data")
    assert status == 404 and out["message"] == "get data: no such volume"


def test_anonymous_volume(berthd):
    status, v = api(berthd, "POST", "/volumes/create", {})
    assert status == 201 and len(v["Name"]) == 64
    assert (berthd.data_root / "volumes" / v["Name"] / "_data").is_dir()
    status, v2 = api(berthd, "POST", "/volumes/create")  # no body at all
    assert status == 201 and v2["Name"] != v["Name"]


def test_list_filters(berthd):
    for name, labels in (("alpha", {"tier": "web"}), ("beta", {"tier": "db"}), ("gamma", {})):
        assert api(berthd, "POST", "/volumes/create", {"Name": name, "Labels": labels})[0] == 201
    assert names(berthd) == ["alpha", "beta", "gamma"]
    assert names(berthd, {"label": ["tier"]}) == ["alpha", "beta"]
    assert names(berthd, {"label": ["tier=db"]}) == ["beta"]
    assert names(berthd, {"name": ["mm"]}) == ["gamma"]
    assert names(berthd, {"driver": ["local"]}) == ["alpha", "beta", "gamma"]
    assert names(berthd, {"driver": ["nfs"]}) == []
    assert names(berthd, {"dangling": ["true"]}) == ["alpha", "beta", "gamma"]
    assert names(berthd, {"dangling": ["false"]}) == []
    status, out = api(berthd, "GET", "/volumes?filters=" + quote(json.dumps({"size": ["1"]})))
    assert status == 400 and "size" in out["message"]
    status, out = api(berthd, "GET", "/volumes?filters=" +
                      quote(json.dumps({"dangling": ["maybe"]})))
    assert status == 400 and "maybe" in out["message"]


def test_prune_follows_the_api_version(berthd):
    api(berthd, "POST", "/volumes/create", {"Name": "named"})
    _, anon = api(berthd, "POST", "/volumes/create", {})
    (berthd.data_root / "volumes" / anon["Name"] / "_data" / "blob").write_bytes(b"x" * 9000)
    status, out = api(berthd, "POST", "/volumes/prune")
    assert status == 200 and out["VolumesDeleted"] == [anon["Name"]]
    assert out["SpaceReclaimed"] >= 9000
    assert names(berthd) == ["named"]
    # all=true, or an API before 1.42: named ones too
    api(berthd, "POST", "/volumes/create", {"Name": "keep", "Labels": {"keep": "1"}})
    status, out = api(berthd, "POST", "/volumes/prune?filters=" +
                      quote(json.dumps({"all": ["true"], "label": ["keep"]})))
    assert out["VolumesDeleted"] == ["keep"]
    status, out = api(berthd, "POST", "/v1.41/volumes/prune")
    assert out["VolumesDeleted"] == ["named"]
    status, out = api(berthd, "POST", "/volumes/prune?filters=" +
                      quote(json.dumps({"until": ["1h"]})))
    assert status == 400 and "until" in out["message"]


@pytest.mark.parametrize("body,status,message", [
    (b"{", 400, "invalid JSON"),
    (b"[1]", 400, "invalid JSON"),
    ({"Name": 5}, 400, "wrong type"),
    ({"Name": "x"}, 400, "create x: volume name is too short"),
    ({"Name": "a/b"}, 400, "create a/b: \"a/b\" includes invalid characters for a local volume "
                           "name"),
    ({"Name": "../../etc"}, 400, "includes invalid characters"),
    ({"Name": ".hidden"}, 400, "includes invalid characters"),
    ({"Name": "v" * 300}, 400, "invalid volume name"),
    ({"Name": "v1", "Driver": "nfs"}, 400, "error looking up volume plugin nfs: plugin \"nfs\" "
                                           "not found"),
    ({"Name": "v1", "DriverOpts": {"foo": "bar"}}, 400, "invalid option key: \"foo\""),
    ({"Name": "v1", "DriverOpts": {"type": "tmpfs"}}, 400, "missing required option: \"device\""),
    ({"Name": "v1", "DriverOpts": {"device": "tmpfs"}}, 400, "missing required option: \"type\""),
    ({"Name": "v1", "DriverOpts": {"o": "size=1m", "type": "tmpfs"}}, 400,
     "missing required option: \"device\""),
    ({"Name": "v1", "DriverOpts": {"size": "10m"}}, 400,
     "quota size requested but no quota support"),
    ({"Name": "v1", "DriverOpts": {"type": 5, "device": "tmpfs"}}, 400, "invalid option type"),
    ({"Name": "v1", "Labels": {"a": 1}}, 400, "invalid label a"),
    ({"Name": "v1", "Labels": []}, 400, "Labels must be an object"),
])
def test_bad_create_changes_nothing(berthd, body, status, message):
    before = on_disk(berthd)
    got, out = api(berthd, "POST", "/volumes/create", body)
    assert got == status and message in out["message"], out
    assert on_disk(berthd) == before
    assert names(berthd) == []


def test_huge_body_refused(berthd):
    body = b'{"Name": "big", "Labels": {"a": "' + b"x" * (2 << 20) + b'"}}'
    status, _, _ = berthd.http("POST", "/volumes/create", body,
                               {"Content-Type": "application/json"})
    assert status == 413 and names(berthd) == []


def test_remove_missing(berthd):
    status, out = api(berthd, "DELETE", "/volumes/nope")
    assert status == 404 and out["message"] == "get nope: no such volume"
    assert api(berthd, "DELETE", "/volumes/nope?force=1")[0] == 204


def test_system_df_and_events(berthd):
    api(berthd, "POST", "/volumes/create", {"Name": "dfvol"})
    (berthd.data_root / "volumes" / "dfvol" / "_data" / "f").write_bytes(b"y" * 5000)
    status, df = api(berthd, "GET", "/system/df")
    v = [x for x in df["Volumes"] if x["Name"] == "dfvol"][0]
    assert v["UsageData"]["RefCount"] == 0 and v["UsageData"]["Size"] >= 5000
    api(berthd, "DELETE", "/volumes/dfvol")
    _, _, body = berthd.http("GET", f"/events?since=1h&until={time.time():.9f}")
    acts = [(e["Type"], e["Action"], e["Actor"]["ID"]) for e in
            map(json.loads, body.decode().splitlines())]
    assert ("volume", "create", "dfvol") in acts and ("volume", "destroy", "dfvol") in acts


def test_restart_keeps_volumes_and_cleans_half_made_ones(make_berthd):
    b = make_berthd()
    api(b, "POST", "/volumes/create", {"Name": "persist", "Labels": {"k": "v"}})
    before = api(b, "GET", "/volumes/persist")[1]
    assert b.stop() == 0
    # a create cut short before its record: _data without volume.json
    half = b.data_root / "volumes" / "halfmade" / "_data"
    half.mkdir(parents=True)
    b.start()
    assert api(b, "GET", "/volumes/persist")[1] == before
    assert names(b) == ["persist"]
    assert not half.parent.exists()


def test_docker_cli(berthd):
    berthd.docker("volume", "create", "--label", "x=y", "clivol")
    ls = berthd.docker("volume", "ls", "--format", "{{.Driver}} {{.Name}}").stdout
    assert "local clivol" in ls.splitlines()
    out = berthd.docker("volume", "inspect", "-f", "{{.Mountpoint}} {{.Labels}}", "clivol")
    assert out.stdout.strip() == f"{berthd.data_root}/volumes/clivol/_data map[x:y]"
    p = berthd.docker("volume", "inspect", "nope", check=False)
    assert p.returncode == 1 and "no such volume" in p.stderr
    p = berthd.docker("volume", "create", "x", check=False)
    assert p.returncode == 1 and "volume name is too short" in p.stderr
    berthd.docker("volume", "rm", "clivol")
    assert names(berthd) == []
    berthd.docker("volume", "create", "p1")
    out = berthd.docker("volume", "prune", "-a", "-f").stdout
    assert "p1" in out and names(berthd) == []


def test_python_docker(berthd):
    c = berthd.client(version="1.41")
    v = c.volumes.create("pyvol", labels={"a": "b"})
    assert c.volumes.get("pyvol").attrs["Labels"] == {"a": "b"}
    assert [x.name for x in c.volumes.list()] == ["pyvol"]
    v.remove()
    assert c.volumes.list() == []
