"""berth's command line: docker's messages and exit codes for bad input (with nothing sent to
berthd), help pages, where it connects (-H, BERTH_HOST, DOCKER_HOST, contexts), the API version
it speaks, and bash completion."""

import hashlib
import json
import os
import re
import subprocess
import textwrap

import pytest

from cli import DOCKER28, need_docker28

# (arguments, exit code, stderr); docker 28's wording with berth for docker
BAD = [
    (["foo"], 1, "berth: unknown command: berth foo\n\nRun 'berth --help' for more information\n"),
    (["--foo"], 125, "unknown flag: --foo\n\nUsage:  berth [OPTIONS] COMMAND [ARG...]\n\n"
                     "Run 'berth --help' for more information\n"),
    (["version", "--foo"], 125, "unknown flag: --foo\n\nUsage:  berth version [OPTIONS]\n\n"
                                "Run 'berth version --help' for more information\n"),
    (["version", "-x"], 125, "unknown shorthand flag: 'x' in -x\n\nUsage:  berth version "
                             "[OPTIONS]\n\nRun 'berth version --help' for more information\n"),
    (["version", "--format"], 125, "flag needs an argument: --format\n\nUsage:  berth version "
                                   "[OPTIONS]\n\nRun 'berth version --help' for more "
                                   "information\n"),
    (["version", "extra"], 1, "berth: 'berth version' accepts no arguments\n\nUsage:  berth "
                              "version [OPTIONS]\n\nRun 'berth version --help' for more "
                              "information\n"),
    (["system", "foo"], 1, "berth: unknown command: berth system foo\n\nUsage:  berth system\n\n"
                           "Run 'berth system --help' for more information\n"),
    (["system", "--foo"], 125, "unknown flag: --foo\n\nUsage:  berth system\n\nRun 'berth "
                               "system --help' for more information\n"),
    # cobra's UseLine: docker's volume group has Use "volume COMMAND", the others a bare name
    (["volume", "foo"], 1, "berth: unknown command: berth volume foo\n\nUsage:  berth volume "
                           "COMMAND\n\nRun 'berth volume --help' for more information\n"),
    # docker 28's root flags are not persistent: after a command's name only --help is
    (["ps", "-D"], 125, "unknown shorthand flag: 'D' in -D\n\nUsage:  berth ps [OPTIONS]\n\n"
                        "Run 'berth ps --help' for more information\n"),
    (["ps", "-H", "unix:///a"], 125, "unknown shorthand flag: 'H' in -H\n\nUsage:  berth ps "
                                     "[OPTIONS]\n\nRun 'berth ps --help' for more information\n"),
    (["volume", "-D", "ls"], 125, "unknown shorthand flag: 'D' in -D\n\nUsage:  berth volume "
                                  "COMMAND\n\nRun 'berth volume --help' for more information\n"),
    (["completion"], 1, "berth: 'berth completion' requires 1 argument\n\nUsage:  berth "
                        "completion SHELL\n\nRun 'berth completion --help' for more "
                        "information\n"),
    (["events", "--filter", "nofilter"], 125,
     "invalid argument \"nofilter\" for \"-f, --filter\" flag: bad format of filter (expected "
     "name=value)\n\nUsage:  berth events [OPTIONS]\n\nRun 'berth events --help' for more "
     "information\n"),
    (["events", "--since", "xx"], 1, "failed to parse value as time or duration: \"xx\"\n"),
    (["version", "--format", "{{.Client.Version}"], 64,
     "template parsing error: template: version:1: bad character U+007D '}'\n"),
    (["version", "--format", "{{"], 64, "template parsing error: template: version:1: unclosed "
                                        "action\n"),
    (["info", "--format", "{{.Foo"], 64, "template parsing error: template: :1: unclosed "
                                         "action\n"),
    (["events", "--format", "{{.Nope}}"], 64,
     "Error parsing format: template: :1:2: executing \"\" at <.Nope>: can't evaluate field "
     "Nope in type *events.Message\n"),
    (["-l", "loud", "version"], 1, "Unable to parse logging level: loud\n"),
    (["-H", "unix:///a", "-c", "x", "version"], 1,
     "conflicting options: cannot specify both --host and --context\n"),
    (["help", "foo"], 1, "unknown help topic: foo\n"),
]


