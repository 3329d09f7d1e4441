"""berth context (ls, show, use, inspect, create, rm, update) against docker 28's on the same config
directory: stdout, stderr, exit codes and the files each leaves (meta.json under the sha256 of the
name, config.json's currentContext), contexts made by either CLI used by the other, and the effect:
a command run in a context reaches the berthd at that context's socket."""

import hashlib
import json
import os
import shutil
import subprocess

import pytest

from cli import DOCKER28, berth_binary, need_docker28
from daemon import DOCKER_CLI

# the default context's endpoint both CLIs show (no daemon listens there)
FAKE_HOST = "unix:///tmp/berth-context-test-none.sock"


def run(prog, cfg, *args, env=None):
    e = {k: v for k, v in os.environ.items()
         if k not in ("DOCKER_HOST", "BERTH_HOST", "DOCKER_CONTEXT", "DOCKER_CONFIG")}
    e.update(DOCKER_CONFIG=str(cfg))
    e.update(env or {})
    return subprocess.run([str(prog), *args], capture_output=True, text=True, timeout=60,
                          env={k: v for k, v in e.items() if v is not None},
                          stdin=subprocess.DEVNULL)


def files(cfg):
    """Every file under cfg: relative path -> (mode, content)."""
    out = {}
    for root, _, names in os.walk(cfg):
        for n in names:
            p = os.path.join(root, n)
            out[os.path.relpath(p, cfg)] = (oct(os.stat(p).st_mode), open(p).read())
    return out


@pytest.fixture
def base(tmp_path):
    """A store docker made: foo (unix, described, current), bar (tcp)."""
    need_docker28()
    cfg = tmp_path / "base"
    for args in (["create", "foo", "--docker", "host=unix:///tmp/x.sock", "--description", "d"],
                 ["create", "bar", "--docker", "host=tcp://1.2.3.4:2375"], ["use", "foo"]):
        assert run(DOCKER_CLI, cfg, "context", *args).returncode == 0
    return cfg


def berthify(s):
    return s.replace("docker: 'docker", "berth: 'berth").replace("docker context", "berth context")


SAME = [
    # lists and names, the default context at DOCKER_HOST (with docker's warning)
    ("ls",), ("list",), ("ls", "-q"), ("ls", "--format", "json"),
    ("ls", "--format", "{{.Name}} {{.Current}} {{.DockerEndpoint}}"),
    ("ls", "--format", "table {{.Name}}\t{{.Current}}"), ("ls", "-q", "--format", "json"),
    ("ls", "x"), ("show",), ("show", "x"),
    ("inspect",), ("inspect", "default"), ("inspect", "foo", "bar"), ("inspect", "foo", "nope"),
    ("inspect", "nope"), ("inspect", "-f", "{{.Name}} {{.Endpoints.docker.Host}}", "foo"),
    ("inspect", "--format", "json", "foo"),
    # templates on docker's Go type, context.contextWithTLSListing (it embeds store.Metadata)
    ("inspect", "-f", "{{.Nope}}", "foo"), ("inspect", "-f", "{{.Metadata}}", "foo"),
    ("inspect", "-f", "{{.Metadata.Metadata.Description}}", "foo"),
    ("inspect", "-f", "{{.Metadata.Description}}", "foo"),
    ("inspect", "-f", "{{.Metadata.Metadata.Nope}}", "foo"),
    ("inspect", "-f", "{{json .Metadata}} {{.Storage.TLSPath}} {{.TLSMaterial}}", "foo", "bar"),
    ("inspect", "-f", "{{.Endpoints}}", "default"),
    # create: the files written, the names refused, nothing written on bad input
    ("create", "n1"), ("create", "n2", "--docker", ""), ("create", "n3", "--docker", "host="),
    ("create", "n5", "--docker", "host=unix:///a,skip-tls-verify=1", "--description", "x y"),
    ("create", "n6", "--docker", "skip-tls-verify=bad"),
    ("create", "n7", "--docker", "host=unix:///a", "--from", "foo"),
    ("create", "n8", "--docker", "from=foo"), ("create", "n9", "--from", "foo"),
    ("create", "n9", "--from", "foo", "--description", "other"),
    ("create", "t1", "--docker", "host=tcp://10.0.0.1:2375"),
    ("create", "s1", "--docker", "host=ssh://u@h"),
    ("create", ""), ("create", "foo"), ("create", "default"), ("create", "a"), ("create", "_a"),
    ("create", "b@d"), ("create", "x1", "--docker", "foo=bar"),
    ("create", "x2", "--docker", "host=/relative"), ("create", "x3", "--from", "nope"),
    ("create",), ("create", "-x", "y"),
    # use: config.json's currentContext set, removed by "default", other keys kept
    ("use", "bar"), ("use", "default"), ("use", "nope"), ("use", "b@d"), ("use",),
    # rm and update
    ("rm", "bar"), ("rm", "foo"), ("rm", "-f", "foo"), ("rm", "nope"), ("rm", "-f", "nope"),
    ("rm", "bar", "default", "nope"), ("rm",), ("remove", "bar"),
    ("update", "foo", "--description", "new"), ("update", "foo", "--docker", "host=unix:///q"),
    ("update", "foo"), ("update", "nope", "--description", "x"),
    ("update", "default", "--description", "x"), ("update", "bar", "--docker", "k=v"),
    ("update",),
    # export to stdout, import's refusals before it reads
    ("export", "foo", "-"), ("export", "bar", "-"), ("export", "nope", "-"), ("export",),
    ("export", "a", "b", "c"), ("import", "default", "x"), ("import", "foo", "x"),
    ("import", "n1", "/nonexistent"), ("import", "n1", "-"), ("import", "n1"),
]


