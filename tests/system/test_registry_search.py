"""docker search against berthd (GET /images/search) with a small v1 index of the test's own on
a loopback port (docker-registry has no /v1/search): the term split into index and name as
dockerd splits it, the ping, q= and n= as sent, credentials passed as basic auth, dockerd's
filters (is-official, stars, is-automated) and limits, and its refusals; the docker CLI 28's table
of the results.
"""

import base64
import http.server
import json
import threading
from urllib.parse import parse_qs, quote, urlparse

import pytest

from cli import DOCKER28, BerthCLI, need_docker28

RESULTS = [
    {"name": "alpha", "description": "the first one, with a description longer than forty-five "
     "characters", "star_count": 12, "is_official": True, "is_automated": True},
    {"name": "team/beta", "description": "second\nline", "star_count": 3, "is_official": False,
     "is_automated": False},
    {"name": "gamma", "description": "", "star_count": 0, "is_official": False,
     "is_automated": False},
]


class Index:
    """A v1 index: /v1/_ping and /v1/search, recording what it was asked."""

    def __init__(self):
        self.asked = []
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *a):
                pass

            def do_GET(self):
                u = urlparse(self.path)
                outer.asked.append((u.path, parse_qs(u.query), self.headers.get("Authorization"),
                                    self.headers.get("X-Docker-Token")))
                if u.path == "/v1/_ping":
                    body, status = b"true", 200
                elif u.path == "/v1/search":
                    q = parse_qs(u.query)
                    if q.get("q") == ["broken"]:
                        body, status = b"{}", 503
                    elif q.get("q") == ["garbage"]:
                        body, status = b"not json", 200
                    else:
                        n = int(q["n"][0])
                        body = json.dumps({"num_results": len(RESULTS), "query": q["q"][0],
                                           "results": RESULTS[:n]}).encode()
                        status = 200
                else:
                    body, status = b"", 404
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.host = f"127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture(scope="module")
def index():
    i = Index()
    yield i
    i.stop()


def search(bd, term, limit=None, filters=None, auth=None):
    q = f"/images/search?term={quote(term, safe='')}"
    if limit is not None:
        q += f"&limit={limit}"
    if filters is not None:
        q += "&filters=" + quote(json.dumps(filters))
    headers = {}
    if auth:
        headers["X-Registry-Auth"] = base64.urlsafe_b64encode(json.dumps(auth).encode()).decode()
    status, _, body = bd.http("GET", q, headers=headers)
    return status, json.loads(body)


def test_search_api(bd, index):
    index.asked.clear()
    st, out = search(bd, f"{index.host}/some thing")
    assert st == 200, out
    assert [r["name"] for r in out] == ["alpha", "team/beta", "gamma"]
    assert out[0] == {"star_count": 12, "is_official": True, "name": "alpha",
                      "is_automated": False, "description": RESULTS[0]["description"]}
    # 127.0.0.1 is insecure: the ping over HTTP after HTTPS failed, then the search
    assert index.asked[-2][0] == "/v1/_ping"
    path, q, authz, token = index.asked[-1]
    assert (path, q, authz, token) == ("/v1/search", {"q": ["some thing"], "n": ["25"]}, None,
                                       "true")
    # the limit is passed on; credentials go as basic auth
    st, out = search(bd, f"{index.host}/x", limit=2, auth={"username": "u", "password": "p"})
    assert st == 200 and len(out) == 2
    assert index.asked[-1][1]["n"] == ["2"]
    assert index.asked[-1][2] == "Basic " + base64.b64encode(b"u:p").decode()
    # dockerd's filters
    st, out = search(bd, f"{index.host}/x", filters={"is-official": ["true"]})
    assert [r["name"] for r in out] == ["alpha"]
    st, out = search(bd, f"{index.host}/x", filters={"is-official": ["false"], "stars": ["1"]})
    assert [r["name"] for r in out] == ["team/beta"]
    st, out = search(bd, f"{index.host}/x", filters={"stars": ["2", "5"]})
    assert [r["name"] for r in out] == ["alpha"]
    n = len(index.asked)
    st, out = search(bd, f"{index.host}/x", filters={"is-automated": ["true"]})
    assert (st, out) == (200, []) and len(index.asked) == n  # not even asked