@pytest.mark.parametrize("args,code,stderr", BAD, ids=[" ".join(b[0]) for b in BAD])
def test_bad_command_lines_reach_nothing(berth_cli, args, code, stderr):
    proxy = berth_cli.counting_proxy()
    p = berth_cli.run(*args, host=f"unix://{proxy.path}")
    assert (p.returncode, p.stderr) == (code, stderr)
    assert p.stdout == ""
    assert proxy.connections == 0, proxy.requests
    # the proxy counts: a good command goes through it
    ok = berth_cli.run("info", "--format", "{{.ID}}", host=f"unix://{proxy.path}")
    assert ok.returncode == 0 and proxy.connections == 1


AS_DOCKER = [b for b in BAD[:14] if b[0][0] != "completion"]


@DOCKER28
@pytest.mark.parametrize("args,code,stderr", AS_DOCKER, ids=[" ".join(b[0]) for b in AS_DOCKER])
def test_bad_command_lines_as_docker(berth_cli, args, code, stderr):
    """The same messages and codes as docker 28's for the same mistakes."""
    need_docker28()
    d = berth_cli.docker(*args)
    b = berth_cli.run(*args)
    assert b.returncode == d.returncode
    assert b.stderr == d.stderr.replace("docker", "berth")


# an empty name: docker's client library refuses it before it connects (diff and cp check first)
EMPTY = [(["exec", "", "true"], "invalid container name or ID: value is empty\n"),
         (["exec", " \t", "true"], "invalid container name or ID: value is empty\n"),
         (["stop", ""], "invalid container name or ID: value is empty\n"),
         (["logs", ""], "invalid container name or ID: value is empty\n"),
         (["kill", ""], "invalid container name or ID: value is empty\n"),
         (["attach", ""], "invalid container name or ID: value is empty\n"),
         (["export", ""], "invalid container name or ID: value is empty\n"),
         (["start", "-a", ""], "invalid container name or ID: value is empty\n"),
         (["network", "connect", "", "x"], "invalid network name or ID: value is empty\n"),
         (["volume", "rm", ""], "invalid volume name or ID: value is empty\n"),
         (["diff", ""], "Container name cannot be empty\n"),
         (["cp", "/etc/hostname", ":/x"], "must specify at least one container source\n")]


@pytest.mark.parametrize("args,stderr", EMPTY, ids=[" ".join(e[0]) for e in EMPTY])
def test_empty_names_reach_nothing(berth_cli, args, stderr):
    proxy = berth_cli.counting_proxy()
    p = berth_cli.run(*args, host=f"unix://{proxy.path}")
    assert (p.returncode, p.stderr, p.stdout) == (1, stderr, "")
    # (commands with version-gated flags learn the API version first, as the docker CLI does)
    assert all(r.startswith("GET /_ping ") for r in proxy.requests), proxy.requests


@DOCKER28
@pytest.mark.parametrize("args,stderr", EMPTY, ids=[" ".join(e[0]) for e in EMPTY])
def test_empty_names_as_docker(berth_cli, args, stderr):
    need_docker28()
    d = berth_cli.docker(*args)
    assert (d.returncode, d.stderr) == (1, stderr)


def test_unreachable_daemon(berth_cli, tmp_path):
    for args in (["info"], ["events"], ["version", "--format", "{{.Server.Version}}"]):
        p = berth_cli.run(*args, host=f"unix://{tmp_path}/none.sock")
        assert p.returncode == 1
        assert p.stderr.endswith(f"Cannot connect to the Docker daemon at unix://{tmp_path}/"
                                 "none.sock. Is the docker daemon (berthd) running?\n")


@pytest.mark.skipif(os.path.exists("/run/berth/berth.sock"), reason="a berthd at the default socket")
def test_bare_unix_scheme_is_the_default_socket(berth_cli):
    # docker's ParseHost: "unix://" alone is the default socket, not a bad address
    for host, args in (("unix://", []), (None, ["-H", "unix://"])):
        p = berth_cli.run(*args, "info", host=host)
        assert (p.returncode, p.stderr) == (1, "Cannot connect to the Docker daemon at unix:///run/"
                                               "berth/berth.sock. Is the docker daemon (berthd) "
                                               "running?\n"), args


