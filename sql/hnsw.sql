-- The hnsw index access method and its operator classes (no default class, as in pgvector).

CREATE FUNCTION hnsw_handler(internal) RETURNS index_am_handler
    AS 'MODULE_PATHNAME', 'hnsw_handler_wrapper' LANGUAGE C;

CREATE ACCESS METHOD hnsw TYPE INDEX HANDLER hnsw_handler;


-- pgvector's IVF index, under its name (see src/am/ivfflat): lists of coded
-- rows around k-means centers. Its operator classes are pgvector's: vector
-- and halfvec with l2, ip and cosine (whose norm, function 2, marks it), and
-- bit with hamming; vector_l2_ops is vector's default, as in pgvector.
CREATE FUNCTION ivfflat_handler(internal) RETURNS index_am_handler
    AS 'MODULE_PATHNAME', 'ivfflat_handler_wrapper' LANGUAGE C;
CREATE ACCESS METHOD ivfflat TYPE INDEX HANDLER ivfflat_handler;

CREATE OPERATOR CLASS vector_l2_ops DEFAULT FOR TYPE vector USING ivfflat AS
    OPERATOR 1 <-> (vector, vector) FOR ORDER BY float_ops, FUNCTION 1 vector_l2_squared_distance(vector, vector);
CREATE OPERATOR CLASS vector_ip_ops FOR TYPE vector USING ivfflat AS
    OPERATOR 1 <#> (vector, vector) FOR ORDER BY float_ops, FUNCTION 1 vector_negative_inner_product(vector, vector);
CREATE OPERATOR CLASS vector_cosine_ops FOR TYPE vector USING ivfflat AS
    OPERATOR 1 <=> (vector, vector) FOR ORDER BY float_ops, FUNCTION 1 vector_negative_inner_product(vector, vector),
    FUNCTION 2 vector_norm(vector);
CREATE OPERATOR CLASS halfvec_l2_ops FOR TYPE halfvec USING ivfflat AS
    OPERATOR 1 <-> (halfvec, halfvec) FOR ORDER BY float_ops, FUNCTION 1 halfvec_l2_squared_distance(halfvec, halfvec);
CREATE OPERATOR CLASS halfvec_ip_ops FOR TYPE halfvec USING ivfflat AS
    OPERATOR 1 <#> (halfvec, halfvec) FOR ORDER BY float_ops, FUNCTION 1 halfvec_negative_inner_product(halfvec, halfvec);
CREATE OPERATOR CLASS halfvec_cosine_ops FOR TYPE halfvec USING ivfflat AS
    OPERATOR 1 <=> (halfvec, halfvec) FOR ORDER BY float_ops, FUNCTION 1 halfvec_negative_inner_product(halfvec, halfvec),
    FUNCTION 2 l2_norm(halfvec);
CREATE OPERATOR CLASS bit_hamming_ops FOR TYPE bit USING ivfflat AS
    OPERATOR 1 <~> (bit, bit) FOR ORDER BY float_ops, FUNCTION 1 hamming_distance(bit, bit);

-- Support function 1 is the distance the graph orders by; 2, the norm,
-- marks cosine, whose vectors the index stores normalized. A halfvec is
-- widened to float4 as it enters the index.

CREATE OPERATOR CLASS vector_l2_ops
    FOR TYPE vector USING hnsw AS
    OPERATOR 1 <-> (vector, vector) FOR ORDER BY float_ops,
    FUNCTION 1 vector_l2_squared_distance(vector, vector);

CREATE OPERATOR CLASS vector_ip_ops
    FOR TYPE vector USING hnsw AS
    OPERATOR 1 <#> (vector, vector) FOR ORDER BY float_ops,
    FUNCTION 1 vector_negative_inner_product(vector, vector);

CREATE OPERATOR CLASS vector_cosine_ops
    FOR TYPE vector USING hnsw AS
    OPERATOR 1 <=> (vector, vector) FOR ORDER BY float_ops,
    FUNCTION 1 vector_negative_inner_product(vector, vector),
    FUNCTION 2 vector_norm(vector);

CREATE OPERATOR CLASS vector_l1_ops
    FOR TYPE vector USING hnsw AS
    OPERATOR 1 <+> (vector, vector) FOR ORDER BY float_ops,
    FUNCTION 1 l1_distance(vector, vector);

CREATE OPERATOR CLASS halfvec_l2_ops
    FOR TYPE halfvec USING hnsw AS
    OPERATOR 1 <-> (halfvec, halfvec) FOR ORDER BY float_ops,
    FUNCTION 1 halfvec_l2_squared_distance(halfvec, halfvec);

CREATE OPERATOR CLASS halfvec_ip_ops
    FOR TYPE halfvec USING hnsw AS
    OPERATOR 1 <#> (halfvec, halfvec) FOR ORDER BY float_ops,
    FUNCTION 1 halfvec_negative_inner_product(halfvec, halfvec);

