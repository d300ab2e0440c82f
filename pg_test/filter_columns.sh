#!/usr/bin/env bash
# Filter columns at scale: the 60,000 Fashion-MNIST training images with
# metadata columns, one index `USING hnsw (embedding vector_l2_ops, c10, c20,
# c100, c1000, r, labels, tag)`, and 200 test images as queries. For each
# condition the index checks (Index Cond), at ef_search 40 with strict
# iterative scans: every query returns min(10, matching rows), in increasing
# distance, and recall@10 against the exact filtered answer is >= 0.95 over
# all queries. Conditions that pass few rows (0.1% and 1% here) are
# answered from the filter directory: the scan checks every entry and
# measures the rows that pass, so the answer is exact; wider ones walk.
# Quiver must be installed.
set -euo pipefail
cd "$(dirname "$0")/.."
source tests/lib/cluster.sh
source tests/lib/check.sh

port=${FILTER_COLUMNS_PORT:-54343}
throwaway_cluster filter_columns "$port" "shared_buffers = 1GB" "maintenance_work_mem = 1GB"
dir=$CLUSTER_DIR
sql() { cluster_psql "$dir" "$port" postgres -q "$@"; }
sql -c "CREATE EXTENSION quiver"
sql -c "CREATE TABLE base (id int PRIMARY KEY, embedding vector(784))" -c "CREATE TABLE queries (id int PRIMARY KEY, embedding vector(784))"
python3 tests/lib/datasets.py fashion-mnist base | sql -c "COPY base FROM STDIN"
python3 tests/lib/datasets.py fashion-mnist queries --count 200 | sql -c "COPY queries FROM STDIN"
# Metadata independent of the images (hashes of the id), with NULLs in c100.
sql -c "ALTER TABLE base ADD c10 int, ADD c20 int, ADD c100 int, ADD c1000 int, ADD r int, ADD labels int4[], ADD tag text"
sql -c "UPDATE base SET c10 = abs(hashint4(id)) % 10, c20 = abs(hashint4(id + 1000000)) % 20,
               c100 = CASE WHEN abs(hashint4(id + 7000000)) % 100 = 99 THEN NULL ELSE abs(hashint4(id + 2000000)) % 100 END,
               c1000 = abs(hashint4(id + 3000000)) % 1000, r = abs(hashint4(id + 4000000)) % 10000,
               labels = ARRAY[abs(hashint4(id + 5000000)) % 300, abs(hashint4(id + 6000000)) % 300],
               tag = 't' || abs(hashint4(id + 8000000)) % 7"
sql -c "VACUUM ANALYZE base"
start=$(date +%s)
sql -c "CREATE INDEX base_hnsw ON base USING hnsw (embedding vector_l2_ops, c10, c20, c100, c1000, r, labels, tag)"
echo "built the index in $(( $(date +%s) - start )) s"
check "the index is sound" "$(sql -At -c "SELECT quiver_check_index('base_hnsw') = '{}'")"

printf "%-38s %8s %9s %7s %9s %8s\n" condition matching avg_rows min_rows recall@10 ordered
while IFS='|' read -r condition; do
    sql -c "DROP TABLE IF EXISTS truth" -c "CREATE TABLE truth AS
            SELECT q.id, ARRAY(SELECT b.id FROM base b WHERE $condition ORDER BY b.embedding <-> q.embedding, b.id LIMIT 10) AS ids
            FROM queries q"
    plan=$(sql -At -c "SET enable_seqscan = off" -c "EXPLAIN (COSTS OFF) SELECT b.id FROM base b WHERE $condition
                       ORDER BY b.embedding <-> (SELECT embedding FROM queries WHERE id = 0) LIMIT 10")
    check "$condition: the index checks it (Index Cond)" \
        "$(grep -q 'Index Scan using base_hnsw' <<<"$plan" && grep -q 'Index Cond' <<<"$plan" && echo t || echo f)"
    row=$(sql -At -F ' ' -c "SET hnsw.ef_search = 40" -c "SET hnsw.iterative_scan = strict_order" -c "SET enable_seqscan = off" \
        -c "$(filtered_answers_sql "$condition" truth)")
    read -r matching avg_rows min_rows recall ordered full meets <<<"$row"
    printf "%-38s %8s %9s %7s %9s %8s\n" "$condition" "$matching" "$avg_rows" "$min_rows" "$recall" "$ordered"
    check "$condition: every query returns min(10, matching rows)" "$full"
    check "$condition: every row returned meets the condition" "$meets"
    check "$condition: rows in increasing distance" "$ordered"
    check "$condition: recall@10 >= 0.95 ($recall)" "$(sql -At -c "SELECT $recall >= 0.95")"
done <<'EOF'
b.c1000 = 3
b.c10 = 3
b.c20 = 3
b.c100 = 3
b.r < 100
b.labels && ARRAY[7]
b.c10 < 5 AND b.tag = 't3'
b.c100 IS NULL
b.r BETWEEN 2000 AND 2999 AND b.c20 >= 10
EOF

# Which way a scan went, from its DEBUG1 report.
scan_report() {
    sql -At -c "SET client_min_messages = debug1" -c "SET hnsw.iterative_scan = strict_order" -c "SELECT count(*) FROM (SELECT id FROM base WHERE $1
                ORDER BY embedding <-> (SELECT embedding FROM queries WHERE id = 0) LIMIT 10) s" 2>&1 | grep 'hnsw scan' | tail -1
}
for condition in "c1000 = 3" "c100 = 3" "r < 100" "tag = 't3' AND c100 < 5"; do
    check "$condition: the scan measures the rows the filter directory passes" \
        "$(grep -q 'filter directory entries met' <<<"$(scan_report "$condition")" && echo t || echo f)"
