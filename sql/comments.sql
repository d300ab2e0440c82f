-- A comment on every type, function, aggregate, operator, operator class and
-- family, and the access method, for psql's \dT+, \df+, \do+, \dAc and \dA.
-- Functions and operators are described by name, in one place, so that the
-- regress suite can ask that none is left without.

COMMENT ON TYPE @extschema@.vector IS 'vector of float4 elements, up to 16,000 dimensions';
COMMENT ON TYPE @extschema@.halfvec IS 'vector of float16 (half precision) elements, up to 16,000 dimensions';
COMMENT ON TYPE @extschema@.sparsevec IS 'sparse vector: its dimensions and its non-zero elements';
COMMENT ON ACCESS METHOD hnsw IS 'HNSW graph index: nearest neighbors by vector distance (Quiver)';
COMMENT ON ACCESS METHOD ivfflat IS 'IVF index: lists of coded rows around k-means centers, nearest neighbors by vector distance (Quiver)';
COMMENT ON FUNCTION @extschema@.quiver_check_index(regclass) IS
    'structural check of an hnsw or ivfflat index: one line per problem, empty when sound';
COMMENT ON FUNCTION @extschema@.quiver_index_stats(regclass) IS
    'what an hnsw or ivfflat index holds: parameters, elements per layer or list sizes, size, codes';
COMMENT ON FUNCTION @extschema@.quiver_recall(regclass, integer, integer) IS
    'recall@k of an index at the current hnsw.ef_search, over a sample of its rows as queries';
COMMENT ON FUNCTION @extschema@.quiver_recall(regclass, anyarray, integer) IS
    'recall@k of an index at the current hnsw.ef_search, over the given queries';
COMMENT ON FUNCTION @extschema@.quiver_recall_of_query(regclass, integer, text, anyelement) IS
    'recall@k of an index for one query (used by quiver_recall)';

-- With search_path pg_catalog, pg_temp, restored at the end, as in
-- hnsw_filters.sql; the extension's types are named without their schema.
DO $$
DECLARE
    saved_path text := pg_catalog.current_setting('search_path');
    extension oid;
    object record;
    what text;
