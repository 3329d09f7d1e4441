"""IPv6 on berth's user-defined bridge networks (issue #13), through the berth CLI, the API and
the docker CLI 28, against a private berthd in a network namespace of this module: a v4 and a v6
subnet on one network, the gateway on the bridge, an address and a default route per endpoint
(usable at once: no DAD), AAAA answers from berthd's name server, /etc/hosts, published ports
on the host's IPv6 addresses, isolation between networks, --internal, docker's errors, and nothing left behind.
Traffic goes only to loopback and to this module's own containers.
"""

import os
import uuid

import pytest

from berth import wait_until
from cli import DOCKER28, BerthCLI, need_docker28
from daemon import berthd_binary, import_busybox
from helpers.net import api, bd, cli, in_ctr, inspect, netns, sh

pytestmark = [
    pytest.mark.skipif(not os.access(berthd_binary(), os.X_OK), reason="berthd not built"),
]


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
    # a baseline without the veths of earlier tests' containers, which leave with their
    # namespaces moments after their rm
    wait_until(lambda: "veth" not in kernel_v6(netns)[1], 20)
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
    # the veths (and their fe80:: routes) go with the containers' namespaces, moments after
    wait_until(lambda: kernel_v6(netns) == before, 20)
    assert kernel_v6(netns) == before


def test_isolation_and_internal_for_v6(bd, cli, netns):
    ok(cli.run("network", "create", "--ipv6", "--subnet", "fd00:b6:2::/64", "v6b"))
    ok(cli.run("network", "create", "--ipv6", "--subnet", "fd00:b6:3::/64", "v6c"))
    ok(cli.run("network", "create", "--ipv6", "--internal", "--subnet", "fd00:b6:4::/64",
               "v6int"))
    try:
        ok(cli.run("run", "-d", "--name", "isoweb", "--network", "v6b", "busybox", *HTTPD))
        ok(cli.run("run", "-d", "--name", "isocli", "--network", "v6c", "busybox", "sleep",
                   "300"))
        ok(cli.run("run", "-d", "--name", "intcli", "--network", "v6int", "busybox", "sleep",
                   "300"))
        web6 = inspect(bd, "isoweb")["NetworkSettings"]["Networks"]["v6b"]["GlobalIPv6Address"]
        url = f"http://[{web6}]:80/"
        get = ["timeout", "5", "wget", "-q", "-O", "-", url]
        # across two networks: nothing (the route is there, the forward chain drops it)
        p = cli.run("exec", "isocli", *get)
        assert p.returncode != 0 and "hello" not in p.stdout, p
        p = cli.run("exec", "intcli", *get)
        assert p.returncode != 0 and "hello" not in p.stdout, p
        # the rules that do it are in berth's ip6 table
        t = sh("ip", "netns", "exec", netns, "nft", "list", "table", "ip6", "berth").stdout
        assert "fd00:b6:2::/64" in t and "fd00:b6:3::/64" in t, t
        # an internal network has no masquerade and no way out
        assert "fd00:b6:4::/64 oifname" not in t, t
        # and connecting the client to the server's network makes it work
        ok(cli.run("network", "connect", "v6b", "isocli"))
        ep = inspect(bd, "isocli")["NetworkSettings"]["Networks"]["v6b"]
        assert ep["GlobalIPv6Address"].startswith("fd00:b6:2::"), ep
        out = in_ctr(bd, "isocli", "ip", "-6", "-o", "addr", "show", "dev", "eth1", "scope",
                     "global").stdout
        assert ep["GlobalIPv6Address"] + "/64" in out, out
        p = ok(cli.run("exec", "isocli", *get))
        assert p.stdout.startswith("hello-")
        ok(cli.run("network", "disconnect", "v6b", "isocli"))
        out = in_ctr(bd, "isocli", "ip", "-6", "-o", "addr", "show", "scope", "global").stdout
        assert "fd00:b6:2::" not in out, out
    finally:
        rm(bd, "isoweb", "isocli", "intcli")
        for n in ("v6b", "v6c", "v6int"):
            api(bd, "DELETE", f"/networks/{n}")
    # the last v6 network gone: no ip6 table left
    assert "ip6 berth" not in sh("ip", "netns", "exec", netns, "nft", "list", "tables").stdout


