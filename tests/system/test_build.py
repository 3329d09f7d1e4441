"""Dockerfile builds (issue 16): POST /build as the classic builder, through `berth build`, the
real docker CLI (no buildx: the classic /build) and python3-docker, against a private berthd.

What is checked is the effect: the image's config as inspect shows it, what its containers print
and hold (files, owners, modes), its history rows, which steps the cache reused (the image ids,
and the " ---> Using cache" lines), and that a failed build leaves no image tagged, no container
and no mount behind.
"""

import io
import json
import os
import signal
import subprocess
import tarfile
import time
from pathlib import Path

import pytest

from berth import mounts_under, wait_until
from cli import berth_binary
from daemon import DOCKER_CLI, berthd_binary, import_busybox, shared_berthd
from daemon import make_berthd  # noqa: F401  (a fixture)

pytestmark = [
    pytest.mark.skipif(not os.access(berthd_binary(), os.X_OK), reason="berthd not built"),
    pytest.mark.skipif(DOCKER_CLI is None, reason="no docker CLI"),
]


@pytest.fixture(scope="module")
def bd():
    yield from shared_berthd()


def cli(bd, tool, *args, input=None, check=True, cwd=None, timeout=180):
    exe = DOCKER_CLI if tool == "docker" else str(berth_binary())
    env = dict(os.environ, DOCKER_HOST=f"unix://{bd.sock}",
               DOCKER_CONFIG=str(bd.dir / "docker-config"))
    p = subprocess.run([exe, *args], capture_output=True, env=env, input=input, timeout=timeout,
                       cwd=cwd, stdin=None if input is not None else subprocess.DEVNULL)
    if check and p.returncode != 0:
        raise AssertionError(f"{tool} {' '.join(map(str, args))}: exit {p.returncode}\n"
                             f"{p.stdout.decode(errors='replace')[-3000:]}\n"
                             f"{p.stderr.decode(errors='replace')}\n{bd.log_text()[-3000:]}")
    return p


def context(tmp_path, dockerfile, files=None, name="ctx"):
    d = tmp_path / name
    d.mkdir()
    (d / "Dockerfile").write_text(dockerfile)
    for rel, data in (files or {}).items():
        p = d / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(data if isinstance(data, bytes) else data.encode())
    return d


def build(bd, tool, ctx, *args, check=True):
    return cli(bd, tool, "build", *args, str(ctx), check=check)


def image_id(bd, ref):
    return cli(bd, "berth", "image", "inspect", "-f", "{{.Id}}", ref).stdout.decode().strip()


def inspect(bd, ref):
    return json.loads(cli(bd, "docker", "image", "inspect", ref).stdout)[0]


def run_out(bd, ref, *cmd):
    return cli(bd, "docker", "run", "--rm", ref, *cmd).stdout.decode()


def containers(bd):
    status, _, body = bd.http("GET", "/containers/json?all=1")
    assert status == 200
    return json.loads(body)


def rm_all(bd):
    for c in containers(bd):
        bd.http("DELETE", f"/containers/{c['Id']}?force=1")


def steps_cached(out):
    """For each step of a build's output: whether it was taken from the cache."""
    steps, cur = [], None
    for line in out.splitlines():
        if line.startswith("Step "):
            cur = [line.split(" : ", 1)[1], False]
            steps.append(cur)
        elif line.strip() == "---> Using cache" and cur:
            cur[1] = True
    return steps


# ---- multi-stage --------------------------------------------------------------------------------

MULTI = """\
ARG BASE=busybox
FROM ${BASE} AS build
ARG GREETING=hello
WORKDIR /src
COPY greet.sh .
RUN mkdir -p /out/bin && cp /bin/busybox /out/bin/busybox \\
    && sed "s/@GREETING@/$GREETING/" greet.sh > /out/greet && chmod 755 /out/greet
FROM busybox AS never
RUN echo this stage is not needed && exit 1
FROM scratch
COPY --from=build /out/bin/busybox /bin/busybox
COPY --from=0 /out/greet /greet
ENTRYPOINT ["/bin/busybox", "sh", "/greet"]
"""


@pytest.mark.parametrize("tool", ["berth", "docker"])
def test_multistage_static_binary_into_scratch(bd, tool, tmp_path):
    ctx = context(tmp_path, MULTI, {"greet.sh": "echo @GREETING@ from scratch\n"})
    tag = f"ms-{tool}:1"
    p = build(bd, tool, ctx, "-t", tag, "--build-arg", "GREETING=salut")
    out = p.stdout.decode()
    assert "this stage is not needed" not in out  # only the stages the target needs run
    assert "Successfully tagged " + tag in out
    assert run_out(bd, tag) == "salut from scratch\n"
    img = inspect(bd, tag)
    assert img["Config"]["Entrypoint"] == ["/bin/busybox", "sh", "/greet"]
    assert len(img["RootFS"]["Layers"]) == 2  # scratch + two COPY layers, nothing of busybox
    hist = json.loads(cli(bd, "docker", "history", "--no-trunc", "--format", "{{json .}}",
                          tag).stdout.decode().splitlines()[0])
    assert hist["CreatedBy"] == '/bin/sh -c #(nop)  ENTRYPOINT ["/bin/busybox" "sh" "/greet"]'
    # the build stage's RUN row says which build args it ran with, as docker's classic builder
    rows = cli(bd, "docker", "history", "--no-trunc", "--format", "{{.CreatedBy}}",
               image_id(bd, tag)).stdout.decode()
    assert "COPY file:" in rows
    assert not containers(bd)


def test_target_builds_only_what_it_needs(bd, tmp_path):
    ctx = context(tmp_path, MULTI, {"greet.sh": "echo @GREETING@\n"})
    p = build(bd, "berth", ctx, "--target", "build", "-t", "ms-target")
    out = p.stdout.decode()
    assert "Step 6/6 : RUN mkdir" in out  # ARG + 5 steps of stage build
    assert "this stage is not needed" not in out
    assert run_out(bd, "ms-target", "cat", "/out/greet") == "echo hello\n"
    p = build(bd, "berth", ctx, "--target", "nope", check=False)
    assert p.returncode == 1
    assert b'target stage "nope" could not be found' in p.stderr


# ---- every instruction ----------------------------------------------------------------------------

EVERY = """\
# escape=\\
ARG VERSION=1.0
FROM busybox AS base
MAINTAINER someone@example.com
ARG VERSION
ARG UNUSED_DEFAULT=x
ENV APP=/srv/app NAME="two words" V=${VERSION}
LABEL org.example.version=$VERSION "quoted key"="a b"
RUN adduser -D -u 1234 app 2>/dev/null || echo 'app:x:1234:1234::/home/app:/bin/sh' >> /etc/passwd; \\
    echo 'app:x:1234:' >> /etc/group
WORKDIR $APP
COPY --chown=app:app --chmod=640 conf/*.conf ./conf/
COPY dir/ tree/
COPY single.txt renamed.txt
ADD files.tar.gz /unpacked/
ADD plain.txt /plain/
RUN ["/bin/sh", "-c", "echo exec form > exec.txt"]
SHELL ["/bin/sh", "-e", "-c"]
RUN echo "shell: $0" > shell.txt
EXPOSE 8080/tcp 53/udp
VOLUME ["/data"]
USER app
STOPSIGNAL SIGUSR1
HEALTHCHECK --interval=5s --timeout=2s --retries=4 CMD ["true"]
ONBUILD RUN echo triggered > /tmp/onbuild
ENTRYPOINT ["/bin/sh", "-c"]
CMD ["echo $NAME; id -u; cat /srv/app/renamed.txt"]
"""


