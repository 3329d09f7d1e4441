"""berthd as its clients meet it: the docker CLI, python3-docker, raw HTTP over its socket,
systemd's socket activation and readiness protocol, its flags and daemon.json, signals."""

import json
from urllib.parse import quote as _quote
import os
import signal
import socket
import stat
import subprocess
import threading
import time
from pathlib import Path

import pytest

from berth import wait_until
from daemon import DOCKER_CLI, REPO, berthd_binary

pytestmark = pytest.mark.skipif(not os.access(berthd_binary(), os.X_OK),
                                reason="berthd not built")

PING_HEADERS = {
    "api-version": "1.47",
    "builder-version": "1",
    "ostype": "linux",
    "docker-experimental": "false",
    "cache-control": "no-cache, no-store, must-revalidate",
    "pragma": "no-cache",
}


def quote(obj):
    return _quote(json.dumps(obj))


def cgroup_version():
    out = subprocess.run(["stat", "-f", "-c", "%T", "/sys/fs/cgroup"], capture_output=True,
                         text=True).stdout.strip()
    return "2" if out == "cgroup2fs" else "1"


def json_body(data):
    return json.loads(data.decode())


# ---------------------------------------------------------------------------------------------
# /_ping, /version, /info


def test_ping_get_and_head(berthd):
    status, headers, body = berthd.http("GET", "/_ping")
    assert (status, body) == (200, b"OK")
    for k, v in PING_HEADERS.items():
        assert headers.get(k) == v, (k, headers)
    assert headers["content-type"] == "text/plain; charset=utf-8"
    status, headers, body = berthd.http("HEAD", "/_ping")
    assert (status, body) == (200, b"")
    for k, v in PING_HEADERS.items():
        assert headers.get(k) == v, (k, headers)
    assert berthd.http("GET", "/v1.24/_ping")[0] == 200
    assert berthd.http("HEAD", "/v1.44/_ping")[0] == 200


def test_version_shape(berthd):
    status, _, body = berthd.http("GET", "/v1.44/version")
    assert status == 200
    v = json_body(body)
    assert v["ApiVersion"] == "1.47" and v["MinAPIVersion"] == "1.24"
    assert v["Os"] == "linux" and v["KernelVersion"] == os.uname().release
    for k in ("Version", "GitCommit", "GoVersion", "Arch", "BuildTime"):
        assert isinstance(v[k], str) and v[k], k
    assert v["Platform"]["Name"]
    engine = [c for c in v["Components"] if c["Name"] == "Engine"]
    assert engine and engine[0]["Details"]["ApiVersion"] == "1.47"
    assert engine[0]["Details"]["MinAPIVersion"] == "1.24"


