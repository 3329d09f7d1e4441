"""lib/net against the kernel: links, addresses, routes, berth's nftables table and the DNS wire
format, driven through build/tests/helpers/net-tool.

Everything happens inside network namespaces this module makes: a stand-in for the host ("h")
with two bridges, three "containers" (c1 and c2 on br0, c3 on br1, which is internal) and an
"outside" network namespace behind h.  Traffic goes only between these namespaces; the real
host's links and rules are never touched.  Each check looks at the effect: a connection that
arrives (and the source address the server saw), a table in `nft list`, a link in `ip link`.
"""

import json
import os
import socket
import subprocess
import textwrap
import time
import uuid
from pathlib import Path

import pytest

from berth import REPO, wait_until

TOOL = REPO / "build" / "tests" / "helpers" / "net-tool"
BUSYBOX = "/bin/busybox"

# Each server prints the peer address it saw and answers "hi" to one client, then exits.
TCP_SERVER = textwrap.dedent("""
    import socket, sys
    s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((sys.argv[1], int(sys.argv[2]))); s.listen(8)
    print("ready", flush=True)
    while True:
        c, peer = s.accept()
        c.sendall(b"hi from " + sys.argv[1].encode() + b"\\n")
        print(peer[0], flush=True)
        c.close()
""")
UDP_SERVER = textwrap.dedent("""
    import socket, sys
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind((sys.argv[1], int(sys.argv[2])))
    print("ready", flush=True)
    while True:
        data, peer = s.recvfrom(512)
        s.sendto(b"echo " + data, peer)
        print(peer[0], flush=True)
""")
TCP_CLIENT = textwrap.dedent("""
    import socket, sys
    try:
        c = socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=float(sys.argv[3]))
        print(c.recv(100).decode().strip())
    except OSError as e:
        print("FAIL", e); sys.exit(1)
""")
UDP_CLIENT = textwrap.dedent("""
    import socket, sys
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.settimeout(2)
    s.sendto(b"ping", (sys.argv[1], int(sys.argv[2])))
    try:
        print(s.recv(100).decode())
    except OSError as e:
        print("FAIL", e); sys.exit(1)
""")


def sh(*args, check=True, input=None, timeout=20):
    p = subprocess.run([str(a) for a in args], capture_output=True, text=True, input=input,
                       timeout=timeout)
    if check and p.returncode != 0:
        pytest.fail(f"{' '.join(map(str, args))} exited {p.returncode}: {p.stderr.strip()}")
    return p


class Topology:
    def __init__(self):
        tag = uuid.uuid4().hex[:6]
        self.ns = {k: f"bt{tag}{k}" for k in ("h", "c1", "c2", "c3", "out")}
        self.servers = []

    def path(self, k):
        return f"/run/netns/{self.ns[k]}"

    def ip(self, k, *args, check=True):
        return sh("ip", "-n", self.ns[k], *args, check=check)

    def tool(self, k, *args, check=True):
        return sh(TOOL, "--netns", self.path(k), *args, check=check)

    def run(self, k, *args, check=True, timeout=20):
        return sh("ip", "netns", "exec", self.ns[k], *args, check=check, timeout=timeout)

    def nft(self, k, *args, check=True):
        return self.run(k, "nft", *args, check=check)

    def attach(self, k, bridge, addr, gw):
        """c<k>'s eth0 on bridge, made by lib/net from h's side in one veth request."""
        host_end = f"v{self.ns[k][-6:]}"[:15]
        self.tool("h", "veth", host_end, "eth0", self.path(k), "0",
                  f"02:42:0a:00:00:0{k[-1]}")
        self.tool("h", "master", host_end, bridge)
        self.tool("h", "up", host_end)
        self.tool(k, "addr", "eth0", addr)
        self.tool(k, "up", "eth0")
        self.tool(k, "up", "lo")
        self.tool(k, "route", gw)

    def serve(self, k, code, addr, port):
        p = subprocess.Popen(["ip", "netns", "exec", self.ns[k], "/usr/bin/python3", "-c", code,
                              addr, str(port)], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             text=True)
        self.servers.append(p)
        assert p.stdout.readline().strip() == "ready", p.stderr.read()
        return p

    def connect(self, k, addr, port, timeout=2.0):
        return self.run(k, "/usr/bin/python3", "-c", TCP_CLIENT, addr, str(port), str(timeout),
                        check=False)

    def stop_servers(self):
        for p in self.servers:
            p.kill()
            p.wait()
        self.servers = []

    def close(self):
        self.stop_servers()
        for name in self.ns.values():
            sh("ip", "netns", "del", name, check=False)


