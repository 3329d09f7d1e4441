"""berth run/create's --annotation, --blkio-weight(-device), --device-read/write-bps/iops,
--device-cgroup-rule, --runtime, --storage-opt, --volume-driver and --gpus against a private
berthd: each checked by its effect (the bundle's config.json, the cgroup files, a device node
the container can open or not), compared with the docker CLI 28's request on the same berthd, and
bad values with docker's messages and exit codes.
"""

import json
import os
from pathlib import Path

import pytest

from cli import DOCKER28, need_docker28, ok, refused_as_docker
from daemon import container_json, needs_berthd

pytestmark = [needs_berthd]


def host_cgroup_dir(pid, controller):
    for line in Path(f"/proc/{pid}/cgroup").read_text().splitlines():
        _, ctls, path = line.split(":", 2)
        if controller in ctls.split(","):
            mount = next(d for d in Path("/sys/fs/cgroup").iterdir()
                         if controller in d.name.split(","))
            return mount / path.lstrip("/")
    raise AssertionError(f"no {controller} cgroup for {pid}")


def a_block_device():
    """A block device of this machine (its path and major:minor)."""
    for d in sorted(Path("/sys/block").iterdir()):
        if d.name.startswith(("loop", "ram", "zram")):
            continue
        dev = Path("/dev") / d.name
        if dev.exists():
            return str(dev), (d / "dev").read_text().strip()
    pytest.skip("no block device")  # every machine CI runs on has its root disk


def test_annotation_reaches_the_oci_spec(cli, bd):
    ok(cli.run("run", "-d", "--name", "fm-ann", "--annotation", "org.example.a=1",
               "--annotation", "org.example.b", "busybox", "sleep", "300"))
    try:
        cid = container_json(bd, "fm-ann")["Id"]
        spec = json.loads((bd.exec_root / "shims" / cid / "config.json").read_text())
        assert spec["annotations"] == {"org.example.a": "1", "org.example.b": ""}
        assert container_json(bd, "fm-ann")["HostConfig"]["Annotations"] == spec["annotations"]
    finally:
        cli.run("rm", "-f", "fm-ann")


def test_throttles_in_the_blkio_cgroup(cli, bd):
    dev, majmin = a_block_device()
    ok(cli.run("run", "-d", "--name", "fm-blk", "--device-read-bps", f"{dev}:1mb",
               "--device-write-bps", f"{dev}:2048", "--device-read-iops", f"{dev}:300",
               "--device-write-iops", f"{dev}:400", "busybox", "sleep", "300"))
    try:
        st = container_json(bd, "fm-blk")
        blkio = host_cgroup_dir(st["State"]["Pid"], "blkio")
        files = {f: (blkio / f"blkio.throttle.{f}").read_text().split()
                 for f in ("read_bps_device", "write_bps_device", "read_iops_device",
                           "write_iops_device")}
        assert files == {"read_bps_device": [majmin, str(1 << 20)],
                         "write_bps_device": [majmin, "2048"],
                         "read_iops_device": [majmin, "300"],
                         "write_iops_device": [majmin, "400"]}
        assert st["HostConfig"]["BlkioDeviceReadBps"] == [{"Path": dev, "Rate": 1 << 20}]
    finally:
        cli.run("rm", "-f", "fm-blk")


def test_blkio_weight_where_the_kernel_has_it(cli, bd):
    dev, _ = a_block_device()
    has = Path("/sys/fs/cgroup/blkio/blkio.weight").exists()
    p = cli.run("run", "--rm", "--blkio-weight", "300", "--blkio-weight-device", f"{dev}:200",
                "busybox", "true")
    assert p.returncode == 0, p.stderr
    if not has:
        # dockerd's warnings, and nothing written
        assert "Your kernel does not support Block I/O weight or the cgroup is not mounted. " \
            "Weight discarded." in p.stderr
        assert "Your kernel does not support Block I/O weight_device or the cgroup is not " \
            "mounted. Weight-device discarded." in p.stderr
    # out of range: the daemon's refusal where the file is, the CLI's own check for the device
    p = cli.run("run", "--rm", "--blkio-weight-device", f"{dev}:5", "busybox", "true")
    assert p.returncode == 125 and f"invalid weight for device: {dev}:5" in p.stderr