def test_search_refusals(bd, index):
    n = len(index.asked)
    for kw, msg in (
            ({"limit": 101}, "limit 101 is outside the range of [1, 100]"),
            ({"limit": "x"}, "invalid limit specified"),
            ({"filters": {"colour": ["red"]}}, "invalid filter 'colour'"),
            ({"filters": {"stars": ["many"]}}, "invalid filter 'stars=many'"),
            ({"filters": {"is-official": ["maybe"]}}, "invalid filter 'is-official=")):
        st, out = search(bd, f"{index.host}/x", **kw)
        assert st == 400 and msg in out["message"], (kw, st, out)
    st, out = search(bd, f"http://{index.host}/x")
    assert (st, out["message"]) == (400, f"invalid repository name: repository name "
                                         f"(http://{index.host}/x) should not have a scheme")
    assert len(index.asked) == n  # nothing of that reached the index
    st, out = search(bd, f"{index.host}/broken")
    assert (st, out["message"]) == (500, "unexpected status code 503")
    st, out = search(bd, f"{index.host}/garbage")
    assert st == 500 and out["message"].startswith("error decoding registry search results")


@DOCKER28
def test_docker_search(bd, index):
    need_docker28()
    cli = BerthCLI(bd)
    try:
        p = cli.docker("search", f"{index.host}/x")
        assert p.returncode == 0, p
        lines = p.stdout.splitlines()
        assert lines[0].split() == ["NAME", "DESCRIPTION", "STARS", "OFFICIAL"]
        assert lines[1].startswith("alpha") and lines[1].rstrip().endswith("12        [OK]")
        assert "…" in lines[1]  # the description cut at 45 characters
        assert lines[2].split() == ["team/beta", "second", "line", "3"]
        p = cli.docker("search", "--no-trunc", "--format", "{{.Name}}:{{.StarCount}}",
                       "--filter", "stars=1", f"{index.host}/x")
        assert p.stdout == "alpha:12\nteam/beta:3\n", p
        p = cli.docker("search", "--limit", "1", "--format", "{{.Name}}", f"{index.host}/x")
        assert p.stdout == "alpha\n", p
        p = cli.docker("search", "--limit", "200", f"{index.host}/x")
        assert p.returncode == 1 and "limit 200 is outside the range of [1, 100]" in p.stderr
    finally:
        cli.close()


def test_berth_search(bd, index):
    cli = BerthCLI(bd)
    try:
        p = cli.run("search", f"{index.host}/x")
        assert p.returncode == 0, p
        lines = p.stdout.splitlines()
        assert lines[0].split() == ["NAME", "DESCRIPTION", "STARS", "OFFICIAL"]
        assert lines[1].split()[0] == "alpha" and lines[1].rstrip().endswith("[OK]")
        assert RESULTS[0]["description"][:44] + "…" in lines[1]
        p = cli.run("search", "--no-trunc", "--limit", "2", "--format",
                    "{{.Name}}|{{.Description}}|{{.StarCount}}|{{.IsOfficial}}",
                    f"{index.host}/x")
        assert p.stdout == f"alpha|{RESULTS[0]['description']}|12|[OK]\n" \
                           "team/beta|second line|3|\n", p
        assert index.asked[-1][1]["n"] == ["2"]
        p = cli.run("search", "-f", "is-official=true", "--format", "{{.Name}}",
                    f"{index.host}/x")
        assert p.stdout == "alpha\n"
        p = cli.run("search", "--limit", "101", f"{index.host}/x")
        assert (p.returncode, p.stderr) == \
            (1, "Error response from daemon: limit 101 is outside the range of [1, 100]\n")
    finally:
        cli.close()


@DOCKER28
def test_berth_search_as_docker(bd, index):
    need_docker28()
    cli = BerthCLI(bd)
    try:
        for args in ([f"{index.host}/x"], ["--no-trunc", f"{index.host}/x"],
                     ["--limit", "1", f"{index.host}/x"],
                     ["--format", "table {{.Name}}\t{{.IsAutomated}}", f"{index.host}/x"],
                     ["--format", "{{json .}}", f"{index.host}/x"],
                     ["--filter", "stars=3", f"{index.host}/x"],
                     ["--filter", "colour=red", f"{index.host}/x"],
                     ["--limit", "0", f"{index.host}/x"],
                     [f"{index.host}/broken"]):
            b, d = cli.run("search", *args), cli.docker("search", *args)
            assert (b.returncode, b.stdout, b.stderr) == \
                (d.returncode, d.stdout, d.stderr.replace("docker", "berth")), args
    finally:
        cli.close()
