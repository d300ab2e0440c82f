-- The hnsw access method: options, operator classes, plans, scans, inserts,
-- deletes, partial and expression indexes, and errors.

-- 3,000 points on a spiral: no two at the same distance from the queries below
CREATE TABLE items (id int PRIMARY KEY, category int, embedding vector(3));
INSERT INTO items
SELECT i, i % 10, ARRAY[sin(i * 0.37) * (1 + i / 3000.0), cos(i * 0.37) * (1 + i / 3000.0), i / 1000.0]
FROM generate_series(1, 3000) i;
INSERT INTO items VALUES (3001, 1, NULL);
ANALYZE items;

-- the exact answer, by sequential scan, to compare index scans with
CREATE FUNCTION exact_ids(query vector, op text, k int, filter text DEFAULT 'true') RETURNS int[]
LANGUAGE plpgsql AS $$
DECLARE
    result int[];
BEGIN
    SET LOCAL enable_indexscan = off;
    EXECUTE format('SELECT array_agg(id) FROM (SELECT id FROM items WHERE %s ORDER BY embedding %s $1 LIMIT %s) s',
                   filter, op, k) INTO result USING query;
    RETURN result;
END $$;

CREATE INDEX items_l2 ON items USING hnsw (embedding vector_l2_ops) WITH (m = 8, ef_construction = 40);
SELECT relname, reloptions FROM pg_class WHERE relname = 'items_l2';
SELECT amname, amtype FROM pg_am WHERE amname = 'hnsw';
SELECT opcname FROM pg_opclass WHERE opcmethod = (SELECT oid FROM pg_am WHERE amname = 'hnsw') ORDER BY 1;

-- the planner takes the index for ORDER BY distance LIMIT k, with or without a filter
EXPLAIN (COSTS OFF) SELECT id FROM items ORDER BY embedding <-> '[1,1,1]' LIMIT 5;
EXPLAIN (COSTS OFF) SELECT id FROM items WHERE category = 3 ORDER BY embedding <-> '[1,1,1]' LIMIT 5;
-- and never without that ORDER BY
EXPLAIN (COSTS OFF) SELECT id FROM items WHERE embedding <-> '[1,1,1]' < 0.1;
EXPLAIN (COSTS OFF) SELECT id FROM items ORDER BY embedding <#> '[1,1,1]' LIMIT 5;

SET hnsw.ef_search = 100;
SELECT id, round((embedding <-> '[1,1,1]')::numeric, 4) AS distance FROM items ORDER BY embedding <-> '[1,1,1]' LIMIT 5;
SELECT array_agg(id) = exact_ids('[1,1,1]', '<->', 10) AS same_as_exact
FROM (SELECT id FROM items ORDER BY embedding <-> '[1,1,1]' LIMIT 10) s;
SELECT array_agg(id) = exact_ids('[-0.5,0.2,2.5]', '<->', 10) AS same_as_exact
FROM (SELECT id FROM items ORDER BY embedding <-> '[-0.5,0.2,2.5]' LIMIT 10) s;
-- the filter applies on top of the index scan's candidates
SELECT array_agg(id) = exact_ids('[1,1,1]', '<->', 5, 'category = 3') AS same_as_exact
FROM (SELECT id FROM items WHERE category = 3 ORDER BY embedding <-> '[1,1,1]' LIMIT 5) s;
-- rows come back by increasing distance
SELECT bool_and(d >= prev) AS increasing FROM (
    SELECT d, lag(d, 1, '-Infinity') OVER (ORDER BY n) AS prev
    FROM (SELECT row_number() OVER () AS n, d FROM (
        SELECT embedding <-> '[0,0,0]' AS d FROM items ORDER BY embedding <-> '[0,0,0]' LIMIT 100) s1) s2) s3;