CREATE OPERATOR CLASS halfvec_cosine_ops
    FOR TYPE halfvec USING hnsw AS
    OPERATOR 1 <=> (halfvec, halfvec) FOR ORDER BY float_ops,
    FUNCTION 1 halfvec_negative_inner_product(halfvec, halfvec),
    FUNCTION 2 l2_norm(halfvec);

CREATE OPERATOR CLASS halfvec_l1_ops
    FOR TYPE halfvec USING hnsw AS
    OPERATOR 1 <+> (halfvec, halfvec) FOR ORDER BY float_ops,
    FUNCTION 1 l1_distance(halfvec, halfvec);

CREATE OPERATOR CLASS bit_hamming_ops
    FOR TYPE bit USING hnsw AS
    OPERATOR 1 <~> (bit, bit) FOR ORDER BY float_ops,
    FUNCTION 1 hamming_distance(bit, bit);

CREATE OPERATOR CLASS bit_jaccard_ops
    FOR TYPE bit USING hnsw AS
    OPERATOR 1 <%> (bit, bit) FOR ORDER BY float_ops,
    FUNCTION 1 jaccard_distance(bit, bit);

CREATE OPERATOR CLASS sparsevec_l2_ops
    FOR TYPE sparsevec USING hnsw AS
    OPERATOR 1 <-> (sparsevec, sparsevec) FOR ORDER BY float_ops,
    FUNCTION 1 sparsevec_l2_squared_distance(sparsevec, sparsevec);

CREATE OPERATOR CLASS sparsevec_ip_ops
    FOR TYPE sparsevec USING hnsw AS
    OPERATOR 1 <#> (sparsevec, sparsevec) FOR ORDER BY float_ops,
    FUNCTION 1 sparsevec_negative_inner_product(sparsevec, sparsevec);

CREATE OPERATOR CLASS sparsevec_cosine_ops
    FOR TYPE sparsevec USING hnsw AS
    OPERATOR 1 <=> (sparsevec, sparsevec) FOR ORDER BY float_ops,
    FUNCTION 1 sparsevec_negative_inner_product(sparsevec, sparsevec),
    FUNCTION 2 l2_norm(sparsevec);

CREATE OPERATOR CLASS sparsevec_l1_ops
    FOR TYPE sparsevec USING hnsw AS
    OPERATOR 1 <+> (sparsevec, sparsevec) FOR ORDER BY float_ops,
    FUNCTION 1 l1_distance(sparsevec, sparsevec);

-- Structural check of an hnsw or ivfflat index: one line per problem, empty when sound.
CREATE FUNCTION quiver_check_index(regclass) RETURNS text[]
    AS 'MODULE_PATHNAME', 'quiver_check_index_wrapper' LANGUAGE C STRICT;

-- What an hnsw or ivfflat index holds, read from its pages: one row (the
-- columns of the other index type are NULL).
CREATE FUNCTION quiver_index_stats(regclass,
    OUT indexed_type text, OUT dimensions integer, OUT metric text, OUT m integer, OUT ef_construction integer,
    OUT elements bigint, OUT heap_tuples bigint, OUT deleted_elements bigint, OUT elements_per_layer bigint[],
    OUT average_degree double precision, OUT wide_elements bigint, OUT neighbor_codes text,
    OUT pages bigint, OUT size_bytes bigint,
    OUT access_method text, OUT lists integer, OUT trained boolean, OUT list_sizes bigint[])
    RETURNS SETOF record
    AS 'MODULE_PATHNAME', 'quiver_index_stats_wrapper' LANGUAGE C STRICT ROWS 1;

-- The recall functions run with the caller's rights (not SECURITY DEFINER)
-- and a search_path of their own, pg_catalog then pg_temp, so that no
-- function, operator or table of a schema in the caller's search_path is
-- picked up instead of PostgreSQL's; extension objects are named with
-- @extschema@, the distance operator as OPERATOR(schema.op), and names in
-- the SQL they build come from pg_get_indexdef, pg_get_expr and regclass,
-- schema-qualified under that search_path.

-- How many of an index scan's k nearest rows to one query are no farther than
-- an exact scan's k-th (ties count either way), over the exact scan's row
-- count. The query is SQL with $1 bound to `arg`, read with the search_path
-- above (qualify its names). An ERROR if the planner serves the index scan
-- with another index.
CREATE FUNCTION quiver_recall_of_query(index regclass, k integer, query text, arg anyelement)
RETURNS double precision LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    tab regclass;
    expr text;
    pred text;
    op text;
    kth double precision;
    found bigint;
    indexed double precision[];
    plan json;
    saved text[] := ARRAY[current_setting('enable_indexscan'), current_setting('enable_seqscan'),
                          current_setting('enable_bitmapscan'), current_setting('enable_sort')];
