-- Similarity orderings, as ORMs and BI tools write them, are served by the
-- index: ORDER BY 1 - (a <=> b) DESC, (a <#> b) * -1 DESC and -(a <#> b) DESC,
-- with a LIMIT, order as the distance does, and scan it.

CREATE TABLE sim_items (id int PRIMARY KEY, embedding vector(8), half halfvec(8));
INSERT INTO sim_items
SELECT i, v::vector(8), v::vector(8)::halfvec(8)
FROM (SELECT i, ARRAY(SELECT (hashint4(i * 8 + d) % 10000) / 5000.0 FROM generate_series(1, 8) d)::real[] AS v
      FROM generate_series(1, 3000) i) s;
CREATE INDEX sim_cosine ON sim_items USING hnsw (embedding vector_cosine_ops);
CREATE INDEX sim_ip ON sim_items USING hnsw (embedding vector_ip_ops);
CREATE INDEX sim_half_l2 ON sim_items USING hnsw (half halfvec_l2_ops);
ANALYZE sim_items;
SET hnsw.ef_search = 100;

-- each form plans as an index scan on the distance
EXPLAIN (COSTS OFF) SELECT id, 1 - (embedding <=> '[1,2,3,4,5,6,7,8]') AS similarity
FROM sim_items ORDER BY 1 - (embedding <=> '[1,2,3,4,5,6,7,8]') DESC LIMIT 5;
EXPLAIN (COSTS OFF) SELECT id, 1 - (embedding <=> '[1,2,3,4,5,6,7,8]') AS similarity
FROM sim_items ORDER BY similarity DESC LIMIT 5;
EXPLAIN (COSTS OFF) SELECT id FROM sim_items ORDER BY (embedding <#> '[1,2,3,4,5,6,7,8]') * -1 DESC LIMIT 5;
EXPLAIN (COSTS OFF) SELECT id FROM sim_items ORDER BY -1.0 * (embedding <#> '[1,2,3,4,5,6,7,8]') DESC LIMIT 5;
EXPLAIN (COSTS OFF) SELECT id FROM sim_items ORDER BY -(embedding <#> '[1,2,3,4,5,6,7,8]') DESC LIMIT 5;
EXPLAIN (COSTS OFF) SELECT id FROM sim_items ORDER BY 1 - (half <-> '[1,2,3,4,5,6,7,8]') DESC LIMIT 5;
PREPARE nearest_items(vector) AS
    SELECT id, 1 - (embedding <=> $1) AS similarity FROM sim_items ORDER BY 1 - (embedding <=> $1) DESC LIMIT 5;
EXPLAIN (COSTS OFF) EXECUTE nearest_items('[1,2,3,4,5,6,7,8]');
-- in a subquery and a CTE too
EXPLAIN (COSTS OFF) SELECT * FROM (SELECT id FROM sim_items ORDER BY 1 - (embedding <=> '[1,2,3,4,5,6,7,8]') DESC LIMIT 5) s;
EXPLAIN (COSTS OFF) WITH near AS MATERIALIZED (SELECT id FROM sim_items ORDER BY 1 - (embedding <=> '[1,2,3,4,5,6,7,8]') DESC LIMIT 5)
SELECT * FROM near;

-- the answers are the exact ones, in the same order: the rewritten query
-- (with its LIMIT, scanning the index) against the same ORDER BY sorted as
-- written (without a LIMIT, which the hook leaves alone), first ten rows
CREATE FUNCTION sim_ids(ordered_query text) RETURNS TABLE (by_index int[], as_written int[]) LANGUAGE plpgsql AS $$
BEGIN
    PERFORM set_config('enable_seqscan', 'off', true);
    EXECUTE 'SELECT array_agg(id) FROM (' || ordered_query || ' LIMIT 10) s' INTO by_index;
    PERFORM set_config('enable_seqscan', 'on', true);
    PERFORM set_config('enable_indexscan', 'off', true);
    EXECUTE 'SELECT (array_agg(id))[1:10] FROM (' || ordered_query || ') s' INTO as_written;
    RETURN NEXT;
END $$;
SELECT q, by_index = as_written AS same_as_exact
FROM unnest(ARRAY[
    $$SELECT id FROM sim_items ORDER BY 1 - (embedding <=> '[1,2,3,4,5,6,7,8]') DESC$$,
    $$SELECT id FROM sim_items ORDER BY (embedding <#> '[1,-2,3,-4,5,-6,7,-8]') * -1 DESC$$,
    $$SELECT id FROM sim_items ORDER BY 1 - (half <-> '[0,0,1,1,0,0,1,1]') DESC$$
]) q, sim_ids(q);
EXECUTE nearest_items('[1,2,3,4,5,6,7,8]');

-- what is left alone: ascending similarity, no LIMIT, a positive factor,
-- grouping and DISTINCT, which use the sort keys themselves
EXPLAIN (COSTS OFF) SELECT id FROM sim_items ORDER BY 1 - (embedding <=> '[1,2,3,4,5,6,7,8]') LIMIT 5;
EXPLAIN (COSTS OFF) SELECT id FROM sim_items ORDER BY 1 - (embedding <=> '[1,2,3,4,5,6,7,8]') DESC;
EXPLAIN (COSTS OFF) SELECT id FROM sim_items ORDER BY (embedding <#> '[1,2,3,4,5,6,7,8]') * 2 DESC LIMIT 5;
EXPLAIN (COSTS OFF) SELECT DISTINCT 1 - (embedding <=> '[1,2,3,4,5,6,7,8]') AS s FROM sim_items ORDER BY s DESC LIMIT 5;

-- a row without a vector: ordered by similarity DESC it would come first (a
-- NULL similarity); the index scan, as for any distance ordering, leaves it out
INSERT INTO sim_items VALUES (0, NULL, NULL);
SELECT id FROM sim_items ORDER BY 1 - (embedding <=> '[1,2,3,4,5,6,7,8]') DESC LIMIT 1;

RESET hnsw.ef_search;
DROP FUNCTION sim_ids(text);
DROP TABLE sim_items;
