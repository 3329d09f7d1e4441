"""Containers on berthd's networks, through the docker CLI: the default bridge (address, route,
/etc/hosts), published ports reached from the host's loopback, -P, port conflicts, user networks
with names and aliases resolved by berthd's name server, isolation between networks, and that
stop, rm and a failed start leave no veth, endpoint, rule or namespace file behind.

berthd runs in a network namespace this module makes (its "host"); every request the tests send
goes to loopback or to the containers inside it.
"""

import hashlib
import json
import platform

from berth import wait_until
from helpers.net import bd, gso_ipv4_max_size, netns, sh

HTTPD = "mkdir -p /www && echo hello from $(hostname) > /www/index.html && exec httpd -f -p 80 -h /www"


def veths(netns):
    links = json.loads(sh("ip", "-n", netns, "-j", "-d", "link").stdout)
    return sorted(l["ifname"] for l in links if l.get("linkinfo", {}).get("info_kind") == "veth")


def dnat_rules(netns):
    out = sh("ip", "netns", "exec", netns, "nft", "list", "table", "ip", "berth").stdout
    return [l.strip() for l in out.splitlines() if "dnat to" in l]


FETCH = ("import sys, urllib.request\n"
         "sys.stdout.write(urllib.request.urlopen(sys.argv[1], timeout=float(sys.argv[2]))"
         ".read().decode())")


def host_wget(netns, url, timeout=3):
    """GET url from berthd's network namespace (the host's busybox wget is not used: this
    machine's segfaults)."""
    return sh("ip", "netns", "exec", netns, "/usr/bin/python3", "-c", FETCH, url, str(timeout),
              check=False)


def in_container_get(bd, host, network, timeout=3):
    """GET / from host:80 in a new container on network, with busybox nc (this busybox's wget
    segfaults); the output has the page when it worked."""
    return bd.docker("run", "--rm", "--network", network, "busybox", "sh", "-c",
                     f"printf 'GET / HTTP/1.0\\r\\n\\r\\n' | nc -w {timeout} {host} 80",
                     check=False)


def inspect(bd, name):
    return json.loads(bd.docker("inspect", name).stdout)[0]


def test_default_bridge_address_route_hosts(bd, netns):
    out = bd.docker("run", "--rm", "--hostname", "box", "busybox", "sh", "-c",
                    "ip -4 -o addr show eth0; ip route; grep box /etc/hosts").stdout
    lines = out.splitlines()
    addr = lines[0].split()[3]
    assert addr.startswith("10.210.") and addr.endswith("/16"), out
    assert "default via 10.210.0.1 dev eth0" in out
    assert f"{addr.split('/')[0]}\tbox" in lines[-1]
    # gone with the container
    assert wait_until(lambda: veths(netns) == [], 20), veths(netns)


def test_published_port_from_host_loopback(bd, netns):
    bd.docker("run", "-d", "--name", "web1", "-p", "8080:80", "busybox", "sh", "-c", HTTPD)
    try:
        ip = inspect(bd, "web1")["NetworkSettings"]["IPAddress"]
        assert ip.startswith("10.210.")
        assert wait_until(lambda: host_wget(netns, "http://127.0.0.1:8080/").returncode == 0, 10)
        assert host_wget(netns, "http://127.0.0.1:8080/").stdout.startswith("hello from")
        ports = inspect(bd, "web1")["NetworkSettings"]["Ports"]
        assert ports == {"80/tcp": [{"HostIp": "0.0.0.0", "HostPort": "8080"}]}
        assert bd.docker("port", "web1").stdout.strip() == "80/tcp -> 0.0.0.0:8080"
        ps = bd.docker("ps", "--format", "{{.Ports}}", "--filter", "name=web1").stdout.strip()
        assert ps == "0.0.0.0:8080->80/tcp"
        assert f"tcp dport 8080 dnat to {ip}:80" in dnat_rules(netns)
        # the same host port again: refused, and nothing of the second one stays
        before = veths(netns)
        p = bd.docker("run", "-d", "--name", "web2", "-p", "8080:80", "busybox", "sleep", "30",
                      check=False)
        assert p.returncode == 125 and "port is already allocated" in p.stderr, p.stderr
        assert veths(netns) == before
        assert inspect(bd, "web2")["State"]["Running"] is False
        bd.docker("rm", "-f", "web2")
    finally:
        bd.docker("rm", "-f", "web1")
    assert wait_until(lambda: veths(netns) == [], 20)
    assert dnat_rules(netns) == []
    assert host_wget(netns, "http://127.0.0.1:8080/", timeout=1).returncode != 0
    # no namespace file and no endpoint file left (their directories live as long as berthd)
    assert list((bd.exec_root / "netns").iterdir()) == []
    assert list((bd.exec_root / "endpoints").iterdir()) == []


