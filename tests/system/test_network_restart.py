"""A user network across a berthd killed with -9: the endpoints of the containers still running
are kept (their addresses stay taken, their names resolve, their published ports answer), and
those of a container that died while berthd was down are gone with their veth and rules, their
address and port free again.  And a network record of an older berth, with its endpoints inside,
still loads.

berthd runs in a network namespace this module makes; traffic goes to its loopback and to the
test's own containers only.
"""

import json
import signal

from berth import wait_until
from helpers.net import bd, netns, sh

HTTPD = ("mkdir -p /www && echo hello from $(hostname) > /www/index.html && "
         "exec httpd -f -p 80 -h /www")


def veths(netns):
    links = json.loads(sh("ip", "-n", netns, "-j", "-d", "link").stdout)
    return {l["ifname"] for l in links if l.get("linkinfo", {}).get("info_kind") == "veth"}


def dnat_ports(netns):
    out = sh("ip", "netns", "exec", netns, "nft", "list", "table", "ip", "berth").stdout
    return sorted(int(l.split("dport")[1].split()[0]) for l in out.splitlines()
                  if "dnat to" in l)


def inspect(bd, name):
    return json.loads(bd.docker("inspect", name).stdout)[0]


def ip_on(bd, name, network):
    return inspect(bd, name)["NetworkSettings"]["Networks"][network]["IPAddress"]


def host_get(netns, port):
    return sh("ip", "netns", "exec", netns, "/usr/bin/python3", "-c",
              "import sys, urllib.request\n"
              "sys.stdout.write(urllib.request.urlopen(sys.argv[1], timeout=3).read().decode())",
              f"http://127.0.0.1:{port}/", check=False)


def get_by_name(bd, network, host):
    """GET / from host:80 (a name berthd's DNS answers) in a new container on network."""
    return bd.docker("run", "--rm", "--network", network, "busybox", "sh", "-c",
                     f"printf 'GET / HTTP/1.0\\r\\n\\r\\n' | nc -w 3 {host} 80",
                     check=False).stdout


def test_kill_9_keeps_running_endpoints_and_drops_dead_ones(bd, netns):
    bd.docker("network", "create", "--subnet", "10.97.0.0/24", "crash")
    try:
        bd.docker("run", "-d", "--name", "web1", "--network", "crash", "busybox", "sh", "-c",
                  HTTPD)
        bd.docker("run", "-d", "--name", "web2", "--network", "crash", "--network-alias", "svc",
                  "-p", "8091:80", "busybox", "sh", "-c", HTTPD)
        kept_veths = veths(netns)
        bd.docker("run", "-d", "--name", "doomed", "--network", "crash", "-p", "8092:80",
                  "busybox", "sleep", "300")
        doomed_veths = veths(netns) - kept_veths
        assert len(kept_veths) == 2 and len(doomed_veths) == 1
        ips = {n: ip_on(bd, n, "crash") for n in ("web1", "web2", "doomed")}
        assert len(set(ips.values())) == 3
        assert dnat_ports(netns) == [8091, 8092]
        doomed_pid = inspect(bd, "doomed")["State"]["Pid"]

        bd.signal(signal.SIGKILL)
        bd.proc.wait(timeout=20)
        sh("kill", "-9", str(doomed_pid))  # dies while berthd is down
        bd.logf.close()
        bd.start()

        # the running ones: the same addresses, names and ports
        assert {n: ip_on(bd, n, "crash") for n in ("web1", "web2")} == \
            {n: ips[n] for n in ("web1", "web2")}
        assert "hello from" in get_by_name(bd, "crash", "web1")
        assert "hello from" in get_by_name(bd, "crash", "svc")
        assert wait_until(lambda: "hello from" in host_get(netns, 8091).stdout, 10)
        # the dead one: its veth and rule gone, its address and host port free again
        assert wait_until(lambda: not inspect(bd, "doomed")["State"]["Running"], 10)
        assert wait_until(lambda: veths(netns) == kept_veths, 20), veths(netns)
        assert dnat_ports(netns) == [8091]
        out = bd.docker("run", "--rm", "--network", "crash", "--ip", ips["doomed"],
                        "-p", "8092:80", "busybox", "ip", "-4", "-o", "addr", "show", "eth0")
        assert ips["doomed"] + "/24" in out.stdout
        # nothing of the running ones is handed out twice: not their addresses asked for ...
        for n in ("web1", "web2"):
            p = bd.docker("run", "--rm", "--network", "crash", "--ip", ips[n], "busybox", "true",
                          check=False)
            assert p.returncode != 0 and f"Address already in use: {ips[n]}" in p.stderr
        p = bd.docker("run", "--rm", "--network", "crash", "-p", "8091:80", "busybox", "true",
                      check=False)
        assert p.returncode != 0 and "port is already allocated" in p.stderr
        # ... nor given by the pool (after a restart it starts again from the subnet's start)
        for i in range(3):
            bd.docker("run", "-d", "--name", f"new{i}", "--network", "crash", "busybox", "sleep",
                      "300")
        new = {ip_on(bd, f"new{i}", "crash") for i in range(3)}
        assert len(new) == 3 and not new & {ips["web1"], ips["web2"]}, (new, ips)
    finally:
        bd.docker("rm", "-f", "web1", "web2", "doomed", "new0", "new1", "new2", check=False)
        bd.docker("network", "rm", "crash", check=False)
    assert wait_until(lambda: veths(netns) == set(), 20), veths(netns)
    assert dnat_ports(netns) == []


