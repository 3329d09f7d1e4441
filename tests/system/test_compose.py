"""Compose against berthd, both ways in: `berth compose` (native) and docker-compose 1.29
(Debian's, unchanged, DOCKER_HOST at berthd).

The acceptance project: web (busybox httpd, a published port, the page from a named volume), app
(3 replicas) and db (a healthcheck app waits for with service_healthy).  The page is fetched from
berthd's network namespace (the module's "host"), the name app resolved from a fourth container
on the project network; --scale app=1 leaves one; down -v leaves nothing of the project.  Then:
up twice recreates nothing, an environment change recreates one service, each tool lists the
other's project, and bad input (YAML, keys, types, variables, cycles, references, a port in use)
is refused with the file, line and key, compose's exit code and nothing created.
"""

import json
import os
import subprocess
import textwrap

import pytest

from berth import wait_until
from cli import berth_binary
from daemon import shared_berthd
from helpers.net import bd, netns  # noqa: F401  (fixtures: a berthd with its bridge in a netns)

COMPOSE_1 = "/usr/bin/docker-compose"


def sh(*args, check=True, timeout=60, **kw):
    p = subprocess.run([str(a) for a in args], capture_output=True, text=True, timeout=timeout,
                       **kw)
    if check and p.returncode != 0:
        raise AssertionError(f"{' '.join(map(str, args))}: exit {p.returncode}\n{p.stdout}\n"
                             f"{p.stderr}")
    return p



def env_for(bd, extra=None):
    env = {k: v for k, v in os.environ.items() if not k.startswith("COMPOSE_")}
    env.update(DOCKER_HOST=f"unix://{bd.sock}", DOCKER_CONFIG=str(bd.dir / "docker-config"))
    env.update(extra or {})
    return env


def berth(bd, cwd, *args, check=True, env=None, timeout=120):
    return sh(berth_binary(), "compose", *args, check=check, cwd=cwd, env=env_for(bd, env),
              timeout=timeout, stdin=subprocess.DEVNULL)


def dc(bd, cwd, *args, check=True, env=None, timeout=180):
    """docker-compose 1.29 (python) against berthd."""
    if not os.access(COMPOSE_1, os.X_OK):
        pytest.skip("docker-compose 1.29 is not installed")
    return sh(COMPOSE_1, "--no-ansi", *args, check=check, cwd=cwd, env=env_for(bd, env),
              timeout=timeout, stdin=subprocess.DEVNULL)


def api(bd, path):
    status, _, body = bd.http("GET", path)
    assert status == 200, body
    return json.loads(body)


def project_objects(bd, project):
    """The containers, networks and volumes berthd has with the project's label."""
    flt = json.dumps({"label": [f"com.docker.compose.project={project}"]})
    from urllib.parse import quote
    ctrs = api(bd, f"/containers/json?all=1&filters={quote(flt)}")
    nets = [n for n in api(bd, "/networks") if n["Name"].startswith(project + "_")]
    vols = [v for v in api(bd, "/volumes")["Volumes"] or [] if v["Name"].startswith(project + "_")]
    return ctrs, nets, vols


def containers(bd, project, service=None):
    ctrs, _, _ = project_objects(bd, project)
    out = {}
    for c in ctrs:
        lb = c["Labels"]
        if service and lb["com.docker.compose.service"] != service:
            continue
        out[c["Names"][0].lstrip("/")] = c
    return out


FETCH = ("import sys, urllib.request\n"
         "sys.stdout.write(urllib.request.urlopen(sys.argv[1], timeout=float(sys.argv[2]))"
         ".read().decode())")


def host_get(netns, url, timeout=3):
    """GET url from berthd's network namespace (this machine's busybox wget segfaults)."""
    return sh("ip", "netns", "exec", netns, "/usr/bin/python3", "-c", FETCH, url, str(timeout),
              check=False)


ACCEPTANCE = """\
services:
  web:
    image: busybox
    command: ["sh", "-c", "echo page from $${HOSTNAME:-x} > /www/index.html; exec httpd -f -p 80 -h /www"]
    ports: ["${WEB_PORT}:80"]
    volumes: ["www:/www"]
  db:
    image: busybox
    command: sh -c 'touch /ready; exec sleep 600'
    healthcheck:
      test: ["CMD", "test", "-e", "/ready"]
      interval: 1s
      timeout: 2s
      retries: 10
  app:
    image: busybox
    command: sleep 600
    environment:
      ROLE: app
    depends_on:
      db:
        condition: service_healthy
volumes:
  www: {}
"""


def write(dir, text, name="compose.yml"):
    (dir / name).write_text(textwrap.dedent(text))
    return dir


