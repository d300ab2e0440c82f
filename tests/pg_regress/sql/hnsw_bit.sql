-- hnsw on bit: Hamming and Jaccard classes, an expression index of
-- binary_quantize for the quantize-then-rerank pattern, and the limits.

CREATE TABLE bit_items (id int PRIMARY KEY, embedding vector(64));
INSERT INTO bit_items
SELECT i, (SELECT array_agg(sin(i * 0.37 + d * 1.7) + cos(i * 0.11 * d)) FROM generate_series(1, 64) d)::real[]::vector(64)
FROM generate_series(1, 2000) i;
ALTER TABLE bit_items ADD COLUMN bits bit(64);
UPDATE bit_items SET bits = binary_quantize(embedding)::bit(64);

SET hnsw.ef_search = 200;
CREATE INDEX bit_hamming ON bit_items USING hnsw (bits bit_hamming_ops);
-- (on 2,000 rows of 64 bits a sequential scan is cheaper: the index is asked for)
SET enable_seqscan = off;
EXPLAIN (COSTS OFF) SELECT id FROM bit_items ORDER BY bits <~> B'1010101010101010101010101010101010101010101010101010101010101010' LIMIT 10;
RESET enable_seqscan;
SELECT count(*) FILTER (WHERE index_matches_exact('bit_items', 'bits', '<~>', bits)) AS same_as_exact, count(*)
FROM (SELECT bits FROM bit_items WHERE id % 100 = 0) q;
SELECT quiver_check_index('bit_hamming');
DROP INDEX bit_hamming;

CREATE INDEX bit_jaccard ON bit_items USING hnsw (bits bit_jaccard_ops);
SELECT count(*) FILTER (WHERE index_matches_exact('bit_items', 'bits', '<%>', bits)) AS same_as_exact, count(*)
FROM (SELECT bits FROM bit_items WHERE id % 100 = 0) q;
-- inserts after the build are found
INSERT INTO bit_items VALUES (5000, array_fill(1, ARRAY[64])::real[]::vector, B'1111111111111111111111111111111111111111111111111111111111111111');
SELECT id FROM bit_items ORDER BY bits <%> B'1111111111111111111111111111111111111111111111111111111111111111' LIMIT 1;
SELECT sqlstate_of($$SELECT id FROM bit_items ORDER BY bits <%> B'101' LIMIT 1$$);
DROP INDEX bit_jaccard;

-- binary quantize, then rerank: the expression index serves the inner query
CREATE INDEX bit_quantized ON bit_items USING hnsw ((binary_quantize(embedding)::bit(64)) bit_hamming_ops);
SET enable_seqscan = off;
EXPLAIN (COSTS OFF)
SELECT id FROM (
    SELECT id, embedding FROM bit_items
    ORDER BY binary_quantize(embedding)::bit(64) <~> binary_quantize((SELECT embedding FROM bit_items WHERE id = 7))
    LIMIT 40) candidates
ORDER BY embedding <-> (SELECT embedding FROM bit_items WHERE id = 7) LIMIT 10;
RESET enable_seqscan;
SELECT count(*) FILTER (WHERE index_matches_exact('bit_items', 'binary_quantize(embedding)::bit(64)', '<~>', binary_quantize(embedding)::bit(64))) AS same_as_exact, count(*)
FROM (SELECT embedding FROM bit_items WHERE id % 100 = 0) q;

-- limits
CREATE TABLE bit_wide (v bit(64001));
SELECT sqlstate_of($$CREATE INDEX ON bit_wide USING hnsw (v bit_hamming_ops)$$);
SELECT sqlstate_of($$CREATE INDEX ON bit_items USING hnsw (bits bit_hamming_ops) WITH (neighbor_codes = on)$$);

RESET hnsw.ef_search;
DROP TABLE bit_items, bit_wide;
