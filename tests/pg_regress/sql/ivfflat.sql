-- ivfflat: pgvector's IVF index. Every operator class against exact scans
-- (with every list probed, an index scan is exact), the untrained index and
-- its self-training, options and their errors, filter columns, VACUUM.
SET client_min_messages = warning;

-- 3,000 rows of 8 dimensions, the same on every run.
CREATE TABLE ivf (id int PRIMARY KEY, category int, v vector(8), h halfvec(8), b bit(16));
INSERT INTO ivf
SELECT i, i % 10,
       ARRAY[sin(i), cos(i * 1.3), sin(i * 0.7) * 2, cos(i * 0.11), sin(i * 2.9), cos(i * 0.5) + 1,
             sin(i * 0.013) * 3, cos(i * 5.1)]::vector,
       ARRAY[sin(i), cos(i * 1.3), sin(i * 0.7) * 2, cos(i * 0.11), sin(i * 2.9), cos(i * 0.5) + 1,
             sin(i * 0.013) * 3, cos(i * 5.1)]::halfvec,
       (((i * 2654435761) % 65536)::int)::bit(16)
FROM generate_series(1, 3000) i;
ANALYZE ivf;

CREATE INDEX ivf_v_l2 ON ivf USING ivfflat (v vector_l2_ops) WITH (lists = 20);
CREATE INDEX ivf_v_ip ON ivf USING ivfflat (v vector_ip_ops) WITH (lists = 20);
CREATE INDEX ivf_v_cos ON ivf USING ivfflat (v vector_cosine_ops) WITH (lists = 20);
CREATE INDEX ivf_h_l2 ON ivf USING ivfflat (h halfvec_l2_ops) WITH (lists = 20);
CREATE INDEX ivf_h_ip ON ivf USING ivfflat (h halfvec_ip_ops) WITH (lists = 20);
CREATE INDEX ivf_h_cos ON ivf USING ivfflat (h halfvec_cosine_ops) WITH (lists = 20);
CREATE INDEX ivf_b ON ivf USING ivfflat (b bit_hamming_ops) WITH (lists = 20);
SELECT indexrelid::regclass AS index, s.trained, s.lists, s.elements, cardinality(s.list_sizes) AS lists_listed,
       (SELECT sum(x) FROM unnest(s.list_sizes) x) AS listed, quiver_check_index(indexrelid) AS problems
FROM pg_index, quiver_index_stats(indexrelid) s
WHERE indrelid = 'ivf'::regclass AND indexrelid <> 'ivf_pkey'::regclass ORDER BY 1;

-- Every list probed: the ten nearest of 20 queries are exactly the ten nearest.
SET ivfflat.probes = 20;
SELECT count(*) FILTER (WHERE index_matches_exact('ivf', 'v', '<->', q.v)) AS l2,
       count(*) FILTER (WHERE index_matches_exact('ivf', 'v', '<#>', q.v)) AS ip,
       count(*) FILTER (WHERE index_matches_exact('ivf', 'v', '<=>', q.v)) AS cosine,
       count(*) FILTER (WHERE index_matches_exact('ivf', 'h', '<->', q.h)) AS half_l2,
       count(*) FILTER (WHERE index_matches_exact('ivf', 'h', '<#>', q.h)) AS half_ip,
       count(*) FILTER (WHERE index_matches_exact('ivf', 'h', '<=>', q.h)) AS half_cosine,
       count(*) FILTER (WHERE index_matches_exact('ivf', 'b', '<~>', q.b)) AS hamming
FROM (SELECT v, h, b FROM ivf WHERE id % 150 = 7) q;

