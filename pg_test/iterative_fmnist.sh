#!/usr/bin/env bash
# Rows returned by ORDER BY ... LIMIT 10 under iterative scans, counted for
# every query, on the 60,000 Fashion-MNIST training images (L2) with 500
# test images as queries: every check of tests/lib/iterative.sh.
# Quiver must be installed.
set -euo pipefail
cd "$(dirname "$0")/.."
source tests/lib/cluster.sh
source tests/lib/check.sh
source tests/lib/iterative.sh

port=${ITERATIVE_FMNIST_PORT:-54384}
REAL_DATA=fmnist real_data_cluster iterative_fmnist "$port" "max_parallel_workers_per_gather = 0"
dir=$CLUSTER_DIR
sql() { cluster_psql "$dir" "$port" postgres -q "$@"; }
iterative_setup
iterative_runs fmnist '<->'
ivfflat_runs fmnist '<->' vector_l2_ops 245

check_summary iterative_fmnist
