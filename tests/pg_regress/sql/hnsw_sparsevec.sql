-- hnsw on sparsevec: the four operator classes over 30,000-dimension vectors
-- with 5 to 16 non-zero elements, each against an exact scan; the 1,000
-- non-zero limit.

CREATE TABLE sparse_items (id int PRIMARY KEY, v sparsevec(30000));
INSERT INTO sparse_items
SELECT i, ('{' || (
    SELECT string_agg(idx || ':' || round((sin(i * 0.3 + idx) + 0.1)::numeric, 3), ',' ORDER BY idx)
    FROM (SELECT DISTINCT (i * 37 + k * k * 11) % 300 + 1 AS idx FROM generate_series(1, 15) k
          UNION SELECT (i * 7919) % 30000 + 1) s
) || '}/30000')::sparsevec
FROM generate_series(1, 2000) i;

SET hnsw.ef_search = 200;
CREATE INDEX sparse_l2 ON sparse_items USING hnsw (v sparsevec_l2_ops);
-- (on 2,000 short rows a sequential scan is cheaper: the index is asked for)
SET enable_seqscan = off;
EXPLAIN (COSTS OFF) SELECT id FROM sparse_items ORDER BY v <-> '{1:1,2:1}/30000' LIMIT 10;
RESET enable_seqscan;
SELECT count(*) FILTER (WHERE index_matches_exact('sparse_items', 'v', '<->', v)) AS same_as_exact, count(*)
FROM (SELECT v FROM sparse_items WHERE id % 100 = 0) q;
SELECT quiver_check_index('sparse_l2');
DROP INDEX sparse_l2;

CREATE INDEX sparse_ip ON sparse_items USING hnsw (v sparsevec_ip_ops);
SELECT count(*) FILTER (WHERE index_matches_exact('sparse_items', 'v', '<#>', v)) AS same_as_exact, count(*)
FROM (SELECT v FROM sparse_items WHERE id % 100 = 0) q;
DROP INDEX sparse_ip;

CREATE INDEX sparse_cosine ON sparse_items USING hnsw (v sparsevec_cosine_ops);
SELECT count(*) FILTER (WHERE index_matches_exact('sparse_items', 'v', '<=>', v)) AS same_as_exact, count(*)
FROM (SELECT v FROM sparse_items WHERE id % 100 = 0) q;
DROP INDEX sparse_cosine;

CREATE INDEX sparse_l1 ON sparse_items USING hnsw (v sparsevec_l1_ops);
SELECT count(*) FILTER (WHERE index_matches_exact('sparse_items', 'v', '<+>', v)) AS same_as_exact, count(*)
FROM (SELECT v FROM sparse_items WHERE id % 100 = 0) q;

-- inserts after the build are found, VACUUM keeps the index sound
INSERT INTO sparse_items VALUES (5000, '{29999:50,30000:50}/30000');
SELECT id FROM sparse_items ORDER BY v <+> '{29999:50,30000:49}/30000' LIMIT 1;
DELETE FROM sparse_items WHERE id % 3 = 0;
VACUUM sparse_items;
SELECT quiver_check_index('sparse_l1');
SELECT count(*) FILTER (WHERE index_matches_exact('sparse_items', 'v', '<+>', v)) AS same_as_exact, count(*)
FROM (SELECT v FROM sparse_items WHERE id % 100 = 1) q;

-- at most 1,000 non-zero elements in an index
SELECT sqlstate_of($$INSERT INTO sparse_items SELECT 6000, ('{' || string_agg(i || ':1', ',') || '}/30000')::sparsevec FROM generate_series(1, 1001) i$$);
INSERT INTO sparse_items SELECT 6001, ('{' || string_agg(i || ':1', ',') || '}/30000')::sparsevec FROM generate_series(1, 1000) i;
SELECT id FROM sparse_items ORDER BY v <+> (SELECT v FROM sparse_items WHERE id = 6001) LIMIT 1;
SELECT sqlstate_of($$CREATE INDEX ON sparse_items USING hnsw (v sparsevec_l2_ops) WITH (neighbor_codes = on)$$);

RESET hnsw.ef_search;
DROP TABLE sparse_items;
