#!/usr/bin/env bash
# The hnsw index under real load, on 10,000 Fashion-MNIST images (L2):
# VACUUM after deleting half (and one cancelled in its index phase), 8
# sessions writing and querying at once with a VACUUM every few seconds,
# the index's growth under 8 sessions inserting, a
# crash in the middle of concurrent inserts (also into an index with
# neighbor codes), an UNLOGGED table across a
# clean and a crash restart, a streaming standby (both kinds of index, and
# indexes on halfvec, sparsevec, bit, 2,352-dimension vectors in parts and
# with filter columns, which also go through a crash), and
# point-in-time recovery. After each, quiver_check_index must find nothing wrong.
# Quiver must be installed.
set -euo pipefail
cd "$(dirname "$0")/.."
source tests/lib/cluster.sh
source tests/lib/check.sh

port=${LOAD_PORT:-54380}
standby_port=$((port + 1))
fashion_mnist_cluster load "$port"
dir=$CLUSTER_DIR
sql() { cluster_psql "$dir" "$port" postgres -q "$@"; }
pgbench() { "$PG_BINDIR/pgbench" -h "$dir" -p "$port" -U postgres -n "$@" postgres; }
restart() { cluster_stop "$dir" "$1"; as_postgres "$PG_BINDIR/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w start >/dev/null; }
# sound INDEX: t when quiver_check_index finds nothing wrong; else prints what it found.
sound() {
    local problems
    problems=$(sql -At -c "SELECT unnest(quiver_check_index('$1'))" | head -5)
    [ -z "$problems" ] && echo t || { echo "$problems" >&2; echo f; }
}

# Vectors to write: 5,000 more training images. Written rows get a last
# element no image has, unique per row, so each row can be looked up by
# its own vector.
python3 examples/fashion_mnist.py --split train --limit 15000 |
    sql -c "CREATE TABLE pool (id int, category text, embedding vector(784))" -c "COPY pool FROM STDIN"
sql -c "DELETE FROM pool WHERE id < 10000" -c "UPDATE pool SET id = id - 10000"
sql -c "CREATE FUNCTION tagged(v vector, tag bigint) RETURNS vector IMMUTABLE LANGUAGE sql
        AS \$\$ SELECT subvector(v, 1, 783) || ARRAY[1000 + tag / 1000.0]::real[]::vector \$\$"

# recall_of TABLE: recall@10 at ef_search 100 of the 100 queries against exact results.
recall_of() {
    sql -c "SET enable_indexscan = off" -c "DROP TABLE IF EXISTS truth" -c "
        CREATE TABLE truth AS SELECT q.id, ARRAY(SELECT b.id FROM $1 b ORDER BY b.embedding <-> q.embedding LIMIT 10) AS ids
        FROM queries q"
    sql -At -c "SET hnsw.ef_search = 100" -c "
        SELECT round(avg(hits) / 10, 3) FROM (
            SELECT cardinality(ARRAY(
                SELECT unnest(t.ids)
                INTERSECT
                SELECT unnest(ARRAY(SELECT b.id FROM $1 b ORDER BY b.embedding <-> q.embedding LIMIT 10))
            )) AS hits
            FROM queries q JOIN truth t USING (id)) per_query"
}

# lost_rows TABLE WHERE: rows matching WHERE that the index no longer
# returns: an index scan for the row's own vector, filtered to the row and
# continued as far as the graph reaches, misses it. relaxed_order, because
# strict_order skips a row found after farther ones were handed out.
lost_rows() {
    sql -At -c "SET enable_seqscan = off" -c "SET enable_bitmapscan = off" -c "SET hnsw.iterative_scan = relaxed_order" \
        -c "SET hnsw.max_scan_tuples = 2000000" -c "
        SELECT count(*) FROM $1 b
        WHERE ($2) AND NOT EXISTS (SELECT FROM (SELECT x.id FROM $1 x WHERE x.id + 0 = b.id ORDER BY x.embedding <-> b.embedding LIMIT 1) s)"
}

# missed_in_top10 TABLE WHERE: rows matching WHERE that are not among the
# 10 results of a plain search for their own vector at ef_search 100 (search
# quality, reported, not asserted).
missed_in_top10() {
    sql -At -c "SET hnsw.ef_search = 100" -c "SET enable_seqscan = off" -c "
        SELECT count(*) FROM $1 b
        WHERE ($2) AND b.id <> ALL(ARRAY(SELECT x.id FROM $1 x ORDER BY x.embedding <-> b.embedding LIMIT 10))"
}

# insert_script TABLE: a pgbench script that inserts one pool vector, tagged.
insert_script() {
    echo '\set p random(0, 4999)'
    echo "INSERT INTO $1 SELECT n, 'written', tagged(embedding, n) FROM pool, nextval('written') n WHERE pool.id = :p;"
}

# answers_query TABLE: SQL whose one value is the ids of the 10 nearest rows
# for each of the 100 queries, at ef_search 100 through the index.
answers_query() {
    echo "SET hnsw.ef_search = 100; SET enable_seqscan = off;
    SELECT string_agg(top.ids, ';' ORDER BY q.id) FROM queries q,
        LATERAL (SELECT string_agg(id::text, ',') AS ids FROM (SELECT id FROM $1 ORDER BY embedding <-> q.embedding LIMIT 10) t) top"
}

index_size() { sql -At -c "SELECT pg_relation_size('$1')"; }

echo "--- VACUUM"
sql -c "CREATE TABLE vac AS SELECT * FROM base" -c "ALTER TABLE vac SET (autovacuum_enabled = off)"
sql -c "CREATE INDEX vac_idx ON vac USING hnsw (embedding vector_l2_ops)"
size_built=$(index_size vac_idx)
sql -c "DELETE FROM vac WHERE id % 2 = 0"
start=$(date +%s%N)
sql -c "VACUUM vac"
vacuum_ms=$(( ($(date +%s%N) - start) / 1000000 ))
check "vacuum: the check passes after deleting half" "$(sound vac_idx)"
check "vacuum: no deleted row comes back" "$(sql -At -c "SET hnsw.ef_search = 100" -c "
    SELECT bool_and(top.id % 2 = 1) FROM queries q, LATERAL (SELECT id FROM vac ORDER BY embedding <-> q.embedding LIMIT 10) top")"
recall=$(recall_of vac)
check "vacuum: recall@10 at ef_search 100 >= 0.95 after deleting half ($recall)" "$(sql -At -c "SELECT $recall >= 0.95")"
sql -c "INSERT INTO vac SELECT * FROM base WHERE id % 2 = 0"
size_refilled=$(index_size vac_idx)
sql -c "VACUUM vac"
check "vacuum: refilling what was deleted reuses the space (size $size_built -> $size_refilled bytes)" \
    "$(sql -At -c "SELECT $size_refilled < 1.5 * $size_built")"
check "vacuum: the check passes after refilling" "$(sound vac_idx)"
check "vacuum: the index returns every refilled row" "$([ "$(lost_rows vac "b.id % 2 = 0")" = 0 ] && echo t || echo f)"
echo "vacuum: delete 5,000 of 10,000, VACUUM ${vacuum_ms} ms, recall@10 $recall; index $size_built bytes built, $size_refilled refilled"

# A VACUUM cancelled while it repairs the index leaves it sound, and the next one finishes the work.
sql -c "DELETE FROM vac WHERE id % 2 = 0"
sql -c "VACUUM vac" >"$dir/cancelled_vacuum.log" 2>&1 &
vacuum_job=$!
cluster_psql "$dir" "$port" postgres -c "DO \$\$ BEGIN
    FOR i IN 1..4000 LOOP
        PERFORM pg_stat_clear_snapshot();  -- else the transaction sees one state of the progress view
        PERFORM pg_cancel_backend(pid) FROM pg_stat_progress_vacuum
            WHERE phase = 'vacuuming indexes' AND relid = 'vac'::regclass;
        IF FOUND THEN RAISE NOTICE 'cancelled while vacuuming indexes'; RETURN; END IF;
        PERFORM pg_sleep(0.002);
    END LOOP;
END \$\$" >"$dir/canceller.log" 2>&1
wait "$vacuum_job" || true
check "vacuum: pg_cancel_backend stops a VACUUM in its index phase" \
    "$(grep -q "cancelled while vacuuming indexes" "$dir/canceller.log" &&
        grep -q "canceling statement due to user request" "$dir/cancelled_vacuum.log" && echo t || echo f)"
