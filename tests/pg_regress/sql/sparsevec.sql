-- sparsevec: pgvector's sparse type, its text and binary forms, casts, distances and order.

-- text I/O: 1-based indices, sorted, zeros dropped
SELECT '{1:1.5,3:2}/5'::sparsevec;
SELECT ' { 3 : 2 , 1:1.5, 4:0 } / 5 '::sparsevec;
SELECT '{}/3'::sparsevec;
SELECT '{1:1,2:2}/2'::sparsevec(2);

-- binary I/O: int32 dim, int32 nnz, int32 unused, 0-based indices, float4 values
SELECT sparsevec_send('{1:1.5,3:2}/5'::sparsevec);
CREATE TABLE sparse_copy (v sparsevec(5));
INSERT INTO sparse_copy VALUES ('{1:1.5,3:2}/5'), ('{}/5'), ('{5:-1e-3}/5');
COPY sparse_copy TO '/tmp/quiver_sparse_copy.bin' WITH (FORMAT binary);
CREATE TABLE sparse_copy_back (v sparsevec(5));
COPY sparse_copy_back FROM '/tmp/quiver_sparse_copy.bin' WITH (FORMAT binary);
SELECT * FROM sparse_copy_back ORDER BY v;
DROP TABLE sparse_copy, sparse_copy_back;

-- casts to and from vector, halfvec and arrays
SELECT '[0,1.5,0,2]'::vector::sparsevec, '{2:1.5,4:2}/4'::sparsevec::vector;
SELECT '[0,1.5,0,2]'::halfvec::sparsevec, '{2:1.5,4:2}/4'::sparsevec::halfvec;
SELECT ARRAY[0,1,0,3]::sparsevec, ARRAY[0,1.5]::real[]::sparsevec, ARRAY[0,2.5]::double precision[]::sparsevec,
       ARRAY[0,0]::numeric[]::sparsevec;
CREATE TABLE sparse_assign (s sparsevec(3), v vector(3));
INSERT INTO sparse_assign VALUES ('[1,0,2]'::vector, '{3:1}/3'::sparsevec);
SELECT * FROM sparse_assign;
DROP TABLE sparse_assign;

-- distances, as operators and functions, equal to the dense vectors'
SELECT '{1:1,2:2,3:3}/3'::sparsevec <-> '{1:3,2:2,3:1}/3', '[1,2,3]'::vector <-> '[3,2,1]';
SELECT '{1:1,2:2,3:3}/3'::sparsevec <#> '{1:3,3:1}/3', '{1:1,2:2,3:3}/3'::sparsevec <=> '{1:3,2:2,3:1}/3',
       '{1:1,2:2,3:3}/3'::sparsevec <+> '{2:2}/3';
SELECT l2_distance('{1:3}/2'::sparsevec, '{2:4}/2'), inner_product('{1:1,2:2}/2'::sparsevec, '{1:3,2:4}/2'),
       cosine_distance('{1:1}/2'::sparsevec, '{2:1}/2'), l1_distance('{1:1}/2'::sparsevec, '{2:-2}/2');
SELECT cosine_distance('{}/2'::sparsevec, '{1:1}/2');
SELECT l2_norm('{1:3,5:4}/5'::sparsevec), l2_normalize('{1:3,5:4}/5'::sparsevec), l2_normalize('{}/5'::sparsevec);

-- order: as dense vectors, then by dimensions; a btree and DISTINCT
SELECT '{1:1}/3'::sparsevec < '{2:1}/3', '{1:-1}/3'::sparsevec < '{}/3', '{1:1}/2'::sparsevec < '{1:1}/3',
       '{1:1}/3'::sparsevec = '[1,0,0]'::vector::sparsevec;
CREATE TABLE sparse_sort (v sparsevec);
INSERT INTO sparse_sort VALUES ('{2:1}/3'), ('{1:1}/3'), ('{}/3'), ('{1:-1}/3'), ('{1:1}/3'), ('{1:1}/2');
CREATE INDEX ON sparse_sort (v);
SELECT DISTINCT v FROM sparse_sort ORDER BY v;
DROP TABLE sparse_sort;