def test_info_fields(berthd):
    host_before = socket.gethostname()
    status, _, body = berthd.http("GET", "/info")
    host_after = socket.gethostname()  # (another test on this machine may change it meanwhile)
    assert status == 200
    info = json_body(body)
    types = {
        "ID": str, "Containers": int, "ContainersRunning": int, "ContainersPaused": int,
        "ContainersStopped": int, "Images": int, "Driver": str, "DriverStatus": list,
        "Plugins": dict, "MemoryLimit": bool, "SwapLimit": bool, "CpuCfsPeriod": bool,
        "CpuCfsQuota": bool, "CPUShares": bool, "CPUSet": bool, "PidsLimit": bool,
        "IPv4Forwarding": bool, "Debug": bool, "NFd": int, "OomKillDisable": bool,
        "NGoroutines": int, "SystemTime": str, "LoggingDriver": str, "CgroupDriver": str,
        "CgroupVersion": str, "NEventsListener": int, "KernelVersion": str,
        "OperatingSystem": str, "OSVersion": str, "OSType": str, "Architecture": str,
        "IndexServerAddress": str, "RegistryConfig": dict, "NCPU": int, "MemTotal": int,
        "DockerRootDir": str, "HttpProxy": str, "HttpsProxy": str, "NoProxy": str,
        "Name": str, "Labels": list, "ExperimentalBuild": bool, "ServerVersion": str,
        "Runtimes": dict, "DefaultRuntime": str, "Swarm": dict, "LiveRestoreEnabled": bool,
        "Isolation": str, "InitBinary": str, "ContainerdCommit": dict, "RuncCommit": dict,
        "InitCommit": dict, "SecurityOptions": list, "CDISpecDirs": list,
    }
    for k, t in types.items():
        assert isinstance(info.get(k), t), (k, info.get(k))
    assert (info["Containers"], info["Images"]) == (0, 0)
    assert info["Driver"] == "overlay2" and info["CgroupDriver"] == "cgroupfs"
    assert info["CgroupVersion"] == cgroup_version()
    assert info["DockerRootDir"] == str(berthd.data_root)
    assert info["ID"] == (berthd.data_root / "engine-id").read_text().strip()
    assert info["NCPU"] == os.cpu_count()
    assert info["MemTotal"] > 0 and info["KernelVersion"] == os.uname().release
    assert info["Architecture"] == os.uname().machine and info["OSType"] == "linux"
    assert info["Name"] in (host_before, host_after)
    assert info["DefaultRuntime"] in info["Runtimes"]
    assert info["Swarm"]["LocalNodeState"] == "inactive"
    assert any(o.startswith("name=seccomp") for o in info["SecurityOptions"])
    assert info["LoggingDriver"] == "json-file" and info["LiveRestoreEnabled"] is True
    assert "127.0.0.0/8" in info["RegistryConfig"]["InsecureRegistryCIDRs"]
    # the engine id stays across restarts
    berthd.stop()
    berthd.start()
    assert json_body(berthd.http("GET", "/info")[2])["ID"] == info["ID"]


def test_info_reflects_the_config_file(make_berthd):
    b = make_berthd(config={"live-restore": False, "log-driver": "none",
                            "insecure-registries": ["myreg:5000", "10.1.0.0/16"],
                            "registry-mirrors": ["https://mirror.example"],
                            "default-address-pools": [{"base": "10.200.0.0/16", "size": 24}]})
    info = json_body(b.http("GET", "/info")[2])
    assert info["LiveRestoreEnabled"] is False and info["LoggingDriver"] == "none"
    rc = info["RegistryConfig"]
    assert "10.1.0.0/16" in rc["InsecureRegistryCIDRs"]
    assert rc["IndexConfigs"]["myreg:5000"]["Secure"] is False
    assert rc["Mirrors"] == ["https://mirror.example"]
    assert info["DefaultAddressPools"] == [{"base": "10.200.0.0/16", "size": 24}]


# ---------------------------------------------------------------------------------------------
# the docker CLI and python3-docker


@pytest.mark.skipif(DOCKER_CLI is None, reason="no docker CLI")
def test_docker_version(berthd):
    p = berthd.docker("version")
    assert "Server:" in p.stdout and "1.47" in p.stdout, p.stdout
    p = berthd.docker("version", "--format", "{{.Client.DefaultAPIVersion}} "
                      "{{.Client.APIVersion}} {{.Server.APIVersion}} {{.Server.MinAPIVersion}} "
                      "{{.Server.Os}}")
    cli_max, negotiated, *server = p.stdout.split()
    # docker 28 speaks 1.50 and comes down to 1.47; an older CLI (docker.io's 20.10: 1.41)
    # keeps its own
    want = "1.47" if tuple(map(int, cli_max.split("."))) >= (1, 47) else cli_max
    assert negotiated == want and server == ["1.47", "1.24", "linux"], p.stdout


@pytest.mark.skipif(DOCKER_CLI is None, reason="no docker CLI")
def test_docker_info(berthd):
    p = berthd.docker("info")
    assert "Server Version: " in p.stdout and "Storage Driver: overlay2" in p.stdout
    assert f"Docker Root Dir: {berthd.data_root}" in p.stdout
    assert f"Cgroup Version: {cgroup_version()}" in p.stdout
    info = json.loads(berthd.docker("info", "--format", "{{json .}}").stdout)
    assert info["DockerRootDir"] == str(berthd.data_root)
    assert not info.get("ServerErrors"), info.get("ServerErrors")


