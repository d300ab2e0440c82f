#!/usr/bin/env bash
# Privileges (README, "Security model"). Quiver is a trusted extension: a
# database owner who is not a superuser creates it, a user without CREATE on
# the database cannot, and its install script, which PostgreSQL then runs as
# a superuser, calls no operator planted in the target schema. No member
# function is SECURITY DEFINER; the SQL ones have their own search_path, so
# that functions, operators and tables a hostile schema puts ahead of
# pg_catalog in the caller's search_path (each
# leaves a trace when called) are not picked up by quiver_recall and
# quiver_recall_of_query; the same objects do take over ordinary SQL, which
# shows they would be found. quiver_check_index and quiver_index_stats are
# refused to a role that may not SELECT from the index's table. Row-level
# security: with an hnsw index scan (EXPLAIN says so), each role's
# ORDER BY embedding <-> q LIMIT k returns only its own rows, k of them, also
# when the index has a filter column and for the owner under FORCE ROW LEVEL
# SECURITY. Quiver must be installed.
set -euo pipefail
cd "$(dirname "$0")/.."
source tests/lib/cluster.sh
source tests/lib/check.sh

port=${PRIVILEGES_PORT:-54410}
throwaway_cluster privileges "$port"
dir=$CLUSTER_DIR
sql() { cluster_psql "$dir" "$port" "$@"; }
# as ROLE DB [psql args...]: a session of ROLE (trust authentication).
as() {
    local role=$1 db=$2
    shift 2
    "$PG_BINDIR/psql" -X -v ON_ERROR_STOP=1 -h "$dir" -p "$port" -U "$role" -d "$db" "$@"
}
# sqlstate ROLE DB SQL: the SQLSTATE of the statement's ERROR, or "none".
sqlstate() {
    local out
    out=$(as "$1" "$2" -qAt -c '\set VERBOSITY verbose' -c "$3" 2>&1) && { echo none; return; }
    sed -n 's/^ERROR:  \([0-9A-Z]\{5\}\):.*/\1/p' <<<"$out" | head -1
}

sql postgres -q -c "CREATE ROLE dbowner LOGIN" -c "CREATE ROLE plain LOGIN" -c "CREATE ROLE attacker LOGIN" \
    -c "CREATE ROLE alice LOGIN" -c "CREATE ROLE bob LOGIN" -c "CREATE ROLE stranger LOGIN" \
    -c "CREATE DATABASE app OWNER dbowner" -c "CREATE DATABASE other"

# --- Trusted: who can create it.
check "quiver is marked trusted" \
    "$(sql postgres -At -c "SELECT trusted FROM pg_available_extension_versions v JOIN pg_available_extensions a USING (name)
                            WHERE name = 'quiver' AND v.version = a.default_version")"
state=$(sqlstate plain other "CREATE EXTENSION quiver")
check "a user without CREATE on the database cannot create it (SQLSTATE $state)" "$([ "$state" = 42501 ] && echo t || echo f)"
as dbowner app -q -c "CREATE EXTENSION quiver"
check "the database owner, not a superuser, creates it; the extension is the owner's" \
    "$(sql app -At -c "SELECT NOT r.rolsuper AND e.extowner = r.oid FROM pg_extension e, pg_roles r WHERE e.extname = 'quiver' AND r.rolname = 'dbowner'")"

# The install script runs as a superuser in a schema the creating role
# chooses: an operator ~ (name, name) planted there matches the script's
# name ~ 'pattern' better than pg_catalog's ~ (name, text). It records who
# calls it; the script must not (pg_test/upgrade.sh shows 0.1.0's did).
sql postgres -q -c "CREATE DATABASE planted OWNER dbowner"
as dbowner planted -q <<'SQL'
CREATE SCHEMA mine;
CREATE TABLE mine.calls (who name);
CREATE FUNCTION mine.matches(a name, b name) RETURNS boolean LANGUAGE plpgsql AS
    $$BEGIN INSERT INTO mine.calls VALUES (current_user); RETURN a::text OPERATOR(pg_catalog.~) b::text; END$$;
