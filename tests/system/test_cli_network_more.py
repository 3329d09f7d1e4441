"""More of berth's networking through the berth CLI, the API and the docker CLI 28 against a
private berthd in a network namespace of this module: --mac-address (the MAC the veth has inside
the container), --dns/--dns-search/--dns-option on a user network (berthd's name server forwards
to the container's own servers), and create/start/rm cycles that must leave the namespace's
links, addresses, firewall and berthd's address pool as they were.
"""

import json
import os
import re
import subprocess
import threading
import time

import pytest

from berth import wait_until
from cli import DOCKER28, need_docker28
from daemon import berthd_binary
from helpers.net import api, as_berth, bd, cli, in_ctr, inspect, netns, sh

pytestmark = [
    pytest.mark.skipif(not os.access(berthd_binary(), os.X_OK), reason="berthd not built"),
]


def rm(bd, *names):
    for n in names:
        api(bd, "DELETE", f"/containers/{n}?force=1")


# ---- --mac-address ------------------------------------------------------------------------------


def test_mac_address_on_the_veth(bd, cli, netns):
    assert cli.run("network", "create", "--subnet", "10.131.0.0/24", "macnet").returncode == 0
    try:
        # the default bridge and a user network, upper case given, lower case everywhere after
        p = cli.run("run", "-d", "--name", "mac1", "--mac-address", "92:D0:C6:0A:29:33",
                    "busybox", "sleep", "300")
        assert p.returncode == 0, p.stderr
        p = cli.run("run", "-d", "--name", "mac2", "--network", "macnet", "--mac-address",
                    "92-d0-c6-0a-29-34", "busybox", "sleep", "300")
        assert p.returncode == 0, p.stderr
        for name, net, mac in (("mac1", "bridge", "92:d0:c6:0a:29:33"),
                               ("mac2", "macnet", "92:d0:c6:0a:29:34")):
            # the kernel's word, read from the container's own sysfs
            out = in_ctr(bd, name, "cat", "/sys/class/net/eth0/address").stdout
            assert out == mac + "\n", out
            assert inspect(bd, name)["NetworkSettings"]["Networks"][net]["MacAddress"] == mac
        # the network's view
        st, n = api(bd, "GET", "/networks/macnet")
        assert [c["MacAddress"] for c in n["Containers"].values()] == ["92:d0:c6:0a:29:34"]
        # without the flag: docker's 02:42 + the address
        p = cli.run("run", "--rm", "--network", "macnet", "busybox", "sh", "-c",
                    "cat /sys/class/net/eth0/address; ip -4 -o addr show eth0")
        mac, line = p.stdout.split("\n", 1)
        ip = re.search(r"inet (\S+)/", line).group(1)
        assert mac == "02:42:" + ":".join(f"{int(o):02x}" for o in ip.split(".")), p.stdout

        # network connect: the API's MacAddress and the bridge driver's option
        p = cli.run("run", "-d", "--name", "mac3", "busybox", "sleep", "300")
        assert p.returncode == 0, p.stderr
        p = cli.run("network", "connect", "--driver-opt",
                    "com.docker.network.endpoint.macaddress=aa:bb:cc:00:11:22", "macnet", "mac3")
        assert (p.returncode, p.stderr) == (0, ""), p
        out = in_ctr(bd, "mac3", "cat", "/sys/class/net/eth1/address").stdout
        assert out == "aa:bb:cc:00:11:22\n"
        # a restart keeps it
        assert cli.run("restart", "-t", "0", "mac2").returncode == 0
        out = in_ctr(bd, "mac2", "cat", "/sys/class/net/eth0/address").stdout
        assert out == "92:d0:c6:0a:29:34\n"
        # a stopped container's connect is kept for its start
        p = cli.run("create", "--name", "mac4", "busybox", "sleep", "300")
        st, body = api(bd, "POST", "/networks/macnet/connect",
                       {"Container": "mac4", "EndpointConfig": {"MacAddress": "0e:00:00:00:00:04"}})
        assert st == 200, body
        assert cli.run("start", "mac4").returncode == 0
        out = in_ctr(bd, "mac4", "cat", "/sys/class/net/eth1/address").stdout
        assert out == "0e:00:00:00:00:04\n"
    finally:
        rm(bd, "mac1", "mac2", "mac3", "mac4")
        api(bd, "DELETE", "/networks/macnet")


