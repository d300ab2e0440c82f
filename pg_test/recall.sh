#!/usr/bin/env bash
# Recall of the hnsw index against exact search, on real data: 10,000
# Fashion-MNIST training images as the table, 100 test images as queries,
# for L2 and cosine, without and with neighbor codes, built by two parallel
# workers and the leader, and once by one process alone; and the same on an
# expression index that stores the vectors as halfvec, and one that stores
# them as sparsevec, measured against the float4 vectors' exact answers; and
# wide vectors (3,136 and 15,680 dimensions) made of several images each. Asserts recall@10
# >= 0.95 at ef_search 100 and that it rises from ef_search 10 to 100;
# prints recall and build time.
# Quiver must be installed.
set -euo pipefail
cd "$(dirname "$0")/.."
source tests/lib/cluster.sh

port=${RECALL_PORT:-54332}
fashion_mnist_cluster recall "$port"
dir=$CLUSTER_DIR
sql() { cluster_psql "$dir" "$port" postgres -q "$@"; }

source tests/lib/check.sh

for variant in l2 cosine l2+codes cosine+codes l2+serial cosine+halfvec l2+halfvec+codes l2+sparsevec; do
    metric=${variant%%+*}
    # The indexed expression, and the same on the queries' side.
    cast="" type=vector
    [[ $variant != *halfvec* ]] || { cast="::halfvec(784)"; type=halfvec; }
    # Fashion-MNIST's images are mostly black: as sparsevec, 82 to 717 non-zeros (median 399).
    [[ $variant != *sparsevec* ]] || { cast="::sparsevec(784)"; type=sparsevec; }
    options=""
    [[ $variant != *codes* ]] || options="WITH (neighbor_codes = on)"
    workers=2
    [[ $variant != *serial* ]] || workers=0
    case $metric in
        l2) op='<->' ;;
        cosine) op='<=>' ;;
    esac
    # Exact answers, by sequential scan, before any index exists.
    sql -c "CREATE TABLE IF NOT EXISTS truth_$metric AS
            SELECT q.id, ARRAY(SELECT b.id FROM base b ORDER BY b.embedding $op q.embedding, b.id LIMIT 10) AS ids
            FROM queries q"
    start=$(date +%s%N)
    build_log=$(sql -c "SET max_parallel_maintenance_workers = $workers" -c "SET client_min_messages = debug1" \
        -c "CREATE INDEX base_$metric ON base USING hnsw ((embedding$cast) ${type}_${metric}_ops) $options" 2>&1)
    build=$(( ($(date +%s%N) - start) / 1000000 ))
    launched=$(grep -Eo 'with [0-9]+ parallel workers launched' <<<"$build_log" | grep -Eo '[0-9]+' || echo 0)
    if [ "$workers" -gt 0 ]; then
        check "$variant: the build ran with parallel workers ($launched launched)" "$([ "$launched" -gt 0 ] && echo t || echo f)"
    else
        check "$variant: the build ran in one process" "$([ "$launched" = 0 ] && echo t || echo f)"
    fi
    size=$(sql -At -c "SELECT pg_size_pretty(pg_relation_size('base_$metric'))")
    check "$variant: quiver_check_index finds no problem" "$(sql -At -c "SELECT quiver_check_index('base_$metric') = '{}'")"
    plan=$(sql -At -c "EXPLAIN (COSTS OFF) SELECT b.id FROM base b ORDER BY b.embedding$cast $op (SELECT embedding$cast FROM queries WHERE id = 0) LIMIT 10")
    check "$variant: the planner uses the index" "$(grep -q "Index Scan using base_$metric" <<<"$plan" && echo t || echo f)"
    declare -A recall=()
    for ef in 10 40 100; do
        recall[$ef]=$(sql -At -c "SET hnsw.ef_search = $ef" -c "
            SELECT round(avg(hits) / 10, 3) FROM (
                SELECT cardinality(ARRAY(
                    SELECT unnest(t.ids)
                    INTERSECT
                    SELECT unnest(ARRAY(SELECT b.id FROM base b ORDER BY b.embedding$cast $op q.embedding$cast LIMIT 10))
                )) AS hits
                FROM queries q JOIN truth_$metric t USING (id)) per_query")
    done
    echo "$variant: build ${build} ms ($launched parallel workers), index $size, recall@10 at ef_search 10/40/100: ${recall[10]} / ${recall[40]} / ${recall[100]}"
    check "$variant: recall@10 at ef_search 100 >= 0.95" "$(sql -At -c "SELECT ${recall[100]} >= 0.95")"
    check "$variant: recall rises from ef_search 10 to 100" "$(sql -At -c "SELECT ${recall[100]} > ${recall[10]}")"
    if [ "$variant" = l2 ]; then
        # quiver_recall, the figure users tune by, measures the same thing
        # (it counts ties at the tenth distance as found).
        measured=$(sql -At -c "SET hnsw.ef_search = 10" \
            -c "SELECT round(quiver_recall('base_l2', ARRAY(SELECT embedding FROM queries ORDER BY id))::numeric, 3)")
        check "quiver_recall at ef_search 10 agrees with the exact answers ($measured vs ${recall[10]})" \
            "$(sql -At -c "SELECT abs($measured - ${recall[10]}) <= 0.01")"
    fi
    # Results come back in increasing distance.
    sorted=$(sql -At -c "SET hnsw.ef_search = 100" -c "
        SELECT bool_and(d >= prev) FROM (
            SELECT d, lag(d, 1, '-Infinity') OVER (ORDER BY n) AS prev FROM (
                SELECT row_number() OVER () AS n, embedding$cast $op (SELECT embedding$cast FROM queries WHERE id = 1) AS d
                FROM (SELECT embedding FROM base ORDER BY embedding$cast $op (SELECT embedding$cast FROM queries WHERE id = 1) LIMIT 50) s
            ) numbered
        ) pairs")
    check "$variant: index scan returns rows by increasing distance" "$sorted"
    if [ -n "$options" ]; then
        # Inserted nodes get codes in their lists and in their neighbors'
        # lists; VACUUM's repairs rewrite lists with codes; the check
        # compares every code with its vector.
        sql -c "INSERT INTO base (id, embedding) SELECT id + 100000, embedding FROM queries"
        sql -c "DELETE FROM base WHERE id >= 100000 AND id % 2 = 0" -c "VACUUM base"
        check "$variant: quiver_check_index finds no problem after inserts and VACUUM" \
            "$(sql -At -c "SELECT quiver_check_index('base_$metric') = '{}'")"
        found=$(sql -At -c "SET hnsw.ef_search = 40" -c "
            SELECT count(*) FROM queries q
            WHERE q.id % 2 = 1 AND (SELECT b.id FROM base b ORDER BY b.embedding$cast $op q.embedding$cast LIMIT 1) = q.id + 100000")
        check "$variant: each inserted vector left is its own nearest neighbor ($found of 50)" "$([ "$found" -ge 49 ] && echo t || echo f)"
        sql -c "DELETE FROM base WHERE id >= 100000" -c "VACUUM base"
    fi
    sql -c "DROP INDEX base_$metric"
done

# Binary quantization, then an exact rerank (pgvector's pattern): the 100
# nearest by Hamming distance between the signs of the vectors centered on
# their mean, from an hnsw index on that expression, reranked by L2, against
# the exact ten.
centre=$(sql -At -c "SELECT avg(embedding) FROM base")
signs() { echo "binary_quantize($1 - '$centre'::vector(784))::bit(784)"; }
sql -c "CREATE INDEX base_signs ON base USING hnsw (($(signs embedding)) bit_hamming_ops)"
bq_query="SELECT id FROM (
              SELECT b.id, b.embedding FROM base b ORDER BY $(signs b.embedding) <~> $(signs q.embedding) LIMIT 100
          ) candidates
          ORDER BY embedding <-> q.embedding LIMIT 10"
plan=$(sql -At -c "EXPLAIN (COSTS OFF) SELECT ARRAY($bq_query) FROM queries q")
check "binary quantize + rerank: the inner query uses the bit index" "$(grep -q "Index Scan using base_signs" <<<"$plan" && echo t || echo f)"
bq_recall=$(sql -At -c "SET hnsw.ef_search = 100" -c "
    SELECT round(avg(hits) / 10, 3) FROM (
        SELECT cardinality(ARRAY(SELECT unnest(t.ids) INTERSECT SELECT unnest(ARRAY($bq_query)))) AS hits
        FROM queries q JOIN truth_l2 t USING (id)) per_query")
echo "binary quantize (784 bits, hnsw bit_hamming_ops) + rerank of 100: recall@10 $bq_recall"
check "binary quantize + rerank reaches recall@10 >= 0.9 ($bq_recall)" "$(sql -At -c "SELECT $bq_recall >= 0.9")"
sql -c "DROP INDEX base_signs"

# Past a page. No real data of thousands of dimensions installs offline, so
# each row is several Fashion-MNIST training images side by side, and each
# query as many test images. 3,136 dimensions (four images) fit a page as
# halfvec; as vector an element keeps them in two parts on other pages;
# 15,680 (twenty images) take eight parts as vector.
# wide_case LABEL TYPE IMAGES ROWS OP OPCLASS
wide_case() {
    local label=$1 type=$2 images=$3 rows=$4 op=$5 opclass=$6
    local dims=$((images * 784))
    # Image k of row r is training image (r + k * 10000 / images) mod 10000.
    sql -c "CREATE TABLE wide AS
            SELECT r AS id, (SELECT array_agg(x ORDER BY k, n) FROM generate_series(0, $images - 1) k,
                             unnest((SELECT embedding::real[] FROM base WHERE id = (r + k * (10000 / $images)) % 10000)) WITH ORDINALITY u(x, n)
                            )::$type($dims) AS v
            FROM generate_series(0, $rows - 1) r" \
        -c "CREATE TABLE wide_queries AS
            SELECT q AS id, (SELECT array_agg(x ORDER BY k, n) FROM generate_series(0, $images - 1) k,
                             unnest((SELECT embedding::real[] FROM queries WHERE id = (q + k * 5) % 100)) WITH ORDINALITY u(x, n)
                            )::$type($dims) AS v
            FROM generate_series(0, 99) q" \
        -c "CREATE TABLE wide_truth AS
            SELECT q.id, ARRAY(SELECT w.id FROM wide w ORDER BY w.v $op q.v, w.id LIMIT 10) AS ids FROM wide_queries q"
    local start build recall
    start=$(date +%s%N)
    sql -c "SET max_parallel_maintenance_workers = 2" -c "CREATE INDEX wide_index ON wide USING hnsw (v $opclass)"
    build=$(( ($(date +%s%N) - start) / 1000000 ))
    check "$label: quiver_check_index finds no problem" "$(sql -At -c "SELECT quiver_check_index('wide_index') = '{}'")"
    recall=$(sql -At -c "SET hnsw.ef_search = 100" -c "
        SELECT round(avg(hits) / 10, 3) FROM (
            SELECT cardinality(ARRAY(
                SELECT unnest(t.ids)
                INTERSECT
                SELECT unnest(ARRAY(SELECT w.id FROM wide w ORDER BY w.v $op q.v LIMIT 10))
            )) AS hits
            FROM wide_queries q JOIN wide_truth t USING (id)) per_query")
    echo "$label, $rows rows: build $build ms, index $(sql -At -c "SELECT pg_size_pretty(pg_relation_size('wide_index'))"), recall@10 at ef_search 100: $recall"
    check "$label: recall@10 at ef_search 100 >= 0.95 ($recall)" "$(sql -At -c "SELECT $recall >= 0.95")"
    sql -c "DROP TABLE wide, wide_queries, wide_truth"
}
wide_case "3,136-dimension halfvec (cosine)" halfvec 4 10000 '<=>' halfvec_cosine_ops
wide_case "3,136-dimension vector in parts (L2)" vector 4 10000 '<->' vector_l2_ops
wide_case "15,680-dimension vector in parts (cosine)" vector 20 2000 '<=>' vector_cosine_ops

# Statistics that say the table is far smaller than it is: the shared graph
# planned from them fills up, and the build starts over in one process. (The
# table's parallel_workers option asks for workers whatever its size.)
sql -c "UPDATE pg_class SET reltuples = 100 WHERE relname = 'base'" -c "ALTER TABLE base SET (parallel_workers = 2)"
build_log=$(sql -c "SET max_parallel_maintenance_workers = 2" \
    -c "CREATE INDEX base_outgrown ON base USING hnsw (embedding vector_l2_ops)" 2>&1)
check "a parallel build that outgrows its shared memory says so" \
    "$(grep -q 'outgrew the .* kB of shared memory' <<<"$build_log" && echo t || echo f)"
check "and builds the whole index in one process instead" \
    "$(sql -At -c "SELECT quiver_check_index('base_outgrown') = '{}'
                   AND (SELECT reltuples FROM pg_class WHERE relname = 'base_outgrown') = (SELECT count(*) FROM base)")"
found=$(sql -At -c "SET hnsw.ef_search = 40" -c "
    SELECT count(*) FROM base b WHERE b.id % 100 = 0
    AND (SELECT c.embedding <-> b.embedding FROM base c ORDER BY c.embedding <-> b.embedding LIMIT 1) = 0")
check "and finds each row of a sample at distance 0 ($found of 100)" "$([ "$found" -ge 99 ] && echo t || echo f)"
sql -c "DROP INDEX base_outgrown" -c "ALTER TABLE base RESET (parallel_workers)" -c "ANALYZE base"

# A build reports progress and can be cancelled.
sql -c "CREATE TABLE progress_seen (phase text, tuples_done bigint, tuples_total bigint)"
sql -c "CREATE INDEX base_progress ON base USING hnsw (embedding vector_l2_ops)" &
builder=$!
for _ in $(seq 1 200); do
    sql -c "INSERT INTO progress_seen SELECT phase, tuples_done, tuples_total FROM pg_stat_progress_create_index"
    kill -0 "$builder" 2>/dev/null || break
    sleep 0.05
done
wait "$builder"
progress=$(sql -At -c "SELECT count(*) > 0 FROM progress_seen
                       WHERE phase = 'building index: loading tuples' AND tuples_done > 0 AND tuples_total > 0")
check "build progress shows in pg_stat_progress_create_index" "$progress"
sql -c "DROP INDEX base_progress"

timeout_error=$(sql -c "SET statement_timeout = '300ms'" \
    -c "CREATE INDEX base_timeout ON base USING hnsw (embedding vector_l2_ops)" 2>&1 || true)
check "statement_timeout cancels a build" \
    "$(grep -q 'canceling statement due to statement timeout' <<<"$timeout_error" && echo t || echo f)"

sql -c "CREATE INDEX base_cancel ON base USING hnsw (embedding vector_l2_ops)" >"$dir/cancel.log" 2>&1 &
builder=$!
cancelled=f
for _ in $(seq 1 100); do
    if [ "$(sql -At -c "SELECT pg_cancel_backend(pid) FROM pg_stat_progress_create_index")" = t ]; then
        cancelled=t
        break
    fi
    sleep 0.05
done
wait "$builder" || true
check "pg_cancel_backend cancels a build" \
    "$([ $cancelled = t ] && grep -q 'canceling statement due to user request' "$dir/cancel.log" && echo t || echo f)"
check "a cancelled build leaves no index" \
    "$(sql -At -c "SELECT count(*) = 0 FROM pg_class WHERE relname IN ('base_timeout', 'base_cancel')")"

check_summary recall
