-- Answers a pgvector user can hit where Quiver once differed from pgvector
-- 0.8.5 (pg_test/parity.sh compares the two servers statement by statement).

-- An ORDER BY never removes rows: a query vector that is NULL at run time
-- (a parameter, a subquery that finds nothing) orders nothing, and the index
-- hands out every row it holds, as pgvector's does; rows whose vector is
-- NULL are not in it. 100 rows, more than ef_search, for every type and
-- operator class and every iterative mode, with and without a LIMIT.
CREATE TABLE null_query (id int, v vector(3), h halfvec(3), s sparsevec(3), b bit(3));
INSERT INTO null_query
SELECT i, ARRAY[i, i % 7, 1]::vector, ARRAY[i, i % 7, 1]::halfvec, ARRAY[i, i % 7, 1]::sparsevec,
       (i % 7 + 1)::bit(3)
FROM generate_series(1, 100) i;
INSERT INTO null_query VALUES (0, NULL, NULL, NULL, NULL);
CREATE FUNCTION null_query_counts(col text, opclass text, op text, type text) RETURNS TABLE (mode text, rows_all bigint, rows_limit bigint, plan text)
LANGUAGE plpgsql AS $$
DECLARE
    index_name text := 'null_query_' || opclass;
    line text;
BEGIN
    EXECUTE format('CREATE INDEX %I ON null_query USING hnsw (%I %s)', index_name, col, opclass);
    SET LOCAL enable_seqscan = off;
    FOREACH mode IN ARRAY ARRAY['off', 'relaxed_order', 'strict_order'] LOOP
        PERFORM set_config('hnsw.iterative_scan', mode, true);
        EXECUTE format('SELECT count(*) FROM (SELECT * FROM null_query ORDER BY %I %s (SELECT NULL::%s)) s', col, op, type)
            INTO rows_all;
        EXECUTE format('SELECT count(*) FROM (SELECT * FROM null_query ORDER BY %I %s (SELECT NULL::%s) LIMIT 7) s', col, op, type)
            INTO rows_limit;
        plan := '';
        FOR line IN EXECUTE format('EXPLAIN (COSTS OFF) SELECT * FROM null_query ORDER BY %I %s (SELECT NULL::%s) LIMIT 7',
                                   col, op, type) LOOP
            plan := plan || line;
        END LOOP;
        RETURN NEXT;
    END LOOP;
    EXECUTE format('DROP INDEX %I', index_name);
END $$;
-- Each plan is an index scan of the hnsw index (a row is left out otherwise).
SELECT c.opclass, n.mode, n.rows_all, n.rows_limit
FROM (VALUES ('v', 'vector_l2_ops', '<->', 'vector'), ('v', 'vector_ip_ops', '<#>', 'vector'),
             ('v', 'vector_cosine_ops', '<=>', 'vector'), ('v', 'vector_l1_ops', '<+>', 'vector'),
             ('h', 'halfvec_l2_ops', '<->', 'halfvec'), ('h', 'halfvec_ip_ops', '<#>', 'halfvec'),
             ('h', 'halfvec_cosine_ops', '<=>', 'halfvec'), ('h', 'halfvec_l1_ops', '<+>', 'halfvec'),
             ('s', 'sparsevec_l2_ops', '<->', 'sparsevec'), ('s', 'sparsevec_ip_ops', '<#>', 'sparsevec'),
             ('s', 'sparsevec_cosine_ops', '<=>', 'sparsevec'), ('s', 'sparsevec_l1_ops', '<+>', 'sparsevec'),
             ('b', 'bit_hamming_ops', '<~>', 'bit'), ('b', 'bit_jaccard_ops', '<%>', 'bit')) c(col, opclass, op, type),
     null_query_counts(c.col, c.opclass, c.op, c.type) n
WHERE n.plan LIKE '%Index Scan using null_query_%';
-- The same with neighbor codes, and under a filter the index checks (a
-- filter column) and one the executor checks.
CREATE INDEX null_query_codes ON null_query USING hnsw (v vector_l2_ops) WITH (neighbor_codes = on);
SET enable_seqscan = off;
SELECT count(*) FROM (SELECT * FROM null_query ORDER BY v <-> (SELECT NULL::vector)) s;
SELECT count(*) FROM (SELECT * FROM null_query WHERE id % 2 = 0 ORDER BY v <-> (SELECT NULL::vector) LIMIT 30) s;
DROP INDEX null_query_codes;
CREATE INDEX null_query_filtered ON null_query USING hnsw (v vector_l2_ops, id);
EXPLAIN (COSTS OFF) SELECT * FROM null_query WHERE id < 50 ORDER BY v <-> (SELECT NULL::vector);
SELECT count(*), min(id), max(id) FROM (SELECT * FROM null_query WHERE id < 50 ORDER BY v <-> (SELECT NULL::vector)) s;
-- A prepared statement whose parameter is NULL, as an ORM passes it.
PREPARE nearest(vector) AS SELECT count(*) FROM (SELECT id FROM null_query ORDER BY v <-> $1 LIMIT 200) s;
EXECUTE nearest(NULL);
EXECUTE nearest('[1,1,1]');
DEALLOCATE nearest;
RESET enable_seqscan;
DROP TABLE null_query;
DROP FUNCTION null_query_counts;

