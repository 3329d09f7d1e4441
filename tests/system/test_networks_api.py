"""berthd's networks through the Engine API and the docker CLI: the predefined networks, user
bridge networks (create, list, inspect, remove, prune) with their bridges, address pools and
berth's nftables table, persistence across a restart, and bad input.

berthd runs in a network namespace this module makes (nsenter --net), so its bridges and
firewall table live there; every kernel check looks inside that namespace.
"""

import json
import time
from urllib.parse import quote
from pathlib import Path

import pytest

from berth import wait_until
from helpers.net import netns, sh

NETNS_DIR = Path("/run/netns")


@pytest.fixture
def bd(make_berthd, netns):
    b = make_berthd(netns=str(NETNS_DIR / netns), bridge=True)
    yield b
    # user networks of a test go with it, so the next test starts from the predefined three
    for n in json.loads(b.http("GET", "/networks")[2]):
        if n["Name"] not in ("bridge", "host", "none"):
            b.http("DELETE", f"/networks/{n['Id']}")


def api(b, method, path, body=None):
    data = json.dumps(body).encode() if body is not None and not isinstance(body, bytes) \
        else body
    headers = {"Content-Type": "application/json"} if data is not None else {}
    status, _, out = b.http(method, path, data, headers)
    return status, (json.loads(out) if out else None)


def links(netns):
    return {l["ifname"]: l for l in json.loads(sh("ip", "-n", netns, "-j", "-d", "link").stdout)}


def addrs(netns, dev):
    info = json.loads(sh("ip", "-n", netns, "-j", "-4", "addr", "show", dev).stdout)
    return [f"{a['local']}/{a['prefixlen']}" for a in info[0]["addr_info"]]


def berth_table(netns):
    p = sh("ip", "netns", "exec", netns, "nft", "list", "table", "ip", "berth", check=False)
    return p.stdout if p.returncode == 0 else None


def state(b, netns):
    """What must not change when a request is refused."""
    return (api(b, "GET", "/networks")[1], sorted(links(netns)),
            sorted(p.name for p in (b.data_root / "networks").iterdir()), berth_table(netns))


def test_predefined_networks(bd, netns):
    status, nets = api(bd, "GET", "/networks")
    assert status == 200
    by_name = {n["Name"]: n for n in nets}
    assert {"bridge": "bridge", "host": "host", "none": "null"} == \
        {k: by_name[k]["Driver"] for k in ("bridge", "host", "none")}
    bridge = api(bd, "GET", "/networks/bridge")[1]
    assert bridge["IPAM"]["Config"] == [{"Subnet": "10.210.0.0/16", "Gateway": "10.210.0.1"}]
    assert bridge["Scope"] == "local" and len(bridge["Id"]) == 64
    assert bridge["Options"]["com.docker.network.bridge.name"] == "berth0"
    # the kernel: a bridge with the gateway address, forwarding on, berth's table present
    assert links(netns)["berth0"]["linkinfo"]["info_kind"] == "bridge"
    assert addrs(netns, "berth0") == ["10.210.0.1/16"]
    fwd = sh("ip", "netns", "exec", netns, "cat", "/proc/sys/net/ipv4/ip_forward").stdout
    assert fwd.strip() == "1"
    assert 'ip saddr 10.210.0.0/16 oifname != "berth0" masquerade' in berth_table(netns)
    for name in ("bridge", "host", "none"):
        status, out = api(bd, "DELETE", f"/networks/{name}")
        assert status == 403
        assert out["message"] == f"{name} is a pre-defined network and cannot be removed"


def test_create_inspect_remove(bd, netns):
    status, out = api(bd, "POST", "/networks/create", {
        "Name": "app", "Driver": "bridge", "Labels": {"tier": "web"},
        "Options": {"com.docker.network.driver.mtu": "1400"},
        "IPAM": {"Config": [{"Subnet": "10.99.1.0/24", "Gateway": "10.99.1.254",
                             "IPRange": "10.99.1.128/25"}]}})
    assert status == 201, out
    nid = out["Id"]
    assert len(nid) == 64 and out["Warning"] == ""
    br = f"br-{nid[:12]}"
    link = links(netns)[br]
    assert link["linkinfo"]["info_kind"] == "bridge" and link["mtu"] == 1400
    assert addrs(netns, br) == ["10.99.1.254/24"]
    table = berth_table(netns)
    assert f'ip saddr 10.99.1.0/24 oifname != "{br}" masquerade' in table
    assert f'iifname "{br}" oifname "berth0" drop' in table
    assert (bd.data_root / "networks" / f"{nid}.json").exists()

    for ref in ("app", nid, nid[:10]):
        status, n = api(bd, "GET", f"/networks/{ref}")
        assert status == 200 and n["Id"] == nid
    assert n["IPAM"]["Config"] == [{"Subnet": "10.99.1.0/24", "Gateway": "10.99.1.254",
                                    "IPRange": "10.99.1.128/25"}]
    assert n["Labels"] == {"tier": "web"} and n["Containers"] == {}
    assert n["Internal"] is False and n["Driver"] == "bridge"

    status, _ = api(bd, "DELETE", "/networks/app")
    assert status == 204
    assert br not in links(netns)
    assert br not in berth_table(netns)
    assert not (bd.data_root / "networks" / f"{nid}.json").exists()
    assert api(bd, "GET", f"/networks/{nid}")[0] == 404
    status, events = bd.http("GET", f"/events?since=1h&until={time.time():.9f}&filters=" +
                             quote(json.dumps({"type": ["network"]})))[0::2]
    actions = [(e["Action"], e["Actor"]["ID"]) for e in map(json.loads, events.splitlines())]
    assert ("create", nid) in actions and ("destroy", nid) in actions


