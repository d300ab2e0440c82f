#!/usr/bin/env bash
# Limits and cancellation: an index of a million rows searched at
# hnsw.ef_search 1000 (and with work_mem at its 64kB minimum), vectors of
# 16,000 dimensions indexed and searched, an aggregate over ten million
# vectors, a build whose graph outgrows maintenance_work_mem, and a build, a
# parallel build, a scan, a VACUUM and an aggregate cancelled mid-way by
# statement_timeout (each must stop with SQLSTATE 57014 and leave the server
# and the index sound). The backend's private memory is read from /proc after
# the big statements: it must stay within what the settings allow, not grow
# with the rows.
# Quiver must be installed.
set -euo pipefail
cd "$(dirname "$0")/.."
source tests/lib/cluster.sh
source tests/lib/check.sh

port=${LIMITS_PORT:-54346}
throwaway_cluster limits "$port" "shared_buffers = 512MB" "maintenance_work_mem = 1GB" "max_parallel_maintenance_workers = 1"
dir=$CLUSTER_DIR
sql() { cluster_psql "$dir" "$port" postgres -q "$@"; }
sql -c "CREATE EXTENSION quiver"

# cancelled SQL...: t when the statements end in a statement timeout.
cancelled() {
    local out
    out=$(sql -v VERBOSITY=verbose "$@" 2>&1 || true)
    if grep -q "ERROR:  57014: canceling statement due to statement timeout" <<<"$out"; then echo t; else echo "$out" | tail -3 >&2; echo f; fi
}
# private_kb SQL...: runs the statements in one session and prints the
# backend's anonymous resident memory afterwards, in kB (shared buffers are
# not anonymous memory, so they do not count).
private_kb() {
    sql -At "$@" -c "SELECT (regexp_match(pg_read_file('/proc/' || pg_backend_pid() || '/status'), 'RssAnon:\s+(\d+)'))[1]" | tail -1
}

# A million rows: 8 dimensions, in 1,000 clusters (fixed seed).
sql -c "CREATE TABLE million (id int PRIMARY KEY, embedding vector(8))" \
    -c "SELECT setseed(0.17)" \
    -c "INSERT INTO million SELECT i, (SELECT array_agg(((i % 1000) + random() * 0.5)::real / 100 * (d % 3 + 1)) FROM generate_series(1, 8) d)::vector FROM generate_series(1, 1000000) i" \
    -c "VACUUM ANALYZE million" >/dev/null
sql -c "CREATE INDEX million_idx ON million USING hnsw (embedding vector_l2_ops) WITH (m = 8, ef_construction = 32)"
check "an index of a million rows builds, and quiver_check_index finds it sound" \
    "$(sql -At -c "SELECT quiver_check_index('million_idx') = '{}'")"

# ef_search 1000: 1,000 rows, the same as the exact answer at least 95%.
knn="SELECT id FROM million ORDER BY embedding <-> (SELECT embedding FROM million WHERE id = 4242) LIMIT 1000"
exact=$(sql -At -c "SET enable_indexscan = off" -c "$knn" | sort -n)
approximate=$(sql -At -c "SET hnsw.ef_search = 1000" -c "$knn" | sort -n)
found=$(comm -12 <(echo "$exact") <(echo "$approximate") | wc -l)
echo "    ef_search 1000 on a million rows: $(echo "$approximate" | wc -l) rows, $found of the exact 1000"
check "ef_search 1000 on a million rows: 1000 rows, recall at least 0.95" \
    "$([ "$(echo "$approximate" | wc -l)" = 1000 ] && [ "$found" -ge 950 ] && echo t || echo f)"
kb=$(private_kb -c "SET hnsw.ef_search = 1000" -c "$knn")
echo "    backend private memory after it: ${kb} kB"
check "ef_search 1000 on a million rows: the backend's private memory stays under 64 MB" "$([ "$kb" -lt 65536 ] && echo t || echo f)"

