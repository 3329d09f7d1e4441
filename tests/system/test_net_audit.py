"""Issue 13's networking seen from the user's side, where an audit against dockerd (and moby's
source) found berthd differing: published ports of a container whose first network is
--internal, --add-host NAME:host-gateway, the FQDN line of /etc/hosts, round-robin answers for a
shared alias, `network ls` filters as dockerd matches them, `network prune --filter label!=`,
the words of a refused host port, ports taken from the kernel's ephemeral range, and connect /
disconnect bodies with fields of the wrong type.

berthd runs in a network namespace of the module's own; every packet goes to loopback or to the
module's containers.
"""

import json
import re

import pytest

from berth import wait_until
from helpers.net import api, bd, inspect, netns, sh  # noqa: F401 (fixtures)

HTTPD = "mkdir -p /www && echo hello from $(hostname) > /www/index.html && exec httpd -f -p 80 -h /www"

FETCH = ("import sys, urllib.request\n"
         "sys.stdout.write(urllib.request.urlopen(sys.argv[1], timeout=3).read().decode())")


def host_get(netns, url):
    return sh("ip", "netns", "exec", netns, "/usr/bin/python3", "-c", FETCH, url, check=False)


def veths(netns):
    links = json.loads(sh("ip", "-n", netns, "-j", "-d", "link").stdout)
    return sorted(l["ifname"] for l in links if l.get("linkinfo", {}).get("info_kind") == "veth")


def dnat_rules(netns):
    out = sh("ip", "netns", "exec", netns, "nft", "list", "table", "ip", "berth").stdout
    return [l.strip() for l in out.splitlines() if "dnat to" in l]


def bridge_gateway(bd):
    return json.loads(bd.docker("network", "inspect", "bridge").stdout)[0]["IPAM"]["Config"][0][
        "Gateway"]


def test_ports_go_with_the_first_network_that_is_not_internal(bd, netns):
    """docker-compose's shape: created on an --internal network, connected to an outside one
    before start; dockerd publishes through the outside network, and so must berthd."""
    bd.docker("network", "create", "--internal", "aud-back")
    bd.docker("network", "create", "aud-front")
    try:
        bd.docker("create", "--name", "aud-web", "--network", "aud-back", "-p",
                  "127.0.0.1:18180:80", "busybox", "sh", "-c", HTTPD)
        bd.docker("network", "connect", "aud-front", "aud-web")
        bd.docker("start", "aud-web")
        ip = inspect(bd, "aud-web")["NetworkSettings"]["Networks"]["aud-front"]["IPAddress"]
        assert f"ip daddr 127.0.0.1 tcp dport 18180 dnat to {ip}:80" in dnat_rules(netns)
        assert wait_until(lambda: host_get(netns, "http://127.0.0.1:18180/").returncode == 0, 10)
        assert host_get(netns, "http://127.0.0.1:18180/").stdout.startswith("hello from")
        assert bd.docker("port", "aud-web").stdout.strip() == "80/tcp -> 127.0.0.1:18180"
        # only internal networks: nothing is published, as dockerd
        bd.docker("run", "-d", "--name", "aud-inner", "--network", "aud-back", "-p",
                  "127.0.0.1:18181:80", "busybox", "sh", "-c", HTTPD)
        assert not [r for r in dnat_rules(netns) if "18181" in r]
    finally:
        bd.docker("rm", "-f", "aud-web", "aud-inner", check=False)
        bd.docker("network", "rm", "aud-back", "aud-front")
    assert dnat_rules(netns) == []


@pytest.mark.parametrize("network", ["bridge", "aud-hg", "host", "none"])
def test_add_host_host_gateway(bd, network):
    """--add-host NAME:host-gateway is the default bridge's gateway in every network mode
    (dockerd's HostGatewayIP), never the word itself."""
    if network == "aud-hg":
        bd.docker("network", "create", "aud-hg")
    try:
        out = bd.docker("run", "--rm", "--network", network, "--add-host", "gw:host-gateway",
                        "--add-host", "other=10.1.2.3", "busybox", "cat", "/etc/hosts").stdout
    finally:
        if network == "aud-hg":
            bd.docker("network", "rm", "aud-hg")
    lines = out.splitlines()
    assert f"{bridge_gateway(bd)}\tgw" in lines, out
    assert "10.1.2.3\tother" in lines, out
    assert "host-gateway" not in out