def test_mac_address_refused(bd, cli):
    before = api(bd, "GET", "/containers/json?all=1")[1]
    for bad in ("zz", "92:d0:c6:0a:29", "92:d0:c6:0a:29:33:44:55", "92:d0-c6:0a:29:33"):
        p = cli.run("create", "--mac-address", bad, "busybox", "true")
        assert (p.returncode, p.stdout) == (125, ""), p
        assert p.stderr.startswith(f"berth: {bad} is not a valid mac address\n"), p.stderr
    # the API: docker's 400 and words, nothing created
    st, body = api(bd, "POST", "/containers/create",
                   {"Image": "busybox", "Cmd": ["true"], "NetworkingConfig": {"EndpointsConfig": {
                       "bridge": {"MacAddress": "01:02:03"}}}, "HostConfig": {
                       "NetworkMode": "bridge"}})
    assert (st, body["message"]) == (400, "invalid config for network bridge: invalid MAC "
                                          "address 01:02:03")
    st, body = api(bd, "POST", "/v1.43/containers/create",
                   {"Image": "busybox", "Cmd": ["true"], "MacAddress": "nope"})
    assert (st, body["message"]) == (400, "invalid config for network bridge: invalid MAC "
                                          "address nope"), body
    st, body = api(bd, "POST", "/containers/create",
                   {"Image": "busybox", "Cmd": ["true"], "MacAddress": "0e:00:00:00:00:01",
                    "NetworkingConfig": {"EndpointsConfig": {
                        "bridge": {"MacAddress": "0e:00:00:00:00:02"}}},
                    "HostConfig": {"NetworkMode": "bridge"}})
    assert st == 400 and "must match the endpoint-specific MAC address" in body["message"]
    assert api(bd, "GET", "/containers/json?all=1")[1] == before
    # connect: refused before anything is attached
    assert cli.run("run", "-d", "--name", "macbad", "busybox", "sleep", "300").returncode == 0
    try:
        st, body = api(bd, "POST", "/networks/bridge/connect",
                       {"Container": "macbad", "EndpointConfig": {"MacAddress": "x"}})
        assert (st, body["message"]) == (400, "invalid MAC address x")
        st, body = api(bd, "POST", "/networks/bridge/connect",
                       {"Container": "macbad", "EndpointConfig": {"DriverOpts": {
                           "com.docker.network.endpoint.macaddress": "1:2:3:4:5:6"}}})
        assert (st, body["message"]) == (400, "invalid MAC address 1:2:3:4:5:6")
        assert list(inspect(bd, "macbad")["NetworkSettings"]["Networks"]) == ["bridge"]
    finally:
        rm(bd, "macbad")


@DOCKER28
def test_mac_address_as_docker(bd, cli):
    need_docker28()
    for args in (["create", "--mac-address", "zz", "busybox"],
                 ["create", "--mac-address", "92:d0:c6:0a:29", "busybox"]):
        b, d = cli.run(*args), cli.docker(*args)
        assert (b.returncode, b.stdout, b.stderr) == \
            (d.returncode, d.stdout, as_berth(d.stderr)), args
    p = cli.docker("run", "--rm", "--mac-address", "0e:12:34:56:78:9a", "busybox", "cat",
                   "/sys/class/net/eth0/address")
    assert (p.returncode, p.stdout) == (0, "0e:12:34:56:78:9a\n"), p


# ---- --link-local-ip ----------------------------------------------------------------------------

def addresses(bd, name, dev):
    """The addresses on dev in the container's namespace, as the kernel lists them."""
    out = in_ctr(bd, name, "ip", "-o", "addr", "show", "dev", dev).stdout
    return {f.split()[3] for f in out.splitlines()}


