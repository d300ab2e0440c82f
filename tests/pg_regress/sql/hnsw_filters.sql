-- Filter columns: key columns after the vector are stored with each element,
-- and WHERE conditions on them are checked inside the index (Index Cond).

CREATE TABLE fc (
    id int PRIMARY KEY,
    small int2, tenant int4, big int8, score float8, name text, flag bool,
    day date, at timestamptz, local_at timestamp, key uuid,
    tags int4[], big_tags int8[], words text[],
    embedding vector(4));
INSERT INTO fc
SELECT i, (i % 7)::int2, CASE WHEN i % 101 = 0 THEN NULL ELSE i % 20 END, i::int8 * 1000, (i % 13) / 4.0,
       'n' || (i % 9), i % 3 = 0, '2024-01-01'::date + i % 50, '2024-01-01'::timestamptz + i * interval '7 minutes',
       '2024-01-01'::timestamp + i * interval '7 minutes', md5(i::text)::uuid,
       ARRAY[i % 5, i % 11], ARRAY[(i % 4)::int8, (i % 9)::int8 + 100], ARRAY['w' || (i % 6), 'v' || (i % 8)],
       ARRAY[sin(i), cos(i), sin(i * 0.37), cos(i * 0.11)]::vector
FROM generate_series(1, 4000) i;
CREATE INDEX fc_hnsw ON fc USING hnsw
    (embedding vector_l2_ops, small, tenant, big, score, name, flag, day, at, local_at, key, tags, big_tags, words);
ANALYZE fc;
SELECT quiver_check_index('fc_hnsw');

-- Each condition: the index's answer (forced) equals an exact scan's, row for
-- row, and the plan checks it as an Index Cond.
CREATE FUNCTION filtered_matches_exact(condition text, k int DEFAULT 10) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
    query text := format('SELECT array_agg(id) FROM (SELECT id FROM fc WHERE %s ORDER BY embedding <-> ''[1,0,0.5,0]'' LIMIT %s) s',
                         condition, k);
    plan text;
    exact int[];
    indexed int[];
BEGIN
    SET LOCAL enable_indexscan = off;
    EXECUTE query INTO exact;
    SET LOCAL enable_indexscan = on;
    SET LOCAL enable_seqscan = off;
    SET LOCAL enable_sort = off;
    SET LOCAL enable_bitmapscan = off;
    SET LOCAL hnsw.ef_search = 200;
    EXECUTE query INTO indexed;
    FOR plan IN EXECUTE 'EXPLAIN (COSTS OFF) ' || regexp_replace(query, '^SELECT array_agg\(id\) FROM \((.*)\) s$', '\1') LOOP
        EXIT WHEN plan LIKE '%Index Cond%';
    END LOOP;
    RETURN format('%s rows, %s, %s', coalesce(cardinality(exact), 0),
                  CASE WHEN exact IS NOT DISTINCT FROM indexed THEN 'same as exact' ELSE 'DIFFERENT: ' || indexed::text || ' vs ' || exact::text END,
                  CASE WHEN plan LIKE '%Index Cond%' THEN 'in the index' ELSE 'NOT in the index' END);
END $$;

SELECT c, filtered_matches_exact(c) FROM (VALUES
    ('small = 3'), ('small < 2'), ('tenant = 7'), ('tenant <= 1'), ('tenant > 18'), ('tenant >= 19'),
    ('big = 5000'), ('big > 3990000'), ('big = 5'::text), ('big BETWEEN 1000000 AND 1020000'),
    ('small = 3::int8'), ('tenant < 2::int2'),
    ('score = 1.5'), ('score > 2.9'), ('score < 0.5::float4'),
    ('name = ''n4'''), ('name < ''n1'''), ('name >= ''n8'''),
    ('flag = false'), ('day = ''2024-01-20'''), ('day > ''2024-02-15''::timestamptz'),
    ('at < ''2024-01-02'''), ('at BETWEEN ''2024-01-05'' AND ''2024-01-06'''), ('local_at >= ''2024-01-19'''),
    ('at > ''2024-01-19''::date'), ('key = md5(''77'')::uuid'), ('key < ''10000000-0000-0000-0000-000000000000'''),
    ('tags && ARRAY[3]'), ('tags @> ARRAY[1, 2]'), ('tags <@ ARRAY[0, 1, 2, 3]'), ('tags = ARRAY[4, 9]'),
    ('big_tags && ARRAY[3::int8, 7]'), ('words && ARRAY[''w1'']'), ('words @> ARRAY[''w2'', ''v3'']'),
    ('tenant IS NULL'), ('tenant IS NOT NULL AND tenant = 0'), ('tenant = NULL'),
    ('tenant = 3 AND name = ''n1'' AND tags && ARRAY[2]'), ('tenant = 99')) v(c);