def firewall_args():
    return ["net:br0:10.210.0.0/24", "net:br1:10.211.0.0/24:internal",
            "port:tcp:0:8080:10.210.0.2:80:br0", "port:udp:0:5353:10.210.0.2:53:br0",
            "port:tcp:10.212.0.1:8081:10.210.0.3:81:br0"]


@pytest.fixture(scope="module")
def topo():
    if not TOOL.exists():
        pytest.fail(f"{TOOL} is not built")
    t = Topology()
    try:
        for name in t.ns.values():
            sh("ip", "netns", "add", name)
        t.tool("h", "up", "lo")
        t.tool("out", "up", "lo")
        for br, addr in (("br0", "10.210.0.1/24"), ("br1", "10.211.0.1/24")):
            t.tool("h", "bridge", br)
            t.tool("h", "addr", br, addr)
            t.tool("h", "up", br)
        t.attach("c1", "br0", "10.210.0.2/24", "10.210.0.1")
        t.attach("c2", "br0", "10.210.0.3/24", "10.210.0.1")
        t.attach("c3", "br1", "10.211.0.2/24", "10.211.0.1")
        # the outside world: a veth from h into "out", no route back to the bridges
        t.tool("h", "veth", "vout", "eth0", t.path("out"))
        t.tool("h", "addr", "vout", "10.212.0.1/24")
        t.tool("h", "up", "vout")
        t.tool("out", "addr", "eth0", "10.212.0.2/24")
        t.tool("out", "up", "eth0")
        t.tool("h", "sysctl", "net.ipv4.ip_forward", "1")
        t.tool("h", "sysctl", "net.ipv4.conf.br0.route_localnet", "1")
        t.tool("h", "fw", *firewall_args())
        yield t
    finally:
        t.close()


@pytest.fixture(autouse=True)
def _servers_end_with_their_test(topo):
    yield
    topo.stop_servers()


def test_links_as_made(topo):
    links = json.loads(topo.ip("h", "-j", "-d", "link", "show").stdout)
    by_name = {l["ifname"]: l for l in links}
    assert by_name["br0"]["linkinfo"]["info_kind"] == "bridge"
    veths = [l for l in links if l.get("linkinfo", {}).get("info_kind") == "veth"]
    assert sorted(l.get("master") for l in veths if l["ifname"] != "vout") == \
        ["br0", "br0", "br1"]
    assert all("UP" in l["flags"] for l in veths)
    c1 = json.loads(topo.ip("c1", "-j", "-4", "addr", "show", "eth0").stdout)[0]
    assert [(a["local"], a["prefixlen"]) for a in c1["addr_info"]] == [("10.210.0.2", 24)]
    mac = json.loads(topo.ip("c1", "-j", "link", "show", "eth0").stdout)[0]["address"]
    assert mac == "02:42:0a:00:00:01"
    routes = json.loads(topo.ip("c1", "-j", "route", "show", "default").stdout)
    assert routes and routes[0]["gateway"] == "10.210.0.1"
    index = int(topo.tool("h", "index", "br0").stdout)
    assert index == by_name["br0"]["ifindex"]


def test_same_bridge_talks(topo):
    srv = topo.serve("c2", TCP_SERVER, "10.210.0.3", 7000)
    p = topo.connect("c1", "10.210.0.3", 7000)
    assert p.stdout.strip() == "hi from 10.210.0.3", p.stdout + p.stderr
    assert srv.stdout.readline().strip() == "10.210.0.2"  # no NAT inside a bridge


