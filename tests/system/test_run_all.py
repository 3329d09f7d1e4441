"""tests/run-all's counting, run for real: a throwaway meson project whose TAP test passes with a
`# skip` inside goes through run-all's own run_meson_tests(), locally and with CI's rules."""

import importlib.machinery
import importlib.util
import os
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent.parent


def load_run_all():
    loader = importlib.machinery.SourceFileLoader("run_all", str(REPO / "tests" / "run-all"))
    spec = importlib.util.spec_from_loader("run_all", loader)
    mod = importlib.util.module_from_spec(spec)
    loader.exec_module(mod)
    return mod


TAP = {
    # a binary that passes with one live part skipped, the way test-cgroup does off its host
    "tapper": "ok 1 - parsed\nok 2 # skip live v9: no such hierarchy\n"
              "ok 3 - # SKIP: AppArmor present\nok 4 - lines skipped on purpose\n1..4\n",
    # one that passes with nothing skipped
    "clean": "ok 1 - one\nok 2 - two\n1..2\n",
}


@pytest.fixture
def project(tmp_path):
    src = tmp_path / "src"
    src.mkdir()
    lines = ["project('tapdemo', [])"]
    for name, out in TAP.items():
        script = src / f"{name}.sh"
        script.write_text("#!/bin/sh\nprintf '%s' '" + out.replace("'", "'\\''") + "'\n")
        script.chmod(0o755)
        lines.append(f"test('{name}', find_program('{name}.sh'), protocol : 'tap', "
                     f"suite : 'unit')")
    (src / "meson.build").write_text("\n".join(lines) + "\n")
    build = tmp_path / "build"
    subprocess.run(["meson", "setup", build, src], check=True, capture_output=True)
    return build


def run(build, monkeypatch, ci, allowed=()):
    mod = load_run_all()
    monkeypatch.setenv("CI", "true" if ci else "")
    monkeypatch.delenv("BERTH_STRICT_SKIPS", raising=False)
    monkeypatch.delenv("BERTH_ALLOWED_SKIPS", raising=False)
    mod.ALLOWED_TAP_SKIPS = list(allowed)
    mod.run_meson_tests(build, suites=("unit",), phase="demo")
    (phase,) = mod.phases
    return phase


def test_tap_skips_count_as_skips_locally(project, monkeypatch):
    name, passed, failed, skipped, note = run(project, monkeypatch, ci=False)
    # two binaries passed; two TAP lines inside one of them skipped (not "lines skipped")
    assert (passed, failed, skipped) == (2, 0, 2), note


def test_an_unexpected_tap_skip_fails_in_ci(project, monkeypatch):
    name, passed, failed, skipped, note = run(project, monkeypatch, ci=True)
    assert (passed, failed, skipped) == (2, 2, 0)
    assert "unexpected skip in tapper: live v9: no such hierarchy" in note
    assert "unexpected skip in tapper: AppArmor present" in note


def test_an_allowed_tap_skip_passes_in_ci_with_its_reason(project, monkeypatch):
    allowed = [("tapper", r"^live v9: no ", "this host has no v9")]
    name, passed, failed, skipped, note = run(project, monkeypatch, ci=True, allowed=allowed)
    # the allowed one is a skip; the other still fails; the same pattern for another test
    # name would not have matched
    assert (passed, failed, skipped) == (2, 1, 1)
    assert "AppArmor present" in note and "v9" not in note


def test_every_allowed_tap_skip_has_a_reason_and_a_real_test():
    mod = load_run_all()
    unit = (REPO / "tests" / "unit" / "meson.build").read_text()
    for name, rx, why in mod.ALLOWED_TAP_SKIPS:
        assert why.strip(), name
        assert f"'{name}'" in unit, f"{name} is no unit test"


def test_a_sanitizer_report_fails_whatever_the_exit(tmp_path):
    """The ASan phase can fail: a report on a command's stderr fails the test even when the
    command was expected to fail (its exit code alone would not show it)."""
    from berth import Runtime
    fake = tmp_path / "fake-runtime"
    fake.write_text("#!/bin/sh\necho \"berth-runtime: container 'x' does not exist\" >&2\n"
                    "echo '==123==ERROR: LeakSanitizer: detected memory leaks' >&2\nexit 1\n")
    fake.chmod(0o755)
    rt = Runtime(fake, tmp_path / "rt")
    with pytest.raises(pytest.fail.Exception, match="sanitizer report"):
        rt.fails("state", "x", says="does not exist")
    clean = tmp_path / "clean-runtime"
    clean.write_text("#!/bin/sh\necho \"berth-runtime: container 'x' does not exist\" >&2\n"
                     "exit 1\n")
    clean.chmod(0o755)
    Runtime(clean, tmp_path / "rt2").fails("state", "x", code=1, says="does not exist")