-- without iterative scans, a scan yields at most ef_search rows
SET hnsw.ef_search = 7;
SET hnsw.iterative_scan = off;
SELECT count(*) FROM (SELECT id FROM items ORDER BY embedding <-> '[1,1,1]' LIMIT 50) s;
SELECT count(*) FROM (SELECT id FROM items WHERE category = 3 ORDER BY embedding <-> '[1,1,1]' LIMIT 10) s;
-- with them (the default), it goes on until the LIMIT is met, in order
RESET hnsw.ef_search;
RESET hnsw.iterative_scan;
SHOW hnsw.iterative_scan;
SELECT count(*) FROM (SELECT id FROM items ORDER BY embedding <-> '[1,1,1]' LIMIT 50) s;
-- (this small m = 8 graph on a spiral is approximate: ask for 10 rows and most of the exact ones)
SELECT count(*) AS rows, count(*) FILTER (WHERE id = ANY (exact_ids('[1,1,1]', '<->', 10, 'category = 3'))) >= 6 AS mostly_exact
FROM (SELECT id FROM items WHERE category = 3 ORDER BY embedding <-> '[1,1,1]' LIMIT 10) s;
SELECT bool_and(d >= prev) AS increasing FROM (
    SELECT d, lag(d, 1, '-Infinity') OVER (ORDER BY n) AS prev
    FROM (SELECT row_number() OVER () AS n, d FROM (
        SELECT embedding <-> '[1,1,1]' AS d FROM items WHERE category = 3 ORDER BY embedding <-> '[1,1,1]' LIMIT 40) s1) s2) s3;
-- a filter matching one row still finds it
SELECT id FROM items WHERE id = 2999 ORDER BY embedding <-> '[1,1,1]' LIMIT 10;
SET hnsw.iterative_scan = relaxed_order;
SELECT count(*) FROM (SELECT id FROM items WHERE category = 3 ORDER BY embedding <-> '[1,1,1]' LIMIT 20) s;
-- max_scan_tuples bounds the walk: past it a scan hands out the nodes it has
-- measured (here, its first batch's), nearest first, and ends. (A LIMIT
-- that needs most of the table plans a sequential scan: force the index.)
SET enable_seqscan = off;
SET hnsw.max_scan_tuples = 30;
SELECT count(*) < 300 AS bounded FROM (SELECT id FROM items WHERE category = 3 ORDER BY embedding <-> '[1,1,1]' LIMIT 300) s;
RESET hnsw.max_scan_tuples;
-- unbounded, it walks the whole graph and finds all 300 rows of category 3
-- (in relaxed order: strict order skips the rows it finds after a farther
-- one went out, which on this spiral, walked to its end, is about one in seven)
SELECT count(*) AS unbounded FROM (SELECT id FROM items WHERE category = 3 ORDER BY embedding <-> '[1,1,1]' LIMIT 300) s;
SET hnsw.iterative_scan = strict_order;
SELECT count(*) BETWEEN 200 AND 299 AS strict_skips_some FROM (SELECT id FROM items WHERE category = 3 ORDER BY embedding <-> '[1,1,1]' LIMIT 300) s;
RESET enable_seqscan;
SHOW hnsw.ef_search;

