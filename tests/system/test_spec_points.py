"""Where the runtime spec says what a runtime MUST do, checked on real bundles: failing poststart
and poststop hooks leave the other hooks running, no mount namespace shares the caller's, the
create-time hooks see a created container, capabilities that cannot be granted and LSM labels
that cannot be applied fail create and leave nothing, a failing startContainer hook is reported
whole.  (delete of a created container without --force: test_lifecycle.py; relative cgroupsPath
parents: test_cgroups.py.)"""

import json
import os
from pathlib import Path

import pytest

from berth import Runtime, mounts_under, runtime_binary


def writer_hook(path, mark):
    return {"path": "/bin/sh", "args": ["sh", "-c", f"cat > {mark}"]}


FAIL = {"path": "/bin/false"}


def test_failing_poststart_hook_does_not_stop_the_next(runtime, make_bundle, tmp_path):
    b = make_bundle(args=["sleep", "100"])
    mark = tmp_path / "second-ran"
    b.config["hooks"] = {"poststart": [FAIL, writer_hook("/bin/sh", mark)]}
    b.write()
    cid = runtime.create(b)
    p = runtime.start(cid)
    assert "warning" in p.stderr.lower() and "/bin/false" in p.stderr, p.stderr
    # the second hook ran, with the state on its stdin, and the container runs
    st = json.loads(mark.read_text())
    assert st["id"] == cid and st["status"] == "running"
    assert runtime.status(cid) == "running"
    runtime.delete(cid, force=True)


def test_failing_poststop_hook_does_not_stop_the_next(runtime, make_bundle, tmp_path):
    b = make_bundle(args=["true"])
    marks = [tmp_path / "first", tmp_path / "third"]
    b.config["hooks"] = {"poststop": [writer_hook("/bin/sh", marks[0]), FAIL,
                                      writer_hook("/bin/sh", marks[1])]}
    b.write()
    cid = runtime.create(b)
    runtime.start(cid)
    runtime.wait_status(cid, "stopped")
    p = runtime.delete(cid)
    assert "warning" in p.stderr.lower(), p.stderr
    for m in marks:
        assert json.loads(m.read_text())["id"] == cid, m
    assert not (runtime.root / cid).exists()


def test_create_time_hooks_see_a_created_container(runtime, make_bundle, tmp_path):
    b = make_bundle(args=["true"])
    marks = {k: tmp_path / k for k in ("prestart", "createRuntime", "createContainer")}
    b.config["hooks"] = {k: [writer_hook("/bin/sh", m)] for k, m in marks.items()}
    b.write()
    cid = runtime.create(b)
    pid = runtime.container_pid(cid)
    for k, m in marks.items():
        st = json.loads(m.read_text())
        assert st["status"] == "created" and st["pid"] == pid and st["id"] == cid, (k, st)
    runtime.delete(cid, force=True)


def test_failing_start_container_hook_reported_whole(runtime, make_bundle):
    b = make_bundle(args=["true"])
    b.config["hooks"] = {"startContainer": [{"path": "/bin/false"}]}
    b.write()
    cid = runtime.create(b)
    p = runtime.fails("start", cid)
    assert "startContainer hook '/bin/false'" in p.stderr, p.stderr
    assert "tartContainer" not in p.stderr.replace("startContainer", ""), p.stderr
    runtime.delete(cid, force=True)


# ---- no mount namespace: the caller's is shared ------------------------------------------------

def no_mount_ns(b):
    b.config["linux"]["namespaces"] = [n for n in b.config["linux"]["namespaces"]
                                       if n["type"] != "mount"]
    # what would change the caller's mounts for good is refused (as runc refuses the masks)
    b.config["linux"].pop("maskedPaths", None)
    b.config["linux"].pop("readonlyPaths", None)
    b.config["root"]["readonly"] = False
    return b


def test_no_mount_namespace_shares_the_callers(runtime, make_bundle):
    b = no_mount_ns(make_bundle(args=["sleep", "100"]))
    (b.rootfs / "inside-marker").write_text("yes\n")
    b.write()
    cid = runtime.create(b)
    pid = runtime.container_pid(cid)
    assert os.readlink(f"/proc/{pid}/ns/mnt") == os.readlink("/proc/self/ns/mnt")
    # the process is inside its rootfs all the same, with its mounts (made in our namespace)
    assert os.readlink(f"/proc/{pid}/root") == str(b.rootfs.resolve())
    made = mounts_under(b.rootfs)
    assert str(b.rootfs / "proc") in made and str(b.rootfs / "dev") in made, made
    runtime.start(cid)
    # exec joins the container where it is: its root, not ours
    out = runtime.exec(cid, "sh", "-c", "cat /inside-marker; readlink /proc/self/ns/mnt").stdout
    assert out.splitlines() == ["yes", os.readlink("/proc/self/ns/mnt")], out
    runtime.delete(cid, force=True)
    # and delete takes the mounts it made out of our namespace
    assert mounts_under(b.rootfs) == [], mounts_under(b.rootfs)


