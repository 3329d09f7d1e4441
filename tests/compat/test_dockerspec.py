"""lib/dockerspec against the real docker: for a table of `docker run` flag sets, the OCI spec
dockerd generated (config.json, saved by a runtime wrapper) and the one berth generates from
the same create request (tests/unit/dockerspec-gen) must agree on what a container sees:
process (args, env, cwd, user, capabilities, rlimits, noNewPrivileges, oomScoreAdj),
linux.resources, maskedPaths, readonlyPaths, seccomp (syscall -> action/errno/args), devices,
sysctl, namespaces, mounts (destination, type, options).

Two ways, both in CI:
- test_fixture: the requests and docker's specs recorded in tests/fixtures/dockerspec/ (no
  dockerd needed);
- test_live: the same table run again against a private dockerd started here (docker.io).

Record the fixtures again with:  /usr/bin/python3 tests/compat/test_dockerspec.py --record

dockerd here is Debian's 20.10; its default seccomp profile predates docker 28's, which is what
berth follows.  The syscalls docker 28 allows and 20.10 did not are listed in SECCOMP_NEWER and
compared as such: everything else must be identical.
"""

import json
import os
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
FIXTURES = REPO / "tests" / "fixtures" / "dockerspec"
GEN = REPO / "build" / "tests" / "unit" / "dockerspec-gen"
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(REPO / "tests" / "system"))

import dockerd  # noqa: E402

# name -> (docker run flags, command)
CASES = {
    "defaults": ([], ["true"]),
    "privileged": (["--privileged"], ["true"]),
    "cap-add-drop": (["--cap-add", "net_admin", "--cap-add", "SYS_PTRACE", "--cap-drop",
                      "CAP_CHOWN", "--cap-drop", "mknod"], ["true"]),
    "cap-drop-all": (["--cap-drop", "ALL", "--cap-add", "NET_BIND_SERVICE"], ["true"]),
    "cap-add-all": (["--cap-add", "ALL", "--cap-drop", "SYS_ADMIN"], ["true"]),
    "read-only": (["--read-only"], ["true"]),
    "memory": (["-m", "64m", "--memory-swap", "128m", "--memory-reservation", "32m",
                "--memory-swappiness", "10"], ["true"]),
    "memory-default-swap": (["-m", "32m", "--oom-kill-disable"], ["true"]),
    "cpus": (["--cpus", "0.5", "--cpu-shares", "512", "--cpuset-cpus", "0",
              "--cpuset-mems", "0"], ["true"]),
    "cpu-quota": (["--cpu-period", "50000", "--cpu-quota", "25000"], ["true"]),
    "pids": (["--pids-limit", "100"], ["true"]),
    "pids-unlimited": (["--pids-limit", "-1"], ["true"]),
    "ulimit": (["--ulimit", "nofile=1024:2048", "--ulimit", "nproc=512"], ["true"]),
    "tmpfs": (["--tmpfs", "/run", "--tmpfs", "/data:rw,exec,size=1m,mode=1700"], ["true"]),
    "shm-size": (["--shm-size", "16m"], ["true"]),
    "sysctl": (["--sysctl", "net.ipv4.ip_forward=1", "--sysctl", "kernel.msgmax=65536"],
               ["true"]),
    "user-name": (["-u", "nobody"], ["true"]),
    "user-uid-gid": (["-u", "1234:5678", "--group-add", "100"], ["true"]),
    "no-new-privileges": (["--security-opt", "no-new-privileges"], ["true"]),
    "seccomp-unconfined": (["--security-opt", "seccomp=unconfined"], ["true"]),
    "device": (["--device", "/dev/kmsg:/dev/kmsg2:r"], ["true"]),
    "device-rule": (["--device-cgroup-rule", "c 42:* rmw"], ["true"]),
    "ipc-host": (["--ipc", "host"], ["true"]),
    "ipc-none": (["--ipc", "none"], ["true"]),
    "pid-host": (["--pid", "host"], ["true"]),
    "network-host": (["--network", "host"], ["true"]),
    "init": (["--init"], ["true"]),
    "workdir-env": (["-w", "/tmp/../var", "-e", "FOO=bar", "-e", "PATH=/bin", "-t"], ["true"]),
    "entrypoint": (["--entrypoint", "/bin/echo"], ["hello", "world"]),
    "stop-signal": (["--stop-signal", "SIGUSR1", "--hostname", "box", "--domainname",
                     "example.org"], ["true"]),
    "oom-score-adj": (["--oom-score-adj", "500"], ["true"]),
}