-- the other operator classes
CREATE INDEX items_ip ON items USING hnsw (embedding vector_ip_ops);
CREATE INDEX items_cosine ON items USING hnsw (embedding vector_cosine_ops);
CREATE INDEX items_l1 ON items USING hnsw (embedding vector_l1_ops);
EXPLAIN (COSTS OFF) SELECT id FROM items ORDER BY embedding <#> '[1,2,3]' LIMIT 5;
EXPLAIN (COSTS OFF) SELECT id FROM items ORDER BY embedding <=> '[1,2,3]' LIMIT 5;
EXPLAIN (COSTS OFF) SELECT id FROM items ORDER BY embedding <+> '[1,2,3]' LIMIT 5;
SET hnsw.ef_search = 100;
SELECT array_agg(id) = exact_ids('[1,2,3]', '<#>', 10) AS ip_same_as_exact
FROM (SELECT id FROM items ORDER BY embedding <#> '[1,2,3]' LIMIT 10) s;
SELECT array_agg(id) = exact_ids('[1,2,3]', '<=>', 10) AS cosine_same_as_exact
FROM (SELECT id FROM items ORDER BY embedding <=> '[1,2,3]' LIMIT 10) s;
SELECT array_agg(id) = exact_ids('[1,2,3]', '<+>', 10) AS l1_same_as_exact
FROM (SELECT id FROM items ORDER BY embedding <+> '[1,2,3]' LIMIT 10) s;
-- a zero query under cosine is NaN from every row: any k rows answer it
SELECT count(*) FROM (SELECT id FROM items ORDER BY embedding <=> '[0,0,0]' LIMIT 3) s;
DROP INDEX items_ip, items_cosine, items_l1;

-- inserts after the build are found by the next query
INSERT INTO items VALUES (5001, 3, '[5,5,5]'), (5002, 3, '[5,5,5.01]'), (5003, 7, '[5,5,5.02]');
SELECT id FROM items ORDER BY embedding <-> '[5,5,5.001]' LIMIT 3;
INSERT INTO items SELECT i, 0, ARRAY[-5 - i / 10000.0, -5, -5] FROM generate_series(6001, 6200) i;
SELECT array_agg(id) = exact_ids('[-5.01,-5,-5]', '<->', 10) AS new_rows_found
FROM (SELECT id FROM items ORDER BY embedding <-> '[-5.01,-5,-5]' LIMIT 10) s;
-- equal vectors
INSERT INTO items VALUES (5004, 3, '[5,5,5]'), (5005, 3, '[5,5,5]');
SELECT id FROM items ORDER BY embedding <-> '[5,5,5]', id LIMIT 3;
-- share elements, 9 rows each: 270 rows of one vector take a few pages, as
-- would 30 distinct ones, not the 9 times more that 270 distinct ones take
CREATE TABLE same (id int, category int, v vector(3));
CREATE INDEX same_idx ON same USING hnsw (v vector_l2_ops);
INSERT INTO same SELECT i, 0, '[1,2,3]' FROM generate_series(1, 270) i;
SELECT pg_relation_size('same_idx') / 8192 <= 4 AS equal_vectors_share_elements;
-- and so do the new row versions of non-HOT updates (the category index rules HOT out)
CREATE INDEX same_category ON same (category);
UPDATE same SET category = 1;
SELECT pg_relation_size('same_idx') / 8192 <= 8 AS updated_rows_share_elements, count(*) FROM same WHERE v <-> '[1,2,3]' = 0;
SET enable_seqscan = off;
SELECT count(*) FROM (SELECT id FROM same ORDER BY v <-> '[1,2,3]' LIMIT 300) s;
RESET enable_seqscan;
DROP TABLE same;

-- deleted and updated rows never come back, before and after VACUUM
DELETE FROM items WHERE id = 5001;
UPDATE items SET embedding = '[9,9,9]' WHERE id = 5002;
SELECT id FROM items ORDER BY embedding <-> '[5,5,5]' LIMIT 3;
VACUUM items;
SELECT id FROM items ORDER BY embedding <-> '[5,5,5]' LIMIT 3;
-- the structure checks out after inserts, deletes and VACUUM
SELECT quiver_check_index('items_l2');
SELECT id FROM items ORDER BY embedding <-> '[9,9,9]' LIMIT 1;

-- prepared statements, parameters and LATERAL joins
PREPARE nearest(vector, int) AS SELECT id FROM items ORDER BY embedding <-> $1 LIMIT $2;
EXECUTE nearest('[5,5,5]', 2);
EXECUTE nearest('[-5.01,-5,-5]', 1);
CREATE TABLE queries (name text, q vector(3));
INSERT INTO queries VALUES ('far', '[9,9,9]'), ('near', '[5,5,5]');
EXPLAIN (COSTS OFF)
SELECT name, n.id FROM queries, LATERAL (SELECT id FROM items ORDER BY embedding <-> queries.q LIMIT 1) n;
SELECT name, n.id FROM queries, LATERAL (SELECT id FROM items ORDER BY embedding <-> queries.q LIMIT 1) n ORDER BY name;
EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY OFF) SELECT id FROM items ORDER BY embedding <-> '[5,5,5]' LIMIT 2;

-- partial and expression indexes
CREATE INDEX items_cat3 ON items USING hnsw (embedding vector_l2_ops) WHERE category = 3;
EXPLAIN (COSTS OFF) SELECT id FROM items WHERE category = 3 ORDER BY embedding <-> '[1,1,1]' LIMIT 5;
SELECT array_agg(id) = exact_ids('[1,1,1]', '<->', 5, 'category = 3') AS partial_same_as_exact
FROM (SELECT id FROM items WHERE category = 3 ORDER BY embedding <-> '[1,1,1]' LIMIT 5) s;
CREATE TABLE untyped (id int, v vector);
INSERT INTO untyped SELECT i, ARRAY[i, i * 2] FROM generate_series(1, 1000) i;
ANALYZE untyped;
CREATE INDEX untyped_expr ON untyped USING hnsw ((v::vector(2)) vector_l2_ops);
EXPLAIN (COSTS OFF) SELECT id FROM untyped ORDER BY v::vector(2) <-> '[10,21]' LIMIT 3;
SELECT id FROM untyped ORDER BY v::vector(2) <-> '[10,21]' LIMIT 3;

