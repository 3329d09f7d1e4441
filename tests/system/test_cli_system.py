"""berth version, info, events and --format against a private berthd, compared with the docker
CLI's output on the same berthd (apart from the client's own facts, widths and times)."""

import json
import os
import re
import signal
import subprocess
import time

import pytest

from berth import wait_until
from cli import DOCKER28, need_docker28

# lines of the client section whose values are the client's own
CLIENT_FACTS = ("Version:", "API version:", "Go version:", "Git commit:", "Built:")


def split_sections(text):
    """"Client:" and "Server..." parts of version/info output."""
    client, _, server = text.partition("\nServer")
    return client, "Server" + server


def labels(section):
    return [line.split(":")[0] for line in section.splitlines()]


def hup(berthd, n=1):
    for _ in range(n):
        berthd.signal(signal.SIGHUP)
        time.sleep(0.2)


# ---- version ------------------------------------------------------------------------------------


@DOCKER28
def test_version_layout_as_docker(berth_cli):
    need_docker28()
    b = berth_cli.run("version")
    d = berth_cli.docker("version")
    assert b.returncode == 0 and d.returncode == 0, (b.stderr, d.stderr)
    bc, bs = split_sections(b.stdout)
    dc, ds = split_sections(d.stdout)
    # the server's part is the same text, aligned the same way
    assert bs == ds
    # the client's part: the same labels, columns and context; the values are berth's
    assert labels(bc) == labels(dc)
    for bl, dl in zip(bc.splitlines(), dc.splitlines()):
        if bl.strip().startswith(CLIENT_FACTS):
            assert bl.index(bl.split(":", 1)[1].strip()) == dl.index(dl.split(":", 1)[1].strip())
        else:
            assert bl == dl
    assert " Version:           0.1.0" in bc or re.search(r" Version:\s+\d", bc)
    assert re.search(r" API version:\s+1\.47$", bc, re.M)
    assert " Context:           default" in bc


VERSION_TEMPLATES = [
    "{{.Server.Version}} {{.Server.APIVersion}} {{.Server.MinAPIVersion}}",
    "{{json .Server}}",
    "{{range .Server.Components}}{{.Name}}={{.Version}} {{json .Details}}{{end}}",
    "{{with .Server}}{{.Os}}/{{.Arch}} {{.KernelVersion}}{{end}}",
    "{{.Server.Platform.Name | upper}} {{len .Server.Components}}",
    "{{index (index .Server.Components 0).Details \"MinAPIVersion\"}}",
    "{{.Server.Foo}}",
    "{{.Server",
    "{{.Client.Platform}} {{.Client.Context}}",
    "{{if eq .Server.Os \"linux\"}}linux{{else}}other{{end}}",
]


@DOCKER28
@pytest.mark.parametrize("template", VERSION_TEMPLATES)
def test_version_format_as_docker(berth_cli, template):
    need_docker28()
    b = berth_cli.run("version", "--format", template)
    d = berth_cli.docker("version", "--format", template)
    assert (b.returncode, b.stdout, b.stderr) == (d.returncode, d.stdout, d.stderr)


@DOCKER28
def test_version_format_json(berth_cli):
    need_docker28()
    b = json.loads(berth_cli.run("version", "--format", "json").stdout)
    d = json.loads(berth_cli.docker("version", "--format", "json").stdout)
    assert b["Server"] == d["Server"]
    assert list(b["Client"]) == [k for k in d["Client"]]
    assert b["Client"]["ApiVersion"] == "1.47" and b["Client"]["Context"] == "default"


def test_version_daemon_unreachable(berth_cli, tmp_path):
    p = berth_cli.run("version", host=f"unix://{tmp_path}/nothing.sock")
    assert p.returncode == 1
    assert p.stdout.startswith("Client:\n Version:")
    assert "Server" not in p.stdout
    assert p.stderr == (f"Cannot connect to the Docker daemon at unix://{tmp_path}/nothing.sock. "
                        "Is the docker daemon (berthd) running?\n")


# ---- info ----------------------------------------------------------------------------------------


@DOCKER28
def test_info_layout_as_docker(berth_cli):
    need_docker28()
    b = berth_cli.run("info")
    d = berth_cli.docker("info")
    assert b.returncode == 0 and d.returncode == 0, (b.stderr, d.stderr)
    bc, bs = split_sections(b.stdout)
    dc, ds = split_sections(d.stdout)
    assert bs == ds
    # client: docker lists its own CLI plugins; the lines berth has are docker's
    assert labels(bc) == [x for x in labels(dc) if x.strip() in ("Client", "Version", "Context",
                                                                "Debug Mode", "")]
    assert " Context:    default" in bc and " Debug Mode: false" in bc