def tar_gz(members):
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as t:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            info.mode = 0o600
            info.uid = 42
            t.addfile(info, io.BytesIO(data))
    return buf.getvalue()


def every_context(tmp_path, name="every"):
    return context(tmp_path, EVERY, {
        "conf/a.conf": "a\n", "conf/b.conf": "b\n", "conf/skip.txt": "no\n",
        "dir/x/y.txt": "deep\n", "dir/top.txt": "top\n",
        "single.txt": "single\n",
        "files.tar.gz": tar_gz({"inner/one.txt": b"one\n"}),
        "plain.txt": "plain\n",
    }, name=name)


@pytest.mark.parametrize("tool", ["berth", "docker"])
def test_every_instruction(bd, tool, tmp_path):
    ctx = every_context(tmp_path)
    tag = f"every-{tool}"
    p = build(bd, tool, ctx, "-t", tag, "--build-arg", "VERSION=2.5", "--label", "from=cli")
    assert b"[Warning] One or more build-args" not in p.stdout
    cfg = inspect(bd, tag)["Config"]
    assert "APP=/srv/app" in cfg["Env"] and "NAME=two words" in cfg["Env"]
    assert "V=2.5" in cfg["Env"]  # the global ARG's value, declared again in the stage
    assert cfg["Labels"] == {"org.example.version": "2.5", "quoted key": "a b", "from": "cli"}
    assert cfg["WorkingDir"] == "/srv/app"
    assert cfg["User"] == "app"
    assert cfg["ExposedPorts"] == {"8080/tcp": {}, "53/udp": {}}
    assert cfg["Volumes"] == {"/data": {}}
    assert cfg["StopSignal"] == "SIGUSR1"
    assert cfg["Healthcheck"] == {"Test": ["CMD", "true"], "Interval": 5000000000,
                                  "Timeout": 2000000000, "Retries": 4}
    assert cfg["OnBuild"] == ["RUN echo triggered > /tmp/onbuild"]
    assert cfg["Shell"] == ["/bin/sh", "-e", "-c"]
    assert cfg["Entrypoint"] == ["/bin/sh", "-c"]
    assert cfg["Cmd"] == ["echo $NAME; id -u; cat /srv/app/renamed.txt"]
    assert inspect(bd, tag)["Author"] == "someone@example.com"
    # the default CMD runs as the user, with the environment
    assert run_out(bd, tag) == "two words\n1234\nsingle\n"
    listing = run_out(bd, tag, "cd /srv/app && find . /unpacked /plain | sort && "
                      "stat -c '%n %u %g %a' conf/a.conf conf/b.conf /unpacked/inner/one.txt && "
                      "cat exec.txt shell.txt")
    files = listing.splitlines()
    for f in ("./conf/a.conf", "./conf/b.conf", "./tree/x/y.txt", "./tree/top.txt",
              "./renamed.txt", "/unpacked/inner/one.txt", "/plain/plain.txt"):
        assert f in files, listing
    assert "./conf/skip.txt" not in files and "./tree/dir" not in files
    assert "/unpacked/files.tar.gz" not in files  # ADD unpacked the local archive
    assert "conf/a.conf 1234 1234 640" in files and "conf/b.conf 1234 1234 640" in files
    assert "/unpacked/inner/one.txt 42 0 600" in files  # the archive's owners and modes
    assert "exec form" in files and "shell: /bin/sh" in files
    # one history row per step, metadata steps without a layer, as the classic builder
    rows = cli(bd, "docker", "history", "--no-trunc", "--format",
               "{{.CreatedBy}}|{{.Size}}", tag).stdout.decode().splitlines()
    created = [r.rsplit("|", 1)[0] for r in rows]
    assert created[0] == "/bin/sh -e -c #(nop)  LABEL from=cli"
    assert created[1] == '/bin/sh -e -c #(nop)  CMD ["echo $NAME; id -u; cat /srv/app/renamed.txt"]'
    assert "/bin/sh -c #(nop)  ENV APP=/srv/app NAME=two words V=2.5" in created
    assert "/bin/sh -c #(nop)  WORKDIR /srv/app" in created
    assert "/bin/sh -e -c #(nop)  EXPOSE 8080/tcp 53/udp" in created
    assert any(c.startswith("|2 UNUSED_DEFAULT=x VERSION=2.5 /bin/sh -c adduser")
               for c in created), created
    assert any(c.startswith("/bin/sh -c #(nop)  ADD file:") and c.endswith(" in /unpacked/ ")
               for c in created)
    assert "|2 UNUSED_DEFAULT=x VERSION=2.5 /bin/sh -e -c echo \"shell: $0\" > shell.txt" in created
    assert ('/bin/sh -e -c #(nop)  HEALTHCHECK &{["CMD" "true"] "5s" "2s" "0s" "0s" '
            "'\\x04'}") in created
    assert len(rows) == 1 + 24  # busybox's row + one per step (LABEL from --label included)
    # ONBUILD fires in an image built FROM this one
    child = context(tmp_path, f"FROM {tag}\nUSER root\nRUN cat /tmp/onbuild\n", name="child")
    out = build(bd, tool, child, "-t", f"{tag}-child").stdout.decode()
    assert "# Executing 1 build trigger" in out
    assert "triggered" in run_out(bd, f"{tag}-child", "cat /tmp/onbuild")
    assert inspect(bd, f"{tag}-child")["Config"]["OnBuild"] in (None, [])


def test_run_output_of_any_size(bd, tmp_path):
    ctx = context(tmp_path, "FROM busybox\nRUN head -c 300000 /dev/zero | tr '\\0' a; echo; "
                            "echo end-of-output\n")
    out = build(bd, "berth", ctx, "--no-cache").stdout.decode()
    assert "a" * 300000 + "\nend-of-output\n" in out


def test_run_heredocs(bd, tmp_path):
    ctx = context(tmp_path, "FROM busybox\nRUN <<EOF\necho one > /one\necho two >> /one\nEOF\n"
                            "RUN cat <<-'END' > /two\n\tliteral $HOME\n\tEND\n")
    build(bd, "berth", ctx, "-t", "heredoc")
    assert run_out(bd, "heredoc", "cat", "/one", "/two") == "one\ntwo\nliteral $HOME\n"


COPY_HEREDOCS = """\
FROM busybox
ARG NAME=world
ENV GREETING=hello
COPY <<EOF /greeting
$GREETING ${NAME} "quoted" \\$HOME
EOF
COPY <<'EOF' /raw
$GREETING
EOF
COPY --chmod=750 --chown=1:2 <<A <<-B /multi/
first
A
\ttabbed
\t\ttwice
\tB
ADD <<EOF keep.txt /added/
added
EOF
RUN echo after
"""