-- Rows come out in order of their exact distance (the executor rechecks the
-- codes' bounds): 200 rows of each of five queries, none before a nearer one.
SET enable_seqscan = off;
SELECT count(*) FILTER (WHERE d < previous) AS out_of_order, count(*) AS rows
FROM (SELECT d, lag(d) OVER (PARTITION BY q ORDER BY n) AS previous
      FROM (SELECT q.id AS q, x.n, x.d
            FROM ivf q, LATERAL (SELECT row_number() OVER () AS n, d
                                 FROM (SELECT v <-> q.v AS d FROM ivf ORDER BY v <-> q.v LIMIT 200) s) x
            WHERE q.id IN (1, 500, 1000, 2000, 2999)) r) t;
EXPLAIN (COSTS OFF) SELECT id FROM ivf ORDER BY v <-> '[1,0,0,0,0,0,0,0]' LIMIT 5;

-- One probe: fewer rows than the table, all from the nearest list, in order.
SET ivfflat.probes = 1;
SELECT count(*) < 3000 AS fewer, count(*) > 0 AS some
FROM (SELECT id FROM ivf ORDER BY v <-> '[1,0,0,0,0,0,0,0]' LIMIT 3000) s;
-- Iterative scans go on to further lists while the executor asks for rows.
SET ivfflat.iterative_scan = relaxed_order;
SELECT count(*) AS all_rows FROM (SELECT id FROM ivf ORDER BY v <-> '[1,0,0,0,0,0,0,0]' LIMIT 3000) s;
SET ivfflat.max_probes = 2;
SELECT count(*) < 3000 AS bounded FROM (SELECT id FROM ivf ORDER BY v <-> '[1,0,0,0,0,0,0,0]' LIMIT 3000) s;
RESET ivfflat.max_probes;
RESET ivfflat.iterative_scan;

-- A NULL query returns rows (pgvector probes from the zero vector); a query
-- of other dimensions is an ERROR.
SELECT count(*) > 0 AS rows FROM (SELECT id FROM ivf ORDER BY v <-> NULL LIMIT 5) s;
SELECT sqlstate_of($$SELECT id FROM ivf ORDER BY v <-> '[1,2,3]' LIMIT 5$$);
RESET enable_seqscan;

-- Options and their errors, with pgvector's SQLSTATEs.
SELECT sqlstate_of($$CREATE INDEX ON ivf USING ivfflat (v vector_l2_ops) WITH (lists = 0)$$);
SELECT sqlstate_of($$CREATE INDEX ON ivf USING ivfflat (v vector_l2_ops) WITH (lists = 32769)$$);
SELECT sqlstate_of($$CREATE INDEX ON ivf USING ivfflat (v vector_l2_ops) WITH (m = 16)$$);
SELECT sqlstate_of($$SET ivfflat.probes = 0$$);
SELECT sqlstate_of($$SET ivfflat.probes = 32769$$);
SELECT sqlstate_of($$SET ivfflat.iterative_scan = strict_order$$);
SELECT sqlstate_of($$CREATE INDEX ON ivf USING ivfflat (v vector_l1_ops)$$);
SELECT sqlstate_of($$CREATE INDEX ON ivf USING ivfflat (b bit_jaccard_ops)$$);
CREATE TABLE ivf_wide (v vector(2001), s sparsevec(5));
SELECT sqlstate_of($$CREATE INDEX ON ivf_wide USING ivfflat (v vector_l2_ops)$$);
SELECT sqlstate_of($$CREATE INDEX ON ivf_wide USING ivfflat (s sparsevec_l2_ops)$$);
DROP TABLE ivf_wide;
-- Probes above the lists probe them all (as pgvector).
SET ivfflat.probes = 100;
SELECT index_matches_exact('ivf', 'v', '<->', (SELECT v FROM ivf WHERE id = 42)) AS exact;
RESET ivfflat.probes;
-- Without ORDER BY the index is never used; asked to scan without one, an ERROR.
EXPLAIN (COSTS OFF) SELECT id FROM ivf WHERE v IS NOT NULL;

-- An index on an empty table has nothing to train on: rows wait whole,
-- pending, and scans measure them all; the insert that brings 16 per list
-- trains it.
CREATE TABLE ivf_new (id int, v vector(3));
CREATE INDEX ivf_new_idx ON ivf_new USING ivfflat (v vector_cosine_ops) WITH (lists = 4);
INSERT INTO ivf_new SELECT i, ARRAY[sin(i), cos(i), sin(i * 3)] FROM generate_series(1, 40) i;
INSERT INTO ivf_new VALUES (0, '[0,0,0]'), (-1, NULL);
SELECT trained, elements FROM quiver_index_stats('ivf_new_idx');
SET enable_seqscan = off;
SELECT index_matches_exact('ivf_new', 'v', '<=>', '[1,0,0]'::vector) AS pending_exact;
INSERT INTO ivf_new SELECT i, ARRAY[sin(i), cos(i), sin(i * 3)] FROM generate_series(41, 100) i;
SELECT trained, lists, elements, (SELECT sum(x) FROM unnest(list_sizes) x) AS listed
FROM quiver_index_stats('ivf_new_idx');
SET ivfflat.probes = 4;
SELECT index_matches_exact('ivf_new', 'v', '<=>', '[1,0,0]'::vector) AS trained_exact;
SELECT quiver_check_index('ivf_new_idx') AS problems;
RESET ivfflat.probes;
RESET enable_seqscan;
DROP TABLE ivf_new;

-- Filter columns: conditions checked on each entry as its list is read.
CREATE INDEX ivf_filtered ON ivf USING ivfflat (v vector_l2_ops, category) WITH (lists = 20);
SET enable_seqscan = off;
SET ivfflat.iterative_scan = relaxed_order;
EXPLAIN (COSTS OFF) SELECT id FROM ivf WHERE category = 3 ORDER BY v <-> '[1,0,0,0,0,0,0,0]' LIMIT 10;
SELECT count(*) AS rows, count(*) FILTER (WHERE category = 3) AS passing
FROM (SELECT id, category FROM ivf WHERE category = 3 ORDER BY v <-> '[1,0,0,0,0,0,0,0]' LIMIT 10) s;
SELECT count(*) AS rows FROM (SELECT id FROM ivf WHERE category IN (1, 2) AND id < 100
                              ORDER BY v <-> '[1,0,0,0,0,0,0,0]' LIMIT 50) s;
RESET ivfflat.iterative_scan;
RESET enable_seqscan;
DROP INDEX ivf_filtered;

-- VACUUM removes the entries of deleted rows; inserts reuse the room.
DELETE FROM ivf WHERE id % 2 = 0;
VACUUM ivf;
SELECT elements, pages FROM quiver_index_stats('ivf_v_l2');
INSERT INTO ivf (id, category, v) SELECT -i, 0, ARRAY[sin(i), cos(i), 0, 0, 0, 0, 0, 1] FROM generate_series(1, 1500) i;
SELECT elements, pages FROM quiver_index_stats('ivf_v_l2');
SELECT quiver_check_index('ivf_v_l2') AS problems;
SET ivfflat.probes = 20;
SELECT index_matches_exact('ivf', 'v', '<->', '[0,1,0,0,0,0,0,1]'::vector) AS exact_after_vacuum;
RESET ivfflat.probes;

-- An unlogged table's index.
CREATE UNLOGGED TABLE ivf_unlogged AS SELECT id, v FROM ivf;
CREATE INDEX ON ivf_unlogged USING ivfflat (v vector_l2_ops) WITH (lists = 5);
SET enable_seqscan = off;
SELECT count(*) FROM (SELECT id FROM ivf_unlogged ORDER BY v <-> '[1,0,0,0,0,0,0,0]' LIMIT 5) s;
RESET enable_seqscan;
DROP TABLE ivf_unlogged;
DROP TABLE ivf;
