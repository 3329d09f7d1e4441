"""berth's container commands against a private berthd: run (--rm, -d, -i, -t, exit codes, the
pull of a missing image), create/start, stop, restart, kill, rm, wait, rename, logs, ps, inspect,
port, container prune.  Effects are checked through berthd's API (the container's state, its
record's Config and HostConfig), the process by PID, the files it wrote; where the format matters
berth's output is compared with the docker CLI 28's on the same berthd, and the create requests
the two CLIs make from the same flags are compared as berthd recorded them.
"""

import json
import os
import re
import time
from pathlib import Path

import pexpect
import pytest

from berth import wait_until
from cli import DOCKER28, need_docker28
from daemon import needs_berthd

pytestmark = [needs_berthd]


def api(bd, method, path, body=None):
    status, _, data = bd.http(method, path, body=body, timeout=60)
    return status, (json.loads(data) if data and data[:1] in (b"[", b"{") else data)


def state(bd, name):
    status, j = api(bd, "GET", f"/containers/{name}/json")
    assert status == 200, j
    return j


def exists(bd, name):
    return api(bd, "GET", f"/containers/{name}/json")[0] == 200


def alive(pid):
    try:
        return Path(f"/proc/{pid}/stat").read_text().split(") ")[1][0] != "Z"
    except (FileNotFoundError, IndexError):
        return False


def rm(bd, *names):
    for n in names:
        api(bd, "DELETE", f"/containers/{n}?force=1")


# ---- run -----------------------------------------------------------------------------------------


def test_run_rm_hello_leaves_nothing(bd, cli):
    before = set(os.listdir(bd.data_root / "containers"))
    p = cli.run("run", "--rm", "--name", "hello", "busybox", "echo", "hello")
    assert (p.returncode, p.stdout, p.stderr) == (0, "hello\n", "")
    assert set(os.listdir(bd.data_root / "containers")) == before
    assert not exists(bd, "hello")


def test_run_exit_codes_and_streams(bd, cli):
    p = cli.run("run", "--rm", "busybox", "sh", "-c", "echo out; echo err >&2; exit 7")
    assert (p.returncode, p.stdout, p.stderr) == (7, "out\n", "err\n")
    p = cli.run("run", "--rm", "busybox", "/no/such/program")
    assert p.returncode == 127
    assert p.stderr.startswith("berth: Error response from daemon: ")
    assert "no such file or directory" in p.stderr
    assert p.stderr.endswith("\n\nRun 'berth run --help' for more information\n")
    p = cli.run("run", "--rm", "busybox", "/etc")
    assert p.returncode == 126, p.stderr
    # --rm: nothing left after a failed start either
    assert api(bd, "GET", "/containers/json?all=1")[1] == []


def test_run_stdin_pipe(bd, cli):
    p = cli.run("run", "--rm", "-i", "busybox", "sh", "-c", "tr a-z A-Z; echo done >&2",
                input="hello stdin\n")
    assert (p.returncode, p.stdout, p.stderr) == (0, "HELLO STDIN\n", "done\n")


def test_run_tty_and_detach_keys(bd, cli):
    child = pexpect.spawn(str(cli.binary), ["run", "-it", "--name", "tty1", "busybox", "sh"],
                          env=cli.env(), timeout=20, dimensions=(30, 99))
    try:
        child.expect(r"[#$] ")
        child.sendline("stty size; tty")
        child.expect(r"30 99\r+\n")
        child.expect(r"/dev/pts/\d+")
        child.setwinsize(40, 120)
        time.sleep(0.3)
        child.sendline("stty size")
        child.expect(r"40 120\r+\n")
        # ctrl-p ctrl-q: berth exits 0, the container runs on
        child.send("\x10\x11")
        child.expect(pexpect.EOF)
        child.close()
        assert child.exitstatus == 0
        assert state(bd, "tty1")["State"]["Running"] is True
    finally:
        child.close(force=True)
        rm(bd, "tty1")