def resolve_app(bd, network):
    """The addresses `app` resolves to, asked from a fourth container on the network."""
    out = bd.docker("run", "--rm", "--network", network, "busybox", "nslookup", "app").stdout
    answer = out.split("Name:", 1)[1] if "Name:" in out else ""
    return sorted(l.split()[-1] for l in answer.splitlines() if l.startswith("Address"))


def app_addresses(bd, project, network):
    return sorted(c["NetworkSettings"]["Networks"][network]["IPAddress"]
                  for c in containers(bd, project, "app").values())


def acceptance(bd, netns, tmp_path, tool, port):
    project = f"acc{tool.__name__}"
    d = write(tmp_path, ACCEPTANCE)
    env = {"WEB_PORT": str(port)}
    net = f"{project}_default"
    tool(bd, d, "-p", project, "up", "-d", "--scale", "app=3", env=env)
    try:
        names = sorted(containers(bd, project))
        sep = "-" if tool is berth else "_"
        assert names == sorted(f"{project}{sep}{s}{sep}{n}" for s, n in
                               [("app", 1), ("app", 2), ("app", 3), ("db", 1), ("web", 1)])
        # the page, from the named volume, through the published port
        assert wait_until(lambda: host_get(netns, f"http://127.0.0.1:{port}/").returncode == 0,
                          10)
        assert host_get(netns, f"http://127.0.0.1:{port}/").stdout.startswith("page from")
        vol = api(bd, f"/volumes/{project}_www")
        assert vol["Labels"]["com.docker.compose.volume"] == "www"
        # app: three replicas behind one name on the project network
        want = app_addresses(bd, project, net)
        assert len(want) == 3
        assert resolve_app(bd, net) == want
        # db was healthy before app started
        db = api(bd, f"/containers/{project}{sep}db{sep}1/json")
        assert db["State"]["Health"]["Status"] == "healthy"
        tool(bd, d, "-p", project, "up", "-d", "-t", "0", "--scale", "app=1", env=env)
        assert sorted(containers(bd, project, "app")) == [f"{project}{sep}app{sep}1"]
        assert resolve_app(bd, net) == app_addresses(bd, project, net)
    finally:
        tool(bd, d, "-p", project, "down", "-v", "-t", "0", env=env)
    assert project_objects(bd, project) == ([], [], [])


def test_acceptance_berth_compose(bd, netns, tmp_path):
    acceptance(bd, netns, tmp_path, berth, 8181)


def test_acceptance_docker_compose(bd, netns, tmp_path):
    acceptance(bd, netns, tmp_path, dc, 8182)


SIMPLE = """\
services:
  one:
    image: busybox
    command: sleep 600
    environment:
      GREETING: ${GREETING:-hello}
  two:
    image: busybox
    command: sleep 600
    labels:
      tier: back
"""


def ids(bd, project):
    return {n: c["Id"] for n, c in containers(bd, project).items()}


def test_up_twice_and_one_change(bd, tmp_path):
    d = write(tmp_path, SIMPLE)
    berth(bd, d, "-p", "conv", "up", "-d")
    try:
        first = ids(bd, "conv")
        assert sorted(first) == ["conv-one-1", "conv-two-1"]
        berth(bd, d, "-p", "conv", "up", "-d")
        assert ids(bd, "conv") == first
        # a changed environment recreates that service alone
        berth(bd, d, "-p", "conv", "up", "-d", "-t", "0", env={"GREETING": "bonjour"})
        second = ids(bd, "conv")
        assert second["conv-two-1"] == first["conv-two-1"]
        assert second["conv-one-1"] != first["conv-one-1"]
        env = api(bd, "/containers/conv-one-1/json")["Config"]["Env"]
        assert "GREETING=bonjour" in env
        c = api(bd, "/containers/conv-two-1/json")
        assert c["Config"]["Labels"]["tier"] == "back"
        assert c["Config"]["Labels"]["com.docker.compose.oneoff"] == "False"
        assert c["Config"]["Labels"]["com.docker.compose.project.working_dir"] == str(d)
        # --force-recreate recreates even so; scale down removes the highest numbers first
        berth(bd, d, "-p", "conv", "up", "-d", "--scale", "two=3", env={"GREETING": "bonjour"})
        berth(bd, d, "-p", "conv", "up", "-d", "-t", "0", "--scale", "two=2", env={"GREETING": "bonjour"})
        assert sorted(containers(bd, "conv", "two")) == ["conv-two-1", "conv-two-2"]
        before = ids(bd, "conv")
        berth(bd, d, "-p", "conv", "up", "-d", "-t", "0", "--force-recreate", "one",
              env={"GREETING": "bonjour"})
        after = ids(bd, "conv")
        assert after["conv-one-1"] != before["conv-one-1"]
        assert after["conv-two-1"] == before["conv-two-1"]
    finally:
        berth(bd, d, "-p", "conv", "down", "-t", "0")
    assert project_objects(bd, "conv") == ([], [], [])


