-- halfvec: pgvector's SQL surface with float16 elements, and binary quantization to bit.

-- text I/O: float16 values print as the float4 they widen to
SELECT '[1,2,3]'::halfvec;
SELECT '[-1.5, 0.1, 65504, -65504, 6e-8, 0]'::halfvec;
SELECT '  [ 1 , 2 ]  '::halfvec;
SELECT '[1,2,3]'::halfvec(3);
SELECT '{1,2,3}'::real[]::halfvec;

-- binary I/O: int16 dim, int16 unused, big-endian float16
SELECT halfvec_send('[1,2,-0.5]'::halfvec);
CREATE TABLE halfvec_copy (v halfvec(3));
INSERT INTO halfvec_copy VALUES ('[1,2,3]'), ('[-0.25,1e-3,60000]');
COPY halfvec_copy TO '/tmp/quiver_halfvec_copy.bin' WITH (FORMAT binary);
CREATE TABLE halfvec_copy_back (v halfvec(3));
COPY halfvec_copy_back FROM '/tmp/quiver_halfvec_copy.bin' WITH (FORMAT binary);
SELECT (SELECT array_agg(v ORDER BY v) FROM halfvec_copy) = (SELECT array_agg(v ORDER BY v) FROM halfvec_copy_back) AS binary_round_trip;
SELECT * FROM halfvec_copy_back ORDER BY v;
DROP TABLE halfvec_copy, halfvec_copy_back;

-- casts
SELECT '[1.1,2.2,3.3]'::vector::halfvec;
SELECT '[1.5,2.5]'::halfvec::vector;
SELECT '[1,2]'::halfvec::real[];
SELECT ARRAY[1,2,3]::halfvec;
SELECT ARRAY[1.5,2.5]::double precision[]::halfvec;
SELECT ARRAY[1.5,2.5]::numeric[]::halfvec;
CREATE TABLE halfvec_assign (h halfvec(2), v vector(2));
INSERT INTO halfvec_assign VALUES ('[1,2]'::vector, '[3,4]'::halfvec);
INSERT INTO halfvec_assign (h) VALUES (ARRAY[5,6]);
SELECT * FROM halfvec_assign;
DROP TABLE halfvec_assign;

-- distances, as the operators and as functions
SELECT '[1,2,3]'::halfvec <-> '[3,2,1]';
SELECT '[1,2,3]'::halfvec <#> '[3,2,1]';
SELECT '[1,2,3]'::halfvec <=> '[3,2,1]';
SELECT '[1,2,3]'::halfvec <+> '[3,2,1]';
SELECT l2_distance('[0,0]'::halfvec, '[3,4]'), inner_product('[1,2]'::halfvec, '[3,4]'),
       cosine_distance('[1,0]'::halfvec, '[0,1]'), l1_distance('[1,2]'::halfvec, '[-1,-2]');
SELECT cosine_distance('[0,0]'::halfvec, '[1,1]');
SELECT '[1,2]'::halfvec <-> '[1,2]'::vector;

-- functions
SELECT vector_dims('[1,2,3]'::halfvec), l2_norm('[3,4]'::halfvec);
SELECT l2_normalize('[3,4]'::halfvec), l2_normalize('[0,0]'::halfvec);
SELECT subvector('[1,2,3,4,5]'::halfvec, 2, 3), subvector('[1,2,3]'::halfvec, -1, 3);
SELECT '[1,2]'::halfvec + '[3,4]', '[1,2]'::halfvec - '[3,4]', '[1,2]'::halfvec * '[3,4]', '[1,2]'::halfvec || '[3]';

-- comparisons and the btree class
SELECT '[1,2]'::halfvec < '[1,3]', '[1,2]'::halfvec = '[1,2]', '[1,2]'::halfvec > '[1,2,0]', '[1,2]'::halfvec <> '[2,1]';
CREATE TABLE halfvec_sort (v halfvec);
INSERT INTO halfvec_sort VALUES ('[2,1]'), ('[1,2,3]'), ('[1,2]'), ('[1,2]'), ('[-1,5]');
CREATE INDEX ON halfvec_sort (v);
SELECT DISTINCT v FROM halfvec_sort ORDER BY v;
DROP TABLE halfvec_sort;

