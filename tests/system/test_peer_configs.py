"""The configs that real callers generate, run under berth-runtime, each with its effect checked.

tests/fixtures/peer-configs/ holds config.json files as `runc spec`, `crun spec`, podman, containerd
(ctr) and dockerd (docker.io, through containerd's runc shim) wrote them here; capture.sh there
makes them again.  Each is run as it is, except for what only made sense on the capturing host:
the rootfs path, the command (a script that prints what the test checks), bind mount sources
that were files of the capturing engine (replaced by files of ours), hooks that pointed at the
capturing daemon, and the cgroup path (one of ours, so the leak check sees it).  Everything else --
capabilities (with runc's and crun's ambient sets), seccomp, masked and read-only paths, rlimits,
sysctls, devices, mounts, the zeros in resources -- is the peer's, and berth-runtime must run it
with the effect the config asks for."""

import json
from pathlib import Path

import pytest

from berth import REPO, new_id

FIXTURES = REPO / "tests" / "fixtures" / "peer-configs"
PEERS = ["runc-spec", "crun-spec", "podman", "ctr", "docker"]

CAPS = ["CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_DAC_READ_SEARCH", "CAP_FOWNER", "CAP_FSETID",
        "CAP_KILL", "CAP_SETGID", "CAP_SETUID", "CAP_SETPCAP", "CAP_LINUX_IMMUTABLE",
        "CAP_NET_BIND_SERVICE", "CAP_NET_BROADCAST", "CAP_NET_ADMIN", "CAP_NET_RAW",
        "CAP_IPC_LOCK", "CAP_IPC_OWNER", "CAP_SYS_MODULE", "CAP_SYS_RAWIO", "CAP_SYS_CHROOT",
        "CAP_SYS_PTRACE", "CAP_SYS_PACCT", "CAP_SYS_ADMIN", "CAP_SYS_BOOT", "CAP_SYS_NICE",
        "CAP_SYS_RESOURCE", "CAP_SYS_TIME", "CAP_SYS_TTY_CONFIG", "CAP_MKNOD", "CAP_LEASE",
        "CAP_AUDIT_WRITE", "CAP_AUDIT_CONTROL", "CAP_SETFCAP", "CAP_MAC_OVERRIDE",
        "CAP_MAC_ADMIN", "CAP_SYSLOG", "CAP_WAKE_ALARM", "CAP_BLOCK_SUSPEND", "CAP_AUDIT_READ",
        "CAP_PERFMON", "CAP_BPF", "CAP_CHECKPOINT_RESTORE"]

# What the process prints, one "key=value" a line (busybox sh).
SCRIPT = r"""
echo uid=$(id -u) gid=$(id -g)
grep -E '^(CapEff|CapBnd|CapAmb|CapPrm|Seccomp|NoNewPrivs):' /proc/self/status | tr -d '\t' | tr ':' '='
echo hostname=$(hostname)
echo nofile=$(ulimit -n)
for k in $SYSCTLS; do echo "sysctl.$k=$(cat /proc/sys/$(echo $k | tr . /))"; done
for f in $BINDS; do echo "bind.$f=$(cat $f)"; done
if touch /.berth-rw 2>/dev/null; then echo rootfs=rw; rm -f /.berth-rw; else echo rootfs=ro; fi
if [ -e /proc/kcore ]; then echo kcore=$(stat -c %t:%T /proc/kcore); fi
echo mounts=$(cut -d' ' -f2 /proc/self/mounts | tr '\n' ' ')
"""


def cap_mask(names):
    mask = 0
    for n in names or []:
        mask |= 1 << CAPS.index(n)
    return mask


def adapt(config, bundle, cid, markers):
    """The peer's config, with only what belonged to the capturing host replaced."""
    c = json.loads(json.dumps(config))
    c["root"] = {"path": "rootfs", "readonly": c.get("root", {}).get("readonly", False)}
    p = c["process"]
    p["terminal"] = False
    p.pop("consoleSize", None)
    env = [e for e in p.get("env", []) if not e.startswith(("SYSCTLS=", "BINDS="))]
    sysctls = sorted((c.get("linux", {}).get("sysctl") or {}).keys())
    binds = []
    for m in c.get("mounts", []):
        if m.get("type") == "bind" or "bind" in m.get("options", []) or \
                "rbind" in m.get("options", []):
            if not Path(m["source"]).exists():
                # a file of the capturing engine (/etc/hosts, resolv.conf, hostname): ours
                src = bundle.path / f"bind-{len(binds)}"
                src.write_text(f"marker-{len(binds)}\n")
                markers[m["destination"]] = f"marker-{len(binds)}"
                m["source"] = str(src)
                binds.append(m["destination"])
    env += ["SYSCTLS=" + " ".join(sysctls), "BINDS=" + " ".join(binds)]
    if not any(e.startswith("PATH=") for e in env):
        env.append("PATH=/usr/sbin:/usr/bin:/sbin:/bin")
    p["env"] = env
    p["args"] = ["sh", "-c", SCRIPT]
    p["cwd"] = "/"
    # hooks of the capturing daemon (docker's libnetwork-setkey is /proc/<dockerd>/exe)
    c.pop("hooks", None)
    linux = c.setdefault("linux", {})
    linux["cgroupsPath"] = f"/berth-peer/{cid}"
    for ns in linux.get("namespaces", []):
        ns.pop("path", None)
    return c


