"""The runtime on a kernel that lacks a newer system call (docs/runtime-api.md, "Minimum
kernel"): helpers/nosys.py makes the call fail the way an older kernel answers it (ENOSYS, or
EINVAL for a flag it does not know) with a seccomp filter around the runtime.  Where berth has a
fallback the container still runs and the fallback's effect is checked; where it has none the
command fails with a message naming the call and the Linux it needs, and leaves nothing."""

from pathlib import Path

import pytest

from berth import Runtime, new_id, runtime_binary

NOSYS = Path(__file__).resolve().parent / "helpers" / "nosys.py"
PY = "/usr/bin/python3"


@pytest.fixture
def without(tmp_path):
    """without("close_range=EINVAL", ...) -> a Runtime whose every command runs with those
    calls failing; its teardown checks nothing is left."""
    made = []

    def make(*calls):
        rt = Runtime(runtime_binary(), tmp_path / f"rt-{len(made)}",
                     wrapper=[PY, str(NOSYS), ",".join(calls), "--"])
        made.append(rt)
        return rt

    yield make
    for rt in made:
        assert rt.teardown() == []


def run_sh(rt, make_bundle, script, **edit):
    b = make_bundle(args=["sh", "-c", script])
    for k, v in edit.items():
        b.config[k] = v
    b.write()
    return b, rt.run_bundle(b)


@pytest.mark.parametrize("calls", [("close_range",), ("close_range=EINVAL",)],
                         ids=["no close_range (< 5.9)", "no CLOSE_RANGE_CLOEXEC (5.9, 5.10)"])
def test_fds_are_closed_without_close_range(without, make_bundle, calls):
    rt = without(*calls)
    # nosys.py leaves fd 9 open for the runtime: it must not reach the container, nor any fd
    # of the runtime's own (sync socket, state directory, fifo); ls's own directory fd is 3
    _, (code, out, err) = run_sh(rt, make_bundle, "ls /proc/self/fd | tr '\\n' ' '")
    assert code == 0, err
    assert out.split() == ["0", "1", "2", "3"], out
    # exec's process too
    b = make_bundle(args=["sleep", "100"])
    cid = rt.create(b)
    rt.start(cid)
    p = rt.exec(cid, "sh", "-c", "ls /proc/self/fd | tr '\\n' ' '")
    assert p.stdout.split() == ["0", "1", "2", "3"], p.stdout
    rt.delete(cid, force=True)


def test_the_fd_would_leak_without_the_runtime(tmp_path):
    """The check above can fail: nosys.py's fd 9 does reach a program that does not close it."""
    import subprocess
    out = subprocess.run([PY, str(NOSYS), "close_range", "--", "ls", "/proc/self/fd"],
                         capture_output=True, text=True, check=True).stdout.split()
    assert "9" in out


def test_paths_resolve_in_the_root_without_openat2(without, make_bundle, tmp_path):
    rt = without("openat2")
    # a mount whose destination goes through a symlink inside the rootfs: resolved inside the
    # root by the fallback walk, not on the host
    b = make_bundle(args=["sh", "-c", "cat /link/data/f"])
    (b.rootfs / "real").mkdir()
    (b.rootfs / "link").symlink_to("/real")
    src = tmp_path / "src"
    src.mkdir()
    (src / "f").write_text("through the link\n")
    b.add_mount("/link/data", "bind", src, ["rbind", "ro"])
    b.write()
    code, out, err = rt.run_bundle(b)
    assert (code, out) == (0, "through the link\n"), err
    assert (b.rootfs / "real" / "data").is_dir()
    assert not Path("/real").exists()


def test_rro_without_mount_setattr_names_the_call(without, make_bundle, tmp_path):
    rt = without("mount_setattr")
    b = make_bundle(args=["true"])
    src = tmp_path / "src"
    src.mkdir()
    b.add_mount("/rro", "bind", src, ["rbind", "rro"])
    b.write()
    cid = rt.track(new_id())
    p = rt.run("run", "--bundle", b.path, cid, check=False)
    assert p.returncode == 1
    assert "mount_setattr: not supported by this kernel (Linux 5.12 or later)" in p.stderr, \
        p.stderr
    assert "'/rro'" in p.stderr, p.stderr


def test_idmap_without_open_tree_names_the_call(without, make_bundle, tmp_path):
    rt = without("open_tree")
    b = make_bundle(args=["true"])
    src = tmp_path / "idsrc"
    src.mkdir()
    b.config["mounts"].append({
        "destination": "/idm", "type": "bind", "source": str(src), "options": ["rbind", "idmap"],
        "uidMappings": [{"containerID": 0, "hostID": 5000, "size": 1}],
        "gidMappings": [{"containerID": 0, "hostID": 6000, "size": 1}],
    })
    b.write()
    cid = rt.track(new_id())
    p = rt.run("run", "--bundle", b.path, cid, check=False)
    assert p.returncode == 1
    assert "open_tree: not supported by this kernel (Linux 5.2 or later)" in p.stderr, p.stderr
    assert "'/idm'" in p.stderr, p.stderr


def test_without_pidfd_open(without, make_bundle):
    """Create's and exec's handles come from CLONE_PIDFD (5.2), kill falls back to kill(2) with
    the start-time check: the lifecycle works without pidfd_open (5.3)."""
    rt = without("pidfd_open")
    b = make_bundle(args=["sh", "-c", "echo ran"])
    code, out, err = rt.run_bundle(b)
    assert (code, out) == (0, "ran\n"), err
    b = make_bundle(args=["sleep", "100"])
    cid = rt.create(b)
    rt.start(cid)
    assert rt.exec(cid, "echo", "in").stdout == "in\n"
    rt.kill(cid, "KILL")
    rt.wait_status(cid, "stopped")
    rt.delete(cid)