def test_link_local_ips_on_the_interface(bd, cli):
    assert cli.run("network", "create", "llnet").returncode == 0
    try:
        p = cli.run("run", "-d", "--name", "ll", "--network", "llnet", "--link-local-ip",
                    "169.254.7.7", "--link-local-ip", "fe80::7", "busybox", "sleep", "300")
        assert p.returncode == 0, p.stderr
        assert {"169.254.7.7/16", "fe80::7/64"} <= addresses(bd, "ll", "eth0")
        ipam = inspect(bd, "ll")["NetworkSettings"]["Networks"]["llnet"]["IPAMConfig"]
        assert ipam == {"LinkLocalIPs": ["169.254.7.7", "fe80::7"]}
        # and on a network connected later, on its own interface
        p = cli.run("network", "connect", "--link-local-ip", "169.254.8.8", "bridge", "ll")
        assert p.returncode == 0, p.stderr
        assert "169.254.8.8/16" in addresses(bd, "ll", "eth1")
        assert "169.254.8.8/16" not in addresses(bd, "ll", "eth0")
    finally:
        rm(bd, "ll")
        cli.run("network", "rm", "llnet")


def test_link_local_ips_refused(bd, cli):
    before = api(bd, "GET", "/containers/json?all=1")[1]
    for bad in ("foo", "0.0.0.0", "::", "169.254.1"):
        p = cli.run("create", "--link-local-ip", bad, "busybox", "true")
        assert (p.returncode, p.stdout) == (1, ""), p  # a daemon error, as docker create's
        assert f"invalid link-local IP address: {bad}" in p.stderr, p.stderr
    assert api(bd, "GET", "/containers/json?all=1")[1] == before
    assert cli.run("run", "-d", "--name", "llbad", "busybox", "sleep", "300").returncode == 0
    try:
        st, body = api(bd, "POST", "/networks/bridge/connect",
                       {"Container": "llbad",
                        "EndpointConfig": {"IPAMConfig": {"LinkLocalIPs": ["nope"]}}})
        assert (st, body["message"]) == (400, "invalid link-local IP address: nope")
        assert list(inspect(bd, "llbad")["NetworkSettings"]["Networks"]) == ["bridge"]
    finally:
        rm(bd, "llbad")


@DOCKER28
def test_link_local_ips_as_docker(bd, cli):
    need_docker28()
    args = ["create", "--link-local-ip", "169.254.9.9", "busybox", "true"]
    b, d = cli.run(*args), cli.docker(*args)
    try:
        assert (b.returncode, d.returncode) == (0, 0), (b.stderr, d.stderr)
        eb, ed = (inspect(bd, x.stdout.strip())["NetworkSettings"]["Networks"]["bridge"]
                  for x in (b, d))
        assert eb["IPAMConfig"] == ed["IPAMConfig"] == {"LinkLocalIPs": ["169.254.9.9"]}
    finally:
        for x in (b, d):
            if x.returncode == 0:
                rm(bd, x.stdout.strip())
    args = ["create", "--link-local-ip", "foo", "busybox", "true"]
    b, d = cli.run(*args), cli.docker(*args)
    assert (b.returncode, b.stdout, b.stderr) == (d.returncode, d.stdout, as_berth(d.stderr))


# ---- --dns, --dns-search, --dns-option on a user network ---------------------------------------

FAKE_DNS = r"""
import socket, struct, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind((sys.argv[1], 53))
print("ready", flush=True)
while True:
    q, peer = s.recvfrom(512)
    i, labels = 12, []
    while q[i]:
        labels.append(q[i + 1:i + 1 + q[i]].decode()); i += 1 + q[i]
    qtype = struct.unpack(">H", q[i + 1:i + 3])[0]
    name = ".".join(labels)
    print(name, qtype, flush=True)
    head = q[:2] + b"\x81\x80" + q[4:6] + (b"\x00\x01" if qtype == 1 else b"\x00\x00") + b"\0\0\0\0"
    ans = b"\xc0\x0c\x00\x01\x00\x01\x00\x00\x00\x3c\x00\x04" + socket.inet_aton(sys.argv[2])
    s.sendto(head + q[12:i + 5] + (ans if qtype == 1 else b""), peer)
"""


@pytest.fixture
def fake_dns(netns):
    """A name server on 127.0.0.53:53 in berthd's namespace answering every A with 10.77.0.9."""
    p = subprocess.Popen(["ip", "netns", "exec", netns, "/usr/bin/python3", "-c", FAKE_DNS,
                          "127.0.0.53", "10.77.0.9"], stdout=subprocess.PIPE, text=True)
    assert p.stdout.readline() == "ready\n"
    yield p
    p.kill()
    p.wait()


