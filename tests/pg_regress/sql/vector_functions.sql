-- Operators, functions, casts, aggregates and the btree operator class.

-- distances
SELECT '[1,2,3]'::vector <-> '[3,2,1]' AS l2;
SELECT '[1,2,3]'::vector <#> '[3,2,1]' AS neg_ip;
SELECT '[1,2,3]'::vector <=> '[3,2,1]' AS cosine;
SELECT '[1,2,3]'::vector <+> '[3,2,1]' AS l1;
SELECT l2_distance('[0,0]'::vector, '[3,4]'), inner_product('[1,2]'::vector, '[3,4]'),
       cosine_distance('[1,0]'::vector, '[0,1]'), l1_distance('[0,0]'::vector, '[3,4]');
SELECT cosine_distance('[1,1]'::vector, '[1,1]'), cosine_distance('[1,1]'::vector, '[-1,-1]');
SELECT cosine_distance('[0,0]'::vector, '[1,1]') AS zero_vector_is_nan;
SELECT vector_l2_squared_distance('[0,0]', '[3,4]'), vector_negative_inner_product('[1,2]', '[3,4]');
SELECT '[1,2]'::vector <-> NULL IS NULL AS null_in_null_out;

-- functions
SELECT vector_dims('[1,2,3]'::vector), vector_norm('[3,4]'), vector_norm('[0,0]');
SELECT l2_normalize('[3,4]'::vector), l2_normalize('[0,0]'::vector), l2_normalize('[1e-30,0]'::vector);
SELECT subvector('[1,2,3,4,5]'::vector, 2, 3), subvector('[1,2,3,4,5]'::vector, 1, 1), subvector('[1,2,3,4,5]'::vector, 4, 10),
       subvector('[1,2,3,4,5]'::vector, -1, 3);

-- arithmetic and concatenation
SELECT '[1,2,3]'::vector + '[4,5,6]', '[1,2,3]'::vector - '[4,5,6]', '[1,2,3]'::vector * '[4,5,6]';
SELECT '[1,2]'::vector || '[3]';

-- casts
SELECT ARRAY[1,2,3]::vector, ARRAY[1.5,2.5]::real[]::vector, ARRAY[0.1,0.2]::float8[]::vector,
       ARRAY[1.25,2]::numeric[]::vector;
SELECT '[1,2,3]'::vector::real[], array_length('[1,2,3]'::vector::real[], 1);
SELECT '{4,5}'::int[]::vector(2);
CREATE TABLE cast_items (v vector(3));
INSERT INTO cast_items VALUES (ARRAY[1,2,3]), (ARRAY[1.5,2.5,3.5]::real[]), ('{7,8,9}'::float8[]);
SELECT * FROM cast_items;
SELECT castsource::regtype, casttarget::regtype, castcontext FROM pg_cast
WHERE castsource = 'vector'::regtype OR casttarget = 'vector'::regtype ORDER BY 1::text, 2::text;
DROP TABLE cast_items;

-- aggregates
CREATE TABLE agg_items (grp int, v vector(2));
INSERT INTO agg_items VALUES (1, '[1,2]'), (1, '[3,4]'), (1, NULL), (2, '[5,5]'), (3, NULL);
SELECT grp, avg(v), sum(v), count(v) FROM agg_items GROUP BY grp ORDER BY grp;
SELECT avg(v), sum(v) FROM agg_items;
SELECT avg(v), sum(v) FROM agg_items WHERE false;
SELECT proname, proparallel FROM pg_proc
WHERE proname IN ('avg', 'sum') AND proargtypes[0] = 'vector'::regtype ORDER BY 1;
-- a parallel plan combines partial states
CREATE TABLE agg_big AS SELECT i, ARRAY[i % 7, 1]::vector(2) AS v FROM generate_series(1, 30000) i;
ANALYZE agg_big;
SET parallel_setup_cost = 0; SET parallel_tuple_cost = 0; SET min_parallel_table_scan_size = 0;
SET max_parallel_workers_per_gather = 2;
EXPLAIN (COSTS OFF) SELECT avg(v), sum(v) FROM agg_big;
SELECT avg(v), sum(v) FROM agg_big;
RESET parallel_setup_cost; RESET parallel_tuple_cost; RESET min_parallel_table_scan_size;
RESET max_parallel_workers_per_gather;
DROP TABLE agg_items, agg_big;

-- comparison operators and btree: ORDER BY, DISTINCT, UNIQUE, merge joins
SELECT '[1,2]'::vector < '[1,3]', '[1,2]'::vector <= '[1,2]', '[1,2]'::vector = '[1,2]',
       '[1,2]'::vector <> '[1,2]', '[1,2]'::vector >= '[1,3]', '[1,2]'::vector > '[1]';
SELECT vector_cmp('[1,2]', '[1,2,0]'), vector_cmp('[2]', '[1,9]'), vector_cmp('[1,2]', '[1,2]');
CREATE TABLE cmp_items (id int, v vector);
INSERT INTO cmp_items VALUES (1, '[3,1]'), (2, '[1,2,3]'), (3, '[1,2]'), (4, '[3,1]'), (5, '[-1,100]');
SELECT v FROM cmp_items ORDER BY v, id;
SELECT DISTINCT v FROM cmp_items ORDER BY v;
SELECT v, count(*) FROM cmp_items GROUP BY v ORDER BY v;
CREATE INDEX ON cmp_items (v);
SET enable_seqscan = off;
EXPLAIN (COSTS OFF) SELECT id FROM cmp_items WHERE v = '[3,1]';
SELECT id FROM cmp_items WHERE v = '[3,1]' ORDER BY id;
RESET enable_seqscan;
CREATE UNIQUE INDEX cmp_unique ON cmp_items (v) WHERE id < 4;
INSERT INTO cmp_items VALUES (0, '[1,2,3]');
SET enable_hashjoin = off; SET enable_nestloop = off;
EXPLAIN (COSTS OFF) SELECT a.id, b.id FROM cmp_items a JOIN cmp_items b ON a.v = b.v;
SELECT a.id, b.id FROM cmp_items a JOIN cmp_items b ON a.v = b.v ORDER BY 1, 2;
RESET enable_hashjoin; RESET enable_nestloop;
DROP TABLE cmp_items;

-- every SQL-callable function is IMMUTABLE, STRICT and PARALLEL SAFE (the
-- index AM handlers, called by Postgres only, are declared as handlers are, and
-- the quiver_* tools read indexes and tables, so they are not immutable)
SELECT p.proname, pg_get_function_identity_arguments(p.oid) AS args
FROM pg_proc p JOIN pg_depend d ON d.objid = p.oid AND d.classid = 'pg_proc'::regclass
JOIN pg_extension e ON e.oid = d.refobjid
WHERE e.extname = 'quiver' AND p.prokind = 'f' AND p.prorettype <> 'index_am_handler'::regtype
  AND p.proname NOT LIKE 'quiver\_%'
  AND (p.provolatile <> 'i' OR NOT p.proisstrict OR p.proparallel <> 's');
SELECT count(*) AS functions FROM pg_proc p JOIN pg_depend d ON d.objid = p.oid AND d.classid = 'pg_proc'::regclass
JOIN pg_extension e ON e.oid = d.refobjid
WHERE e.extname = 'quiver' AND p.prokind = 'f' AND p.prorettype <> 'index_am_handler'::regtype
  AND p.proname NOT LIKE 'quiver\_%';