INFO_TEMPLATES = [
    "{{.Containers}} {{.Images}} {{.Driver}} {{.DockerRootDir}}",
    "{{json .Plugins}} {{json .Swarm}} {{json .RegistryConfig}}",
    "{{range .DriverStatus}}{{index . 0}}: {{index . 1}};{{end}}",
    "{{.Name}} {{.NCPU}} {{.MemTotal}} {{.OSType}} {{.Architecture}}",
    "{{.Warnings}} {{.Labels}} {{.ServerErrors}} {{.SecurityOptions}}",
    "{{range $k, $v := .Runtimes}}{{$k}}:{{$v.Path}} {{end}}",
    "{{range $k, $v := .Runtimes}}{{$k}}:{{$v.path}} {{end}}",
    "{{.Foo}}",
    "{{.ClientInfo.Context}} {{.ClientInfo.Debug}}",
    "{{.Swarm.LocalNodeState}}",
    "{{if .LiveRestoreEnabled}}live{{end}}",
]


@DOCKER28
@pytest.mark.parametrize("template", INFO_TEMPLATES)
def test_info_format_as_docker(berth_cli, template):
    need_docker28()
    b = berth_cli.run("info", "--format", template)
    d = berth_cli.docker("info", "--format", template)
    assert (b.returncode, b.stdout, b.stderr) == (d.returncode, d.stdout, d.stderr)


@DOCKER28
def test_info_format_json(berth_cli):
    need_docker28()
    b = json.loads(berth_cli.run("info", "--format", "{{json .}}").stdout)
    d = json.loads(berth_cli.docker("info", "--format", "json").stdout)
    varying = {"SystemTime", "NFd", "NGoroutines", "NEventsListener", "ClientInfo"}
    assert list(b) == list(d)
    assert {k: v for k, v in b.items() if k not in varying} == \
        {k: v for k, v in d.items() if k not in varying}
    assert list(b["ClientInfo"]) == list(d["ClientInfo"])


def test_info_client_only_template_needs_no_daemon(berth_cli, tmp_path):
    """Like docker, a template that reads only .ClientInfo does not connect."""
    p = berth_cli.run("info", "--format", "{{.ClientInfo.Context}}",
                      host=f"unix://{tmp_path}/nothing.sock")
    assert (p.returncode, p.stdout, p.stderr) == (0, "default\n", "")
    p = berth_cli.run("info", "--format", "{{.ID}}", host=f"unix://{tmp_path}/nothing.sock")
    assert p.returncode == 1 and "Cannot connect to the Docker daemon" in p.stderr


def test_system_info_is_info(berth_cli):
    a = berth_cli.run("system", "info", "--format", "{{.ID}} {{.Name}}")
    b = berth_cli.run("info", "--format", "{{.ID}} {{.Name}}")
    assert a.returncode == 0 and a.stdout == b.stdout and len(a.stdout) > 5


# ---- events --------------------------------------------------------------------------------------


def test_events_follow(berth_cli):
    """A follower sees events as they happen and stops when interrupted (docker's exit 130)."""
    fmt = "{{.Type}} {{.Action}} {{.Actor.ID}} {{.Actor.Attributes.name}} {{json .}}"
    bp = berth_cli.popen("events", "--format", fmt)
    try:
        assert wait_until(lambda: json.loads(berth_cli.berthd.http("GET", "/info")[2])[
            "NEventsListener"] >= 1, 10)
        hup(berth_cli.berthd, 2)
        time.sleep(0.5)
    finally:
        bp.send_signal(signal.SIGINT)
        out, err = bp.communicate(timeout=10)
    lines = out.splitlines()
    assert len(lines) == 2, (out, err)
    for line in lines:
        typ, action, actor, name, raw = line.split(" ", 4)
        ev = json.loads(raw)
        assert (typ, action) == ("daemon", "reload")
        assert ev["Actor"]["ID"] == actor and ev["Actor"]["Attributes"]["name"] == name
        # events.Message's order: status/id/from left out when empty
        assert list(ev) == ["Type", "Action", "Actor", "scope", "time", "timeNano"]
    assert bp.returncode in (-signal.SIGINT, 130)


@DOCKER28
def test_events_since_until_as_docker(berth_cli):
    need_docker28()
    t0 = int(time.time()) - 1
    hup(berth_cli.berthd, 2)
    time.sleep(1.1)
    t1 = int(time.time())
    for args in (["--since", str(t0), "--until", str(t1)],
                 ["--since", str(t0), "--until", str(t1), "--format", "{{json .}}"],
                 ["--since", str(t0), "--until", str(t1), "--format", "json"],
                 ["--since", "1m", "--until", "0s", "--filter", "type=daemon",
                  "--format", "{{.Action}} {{.Actor.Attributes}}"],
                 ["--since", "1m", "--until", "0s", "--filter", "type=container"],
                 ["--since", time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(t0)) + "Z",
                  "--until", str(t1), "--format", "{{.TimeNano}} {{.Scope}}"]):
        b = berth_cli.run("events", *args)
        d = berth_cli.docker("events", *args)
        assert (b.returncode, b.stdout, b.stderr) == (d.returncode, d.stdout, d.stderr), args
    b = berth_cli.run("system", "events", "--since", str(t0), "--until", str(t1))
    assert b.stdout.count("daemon reload") == 2
    # docker's layout: time, type, action, actor, (sorted attributes)
    assert re.match(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z daemon reload [0-9a-f-]+ "
                    r"\(debug=false, .*name=", b.stdout), b.stdout


