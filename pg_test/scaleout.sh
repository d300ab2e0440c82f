#!/usr/bin/env bash
# Scale-out with PostgreSQL's own parts: a coordinator whose `items` is
# partitioned by hash over 3 shard servers through postgres_fdw, each shard
# with its own hnsw index, on 30,000 GloVe-50 vectors; and a streaming standby
# of one shard behind a load-balanced libpq connection string. Asserts that the
# coordinator answers as one server holding every row (also through
# items_knn(), which has the shards search at once), that the distance and
# the filter are shipped to the shards, that a shard that is down is an ERROR,
# that inserts through the coordinator land on one shard and are found, and
# that primary and standby answer alike. Quiver must be installed.
set -euo pipefail
cd "$(dirname "$0")/.."
source tests/lib/cluster.sh
source tests/lib/check.sh
source tests/lib/scaleout.sh
source tests/lib/venv.sh

port=${SCALEOUT_PORT:-54350}
rows=30000
scaleout_start "$port" 3
# A high ef_search on the shards: exact answers on 10,000 rows each.
scaleout_schema 50 vector_cosine_ops 400
python3 tests/lib/datasets.py glove base --count $rows | awk -F'\t' -v OFS='\t' '{ print $1, $1 % 10, $2 }' \
    >"$SCALEOUT_DIR/rows.tsv"
coordinator -q -c "\\copy items_all FROM '$SCALEOUT_DIR/rows.tsv'" -c "INSERT INTO items SELECT * FROM items_all"
coordinator -q -c "CREATE TABLE queries (id int PRIMARY KEY, embedding vector(50))"
python3 tests/lib/datasets.py glove queries --count 50 | coordinator -q -c "COPY queries FROM STDIN"
scaleout_index vector_cosine_ops

per_shard=$(for i in 0 1 2; do shard "$i" -At -c "SELECT count(*) FROM items"; done | paste -sd' ')
all=$(coordinator -At -c "SELECT count(DISTINCT id) = $rows AND count(*) = $rows FROM items")
check "the rows are spread over the 3 shards ($per_shard), each once" \
    "$([ "$all" = t ] && ! grep -qw 0 <<<"$per_shard" && echo t || echo f)"