def test_automatic_subnets_do_not_overlap(bd, netns):
    subnets = []
    for name in ("auto1", "auto2", "auto3"):
        status, out = api(bd, "POST", "/networks/create", {"Name": name})
        assert status == 201, out
        subnets.append(api(bd, "GET", f"/networks/{name}")[1]["IPAM"]["Config"][0]["Subnet"])
    assert subnets == ["10.211.0.0/24", "10.211.1.0/24", "10.211.2.0/24"]
    # a subnet freed is found again
    api(bd, "DELETE", "/networks/auto2")
    api(bd, "POST", "/networks/create", {"Name": "auto4"})
    assert api(bd, "GET", "/networks/auto4")[1]["IPAM"]["Config"][0]["Subnet"] == \
        "10.211.1.0/24"


def test_internal_network_rules(bd, netns):
    status, out = api(bd, "POST", "/networks/create", {"Name": "inner", "Internal": True,
                      "Options": {"com.docker.network.bridge.name": "br-inner",
                                  "com.docker.network.bridge.enable_icc": "false"}})
    assert status == 201, out
    table = berth_table(netns)
    assert 'iifname "br-inner" oifname != "br-inner" drop' in table
    assert 'iifname "br-inner" oifname "br-inner" drop' in table
    assert 'oifname != "br-inner" masquerade' not in table
    assert "br-inner" in links(netns)


@pytest.mark.parametrize("body,status,message", [
    (b"{", 400, "invalid JSON"),
    (b"[]", 400, "invalid JSON"),
    ({"Name": ""}, 400, "network name cannot be empty"),
    ({"Name": "bad name!"}, 400, 'invalid network name "bad name!"'),
    ({"Name": 7}, 400, "wrong type"),
    ({"Name": "x", "Bogus": 1}, 400, 'unknown field "Bogus"'),
    ({"Name": "x", "Driver": "overlay"}, 404, 'plugin "overlay" not found'),
    ({"Name": "x", "Driver": "host"}, 403, 'only one instance of "host" network is allowed'),
    ({"Name": "x", "IPAM": {"Config": [{"Subnet": "10.99.300.0/24"}]}}, 400,
     "invalid network config:\ninvalid subnet 10.99.300.0/24: invalid CIDR block notation"),
    ({"Name": "x", "IPAM": {"Config": [{"Subnet": "10.99.1.1/24"}]}}, 400,
     "invalid network config:\ninvalid subnet 10.99.1.1/24: it should be 10.99.1.0/24"),
    ({"Name": "x", "IPAM": {"Config": [{"Subnet": "10.99.1.0/24", "Gateway": "10.98.0.1"}]}},
     400, "invalid network config:\ninvalid gateway 10.98.0.1: parent subnet 10.99.1.0/24 "
          "doesn't contain this address"),
    ({"Name": "x", "IPAM": {"Config": [{"Subnet": "10.99.1.0/24", "IPRange": "10.99.2.0/25"}]}},
     400, "invalid network config:\ninvalid ip-range 10.99.2.0/25: parent subnet 10.99.1.0/24 "
          "doesn't contain ip-range"),
    ({"Name": "x", "IPAM": {"Config": [{"Subnet": "10.210.5.0/24"}]}}, 403,
     "Pool overlaps with other one on this address space"),
    ({"Name": "x", "IPAM": {"Driver": "dhcp"}}, 404, 'plugin "dhcp" not found'),
    ({"Name": "x", "Options": {"com.docker.network.driver.mtu": "9x"}}, 400, "invalid MTU 9x"),
    ({"Name": "x", "Options": {"com.docker.network.bridge.name": "a;b\"c"}}, 400,
     "invalid bridge name"),
    ({"Name": "x", "Labels": {"a": 1}}, 400, "invalid label a"),
    ({"Name": "x", "EnableIPv6": True, "IPAM": {"Config": [{"Subnet": "fd00:99::1/64"}]}},
     400, "invalid network config:\ninvalid subnet fd00:99::1/64: it should be fd00:99::/64"),
    ({"Name": "x", "IPAM": {"Config": [{"Subnet": "fd00:99::/64"}]}}, 400,
     "an IPv6 subnet fd00:99::/64 needs IPv6 enabled"),
    ({"Name": "x", "EnableIPv6": True, "IPAM": {"Config": [{"Subnet": "fd00:99::/64"},
                                                          {"Subnet": "fd00:98::/64"}]}},
     403, "bridge driver doesn't support multiple subnets"),
    # libnetwork's bridge driver: one subnet per family (types.ForbiddenErrorf)
    ({"Name": "x", "IPAM": {"Config": [{"Subnet": "10.97.0.0/24"}, {"Subnet": "10.98.0.0/24"}]}},
     403, "bridge driver doesn't support multiple subnets"),
    ({"Name": "x", "IPAM": {"Options": {"a": 1}}}, 400, "invalid IPAM option a"),
    ({"Name": "x", "IPAM": {"Options": ["a"]}}, 400, "IPAM Options must be an object"),
    ({"Name": "bridge"}, 409, "network with name bridge already exists"),
])
def test_bad_create_refused_and_nothing_changes(bd, netns, body, status, message):
    before = state(bd, netns)
    got, out = api(bd, "POST", "/networks/create", body)
    assert (got, message in out["message"]) == (status, True), out
    assert state(bd, netns) == before