check "vacuum: the check passes after the cancelled VACUUM" "$(sound vac_idx)"
sql -c "VACUUM vac"
check "vacuum: the next VACUUM leaves a sound index that returns no deleted row" "$([ "$(sound vac_idx)" = t ] && sql -At -c "SET hnsw.ef_search = 100" -c "
    SELECT bool_and(top.id % 2 = 1) FROM queries q, LATERAL (SELECT id FROM vac ORDER BY embedding <-> q.embedding LIMIT 10) top")"

echo "--- 8 sessions for 30 s: inserts, updates, deletes, kNN queries; VACUUM every 5 s"
# VACUUM runs from a loop rather than autovacuum: a manual VACUUM that meets
# an autovacuum cancels it, with an ERROR in the log.
sql -c "ALTER TABLE base SET (autovacuum_enabled = off)"
sql -c "CREATE INDEX base_idx ON base USING hnsw (embedding vector_l2_ops)"
sql -c "CREATE SEQUENCE written START 20000"
insert_script base >"$dir/insert.sql"
cat >"$dir/update.sql" <<'SQL'
\set id random(0, 9999)
\set p random(0, 4999)
UPDATE base SET embedding = tagged(pool.embedding, -base.id), category = 'updated' FROM pool WHERE base.id = :id AND pool.id = :p;
SQL
cat >"$dir/delete.sql" <<'SQL'
\set id random(0, 9999)
DELETE FROM base WHERE id = :id;
SQL
cat >"$dir/query.sql" <<'SQL'
\set q random(0, 99)
SELECT id FROM base ORDER BY embedding <-> (SELECT embedding FROM queries WHERE id = :q) LIMIT 10;
SQL
errors_before=$(grep -c "ERROR" "$dir/server.log" || true)
bench_status=0
pgbench -c 8 -j 2 -T 30 -f "$dir/insert.sql@3" -f "$dir/update.sql@2" -f "$dir/delete.sql@1" -f "$dir/query.sql@4" \
    >"$dir/pgbench.log" 2>&1 &