def parse(out):
    got = {}
    for line in out.splitlines():
        for field in line.split(" ") if line.startswith("uid=") else [line]:
            k, _, v = field.partition("=")
            got[k] = v
    return got


@pytest.mark.parametrize("peer", PEERS)
def test_peer_config_runs_with_its_effect(runtime, make_bundle, peer):
    config = json.loads((FIXTURES / f"{peer}.json").read_text())
    b = make_bundle(args=["true"])
    cid = new_id(peer.split("-")[0])
    markers = {}
    b.config = adapt(config, b, cid, markers)
    b.write()
    code, out, err = runtime.run_bundle(b, cid=cid)
    assert code == 0, f"{peer}: exit {code}\nstderr: {err}\nlog:\n{runtime.log_tail()}"
    got = parse(out)
    p = config["process"]
    user = p.get("user", {})
    assert got["uid"] == str(user.get("uid", 0)) and got["gid"] == str(user.get("gid", 0)), got
    caps = p.get("capabilities", {})
    assert int(got["CapEff"], 16) == cap_mask(caps.get("effective")), (peer, got["CapEff"])
    assert int(got["CapPrm"], 16) == cap_mask(caps.get("permitted")), (peer, got["CapPrm"])
    assert int(got["CapBnd"], 16) == cap_mask(caps.get("bounding")), (peer, got["CapBnd"])
    # ambient: what the kernel can raise (permitted and inheritable); runc spec's and crun
    # spec's ambient sets are not inheritable, so they end up empty, as under runc and crun
    want_amb = cap_mask(caps.get("ambient")) & cap_mask(caps.get("inheritable")) & \
        cap_mask(caps.get("permitted"))
    assert int(got["CapAmb"], 16) == want_amb, (peer, got["CapAmb"])
    assert got["Seccomp"] == ("2" if config.get("linux", {}).get("seccomp") else "0"), got
    assert got["NoNewPrivs"] == ("1" if p.get("noNewPrivileges") else "0"), got
    if config.get("hostname"):
        assert got["hostname"] == config["hostname"], got
    for rl in p.get("rlimits", []):
        if rl["type"] == "RLIMIT_NOFILE":
            assert got["nofile"] == str(rl["soft"]), got
    for k, v in (config.get("linux", {}).get("sysctl") or {}).items():
        assert got[f"sysctl.{k}"].split() == v.split(), (k, got)  # the kernel prints tabs
    for dest, marker in markers.items():
        assert got[f"bind.{dest}"] == marker, (dest, got)
    assert got["rootfs"] == ("ro" if config.get("root", {}).get("readonly") else "rw"), got
    if "/proc/kcore" in config.get("linux", {}).get("maskedPaths", []) and "kcore" in got:
        assert got["kcore"] == "1:3", got  # bound over by /dev/null
    for m in config.get("mounts", []):
        assert m["destination"] in got["mounts"].split(), (m["destination"], got["mounts"])


def test_ambient_outside_inheritable_dropped_with_a_debug_line(runtime, make_bundle):
    """runc spec's ambient set is not inheritable: the process runs without it, the drop is
    noted at debug level in --log (nothing on stderr), the other sets stay exact."""
    config = json.loads((FIXTURES / "runc-spec.json").read_text())
    b = make_bundle(args=["true"])
    cid = new_id("amb")
    b.config = adapt(config, b, cid, {})
    b.write()
    p = runtime.run("run", "--bundle", b.path, cid, global_args=("--debug",))
    runtime.track(cid)
    assert p.stderr == "", p.stderr
    got = parse(p.stdout)
    assert got["CapAmb"] == "0000000000000000", got
    assert int(got["CapEff"], 16) == cap_mask(config["process"]["capabilities"]["effective"])
    notes = [e["msg"] for e in runtime.log_entries() if e["level"] == "debug"]
    for cap in config["process"]["capabilities"]["ambient"]:
        assert any(cap in n and "dropped" in n for n in notes), (cap, notes)


def test_kill_signal_zero_is_a_liveness_probe(runtime, make_bundle):
    b = make_bundle(args=["sleep", "100"])
    cid = runtime.create(b)
    runtime.start(cid)
    pid = runtime.container_pid(cid)
    runtime.kill(cid, "0")
    assert runtime.status(cid) == "running"  # nothing was sent
    runtime.kill(cid, "KILL")
    runtime.wait_status(cid, "stopped")
    p = runtime.fails("kill", cid, "0")  # a stopped container answers "not running"
    assert "not running" in p.stderr, p.stderr
    assert pid > 0
    runtime.delete(cid)


def test_config_json_fifo_refused_without_blocking(runtime, make_bundle):
    import os
    b = make_bundle(args=["true"])
    b.config_path.unlink()
    os.mkfifo(b.config_path)
    p = runtime.create(b, check=False, timeout=10)
    assert p.returncode == 1 and "not a regular file" in p.stderr, p.stderr
    assert runtime.leftovers() == []


def test_config_json_too_large_refused(runtime, make_bundle):
    b = make_bundle(args=["true"])
    with open(b.config_path, "w") as f:
        f.truncate(17 << 20)  # 17 MiB of nothing: the size is refused before any read
    p = runtime.create(b, check=False)
    assert p.returncode == 1 and "larger than" in p.stderr, p.stderr
    assert runtime.leftovers() == []