CREATE OPERATOR mine.~ (LEFTARG = name, RIGHTARG = name, FUNCTION = mine.matches);
CREATE EXTENSION quiver SCHEMA mine;
SQL
calls=$(sql planted -At -c "SELECT count(*) || coalesce(' (as ' || string_agg(DISTINCT who::text, ', ') || ')', '') FROM mine.calls")
check "CREATE EXTENSION quiver in a schema with a planted operator the script's expressions would match: never called ($calls)" \
    "$([ "${calls%% *}" = 0 ] && echo t || echo f)"
check "and the extension there is complete (comments included)" \
    "$(sql planted -At -c "SELECT obj_description('mine.vector_in(cstring, oid, integer)'::regprocedure, 'pg_proc') = 'text input of vector'")"

# --- What runs with which rights: the catalog.
members="SELECT p.* FROM pg_proc p JOIN pg_depend d ON d.classid = 'pg_proc'::regclass AND d.objid = p.oid
         JOIN pg_extension e ON d.refobjid = e.oid AND d.deptype = 'e' WHERE e.extname = 'quiver'"
check "no member function is SECURITY DEFINER or LEAKPROOF" \
    "$(sql app -At -c "SELECT count(*) > 0 AND NOT bool_or(prosecdef OR proleakproof) FROM ($members) p")"
check "member functions are C, or plpgsql with search_path = pg_catalog, pg_temp (none is SQL), or aggregates" \
    "$(sql app -At -c "SELECT bool_and(l.lanname = 'c' OR (l.lanname = 'plpgsql' AND proconfig = '{\"search_path=pg_catalog, pg_temp\"}')
                                OR (p.prokind = 'a' AND l.lanname = 'internal'))
                       FROM ($members) p JOIN pg_language l ON l.oid = p.prolang")"
check "every GUC Quiver defines is settable by any user" \
    "$(sql app -At -c "SELECT '[1]'::vector IS NOT NULL" -c "SELECT count(*) > 0 AND bool_and(context = 'user') FROM pg_settings WHERE name LIKE 'hnsw.%'" | tail -1)"

# --- Tables and indexes of alice's: every distance, a partial index, an
# expression, a filter column.
sql app -q -c "GRANT CREATE ON SCHEMA public TO alice"
as alice app -q -c "
    CREATE TABLE items (id int PRIMARY KEY, category int, embedding vector(8));
    INSERT INTO items SELECT i, i % 5, ARRAY(SELECT sin(i * 0.7 + d * 1.3) + (i % 7) * 0.1 FROM generate_series(1, 8) d)::vector(8)
    FROM generate_series(1, 1000) i;
    CREATE INDEX items_l2 ON items USING hnsw (embedding vector_l2_ops);
    CREATE INDEX items_cosine_even ON items USING hnsw (embedding vector_cosine_ops) WHERE id % 2 = 0;
    CREATE INDEX items_half_l1 ON items USING hnsw ((embedding::halfvec(8)) halfvec_l1_ops);
    CREATE INDEX items_ip_category ON items USING hnsw (embedding vector_ip_ops, category);
    ANALYZE items;"

# --- A hostile schema. Its functions and operators have the names and
# argument types of those the recall functions call, some an exact match
# where pg_catalog's needs a cast; its views shadow the catalogs they read.
# Each records its name in evil.trace when used and then does what the
# original does, so a take-over shows as a trace, not as a failure.
sql app -q -c "CREATE SCHEMA evil AUTHORIZATION attacker" -c "GRANT USAGE ON SCHEMA evil TO PUBLIC"
as attacker app -q <<'SQL'
CREATE TABLE evil.trace (who name DEFAULT current_user, what text);
GRANT INSERT, SELECT ON evil.trace TO PUBLIC;
CREATE FUNCTION evil.traced(what text) RETURNS boolean LANGUAGE plpgsql AS
    $$BEGIN INSERT INTO evil.trace (what) VALUES (what); RETURN true; END$$;
CREATE FUNCTION evil.format(f text, a text, b text, c text, d regclass, e text, g integer) RETURNS text LANGUAGE plpgsql AS
    $$BEGIN PERFORM evil.traced('format'); RETURN pg_catalog.format(f, a, b, c, d, e, g); END$$;
