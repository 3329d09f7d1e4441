# A thin layer over meson; every target works on a fresh Debian 12 machine as root.
#   make            configure build/ (once) and compile
#   make install    install into /usr/local (berth-runtime and berthd in /usr/local/bin, systemd units)
#   make deps       apt-get what the build and the tests need (fast when present)
#   make demo       deps + build + install, then a busybox container says hello through
#                   berth-runtime, and one through berthd's API (started if none answers)
#   make check      deps + build + install, then every test (tests/run-all)
#   make check-guest  deps + build, then only the cgroup v2 guest (tests/guest/run)
#   make fuzz       every libFuzzer target for FUZZ_TIME (30) seconds, new inputs kept in
#                   fuzz/corpus/<target> (scripts/fuzz.sh; clang)
#   make format / make format-check   clang-format the C sources / fail on any difference
#   make bench      berth-runtime against crun and runc (bench/runtime-start.sh)
#   make clean      remove the build directories
BUILD   ?= build
PREFIX  ?= /usr/local
MESON   ?= meson
NINJA   ?= ninja
CLANG_FORMAT ?= clang-format

# Every C file we own: git's list when there is one (skips build dirs and untracked junk).
C_SOURCES = $(shell git ls-files '*.c' '*.h' 2>/dev/null || \
	find lib runtime daemon tests fuzz -name '*.[ch]' 2>/dev/null)

.PHONY: all build install deps demo check check-guest test fuzz format format-check bench clean

all: build

$(BUILD)/build.ninja:
	$(MESON) setup $(BUILD) --prefix=$(PREFIX)

build: $(BUILD)/build.ninja
	$(NINJA) -C $(BUILD)

install: build
	$(MESON) install -C $(BUILD) --quiet

deps:
	scripts/install-deps.sh

demo: deps
	$(MAKE) install
	@set -e; d=$$(mktemp -d /tmp/berth-demo.XXXXXX); \
	trap 'rm -rf "$$d"' EXIT; \
	scripts/mkbundle.sh "$$d/bundle" sh -c 'echo hello from berth'; \
	echo "+ $(PREFIX)/bin/berth-runtime --root $$d/state run --bundle $$d/bundle demo-$$$$"; \
	$(PREFIX)/bin/berth-runtime --root "$$d/state" run --bundle "$$d/bundle" "demo-$$$$"
	PREFIX=$(PREFIX) scripts/demo-berthd.sh

check: deps
	$(MAKE) install
	tests/run-all

test: check

check-guest: deps
	$(MAKE) build
	tests/guest/run

fuzz:
	scripts/fuzz.sh

format:
	$(CLANG_FORMAT) -i $(C_SOURCES)

format-check:
	@$(CLANG_FORMAT) --dry-run --Werror $(C_SOURCES) && echo "format-check: clean"

bench: deps
	$(MAKE) build
	bench/runtime-start.sh

clean:
	rm -rf $(BUILD) build-asan build-fuzz