def test_run_tty_exit_code(bd, cli):
    child = pexpect.spawn(str(cli.binary), ["run", "--rm", "-it", "busybox", "sh"],
                          env=cli.env(), timeout=20)
    child.expect(r"[#$] ")
    child.sendline("exit 5")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 5


def test_run_tty_needs_a_terminal(cli):
    p = cli.run("run", "--rm", "-it", "busybox", "true", input="")
    assert (p.returncode, p.stderr) == (1, "the input device is not a TTY\n")


def test_run_d_logs_stop_rm(bd, cli):
    p = cli.run("run", "-d", "--name", "looper", "busybox", "sh", "-c",
                "i=0; while :; do echo line $i; i=$((i+1)); sleep 0.1; done")
    assert p.returncode == 0 and re.fullmatch(r"[0-9a-f]{64}\n", p.stdout), p
    cid = p.stdout.strip()
    st = state(bd, "looper")
    pid = st["State"]["Pid"]
    assert st["Id"] == cid and st["State"]["Running"] and alive(pid)
    f = cli.popen("logs", "-f", "looper")
    try:
        lines = [f.stdout.readline() for _ in range(3)]
        assert lines == ["line 0\n", "line 1\n", "line 2\n"]
    finally:
        f.kill()
        f.wait()
    p = cli.run("logs", "--tail", "1", "-t", "looper")
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT[\d:.]+Z line \d+\n", p.stdout), p.stdout
    # by ID prefix, one unknown among them: the known one is stopped, exit 1
    p = cli.run("stop", "-t", "1", cid[:10], "nosuch")
    assert p.returncode == 1
    assert p.stdout == f"{cid[:10]}\n"
    assert p.stderr == "Error response from daemon: No such container: nosuch\n"
    assert not alive(pid)
    st = state(bd, "looper")["State"]
    assert st["Status"] == "exited" and st["ExitCode"] == 137
    p = cli.run("rm", "looper")
    assert (p.returncode, p.stdout) == (0, "looper\n")
    assert not exists(bd, "looper")


def test_create_start_attach_wait(bd, cli):
    p = cli.run("create", "--name", "later", "busybox", "sh", "-c", "echo started; exit 3")
    assert p.returncode == 0
    assert state(bd, "later")["State"]["Status"] == "created"
    p = cli.run("start", "-a", "later")
    assert (p.returncode, p.stdout) == (3, "started\n")
    p = cli.run("wait", "later")
    assert (p.returncode, p.stdout) == (0, "3\n")
    p = cli.run("start", "later", "nosuch")
    assert p.returncode == 1 and p.stdout == "later\n"
    assert p.stderr == ("Error response from daemon: No such container: nosuch\n"
                        "Error: failed to start containers: nosuch\n")
    rm(bd, "later")


def test_kill_signal_restart_rename(bd, cli):
    cli.run("run", "-d", "--name", "trapper", "busybox", "sh", "-c",
            "trap 'echo got USR1; exit 9' USR1; echo ready; while :; do sleep 0.05; done")
    try:
        kill_restart_rename(bd, cli)
    finally:
        rm(bd, "trapper", "renamed")


def kill_restart_rename(bd, cli):
    pid = state(bd, "trapper")["State"]["Pid"]
    # the trap is set once "ready" is in the log (a PID 1 ignores a signal it has no handler for)
    assert wait_until(lambda: "ready" in cli.run("logs", "trapper").stdout, timeout=10)
    p = cli.run("kill", "-s", "USR1", "trapper")
    assert (p.returncode, p.stdout) == (0, "trapper\n")
    assert wait_until(lambda: not alive(pid), timeout=10)
    assert cli.run("wait", "trapper").stdout == "9\n"
    assert "got USR1" in cli.run("logs", "trapper").stdout
    p = cli.run("kill", "trapper")
    assert p.returncode == 1 and "is not running" in p.stderr
    p = cli.run("restart", "-t", "1", "trapper")
    assert p.returncode == 0
    st = state(bd, "trapper")["State"]
    assert st["Running"] and st["Pid"] != pid
    assert cli.run("rename", "trapper", "renamed").returncode == 0
    assert state(bd, "renamed")["Name"] == "/renamed" and not exists(bd, "trapper")
    p = cli.run("rename", "renamed", " ")
    assert (p.returncode, p.stderr) == (1, "Error: Neither old nor new names may be empty\n")
    p = cli.run("rm", "renamed")
    assert p.returncode == 1 and "cannot remove container" in p.stderr.lower()
    assert exists(bd, "renamed")
    p = cli.run("rm", "-f", "renamed", "nosuch")
    assert (p.returncode, p.stdout) == (0, "renamed\n")
    assert p.stderr == "Error response from daemon: No such container: nosuch\n"
    assert not exists(bd, "renamed")


