"""berthd maps libcurl, libarchive and libnftables only once a request needs them (base/dl.h):
an idle berthd that answered /_ping has none of them, an import loads libarchive, a pull
libcurl; a library that cannot be loaded is an error naming it, and berthd keeps serving."""

import os
import urllib.parse

import pytest

from daemon import berthd_binary, import_busybox

pytestmark = pytest.mark.skipif(not os.access(berthd_binary(), os.X_OK),
                                reason="berthd not built")

LAZY = ("libcurl.so", "libarchive.so", "libnftables.so")


def mapped(b):
    """The shared objects in berthd's address space, by file name."""
    with open(f"/proc/{b.pid}/maps") as f:
        return {os.path.basename(line.split()[-1]) for line in f
                if len(line.split()) >= 6 and ".so" in line}


def has(libs, prefix):
    return any(name.startswith(prefix) for name in libs)


def test_idle_berthd_maps_none_of_the_lazy_libraries(berthd):
    assert berthd.http("GET", "/_ping")[0] == 200
    assert berthd.http("GET", "/info")[0] == 200
    assert berthd.http("GET", "/images/json")[0] == 200
    libs = mapped(berthd)
    assert has(libs, "libc.so"), libs  # the check sees shared objects at all
    for lib in LAZY:
        assert not has(libs, lib), f"{lib} mapped in an idle berthd: {sorted(libs)}"


def test_import_loads_libarchive_and_pull_libcurl(berthd):
    import_busybox(berthd)
    status, _, body = berthd.http("GET", "/images/busybox:latest/json")
    assert status == 200, body
    libs = mapped(berthd)
    assert has(libs, "libarchive.so") and not has(libs, "libcurl.so"), sorted(libs)
    # a registry on a closed loopback port: the pull fails, but only after libcurl was loaded
    status, _, body = berthd.http(
        "POST", "/images/create?fromImage=" + urllib.parse.quote("127.0.0.1:9/none:latest"))
    assert b"127.0.0.1:9" in body, body
    assert has(mapped(berthd), "libcurl.so")
    assert berthd.http("GET", "/_ping")[0] == 200


def test_unloadable_library_is_an_error_naming_it(make_berthd, tmp_path):
    # an empty file where the loader looks first: dlopen fails ("file too short")
    (tmp_path / "libarchive.so.13").write_bytes(b"")
    (tmp_path / "libcurl.so.4").write_bytes(b"")
    b = make_berthd(env={"LD_LIBRARY_PATH": str(tmp_path)})
    tar = b"\0" * 1024  # an empty tar: berthd must not get as far as reading it
    status, _, body = b.http("POST", "/images/create?fromSrc=-&repo=x", body=tar,
                             headers={"Content-Type": "application/x-tar"})
    assert b"cannot load 'libarchive.so.13'" in body, (status, body)
    status, _, body = b.http("POST", "/images/create?fromImage=" +
                             urllib.parse.quote("127.0.0.1:9/none:latest"))
    assert b"cannot load 'libcurl.so.4'" in body, (status, body)
    status, _, body = b.http("GET", "/images/json")
    assert status == 200 and body.strip() == b"[]", body
    assert b.http("GET", "/_ping")[0] == 200