BEGIN
    SELECT i.indrelid::regclass, pg_get_indexdef(i.indexrelid, 1, true), coalesce(pg_get_expr(i.indpred, i.indrelid), 'true'),
           format('OPERATOR(%I.%s)', n.nspname, o.oprname)
      INTO tab, expr, pred, op
      FROM pg_index i
      JOIN pg_opclass c ON c.oid = i.indclass[0]
      JOIN pg_amop a ON a.amopfamily = c.opcfamily AND a.amoppurpose = 'o'
      JOIN pg_operator o ON o.oid = a.amopopr
      JOIN pg_namespace n ON n.oid = o.oprnamespace
     WHERE i.indexrelid = index;
    IF tab IS NULL THEN
        RAISE EXCEPTION '"%" is not an index with an ordering operator', index USING ERRCODE = 'wrong_object_type';
    END IF;
    PERFORM set_config('enable_indexscan', 'off', true);
    EXECUTE format('SELECT max(d), count(d) FROM (SELECT %1$s %2$s %3$s AS d FROM %4$s WHERE %5$s ORDER BY 1 LIMIT %6$s) s',
                   expr, op, query, tab, pred, k)
        INTO kth, found USING arg;
    PERFORM set_config('enable_indexscan', 'on', true);
    PERFORM set_config('enable_seqscan', 'off', true);
    PERFORM set_config('enable_bitmapscan', 'off', true);
    PERFORM set_config('enable_sort', 'off', true);
    query := format('SELECT %1$s %2$s %3$s AS d FROM %4$s WHERE %5$s ORDER BY %1$s %2$s %3$s LIMIT %6$s',
                    expr, op, query, tab, pred, k);
    EXECUTE 'EXPLAIN (FORMAT JSON) ' || query INTO plan USING arg;
    EXECUTE format('SELECT array_agg(d) FROM (%s) s', query) INTO indexed USING arg;
    PERFORM set_config('enable_indexscan', saved[1], true);
    PERFORM set_config('enable_seqscan', saved[2], true);
    PERFORM set_config('enable_bitmapscan', saved[3], true);
    PERFORM set_config('enable_sort', saved[4], true);
    IF plan::text NOT LIKE format('%%"Index Name": "%s"%%', (SELECT relname FROM pg_class WHERE oid = index)) THEN
        RAISE EXCEPTION 'the planner does not scan "%" for this query', index
            USING ERRCODE = 'object_not_in_prerequisite_state', HINT = 'Another index orders by the same operator; drop it, or measure that one.';
    END IF;
    IF found = 0 THEN
        RETURN NULL;
    END IF;
    RETURN (SELECT count(*) FROM unnest(indexed) d WHERE d <= kth + 1e-6 * greatest(1, abs(kth)))::double precision / found;
END $$;

-- recall@k of an hnsw index at the current hnsw.ef_search, the figure to tune
-- it by: the average over `sample` rows of the table, taken at random as
-- queries, of quiver_recall_of_query.
CREATE FUNCTION quiver_recall(index regclass, k integer DEFAULT 10, sample integer DEFAULT 100)
RETURNS double precision LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    tab regclass;
    expr text;
    pred text;
    ctids tid[];
    row_id tid;
    total double precision := 0;
BEGIN
    SELECT i.indrelid::regclass, pg_get_indexdef(i.indexrelid, 1, true), coalesce(pg_get_expr(i.indpred, i.indrelid), 'true')
      INTO tab, expr, pred FROM pg_index i WHERE i.indexrelid = index;
    EXECUTE format('SELECT array_agg(ctid) FROM (SELECT ctid FROM %s WHERE (%s) AND (%s) IS NOT NULL ORDER BY random() LIMIT %s) s',
                   tab, pred, expr, sample)
        INTO ctids;
    IF ctids IS NULL THEN
        RETURN NULL;
    END IF;
    FOREACH row_id IN ARRAY ctids LOOP
        total := total + coalesce(@extschema@.quiver_recall_of_query(
            index, k, format('(SELECT %s FROM %s WHERE ctid = $1)', expr, tab), row_id), 0);
    END LOOP;
    RETURN total / cardinality(ctids);
END $$;

-- The same for the given queries, of the indexed expression's type.
CREATE FUNCTION quiver_recall(index regclass, queries anyarray, k integer DEFAULT 10)
RETURNS double precision LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    total double precision := 0;
BEGIN
    FOR i IN 1 .. coalesce(cardinality(queries), 0) LOOP
        total := total + coalesce(@extschema@.quiver_recall_of_query(index, k, '$1', queries[i]), 0);
    END LOOP;
    RETURN total / nullif(cardinality(queries), 0);
END $$;
