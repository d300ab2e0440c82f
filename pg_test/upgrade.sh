#!/usr/bin/env bash
# Upgrades (README, "Upgrades"). A database owner who is not a superuser
# creates Quiver 0.1.0, the first release (its install script, frozen as
# sql/quiver--0.1.0.sql, is installed for the time of the test), builds
# tables with hnsw indexes of every type, with filter columns, a partial
# index and an expression, and then runs ALTER EXTENSION quiver UPDATE.
# Before the update, quiver_recall uses an operator of a schema in the
# caller's search_path; after, it does not (and 0.1.0's install script,
# were it left installed for a trusted extension, would call an operator
# planted in the target schema as a superuser). The updated extension must
# be the current version with the same member objects, definitions,
# settings and comments as a fresh CREATE EXTENSION quiver (catalog listing
# and pg_dump --binary-upgrade, which writes out extension members, both
# compared); the old indexes must still answer as
# before and be sound, take inserts, and a pg_dump of the database must
# restore. The same update for the drop-in `vector`, when make
# install-as-vector has installed this version. Then the on-page format
# version: an index whose meta page (edited offline) says a future format
# is refused with SQLSTATE XX002 naming it and saying to REINDEX, not
# misread and no crash; REINDEX repairs it. Quiver must be installed.
set -euo pipefail
cd "$(dirname "$0")/.."
source tests/lib/cluster.sh
source tests/lib/check.sh

port=${UPGRADE_PORT:-54412}
first=0.1.0
current=$(sed -n 's/^version = "\(.*\)"$/\1/p' Cargo.toml | head -1)
share=$("$PG_CONFIG" --sharedir)/extension
[ -f "$share/quiver--$current.sql" ] || { echo "upgrade: Quiver $current is not installed in $share" >&2; exit 1; }

work=$(mktemp -d /tmp/quiver-upgrade.XXXXXX)
installed=()
cleanup() {
    cluster_stop "$work"
    rm -rf "$work"
    # The old install scripts are not left installed: 0.1.0's was not written
    # to be run by a trusted extension's superuser (README, "Security model").
    rm -f "${installed[@]}"
}
trap cleanup EXIT
install_old() { # install_old NAME: sql/quiver--0.1.0.sql as NAME--0.1.0.sql
    install -m 644 sql/quiver--$first.sql "$share/$1--$first.sql"
    installed+=("$share/$1--$first.sql")
}
install_old quiver
cluster_start "$work" "$port"
sql() { cluster_psql "$work" "$port" "$@"; }
as() { # as ROLE DB [psql args...]
    local role=$1 db=$2
    shift 2
    "$PG_BINDIR/psql" -X -v ON_ERROR_STOP=1 -h "$work" -p "$port" -U "$role" -d "$db" "$@"
}
sql postgres -q -c "CREATE ROLE dbowner LOGIN"
for db in app fresh updated; do sql postgres -q -c "CREATE DATABASE $db OWNER dbowner"; done

# Why 0.1.0's install script is not left installed: as a trusted extension's
# script it runs as a superuser, and its DO block of comments calls an
# operator ~ (name, name) planted in the target schema (see privileges.sh).
sql postgres -q -c "CREATE DATABASE planted OWNER dbowner"
as dbowner planted -q <<'SQL'
CREATE SCHEMA mine;
CREATE TABLE mine.calls (who name);
CREATE FUNCTION mine.matches(a name, b name) RETURNS boolean LANGUAGE plpgsql AS
    $$BEGIN INSERT INTO mine.calls VALUES (current_user); RETURN a::text OPERATOR(pg_catalog.~) b::text; END$$;
CREATE OPERATOR mine.~ (LEFTARG = name, RIGHTARG = name, FUNCTION = mine.matches);
SQL
as dbowner planted -q -c "CREATE EXTENSION quiver VERSION '$first' SCHEMA mine"
calls=$(sql planted -At -c "SELECT count(*) || coalesce(' as ' || string_agg(DISTINCT who::text, ', '), '') FROM mine.calls")
check "$first's install script calls the planted operator with superuser rights ($calls)" \
    "$([ "${calls%% *}" -gt 0 ] && grep -q "as postgres" <<<"$calls" && echo t || echo f)"

# --- 0.1.0 with data.
as dbowner app -q -c "CREATE EXTENSION quiver VERSION '$first'"
check "the database owner created Quiver $first" \
    "$(sql app -At -c "SELECT extversion = '$first' FROM pg_extension WHERE extname = 'quiver'")"