# What docker 28 (which berth follows) does differently from the 20.10 dockerd recorded here.
# Seccomp: syscalls 28's default profile allows and 20.10's did not (newer kernels' syscalls,
# pkey_*, name_to_handle_at, process_vm_* from kernel 4.8 on), the io_uring calls 28 no longer
# allows, and socket(), which 28 allows for every family but AF_VSOCK.
SECCOMP_NEWER = {
    "cachestat", "fchmodat2", "futex_requeue", "futex_wait", "futex_waitv", "futex_wake",
    "getxattrat", "landlock_add_rule", "landlock_create_ruleset", "landlock_restrict_self",
    "listmount", "listxattrat", "lsm_get_self_attr", "lsm_list_modules", "lsm_set_self_attr",
    "map_shadow_stack", "memfd_secret", "mseal", "process_mrelease", "removexattrat",
    "riscv_hwprobe", "set_mempolicy_home_node", "setxattrat", "statmount", "uretprobe",
    "epoll_pwait2", "close_range", "faccessat2", "quotactl_fd", "mount_setattr",
    "bpf", "perf_event_open", "get_mempolicy", "mbind", "set_mempolicy",
    "name_to_handle_at", "pkey_alloc", "pkey_free", "pkey_mprotect", "process_vm_readv",
    "process_vm_writev", "clock_settime64",
}
SECCOMP_NO_LONGER = {"io_uring_enter", "io_uring_register", "io_uring_setup"}
SECCOMP_CHANGED = {"socket"}
# masked since docker 25/28 (GHSA-6fw5-f8r9-fgfm, GHSA-jq35-85cj-fj4p)
MASKED_NEWER = {"/proc/interrupts", "/sys/devices/virtual/powercap"}
# capabilities 20.10's capability library did not know (kernel 5.8, 5.9)
CAPS_NEWER = {"CAP_PERFMON", "CAP_BPF", "CAP_CHECKPOINT_RESTORE"}


def unavailable_caps():
    """Capabilities outside this process's effective set: docker 28 (and berth) leave them
    out of "all capabilities", 20.10 did not (and then runc failed to set them)."""
    names = ["CHOWN", "DAC_OVERRIDE", "DAC_READ_SEARCH", "FOWNER", "FSETID", "KILL", "SETGID",
             "SETUID", "SETPCAP", "LINUX_IMMUTABLE", "NET_BIND_SERVICE", "NET_BROADCAST",
             "NET_ADMIN", "NET_RAW", "IPC_LOCK", "IPC_OWNER", "SYS_MODULE", "SYS_RAWIO",
             "SYS_CHROOT", "SYS_PTRACE", "SYS_PACCT", "SYS_ADMIN", "SYS_BOOT", "SYS_NICE",
             "SYS_RESOURCE", "SYS_TIME", "SYS_TTY_CONFIG", "MKNOD", "LEASE", "AUDIT_WRITE",
             "AUDIT_CONTROL", "SETFCAP", "MAC_OVERRIDE", "MAC_ADMIN", "SYSLOG", "WAKE_ALARM",
             "BLOCK_SUSPEND", "AUDIT_READ", "PERFMON", "BPF", "CHECKPOINT_RESTORE"]
    eff = 0
    for line in open("/proc/self/status"):
        if line.startswith("CapEff:"):
            eff = int(line.split()[1], 16)
    return {"CAP_" + n for i, n in enumerate(names) if not eff & (1 << i)}


def image_config():
    return {"Env": ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"],
            "Cmd": ["sh"]}


