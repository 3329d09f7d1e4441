"""What the networking tests share: a command runner, a network namespace of the module's own
with a berthd in it (its bridges and firewall live there), the berth CLI against that berthd,
and small API helpers.  A test module imports the fixtures it uses by name:

    from helpers.net import api, bd, cli, netns, sh

The namespace is made once per module and deleted after it; every request a test sends goes to
loopback or to containers inside it.
"""

import json
import re
import subprocess
import uuid

import pytest

from cli import BerthCLI
from daemon import shared_berthd


def sh(*args, check=True, input=None, timeout=30):
    """Run a command; with check, a non-zero exit fails the test with its stderr."""
    p = subprocess.run([str(a) for a in args], capture_output=True, text=True, input=input,
                       timeout=timeout)
    if check and p.returncode != 0:
        raise AssertionError(f"{' '.join(map(str, args))}: exit {p.returncode}: {p.stderr}")
    return p


@pytest.fixture(scope="module")
def netns():
    """A network namespace of the module's own, its loopback up; its name."""
    name = f"bt{uuid.uuid4().hex[:8]}"
    sh("ip", "netns", "add", name)
    sh("ip", "-n", name, "link", "set", "lo", "up")
    yield name
    sh("ip", "netns", "del", name, check=False)


@pytest.fixture(scope="module")
def bd(netns):
    """A berthd with its default bridge, inside netns."""
    yield from shared_berthd(netns=f"/run/netns/{netns}", bridge=True)


@pytest.fixture(scope="module")
def cli(bd):
    c = BerthCLI(bd)
    yield c
    c.close()


def api(bd, method, path, body=None):
    """(status, the JSON answer or the raw body) of one request to bd."""
    data = json.dumps(body).encode() if body is not None else None
    headers = {"Content-Type": "application/json"} if data is not None else {}
    status, _, out = bd.http(method, path, data, headers)
    return status, (json.loads(out) if out and out[:1] in (b"[", b"{") else out)


def inspect(bd, name):
    st, j = api(bd, "GET", f"/containers/{name}/json")
    assert st == 200, j
    return j


def in_ctr(bd, name, *cmd, check=True):
    """Run cmd in the running container's network and mount namespaces (from the host)."""
    pid = inspect(bd, name)["State"]["Pid"]
    return sh("nsenter", "-t", pid, "-n", "-m", *cmd, check=check)


def as_berth(s):
    """docker's words with its name made berth's (the program's name only)."""
    return re.sub(r"\bdocker(?=[ :'])", "berth", s)


# RTM_GETLINK for one link by name; prints its IFLA_GSO_IPV4_MAX_SIZE (attribute 63), or 0
# when the kernel does not report one.  Run inside the namespace to look at (iproute2 6.1 does
# not print the attribute).
_GSO_PROBE = r"""
import socket, struct, sys
name = sys.argv[1].encode() + b"\0"
attr = struct.pack("HH", 4 + len(name), 3) + name + b"\0" * (-len(name) % 4)
body = struct.pack("BxHiII", 0, 0, 0, 0, 0) + attr
s = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, socket.NETLINK_ROUTE)
s.send(struct.pack("IHHII", 16 + len(body), 18, 1, 1, 0) + body)
msg = s.recv(65536)
length, kind = struct.unpack_from("IH", msg)
assert kind == 16, f"no such link {sys.argv[1]}"
off, found = 32, 0
while off + 4 <= length:
    alen, atype = struct.unpack_from("HH", msg, off)
    if atype == 63:
        found = struct.unpack_from("I", msg, off + 4)[0]
    off += (alen + 3) & ~3
print(found)
"""


def gso_ipv4_max_size(*enter, dev):
    """The link's IPv4 GSO limit, looked up by a process that enter (a command prefix such as
    ("ip", "netns", "exec", NAME) or ("nsenter", "-t", PID, "-n")) puts in its namespace."""
    return int(sh(*enter, "/usr/bin/python3", "-c", _GSO_PROBE, dev).stdout)