def test_python_docker(berthd):
    c = berthd.client()
    assert c.ping() is True
    v = c.version()
    assert v["ApiVersion"] == "1.47"
    assert c.info()["DockerRootDir"] == str(berthd.data_root)
    old = berthd.api_client(version="1.24")
    assert old.version()["ApiVersion"] == "1.47"
    assert old.info()["Driver"] == "overlay2"
    auto = berthd.api_client(version="auto")
    assert auto.api_version == "1.47"
    assert auto.ping() is True
    tooold = berthd.api_client(version="1.23")
    import docker
    with pytest.raises(docker.errors.APIError) as e:
        tooold.info()
    assert e.value.response.status_code == 400
    assert "client version 1.23 is too old. Minimum supported API version is 1.24" in str(e.value)


# ---------------------------------------------------------------------------------------------
# versions, paths, bad input


def test_versions_and_paths(berthd):
    status, headers, body = berthd.http("GET", "/v1.23/version")
    assert status == 400 and headers["content-type"].startswith("text/plain")
    assert body == (b"client version 1.23 is too old. Minimum supported API version is 1.24, "
                    b"please upgrade your client to a newer version\n")
    status, _, body = berthd.http("GET", "/v1.48/info")
    assert status == 400
    assert json_body(body) == {"message": "client version 1.48 is too new. Maximum supported "
                                          "API version is 1.47"}
    for v in ("1.24", "1.30", "1.41", "1.44", "1.45", "1.46", "1.47"):
        assert berthd.http("GET", f"/v{v}/version")[0] == 200, v
    assert berthd.http("GET", "/version")[0] == 200
    for method, path in (("GET", "/nothing"), ("POST", "/info"), ("GET", "/v1.44/nothing"),
                         ("DELETE", "/_ping"), ("GET", "/v1.44/")):
        status, _, body = berthd.http(method, path)
        assert (status, json_body(body)) == (404, {"message": "page not found"}), (method, path)


def test_bad_requests_answered_and_survived(berthd):
    cases = [
        (b"GARBAGE\r\n\r\n", 400, b"malformed request line"),
        (b"GET /_ping HTTP/2.0\r\n\r\n", 505, b"HTTP version not supported"),
        (b"GET /_ping HTTP/1.1\r\n folded: x\r\n\r\n", 400, b"line folding"),
        (b"GET /_ping HTTP/1.1\r\nX: " + b"a" * 9000 + b"\r\n\r\n", 431,
         b"header field too large"),
        (b"GET /_ping HTTP/1.1\r\n" + b"".join(b"X-%d: y\r\n" % i for i in range(101)) +
         b"\r\n", 431, b"too many header fields"),
        (b"GET /_ping HTTP/1.1\r\n" + b"X-Fill: " + b"y" * 8000 + b"\r\n" * 1 +
         b"".join(b"X-%d: %s\r\n" % (i, b"z" * 7000) for i in range(10)) + b"\r\n", 431,
         b"request header block too large"),
        (b"GET /" + b"a" * 9000 + b" HTTP/1.1\r\n\r\n", 414, b"request line too long"),
        (b"POST /_ping HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\n", 501,
         b"unsupported transfer encoding"),
        (b"POST /_ping HTTP/1.1\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n", 400,
         b"both Transfer-Encoding and Content-Length"),
        (b"GET /%zz HTTP/1.1\r\n\r\n", 400, b"invalid URL escape"),
    ]
    for req, status, msg in cases:
        reply = berthd.raw(req)
        head, _, body = reply.partition(b"\r\n\r\n")
        assert head.startswith(b"HTTP/1.1 %d " % status), (req[:60], reply[:200])
        assert b"application/json" in head and msg in body, (req[:60], reply[:300])
        assert berthd.http("GET", "/_ping")[0] == 200
    # pipelined requests on one connection are answered in order
    reply = berthd.raw(b"GET /_ping HTTP/1.1\r\n\r\nGET /v1.44/_ping HTTP/1.1\r\n"
                       b"Connection: close\r\n\r\n")
    assert reply.count(b"HTTP/1.1 200 OK") == 2 and reply.endswith(b"OK")