@pytest.mark.parametrize("args,code,message", [
    (["--since", "xx"], 1, "failed to parse value as time or duration: \"xx\"\n"),
    (["--since", "5", "--until", "2"], 1,
     "Error response from daemon: `since` time (5) cannot be after `until` time (2)\n"),
    (["--format", "{{.Foo}}"], 64,
     "Error parsing format: template: :1:2: executing \"\" at <.Foo>: can't evaluate field Foo "
     "in type *events.Message\n"),
    (["--format", "{{"], 64, "Error parsing format: template: :1: unclosed action\n"),
])
def test_events_bad_input(berth_cli, args, code, message):
    p = berth_cli.run("events", *args)
    assert (p.returncode, p.stdout, p.stderr) == (code, "", message)


# ---- system prune ------------------------------------------------------------------------------


def api_json(bd, path):
    status, _, data = bd.http("GET", path)
    assert status == 200, data
    return json.loads(data)


def test_system_prune(bd, cli):
    def ok(*args):
        p = cli.run(*args)
        assert p.returncode == 0, (args, p.stderr)
        return p.stdout.strip()

    ok("run", "-d", "--name", "keeper", "busybox", "sleep", "600")
    ok("run", "--name", "gone1", "busybox", "true")
    ok("create", "--name", "gone2", "-v", "/data", "busybox", "true")
    anon = api_json(bd, "/containers/gone2/json")["Mounts"][0]["Name"]
    ok("volume", "create", "named1")
    builtin_nets = {n["Name"] for n in api_json(bd, "/networks")}
    ok("network", "create", "pnet")
    dangling = ok("commit", "gone1")  # no repository: a dangling image
    ids = lambda: {c["Names"][0][1:] for c in api_json(bd, "/containers/json?all=1")}
    vols = lambda: {v["Name"] for v in api_json(bd, "/volumes")["Volumes"]}
    nets = lambda: {n["Name"] for n in api_json(bd, "/networks")}
    imgs = lambda: {i["Id"] for i in api_json(bd, "/images/json?all=1")}
    try:
        # no answer (stdin closed) is a no: the prompt, then nothing removed
        p = cli.run("system", "prune", "--volumes", "--filter", "label!=keep")
        assert (p.returncode, p.stderr) == (0, "")
        assert p.stdout == (
            "WARNING! This will remove:\n  - all stopped containers\n  - all networks not "
            "used by at least one container\n  - all anonymous volumes not used by at least "
            "one container\n  - all dangling images\n  - unused build cache\n\n  Items to be "
            "pruned will be filtered with:\n  - label!=keep\n\nAre you sure you want to "
            "continue? [y/N] ")
        assert {"gone1", "gone2"} <= ids() and anon in vols() and "pnet" in nets()
        assert dangling in imgs()

        p = cli.run("system", "prune", "-f", "--volumes")
        assert p.returncode == 0, p.stderr
        assert ids() == {"keeper"}
        assert anon not in vols() and "named1" in vols()  # named volumes stay without -a
        assert nets() == builtin_nets
        assert dangling not in imgs()
        assert api_json(bd, "/images/busybox/json")["Id"]
        sections = p.stdout.split("\n\n")
        assert sections[0].startswith("Deleted Containers:\n")
        assert len(sections[0].splitlines()) == 3
        assert sections[1] == "Deleted Networks:\npnet"
        assert sections[2] == f"Deleted Volumes:\n{anon}"
        assert sections[3] == f"Deleted Images:\ndeleted: {dangling}"
        assert sections[4].startswith("Total reclaimed space: ")

        p = cli.run("system", "prune", "-f", "--volumes", "--filter", "until=1h")
        assert (p.returncode, p.stdout, p.stderr) == (
            1, "", "ERROR: The \"until\" filter is not supported with \"--volumes\"\n")
    finally:
        cli.run("rm", "-f", "keeper", "gone1", "gone2")
        cli.run("volume", "rm", "named1", anon)
        cli.run("network", "rm", "pnet")
        cli.run("rmi", dangling)


@DOCKER28
@pytest.mark.parametrize("args", [
    [], ["-a"], ["--volumes"], ["-a", "--volumes", "--filter", "label=a=b", "--filter",
                                "until=10m", "--filter", "label!=c"],
    ["--filter", "until=24h"], ["--volumes", "--filter", "until=1h"], ["extra"], ["--bogus"],
])
def test_system_prune_prompt_as_docker(bd, cli, args):
    need_docker28()
    b, d = cli.run("system", "prune", *args), cli.docker("system", "prune", *args)
    assert (b.returncode, b.stdout, b.stderr) == \
        (d.returncode, d.stdout, d.stderr.replace("docker", "berth"))