def gen(api, body, docker_spec, rootfs):
    """berth's result for the request docker got, with docker's id and paths."""
    cg = docker_spec["linux"]["cgroupsPath"]
    cid = cg.rsplit("/", 1)[-1]
    parent = cg.rsplit("/", 1)[0]
    paths = {m["destination"]: m["source"] for m in docker_spec["mounts"]}
    doc = {"body": body, "api": api, "image_config": image_config(), "id": cid,
           "rootfs": str(rootfs), "cgroup_parent": parent,
           "hostname_path": paths.get("/etc/hostname"), "hosts_path": paths.get("/etc/hosts"),
           "resolv_conf_path": paths.get("/etc/resolv.conf"),
           "init_path": paths.get("/sbin/docker-init"), "hostname": docker_spec.get("hostname")}
    r = subprocess.run([str(GEN)], input=json.dumps(doc), capture_output=True, text=True,
                       check=True)
    out = json.loads(r.stdout)
    assert "error" not in out, out
    return out["spec"]


def norm_seccomp(s):
    """syscall -> sorted list of (action, errno, args) rules; docker 20.10's errno default."""
    if s is None:
        return None
    rules = {}
    for g in s.get("syscalls", []):
        args = tuple(sorted((a["index"], a["value"], a.get("valueTwo", 0), a["op"])
                            for a in g.get("args") or []))
        errno = g.get("errnoRet")
        if g["action"] == "SCMP_ACT_ERRNO" and errno is None:
            errno = 1
        for n in g["names"]:
            rules.setdefault(n, set()).add((g["action"], errno, args))
    default_errno = s.get("defaultErrnoRet", 1 if s["defaultAction"] == "SCMP_ACT_ERRNO" else None)
    return {"default": (s["defaultAction"], default_errno),
            "architectures": sorted(s.get("architectures") or []), "rules": rules}


def normalise(spec, privileged):
    p = spec["process"]
    out = {
        "args": p["args"], "cwd": p["cwd"], "terminal": p.get("terminal", False),
        # runc sets HOME from passwd when absent; berth writes it into the spec
        "env": sorted(e for e in p["env"] if not e.startswith("HOME=")),
        "user": {"uid": p["user"]["uid"], "gid": p["user"]["gid"],
                 "additionalGids": sorted(p["user"].get("additionalGids") or [])},
        # 20.10 gave a non-root user only the bounding set; 28 gives all three, which execve
        # empties for a non-root user without file capabilities: the same process either way
        "caps": {k: sorted(set(v) - CAPS_NEWER - unavailable_caps())
                 for k, v in (p.get("capabilities") or {}).items()
                 if v and (p["user"]["uid"] == 0 or k == "bounding")},
        "rlimits": sorted((r["type"], r["soft"], r["hard"]) for r in p.get("rlimits") or []),
        "noNewPrivileges": bool(p.get("noNewPrivileges")),
        "oomScoreAdj": p.get("oomScoreAdj"),
        "root_readonly": bool(spec["root"].get("readonly")),
        "hostname": spec.get("hostname", ""),
    }
    lx = spec["linux"]
    res = json.loads(json.dumps(lx.get("resources") or {}))
    # zero shares and weight (20.10 writes them) set nothing
    for k, zero in (("cpu", "shares"), ("blockIO", "weight")):
        if k in res and res[k].get(zero) == 0:
            del res[k][zero]
        if res.get(k) == {}:
            del res[k]
    out["resources"] = res
    out["masked"] = sorted(x for x in lx.get("maskedPaths") or []
                           if "thermal_throttle" not in x and x not in MASKED_NEWER)
    out["readonly"] = sorted(lx.get("readonlyPaths") or [])
    out["sysctl"] = lx.get("sysctl") or {}
    # dockerd's "host" network, when dockerd itself runs in a netns, is that netns by path
    out["namespaces"] = sorted(n["type"] for n in lx.get("namespaces") or []
                               if not n.get("path", "").endswith("/netns/default"))
    if not privileged:
        out["devices"] = sorted((d["path"], d["type"], d["major"], d["minor"],
                                 d.get("fileMode"), d.get("uid"), d.get("gid"))
                                for d in lx.get("devices") or [])
    mounts = []
    for m in spec["mounts"]:
        opts = list(m.get("options") or [])
        mounts.append((m["destination"], m.get("type"), tuple(opts)))
    out["mounts"] = sorted(mounts)
    out["seccomp"] = norm_seccomp(lx.get("seccomp"))
    return out