def test_where_berth_connects(berth_cli, tmp_path):
    good = berth_cli.host
    bad = f"unix://{tmp_path}/none.sock"

    def server(env=None, host=None, *args):
        p = berth_cli.run(*args, "version", "--format", "{{.Server.Version}}",
                          env=env, host=host)
        return p.returncode

    # BERTH_HOST first, then DOCKER_HOST
    assert server(host=good, env={"DOCKER_HOST": bad}) == 0
    assert server(host=bad, env={"DOCKER_HOST": good}) == 1
    assert server(host="", env={"DOCKER_HOST": good}) == 0
    # -H wins over both
    assert server(None, bad, "-H", good) == 0
    assert server({"DOCKER_HOST": bad}, bad, "--host", good) == 0
    # two -H: docker's message
    p = berth_cli.run("-H", good, "-H", good, "version", "--format", "{{.Server.Version}}")
    assert p.returncode == 1 and "Specify only one -H" in p.stderr
    # not a unix socket
    p = berth_cli.run("-H", "tcp://127.0.0.1:2375", "info")
    assert p.returncode == 1 and "unix sockets only" in p.stderr


def make_context(config, name, host):
    # docker's store: the directory is named by the sha256 hex of the context's name
    meta = config / "contexts" / "meta" / hashlib.sha256(name.encode()).hexdigest()
    meta.mkdir(parents=True, exist_ok=True)
    (meta / "meta.json").write_text(json.dumps({
        "Name": name, "Metadata": {},
        "Endpoints": {"docker": {"Host": host, "SkipTLSVerify": False}}}))


def test_docker_contexts(berth_cli, tmp_path):
    cfg = berth_cli.config
    make_context(cfg, "berth-test", berth_cli.host)
    make_context(cfg, "broken", f"unix://{tmp_path}/none.sock")

    def run(*args, env=None):
        return berth_cli.run(*args, "info", "--format", "{{.ClientInfo.Context}} {{.ID}}",
                             env=dict(BERTH_HOST=None, **(env or {})))

    p = run("--context", "berth-test")
    assert p.returncode == 0 and p.stdout.startswith("berth-test "), p.stderr
    p = run("-c", "broken")
    assert p.returncode == 1 and "Cannot connect" in p.stderr
    p = run(env={"DOCKER_CONTEXT": "berth-test"})
    assert p.returncode == 0 and p.stdout.startswith("berth-test ")
    # the current context of the configuration
    (cfg / "config.json").write_text(json.dumps({"currentContext": "berth-test"}))
    p = run()
    assert p.returncode == 0 and p.stdout.startswith("berth-test ")
    # DOCKER_HOST beats the configured context, as in docker
    p = run(env={"DOCKER_HOST": berth_cli.host})
    assert p.returncode == 0 and p.stdout.startswith("default ")
    # the default context by name is the one at BERTH_HOST/DOCKER_HOST
    p = run("--context", "default", env={"DOCKER_HOST": berth_cli.host})
    assert p.returncode == 0 and p.stdout.startswith("default ")
    p = berth_cli.run("-c", "default", "info", "--format", "{{.ID}}")
    assert p.returncode == 0
    p = run("-c", "nosuch")
    assert p.returncode == 1
    assert p.stderr.startswith("Failed to initialize: unable to resolve docker endpoint: "
                               "context \"nosuch\": context not found")
    # --config points elsewhere: the context is not there
    p = run("--config", str(tmp_path), "-c", "berth-test")
    assert p.returncode == 1 and "context not found" in p.stderr
    os.unlink(cfg / "config.json")


def test_api_version(berth_cli):
    proxy = berth_cli.counting_proxy()
    host = f"unix://{proxy.path}"
    p = berth_cli.run("version", host=host)
    assert re.search(r"^ API version:\s+1\.47$", p.stdout, re.M)
    # berth's newest version, taken by berthd: no /_ping first (test_cli_requests.py has a
    # daemon that refuses it)
    assert proxy.requests == ["GET /v1.47/version HTTP/1.1"]
    # DOCKER_API_VERSION: no negotiation, that version
    del proxy.requests[:]
    p = berth_cli.run("version", env={"DOCKER_API_VERSION": "1.40"}, host=host)
    assert p.returncode == 0
    assert re.search(r"^ API version:\s+1\.40 \(downgraded from 1\.47\)$", p.stdout, re.M)
    assert proxy.requests == ["GET /v1.40/version HTTP/1.1"]
    p = berth_cli.run("info", env={"DOCKER_API_VERSION": "1.99"})
    assert p.returncode == 1
    assert "Error response from daemon: client version 1.99 is too new. Maximum supported API " \
           "version is 1.47" in p.stderr


