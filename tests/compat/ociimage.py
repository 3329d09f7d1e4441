#!/usr/bin/python3
"""Writes an OCI image layout, as a tar, holding one image made of one root filesystem.

    ociimage.py ROOTFS_DIR OUT.tar NAME[:TAG]

No network and no other tool: the layer is an uncompressed tar of ROOTFS_DIR (owners forced to
root), the config names the layer's diff id and runs `sh`, and index.json names the image both
the OCI way (org.opencontainers.image.ref.name) and containerd's (io.containerd.image.name), so
`ctr image import OUT.tar` registers it under NAME:TAG.
"""

import hashlib
import io
import json
import os
import platform
import sys
import tarfile
import time

GOARCH = {"x86_64": "amd64", "aarch64": "arm64", "armv7l": "arm", "ppc64le": "ppc64le",
          "s390x": "s390x", "riscv64": "riscv64", "i686": "386"}


def _root_owned(ti):
    ti.uid = ti.gid = 0
    ti.uname = ti.gname = "root"
    ti.mtime = 0
    return ti


def layer_tar(rootfs):
    """The rootfs as tar bytes (sorted, root-owned, fixed mtimes: the same tree gives the same
    digest)."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for entry in sorted(os.listdir(rootfs)):
            tar.add(os.path.join(rootfs, entry), arcname=entry, filter=_root_owned)
    return buf.getvalue()


def descriptor(media_type, data, **extra):
    return {"mediaType": media_type, "digest": "sha256:" + hashlib.sha256(data).hexdigest(),
            "size": len(data), **extra}


def build(rootfs, out, name):
    if ":" not in name.rsplit("/", 1)[-1]:
        name += ":latest"
    tag = name.rsplit(":", 1)[1]
    layer = layer_tar(rootfs)
    diff_id = "sha256:" + hashlib.sha256(layer).hexdigest()
    config = json.dumps({
        "created": "1970-01-01T00:00:00Z",
        "architecture": GOARCH.get(platform.machine(), platform.machine()),
        "os": "linux",
        "config": {"Env": ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"],
                   "Cmd": ["sh"], "WorkingDir": "/"},
        "rootfs": {"type": "layers", "diff_ids": [diff_id]},
        "history": [{"created": "1970-01-01T00:00:00Z", "created_by": "ociimage.py"}],
    }, sort_keys=True).encode()
    manifest = json.dumps({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": descriptor("application/vnd.oci.image.config.v1+json", config),
        "layers": [descriptor("application/vnd.oci.image.layer.v1.tar", layer)],
    }, sort_keys=True).encode()
    index = json.dumps({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.index.v1+json",
        "manifests": [descriptor("application/vnd.oci.image.manifest.v1+json", manifest,
                                 annotations={"io.containerd.image.name": name,
                                              "org.opencontainers.image.ref.name": tag})],
    }, sort_keys=True).encode()

    blobs = [config, manifest, layer]
    tmp = out + ".tmp"
    with tarfile.open(tmp, "w", format=tarfile.PAX_FORMAT) as tar:
        def put(path, data):
            ti = tarfile.TarInfo(path)
            ti.size = len(data)
            ti.mtime = int(time.time())
            tar.addfile(ti, io.BytesIO(data))

        put("oci-layout", b'{"imageLayoutVersion":"1.0.0"}')
        put("index.json", index)
        for b in blobs:
            put("blobs/sha256/" + hashlib.sha256(b).hexdigest(), b)
    os.replace(tmp, out)
    return name


if __name__ == "__main__":
    if len(sys.argv) != 4:
        sys.exit("usage: ociimage.py ROOTFS_DIR OUT.tar NAME[:TAG]")
    print(build(*sys.argv[1:]))
