"""berth network and berth volume against a private berthd in a network namespace of this module
(its bridges live there): each command's effect checked in berthd's API, in the namespace (the
bridge, the container's address) and on disk (the volume's directory); the output and the
refusals compared with the docker CLI 28's on the same berthd and the same state.
"""

import json
import os
import re

import pytest

from cli import DOCKER28, need_docker28
from daemon import berthd_binary
from helpers.net import api, as_berth, bd, cli, netns, sh

pytestmark = [
    pytest.mark.skipif(not os.access(berthd_binary(), os.X_OK), reason="berthd not built"),
]


def links(netns):
    return {l["ifname"] for l in json.loads(sh("ip", "-n", netns, "-j", "link").stdout)}


def addrs(netns, dev):
    info = json.loads(sh("ip", "-n", netns, "-j", "-4", "addr", "show", dev).stdout)
    return [f"{a['local']}/{a['prefixlen']}" for a in info[0]["addr_info"]]


def same(cli, *args):
    """berth and docker give the same exit code, stdout and stderr for args."""
    b, d = cli.run(*args), cli.docker(*args)
    assert (b.returncode, b.stdout, b.stderr) == \
        (d.returncode, as_berth(d.stdout), as_berth(d.stderr)), args
    return b


def networks(bd):
    return sorted(n["Name"] for n in api(bd, "GET", "/networks")[1])


# ---- networks ------------------------------------------------------------------------------------


def test_network_create_ls_inspect_rm(bd, cli, netns):
    p = cli.run("network", "create", "--subnet", "10.123.0.0/24", "--gateway", "10.123.0.1",
                "--ip-range", "10.123.0.128/25", "--internal", "--attachable", "--label",
                "app=web", "-o", "com.docker.network.bridge.name=brt1", "--ipam-opt", "k=v",
                "nt1")
    assert p.returncode == 0, p.stderr
    nid = p.stdout.strip()
    assert re.fullmatch(r"[0-9a-f]{64}", nid) and p.stderr == ""
    try:
        status, n = api(bd, "GET", "/networks/nt1")
        assert status == 200 and n["Id"] == nid and n["Driver"] == "bridge"
        assert n["IPAM"]["Config"] == [{"Subnet": "10.123.0.0/24", "Gateway": "10.123.0.1",
                                        "IPRange": "10.123.0.128/25"}]
        assert n["Internal"] is True and n["Attachable"] is True
        assert n["Labels"] == {"app": "web"}
        assert n["Options"] == {"com.docker.network.bridge.name": "brt1"}
        # IPAM.Options as created: --ipam-opt's; the CLI sends {} without one; none for the
        # predefined bridge
        assert n["IPAM"]["Options"] == {"k": "v"}
        # the bridge, with the gateway's address, in berthd's namespace
        assert "brt1" in links(netns) and addrs(netns, "brt1") == ["10.123.0.1/24"]

        cli.run("network", "create", "--label", "app=db", "nt2")
        assert api(bd, "GET", "/networks/nt2")[1]["IPAM"]["Options"] == {}
        assert api(bd, "GET", "/networks/bridge")[1]["IPAM"]["Options"] is None
        p = cli.run("network", "ls", "--format", "{{.Name}}")
        assert p.stdout == "bridge\nhost\nnone\nnt1\nnt2\n"
        p = cli.run("network", "ls", "-q", "-f", "label=app=web")
        assert p.stdout == nid[:12] + "\n"
        p = cli.run("network", "inspect", "-f", "{{.Id}} {{.Internal}} {{.Labels}}", "nt1")
        assert p.stdout == f"{nid} true map[app:web]\n"

        p = cli.run("network", "rm", "nt1", "nt2")
        assert (p.returncode, p.stdout, p.stderr) == (0, "nt1\nnt2\n", "")
        assert api(bd, "GET", "/networks/nt1")[0] == 404
        assert "brt1" not in links(netns)
    finally:
        for name in ("nt1", "nt2"):
            api(bd, "DELETE", f"/networks/{name}")