@pytest.mark.parametrize("tool", ["berth", "docker"])
def test_copy_heredocs(bd, tool, tmp_path):
    ctx = context(tmp_path, COPY_HEREDOCS, {"keep.txt": "kept\n"})
    build(bd, tool, ctx, "-t", f"cphd-{tool}")
    ref = f"cphd-{tool}"
    assert run_out(bd, ref, "cat", "/greeting") == 'hello world "quoted" \\$HOME\n'
    assert run_out(bd, ref, "cat", "/raw") == "$GREETING\n"
    assert run_out(bd, ref, "cat", "/multi/A") == "first\n"
    assert run_out(bd, ref, "cat", "/multi/B") == "tabbed\ntwice\n"  # every leading tab
    assert run_out(bd, ref, "stat", "-c", "%a %u:%g %n", "/multi/A", "/multi/B",
                   "/added/EOF", "/added/keep.txt", "/greeting") == (
        "750 1:2 /multi/A\n750 1:2 /multi/B\n644 0:0 /added/EOF\n"
        "644 0:0 /added/keep.txt\n644 0:0 /greeting\n")
    assert run_out(bd, ref, "cat", "/added/EOF", "/added/keep.txt") == "added\nkept\n"
    if tool == "docker":
        return
    # the cache: the same heredocs hit; a build arg expanded in one misses from there
    out = build(bd, "berth", ctx).stdout.decode()
    assert all(c for _, c in steps_cached(out)[1:]), out
    out = build(bd, "berth", ctx, "--build-arg", "NAME=you", "-t", "cphd-you").stdout.decode()
    assert [c for _, c in steps_cached(out)] == [False, True, True, False, False, False,
                                                 False, False], out
    assert run_out(bd, "cphd-you", "cat", "/greeting") == 'hello you "quoted" \\$HOME\n'
    # another word for the same content is another file name: a miss
    (ctx / "Dockerfile").write_text(COPY_HEREDOCS.replace("<<A", "<<C").replace("\nA\n", "\nC\n"))
    out = build(bd, "berth", ctx, "-t", "cphd-c").stdout.decode()
    assert [c for _, c in steps_cached(out)] == [False, True, True, True, True, False, False,
                                                 False], out
    assert run_out(bd, "cphd-c", "cat", "/multi/C") == "first\n"
    # an unterminated heredoc, and one with --from
    (ctx / "Dockerfile").write_text("FROM busybox\nCOPY <<EOF /x\nnever ends\n")
    p = build(bd, "berth", ctx, check=False)
    assert p.returncode == 1 and b"unterminated heredoc EOF on line 2" in p.stderr, p.stderr
    (ctx / "Dockerfile").write_text("FROM busybox\nCOPY --from=busybox <<EOF /x\nx\nEOF\n")
    p = build(bd, "berth", ctx, check=False)
    assert p.returncode == 1, p.stdout
    assert b"COPY --from cannot be used with a heredoc" in p.stderr + p.stdout


RUN_MOUNTS = """\
FROM busybox AS src
RUN echo staged > /s
FROM busybox
WORKDIR /w
RUN --mount=type=cache,target=/cache,id=counter sh -c 'echo x >> /cache/log; wc -l < /cache/log > /count'
RUN --mount=type=cache,target=c2,uid=5,gid=6,mode=0700,sharing=locked stat -c '%u %g %a' /w/c2 > /st
RUN --mount=type=bind,source=data,target=/data cat /data/f > /out
RUN --mount=type=bind,target=/ctx sh -c 'touch /ctx/x 2>/dev/null && echo rw || echo ro' > /ro
RUN --mount=type=bind,source=data,target=/data,rw sh -c 'echo changed > /data/f; echo new > /data/new; cat /data/f' > /rw
RUN --mount=type=bind,source=data,target=/data ls /data > /after-rw
RUN --mount=type=bind,from=src,source=/s,target=/m/s --mount=type=tmpfs,target=/t,size=1m sh -c 'cat /m/s; df -k /t | tail -1 | awk "{print \\$2}"' > /from
RUN sh -c 'for d in /cache /w/c2 /data /ctx /m /t; do [ -e $d ] && echo $d; done; true' > /left
"""


def test_run_mounts(bd, tmp_path):
    ctx = context(tmp_path, RUN_MOUNTS, {"data/f": "from context\n"})
    for tool in ("berth", "docker"):
        build(bd, tool, ctx, "--no-cache", "-t", f"mounts-{tool}")
    ref = "mounts-docker"
    # the cache directory outlived the first build: two lines in it now
    assert run_out(bd, "mounts-berth", "cat", "/count") == "1\n"
    assert run_out(bd, ref, "cat", "/count") == "2\n"
    assert run_out(bd, ref, "cat", "/st") == "5 6 700\n"
    assert run_out(bd, ref, "cat", "/out") == "from context\n"
    assert run_out(bd, ref, "cat", "/ro") == "ro\n"
    assert run_out(bd, ref, "cat", "/rw") == "changed\n"
    assert run_out(bd, ref, "cat", "/after-rw") == "f\n"  # rw changes were thrown away
    assert run_out(bd, ref, "cat", "/from") == "staged\n1024\n"
    # nothing of a mount in the image: no mount point, no cache content
    assert run_out(bd, ref, "cat", "/left") == ""
    assert run_out(bd, ref, "ls", "/w") == ""
    assert not containers(bd)

    # the cache: unchanged, every step hits; a bind source's content is in the key
    out = build(bd, "berth", ctx).stdout.decode()
    assert all(c for i, c in steps_cached(out) if not i.startswith("FROM")), out
    (ctx / "data" / "f").write_text("changed in context\n")
    out = build(bd, "berth", ctx, "-t", "mounts-2").stdout.decode()
    cached = [c for _, c in steps_cached(out)]
    # FROM, RUN, FROM, WORKDIR, the two caches hit; the binds of the context miss
    assert cached == [False, True, False, True, True, True, False, False, False, False, False,
                      False], out
    assert run_out(bd, "mounts-2", "cat", "/out") == "changed in context\n"

    # builder prune empties the cache directories (on disk), and the count starts again
    cache_root = bd.data_root / "build-mounts"
    assert any(cache_root.iterdir())
    status, _, body = bd.http("POST", "/build/prune")
    ans = json.loads(body)
    assert status == 200 and any(k.startswith("cache-mount:") for k in ans["CachesDeleted"]), ans
    assert not any(cache_root.iterdir())
    build(bd, "berth", ctx, "--no-cache", "-t", "mounts-3")
    assert run_out(bd, "mounts-3", "cat", "/count") == "1\n"
    for ref in ("mounts-berth", "mounts-docker", "mounts-2", "mounts-3"):
        bd.http("DELETE", f"/images/{ref}")



@pytest.mark.parametrize("sharing,seen", [("locked", "a-start\n"), ("private", ""),
                                          ("shared", "a-start\n")])
def test_run_mount_cache_sharing(bd, tmp_path, sharing, seen):
    """A RUN holds the cache for 2 s while another build's RUN wants it at once."""
    import threading
    cid = f"sharing-{sharing}-{time.time_ns()}"
    a = context(tmp_path, f"FROM busybox\nRUN --mount=type=cache,target=/c,id={cid},"
                f"sharing={sharing} sh -c 'touch /c/a-start; sleep 2; echo a'\n", name="a")
    b = context(tmp_path, f"FROM busybox\nRUN --mount=type=cache,target=/c,id={cid},"
                f"sharing={sharing} ls /c > /seen\n", name="b")
    t = threading.Thread(target=build, args=(bd, "berth", a, "--no-cache"))
    t.start()
    import hashlib
    started = bd.data_root / "build-mounts" / hashlib.sha256(cid.encode()).hexdigest() / "a-start"
    for _ in range(600):  # A's RUN holds the cache once it wrote there
        if started.exists():
            break
        time.sleep(0.05)
    assert started.exists()
    t0 = time.monotonic()
    build(bd, "berth", b, "--no-cache", "-t", f"sharing:{sharing}")
    waited = time.monotonic() - t0
    t.join()
    assert run_out(bd, f"sharing:{sharing}", "cat", "/seen") == seen
    # locked waits for A (2 s from its a-start); private got a directory of its own
    if sharing == "locked":
        assert waited > 1.5, waited
    bd.http("DELETE", f"/images/sharing:{sharing}")