def test_device_cgroup_rule_lets_the_node_open(cli):
    """mknod is allowed (docker's "b *:* m"), opening a block device is not, until a rule says
    so: /dev/loop0's 7:0, which opens without a backing file."""
    if not Path("/sys/block/loop0").exists():
        pytest.skip("no loop device")  # the loop module is built in on Debian's kernels
    script = "mknod /tmp/lp b 7 0 && dd if=/tmp/lp of=/dev/null bs=1 count=0 2>&1; echo rc=$?"
    out = ok(cli.run("run", "--rm", "busybox", "sh", "-c", script))
    assert "Operation not permitted" in out and out.strip().endswith("rc=1"), out
    out = ok(cli.run("run", "--rm", "--device-cgroup-rule", "b 7:0 r", "busybox", "sh", "-c",
                     script))
    assert out.strip().endswith("rc=0"), out
    # a wider rule than asked for is not given: writing stays refused
    out = ok(cli.run("run", "--rm", "--device-cgroup-rule", "b 7:0 r", "busybox", "sh", "-c",
                     "mknod /tmp/lp b 7 0 && dd if=/dev/zero of=/tmp/lp bs=1 count=0 2>&1; "
                     "echo rc=$?"))
    assert "Operation not permitted" in out, out


def test_runtime_names(cli, bd):
    info = json.loads(ok(cli.run("info", "--format", "{{json .Runtimes}}")))
    for name in list(info) + ["runc"]:
        out = ok(cli.run("run", "--rm", "--runtime", name, "busybox", "echo", "ran"))
        assert out == "ran\n"
    p = cli.run("run", "--rm", "--runtime", "kata", "busybox", "true")
    assert p.returncode == 125
    assert "unknown or invalid runtime name: kata" in p.stderr


def test_volume_driver(cli, bd):
    ok(cli.run("run", "--rm", "--volume-driver", "local", "-v", "fmvol:/data", "busybox",
               "sh", "-c", "echo x > /data/f"))
    status, _, _ = bd.http("GET", "/volumes/fmvol")
    assert status == 200
    cli.run("volume", "rm", "fmvol")
    p = cli.run("run", "--rm", "--volume-driver", "nfsplug", "-v", "fmvol2:/data", "busybox",
                "true")
    assert p.returncode == 125
    assert 'error looking up volume plugin nfsplug: plugin "nfsplug" not found' in p.stderr
    assert bd.http("GET", "/volumes/fmvol2")[0] == 404, "nothing made"


def test_storage_opt_and_gpus_refused(cli):
    p = cli.run("run", "--rm", "--storage-opt", "size=1G", "busybox", "true")
    assert p.returncode == 125
    assert "--storage-opt is supported only for overlay over xfs with 'pquota' mount option" \
        in p.stderr
    p = cli.run("run", "--rm", "--gpus", "all", "busybox", "true")
    assert p.returncode == 125
    assert 'could not select device driver "" with capabilities: [[gpu]]' in p.stderr


BAD = [
    ["--device-read-bps", "/dev/sda"], ["--device-read-bps", "sda:1"],
    ["--device-read-bps", "/dev/sda:x"], ["--device-write-iops", "/dev/sda:1k"],
    ["--blkio-weight", "x"], ["--blkio-weight", "70000"],
    ["--blkio-weight-device", "/dev/sda:5"], ["--blkio-weight-device", "/dev/sda"],
    ["--device-cgroup-rule", "c 1:3"], ["--device-cgroup-rule", "x 1:3 rwm"],
    ["--runtime", "kata"], ["--storage-opt", "size"], ["--storage-opt", "size=1G"],
    ["--gpus", "all"],
    ["--gpus", "count=x"], ["--gpus", "foo=1"], ["--gpus", "all,all"],
    ["--gpus", "driver=nvidia,capabilities=compute"],
    ["--isolation", "hyperv"], ["--isolation", "process"], ["--kernel-memory", "x"],
    ["--kernel-memory", "-1"],
]


@DOCKER28
@pytest.mark.parametrize("flags", BAD, ids=[" ".join(f) for f in BAD])
def test_bad_values_as_docker(cli, flags):
    need_docker28()
    refused_as_docker(cli, "run", "--rm", *flags, "busybox", "true")


@DOCKER28
def test_create_request_same_as_docker(cli, tmp_path):
    need_docker28()
    dev, _ = a_block_device()
    flags = ["--annotation", "a.b=c", "--annotation", "d", "--device-read-bps", f"{dev}:1mb",
             "--device-write-bps", f"{dev}:10k", "--device-read-iops", f"{dev}:5",
             "--device-write-iops", f"{dev}:6", "--device-cgroup-rule", "c 1:7 rwm",
             "--device-cgroup-rule", "b *:* r", "--runtime", "runc", "--gpus", "device=0",
             "--blkio-weight-device", f"{dev}:300",
             "--volume-driver", "local", "--use-api-socket"]
    p = cli.run("create", "--name", "fm-berth", *flags, "busybox", "true")
    d = cli.docker("create", "--name", "fm-docker", *flags, "busybox", "true")
    try:
        assert (p.returncode, d.returncode) == (0, 0), (p.stderr, d.stderr)
        b, k = container_json(cli.berthd, "fm-berth"), container_json(cli.berthd, "fm-docker")
        for key in ("Config", "HostConfig"):
            b[key].pop("Hostname", None), k[key].pop("Hostname", None)
            assert b[key] == k[key], key
        # docker 28 sends what berth sends; the start fails alike (no GPU driver)
        p, d = cli.run("start", "-a", "fm-berth"), cli.docker("start", "-a", "fm-docker")
        assert (p.returncode, p.stderr) == (d.returncode, d.stderr.replace("docker", "berth"))
        assert 'could not select device driver "" with capabilities: [[gpu]]' in p.stderr
    finally:
        cli.run("rm", "-f", "fm-berth", "fm-docker")


