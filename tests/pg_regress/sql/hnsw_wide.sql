-- hnsw past a page: vector and halfvec up to 16,000 dimensions. An element
-- whose vector does not fit a page keeps it in parts on other pages; builds,
-- inserts, scans, VACUUM and quiver_check_index read and free them.

SET client_min_messages = warning;
SET hnsw.ef_search = 100;

-- 3,000 float4 dimensions (two parts each): every operator class against an exact scan
CREATE TABLE wide3k (id int PRIMARY KEY, v vector(3000));
INSERT INTO wide3k
SELECT i, (SELECT array_agg(sin(i * 0.37 + d * 0.011 * (1 + i % 7)) + (i % 5) * 0.1) FROM generate_series(1, 3000) d)::real[]
FROM generate_series(1, 400) i;
CREATE INDEX wide3k_l2 ON wide3k USING hnsw (v vector_l2_ops);
SELECT quiver_check_index('wide3k_l2');
EXPLAIN (COSTS OFF) SELECT id FROM wide3k ORDER BY v <-> (SELECT v FROM wide3k WHERE id = 1) LIMIT 10;
SELECT count(*) FILTER (WHERE index_matches_exact('wide3k', 'v', '<->', v)) AS same_as_exact, count(*)
FROM (SELECT v FROM wide3k WHERE id % 20 = 0) q;
DROP INDEX wide3k_l2;
CREATE INDEX wide3k_ip ON wide3k USING hnsw (v vector_ip_ops);
SELECT count(*) FILTER (WHERE index_matches_exact('wide3k', 'v', '<#>', v)) AS same_as_exact, count(*)
FROM (SELECT v FROM wide3k WHERE id % 20 = 0) q;
DROP INDEX wide3k_ip;
CREATE INDEX wide3k_cosine ON wide3k USING hnsw (v vector_cosine_ops);
SELECT count(*) FILTER (WHERE index_matches_exact('wide3k', 'v', '<=>', v)) AS same_as_exact, count(*)
FROM (SELECT v FROM wide3k WHERE id % 20 = 0) q;
DROP INDEX wide3k_cosine;
CREATE INDEX wide3k_l1 ON wide3k USING hnsw (v vector_l1_ops);
SELECT count(*) FILTER (WHERE index_matches_exact('wide3k', 'v', '<+>', v)) AS same_as_exact, count(*)
FROM (SELECT v FROM wide3k WHERE id % 20 = 0) q;
-- an expression index stores them as halfvec: 6,000 bytes, inline again
CREATE INDEX wide3k_half ON wide3k USING hnsw ((v::halfvec(3000)) halfvec_cosine_ops);
SELECT count(*) FILTER (WHERE index_matches_exact('wide3k', 'v::halfvec(3000)', '<=>', v::halfvec(3000))) AS same_as_exact, count(*)
FROM (SELECT v FROM wide3k WHERE id % 20 = 0) q;
SELECT quiver_check_index('wide3k_l1') || quiver_check_index('wide3k_half') AS problems;

-- 16,000 dimensions, float4 (eight parts) and float16 (four)
CREATE TABLE wide16k (id int PRIMARY KEY, v vector(16000), h halfvec(16000));
INSERT INTO wide16k
SELECT i, a::vector(16000), a::halfvec(16000)
FROM (SELECT i, (SELECT array_agg(sin(i * 0.7 + d * 0.013 * (1 + i % 5))) FROM generate_series(1, 16000) d)::real[] AS a
      FROM generate_series(1, 120) i) s;
-- How many rows each index finds as their own nearest neighbor, by index scans.
CREATE FUNCTION wide16k_finds_itself(OUT l2_finds_itself bigint, OUT cosine_finds_itself bigint, OUT rows bigint)
LANGUAGE sql SET enable_seqscan = off AS $$
SELECT count(*) FILTER (WHERE (SELECT w.id FROM wide16k w ORDER BY w.v <-> q.v LIMIT 1) = q.id),
       count(*) FILTER (WHERE (SELECT w.id FROM wide16k w ORDER BY w.h <=> q.h LIMIT 1) = q.id),
       count(*)
FROM wide16k q
$$;
CREATE INDEX wide16k_l2 ON wide16k USING hnsw (v vector_l2_ops);
CREATE INDEX wide16k_half ON wide16k USING hnsw (h halfvec_cosine_ops);
SELECT quiver_check_index('wide16k_l2') || quiver_check_index('wide16k_half') AS problems;
SELECT * FROM wide16k_finds_itself();
SELECT count(*) FILTER (WHERE index_matches_exact('wide16k', 'v', '<->', v)) AS same_as_exact, count(*)
FROM (SELECT v FROM wide16k WHERE id % 10 = 0) q;

-- inserts after the build write their parts; VACUUM frees the parts of the
-- deleted rows' elements, and later inserts take that room again
INSERT INTO wide16k
SELECT i, a::vector(16000), a::halfvec(16000)
FROM (SELECT i, (SELECT array_agg(cos(i * 0.3 + d * 0.011)) FROM generate_series(1, 16000) d)::real[] AS a
      FROM generate_series(121, 160) i) s;
SELECT quiver_check_index('wide16k_l2') || quiver_check_index('wide16k_half') AS problems;
DELETE FROM wide16k WHERE id % 2 = 0;
VACUUM wide16k;
SELECT quiver_check_index('wide16k_l2') || quiver_check_index('wide16k_half') AS problems;
CREATE TEMP TABLE sizes AS SELECT pg_relation_size('wide16k_l2') AS l2, pg_relation_size('wide16k_half') AS half;
INSERT INTO wide16k
SELECT i, a::vector(16000), a::halfvec(16000)
FROM (SELECT i, (SELECT array_agg(cos(i * 0.3 + d * 0.017)) FROM generate_series(1, 16000) d)::real[] AS a
      FROM generate_series(161, 220) i) s;
-- 60 new rows in the room of 80 freed ones: the indexes grow by little
SELECT pg_relation_size('wide16k_l2') <= l2 * 1.1 AS l2_reused, pg_relation_size('wide16k_half') <= half * 1.1 AS half_reused FROM sizes;
SELECT quiver_check_index('wide16k_l2') || quiver_check_index('wide16k_half') AS problems;
SELECT * FROM wide16k_finds_itself();

-- a build whose graph outgrows maintenance_work_mem goes on inserting on disk
SET maintenance_work_mem = '1MB';
CREATE INDEX wide16k_spill ON wide16k USING hnsw (v vector_cosine_ops);
RESET maintenance_work_mem;
SELECT quiver_check_index('wide16k_spill');
SELECT count(*) FILTER (WHERE index_matches_exact('wide16k', 'v', '<=>', v)) AS same_as_exact, count(*)
FROM (SELECT v FROM wide16k WHERE id % 10 = 1) q;

-- neighbor codes of 16,000 dimensions do not fit a neighbor list
SELECT sqlstate_of($$CREATE INDEX ON wide16k USING hnsw (v vector_l2_ops) WITH (neighbor_codes = on)$$);

RESET hnsw.ef_search;
RESET client_min_messages;
DROP FUNCTION wide16k_finds_itself();
DROP TABLE wide3k, wide16k, sizes;
