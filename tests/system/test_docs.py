"""Claims the docs make that the code can contradict: the README's benchmark round count is
what bench/runtime-start.sh does, and docs/runtime-api.md's kernel table says what
lib/base/error.c tells the user."""

import re
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent.parent


def test_readme_cites_the_bench_script_as_it_is():
    readme = (REPO / "README.md").read_text()
    script = (REPO / "bench" / "runtime-start.sh").read_text()
    runs = re.search(r"^RUNS=\$\{RUNS:-(\d+)\}", script, re.M).group(1)
    cited = re.search(r"medians of (\d+)\s+interleaved rounds", readme)
    assert cited and cited.group(1) == runs, (cited and cited.group(1), runs)
    # every runtime in one private mount namespace, none behind a per-call wrapper
    assert "unshare -m --propagation private \"$0\"" in script
    assert 'add_runtime crun "$CRUN"\n' in script and 'add_runtime berth "$BERTH"\n' in script
    para = readme[readme.index("Measured here"):]
    para = para[:para.index("\n\n")]
    assert "same private mount namespace" in para and "crun's median" in para, para


def test_the_kernel_table_matches_the_messages():
    c = (REPO / "lib" / "base" / "error.c").read_text()
    table = dict(re.findall(r'\{"([a-z_0-9]+)",\s*"(\d+\.\d+)"\}', c))
    assert len(table) >= 10, table
    doc = (REPO / "docs" / "runtime-api.md").read_text()
    section = doc[doc.index("## Minimum kernel"):]
    rows = {}
    for line in section.splitlines():
        m = re.match(r"\| (`[^|]+`)(?: \([^|]*\))? \| (\d+\.\d+) \|", line)
        if m:
            for call in re.findall(r"`([a-z_0-9]+)", m.group(1)):
                rows[call] = m.group(2)
    for call, since in table.items():
        assert rows.get(call) == since, f"{call}: error.c says {since}, the docs {rows.get(call)}"