def test_published_port_from_host_loopback_and_other_address(topo):
    srv = topo.serve("c1", TCP_SERVER, "10.210.0.2", 80)
    p = topo.connect("h", "127.0.0.1", 8080)
    assert p.stdout.strip() == "hi from 10.210.0.2", p.stdout + p.stderr
    # 127.0.0.1 cannot be a source on the bridge: masqueraded to the gateway
    assert srv.stdout.readline().strip() == "10.210.0.1"
    p = topo.connect("h", "10.212.0.1", 8080)
    assert p.stdout.strip() == "hi from 10.210.0.2", p.stdout + p.stderr
    srv.stdout.readline()
    # from outside, through h's address: DNAT in prerouting, the client's address kept
    p = topo.connect("out", "10.212.0.1", 8080)
    assert p.stdout.strip() == "hi from 10.210.0.2", p.stdout + p.stderr
    assert srv.stdout.readline().strip() == "10.212.0.2"


def test_published_port_bound_to_one_address(topo):
    srv = topo.serve("c2", TCP_SERVER, "10.210.0.3", 81)
    p = topo.connect("out", "10.212.0.1", 8081)
    assert p.stdout.strip() == "hi from 10.210.0.3", p.stdout + p.stderr
    srv.stdout.readline()
    # bound to 10.212.0.1 only: the bridge's address does not forward 8081
    p = topo.connect("h", "10.210.0.1", 8081, timeout=1)
    assert p.returncode != 0


def test_hairpin_from_a_container_on_the_same_bridge(topo):
    srv = topo.serve("c1", TCP_SERVER, "10.210.0.2", 80)
    # c2 reaches c1 through the host's published port, and the answer finds its way back
    p = topo.connect("c2", "10.212.0.1", 8080)
    assert p.stdout.strip() == "hi from 10.210.0.2", p.stdout + p.stderr
    assert srv.stdout.readline().strip() == "10.210.0.1"


def test_udp_published_port(topo):
    srv = topo.serve("c1", UDP_SERVER, "10.210.0.2", 53)
    p = topo.run("out", "/usr/bin/python3", "-c", UDP_CLIENT, "10.212.0.1", "5353", check=False)
    assert p.stdout.strip() == "echo ping", p.stdout + p.stderr
    assert srv.stdout.readline().strip() == "10.212.0.2"


def test_outbound_masquerade(topo):
    srv = topo.serve("out", TCP_SERVER, "10.212.0.2", 9000)
    p = topo.connect("c1", "10.212.0.2", 9000)
    assert p.stdout.strip() == "hi from 10.212.0.2", p.stdout + p.stderr
    # "out" has no route to 10.210.0.0/24: the answer came back only because of the SNAT
    assert srv.stdout.readline().strip() == "10.212.0.1"


def test_networks_isolated_and_internal_has_no_way_out(topo):
    topo.serve("c1", TCP_SERVER, "10.210.0.2", 7100)
    assert topo.connect("c3", "10.210.0.2", 7100, timeout=1).returncode != 0
    topo.serve("out", TCP_SERVER, "10.212.0.2", 7101)
    assert topo.connect("c3", "10.212.0.2", 7101, timeout=1).returncode != 0
    topo.serve("c3", TCP_SERVER, "10.211.0.2", 7102)
    assert topo.connect("c1", "10.211.0.2", 7102, timeout=1).returncode != 0
    # the bridge's own gateway stays reachable from the internal network (DNS lives there)
    topo.serve("h", TCP_SERVER, "10.211.0.1", 7103)
    p = topo.connect("c3", "10.211.0.1", 7103)
    assert p.stdout.strip() == "hi from 10.211.0.1", p.stdout + p.stderr


def test_apply_is_idempotent_and_leaves_other_tables(topo):
    topo.nft("h", "add", "table", "ip", "other")
    topo.nft("h", "add", "chain", "ip", "other", "c")
    topo.nft("h", "add", "rule", "ip", "other", "c", "counter")
    def tables():
        return {t: topo.nft("h", "list", "table", "ip", t).stdout for t in ("berth", "other")}

    before = tables()
    topo.tool("h", "fw", *firewall_args())
    assert tables() == before
    # a hostile bridge name is refused before nft sees anything
    p = topo.tool("h", "fw", "net:x\";flush ruleset;\":10.9.0.0/24", check=False)
    assert p.returncode == 1 and "invalid bridge name" in p.stderr
    assert tables() == before
    topo.tool("h", "fw-flush")
    after = topo.nft("h", "list", "tables").stdout.split("\n")
    assert "table ip other" in after and "table ip berth" not in after
    topo.tool("h", "fw-flush")  # nothing to remove: still fine
    topo.nft("h", "delete", "table", "ip", "other")
    topo.tool("h", "fw", *firewall_args())