SEND = ("import socket, sys\n"
        "data = bytes(range(256)) * 4096 * int(sys.argv[2])\n"
        "s = socket.create_connection(('127.0.0.1', int(sys.argv[1])), timeout=10)\n"
        "s.sendall(data)\n"
        "s.close()\n")


def test_published_port_big_transfer_and_gso(bd, netns):
    """Many MiB through a published port from the host's loopback arrive whole in the container
    (DNAT and the loopback masquerade with berth's 192 KiB GSO packets on lo, the bridge and
    both veth ends), and those links have the limit set."""
    mib = 64
    want = hashlib.md5(bytes(range(256)) * 4096 * mib).hexdigest()
    bd.docker("run", "-d", "--name", "bigsink", "-p", "127.0.0.1:8090:80", "busybox", "sh", "-c",
              "nc -l -p 80 | md5sum")
    try:
        pid = inspect(bd, "bigsink")["State"]["Pid"]
        # the host end is eth0's peer (a dying veth of an earlier test may still be listed)
        peer = int(sh("nsenter", "-t", pid, "-n", "-m", "cat", "/sys/class/net/eth0/iflink")
                   .stdout)
        links = json.loads(sh("ip", "-n", netns, "-j", "link").stdout)
        host_veth = next(l["ifname"] for l in links if l["ifindex"] == peer)
        gso = {dev: gso_ipv4_max_size("ip", "netns", "exec", netns, dev=dev)
               for dev in ("lo", "berth0", host_veth)}
        gso["eth0"] = gso_ipv4_max_size("nsenter", "-t", pid, "-n", dev="eth0")
        if tuple(int(x) for x in platform.release().split(".")[:2]) < (6, 12):
            # berth leaves BIG TCP off there (lib/net/netlink.c): the links keep their limits
            assert set(gso.values()) <= {0, 65536}, gso
        else:
            assert gso == {"lo": 196608, "berth0": 196608, host_veth: 196608, "eth0": 196608}
        assert wait_until(lambda: sh("ip", "netns", "exec", netns, "/usr/bin/python3", "-c",
                                     SEND, "8090", str(mib), check=False).returncode == 0, 10)
        assert wait_until(lambda: not inspect(bd, "bigsink")["State"]["Running"], 20)
        assert bd.docker("logs", "bigsink").stdout.split()[0] == want
    finally:
        bd.docker("rm", "-f", "bigsink")


def test_publish_all_and_bound_address(bd, netns):
    bd.docker("run", "-d", "--name", "pall", "--expose", "80", "-P", "-p", "127.0.0.1:8081:81",
              "busybox", "sh", "-c", HTTPD)
    try:
        ports = inspect(bd, "pall")["NetworkSettings"]["Ports"]
        hp = int(ports["80/tcp"][0]["HostPort"])
        lo, hi = map(int, sh("ip", "netns", "exec", netns, "cat",
                             "/proc/sys/net/ipv4/ip_local_port_range").stdout.split())
        assert lo <= hp <= hi and ports["80/tcp"][0]["HostIp"] == "0.0.0.0"
        assert ports["81/tcp"] == [{"HostIp": "127.0.0.1", "HostPort": "8081"}]
        assert wait_until(lambda: host_wget(netns, f"http://127.0.0.1:{hp}/").returncode == 0, 10)
    finally:
        bd.docker("rm", "-f", "pall")


def test_user_network_names_aliases_and_isolation(bd, netns):
    bd.docker("network", "create", "app")
    try:
        bd.docker("run", "-d", "--name", "web", "--network", "app", "--network-alias", "www",
                  "busybox", "sh", "-c", HTTPD)
        web_ip = inspect(bd, "web")["NetworkSettings"]["Networks"]["app"]["IPAddress"]
        net = json.loads(bd.docker("network", "inspect", "app").stdout)[0]
        assert [c["Name"] for c in net["Containers"].values()] == ["web"]
        gw = net["IPAM"]["Config"][0]["Gateway"]

        def fetch(name, network="app"):
            return in_container_get(bd, name, network)

        assert wait_until(lambda: "hello from" in fetch("web").stdout, 10)
        assert "hello from" in fetch("web").stdout
        assert "hello from" in fetch("www").stdout
        out = bd.docker("run", "--rm", "--network", "app", "busybox", "sh", "-c",
                        "cat /etc/resolv.conf; nslookup web").stdout
        assert f"nameserver {gw}" in out and web_ip in out.split("Name:", 1)[1]
        # the default bridge cannot reach a user network's container
        p = in_container_get(bd, web_ip, "bridge", timeout=2)
        assert "hello from" not in p.stdout
        # in use: the network stays
        p = bd.docker("network", "rm", "app", check=False)
        assert p.returncode == 1 and "has active endpoints" in p.stderr
    finally:
        bd.docker("rm", "-f", "web")
        bd.docker("network", "rm", "app")
    assert wait_until(lambda: veths(netns) == [], 20)