@pytest.mark.parametrize("mount,message", [
    ("type=secret,id=x", "the --mount=type=secret option requires BuildKit"),
    ("type=ssh", "the --mount=type=ssh option requires BuildKit"),
    ("type=cache", "a target is required"),
    ("type=cache,target=/c,colour=red", "unexpected key 'colour' in 'colour=red'"),
    ("type=cache,target=/c,sharing=sometimes", 'unsupported sharing value "sometimes"'),
    ("type=volume,target=/c", 'unsupported mount type "volume"'),
    ("type=bind,source=../../etc,target=/c", "forbidden path outside the build context"),
    ("type=bind,source=missing,target=/c", "missing"),
    ("type=tmpfs,target=/c,size=lots", 'invalid size value "lots"'),
    ("type=cache,target=/c,from=busybox", "requires BuildKit"),
])
def test_run_mount_errors(bd, tmp_path, mount, message):
    ctx = context(tmp_path, f"FROM busybox\nRUN --mount={mount} true\n")
    p = build(bd, "berth", ctx, check=False)
    assert p.returncode != 0 and message.encode() in p.stderr + p.stdout, p.stderr
    assert not containers(bd)
    assert not list((bd.data_root / "tmp").glob("build-*"))


@pytest.mark.parametrize("tool", ["berth", "docker"])
def test_run_network_limits_and_copy_from_image(bd, tool, tmp_path):
    ctx = context(tmp_path, "FROM busybox\n"
                            "RUN --network=none ls /sys/class/net > /nets\n"
                            "RUN cat /sys/fs/cgroup/memory/memory.limit_in_bytes > /limit\n"
                            "COPY --from=busybox /bin/busybox /copied/bb\n")
    build(bd, tool, ctx, "-m", "64m", "-t", f"limits-{tool}")
    assert run_out(bd, f"limits-{tool}", "cat", "/nets", "/limit") == "lo\n67108864\n"
    run_out(bd, f"limits-{tool}", "cmp", "/copied/bb", "/bin/busybox")


def test_cancelled_build_leaves_nothing(bd, tmp_path):
    ctx = context(tmp_path, "FROM busybox\nRUN echo started && sleep 60\n")
    env = dict(os.environ, DOCKER_HOST=f"unix://{bd.sock}")
    p = subprocess.Popen([str(berth_binary()), "build", "--no-cache", str(ctx)], env=env,
                         stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    try:
        seen = b""
        while b"started" not in seen:
            line = p.stdout.readline()
            assert line, seen
            seen += line
    finally:
        p.kill()
        p.wait()
    # berthd notices the client is gone, kills the RUN container and removes it, then the
    # context (its tmpfs) and the build's directory
    deadline = time.monotonic() + 20
    while containers(bd) or [m for m in mounts_under(bd.dir) if "/tmp/build-" in m]:
        assert time.monotonic() < deadline, (containers(bd), mounts_under(bd.dir))
        time.sleep(0.2)
    assert wait_until(lambda: not list((bd.data_root / "tmp").glob("build-*")), 5)


@pytest.fixture
def http_server(tmp_path):
    """A static HTTP server on loopback serving tmp_path/www."""
    import functools
    import http.server
    import threading
    www = tmp_path / "www"
    www.mkdir()
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(www))
    handler.log_message = lambda *a: None
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    t = threading.Thread(target=srv.serve_forever, daemon=True)
    t.start()
    yield www, f"http://127.0.0.1:{srv.server_address[1]}"
    srv.shutdown()
    srv.server_close()


@pytest.mark.parametrize("tool", ["berth", "docker"])
def test_add_url(bd, tool, tmp_path, http_server):
    www, url = http_server
    (www / "page.txt").write_text("from the web\n")
    (www / "t.tar.gz").write_bytes(tar_gz({"in.txt": b"x"}))
    os.utime(www / "page.txt", (1600000000, 1600000000))
    ctx = context(tmp_path, f"FROM busybox\nADD {url}/page.txt /web/\nADD {url}/t.tar.gz /web/\n"
                            "COPY . /ctx/\n")
    out = build(bd, tool, ctx, "-t", f"addurl-{tool}").stdout.decode()
    got = run_out(bd, f"addurl-{tool}", "sh", "-c", "stat -c '%n %a %Y' /web/* && cat /web/page.txt && "
                                        "find /ctx -name '.berth*'")
    # downloaded files are 0600, keep Last-Modified, and an archive is not unpacked
    assert got == ("/web/page.txt 600 1600000000\n/web/t.tar.gz 600 " +
                   got.split("/web/t.tar.gz 600 ")[1].split("\n")[0] + "\nfrom the web\n"), got
    # the content is the cache key: the same bytes hit, new bytes miss
    out = build(bd, tool, ctx, "-t", f"addurl-{tool}").stdout.decode()
    assert [c for _, c in steps_cached(out)] == [False, True, True, True], out
    (www / "page.txt").write_text(f"changed for {tool}\n")
    out = build(bd, tool, ctx, "-t", f"addurl-{tool}").stdout.decode()
    assert [c for _, c in steps_cached(out)] == [False, False, False, False], out
    (www / "page.txt").unlink()
    p = build(bd, tool, ctx, "-t", f"addurl-{tool}", check=False)
    assert b"ADD failed: failed to GET " + url.encode() + b"/page.txt with status 404" in \
        p.stdout + p.stderr


def test_unused_build_arg_is_reported(bd, tmp_path):
    ctx = context(tmp_path, "FROM busybox\nARG USED\nRUN echo $USED\n")
    out = build(bd, "berth", ctx, "--build-arg", "USED=1", "--build-arg", "NOPE=2").stdout
    assert b"[Warning] One or more build-args [NOPE] were not consumed" in out


# ---- the cache ------------------------------------------------------------------------------------

CACHED = """\
FROM busybox
COPY first.txt /first.txt
RUN echo prepare > /prepared
ARG MODE=a
RUN echo "mode $MODE" > /mode
COPY second.txt /second.txt
RUN cat /first.txt /second.txt /mode > /all
CMD ["cat", "/all"]
"""


def test_cache_rules(bd, tmp_path):
    ctx = context(tmp_path, CACHED, {"first.txt": "1\n", "second.txt": "2\n"})
    out1 = build(bd, "berth", ctx, "-t", "cache:1").stdout.decode()
    first = image_id(bd, "cache:1")
    assert not any(c for _, c in steps_cached(out1)[1:]), out1

    # nothing changed: every step reused, the same image
    out = build(bd, "docker", ctx, "-t", "cache:2").stdout.decode()
    assert all(c for _, c in steps_cached(out)[1:]), out
    assert image_id(bd, "cache:2") == first

    # a new mtime on the same content still hits
    os.utime(ctx / "first.txt", (time.time() + 100, time.time() + 100))
    out = build(bd, "berth", ctx, "-t", "cache:3").stdout.decode()
    assert all(c for _, c in steps_cached(out)[1:]), out
    assert image_id(bd, "cache:3") == first

    # the second COPY source changes: that step and everything after it run
    (ctx / "second.txt").write_text("2b\n")
    out = build(bd, "berth", ctx, "-t", "cache:4").stdout.decode()
    assert [c for _, c in steps_cached(out)] == [False, True, True, True, True, False, False,
                                                 False], out
    assert run_out(bd, "cache:4") == "1\n2b\nmode a\n"

    # a build arg used by a RUN: from that RUN on
    out = build(bd, "berth", ctx, "--build-arg", "MODE=b", "-t", "cache:5").stdout.decode()
    assert [c for _, c in steps_cached(out)] == [False, True, True, True, False, False, False,
                                                 False], out
    assert run_out(bd, "cache:5") == "1\n2b\nmode b\n"

    # --no-cache runs everything; the history is the same shape
    out = build(bd, "berth", ctx, "--no-cache", "-t", "cache:6").stdout.decode()
    assert not any(c for _, c in steps_cached(out)), out
    assert image_id(bd, "cache:6") != image_id(bd, "cache:4")

    # build/prune (all: these images are tagged, so only all=1 forgets their keys)
    status, _, body = bd.http("POST", "/build/prune?all=1")
    assert status == 200 and len(json.loads(body)["CachesDeleted"]) > 0
    out = build(bd, "berth", ctx, "-t", "cache:7").stdout.decode()
    assert not any(c for _, c in steps_cached(out)[1:]), out
    assert not containers(bd)