def test_one_gib_body_refused_without_reading_it(berthd):
    """A 1 GiB body to a JSON endpoint is answered at once, berthd does not read (or keep) it."""
    rss_before = berthd.rss_kib("VmRSS")
    s = berthd.connect(timeout=20)
    size = 1 << 30
    s.sendall(b"POST /v1.44/containers/create HTTP/1.1\r\nHost: x\r\nContent-Type: "
              b"application/json\r\nContent-Length: %d\r\n\r\n" % size)
    sent = [0]
    stop = threading.Event()

    def pump():
        chunk = b"[" * 65536
        try:
            while sent[0] < size and not stop.is_set():
                sent[0] += s.send(chunk)
        except OSError:
            pass

    t = threading.Thread(target=pump)
    t.start()
    reply = b""
    t0 = time.monotonic()
    while b"\r\n\r\n" not in reply or not reply.rstrip().endswith(b"}"):
        chunk = s.recv(65536)
        if not chunk:
            break
        reply += chunk
    elapsed = time.monotonic() - t0
    stop.set()
    t.join(10)
    s.close()
    head, _, body = reply.partition(b"\r\n\r\n")
    # until POST /containers/create exists the path is unknown (404); then the JSON cap (413)
    assert head.startswith((b"HTTP/1.1 413 ", b"HTTP/1.1 404 ")), reply[:300]
    assert b"Connection: close" in head
    assert json.loads(body)["message"]
    assert elapsed < 5 and sent[0] < size // 4, (elapsed, sent[0])
    assert berthd.rss_kib("VmHWM") - rss_before < 32 * 1024
    assert berthd.http("GET", "/_ping")[0] == 200


def test_slow_client_cut_at_header_timeout(make_berthd):
    b = make_berthd(env={"BERTHD_HEADER_TIMEOUT_MS": "1000"})
    s = b.connect(timeout=10)
    t0 = time.monotonic()
    s.sendall(b"GET /_ping HTTP/1.1\r\n")
    reply = b""
    for part in (b"Host: x\r\n", b"X-Slow: 1\r\n", b"X-Slow: 2\r\n", b"X-Slow: 3\r\n"):
        time.sleep(0.4)
        try:
            s.sendall(part)
        except OSError:
            break
        # meanwhile others are served at once
        t1 = time.monotonic()
        assert b.http("GET", "/_ping")[0] == 200
        assert time.monotonic() - t1 < 1.0
    while True:
        chunk = s.recv(4096)
        if not chunk:
            break
        reply += chunk
    elapsed = time.monotonic() - t0
    s.close()
    assert reply.startswith(b"HTTP/1.1 408 "), reply
    assert 0.9 < elapsed < 3, elapsed


def test_many_connections(berthd):
    # main, the accepting thread and the container monitor; connection threads of the
    # start-up ping end
    assert wait_until(lambda: berthd.threads() == 3, 5), berthd.threads()
    threads_before = 3
    conns = [berthd.connect() for _ in range(300)]
    try:
        assert wait_until(lambda: berthd.threads() >= threads_before + 300, 10), \
            berthd.threads()
        t0 = time.monotonic()
        assert berthd.http("GET", "/_ping")[0] == 200
        assert time.monotonic() - t0 < 2
        for s in conns[:100]:
            s.sendall(b"GET /_ping HTTP/1.1\r\nHost: x\r\n\r\n")
        for s in conns[:100]:
            assert s.recv(4096).startswith(b"HTTP/1.1 200 OK")
    finally:
        for s in conns:
            s.close()
    assert wait_until(lambda: berthd.threads() <= threads_before, 10), \
        (berthd.threads(), threads_before)


# ---------------------------------------------------------------------------------------------
# events


def hup(b, n):
    """SIGHUP, then wait for the n-th reload (signals sent back to back would merge)."""
    b.signal(signal.SIGHUP)
    assert wait_until(lambda: b.log_text().count("reloaded the configuration") >= n, 5)


def read_events(sock_file, n, timeout=10):
    """n JSON lines from a chunked /events response opened with http.client."""
    out = []
    deadline = time.monotonic() + timeout
    while len(out) < n and time.monotonic() < deadline:
        line = sock_file.readline()
        if not line:
            break
        if line.strip():
            out.append(json.loads(line))
    return out


