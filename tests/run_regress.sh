#!/usr/bin/env bash
# Runs the pg_regress suites in tests/pg_regress against a throwaway cluster,
# as C extensions' `make installcheck` does. Quiver must be installed already.
set -euo pipefail
cd "$(dirname "$0")/.."
source tests/lib/cluster.sh

port=${REGRESS_PORT:-54329}
throwaway_cluster regress "$port"
dir=$CLUSTER_DIR

outdir=tests/pg_regress
rm -rf "$outdir/results" "$outdir/regression.diffs" "$outdir/regression.out"
tests=$(cd tests/pg_regress/sql && ls *.sql | sed 's/\.sql$//' | sort)
status=0
"$("$PG_CONFIG" --pkglibdir)/pgxs/src/test/regress/pg_regress" \
    --inputdir=tests/pg_regress --outputdir="$outdir" \
    --bindir="$PG_BINDIR" --host="$dir" --port="$port" --user=postgres \
    --dbname=quiver_regress --load-extension=quiver $tests || status=$?
if [ $status -ne 0 ] && [ -f "$outdir/regression.diffs" ]; then
    cat "$outdir/regression.diffs"
fi
exit $status