@pytest.mark.parametrize("args,names", [
    (["--hostname", "h1", "--domainname", "dom.test"], "h1.dom.test h1"),
    (["--hostname", "a.b"], "a.b a"),
    (["--hostname", "plain"], "plain"),
])
def test_hosts_line_has_fqdn_and_bare_name(bd, args, names):
    out = bd.docker("run", "--rm", *args, "busybox", "sh", "-c",
                    "tail -1 /etc/hosts; hostname -f").stdout.splitlines()
    ip, got = out[0].split("\t")
    assert ip.startswith("10.210.") and got == names, out
    # the resolver finds the FQDN there, as in docker's containers
    assert out[1] == names.split()[0]


def test_shared_alias_answers_are_shuffled(bd):
    bd.docker("network", "create", "aud-rr")
    names = ["aud-rr1", "aud-rr2", "aud-rr3"]
    try:
        for n in names:
            bd.docker("run", "-d", "--name", n, "--network", "aud-rr", "--network-alias",
                      "shared", "busybox", "sleep", "300")
        ips = {inspect(bd, n)["NetworkSettings"]["Networks"]["aud-rr"]["IPAddress"]
               for n in names}
        script = "for i in $(seq 24); do nslookup -type=a shared; echo ==; done"
        out = bd.docker("exec", "aud-rr1", "sh", "-c", script).stdout
        answers = [re.findall(r"Address: (\d+\.\d+\.\d+\.\d+)", a) for a in out.split("==")[:-1]]
        assert len(answers) == 24
        assert all(set(a) == ips for a in answers), answers
        # each of 24 answers in one fixed order would have one address first: 3^-23
        assert len({a[0] for a in answers}) > 1, answers
    finally:
        bd.docker("rm", "-f", *names)
        bd.docker("network", "rm", "aud-rr")


def test_network_ls_filters_as_dockerd(bd):
    bd.docker("network", "create", "aud-ls")
    bd.docker("network", "create", "aud-ls2")
    try:
        nid = json.loads(bd.docker("network", "inspect", "aud-ls").stdout)[0]["Id"]

        def ls(*f):
            args = [a for x in f for a in ("--filter", x)]
            return bd.docker("network", "ls", "--format", "{{.Name}}", *args,
                             check=False)

        # name and id are regular expressions (filters.Match), not prefixes or substrings
        assert ls("name=^aud-ls$").stdout.split() == ["aud-ls"]
        assert sorted(ls("name=aud-l.").stdout.split()) == ["aud-ls", "aud-ls2"]
        assert ls(f"id=^{nid[:6]}").stdout.split() == ["aud-ls"]
        assert ls(f"id={nid[6:20]}").stdout.split() == ["aud-ls"]
        assert sorted(ls("dangling=1").stdout.split()) == ["aud-ls", "aud-ls2"]
        p = ls("dangling=maybe")
        assert p.returncode == 1 and p.stderr.strip() == (
            "Error response from daemon: invalid value for filter 'dangling', must be "
            '"true" (or "1"), or "false" (or "0")'), p.stderr
        p = ls("dangling=true", "dangling=false")
        assert p.returncode == 1 and p.stderr.strip() == (
            'Error response from daemon: got more than one value for filter key "dangling"')
        st, j = api(bd, "GET", "/networks?filters=" + '{"dangling":{"maybe":true}}')
        assert st == 400 and "invalid value for filter 'dangling'" in j["message"]
    finally:
        bd.docker("network", "rm", "aud-ls", "aud-ls2")


def test_network_prune_label_not(bd, netns):
    bd.docker("network", "create", "--label", "keep=1", "aud-keep")
    bd.docker("network", "create", "--label", "keep=2", "aud-keep2")
    bd.docker("network", "create", "aud-drop")
    try:
        out = bd.docker("network", "prune", "-f", "--filter", "label!=keep=1").stdout
        assert "aud-drop" in out and "aud-keep2" in out and "aud-keep\n" not in out, out
        left = bd.docker("network", "ls", "--format", "{{.Name}}").stdout.split()
        assert "aud-keep" in left and "aud-drop" not in left and "aud-keep2" not in left
        bridges = sh("ip", "-n", netns, "-o", "link", "show", "type", "bridge").stdout
        nid = json.loads(bd.docker("network", "inspect", "aud-keep").stdout)[0]["Id"]
        assert f"br-{nid[:12]}" in bridges
        assert len([l for l in bridges.splitlines() if "br-" in l]) == 1, bridges
    finally:
        bd.docker("network", "rm", "aud-keep", check=False)