def test_huge_body_refused(bd, netns):
    before = state(bd, netns)
    body = b'{"Name": "x", "Labels": {"a": "' + b"x" * (2 << 20) + b'"}}'
    status, _, _ = bd.http("POST", "/networks/create", body, {"Content-Type": "application/json"})
    assert status == 413
    assert state(bd, netns) == before


def test_not_found_and_filters(bd, netns):
    status, out = api(bd, "GET", "/networks/nope")
    assert status == 404 and out["message"] == "network nope not found"
    status, out = api(bd, "DELETE", "/networks/nope")
    assert status == 404 and out["message"] == "network nope not found"
    api(bd, "POST", "/networks/create", {"Name": "front", "Labels": {"tier": "web"}})
    api(bd, "POST", "/networks/create", {"Name": "back"})

    def names(filters):
        status, out = api(bd, "GET", "/networks?filters=" + quote(json.dumps(filters)))
        assert status == 200, out
        return sorted(n["Name"] for n in out)

    assert names({"type": ["custom"]}) == ["back", "front"]
    assert names({"type": ["builtin"]}) == ["bridge", "host", "none"]
    assert names({"driver": ["null"]}) == ["none"]
    assert names({"label": ["tier=web"]}) == ["front"]
    assert names({"name": ["ron"]}) == ["front"]
    assert names({"dangling": ["true"]}) == ["back", "front"]
    status, out = api(bd, "GET", "/networks?filters=" + quote(json.dumps({"bogus": ["x"]})))
    assert status == 400 and "bogus" in out["message"]
    status, out = api(bd, "GET", "/networks?filters=" + quote(json.dumps({"type": ["weird"]})))
    assert status == 400 and "weird" in out["message"]
    status, out = api(bd, "GET", "/networks?filters=%7Bnot%20json")
    assert status == 400


def test_prune(bd, netns):
    api(bd, "POST", "/networks/create", {"Name": "p1", "Labels": {"keep": "no"}})
    api(bd, "POST", "/networks/create", {"Name": "p2", "Labels": {"keep": "yes"}})
    status, out = api(bd, "POST", "/networks/prune?filters=" +
                      quote(json.dumps({"label": ["keep=no"]})))
    assert status == 200 and out == {"NetworksDeleted": ["p1"]}
    assert api(bd, "GET", "/networks/p1")[0] == 404
    status, out = api(bd, "POST", "/networks/prune")
    assert out == {"NetworksDeleted": ["p2"]}
    assert sorted(links(netns)).count("berth0") == 1
    assert not [l for l in links(netns) if l.startswith("br-")]


