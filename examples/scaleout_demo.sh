#!/usr/bin/env bash
# make scaleout-demo [SHARD_COUNTS="1 2 3"] [ROWS=100000]: a coordinator and
# shard servers on this machine (throwaway clusters), GloVe-50 spread over
# the shards by hash of id through postgres_fdw, each shard with its own hnsw
# index. Prints filtered kNN answers through the coordinator and its EXPLAIN
# VERBOSE (the shards' remote SQL), then, for each shard count, recall@10
# and server time of the coordinator against one server holding every row.
# The figures also go to bench/results/scaleout.md (kept in BENCHMARKS.md).
set -euo pipefail
cd "$(dirname "$0")/.."
source tests/lib/cluster.sh
source tests/lib/scaleout.sh

port=${SCALEOUT_DEMO_PORT:-54370}
rows=${ROWS:-100000}
queries=100
ef=${EF_SEARCH:-40}
results=()

counts=${SHARD_COUNTS:-1 2 3}
last=${counts##* }
for shards in $counts; do
    echo "=== $shards shard(s), $rows GloVe-50 rows, hnsw.ef_search = $ef on every server"
    scaleout_start "$port" "$shards"
    scaleout_schema 50 vector_cosine_ops "$ef"
    python3 tests/lib/datasets.py glove base --count "$rows" | awk -F'\t' -v OFS='\t' '{ print $1, $1 % 10, $2 }' \
        >"$SCALEOUT_DIR/rows.tsv"
    coordinator -q -c "\\copy items_all FROM '$SCALEOUT_DIR/rows.tsv'" -c "INSERT INTO items SELECT * FROM items_all"
    coordinator -q -c "CREATE TABLE queries (id int PRIMARY KEY, embedding vector(50))"
    python3 tests/lib/datasets.py glove queries --count $queries | coordinator -q -c "COPY queries FROM STDIN"
    scaleout_index vector_cosine_ops
    scaleout_knn_function
    for ((i = 0; i < shards; i++)); do
        echo "shard $i: $(shard "$i" -At -c "SELECT count(*) FROM items") rows"
    done

    coordinator -q -c "SET hnsw.ef_search = $ef" -c "
        CREATE FUNCTION execution_ms(query text) RETURNS float8 LANGUAGE plpgsql AS \$\$
        DECLARE plan json;
        BEGIN
            EXECUTE 'EXPLAIN (ANALYZE, FORMAT JSON) ' || query INTO plan;
            RETURN (plan -> 0 ->> 'Execution Time')::float8;
        END \$\$"
    if [ "$shards" = "$last" ]; then
        echo "--- WHERE category = 3 ORDER BY embedding <=> (query 0) LIMIT 5, through the coordinator"
        coordinator -c "SELECT i.id, i.category, round((i.embedding <=> q.embedding)::numeric, 4) AS distance,
                               i.tableoid::regclass AS partition
                        FROM items i, (SELECT embedding FROM queries WHERE id = 0) q
                        WHERE i.category = 3 ORDER BY i.embedding <=> q.embedding LIMIT 5"
        echo "--- its EXPLAIN VERBOSE (a generic plan, so the query vector shows as \$1)"
        coordinator -c "SET plan_cache_mode = force_generic_plan" \
            -c "PREPARE knn(vector) AS SELECT id FROM items WHERE category = 3 ORDER BY embedding <=> \$1 LIMIT 5" \
            -c "EXPLAIN (VERBOSE, COSTS OFF) EXECUTE knn('$(coordinator -At -c "SELECT embedding FROM queries WHERE id = 0")')"
    fi

    for category in NULL 3; do
        filter=$([ $category = NULL ] && echo true || echo "category = $category")
        figures=$(coordinator -At -q -F ' ' -c "SET hnsw.ef_search = $ef" -c "
            WITH per_query AS (
                SELECT cardinality(ARRAY(
                           SELECT unnest(ARRAY(SELECT id FROM items WHERE $filter ORDER BY embedding <=> q.embedding LIMIT 10))
                           INTERSECT
                           SELECT unnest(ARRAY(SELECT a.id FROM items_all a WHERE $filter
                                               ORDER BY (a.embedding <=> q.embedding) + 0 LIMIT 10)))) AS hits_sharded,
                       cardinality(ARRAY(
                           SELECT unnest(ARRAY(SELECT id FROM items_all WHERE $filter ORDER BY embedding <=> q.embedding LIMIT 10))
                           INTERSECT
                           SELECT unnest(ARRAY(SELECT a.id FROM items_all a WHERE $filter
                                               ORDER BY (a.embedding <=> q.embedding) + 0 LIMIT 10)))) AS hits_single,
                       execution_ms(format('SELECT id FROM items WHERE %s ORDER BY embedding <=> %L::vector LIMIT 10',
                                           '$filter', q.embedding)) AS ms_sharded,
                       execution_ms(format('SELECT id FROM items_all WHERE %s ORDER BY embedding <=> %L::vector LIMIT 10',
                                           '$filter', q.embedding)) AS ms_single,
                       execution_ms(format('SELECT id FROM items_knn(%L::vector, 10, %s)',
                                           q.embedding, '$category')) AS ms_knn
                FROM queries q)
            SELECT round(avg(hits_sharded) / 10, 3), round(avg(hits_single) / 10, 3),
                   round(percentile_cont(0.5) WITHIN GROUP (ORDER BY ms_sharded)::numeric, 2),
                   round(percentile_cont(0.5) WITHIN GROUP (ORDER BY ms_single)::numeric, 2),
                   round(percentile_cont(0.5) WITHIN GROUP (ORDER BY ms_knn)::numeric, 2)
            FROM per_query")
        read -r recall_sharded recall_single ms_sharded ms_single ms_knn <<<"$figures"
        echo "WHERE $filter: recall@10 coordinator $recall_sharded, one server $recall_single;" \
             "median server time coordinator $ms_sharded ms (items_knn(): $ms_knn ms), one server $ms_single ms"
        results+=("| $shards | $filter | $recall_sharded / $recall_single | $ms_sharded / $ms_knn / $ms_single |")
    done
    scaleout_stop
    trap - EXIT
done

if [ -z "${SHARD_COUNTS:-}" ]; then
    {
        echo "## Scale-out: shards through postgres_fdw"
        echo
        echo "\`make scaleout-demo\` on $(date -u +%Y-%m-%d), $(nproc) cores, $("$PG_BINDIR/postgres" --version):"
        echo "$rows GloVe-50 rows (cosine) hashed over 1-3 shard servers on this machine (postgres_fdw,"
        echo "one partition per shard, hnsw.ef_search = $ef on every server), $queries queries;"
        echo "\`category = 3\` matches 10% of rows. Recall@10 against exact search over all rows; server"
        echo "time is the coordinator's (or the one server's) EXPLAIN ANALYZE execution time, median."
        echo
        echo "| shards | filter | recall@10 coordinator (plain query) / one server | server ms: coordinator (plain query) / items_knn() / one server |"
        echo "|---|---|---|---|"
        printf '%s\n' "${results[@]}"
        echo
        echo "The plain query asks the shards one after another (PostgreSQL 15 and 16 run no Merge"
        echo "Append asynchronously), so its time grows by about a round trip and a shard's search per"
        echo "shard. items_knn() (tests/lib/scaleout.sh) sends every shard its query through dblink's"
        echo "asynchronous calls before reading any answer, so the shards search at once. Recall grows"
        echo "with the shards, each walking its own smaller graph at the same ef_search."
    } >bench/results/scaleout.md
    echo "wrote bench/results/scaleout.md"
fi
