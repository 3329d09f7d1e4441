"""The layering of lib/ is enforced twice: the build gives each library only the include
directories of the folders it may use (include/<name>), and scripts/check-layering fails on any
#include that crosses a layer.  These tests plant violations in a scratch copy of the tree and
show both catch them (docs/architecture.md, "Layers")."""

import shutil
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent.parent
CHECK = "scripts/check-layering"

# (file, include planted, what the check must say, does the compiler refuse it too)
PLANTS = [
    ("lib/base/strings.c", '#include "runtime/runtime.h"',
     "lib/base may not use lib/runtime (rule: lib/base -> nothing but itself)", True),
    ("lib/runtime/state.c", '#include "image/image.h"',
     "lib/runtime may not use lib/image (rule: lib/runtime -> lib/cgroup, lib/base)", True),
    ("lib/cgroup/cgroup.c", '#include "runtime/spec.h"',
     "lib/cgroup may not use lib/runtime (rule: lib/cgroup -> lib/base)", True),
    ("cli/units.c", '#include "runtime/runtime.h"',
     "cli/ may not use lib/runtime (rule: cli/ -> lib/api, lib/base)", True),
    ("lib/image/digest.c", '#include "../../daemon/daemon.h"',
     "lib/image includes a header of the program daemon/", False),
    # base-core and base share a folder, so only the check can keep jansson out of the core
    ("lib/base/files.c", '#include "json.h"',
     "lib/base's core (berth-base-core) may not use the JSON helpers", False),
]


def copy_tree(dst):
    """The worktree's files (tracked and new, not ignored: no build directories) into dst."""
    names = subprocess.run(["git", "-C", REPO, "ls-files", "-z", "--cached", "--others",
                            "--exclude-standard"], check=True, capture_output=True).stdout
    for name in filter(None, names.decode().split("\0")):
        src = REPO / name
        if not src.exists() and not src.is_symlink():
            continue  # deleted in the worktree, not yet in git
        out = dst / name
        out.parent.mkdir(parents=True, exist_ok=True)
        if src.is_symlink():
            out.symlink_to(src.readlink())
        else:
            shutil.copy2(src, out)


def plant(tree, rel, line):
    """Insert the include after the file's first #include; returns its line number."""
    path = tree / rel
    lines = path.read_text().splitlines(keepends=True)
    first = next(i for i, l in enumerate(lines) if l.startswith("#include"))
    lines.insert(first + 1, line + "\n")
    path.write_text("".join(lines))
    return first + 2


def object_of(build, rel):
    """The ninja target of rel's object, as meson named it."""
    out = subprocess.run(["ninja", "-C", build, "-t", "targets", "all"], check=True,
                         capture_output=True, text=True).stdout
    suffix = "/" + Path(rel).name + ".o"
    folder = str(Path(rel).parent) + "/"
    hits = [t.split(":")[0] for t in out.splitlines()
            if t.split(":")[0].endswith(suffix) and t.startswith(folder)]
    assert hits, f"no object for {rel} in {build}"
    return hits[0]


@pytest.fixture(scope="module")
def scratch(tmp_path_factory):
    tree = tmp_path_factory.mktemp("layering") / "src"
    copy_tree(tree)
    r = subprocess.run([tree / CHECK], capture_output=True, text=True)
    assert r.returncode == 0, "the unchanged tree must pass:\n" + r.stdout + r.stderr
    build = tree / "build"
    subprocess.run(["meson", "setup", build], cwd=tree, check=True, capture_output=True)
    return tree, build


def test_the_tree_passes():
    r = subprocess.run([REPO / CHECK], capture_output=True, text=True)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "every include within its layer" in r.stdout


@pytest.mark.parametrize("rel,line,message,compiler", PLANTS,
                         ids=[f"{p[0]}:{p[1].split()[1]}" for p in PLANTS])
def test_a_planted_include_fails(scratch, rel, line, message, compiler):
    tree, build = scratch
    target = object_of(build, rel)
    # the file compiles as it is: what fails below is the planted line
    r = subprocess.run(["ninja", "-C", build, target], capture_output=True, text=True)
    assert r.returncode == 0, r.stdout + r.stderr
    original = (tree / rel).read_text()
    try:
        lineno = plant(tree, rel, line)
        r = subprocess.run([tree / CHECK], capture_output=True, text=True)
        assert r.returncode == 1
        # one line, naming the file, the line, the include and the rule
        lines = r.stdout.splitlines()
        assert len(lines) == 1 and lines[0].startswith(f"{rel}:{lineno}: {line}: "), r.stdout
        assert message in r.stdout, r.stdout
        r = subprocess.run(["ninja", "-C", build, target], capture_output=True, text=True)
        if compiler:
            header = line.split('"')[1]
            assert r.returncode != 0, f"{rel} compiled with {line}"
            assert f"{header}: No such file or directory" in r.stdout, r.stdout
    finally:
        (tree / rel).write_text(original)


def test_a_lib_folder_without_a_rule_fails(scratch):
    tree, _ = scratch
    new = tree / "lib" / "newthing"
    new.mkdir()
    try:
        (new / "x.c").write_text('#include "base/core.h"\n')
        r = subprocess.run([tree / CHECK], capture_output=True, text=True)
        assert r.returncode == 1
        assert "lib/newthing: no rule in scripts/check-layering" in r.stdout, r.stdout
    finally:
        shutil.rmtree(new)