def test_published_port_on_ipv6(bd, cli, netns):
    ok(cli.run("network", "create", "--ipv6", "--subnet", "fd00:b6:5::/64", "v6p"))
    try:
        ok(cli.run("run", "-d", "--name", "pub6", "--network", "v6p", "-p", "18086:80",
                   "busybox", *HTTPD))
        # the host's own IPv6 addresses (here the bridge's, fd00:b6:5::1) are DNATed as its
        # IPv4 ones are.  Not [::1]: the kernel drops a reply to ::1 that arrives on a
        # non-loopback device (IPv6 has no route_localnet), docker serves it with its proxy.
        for url in ("http://127.0.0.1:18086/", "http://[fd00:b6:5::1]:18086/"):
            p = sh("ip", "netns", "exec", netns, "curl", "-sS", "-g", "--max-time", "5", url,
                   check=False)
            assert p.returncode == 0 and p.stdout.startswith("hello-"), (url, p)
        t = sh("ip", "netns", "exec", netns, "nft", "list", "table", "ip6", "berth").stdout
        ip6 = inspect(bd, "pub6")["NetworkSettings"]["Networks"]["v6p"]["GlobalIPv6Address"]
        assert f"dnat to [{ip6}]:80" in t, t
        # one IPv6 host address: not served (docker's userland proxy territory), said so
        p = cli.run("run", "--rm", "--network", "v6p", "-p", "[fd00:b6:5::1]:18087:80",
                    "busybox", "true")
        assert p.returncode == 125 and "invalid host IP fd00:b6:5::1: berth publishes a port " \
            "on one IPv4 address, or on every address" in p.stderr, p
        # from a container of the network through the host's address (hairpin)
        ok(cli.run("run", "-d", "--name", "pub6c", "--network", "v6p", "busybox", "sleep",
                   "300"))
        p = ok(cli.run("exec", "pub6c", "timeout", "10", "wget", "-q", "-O", "-",
                       "http://[fd00:b6:5::1]:18086/"))
        assert p.stdout.startswith("hello-"), p
    finally:
        rm(bd, "pub6", "pub6c")
        api(bd, "DELETE", "/networks/v6p")
    t = sh("ip", "netns", "exec", netns, "nft", "list", "tables").stdout
    assert "ip6 berth" not in t, t


def test_ipv6_bad_input(bd, cli):
    def create(*args):
        p = cli.run("network", "create", *args)
        assert p.returncode == 1 and p.stdout == "", p
        return p.stderr

    before = api(bd, "GET", "/networks")[1]
    assert "invalid subnet fd00:b6:7::/200: invalid CIDR block notation" in create(
        "--ipv6", "--subnet", "fd00:b6:7::/200", "bad1")
    err = create("--ipv6", "--subnet", "fd00:b6:7::1/64", "bad2")
    assert "invalid subnet fd00:b6:7::1/64: it should be fd00:b6:7::/64" in err, err
    err = create("--ipv6", "--subnet", "fd00:b6:7::/64", "--gateway", "fd00:b6:8::1", "bad3")
    assert "no matching subnet for gateway fd00:b6:8::1" in err, err
    ok(cli.run("network", "create", "--ipv6", "--subnet", "fd00:b6:7::/64", "good7"))
    try:
        err = create("--ipv6", "--subnet", "fd00:b6:7:0:8000::/80", "bad4")
        assert "Pool overlaps with other one on this address space" in err, err
        st, body = api(bd, "POST", "/networks/create", {
            "Name": "bad5", "EnableIPv6": True,
            "IPAM": {"Config": [{"Subnet": "fd00:b6:7::/48"}]}})
        assert (st, body["message"]) == (403, "Pool overlaps with other one on this "
                                              "address space"), body
        assert [n["Name"] for n in api(bd, "GET", "/networks")[1]] == \
            [n["Name"] for n in before] + ["good7"]

        # --ip6: on the default bridge, on a network without IPv6, outside the subnet, taken
        ok(cli.run("network", "create", "--subnet", "10.160.9.0/24", "v4only"))
        cases = [
            (["--ip6", "fd00:b6:7::9"],
             "user specified IP address is supported on user defined networks only"),
            (["--network", "v4only", "--ip6", "fd00:b6:7::9"],
             "user specified IP address is supported only when connecting to networks with "
             "user configured subnets"),
            (["--network", "good7", "--ip6", "fd00:b6:8::9"],
             "no configured subnet or ip-range contain the IP address fd00:b6:8::9"),
            (["--network", "good7", "--ip6", "10.1.2.3"], "invalid IPv6 address: 10.1.2.3"),
        ]
        for args, msg in cases:
            p = cli.run("run", "--rm", *args, "busybox", "true")
            assert p.returncode == 125 and msg in p.stderr, (args, p)
        ok(cli.run("run", "-d", "--name", "taken6", "--network", "good7", "--ip6",
                   "fd00:b6:7::9", "busybox", "sleep", "300"))
        p = cli.run("run", "-d", "--name", "taken6b", "--network", "good7", "--ip6",
                    "fd00:b6:7::9", "busybox", "sleep", "300")
        assert p.returncode == 125 and "Address already in use" in p.stderr, p
        # the failed start left nothing: the address is still the first one's only
        st, n = api(bd, "GET", "/networks/good7")
        assert [c["IPv6Address"] for c in n["Containers"].values()] == ["fd00:b6:7::9/64"]
        # released on removal: the address can be had again
        rm(bd, "taken6", "taken6b")
        ok(cli.run("run", "--rm", "--network", "good7", "--ip6", "fd00:b6:7::9", "busybox",
                   "true"))
    finally:
        rm(bd, "taken6", "taken6b")
        api(bd, "DELETE", "/networks/good7")
        api(bd, "DELETE", "/networks/v4only")