def test_unknown_containers_exit_1(cli):
    for cmd in (["stop"], ["kill"], ["rm"], ["restart"], ["wait"], ["logs"], ["port"],
                ["container", "inspect"], ["rename"]):
        args = [*cmd, "nosuch"] + (["x"] if cmd == ["rename"] else [])
        p = cli.run(*args)
        assert p.returncode == 1, (cmd, p)
        assert "No such container: nosuch" in p.stderr, (cmd, p.stderr)


def test_ps_filters_and_quiet(bd, cli):
    cli.run("create", "--name", "ps-created", "-l", "k=v", "busybox", "true")
    cli.run("run", "-d", "--name", "ps-running", "busybox", "sleep", "60")
    try:
        names = lambda *a: cli.run("ps", *a, "--format", "{{.Names}}").stdout.split()
        assert names() == ["ps-running"]
        assert sorted(names("-a")) == ["ps-created", "ps-running"]
        assert names("-a", "--filter", "label=k=v") == ["ps-created"]
        assert names("-a", "--filter", "status=created") == ["ps-created"]
        assert names("-l") == ["ps-running"]
        assert names("-n", "2") == ["ps-running", "ps-created"]
        ids = cli.run("ps", "-aq").stdout.split()
        full = {state(bd, n)["Id"][:12] for n in ("ps-created", "ps-running")}
        assert set(ids) == full
        long = cli.run("ps", "-a", "--no-trunc", "-q").stdout.split()
        assert {i[:12] for i in long} == full and all(len(i) == 64 for i in long)
        p = cli.run("ps", "--filter", "bogus")
        assert p.returncode == 125 and "bad format of filter" in p.stderr
        p = cli.run("ps", "--format", "{{.Nope}}")
        assert p.returncode == 1 and "can't evaluate field Nope" in p.stderr
    finally:
        rm(bd, "ps-created", "ps-running")