def test_recreated_dependency_restarts_who_asks(bd, tmp_path):
    d = write(tmp_path, """\
        services:
          db:
            image: busybox
            command: sleep 600
            stop_signal: SIGKILL
            environment: {V: "${V:-1}"}
          app:
            image: busybox
            command: sleep 600
            stop_signal: SIGKILL
            depends_on:
              db: {condition: service_started, restart: true}
          other:
            image: busybox
            command: sleep 600
            stop_signal: SIGKILL
            depends_on: [db]
        """)
    berth(bd, d, "-p", "rst", "up", "-d")
    try:
        def started():
            return {n: (c["Id"], api(bd, f"/containers/{c['Id']}/json")["State"]["StartedAt"])
                    for n, c in containers(bd, "rst").items()}
        before = started()
        berth(bd, d, "-p", "rst", "up", "-d", env={"V": "2"})
        after = started()
        assert after["rst-db-1"][0] != before["rst-db-1"][0]
        assert after["rst-app-1"][0] == before["rst-app-1"][0]
        assert after["rst-app-1"][1] != before["rst-app-1"][1]
        assert after["rst-other-1"] == before["rst-other-1"]
        labels = containers(bd, "rst")["rst-app-1"]["Labels"]
        assert labels["com.docker.compose.depends_on"] == "db:service_started:true"
    finally:
        berth(bd, d, "-p", "rst", "down", "-t", "0")
    assert project_objects(bd, "rst") == ([], [], [])


def test_each_sees_the_others_project(bd, tmp_path):
    a = tmp_path / "a"
    a.mkdir()
    write(a, SIMPLE)
    dc(bd, a, "-p", "fromdc", "up", "-d")
    try:
        out = berth(bd, a, "-p", "fromdc", "ps").stdout
        assert "fromdc_one_1" in out and "fromdc_two_1" in out
        ls = berth(bd, a, "ls").stdout
        assert "fromdc" in ls and "running(2)" in ls
        # berth compose stops and removes docker-compose's containers too
        berth(bd, a, "-p", "fromdc", "stop", "-t", "0", "two")
        assert containers(bd, "fromdc")["fromdc_two_1"]["State"] == "exited"
    finally:
        berth(bd, a, "-p", "fromdc", "down", "-t", "0")
    assert project_objects(bd, "fromdc") == ([], [], [])

    berth(bd, a, "-p", "fromberth", "up", "-d")
    try:
        out = dc(bd, a, "-p", "fromberth", "ps").stdout
        assert "fromberth-one-1" in out and "fromberth-two-1" in out and "Up" in out
        dc(bd, a, "-p", "fromberth", "stop", "-t", "0")
        assert {c["State"] for c in containers(bd, "fromberth").values()} == {"exited"}
    finally:
        dc(bd, a, "-p", "fromberth", "down", "-t", "0")
    assert project_objects(bd, "fromberth") == ([], [], [])