writers=$!
vacuums=0 vacuum_failures=0 vacuum_times=""
while sleep 5 && kill -0 "$writers" 2>/dev/null; do
    start=$(date +%s%N)
    if sql -c "VACUUM base" 2>>"$dir/vacuum.log"; then
        vacuums=$((vacuums + 1))
        vacuum_times="$vacuum_times $(( ($(date +%s%N) - start) / 1000000 ))"
    else
        vacuum_failures=$((vacuum_failures + 1))
    fi
done
wait "$writers" || bench_status=$?
grep -E "number of transactions actually processed|tps = " "$dir/pgbench.log" || cat "$dir/pgbench.log"
errors=$(( $(grep -c "ERROR" "$dir/server.log" || true) - errors_before ))
[ "$errors" = 0 ] || grep -h "ERROR" "$dir/server.log" | tail -n "$errors" | sort | uniq -c | head -5
check "concurrency: pgbench ends cleanly" "$([ "$bench_status" = 0 ] && echo t || echo f)"
check "concurrency: no ERROR in the server log ($errors)" "$([ "$errors" = 0 ] && echo t || echo f)"
check "concurrency: VACUUM completes while the sessions write ($vacuums in the run, ms:$vacuum_times)" \
    "$([ "$vacuums" -ge 1 ] && [ "$vacuum_failures" = 0 ] && echo t || { cat "$dir/vacuum.log"; echo f; })"
