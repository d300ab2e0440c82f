#!/usr/bin/env bash
# Does the planner pick a good plan for a filtered nearest-neighbour query?
# On 100,000 GloVe vectors (cosine) and 60,000 Fashion-MNIST images (L2),
# `WHERE cat < c ORDER BY v <op> q LIMIT 10` with the filter passing 50% down
# to 0.1% of the rows, once on a column with a btree index and once on one
# without. The plans the planner could take are the hnsw index, a bitmap scan
# of the btree and a sort, and a sequential scan and a sort; each is forced
# with enable_* settings and must be the plan it names.
#
# The test asserts the planner's choice where one plan is clearly faster: at
# least 1.5 times faster in every timed sweep recorded (bench/results/
# planner.md, on this machine in several states); around a crossover either
# plan passes. Plan choices come from the cost model and do not depend on how
# busy the machine is; times do, so times are not asserted here.
#
# PLANNER_TIMED=1 (make bench-planner) also times every plan and the
# planner's own choice, server-side: one statement runs the query for 100
# held-out vectors; each plan's time is the fastest of three interleaved
# rounds. With PLANNER_REPORT=FILE the table goes to FILE as markdown.
# Quiver must be installed.
set -euo pipefail
cd "$(dirname "$0")/.."
source tests/lib/cluster.sh

port=${PLANNER_PORT:-54335}
queries=${PLANNER_QUERIES:-100}
# One process per query, as the sweep compares plans, not parallelism; no JIT,
# which a disabled plan's huge cost would turn on for the forced plans alone.
real_data_cluster planner "$port" "max_parallel_workers_per_gather = 0" "jit = off"
dir=$CLUSTER_DIR
sql() { cluster_psql "$dir" "$port" postgres -q "$@"; }
source tests/lib/check.sh

# The build measures what scans cost on its graph (sample scans, stored in
# the meta page); an index built with too few rows to measure, or on an empty
# table, is measured by the first VACUUM after it has grown, and only then.
walk_report() { sql -c "SET client_min_messages = debug1" "$@" 2>&1 | grep -c "hnsw [a-z]*: a first batch measures" || true; }
sql -c "CREATE TABLE grown (id int, v vector(50))"
check "an index built on an empty table measures nothing" \
    "$([ "$(walk_report -c "CREATE INDEX ON grown USING hnsw (v vector_cosine_ops)")" = 0 ] && echo t || echo f)"
sql -c "INSERT INTO grown SELECT id, v FROM glove WHERE id < 5000"
check "the first VACUUM after it grew measures it" "$([ "$(walk_report -c "VACUUM grown")" = 1 ] && echo t || echo f)"
check "the next VACUUM does not measure it again" "$([ "$(walk_report -c "VACUUM grown")" = 0 ] && echo t || echo f)"
check "a build of 100,000 rows measures its graph" \
    "$([ "$(walk_report -c "CREATE INDEX ON glove USING hnsw (v vector_cosine_ops)")" = 1 ] && echo t || echo f)"
sql -c "DROP TABLE grown" -c "DROP INDEX glove_v_idx"

for spec in glove:'<=>':cosine fmnist:'<->':l2; do
    IFS=: read -r table op opclass <<<"$spec"
    # cat is spread evenly over 0..999 independently of the vectors;
    # cat_nb holds the same values with no index.
    sql -c "CREATE TABLE ${table}_f AS
            SELECT id, (id::bigint * 7919 % 1000)::int AS cat, (id::bigint * 7919 % 1000)::int AS cat_nb, v
            FROM $table ORDER BY id"
    sql -c "CREATE INDEX ${table}_f_cat ON ${table}_f (cat)"
    sql -c "CREATE INDEX ${table}_f_hnsw ON ${table}_f USING hnsw (v vector_${opclass}_ops)"
    sql -c "VACUUM ANALYZE ${table}_f"
done

# plan_kind SETTINGS... -- QUERY: which plan the settings lead to.
plan_kind() {
    local plan
    plan=$(sql -At "$@")
    if grep -q "_f_hnsw" <<<"$plan"; then echo hnsw
    elif grep -q "Bitmap Heap Scan" <<<"$plan"; then echo bitmap
    elif grep -q "_f_cat" <<<"$plan"; then echo btree
    elif grep -q "Seq Scan on [a-z]*_f" <<<"$plan"; then echo seq
    else echo other; fi
}

# run_ms SETTINGS...: milliseconds per query of the batch statement.
run_ms() {
    local ms
    ms=$(sql -At "$@" -c "\\timing on" -c "$batch" | sed -n 's/^Time: \([0-9.]*\) ms.*/\1/p')
    awk "BEGIN {printf \"%.3f\", $ms / $queries}"
}