-- The aggregates' support functions are callable by anyone: a malformed
-- state is pgvector's ERROR (XX000 'expected state array'), dimensions are
-- checked as a vector's, and an overflow is an ERROR.
SELECT f, s, sqlstate_of(format('SELECT %s(%L::float8[], ''[1,2,3]'')', f, s))
FROM unnest(ARRAY['vector_accum', 'halfvec_accum']) f,
     unnest(ARRAY['{}', '{{0}}', '{{1,2},{3,4}}', '{1,NULL}', '{1,1}', '{1,1,2,3}']) s ORDER BY 1, 2;
SELECT f, s, sqlstate_of(format('SELECT %s(%L::float8[])', f, s))
FROM unnest(ARRAY['vector_avg', 'halfvec_avg']) f,
     unnest(ARRAY['{}', '{1}', '{{1,2},{3,4}}', '{2,NULL}', '{0}', '{2,4,6}', '{1,1e300}', '{3,4e38,4e38}']) s
ORDER BY 1, 2;
SELECT vector_avg('{2,4,6}'), halfvec_avg('{2,4,6}'), vector_avg('{0}') IS NULL AS empty_is_null;
SELECT sqlstate_of('SELECT vector_avg(array_fill(1::float8, ARRAY[16002]))');
SELECT a, b, sqlstate_of(format('SELECT vector_combine(%L::float8[], %L::float8[])', a, b))
FROM (VALUES ('{{1,2}}', '{3,4}'), ('{3,4}', '{{1,2}}'), ('{}', '{1,2}'), ('{1,NULL}', '{1,2}'),
             ('{1,1}', '{1,1,2}'), ('{1,1e308}', '{1,1e308}')) p(a, b) ORDER BY 1, 2;
SELECT vector_combine('{0}', '{1,2,3}'), vector_combine('{1,2}', '{0}'), vector_combine('{1,2}', '{2,3}');

-- sparsevec: a value that underflows to zero is out of range, as in
-- pgvector (dropping it would change the vector); zero itself is dropped.
SELECT sqlstate_of($$SELECT '{1:1e-46,2:1}/2'::sparsevec$$);
SELECT '{1:0,2:1}/2'::sparsevec, '{1:1e-45}/2'::sparsevec;
-- Norms and distances of empty sparse vectors are 0, not -0.
SELECT l2_norm('{}/2'::sparsevec)::text, ('{}/2'::sparsevec <-> '{}/2')::text,
       ('{}/2'::sparsevec <+> '{}/2')::text, inner_product('{}/2'::sparsevec, '{}/2')::text;
-- Array casts name the type cast to, with pgvector's SQLSTATEs: a float8
-- past float4's range is an infinity (22000), one past float16's a range
-- error (22003).
SELECT a, t, sqlstate_of(format('SELECT %L::%s::%s', a, split_part(t, '>', 1), split_part(t, '>', 2)))
FROM unnest(ARRAY['{NaN}', '{Infinity}', '{4e38,-4e38}', '{65520,1}', '{1,NULL}', '{}']) a,
     unnest(ARRAY['real[]>vector', 'real[]>halfvec', 'real[]>sparsevec', 'double precision[]>vector',
                  'double precision[]>halfvec', 'double precision[]>sparsevec']) t
ORDER BY 2, 1;
-- An array of more than 16,000 elements is a sparsevec (its limit is a
-- billion dimensions), as long as at most 16,000 are not zero.
SELECT array_fill(0::real, ARRAY[20000])::sparsevec;
SELECT l2_norm((array_fill(0::real, ARRAY[19999]) || 1::real)::sparsevec);
SELECT sqlstate_of('SELECT array_fill(1::real, ARRAY[16001])::sparsevec');

-- pgvector's spherical distance (its k-means' measure for cosine).
SELECT vector_spherical_distance('[1,0]', '[0,1]'), vector_spherical_distance('[1,0]', '[-1,0]'),
       halfvec_spherical_distance('[1,0]', '[1,0]'), vector_spherical_distance('[2,0]', '[3,0]');
SELECT sqlstate_of($$SELECT vector_spherical_distance('[1,0]', '[1,0,0]')$$);