def test_docker_compose_commands(bd, netns, tmp_path):
    """docker-compose 1.29's everyday commands against berthd."""
    d = write(tmp_path, """\
        services:
          web:
            image: busybox
            command: ["sh", "-c", "echo started; exec httpd -f -p 80 -h /"]
            ports: ["8183:80"]
          worker:
            image: busybox
            command: sleep 600
        """)
    dc(bd, d, "-p", "dcc", "up", "-d", "--scale", "worker=2")
    try:
        ps = dc(bd, d, "-p", "dcc", "ps").stdout
        assert "dcc_web_1" in ps and "dcc_worker_2" in ps
        assert "started" in dc(bd, d, "-p", "dcc", "logs", "web").stdout
        assert dc(bd, d, "-p", "dcc", "port", "web", "80").stdout.strip() == "0.0.0.0:8183"
        assert "busybox" in dc(bd, d, "-p", "dcc", "images").stdout
        assert "image: busybox" in dc(bd, d, "-p", "dcc", "config").stdout
        ex = dc(bd, d, "-p", "dcc", "exec", "-T", "--index", "2", "worker", "hostname",
                check=False)
        assert ex.returncode == 0, ex.stderr
        assert ex.stdout.strip() == containers(bd, "dcc")["dcc_worker_2"]["Id"][:12]
        assert "sleep 600" in dc(bd, d, "-p", "dcc", "top", "worker").stdout
        run = dc(bd, d, "-p", "dcc", "run", "--rm", "-T", "worker", "sh", "-c", "echo ran; exit 3",
                 check=False)
        assert run.returncode == 3 and "ran" in run.stdout
        # logs -f follows until the containers stop
        follow = subprocess.Popen([COMPOSE_1, "--no-ansi", "-p", "dcc", "logs", "-f", "web"],
                                  cwd=d, env=env_for(bd), stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE, text=True, stdin=subprocess.DEVNULL)
        try:
            dc(bd, d, "-p", "dcc", "stop", "-t", "0", "web")
            out, _ = follow.communicate(timeout=30)
        finally:
            follow.kill()
            follow.wait()
        assert "started" in out
        dc(bd, d, "-p", "dcc", "start", "web")
        dc(bd, d, "-p", "dcc", "stop", "-t", "0", "worker")
        assert {c["State"] for c in containers(bd, "dcc", "worker").values()} == {"exited"}
        dc(bd, d, "-p", "dcc", "start", "worker")
        dc(bd, d, "-p", "dcc", "restart", "-t", "0", "web")
        dc(bd, d, "-p", "dcc", "kill", "worker")
        dc(bd, d, "-p", "dcc", "rm", "-f", "worker")
        assert sorted(containers(bd, "dcc")) == ["dcc_web_1"]
    finally:
        dc(bd, d, "-p", "dcc", "down", "-v", "--rmi", "local", "-t", "0")
    assert project_objects(bd, "dcc") == ([], [], [])


def test_berth_compose_commands(bd, tmp_path):
    d = write(tmp_path, """\
        services:
          web:
            image: busybox
            command: ["sh", "-c", "echo one; echo two; exec sleep 600"]
            ports: ["8184:80"]
          job:
            image: busybox
            command: ["sh", "-c", "echo job done"]
        """)
    (d / "compose.override.yml").write_text("services:\n  web:\n    labels: {extra: 'yes'}\n")
    berth(bd, d, "-p", "bcc", "-f", "compose.yml", "-f", "compose.override.yml", "up", "-d")
    try:
        web = api(bd, "/containers/bcc-web-1/json")
        assert web["Config"]["Labels"]["extra"] == "yes"
        assert web["Config"]["Labels"]["com.docker.compose.project.config_files"] == \
            f"{d}/compose.yml,{d}/compose.override.yml"
        assert wait_until(lambda: "two" in berth(bd, d, "-p", "bcc", "logs", "web").stdout, 5)
        logs = berth(bd, d, "-p", "bcc", "logs", "--tail", "1", "web").stdout
        assert logs.splitlines() == ["bcc-web-1  | two"]
        # ps: running ones; -a also the job that exited
        assert wait_until(lambda: "bcc-job-1" not in berth(bd, d, "-p", "bcc", "ps").stdout, 5)
        assert "bcc-job-1" in berth(bd, d, "-p", "bcc", "ps", "-a").stdout
        q = berth(bd, d, "-p", "bcc", "ps", "-q").stdout.split()
        assert q == [web["Id"]]
        js = [json.loads(l) for l in berth(bd, d, "-p", "bcc", "ps", "--format", "json")
              .stdout.splitlines()]
        assert [(j["Name"], j["Service"], j["State"]) for j in js] == \
            [("bcc-web-1", "web", "running")]
        assert berth(bd, d, "-p", "bcc", "port", "web", "80").stdout.strip() == "0.0.0.0:8184"
        assert "bcc-web-1" in berth(bd, d, "-p", "bcc", "images").stdout
        ex = berth(bd, d, "-p", "bcc", "exec", "-T", "-e", "Y=7", "web", "sh", "-c",
                   "echo y=$Y; exit 5", check=False)
        assert ex.returncode == 5 and ex.stdout == "y=7\n", ex.stderr
        top = berth(bd, d, "-p", "bcc", "top", "web").stdout
        assert top.startswith("bcc-web-1\n") and "sleep 600" in top
        run = berth(bd, d, "-p", "bcc", "run", "--rm", "-e", "X=42", "job", "sh", "-c",
                    "echo x=$X; exit 4", check=False)
        assert run.returncode == 4 and "x=42" in run.stdout
        assert not [n for n in containers(bd, "bcc") if "-run-" in n]
        follow = subprocess.Popen([berth_binary(), "compose", "-p", "bcc", "logs", "-f"],
                                  cwd=d, env=env_for(bd), stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE, text=True, stdin=subprocess.DEVNULL)
        try:
            berth(bd, d, "-p", "bcc", "stop", "-t", "0", "web")
            out, _ = follow.communicate(timeout=30)
        finally:
            follow.kill()
            follow.wait()
        assert "bcc-web-1  | two" in out and "bcc-job-1  | job done" in out, out
        assert containers(bd, "bcc")["bcc-web-1"]["State"] == "exited"
        berth(bd, d, "-p", "bcc", "start", "web")
        berth(bd, d, "-p", "bcc", "restart", "-t", "0", "web")
        berth(bd, d, "-p", "bcc", "kill", "web")
        assert containers(bd, "bcc")["bcc-web-1"]["State"] == "exited"
        berth(bd, d, "-p", "bcc", "rm", "-f", "web")
        assert sorted(containers(bd, "bcc")) == ["bcc-job-1"]
    finally:
        berth(bd, d, "-p", "bcc", "down", "-v", "-t", "0")
    assert project_objects(bd, "bcc") == ([], [], [])


