-- Filter columns of an hnsw or ivfflat index: key columns after the vector,
-- stored with each element (each list entry), whose WHERE conditions the
-- index checks during its walk (as it reads a list):
--   CREATE INDEX ON items USING hnsw (embedding vector_cosine_ops, tenant_id, labels);
-- Each class is the default for its type. Strategies: 1 <, 2 <=, 3 =, 4 >=,
-- 5 >, and for arrays 6 && (overlap), 7 @> (contains), 8 <@ (is contained by).
-- Types of one family compare with each other (int8_col = 5 is int8 = int4),
-- as in btree's families, so such conditions reach the index too.
-- The block runs with search_path pg_catalog, pg_temp, so that the
-- operators and functions it calls are PostgreSQL's even when the target
-- schema holds others of the same names (a trusted extension's script runs
-- as a superuser); it restores the script's path for what follows.
DO $$
DECLARE
    saved_path text := pg_catalog.current_setting('search_path');
    family record;
    am text;
    left_type text;
    right_type text;
    operators text[] := ARRAY['<', '<=', '=', '>=', '>'];
    i int;
BEGIN
    PERFORM pg_catalog.set_config('search_path', 'pg_catalog, pg_temp', true);
    FOREACH am IN ARRAY ARRAY['hnsw', 'ivfflat'] LOOP
    FOR family IN
        SELECT * FROM (VALUES
            ('integer_filter_ops', ARRAY['int2', 'int4', 'int8']),
            ('float_filter_ops', ARRAY['float4', 'float8']),
            ('datetime_filter_ops', ARRAY['date', 'timestamp', 'timestamptz']),
            ('text_filter_ops', ARRAY['text']),
            ('uuid_filter_ops', ARRAY['uuid']),
            ('bool_filter_ops', ARRAY['bool'])) AS f(name, types)
    LOOP
        EXECUTE format('CREATE OPERATOR FAMILY @extschema@.%I USING %I', family.name, am);
        FOREACH left_type IN ARRAY family.types LOOP
            EXECUTE format('CREATE OPERATOR CLASS @extschema@.%I DEFAULT FOR TYPE %s USING %I FAMILY @extschema@.%I AS %s',
                left_type || '_filter_ops', left_type, am, family.name,
                (SELECT string_agg(format('OPERATOR %s %s (%s, %s)', s, operators[s], left_type, left_type), ', ')
                 FROM generate_series(1, 5) s
                 WHERE left_type <> 'bool' OR operators[s] = '='));
            FOREACH right_type IN ARRAY family.types LOOP
                CONTINUE WHEN right_type = left_type;
                FOR i IN 1..5 LOOP
                    EXECUTE format('ALTER OPERATOR FAMILY @extschema@.%I USING %I ADD OPERATOR %s %s (%s, %s)',
                        family.name, am, i, operators[i], left_type, right_type);
                END LOOP;
            END LOOP;
        END LOOP;
    END LOOP;
    END LOOP;
    PERFORM pg_catalog.set_config('search_path', saved_path, true);
END $$;

-- Arrays of any element type: label columns such as int4[] or text[].
CREATE OPERATOR CLASS array_filter_ops DEFAULT FOR TYPE anyarray USING hnsw AS
    OPERATOR 3 = (anyarray, anyarray),
    OPERATOR 6 && (anyarray, anyarray),
    OPERATOR 7 @> (anyarray, anyarray),
    OPERATOR 8 <@ (anyarray, anyarray);
CREATE OPERATOR CLASS array_filter_ops DEFAULT FOR TYPE anyarray USING ivfflat AS
    OPERATOR 3 = (anyarray, anyarray),
    OPERATOR 6 && (anyarray, anyarray),
    OPERATOR 7 @> (anyarray, anyarray),
    OPERATOR 8 <@ (anyarray, anyarray);
