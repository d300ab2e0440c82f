#!/usr/bin/env bash
# Corrupted indexes: copies of a real index (3,000 Fashion-MNIST images, L2)
# are damaged offline, one way each (tests/lib/corrupt_index.py: a flipped
# byte in an element or a neighbor tuple, a wrong page kind, a neighbor id or
# an entry point past the end of the file, a neighbor list that loops back to
# its own node, a loop in the filter directory's chain, a format version from
# the future, a file cut in half or to nothing), and then queried. Each
# query and insert must end in an ERROR with SQLSTATE XX002
# (ERRCODE_INDEX_CORRUPTED) that names the index and says to REINDEX, within
# the statement timeout (no hang), with the server still up (no crash);
# quiver_check_index must report the damage; REINDEX must repair it.
# A flipped bit inside a vector is not structural: quiver_check_index finds it
# by comparing the index's vectors with the table's.
# Quiver must be installed.
set -euo pipefail
cd "$(dirname "$0")/.."
source tests/lib/cluster.sh
source tests/lib/check.sh

port=${CORRUPTION_PORT:-54344}
fashion_mnist_cluster corruption "$port"
dir=$CLUSTER_DIR
sql() { cluster_psql "$dir" "$port" postgres -q "$@"; }

structural=(element-kind element-flags neighbor-count page-kind neighbor-past-end entry-past-end
            neighbor-cycle directory-cycle future-version truncate-half truncate-all)
table_of() { echo "c_${1//-/_}"; }

for damage in "${structural[@]}" vector-byte; do
    table=$(table_of "$damage")
    sql -c "CREATE TABLE $table AS SELECT id, id % 1000 AS label, embedding FROM base WHERE id <= 3000"
    if [ "$damage" = directory-cycle ]; then
        # A filter column, so that the index has a filter directory.
        sql -c "CREATE INDEX ${table}_idx ON $table USING hnsw (embedding vector_l2_ops, label) WITH (m = 8)"
    else
        sql -c "CREATE INDEX ${table}_idx ON $table USING hnsw (embedding vector_l2_ops) WITH (m = 8)"
    fi
done
declare -A files
for damage in "${structural[@]}" vector-byte; do
    files[$damage]=$(sql -At -c "SELECT pg_relation_filepath('$(table_of "$damage")_idx')")
done
sql -c "CHECKPOINT"
cluster_stop "$dir"
for damage in "${structural[@]}" vector-byte; do
    python3 tests/lib/corrupt_index.py "$dir/data/${files[$damage]}" "$damage"
done
as_postgres "$PG_BINDIR/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w start >/dev/null

# corrupted_error OUTPUT INDEX: t when OUTPUT is an XX002 ERROR naming INDEX
# with a hint to REINDEX.
corrupted_error() {
    if grep -q "ERROR:  XX002: index \"$2\" is corrupted" <<<"$1" && grep -q "HINT:  REINDEX" <<<"$1"; then
        echo t
    else
        echo "$1" | sed -n 1,5p >&2
        echo f
    fi
}
# attempt SQL: runs it with a statement timeout, errors shown verbosely.
attempt() {
    sql -v VERBOSITY=verbose -c "SET statement_timeout = '60s'" -c "SET enable_seqscan = off" -c "$1" 2>&1 || true
}