# ---- where the context lives ----------------------------------------------------------------------

# the context's filesystem type as the RUN sees its bind, and a file of it
WHERE = ("FROM busybox\nRUN --mount=type=bind,target=/ctx sh -c 'grep \" /ctx \" "
         "/proc/self/mountinfo | sed \"s/.* - //\" | cut -d\" \" -f1 > /fstype; "
         "cat /ctx/f > /f'\n")


def fstype_of(path):
    """The filesystem type of the mount holding path, as mountinfo names it."""
    path, best, kind = str(Path(path).resolve()), "", None
    for line in Path("/proc/self/mountinfo").read_text().splitlines():
        fields = line.split()
        mnt = fields[4]
        if (path == mnt or path.startswith(mnt.rstrip("/") + "/")) and len(mnt) >= len(best):
            best, kind = mnt, fields[fields.index("-") + 1]
    return kind


def build_dirs(bd):
    return list((bd.data_root / "tmp").glob("build-*")) + \
        [m for m in mounts_under(bd.dir) if "/tmp/build-" in m]


def test_context_in_memory_or_on_disk(bd, tmp_path):
    disk = fstype_of(bd.data_root)
    # a small context: a tmpfs of the build's, gone with the build
    ctx = context(tmp_path, WHERE, {"f": "small\n"}, name="small")
    build(bd, "docker", ctx, "--no-cache", "-t", "where:small")
    assert run_out(bd, "where:small", "cat", "/fstype", "/f") == "tmpfs\nsmall\n"
    assert not build_dirs(bd)

    # more than 64 MiB of body: on disk, beside the data
    ctx = context(tmp_path, WHERE, {"f": "big\n", "pad": b"\0" * (65 << 20)}, name="big")
    build(bd, "berth", ctx, "--no-cache", "-t", "where:big")
    assert run_out(bd, "where:big", "cat", "/fstype", "/f") == f"{disk}\nbig\n"
    assert not build_dirs(bd)

    # a small gzip body that unpacks to more than the tmpfs holds (256 MiB): again on disk
    class Zeros:
        def read(self, n):
            return b"\0" * n

    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz", compresslevel=1) as t:
        for name, data in (("Dockerfile", WHERE.encode()), ("f", b"unpacked twice\n")):
            info = tarfile.TarInfo(name)
            info.size = len(data)
            t.addfile(info, io.BytesIO(data))
        info = tarfile.TarInfo("zeros")
        info.size = 300 << 20
        t.addfile(info, Zeros())
    assert len(buf.getvalue()) < 64 << 20
    status, _, body = bd.http("POST", "/build?t=where:gz&nocache=1", body=buf.getvalue(),
                              headers={"Content-Type": "application/x-tar"}, timeout=180)
    assert status == 200 and b'"aux"' in body and b"errorDetail" not in body, body[-2000:]
    assert run_out(bd, "where:gz", "cat", "/fstype", "/f") == f"{disk}\nunpacked twice\n"
    assert not build_dirs(bd)
    for tag in ("small", "big", "gz"):
        bd.http("DELETE", f"/images/where:{tag}")


def test_leftovers_go_and_the_cache_stays_across_a_restart(make_berthd, tmp_path):
    b = make_berthd()
    import_busybox(b)
    ctx = context(tmp_path, "FROM busybox\nCOPY f /f\nRUN cat /f > /g\n", {"f": "kept\n"})
    out = cli(b, "berth", "build", "-t", "restart:1", str(ctx)).stdout.decode()
    assert not any(c for _, c in steps_cached(out)[1:]), out
    assert b.stop() == 0

    # what a build killed mid-way leaves: its context's tmpfs with a download's bind on it, and
    # a step's root
    left = b.data_root / "tmp" / "build-Left01"
    (left / "context").mkdir(parents=True)
    (left / "root0" / "merged").mkdir(parents=True)
    (left / ".berth-add-1").mkdir()
    mounts = [("-t", "tmpfs", "tmpfs", left / "context"),
              ("--bind", left / ".berth-add-1", left / "context" / ".berth-add-1"),
              ("-t", "tmpfs", "tmpfs", left / "root0" / "merged")]
    for i, m in enumerate(mounts):
        if i == 1:
            (left / "context" / ".berth-add-1").mkdir()
        subprocess.run(["mount", *map(str, m)], check=True)
    (left / "context" / "Dockerfile").write_text("FROM busybox\n")
    assert len(mounts_under(left)) == 3

    b.start()
    assert mounts_under(left) == [] and not left.exists()
    # the cache index was the file's: every step hits, the same image
    out = cli(b, "berth", "build", "-t", "restart:2", str(ctx)).stdout.decode()
    assert all(c for _, c in steps_cached(out)[1:]), out
    assert image_id(b, "restart:2") == image_id(b, "restart:1")


def test_secret_flag_is_refused_as_docker_refuses_it(bd, tmp_path):
    """The classic builder carries no secrets: docker's CLI without buildx has no --secret."""
    ctx = context(tmp_path, "FROM busybox\nRUN true\n")
    (tmp_path / "s").write_text("hush")
    errs = {}
    for tool in ("berth", "docker"):
        p = build(bd, tool, ctx, "--secret", f"id=s,src={tmp_path / 's'}", check=False)
        assert p.returncode == 125, p
        err = p.stderr.decode()
        errs[tool] = err[err.index("unknown flag"):].replace(f"{tool} build", "X build")
    assert errs["berth"].startswith("unknown flag: --secret\n"), errs
    assert errs["berth"] == errs["docker"]
    assert not containers(bd)


# ---- builder prune ------------------------------------------------------------------------------

def layer_dirs(bd):
    return {p.name for p in (bd.data_root / "layers").iterdir() if not p.name.startswith(".")}


def image_exists(bd, ident):
    return bd.http("GET", f"/images/{ident}/json")[0] == 200


def history_ids(bd, ref):
    """The image ids of ref's chain, newest first (the steps' images)."""
    status, _, body = bd.http("GET", f"/images/{ref}/history")
    assert status == 200
    return [h["Id"] for h in json.loads(body) if h["Id"] != "<missing>"]