@DOCKER28
def test_network_output_as_docker(bd, cli):
    need_docker28()
    cli.run("network", "create", "--subnet", "10.125.0.0/24", "--label", "app=web", "--internal",
            "no1")
    # one label each: docker joins several in Go's random map order
    cli.run("network", "create", "--label", "app=db", "no2")
    try:
        for args in (["network", "ls"], ["network", "ls", "--no-trunc"],
                     ["network", "ls", "-q"], ["network", "ls", "-f", "name=no"],
                     ["network", "ls", "--format", "{{json .}}"],
                     ["network", "ls", "--format",
                      "table {{.Name}}\t{{.Labels}}\t{{.Internal}}\t{{.Label \"app\"}}"],
                     ["network", "inspect", "no1", "no2"],
                     ["network", "inspect", "-f", "{{.Name}} {{.Attachable}}", "no1"],
                     # a field network.Inspect lacks: the raw map's missingkey error, exit 1
                     ["network", "inspect", "-f", "{{.Nope}}", "no1"],
                     ["network", "inspect", "-f", "{{.IPAM.Nope}}", "no1"],
                     ["inspect", "-f", "{{.Name}} {{.Nope}}", "no1", "no2"],
                     ["network", "inspect", "-f", "{{.IPAM.Driver}} {{.ID}} {{.EnableIPv4}}",
                      "no1"]):
            same(cli, *args)
    finally:
        for name in ("no1", "no2"):
            api(bd, "DELETE", f"/networks/{name}")


@DOCKER28
def test_network_bad_input_as_docker(bd, cli, netns):
    need_docker28()
    before = (networks(bd), links(netns))
    for args in (["network", "create"], ["network", "create", "a", "b"],
                 ["network", "create", "--bogus", "x"],
                 ["network", "create", "--subnet", "bad", "x"],
                 ["network", "create", "--subnet", "10.1.0.0/24", "--gateway", "10.2.0.1", "x"],
                 ["network", "create", "--gateway", "10.2.0.1", "x"],
                 ["network", "create", "--subnet", "10.1.0.0/24", "--subnet", "10.1.0.0/25", "x"],
                 ["network", "create", "--subnet", "10.1.0.0/24", "--ip-range", "bad", "x"],
                 ["network", "create", "--subnet", "10.1.0.0/24", "--subnet", "10.2.0.0/24",
                  "--gateway", "10.1.0.1", "--gateway", "10.1.0.2", "x"],
                 ["network", "create", "--ipv6", "--subnet", "fd00:b6::1/64", "x6"],
                 ["network", "create", "--ipv6", "--subnet", "fd00:b6::/64", "--gateway",
                  "fd00:b7::1", "x6"],
                 ["network", "create", "bridge"],
                 ["network", "inspect"], ["network", "inspect", "nope"],
                 ["network", "rm"], ["network", "rm", "nope"], ["network", "rm", "-f", "nope"],
                 ["network", "connect", "nope"], ["network", "connect", "nope", "nope"],
                 ["network", "disconnect", "nope", "nope"],
                 ["network", "ls", "extra"], ["network", "ls", "-f", "bogus=1"],
                 ["network", "prune", "-f", "--filter", "bogus=1"],
                 ["network", "ls", "--format", "{{.Nope}}"]):
        same(cli, *args)
    # nothing made by any of them
    assert (networks(bd), links(netns)) == before


def test_network_connect_disconnect(bd, cli, netns):
    assert cli.run("network", "create", "--subnet", "10.124.0.0/24", "nc1").returncode == 0
    p = cli.run("run", "-d", "--name", "ncc", "busybox", "sleep", "300")
    assert p.returncode == 0, p.stderr
    try:
        pid = api(bd, "GET", "/containers/ncc/json")[1]["State"]["Pid"]

        def ips():
            out = sh("nsenter", "-t", pid, "-n", "ip", "-4", "-j", "addr").stdout
            return {a["local"] for i in json.loads(out) for a in i["addr_info"]}

        p = cli.run("network", "connect", "--ip", "10.124.0.50", "--alias", "db", "nc1", "ncc")
        assert (p.returncode, p.stdout, p.stderr) == (0, "", "")
        assert "10.124.0.50" in ips()
        ep = api(bd, "GET", "/containers/ncc/json")[1]["NetworkSettings"]["Networks"]["nc1"]
        assert ep["IPAddress"] == "10.124.0.50" and "db" in ep["Aliases"]
        p = cli.run("network", "inspect", "-f", "{{range .Containers}}{{.Name}}{{end}}", "nc1")
        assert p.stdout == "ncc\n"

        p = cli.run("network", "connect", "nc1", "ncc")
        assert p.returncode == 1 and p.stderr.startswith("Error response from daemon: ")
        p = cli.run("network", "disconnect", "nc1", "ncc")
        assert (p.returncode, p.stdout, p.stderr) == (0, "", "")
        assert "10.124.0.50" not in ips()
        assert "nc1" not in api(bd, "GET", "/containers/ncc/json")[1]["NetworkSettings"][
            "Networks"]
        p = cli.run("network", "disconnect", "nc1", "ncc")
        assert p.returncode == 1 and "is not connected to network nc1" in p.stderr
    finally:
        api(bd, "DELETE", "/containers/ncc?force=1")
        api(bd, "DELETE", "/networks/nc1")


