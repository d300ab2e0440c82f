-- Quiver 0.1.0 to 0.2.0: ALTER EXTENSION quiver UPDATE.
\echo Use "ALTER EXTENSION quiver UPDATE" to load this file. \quit

-- The recall functions get a search_path of their own (see sql/hnsw.sql), so
-- that objects in the caller's search_path are not picked up instead of
-- PostgreSQL's. Their bodies are unchanged. (0.2.0 also makes the extension
-- trusted, in the control file, and has quiver_check_index and
-- quiver_index_stats check that the caller may read the index's table, in
-- the library: neither is in SQL.)
ALTER FUNCTION @extschema@.quiver_recall_of_query(regclass, integer, text, anyelement)
    SET search_path = pg_catalog, pg_temp;
ALTER FUNCTION @extschema@.quiver_recall(regclass, integer, integer)
    SET search_path = pg_catalog, pg_temp;
ALTER FUNCTION @extschema@.quiver_recall(regclass, anyarray, integer)
    SET search_path = pg_catalog, pg_temp;

-- pgvector's spherical distance, which 0.1.0 did not have.
CREATE FUNCTION @extschema@.vector_spherical_distance(@extschema@.vector, @extschema@.vector) RETURNS float8
    AS 'MODULE_PATHNAME', 'vector_spherical_distance_wrapper' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION @extschema@.halfvec_spherical_distance(@extschema@.halfvec, @extschema@.halfvec) RETURNS float8
    AS 'MODULE_PATHNAME', 'halfvec_spherical_distance_wrapper' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.vector_spherical_distance(@extschema@.vector, @extschema@.vector)
    IS 'angle between unit vectors, as a fraction of pi (as pgvector''s)';
COMMENT ON FUNCTION @extschema@.halfvec_spherical_distance(@extschema@.halfvec, @extschema@.halfvec)
    IS 'angle between unit vectors, as a fraction of pi (as pgvector''s)';

-- ivfflat is an index from 0.2.0 on (0.1.0 refused to build one, so none
-- exists to keep). Its cosine classes gain the norm (function 2) that marks
-- cosine, as hnsw's have, and vector_l2_ops becomes vector's default class,
-- as in pgvector: dropped with their families and made again, as a fresh
-- install makes them.
DROP OPERATOR FAMILY @extschema@.vector_l2_ops USING ivfflat;
DROP OPERATOR FAMILY @extschema@.vector_cosine_ops USING ivfflat;
DROP OPERATOR FAMILY @extschema@.halfvec_cosine_ops USING ivfflat;
CREATE OPERATOR CLASS @extschema@.vector_l2_ops DEFAULT FOR TYPE @extschema@.vector USING ivfflat AS
    OPERATOR 1 @extschema@.<-> (@extschema@.vector, @extschema@.vector) FOR ORDER BY pg_catalog.float_ops,
    FUNCTION 1 @extschema@.vector_l2_squared_distance(@extschema@.vector, @extschema@.vector);
CREATE OPERATOR CLASS @extschema@.vector_cosine_ops FOR TYPE @extschema@.vector USING ivfflat AS
    OPERATOR 1 @extschema@.<=> (@extschema@.vector, @extschema@.vector) FOR ORDER BY pg_catalog.float_ops,
    FUNCTION 1 @extschema@.vector_negative_inner_product(@extschema@.vector, @extschema@.vector),
    FUNCTION 2 @extschema@.vector_norm(@extschema@.vector);
CREATE OPERATOR CLASS @extschema@.halfvec_cosine_ops FOR TYPE @extschema@.halfvec USING ivfflat AS
    OPERATOR 1 @extschema@.<=> (@extschema@.halfvec, @extschema@.halfvec) FOR ORDER BY pg_catalog.float_ops,
    FUNCTION 1 @extschema@.halfvec_negative_inner_product(@extschema@.halfvec, @extschema@.halfvec),
    FUNCTION 2 @extschema@.l2_norm(@extschema@.halfvec);

-- Filter columns for ivfflat, the classes hnsw has (sql/hnsw_filters.sql).
DO $$
DECLARE
    saved_path text := pg_catalog.current_setting('search_path');
    family record;
    left_type text;
    right_type text;
    operators text[] := ARRAY['<', '<=', '=', '>=', '>'];
    i int;