def test_restart_keeps_networks_and_rebuilds_the_firewall(bd, netns):
    api(bd, "POST", "/networks/create", {"Name": "keep",
                                         "IPAM": {"Config": [{"Subnet": "10.98.7.0/24"}]}})
    before = api(bd, "GET", "/networks/keep")[1]
    ids = {n["Name"]: n["Id"] for n in api(bd, "GET", "/networks")[1]}
    assert bd.stop() == 0
    # the table lost while berthd was down comes back from the records
    sh("ip", "netns", "exec", netns, "nft", "delete", "table", "ip", "berth")
    bd.start()
    after = api(bd, "GET", "/networks/keep")[1]
    assert after == before
    # every network keeps its id, the predefined ones too (host and none have no bridge: their
    # records hold "Bridge": null, which once made them unreadable and renamed at each start)
    assert {n["Name"]: n["Id"] for n in api(bd, "GET", "/networks")[1]} == ids
    assert "malformed" not in bd.log_text()
    assert "10.98.7.0/24" in berth_table(netns)


def test_docker_cli(bd, netns):
    bd.docker("network", "create", "--subnet", "10.97.0.0/24", "--label", "x=y", "cli")
    ls = bd.docker("network", "ls", "--format", "{{.Name}} {{.Driver}} {{.Scope}}").stdout
    assert "cli bridge local" in ls.splitlines() and "none null local" in ls.splitlines()
    out = bd.docker("network", "inspect", "-f", "{{range .IPAM.Config}}{{.Subnet}}{{end}}",
                    "cli").stdout.strip()
    assert out == "10.97.0.0/24"
    p = bd.docker("network", "create", "cli", check=False)
    assert p.returncode == 1 and "network with name cli already exists" in p.stderr
    p = bd.docker("network", "rm", "bridge", check=False)
    assert p.returncode == 1 and "bridge is a pre-defined network and cannot be removed" in \
        p.stderr
    bd.docker("network", "rm", "cli")
    p = bd.docker("network", "inspect", "cli", check=False)
    assert p.returncode == 1 and "cli" in p.stderr


def test_python_docker(bd, netns):
    c = bd.client(version="1.41")
    n = c.networks.create("py", driver="bridge", labels={"a": "b"})
    assert c.networks.get("py").id == n.id
    assert "py" in [x.name for x in c.networks.list()]
    n.remove()
    assert "py" not in [x.name for x in c.networks.list()]


def test_bridge_none(make_berthd, netns):
    b = make_berthd(netns=str(NETNS_DIR / netns), bridge=False)
    names = sorted(n["Name"] for n in api(b, "GET", "/networks")[1])
    assert names == ["host", "none"]


def test_bridge_flag_values_refused(make_berthd):
    b = make_berthd(start=False, args=["--bridge", "docker0"])
    code, out = b.run_to_exit()
    assert code == 1 and "--bridge 'docker0'" in out, out
    b = make_berthd(start=False, args=["--bip", "10.1.2.3"])
    code, out = b.run_to_exit()
    assert code == 1 and "invalid bip '10.1.2.3'" in out, out
    b = make_berthd(start=False, config={"bridge": "br7"})
    code, out = b.run_to_exit()
    assert code == 1 and "bridge 'br7'" in out, out


DNS_QUERY = r"""
import socket, struct, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.settimeout(5)
q = struct.pack(">HHHHHH", 0x4242, 0x0100, 1, 0, 0, 0)
q += b"".join(bytes([len(l)]) + l.encode() for l in sys.argv[2].split(".")) + b"\0\0\1\0\1"
s.sendto(q if sys.argv[2] != "garbage" else q[:14], (sys.argv[1], 53))
a = s.recv(512)
print(struct.unpack(">H", a[:2])[0], a[3] & 0xf, struct.unpack(">H", a[6:8])[0])
"""


def test_name_server_on_user_networks(bd, netns):
    api(bd, "POST", "/networks/create", {"Name": "dnsnet",
                                         "IPAM": {"Config": [{"Subnet": "10.96.0.0/24"}]}})

    def bound():
        out = sh("ip", "netns", "exec", netns, "ss", "-Huln").stdout
        return [l.split()[3] for l in out.splitlines()]

    assert wait_until(lambda: "10.96.0.1:53" in bound(), 5)
    # the default bridge has none: its containers use the host's nameservers, as on docker
    assert "10.210.0.1:53" not in bound()

    def ask(name):
        return sh("ip", "netns", "exec", netns, "/usr/bin/python3", "-c", DNS_QUERY,
                  "10.96.0.1", name).stdout.split()

    # not a container's name: forwarded to the host's nameservers, unreachable from this
    # namespace (nothing leaves it), so SERVFAIL with the question's id
    assert ask("example.invalid") == ["16962", "2", "0"]
    assert ask("garbage") == ["16962", "1", "0"]  # FORMERR
    api(bd, "DELETE", "/networks/dnsnet")
    assert wait_until(lambda: "10.96.0.1:53" not in bound(), 5)