# The plan ships the distance, the order and the filter to every shard.
plan=$(coordinator -At -c "EXPLAIN (VERBOSE, COSTS OFF) SELECT id FROM items WHERE category = 3
                           ORDER BY embedding <=> (SELECT embedding FROM queries WHERE id = 0) LIMIT 10")
shipped=$(grep -c "Remote SQL: .*WHERE ((category = 3)) ORDER BY (embedding OPERATOR(public.<=>)" <<<"$plan" || true)
check "EXPLAIN VERBOSE shows the order and the filter in each shard's remote SQL ($shipped of 3)" \
    "$([ "$shipped" = 3 ] && echo t || echo f)"
check "the coordinator merges the shards' ordered rows (Merge Append)" \
    "$(grep -q "Merge Append" <<<"$plan" && echo t || echo f)"

# hnsw.ef_search reaches the shards through the servers' connection options.
for i in 0 1 2; do
    shard "$i" -q -c "CREATE VIEW session_settings AS SELECT current_setting('hnsw.ef_search') AS ef_search,
                      current_setting('cursor_tuple_fraction') AS cursor_tuple_fraction, current_setting('jit') AS jit"
    coordinator -q -c "CREATE FOREIGN TABLE shard${i}_settings (ef_search text, cursor_tuple_fraction text, jit text) SERVER shard$i
                       OPTIONS (table_name 'session_settings')"
done
check "each shard's session gets hnsw.ef_search = 400 from its foreign server" \
    "$(coordinator -At -c "SELECT bool_and(ef_search = '400') FROM (
        SELECT ef_search FROM shard0_settings UNION ALL SELECT ef_search FROM shard1_settings
        UNION ALL SELECT ef_search FROM shard2_settings) s")"

# Every query's ten nearest through the coordinator, against the exact ten
# of one server holding every row (by distance: equal vectors may swap ids).
compare() {
    local source=$1 filter=$2
    coordinator -At -q -c "SET enable_indexscan = off" -c "
        SELECT count(*) FILTER (WHERE got = exact) || ' of ' || count(*) FROM (
            SELECT ARRAY(SELECT round((i.embedding <=> q.embedding)::numeric, 5) FROM $source i
                         WHERE $filter ORDER BY i.embedding <=> q.embedding LIMIT 10) AS got,
                   ARRAY(SELECT round((a.embedding <=> q.embedding)::numeric, 5) FROM items_all a
                         WHERE $filter ORDER BY a.embedding <=> q.embedding LIMIT 10) AS exact
            FROM queries q) per_query" 2>&1
}
# enable_indexscan = off keeps items_all exact; the shards still use their indexes.
for filter in true "category = 3"; do
    same=$(compare items "$filter")
    check "WHERE $filter: the coordinator's ten nearest equal one server's exact ten ($same queries)" \
        "$([ "$same" = "50 of 50" ] && echo t || echo f)"
done
# items_knn() sends every shard its query before reading any answer (dblink's
# asynchronous calls): the same answers.
scaleout_knn_function
for category in NULL 3; do
    filter=$([ $category = NULL ] && echo true || echo "category = $category")
    same=$(coordinator -At -q -c "SET enable_indexscan = off" -c "
        SELECT count(*) FILTER (WHERE got = exact) || ' of ' || count(*) FROM (
            SELECT ARRAY(SELECT round(k.distance::numeric, 5) FROM items_knn(q.embedding, 10, $category) k) AS got,
                   ARRAY(SELECT round((a.embedding <=> q.embedding)::numeric, 5) FROM items_all a
                         WHERE $filter ORDER BY a.embedding <=> q.embedding LIMIT 10) AS exact
            FROM queries q) per_query")
    check "items_knn(query, 10, $category), the shards searching at once, equals the exact ten ($same queries)" \
        "$([ "$same" = "50 of 50" ] && echo t || echo f)"
done

# What postgres_fdw sends is a cursor over the ordered query, without LIMIT
# (PostgreSQL ships no LIMIT into partitions). Costing the default first tenth
# of the rows, a shard sorts them all; the servers' cursor_tuple_fraction
# makes it cost the first few, and take the index.
check "each shard's session gets cursor_tuple_fraction = 0.001 and jit = off" \
    "$(coordinator -At -c "SELECT bool_and(c = '0.001' AND j = 'off') FROM (
        SELECT cursor_tuple_fraction AS c, jit AS j FROM shard0_settings UNION ALL
        SELECT cursor_tuple_fraction, jit FROM shard1_settings UNION ALL
        SELECT cursor_tuple_fraction, jit FROM shard2_settings) s")"
q3=$(shard 0 -At -c "SELECT embedding FROM items LIMIT 1")
shard_plan=$(shard 0 -At -c "SET cursor_tuple_fraction = 0.001; BEGIN; EXPLAIN (COSTS OFF) DECLARE c CURSOR FOR
    SELECT id, embedding FROM items WHERE category = 3 ORDER BY embedding <=> '$q3'::vector(50); COMMIT")
check "a shard answers that cursor with its hnsw index" \
    "$(grep -q "Index Scan using items_embedding" <<<"$shard_plan" && echo t || echo f)"

# An insert through the coordinator lands on one shard and is found there.
coordinator -q -c "INSERT INTO items SELECT 1000001, 3, embedding FROM queries WHERE id = 0"
holders=$(for i in 0 1 2; do shard "$i" -At -c "SELECT count(*) FROM items WHERE id = 1000001"; done |
    awk '{ n += $1 } END { print n }')
check "an insert through the coordinator lands on exactly one shard" "$([ "$holders" = 1 ] && echo t || echo f)"
check "and kNN through the coordinator finds it first" \
    "$(coordinator -At -c "SELECT id = 1000001 FROM items ORDER BY embedding <=> (SELECT embedding FROM queries WHERE id = 0) LIMIT 1")"

# A shard that is down is an ERROR, not a partial answer.
cluster_stop "$SCALEOUT_DIR/shard2" immediate
down=$(coordinator -At -c "SELECT id FROM items ORDER BY embedding <=> (SELECT embedding FROM queries WHERE id = 1) LIMIT 10" 2>&1 || true)
check "a shard that is down makes the query an ERROR naming the connection" \
    "$(grep -q "ERROR:.*could not connect to server \"shard2\"" <<<"$down" && echo t || echo f)"
down=$(coordinator -At -c "SELECT count(*) FROM items_knn((SELECT embedding FROM queries WHERE id = 1), 10)" 2>&1 || true)
check "and so does items_knn()" "$(grep -q "ERROR:" <<<"$down" && echo t || echo f)"
as_postgres "$PG_BINDIR/pg_ctl" -D "$SCALEOUT_DIR/shard2/data" -l "$SCALEOUT_DIR/shard2/server.log" -w start >/dev/null
check "and answers again once it is back" \
    "$(coordinator -At -c "SELECT count(*) = 10 FROM (SELECT id FROM items ORDER BY embedding <=> (SELECT embedding FROM queries WHERE id = 1) LIMIT 10) s")"

# Read scaling: a streaming standby of shard 0, and one libpq connection
# string over both with load_balance_hosts=random (libpq 16+, from psycopg).
venv=$(clients_venv)
primary_dir=$SCALEOUT_DIR/shard0 primary_port=$((port + 1)) standby_port=$((port + 4))
standby_dir=$SCALEOUT_DIR/standby0
mkdir -p "$standby_dir" && chown postgres:postgres "$standby_dir"
as_postgres "$PG_BINDIR/pg_basebackup" --checkpoint=fast -h "$primary_dir" -p "$primary_port" -U postgres -D "$standby_dir/data" -R -X stream
{
    echo "port = $standby_port"
    echo "unix_socket_directories = '$standby_dir'"
    echo "hot_standby = on"
} | as_postgres tee -a "$standby_dir/data/postgresql.conf" >/dev/null
as_postgres "$PG_BINDIR/pg_ctl" -D "$standby_dir/data" -l "$standby_dir/server.log" -w start >/dev/null
lsn=$(shard 0 -At -c "SELECT pg_current_wal_lsn()")
for _ in $(seq 1 100); do
    caught_up=$(cluster_psql "$standby_dir" "$standby_port" postgres -At -c "SELECT pg_last_wal_replay_lsn() >= '$lsn'")
    [ "$caught_up" = t ] && break
    sleep 0.1
done
knn="SELECT id FROM items WHERE category = 3 ORDER BY embedding <=> (SELECT embedding FROM items WHERE id = 3) LIMIT 10"
conninfo="host=$primary_dir,$standby_dir port=$primary_port,$standby_port user=postgres dbname=postgres
          load_balance_hosts=random target_session_attrs=any options='-c hnsw.ef_search=400'"
balanced=$("$venv/bin/python" tests/lib/load_balance.py "$conninfo" "$knn" 40 2>&1) && ok=t || ok=f
echo "$balanced"
check "a load-balanced connection string reaches primary and standby, which answer alike" "$ok"

check_summary scaleout