def test_network_prune(bd, cli, netns):
    for name, label in (("np1", "keep=no"), ("np2", "keep=yes"), ("np3", "keep=no")):
        assert cli.run("network", "create", "--label", label, name).returncode == 0
    assert cli.run("run", "-d", "--name", "npc", "--network", "np3", "busybox", "sleep",
                   "300").returncode == 0
    try:
        # asked, and a no leaves everything
        p = cli.run("network", "prune", input="n\n")
        assert p.returncode == 0 and p.stdout == (
            "WARNING! This will remove all custom networks not used by at least one "
            "container.\nAre you sure you want to continue? [y/N] ")
        assert {"np1", "np2", "np3"} <= set(networks(bd))
        p = cli.run("network", "prune", "-f", "--filter", "label=keep=no")
        assert (p.returncode, p.stdout, p.stderr) == (0, "Deleted Networks:\nnp1\n\n", "")
        # np2 does not match, np3 is in use
        assert networks(bd) == ["bridge", "host", "none", "np2", "np3"]
        p = cli.run("network", "prune", input="y\n")
        assert p.stdout.endswith("[y/N] Deleted Networks:\nnp2\n\n")
        assert networks(bd) == ["bridge", "host", "none", "np3"]
    finally:
        api(bd, "DELETE", "/containers/npc?force=1")
        for name in ("np1", "np2", "np3"):
            api(bd, "DELETE", f"/networks/{name}")


# ---- volumes ------------------------------------------------------------------------------------


def volumes(bd):
    return sorted(v["Name"] for v in api(bd, "GET", "/volumes")[1]["Volumes"])


def test_volume_create_ls_inspect_rm(bd, cli):
    root = bd.data_root / "volumes"
    p = cli.run("volume", "create", "--label", "app=db", "--label", "tier=2", "vol1")
    assert (p.returncode, p.stdout, p.stderr) == (0, "vol1\n", "")
    assert (root / "vol1" / "_data").is_dir()
    p = cli.run("volume", "create", "--name", "vol2")
    assert p.stdout == "vol2\n" and (root / "vol2" / "_data").is_dir()
    p = cli.run("volume", "create")
    anon = p.stdout.strip()
    assert re.fullmatch(r"[0-9a-f]{64}", anon) and (root / anon / "_data").is_dir()
    try:
        v = api(bd, "GET", "/volumes/vol1")[1]
        assert v["Labels"] == {"app": "db", "tier": "2"} and v["Driver"] == "local"
        p = cli.run("volume", "inspect", "-f", "{{.Mountpoint}} {{.Labels}}", "vol1")
        assert p.stdout == f"{root / 'vol1' / '_data'} map[app:db tier:2]\n"
        p = cli.run("volume", "ls", "-q", "-f", "label=app=db")
        assert p.stdout == "vol1\n"
        p = cli.run("volume", "ls", "-q", "-f", "name=vol")
        assert p.stdout == "vol1\nvol2\n"
        p = cli.run("volume", "ls")
        assert p.stdout.splitlines()[0] == "DRIVER    VOLUME NAME"

        p = cli.run("volume", "rm", "vol1", anon)
        assert (p.returncode, p.stdout, p.stderr) == (0, f"vol1\n{anon}\n", "")
        assert not (root / "vol1").exists() and not (root / anon).exists()
    finally:
        for name in ("vol1", "vol2", anon):
            api(bd, "DELETE", f"/volumes/{name}")


