# Quiver: `make demo` and `make test` work on a fresh Debian 12 machine (as root).

PG_CONFIG ?= /usr/lib/postgresql/15/bin/pg_config
export PG_CONFIG

.PHONY: setup install install-as-vector demo examples scaleout-demo soak lint test unit-test pg-test regress-test cluster-test fuzz bench bench-codes bench-ivf bench-filters bench-planner

setup:
	@bash .ci/setup.sh

# PostgreSQL's major version, which picks pgrx's feature (15 or 16).
PG_MAJOR = $(shell $(PG_CONFIG) --version | sed -E 's/^PostgreSQL ([0-9]+).*/\1/')

# Release build, installed into the PostgreSQL that PG_CONFIG belongs to.
install: setup
	cargo pgrx install --release --pg-config $(PG_CONFIG) --no-default-features --features pg$(PG_MAJOR)

# The same build installed a second time under the extension name `vector`,
# for what runs CREATE EXTENSION vector itself (ORMs, LangChain, LlamaIndex,
# dumps), on a server without pgvector. FORCE=1 replaces pgvector's files.
install-as-vector: install
	@FORCE=$(FORCE) bash .ci/install_as_vector.sh

demo: install
	@bash examples/demo.sh

# Retrieval examples with offline MiniLM embeddings: RAG in SQL, hybrid search,
# LangChain and LlamaIndex (examples/run.sh).
examples: install-as-vector
	@bash examples/run.sh

# A coordinator and 1, 2, then 3 shard servers (throwaway clusters) through
# postgres_fdw: filtered kNN answers, EXPLAIN VERBOSE, and figures against one server.
scaleout-demo: install
	@bash examples/scaleout_demo.sh

# Repeated crashes under load: 8 clients write and query for SOAK_MINUTES
# while the postmaster is SIGKILLed every 30-90 s; every committed row, the
# index check, recall and size after each recovery (tests/soak/run.sh),
# recorded in bench/results/soak.md. Not part of make test: it is long.
SOAK_MINUTES ?= 10
soak: install
	@SOAK_MINUTES=$(SOAK_MINUTES) bash tests/soak/run.sh

# rustfmt and clippy, warnings as errors (lints in Cargo.toml), and the
# layout's rules (tests/lib/layout_check.py: pure modules without pgrx, no
# import cycle, no file over 1,000 lines before its tests); CI runs it first.
lint: setup
	cargo fmt --check
	cd tests/fuzz && cargo fmt --check
	python3 tests/lib/layout_check.py
	cargo clippy --all-targets --no-default-features --features pg15 -- -D warnings

# Every suite; ends non-zero if any fails.
test: setup
	@bash tests/run_all.sh

unit-test: setup
	@bash tests/run_all.sh unit

pg-test: setup
	@bash tests/run_all.sh pgrx

regress-test: setup
	@bash tests/run_all.sh regress

cluster-test: setup
	@bash tests/run_all.sh cluster

# Coverage-guided fuzzing of every decoder of outside data (text and binary
# input, typmods, index options, page tuples, code pages, filter values) on
# stable Rust: FUZZ_SECONDS per target (default 60), FUZZ_TARGETS to pick
# some (tests/fuzz/run.sh; crashes land in tests/fuzz/artifacts).
FUZZ_SECONDS ?= 60
fuzz:
	@FUZZ_SECONDS=$(FUZZ_SECONDS) bash tests/fuzz/run.sh $(FUZZ_TARGETS)

# Quiver against pgvector in one PostgreSQL 16 server; QUICK=1 for a subset,
# FILTERED_ONLY=1, FILTER_COLUMNS_ONLY=1, INSERTS_ONLY=1, BUILDS_ONLY=1 or HALFVEC_ONLY=1 to measure
# only the filtered queries, the inserts, the parallel builds or halfvec into
# the last results; IVF_ONLY=1 for the ivfflat study alone (bench/ivf_bench.py,
# bench/results/ivfflat.md, carried into BENCHMARKS.md).
bench:
	@QUICK=$(QUICK) FILTERED_ONLY=$(FILTERED_ONLY) FILTER_COLUMNS_ONLY=$(FILTER_COLUMNS_ONLY) INSERTS_ONLY=$(INSERTS_ONLY) BUILDS_ONLY=$(BUILDS_ONLY) HALFVEC_ONLY=$(HALFVEC_ONLY) IVF_ONLY=$(IVF_ONLY) bash bench/run.sh

# Design measurement in memory: a walk over codes with an exact rerank.
bench-codes:
	@bash bench/codes_prototype.sh

# Design measurement in memory: IVF lists over codes with an exact rerank.
bench-ivf:
	@bash bench/ivf_prototype.sh

# Design measurement in memory: filters checked inside the walk (two hops).
bench-filters:
	@bash bench/filter_prototype.sh

# The planner's choice under a filter against every plan, timed (PostgreSQL 15,
# a throwaway cluster): bench/results/planner.md, carried into BENCHMARKS.md.
bench-planner: install
	@PLANNER_TIMED=1 PLANNER_REPORT=bench/results/planner.md bash pg_test/planner.sh