CREATE FUNCTION evil.format(f text, a regclass, b text, c text, d integer) RETURNS text LANGUAGE plpgsql AS
    $$BEGIN PERFORM evil.traced('format'); RETURN pg_catalog.format(f, a, b, c, d); END$$;
CREATE FUNCTION evil.format(f text, a text, b regclass) RETURNS text LANGUAGE plpgsql AS
    $$BEGIN PERFORM evil.traced('format'); RETURN pg_catalog.format(f, a, b); END$$;
CREATE FUNCTION evil.format(f text, a name) RETURNS text LANGUAGE plpgsql AS
    $$BEGIN PERFORM evil.traced('format'); RETURN pg_catalog.format(f, a); END$$;
CREATE FUNCTION evil.set_config(a text, b text, c boolean) RETURNS text LANGUAGE plpgsql AS
    $$BEGIN PERFORM evil.traced('set_config'); RETURN pg_catalog.set_config(a, b, c); END$$;
CREATE FUNCTION evil.current_setting(a text) RETURNS text LANGUAGE plpgsql AS
    $$BEGIN PERFORM evil.traced('current_setting'); RETURN pg_catalog.current_setting(a); END$$;
CREATE FUNCTION evil.pg_get_indexdef(a oid, b integer, c boolean) RETURNS text LANGUAGE plpgsql AS
    $$BEGIN PERFORM evil.traced('pg_get_indexdef'); RETURN pg_catalog.pg_get_indexdef(a, b, c); END$$;
CREATE FUNCTION evil.pg_get_expr(a pg_node_tree, b oid) RETURNS text LANGUAGE plpgsql AS
    $$BEGIN PERFORM evil.traced('pg_get_expr'); RETURN pg_catalog.pg_get_expr(a, b); END$$;
CREATE FUNCTION evil.cardinality(a anyarray) RETURNS integer LANGUAGE plpgsql AS
    $$BEGIN PERFORM evil.traced('cardinality'); RETURN pg_catalog.cardinality(a); END$$;
CREATE FUNCTION evil.unnest(a anyarray) RETURNS SETOF anyelement LANGUAGE plpgsql AS
    $$BEGIN PERFORM evil.traced('unnest'); RETURN QUERY SELECT pg_catalog.unnest(a); END$$;
CREATE FUNCTION evil.random() RETURNS double precision LANGUAGE plpgsql AS
    $$BEGIN PERFORM evil.traced('random'); RETURN pg_catalog.random(); END$$;
CREATE FUNCTION evil.abs(a double precision) RETURNS double precision LANGUAGE plpgsql AS
    $$BEGIN PERFORM evil.traced('abs'); RETURN pg_catalog.abs(a); END$$;
CREATE FUNCTION evil.vector_dims(a public.vector) RETURNS integer LANGUAGE plpgsql AS
    $$BEGIN PERFORM evil.traced('vector_dims'); RETURN public.vector_dims(a); END$$;
CREATE FUNCTION evil.l2_distance(a public.vector, b public.vector) RETURNS double precision LANGUAGE plpgsql AS
    $$BEGIN PERFORM evil.traced('l2_distance'); RETURN public.l2_distance(a, b); END$$;
-- Operators: bigint = integer (found = 0), float8 / bigint and numeric *
-- float8 (no exact match in pg_catalog), tid = tid (ctid = $1), oid = regclass,
-- float8 <= float8 and +, NOT LIKE, and the distance operator itself.
CREATE FUNCTION evil.eq_int8_int4(a bigint, b integer) RETURNS boolean LANGUAGE plpgsql AS
    $$BEGIN PERFORM evil.traced('= (bigint, integer)'); RETURN a OPERATOR(pg_catalog.=) b; END$$;
CREATE OPERATOR evil.= (LEFTARG = bigint, RIGHTARG = integer, FUNCTION = evil.eq_int8_int4);
CREATE FUNCTION evil.div_f8_i8(a double precision, b bigint) RETURNS double precision LANGUAGE plpgsql AS
    $$BEGIN PERFORM evil.traced('/ (double precision, bigint)'); RETURN a OPERATOR(pg_catalog./) b::double precision; END$$;