# An iterative scan under a filter no row passes, with work_mem at its
# minimum: it reads up to hnsw.max_scan_tuples and ends with no rows, its
# memory capped by work_mem * hnsw.scan_mem_multiplier.
# (The condition is one no other index answers, and the plan is checked.)
filtered="SELECT count(*) FROM (SELECT id FROM million WHERE id % 1000003 < 0 ORDER BY embedding <-> (SELECT embedding FROM million WHERE id = 77) LIMIT 10) s"
plan=$(sql -At -c "SET enable_seqscan = off" -c "SET enable_sort = off" -c "SET hnsw.iterative_scan = relaxed_order" -c "EXPLAIN (COSTS OFF) $filtered")
check "the filtered query is an index scan on the hnsw index" "$(grep -q "Index Scan using million_idx" <<<"$plan" && echo t || echo f)"
rows=$(sql -At -c "SET enable_seqscan = off" -c "SET enable_sort = off" -c "SET work_mem = '64kB'" -c "SET hnsw.iterative_scan = relaxed_order" -c "SET hnsw.max_scan_tuples = 200000" -c "$filtered" | tail -1)
check "work_mem 64kB: an iterative scan that finds nothing ends with 0 rows" "$([ "$rows" = 0 ] && echo t || echo f)"
kb=$(private_kb -c "SET enable_seqscan = off" -c "SET enable_sort = off" -c "SET work_mem = '64kB'" -c "SET hnsw.iterative_scan = relaxed_order" -c "SET hnsw.max_scan_tuples = 200000" -c "$filtered")
echo "    backend private memory after it: ${kb} kB"
check "work_mem 64kB: the backend's private memory stays under 64 MB" "$([ "$kb" -lt 65536 ] && echo t || echo f)"

# Cancelled: a scan walking the whole graph, a build, a parallel build. The
# scan's memory bound is lifted (work_mem times hnsw.scan_mem_multiplier,
# which otherwise ends it once its candidates fill work_mem, sooner on a
# faster machine), so it can only end by walking all million nodes, which
# takes seconds, or by the timeout.
check "a scan that walks the whole graph is cancelled" "$(cancelled -c "SET enable_seqscan = off" -c "SET enable_sort = off" -c "SET statement_timeout = '300ms'" \
    -c "SET work_mem = '1GB'" -c "SET hnsw.scan_mem_multiplier = 1000" \
    -c "SET hnsw.iterative_scan = relaxed_order" -c "SET hnsw.max_scan_tuples = 2000000" -c "SET hnsw.ef_search = 1000" -c "$filtered")"
start=$(date +%s)
check "a build is cancelled" "$(cancelled -c "SET max_parallel_maintenance_workers = 0" -c "SET statement_timeout = '2s'" \
    -c "CREATE INDEX cancelled_idx ON million USING hnsw (embedding vector_l2_ops)")"
check "a parallel build is cancelled" "$(cancelled -c "SET max_parallel_maintenance_workers = 1" -c "SET statement_timeout = '2s'" \
    -c "CREATE INDEX cancelled_idx ON million USING hnsw (embedding vector_cosine_ops)")"
echo "    two cancelled builds took $(($(date +%s) - start)) s in all"
check "the cancelled builds left no index" "$(sql -At -c "SELECT count(*) = 0 FROM pg_class WHERE relname = 'cancelled_idx'")"

# VACUUM of the index, cancelled after a twentieth of the rows were deleted
# (50,000 elements to cut out of the graph take it seconds; the next VACUUM
# repairs them all: deleting half made it 80 s, and proved nothing more).
sql -c "DELETE FROM million WHERE id % 20 = 0"
check "a VACUUM is cancelled" "$(cancelled -c "SET statement_timeout = '1s'" -c "VACUUM million")"
sql -c "VACUUM million"
check "after the cancelled VACUUM, another one leaves a sound index" "$(sql -At -c "SELECT quiver_check_index('million_idx') = '{}'")"
rows=$(sql -At -c "SET hnsw.ef_search = 100" -c "SELECT count(*) FROM (SELECT id FROM million ORDER BY embedding <-> '[1,1,1,1,1,1,1,1]' LIMIT 100) s")
check "and answers 100 rows" "$([ "$rows" = 100 ] && echo t || echo f)"