def test_static_ip_on_user_network(bd, netns):
    bd.docker("network", "create", "--subnet", "10.95.0.0/24", "fixed")
    try:
        out = bd.docker("run", "--rm", "--network", "fixed", "--ip", "10.95.0.77", "busybox",
                        "ip", "-4", "-o", "addr", "show", "eth0").stdout
        assert "10.95.0.77/24" in out
        p = bd.docker("run", "--rm", "--network", "fixed", "--ip", "10.96.0.5", "busybox",
                      "true", check=False)
        assert p.returncode != 0 and "10.96.0.5" in p.stderr
        p = bd.docker("run", "--rm", "--ip", "10.210.0.200", "busybox", "true", check=False)
        assert p.returncode != 0 and "user defined networks only" in p.stderr
    finally:
        bd.docker("network", "rm", "fixed")
    # veths of an ended container go with its namespace, in the kernel's cleanup: moments later
    assert wait_until(lambda: veths(netns) == [], 20), veths(netns)


def test_bad_network_input(bd, netns):
    # (the docker CLI takes any 404 from create for a missing image and tries a pull, so the
    # API is asked directly)
    status, _, body = bd.http("POST", "/containers/create", json.dumps({
        "Image": "busybox", "Cmd": ["true"], "HostConfig": {"NetworkMode": "nope"}}),
        {"Content-Type": "application/json"})
    assert status == 404 and json.loads(body)["message"] == "network nope not found"
    for bindings, msg in (({"80/tcp": [{"HostPort": "70000"}]},
                           'invalid port specification: "70000"'),
                          ({"80/xyz": [{"HostPort": "80"}]}, "invalid proto: xyz"),
                          ({"0/tcp": [{"HostPort": "80"}]}, "invalid port specification"),
                          ({"80/tcp": [{"HostIp": "1.2.3", "HostPort": "80"}]},
                           "invalid IP address: 1.2.3")):
        status, _, body = bd.http("POST", "/containers/create", json.dumps({
            "Image": "busybox", "Cmd": ["true"], "HostConfig": {"PortBindings": bindings}}),
            {"Content-Type": "application/json"})
        assert status == 400 and msg in json.loads(body)["message"], body
    assert json.loads(bd.http("GET", "/containers/json?all=1")[2]) == []


def test_running_container_survives_berthd_restart(bd, netns):
    bd.docker("run", "-d", "--name", "keep", "-p", "8090:80", "busybox", "sh", "-c", HTTPD)
    try:
        assert wait_until(lambda: host_wget(netns, "http://127.0.0.1:8090/").returncode == 0, 10)
        assert bd.stop() == 0
        assert host_wget(netns, "http://127.0.0.1:8090/").returncode == 0
        bd.start()
        assert host_wget(netns, "http://127.0.0.1:8090/").returncode == 0
        assert inspect(bd, "keep")["NetworkSettings"]["Ports"]["80/tcp"][0]["HostPort"] == \
            "8090"
        bd.docker("stop", "-t", "1", "keep")
        assert wait_until(lambda: veths(netns) == [], 20)
        assert dnat_rules(netns) == []
    finally:
        bd.docker("rm", "-f", "keep")


