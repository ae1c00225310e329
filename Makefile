# pg_insight — PGXS entry point.
#   make            build the module (the core library is built by CMake and linked in)
#   make install    install into the PostgreSQL found by pg_config
#   make demo       the main job: deps, build, install, throwaway cluster, demo data, output
#   make test       unit tests, fuzzing (bounded), pg_regress on a temporary instance,
#                   multi-process tests
#   make bench      benchmarks (docs/benchmarks.md)
# Both `demo` and `test` install missing Debian packages first (scripts/install-deps).

EXTENSION_VERSION = 0.2.0
# PostgreSQL 15's own pg_config; plain `pg_config` (libpq-dev's wrapper) as a fallback.
PG_CONFIG ?= $(firstword $(wildcard /usr/lib/postgresql/15/bin/pg_config) pg_config)

MODULE_big = pg_insight
OBJS = $(patsubst %.cpp,%.o,$(wildcard src/pg/*.cpp))
DATA = control/pg_insight.control $(wildcard control/pg_insight--*.sql)
MODULEDIR = extension
PGFILEDESC = "pg_insight - machine learning in SQL"

BUILD_DIR ?= build
CORE_BUILD = $(BUILD_DIR)/core
CORE_LIB = $(CORE_BUILD)/libinsight_core.a
# `make install` needs root; `make demo` / `make test` use sudo when run by another user.
SUDO := $(shell [ "$$(id -u)" -eq 0 ] || echo sudo)

# On a fresh machine the server headers (and pg_config) arrive with `make deps`, which
# `make demo` and `make test` run first; only then do they build, in a fresh `make`.
PGXS := $(shell $(PG_CONFIG) --pgxs 2>/dev/null)
ifneq ($(wildcard $(PGXS)),)

# PostgreSQL headers are system headers to us (-isystem wins over PGXS's -I for the same
# directory), so -Wextra reports our code, not theirs.
PG_CPPFLAGS = -isystem $(shell $(PG_CONFIG) --includedir-server) -I$(CURDIR)/src \
	-isystem /usr/include/eigen3 -DDLIB_NO_ABORT_ON_2ND_FATAL_ERROR \
	-DPG_INSIGHT_VERSION='"$(EXTENSION_VERSION)"'
PG_CXXFLAGS = -std=c++17 -ffp-contract=off -Wall -Wextra -Wno-unused-parameter \
	-Wno-missing-field-initializers
SHLIB_LINK = -Wl,--whole-archive $(CORE_LIB) -Wl,--no-whole-archive -ldlib -lxgboost -lstdc++

# The module is C++: no LLVM bitcode for JIT inlining.
override with_llvm = no

include $(PGXS)

$(shlib): $(CORE_LIB)
$(OBJS): $(wildcard src/pg/*.hpp src/core/*/*.hpp)

else

all install installcheck:
	@echo "PostgreSQL 15 server headers not found ($(PG_CONFIG) --pgxs)." >&2
	@echo "Run 'make demo' or 'make test' (they install what is missing), or scripts/install-deps." >&2
	@exit 1

endif

.PHONY: core-lib
$(CORE_LIB): core-lib
core-lib:
	@cmake -S . -B $(CORE_BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
	@cmake --build $(CORE_BUILD) --target insight_core -j2

.PHONY: deps unit fuzz regress multiprocess test demo bench
deps:
	@scripts/install-deps

unit:
	cmake -S . -B $(CORE_BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
	cmake --build $(CORE_BUILD) -j2
	ctest --test-dir $(CORE_BUILD) --output-on-failure -j2

FUZZ_SECONDS ?= 30
fuzz:
	@scripts/run-fuzz $(FUZZ_SECONDS)

regress:
	@scripts/run-regress

multiprocess:
	@scripts/run-multiprocess

test: deps
	$(MAKE) all
	$(SUDO) $(MAKE) install
	$(MAKE) unit
	$(MAKE) fuzz
	$(MAKE) regress
	$(MAKE) multiprocess
	@echo "make test: all suites passed"

demo: deps
	$(MAKE) all
	$(SUDO) $(MAKE) install
	@scripts/demo

bench: deps
	@scripts/install-deps --bench
	$(MAKE) all
	$(SUDO) $(MAKE) install
	@scripts/bench

EXTRA_CLEAN = $(BUILD_DIR) results regression.diffs regression.out tmp_check .demo