def test_taken_host_port_in_dockerd_words(bd, netns):
    bd.docker("run", "-d", "--name", "aud-p1", "-p", "127.0.0.1:18280:80", "busybox", "sleep",
              "300")
    listener = None
    try:
        rules, links = dnat_rules(netns), veths(netns)
        p = bd.docker("run", "-d", "--name", "aud-p2", "-p", "127.0.0.1:18280:80", "busybox",
                      "sleep", "300", check=False)
        eid = r"\(([0-9a-f]{64})\)"
        assert p.returncode == 125
        assert re.search(r"Error response from daemon: driver failed programming external "
                         rf"connectivity on endpoint aud-p2 {eid}: Bind for 127.0.0.1:18280 "
                         r"failed: port is already allocated", p.stderr), p.stderr
        assert "failed to create task" not in p.stderr
        st = inspect(bd, "aud-p2")["State"]
        assert st["Status"] == "created" and st["ExitCode"] == 128
        assert st["Error"].startswith("driver failed programming external connectivity")
        # a host program holds the port: dockerd without its proxy binds and says so
        import subprocess
        listener = subprocess.Popen(
            ["ip", "netns", "exec", netns, "/usr/bin/python3", "-c",
             "import socket, time\ns = socket.socket()\ns.bind(('0.0.0.0', 18281))\n"
             "s.listen()\nprint('up', flush=True)\ntime.sleep(60)"],
            stdout=subprocess.PIPE, text=True)
        assert listener.stdout.readline().strip() == "up"
        p = bd.docker("run", "-d", "--name", "aud-p3", "-p", "18281:80", "busybox", "sleep",
                      "300", check=False)
        assert p.returncode == 125
        assert re.search(rf"driver failed programming external connectivity on endpoint aud-p3 "
                         rf"{eid}: failed to bind port 0.0.0.0:18281/tcp: listen tcp4 "
                         r"0.0.0.0:18281: bind: address already in use", p.stderr), p.stderr
        # nothing of either is left
        assert dnat_rules(netns) == rules and veths(netns) == links
    finally:
        if listener:
            listener.kill()
            listener.wait()
        bd.docker("rm", "-f", "aud-p1", "aud-p2", "aud-p3", check=False)


def test_empty_host_port_from_kernel_range(bd, netns):
    path = "/proc/sys/net/ipv4/ip_local_port_range"
    old = sh("ip", "netns", "exec", netns, "cat", path).stdout.split()
    sh("ip", "netns", "exec", netns, "sysctl", "-q", "net.ipv4.ip_local_port_range=41000 41001")
    try:
        bd.docker("run", "-d", "--name", "aud-e1", "-p", "80", "-p", "81", "busybox", "sh",
                  "-c", HTTPD)
        ports = inspect(bd, "aud-e1")["NetworkSettings"]["Ports"]
        got = {ports["80/tcp"][0]["HostPort"], ports["81/tcp"][0]["HostPort"]}
        assert got == {"41000", "41001"}, ports
        hp = ports["80/tcp"][0]["HostPort"]
        assert wait_until(lambda: host_get(netns, f"http://127.0.0.1:{hp}/").returncode == 0, 10)
        # the range is used up: the next one is refused in dockerd's words
        p = bd.docker("run", "-d", "--name", "aud-e2", "-p", "82", "busybox", "sleep", "300",
                      check=False)
        assert p.returncode == 125 and re.search(
            r"driver failed programming external connectivity on endpoint aud-e2 "
            r"\([0-9a-f]{64}\): all ports are allocated", p.stderr), p.stderr
    finally:
        sh("ip", "netns", "exec", netns, "sysctl", "-q",
           f"net.ipv4.ip_local_port_range={old[0]} {old[1]}")
        bd.docker("rm", "-f", "aud-e1", "aud-e2", check=False)