def open_events(b, query=""):
    from daemon import UnixHTTPConnection
    c = UnixHTTPConnection(str(b.sock), timeout=15)
    c.request("GET", "/v1.44/events" + query)
    r = c.getresponse()
    assert r.status == 200
    return c, r


def test_events_stream_and_ping(berthd):
    c, r = open_events(berthd)
    try:
        t0 = time.monotonic()
        for _ in range(5):
            assert berthd.http("GET", "/_ping")[0] == 200
        assert time.monotonic() - t0 < 1
        assert json_body(berthd.http("GET", "/info")[2])["NEventsListener"] == 1
        berthd.signal(signal.SIGHUP)
        ev = read_events(r, 1)
        assert ev and ev[0]["Type"] == "daemon" and ev[0]["Action"] == "reload", ev
        info = json_body(berthd.http("GET", "/info")[2])
        assert ev[0]["Actor"]["ID"] == info["ID"]
        assert ev[0]["Actor"]["Attributes"]["name"]
        assert ev[0]["scope"] == "local"
        assert abs(ev[0]["time"] - time.time()) < 10
        assert ev[0]["timeNano"] // 10**9 == ev[0]["time"]
    finally:
        c.close()
    # the follower notices its client went away and ends
    assert wait_until(lambda: json_body(berthd.http("GET", "/info")[2])["NEventsListener"] == 0,
                      5)


def test_events_since_until_and_filters(berthd):
    t0 = time.time()
    for i in range(3):
        hup(berthd, i + 1)
    time.sleep(0.2)
    t1 = time.time()
    status, _, body = berthd.http("GET", f"/events?since={t0:.9f}&until={t1:.9f}")
    lines = [json.loads(x) for x in body.decode().splitlines()]
    assert status == 200 and len(lines) == 3, body
    assert all(e["Type"] == "daemon" and e["Action"] == "reload" for e in lines)
    # until in the past: the stream ends by itself; since after them: none
    status, _, body = berthd.http("GET", f"/events?since={t1:.6f}&until={t1:.6f}")
    assert (status, body.strip()) == (200, b"")
    # a relative and an RFC 3339 since
    status, _, body = berthd.http("GET", f"/events?since=1h&until={t1:.9f}")
    assert len(body.decode().splitlines()) == 3
    since = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t0 - 1))
    status, _, body = berthd.http("GET", f"/events?since={since}&until={t1:.9f}")
    assert len(body.decode().splitlines()) == 3
    # filters: both forms
    q = "filters=" + quote({"type": {"daemon": True}, "event": {"reload": True}})
    _, _, body = berthd.http("GET", f"/events?since={t0}&until={t1}&{q}")
    assert len(body.decode().splitlines()) == 3
    q = "filters=" + quote({"type": ["container"]})
    _, _, body = berthd.http("GET", f"/events?since={t0}&until={t1}&{q}")
    assert body.strip() == b""
    q = "filters=" + quote({"daemon": [lines[0]["Actor"]["ID"][:8]]})
    _, _, body = berthd.http("GET", f"/events?since={t0}&until={t1}&{q}")
    assert len(body.decode().splitlines()) == 3
    q = "filters=" + quote({"label": ["live-restore=true"]})
    _, _, body = berthd.http("GET", f"/events?since={t0}&until={t1}&{q}")
    assert len(body.decode().splitlines()) == 3
    q = "filters=" + quote({"label": ["live-restore=false"]})
    _, _, body = berthd.http("GET", f"/events?since={t0}&until={t1}&{q}")
    assert body.strip() == b""
    # bad input
    for query, msg in (("filters=%7Bnope", "invalid filter"),
                       ("filters=%7B%22a%22%3A1%7D", "invalid filter"),
                       ("since=yesterday", "invalid value for 'since'"),
                       ("until=abc", "invalid value for 'until'"),
                       (f"since={t1:.0f}&until={t0 - 100:.0f}", "cannot be after `until` time")):
        status, _, body = berthd.http("GET", f"/events?{query}")
        assert status == 400 and msg in json_body(body)["message"], (query, body)


