#!/usr/bin/python3
"""Record how docker's CLI renders JSON message streams (pkg/jsonmessage), as the expectations of
berth's renderer (test-cli.c).

A tiny fake daemon on a unix socket answers `docker load` with each stream of STREAMS; the real
docker CLI renders it on a pseudo-terminal of a given width (progress bars, cursor movement) and
into a pipe (plain lines).  What it printed (stdout and stderr apart, for the pipe), and its exit
code, go to cases.json with the stream, so the C test feeds the same bytes to berth's renderer.

    tests/unit/jsonmessage-cases/gen.py [/usr/local/bin/docker]

Run it again when STREAMS changes; commit cases.json.  Needs docker CLI 28 and python3-pexpect.
"""

import json
import os
import socketserver
import subprocess
import sys
import tempfile
import threading
from http.server import BaseHTTPRequestHandler
from pathlib import Path

import pexpect

HERE = Path(__file__).resolve().parent
DOCKER = sys.argv[1] if len(sys.argv) > 1 else "/usr/local/bin/docker"


def msgs(*objs):
    return "".join(json.dumps(o) + "\r\n" for o in objs)


def prog(id_, cur, total, **extra):
    d = {"current": cur, "total": total}
    d.update(extra)
    return {"status": "Loading layer", "progressDetail": d, "id": id_}


# (name, stream text, terminal widths to record)
STREAMS = [
    ("load", msgs(prog("aaaa", 524288, 2140160), prog("aaaa", 2140160, 2140160),
                  prog("bbbb", 10240, 10240),
                  {"stream": "Loaded image: busybox:latest\n"}), [130, 100, 40]),
    ("interleaved", msgs(prog("l1", 1, 100), prog("l2", 5, 100), prog("l3", 7, 100),
                         prog("l1", 50, 100), prog("l3", 100, 100), prog("l2", 100, 100),
                         {"status": "Done", "id": "l2"},
                         prog("l4", 3, 10), {"stream": "Loaded image ID: sha256:abc\n"}),
     [130]),
    ("statuses", msgs({"status": "Pulling from library/busybox", "id": "latest"},
                      {"status": "Pulling fs layer", "id": "x1", "progressDetail": {}},
                      {"status": "Waiting", "id": "x2", "progressDetail": {}},
                      {"status": "Download complete", "id": "x1", "progressDetail": {}},
                      {"status": "Digest: sha256:0123"},
                      {"status": "Status: Downloaded newer image for busybox:latest"}), [130]),
    ("units", msgs(prog("u1", 3, 10, units="files"), prog("u2", 12, 10, units="files"),
                   prog("u3", 2500000, 0), prog("u4", 4, 0, units="steps"),
                   prog("u5", 5, 10, hidecounts=True), prog("u6", 0, 0),
                   prog("u7", 1500, 1000)), [130, 60]),
    ("progress-text", msgs({"status": "Extracting", "id": "p1",
                            "progress": "[==>    ] 1MB/4MB"},
                           {"status": "Extracting", "id": "p1", "progress": "[=====>] 4MB/4MB"},
                           {"status": "Pull complete", "id": "p1"}), [130]),
    ("times", msgs({"status": "create", "id": "c1", "from": "busybox", "time": 1700000000},
                   {"status": "start", "id": "c1", "timeNano": 1700000000123456789},
                   {"stream": "line one\nline two\n"},
                   {"stream": "no newline"}, {"stream": "\n"}), [130]),
    ("error", msgs(prog("e1", 10, 100),
                   {"errorDetail": {"message": "load: member 'x/layer.tar': Truncated tar "
                                               "archive"},
                    "error": "load: member 'x/layer.tar': Truncated tar archive"},
                   {"stream": "never shown\n"}), [130]),
    ("error-only", msgs({"error": "legacy error field only"},
                        {"errorDetail": {"code": 3, "message": "with a code"}}), [130]),
    ("aux", msgs({"aux": {"ID": "sha256:abc"}}, {"stream": "after aux\n"}), [130]),
    ("garbage", msgs({"stream": "fine\n"}) + "this is not json\r\n", [130]),
    ("cut", msgs({"stream": "fine\n"}) + '{"stream": "cut sh', [130]),
    ("no-newlines", '{"stream":"a\\n"}{"stream":"b\\n"}  {"status":"c"}', [130]),
    ("array", msgs({"stream": "x\n"}) + '["not a message"]', [130]),
]


class FakeDaemon(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    stream = ""

    def log_message(self, *args):
        pass

    def address_string(self):
        return "unix"

    def do_HEAD(self):
        self.do_GET()

    def do_GET(self):
        self.send_response(200)
        for k, v in (("API-Version", "1.44"), ("OSType", "linux"), ("Content-Length", "2")):
            self.send_header(k, v)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(b"OK")

    def do_POST(self):
        n = int(self.headers.get("Content-Length") or 0)
        if self.headers.get("Transfer-Encoding") == "chunked":
            while True:
                size = int(self.rfile.readline().strip(), 16)
                self.rfile.read(size + 2)
                if size == 0:
                    break
        else:
            self.rfile.read(n)
        data = FakeDaemon.stream.encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


class Server(socketserver.ThreadingMixIn, socketserver.UnixStreamServer):
    daemon_threads = True


def main():
    tmp = tempfile.mkdtemp(prefix="jmgen-")
    sock = os.path.join(tmp, "d.sock")
    srv = Server(sock, FakeDaemon)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    env = dict(os.environ, DOCKER_HOST=f"unix://{sock}", DOCKER_CONFIG=os.path.join(tmp, "cfg"),
               TZ="UTC")
    env.pop("DOCKER_API_VERSION", None)
    archive = os.path.join(tmp, "in.tar")
    Path(archive).write_bytes(b"x" * 10)
    cases = []
    for name, stream, widths in STREAMS:
        FakeDaemon.stream = stream
        p = subprocess.run([DOCKER, "load", "-i", archive], capture_output=True, env=env,
                           timeout=30)
        case = {"name": name, "stream": stream,
                "pipe": {"rc": p.returncode, "stdout": p.stdout.decode(),
                         "stderr": p.stderr.decode()},
                "terminal": []}
        for w in widths:
            t = pexpect.spawn(DOCKER, ["load", "-i", archive], env=env, timeout=30,
                              dimensions=(40, w))
            t.expect(pexpect.EOF)
            t.close()
            # the pty turns "\n" into "\r\n" and mixes stderr in: keep both as they came
            case["terminal"].append({"width": w, "rc": t.exitstatus,
                                     "output": t.before.decode()})
        cases.append(case)
    doc = {"docker": subprocess.run([DOCKER, "--version"], capture_output=True,
                                    text=True).stdout.strip(),
           "cases": cases}
    (HERE / "cases.json").write_text(json.dumps(doc, indent=1, ensure_ascii=False) + "\n")
    srv.shutdown()
    print(f"{len(cases)} streams recorded with {doc['docker']}")


if __name__ == "__main__":
    main()
