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