-- Integer, float, boolean, date, timestamp and integer array conditions are
-- checked on the values in place, without the operator's function, where a
-- row has no NULLs; the rest, and rows with NULLs, through the function.
-- Arrays holding NULLs, arguments holding NULLs, and a NaN follow PostgreSQL.
INSERT INTO fc (id, small, tenant, score, tags, big_tags, embedding)
VALUES (5001, 1, 7, 'NaN', ARRAY[1, NULL], ARRAY[NULL, 3::int8], '[1,0,0.5,0]'),
       (5002, 2, 7, '-0', ARRAY[NULL]::int4[], ARRAY[]::int8[], '[1,0,0.5,0.01]'),
       (5003, 3, 7, 0, ARRAY[]::int4[], NULL, '[1,0,0.5,0.02]');
SELECT c, filtered_matches_exact(c) FROM (VALUES
    ('tags && ARRAY[1]'), ('tags @> ARRAY[1]'), ('tags <@ ARRAY[1, 2]'), ('tags @> ARRAY[1, NULL]'),
    ('tags && ARRAY[NULL, 4]'), ('tags <@ ARRAY[0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, NULL]'), ('tags @> ''{}'''),
    ('big_tags && ARRAY[3::int8]'), ('big_tags <@ ARRAY[0::int8, 1, 100, 101]'),
    ('score = ''NaN'''), ('score > 1e308'), ('score = 0'), ('score <= -0.0::float4'),
    ('small = ANY (ARRAY[1, 3])'), ('tenant = ANY (ARRAY[7::int8, 1])'), ('big > 3999000::int4')) v(c);
SELECT quiver_check_index('fc_hnsw');

-- IN lists and bare booleans, which PostgreSQL 15 and 16 leave in the scan's
-- Filter, are moved into the index's conditions once the plan is made;
-- expressions of a column stay in the Filter.
SET enable_seqscan = off;
EXPLAIN (COSTS OFF) SELECT id FROM fc WHERE tenant IN (1, 2) AND flag AND small + 1 = 3
ORDER BY embedding <-> '[1,0,0.5,0]' LIMIT 5;
EXPLAIN (COSTS OFF) SELECT id FROM fc WHERE NOT flag AND name = ANY (ARRAY['n1', 'n2'])
ORDER BY embedding <-> '[1,0,0.5,0]' LIMIT 5;
PREPARE in_list(int[]) AS SELECT id FROM fc WHERE tenant = ANY ($1) ORDER BY embedding <-> '[1,0,0.5,0]' LIMIT 5;
EXPLAIN (COSTS OFF) EXECUTE in_list('{1,2}');
SELECT count(*) FROM (SELECT id FROM fc WHERE tenant IN (1, 2) ORDER BY embedding <-> '[1,0,0.5,0]' LIMIT 15) s
WHERE id IN (SELECT id FROM fc WHERE tenant IN (1, 2));
RESET enable_seqscan;
SELECT c, filtered_matches_exact(c) FROM (VALUES
    ('tenant IN (1, 2)'), ('tenant = ANY (ARRAY[3, 4, NULL])'), ('tenant IN (98, 99)'), ('big < ANY (ARRAY[5000, 9000])'),
    ('name IN (''n1'', ''n7'')'), ('flag'), ('NOT flag'), ('flag AND tenant IN (5, 6)'),
    ('tags && ARRAY[1] AND tenant = ANY (''{7,8}'')')) v(c);
-- in a nested loop, the array comes from the outer row
SET enable_seqscan = off;
SELECT t.k, cardinality(ARRAY(SELECT f.id FROM fc f WHERE f.tenant = ANY (t.tenants) ORDER BY f.embedding <-> '[1,0,0.5,0]' LIMIT 3))
FROM (VALUES (1, ARRAY[1, 2]), (2, ARRAY[19]), (3, ARRAY[]::int[])) t(k, tenants) ORDER BY 1;
RESET enable_seqscan;

