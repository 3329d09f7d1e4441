#!/usr/bin/python3
"""Record what docker's CLI (Go's text/template and docker's functions) prints for each template
of TEMPLATES over fixed data, as the expectations of berth's template engine (test-cli.c).

A tiny fake daemon on a unix socket serves version.json, info.json and events.jsonl; the real
docker CLI renders `version --format`, `info --format` and `events --format` against it.  The
output, stderr and exit code of each run go to cases.json, with docker's own client facts (the
.Client and .ClientInfo the templates see), so the C test can run the same data.

    tests/unit/template-cases/gen.py [/usr/local/bin/docker]

Run it again when TEMPLATES changes; commit cases.json.  Needs docker CLI 28.
"""

import json
import os
import socket
import socketserver
import subprocess
import sys
import tempfile
import threading
from http.server import BaseHTTPRequestHandler
from pathlib import Path

HERE = Path(__file__).resolve().parent
DOCKER = sys.argv[1] if len(sys.argv) > 1 else "/usr/local/bin/docker"

VERSION = (HERE / "version.json").read_text()
INFO = (HERE / "info.json").read_text()
EVENTS = (HERE / "events.jsonl").read_text()
IMAGE = (HERE / "image.json").read_text()

# (command, template).  Kept out: printing whole structs whose Go types have embedded structs or
# pointers (fmt shows addresses), which JSON cannot reproduce.  version runs through docker's tabwriter: keep tabs out of its templates.
TEMPLATES = [
    # fields, nesting, printing of every kind of value
    ("version", "{{.Server.Version}}"),
    ("version", "{{.Server.APIVersion}} {{.Server.MinAPIVersion}}"),
    ("version", "{{.Server.Platform.Name}}"),
    ("version", "{{.Server.Platform}}"),
    ("version", "{{.Server.Components}}"),
    ("version", "{{.Server.Experimental}}"),
    ("version", "{{.Server.KernelVersion}}|{{.Server.Os}}/{{.Server.Arch}}"),
    ("version", "{{.Client.Platform}}"),
    ("version", "{{.Client.Context}}"),
    ("version", "{{(index .Server.Components 1).Details}}"),
    ("version", "{{(index .Server.Components 0).Name}}"),
    ("version", "{{index (index .Server.Components 1).Details \"Zeta\"}}"),
    ("version", "{{index (index .Server.Components 1).Details \"missing\"}}|"),
    ("version", "{{(index .Server.Components 1).Details.Alpha}}"),
    ("version", "{{(index .Server.Components 1).Details.nothere}}"),
    # json
    ("version", "{{json .Server}}"),
    ("version", "{{json .Server.Components}}"),
    ("version", "{{json .Server.Platform.Name}}"),
    ("version", "{{json .Server.Experimental}}"),
    ("version", "{{json (index .Server.Components 1).Details}}"),
    ("version", "{{json .Client.Platform}}"),
    ("version", "json"),
    ("version", "{{json \"a<b>&c\\u2028\\t\\x01\"}}"),
    ("version", "{{json 1.5}} {{json 1e21}} {{json 0.000001}} {{json 0.0000001}} {{json -0.0}}"),
    ("version", "{{json 3}} {{json true}} {{json nil}}"),
    # range, variables, control flow
    ("version", "{{range .Server.Components}}[{{.Name}}]{{end}}"),
    ("version", "{{range $i, $c := .Server.Components}}{{$i}}:{{$c.Name}} {{end}}"),
    ("version", "{{range $c := .Server.Components}}{{$c.Version}};{{end}}"),
    ("version", "{{range $k, $v := (index .Server.Components 1).Details}}{{$k}}={{$v}},{{end}}"),
    ("version", "{{range (index .Server.Components 1).Details}}{{.}} {{end}}"),
    ("version", "{{range .Client.Platform}}x{{else}}none{{end}}"),
    ("version", "{{range 3}}{{.}}{{end}} {{range $i := 2}}<{{$i}}>{{end}}"),
    ("version", "{{range 0}}x{{else}}empty{{end}}"),
    ("version", "{{range .Server.Components}}{{if eq .Name \"Engine\"}}{{continue}}{{end}}{{.Name}}{{end}}"),
    ("version", "{{range .Server.Components}}{{.Name}}{{break}}{{end}}"),
    ("version", "{{$n := len .Server.Components}}{{if gt $n 1}}many{{else}}few{{end}}"),
    ("version", "{{with .Server.Platform.Name}}<{{.}}>{{end}}"),
    ("version", "{{$x := 1}}{{$x = 2}}{{$x}} {{$.Server.Os}}"),
    ("version", "{{18446744073709551615}}"),
    ("version", "{{with .Client.Platform}}{{.Name}}{{else}}no platform{{end}}"),
    ("version", "{{with $v := .Server.Version}}{{$v}}{{end}}"),
    ("version", "{{with .Client.Platform}}a{{else with .Server.Platform}}b:{{.Name}}{{end}}"),
    ("version", "{{if .Server.Experimental}}exp{{else if eq .Server.Os \"linux\"}}linux{{else}}other{{end}}"),
    ("version", "{{if and .Server.Version .Server.Os}}both{{end}} {{if or .Server.Experimental .Server.Os}}either{{end}}"),
    ("version", "{{if not .Server.Experimental}}stable{{end}}"),
    ("version", "{{and 1 0 2}} {{and 1 2}} {{or 0 \"\" 3}} {{or 0 \"\"}}|"),
    ("version", "{{.Server.Version | printf \"v%s\"}} {{\"x\" | printf \"%s-%s\" \"y\"}}"),
    ("version", "{{.Server.Components | len}} {{len .Server.Version}} {{len (index .Server.Components 1).Details}}"),
    ("version", "{{(index .Server.Components 1).Details | len}}"),
    # trim markers and comments
    ("version", "a  {{- .Server.Os -}}  b"),
    ("version", "a\n{{- /* comment */ -}}\nb"),
    ("version", "x {{/* c */}} y"),
    ("version", "{{- .Server.Os}}\n  {{- .Server.Arch}}"),
    ("version", "{{ .Server.Os }}"),
    # define / template / block
    ("version", "{{define \"T\"}}[{{.}}]{{end}}{{template \"T\" .Server.Os}}{{template \"T\" 5}}"),
    ("version", "{{block \"B\" .Server.Arch}}<{{.}}>{{end}}"),
    ("version", "{{template \"none\"}}"),
    # constants
    ("version", "{{1}} {{-1}} {{0x1F}} {{0o17}} {{0b101}} {{1_000}} {{017}} {{'a'}} {{'\\n'}}"),
    ("version", "{{1.5}} {{1.0}} {{1e3}} {{1e6}} {{1e7}} {{123456.0}} {{1234567.0}} {{.5}} {{0.0001}} {{0.00001}}"),
    ("version", "{{\"a\\tb\"}} {{`raw\\n`}} {{\"\\u00e9\\U0001F600\"}} {{\"\\x41\\101\"}}"),
    ("version", "{{true}} {{false}}"),
    ("version", "{{nil}}"),
    # comparisons
    ("version", "{{eq 1 1}} {{eq 1 2}} {{eq \"a\" \"a\"}} {{eq 1 2 3 1}} {{ne 1 2}} {{eq true true}}"),
    ("version", "{{lt 1 2}} {{le 2 2}} {{gt \"b\" \"a\"}} {{ge 1.5 2.5}} {{lt \"a\" \"ab\"}}"),
    ("version", "{{eq 1 1.0}}"),
    ("version", "{{eq \"a\" 1}}"),
    ("version", "{{lt true false}}"),
    ("version", "{{lt .Server.Platform 1}}"),
    ("version", "{{eq .Client.Platform nil}} {{ne .Server.Platform.Name \"\"}}"),
    ("version", "{{eq .Server.Os .Server.Os \"x\"}}"),
    ("version", "{{eq 1}}"),
    # printf and friends
    ("version", "{{printf \"%d|%5d|%-5d|%05d|%+d|%x|%X|%o|%b|%c|%U|%q\" 42 42 42 42 42 255 255 8 5 65 65 65}}"),
    ("version", "{{printf \"%s|%10s|%-10s|%.2s|%q|%x|% x|%v\" \"abc\" \"abc\" \"abc\" \"abc\" \"a\\\"b\" \"hi\" \"hi\" \"v\"}}"),
    ("version", "{{printf \"%f|%.2f|%8.3f|%e|%g|%G|%v|%.3g\" 3.14159 3.14159 3.14159 1234.5678 0.000012 1e21 2.5 1234.5678}}"),
    ("version", "{{printf \"%t|%v|%5t\" true false true}}"),
    ("version", "{{printf \"%d %s\" \"str\" 5}}"),
    ("version", "{{printf \"%d\"}} {{printf \"%s\" 1 2}}"),
    ("version", "{{printf \"%v\" .Server.Components}}"),
    ("version", "{{printf \"%s\" (index .Server.Components 1).Details}}"),
    ("version", "{{printf \"%x\" -255}} {{printf \"%%\"}} {{printf \"%*d|%-*d\" 5 1 4 2}}"),
    ("version", "{{printf \"%!\"}}|{{printf \"%z\" 1}}"),
    ("version", "{{print 1 2 \"a\" \"b\" 3 true}}|{{print}}|{{print nil}}"),
    ("version", "{{println 1 \"x\" true}}"),
    ("version", "{{html \"<a href='x'>&\\\"\"}} {{js \"a'b\\\"c<d>&e=\"}} {{urlquery \"a b&c=d/é\"}}"),
    ("version", "{{html 1 2}} {{urlquery \"x\" 3}}"),
    # docker's functions
    ("version", "{{upper .Server.Os}} {{lower \"MiXeD\"}} {{title \"hello world-foo bar_baz 9x\"}}"),
    ("version", "{{split \"a,b,,c\" \",\"}} {{split \"abc\" \"\"}} {{split \"\" \",\"}} {{len (split \"a:b\" \":\")}}"),
    ("version", "{{join (split \"a,b,c\" \",\") \" + \"}}"),
    ("version", "{{pad \"x\" 2 3}}|{{pad \"\" 2 3}}|"),
    ("version", "{{truncate \"abcdef\" 3}} {{truncate \"ab\" 5}} {{truncate \"abc\" 3}}"),
    ("version", "{{slice \"abcdef\" 1 3}} {{slice \"abcdef\" 2}} {{slice .Server.Components 1}}"),
    ("version", "{{index \"abc\" 1}}"),
    ("version", "{{slice \"abc\" 2 1}}"),
    ("version", "{{truncate \"abc\" -1}}"),
    ("version", "{{upper 5}}"),
    ("version", "{{upper}}"),
    ("version", "{{join \"a\" \",\"}}"),
    ("version", "{{pad \"x\" \"a\" 1}}"),
    ("version", "{{json}}"),
    ("version", "{{len 3}}"),
    ("version", "{{index .Server.Components 5}}"),
    ("version", "{{index .Server.Components \"a\"}}"),
    ("version", "{{index .Server.Version 1 2}}"),
    ("version", "{{getDetailsOrder (index .Server.Components 1)}}"),
    # execution errors
    ("version", "{{.Server.Foo}}"),
    ("version", "{{.Foo}}"),
    ("version", "a{{.Server.Version}}b{{.Server.Nope}}c"),
    ("version", "{{.Client.Platform.Name}}"),
    ("version", "{{.Server.Version.Foo}}"),
    ("version", "{{.Server.Version 1}}"),
    ("version", "{{range .Server.Version}}{{end}}"),
    ("version", "{{range $i, $c := 3}}{{end}}"),
    ("version", "{{call .Server.Version}}"),
    ("version", "{{nil.Foo}}"),
    # parse errors
    ("version", "{{"),
    ("version", "{{.Server.Version}"),
    ("version", "{{.Server.Version"),
    ("version", "}}"),
    ("version", "{{end}}"),
    ("version", "{{else}}"),
    ("version", "{{if .Server.Os}}"),
    ("version", "{{if}}{{end}}"),
    ("version", "{{range}}{{end}}"),
    ("version", "{{foo}}"),
    ("version", "{{$y}}"),
    ("version", "{{(1}}"),
    ("version", "{{1)}}"),
    ("version", "{{\"abc}}"),
    ("version", "{{`abc}}"),
    ("version", "{{'ab'}}"),
    ("version", "{{/* c"),
    ("version", "{{/* c */ x}}"),
    ("version", "{{3x}}"),
    ("version", "{{.Server.Os | 3}}"),
    ("version", "{{|}}"),
    ("version", "{{.A.B!}}"),
    ("version", "{{$x := }}"),
    ("version", "{{$x :}}"),
    ("version", "{{break}}"),
    ("version", "{{range .Server.Components}}{{break 1}}{{end}}"),
    ("version", "{{1.2.3}}"),
    ("version", "{{99999999999999999999}}"),
    ("version", "{{if 1}}{{else}}{{else}}{{end}}"),
    ("version", "{{define \"a\"}}x"),
    ("version", "{{template .Server.Os}}"),
    ("version", "{{\"\\q\"}}"),
    ("version", "{{.Server.Version.}}"),
    ("version", "{{1.Foo}}"),
    ("version", "line1\nline2 {{.Server.Os\n}}"),
    ("version", "a\nb\n{{.Nope}}"),
    ("version", "{{range $a, $b, $c := .Server.Components}}{{end}}"),
    ("version", "{{with $x, $y := 1}}{{end}}"),
    ("version", "{{ @ }}"),
    # info: numbers, maps, slices of slices, pointers, embedded fields
    ("info", "{{.Containers}} {{.ContainersRunning}} {{.Images}} {{.NCPU}} {{.MemTotal}}"),
    ("info", "{{.DriverStatus}}"),
    ("info", "{{range .DriverStatus}}{{index . 0}}={{index . 1}};{{end}}"),
    ("info", "{{.Plugins}}"),
    ("info", "{{.Plugins.Network}} {{join .Plugins.Network \",\"}} {{.Plugins.Authorization}}"),
    ("info", "{{.Labels}} {{len .Labels}} {{index .Labels 1}}"),
    ("info", "{{.Warnings}}"),
    ("info", "{{range .Warnings}}{{.}}\n{{end}}"),
    ("info", "{{.SecurityOptions}}"),
    ("info", "{{.Swarm.LocalNodeState}} {{.Swarm.ControlAvailable}} {{.Swarm.RemoteManagers}}"),
    ("info", "{{.RuncCommit.ID}} {{.RuncCommit}}"),
    ("info", "{{json .Runtimes}}"),
    ("info", "{{range $k, $v := .Runtimes}}{{$k}} {{end}}"),
    ("info", "{{json .RegistryConfig}}"),
    ("info", "{{.RegistryConfig.Mirrors}} {{.RegistryConfig.InsecureRegistryCIDRs}}"),
    ("info", "{{.HTTPSProxy}} {{.NoProxy}} {{.HTTPProxy}}|"),
    ("info", "{{.GenericResources}} {{.DefaultAddressPools}} {{.ProductLicense}}|{{.KernelMemory}}"),
    ("info", "{{.CPUCfsPeriod}} {{.CPUShares}} {{.OomKillDisable}}"),
    ("info", "{{.ClientInfo.Context}} {{.ClientInfo.Debug}} {{.ClientInfo.Plugins}} {{.ClientInfo.Warnings}}"),
    ("info", "{{.ServerErrors}} {{.ClientErrors}}"),
    ("info", "{{json .Plugins}} {{json .Swarm}} {{json .Warnings}} {{json .GenericResources}}"),
    ("info", "{{json .DriverStatus}} {{json .Labels}}"),
    ("info", "{{gt .Containers 5}} {{eq .ContainersRunning 3}} {{lt .MemTotal 1}}"),
    ("info", "{{printf \"%d containers, %.1f GiB\" .Containers 23.54}}"),
    ("info", "{{printf \"%5d|%-5d|%x\" .Images .NCPU .MemTotal}}"),
    ("info", "{{if .SwapLimit}}swap{{else}}no swap{{end}}"),
    ("info", "{{.Foo}}"),
    ("info", "{{.ClientInfo.Foo}}"),
    ("info", "{{.Swarm.Foo}}"),
    ("info", "{{.Plugins.Volume.Foo}}"),
    ("info", "{{.Containers.Foo}}"),
    ("info", "{{'"),
    # events: maps with dotted keys, integers, the lower-case JSON names
    ("events", "{{.Type}} {{.Action}} {{.Actor.ID}}"),
    ("events", "{{.Status}}|{{.ID}}|{{.From}}|{{.Scope}}|{{.Time}}|{{.TimeNano}}"),
    ("events", "{{json .}}"),
    ("events", "json"),
    ("events", "{{.Actor.Attributes}}"),
    ("events", "{{json .Actor}}"),
    ("events", "{{index .Actor.Attributes \"name\"}}|"),
    ("events", "{{.Actor.Attributes.name}}"),
    ("events", "{{range $k, $v := .Actor.Attributes}}{{$k}}={{$v}} {{end}}"),
    ("events", "{{if eq .Type \"container\"}}C {{.Actor.Attributes.image}}{{else}}{{.Type}}{{end}}"),
    ("events", "{{.Foo}}"),
    ("events", "{{.Actor.Foo}}"),
    ("events", "{{"),
    # image inspect: image.InspectResponse (embedded structs, times, durations, pointers), and
    # docker's fallback to the raw JSON with missingkey=error when the typed run fails
    ("image", "{{.ID}} {{.Id}} {{.Size}} {{.VirtualSize}} {{.Os}}/{{.Architecture}}"),
    ("image", "{{.RepoTags}} {{.RepoDigests}} {{index .RepoTags 0}} {{len .RepoTags}}"),
    ("image", "{{.Config.ImageConfig}}"),
    ("image", "{{.Config.DockerOCIImageConfigExt.OnBuild}} {{.Config.Shell}}"),
    ("image", "{{.Config.Healthcheck}}"),
    ("image", "{{json .Config}}"),
    ("image", "{{json .Config.Healthcheck}}"),
    ("image", "{{.Config.Env}} {{.Config.Cmd}} {{.Config.Entrypoint}} {{.Config.WorkingDir}}|"),
    ("image", "{{.Config.ExposedPorts}} {{.Config.Volumes}} {{.Config.Labels}}"),
    ("image", "{{range $k, $v := .Config.Labels}}{{$k}}={{$v}};{{end}}"),
    ("image", "{{index .Config.Labels \"org.example.kind\"}}|{{index .Config.Labels \"x\"}}|"),
    ("image", "{{.Config.Labels.missing}}|"),
    ("image", "{{.ContainerConfig}}"),
    ("image", "{{json .ContainerConfig}}"),
    ("image", "{{.ContainerConfig.Hostname}}|{{.ContainerConfig.Healthcheck}}"),
    ("image", "{{.GraphDriver}} {{json .GraphDriver}}"),
    ("image", "{{.GraphDriver.Data.MergedDir}}"),
    ("image", "{{.RootFS}} {{json .RootFS}} {{range .RootFS.Layers}}[{{.}}]{{end}}"),
    ("image", "{{.Metadata}} {{.Metadata.LastTagTime}} {{json .Metadata}}"),
    ("image", "{{.Descriptor}} {{.Manifests}} {{.Container}}| {{.Variant}}|"),
    ("image", "{{json .}}"),
    ("image", "json"),
    ("image", "{{.Created}} {{.Parent}}|{{.Comment}}|{{.Author}}|{{.DockerVersion}}"),
    ("image", "{{if .Config.Healthcheck}}hc{{end}} {{with .Descriptor}}d{{else}}nod{{end}}"),
    ("image", "{{.Nope}}"),
    ("image", "{{.Config.Nope}}"),
    ("image", "{{.Config.Env.Nope}}"),
    ("image", "{{.Metadata.LastTagTime.Nope}}"),
    ("image", "{{.Config.Labels.nope.deeper}}"),
    ("image", "{{.created}} {{.Config.Healthcheck.Interval}}"),
    ("image", "{{.Id}} {{.Config.Healthcheck.Interval}} {{.RootFS}}"),
    ("image", "{{index .Config.Labels \"nope\"}}|{{.Id}}"),
]