# each with DOCKER_HOST set, and without it where the default context's socket (docker's, berth's)
# does not show
CASES = [(a, {"DOCKER_HOST": FAKE_HOST}) for a in SAME] + [
    (a, {}) for a in SAME if a[0] not in ("ls", "list", "inspect") or a[1:2] == ("nope",)]


@DOCKER28
@pytest.mark.parametrize("args,env", CASES,
                         ids=[" ".join(a) + (" (DOCKER_HOST)" if e else "") for a, e in CASES])
def test_same_as_docker(base, tmp_path, args, env):
    res = {}
    for name, prog in (("docker", DOCKER_CLI), ("berth", berth_binary())):
        cfg = tmp_path / "cfg"  # one path for both: inspect shows it
        shutil.rmtree(cfg, ignore_errors=True)
        shutil.copytree(base, cfg)
        p = run(prog, cfg, "context", *args, env=env)
        res[name] = (p.returncode, p.stdout, p.stderr, files(cfg))
    d, b = res["docker"], res["berth"]
    assert b[0] == d[0]
    assert b[1] == d[1]
    assert b[2] == berthify(d[2])
    assert b[3] == d[3]


@DOCKER28
def test_warnings_berth_host(base):
    """BERTH_HOST overrides the current context as DOCKER_HOST does: docker's warning, its name."""
    p = run(berth_binary(), base, "context", "ls", "-q", env={"BERTH_HOST": FAKE_HOST})
    assert p.returncode == 0 and p.stdout == "bar\ndefault\nfoo\n"
    assert p.stderr == ("Warning: BERTH_HOST environment variable overrides the active context. "
                        "To use a context, either set the global --context flag, or unset "
                        "BERTH_HOST environment variable.\n")
    p = run(berth_binary(), base, "context", "show", env={"BERTH_HOST": FAKE_HOST})
    assert p.stdout == "default\n"


@DOCKER28
def test_export_import(base, tmp_path):
    """export writes docker's bytes to FILE (0600, never over a file); import reads docker's
    and berth's archives, and refuses broken ones with Go's tar reader's words."""
    B = berth_binary()
    out = {}
    for name, prog in (("docker", DOCKER_CLI), ("berth", B)):
        d = tmp_path / f"out-{name}"
        d.mkdir()
        p = subprocess.run([str(prog), "context", "export", "foo"], cwd=d, capture_output=True,
                           text=True, env=dict(os.environ, DOCKER_CONFIG=str(base)))
        assert (p.returncode, p.stdout, p.stderr) == (0, "", "Written file \"foo.dockercontext\"\n")
        f = d / "foo.dockercontext"
        out[name] = f.read_bytes()
        assert oct(os.stat(f).st_mode & 0o777) == "0o600"
        p = run(prog, base, "context", "export", "foo", str(f))
        assert (p.returncode, p.stderr) == (1, f"open {f}: file exists\n")
    assert out["berth"] == out["docker"]
    tar = tmp_path / "out-docker" / "foo.dockercontext"
    p = run(B, base, "context", "import", "imp", str(tar))
    assert (p.returncode, p.stdout, p.stderr) == (0, "imp\n", "Successfully imported context \"imp\"\n")
    p = run(DOCKER_CLI, base, "context", "inspect", "-f", "{{.Name}} {{.Endpoints.docker.Host}}",
            "imp")
    assert p.stdout == "imp unix:///tmp/x.sock\n"
    p = run(DOCKER_CLI, base, "context", "ls", "--format", "{{.Name}} {{.Description}}")
    assert "imp d\n" in p.stdout
    (tmp_path / "garbage").write_text("garbage\n")
    subprocess.run(["tar", "cf", str(tmp_path / "empty.tar"), "-T", "/dev/null"], check=True)
    for f in ("garbage", "empty.tar"):
        before = files(base)
        b = run(B, base, "context", "import", "imp2", str(tmp_path / f))
        d = run(DOCKER_CLI, base, "context", "import", "imp2", str(tmp_path / f))
        assert (b.returncode, b.stdout, b.stderr) == (d.returncode, d.stdout, d.stderr)
        assert b.returncode == 1 and files(base) == before