@DOCKER28
def test_volume_output_as_docker(bd, cli):
    need_docker28()
    # one label each: docker joins several in Go's random map order
    cli.run("volume", "create", "--label", "app=db", "vo1")
    cli.run("volume", "create", "--label", "tier=2", "vo2")
    anon = cli.run("volume", "create").stdout.strip()
    try:
        for args in (["volume", "ls"], ["volume", "ls", "-q"],
                     ["volume", "ls", "-f", "dangling=true"],
                     ["volume", "ls", "-f", "label=tier", "--format", "{{json .}}"],
                     ["volume", "ls", "--format",
                      "table {{.Name}}\t{{.Labels}}\t{{.Label \"app\"}}\t{{.Mountpoint}}"],
                     ["volume", "inspect", "vo1", "vo2"],
                     ["volume", "inspect", "-f", "{{.Name}} {{.Scope}}", "vo2"],
                     # volume inspect has the typed volume.Volume only: its own error, and its
                     # zero values (map[], <nil>) for what the daemon leaves out
                     ["volume", "inspect", "-f", "{{.Nope}}", "vo1"],
                     ["volume", "inspect", "-f", "{{.Nope}}", "vo1", "nosuch"],
                     ["volume", "inspect", "-f", "{{.Options}} {{.Status}} {{.UsageData}} "
                      "{{.ClusterVolume}} {{.Labels}}", anon],
                     ["volume", "inspect", "-f", "{{.}}", "vo2"],
                     ["volume", "inspect", "-f", "{{json .}}", "vo2"],
                     # the generic inspect has the raw JSON to fall back on
                     ["inspect", "-f", "{{.Nope}}", "vo1"]):
            same(cli, *args)
    finally:
        for name in ("vo1", "vo2", anon):
            api(bd, "DELETE", f"/volumes/{name}")


@DOCKER28
def test_volume_bad_input_as_docker(bd, cli):
    need_docker28()
    assert cli.run("volume", "create", "vbusy").returncode == 0
    assert cli.run("run", "-d", "--name", "vbc", "-v", "vbusy:/d", "busybox", "sleep",
                   "300").returncode == 0
    try:
        before = (volumes(bd), sorted(os.listdir(bd.data_root / "volumes")))
        # (docker 28's own usage error here says "SRun 'docker volume create --help'": a typo
        # of docker's, not copied)
        p = cli.run("volume", "create", "a", "b")
        assert p.returncode == 1 and p.stderr.startswith(
            "berth: 'berth volume create' requires at most 1 argument\n")
        for args in (["volume", "create", "--name", "a", "b"],
                     ["volume", "create", "--bogus"], ["volume", "create", "-d", "nope", "x"],
                     ["volume", "create", "-o", "type=tmpfs", "-o", "device=tmpfs", "x"],
                     ["volume", "create", "bad/name"],
                     ["volume", "inspect"], ["volume", "inspect", "nope"],
                     ["volume", "rm"], ["volume", "rm", "nope"], ["volume", "rm", "vbusy"],
                     ["volume", "rm", "-f", "nope"],
                     ["volume", "ls", "-f", "bogus=1"],
                     ["volume", "prune", "-a", "-f", "--filter", "all=1"],
                     ["volume", "ls", "--format", "{{.Nope}}"]):
            same(cli, *args)
        assert (volumes(bd), sorted(os.listdir(bd.data_root / "volumes"))) == before
    finally:
        api(bd, "DELETE", "/containers/vbc?force=1")
        api(bd, "DELETE", "/volumes/vbusy")


def test_volume_prune(bd, cli):
    root = bd.data_root / "volumes"
    anon = cli.run("volume", "create").stdout.strip()
    cli.run("volume", "create", "--label", "k=v", "vnamed")
    cli.run("volume", "create", "vused")
    assert cli.run("run", "-d", "--name", "vpc", "-v", "vused:/d", "busybox", "sleep",
                   "300").returncode == 0
    try:
        p = cli.run("volume", "prune", input="n\n")
        assert p.stdout == ("WARNING! This will remove anonymous local volumes not used by at "
                            "least one container.\nAre you sure you want to continue? [y/N] ")
        assert (root / anon).exists()
        # without -a only anonymous volumes go
        p = cli.run("volume", "prune", "-f")
        assert (p.returncode, p.stderr) == (0, "")
        assert p.stdout == f"Deleted Volumes:\n{anon}\n\nTotal reclaimed space: 0B\n"
        assert not (root / anon).exists() and (root / "vnamed").exists()
        p = cli.run("volume", "prune", "-a", "-f", "--filter", "label=k=nope")
        assert p.stdout == "Total reclaimed space: 0B\n" and (root / "vnamed").exists()
        p = cli.run("volume", "prune", "-a", "-f")
        assert p.stdout == "Deleted Volumes:\nvnamed\n\nTotal reclaimed space: 0B\n"
        # the one in use stays
        assert volumes(bd) == ["vused"] and (root / "vused" / "_data").is_dir()
    finally:
        api(bd, "DELETE", "/containers/vpc?force=1")
        for name in ("vnamed", "vused", anon):
            api(bd, "DELETE", f"/volumes/{name}")


# ---- --network container:<x> --------------------------------------------------------------------


