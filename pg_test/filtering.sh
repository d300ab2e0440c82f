#!/usr/bin/env bash
# Filtered nearest-neighbour queries on real vectors: 10,000 Fashion-MNIST
# images, with flags that 50%, 10%, 1% and 0.1% of the rows carry, and 100
# query images; `WHERE flag ORDER BY embedding <-> q LIMIT 10` at ef_search 40.
# With iterative scans (strict_order, the default, and relaxed_order) every
# query must return min(10, matching rows); under strict_order in increasing
# distance, with recall@10 >= 0.95 at 10% and 1%. With them off the row
# counts are printed: pgvector's behaviour without iterative scans.
# Quiver must be installed.
set -euo pipefail
cd "$(dirname "$0")/.."
source tests/lib/cluster.sh

port=${FILTERING_PORT:-54333}
fashion_mnist_cluster filtering "$port"
dir=$CLUSTER_DIR
sql() { cluster_psql "$dir" "$port" postgres -q "$@"; }
# Flags independent of the images, on exactly 50%, 10%, 1% and 0.1% of the rows.
sql -c "ALTER TABLE base ADD f50 bool, ADD f10 bool, ADD f1 bool, ADD f01 bool"
sql -c "UPDATE base SET f50 = id % 2 = 0, f10 = id % 10 = 3, f1 = id % 100 = 37, f01 = id % 1000 = 537"
sql -c "VACUUM ANALYZE base"

flags=(f50 f10 f1 f01)
for flag in "${flags[@]}"; do
    sql -c "CREATE TABLE truth_$flag AS
            SELECT q.id, ARRAY(SELECT b.id FROM base b WHERE b.$flag ORDER BY b.embedding <-> q.embedding, b.id LIMIT 10) AS ids
            FROM queries q"
done
sql -c "CREATE INDEX base_hnsw ON base USING hnsw (embedding vector_l2_ops)"

source tests/lib/check.sh

printf "%-6s %-13s %9s %8s %9s %7s %9s %8s\n" flag mode selectivity matching avg_rows min_rows recall@10 ordered
for flag in "${flags[@]}"; do
    for mode in strict_order relaxed_order off; do
        row=$(sql -At -F ' ' -c "SET hnsw.ef_search = 40" -c "SET hnsw.iterative_scan = $mode" -c "SET enable_seqscan = off" \
            -c "$(filtered_answers_sql "b.$flag" "truth_$flag")")
        selectivity=$(sql -At -c "SELECT round(avg($flag::int), 4) FROM base")
        read -r matching avg_rows min_rows recall ordered full _ <<<"$row"
        printf "%-6s %-13s %9s %8s %9s %7s %9s %8s\n" "$flag" "$mode" "$selectivity" "$matching" "$avg_rows" "$min_rows" "$recall" "$ordered"
        if [ "$mode" != off ]; then
            check "$flag $mode: every query returns min(10, matching rows)" "$full"
        fi
        if [ "$mode" = strict_order ]; then
            check "$flag strict_order: rows in increasing distance" "$ordered"
            if [ "$flag" = f10 ] || [ "$flag" = f1 ]; then
                check "$flag strict_order: recall@10 >= 0.95" "$(sql -At -c "SELECT $recall >= 0.95")"
            fi
        fi
    done
done

plan=$(sql -At -c "SET enable_seqscan = off" -c "EXPLAIN (COSTS OFF) SELECT id FROM base WHERE f10
                   ORDER BY embedding <-> (SELECT embedding FROM queries WHERE id = 0) LIMIT 10")
check "the filtered query runs on the hnsw index" "$(grep -q 'Index Scan using base_hnsw' <<<"$plan" && echo t || echo f)"

# A very selective filter served by a btree: the planner prefers it plus an
# exact sort to walking the graph.
sql -c "CREATE TABLE tenants AS SELECT id, id % 1000 AS tenant, embedding FROM base"
sql -c "CREATE INDEX ON tenants (tenant)"
sql -c "CREATE INDEX ON tenants USING hnsw (embedding vector_l2_ops)"
sql -c "ANALYZE tenants"
selective=$(sql -At -c "EXPLAIN (COSTS OFF) SELECT id FROM tenants WHERE tenant = 7
                        ORDER BY embedding <-> (SELECT embedding FROM queries WHERE id = 0) LIMIT 10")
check "a 0.1% btree filter plans a btree scan and a sort" \
    "$(grep -q 'Sort' <<<"$selective" && ! grep -q 'tenants_embedding_idx' <<<"$selective" && echo t || echo f)"
broad=$(sql -At -c "EXPLAIN (COSTS OFF) SELECT id FROM tenants WHERE tenant < 900
                    ORDER BY embedding <-> (SELECT embedding FROM queries WHERE id = 0) LIMIT 10")
check "a 90% filter plans the hnsw index" "$(grep -q 'tenants_embedding_idx' <<<"$broad" && echo t || echo f)"

# Scans that walk the whole graph (iterative, for a filter no row matches)
# stop at statement_timeout and at pg_cancel_backend.
walk_all="SELECT (SELECT count(*) FROM (SELECT b.id FROM base b WHERE b.category = 'none'
          ORDER BY b.embedding <-> q.embedding LIMIT 10) s) FROM queries q"
walk_all_settings=(-c "SET enable_seqscan = off" -c "SET hnsw.iterative_scan = relaxed_order" -c "SET hnsw.max_scan_tuples = 1000000")
start_ms=$(date +%s%3N)
sql "${walk_all_settings[@]}" -c "$walk_all" >/dev/null
walk_ms=$(( $(date +%s%3N) - start_ms ))
timeout_error=$(sql "${walk_all_settings[@]}" -c "SET statement_timeout = '$((walk_ms / 4))ms'" -c "$walk_all" 2>&1 || true)
check "statement_timeout stops scans that walk the whole graph (100 of them take $walk_ms ms)" \
    "$(grep -q 'canceling statement due to statement timeout' <<<"$timeout_error" && echo t || echo f)"
sql "${walk_all_settings[@]}" -c "SET application_name = 'walker'" -c "$walk_all" >"$dir/walker.log" 2>&1 &
walker=$!
for _ in $(seq 100); do
    [ "$(sql -At -c "SELECT pg_cancel_backend(pid) FROM pg_stat_activity WHERE application_name = 'walker' AND state = 'active'")" = t ] && break
    sleep 0.02
done
wait "$walker" || true
check "pg_cancel_backend stops them" "$(grep -q 'canceling statement due to user request' "$dir/walker.log" && echo t || echo f)"

check_summary filtering