@pytest.mark.parametrize("op,body,message", [
    ("connect", {"Container": 7},
     "invalid JSON: json: cannot unmarshal number into Go struct field ConnectOptions.Container "
     "of type string"),
    ("connect", {"Container": "aud-c", "EndpointConfig": []},
     "invalid JSON: json: cannot unmarshal array into Go struct field "
     "ConnectOptions.EndpointConfig of type network.EndpointSettings"),
    ("disconnect", {"Container": "aud-c", "Force": "yes"},
     "invalid JSON: json: cannot unmarshal string into Go struct field DisconnectOptions.Force "
     "of type bool"),
    ("disconnect", {"Container": ["aud-c"]},
     "invalid JSON: json: cannot unmarshal array into Go struct field "
     "DisconnectOptions.Container of type string"),
])
def test_connect_disconnect_wrong_types(bd, op, body, message):
    bd.docker("network", "create", "aud-ct")
    try:
        bd.docker("run", "-d", "--name", "aud-c", "--network", "aud-ct", "busybox", "sleep",
                  "300")
        st, j = api(bd, "POST", f"/networks/aud-ct/{op}", body)
        assert (st, j) == (400, {"message": message})
        # nothing changed: still on the network, with its one interface
        nets = inspect(bd, "aud-c")["NetworkSettings"]["Networks"]
        assert list(nets) == ["aud-ct"]
        links = bd.docker("exec", "aud-c", "ls", "/sys/class/net").stdout.split()
        assert sorted(links) == ["eth0", "lo"]
        # an unknown field is ignored, as Go's decoder does
        st, j = api(bd, "POST", "/networks/aud-ct/disconnect",
                    {"Container": "aud-c", "Force": False, "Bogus": 1})
        assert st == 200, j
        assert inspect(bd, "aud-c")["NetworkSettings"]["Networks"] == {}
    finally:
        bd.docker("rm", "-f", "aud-c")
        bd.docker("network", "rm", "aud-ct")


def test_ip_outside_subnet_refused_at_create_and_connect(bd, netns):
    """dockerd's validateEndpointSettings: an --ip outside the network's subnet is a 400 at
    create (no container) and at connect (no endpoint), not a failure at start."""
    bd.docker("network", "create", "--subnet", "10.230.7.0/24", "aud-ip")
    bd.docker("network", "create", "--subnet", "10.230.8.0/24", "aud-ip2")
    msg = "invalid endpoint settings:\nno configured subnet or ip-range contain the IP address "
    try:
        before = bd.docker("ps", "-aq").stdout.split()
        p = bd.docker("create", "--name", "aud-ipc", "--network", "aud-ip", "--ip", "10.230.9.5",
                      "busybox", "true", check=False)
        assert p.returncode == 1 and msg + "10.230.9.5" in p.stderr, p.stderr
        assert bd.docker("ps", "-aq").stdout.split() == before
        bd.docker("run", "-d", "--name", "aud-ipc", "--network", "aud-ip", "--ip",
                  "10.230.7.9", "busybox", "sleep", "300")
        links = veths(netns)
        for ip, want in (("10.230.7.20", msg + "10.230.7.20"),
                         ("bogus", "invalid IPv4 address: bogus")):
            st, j = api(bd, "POST", "/networks/aud-ip2/connect",
                        {"Container": "aud-ipc", "EndpointConfig": {
                            "IPAMConfig": {"IPv4Address": ip}}})
            assert (st, j) == (400, {"message": want})
        assert list(inspect(bd, "aud-ipc")["NetworkSettings"]["Networks"]) == ["aud-ip"]
        assert veths(netns) == links
        # inside: fine, with that address on eth1
        bd.docker("network", "connect", "--ip", "10.230.8.20", "aud-ip2", "aud-ipc")
        out = bd.docker("exec", "aud-ipc", "ip", "-4", "-o", "addr", "show", "eth1").stdout
        assert "inet 10.230.8.20/24" in out, out
    finally:
        bd.docker("rm", "-f", "aud-ipc", check=False)
        bd.docker("network", "rm", "aud-ip", "aud-ip2")