def test_network_container_mode(bd, cli, netns):
    assert cli.run("network", "create", "--subnet", "10.126.0.0/24", "ncm").returncode == 0
    p = cli.run("run", "-d", "--name", "ncm-web", "--network", "ncm", "--network-alias", "web",
                "busybox", "sleep", "300")
    assert p.returncode == 0, p.stderr
    try:
        web = api(bd, "GET", "/containers/ncm-web/json")[1]
        ip = web["NetworkSettings"]["Networks"]["ncm"]["IPAddress"]
        # a second container in web's namespace: web's address and hostname, web's /etc files
        p = cli.run("run", "-d", "--name", "ncm-side", "--network", "container:ncm-web",
                    "busybox", "sleep", "300")
        assert p.returncode == 0, p.stderr
        side = api(bd, "GET", "/containers/ncm-side/json")[1]
        assert side["HostConfig"]["NetworkMode"] == "container:ncm-web"
        ns = lambda pid: os.readlink(f"/proc/{pid}/ns/net")
        assert ns(side["State"]["Pid"]) == ns(web["State"]["Pid"])
        assert ns(side["State"]["Pid"]) != ns(os.getpid())
        p = cli.run("run", "--rm", "--network", "container:ncm-web", "busybox", "sh", "-c",
                    "ip -4 -o addr show; echo; hostname; echo; cat /etc/hosts")
        assert p.returncode == 0, p.stderr
        addrs_out, hostname, hosts = p.stdout.split("\n\n", 2)
        assert f"inet {ip}/24" in addrs_out
        assert hostname == web["Config"]["Hostname"]
        assert side["Config"]["Hostname"] == web["Config"]["Hostname"]
        assert hosts == (bd.data_root / "containers" / web["Id"] / "hosts").read_text()
        # by ID prefix too
        p = cli.run("run", "--rm", "--network", f"container:{web['Id'][:12]}", "busybox",
                    "ip", "-4", "-o", "addr", "show")
        assert f"inet {ip}/24" in p.stdout, p
    finally:
        api(bd, "DELETE", "/containers/ncm-side?force=1")
        api(bd, "DELETE", "/containers/ncm-web?force=1")
        api(bd, "DELETE", "/networks/ncm")


def test_network_container_mode_refused(bd, cli):
    assert cli.run("create", "--name", "ncm-stopped", "busybox", "true").returncode == 0
    try:
        p = cli.run("run", "--rm", "--network", "container:ncm-stopped", "busybox", "true")
        assert p.returncode == 125
        assert "cannot join network namespace of a non running container: container " \
            "ncm-stopped is created" in p.stderr, p.stderr
        p = cli.run("run", "--rm", "--network", "container:nope", "busybox", "true")
        assert p.returncode == 125 and "No such container: nope" in p.stderr, p.stderr
        for flags, what in ((["-p", "80:80"], "port publishing and the container type "
                                              "network mode"),
                            (["--expose", "80"], "port exposing and the container type network "
                                                 "mode"),
                            (["--hostname", "h"], "hostname and the network mode"),
                            (["--dns", "10.0.0.1"], "dns and the network mode"),
                            (["--add-host", "a:10.0.0.1"], "custom host-to-IP mapping and the "
                                                           "network mode")):
            before = api(bd, "GET", "/containers/json?all=1")[1]
            p = cli.run("create", "--network", "container:ncm-stopped", *flags, "busybox")
            assert (p.returncode, p.stderr) == \
                (1, f"Error response from daemon: conflicting options: {what}\n"), flags
            assert api(bd, "GET", "/containers/json?all=1")[1] == before
        p = cli.run("create", "--network", "container:", "busybox")
        assert p.returncode == 1 and "invalid container format container:<name|id>" in \
            p.stderr, p.stderr
    finally:
        api(bd, "DELETE", "/containers/ncm-stopped?force=1")


@DOCKER28
def test_network_container_mode_refused_as_docker(bd, cli):
    need_docker28()
    assert cli.run("create", "--name", "ncm-stopped2", "busybox", "true").returncode == 0
    try:
        for args in (["run", "--rm", "--network", "container:ncm-stopped2", "busybox", "true"],
                     ["run", "--rm", "--network", "container:nope", "busybox", "true"],
                     ["create", "--network", "container:ncm-stopped2", "-p", "80", "busybox"],
                     ["create", "--network", "container:ncm-stopped2", "--dns", "1.1.1.1",
                      "busybox"],
                     ["create", "--network", "container:", "busybox"]):
            same(cli, *args)
    finally:
        api(bd, "DELETE", "/containers/ncm-stopped2?force=1")