@DOCKER28
def test_ps_and_inspect_like_docker(bd, cli):
    need_docker28()
    cli.run("run", "-d", "--name", "cmp1", "-p", "127.0.0.1:8080:80", "--expose", "90",
            "-l", "a=b", "busybox", "sleep", "60")
    cli.run("create", "--name", "cmp2", "busybox", "sh", "-c", "echo a very long command line")
    try:
        for args in (["ps", "-a"], ["ps", "-a", "--no-trunc"], ["ps", "-a", "-s"],
                     ["ps", "-a", "--format", "{{json .}}"],
                     ["ps", "-a", "--format", "table {{.ID}}\t{{.Names}}\t{{.Ports}}\t{{.Label \"a\"}}"],
                     ["ps", "-a", "--format", "{{.Names}}: {{.Command}} {{.Mounts}} {{.Networks}}"],
                     ["inspect", "-f", "{{.Name}} {{.State.Status}} {{.Config.Cmd}} {{json .HostConfig.PortBindings}}", "cmp1", "cmp2"],
                     ["container", "inspect", "cmp1"],
                     ["inspect", "--type", "container", "-f", "{{.Config.Labels}}", "cmp1"],
                     ["port", "cmp1"], ["port", "cmp1", "80"], ["port", "cmp1", "81/udp"],
                     ["ps", "-q", "--filter", "name=cmp2"],
                     # fields container.InspectResponse lacks fail (exit 1) as docker's
                     ["inspect", "-f", "{{.Nope}}", "cmp1"],
                     ["inspect", "-f", "{{.State.Nope}}", "cmp1"],
                     ["container", "inspect", "-f", "{{.Name}} {{.Nope}}", "cmp1", "cmp2"],
                     ["inspect", "-f", "{{.Id}} {{.ID}}", "cmp1"],
                     # and those it has read as docker does, omitted ones as Go's zero values
                     ["inspect", "-f", "{{.ID}} {{.State.Health}} {{.SizeRw}} "
                      "{{.ContainerJSONBase.Name}} {{.State.Status}}", "cmp1"],
                     ["inspect", "-f", "{{.Node}}", "cmp1"],  # gone from docker 28's type
                     ["inspect", "-f", "{{.Config.Nope}}", "cmp1"],
                     ["inspect", "-f", "{{.Config.Volumes}} {{.Config.Healthcheck}} "
                      "{{.Config.Shell}} {{.Config.Env}} {{.Config.Labels.a}}", "cmp1"],
                     ["inspect", "-f", "{{.Id}} {{.Nope}}", "cmp1"]):
            b, d = cli.run(*args), cli.docker(*args)
            # times move on between the two runs
            strip = lambda s: re.sub(r" {2,}", "  ", re.sub(
                r"(\d+|Less than a) seconds?( ago)?|About a minute( ago)?", "T", s))
            assert (b.returncode, strip(b.stdout), b.stderr) == \
                (d.returncode, strip(d.stdout), d.stderr.replace("docker", "berth")), args
    finally:
        rm(bd, "cmp1", "cmp2")


# ---- the create request: berth and docker make the same from the same flags --------------------

FLAGS = [
    "-e", "A=1", "-e", "FROM_ENV", "-w", "/tmp", "-u", "1:2", "--hostname", "hn",
    "-l", "x=y", "-l", "bare", "--entrypoint", "/bin/sh", "--restart", "on-failure:3",
    "--stop-signal", "SIGUSR1", "--stop-timeout", "4", "-m", "64m", "--memory-swap", "128m",
    "--cpus", "0.5", "--cpu-shares", "512", "--pids-limit", "50", "--cpuset-cpus", "0",
    "--ulimit", "nofile=100:200", "--ulimit", "nproc=50", "--read-only", "--tmpfs", "/run:size=1m",
    "--shm-size", "32m", "--init", "--cap-add", "NET_ADMIN", "--cap-drop", "MKNOD",
    "--security-opt", "no-new-privileges", "--device", "/dev/null:/dev/mynull:r",
    "-p", "127.0.0.1:8000-8001:80-81/udp", "-p", "9000:90", "-P", "--expose", "7000-7001",
    "-v", "/srv:/data:ro", "-v", "/anon", "--mount", "type=tmpfs,target=/t,tmpfs-size=1m",
    "--mount", "type=bind,src=/tmp,dst=/b,readonly,bind-propagation=rslave",
    "--add-host", "h1:10.0.0.1", "--dns", "10.0.0.2", "--dns-search", "example.com",
    "--dns-option", "ndots:2",
]


@DOCKER28
def test_create_request_same_as_docker(bd, cli):
    need_docker28()
    env = {"FROM_ENV": "from-the-cli"}
    p = cli.run("create", "--name", "by-berth", *FLAGS, "busybox", "-c", "echo hi", env=env)
    assert p.returncode == 0, p.stderr
    d = cli.docker("create", "--name", "by-docker", *FLAGS, "busybox", "-c", "echo hi", env=env)
    assert d.returncode == 0, d.stderr
    try:
        b, k = state(bd, "by-berth"), state(bd, "by-docker")
        # the order of Env as recorded was seen to differ once in a full run (not reproduced in
        # 3 runs alone): the values are compared, the order separately below
        assert sorted(b["Config"].pop("Env")) == sorted(k["Config"].pop("Env"))
        for key in ("Config", "HostConfig"):
            assert b[key] == k[key], key
        assert state(bd, "by-berth")["Config"]["Env"][-2:] == ["A=1", "FROM_ENV=from-the-cli"]
        assert b["HostConfig"]["Memory"] == 64 << 20 and b["HostConfig"]["NanoCpus"] == 5 * 10**8
        assert b["HostConfig"]["PortBindings"]["81/udp"] == [{"HostIp": "127.0.0.1",
                                                              "HostPort": "8001"}]
    finally:
        rm(bd, "by-berth", "by-docker")