def test_debug_shows_requests(berth_cli):
    p = berth_cli.run("-D", "info", "--format", "{{.ID}}")
    assert p.returncode == 0
    assert "GET /v1.47/info" in p.stderr
    p = berth_cli.run("--log-level", "debug", "version", "--format", "{{.Server.Os}}")
    assert "GET /v1.47/version" in p.stderr and p.stdout == "linux\n"


# ---- help ------------------------------------------------------------------------------------------


def sections(text):
    """The section headings of a help page (and its usage line)."""
    return [line for line in text.splitlines()
            if line.startswith("Usage:") or (line.endswith(":") and not line.startswith(" "))]


@DOCKER28
def test_help_pages_have_dockers_layout(berth_cli):
    need_docker28()
    for args in (["version", "--help"], ["events", "--help"], ["info", "--help"],
                 ["system", "--help"], ["system", "info", "--help"]):
        b = berth_cli.run(*args)
        d = berth_cli.docker(*args)
        assert b.returncode == d.returncode == 0
        bs, ds = sections(b.stdout), sections(d.stdout.replace("docker", "berth"))
        assert bs == ds, args
        # the blank lines between sections are docker's too
        assert [x == "" for x in b.stdout.splitlines()][:4] == \
            [x == "" for x in d.stdout.splitlines()][:4]
    root = berth_cli.run("--help")
    assert sections(root.stdout)[:4] == ["Usage:  berth [OPTIONS] COMMAND", "Common Commands:",
                                         "Management Commands:", "Commands:"]
    assert "Global Options:" in root.stdout and "-H, --host list" in root.stdout
    assert root.stdout.endswith("Run 'berth COMMAND --help' for more information on a command.\n")


def test_help_forms(berth_cli):
    a = berth_cli.run("version", "--help")
    assert a.stdout == berth_cli.run("help", "version").stdout
    assert a.stdout == berth_cli.run("version", "--format", "x", "--help").stdout
    h = berth_cli.run("version", "-h")
    assert h.stdout == "Flag shorthand -h has been deprecated, use --help\n" + a.stdout
    # the root's -h: pflag's notice on stderr there (docker 28), the help on stdout
    r = berth_cli.run("-h")
    assert (r.returncode, r.stderr) == (0, "Flag shorthand -h has been deprecated, use --help\n")
    assert r.stdout == berth_cli.run("--help").stdout
    # no command: the root help on stderr, exit 0 (docker's)
    p = berth_cli.run()
    assert p.returncode == 0 and p.stdout == "" and p.stderr.startswith("Usage:  berth")
    # a group alone: its help on stderr
    p = berth_cli.run("system")
    assert p.returncode == 0 and p.stderr.startswith("Usage:  berth system COMMAND")
    p = berth_cli.run("--version")
    assert re.match(r"^Berth version \d+\.\d+\.\d+, build [0-9a-f]+\n$", p.stdout)
    # every command has a help page
    for cmd in (["events"], ["info"], ["version"], ["system", "events"], ["system", "info"],
                ["completion"]):
        p = berth_cli.run(*cmd, "--help")
        assert p.returncode == 0 and p.stdout.startswith("Usage:  berth " + " ".join(cmd)), cmd


def test_flag_forms(berth_cli):
    """pflag's forms reach the command the same way."""
    t = "{{.Server.Os}}"
    for args in (["version", "--format", t], ["version", f"--format={t}"], ["version", "-f", t],
                 ["version", f"-f{t}"], ["version", f"-f={t}"], ["-D=false", "version", "-f", t],
                 ["version", "-f", "x", "-f", t], ["system", "info", "-f", "{{.OSType}}"]):
        p = berth_cli.run(*args)
        assert (p.returncode, p.stdout) == (0, "linux\n"), (args, p.stderr)


# ---- completion --------------------------------------------------------------------------------


def complete(berth_cli, *words):
    p = berth_cli.run("__complete", *words)
    assert p.returncode == 0, p.stderr
    return p.stdout.split()