def test_config_interpolation_and_name(bd, tmp_path):
    d = tmp_path / "My Proj"
    d.mkdir()
    (d / ".env").write_text("TAG=from-dotenv\nPORT=9000\n")
    write(d, """\
        services:
          s:
            image: busybox:${TAG}
            command: echo $${NOT_INTERPOLATED} ${PORT-unused} ${EMPTY:-dflt} ${EMPTY-kept}
        """)
    out = json.loads(berth(bd, d, "config", "--format", "json", env={"EMPTY": ""}).stdout)
    assert out["name"] == "myproj"
    s = out["services"]["s"]
    assert s["image"] == "busybox:from-dotenv"
    assert s["command"] == ["echo", "${NOT_INTERPOLATED}", "9000", "dflt"]
    # the shell's environment wins over .env; COMPOSE_PROJECT_NAME names the project
    out = json.loads(berth(bd, d, "config", "--format", "json",
                           env={"TAG": "shell", "COMPOSE_PROJECT_NAME": "other"}).stdout)
    assert out["services"]["s"]["image"] == "busybox:shell" and out["name"] == "other"


BAD = [
    ("invalid YAML", "services:\n  web:\n    image: busybox\n    ports: [80:80\n",
     "invalid YAML", None),
    ("unknown key", "services:\n  web:\n    image: busybox\n    colour: red\n",
     ":4: services.web.colour: additional property colour is not allowed", None),
    ("wrong type", "services:\n  web:\n    image: busybox\n    ports: 80\n",
     ":4: services.web.ports: must be a list", None),
    ("missing variable", "services:\n  web:\n    image: busybox\n    environment:\n"
     "      A: ${BERTH_NOPE:?set it please}\n",
     ":5: services.web.environment.A: required variable BERTH_NOPE is missing a value: "
     "set it please", None),
    ("cycle", "services:\n  a:\n    image: busybox\n    depends_on: [b]\n  b:\n"
     "    image: busybox\n    depends_on: [a]\n", "dependency cycle detected", None),
    ("undefined network", "services:\n  a:\n    image: busybox\n    networks: [front]\n",
     ":4: services.a.networks.front: refers to undefined network front", None),
    ("undefined volume", "services:\n  a:\n    image: busybox\n    volumes: ['data:/data']\n",
     ":4: services.a.volumes[0]: refers to undefined volume data", None),
    ("bad port", "services:\n  a:\n    image: busybox\n    ports: ['80:http']\n",
     ":4: services.a.ports[0]:", None),
    ("bad duration", "services:\n  a:\n    image: busybox\n    healthcheck:\n"
     "      interval: soon\n", ":5: services.a.healthcheck.interval:", None),
    ("volume option", "services:\n  a:\n    image: busybox\n    volumes:\n"
     "      - {type: volume, target: /d, volume: {nocopy: true, size: 1}}\n",
     ":5: services.a.volumes[0].volume.size: additional property size is not allowed", None),
    ("option of another type", "services:\n  a:\n    image: busybox\n    volumes:\n"
     "      - {type: tmpfs, target: /d, bind: {propagation: rslave}}\n",
     "services.a.volumes[0]: options given for another type of mount", None),
    ("bad selinux", "services:\n  a:\n    image: busybox\n    volumes:\n"
     "      - {type: bind, source: ., target: /d, bind: {selinux: q}}\n",
     ":5: services.a.volumes[0].bind.selinux: must be one of z, Z", None),
    ("bad tmpfs mode", "services:\n  a:\n    image: busybox\n    volumes:\n"
     "      - {type: tmpfs, target: /d, tmpfs: {mode: 0999}}\n",
     ":5: services.a.volumes[0].tmpfs.mode: must be a file mode (0 to 07777)", None),
]