def test_list_networks_follow_every_change(bd):
    """The container list keeps the text of a running container's networks from one call to
    the next: after start, connect, disconnect, stop and a new start it is what inspect says."""
    def listed():
        st, out = api(bd, "GET", '/containers/json?all=1&filters={"name":["aud-l1"]}')
        assert st == 200 and len(out) == 1, out
        return out[0]["NetworkSettings"]["Networks"]

    def inspected():
        return inspect(bd, "aud-l1")["NetworkSettings"]["Networks"]

    bd.docker("network", "create", "--subnet", "10.233.0.0/24", "aud-lst")
    try:
        bd.docker("run", "-d", "--name", "aud-l1", "busybox", "sleep", "300")
        first = listed()
        assert list(first) == ["bridge"] and first["bridge"]["IPAddress"], first
        assert listed() == inspected() == first
        bd.docker("network", "connect", "aud-lst", "aud-l1")
        assert set(listed()) == {"bridge", "aud-lst"} and listed() == inspected()
        assert listed()["aud-lst"]["IPAddress"].startswith("10.233.0.")
        bd.docker("network", "disconnect", "aud-lst", "aud-l1")
        assert list(listed()) == ["bridge"] and listed() == inspected()
        bd.docker("stop", "-t", "0", "aud-l1")
        assert listed()["bridge"]["IPAddress"] == "" and listed() == inspected()
        bd.docker("start", "aud-l1")
        again = listed()
        assert again == inspected() and again["bridge"]["IPAddress"]
        assert again["bridge"]["EndpointID"] != first["bridge"]["EndpointID"]
    finally:
        bd.docker("rm", "-f", "aud-l1", check=False)
        bd.docker("network", "rm", "aud-lst")


def test_ip_range_hands_out_its_first_address_first(bd):
    """dockerd's IPAM starts a range at its first address (10.232.0.128 of 10.232.0.128/25,
    where berthd gave .129)."""
    bd.docker("network", "create", "--subnet", "10.232.0.0/24", "--ip-range",
              "10.232.0.128/25", "aud-rng")
    try:
        bd.docker("run", "-d", "--name", "aud-rng1", "--network", "aud-rng", "busybox",
                  "sleep", "300")
        ep = inspect(bd, "aud-rng1")["NetworkSettings"]["Networks"]["aud-rng"]
        assert ep["IPAddress"] == "10.232.0.128", ep
    finally:
        bd.docker("rm", "-f", "aud-rng1", check=False)
        bd.docker("network", "rm", "aud-rng")


def test_ip_on_a_subnet_berthd_picked_refused(bd, netns):
    """dockerd's validateEndpointIPAddress: --ip needs a subnet the user configured; on a
    network whose subnet berthd picked it is a 400 at create and at connect (running or
    not), even for an address inside that subnet."""
    bd.docker("network", "create", "aud-auto")
    msg = ("invalid endpoint settings:\nuser specified IP address is supported only when "
           "connecting to networks with user configured subnets")
    try:
        st, net = api(bd, "GET", "/networks/aud-auto")
        subnet = net["IPAM"]["Config"][0]["Subnet"]
        inside = subnet.rsplit(".", 2)[0] + ".7.7"
        before = bd.docker("ps", "-aq").stdout.split()
        p = bd.docker("create", "--name", "aud-ipa", "--network", "aud-auto", "--ip", inside,
                      "busybox", "true", check=False)
        assert p.returncode == 1 and msg in p.stderr, p.stderr
        assert bd.docker("ps", "-aq").stdout.split() == before
        bd.docker("create", "--name", "aud-ipa", "busybox", "sleep", "300")
        for running in (False, True):
            if running:
                bd.docker("start", "aud-ipa")
            links = veths(netns)
            st, j = api(bd, "POST", "/networks/aud-auto/connect",
                        {"Container": "aud-ipa", "EndpointConfig": {
                            "IPAMConfig": {"IPv4Address": inside}}})
            assert (st, j) == (400, {"message": msg})
            assert "aud-auto" not in inspect(bd, "aud-ipa")["NetworkSettings"]["Networks"]
            assert veths(netns) == links
        # without an address it joins, as before
        bd.docker("network", "connect", "aud-auto", "aud-ipa")
    finally:
        bd.docker("rm", "-f", "aud-ipa", check=False)
        bd.docker("network", "rm", "aud-auto")


@pytest.mark.parametrize("name", ["lo", "audvx0"])
def test_bridge_name_of_a_link_that_is_no_bridge(bd, netns, name):
    """-o com.docker.network.bridge.name=<a link that is not a bridge> is libnetwork's 500;
    berthd neither puts its gateway on that link nor deletes it (network rm used to)."""
    if name != "lo":
        sh("ip", "-n", netns, "link", "add", name, "type", "veth", "peer", "name", name + "p")
    try:
        addrs = sh("ip", "-n", netns, "-o", "addr", "show", "dev", name).stdout
        nets = bd.docker("network", "ls", "-q").stdout.split()
        st, j = api(bd, "POST", "/networks/create", {
            "Name": "aud-nb", "Options": {"com.docker.network.bridge.name": name}})
        assert st == 500 and j["message"].endswith(f"existing interface {name} is not a bridge")
        assert sh("ip", "-n", netns, "-o", "addr", "show", "dev", name).stdout == addrs
        assert bd.docker("network", "ls", "-q").stdout.split() == nets
        table = sh("ip", "netns", "exec", netns, "nft", "list", "ruleset").stdout
        assert f'"{name}"' not in table
        assert not [p for p in (bd.data_root / "networks").iterdir()
                    if "aud-nb" in p.read_text()]
    finally:
        if name != "lo":
            sh("ip", "-n", netns, "link", "del", name)


