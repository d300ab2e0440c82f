-- Text input and output, type modifiers, storage, binary I/O.

SELECT '[1,2,3]'::vector;
SELECT '  [ 1 , -2.5 ,3e2 ]  '::vector;
SELECT '[1.5e-7,0.1,123456,1234567,3.4028235e38,-0]'::vector;
SELECT '[0.00001,0.0001,100000,1000000]'::vector;
SELECT '[1,2,3]'::vector(3);
SELECT '[1,2,3]'::vector::text = '[1,2,3]';
SELECT vector_dims(('[' || repeat('1,', 15999) || '1]')::vector);

-- type modifiers
CREATE TABLE io_items (id int, v vector(3));
INSERT INTO io_items VALUES (1, '[1,2,3]'), (2, '[4,5,6]'), (3, NULL);
SELECT * FROM io_items ORDER BY id;
SELECT format_type(atttypid, atttypmod) FROM pg_attribute WHERE attrelid = 'io_items'::regclass AND attname = 'v';
SELECT typstorage, typlen FROM pg_type WHERE typname = 'vector';

-- binary COPY round trip (vector_send / vector_recv)
COPY io_items TO '/tmp/quiver_regress_io.bin' (FORMAT binary);
CREATE TABLE io_copy (id int, v vector(3));
COPY io_copy FROM '/tmp/quiver_regress_io.bin' (FORMAT binary);
SELECT * FROM io_copy ORDER BY id;
SELECT count(*) FROM io_items a JOIN io_copy b USING (id) WHERE a.v = b.v;

-- the wire layout: int16 dim, int16 unused, big-endian float4s
SELECT vector_send('[1,-2.5]');

-- crafted binary COPY files: header, one row of one field, trailer
CREATE TABLE io_one (v vector);
SELECT write_binary_copy('/tmp/quiver_regress_ok.bin', '\x000200003f80000040000000');
COPY io_one FROM '/tmp/quiver_regress_ok.bin' (FORMAT binary);
SELECT * FROM io_one;
-- wrong dims header: says 3, holds 2
SELECT write_binary_copy('/tmp/quiver_regress_bad.bin', '\x000300003f80000040000000');
COPY io_one FROM '/tmp/quiver_regress_bad.bin' (FORMAT binary);
-- wrong dims header: says 1, holds 2
SELECT write_binary_copy('/tmp/quiver_regress_bad.bin', '\x000100003f80000040000000');
COPY io_one FROM '/tmp/quiver_regress_bad.bin' (FORMAT binary);
-- zero dimensions
SELECT write_binary_copy('/tmp/quiver_regress_bad.bin', '\x00000000');
COPY io_one FROM '/tmp/quiver_regress_bad.bin' (FORMAT binary);
-- negative dimensions
SELECT write_binary_copy('/tmp/quiver_regress_bad.bin', '\xffff00003f800000');
COPY io_one FROM '/tmp/quiver_regress_bad.bin' (FORMAT binary);
-- non-zero unused field
SELECT write_binary_copy('/tmp/quiver_regress_bad.bin', '\x000200013f80000040000000');
COPY io_one FROM '/tmp/quiver_regress_bad.bin' (FORMAT binary);
-- NaN element
SELECT write_binary_copy('/tmp/quiver_regress_bad.bin', '\x000100007fc00000');
COPY io_one FROM '/tmp/quiver_regress_bad.bin' (FORMAT binary);
-- too many dimensions (16001)
SELECT write_binary_copy('/tmp/quiver_regress_bad.bin', '\x3e810000');
COPY io_one FROM '/tmp/quiver_regress_bad.bin' (FORMAT binary);
-- typmod checked on receive
SELECT write_binary_copy('/tmp/quiver_regress_ok.bin', '\x000200003f80000040000000');
COPY io_items (v) FROM '/tmp/quiver_regress_ok.bin' (FORMAT binary);
SELECT * FROM io_one;

DROP TABLE io_items, io_copy, io_one;
