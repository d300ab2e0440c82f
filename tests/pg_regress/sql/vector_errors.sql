-- Bad input: every case is an ERROR with the right SQLSTATE, never a crash.

-- the messages users see, with details
SELECT '[1,2'::vector;
SELECT '1,2]'::vector;
SELECT '[1,2]x'::vector;
SELECT '[nan]'::vector;
SELECT '[1e99]'::vector;

-- malformed text: 22P02
SELECT sqlstate_of($$SELECT '[1,2'::vector$$);
SELECT sqlstate_of($$SELECT '1,2]'::vector$$);
SELECT sqlstate_of($$SELECT ''::vector$$);
SELECT sqlstate_of($$SELECT '[1,,2]'::vector$$);
SELECT sqlstate_of($$SELECT '[1,]'::vector$$);
SELECT sqlstate_of($$SELECT '[,1]'::vector$$);
SELECT sqlstate_of($$SELECT '[1 2]'::vector$$);
SELECT sqlstate_of($$SELECT '[1,2]x'::vector$$);
SELECT sqlstate_of($$SELECT '[one]'::vector$$);
SELECT sqlstate_of($$SELECT '[1,2]]'::vector$$);
SELECT sqlstate_of($$SELECT '[[1,2]]'::vector$$);

-- empty, non-finite: 22000; too large for float4: 22003
SELECT sqlstate_of($$SELECT '[]'::vector$$);
SELECT sqlstate_of($$SELECT '[ ]'::vector$$);
SELECT sqlstate_of($$SELECT '[nan]'::vector$$);
SELECT sqlstate_of($$SELECT '[1,NaN]'::vector$$);
SELECT sqlstate_of($$SELECT '[inf]'::vector$$);
SELECT sqlstate_of($$SELECT '[-Infinity]'::vector$$);
SELECT sqlstate_of($$SELECT '[1e99]'::vector$$);
SELECT sqlstate_of($$SELECT '[-1e39]'::vector$$);

-- too many dimensions: 54000
SELECT sqlstate_of($$SELECT ('[' || repeat('1,', 16000) || '1]')::vector$$);
SELECT sqlstate_of($$SELECT array_fill(1, ARRAY[16001])::vector$$);
SELECT sqlstate_of($$SELECT array_fill(1, ARRAY[8000])::vector || array_fill(1, ARRAY[8001])::vector$$);

-- type modifiers
SELECT sqlstate_of($$SELECT '[1,2]'::vector(3)$$);
SELECT sqlstate_of($$SELECT '[1,2]'::vector(0)$$);
SELECT sqlstate_of($$SELECT '[1,2]'::vector(16001)$$);
SELECT sqlstate_of($$SELECT '[1,2]'::vector(2,2)$$);
SELECT sqlstate_of($$SELECT ARRAY[1,2]::vector(3)$$);
CREATE TABLE err_items (v vector(2));
SELECT sqlstate_of($$INSERT INTO err_items VALUES ('[1,2,3]')$$);
SELECT sqlstate_of($$INSERT INTO err_items VALUES (ARRAY[1,2,3])$$);
SELECT sqlstate_of($$INSERT INTO err_items VALUES ('[1,2,3]'::vector)$$);
DROP TABLE err_items;

-- operands of different dimensions: 22000
SELECT sqlstate_of($$SELECT '[1,2]'::vector <-> '[1,2,3]'$$);
SELECT sqlstate_of($$SELECT '[1,2]'::vector <#> '[1,2,3]'$$);
SELECT sqlstate_of($$SELECT '[1,2]'::vector <=> '[1,2,3]'$$);
SELECT sqlstate_of($$SELECT '[1,2]'::vector <+> '[1,2,3]'$$);
SELECT sqlstate_of($$SELECT '[1,2]'::vector + '[1,2,3]'$$);
SELECT sqlstate_of($$SELECT '[1,2]'::vector - '[1,2,3]'$$);
SELECT sqlstate_of($$SELECT '[1,2]'::vector * '[1,2,3]'$$);
SELECT sqlstate_of($$SELECT l2_distance('[1,2]'::vector, '[1,2,3]')$$);
SELECT sqlstate_of($$SELECT inner_product('[1,2]'::vector, '[1,2,3]')$$);
SELECT sqlstate_of($$SELECT avg(v) FROM (VALUES ('[1,2]'::vector), ('[1,2,3]')) t(v)$$);
SELECT sqlstate_of($$SELECT sum(v) FROM (VALUES ('[1,2]'::vector), ('[1,2,3]')) t(v)$$);

-- arithmetic leaving float4's range: 22003
SELECT sqlstate_of($$SELECT '[3e38]'::vector + '[3e38]'$$);
SELECT sqlstate_of($$SELECT '[1e30]'::vector * '[1e30]'$$);
SELECT sqlstate_of($$SELECT '[1e-30]'::vector * '[1e-30]'$$);
SELECT sqlstate_of($$SELECT sum(v) FROM (VALUES ('[3e38]'::vector), ('[3e38]')) t(v)$$);

-- arrays
SELECT sqlstate_of($$SELECT '{}'::int[]::vector$$);
SELECT sqlstate_of($$SELECT '{1,NULL}'::int[]::vector$$);
SELECT sqlstate_of($$SELECT '{{1,2},{3,4}}'::int[]::vector$$);
SELECT sqlstate_of($$SELECT ARRAY[1e39]::float8[]::vector$$);
SELECT sqlstate_of($$SELECT ARRAY['NaN']::float8[]::vector$$);
SELECT sqlstate_of($$SELECT ARRAY['Infinity']::real[]::vector$$);
SELECT sqlstate_of($$SELECT ARRAY[1e39]::numeric[]::vector$$);
SELECT sqlstate_of($$SELECT ARRAY['NaN']::numeric[]::vector$$);

-- subvector out of the vector's extent
SELECT sqlstate_of($$SELECT subvector('[1,2,3]'::vector, 1, 0)$$);
SELECT sqlstate_of($$SELECT subvector('[1,2,3]'::vector, 4, 1)$$);
SELECT sqlstate_of($$SELECT subvector('[1,2,3]'::vector, -5, 3)$$);
SELECT sqlstate_of($$SELECT subvector('[1,2,3]'::vector, 2147483647, 2147483647)$$);

-- the session survived all of it
SELECT '[1,2,3]'::vector <-> '[1,2,3]' AS still_alive;