def test_record_of_an_older_berth_with_endpoints_loads(bd, netns):
    """berth before 2026-12-04 kept the endpoints in the network's record: such a record (with
    no endpoint file beside it) gives its running container its address back."""
    bd.docker("network", "create", "--subnet", "10.98.0.0/24", "old")
    try:
        bd.docker("run", "-d", "--name", "oldweb", "--network", "old", "busybox", "sh", "-c",
                  HTTPD)
        ip = ip_on(bd, "oldweb", "old")
        nid = inspect(bd, "oldweb")["NetworkSettings"]["Networks"]["old"]["NetworkID"]
        cid = inspect(bd, "oldweb")["Id"]
        assert bd.stop() == 0  # live restore: oldweb runs on
        bd.logf.close()
        ep_file = bd.exec_root / "endpoints" / f"{nid}-{cid}.json"
        ep = json.loads(ep_file.read_text())
        ep_file.unlink()
        record_file = bd.data_root / "networks" / f"{nid}.json"
        record = json.loads(record_file.read_text())
        assert "Endpoints" not in record
        del ep["NetworkID"]
        record["Endpoints"] = [ep]
        record_file.write_text(json.dumps(record))
        bd.start()

        assert ip_on(bd, "oldweb", "old") == ip
        assert "hello from" in get_by_name(bd, "old", "oldweb")
        p = bd.docker("run", "--rm", "--network", "old", "--ip", ip, "busybox", "true",
                      check=False)
        assert p.returncode != 0 and f"Address already in use: {ip}" in p.stderr
        # moved: the record holds the definition only, the endpoint has its file again
        assert "Endpoints" not in json.loads(record_file.read_text())
        assert json.loads(ep_file.read_text())["IP"] == ip
    finally:
        bd.docker("rm", "-f", "oldweb", check=False)
        bd.docker("network", "rm", "old", check=False)


def test_damaged_and_orphaned_endpoint_files_are_removed_at_start(bd, netns):
    """A file cut short or naming a network that is gone (a crash, a removed record) does not
    stop berthd; it is removed, and an address it named is not held."""
    bd.docker("network", "create", "--subnet", "10.99.0.0/24", "orph")
    try:
        nid = json.loads(bd.docker("network", "inspect", "orph").stdout)[0]["Id"]
        assert bd.stop() == 0
        bd.logf.close()
        d = bd.exec_root / "endpoints"
        d.mkdir(exist_ok=True)
        cut = d / f"{nid}-{'a' * 64}.json"
        cut.write_text('{"NetworkID": "' + nid + '", "ContainerID": "aaa')
        taken = {"NetworkID": nid, "ContainerID": "b" * 64, "Name": "ghost",
                 "EndpointID": "c" * 64, "IP": "10.99.0.9", "MAC": "02:42:0a:63:00:09",
                 "Aliases": [], "HostVeth": "vethdead", "Ports": []}
        orphan = d / f"{'d' * 64}-{'b' * 64}.json"
        orphan.write_text(json.dumps(dict(taken, NetworkID="d" * 64)))
        ghost = d / f"{nid}-{'b' * 64}.json"  # a container berthd never had
        ghost.write_text(json.dumps(taken))
        bd.start()
        assert not cut.exists() and not orphan.exists()
        # the ghost's container is not running: its endpoint is dropped with the stale ones
        assert wait_until(lambda: not ghost.exists(), 10)
        out = bd.docker("run", "--rm", "--network", "orph", "--ip", "10.99.0.9", "busybox",
                        "ip", "-4", "-o", "addr", "show", "eth0").stdout
        assert "10.99.0.9/24" in out
    finally:
        bd.docker("network", "rm", "orph", check=False)