written="b.category IN ('written', 'updated')"
lost=$(lost_rows base "$written")
check "concurrency: the index returns every written and updated row ($lost lost; $(missed_in_top10 base "$written") not in the top 10 for their own vector)" \
    "$([ "$lost" = 0 ] && echo t || echo f)"
check "concurrency: the check passes" "$(sound base_idx)"
recall=$(recall_of base)
check "concurrency: recall@10 at ef_search 100 >= 0.95 ($recall)" "$(sql -At -c "SELECT $recall >= 0.95")"
echo "concurrency: $(sql -At -c "SELECT count(*) FILTER (WHERE category = 'written') || ' rows written, ' || count(*) FILTER (WHERE category = 'updated') || ' updated, ' || count(*) || ' in all' FROM base"), $vacuums VACUUMs during the run, recall@10 $recall"

echo "--- index growth under concurrent inserts"
# 8 sessions inserting into one index each find the insert page full at
# about the same time and each add a page; the room left on all but the
# last must still be used, or the index grows far past a fresh build.
sql -c "CREATE TABLE grow (id int, category text, embedding vector(784))"
sql -c "INSERT INTO grow SELECT id, 'first', embedding FROM pool WHERE id < 500"
sql -c "CREATE INDEX grow_idx ON grow USING hnsw (embedding vector_l2_ops)"
insert_script grow >"$dir/grow.sql"
pgbench -c 8 -j 2 -t 250 -f "$dir/grow.sql" >"$dir/grow.log" 2>&1
grown=$(sql -At -c "SELECT pg_relation_size('grow_idx')")
sql -c "REINDEX INDEX grow_idx"
rebuilt=$(sql -At -c "SELECT pg_relation_size('grow_idx')")
check "growth: 2,000 rows from 8 sessions grow the index to at most 1.1x a fresh build's size ($grown vs $rebuilt bytes)" \
    "$(sql -At -c "SELECT $grown <= 1.1 * $rebuilt")"
sql -c "DROP TABLE grow"

for variant in plain codes; do
echo "--- crash in the middle of concurrent inserts ($variant)"
# With neighbor codes, the table starts with rows for the codes to learn from.
table=crash$([ "$variant" = codes ] && echo _codes || true)
if [ "$variant" = codes ]; then
    sql -c "CREATE TABLE $table AS SELECT * FROM base WHERE id < 2000"
    sql -c "CREATE INDEX ${table}_idx ON $table USING hnsw (embedding vector_l2_ops) WITH (neighbor_codes = on)"
else
    sql -c "CREATE TABLE $table (id int, category text, embedding vector(784))"
    sql -c "CREATE INDEX ${table}_idx ON $table USING hnsw (embedding vector_l2_ops)"
fi
insert_script $table >"$dir/$table.sql"
pgbench -c 8 -j 2 -T 60 -f "$dir/$table.sql" >"$dir/$table.log" 2>&1 &
writers=$!
sleep 8
restart immediate
wait "$writers" || true
rows=$(sql -At -c "SELECT count(*) FROM $table WHERE category = 'written'")
lost=$(lost_rows $table true)
check "crash ($variant): after recovery the index returns every committed row ($rows rows written, $lost lost; $(missed_in_top10 $table true) not in the top 10 for their own vector)" \
    "$([ "$lost" = 0 ] && [ "$rows" -gt 0 ] && echo t || echo f)"
check "crash ($variant): the check passes after recovery" "$(sound ${table}_idx)"
sql -c "VACUUM $table"
lost=$(lost_rows $table true)
check "crash ($variant): and after a VACUUM ($lost lost)" "$([ "$lost" = 0 ] && [ "$(sound ${table}_idx)" = t ] && echo t || echo f)"
sql -c "INSERT INTO $table SELECT n, 'after', tagged(embedding, n) FROM pool, nextval('written') n WHERE pool.id < 100"
check "crash ($variant): rows inserted after recovery are found" "$([ "$(lost_rows $table "b.category = 'after'")" = 0 ] && echo t || echo f)"
done