as dbowner app -q -c "
    CREATE TABLE items (id int PRIMARY KEY, category int, tags int[], embedding vector(16), half halfvec(16),
                        sparse sparsevec(16), bits bit(16));
    INSERT INTO items
    SELECT i, i % 10, ARRAY[i % 3, i % 7], v::vector(16), v::halfvec(16), v::vector(16)::sparsevec(16), binary_quantize(v::vector(16))::bit(16)
    FROM (SELECT i, ARRAY(SELECT round((sin(i * 0.37 + d * 1.7) * (1 + (i % 7) * 0.1) * (d % 3))::numeric, 3)
                          FROM generate_series(1, 16) d)::real[] AS v
          FROM generate_series(1, 3000) i) s;
    CREATE INDEX items_l2 ON items USING hnsw (embedding vector_l2_ops) WITH (m = 12, ef_construction = 48);
    CREATE INDEX items_filtered ON items USING hnsw (embedding vector_cosine_ops, category, tags);
    CREATE INDEX items_half_ip ON items USING hnsw (half halfvec_ip_ops);
    CREATE INDEX items_sparse_l1 ON items USING hnsw (sparse sparsevec_l1_ops);
    CREATE INDEX items_bits ON items USING hnsw (bits bit_hamming_ops);
    CREATE INDEX items_expression_even ON items USING hnsw ((embedding::halfvec(16)) halfvec_l2_ops) WHERE id % 2 = 0;
    ANALYZE items;"
indexes=(items_l2 items_filtered items_half_ip items_sparse_l1 items_bits items_expression_even)
queries=(
    "SELECT id FROM items ORDER BY embedding <-> (SELECT embedding FROM items WHERE id = 11) LIMIT 10"
    "SELECT id FROM items WHERE category = 3 AND tags && ARRAY[2] ORDER BY embedding <=> (SELECT embedding FROM items WHERE id = 12) LIMIT 10"
    "SELECT id FROM items ORDER BY half <#> (SELECT half FROM items WHERE id = 13) LIMIT 10"
    "SELECT id FROM items ORDER BY sparse <+> (SELECT sparse FROM items WHERE id = 14) LIMIT 10"
    "SELECT id FROM items ORDER BY bits <~> (SELECT bits FROM items WHERE id = 15) LIMIT 10"
    "SELECT id FROM items WHERE id % 2 = 0 ORDER BY embedding::halfvec(16) <-> (SELECT embedding::halfvec(16) FROM items WHERE id = 16) LIMIT 10"
)
# answers MODE: every query's ids, one line each; MODE index (ef_search 200) or exact.
answers() {
    local settings=(-c "SET hnsw.ef_search = 200" -c "SET enable_seqscan = off")
    [ "$1" = exact ] && settings=(-c "SET enable_indexscan = off" -c "SET enable_bitmapscan = off")
    local q
    for q in "${queries[@]}"; do as dbowner app -qAt "${settings[@]}" -c "$q" | paste -sd,; done
}
before=$(answers index)
# What the update fixes: an operator / (double precision, bigint), which
# matches better than pg_catalog's, in a schema of the caller's search_path
# (after pg_catalog) records each use.
sql app -q -c "CREATE SCHEMA evil" -c "GRANT USAGE ON SCHEMA evil TO PUBLIC" -c "
    CREATE TABLE evil.trace (what text);
    GRANT INSERT, SELECT, DELETE ON evil.trace TO PUBLIC;
    CREATE FUNCTION evil.divide(a double precision, b bigint) RETURNS double precision LANGUAGE plpgsql AS
        \$\$BEGIN INSERT INTO evil.trace VALUES ('/'); RETURN a OPERATOR(pg_catalog./) b::double precision; END\$\$;
    CREATE OPERATOR evil./ (LEFTARG = double precision, RIGHTARG = bigint, FUNCTION = evil.divide);"
taken_over() { # uses of evil./ by one quiver_recall of dbowner's under search_path evil, public
    as dbowner app -qAt -c "DELETE FROM evil.trace" -c "SET search_path = evil, public" \
        -c "SELECT quiver_recall('items_l2', 10, 5) IS NOT NULL" -c "SELECT count(*) FROM evil.trace" | tail -1
}
uses=$(taken_over)
check "$first's quiver_recall uses the schema's operator ($uses times)" "$([ "$uses" -gt 0 ] && echo t || echo f)"

