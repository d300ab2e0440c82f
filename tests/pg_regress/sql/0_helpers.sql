-- Helpers every suite uses; this file runs first (pg_regress runs the suites in name order).

-- A statement's SQLSTATE and message, or 'no error'.
CREATE FUNCTION sqlstate_of(query text) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE query;
    RETURN 'no error';
EXCEPTION WHEN OTHERS THEN
    RETURN SQLSTATE || ': ' || SQLERRM;
END $$;

-- Writes a binary COPY file of one row of one field: header, the row, trailer.
CREATE FUNCTION write_binary_copy(path text, field bytea) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    lo oid;
BEGIN
    lo := lo_from_bytea(0, '\x5047434f50590aff0d0a00'::bytea || '\x0000000000000000'::bytea
        || '\x0001'::bytea || int4send(length(field)) || field || '\xffff'::bytea);
    PERFORM lo_export(lo, path);
    PERFORM lo_unlink(lo);
END $$;

-- Whether an index scan's ten nearest rows of `tab` by `expression op query`
-- are ten rows none farther than an exact scan's tenth (ties in any order).
CREATE FUNCTION index_matches_exact(tab text, expression text, op text, query anyelement) RETURNS bool
LANGUAGE plpgsql AS $$
DECLARE
    tenth float8;
    indexed float8[];
BEGIN
    SET LOCAL enable_indexscan = off;
    EXECUTE format('SELECT max(d) FROM (SELECT %s %s $1 AS d FROM %s ORDER BY 1 LIMIT 10) s', expression, op, tab)
        INTO tenth USING query;
    SET LOCAL enable_indexscan = on;
    SET LOCAL enable_seqscan = off;
    SET LOCAL enable_sort = off;
    EXECUTE format('SELECT array_agg(d) FROM (SELECT %s %s $1 AS d FROM %s ORDER BY %s %s $1 LIMIT 10) s',
                   expression, op, tab, expression, op)
        INTO indexed USING query;
    RETURN cardinality(indexed) = 10 AND (SELECT max(d) FROM unnest(indexed) d) <= tenth + 1e-6;
END $$;