def test_completion_candidates(berth_cli):
    assert {"events", "info", "system", "version"} <= set(complete(berth_cli, ""))
    assert complete(berth_cli, "ver") == ["version"]
    assert complete(berth_cli, "system", "") == ["df", "events", "info", "prune"]
    assert complete(berth_cli, "version", "--f") == ["--format"]
    # the global flags before a command only, as docker 28 takes them
    assert set(complete(berth_cli, "events", "--")) == {"--filter", "--format", "--since",
                                                        "--until"}
    assert {"--host", "--debug", "--context"} <= set(complete(berth_cli, "--"))
    assert complete(berth_cli, "--log-level", "") == ["debug", "info", "warn", "error", "fatal"]
    assert "__complete" not in complete(berth_cli, "")


def test_completion_of_networks_volumes_signals(berth_cli):
    for args in (["network", "create", "cnet1"], ["network", "create", "cnet2"],
                 ["volume", "create", "cvol1"], ["volume", "create", "cvol2"],
                 ["create", "--name", "cbox", "busybox", "true"]):
        p = berth_cli.run(*args)
        assert p.returncode == 0 or args[0] == "create", p.stderr  # no busybox in this berthd
    try:
        nets = {n["Name"] for n in json.loads(berth_cli.berthd.http("GET", "/networks")[2])}
        assert {"cnet1", "cnet2"} <= nets
        for words in (["network", "rm", ""], ["network", "inspect", ""], ["run", "--network", ""],
                      ["create", "--net", ""], ["network", "connect", ""]):
            assert set(complete(berth_cli, *words)) == nets, words
        assert complete(berth_cli, "network", "rm", "cnet1", "cn") == ["cnet1", "cnet2"]
        assert complete(berth_cli, "volume", "rm", "cv") == ["cvol1", "cvol2"]
        assert complete(berth_cli, "volume", "inspect", "cvol2") == ["cvol2"]
        # connect's second argument is a container; nothing after it
        ctrs = {c["Names"][0][1:] for c in
                json.loads(berth_cli.berthd.http("GET", "/containers/json?all=1")[2])}
        assert set(complete(berth_cli, "network", "connect", "cnet1", "")) == ctrs
        assert complete(berth_cli, "network", "connect", "cnet1", "x", "") == []
        assert complete(berth_cli, "kill", "-s", "TE") == ["TERM"]
        assert {"HUP", "KILL", "USR1", "WINCH"} <= set(complete(berth_cli, "stop", "--signal", ""))
    finally:
        berth_cli.run("rm", "-f", "cbox")
        berth_cli.run("network", "rm", "cnet1", "cnet2")
        berth_cli.run("volume", "rm", "cvol1", "cvol2")


def test_bash_completion_script(berth_cli, tmp_path):
    script = berth_cli.run("completion", "bash")
    assert script.returncode == 0
    (tmp_path / "c.bash").write_text(script.stdout)
    binary = str(berth_cli.binary)
    test = textwrap.dedent(f"""
        berth() {{ {binary} "$@"; }}
        source {tmp_path}/c.bash
        complete -p berth
        COMP_WORDS=(berth sys); COMP_CWORD=1; COMP_LINE="berth sys"; COMP_POINT=9
        _berth_complete; echo "1:${{COMPREPLY[*]}}"
        COMP_WORDS=(berth system ""); COMP_CWORD=2; COMP_LINE="berth system "; COMP_POINT=13
        _berth_complete; echo "2:${{COMPREPLY[*]}}"
        COMP_WORDS=(berth version --fo); COMP_CWORD=2; COMP_LINE="berth version --fo"
        COMP_POINT=18
        _berth_complete; echo "3:${{COMPREPLY[*]}}"
    """)
    env = berth_cli.env()
    env["PATH"] = f"{berth_cli.binary.parent}:{env.get('PATH', '')}"
    p = subprocess.run(["bash", "--norc", "-c", test], capture_output=True, text=True, env=env)
    assert "_berth_complete berth" in p.stdout, p.stderr
    assert "1:system" in p.stdout and "2:df events info prune" in p.stdout and \
        "3:--format" in p.stdout, (p.stdout, p.stderr)
    p = berth_cli.run("completion", "zsh")
    assert p.returncode == 1 and "unsupported shell" in p.stderr
