# Pass/fail bookkeeping for the whole-cluster tests. Source this file.
# check WHAT RESULT: RESULT "t" passes, anything else fails.
passed=0 failed=0
check() {
    if [ "$2" = t ]; then passed=$((passed + 1)); echo "ok: $1"; else failed=$((failed + 1)); echo "FAILED: $1"; fi
}

# check_summary NAME: prints the counts; fails if any check failed.
check_summary() {
    echo "$1: $passed passed, $failed failed"
    [ "$failed" -eq 0 ]
}

# filtered_answers_sql CONDITION TRUTH: SQL that answers each row of `queries`
# with `SELECT b.id FROM base b WHERE CONDITION ORDER BY b.embedding <-> q
# LIMIT 10` and compares with TRUTH (id, ids). One row: rows matching, the
# average and the fewest rows returned, recall@10, whether every answer is
# in increasing distance, whether every query returned as many rows as its
# truth holds, and whether every row returned meets the condition.
filtered_answers_sql() {
    local condition=$1 truth=$2
    echo "WITH answers AS (
            SELECT q.id, q.embedding,
                   ARRAY(SELECT b.id FROM base b WHERE $condition ORDER BY b.embedding <-> q.embedding LIMIT 10) AS got
            FROM queries q)
        SELECT (SELECT count(*) FROM base b WHERE $condition),
               round(avg(cardinality(got)), 2),
               min(cardinality(got)),
               round(avg(cardinality(ARRAY(SELECT unnest(got) INTERSECT SELECT unnest(t.ids)))::numeric
                         / greatest(cardinality(t.ids), 1)), 3),
               bool_and((SELECT coalesce(bool_and(d >= prev), true) FROM (
                   SELECT d, lag(d) OVER (ORDER BY n) AS prev FROM (
                       SELECT n, (SELECT embedding FROM base WHERE id = g) <-> a.embedding AS d
                       FROM unnest(got) WITH ORDINALITY u(g, n)) measured) pairs)),
               bool_and(cardinality(got) = cardinality(t.ids)),
               bool_and(NOT EXISTS (SELECT FROM unnest(got) g WHERE NOT EXISTS (SELECT FROM base b WHERE b.id = g AND $condition)))
        FROM answers a JOIN $truth t USING (id)"
}