@DOCKER28
def test_network_fields_same_as_docker(bd, cli):
    need_docker28()
    flags = ["--network", "none", "--volumes-from", "src1"]
    cli.run("create", "--name", "src1", "busybox", "true")
    try:
        p = cli.run("create", "--name", "n-berth", *flags, "busybox", "true")
        d = cli.docker("create", "--name", "n-docker", *flags, "busybox", "true")
        assert (p.returncode, d.returncode) == (0, 0), (p.stderr, d.stderr)
        b, k = state(bd, "n-berth"), state(bd, "n-docker")
        assert b["HostConfig"] == k["HostConfig"]
        assert b["HostConfig"]["NetworkMode"] == "none"
        assert b["HostConfig"]["VolumesFrom"] == ["src1"]
    finally:
        rm(bd, "n-berth", "n-docker", "src1")


def test_run_options_take_effect(bd, cli, tmp_path):
    (tmp_path / "env").write_text("# comment\nFROM_FILE=yes\n\nOVERRIDE=file\n")
    p = cli.run("run", "--rm", "--env-file", str(tmp_path / "env"), "-e", "OVERRIDE=flag",
                "-w", "/tmp", "-u", "1:2", "--hostname", "myhost", "-m", "32m",
                "--pids-limit", "33", "--ulimit", "nofile=77:88", "busybox", "sh", "-c",
                "echo $FROM_FILE $OVERRIDE; pwd; id -u; id -g; hostname; ulimit -n; "
                "cat /sys/fs/cgroup/memory/memory.limit_in_bytes 2>/dev/null || "
                "cat /sys/fs/cgroup/memory.max")
    assert p.returncode == 0, p.stderr
    assert p.stdout.split("\n")[:6] == ["yes flag", "/tmp", "1", "2", "myhost", "77"]
    p = cli.run("run", "--rm", "--read-only", "busybox", "touch", "/x")
    assert p.returncode == 1 and "Read-only file system" in p.stderr


# ---- bad input ----------------------------------------------------------------------------------


@pytest.mark.parametrize("args,message", [
    (["-m", "lots"], 'invalid argument "lots" for "-m, --memory" flag: invalid size: \'lots\''),
    (["--cpus", "x"], 'invalid argument "x" for "--cpus" flag: failed to parse x as a rational '
                      'number'),
    (["--ulimit", "nofile=x"], 'invalid argument "nofile=x" for "--ulimit" flag: '
                               'strconv.ParseInt: parsing "x": invalid syntax'),
    (["--mount", "type=bind,target=/a,bogus=1"],
     'invalid argument "type=bind,target=/a,bogus=1" for "--mount" flag: unexpected key '
     "'bogus' in 'bogus=1'"),
    (["--mount", "src=/x"], 'invalid argument "src=/x" for "--mount" flag: target is required'),
    (["--add-host", "foo"], 'invalid argument "foo" for "--add-host" flag: bad format for '
                            'add-host: "foo"'),
    (["--dns", "foo"], 'invalid argument "foo" for "--dns" flag: IP address is not correctly '
                       'formatted: foo'),
    (["--bogus"], "unknown flag: --bogus"),
])
def test_bad_flags_usage_125(cli, args, message):
    p = cli.run("run", *args, "busybox", "true")
    assert p.returncode == 125
    assert p.stderr == (f"{message}\n\nUsage:  berth run [OPTIONS] IMAGE [COMMAND] [ARG...]\n\n"
                        "Run 'berth run --help' for more information\n")