-- CONCURRENTLY, REINDEX, DROP
CREATE INDEX CONCURRENTLY items_conc ON items USING hnsw (embedding vector_l2_ops);
REINDEX INDEX items_conc;
REINDEX INDEX CONCURRENTLY items_conc;
SELECT id FROM items ORDER BY embedding <-> '[5,5,5]' LIMIT 2;
DROP INDEX items_conc, items_cat3;

-- unlogged tables and empty tables
CREATE UNLOGGED TABLE unlogged_items (id int, v vector(2));
CREATE INDEX ON unlogged_items USING hnsw (v vector_l2_ops);
INSERT INTO unlogged_items SELECT i, ARRAY[i, -i] FROM generate_series(1, 100) i;
SELECT id FROM unlogged_items ORDER BY v <-> '[50,-50]' LIMIT 3;
CREATE TABLE empty_items (v vector(2));
CREATE INDEX ON empty_items USING hnsw (v vector_l2_ops);
SELECT count(*) FROM (SELECT v FROM empty_items ORDER BY v <-> '[1,1]' LIMIT 3) s;

-- options, operator classes and dimensions: clean errors
SELECT sqlstate_of($$CREATE INDEX ON items USING hnsw (embedding vector_l2_ops) WITH (m = 1)$$);
SELECT sqlstate_of($$CREATE INDEX ON items USING hnsw (embedding vector_l2_ops) WITH (m = 101)$$);
SELECT sqlstate_of($$CREATE INDEX ON items USING hnsw (embedding vector_l2_ops) WITH (ef_construction = 3)$$);
SELECT sqlstate_of($$CREATE INDEX ON items USING hnsw (embedding vector_l2_ops) WITH (ef_construction = 1001)$$);
SELECT sqlstate_of($$CREATE INDEX ON items USING hnsw (embedding vector_l2_ops) WITH (m = 40, ef_construction = 64)$$);
SELECT sqlstate_of($$CREATE INDEX ON items USING hnsw (embedding vector_l2_ops) WITH (lists = 100)$$);
SELECT sqlstate_of($$CREATE INDEX ON items USING hnsw (embedding)$$);
SELECT sqlstate_of($$CREATE INDEX ON items USING hnsw (id int4_ops)$$);
SELECT sqlstate_of($$CREATE INDEX ON items USING hnsw (category, embedding vector_l2_ops)$$);
CREATE TABLE no_dims (v vector);
SELECT sqlstate_of($$CREATE INDEX ON no_dims USING hnsw (v vector_l2_ops)$$);
CREATE TABLE many_dims (v vector(2001));
SELECT sqlstate_of($$CREATE INDEX ON many_dims USING hnsw (v vector_l2_ops)$$);
SELECT sqlstate_of($$SELECT id FROM items ORDER BY embedding <-> '[1,2]' LIMIT 1$$);
SELECT sqlstate_of($$SET hnsw.ef_search = 0$$);
SELECT sqlstate_of($$SET hnsw.ef_search = 1001$$);
SELECT sqlstate_of($$SET hnsw.no_such_setting = 1$$);
SELECT sqlstate_of($$SELECT quiver_check_index('items_pkey')$$);
SELECT sqlstate_of($$SET hnsw.iterative_scan = sometimes$$);
SELECT sqlstate_of($$SET hnsw.max_scan_tuples = 0$$);
SELECT sqlstate_of($$SET hnsw.scan_mem_multiplier = 0.5$$);
BEGIN;
SET LOCAL hnsw.ef_search = 77;
SHOW hnsw.ef_search;
COMMIT;
SHOW hnsw.ef_search;

