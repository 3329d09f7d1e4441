#!/bin/bash
# scripts/fuzz.sh (make fuzz): every libFuzzer target under fuzz/ for a bounded time.
#
#   make fuzz                               # every target, FUZZ_TIME=30 seconds each
#   FUZZ_TIME=300 FUZZ_TARGETS="spec state" make fuzz
#
# Builds build-fuzz/ (clang, -Dfuzzing=true, ASan + UBSan) and runs fuzz-<target> on
# fuzz/corpus/<target>.  What it finds is kept: new inputs are written to a scratch directory
# and merged into the corpus with libFuzzer's -merge=1 (only those that add coverage, so the
# checked-in corpora stay small); a crash, leak, timeout or sanitizer report stops that target,
# its input is left in fuzz/crashes/ and the script exits 1.  Fix the bug, then copy the input
# into fuzz/corpus/<target>/ as a regression entry: tests/run-all replays every corpus under the
# sanitizers (the `fuzz` meson suite).
set -euo pipefail
cd "$(dirname "$0")/.."

FUZZ_TIME=${FUZZ_TIME:-30}
BUILD=${FUZZ_BUILD:-build-fuzz}
CC_FUZZ=${CC_FUZZ:-clang}

command -v "$CC_FUZZ" >/dev/null ||
	{ echo "fuzz: $CC_FUZZ not found (scripts/install-deps.sh installs clang)" >&2; exit 1; }
if [ ! -f "$BUILD/build.ninja" ]; then
	CC=$CC_FUZZ meson setup "$BUILD" -Dfuzzing=true -Db_sanitize=address,undefined \
		-Db_lundef=false >/dev/null
fi
ninja -C "$BUILD" >/dev/null

targets=${FUZZ_TARGETS:-$(sed -n "s/^  '\([a-z0-9-]*\)' : \[.*/\1/p" fuzz/meson.build)}
mkdir -p fuzz/crashes
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}
status=0
for t in $targets; do
	bin=$BUILD/fuzz/fuzz-$t
	corpus=fuzz/corpus/$t
	[ -x "$bin" ] || { echo "fuzz: $bin was not built" >&2; status=1; continue; }
	mkdir -p "$corpus"
	new=$(mktemp -d "/tmp/berth-fuzz-$t.XXXXXX")
	before=$(ls "$corpus" | wc -l)
	echo "fuzz: $t for ${FUZZ_TIME}s ($before inputs)"
	if ! "$bin" -max_total_time="$FUZZ_TIME" -timeout=10 -rss_limit_mb=2048 \
		-artifact_prefix="fuzz/crashes/$t-" -print_final_stats=1 "$new" "$corpus" \
		>"$new.log" 2>&1; then
		echo "fuzz: $t FAILED; its input is in fuzz/crashes/, the report:" >&2
		grep -E "ERROR|SUMMARY|runtime error|Test unit written" "$new.log" | head -20 >&2
		status=1
	fi
	grep -E "^stat::(number_of_executed_units|new_units_added)" "$new.log" | tr '\n' ' '
	echo
	# keep what adds coverage (a crash input is not in $new: libFuzzer stops before saving it)
	"$bin" -merge=1 "$corpus" "$new" >>"$new.log" 2>&1 || true
	echo "fuzz: $t corpus $before -> $(ls "$corpus" | wc -l) inputs"
	rm -rf "$new" "$new.log"
done
rmdir fuzz/crashes 2>/dev/null || true
exit $status