-- aggregates
SELECT avg(v), sum(v) FROM (VALUES ('[1,2]'::halfvec), ('[3,5]'), ('[5,6]')) t(v);
SELECT avg(v) IS NULL AS empty_avg_is_null FROM (SELECT '[1]'::halfvec WHERE false) t(v);

-- binary quantization and bit distances
SELECT binary_quantize('[1,-2,0,0.5,3,-1,2,2,-4,1]'::vector);
SELECT binary_quantize('[1,-2,0,0.5]'::halfvec);
SELECT B'1010' <~> B'0110', hamming_distance(B'1111', B'0000');
SELECT B'1100' <%> B'1010', jaccard_distance(B'0000', B'0000'), jaccard_distance(B'1111', B'1111');

-- binary receive checks the header against the payload
CREATE TABLE halfvec_one (v halfvec);
SELECT write_binary_copy('/tmp/quiver_regress_half.bin', '\x000200003c004000');
COPY halfvec_one FROM '/tmp/quiver_regress_half.bin' (FORMAT binary);
SELECT * FROM halfvec_one;
SELECT write_binary_copy('/tmp/quiver_regress_half.bin', '\x000300003c004000');
COPY halfvec_one FROM '/tmp/quiver_regress_half.bin' (FORMAT binary);
SELECT write_binary_copy('/tmp/quiver_regress_half.bin', '\x000200013c004000');
COPY halfvec_one FROM '/tmp/quiver_regress_half.bin' (FORMAT binary);
SELECT write_binary_copy('/tmp/quiver_regress_half.bin', '\x000100007c00');
COPY halfvec_one FROM '/tmp/quiver_regress_half.bin' (FORMAT binary);
DROP TABLE halfvec_one;

-- untyped literals are ambiguous once several types exist, as in pgvector
SELECT sqlstate_of($$SELECT vector_dims('[1,2,3]')$$);

-- bad input: pgvector's messages and SQLSTATEs
SELECT '[65520]'::halfvec;
SELECT '[1e-9]'::halfvec;
SELECT sqlstate_of($$SELECT '[1,2'::halfvec$$);
SELECT sqlstate_of($$SELECT '[]'::halfvec$$);
SELECT sqlstate_of($$SELECT '[nan]'::halfvec$$);
SELECT sqlstate_of($$SELECT '[inf]'::halfvec$$);
SELECT sqlstate_of($$SELECT '[1e99]'::halfvec$$);
SELECT sqlstate_of($$SELECT '[70000]'::halfvec$$);
SELECT sqlstate_of($$SELECT '[100000]'::vector::halfvec$$);
SELECT sqlstate_of($$SELECT ARRAY[70000]::halfvec$$);
SELECT sqlstate_of($$SELECT '[1,2]'::halfvec(3)$$);
SELECT sqlstate_of($$SELECT '[1]'::halfvec(0)$$);
SELECT sqlstate_of($$SELECT '[1]'::halfvec(16001)$$);
SELECT sqlstate_of($$SELECT '[1,2]'::halfvec <-> '[1,2,3]'$$);
SELECT sqlstate_of($$SELECT '[60000]'::halfvec + '[60000]'$$);
SELECT sqlstate_of($$SELECT '[1e-5]'::halfvec * '[1e-5]'$$);
SELECT sqlstate_of($$SELECT sum(v) FROM (VALUES ('[60000]'::halfvec), ('[60000]')) t(v)$$);
SELECT sqlstate_of($$SELECT subvector('[1,2]'::halfvec, 3, 1)$$);
SELECT sqlstate_of($$SELECT ARRAY[[1,2],[3,4]]::halfvec$$);
SELECT sqlstate_of($$SELECT ARRAY[1,NULL]::halfvec$$);
SELECT sqlstate_of($$SELECT B'101' <~> B'10'$$);
SELECT sqlstate_of($$SELECT jaccard_distance(B'101', B'1010')$$);