def test_dns_flags_on_a_user_network(bd, cli, netns, fake_dns):
    assert cli.run("network", "create", "--subnet", "10.132.0.0/24", "dnsnet").returncode == 0
    try:
        p = cli.run("run", "-d", "--name", "dns-web", "--network", "dnsnet", "busybox",
                    "sleep", "300")
        assert p.returncode == 0, p.stderr
        p = cli.run("run", "-d", "--name", "dns1", "--network", "dnsnet", "--dns", "127.0.0.53",
                    "--dns-search", "corp.example", "--dns-search", "lab.example",
                    "--dns-option", "ndots:2", "--dns-option", "timeout:3", "busybox", "sleep",
                    "300")
        assert p.returncode == 0, p.stderr
        # the container asks berthd's server on the gateway; search and options as given
        conf = in_ctr(bd, "dns1", "cat", "/etc/resolv.conf").stdout
        assert conf.splitlines() == ["nameserver 10.132.0.1", "search corp.example lab.example",
                                     "options ndots:2 timeout:3"], conf
        # a name that is no container's goes to the container's own server (--dns)
        out = in_ctr(bd, "dns1", "nslookup", "db.corp.example").stdout
        assert "Address: 10.77.0.9" in out, out
        # the fake server saw it (berthd asked it: it is not the container's to reach)
        asked = fake_dns.stdout.readline().split()
        assert asked[0] == "db.corp.example", asked
        # containers' names are still berthd's answers, never forwarded
        web_ip = inspect(bd, "dns-web")["NetworkSettings"]["Networks"]["dnsnet"]["IPAddress"]
        out = in_ctr(bd, "dns1", "nslookup", "dns-web.").stdout
        assert f"Address: {web_ip}" in out and "10.77.0.9" not in out, out
        # a container on the same network without --dns does not use dns1's server
        out = sh("nsenter", "-t", inspect(bd, "dns-web")["State"]["Pid"], "-n", "-m",
                 "nslookup", "other.example", check=False)
        assert "10.77.0.9" not in out.stdout, out
        # docker's record of it
        hc = inspect(bd, "dns1")["HostConfig"]
        assert (hc["Dns"], hc["DnsSearch"], hc["DnsOptions"]) == \
            (["127.0.0.53"], ["corp.example", "lab.example"], ["ndots:2", "timeout:3"])
    finally:
        rm(bd, "dns1", "dns-web")
        api(bd, "DELETE", "/networks/dnsnet")


@DOCKER28
def test_dns_flags_as_docker(bd, cli, netns, fake_dns):
    need_docker28()
    assert cli.run("network", "create", "--subnet", "10.133.0.0/24", "dnsnet2").returncode == 0
    try:
        p = cli.docker("run", "--rm", "--network", "dnsnet2", "--dns", "127.0.0.53",
                       "--dns-search", "x.example", "busybox", "sh", "-c",
                       "cat /etc/resolv.conf; nslookup www.x.example")
        assert p.returncode == 0, p
        assert "nameserver 10.133.0.1\nsearch x.example\n" in p.stdout
        assert "Address: 10.77.0.9" in p.stdout, p.stdout
        p = cli.docker("run", "--rm", "--dns", "1.2.3.999", "busybox", "true")
        b = cli.run("run", "--rm", "--dns", "1.2.3.999", "busybox", "true")
        assert (b.returncode, b.stderr) == (p.returncode, as_berth(p.stderr))
    finally:
        api(bd, "DELETE", "/networks/dnsnet2")


# ---- 200 cycles leave nothing behind ----------------------------------------------------------