echo "--- UNLOGGED"
sql -c "CREATE UNLOGGED TABLE scratch AS SELECT * FROM base WHERE id < 2000"
sql -c "CREATE INDEX scratch_idx ON scratch USING hnsw (embedding vector_l2_ops)"
restart fast
check "unlogged: the index survives a clean restart" \
    "$([ "$(lost_rows scratch "b.id % 10 = 0")" = 0 ] && [ "$(sound scratch_idx)" = t ] && echo t || echo f)"
restart immediate
check "unlogged: table and index are empty after a crash" "$(sql -At -c "SET enable_seqscan = off" -c "
    SELECT count(*) = 0 FROM (SELECT id FROM scratch ORDER BY embedding <-> (SELECT embedding FROM queries WHERE id = 0) LIMIT 10) s")"
sql -c "INSERT INTO scratch SELECT * FROM base WHERE id < 500"
check "unlogged: the emptied index takes new rows" \
    "$([ "$(lost_rows scratch true)" = 0 ] && [ "$(sound scratch_idx)" = t ] && echo t || echo f)"

echo "--- streaming standby"
standby=$dir/standby
as_postgres "$PG_BINDIR/pg_basebackup" --checkpoint=fast -h "$dir" -p "$port" -U postgres -D "$standby" -R -X stream >/dev/null
{
    echo "port = $standby_port"
    echo "hot_standby = on"
} | as_postgres tee -a "$standby/postgresql.conf" >/dev/null
as_postgres "$PG_BINDIR/pg_ctl" -D "$standby" -l "$dir/standby.log" -w start >/dev/null
trap "cluster_stop '$dir'; as_postgres '$PG_BINDIR/pg_ctl' -D '$standby' -m immediate -w stop >/dev/null 2>&1; rm -rf '$dir'" EXIT
standby_sql() { cluster_psql "$dir" "$standby_port" postgres -q "$@"; }
for variant in plain codes; do
table=rep$([ "$variant" = codes ] && echo _codes || true)
options=$([ "$variant" = codes ] && echo "WITH (neighbor_codes = on)" || true)
sql -c "CREATE TABLE $table AS SELECT * FROM base WHERE id < 5000"
sql -c "CREATE INDEX ${table}_idx ON $table USING hnsw (embedding vector_l2_ops) $options"
sql -c "INSERT INTO $table SELECT n, 'written', tagged(embedding, n) FROM pool, nextval('written') n WHERE pool.id < 1000"
sql -c "DELETE FROM $table WHERE id % 3 = 0" -c "VACUUM $table"
lsn=$(sql -At -c "SELECT pg_current_wal_lsn()")
for _ in $(seq 1 100); do
    [ "$(standby_sql -At -c "SELECT pg_last_wal_replay_lsn() >= '$lsn'")" = t ] && break
    sleep 0.1
done
results=$(answers_query $table)
primary_results=$(sql -At -c "$results")
standby_results=$(standby_sql -At -c "$results")
check "standby ($variant): the 100 queries return the primary's rows" \
    "$([ -n "$primary_results" ] && [ "$primary_results" = "$standby_results" ] && echo t || echo f)"
check "standby ($variant): the check passes on the standby" \
    "$(standby_sql -At -c "SELECT quiver_check_index('${table}_idx') = '{}'")"
done

echo "--- halfvec, sparsevec, bit, wide, filter-column and ivfflat indexes: the standby, and a crash"
# Each stores its own element width (float16, packed sparse, packed bits), a
# wide vector (2,352 dimensions) its parts on other pages, and an index with
# filter columns their values in each element; the same WAL records must
# carry them all. The ivfflat indexes (20 lists, all probed: the scans are
# exact) carry codes, centers and list pages, of vectors, halfvec under
# cosine, bits, and with filter columns.
declare -A width_class=([half]="hnsw ((embedding::halfvec(784)) halfvec_l2_ops)"
                        [sparse]="hnsw ((embedding::sparsevec(784)) sparsevec_l2_ops)"
                        [bits]="hnsw ((binary_quantize(embedding)::bit(784)) bit_hamming_ops)"
                        [wide]="hnsw (((embedding || embedding || embedding)::vector(2352)) vector_l2_ops)"
                        [filter]="hnsw (embedding vector_l2_ops, category, id)"
                        [ivf]="ivfflat (embedding vector_l2_ops) WITH (lists = 20)"
                        [ivf_half]="ivfflat ((embedding::halfvec(784)) halfvec_cosine_ops) WITH (lists = 20)"
                        [ivf_bits]="ivfflat ((binary_quantize(embedding)::bit(784)) bit_hamming_ops) WITH (lists = 20)"
                        [ivf_filter]="ivfflat (embedding vector_l2_ops, category, id) WITH (lists = 20)")