@DOCKER28
@pytest.mark.parametrize("how", ["flag", "env", "config"])
def test_current_not_in_store(base, how):
    """A current context that is not in the store is listed with docker's error, cut to 45."""
    flags, env = [], {}
    if how == "flag":
        flags = ["--context", "gone"]
    elif how == "env":
        env = {"DOCKER_CONTEXT": "gone"}
    else:
        (base / "config.json").write_text(json.dumps({"auths": {}, "currentContext": "gone"}))
    out = {}
    for name, prog in (("docker", DOCKER_CLI), ("berth", berth_binary())):
        p = run(prog, base, *flags, "context", "ls", "--format", "json", env=env)
        assert p.returncode == 0 and p.stderr == ""
        out[name] = [json.loads(line) for line in p.stdout.splitlines()
                     if '"default"' not in line]
    assert out["berth"] == out["docker"]
    gone = [r for r in out["berth"] if r["Name"] == "gone"]
    assert len(gone) == 1 and gone[0]["Current"] and gone[0]["DockerEndpoint"] == ""
    err = gone[0]["Error"]
    assert err.startswith("context \"gone\": context not found: open ") and err.endswith("…")
    assert len(err) == 45


@DOCKER28
def test_resolve_errors(base):
    """A command in a missing context, or in one without a docker endpoint: docker's words, 1,
    before anything is sent."""
    noep = base / "contexts" / "meta" / "tmp"
    noep.mkdir()
    (noep / "meta.json").write_text('{"Name":"noep","Metadata":{},"Endpoints":{}}')
    os.rename(noep, noep.parent / hashlib.sha256(b"noep").hexdigest())
    for ctx in ("nosuch", "noep"):
        d = run(DOCKER_CLI, base, "--context", ctx, "ps")
        b = run(berth_binary(), base, "--context", ctx, "ps")
        assert (b.returncode, b.stdout, b.stderr) == (d.returncode, d.stdout, d.stderr) == (
            1, "", d.stderr)
        assert b.stderr.startswith("Failed to initialize: unable to resolve docker endpoint: ")


@DOCKER28
@pytest.mark.parametrize("sub", ["show", "use", "rm", "export"])
def test_help_as_docker(tmp_path, sub):
    """--help pages in docker's words (create, update and import say what berth refuses; the
    --format help of ls and inspect is berth's own, as for every list)."""
    need_docker28()
    d = run(DOCKER_CLI, tmp_path, "context", sub, "--help")
    b = run(berth_binary(), tmp_path, "context", sub, "--help")
    assert b.returncode == d.returncode == 0
    assert b.stdout == d.stdout.replace("docker", "berth").replace("Docker", "berth")


def test_config_keys_kept(tmp_path):
    """use rewrites config.json with docker's layout and every key it had, in order."""
    cfg = tmp_path / "cfg"
    cfg.mkdir()
    (cfg / "config.json").write_text(json.dumps({"auths": {"r.io": {"auth": "eDp5"}},
                                                 "psFormat": "{{.ID}} <&>", "x-own": [1, 2]}))
    B = berth_binary()
    assert run(B, cfg, "context", "create", "c1", "--docker", "host=unix:///a").returncode == 0
    p = run(B, cfg, "context", "use", "c1")
    assert (p.returncode, p.stdout, p.stderr) == (0, "c1\n", "Current context is now \"c1\"\n")
    text = (cfg / "config.json").read_text()
    assert text == ('{\n\t"auths": {\n\t\t"r.io": {\n\t\t\t"auth": "eDp5"\n\t\t}\n\t},\n'
                    '\t"psFormat": "{{.ID}} \\u003c\\u0026\\u003e",\n\t"x-own": [\n\t\t1,\n\t\t2\n'
                    '\t],\n\t"currentContext": "c1"\n}')
    assert oct(os.stat(cfg / "config.json").st_mode & 0o777) == "0o600"
    assert run(B, cfg, "context", "use", "default").returncode == 0
    assert "currentContext" not in json.loads((cfg / "config.json").read_text())
    assert json.loads((cfg / "config.json").read_text())["x-own"] == [1, 2]
    # nothing changes: no file is made where there was none
    other = tmp_path / "none"
    assert run(B, other, "context", "use", "default").returncode == 0
    assert not other.exists()