def test_ipv6_survives_a_restart_of_berthd(bd, cli, netns):
    ok(cli.run("network", "create", "--ipv6", "--subnet", "fd00:b6:a::/64", "--ip-range",
               "fd00:b6:a::100/120", "v6keep"))
    try:
        ok(cli.run("run", "-d", "--name", "keep6", "--network", "v6keep", "busybox", "sleep",
                   "300"))
        ip6 = inspect(bd, "keep6")["NetworkSettings"]["Networks"]["v6keep"]["GlobalIPv6Address"]
        assert ip6 == "fd00:b6:a::100", ip6
        before = api(bd, "GET", "/networks/v6keep")[1]
        assert before["IPAM"]["Config"][1] == {
            "Subnet": "fd00:b6:a::/64", "Gateway": "fd00:b6:a::1", "IPRange": "fd00:b6:a::100/120"}
        assert bd.stop() == 0
        sh("ip", "netns", "exec", netns, "nft", "delete", "table", "ip6", "berth")
        bd.start()
        assert api(bd, "GET", "/networks/v6keep")[1]["IPAM"] == before["IPAM"]
        assert "fd00:b6:a::/64" in sh("ip", "netns", "exec", netns, "nft", "list", "table",
                                      "ip6", "berth").stdout
        # the address held before the restart is not given twice
        ok(cli.run("run", "-d", "--name", "keep6b", "--network", "v6keep", "busybox", "sleep",
                   "300"))
        ip6b = inspect(bd, "keep6b")["NetworkSettings"]["Networks"]["v6keep"][
            "GlobalIPv6Address"]
        assert ip6b not in (ip6, "fd00:b6:a::1") and ip6b.startswith("fd00:b6:a::1"), ip6b
    finally:
        rm(bd, "keep6", "keep6b")
        api(bd, "DELETE", "/networks/v6keep")


@DOCKER28
def test_docker_cli_ipv6(bd, cli):
    need_docker28()
    bd.docker("network", "create", "--ipv6", "--subnet", "fd00:b6:d::/64", "dk6")
    try:
        out = bd.docker("network", "inspect", "-f",
                        "{{.EnableIPv6}} {{range .IPAM.Config}}{{.Subnet}} {{end}}",
                        "dk6").stdout.strip()
        assert out.startswith("true ") and out.endswith("fd00:b6:d::/64"), out
        p = bd.docker("run", "--rm", "--network", "dk6", "--ip6", "fd00:b6:d::42", "busybox",
                      "ip", "-6", "-o", "addr", "show", "dev", "eth0", "scope", "global")
        assert "inet6 fd00:b6:d::42/64" in p.stdout, p.stdout
        p = bd.docker("run", "--rm", "--ip6", "fd00:b6:d::43", "busybox", "true", check=False)
        assert p.returncode == 125 and \
            "user specified IP address is supported on user defined networks only" in \
            p.stderr, p
    finally:
        bd.docker("network", "rm", "dk6", check=False)