kinds=(half sparse bits wide filter ivf ivf_half ivf_bits ivf_filter)
scan_settings=(-c "SET enable_seqscan = off" -c "SET ivfflat.probes = 20")
# width_where KIND ROW: the condition the scans of that index carry (the
# filter columns' conditions, checked inside the index).
width_where() {
    case $1 in
        filter | ivf_filter) echo "$2.id % 3 = 1 AND $2.category <> 'none'" ;;
        *) echo "true" ;;
    esac
}
# width_order KIND ROW QUERY: what a scan of that index orders ROW's rows by.
width_order() {
    case $1 in
        half) echo "$2.embedding::halfvec(784) <-> $3.embedding::halfvec(784)" ;;
        ivf_half) echo "$2.embedding::halfvec(784) <=> $3.embedding::halfvec(784)" ;;
        sparse) echo "$2.embedding::sparsevec(784) <-> $3.embedding::sparsevec(784)" ;;
        bits | ivf_bits) echo "binary_quantize($2.embedding)::bit(784) <~> binary_quantize($3.embedding)::bit(784)" ;;
        wide) echo "($2.embedding || $2.embedding || $2.embedding)::vector(2352) <-> ($3.embedding || $3.embedding || $3.embedding)::vector(2352)" ;;
        filter | ivf | ivf_filter) echo "$2.embedding <-> $3.embedding" ;;
    esac
}
sql -c "CREATE TABLE widths AS SELECT * FROM base WHERE id < 3000"
for kind in "${kinds[@]}"; do
    sql -c "CREATE INDEX widths_$kind ON widths USING ${width_class[$kind]}"
done
sql -c "INSERT INTO widths SELECT n, 'written', tagged(embedding, n) FROM pool, nextval('written') n WHERE pool.id < 500"
sql -c "DELETE FROM widths WHERE id % 4 = 0" -c "VACUUM widths"
lsn=$(sql -At -c "SELECT pg_current_wal_lsn()")
for _ in $(seq 1 100); do
    [ "$(standby_sql -At -c "SELECT pg_last_wal_replay_lsn() >= '$lsn'")" = t ] && break
    sleep 0.1
done
for kind in "${kinds[@]}"; do
    answers="SELECT string_agg(ids, ';' ORDER BY id) FROM (
                 SELECT q.id, ARRAY(SELECT b.id FROM widths b WHERE $(width_where $kind b) ORDER BY $(width_order $kind b q) LIMIT 10)::text AS ids
                 FROM queries q WHERE q.id < 50) s"
    primary_results=$(sql -At "${scan_settings[@]}" -c "$answers")
    standby_results=$(standby_sql -At "${scan_settings[@]}" -c "$answers")
    check "standby ($kind): 50 queries return the primary's rows" \
        "$([ -n "$primary_results" ] && [ "$primary_results" = "$standby_results" ] && echo t || echo f)"
    check "standby ($kind): the check passes on the standby" \
        "$(standby_sql -At -c "SELECT quiver_check_index('widths_$kind') = '{}'")"