# --- The update, by the owner.
as dbowner app -q -c "ALTER EXTENSION quiver UPDATE"
check "ALTER EXTENSION quiver UPDATE by the owner: $first -> $(sql app -At -c "SELECT extversion FROM pg_extension WHERE extname = 'quiver'") (current $current)" \
    "$(sql app -At -c "SELECT extversion = '$current' FROM pg_extension WHERE extname = 'quiver'")"

uses=$(taken_over)
check "$current's does not ($uses times)" "$([ "$uses" = 0 ] && echo t || echo f)"

# --- Same objects as a fresh install. `updated` has no user objects, so its
# dump holds only the extension.
as dbowner fresh -q -c "CREATE EXTENSION quiver"
as dbowner updated -q -c "CREATE EXTENSION quiver VERSION '$first'" -c "ALTER EXTENSION quiver UPDATE"
# Each member object: its description, its definition (OIDs as names) and its comment.
catalog="
WITH m AS (
    SELECT d.classid, d.objid, d.objsubid FROM pg_depend d JOIN pg_extension e ON e.oid = d.refobjid
    WHERE d.refclassid = 'pg_extension'::regclass AND e.extname = 'quiver' AND d.deptype = 'e')
SELECT pg_describe_object(classid, objid, objsubid) || ' | ' || coalesce(CASE classid
    WHEN 'pg_proc'::regclass THEN (SELECT row(p.prokind, p.prosecdef, p.proleakproof, p.proisstrict, p.provolatile,
            p.proparallel, p.procost, p.prorows, p.prosupport::regprocedure, p.prorettype::regtype, p.proretset,
            p.proargtypes::regtype[], p.proallargtypes::regtype[], p.proargmodes, p.proargnames,
            pg_get_expr(p.proargdefaults, 0), l.lanname, p.prosrc, p.probin, p.proconfig, p.proacl, p.proowner::regrole,
            CASE WHEN p.prokind = 'a' THEN (SELECT row(a.aggtransfn::regprocedure, a.aggfinalfn::regprocedure,
                a.aggcombinefn::regprocedure, a.aggtranstype::regtype, a.agginitval, a.aggkind)::text
                FROM pg_aggregate a WHERE a.aggfnoid = p.oid) ELSE pg_get_functiondef(p.oid) END)::text
        FROM pg_proc p JOIN pg_language l ON l.oid = p.prolang WHERE p.oid = objid)
    WHEN 'pg_operator'::regclass THEN (SELECT row(o.oprcode::regprocedure, o.oprcom::regoperator, o.oprnegate::regoperator,
            o.oprrest::regprocedure, o.oprjoin::regprocedure, o.oprcanmerge, o.oprcanhash, o.oprowner::regrole)::text
        FROM pg_operator o WHERE o.oid = objid)
    WHEN 'pg_type'::regclass THEN (SELECT row(t.typinput::regprocedure, t.typoutput::regprocedure, t.typreceive::regprocedure,
            t.typsend::regprocedure, t.typmodin::regprocedure, t.typmodout::regprocedure, t.typanalyze::regprocedure,
            t.typlen, t.typbyval, t.typalign, t.typstorage, t.typcategory, t.typelem::regtype, t.typarray::regtype,
            t.typowner::regrole, t.typacl)::text
        FROM pg_type t WHERE t.oid = objid)
    WHEN 'pg_cast'::regclass THEN (SELECT row(c.castfunc::regprocedure, c.castcontext, c.castmethod)::text
        FROM pg_cast c WHERE c.oid = objid)
    WHEN 'pg_am'::regclass THEN (SELECT row(a.amhandler::regprocedure, a.amtype)::text FROM pg_am a WHERE a.oid = objid)
    WHEN 'pg_opclass'::regclass THEN (SELECT row(c.opcdefault, c.opcintype::regtype, c.opckeytype::regtype,
            f.opfname, c.opcowner::regrole)::text
        FROM pg_opclass c JOIN pg_opfamily f ON f.oid = c.opcfamily WHERE c.oid = objid)
    WHEN 'pg_opfamily'::regclass THEN (SELECT string_agg(x, '; ' ORDER BY x) FROM (
            SELECT format('op %s %s %s %s', a.amopstrategy, a.amopopr::regoperator, a.amoppurpose, a.amopsortfamily) AS x
            FROM pg_amop a WHERE a.amopfamily = objid
            UNION ALL
            SELECT format('proc %s %s %s %s', p.amprocnum, p.amproclefttype::regtype, p.amprocrighttype::regtype, p.amproc::regprocedure)
            FROM pg_amproc p WHERE p.amprocfamily = objid) s)
    END, '') || ' | ' || coalesce(obj_description(objid, classid::regclass::text), '')