CREATE OPERATOR evil./ (LEFTARG = double precision, RIGHTARG = bigint, FUNCTION = evil.div_f8_i8);
CREATE FUNCTION evil.mul_num_f8(a numeric, b double precision) RETURNS double precision LANGUAGE plpgsql AS
    $$BEGIN PERFORM evil.traced('* (numeric, double precision)'); RETURN a::double precision OPERATOR(pg_catalog.*) b; END$$;
CREATE OPERATOR evil.* (LEFTARG = numeric, RIGHTARG = double precision, FUNCTION = evil.mul_num_f8);
CREATE FUNCTION evil.eq_tid(a tid, b tid) RETURNS boolean LANGUAGE plpgsql AS
    $$BEGIN PERFORM evil.traced('= (tid, tid)'); RETURN a OPERATOR(pg_catalog.=) b; END$$;
CREATE OPERATOR evil.= (LEFTARG = tid, RIGHTARG = tid, FUNCTION = evil.eq_tid);
CREATE FUNCTION evil.eq_oid_regclass(a oid, b regclass) RETURNS boolean LANGUAGE plpgsql AS
    $$BEGIN PERFORM evil.traced('= (oid, regclass)'); RETURN a OPERATOR(pg_catalog.=) b::oid; END$$;
CREATE OPERATOR evil.= (LEFTARG = oid, RIGHTARG = regclass, FUNCTION = evil.eq_oid_regclass);
CREATE FUNCTION evil.le_f8(a double precision, b double precision) RETURNS boolean LANGUAGE plpgsql AS
    $$BEGIN PERFORM evil.traced('<= (double precision)'); RETURN a OPERATOR(pg_catalog.<=) b; END$$;
CREATE OPERATOR evil.<= (LEFTARG = double precision, RIGHTARG = double precision, FUNCTION = evil.le_f8);
CREATE FUNCTION evil.add_f8(a double precision, b double precision) RETURNS double precision LANGUAGE plpgsql AS
    $$BEGIN PERFORM evil.traced('+ (double precision)'); RETURN a OPERATOR(pg_catalog.+) b; END$$;
CREATE OPERATOR evil.+ (LEFTARG = double precision, RIGHTARG = double precision, FUNCTION = evil.add_f8);
CREATE FUNCTION evil.not_like(a text, b text) RETURNS boolean LANGUAGE plpgsql AS
    $$BEGIN PERFORM evil.traced('NOT LIKE'); RETURN a OPERATOR(pg_catalog.!~~) b; END$$;
CREATE OPERATOR evil.!~~ (LEFTARG = text, RIGHTARG = text, FUNCTION = evil.not_like);
CREATE FUNCTION evil.l2(a public.vector, b public.vector) RETURNS double precision LANGUAGE plpgsql AS
    $$BEGIN PERFORM evil.traced('<-> (vector, vector)'); RETURN a OPERATOR(public.<->) b; END$$;
CREATE OPERATOR evil.<-> (LEFTARG = public.vector, RIGHTARG = public.vector, FUNCTION = evil.l2);
-- Catalogs the functions read.
CREATE VIEW evil.pg_index AS SELECT * FROM pg_catalog.pg_index WHERE evil.traced('pg_index');
CREATE VIEW evil.pg_class AS SELECT * FROM pg_catalog.pg_class WHERE evil.traced('pg_class');
CREATE VIEW evil.pg_operator AS SELECT * FROM pg_catalog.pg_operator WHERE evil.traced('pg_operator');
GRANT SELECT ON evil.pg_index, evil.pg_class, evil.pg_operator TO PUBLIC;
SQL
traces() { as alice app -qAt -c "SELECT count(DISTINCT what) || ': ' || coalesce(string_agg(DISTINCT what, ', '), '') FROM evil.trace"; }
hostile="SET search_path = evil, pg_catalog, public"
lenient="SET search_path = evil, public"

# The hostile objects work: ordinary SQL of alice's under those paths is taken over.
as alice app -q -c "$hostile" -c "SELECT format('%s %s %s %s %s %s', 'a', 'b', 'c', 'items'::regclass, 'e', 1),
    1::bigint = 0, 1.0::float8 / 2::bigint, 1e-6 * 2.0::float8, '(0,1)'::tid = '(0,1)'::tid,
    (SELECT count(*) FROM pg_index), cardinality(ARRAY[1]), 'x' NOT LIKE 'y', current_setting('work_mem')" >/dev/null