done
check "c10 = 3 (10%): the scan walks the graph" "$(grep -q 'nodes measured' <<<"$(scan_report "c10 = 3")" && echo t || echo f)"
# 0.1% of the rows: checking the directory costs less than a sequential
# scan and a sort of the matching rows, and the planner says so.
plan=$(sql -At -c "EXPLAIN (COSTS OFF) SELECT id FROM base WHERE c1000 = 3
                   ORDER BY embedding <-> (SELECT embedding FROM queries WHERE id = 0) LIMIT 10")
check "c1000 = 3 (0.1%): the planner picks the index" "$(grep -q 'base_hnsw' <<<"$plan" && echo t || echo f)"
# 10%: the index.
plan=$(sql -At -c "EXPLAIN (COSTS OFF) SELECT id FROM base WHERE c10 = 3
                   ORDER BY embedding <-> (SELECT embedding FROM queries WHERE id = 0) LIMIT 10")
check "c10 = 3 (10%): the planner picks the index" "$(grep -q 'base_hnsw' <<<"$plan" && echo t || echo f)"

# Concurrent inserts and updates of filter columns, then VACUUM: the index
# stays sound and finds rows under their new values only.
for worker in 1 2 3 4; do
    sql -c "INSERT INTO base SELECT 100000 + $worker * 1000 + id % 500, embedding, 77, 77, 77, 77, 77, ARRAY[301], 'new'
            FROM base WHERE id BETWEEN $worker * 500 AND $worker * 500 + 249" \
        -c "UPDATE base SET c10 = 9, tag = 'moved' WHERE id % 400 = $worker" &
done
wait
sql -c "VACUUM base"
check "after concurrent inserts, updates and VACUUM the index is sound" "$(sql -At -c "SELECT quiver_check_index('base_hnsw') = '{}'")"
found=$(sql -At -c "SET enable_seqscan = off" -c "SET hnsw.ef_search = 100" -c "
    SELECT count(*) FROM base b WHERE b.tag = 'moved'
    AND b.id IN (SELECT x.id FROM base x WHERE x.tag = 'moved' AND x.c10 = 9 ORDER BY x.embedding <-> b.embedding LIMIT 10)")
moved=$(sql -At -c "SELECT count(*) FROM base WHERE tag = 'moved'")
check "updated rows are found under their new values ($found of $moved)" "$([ "$found" = "$moved" ] && echo t || echo f)"
stale=$(sql -At -c "SET enable_seqscan = off" -c "
    SELECT count(*) FROM (SELECT x.id, x.tag FROM base x WHERE x.tag = 't3' ORDER BY x.embedding <-> (SELECT embedding FROM queries WHERE id = 1) LIMIT 200) s
    WHERE tag <> 't3'")
check "no row is found under its old value" "$([ "$stale" = 0 ] && echo t || echo f)"
# The same through the filter directory (the 'moved' rows are 1%): VACUUM
# took the entries of the old row versions out, inserts added the new ones.
found=$(sql -At -c "SET enable_seqscan = off" -c "
    SELECT count(*) FROM base b WHERE b.tag = 'moved'
    AND b.id IN (SELECT x.id FROM base x WHERE x.tag = 'moved' ORDER BY x.embedding <-> b.embedding LIMIT 3)")
check "updated rows are found under their new values through the directory ($found of $moved)" "$([ "$found" = "$moved" ] && echo t || echo f)"
check "tag = 'moved' is answered from the filter directory" \
    "$(grep -q 'filter directory entries met' <<<"$(scan_report "tag = 'moved'")" && echo t || echo f)"

check_summary filter_columns