FROM m ORDER BY 1"
members=$(sql fresh -At -c "SELECT count(*) FROM pg_depend d JOIN pg_extension e ON e.oid = d.refobjid
                            WHERE d.refclassid = 'pg_extension'::regclass AND e.extname = 'quiver' AND d.deptype = 'e'")
sql fresh -At -c "$catalog" >"$work/fresh.catalog"
sql updated -At -c "$catalog" >"$work/updated.catalog"
sql app -At -c "$catalog" >"$work/app.catalog"
for db in updated app; do
    check "$db: the same $members member objects, definitions and comments as a fresh install" \
        "$(cmp -s "$work/fresh.catalog" "$work/$db.catalog" && echo t || echo f)"
    cmp -s "$work/fresh.catalog" "$work/$db.catalog" || diff "$work/fresh.catalog" "$work/$db.catalog" | head -20 || true
done
check "the recall functions carry search_path = pg_catalog, pg_temp after the update" \
    "$(sql app -At -c "SELECT count(*) = 3 FROM pg_proc WHERE proname LIKE 'quiver\_recall%'
                       AND proconfig = '{\"search_path=pg_catalog, pg_temp\"}'")"
# pg_dump writes out an extension's members only in binary-upgrade mode;
# the OIDs it preserves differ between databases and are left out.
dump_members() {
    "$PG_BINDIR/pg_dump" -h "$work" -p "$port" -U postgres --schema-only --binary-upgrade "$1" |
        grep -v -e binary_upgrade_set_next -e '^--' -e '^$' -e '^\\connect' -e '^\\restrict' -e '^\\unrestrict'
}
dump_members fresh >"$work/fresh.dump"
dump_members updated >"$work/updated.dump"
check "pg_dump --binary-upgrade: the updated extension dumps as the fresh one ($(grep -c . "$work/fresh.dump") lines)" \
    "$(cmp -s "$work/fresh.dump" "$work/updated.dump" && echo t || echo f)"
cmp -s "$work/fresh.dump" "$work/updated.dump" || diff "$work/fresh.dump" "$work/updated.dump" | head -20 || true

# --- The old indexes after the update.
after=$(answers index)
check "the indexes built under $first answer the same queries as before the update" "$([ "$after" = "$before" ] && echo t || echo f)"
exact=$(answers exact)
# Hamming distances tie by the hundred: the bit query is left out.
same=$(paste -d' ' <(echo "$after") <(echo "$exact") | awk 'NR != 5 { n = split($1, a, ","); split($2, b, ","); for (i = 1; i <= n; i++) seen[a[i]] = NR;
    for (i = 1; i <= n; i++) if (seen[b[i]] == NR) hit++; total += n } END { printf "%d/%d", hit, total }')
check "and find the exact nearest rows ($same)" "$([ "${same%/*}" -ge $(( ${same#*/} * 95 / 100 )) ] && echo t || echo f)"
for index in "${indexes[@]}"; do
    check "$index, built under $first, is sound after the update" "$(sql app -At -c "SELECT quiver_check_index('$index') = '{}'")"
done
as dbowner app -q -c "INSERT INTO items (id, category, tags, embedding, half, sparse, bits)
                      SELECT id + 10000, category, tags, embedding, half, sparse, bits FROM items WHERE id <= 50"
check "inserts after the update reach the old indexes (the copy of row 11 is found next to it)" \
    "$(as dbowner app -qAt -c "SET enable_seqscan = off" -c "SELECT count(*) = 2 FROM (${queries[0]}) s WHERE id IN (11, 10011)")"
check "quiver_recall of an old index, now with its own search_path" \
    "$(as dbowner app -qAt -c "SET hnsw.ef_search = 200" -c "SELECT quiver_recall('items_l2', 10, 30) >= 0.95")"

# --- pg_dump of the updated database restores.
rows="SELECT count(*) || ' ' || md5(string_agg(t::text, ';' ORDER BY id)) FROM items t"
"$PG_BINDIR/pg_dump" -h "$work" -p "$port" -U postgres -f "$work/app.sql" app
sql postgres -q -c "CREATE DATABASE restored OWNER dbowner"
sql restored -q -v ON_ERROR_STOP=0 -f "$work/app.sql" >"$work/restore.log" 2>&1 || true
check "pg_dump of the updated database restores without an ERROR" "$(grep -q ERROR "$work/restore.log" && echo f || echo t)"
grep ERROR "$work/restore.log" | head -5 || true
check "with the extension at $current, the same rows and sound indexes" \
    "$(sql restored -At -c "SELECT (SELECT extversion = '$current' FROM pg_extension WHERE extname = 'quiver')
                                AND ($rows) = '$(sql app -At -c "$rows")'
                                AND (SELECT bool_and(quiver_check_index(i) = '{}') FROM unnest('{$(IFS=,; echo "${indexes[*]}")}'::regclass[]) i)")"