-- bad input: pgvector's messages and SQLSTATEs
SELECT '{1:1,1:2}/3'::sparsevec;
SELECT '[1,2]'::sparsevec;
SELECT sqlstate_of($$SELECT '{1:1'::sparsevec$$);
SELECT sqlstate_of($$SELECT '{1:1}'::sparsevec$$);
SELECT sqlstate_of($$SELECT '{1:1}/3x'::sparsevec$$);
SELECT sqlstate_of($$SELECT '{a:1}/3'::sparsevec$$);
SELECT sqlstate_of($$SELECT '{0:1}/3'::sparsevec$$);
SELECT sqlstate_of($$SELECT '{4:1}/3'::sparsevec$$);
SELECT sqlstate_of($$SELECT '{1:1}/0'::sparsevec$$);
SELECT sqlstate_of($$SELECT '{1:1}/1000000001'::sparsevec$$);
SELECT sqlstate_of($$SELECT '{1:nan}/3'::sparsevec$$);
SELECT sqlstate_of($$SELECT '{1:inf}/3'::sparsevec$$);
SELECT sqlstate_of($$SELECT '{1:1e99}/3'::sparsevec$$);
SELECT sqlstate_of($$SELECT '{1:1}/3'::sparsevec(2)$$);
SELECT sqlstate_of($$SELECT '{1:1}/3'::sparsevec(0)$$);
SELECT sqlstate_of($$SELECT '{1:1}/3'::sparsevec <-> '{1:1}/4'$$);
SELECT sqlstate_of($$SELECT '{1:1}/20000'::sparsevec::vector$$);
SELECT sqlstate_of($$SELECT '{1:70000}/3'::sparsevec::halfvec$$);
SELECT sqlstate_of($$SELECT ('{' || string_agg(i || ':1', ',') || '}/20000')::sparsevec FROM generate_series(1, 16001) i$$);
SELECT sqlstate_of($$SELECT array_fill(1, ARRAY[16001])::sparsevec$$);
-- binary receive: a header that disagrees with the payload, unsorted or repeated
-- indices, zero values
CREATE TABLE sparse_one (v sparsevec);
SELECT write_binary_copy('/tmp/quiver_regress_sparse.bin', '\x00000005000000020000000000000000000000023fc0000040000000');
COPY sparse_one FROM '/tmp/quiver_regress_sparse.bin' (FORMAT binary);
SELECT * FROM sparse_one;
SELECT write_binary_copy('/tmp/quiver_regress_sparse.bin', '\x000000050000000300000000000000000000000240000000');
COPY sparse_one FROM '/tmp/quiver_regress_sparse.bin' (FORMAT binary);
SELECT write_binary_copy('/tmp/quiver_regress_sparse.bin', '\x00000005000000020000000000000002000000003fc0000040000000');
COPY sparse_one FROM '/tmp/quiver_regress_sparse.bin' (FORMAT binary);
SELECT write_binary_copy('/tmp/quiver_regress_sparse.bin', '\x00000005000000020000000000000002000000023fc0000040000000');
COPY sparse_one FROM '/tmp/quiver_regress_sparse.bin' (FORMAT binary);
SELECT write_binary_copy('/tmp/quiver_regress_sparse.bin', '\x00000005000000020000000000000000000000020000000040000000');
COPY sparse_one FROM '/tmp/quiver_regress_sparse.bin' (FORMAT binary);
SELECT write_binary_copy('/tmp/quiver_regress_sparse.bin', '\x000000050000000100000001000000003fc00000');
COPY sparse_one FROM '/tmp/quiver_regress_sparse.bin' (FORMAT binary);
SELECT write_binary_copy('/tmp/quiver_regress_sparse.bin', '\x000000020000000300000000000000000000000100000002');
COPY sparse_one FROM '/tmp/quiver_regress_sparse.bin' (FORMAT binary);
DROP TABLE sparse_one;