def test_existing_bridge_is_used_and_kept(bd, netns):
    """-o com.docker.network.bridge.name=<a bridge someone else made> (say docker0): its
    containers are wired to it, and network rm leaves it, as libnetwork's ifaceCreatedByUser;
    a bridge berthd made for a network goes with it."""
    sh("ip", "-n", netns, "link", "add", "audbr0", "type", "bridge")
    try:
        bd.docker("network", "create", "-o", "com.docker.network.bridge.name=audbr0",
                  "--subnet", "10.99.7.0/24", "aud-ext")
        bd.docker("network", "create", "-o", "com.docker.network.bridge.name=audbr1",
                  "--subnet", "10.99.8.0/24", "aud-own")
        bd.docker("run", "-d", "--name", "aud-onext", "--network", "aud-ext", "busybox",
                  "sleep", "300")
        ip = inspect(bd, "aud-onext")["NetworkSettings"]["Networks"]["aud-ext"]["IPAddress"]
        assert ip.startswith("10.99.7.")
        ports = sh("ip", "-n", netns, "-o", "link", "show", "master", "audbr0").stdout
        assert "veth" in ports, ports
        bd.docker("rm", "-f", "aud-onext")
        bd.docker("network", "rm", "aud-ext", "aud-own")
        links = sh("ip", "-n", netns, "-o", "link", "show").stdout
        assert "audbr0" in links, "the bridge berthd did not make was deleted"
        assert "audbr1" not in links, "the bridge berthd made outlived its network"
    finally:
        bd.docker("rm", "-f", "aud-onext", check=False)
        bd.docker("network", "rm", "aud-ext", "aud-own", check=False)
        sh("ip", "-n", netns, "link", "del", "audbr0", check=False)


def test_dns_names_and_hostname_resolved(bd):
    """EndpointSettings.DNSNames as dockerd's buildEndpointDNSNames (name, aliases, short id,
    hostname, each once), and every one of them answered by the network's name server."""
    bd.docker("network", "create", "aud-dn")
    try:
        bd.docker("run", "-d", "--name", "aud-db", "--network", "aud-dn", "--network-alias",
                  "pg", "--hostname", "dbhost", "busybox", "sleep", "300")
        bd.docker("run", "-d", "--name", "aud-app", "--network", "aud-dn", "busybox", "sleep",
                  "300")
        db = inspect(bd, "aud-db")
        app = inspect(bd, "aud-app")
        short_db, short_app = db["Id"][:12], app["Id"][:12]
        ep = db["NetworkSettings"]["Networks"]["aud-dn"]
        assert ep["DNSNames"] == ["aud-db", "pg", short_db, "dbhost"]
        assert app["NetworkSettings"]["Networks"]["aud-dn"]["DNSNames"] == ["aud-app", short_app]
        for name in ep["DNSNames"]:
            out = bd.docker("exec", "aud-app", "nslookup", "-type=a", name).stdout
            assert re.findall(r"Address: (\d+\.\d+\.\d+\.\d+)", out)[-1] == ep["IPAddress"], \
                (name, out)
    finally:
        bd.docker("rm", "-f", "aud-db", "aud-app")
        bd.docker("network", "rm", "aud-dn")