def test_dns_answers_read_by_a_real_resolver(topo):
    p = subprocess.Popen(["ip", "netns", "exec", topo.ns["h"], str(TOOL), "dns-serve",
                          "10.210.0.1", "53", "web=10.210.0.2", "db=10.210.0.3,10.210.0.4"],
                         stdout=subprocess.PIPE, text=True)
    topo.servers.append(p)
    assert p.stdout.readline().strip() == "ready"
    out = topo.run("c1", BUSYBOX, "nslookup", "web", "10.210.0.1").stdout
    assert "10.210.0.2" in out.split("Name:", 1)[1], out
    out = topo.run("c1", BUSYBOX, "nslookup", "-type=a", "DB", "10.210.0.1").stdout
    answers = out.split("Name:", 1)[1]
    assert "10.210.0.3" in answers and "10.210.0.4" in answers, out
    nx = topo.run("c1", BUSYBOX, "nslookup", "nope", "10.210.0.1", check=False)
    assert "NXDOMAIN" in nx.stdout + nx.stderr or "can't find" in nx.stdout + nx.stderr
    # garbage does not stop the server: a normal query after it still answers
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    topo.run("c1", "/usr/bin/python3", "-c",
             "import socket; s=socket.socket(socket.AF_INET, socket.SOCK_DGRAM);"
             "[s.sendto(b, ('10.210.0.1', 53)) for b in (b'', b'\\xff'*600, b'\\x00'*12,"
             " b'\\x12\\x34\\x01\\x00\\x00\\x01\\x00\\x00\\x00\\x00\\x00\\x00\\xc0\\x0c')]")
    s.close()
    out = topo.run("c1", BUSYBOX, "nslookup", "web", "10.210.0.1").stdout
    assert "10.210.0.2" in out.split("Name:", 1)[1], out


def test_errors_name_what_failed(topo):
    p = topo.tool("h", "bridge", "br0", check=False)
    assert p.returncode == 1 and "create bridge 'br0'" in p.stderr and "exists" in p.stderr
    p = topo.tool("h", "del", "nosuchlink", check=False)
    assert p.returncode == 1 and "'nosuchlink'" in p.stderr and "no such device" in p.stderr
    p = topo.tool("h", "bridge", "a" * 16, check=False)
    assert p.returncode == 1 and "invalid bridge name" in p.stderr
    p = topo.tool("h", "master", "vout", "nosuchbridge", check=False)
    assert p.returncode == 1 and "'nosuchbridge'" in p.stderr
    p = topo.tool("h", "sysctl", "net.ipv4.conf.../../../kernel/x", "1", check=False)
    assert p.returncode == 1 and "invalid sysctl key" in p.stderr
    p = topo.tool("h", "sysctl", "kernel.hostname", "x", check=False)
    assert p.returncode == 1 and "invalid sysctl key 'kernel.hostname'" in p.stderr
    p = topo.tool("h", "veth", "vx", "eth0", topo.path("c1"), check=False)
    assert p.returncode == 1 and "'vx' and 'eth0'" in p.stderr  # eth0 exists in c1
    # nothing half-made: the host end of the failed pair does not exist
    assert topo.ip("h", "link", "show", "vx", check=False).returncode != 0


def test_delete_and_rename(topo):
    topo.tool("h", "bridge", "brtmp", "1400")
    mtu = json.loads(topo.ip("h", "-j", "link", "show", "brtmp").stdout)[0]["mtu"]
    assert mtu == 1400
    topo.tool("h", "rename", "brtmp", "brtmp2", "02:42:ac:11:00:09")
    link = json.loads(topo.ip("h", "-j", "link", "show", "brtmp2").stdout)[0]
    assert link["address"] == "02:42:ac:11:00:09"
    topo.tool("h", "del", "brtmp2")
    assert topo.ip("h", "link", "show", "brtmp2", check=False).returncode != 0