taken=$(traces)
check "the hostile objects are picked up by ordinary SQL under search_path evil, pg_catalog, public ($taken)" \
    "$([ "${taken%%:*}" -ge 8 ] && echo t || echo f)"
as attacker app -q -c "TRUNCATE evil.trace"
as alice app -q -c "$lenient" -c "SELECT 1.0::float8 / 2::bigint, 1e-6 * 2.0::float8, 'items'::regclass::oid = 'items'::regclass" >/dev/null
taken=$(traces)
check "and, where they match better than pg_catalog's, even with pg_catalog first ($taken)" \
    "$([ "${taken%%:*}" -ge 2 ] && echo t || echo f)"
as attacker app -q -c "TRUNCATE evil.trace"

# The recall functions under both paths: sound answers, no trace.
for path in "$hostile" "$lenient"; do
    answers=$(as alice app -qAt -F ' ' -c "$path" -c "SET hnsw.ef_search = 100" -c "
        SELECT round(public.quiver_recall('public.items_l2', 5, 20)::numeric, 2),
               round(public.quiver_recall('public.items_cosine_even', 5, 20)::numeric, 2),
               round(public.quiver_recall('public.items_half_l1', 5, 20)::numeric, 2),
               round(public.quiver_recall('public.items_ip_category', 5, 20)::numeric, 2),
               round(public.quiver_recall('public.items_l2', ARRAY(SELECT embedding FROM public.items WHERE id OPERATOR(pg_catalog.<) 6), 5)::numeric, 2),
               round(public.quiver_recall_of_query('public.items_l2', 5, '\$1', (SELECT embedding FROM public.items WHERE id OPERATOR(pg_catalog.=) 7))::numeric, 2),
               public.quiver_check_index('public.items_ip_category') OPERATOR(pg_catalog.=) '{}',
               (SELECT elements FROM public.quiver_index_stats('public.items_l2'))")
    taken=$(traces)
    check "${path#SET }: quiver_recall, quiver_recall_of_query, quiver_check_index and quiver_index_stats answer ($answers)" \
        "$(awk '{ ok = NF == 8 && $7 == "t" && $8 == 1000; for (i = 1; i <= 6; i++) ok = ok && $i >= 0.9; print ok ? "t" : "f" }' <<<"$answers")"
    check "${path#SET }: and none of the hostile objects was used (trace: $taken)" "$([ "${taken%%:*}" = 0 ] && echo t || echo f)"
done

# --- Maintenance functions and a role that may not read the table.
for call in "quiver_check_index('items_l2')" "quiver_index_stats('items_l2')" "quiver_recall('items_l2', 5, 5)"; do
    state=$(sqlstate stranger app "SELECT $call")
    check "without SELECT on the table, $call is refused (SQLSTATE $state)" "$([ "$state" = 42501 ] && echo t || echo f)"
done
refused=$(as stranger app -qAt -c "SELECT quiver_check_index('items_l2')" 2>&1 || true)
check "the refusal names the index and the table" \
    "$(grep -q 'permission denied for index "items_l2"' <<<"$refused" && grep -q 'SELECT privilege on its table "items"' <<<"$refused" && echo t || echo f)"
as alice app -q -c "GRANT SELECT ON items TO stranger"
check "with SELECT granted, stranger reads the index" \
    "$(as stranger app -At -c "SELECT quiver_check_index('items_l2') = '{}' AND (SELECT elements = 1000 FROM quiver_index_stats('items_l2'))")"

# --- Row-level security. dbowner's table: alice's 40 rows among bob's 2,000
# and dbowner's 30, drawn alike, so each query's nearest rows are mostly
# bob's. docs has a plain hnsw index, docs_f one with the owner as a filter
# column.
as dbowner app -q -c "
    CREATE TABLE docs (id int PRIMARY KEY, owner text NOT NULL, embedding vector(8));
    INSERT INTO docs SELECT i, CASE WHEN i % 52 = 0 THEN 'alice' WHEN i % 69 = 1 THEN 'dbowner' ELSE 'bob' END,
                            ARRAY(SELECT sin(i * 1.1 + d * 0.9) FROM generate_series(1, 8) d)::vector(8)
    FROM generate_series(1, 2070) i;
    CREATE TABLE docs_f AS SELECT * FROM docs;
    ALTER TABLE docs_f ADD PRIMARY KEY (id);
    CREATE INDEX docs_embedding ON docs USING hnsw (embedding vector_l2_ops);
    CREATE INDEX docs_f_embedding ON docs_f USING hnsw (embedding vector_l2_ops, owner);
    ANALYZE docs; ANALYZE docs_f;"
for table in docs docs_f; do
    as dbowner app -q -c "ALTER TABLE $table ENABLE ROW LEVEL SECURITY" \
        -c "CREATE POLICY own_rows ON $table USING (owner = current_user::text)" -c "GRANT SELECT ON $table TO alice, bob"
done
counts=$(sql app -At -F ' ' -c "SELECT count(*) FILTER (WHERE owner = 'alice'), count(*) FILTER (WHERE owner = 'bob'), count(*) FILTER (WHERE owner = 'dbowner') FROM docs")
echo "docs: alice, bob and dbowner own $counts rows"
# vec Q: row Q's vector as a literal (the role may not see row Q).
vec() { sql app -qAt -c "SELECT embedding FROM docs WHERE id = $1"; }
# knn ROLE TABLE Q: ids and owners of ROLE's 10 nearest rows to row Q, through the index.
knn() {
    as "$1" app -qAt -F ' ' -c "SET enable_seqscan = off" -c "SET hnsw.ef_search = 100" \
        -c "SELECT id, owner FROM $2 ORDER BY embedding <-> '$(vec "$3")' LIMIT 10"
}
# exact ROLE TABLE Q: the same by a sequential scan and a sort.
exact() {
    as "$1" app -qAt -F ' ' -c "SET enable_indexscan = off" -c "SET enable_bitmapscan = off" \
        -c "SELECT id, owner FROM $2 ORDER BY embedding <-> '$(vec "$3")' LIMIT 10"
}
for table in docs docs_f; do
    plan=$(as alice app -qAt -c "SET enable_seqscan = off" \
        -c "EXPLAIN (COSTS OFF) SELECT id FROM $table ORDER BY embedding <-> '$(vec 105)' LIMIT 10")
    check "$table: alice's kNN query is an index scan of ${table}_embedding under the policy" \
        "$(grep -q "Index Scan using ${table}_embedding on $table" <<<"$plan" && grep -qi "current_user" <<<"$plan" && echo t || echo f)"
    echo "$plan" | sed "s/^/    /"
    for role in alice bob; do
        # Queries next to the other role's rows, then next to its own.
        for q in 104 105 260 261; do
            got=$(knn "$role" "$table" "$q")
            want=$(exact "$role" "$table" "$q")
            others=$(awk -v r="$role" '$2 != r' <<<"$got" | wc -l)
            rows=$(grep -c . <<<"$got" || true)
            same=$(comm -12 <(cut -d' ' -f1 <<<"$got" | sort) <(cut -d' ' -f1 <<<"$want" | sort) | wc -l)
            check "$table: $role's 10 nearest to row $q: $rows rows, $others of another owner, $same of the exact 10" \
                "$([ "$rows" = 10 ] && [ "$others" = 0 ] && [ "$same" -ge 9 ] && echo t || echo f)"
        done
    done
    got=$(knn dbowner "$table" 104)
    check "$table: the owner, without FORCE, is not subject to the policy (sees others' rows)" \
        "$([ "$(grep -c . <<<"$got")" = 10 ] && awk '$2 != "dbowner"' <<<"$got" | grep -q . && echo t || echo f)"
    as dbowner app -q -c "ALTER TABLE $table FORCE ROW LEVEL SECURITY"
    got=$(knn dbowner "$table" 104)
    others=$(awk '$2 != "dbowner"' <<<"$got" | wc -l)
    check "$table: with FORCE ROW LEVEL SECURITY the owner's 10 nearest are its own ($(grep -c . <<<"$got") rows, $others of another owner)" \
        "$([ "$(grep -c . <<<"$got")" = 10 ] && [ "$others" = 0 ] && echo t || echo f)"
done

check_summary privileges