def test_bad_store(tmp_path):
    """A malformed meta.json: a clear error naming it, exit 1, nothing written; a TLS file
    refused; a tcp context stored but not usable by berth, with the reason."""
    cfg = tmp_path / "cfg"
    B = berth_binary()
    bad = cfg / "contexts" / "meta" / "zzz"
    bad.mkdir(parents=True)
    (bad / "meta.json").write_text("{bad")
    before = files(cfg)
    p = run(B, cfg, "context", "ls")
    assert p.returncode == 1 and p.stdout == ""
    assert p.stderr.startswith(f"failed to read metadata: parsing {bad}/meta.json: ")
    if DOCKER_CLI:
        d = run(DOCKER_CLI, cfg, "context", "ls")
        assert d.returncode == 1 and d.stderr.startswith(p.stderr.split(": parsing")[0])
    assert files(cfg) == before
    shutil.rmtree(bad)
    p = run(B, cfg, "context", "create", "tt", "--docker", "host=unix:///a,ca=/etc/hostname")
    assert p.returncode == 1 and "no TLS material" in p.stderr
    assert list((cfg / "contexts" / "meta").iterdir()) == []
    # an archive with TLS files (docker's export of a TLS context): refused, nothing written
    corpus = os.path.join(os.path.dirname(__file__), "..", "..", "fuzz", "corpus", "context-tar")
    p = run(B, cfg, "context", "import", "tt", os.path.join(corpus, "tls-first"))
    assert p.returncode == 1 and "tls/docker/ca.pem: berth contexts take no TLS" in p.stderr
    assert list((cfg / "contexts" / "meta").iterdir()) == []
    p = run(B, cfg, "context", "create", "tt", "--docker", "host=tcp://127.0.0.1:2375")
    assert p.returncode == 0
    p = run(B, cfg, "--context", "tt", "ps")
    assert p.returncode == 1 and "unix sockets only" in p.stderr


@DOCKER28
def test_contexts_reach_their_berthd(make_berthd, tmp_path):
    """A context made by berth is used by docker and berth, one made by docker by berth: each
    command reaches the berthd at its context's socket (a volume made there is there only)."""
    need_docker28()
    b1, b2 = make_berthd(), make_berthd()
    cfg = tmp_path / "cfg"
    B = berth_binary()
    p = run(B, cfg, "context", "create", "two", "--docker", f"host=unix://{b2.sock}")
    assert p.returncode == 0, p.stderr
    p = run(DOCKER_CLI, cfg, "context", "create", "one", "--docker", f"host=unix://{b1.sock}")
    assert p.returncode == 0, p.stderr
    assert run(B, cfg, "--context", "two", "volume", "create", "v-two").returncode == 0
    assert run(DOCKER_CLI, cfg, "--context", "two", "volume", "create", "v-two-d").returncode == 0
    assert run(B, cfg, "-c", "one", "volume", "create", "v-one").returncode == 0
    # the current context, set by berth, followed by docker; set by docker, followed by berth
    assert run(B, cfg, "context", "use", "two").returncode == 0
    assert run(DOCKER_CLI, cfg, "volume", "ls", "-q").stdout.split() == ["v-two", "v-two-d"]
    assert run(DOCKER_CLI, cfg, "context", "use", "one").returncode == 0
    assert run(B, cfg, "volume", "ls", "-q").stdout.split() == ["v-one"]

    def names(b):
        status, _, body = b.http("GET", "/volumes")
        assert status == 200
        return sorted(v["Name"] for v in json.loads(body)["Volumes"])
    assert names(b1) == ["v-one"] and names(b2) == ["v-two", "v-two-d"]
    for b, v in ((b2, "v-two"), (b2, "v-two-d"), (b1, "v-one")):
        assert b.http("DELETE", f"/volumes/{v}")[0] == 204


def test_completion_names(tmp_path):
    cfg = tmp_path / "cfg"
    B = berth_binary()
    for n in ("alpha", "beta"):
        assert run(B, cfg, "context", "create", n, "--docker", "host=unix:///a").returncode == 0
    p = run(B, cfg, "__complete", "context", "use", "")
    assert set(p.stdout.split()) >= {"alpha", "beta", "default"}
    p = run(B, cfg, "__complete", "context", "rm", "al")
    assert "alpha" in p.stdout.split() and "beta" not in p.stdout.split()