@pytest.mark.parametrize("what,text,message,_", BAD, ids=[b[0] for b in BAD])
def test_bad_input(bd, tmp_path, what, text, message, _):
    (tmp_path / "compose.yml").write_text(text)
    p = berth(bd, tmp_path, "-p", "bad", "up", "-d", check=False)
    assert p.returncode == 15, p.stderr
    assert f"{tmp_path}/compose.yml" in p.stderr and message in p.stderr, p.stderr
    assert project_objects(bd, "bad") == ([], [], [])


LONG_SYNTAX = """\
services:
  s:
    image: busybox
    command: ["sleep", "600"]
    volumes:
      - type: bind
        source: ./made
        target: /made
        bind: {create_host_path: true}
      - type: bind
        source: ./shared
        target: /shared
        bind: {propagation: rslave}
      - type: volume
        source: data
        target: /sub
        volume: {subpath: inner}
      - type: volume
        source: fresh
        target: /etc
        volume: {nocopy: true}
      - type: tmpfs
        target: /scratch
        tmpfs: {size: 1m, mode: "01777"}
volumes:
  data: {external: true, name: lsyn-data}
  fresh:
"""


def test_long_volume_syntax_options(bd, tmp_path):
    """compose's long volume syntax with its options, each seen by its effect: a bind source
    made by create_host_path, rslave propagation (a mount made on the host after the start
    appears inside), a volume's subpath, nocopy (the image's /etc not copied in), a tmpfs's
    size and mode; and a missing bind source refused without create_host_path."""
    vol = "lsyn-data"
    assert bd.http("POST", "/volumes/create", json.dumps({"Name": vol}),
                   {"Content-Type": "application/json"})[0] == 201
    shared = tmp_path / "shared"
    shared.mkdir()
    sh("mount", "--bind", shared, shared)
    sh("mount", "--make-shared", shared)
    try:
        sh(berth_binary(), "run", "--rm", "-v", f"{vol}:/v", "busybox", "sh", "-c",
           "mkdir /v/inner && echo in-subpath > /v/inner/f", env=env_for(bd))
        write(tmp_path, LONG_SYNTAX)
        berth(bd, tmp_path, "-p", "lsyn", "up", "-d")
        assert (tmp_path / "made").is_dir()
        (shared / "late").mkdir()
        sh("mount", "-t", "tmpfs", "-o", "size=64k", "late", shared / "late")
        (shared / "late" / "seen").write_text("propagated\n")

        def in_s(script):
            return sh(berth_binary(), "exec", "lsyn-s-1", "sh", "-c", script,
                      env=env_for(bd)).stdout

        assert in_s("cat /shared/late/seen") == "propagated\n"
        assert in_s("cat /sub/f") == "in-subpath\n"
        # only what berthd binds in (hostname, hosts, resolv.conf): the image's files stayed out
        assert "passwd" not in in_s("ls -A /etc").split()
        assert in_s("stat -c %a /scratch") == "1777\n"
        assert in_s("df -k /scratch | tail -1").split()[1] == "1024"
        berth(bd, tmp_path, "-p", "lsyn", "down", "-v")
        # without create_host_path a missing source is an error, as compose's Mounts make it
        write(tmp_path, LONG_SYNTAX.replace("./made", "./missing").replace(
            "bind: {create_host_path: true}", "read_only: true"))
        p = berth(bd, tmp_path, "-p", "lsyn", "up", "-d", check=False)
        assert p.returncode != 0 and "bind source path does not exist" in p.stderr, p.stderr
        assert not (tmp_path / "missing").exists()
    finally:
        berth(bd, tmp_path, "-p", "lsyn", "down", "-v", check=False)
        sh("umount", "-R", shared, check=False)
        bd.http("DELETE", f"/volumes/{vol}")


BUILD = """\
services:
  app:
    build:
      context: ./ctx
      args:
        - GREETING=${GREETING:-hello}
    command: ["sleep", "3600"]
"""
DOCKERFILE = """\
FROM busybox
ARG GREETING
COPY file.txt /file.txt
RUN echo "$GREETING from RUN" > /greeting
"""


def build_project(tmp_path):
    ctx = tmp_path / "ctx"
    ctx.mkdir()
    (ctx / "Dockerfile").write_text(DOCKERFILE)
    (ctx / "file.txt").write_text("one\n")
    return write(tmp_path, BUILD)


def cat_in(bd, name, *paths):
    return sh(berth_binary(), "exec", name, "cat", *paths, env=env_for(bd)).stdout


def remove_image(bd, name):
    bd.http("DELETE", f"/images/{name}?force=1")