def compare(name, docker_spec, ours):
    privileged = "--privileged" in CASES[name][0]
    d, o = normalise(docker_spec, privileged), normalise(ours, privileged)
    ds, os_ = d.pop("seccomp"), o.pop("seccomp")
    # /dev/shm: docker 20.10 binds a tmpfs it mounts itself for "shareable"; both are tmpfs
    assert o == d, f"{name}: berth and docker differ"
    if ds is None or os_ is None:
        assert ds == os_, f"{name}: seccomp on one side only"
        return
    assert os_["default"] == ds["default"]
    assert os_["architectures"] == ds["architectures"]
    extra = set(os_["rules"]) - set(ds["rules"])
    missing = set(ds["rules"]) - set(os_["rules"]) - SECCOMP_NO_LONGER
    assert not missing, f"{name}: docker allows, berth does not: {sorted(missing)}"
    assert extra <= SECCOMP_NEWER, f"{name}: berth allows, docker does not: {sorted(extra - SECCOMP_NEWER)}"
    for sc in set(ds["rules"]) & set(os_["rules"]):
        if sc in SECCOMP_NEWER or sc in SECCOMP_CHANGED:
            continue
        assert os_["rules"][sc] == ds["rules"][sc], f"{name}: seccomp rules of {sc} differ"


def busybox_rootfs():
    from berth import CACHE, SCRIPTS
    subprocess.run([str(SCRIPTS / "mkrootfs.sh"), str(CACHE / "rootfs")], check=True)
    return CACHE / "rootfs"


def fixture_names():
    return sorted(p.stem for p in FIXTURES.glob("*.json"))


@pytest.mark.parametrize("name", fixture_names())
def test_fixture(name):
    """docker's recorded spec for this flag set == berth's for the recorded request"""
    fx = json.loads((FIXTURES / f"{name}.json").read_text())
    assert fx["args"] == CASES[name][0], "the table changed: record the fixtures again"
    ours = gen(fx["api"], fx["body"], fx["docker"], busybox_rootfs())
    compare(name, fx["docker"], ours)


def test_fixtures_cover_the_table():
    assert fixture_names() == sorted(CASES)


def start_dockerd(tmp):
    d = dockerd.PrivateDockerd(tmp)
    d.start()
    rootfs = busybox_rootfs()
    tar = Path(tmp) / "bb.tar"
    with tarfile.open(tar, "w") as t:
        for e in sorted(os.listdir(rootfs)):
            t.add(rootfs / e, arcname=e)
    d.docker("import", "--change", 'CMD ["sh"]', "--change",
             "ENV PATH=" + image_config()["Env"][0][5:], str(tar), "bb")
    return d


@pytest.fixture(scope="module")
def live_dockerd(tmp_path_factory):
    if not dockerd.available():
        pytest.skip("dockerd, containerd, runc or the docker CLI is not installed")
    d = start_dockerd(tmp_path_factory.mktemp("dockerd"))
    try:
        yield d
    finally:
        d.stop()


@pytest.mark.allowed_skip(reason="needs dockerd (docker.io), which CI installs; the recorded "
                          "fixtures cover the same table without it")
def test_live(live_dockerd):
    """the whole table against a dockerd running now"""
    failures = []
    for name, (args, cmd) in CASES.items():
        if name != "network-host":
            args = ["--network", "none", *args]
        api, body, spec = live_dockerd.run_and_capture(args, cmd)
        try:
            compare(name, spec, gen(api, body, spec, busybox_rootfs()))
        except AssertionError as e:
            failures.append(f"{name}: {e}")
    assert not failures, "\n".join(failures)


def record():
    import tempfile
    FIXTURES.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="berth-dockerspec-") as tmp:
        d = start_dockerd(tmp)
        try:
            for name, (args, cmd) in CASES.items():
                run_args = args if name == "network-host" else ["--network", "none", *args]
                api, body, spec = d.run_and_capture(run_args, cmd)
                (FIXTURES / f"{name}.json").write_text(json.dumps(
                    {"args": args, "api": api, "body": body, "docker": spec}, indent=1,
                    sort_keys=True) + "\n")
                print("recorded", name)
        finally:
            d.stop()


if __name__ == "__main__":
    if sys.argv[1:] == ["--record"]:
        record()
    else:
        print(__doc__)