-- a graph that outgrows maintenance_work_mem continues on disk
CREATE TABLE spill (id int, v vector(3));
INSERT INTO spill SELECT i, ARRAY[sin(i), cos(i * 1.3), sin(i * 0.7)] FROM generate_series(1, 8000) i;
CREATE TABLE spill_truth AS SELECT array_agg(id) AS ids FROM (SELECT id FROM spill ORDER BY v <-> '[0.1,0.2,0.3]' LIMIT 10) e;
SET maintenance_work_mem = '1MB';
CREATE INDEX spill_idx ON spill USING hnsw (v vector_l2_ops);
RESET maintenance_work_mem;
SET hnsw.ef_search = 100;
SELECT array_agg(id) = (SELECT ids FROM spill_truth) AS spilled_index_finds_the_same
FROM (SELECT id FROM spill ORDER BY v <-> '[0.1,0.2,0.3]' LIMIT 10) s;
EXPLAIN (COSTS OFF) SELECT id FROM spill ORDER BY v <-> '[0.1,0.2,0.3]' LIMIT 10;
-- a parallel build: the leader and two workers insert into one graph in
-- shared memory, and find the same
SELECT quiver_check_index('spill_idx');
DROP INDEX spill_idx;
ALTER TABLE spill SET (parallel_workers = 2);
SET max_parallel_maintenance_workers = 2;
CREATE INDEX spill_parallel ON spill USING hnsw (v vector_l2_ops);
RESET max_parallel_maintenance_workers;
SELECT array_agg(id) = (SELECT ids FROM spill_truth) AS parallel_index_finds_the_same
FROM (SELECT id FROM spill ORDER BY v <-> '[0.1,0.2,0.3]' LIMIT 10) s;
SELECT quiver_check_index('spill_parallel');
SELECT reltuples FROM pg_class WHERE relname = 'spill_parallel';
RESET hnsw.ef_search;

-- neighbor codes: the walk estimates from codes in the lists (8-bit at 3
-- dimensions) and an exact rerank orders; the same answers as the exact ones
CREATE INDEX items_codes ON items USING hnsw (embedding vector_l2_ops) WITH (neighbor_codes = on);
SELECT relname, reloptions FROM pg_class WHERE relname = 'items_codes';
SET enable_seqscan = off;
SET hnsw.ef_search = 100;
SELECT array_agg(id) = exact_ids('[1,1,1]', '<->', 10) AS codes_find_the_exact_ten
FROM (SELECT id FROM items ORDER BY embedding <-> '[1,1,1]' LIMIT 10) s;
INSERT INTO items SELECT i, 0, ARRAY[i, i, i] FROM generate_series(9001, 9100) i;
DELETE FROM items WHERE id BETWEEN 9001 AND 9050;
VACUUM items;
SELECT id FROM items ORDER BY embedding <-> '[9060,9060,9060]' LIMIT 3;
SELECT quiver_check_index('items_codes');
RESET hnsw.ef_search;
RESET enable_seqscan;
-- an empty table has nothing to learn codes from
CREATE INDEX empty_codes ON empty_items USING hnsw (v vector_l2_ops) WITH (neighbor_codes = on);
SELECT sqlstate_of($$CREATE INDEX ON items USING hnsw (embedding vector_l2_ops) WITH (neighbor_codes = maybe)$$);
-- L1 distances have no 1-bit codes, and 300 dimensions of 4-bit codes do not fit a list
CREATE TABLE l1_wide (v vector(300));
INSERT INTO l1_wide SELECT array_fill(1::real, ARRAY[300]);
SELECT sqlstate_of($$CREATE INDEX ON l1_wide USING hnsw (v vector_l1_ops) WITH (neighbor_codes = on)$$);
DROP INDEX items_codes;

-- 2,000 dimensions: an element fills most of a page
CREATE TABLE wide (id int, v vector(2000));
INSERT INTO wide SELECT i, array_fill(i::real, ARRAY[2000]) FROM generate_series(1, 30) i;
CREATE INDEX wide_idx ON wide USING hnsw (v vector_l2_ops);
INSERT INTO wide SELECT i, array_fill(i + 0.25::real, ARRAY[2000]) FROM generate_series(100, 105) i;
SELECT id FROM wide ORDER BY v <-> array_fill(3.3::real, ARRAY[2000])::vector LIMIT 3;
SELECT quiver_check_index('wide_idx'), quiver_check_index('spill_parallel'), quiver_check_index('unlogged_items_v_idx');

DROP TABLE items, queries, untyped, unlogged_items, empty_items, no_dims, many_dims, wide, spill, spill_truth, l1_wide;
DROP FUNCTION exact_ids(vector, text, int, text);
