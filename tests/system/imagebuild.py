"""Image archives made by hand, for the image store tests: layers from entry lists, configs,
docker-archives (docker <= 24's `<id>/layer.tar` form and docker 25+'s blobs/ form) and OCI image
layouts (plain, gzip or zstd layers; an optional multi-platform index).

    layer = layer_tar([Dir("etc"), File("etc/hostname", b"box\\n"), Whiteout("bin/ls")])
    img = Image([layer], tags=["multi:1"])
    data = docker_archive([img])            # bytes of a `docker save`
    data = oci_layout([img], compression="zstd")

Everything is deterministic: the same inputs give the same bytes (fixed mtimes, sorted
members), so digests can be computed in the test and compared with what the store says.
"""

import gzip
import hashlib
import io
import json
import platform
import subprocess
import tarfile
from dataclasses import dataclass, field

GOARCH = {"x86_64": "amd64", "aarch64": "arm64", "armv7l": "arm", "ppc64le": "ppc64le",
          "s390x": "s390x", "riscv64": "riscv64", "i686": "386"}
ARCH = GOARCH.get(platform.machine(), platform.machine())


def sha256(data):
    return "sha256:" + hashlib.sha256(data).hexdigest()


# ---- layers --------------------------------------------------------------------------------

@dataclass
class File:
    name: str
    data: bytes = b""
    mode: int = 0o644


@dataclass
class Dir:
    name: str
    mode: int = 0o755


@dataclass
class Symlink:
    name: str
    target: str


@dataclass
class Hardlink:
    name: str
    target: str


@dataclass
class Whiteout:
    """`.wh.<base>` in the OCI form: hides <name> of the layers below."""
    name: str


@dataclass
class Opaque:
    """`<dir>/.wh..wh..opq`: hides everything the layers below have in <dir>."""
    dir: str


def layer_tar(entries, fmt=tarfile.PAX_FORMAT):
    """Uncompressed tar bytes of the entries, in the order given."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=fmt) as tar:
        for e in entries:
            if isinstance(e, Whiteout):
                head, _, base = e.name.rpartition("/")
                e = File((head + "/" if head else "") + ".wh." + base, b"", 0o600)
            elif isinstance(e, Opaque):
                e = File(e.dir.rstrip("/") + "/.wh..wh..opq", b"", 0o755)
            ti = tarfile.TarInfo(e.name)
            ti.mtime = 1700000000
            ti.uid = ti.gid = 0
            if isinstance(e, File):
                ti.size = len(e.data)
                ti.mode = e.mode
                tar.addfile(ti, io.BytesIO(e.data))
            elif isinstance(e, Dir):
                ti.type = tarfile.DIRTYPE
                ti.mode = e.mode
                tar.addfile(ti)
            elif isinstance(e, Symlink):
                ti.type = tarfile.SYMTYPE
                ti.linkname = e.target
                ti.mode = 0o777
                tar.addfile(ti)
            elif isinstance(e, Hardlink):
                ti.type = tarfile.LNKTYPE
                ti.linkname = e.target
                ti.mode = 0o644
                tar.addfile(ti)
            else:
                raise TypeError(e)
    return buf.getvalue()


def compress(data, how):
    if how is None:
        return data
    if how == "gzip":
        return gzip.compress(data, mtime=0)
    if how == "zstd":
        return subprocess.run(["zstd", "-q", "-c"], input=data, capture_output=True,
                              check=True).stdout
    raise ValueError(how)


# ---- images --------------------------------------------------------------------------------

@dataclass
class Image:
    layers: list                       # uncompressed layer tars
    tags: list = field(default_factory=list)
    cmd: list = field(default_factory=lambda: ["sh"])
    history: list = None               # default: one entry per layer
    diff_ids: list = None              # default: the layers' digests (override to lie)
    extra: dict = field(default_factory=dict)
    parent: object = None              # an Image: manifest.json's "Parent" (docker's build parent)

    def config(self):
        diff_ids = self.diff_ids if self.diff_ids is not None else [sha256(l) for l in self.layers]
        history = self.history
        if history is None:
            history = [{"created": "2024-01-02T03:04:05Z", "created_by": f"layer {i}"}
                       for i in range(len(self.layers))]
        cfg = {"architecture": ARCH, "os": "linux", "created": "2024-01-02T03:04:05Z",
               "config": {"Env": ["PATH=/usr/sbin:/usr/bin:/sbin:/bin"], "Cmd": self.cmd},
               "rootfs": {"type": "layers", "diff_ids": diff_ids}, "history": history}
        cfg.update(self.extra)
        return json.dumps(cfg, sort_keys=True).encode()

    @property
    def id(self):
        return sha256(self.config())


def _tar_of(members):
    """A tar of (name, bytes | ("symlink", target)) members, in the order given."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for name, data in members:
            ti = tarfile.TarInfo(name)
            ti.mtime = 0
            if isinstance(data, tuple) and data[0] == "symlink":
                ti.type = tarfile.SYMTYPE
                ti.linkname = data[1]
                tar.addfile(ti)
            else:
                ti.size = len(data)
                tar.addfile(ti, io.BytesIO(data))
    return buf.getvalue()