@pytest.mark.parametrize("args,message", [
    (["--restart", "always", "--rm"], "conflicting options: cannot specify both --restart and --rm"),
    (["-p", "80:80:80:80"], "invalid IP address: 80:80"),
    (["-p", "70000:80"], "invalid hostPort: 70000"),
    (["-p", "80/foo"], "invalid proto: foo"),
    (["--restart", "on-failure:x"],
     "invalid restart policy format: maximum retry count must be an integer"),
    (["--security-opt", "foo"], 'Invalid --security-opt: "foo"'),
    (["--env-file", "/nonexistent"], "open /nonexistent: no such file or directory"),
])
def test_bad_values_125(bd, cli, args, message):
    before = api(bd, "GET", "/containers/json?all=1")[1]
    p = cli.run("run", *args, "busybox", "true")
    assert (p.returncode, p.stderr) == (
        125, f"berth: {message}\n\nRun 'berth run --help' for more information\n")
    assert api(bd, "GET", "/containers/json?all=1")[1] == before


@DOCKER28
@pytest.mark.parametrize("args", [
    ["rename", "nosuch", "x"],  # docker adds "Error: failed to rename container named nosuch"
    ["rename", "msgbox", "msgbox"],
    ["logs", "--since", "garbage", "msgbox"],  # wrapped: invalid value for "since": ...
    ["logs", "--until", "garbage", "msgbox"],
    ["logs", "--since", "garbage", "nosuch"],  # the container is looked up first
    ["stop", "--time", "abc", "msgbox"],  # docker's deprecated name of --timeout
    # the policy's name and count are the daemon's to judge: docker sends them
    ["create", "--restart", "bogus", "busybox"],
    ["create", "--restart", "always:3", "busybox"],
    ["run", "--restart", "bogus", "busybox"],
    ["create", "--restart", "on-failure:x", "busybox"],
])
def test_errors_like_docker(bd, cli, args):
    need_docker28()
    cli.run("create", "--name", "msgbox", "busybox", "true")
    try:
        before = api(bd, "GET", "/containers/json?all=1")[1]
        b, d = cli.run(*args), cli.docker(*args)
        assert (b.returncode, b.stdout, b.stderr) == \
            (d.returncode, d.stdout, d.stderr.replace("docker", "berth")), args
        assert b.returncode in (1, 125)
        assert api(bd, "GET", "/containers/json?all=1")[1] == before
    finally:
        rm(bd, "msgbox")


def test_stop_time_is_timeout(bd, cli):
    # sleep as PID 1 ignores SIGTERM: only the timeout's SIGKILL stops it, after 1 s not 10
    cli.run("run", "-d", "--name", "slowstop", "busybox", "sleep", "600")
    try:
        t0 = time.monotonic()
        p = cli.run("stop", "--time", "1", "slowstop")
        took = time.monotonic() - t0
        assert (p.returncode, p.stdout) == (
            0, "Flag --time has been deprecated, use --timeout instead\nslowstop\n")
        assert took < 8, took
        st = state(bd, "slowstop")["State"]
        assert (st["Status"], st["ExitCode"]) == ("exited", 137)
        assert "--time " not in cli.run("stop", "--help").stdout
    finally:
        rm(bd, "slowstop")


def test_start_started_and_stop_stopped_succeed(bd, cli):
    # berthd answers 304 (as dockerd); docker's client takes any 2xx or 3xx as success
    cli.run("run", "-d", "--name", "up304", "busybox", "sleep", "600")
    cli.run("create", "--name", "down304", "busybox", "true")
    try:
        pid = state(bd, "up304")["State"]["Pid"]
        p = cli.run("start", "up304")
        assert (p.returncode, p.stdout, p.stderr) == (0, "up304\n", "")
        assert state(bd, "up304")["State"]["Pid"] == pid  # the same process, not restarted
        p = cli.run("stop", "down304")
        assert (p.returncode, p.stdout, p.stderr) == (0, "down304\n", "")
        assert state(bd, "down304")["State"]["Status"] == "created"
    finally:
        rm(bd, "up304", "down304")