def test_no_mount_namespace_run_leaves_no_mount(runtime, make_bundle):
    b = no_mount_ns(make_bundle(args=["sh", "-c", "ls /proc/self/ns/mnt >/dev/null && echo ok"]))
    b.write()
    code, out, err = runtime.run_bundle(b)
    assert (code, out) == (0, "ok\n"), err
    assert mounts_under(b.rootfs) == []


@pytest.mark.parametrize("edit,what", [
    (lambda c: c["linux"].__setitem__("maskedPaths", ["/proc/kcore"]), "linux.maskedPaths"),
    (lambda c: c["linux"].__setitem__("readonlyPaths", ["/proc/sys"]), "linux.readonlyPaths"),
    (lambda c: c["root"].__setitem__("readonly", True), "root.readonly"),
])
def test_no_mount_namespace_refuses_what_would_change_the_callers_mounts(runtime, make_bundle,
                                                                         edit, what):
    b = no_mount_ns(make_bundle(args=["true"]))
    edit(b.config)
    b.write()
    p = runtime.create(b, check=False)
    assert p.returncode == 1 and what in p.stderr and "mount namespace" in p.stderr, p.stderr
    assert runtime.leftovers() == [] and mounts_under(b.rootfs) == []


# ---- capabilities and LSM labels that cannot be applied: create fails, nothing left -----------

def test_capability_outside_the_runtimes_bounding_set_fails_create(make_bundle, tmp_path):
    """The runtime runs without CAP_SYS_RESOURCE in its bounding set (setpriv drops it, as some
    hosts do): asking for it fails create, leaving nothing, instead of failing at start."""
    rt = Runtime(runtime_binary(), tmp_path / "rt",
                 wrapper=["setpriv", "--bounding-set", "-sys_resource"])
    try:
        b = make_bundle(args=["true"])
        caps = b.config["process"]["capabilities"]
        for k in ("bounding", "effective", "permitted"):
            caps[k] = caps[k] + ["CAP_SYS_RESOURCE"]
        b.write()
        p = rt.create(b, check=False)
        assert p.returncode == 1 and "CAP_SYS_RESOURCE" in p.stderr and \
            "cannot be granted" in p.stderr, p.stderr
        assert rt.leftovers() == []
    finally:
        assert rt.teardown() == []


def test_grantable_capabilities_still_run_under_that_runtime(make_bundle, tmp_path):
    rt = Runtime(runtime_binary(), tmp_path / "rt",
                 wrapper=["setpriv", "--bounding-set", "-sys_resource"])
    try:
        b = make_bundle(args=["sh", "-c", "grep CapBnd /proc/self/status"])
        b.write()
        code, out, err = rt.run_bundle(b)
        assert code == 0 and "CapBnd" in out, err
    finally:
        assert rt.teardown() == []


@pytest.mark.skipif(Path("/sys/module/apparmor/parameters/enabled").exists(),
                    reason="AppArmor is enabled here: the profile could be applied")
@pytest.mark.allowed_skip(reason="a host with AppArmor can apply the profile")
def test_apparmor_profile_without_apparmor_refused(runtime, make_bundle):
    b = make_bundle(args=["true"])
    b.config["process"]["apparmorProfile"] = "berth-test-profile"
    b.write()
    p = runtime.create(b, check=False)
    assert p.returncode == 1 and "apparmorProfile" in p.stderr and "AppArmor" in p.stderr, \
        p.stderr
    assert runtime.leftovers() == []


@pytest.mark.skipif(Path("/sys/fs/selinux/enforce").exists(),
                    reason="SELinux is enabled here: the label could be applied")
@pytest.mark.allowed_skip(reason="a host with SELinux can apply the label")
def test_selinux_label_without_selinux_refused(runtime, make_bundle):
    b = make_bundle(args=["sleep", "100"])
    cid = runtime.create(b)
    runtime.start(cid)
    # at exec too: the label is refused before anything runs
    p = runtime.run("exec", "--process-label", "system_u:system_r:container_t:s0", cid, "true",
                    check=False)
    assert p.returncode == 1 and "selinuxLabel" in p.stderr, p.stderr
    runtime.delete(cid, force=True)
    b2 = make_bundle(args=["true"])
    b2.config["process"]["selinuxLabel"] = "system_u:system_r:container_t:s0"
    b2.write()
    p = runtime.create(b2, check=False)
    assert p.returncode == 1 and "SELinux" in p.stderr, p.stderr
