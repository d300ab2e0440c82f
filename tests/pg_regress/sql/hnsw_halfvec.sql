-- hnsw on halfvec: the four operator classes, and an expression index that
-- stores a vector column as halfvec, each answering as an exact search would.

CREATE TABLE half_items (id int PRIMARY KEY, embedding vector(8), half halfvec(8));
INSERT INTO half_items
SELECT i, v::vector(8), v::vector(8)::halfvec(8)
FROM (SELECT i, ARRAY(SELECT sin(i * 0.37 + d * 1.7) * (1 + (i % 7) * 0.1) FROM generate_series(1, 8) d)::real[] AS v
      FROM generate_series(1, 2000) i) s;

SET hnsw.ef_search = 200;
CREATE INDEX half_l2 ON half_items USING hnsw (half halfvec_l2_ops);
EXPLAIN (COSTS OFF) SELECT id FROM half_items ORDER BY half <-> '[1,0,0,0,0,0,0,1]' LIMIT 10;
SELECT count(*) FILTER (WHERE index_matches_exact('half_items', 'half', '<->', half)) AS same_as_exact, count(*)
FROM (SELECT half FROM half_items WHERE id % 100 = 0) q;
DROP INDEX half_l2;

CREATE INDEX half_ip ON half_items USING hnsw (half halfvec_ip_ops);
SELECT count(*) FILTER (WHERE index_matches_exact('half_items', 'half', '<#>', half)) AS same_as_exact, count(*)
FROM (SELECT half FROM half_items WHERE id % 100 = 0) q;
DROP INDEX half_ip;

CREATE INDEX half_cosine ON half_items USING hnsw (half halfvec_cosine_ops);
SELECT count(*) FILTER (WHERE index_matches_exact('half_items', 'half', '<=>', half)) AS same_as_exact, count(*)
FROM (SELECT half FROM half_items WHERE id % 100 = 0) q;
DROP INDEX half_cosine;

CREATE INDEX half_l1 ON half_items USING hnsw (half halfvec_l1_ops);
SELECT count(*) FILTER (WHERE index_matches_exact('half_items', 'half', '<+>', half)) AS same_as_exact, count(*)
FROM (SELECT half FROM half_items WHERE id % 100 = 0) q;

-- inserts after the build are found, and a query of other dimensions is an ERROR
INSERT INTO half_items VALUES (5000, '[9,9,9,9,9,9,9,9]', '[9,9,9,9,9,9,9,9]');
SELECT id FROM half_items ORDER BY half <+> '[9,9,9,9,9,9,9,9]' LIMIT 1;
SELECT sqlstate_of($$SELECT id FROM half_items ORDER BY half <+> '[1,2]' LIMIT 1$$);
SELECT quiver_check_index('half_l1');
DROP INDEX half_l1;

-- an expression index stores the vector column as halfvec; queries that write
-- the same expression use it
CREATE INDEX half_expression ON half_items USING hnsw ((embedding::halfvec(8)) halfvec_cosine_ops);
EXPLAIN (COSTS OFF) SELECT id FROM half_items ORDER BY embedding::halfvec(8) <=> '[1,0,0,0,0,0,0,1]' LIMIT 10;
SELECT count(*) FILTER (WHERE index_matches_exact('half_items', 'embedding::halfvec(8)', '<=>', half)) AS same_as_exact, count(*)
FROM (SELECT half FROM half_items WHERE id % 100 = 0) q;

-- halfvec is stored at half the bytes: 4,000 dimensions still fit a page
-- (wider vectors go to parts: hnsw_wide)
CREATE TABLE half_wide (id int, v halfvec(4000));
INSERT INTO half_wide
SELECT i, (SELECT array_agg(sin(i * 0.7 + d * 0.013)) FROM generate_series(1, 4000) d)::real[]::halfvec(4000)
FROM generate_series(1, 300) i;
CREATE INDEX half_wide_l2 ON half_wide USING hnsw (v halfvec_l2_ops);
CREATE INDEX half_wide_cosine ON half_wide USING hnsw (v halfvec_cosine_ops);
SELECT quiver_check_index('half_wide_l2') = '{}' AND quiver_check_index('half_wide_cosine') = '{}' AS sound;
SET enable_seqscan = off;
SELECT count(*) FILTER (WHERE (SELECT w.id FROM half_wide w ORDER BY w.v <-> q.v LIMIT 1) = q.id) AS l2_finds_itself,
       count(*) FILTER (WHERE (SELECT w.id FROM half_wide w ORDER BY w.v <=> q.v LIMIT 1) = q.id) AS cosine_finds_itself
FROM half_wide q WHERE q.id % 10 = 0;
RESET enable_seqscan;
DROP TABLE half_wide;

-- a halfvec column without dimensions cannot be indexed
CREATE TABLE half_free (v halfvec);
SELECT sqlstate_of($$CREATE INDEX ON half_free USING hnsw (v halfvec_l2_ops)$$);

RESET hnsw.ef_search;
DROP TABLE half_items, half_free;
