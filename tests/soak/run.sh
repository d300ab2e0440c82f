#!/usr/bin/env bash
# make soak: 8 clients insert, update, delete and query an hnsw index for
# SOAK_MINUTES (default 10) while the postmaster is SIGKILLed every 30-90 s
# and restarted; after each recovery tests/soak/soak.py checks every
# committed row, quiver_check_index, recall and the index's size. Writes
# bench/results/soak.md; ends non-zero on any failure. Quiver must be
# installed. Not part of make test: it takes more than SOAK_MINUTES.
#
# Data: Fashion-MNIST (784-d, L2) from Debian's dataset-fashion-mnist, local
# and real, the data set pg_test/load.sh crashes already: the first
# SOAK_BASE (30,000) training images are the starting table, all 60,000 the
# pool that writes take vectors from, 100 test images the recall queries.
set -euo pipefail
cd "$(dirname "$0")/../.."
source tests/lib/cluster.sh

port=${SOAK_PORT:-54400}
base=${SOAK_BASE:-30000}

venv=tests/.venv
[ -x "$venv/bin/python" ] || python3 -m venv "$venv"
# Only psycopg, at the version tests/clients/requirements.txt pins.
"$venv/bin/pip" install -q --disable-pip-version-check "$(grep '^psycopg\[' tests/clients/requirements.txt)"

# checkpoint_timeout 60 s: crashes land before, during and after
# checkpoints, so recovery replays short and long stretches of WAL. fsync
# stays off (cluster_start): a SIGKILL loses no page the kernel holds.
throwaway_cluster soak "$port" "shared_buffers = 256MB" "maintenance_work_mem = 512MB" \
    "checkpoint_timeout = 60s" "max_wal_size = 2GB" "max_connections = 40"
dir=$CLUSTER_DIR
# The server log outlives the throwaway cluster, for reports of what failed.
mkdir -p target
trap 'cp "$dir/server.log" target/soak-server.log 2>/dev/null || true; cluster_stop "$dir" immediate; rm -rf "$dir"' EXIT
sql() { cluster_psql "$dir" "$port" postgres -q "$@"; }

echo "soak: loading Fashion-MNIST ($base rows to start from, 60,000 in the pool)"
sql -c "CREATE EXTENSION quiver"
sql -c "CREATE TABLE pool (id int PRIMARY KEY, embedding vector(784))" \
    -c "CREATE TABLE queries (id int PRIMARY KEY, embedding vector(784))"
python3 tests/lib/datasets.py fashion-mnist base | sql -c "COPY pool FROM STDIN"
python3 tests/lib/datasets.py fashion-mnist queries --count 100 | sql -c "COPY queries FROM STDIN"
# Each write w stores pool image p with its last pixel raised by a fraction
# unique to w (a multiple of 1/1024, exact in float4): no two rows tie, so
# recall by id is well defined, and a row's vector says which write made it.
sql -c "CREATE FUNCTION soak_vec(e vector, w bigint) RETURNS vector IMMUTABLE LANGUAGE sql AS \$\$
    SELECT CASE WHEN w = 0 THEN e
                ELSE subvector(e, 1, 783) || ARRAY[(e::real[])[784] + ((w % 1021) + 1) / 1024.0]::real[]::vector END \$\$"
# w: the write that made the row (0: loaded); p: its pool image.
# Autovacuum is off for the table: its statistics are lost at every crash,
# so it would rarely come; a worker in soak.py runs VACUUM every 15-30 s.
sql -c "CREATE TABLE items (id int PRIMARY KEY, w bigint NOT NULL, p int NOT NULL, embedding vector(784) NOT NULL)
        WITH (autovacuum_enabled = off)"
# Vectors kept in the row, not in TOAST (a 784-d vector passes its 2 kB
# threshold): the exact scans after each recovery then take seconds, not a
# minute, so more of the run is load.
sql -c "ALTER TABLE items ALTER embedding SET STORAGE plain"
sql -c "INSERT INTO items SELECT id, 0, id, embedding FROM pool WHERE id < $base"
sql -c "VACUUM ANALYZE"
start=$(date +%s)
sql -c "CREATE INDEX items_embedding_idx ON items USING hnsw (embedding vector_l2_ops) WITH (m = 16, ef_construction = 64)"
echo "soak: index built in $(( $(date +%s) - start )) s"

"$venv/bin/python" tests/soak/soak.py --dir "$dir" --port "$port" --bindir "$PG_BINDIR" \
    --minutes "${SOAK_MINUTES:-10}" --seed "${SOAK_SEED:-1}" --clients "${SOAK_CLIENTS:-8}" \
    --report "${SOAK_REPORT:-bench/results/soak.md}" ${SOAK_ARGS:-}