def test_connect_and_disconnect(bd, netns):
    bd.docker("network", "create", "n1")
    bd.docker("network", "create", "n2")
    try:
        bd.docker("run", "-d", "--name", "mover", "--network", "n1", "busybox", "sleep", "60")
        assert len(veths(netns)) == 1

        def lookup(name, network):
            out = bd.docker("run", "--rm", "--network", network, "busybox", "nslookup", name,
                            check=False).stdout
            return out.split("Name:", 1)[1].split()[2] if "Name:" in out else None

        assert lookup("mover", "n2") is None
        bd.docker("network", "connect", "--alias", "mv", "n2", "mover")
        nets = inspect(bd, "mover")["NetworkSettings"]["Networks"]
        assert sorted(nets) == ["n1", "n2"]
        n2_ip = nets["n2"]["IPAddress"]
        assert len(veths(netns)) == 2
        assert lookup("mover", "n2") == n2_ip and lookup("mv", "n2") == n2_ip
        p = bd.docker("network", "connect", "n2", "mover", check=False)
        assert p.returncode == 1 and "already exists in network n2" in p.stderr
        bd.docker("network", "disconnect", "n2", "mover")
        assert sorted(inspect(bd, "mover")["NetworkSettings"]["Networks"]) == ["n1"]
        assert len(veths(netns)) == 1
        assert lookup("mover", "n2") is None
        p = bd.docker("network", "disconnect", "n2", "mover", check=False)
        assert p.returncode == 1 and "is not connected to network n2" in p.stderr
        p = bd.docker("network", "connect", "nope", "mover", check=False)
        assert p.returncode == 1 and "network nope not found" in p.stderr
        p = bd.docker("network", "connect", "n2", "ghost", check=False)
        assert p.returncode == 1 and "No such container: ghost" in p.stderr
        # connected while stopped: attached at its next start
        bd.docker("stop", "-t", "0", "mover")
        bd.docker("network", "connect", "n2", "mover")
        bd.docker("start", "mover")
        assert sorted(inspect(bd, "mover")["NetworkSettings"]["Networks"]) == ["n1", "n2"]
        # the two of the stopped run go with its namespace, moments after the stop
        assert wait_until(lambda: len(veths(netns)) == 2, 20), veths(netns)
    finally:
        bd.docker("rm", "-f", "mover")
        bd.docker("network", "rm", "n1", "n2")
    assert wait_until(lambda: veths(netns) == [], 20), veths(netns)


def test_legacy_links_on_the_default_bridge(bd, netns):
    """--link child:alias (docker's legacy links): the child's address under the alias, its
    hostname and name in /etc/hosts, and docker's ALIAS_* variables (ports, the lowest as
    ALIAS_PORT, name, environment);
    a child that is missing (at create) or stopped (at start) refused with docker's words."""
    bd.docker("run", "-d", "--name", "lchild", "-e", "SECRET=s3", "-e", "HOME=/x",
              "--expose", "6379", "--expose", "80/udp", "busybox", "sleep", "300")
    try:
        child = inspect(bd, "lchild")
        ip = child["NetworkSettings"]["Networks"]["bridge"]["IPAddress"]
        hn = child["Config"]["Hostname"]
        out = bd.docker("run", "--rm", "--name", "lparent", "--link", "lchild:db", "-e",
                        "DB_ENV_SECRET=mine", "busybox", "sh", "-c",
                        "cat /etc/hosts; env; ping -c1 -W2 db >/dev/null && echo ping-ok"
                        ).stdout
        lines = out.split("\n")
        assert f"{ip}\tdb {hn} lchild" in lines, out
        for want in [f"DB_PORT=udp://{ip}:80", f"DB_PORT_6379_TCP=tcp://{ip}:6379",
                     f"DB_PORT_6379_TCP_ADDR={ip}", "DB_PORT_6379_TCP_PORT=6379",
                     "DB_PORT_6379_TCP_PROTO=tcp", f"DB_PORT_80_UDP=udp://{ip}:80",
                     "DB_NAME=/lparent/db", "DB_ENV_SECRET=mine", "ping-ok"]:
            assert want in lines, (want, out)
        # PATH and HOME are not passed on; the container's own variable wins over the link's
        assert not [ln for ln in lines if ln.startswith(("DB_ENV_PATH=", "DB_ENV_HOME="))]
        assert "DB_ENV_SECRET=s3" not in lines
        # the alias alone is the child's name too: no third name
        out = bd.docker("run", "--rm", "--link", "lchild", "busybox", "cat", "/etc/hosts").stdout
        assert f"{ip}\tlchild {hn}" in out.split("\n"), out

        # inspect shows them as docker's link graph does
        bd.docker("create", "--name", "lparent3", "--link", "lchild:db", "--link", "lchild",
                  "busybox", "true")
        assert inspect(bd, "lparent3")["HostConfig"]["Links"] == [
            "/lchild:/lparent3/db", "/lchild:/lparent3/lchild"]
        p = bd.docker("run", "--rm", "--link", "nosuch:x", "busybox", "true", check=False)
        assert p.returncode == 125
        assert "could not get container for nosuch: No such container: nosuch" in p.stderr
        bd.docker("stop", "-t", "0", "lchild")
        p = bd.docker("run", "--rm", "--name", "lparent2", "--link", "lchild:db", "busybox",
                      "true", check=False)
        assert p.returncode == 125
        assert "Cannot link to a non running container: /lchild AS /lparent2/db" in p.stderr
    finally:
        bd.docker("rm", "-f", "lchild", "lparent", "lparent2", "lparent3", check=False)
