"""IPv6 on berth's user-defined bridge networks (issue #13), through the berth CLI, the API and
the docker CLI 28, against a private berthd in a network namespace of this module: a v4 and a v6
subnet on one network, the gateway on the bridge, an address and a default route per endpoint
(usable at once: no DAD), AAAA answers from berthd's name server, /etc/hosts, published ports
on [::1], isolation between networks, --internal, docker's errors, and nothing left behind.
Traffic goes only to loopback and to this module's own containers.
"""

import json
import os
import re
import subprocess
import uuid

import pytest

from cli import DOCKER28, BerthCLI, need_docker28
from daemon import berthd_binary, shared_berthd

pytestmark = [
    pytest.mark.skipif(not os.access(berthd_binary(), os.X_OK), reason="berthd not built"),
]


def sh(*args, check=True, timeout=30):
    p = subprocess.run([str(a) for a in args], capture_output=True, text=True, timeout=timeout)
    if check and p.returncode != 0:
        raise AssertionError(f"{' '.join(map(str, args))}: exit {p.returncode}: {p.stderr}")
    return p


@pytest.fixture(scope="module")
def netns():
    name = f"b6{uuid.uuid4().hex[:8]}"
    sh("ip", "netns", "add", name)
    sh("ip", "-n", name, "link", "set", "lo", "up")
    yield name
    sh("ip", "netns", "del", name, check=False)


@pytest.fixture(scope="module")
def bd(netns):
    yield from shared_berthd(netns=f"/run/netns/{netns}", bridge=True)


@pytest.fixture(scope="module")
def cli(bd):
    c = BerthCLI(bd)
    yield c
    c.close()


def api(bd, method, path, body=None):
    data = json.dumps(body).encode() if body is not None else None
    headers = {"Content-Type": "application/json"} if data is not None else {}
    status, _, out = bd.http(method, path, data, headers)
    return status, (json.loads(out) if out and out[:1] in (b"[", b"{") else out)


def inspect(bd, name):
    st, j = api(bd, "GET", f"/containers/{name}/json")
    assert st == 200, j
    return j


def as_berth(s):
    return re.sub(r"\bdocker(?=[ :'])", "berth", s)


def in_ctr(bd, name, *cmd, check=True):
    pid = inspect(bd, name)["State"]["Pid"]
    return sh("nsenter", "-t", pid, "-n", "-m", *cmd, check=check)


def rm(bd, *names):
    for n in names:
        api(bd, "DELETE", f"/containers/{n}?force=1")


def ok(p):
    assert p.returncode == 0, (p.stdout, p.stderr)
    return p


def kernel_v6(netns):
    """What berth may leave in the namespace: global v6 addresses, v6 routes, nft tables."""
    addrs = sh("ip", "-n", netns, "-6", "-o", "addr", "show", "scope", "global").stdout
    routes = sh("ip", "-n", netns, "-6", "route", "show").stdout
    tables = sh("ip", "netns", "exec", netns, "nft", "list", "tables").stdout
    return addrs, routes, tables


HTTPD = ["sh", "-c", "mkdir -p /w && echo hello-$(hostname) > /w/index.html && "
         "exec httpd -f -p 80 -h /w"]


def test_two_containers_talk_over_ipv6(bd, cli, netns):
    before = kernel_v6(netns)
    ok(cli.run("network", "create", "--ipv6", "--subnet", "10.160.0.0/24", "--subnet",
               "fd00:b6:1::/64", "--gateway", "fd00:b6:1::fe", "v6a"))
    try:
        st, n = api(bd, "GET", "/networks/v6a")
        assert n["EnableIPv6"] is True
        assert [(c["Subnet"], c["Gateway"]) for c in n["IPAM"]["Config"]] == [
            ("10.160.0.0/24", "10.160.0.1"), ("fd00:b6:1::/64", "fd00:b6:1::fe")]
        bridge = "br-" + n["Id"][:12]
        out = sh("ip", "-n", netns, "-6", "-o", "addr", "show", "dev", bridge).stdout
        assert "inet6 fd00:b6:1::fe/64" in out, out

        ok(cli.run("run", "-d", "--name", "web6", "--network", "v6a", "--network-alias",
                   "www", "busybox", *HTTPD))
        ok(cli.run("run", "-d", "--name", "cli6", "--network", "v6a", "--ip6",
                   "fd00:b6:1::77", "busybox", "sleep", "300"))
        web = inspect(bd, "web6")["NetworkSettings"]["Networks"]["v6a"]
        assert web["GlobalIPv6Address"] == "fd00:b6:1::1"
        assert (web["GlobalIPv6PrefixLen"], web["IPv6Gateway"]) == (64, "fd00:b6:1::fe")
        cl = inspect(bd, "cli6")["NetworkSettings"]["Networks"]["v6a"]
        assert cl["GlobalIPv6Address"] == "fd00:b6:1::77"
        st, n = api(bd, "GET", "/networks/v6a")
        assert sorted(c["IPv6Address"] for c in n["Containers"].values()) == [
            "fd00:b6:1::1/64", "fd00:b6:1::77/64"]

        # the kernel's view inside the container: the address (not tentative) and the route
        out = in_ctr(bd, "cli6", "ip", "-6", "-o", "addr", "show", "dev", "eth0", "scope",
                     "global").stdout
        assert "inet6 fd00:b6:1::77/64" in out and "tentative" not in out, out
        out = in_ctr(bd, "cli6", "ip", "-6", "route", "show", "default").stdout
        assert out.startswith("default via fd00:b6:1::fe dev eth0"), out
        # /etc/hosts as docker writes it: the v4 line, then the v6 line
        hosts = ok(cli.run("exec", "cli6", "cat", "/etc/hosts")).stdout.splitlines()
        hn = inspect(bd, "cli6")["Config"]["Hostname"]
        assert hosts[-2:] == [f"{cl['IPAddress']}\t{hn}", f"fd00:b6:1::77\t{hn}"], hosts

        # by address: at once, no DAD wait
        p = ok(cli.run("exec", "cli6", "timeout", "10", "wget", "-q", "-O", "-",
                       "http://[fd00:b6:1::1]:80/"))
        assert p.stdout.startswith("hello-"), p.stdout
        # by name: AAAA from berthd's server, for the name and the alias
        for name in ("web6", "www"):
            p = ok(cli.run("exec", "cli6", "nslookup", "-type=aaaa", name))
            assert "fd00:b6:1::1" in p.stdout, p.stdout
            p = ok(cli.run("exec", "cli6", "nslookup", "-type=a", name))
            assert web["IPAddress"] in p.stdout and "fd00" not in p.stdout, p.stdout
        # the server's side saw the v6 source
        p = ok(cli.run("exec", "cli6", "sh", "-c",
                       "echo ping | nc -w 3 fd00:b6:1::1 80 >/dev/null; echo done"))

        # restart: the same addresses, again usable at once
        ok(cli.run("restart", "-t", "0", "cli6"))
        p = ok(cli.run("exec", "cli6", "timeout", "10", "wget", "-q", "-O", "-",
                       "http://[fd00:b6:1::1]:80/"))
        assert p.stdout.startswith("hello-")
    finally:
        rm(bd, "web6", "cli6")
        api(bd, "DELETE", "/networks/v6a")
    assert kernel_v6(netns) == before