done
sql -c "INSERT INTO widths SELECT n, 'before the crash', tagged(embedding, n) FROM pool, nextval('written') n WHERE pool.id BETWEEN 500 AND 999"
restart immediate
for kind in "${kinds[@]}"; do
    check "crash ($kind): the check passes after recovery" "$(sound widths_$kind)"
    # The filter-column index checks the row's id itself (an Index Cond).
    same_row="x.id + 0 = b.id"
    [[ $kind != filter && $kind != ivf_filter ]] || same_row="x.id = b.id"
    # As lost_rows: a scan for the row's own vector, filtered to the row and
    # continued as far as the graph reaches, must return it.
    lost=$(sql -At "${scan_settings[@]}" -c "SET enable_bitmapscan = off" -c "SET hnsw.iterative_scan = relaxed_order" \
        -c "SET hnsw.max_scan_tuples = 2000000" -c "
        SELECT count(*) FROM widths b WHERE b.category IN ('written', 'before the crash')
        AND NOT EXISTS (SELECT FROM (SELECT x.id FROM widths x WHERE $same_row ORDER BY $(width_order $kind x b) LIMIT 1) s)")
    check "crash ($kind): the index returns every committed row ($lost lost)" "$([ "$lost" = 0 ] && echo t || echo f)"
done
sql -c "DROP TABLE widths"

echo "--- an ivfflat index that trains itself: the standby, and a crash"
# Made on an empty table, it keeps its first rows pending; the insert that
# brings 16 per list trains it: new pages, then the meta page's switch, in
# WAL the standby replays and a crash recovery redoes. (The concurrency
# part deleted some of base's rows: the counts are the tables'.)
sql -c "CREATE TABLE selftrain (id int, category text, embedding vector(784))" \
    -c "CREATE INDEX selftrain_idx ON selftrain USING ivfflat (embedding vector_l2_ops) WITH (lists = 8)" \
    -c "INSERT INTO selftrain SELECT id, category, embedding FROM base WHERE id < 100"
check "self-training: under 128 rows for 8 lists stay pending" \
    "$(sql -At -c "SELECT NOT trained AND elements = (SELECT count(*) FROM selftrain) FROM quiver_index_stats('selftrain_idx')")"
sql -c "INSERT INTO selftrain SELECT id, category, embedding FROM base WHERE id BETWEEN 100 AND 399"
check "self-training: the insert past 128 rows trained it, every row in a list" \
    "$(sql -At -c "SELECT trained AND (SELECT sum(x) FROM unnest(list_sizes) x) = (SELECT count(*) FROM selftrain)
                   FROM quiver_index_stats('selftrain_idx')")"
lsn=$(sql -At -c "SELECT pg_current_wal_lsn()")
for _ in $(seq 1 100); do
    [ "$(standby_sql -At -c "SELECT pg_last_wal_replay_lsn() >= '$lsn'")" = t ] && break
    sleep 0.1
done
answers="SELECT string_agg(ids, ';' ORDER BY id) FROM (
             SELECT q.id, ARRAY(SELECT b.id FROM selftrain b ORDER BY b.embedding <-> q.embedding LIMIT 10)::text AS ids
             FROM queries q WHERE q.id < 50) s"
exact=$(sql -At -c "SET enable_indexscan = off" -c "$answers")
check "self-training: every list probed, the 50 queries' answers are exact" \
    "$([ "$(sql -At -c "SET enable_seqscan = off" -c "SET ivfflat.probes = 8" -c "$answers")" = "$exact" ] && echo t || echo f)"
check "self-training: the standby gives the same answers, and its check passes" \
    "$([ "$(standby_sql -At -c "SET enable_seqscan = off" -c "SET ivfflat.probes = 8" -c "$answers")" = "$exact" ] \
       && [ "$(standby_sql -At -c "SELECT quiver_check_index('selftrain_idx') = '{}'")" = t ] && echo t || echo f)"
sql -c "CREATE TABLE selftrain_crash (id int, embedding vector(784))" \
    -c "CREATE INDEX selftrain_crash_idx ON selftrain_crash USING ivfflat (embedding vector_l2_ops) WITH (lists = 8)" \
    -c "INSERT INTO selftrain_crash SELECT id, embedding FROM base WHERE id < 100" \
    -c "INSERT INTO selftrain_crash SELECT id, embedding FROM base WHERE id BETWEEN 100 AND 299"