def test_up_build(bd, tmp_path):
    """up --build builds the service's image (<project>-<service>) from the Dockerfile, args
    interpolated; up again changes nothing (the cache hits); a changed context file rebuilds and
    recreates the service."""
    d = build_project(tmp_path)
    try:
        berth(bd, d, "-p", "bld", "up", "-d", "--build", env={"GREETING": "hi"})
        first = ids(bd, "bld")
        assert list(first) == ["bld-app-1"]
        assert cat_in(bd, "bld-app-1", "/file.txt", "/greeting") == "one\nhi from RUN\n"
        image = api(bd, "/images/bld-app/json")["Id"]
        assert api(bd, "/containers/bld-app-1/json")["Image"] == image
        berth(bd, d, "-p", "bld", "up", "-d", env={"GREETING": "hi"})
        assert ids(bd, "bld") == first
        p = berth(bd, d, "-p", "bld", "up", "-d", "--build", env={"GREETING": "hi"})
        assert "Using cache" in p.stdout
        assert api(bd, "/images/bld-app/json")["Id"] == image
        assert ids(bd, "bld") == first
        (d / "ctx" / "file.txt").write_text("two\n")
        berth(bd, d, "-p", "bld", "up", "-d", "--build", "-t", "0", env={"GREETING": "hi"})
        assert ids(bd, "bld")["bld-app-1"] != first["bld-app-1"]
        assert cat_in(bd, "bld-app-1", "/file.txt", "/greeting") == "two\nhi from RUN\n"
        p = berth(bd, d, "-p", "bld", "up", "-d", "--build", "--no-build", check=False)
        assert p.returncode == 1 and "incompatible" in p.stderr
    finally:
        berth(bd, d, "-p", "bld", "down", "-t", "0")
        remove_image(bd, "bld-app")
    assert project_objects(bd, "bld") == ([], [], [])


def test_build_failing_run(bd, tmp_path):
    """compose build: a failing RUN fails the command with the RUN's output; no image, no
    container is left."""
    d = build_project(tmp_path)
    (d / "ctx" / "Dockerfile").write_text("FROM busybox\nARG GREETING\nRUN echo boom-$GREETING; exit 3\n")
    before = api(bd, "/containers/json?all=1")
    p = berth(bd, d, "-p", "bldfail", "build", "--build-arg", "GREETING=arg", check=False)
    assert p.returncode != 0
    assert "boom-arg" in p.stdout + p.stderr
    status, _, _ = bd.http("GET", "/images/bldfail-app/json")
    assert status == 404
    assert api(bd, "/containers/json?all=1") == before
    # quiet and good: the image is there, nothing printed
    (d / "ctx" / "Dockerfile").write_text(DOCKERFILE)
    p = berth(bd, d, "-p", "bldfail", "build", "-q")
    try:
        assert p.stdout == ""
        assert cat_in_image(bd, "bldfail-app") == "one\nhello from RUN\n"
    finally:
        remove_image(bd, "bldfail-app")


def cat_in_image(bd, image):
    return sh(berth_binary(), "run", "--rm", image, "cat", "/file.txt", "/greeting",
              env=env_for(bd)).stdout


def test_docker_compose_up_build(bd, tmp_path):
    """docker-compose 1.29's up --build against berthd: its image is <project>_<service>."""
    d = build_project(tmp_path)
    try:
        dc(bd, d, "-p", "dcbld", "up", "-d", "--build")
        names = list(containers(bd, "dcbld"))
        assert len(names) == 1
        assert cat_in(bd, names[0], "/file.txt", "/greeting") == "one\nhello from RUN\n"
        assert api(bd, "/images/dcbld_app/json")["Id"]
    finally:
        dc(bd, d, "-p", "dcbld", "down", "-t", "0", check=False)
        remove_image(bd, "dcbld_app")
    assert project_objects(bd, "dcbld") == ([], [], [])


def test_missing_file_and_port_in_use(bd, tmp_path):
    p = berth(bd, tmp_path, "ps", check=False)
    assert p.returncode == 14 and "no configuration file provided" in p.stderr
    bd.docker("run", "-d", "--name", "blocker", "-p", "8185:80", "busybox", "sleep", "600")
    try:
        write(tmp_path, """\
            services:
              web:
                image: busybox
                command: sleep 600
                ports: ["8185:80"]
                volumes: ["v:/v"]
            volumes:
              v: {}
            """)
        p = berth(bd, tmp_path, "-p", "busy", "up", "-d", check=False)
        assert p.returncode == 1
        assert "service web:" in p.stderr and "port is already allocated" in p.stderr, p.stderr
        assert project_objects(bd, "busy") == ([], [], [])
    finally:
        bd.docker("rm", "-f", "blocker")