# --- The drop-in, when make install-as-vector has installed this version.
if [ -f "$share/vector--$first--$current.sql" ] && grep -qF "Quiver, installed as vector" "$share/vector.control" 2>/dev/null; then
    install_old vector
    sql postgres -q -c "CREATE DATABASE asvector OWNER dbowner"
    as dbowner asvector -q -c "CREATE EXTENSION vector VERSION '$first'" -c "ALTER EXTENSION vector UPDATE"
    check "vector (Quiver installed as vector): $first -> $current by ALTER EXTENSION vector UPDATE, every C function in \$libdir/vector" \
        "$(sql asvector -At -c "SELECT (SELECT extversion = '$current' FROM pg_extension WHERE extname = 'vector')
                                   AND (SELECT count(*) > 100 FROM pg_proc WHERE probin = '\$libdir/vector')
                                   AND NOT EXISTS (SELECT FROM pg_proc WHERE probin = '\$libdir/quiver')
                                   AND (SELECT proconfig = '{\"search_path=pg_catalog, pg_temp\"}' FROM pg_proc
                                        WHERE oid = 'quiver_recall(regclass, integer, integer)'::regprocedure)
                                   AND '[1,2]'::vector <-> '[2,2]' = 1")"
else
    echo "skipped: the drop-in's update ($share/vector--$first--$current.sql is not there: make install-as-vector)"
fi

# --- The on-page format version. items_l2's meta page (block 0) says a
# format from the future: the version, a little-endian u32, is at byte 4 of
# the meta data, which starts right after the 24-byte page header
# (src/page/mod.rs Meta::encode, src/storage/graph.rs meta_bytes).
file=$(sql app -At -c "SELECT current_setting('data_directory') || '/' || pg_relation_filepath('items_l2')")
cluster_stop "$work"
python3 - "$file" <<'PY'
import struct, sys
with open(sys.argv[1], "r+b") as f:
    f.seek(24)
    magic, version = struct.unpack("<II", f.read(8))
    assert 2 <= version <= 100, version
    f.seek(28)
    f.write(struct.pack("<I", 99))
PY
as_postgres "$PG_BINDIR/pg_ctl" -D "$work/data" -l "$work/server.log" -w start >/dev/null
for statement in "${queries[0]}" "INSERT INTO items (id, embedding) VALUES (20001, array_fill(1, ARRAY[16])::vector)"; do
    refused=$(as dbowner app -qAt -c '\set VERBOSITY verbose' -c "SET enable_seqscan = off" -c "$statement" 2>&1 || true)
    check "a format-99 index is refused with SQLSTATE XX002 naming it and saying to REINDEX (${statement%% *})" \
        "$(grep -q '^ERROR:  XX002: index "items_l2" is corrupted' <<<"$refused" && grep -q 'unsupported format version 99' <<<"$refused" &&
           grep -q REINDEX <<<"$refused" && echo t || echo f)"
    grep -q XX002 <<<"$refused" || echo "$refused"
done
check "the server is still up" "$(sql app -At -c "SELECT true")"
check "quiver_check_index reports the version" \
    "$(sql app -At -c "SELECT quiver_check_index('items_l2')::text LIKE '%unsupported format version 99%'")"
sql app -q -c "REINDEX INDEX items_l2"
# As sets: the copies inserted above tie with their originals.
rebuilt=$(as dbowner app -qAt -c "SET hnsw.ef_search = 200" -c "SET enable_seqscan = off" -c "${queries[0]}" | sort | paste -sd,)
exact_now=$(as dbowner app -qAt -c "SET enable_indexscan = off" -c "SET enable_bitmapscan = off" -c "${queries[0]}" | sort | paste -sd,)
check "REINDEX rebuilds it: sound, and a kNN query finds the exact nearest rows again ($rebuilt)" \
    "$([ "$(sql app -At -c "SELECT quiver_check_index('items_l2') = '{}'")" = t ] && [ "$rebuilt" = "$exact_now" ] && echo t || echo f)"
check_summary upgrade