restart immediate
check "self-training: after a crash both indexes are sound, trained, and hold every row" \
    "$(sql -At -c "SELECT bool_and(trained AND elements = n) FROM (VALUES ('selftrain_idx', (SELECT count(*) FROM selftrain)),
                   ('selftrain_crash_idx', (SELECT count(*) FROM selftrain_crash))) v(i, n), quiver_index_stats(i::regclass)")"
check "self-training: and answer exactly" \
    "$([ "$(sql -At -c "SET enable_seqscan = off" -c "SET ivfflat.probes = 8" -c "$answers")" = "$exact" ] && echo t || echo f)"
sql -c "DROP TABLE selftrain, selftrain_crash"

echo "--- point-in-time recovery"
# Archive WAL, take a base backup, change the table and index, name a
# restore point, change them more; a copy restored to that point must give
# the answers the primary gave there.
archive=$dir/archive
pitr=$dir/pitr
pitr_port=$((port + 2))
mkdir -p "$archive" && chown postgres:postgres "$archive"
sql -c "ALTER SYSTEM SET archive_mode = on" -c "ALTER SYSTEM SET archive_command = 'cp %p $archive/%f'"
restart fast
as_postgres "$PG_BINDIR/pg_basebackup" --checkpoint=fast -h "$dir" -p "$port" -U postgres -D "$pitr" -X stream >/dev/null
trap "cluster_stop '$dir'; for d in '$standby' '$pitr'; do as_postgres '$PG_BINDIR/pg_ctl' -D \$d -m immediate -w stop >/dev/null 2>&1; done; rm -rf '$dir'" EXIT
sql -c "CREATE TABLE pit AS SELECT * FROM base WHERE id < 4000"
sql -c "CREATE INDEX pit_idx ON pit USING hnsw (embedding vector_l2_ops)"
sql -c "INSERT INTO pit SELECT n, 'written', tagged(embedding, n) FROM pool, nextval('written') n WHERE pool.id < 1000"
sql -c "DELETE FROM pit WHERE id % 5 = 0" -c "VACUUM pit"
at_restore_point=$(sql -At -c "$(answers_query pit)")
sql -c "SELECT pg_create_restore_point('quiver_test')" >/dev/null
sql -c "DELETE FROM pit WHERE id % 2 = 0" -c "VACUUM pit"
sql -c "INSERT INTO pit SELECT n, 'later', tagged(embedding, n) FROM pool, nextval('written') n WHERE pool.id BETWEEN 1000 AND 1999"
last_wal=$(sql -At -c "SELECT pg_walfile_name(pg_current_wal_lsn())")
sql -c "SELECT pg_switch_wal()" >/dev/null
for _ in $(seq 1 100); do
    [ -f "$archive/$last_wal" ] && break
    sleep 0.1
done
{
    echo "port = $pitr_port"
    echo "archive_mode = off"
    echo "restore_command = 'cp $archive/%f %p'"
    echo "recovery_target_name = 'quiver_test'"
    echo "recovery_target_action = 'promote'"
} | as_postgres tee -a "$pitr/postgresql.conf" >/dev/null
as_postgres touch "$pitr/recovery.signal"
as_postgres "$PG_BINDIR/pg_ctl" -D "$pitr" -l "$dir/pitr.log" -w start >/dev/null
pitr_sql() { cluster_psql "$dir" "$pitr_port" postgres -q "$@"; }
for _ in $(seq 1 100); do
    [ "$(pitr_sql -At -c "SELECT pg_is_in_recovery()")" = f ] && break
    sleep 0.1
done
restored=$(pitr_sql -At -c "$(answers_query pit)")
check "pitr: a copy recovered to the restore point returns the rows the primary returned there" \
    "$([ -n "$restored" ] && [ "$restored" = "$at_restore_point" ] && [ "$restored" != "$(sql -At -c "$(answers_query pit)")" ] && echo t || echo f)"
check "pitr: the check passes on the recovered copy" "$(pitr_sql -At -c "SELECT quiver_check_index('pit_idx') = '{}'")"

check_summary load