@pytest.mark.skipif(DOCKER_CLI is None, reason="no docker CLI")
def test_docker_system_events(berthd):
    t0 = int(time.time()) - 1
    hup(berthd, 1)
    hup(berthd, 2)
    time.sleep(1.1)
    t1 = int(time.time())
    p = berthd.docker("system", "events", "--since", str(t0), "--until", str(t1),
                      "--format", "{{json .}}", timeout=20)
    evs = [json.loads(x) for x in p.stdout.splitlines()]
    assert len(evs) == 2 and all(e["Type"] == "daemon" and e["Action"] == "reload"
                                 for e in evs), p.stdout
    p = berthd.docker("system", "events", "--since", "10m", "--until", "0s",
                      "--filter", "type=container", timeout=20)
    assert p.stdout == ""
    p = berthd.docker("events", "--since", "10m", "--until", "0s", "--filter", "type=daemon",
                      timeout=20)
    assert p.stdout.count("daemon reload") == 2, p.stdout


def test_python_docker_events(berthd):
    c = berthd.client()
    t0 = time.time()
    berthd.signal(signal.SIGHUP)
    assert wait_until(lambda: "reloaded" in berthd.log_text(), 5)
    evs = list(c.events(since=int(t0) - 1, until=int(time.time()) + 1, decode=True,
                        filters={"type": "daemon"}))
    assert [e["Action"] for e in evs] == ["reload"]


# ---------------------------------------------------------------------------------------------
# configuration, flags, signals


def test_sighup_reloads_log_level(make_berthd):
    b = make_berthd(config={"log-level": "info"})
    b.http("GET", "/_ping")
    assert "level=debug" not in b.log_text()
    assert json_body(b.http("GET", "/info")[2])["Debug"] is False
    b.write_config({"log-level": "debug"})
    b.signal(signal.SIGHUP)
    assert wait_until(lambda: "reloaded the configuration: log level debug" in b.log_text(), 5)
    assert json_body(b.http("GET", "/info")[2])["Debug"] is True
    b.http("GET", "/_ping")
    assert "level=debug" in b.log_text()
    # a bad file on reload: refused, the running configuration stays
    b.write_config({"log-level": "loud"})
    b.signal(signal.SIGHUP)
    assert wait_until(lambda: "unable to parse logging level: loud" in b.log_text(), 5)
    assert json_body(b.http("GET", "/info")[2])["Debug"] is True


def test_config_unknown_key_refused(make_berthd):
    b = make_berthd(config={"log-level": "info", "foo-bar": 1, "max-concurrent-uploads": 3},
                    start=False)
    code, out = b.run_to_exit()
    assert code == 1
    assert ("the following directives don't match any configuration option: "
            "foo-bar, max-concurrent-uploads") in out, out
    assert not b.sock.exists()


def test_config_flag_and_file_conflict_refused(make_berthd):
    b = make_berthd(config={"hosts": ["unix:///tmp/elsewhere.sock"]}, start=False)
    code, out = b.run_to_exit()
    assert code == 1
    assert ("the following directives are specified both as a flag and in the configuration "
            f"file: hosts: (from flag: [unix://{b.sock}], from file: "
            "[unix:///tmp/elsewhere.sock])") in out, out
    b = make_berthd(args=["--log-level", "warn"], config={"log-level": "debug"}, start=False)
    code, out = b.run_to_exit()
    assert code == 1 and "log-level: (from flag: warn, from file: debug)" in out, out


@pytest.mark.parametrize("config,msg", [
    ('{"log-level": ', "unable to configure the daemon with file"),
    ('[1]', "not a JSON object"),
    ({"log-level": "loud"}, "unable to parse logging level: loud"),
    ({"log-driver": "syslog"}, "no log driver named 'syslog'"),
    ({"log-opts": {"max-size": "lots"}}, "invalid max-size"),
    ({"log-opts": {"mode": "x"}}, "unknown log opt 'mode'"),
    ({"storage-driver": "vfs"}, "storage driver 'vfs' is not supported"),
    ({"live-restore": "yes"}, "\"live-restore\": must be true or false"),
    ({"dns": ["8.8.8.x"]}, "8.8.8.x is not an ip address"),
    ({"bip": "10.0.0.1"}, "invalid bip"),
    ({"default-ulimits": {"nofile": {"Name": "nofile", "Hard": 10, "Soft": 20}}},
     "soft limit must be less than or equal to hard limit"),
    ({"registry-mirrors": ["mirror.example"]}, "invalid mirror"),
    ({"hosts": ["tcp://0.0.0.0:2375"]}, "invalid host 'tcp://0.0.0.0:2375'"),
    ({"pidfile": "relative/path"}, "is not an absolute path"),
])
def test_config_bad_values(make_berthd, config, msg):
    b = make_berthd(config=config, start=False)
    b.args = []
    code, out = b.run_to_exit() if "hosts" not in str(config) else \
        _run_without_host_flag(b)
    assert code == 1 and msg in out, out


