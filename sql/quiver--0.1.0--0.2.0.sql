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
