-- What a DBA looks at: a comment on every object of the extension,
-- quiver_index_stats and quiver_recall.

-- every function, aggregate, operator, operator class and family, type and
-- the access method has a comment
WITH objects AS (
    SELECT d.classid, d.objid FROM pg_depend d
    WHERE d.refobjid = (SELECT oid FROM pg_extension WHERE extname = 'quiver') AND d.deptype = 'e'
)
SELECT pg_describe_object(classid, objid, 0) AS without_comment
FROM objects
WHERE classid <> 'pg_cast'::regclass AND obj_description(objid, classid::regclass::text) IS NULL
ORDER BY 1;
SELECT amname, obj_description(oid, 'pg_am') FROM pg_am WHERE amname = 'hnsw';
SELECT format_type(t.oid, NULL), obj_description(t.oid, 'pg_type') FROM pg_type t
WHERE t.typname IN ('vector', 'halfvec', 'sparsevec') ORDER BY 1;
SELECT p.oid::regprocedure, obj_description(p.oid, 'pg_proc') FROM pg_proc p
WHERE p.proname IN ('l2_distance', 'binary_quantize', 'avg', 'vector_to_halfvec') AND p.pronamespace = 'public'::regnamespace
ORDER BY 1::text;
SELECT o.oid::regoperator, obj_description(o.oid, 'pg_operator') FROM pg_operator o
WHERE o.oprname IN ('<=>', '<') AND o.oprleft = 'halfvec'::regtype ORDER BY 1::text;
SELECT c.opcname, obj_description(c.oid, 'pg_opclass') FROM pg_opclass c
WHERE c.opcname IN ('vector_cosine_ops', 'bit_jaccard_ops', 'sparsevec_ops') ORDER BY 1;

-- quiver_index_stats: what the pages hold, against what the table says
CREATE TABLE dba_items (id int PRIMARY KEY, embedding vector(8));
INSERT INTO dba_items
SELECT i, ARRAY(SELECT sin(i * 0.37 + d * 1.7) * (1 + (i % 7) * 0.1) FROM generate_series(1, 8) d)::real[]
FROM generate_series(1, 3000) i;
CREATE INDEX dba_l2 ON dba_items USING hnsw (embedding vector_l2_ops) WITH (m = 8, ef_construction = 32);
SELECT indexed_type, dimensions, metric, m, ef_construction, elements, heap_tuples, deleted_elements,
       elements_per_layer[1] = elements AS layer_0_holds_all,
       (SELECT bool_and(a >= b) FROM unnest(elements_per_layer[:cardinality(elements_per_layer) - 1]) WITH ORDINALITY x(a, i)
        JOIN unnest(elements_per_layer[2:]) WITH ORDINALITY y(b, j) ON i = j) AS layers_shrink,
       average_degree BETWEEN 4 AND 16 AS degree_within_2m,
       wide_elements, neighbor_codes, size_bytes = pg_relation_size('dba_l2') AS size_matches
FROM quiver_index_stats('dba_l2');
-- deleted rows leave the index at VACUUM
DELETE FROM dba_items WHERE id % 3 = 0;
SELECT elements, heap_tuples, deleted_elements FROM quiver_index_stats('dba_l2');
VACUUM dba_items;
SELECT elements, heap_tuples, deleted_elements FROM quiver_index_stats('dba_l2');
CREATE INDEX dba_codes ON dba_items USING hnsw (embedding vector_cosine_ops) WITH (neighbor_codes = on);
SELECT metric, neighbor_codes FROM quiver_index_stats('dba_codes');
SELECT sqlstate_of($$SELECT * FROM quiver_index_stats('dba_items_pkey')$$);

-- quiver_recall: recall@k at the current ef_search, against exact scans
SET hnsw.ef_search = 200;
SELECT quiver_recall('dba_l2', 10, 50) >= 0.95 AS sampled_recall_high;
SELECT quiver_recall('dba_l2', ARRAY(SELECT embedding FROM dba_items WHERE id % 100 = 1), 5) >= 0.95 AS given_queries_recall_high;
RESET hnsw.ef_search;
SELECT quiver_recall('dba_l2', 10, 0) IS NULL AS no_sample_no_recall;
SELECT sqlstate_of($$SELECT quiver_recall('dba_items_pkey')$$);
-- two indexes for one ordering: the planner takes the cheaper (m = 8), and the
-- other cannot be measured
CREATE INDEX dba_l2_again ON dba_items USING hnsw (embedding vector_l2_ops);
SELECT sqlstate_of($$SELECT quiver_recall('dba_l2_again')$$);
DROP TABLE dba_items;

-- pgvector's ivfflat, as a dump or a migration writes it, builds (the ivfflat suite tests it)
CREATE TABLE dba_ivf (id int, embedding vector(3));
CREATE INDEX dba_ivf_idx ON dba_ivf USING ivfflat (embedding vector_l2_ops) WITH (lists = 100);
SELECT access_method, lists, trained FROM quiver_index_stats('dba_ivf_idx');
DROP TABLE dba_ivf;