BEGIN
    PERFORM pg_catalog.set_config('search_path', 'pg_catalog, pg_temp', true);
    FOR family IN
        SELECT * FROM (VALUES
            ('integer_filter_ops', ARRAY['int2', 'int4', 'int8']),
            ('float_filter_ops', ARRAY['float4', 'float8']),
            ('datetime_filter_ops', ARRAY['date', 'timestamp', 'timestamptz']),
            ('text_filter_ops', ARRAY['text']),
            ('uuid_filter_ops', ARRAY['uuid']),
            ('bool_filter_ops', ARRAY['bool'])) AS f(name, types)
    LOOP
        EXECUTE format('CREATE OPERATOR FAMILY @extschema@.%I USING ivfflat', family.name);
        FOREACH left_type IN ARRAY family.types LOOP
            EXECUTE format('CREATE OPERATOR CLASS @extschema@.%I DEFAULT FOR TYPE %s USING ivfflat FAMILY @extschema@.%I AS %s',
                left_type || '_filter_ops', left_type, family.name,
                (SELECT string_agg(format('OPERATOR %s %s (%s, %s)', s, operators[s], left_type, left_type), ', ')
                 FROM generate_series(1, 5) s
                 WHERE left_type <> 'bool' OR operators[s] = '='));
            FOREACH right_type IN ARRAY family.types LOOP
                CONTINUE WHEN right_type = left_type;
                FOR i IN 1..5 LOOP
                    EXECUTE format('ALTER OPERATOR FAMILY @extschema@.%I USING ivfflat ADD OPERATOR %s %s (%s, %s)',
                        family.name, i, operators[i], left_type, right_type);
                END LOOP;
            END LOOP;
        END LOOP;
    END LOOP;
    EXECUTE 'CREATE OPERATOR CLASS @extschema@.array_filter_ops DEFAULT FOR TYPE anyarray USING ivfflat AS '
        'OPERATOR 3 = (anyarray, anyarray), OPERATOR 6 && (anyarray, anyarray), '
        'OPERATOR 7 @> (anyarray, anyarray), OPERATOR 8 <@ (anyarray, anyarray)';
    PERFORM pg_catalog.set_config('search_path', saved_path, true);
END $$;

-- quiver_index_stats describes ivfflat indexes too: four more columns.
DROP FUNCTION @extschema@.quiver_index_stats(regclass);
CREATE FUNCTION @extschema@.quiver_index_stats(regclass,
    OUT indexed_type text, OUT dimensions integer, OUT metric text, OUT m integer, OUT ef_construction integer,
    OUT elements bigint, OUT heap_tuples bigint, OUT deleted_elements bigint, OUT elements_per_layer bigint[],
    OUT average_degree double precision, OUT wide_elements bigint, OUT neighbor_codes text,
    OUT pages bigint, OUT size_bytes bigint,
    OUT access_method text, OUT lists integer, OUT trained boolean, OUT list_sizes bigint[])
    RETURNS SETOF record
    AS 'MODULE_PATHNAME', 'quiver_index_stats_wrapper' LANGUAGE C STRICT ROWS 1;

-- Comments, as sql/comments.sql writes them.
COMMENT ON ACCESS METHOD ivfflat IS 'IVF index: lists of coded rows around k-means centers, nearest neighbors by vector distance (Quiver)';
COMMENT ON FUNCTION @extschema@.ivfflat_handler(internal) IS 'handler of the ivfflat access method';
COMMENT ON FUNCTION @extschema@.quiver_check_index(regclass) IS
    'structural check of an hnsw or ivfflat index: one line per problem, empty when sound';
COMMENT ON FUNCTION @extschema@.quiver_index_stats(regclass) IS
    'what an hnsw or ivfflat index holds: parameters, elements per layer or list sizes, size, codes';
DO $$
DECLARE
    saved_path text := pg_catalog.current_setting('search_path');
    object record;
    what text;
BEGIN
    PERFORM pg_catalog.set_config('search_path', 'pg_catalog, pg_temp', true);
    FOR object IN
        SELECT c.opcname AS name, c.opcfamily, replace(format_type(c.opcintype, NULL), '@extschema@.', '') AS type
        FROM pg_opclass c JOIN pg_am a ON a.oid = c.opcmethod
        WHERE a.amname = 'ivfflat' AND c.opcnamespace = '@extschema@'::regnamespace
    LOOP
        what := CASE
            WHEN object.name LIKE '%\_filter\_ops' THEN 'ivfflat filter column of type ' || object.type
                || ' (after the vector): its WHERE conditions are checked inside the index'
            ELSE 'ivfflat index on ' || object.type || ' ordered by ' || CASE substring(object.name FROM '_([a-z0-9]+)_ops$')
                WHEN 'l2' THEN 'L2 distance (<->)' WHEN 'ip' THEN 'negative inner product (<#>)'
                WHEN 'cosine' THEN 'cosine distance (<=>)' ELSE 'Hamming distance (<~>)' END
        END;
        EXECUTE format('COMMENT ON OPERATOR CLASS @extschema@.%I USING ivfflat IS %L', object.name, what);
        IF (SELECT f.opfname FROM pg_opfamily f WHERE f.oid = object.opcfamily) = object.name THEN
            EXECUTE format('COMMENT ON OPERATOR FAMILY @extschema@.%I USING ivfflat IS %L', object.name, what);
        END IF;
    END LOOP;
    FOR object IN
        SELECT f.oid, f.opfname AS name FROM pg_opfamily f JOIN pg_am a ON a.oid = f.opfmethod
        WHERE a.amname = 'ivfflat' AND f.opfnamespace = '@extschema@'::regnamespace AND f.opfname LIKE '%\_filter\_ops'
          AND NOT EXISTS (SELECT 1 FROM pg_opclass c WHERE c.opcfamily = f.oid AND c.opcname = f.opfname)
    LOOP
        EXECUTE format('COMMENT ON OPERATOR FAMILY @extschema@.%I USING ivfflat IS %L', object.name,
            'ivfflat filter columns of the types ' || (SELECT string_agg(replace(format_type(c.opcintype, NULL), '@extschema@.', ''), ', ' ORDER BY c.opcname)
                FROM pg_opclass c WHERE c.opcfamily = object.oid)
            || ', which compare with each other');
    END LOOP;
    PERFORM pg_catalog.set_config('search_path', saved_path, true);
END $$;