# The plan each case must get, from the timed sweeps: with the filter's
# bound at or above the first number the index is clearly faster; at or
# below the second the other plan (a bitmap scan of the btree, or a
# sequential scan where there is none) is; in between either may be chosen.
declare -A clear_bounds=(
    [glove:cat]="100 20" [glove:cat_nb]="20 2"
    [fmnist:cat]="20 10" [fmnist:cat_nb]="20 5")

timed=${PLANNER_TIMED:-0}
report=${PLANNER_REPORT:-}
if [ "$timed" != 0 ]; then
    header="| data | btree on the filter column | rows passing | hnsw ms | bitmap ms | seq ms | planner ms | planner's choice | choice / fastest |"
    rule="|---|---|---|---|---|---|---|---|---|"
    echo "$header"
    echo "$rule"
    if [ -n "$report" ]; then
        { echo "$header"; echo "$rule"; } >"$report.rows"
    fi
fi
for spec in glove:'<=>' fmnist:'<->'; do
    IFS=: read -r table op <<<"$spec"
    for column in cat cat_nb; do
        read -r index_from other_to <<<"${clear_bounds[$table:$column]}"
        other=seq
        [ "$column" = cat ] && other=bitmap
        for bound in 500 200 100 50 20 10 5 2 1; do
            filter="$column < $bound"
            query="SELECT b.id FROM ${table}_f b WHERE $filter ORDER BY b.v $op q.v LIMIT 10"
            batch="SELECT sum((SELECT count(*) FROM ($query) s)) FROM (SELECT v FROM ${table}_q ORDER BY id LIMIT $queries) q"
            declare -A forced=(
                [hnsw]="SET enable_sort = off"
                [bitmap]="SET enable_indexscan = off; SET enable_seqscan = off"
                [seq]="SET enable_indexscan = off; SET enable_bitmapscan = off"
                [planner]="SET enable_sort = on")
            kinds=(hnsw seq planner)
            [ "$column" = cat ] && kinds=(hnsw bitmap seq planner)
            # Each forced plan must be the plan it names.
            for kind in "${kinds[@]}"; do
                [ "$kind" = planner ] && continue
                got=$(plan_kind -c "${forced[$kind]}" -c "EXPLAIN (COSTS OFF) $batch")
                [ "$got" = "$kind" ] || check "$table $filter: forcing $kind gives $kind (got $got)" f
            done
            choice=$(plan_kind -c "EXPLAIN (COSTS OFF) $batch")
            if [ "$bound" -ge "$index_from" ]; then allowed=hnsw
            elif [ "$bound" -le "$other_to" ]; then allowed=$other
            else allowed="hnsw or $other"; fi
            check "$table, $filter: the planner chooses $allowed (chose $choice)" \
                "$(grep -qw "$choice" <<<"$allowed" && echo t || echo f)"
            if [ "$timed" != 0 ]; then
                declare -A best_ms=()
                for _ in 1 2 3; do
                    for kind in "${kinds[@]}"; do
                        ms=$(run_ms -c "${forced[$kind]}")
                        if [ -z "${best_ms[$kind]:-}" ] || awk "BEGIN {exit !($ms < ${best_ms[$kind]})}"; then best_ms[$kind]=$ms; fi
                    done
                done
                fastest=$(for kind in "${kinds[@]}"; do echo "${best_ms[$kind]}"; done | sort -g | head -1)
                ratio=$(awk "BEGIN {printf \"%.2f\", ${best_ms[planner]} / $fastest}")
                row="| $table | $([ "$column" = cat ] && echo yes || echo no) | $(awk "BEGIN {print $bound / 10}")% | ${best_ms[hnsw]} | ${best_ms[bitmap]:--} | ${best_ms[seq]} | ${best_ms[planner]} | $choice | $ratio |"
                echo "$row"
                [ -z "$report" ] || echo "$row" >>"$report.rows"
                unset best_ms
            fi
            unset forced
        done
    done
done

if [ "$timed" != 0 ] && [ -n "$report" ]; then
    {
        echo "## Plan choices under a filter (make bench-planner)"
        echo
        echo "$(date -u +%Y-%m-%d), $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $("$PG_CONFIG" --version)."
        echo "\`WHERE cat < c ORDER BY v <op> q LIMIT 10\`, milliseconds per query (100 queries, fastest of three rounds),"
        echo "each plan forced, and the planner's own choice. pg_test/planner.sh asserts the choices, not these times."
        echo
        cat "$report.rows"
    } >"$report"
    rm -f "$report.rows"
fi

check_summary planner
