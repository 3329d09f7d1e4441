"""lib/dockerspec's specs, run: what docker's defaults do to a container, checked from inside a
busybox container that berth-runtime runs from the spec lib/dockerspec generated (through
tests/unit/dockerspec-gen, from a `docker run`-shaped create request)."""

import json
import subprocess
from pathlib import Path

import pytest

from berth import REPO

GEN = REPO / "build" / "tests" / "unit" / "dockerspec-gen"
ID = "d0c4e75bec0000000000000000000000000000000000000000000000000000aa"

# docker's default capability set: CHOWN DAC_OVERRIDE FOWNER FSETID KILL SETGID SETUID SETPCAP
# NET_BIND_SERVICE NET_RAW SYS_CHROOT MKNOD AUDIT_WRITE SETFCAP
DOCKER_DEFAULT_CAPS = "00000000a80425fb"


def docker_spec(bundle, host_config=None, cmd=("sh",), **config):
    if not GEN.exists():
        pytest.fail(f"{GEN} not built")
    body = {"Image": "bb", "Cmd": list(cmd), "HostConfig": {"NetworkMode": "none",
                                                            **(host_config or {})}, **config}
    doc = {"body": body, "id": ID, "rootfs": str(bundle.rootfs),
           "image_config": {"Env": ["PATH=/usr/sbin:/usr/bin:/sbin:/bin"]}}
    r = subprocess.run([str(GEN)], input=json.dumps(doc), capture_output=True, text=True,
                       check=True)
    out = json.loads(r.stdout)
    assert "error" not in out, out
    spec = out["spec"]
    # the bundle's own root path and the runtime's default cgroup (the harness leak-checks it)
    spec["root"]["path"] = "rootfs"
    spec["linux"].pop("cgroupsPath", None)
    bundle.config = spec
    bundle.write()
    return spec


SCRIPT = r"""
grep -E '^(CapInh|CapPrm|CapEff|CapBnd|CapAmb|Seccomp|NoNewPrivs):' /proc/self/status
for f in /proc/kcore /proc/keys /proc/timer_list /proc/interrupts /proc/sched_debug; do
	# one byte tells empty from not: an unmasked /proc/kcore is as large as the address space
	[ -e $f ] && echo "masked$f=$(head -c 1 $f | wc -c)"
done
(echo 1 > /proc/sys/kernel/ns_last_pid) 2>/dev/null && echo procsys=rw || echo procsys=ro
mount -t tmpfs t /mnt 2>/dev/null && echo mount=ok || echo mount=denied
unshare -r true 2>/tmp/unshare.err && echo unshare=ok || echo unshare=$(cat /tmp/unshare.err)
mknod /tmp/sda b 8 0 && (head -c1 /tmp/sda >/dev/null 2>/tmp/sda.err && echo sda=open || echo sda=$(cat /tmp/sda.err))
head -c1 /dev/zero >/dev/null && echo zero=open
ls /sys/firmware 2>/dev/null | wc -l | sed 's/^/firmware=/'
"""


def run(runtime, bundle):
    code, out, err = runtime.run_bundle(bundle)
    assert code == 0, err
    return dict(line.split("=", 1) if "=" in line else line.split(":\t", 1)
                for line in out.strip().splitlines())


def test_docker_defaults_confine(runtime, bundle):
    """docker's defaults: its capability set, seccomp, masked and read-only /proc, no mount,
    devices outside the allow list refused"""
    docker_spec(bundle, cmd=["sh", "-c", SCRIPT])
    got = run(runtime, bundle)
    for k in ("CapPrm", "CapEff", "CapBnd"):
        assert got[k] == DOCKER_DEFAULT_CAPS, (k, got)
    assert got["CapInh"] == "0000000000000000" and got["CapAmb"] == "0000000000000000"
    assert got["Seccomp"] == "2"
    # every masked /proc file the kernel has reads empty (not every kernel has /proc/kcore)
    masked = [k for k in got if k.startswith("masked/proc/")]
    assert masked and all(got[k] == "0" for k in masked), got
    assert got["procsys"] == "ro"
    assert got["mount"] == "denied"
    # unshare(CLONE_NEWUSER) needs no capability: only docker's seccomp profile refuses it
    assert "Operation not permitted" in got["unshare"], got
    # CAP_MKNOD makes the node; the device cgroup refuses to open it
    assert "Operation not permitted" in got["sda"], got
    assert got["zero"] == "open"
    assert got["firmware"] == "0"


def test_privileged_is_unconfined(runtime, bundle):
    docker_spec(bundle, {"Privileged": True}, cmd=["sh", "-c", SCRIPT])
    got = run(runtime, bundle)
    assert got["Seccomp"] == "0"
    assert int(got["CapEff"], 16) > int(DOCKER_DEFAULT_CAPS, 16)
    assert got["procsys"] == "rw"
    assert any(got[k] != "0" for k in got if k.startswith("masked/proc/")), got


def test_cap_drop_all_and_add(runtime, bundle):
    docker_spec(bundle, {"CapDrop": ["ALL"], "CapAdd": ["kill"]}, cmd=["sh", "-c", SCRIPT])
    got = run(runtime, bundle)
    assert got["CapEff"] == f"{1 << 5:016x}" == got["CapBnd"]


def test_seccomp_unconfined_and_user(runtime, bundle):
    """seccomp=unconfined lifts the filter; -u nobody runs as nobody with no capabilities"""
    docker_spec(bundle, {"SecurityOpt": ["seccomp=unconfined", "no-new-privileges"]},
                cmd=["sh", "-c", "id -u; id -g; grep -E '^(Seccomp|NoNewPrivs|CapEff):' "
                                 "/proc/self/status; echo $HOME"],
                User="nobody")
    code, out, err = runtime.run_bundle(bundle)
    assert code == 0, err
    lines = out.split()
    assert lines[:2] == ["65534", "65534"]
    assert "0" in lines[lines.index("Seccomp:") + 1]
    assert lines[lines.index("NoNewPrivs:") + 1] == "1"
    assert lines[lines.index("CapEff:") + 1] == "0000000000000000"


def test_read_only_tmpfs_limits(runtime, bundle):
    docker_spec(bundle, {"ReadonlyRootfs": True, "Tmpfs": {"/data": "size=1m"},
                         "Ulimits": [{"Name": "nofile", "Soft": 123, "Hard": 456}],
                         "ShmSize": 2097152},
                cmd=["sh", "-c", "touch /x 2>/dev/null && echo root=rw || echo root=ro; "
                                 "touch /data/y && echo data=rw; ulimit -n; ulimit -Hn; "
                                 "df -k /dev/shm /data | tail -2"])
    code, out, err = runtime.run_bundle(bundle)
    assert code == 0, err
    lines = out.splitlines()
    assert lines[:4] == ["root=ro", "data=rw", "123", "456"]
    sizes = [line.split()[1] for line in lines[4:]]
    assert sizes == ["2048", "1024"], lines