def test_use_api_socket_reaches_berthd(cli, bd, tmp_path):
    """A client inside (berth's own CLI, with the host's libraries bind-mounted read-only)
    reaches berthd through /var/run/docker.sock, and finds the CLI's registry credentials."""
    cfg = tmp_path / "cfg"
    cfg.mkdir()
    auth = {"auths": {"127.0.0.1:5000": {"auth": "dXNlcjpwdw=="}}}
    (cfg / "config.json").write_text(json.dumps(auth))
    berth = os.path.realpath(cli.binary)
    script = ("/berth -H unix:///var/run/docker.sock ps --format '{{.Names}}'; "
              "echo $DOCKER_CONFIG; cat /run/secrets/docker/config.json")
    p = cli.run("run", "--rm", "--name", "fm-sock", "--use-api-socket", "-v", "/usr:/usr:ro",
                "-v", "/lib:/lib:ro", "-v", "/lib64:/lib64:ro", "-v", f"{berth}:/berth:ro",
                "busybox", "sh", "-c", script, env={"DOCKER_CONFIG": str(cfg)})
    assert p.returncode == 0, p.stderr
    names, dconf, *rest = p.stdout.split("\n", 2)
    assert names == "fm-sock" and dconf == "/run/secrets/docker"
    assert json.loads(rest[0]) == auth
    # no credentials: the socket alone, no DOCKER_CONFIG; a DOCKER_CONFIG of the user's wins
    out = ok(cli.run("run", "--rm", "--use-api-socket", "-e", "DOCKER_CONFIG=/mine", "busybox",
                     "sh", "-c", "test -S /var/run/docker.sock && echo sock $DOCKER_CONFIG; "
                     "ls /run/secrets 2>&1 | head -1", env={"DOCKER_CONFIG": str(cfg)}))
    assert out.startswith("sock /mine\n") and "No such file" in out
    # only over a unix socket
    p = cli.run("run", "--rm", "--use-api-socket", "busybox", "true",
                host="tcp://127.0.0.1:9")
    assert p.returncode != 0


def test_isolation_default_and_kernel_memory_accepted(cli, bd):
    """--isolation default runs; a kernel memory limit is accepted and dropped (API >= 1.42),
    so no kmem limit reaches the container's cgroup."""
    out = ok(cli.run("run", "--rm", "--isolation", "default", "busybox", "echo", "ran"))
    assert out == "ran\n"
    p = cli.run("run", "--rm", "--isolation", "hyperv", "busybox", "true")
    assert p.returncode == 125
    assert "invalid isolation (hyperv): linux only supports 'default'" in p.stderr
    ok(cli.run("run", "-d", "--name", "kmem", "--kernel-memory", "64m", "busybox", "sleep",
               "30"))
    try:
        s = container_json(bd, "kmem")
        assert s["HostConfig"]["Isolation"] == "" and s["HostConfig"].get("KernelMemory", 0) == 0
        kmem = host_cgroup_dir(s["State"]["Pid"], "memory") / "memory.kmem.limit_in_bytes"
        if kmem.exists():
            assert int(kmem.read_text()) > 64 << 20
    finally:
        cli.run("rm", "-f", "kmem")


@DOCKER28
def test_isolation_and_kernel_memory_request_same_as_docker(cli):
    need_docker28()
    flags = ["--isolation", "default", "--kernel-memory", "64m"]
    p = cli.run("create", "--name", "iso-berth", *flags, "busybox", "true")
    d = cli.docker("create", "--name", "iso-docker", *flags, "busybox", "true")
    try:
        assert (p.returncode, d.returncode) == (0, 0), (p.stderr, d.stderr)
        b, k = container_json(cli.berthd, "iso-berth"), container_json(cli.berthd, "iso-docker")
        for key in ("Config", "HostConfig"):
            b[key].pop("Hostname", None), k[key].pop("Hostname", None)
            assert b[key] == k[key], key
    finally:
        cli.run("rm", "-f", "iso-berth", "iso-docker")