def test_builder_prune(bd, tmp_path):
    keep = context(tmp_path, "FROM busybox\nRUN head -c 1000000 /dev/urandom > /keep\n"
                   "LABEL kept=1\n", name="keep")
    drop = context(tmp_path, "FROM busybox\nRUN head -c 3000000 /dev/urandom > /drop\n"
                   "RUN head -c 2000000 /dev/urandom > /drop2\nLABEL dropped=1\n", name="drop")
    build(bd, "berth", keep, "-t", "prune:keep")
    out = build(bd, "docker", drop, "-q").stdout.decode().strip()
    top = out.splitlines()[-1]
    chain = history_ids(bd, top)  # LABEL, RUN drop2, RUN drop, busybox
    assert chain[0] == top and len(chain) == 4, chain
    busybox = image_id(bd, "busybox")
    assert chain[3] == busybox
    # a container holds the first RUN's image
    ctr = cli(bd, "docker", "create", chain[2], "true").stdout.decode().strip()
    before = layer_dirs(bd)

    # default: what only the cache holds goes (the untagged chain down to the container's)
    p = cli(bd, "berth", "builder", "prune", "-f")
    assert not image_exists(bd, chain[0]) and not image_exists(bd, chain[1])
    assert image_exists(bd, chain[2]) and image_exists(bd, busybox)
    gone = before - layer_dirs(bd)
    assert len(gone) == 1, (gone, p.stdout)  # drop2's layer; the LABEL had none
    assert b"Total reclaimed space: 2" in p.stdout, p.stdout
    for ref in ("prune:keep", "busybox"):
        assert image_exists(bd, ref)
    assert run_out(bd, "prune:keep", "wc", "-c", "/keep").split()[0] == "1000000"

    # the container gone, its image goes at the next prune, through the docker CLI
    cli(bd, "docker", "rm", ctr)
    before = layer_dirs(bd)
    status, _, body = bd.http("POST", "/build/prune")
    ans = json.loads(body)
    assert status == 200 and ans["CachesDeleted"], ans
    assert not image_exists(bd, chain[2]) and image_exists(bd, busybox)
    assert len(before - layer_dirs(bd)) == 1
    assert 3000000 <= ans["SpaceReclaimed"] < 3200000, ans

    # a tagged image keeps its chain and (without -a) its cache
    out = build(bd, "berth", keep).stdout.decode()
    assert all(c for _, c in steps_cached(out)[1:]), out
    # until: a cache younger than an hour stays
    p = cli(bd, "docker", "builder", "prune", "-a", "-f", "--filter", "until=1h")
    out = build(bd, "berth", keep).stdout.decode()
    assert all(c for _, c in steps_cached(out)[1:]), out
    # -a forgets its keys but keeps the tagged image and what it needs
    before = layer_dirs(bd)
    cli(bd, "docker", "builder", "prune", "-a", "-f")
    assert image_exists(bd, "prune:keep") and layer_dirs(bd) == before
    assert history_ids(bd, "prune:keep")[1:] and all(
        image_exists(bd, i) for i in history_ids(bd, "prune:keep"))
    out = build(bd, "berth", keep, "-t", "prune:again").stdout.decode()
    assert not any(c for _, c in steps_cached(out)[1:]), out
    assert image_id(bd, "prune:again") != image_id(bd, "prune:keep")

    # bad filters
    p = cli(bd, "berth", "builder", "prune", "-f", "--filter", "color=red", check=False)
    assert p.returncode == 1 and b"invalid filter 'color'" in p.stderr, p.stderr
    status, _, body = bd.http("POST", "/build/prune?filters=%7B%22until%22%3A%5B%22soon%22%5D%7D")
    assert status == 400 and b"soon" in body, body
    for ref in ("prune:keep", "prune:again"):
        bd.http("DELETE", f"/images/{ref}")


CACHE_FROM = """\
FROM busybox
ARG V=1
ENV A=1
COPY f /f
RUN echo "$V" > /v && head -c 100000 /dev/urandom > /rand
LABEL done=yes
CMD ["cat", "/v"]
"""


@pytest.mark.parametrize("tool", ["berth", "docker"])
def test_cache_from_after_save_and_load(bd, tool, tmp_path):
    ctx = context(tmp_path, CACHE_FROM, {"f": "f\n"})
    build(bd, "berth", ctx, "-t", "cf:src")
    src = image_id(bd, "cf:src")
    rand = run_out(bd, "cf:src", "md5sum", "/rand")
    tar = tmp_path / "img.tar"
    cli(bd, "docker", "save", "-o", str(tar), "cf:src")
    # nothing of the build is left: the image, its steps, the cache
    cli(bd, "docker", "rmi", "cf:src")
    cli(bd, "berth", "builder", "prune", "-a", "-f")
    assert not image_exists(bd, src)
    cli(bd, "docker", "load", "-i", str(tar))
    assert image_id(bd, "cf:src") == src

    # without --cache-from the loaded image is no cache (no parent chain in the store)
    out = build(bd, tool, ctx, "--cache-from", "cf:nothing-such", "-t", "cf:nocf").stdout.decode()
    assert not any(c for i, c in steps_cached(out)[1:]), out
    assert image_id(bd, "cf:nocf") != src
    cli(bd, "berth", "builder", "prune", "-a", "-f")
    # with it every step is reused and the result is the loaded image itself
    out = build(bd, tool, ctx, "--cache-from", "cf:src", "-t", "cf:again").stdout.decode()
    assert all(c for _, c in steps_cached(out)[1:]), out
    assert image_id(bd, "cf:again") == src
    assert run_out(bd, "cf:again", "md5sum", "/rand") == rand
    # the steps restored on the way are images with the source's history
    hist = json.loads(bd.http("GET", "/images/cf:again/history")[2])
    assert len(hist) >= 6 and hist[0]["Id"] == src
    # a changed build arg: from that RUN on, the source is no match
    out = build(bd, tool, ctx, "--cache-from", "cf:src", "--build-arg", "V=2",
                "-t", "cf:v2").stdout.decode()
    assert [c for _, c in steps_cached(out)] == [False, True, True, True, False, False,
                                                 False], out
    assert run_out(bd, "cf:v2") == "2\n"
    # --no-cache wins over --cache-from
    out = build(bd, tool, ctx, "--cache-from", "cf:src", "--no-cache").stdout.decode()
    assert not any(c for _, c in steps_cached(out)), out
    for ref in ("cf:src", "cf:again", "cf:v2", "cf:nocf"):
        bd.http("DELETE", f"/images/{ref}?force=1")


def test_cache_from_bad_query(bd):
    status, _, body = bd.http("POST", "/build?cachefrom=%7B%22a%22%3A1%7D", body=b"",
                              headers={"Content-Type": "application/x-tar"})
    assert status == 400 and b"invalid cachefrom" in body, body


# ---- remote contexts ------------------------------------------------------------------------------

def git(*args, cwd=None):
    env = dict(os.environ, GIT_CONFIG_NOSYSTEM="1", HOME="/nonexistent",
               GIT_AUTHOR_NAME="t", GIT_AUTHOR_EMAIL="t@t", GIT_COMMITTER_NAME="t",
               GIT_COMMITTER_EMAIL="t@t")
    return subprocess.run(["git", *args], cwd=cwd, env=env, check=True, capture_output=True,
                          text=True).stdout.strip()