class FakeDaemon(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def address_string(self):
        return "unix"

    def send(self, status, body, ctype="application/json"):
        data = body.encode()
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Api-Version", "1.44")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    def do_HEAD(self):
        self.do_GET()

    def do_GET(self):
        path = self.path.split("?")[0]
        if path == "/_ping":
            self.send_response(200)
            for k, v in (("API-Version", "1.44"), ("OSType", "linux"), ("Builder-Version", "1"),
                         ("Docker-Experimental", "false"), ("Content-Length", "2")):
                self.send_header(k, v)
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(b"OK")
        elif path.endswith("/version"):
            self.send(200, VERSION)
        elif path.endswith("/info"):
            self.send(200, INFO)
        elif path.endswith("/images/x/json"):
            self.send(200, IMAGE)
        elif path.endswith("/events"):
            self.send(200, EVENTS)
        else:
            self.send(404, '{"message":"page not found"}')


class Server(socketserver.ThreadingMixIn, socketserver.UnixStreamServer):
    daemon_threads = True


def main():
    tmp = tempfile.mkdtemp(prefix="tmplgen-")
    sock = os.path.join(tmp, "d.sock")
    srv = Server(sock, FakeDaemon)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    env = dict(os.environ, DOCKER_HOST=f"unix://{sock}", DOCKER_CONFIG=os.path.join(tmp, "cfg"),
               TZ="UTC")
    env.pop("DOCKER_API_VERSION", None)

    def docker(*args):
        p = subprocess.run([DOCKER, *args], capture_output=True, env=env, timeout=30,
                           stdin=subprocess.DEVNULL)
        return p.returncode, p.stdout.decode("utf-8", "surrogateescape"), p.stderr.decode(
            "utf-8", "surrogateescape")

    rc, client, err = docker("version", "--format", "{{json .Client}}")
    assert rc == 0, err
    rc, server, err = docker("version", "--format", "{{json .Server}}")
    assert rc == 0, err
    rc, client_info, err = docker("info", "--format", "{{json .ClientInfo}}")
    assert rc == 0, err
    cases = []
    for cmd, tmpl in TEMPLATES:
        if cmd == "events":
            rc, out, err = docker("events", "--since", "1", "--until", "2", "--format", tmpl)
        elif cmd == "image":
            rc, out, err = docker("image", "inspect", "--format", tmpl, "x")
        else:
            rc, out, err = docker(cmd, "--format", tmpl)
        cases.append({"cmd": cmd, "template": tmpl, "rc": rc, "stdout": out, "stderr": err})
    doc = {
        "docker": docker("--version")[1].strip(),
        "client": json.loads(client),
        "server": json.loads(server),
        "client_info": json.loads(client_info),
        "cases": cases,
    }
    (HERE / "cases.json").write_text(json.dumps(doc, indent=1, ensure_ascii=False) + "\n")
    srv.shutdown()
    print(f"{len(cases)} cases recorded with {doc['docker']}")


if __name__ == "__main__":
    main()