def test_attach_refused_does_not_hang(bd, cli):
    # berthd refuses the attach (bad detach keys): the container never starts, so the wait for
    # its removal would never end; docker exits 1 and leaves the created container
    before = {c["Id"] for c in api(bd, "GET", "/containers/json?all=1")[1]}
    p = cli.run("run", "--rm", "--detach-keys", "bogus", "busybox", "true", timeout=30)
    assert (p.returncode, p.stdout) == (1, "")
    assert p.stderr == "Error response from daemon: Invalid detach keys (bogus) provided\n"
    left = [c for c in api(bd, "GET", "/containers/json?all=1")[1] if c["Id"] not in before]
    assert [c["State"] for c in left] == ["created"]
    rm(bd, left[0]["Id"])


def test_start_attach_detach_keys(bd, cli):
    cli.run("create", "--name", "dkeys", "busybox", "sh", "-c", "echo out; exit 5")
    try:
        p = cli.run("start", "-a", "--detach-keys", "ctrl-a,x", "dkeys", timeout=30)
        assert (p.returncode, p.stdout, p.stderr) == (5, "out\n", "")
        p = cli.run("start", "-a", "--detach-keys", "bogus", "dkeys", timeout=30)
        assert p.returncode == 1 and "Invalid detach keys" in p.stderr
        assert "--detach-keys" in cli.run("start", "--help").stdout
    finally:
        rm(bd, "dkeys")


def test_missing_image_pull_refused(cli):
    p = cli.run("run", "--rm", "no-such-image")
    assert p.returncode == 125
    assert p.stderr.startswith("Unable to find image 'no-such-image:latest' locally\n"
                               "berth: Error response from daemon: ")


def test_container_prune(bd, cli):
    cli.run("create", "--name", "dead1", "busybox", "true")
    cli.run("run", "-d", "--name", "alive1", "busybox", "sleep", "60")
    try:
        cid = state(bd, "dead1")["Id"]
        p = cli.run("container", "prune", input="n\n")
        assert p.returncode == 0 and exists(bd, "dead1")
        p = cli.run("container", "prune", "-f")
        assert p.returncode == 0
        assert p.stdout == f"Deleted Containers:\n{cid}\n\nTotal reclaimed space: 0B\n"
        assert not exists(bd, "dead1") and exists(bd, "alive1")
    finally:
        rm(bd, "alive1", "dead1")


def test_run_passes_signals(bd, cli):
    """Without -t, a signal to berth goes to the container (docker's --sig-proxy default)."""
    p = cli.popen("run", "--rm", "--name", "sigs", "busybox", "sh", "-c",
                  "trap 'echo got INT; exit 3' INT; echo ready; while :; do sleep 0.05; done")
    try:
        assert p.stdout.readline() == "ready\n"
        p.send_signal(2)
        out, _ = p.communicate(timeout=20)
        assert (p.returncode, out) == (3, "got INT\n")
        assert wait_until(lambda: not exists(bd, "sigs"), timeout=10)
    finally:
        p.kill()
        p.wait()
        rm(bd, "sigs")


def test_run_sig_proxy_false(bd, cli):
    """--sig-proxy=false: a SIGTERM ends berth, not the container."""
    p = cli.popen("run", "--sig-proxy=false", "--name", "noproxy", "busybox", "sh", "-c",
                  "trap 'echo got TERM; exit 3' TERM; echo ready; while :; do sleep 0.05; done")
    try:
        assert p.stdout.readline() == "ready\n"
        p.send_signal(15)
        p.wait(timeout=20)
        assert p.returncode == -15
        time.sleep(0.3)
        st = state(bd, "noproxy")["State"]
        assert st["Running"] and "got TERM" not in cli.run("logs", "noproxy").stdout
    finally:
        p.kill()
        p.wait()
        rm(bd, "noproxy")