for damage in "${structural[@]}"; do
    table=$(table_of "$damage")
    index=${table}_idx
    condition=""
    [ "$damage" = directory-cycle ] && condition="WHERE label = 7"
    out=$(attempt "SELECT id FROM $table $condition ORDER BY embedding <-> (SELECT embedding FROM base WHERE id = 5000) LIMIT 10")
    check "$damage: a kNN query is an XX002 error naming $index" "$(corrupted_error "$out" "$index")"
    if [ "$damage" != directory-cycle ]; then
        out=$(attempt "INSERT INTO $table SELECT id, id % 1000, embedding FROM base WHERE id = 5001")
        check "$damage: an insert is an XX002 error naming $index" "$(corrupted_error "$out" "$index")"
    fi
    reported=$(sql -At -c "SELECT coalesce(array_length(quiver_check_index('$index'), 1), 0) > 0" 2>&1 || true)
    check "$damage: quiver_check_index reports it" "$reported"
    # The first two lines (cut in SQL: head would end psql with SIGPIPE under pipefail).
    sql -At -c "SELECT p FROM unnest(quiver_check_index('$index')) p LIMIT 2" 2>&1 | sed 's/^/    /' || true
    check "$damage: the server is still up" "$(sql -At -c "SELECT true")"
done

# The flipped bit in a vector: scans go on (the distances are of a finite
# vector), and quiver_check_index names the element that differs from its row.
table=$(table_of vector-byte)
problems=$(sql -At -c "SELECT unnest(quiver_check_index('${table}_idx'))")
echo "$problems" | sed -n "1,2s/^/    /p"
check "vector-byte: quiver_check_index finds the vector that differs from its row" \
    "$(grep -q "differs from its row" <<<"$problems" && echo t || echo f)"

check "no backend crashed (server.log)" "$(grep -qE "terminated by signal|PANIC" "$dir/server.log" && echo f || echo t)"

# REINDEX repairs each: answers again, and a clean check.
for damage in "${structural[@]}" vector-byte; do
    table=$(table_of "$damage")
    sql -c "REINDEX INDEX ${table}_idx"
    rows=$(sql -At -c "SET enable_seqscan = off" -c "SELECT count(*) FROM (SELECT id FROM $table ORDER BY embedding <-> (SELECT embedding FROM base WHERE id = 5000) LIMIT 10) s")
    clean=$(sql -At -c "SELECT quiver_check_index('${table}_idx') = '{}'")
    check "$damage: after REINDEX, 10 rows and a clean check" "$([ "$rows" = 10 ] && [ "$clean" = t ] && echo t || echo f)"
done

# Not damage: a dead row version that a snapshot kept past the table's
# VACUUM, whose TOAST chunks the TOAST table's own VACUUM then removed. The
# check compares elements only with rows the query sees, so it is clean.
sql -c "CREATE TABLE toasted AS SELECT id, embedding FROM base WHERE id <= 500" \
    -c "CREATE INDEX toasted_idx ON toasted USING hnsw (embedding vector_l2_ops)"
toast=$(sql -At -c "SELECT reltoastrelid::regclass FROM pg_class WHERE relname = 'toasted'")
# The snapshot's session holds it until told to let go: it polls a
# sequence, which it reads outside its snapshot, so no sleep races the rest.
sql -c "CREATE SEQUENCE snapshot_done"
sql -c "SET application_name = 'snapshot_holder'" -c "BEGIN ISOLATION LEVEL REPEATABLE READ" -c "SELECT count(*) FROM toasted" \
    -c "DO \$\$ BEGIN WHILE (SELECT NOT is_called FROM snapshot_done) LOOP PERFORM pg_sleep(0.02); END LOOP; END \$\$" \
    -c "COMMIT" >/dev/null &
holder=$!
for _ in $(seq 500); do
    [ "$(sql -At -c "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'snapshot_holder' AND backend_xmin IS NOT NULL AND wait_event = 'PgSleep'")" = 1 ] && break
    sleep 0.02
done
sql -c "UPDATE toasted SET embedding = (SELECT embedding FROM base b WHERE b.id = toasted.id + 1000) WHERE id <= 50" \
    -c "VACUUM (PROCESS_TOAST false) toasted"
sql -c "SELECT nextval('snapshot_done')" >/dev/null
wait "$holder"
sql -c "VACUUM $toast"
check "a row version whose TOAST chunks are gone: quiver_check_index is clean" \
    "$(sql -At -c "SELECT quiver_check_index('toasted_idx') = '{}'" 2>&1)"

check_summary corruption