BEGIN
    PERFORM pg_catalog.set_config('search_path', 'pg_catalog, pg_temp', true);
    extension := (SELECT refobjid FROM pg_depend
                  WHERE classid = 'pg_type'::regclass AND objid = '@extschema@.vector'::regtype AND deptype = 'e');
    FOR object IN
        SELECT p.oid, p.proname AS name, p.prokind, replace(format_type(p.prorettype, NULL), '@extschema@.', '') AS returns,
               replace(format_type(p.proargtypes[0], NULL), '@extschema@.', '') AS first
        FROM pg_proc p JOIN pg_depend d ON d.classid = 'pg_proc'::regclass AND d.objid = p.oid
        WHERE d.refobjid = extension AND d.deptype = 'e' AND obj_description(p.oid, 'pg_proc') IS NULL
    LOOP
        what := CASE
            WHEN object.name ~ '_typmod_in$' THEN 'dimensions of ' || regexp_replace(object.name, '_typmod_in$', '') || '(n)'
            WHEN object.name ~ '_in$' THEN 'text input of ' || object.returns
            WHEN object.name ~ '_out$' THEN 'text output of ' || object.first
            WHEN object.name ~ '_recv$' THEN 'binary input of ' || object.returns
            WHEN object.name ~ '_send$' THEN 'binary output of ' || object.first
            WHEN object.name = 'l2_distance' THEN 'L2 (Euclidean) distance, as <->'
            WHEN object.name = 'inner_product' THEN 'inner product (<#> is its negative)'
            WHEN object.name = 'cosine_distance' THEN 'cosine distance, 1 - cosine similarity, as <=>'
            WHEN object.name = 'l1_distance' THEN 'L1 (taxicab) distance, as <+>'
            WHEN object.name = 'hamming_distance' THEN 'Hamming distance: the bits that differ, as <~>'
            WHEN object.name = 'jaccard_distance' THEN 'Jaccard distance: 1 - bits set in both / bits set in either, as <%>'
            WHEN object.name = 'vector_dims' THEN 'number of dimensions'
            WHEN object.name IN ('vector_norm', 'l2_norm') THEN 'Euclidean (L2) norm'
            WHEN object.name = 'l2_normalize' THEN 'the vector scaled to Euclidean norm 1'
            WHEN object.name = 'subvector' THEN 'the elements from a 1-based position, as many as asked'
            WHEN object.name = 'binary_quantize' THEN 'one bit per element: 1 where the element is positive'
            WHEN object.name = 'avg' THEN 'element-wise average'
            WHEN object.name = 'sum' THEN 'element-wise sum'
            WHEN object.name ~ '_accum$' THEN 'state transition of avg and sum over ' || object.first
            WHEN object.name ~ '_combine$' THEN 'combines partial states of avg and sum over ' || object.returns
            WHEN object.name ~ '_avg$' THEN 'final function of avg: the state divided by its count'
            WHEN object.name ~ '_add$' THEN 'element-wise sum, as +'
            WHEN object.name ~ '_sub$' THEN 'element-wise difference, as -'
            WHEN object.name ~ '_mul$' THEN 'element-wise product, as *'
            WHEN object.name ~ '_concat$' THEN 'concatenation, as ||'
            WHEN object.name ~ '_(lt|le|eq|ne|ge|gt)$' THEN
                'comparison, as ' || CASE substring(object.name FROM '_(..)$')
                    WHEN 'lt' THEN '<' WHEN 'le' THEN '<=' WHEN 'eq' THEN '=' WHEN 'ne' THEN '<>' WHEN 'ge' THEN '>=' ELSE '>' END
            WHEN object.name ~ '_cmp$' THEN 'btree order of ' || object.first || ': -1, 0 or 1'
            WHEN object.name ~ '_l2_squared_distance$' THEN 'squared L2 distance (hnsw support)'
            WHEN object.name ~ '_negative_inner_product$' THEN 'negative inner product, as <#> (hnsw support)'
            WHEN object.name ~ '_spherical_distance$' THEN 'angle between unit vectors, as a fraction of pi (as pgvector''s)'
            WHEN object.name = 'vector_distance_support' THEN 'planner support: what a call of a vector function costs'
            WHEN object.name = 'hnsw_handler' THEN 'handler of the hnsw access method'
            WHEN object.name = 'ivfflat_handler' THEN 'handler of the ivfflat access method'
            WHEN object.name IN ('vector', 'halfvec', 'sparsevec') THEN 'cast to ' || object.name || '(n): checks the dimensions'
            WHEN object.name ~ '_to_' THEN 'cast from ' || object.first || ' to ' || object.returns
        END;
        IF what IS NOT NULL THEN
            EXECUTE format('COMMENT ON %s %s IS %L', CASE object.prokind WHEN 'a' THEN 'AGGREGATE' ELSE 'FUNCTION' END,
                           object.oid::regprocedure, what);
        END IF;
    END LOOP;

    FOR object IN
        SELECT o.oid, o.oprname AS name, replace(format_type(o.oprleft, NULL), '@extschema@.', '') AS left_type
        FROM pg_operator o JOIN pg_depend d ON d.classid = 'pg_operator'::regclass AND d.objid = o.oid
        WHERE d.refobjid = extension AND d.deptype = 'e'
    LOOP
        what := CASE object.name
            WHEN '<->' THEN 'L2 (Euclidean) distance'
            WHEN '<#>' THEN 'negative inner product'
            WHEN '<=>' THEN 'cosine distance'
            WHEN '<+>' THEN 'L1 (taxicab) distance'
            WHEN '<~>' THEN 'Hamming distance'
            WHEN '<%>' THEN 'Jaccard distance'
            WHEN '+' THEN 'element-wise sum'
            WHEN '-' THEN 'element-wise difference'
            WHEN '*' THEN 'element-wise product'
            WHEN '||' THEN 'concatenation'
            ELSE 'btree order of ' || object.left_type || ': ' || CASE object.name
                WHEN '<' THEN 'less than' WHEN '<=' THEN 'less than or equal' WHEN '=' THEN 'equal'
                WHEN '<>' THEN 'not equal' WHEN '>=' THEN 'greater than or equal' ELSE 'greater than' END
        END;
        EXECUTE format('COMMENT ON OPERATOR %s IS %L', object.oid::regoperator, what);
    END LOOP;

    FOR object IN
        SELECT c.opcname AS name, c.opcfamily, a.amname, replace(format_type(c.opcintype, NULL), '@extschema@.', '') AS type
        FROM pg_opclass c JOIN pg_am a ON a.oid = c.opcmethod
        JOIN pg_depend d ON d.classid = 'pg_opclass'::regclass AND d.objid = c.oid
        WHERE d.refobjid = extension AND d.deptype = 'e'
    LOOP
        what := CASE
            WHEN object.amname = 'btree' THEN 'btree order of ' || object.type || ': element by element, then by dimensions'
            WHEN object.name LIKE '%\_filter\_ops' THEN object.amname || ' filter column of type ' || object.type
                || ' (after the vector): its WHERE conditions are checked inside the index'
            ELSE object.amname || ' index on ' || object.type || ' ordered by ' || CASE substring(object.name FROM '_([a-z0-9]+)_ops$')
                WHEN 'l2' THEN 'L2 distance (<->)' WHEN 'ip' THEN 'negative inner product (<#>)'
                WHEN 'cosine' THEN 'cosine distance (<=>)' WHEN 'l1' THEN 'L1 distance (<+>)'
                WHEN 'hamming' THEN 'Hamming distance (<~>)' ELSE 'Jaccard distance (<%>)' END
        END;
        EXECUTE format('COMMENT ON OPERATOR CLASS @extschema@.%I USING %I IS %L', object.name, object.amname, what);
        IF (SELECT f.opfname FROM pg_opfamily f WHERE f.oid = object.opcfamily) = object.name THEN
            EXECUTE format('COMMENT ON OPERATOR FAMILY @extschema@.%I USING %I IS %L', object.name, object.amname, what);
        END IF;
    END LOOP;
    -- Filter classes of types that compare with each other share a family.
    FOR object IN
        SELECT f.oid, f.opfname AS name, a.amname FROM pg_opfamily f JOIN pg_am a ON a.oid = f.opfmethod
        JOIN pg_depend d ON d.classid = 'pg_opfamily'::regclass AND d.objid = f.oid
        WHERE d.refobjid = extension AND d.deptype = 'e' AND f.opfname LIKE '%\_filter\_ops'
          AND NOT EXISTS (SELECT 1 FROM pg_opclass c WHERE c.opcfamily = f.oid AND c.opcname = f.opfname)
    LOOP
        EXECUTE format('COMMENT ON OPERATOR FAMILY @extschema@.%I USING %I IS %L', object.name, object.amname,
            object.amname || ' filter columns of the types ' || (SELECT string_agg(replace(format_type(c.opcintype, NULL), '@extschema@.', ''), ', ' ORDER BY c.opcname)
                FROM pg_opclass c WHERE c.opcfamily = object.oid)
            || ', which compare with each other');
    END LOOP;
    PERFORM pg_catalog.set_config('search_path', saved_path, true);
END $$;