def test_default_bridge_ipv6_from_daemon_json(make_berthd):
    name = f"b6d{uuid.uuid4().hex[:8]}"
    sh("ip", "netns", "add", name)
    try:
        sh("ip", "-n", name, "link", "set", "lo", "up")
        b = make_berthd(netns=f"/run/netns/{name}", bridge=True,
                        config={"ipv6": True, "fixed-cidr-v6": "fd00:b6:e::/64"})
        import_busybox(b)
        st, n = api(b, "GET", "/networks/bridge")
        assert n["EnableIPv6"] is True
        assert n["IPAM"]["Config"][1] == {"Subnet": "fd00:b6:e::/64", "Gateway": "fd00:b6:e::1"}
        out = sh("ip", "-n", name, "-6", "-o", "addr", "show", "dev", "berth0").stdout
        assert "inet6 fd00:b6:e::1/64" in out, out
        c = BerthCLI(b)
        try:
            ok(c.run("run", "-d", "--name", "dflt6", "busybox", *HTTPD))
            ns = inspect(b, "dflt6")["NetworkSettings"]
            # docker's top-level fields are the default bridge's endpoint
            assert ns["GlobalIPv6Address"] == ns["Networks"]["bridge"]["GlobalIPv6Address"]
            assert ns["GlobalIPv6Address"].startswith("fd00:b6:e::"), ns
            assert (ns["GlobalIPv6PrefixLen"], ns["IPv6Gateway"]) == (64, "fd00:b6:e::1")
            p = sh("ip", "netns", "exec", name, "curl", "-sS", "-g", "--max-time", "5",
                   f"http://[{ns['GlobalIPv6Address']}]:80/", check=False)
            assert p.returncode == 0 and p.stdout.startswith("hello-"), p
            # --ip6 on the default bridge: docker's refusal, even with IPv6 on
            p = c.run("run", "--rm", "--ip6", "fd00:b6:e::99", "busybox", "true")
            assert p.returncode == 125 and "user specified IP address is supported on user " \
                "defined networks only" in p.stderr, p
        finally:
            api(b, "DELETE", "/containers/dflt6?force=1")
            c.close()
        # a bad fixed-cidr-v6 stops berthd with the value at fault
        assert b.stop() == 0
        b.write_config({"ipv6": True, "fixed-cidr-v6": "fd00:b6:e::1/64"})
        code, out = b.run_to_exit()
        assert code != 0 and "invalid fixed-cidr-v6: invalid subnet fd00:b6:e::1/64 : it " \
            "should be fd00:b6:e::/64" in out, (code, out)
    finally:
        sh("ip", "netns", "del", name, check=False)


def test_cycles_and_a_crash_leave_no_v6_behind(bd, cli, netns):
    from test_cli_network_more import kernel_state, settled_kernel_state
    ok(cli.run("network", "create", "--ipv6", "--subnet", "10.160.20.0/28", "--subnet",
               "fd00:b6:f::/64", "v6cyc"))
    try:
        # one container first, so the bridge has carrier and the baseline is the steady state
        ok(cli.run("run", "--rm", "--network", "v6cyc", "busybox", "true"))
        before = settled_kernel_state(netns)
        for i in range(20):
            ok(cli.run("run", "--rm", "--network", "v6cyc", "-p", f"{19000 + i}:80",
                       "busybox", "true"))
        # a start that fails after its address was taken: --ip6 in use
        ok(cli.run("run", "-d", "--name", "cyc6", "--network", "v6cyc", "--ip6",
                   "fd00:b6:f::5", "busybox", "sleep", "300"))
        p = cli.run("run", "-d", "--name", "cyc6b", "--network", "v6cyc", "--ip6",
                    "fd00:b6:f::5", "-p", "19100:80", "busybox", "sleep", "300")
        assert p.returncode == 125, p
        rm(bd, "cyc6b")
        # a crash of berthd with a v6 container running: its next start finds what is left
        ok(cli.run("run", "-d", "--name", "crash6", "--network", "v6cyc", "-p", "19200:80",
                   "busybox", "sleep", "300"))
        bd.proc.kill()
        bd.proc.wait()
        bd.start()
        rm(bd, "cyc6", "crash6")

        def state():
            k = kernel_state(netns)
            # berthd's restart may list the networks' rules in another order: the same rules
            k["nft"] = sorted(k["nft"].splitlines())
            return k

        before["nft"] = sorted(before["nft"].splitlines())
        # the veths of the removed containers go with their namespaces, moments after the rm
        wait_until(lambda: state() == before, 20)
        assert state() == before
        st, n = api(bd, "GET", "/networks/v6cyc")
        assert n["Containers"] == {}, n
        # every address is free again: ::5 can be had
        ok(cli.run("run", "--rm", "--network", "v6cyc", "--ip6", "fd00:b6:f::5", "busybox",
                   "true"))
    finally:
        rm(bd, "cyc6", "cyc6b", "crash6")
        api(bd, "DELETE", "/networks/v6cyc")