def docker_archive(images, form="legacy", order=None, layer_links=True):
    """A docker-archive: form "legacy" (docker <= 24: <v1id>/layer.tar, <config hex>.json, a
    shared layer linked from its second directory) or "blobs" (docker 25+'s blobs/sha256/).
    order: a function reordering the member list (members may come in any order)."""
    members = []
    manifest = []
    seen = {}
    for img in images:
        cfg = img.config()
        layers = []
        for i, l in enumerate(img.layers):
            d = sha256(l)
            if form == "blobs":
                path = "blobs/sha256/" + d[7:]
                if path not in seen:
                    seen[path] = True
                    members.append((path, l))
            else:
                v1 = hashlib.sha256((img.id + str(i) + d).encode()).hexdigest()
                path = v1 + "/layer.tar"
                if d in seen and layer_links:
                    members.append((path, ("symlink", "../" + seen[d])))
                else:
                    seen[d] = path
                    members.append((path, l))
                members.append((v1 + "/VERSION", b"1.0"))
            layers.append(path)
        cfgpath = ("blobs/sha256/" if form == "blobs" else "") + img.id[7:] + \
            ("" if form == "blobs" else ".json")
        members.append((cfgpath, cfg))
        item = {"Config": cfgpath, "RepoTags": img.tags or None, "Layers": layers}
        if img.parent:
            item["Parent"] = img.parent.id
        manifest.append(item)
    members.append(("manifest.json", json.dumps(manifest).encode()))
    repos = {}
    for img in images:
        for t in img.tags:
            name, _, tag = t.rpartition(":")
            repos.setdefault(name, {})[tag] = sha256(img.layers[-1])[7:] if img.layers else ""
    members.append(("repositories", json.dumps(repos).encode()))
    if order:
        members = order(members)
    return _tar_of(members)


def oci_layout(images, compression=None, multiplatform=False, name_annotation=True):
    """An OCI image layout as a tar: oci-layout, index.json, blobs/sha256/."""
    blobs = {}
    descs = []

    def put(data):
        d = sha256(data)
        blobs[d] = data
        return d

    for img in images:
        layers = []
        for l in img.layers:
            data = compress(l, compression)
            mt = "application/vnd.oci.image.layer.v1.tar" + \
                {None: "", "gzip": "+gzip", "zstd": "+zstd"}[compression]
            layers.append({"mediaType": mt, "digest": put(data), "size": len(data)})
        cfg = img.config()
        man = json.dumps({"schemaVersion": 2,
                          "mediaType": "application/vnd.oci.image.manifest.v1+json",
                          "config": {"mediaType": "application/vnd.oci.image.config.v1+json",
                                     "digest": put(cfg), "size": len(cfg)},
                          "layers": layers}).encode()
        mdesc = {"mediaType": "application/vnd.oci.image.manifest.v1+json",
                 "digest": put(man), "size": len(man),
                 "platform": {"architecture": ARCH, "os": "linux"}}
        if multiplatform:
            # a manifest for another platform first: it must be skipped (and its blob need
            # not even be there)
            other = {"mediaType": "application/vnd.oci.image.manifest.v1+json",
                     "digest": sha256(b"elsewhere"), "size": 9,
                     "platform": {"architecture": "s390x" if ARCH != "s390x" else "amd64",
                                  "os": "linux"}}
            inner = json.dumps({"schemaVersion": 2,
                                "mediaType": "application/vnd.oci.image.index.v1+json",
                                "manifests": [other, mdesc]}).encode()
            mdesc = {"mediaType": "application/vnd.oci.image.index.v1+json",
                     "digest": put(inner), "size": len(inner)}
        for t in img.tags or [None]:
            d = dict(mdesc)
            if t and name_annotation:
                full = t if "/" in t.split(":")[0] else "docker.io/library/" + t
                d["annotations"] = {"io.containerd.image.name": full,
                                    "org.opencontainers.image.ref.name": t.rpartition(":")[2]}
            descs.append(d)
    index = json.dumps({"schemaVersion": 2,
                        "mediaType": "application/vnd.oci.image.index.v1+json",
                        "manifests": descs}).encode()
    members = [("oci-layout", b'{"imageLayoutVersion":"1.0.0"}'), ("index.json", index)]
    members += [("blobs/sha256/" + d[7:], data) for d, data in sorted(blobs.items())]
    return _tar_of(members)