@pytest.fixture
def git_repos(tmp_path, http_server):
    """A repository served by `git daemon` on loopback and, bare, over dumb HTTP."""
    import socket
    work = tmp_path / "work"
    work.mkdir()
    git("init", "-q", "-b", "main", cwd=work)
    (work / "Dockerfile").write_text("FROM busybox\nCOPY hello /hello\nCMD [\"cat\", \"/hello\"]\n")
    (work / "hello").write_text("main branch\n")
    (work / "sub").mkdir()
    (work / "sub" / "Dockerfile").write_text("FROM busybox\nCOPY . /sub/\n")
    (work / "sub" / "in-sub").write_text("in sub\n")
    (work / "sub" / "up").symlink_to("../..")
    git("add", "-A", cwd=work)
    git("commit", "-q", "-m", "one", cwd=work)
    first = git("rev-parse", "HEAD", cwd=work)
    git("checkout", "-q", "-b", "other", cwd=work)
    (work / "hello").write_text("other branch\n")
    git("commit", "-q", "-am", "two", cwd=work)
    git("tag", "v2", cwd=work)
    git("checkout", "-q", "main", cwd=work)
    (work / "hello").write_text("main, later\n")
    git("commit", "-q", "-am", "three", cwd=work)
    base = tmp_path / "served"
    base.mkdir()
    git("clone", "-q", "--bare", str(work), str(base / "repo.git"))
    www, url = http_server
    git("clone", "-q", "--bare", str(work), str(www / "repo.git"))
    git("update-server-info", cwd=www / "repo.git")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    # `git daemon` runs git-daemon as its child: in a session of its own, so that the whole
    # group is ended at the end (killing git alone left git-daemon listening)
    daemon = subprocess.Popen(["git", "daemon", "--reuseaddr", "--export-all", "--listen=127.0.0.1",
                               f"--port={port}", f"--base-path={base}", str(base)],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                              start_new_session=True)
    try:
        for _ in range(100):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                time.sleep(0.05)
        yield {"git": f"git://127.0.0.1:{port}/repo.git", "http": f"{url}/repo.git",
               "first": first, "www": www, "url": url}
    finally:
        os.killpg(daemon.pid, signal.SIGKILL)
        daemon.wait()


def test_remote_git_contexts(bd, git_repos):
    g = git_repos["git"]
    cli(bd, "berth", "build", "-t", "remote:main", g)
    assert run_out(bd, "remote:main") == "main, later\n"
    cli(bd, "berth", "build", "-t", "remote:tag", g + "#v2")
    assert run_out(bd, "remote:tag") == "other branch\n"
    cli(bd, "berth", "build", "-t", "remote:branch", g + "#other")
    assert run_out(bd, "remote:branch") == "other branch\n"
    # a commit cannot be fetched shallow by name: the whole clone and a checkout
    cli(bd, "berth", "build", "-t", "remote:commit", g + "#" + git_repos["first"])
    assert run_out(bd, "remote:commit") == "main branch\n"
    cli(bd, "berth", "build", "-t", "remote:sub", g + "#main:sub")
    assert sorted(run_out(bd, "remote:sub", "ls", "/sub").split()) == ["Dockerfile", "in-sub",
                                                                       "up"]
    # dumb HTTP (no shallow clone there), through the API as docker-py sends it
    import docker
    client = docker.DockerClient(base_url=f"unix://{bd.sock}", version="1.41")
    img, _ = client.images.build(path=git_repos["http"] + "#other", tag="remote:http")
    assert run_out(bd, "remote:http") == "other branch\n"
    client.close()
    for ref in ("remote:main", "remote:tag", "remote:branch", "remote:commit", "remote:sub",
                "remote:http"):
        bd.http("DELETE", f"/images/{ref}")
    assert not list((bd.data_root / "tmp").glob("build-*"))


def test_remote_url_contexts(bd, git_repos):
    www, url = git_repos["www"], git_repos["url"]
    (www / "Dockerfile.txt").write_text("FROM busybox\nRUN echo from-url > /u\n")
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as t:
        for name, data in (("Dockerfile", b"FROM busybox\nCOPY f /f\n"), ("f", b"tarred\n")):
            info = tarfile.TarInfo(name)
            info.size = len(data)
            t.addfile(info, io.BytesIO(data))
    (www / "ctx.tar.gz").write_bytes(buf.getvalue())
    cli(bd, "berth", "build", "-t", "remote:df", f"{url}/Dockerfile.txt")
    assert run_out(bd, "remote:df", "cat", "/u") == "from-url\n"
    status, _, body = bd.http("POST", "/build?t=remote:tar&remote=" + f"{url}/ctx.tar.gz",
                              body=b"", headers={"Content-Type": "application/x-tar"})
    assert status == 200 and b"Successfully tagged" in body, body
    assert run_out(bd, "remote:tar", "cat", "/f") == "tarred\n"
    p = cli(bd, "berth", "build", f"{url}/missing", check=False)
    assert p.returncode == 1 and b"failed to GET" in p.stderr and b"404" in p.stderr, p.stderr
    for ref in ("remote:df", "remote:tar"):
        bd.http("DELETE", f"/images/{ref}")


@pytest.mark.parametrize("remote,message", [
    ("--upload-pack=touch /tmp/pwned git://127.0.0.1/x.git", "invalid remote URL"),
    ("git://127.0.0.1:1/x.git#--upload-pack=x", "invalid git ref"),
    ("git://127.0.0.1:1/x.git#main:../..", "leaves the repository"),
    ("git://127.0.0.1:1/x.git#main:/etc", "leaves the repository"),
    ("ext::sh -c touch% /tmp/pwned", "could not be recognized as URL"),
    ("file:///etc", "could not be recognized as URL"),
    ("git://127.0.0.1:1/nothing.git", "error fetching"),
])
def test_remote_refused(bd, remote, message):
    from urllib.parse import quote
    status, _, body = bd.http("POST", "/build?remote=" + quote(remote, safe=""), body=b"",
                              headers={"Content-Type": "application/x-tar"})
    assert status in (400, 500) and message.encode() in body, (status, body)
    assert not os.path.exists("/tmp/pwned")
    assert not list((bd.data_root / "tmp").glob("build-*"))


def test_remote_subdir_symlink_stays_inside(bd, git_repos):
    # "up" is a symlink to ../.. inside sub: resolved in the clone, it is the clone's root
    cli(bd, "berth", "build", "-t", "remote:up", git_repos["git"] + "#main:sub/up")
    assert run_out(bd, "remote:up") == "main, later\n"
    bd.http("DELETE", "/images/remote:up")


# ---- contexts -------------------------------------------------------------------------------------

def test_dockerignore_and_file_flag(bd, tmp_path):
    ctx = context(tmp_path, "FROM busybox\nCOPY . /ctx/\nCMD find /ctx -type f\n", {
        ".dockerignore": "*.log\nsecret/\n!secret/keep.txt\nDockerfile\n.dockerignore\n",
        "a.log": "x", "keep.txt": "k", "sub/b.log": "y",
        "secret/key": "s", "secret/keep.txt": "kept",
    })
    (tmp_path / "other.Dockerfile").write_text("FROM busybox\nCOPY keep.txt /k\n")
    for tool in ("berth", "docker"):
        build(bd, tool, ctx, "-t", f"ign-{tool}")
        files = sorted(run_out(bd, f"ign-{tool}").split())
        # the Dockerfile and .dockerignore are sent but dropped: .dockerignore names them
        assert files == ["/ctx/keep.txt", "/ctx/secret/keep.txt", "/ctx/sub/b.log"], files
        # -f outside the context
        build(bd, tool, ctx, "-f", str(tmp_path / "other.Dockerfile"), "-t", f"f-{tool}")
        assert run_out(bd, f"f-{tool}", "cat", "/k") == "k"


