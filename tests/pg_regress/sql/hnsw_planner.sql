-- Plan choice for filtered nearest-neighbour queries: the index's cost
-- follows what a scan does (about LIMIT / selectivity rows handed out, each
-- with its walk and heap fetch), so a selective filter that a btree serves
-- plans the btree and an exact sort, and a broad one plans the index.
-- pg_test/planner.sh times both plans on real data; this shows the clear cases.

CREATE TABLE docs (id int PRIMARY KEY, tenant int NOT NULL, embedding vector(16));
INSERT INTO docs
SELECT i, i % 100, ARRAY(SELECT sin(i * 0.37 + j * 1.7) + cos(i * 0.011 * j) FROM generate_series(1, 16) j)
FROM generate_series(1, 20000) i;
CREATE INDEX docs_tenant ON docs (tenant);
CREATE INDEX docs_embedding ON docs USING hnsw (embedding vector_l2_ops);
VACUUM ANALYZE docs;

CREATE FUNCTION uses_index(query text, index_name text) RETURNS bool LANGUAGE plpgsql AS $$
DECLARE line text;
BEGIN
    FOR line IN EXECUTE 'EXPLAIN (COSTS OFF) ' || query LOOP
        IF position(index_name IN line) > 0 THEN RETURN true; END IF;
    END LOOP;
    RETURN false;
END $$;

-- One tenant of 100 (1%): the btree finds its 200 rows, a sort orders them.
SELECT uses_index('SELECT id FROM docs WHERE tenant = 7 ORDER BY embedding <-> (SELECT embedding FROM docs WHERE id = 1) LIMIT 10', 'docs_embedding') AS hnsw,
       uses_index('SELECT id FROM docs WHERE tenant = 7 ORDER BY embedding <-> (SELECT embedding FROM docs WHERE id = 1) LIMIT 10', 'docs_tenant') AS btree;
-- Half of the tenants (50%): the index hands out about 20 rows.
SELECT uses_index('SELECT id FROM docs WHERE tenant < 50 ORDER BY embedding <-> (SELECT embedding FROM docs WHERE id = 1) LIMIT 10', 'docs_embedding') AS hnsw;
-- No filter: the index.
SELECT uses_index('SELECT id FROM docs ORDER BY embedding <-> (SELECT embedding FROM docs WHERE id = 1) LIMIT 10', 'docs_embedding') AS hnsw;
-- No LIMIT: every row in order, which the index would walk the whole graph
-- for (and stop at hnsw.max_scan_tuples): a sort.
SELECT uses_index('SELECT id FROM docs ORDER BY embedding <-> (SELECT embedding FROM docs WHERE id = 1)', 'docs_embedding') AS hnsw;
-- With iterative scans off a scan ends after ef_search rows, so the index
-- costs the same under any filter (pgvector's behaviour).
SET hnsw.iterative_scan = off;
SELECT uses_index('SELECT id FROM docs WHERE tenant = 7 ORDER BY embedding <-> (SELECT embedding FROM docs WHERE id = 1) LIMIT 10', 'docs_embedding') AS hnsw;
RESET hnsw.iterative_scan;

-- The planner charges a distance call by the vectors' size: a query that
-- measures every row of a wide table costs more than one over a narrow one.
CREATE TABLE narrow (v vector(4));
CREATE TABLE wide (v vector(1536));
INSERT INTO narrow SELECT '[1,2,3,4]' FROM generate_series(1, 1000);
INSERT INTO wide SELECT array_fill(1.0, ARRAY[1536])::vector FROM generate_series(1, 1000);
ANALYZE narrow, wide;
CREATE FUNCTION plan_cost(query text) RETURNS float8 LANGUAGE plpgsql AS $$
DECLARE plan json;
BEGIN
    EXECUTE 'EXPLAIN (FORMAT JSON) ' || query INTO plan;
    RETURN (plan -> 0 -> 'Plan' ->> 'Total Cost')::float8;
END $$;
SELECT plan_cost('SELECT sum(v <-> v) FROM wide') > 5 * plan_cost('SELECT sum(v <-> v) FROM narrow') AS wide_costs_more;

DROP TABLE docs, narrow, wide;
DROP FUNCTION uses_index(text, text), plan_cost(text);