def test_host_port_range_takes_a_free_one(bd, netns):
    """-p 18300-18302:80: the first free port of the range, as dockerd's allocator; the range
    used up is refused, and HostConfig keeps the range as it was asked."""
    names = ["aud-r1", "aud-r2", "aud-r3", "aud-r4"]
    try:
        got = []
        for n in names[:3]:
            bd.docker("run", "-d", "--name", n, "-p", "127.0.0.1:18300-18302:80", "busybox",
                      "sh", "-c", HTTPD)
            ports = inspect(bd, n)["NetworkSettings"]["Ports"]["80/tcp"]
            got.append(ports[0]["HostPort"])
            assert inspect(bd, n)["HostConfig"]["PortBindings"] == {
                "80/tcp": [{"HostIp": "127.0.0.1", "HostPort": "18300-18302"}]}
        assert sorted(got) == ["18300", "18301", "18302"]
        for n, port in zip(names, got):
            assert f"ip daddr 127.0.0.1 tcp dport {port} dnat to" in " ".join(dnat_rules(netns))
            assert wait_until(
                lambda: host_get(netns, f"http://127.0.0.1:{port}/").stdout.startswith(
                    "hello from"), 10)
        p = bd.docker("run", "-d", "--name", "aud-r4", "-p", "127.0.0.1:18300-18302:80",
                      "busybox", "sleep", "300", check=False)
        assert p.returncode == 125 and "all ports are allocated" in p.stderr, p.stderr
        st, j = api(bd, "POST", "/containers/create?name=aud-rbad", {
            "Image": "busybox", "Cmd": ["true"],
            "HostConfig": {"PortBindings": {"80/tcp": [{"HostPort": "18302-18300"}]}}})
        assert (st, j) == (400, {"message": 'invalid port specification: "18302-18300"'})
    finally:
        bd.docker("rm", "-f", *names, check=False)


def test_ports_published_when_a_running_internal_container_joins_an_outside_network(bd, netns):
    bd.docker("network", "create", "--internal", "aud-in2")
    bd.docker("network", "create", "aud-out2")
    try:
        bd.docker("run", "-d", "--name", "aud-w2", "--network", "aud-in2", "-p",
                  "127.0.0.1:18190:80", "busybox", "sh", "-c", HTTPD)
        assert not [r for r in dnat_rules(netns) if "18190" in r]
        bd.docker("network", "connect", "aud-out2", "aud-w2")
        ip = inspect(bd, "aud-w2")["NetworkSettings"]["Networks"]["aud-out2"]["IPAddress"]
        assert f"ip daddr 127.0.0.1 tcp dport 18190 dnat to {ip}:80" in dnat_rules(netns)
        assert wait_until(lambda: host_get(netns, "http://127.0.0.1:18190/").stdout.startswith(
            "hello from"), 10)
        # a second outside network does not take them again
        bd.docker("network", "connect", "bridge", "aud-w2")
        assert len([r for r in dnat_rules(netns) if "18190" in r]) == 1
        bd.docker("network", "disconnect", "aud-out2", "aud-w2")
        assert not [r for r in dnat_rules(netns) if "18190" in r]
    finally:
        bd.docker("rm", "-f", "aud-w2", check=False)
        bd.docker("network", "rm", "aud-in2", "aud-out2")


def test_ipam_checked_as_dockerd_validate_ipam(bd, netns):
    """Every problem of the IPAM configs at once, in the words of dockerd's ValidateIPAM, and
    nothing made (no bridge, no record)."""
    links = sh("ip", "-n", netns, "-o", "link").stdout
    nets = bd.docker("network", "ls", "-q").stdout.split()
    st, j = api(bd, "POST", "/networks/create", {"Name": "aud-ipam", "EnableIPv6": True, "IPAM": {
        "Config": [{"Subnet": "10.231.0.5/24", "IPRange": "10.231.1.0/16", "Gateway": "bad"},
                   {"Subnet": "fd00:231::1/64", "Gateway": "10.0.0.1", "IPRange": "x"}]}})
    assert (st, j["message"]) == (400, "\n".join([
        "invalid network config:",
        "invalid subnet 10.231.0.5/24: it should be 10.231.0.0/24",
        "invalid ip-range 10.231.1.0/16: CIDR block is bigger than its parent subnet "
        "10.231.0.5/24",
        "invalid ip-range 10.231.1.0/16: it should be 10.231.0.0/16",
        "invalid gateway bad: invalid address",
        "invalid subnet fd00:231::1/64: it should be fd00:231::/64",
        "invalid ip-range x: invalid CIDR block notation",
        "invalid gateway 10.0.0.1: parent subnet is an IPv6 block"]))
    p = bd.docker("network", "create", "--subnet", "10.231.0.0/33", "aud-ipam", check=False)
    assert p.returncode == 1 and p.stderr.strip() == (
        "Error response from daemon: invalid network config:\n"
        "invalid subnet 10.231.0.0/33: invalid CIDR block notation"), p.stderr
    assert sh("ip", "-n", netns, "-o", "link").stdout == links
    assert bd.docker("network", "ls", "-q").stdout.split() == nets