def test_stdin_dockerfile_and_tar(bd, tmp_path):
    for tool in ("berth", "docker"):
        p = cli(bd, tool, "build", "-t", f"stdin-{tool}", "-",
                input=b"FROM busybox\nRUN echo hello world\n")
        assert b"hello world\n" in p.stdout
        assert b"Successfully tagged stdin-" in p.stdout
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as t:
        for name, data in (("Dockerfile", b"FROM busybox\nCOPY f /f\n"), ("f", b"from tar\n")):
            info = tarfile.TarInfo(name)
            info.size = len(data)
            t.addfile(info, io.BytesIO(data))
    p = cli(bd, "berth", "build", "-q", "--iidfile", str(tmp_path / "iid"), "-t", "fromtar", "-",
            input=buf.getvalue())
    iid = (tmp_path / "iid").read_text()
    assert p.stdout.decode().strip() == iid == image_id(bd, "fromtar")
    assert run_out(bd, "fromtar", "cat", "/f") == "from tar\n"


def test_docker_py_build(bd, tmp_path):
    ctx = context(tmp_path, "FROM busybox\nLABEL via=docker-py\nRUN echo py > /py\n")
    out = subprocess.run(
        ["/usr/bin/python3", "-c",
         "import docker,sys,json\n"
         f"c = docker.DockerClient(base_url='unix://{bd.sock}')\n"
         f"img, logs = c.images.build(path='{ctx}', tag='py:1', rm=True)\n"
         "print(json.dumps({'id': img.id, 'labels': img.labels}))\n"],
        capture_output=True, timeout=120)
    assert out.returncode == 0, out.stderr.decode()
    ans = json.loads(out.stdout.decode().splitlines()[-1])
    assert ans["labels"] == {"via": "docker-py"}
    assert ans["id"] == image_id(bd, "py:1")


def test_compose_build(bd, tmp_path):
    ctx = context(tmp_path, "FROM busybox\nARG WHO\nRUN echo \"built for $WHO\" > /who\n"
                            "CMD [\"cat\", \"/who\"]\n")
    (ctx / "docker-compose.yml").write_text(
        "version: '3'\nservices:\n  app:\n    build:\n      context: .\n"
        "      args:\n        WHO: compose\n    image: composed:1\n")
    env = dict(os.environ, DOCKER_HOST=f"unix://{bd.sock}", COMPOSE_DOCKER_CLI_BUILD="0",
               DOCKER_CONFIG=str(bd.dir / "docker-config"))
    p = subprocess.run(["docker-compose", "-p", "bt", "build"], cwd=ctx, env=env,
                       capture_output=True, timeout=180)
    assert p.returncode == 0, (p.stdout, p.stderr, bd.log_text()[-2000:])
    assert run_out(bd, "composed:1") == "built for compose\n"


# ---- bad input ------------------------------------------------------------------------------------

BAD = [
    ("unknown", "FROM busybox\nFOO bar\n",
     "dockerfile parse error on line 2: unknown instruction: FOO"),
    ("empty", "", "the Dockerfile (Dockerfile) cannot be empty"),
    ("comments only", "# nothing\n", "failed to parse Dockerfile: file with no instructions"),
    ("no FROM", "RUN true\n",
     "dockerfile parse error on line 1: no build stage in current context"),
    ("unterminated quote", 'FROM busybox\nENV A="open\n',
     "unexpected end of statement while looking for matching double-quote"),
    ("unterminated heredoc", "FROM busybox\nRUN <<EOF\necho hi\n",
     "failed to parse Dockerfile: unterminated heredoc EOF on line 2"),
    ("outside", "FROM busybox\nCOPY ../outside /x\n",
     "COPY failed: forbidden path outside the build context: ../outside ()"),
    ("missing file", "FROM busybox\nCOPY nothere /x\n",
     "COPY failed: file not found in build context or excluded by .dockerignore: "
     "stat nothere: file does not exist"),
    ("missing stage", "FROM busybox\nCOPY --from=nostage /x /x\n",
     "invalid from flag value nostage"),
    ("remote ADD refused", "FROM busybox\nADD http://127.0.0.1:9/x /x\n",
     "ADD failed: failed to GET http://127.0.0.1:9/x: "),
    ("ADD git", "FROM busybox\nADD git@example.com:x/y.git /x\n",
     "ADD of a git repository is not supported"),
    ("huge line", "FROM busybox\nRUN echo " + "x" * (10 << 20) + "\n",
     "failed to parse Dockerfile: dockerfile line greater than max allowed size of 65535"),
]


@pytest.mark.parametrize("tool", ["berth", "docker"])
@pytest.mark.parametrize("case", BAD, ids=[b[0] for b in BAD])
def test_bad_input(bd, tool, case, tmp_path):
    _, dockerfile, message = case
    ctx = context(tmp_path, dockerfile)
    before = set(cli(bd, "berth", "images", "-a", "-q", "--no-trunc").stdout.split())
    p = build(bd, tool, ctx, "--force-rm", "-t", "bad:input", check=False)
    assert p.returncode != 0
    assert message.encode() in p.stdout + p.stderr, (p.stdout[-2000:], p.stderr)
    assert cli(bd, "berth", "images", "-q", "bad:input").stdout == b""
    after = set(cli(bd, "berth", "images", "-a", "-q", "--no-trunc").stdout.split())
    assert after - before <= {i for i in after if i not in before}  # only cached steps
    assert not containers(bd)
    assert not [m for m in mounts_under(bd.dir) if "/tmp/build-" in m]
    assert not list((bd.data_root / "tmp").glob("build-*"))


@pytest.mark.parametrize("tool", ["berth", "docker"])
def test_failing_run(bd, tool, tmp_path):
    ctx = context(tmp_path, "FROM busybox\nRUN echo to-out; echo to-err >&2; exit 3\n")
    p = build(bd, tool, ctx, "-t", "fails:1", check=False)
    out = p.stdout + p.stderr
    assert p.returncode == 3  # the docker CLI exits with the RUN's code
    assert b"to-out\n" in out and b"to-err\n" in out
    assert b"The command '/bin/sh -c echo to-out; echo to-err >&2; exit 3' returned a " \
           b"non-zero code: 3" in p.stderr
    assert cli(bd, "berth", "images", "-q", "fails:1").stdout == b""
    # as docker's classic builder: --rm keeps the failed step's container for a look...
    left = containers(bd)
    assert len(left) == 1 and left[0]["State"] == "exited" and "Exited (3)" in left[0]["Status"]
    rm_all(bd)
    # ... and --force-rm leaves nothing
    p = build(bd, tool, ctx, "--force-rm", "-t", "fails:1", check=False)
    assert p.returncode == 3
    assert not containers(bd)
    assert not [m for m in mounts_under(bd.dir) if "/tmp/build-" in m]


def test_api_errors(bd):
    status, _, body = bd.http("POST", "/build?t=Bad:Tag", body=b"",
                              headers={"Content-Type": "application/x-tar"})
    assert status == 400 and b"invalid reference format" in body
    status, _, body = bd.http("POST", "/build", body=b"",
                              headers={"Content-Type": "application/x-tar"})
    assert status == 400 and b"Cannot locate specified Dockerfile: Dockerfile" in body
    status, _, body = bd.http("POST", "/build", body=b"not a tar at all" * 100,
                              headers={"Content-Type": "application/x-tar"})
    assert status == 400 and b"Error processing tar file" in body, body
    status, _, body = bd.http("POST", "/build?buildargs=%5B1%5D", body=b"",
                              headers={"Content-Type": "application/x-tar"})
    assert status == 400 and b"error reading build args" in body
    assert not list((bd.data_root / "tmp").glob("build-*"))