def _run_without_host_flag(b):
    p = subprocess.run(b.argv(hosts=False), capture_output=True, text=True, timeout=15)
    return p.returncode, p.stdout + p.stderr


def test_missing_config_file(make_berthd):
    b = make_berthd(start=False)
    b.config_file.unlink()
    code, out = b.run_to_exit()
    assert code == 1 and "unable to configure the daemon with file" in out, out


def test_flags(make_berthd):
    b = make_berthd(start=False)
    p = subprocess.run([str(b.binary), "--help"], capture_output=True, text=True)
    assert p.returncode == 0 and "--data-root" in p.stdout and "--host" in p.stdout
    p = subprocess.run([str(b.binary), "--version"], capture_output=True, text=True)
    assert p.returncode == 0 and p.stdout.startswith("berthd version ")
    p = subprocess.run([str(b.binary), "--bogus"], capture_output=True, text=True)
    assert p.returncode == 1 and "unknown flag: --bogus" in p.stderr
    p = subprocess.run([str(b.binary), "--log-level", "loud"], capture_output=True, text=True)
    assert p.returncode == 1 and "unable to parse logging level: loud" in p.stderr


def test_two_hosts_and_socket_mode(make_berthd):
    b = make_berthd(start=False)
    second = b.dir / "extra" / "second.sock"
    b.args = ["-H", f"unix://{second}"]
    b.start()
    st = os.stat(b.sock)
    assert stat.S_ISSOCK(st.st_mode) and stat.S_IMODE(st.st_mode) == 0o660
    try:
        import grp
        gid = grp.getgrnam("berth").gr_gid
    except KeyError:
        gid = 0
    assert st.st_gid == gid
    from daemon import UnixHTTPConnection
    c = UnixHTTPConnection(str(second))
    c.request("GET", "/_ping")
    assert c.getresponse().read() == b"OK"
    c.close()
    b.stop()
    assert not b.sock.exists() and not second.exists()
    (b.dir / "extra").rmdir()


def test_pidfile_refuses_a_second_daemon(berthd, make_berthd):
    other = make_berthd(start=False)
    pidfile = berthd.exec_root / "berthd.pid"
    assert pidfile.read_text().strip() == str(berthd.pid)
    p = subprocess.run([str(other.binary), "-H", f"unix://{other.sock}", "--data-root",
                        str(other.data_root), "--exec-root", str(berthd.exec_root),
                        "--config-file", str(other.config_file), "--bridge", "none"],
                       capture_output=True, text=True, timeout=15)
    assert p.returncode == 1
    assert f"pid file found, ensure berthd is not running or delete {pidfile}" in p.stderr
    assert pidfile.read_text().strip() == str(berthd.pid)
    # the same socket: refused too, the first one keeps it
    p = subprocess.run([str(other.binary), "-H", f"unix://{berthd.sock}", "--data-root",
                        str(other.data_root), "--exec-root", str(other.exec_root),
                        "--config-file", str(other.config_file), "--bridge", "none"],
                       capture_output=True, text=True, timeout=15)
    assert p.returncode == 1 and "in use by another process" in p.stderr, p.stderr
    assert berthd.http("GET", "/_ping")[0] == 200


def test_sigint_and_sigterm_stop_cleanly(make_berthd):
    for sig in (signal.SIGINT, signal.SIGTERM):
        b = make_berthd()
        c, r = open_events(b)  # a follower open at shutdown must not hold it up
        t0 = time.monotonic()
        b.signal(sig)
        assert b.proc.wait(10) == 0
        assert time.monotonic() - t0 < 3
        c.close()
        assert not b.sock.exists() and not (b.exec_root / "berthd.pid").exists()
        assert "berthd stopped" in b.log_text()