-- Equal vectors with different filter values stay apart; equal ones share.
CREATE TABLE fc_dup (id int, tenant int, embedding vector(2));
INSERT INTO fc_dup SELECT i, i % 3, '[1,1]' FROM generate_series(1, 30) i;
INSERT INTO fc_dup SELECT 100 + i, 0, ARRAY[i, i + 1]::vector FROM generate_series(1, 200) i;
CREATE INDEX fc_dup_hnsw ON fc_dup USING hnsw (embedding vector_l2_ops, tenant);
INSERT INTO fc_dup SELECT 30 + i, i % 3, '[1,1]' FROM generate_series(1, 30) i;
SET enable_seqscan = off;
SELECT tenant, count(*), bool_and(tenant = expected)
FROM (SELECT s.tenant AS expected, f.id, f.tenant FROM generate_series(0, 2) s(tenant),
      LATERAL (SELECT id, tenant FROM fc_dup WHERE tenant = s.tenant ORDER BY embedding <-> '[1,1]' LIMIT 20) f) r
GROUP BY tenant ORDER BY tenant;
SELECT elements, heap_tuples FROM quiver_index_stats('fc_dup_hnsw');

-- A filter column updated in place: the row is found under its new value only.
UPDATE fc SET tenant = 55 WHERE id = 17;
SELECT array_agg(id) FROM (SELECT id FROM fc WHERE tenant = 55 ORDER BY embedding <-> '[1,0,0.5,0]' LIMIT 5) s;
SELECT 17 IN (SELECT id FROM fc WHERE tenant = 17 % 20 ORDER BY embedding <-> '[1,0,0.5,0]' LIMIT 500) AS old_value_found;
-- VACUUM after deletes keeps the index sound and the answers exact.
DELETE FROM fc WHERE id % 4 = 0;
VACUUM fc;
RESET enable_seqscan;
SELECT quiver_check_index('fc_hnsw');
SELECT filtered_matches_exact('tenant = 7'), filtered_matches_exact('tags && ARRAY[3] AND day < ''2024-01-20''');

-- Bad input: a clear ERROR at CREATE INDEX, or at INSERT for values too large.
SELECT sqlstate_of('CREATE INDEX ON fc USING hnsw (tenant, embedding vector_l2_ops)');
SELECT sqlstate_of('CREATE INDEX ON fc USING hnsw (embedding vector_l2_ops, embedding vector_cosine_ops)');
CREATE TABLE fc_bad (id int, doc jsonb, p point, embedding vector(2));
SELECT sqlstate_of('CREATE INDEX ON fc_bad USING hnsw (embedding vector_l2_ops, doc)');
SELECT sqlstate_of('CREATE INDEX ON fc_bad USING hnsw (embedding vector_l2_ops, p)');
SELECT sqlstate_of('CREATE INDEX ON fc_bad USING hnsw (embedding vector_l2_ops, id int4_ops)');
CREATE INDEX fc_long ON fc USING hnsw (embedding vector_l2_ops, name);
SELECT sqlstate_of($$INSERT INTO fc (id, name, embedding) VALUES (9001, (SELECT string_agg(md5(i::text), '') FROM generate_series(1, 100) i), '[1,1,1,1]')$$);
SELECT sqlstate_of($$INSERT INTO fc (id, name, embedding) VALUES (9002, repeat('x', 5000), '[1,1,1,1]')$$);
SELECT count(*) FROM fc WHERE id > 9000;
-- A multi-column index on an empty table, then rows, then a wide vector with filters.
CREATE TABLE fc_wide (id int, tenant int, embedding vector(3000));
CREATE INDEX fc_wide_hnsw ON fc_wide USING hnsw (embedding vector_l2_ops, tenant);
INSERT INTO fc_wide SELECT i, i % 4, array_fill(i::real, ARRAY[3000])::vector FROM generate_series(1, 40) i;
SET enable_seqscan = off;
SELECT array_agg(id) FROM (SELECT id FROM fc_wide WHERE tenant = 2 ORDER BY embedding <-> array_fill(10::real, ARRAY[3000])::vector LIMIT 4) s;
RESET enable_seqscan;
SELECT quiver_check_index('fc_wide_hnsw');
