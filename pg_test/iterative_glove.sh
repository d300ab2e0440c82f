#!/usr/bin/env bash
# Rows returned by ORDER BY ... LIMIT 10 under iterative scans, counted for
# every query, on 100,000 GloVe vectors (cosine) with 500 held-out queries:
# every check of tests/lib/iterative.sh.
# And hnsw.max_scan_tuples bounds a scan: at 1,000 a 0.1% filter comes back short.
# Quiver must be installed.
set -euo pipefail
cd "$(dirname "$0")/.."
source tests/lib/cluster.sh
source tests/lib/check.sh
source tests/lib/iterative.sh

port=${ITERATIVE_GLOVE_PORT:-54334}
REAL_DATA=glove real_data_cluster iterative_glove "$port" "max_parallel_workers_per_gather = 0"
dir=$CLUSTER_DIR
sql() { cluster_psql "$dir" "$port" postgres -q "$@"; }
iterative_setup
iterative_runs glove '<=>'
# The bound holds: a scan for a 0.1% filter that may measure only 1,000
# nodes comes back short.
bounded=$(sql -At -c "SET hnsw.max_scan_tuples = 1000" -c "SET enable_seqscan = off" -c "
    SELECT round(avg((SELECT count(*) FROM (SELECT 1 FROM glove b WHERE f01 ORDER BY b.v <=> q.v LIMIT 10) s)), 2)
    FROM glove_q q")
check "hnsw.max_scan_tuples = 1000 ends 0.1% scans early (avg $bounded rows)" "$(awk "BEGIN {print ($bounded < 5) ? \"t\" : \"f\"}")"

check_summary iterative_glove