def test_foreground_up_abort_on_exit(bd, tmp_path):
    """up without -d: every container's output prefixed with its name; the first container
    to exit stops the others and its exit code is up's."""
    d = write(tmp_path, """\
        services:
          short:
            image: busybox
            command: ["sh", "-c", "sleep 1; echo short says bye; exit 7"]
          long:
            image: busybox
            command: ["sh", "-c", "echo long here; exec sleep 600"]
            stop_signal: SIGKILL
        """)
    try:
        p = berth(bd, d, "-p", "fg", "up", "--abort-on-container-exit", "-t", "0", check=False,
                  timeout=60)
        assert p.returncode == 7, p.stderr
        lines = p.stdout.splitlines()
        assert "fg-short-1  | short says bye" in lines and "fg-long-1   | long here" in lines, \
            p.stdout
        assert {c["State"] for c in containers(bd, "fg").values()} == {"exited"}
    finally:
        berth(bd, d, "-p", "fg", "down", "-t", "0")
    assert project_objects(bd, "fg") == ([], [], [])


@pytest.fixture(scope="module")
def bd_host():
    """A berthd on the host's network (no bridge): for the registry on loopback."""
    yield from shared_berthd()


def test_pull_push_with_a_registry(bd_host, tmp_path):
    from test_registry import REGISTRY_BIN, Registry
    if not os.access(REGISTRY_BIN, os.X_OK):
        pytest.fail(f"{REGISTRY_BIN} missing: scripts/install-deps.sh installs docker-registry")
    reg = Registry()
    try:
        img = f"{reg.host}/compose/bb"
        from urllib.parse import quote
        st, _, body = bd_host.http("POST", f"/images/busybox/tag?repo={quote(img)}&tag=v1")
        assert st == 201, body
        write(tmp_path, f"""\
            services:
              a:
                image: {img}:v1
                network_mode: none
            """)
        berth(bd_host, tmp_path, "push")
        import urllib.request
        req = urllib.request.Request(
            f"http://{reg.host}/v2/compose/bb/manifests/v1",
            headers={"Accept": "application/vnd.docker.distribution.manifest.v2+json, "
                             "application/vnd.oci.image.manifest.v1+json"})
        assert json.loads(urllib.request.urlopen(req, timeout=5).read())["layers"]
        st, _, body = bd_host.http("DELETE", f"/images/{quote(img, safe='')}:v1")
        assert st == 200, body
        berth(bd_host, tmp_path, "pull")
        st, _, _ = bd_host.http("GET", f"/images/{quote(img, safe='')}:v1/json")
        assert st == 200
        # docker-compose 1.29 the same way
        st, _, body = bd_host.http("DELETE", f"/images/{quote(img, safe='')}:v1")
        assert st == 200, body
        dc(bd_host, tmp_path, "pull")
        st, _, _ = bd_host.http("GET", f"/images/{quote(img, safe='')}:v1/json")
        assert st == 200
        # a missing tag: the registry's error is the command's
        write(tmp_path, f"services:\n  a:\n    image: {img}:nope\n    network_mode: none\n")
        p = berth(bd_host, tmp_path, "pull", check=False)
        assert p.returncode == 1 and "nope" in p.stderr, p.stderr
    finally:
        bd_host.http("DELETE", f"/images/{quote(img, safe='')}:v1")
        reg.stop()


def test_command_line(bd, tmp_path):
    h = berth(bd, tmp_path, "--help").stdout
    assert "Usage:  berth compose [OPTIONS] COMMAND" in h and "\n  up " in h
    assert "Usage:  berth compose up [OPTIONS] [SERVICE...]" in \
        berth(bd, tmp_path, "up", "--help").stdout
    p = berth(bd, tmp_path, "bogus", check=False)
    assert p.returncode == 1 and 'unknown berth command: "compose bogus"' in p.stderr
    write(tmp_path, "services:\n  a:\n    image: busybox\n")
    for args, msg in ((["up", "--scale", "a"], 'invalid --scale value "a"'),
                      (["up", "--scale", "zz=2"], "no such service: zz"),
                      (["up", "-d", "--abort-on-container-exit"], "incompatible"),
                      (["logs", "nope"], "no such service: nope"),
                      (["port", "a"], "requires exactly 2 arguments")):
        p = berth(bd, tmp_path, "-p", "cl", *args, check=False)
        assert p.returncode == 1 and msg in p.stderr, (args, p.stderr)
    assert project_objects(bd, "cl") == ([], [], [])
