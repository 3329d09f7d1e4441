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