# An aggregate over ten million vectors, and one cancelled.
average=$(sql -At -c "SELECT avg(ARRAY[(i % 3)::real, 1, -2.5]::vector) FROM generate_series(1, 10000000) i")
check "avg over ten million vectors is exact ([1,1,-2.5]; got $average)" "$([ "$average" = "[1,1,-2.5]" ] && echo t || echo f)"
kb=$(private_kb -c "SELECT sum(ARRAY[i::real, 1, 2]::vector) FROM generate_series(1, 10000000) i")
echo "    backend private memory after sum over ten million vectors: ${kb} kB"
check "the aggregate's memory does not grow with its rows (under 64 MB)" "$([ "$kb" -lt 65536 ] && echo t || echo f)"
check "an aggregate over a hundred million vectors is cancelled" "$(cancelled -c "SET statement_timeout = '1s'" \
    -c "SELECT avg(ARRAY[i::real, 1]::vector) FROM generate_series(1, 100000000) i")"

# 16,000 dimensions, the type's limit: stored, indexed (each vector in parts
# across pages) and searched; one more dimension is refused.
sql -c "CREATE TABLE wide (id int PRIMARY KEY, embedding vector(16000))" \
    -c "SELECT setseed(0.5)" \
    -c "INSERT INTO wide SELECT i, (SELECT array_agg(random()::real) FROM generate_series(1, 16000) WHERE i > 0)::vector FROM generate_series(1, 300) i" \
    -c "CREATE INDEX wide_idx ON wide USING hnsw (embedding vector_l2_ops)" >/dev/null
nearest=$(sql -At -c "SET enable_seqscan = off" -c "SELECT id FROM wide ORDER BY embedding <-> (SELECT embedding FROM wide WHERE id = 123) LIMIT 1")
check "16,000 dimensions: indexed, and a row's nearest is itself" "$([ "$nearest" = 123 ] && echo t || echo f)"
check "16,000 dimensions: quiver_check_index finds the index sound" "$(sql -At -c "SELECT quiver_check_index('wide_idx') = '{}'")"
out=$(sql -v VERBOSITY=verbose -c "SELECT array_fill(1::real, ARRAY[16001])::vector" 2>&1 || true)
check "16,001 dimensions: an error with SQLSTATE 54000" "$(grep -q "ERROR:  54000" <<<"$out" && echo t || echo f)"

# A graph larger than maintenance_work_mem: the build goes on on disk.
sql -c "CREATE TABLE spill AS SELECT id, embedding FROM million WHERE id <= 60000"
out=$(sql -c "SET maintenance_work_mem = '1MB'" -c "SET max_parallel_maintenance_workers = 0" \
    -c "CREATE INDEX spill_idx ON spill USING hnsw (embedding vector_l2_ops)" 2>&1)
check "maintenance_work_mem 1MB: the build says it goes on on disk" "$(grep -q "no longer fits into maintenance_work_mem" <<<"$out" && echo t || echo f)"
check "maintenance_work_mem 1MB: the index is sound" "$(sql -At -c "SELECT quiver_check_index('spill_idx') = '{}'")"
rows=$(sql -At -c "SET enable_seqscan = off" -c "SELECT count(*) FROM (SELECT id FROM spill ORDER BY embedding <-> '[1,2,3,4,5,6,7,8]' LIMIT 40) s")
check "maintenance_work_mem 1MB: it answers 40 rows" "$([ "$rows" = 40 ] && echo t || echo f)"

check "no backend crashed (server.log)" "$(grep -qE "terminated by signal|PANIC" "$dir/server.log" && echo f || echo t)"
check_summary limits