class NotifySocket:
    """A datagram socket standing in for systemd's NOTIFY_SOCKET."""

    def __init__(self, path):
        self.path = str(path)
        self.s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.s.bind(self.path)
        self.s.settimeout(0.2)
        self.messages = []

    def wait_for(self, text, timeout=15):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if any(text in m for m in self.messages):
                return True
            try:
                self.messages.append(self.s.recv(4096).decode())
            except socket.timeout:
                pass
        return False

    def close(self):
        self.s.close()
        os.unlink(self.path)


def test_sd_notify_ready_and_stopping(make_berthd):
    b = make_berthd(start=False)
    (b.dir / "extra").mkdir()
    n = NotifySocket(b.dir / "extra" / "notify")
    try:
        b.env["NOTIFY_SOCKET"] = n.path
        b.start(wait=False)
        assert n.wait_for("READY=1"), n.messages
        # READY=1 comes once the API is served
        assert b.http("GET", "/_ping")[0] == 200
        b.signal(signal.SIGHUP)
        assert n.wait_for("RELOADING=1"), n.messages
        b.signal(signal.SIGTERM)
        assert n.wait_for("STOPPING=1"), n.messages
        assert b.proc.wait(10) == 0
    finally:
        n.close()
        (b.dir / "extra").rmdir()


def test_socket_activation(make_berthd):
    b = make_berthd(start=False)
    (b.dir / "extra").mkdir()
    n = NotifySocket(b.dir / "extra" / "notify")
    try:
        argv = ["systemd-socket-activate", "-l", str(b.sock), "-E", f"NOTIFY_SOCKET={n.path}",
                *b.argv(hosts=False), "-H", "fd://"]
        b.start(wait=False, argv=argv)
        assert wait_until(lambda: b.sock.exists(), 10)
        # the first connection makes systemd-socket-activate exec berthd with the socket
        t0 = time.monotonic()
        status, headers, body = b.http("GET", "/_ping", timeout=15)
        assert (status, body) == (200, b"OK")
        assert n.wait_for("READY=1"), n.messages
        assert json_body(b.http("GET", "/info")[2])["DockerRootDir"] == str(b.data_root)
        assert time.monotonic() - t0 < 10
        b.signal(signal.SIGTERM)
        assert n.wait_for("STOPPING=1"), n.messages
        assert b.proc.wait(10) == 0
        # the socket is systemd's: berthd leaves it alone
        assert "API listen on fd://3" in b.log_text()
    finally:
        n.close()
        (b.dir / "extra").rmdir()
        if b.sock.exists():
            b.sock.unlink()


def test_fd_without_socket_activation_refused(make_berthd):
    b = make_berthd(start=False)
    p = subprocess.run(b.argv(hosts=False) + ["-H", "fd://"], capture_output=True, text=True,
                       timeout=15)
    assert p.returncode == 1 and "no sockets found via socket activation" in p.stderr, p.stderr


def test_meson_install_puts_berthd_and_units(tmp_path):
    dest = tmp_path / "dest"
    p = subprocess.run(["meson", "install", "-C", str(REPO / "build"), "--destdir", str(dest),
                        "--quiet"], capture_output=True, text=True, timeout=300)
    assert p.returncode == 0, p.stdout + p.stderr
    prefix = subprocess.run(["meson", "introspect", str(REPO / "build"), "--buildoptions"],
                            capture_output=True, text=True).stdout
    prefix = next(o["value"] for o in json.loads(prefix) if o["name"] == "prefix")
    root = dest / prefix.lstrip("/")
    assert os.access(root / "bin" / "berthd", os.X_OK)
    service = (root / "lib/systemd/system/berthd.service").read_text()
    assert "Type=notify" in service and f"ExecStart={prefix}/bin/berthd -H fd://" in service
    sock = (root / "lib/systemd/system/berthd.socket").read_text()
    assert "ListenStream=/run/berth/berth.sock" in sock and "SocketMode=0660" in sock
    assert "SocketGroup=berth" in sock