def kernel_state(netns):
    """What berthd's networking leaves in its namespace: links (with their masters), addresses,
    the firewall (nftables and whatever iptables shows), the bridges' ports."""
    def run(*a):
        return sh("ip", "netns", "exec", netns, *a, check=False).stdout
    link = json.loads(sh("ip", "-n", netns, "-j", "link").stdout)
    addr = json.loads(sh("ip", "-n", netns, "-j", "addr").stdout)
    return {
        "links": sorted((l["ifname"], l.get("master", "")) for l in link),
        # the kernel gives a bridge an IPv6 link-local address (and its route) once it has
        # carrier: not berth's to clean up
        "addrs": sorted((i["ifname"], a["local"], a["prefixlen"]) for i in addr
                        for a in i.get("addr_info", []) if not a["local"].startswith("fe80:")),
        "nft": run("nft", "list", "ruleset"),
        "iptables": "\n".join(l for l in run("iptables-save").splitlines()
                              if not l.startswith("#")),
        "ports": run("bridge", "link", "show"),
        # (a bridge's carrier, "linkdown" or not, follows its ports with a delay)
        "routes": [r.replace(" linkdown", "") for r in
                   sh("ip", "-n", netns, "route", "show", "table", "all").stdout.splitlines()
                   if "fe80:" not in r],
    }


def settled_kernel_state(netns):
    """kernel_state once the veths of containers already gone have left with their namespaces
    (the kernel's cleanup, moments after an rm answered): a baseline to compare with."""
    wait_until(lambda: not any(n.startswith("veth") for n, _ in kernel_state(netns)["links"]),
               20)
    return kernel_state(netns)


def test_200_cycles_leave_nothing(bd, netns):
    assert api(bd, "POST", "/networks/create", {"Name": "cyc", "IPAM": {"Config": [
        {"Subnet": "10.134.0.0/28"}]}})[0] == 201
    try:
        # one container first, so every bridge exists and the baseline is the steady state
        st, c = api(bd, "POST", "/containers/create?name=cyc-warm",
                    {"Image": "busybox", "Cmd": ["true"], "HostConfig": {"NetworkMode": "cyc"}})
        assert st == 201, c
        assert api(bd, "POST", "/containers/cyc-warm/start")[0] == 204
        api(bd, "POST", "/containers/cyc-warm/wait")
        api(bd, "DELETE", "/containers/cyc-warm?force=1")
        before = settled_kernel_state(netns)
        netns_dir = bd.exec_root / "netns"
        files_before = sorted(os.listdir(netns_dir)) if netns_dir.exists() else []
        pool_before = api(bd, "GET", "/networks/cyc")[1]
        errors = []

        def cycles(worker, n):
            for i in range(n):
                # a /28 holds 13 containers: addresses must come back, or this runs out
                st, c = api(bd, "POST", "/containers/create",
                            {"Image": "busybox", "Cmd": ["sleep", "30"],
                             "HostConfig": {"NetworkMode": "bridge",
                                            "PortBindings": {"80/tcp": [{"HostPort": ""}]}},
                             "ExposedPorts": {"80/tcp": {}}})
                steps = [st == 201 and c]
                if st == 201:
                    steps.append(api(bd, "POST", f"/containers/{c['Id']}/start"))
                    steps.append(api(bd, "POST", "/networks/cyc/connect",
                                     {"Container": c["Id"]}))
                    steps.append(api(bd, "DELETE", f"/containers/{c['Id']}?force=1"))
                if [s[0] for s in steps[1:]] != [204, 200, 204]:
                    errors.append((worker, i, c, steps))
                    return

        # four clients at once (the gate, the pool and the kernel lock under contention)
        t0 = time.monotonic()
        workers = [threading.Thread(target=cycles, args=(w, 50)) for w in range(4)]
        for w in workers:
            w.start()
        for w in workers:
            w.join()
        assert not errors, errors
        took = time.monotonic() - t0
        # the veths of the last containers go with their namespaces, in the kernel's own
        # cleanup, moments after the last rm answered
        wait_until(lambda: kernel_state(netns) == before, 20)
        after = kernel_state(netns)
        for k in before:
            assert after[k] == before[k], (k, before[k], after[k])
        assert (sorted(os.listdir(netns_dir)) if netns_dir.exists() else []) == files_before
        pool_after = api(bd, "GET", "/networks/cyc")[1]
        assert pool_after["Containers"] == pool_before["Containers"] == {}
        st, b = api(bd, "GET", "/networks/bridge")
        assert b["Containers"] == {}
        # berthd's record of the networks holds no endpoint either
        for f in (bd.data_root / "networks").glob("*.json"):
            assert json.loads(f.read_text()).get("Endpoints") in (None, []), f
        print(f"200 cycles in {took:.1f} s")
        assert took < 60
    finally:
        api(bd, "DELETE", "/networks/cyc")
