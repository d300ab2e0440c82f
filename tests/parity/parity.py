#!/usr/bin/env python3
"""Quiver installed as `vector` against pgvector, statement by statement.

  parity.py PGVECTOR_DSN QUIVER_DSN

Both databases must have `CREATE EXTENSION vector` done, on the same
PostgreSQL major version. Every function of pgvector's extension that SQL
can call (read from pgvector's catalog, not from a list kept here), every
operator, every cast, each type's text input under its type modifiers and the
aggregates are run on both with arguments drawn from pools of edge values
(NULL, empty, one element, mismatched dimensions, limits, NaN, infinities,
underflow, overflow, negative zero, malformed aggregate states). Each
statement must give the same answer on both: the same text (floats equal to
float4 precision) or an ERROR with the same SQLSTATE and message. The
differences Quiver makes on purpose are listed in DELIBERATE below, each with
its reason (README, "How Quiver differs from pgvector"); any other is a
failure. Prints one line per difference and a summary.
"""
import itertools
import math
import re
import sys

import psycopg

# Argument pools, as SQL expressions of the type. Kept small: arity-3
# functions take the product of three pools.
POOLS = {
    "vector": ["NULL", "'[1,2,3]'", "'[0,0,0]'", "'[-1,0.5,2]'", "'[1]'", "'[1,2]'",
               "'[3e38,3e38,3e38]'", "'[-3e38,1,1]'", "'[1e-38,1e-45,0]'", "'[-0,0,1]'"],
    "halfvec": ["NULL", "'[1,2,3]'", "'[0,0,0]'", "'[-1,0.5,2]'", "'[1]'", "'[1,2]'",
                "'[65504,65504,65504]'", "'[-65504,1,1]'", "'[6e-8,1e-4,0]'", "'[-0,0,1]'"],
    "sparsevec": ["NULL", "'{1:1,2:2,3:3}/3'", "'{}/3'", "'{2:-1}/3'", "'{1:1}/1'", "'{1:1}/2'",
                  "'{1:3e38,2:3e38,3:3e38}/3'", "'{1:-3e38,2:1}/3'", "'{1:1e-45,3:1e-38}/3'", "'{3:0.5}/3'"],
    "bit": ["NULL", "B'101'", "B'000'", "B'111'", "B'1'", "B'10'", "B''", "B'1010101010'"],
    "integer": ["NULL", "-1", "0", "1", "2", "3", "4", "16000", "16001", "2147483647", "-2147483648"],
    "boolean": ["NULL", "true", "false"],
    "double precision[]": ["NULL", "'{0}'", "'{0,0,0,0}'", "'{1,1,2,3}'", "'{2,1,2,3}'", "'{1}'", "'{}'",
                           "'{{0}}'", "'{{1,2},{3,4}}'", "'{1,NULL}'", "'{NaN,1}'", "'{1,Infinity}'",
                           "'{1,1e300}'", "'{3,4e38,4e38,4e38}'", "'[0:3]={1,1,2,3}'", "'{-1,1,2,3}'",
                           "array_fill(1::float8, ARRAY[16002])", "array_fill(1::float8, ARRAY[16001])"],
    "real[]": ["NULL", "'{1,2,3}'", "'{}'", "'{NaN}'", "'{Infinity}'", "'{-Infinity}'", "'{1,NULL}'",
               "'{{1,2},{3,4}}'", "'{1e-45,0}'", "'{0,0}'", "'{-0,1}'", "'[0:2]={1,2,3}'",
               "array_fill(1::real, ARRAY[16001])", "'{65520,1}'"],
    "integer[]": ["NULL", "'{1,2,3}'", "'{}'", "'{1,NULL}'", "'{{1,2},{3,4}}'", "'{2147483647,0}'",
                  "'{0,0}'", "array_fill(1, ARRAY[16001])"],
    "numeric[]": ["NULL", "'{1.5,2,3}'", "'{}'", "'{NaN}'", "'{1e39}'", "'{1e-50,1}'", "'{1,NULL}'",
                  "'{Infinity}'", "'{65520,1}'", "'{{1,2},{3,4}}'"],
    "double precision[] as cast": ["NULL", "'{1,2,3}'", "'{}'", "'{NaN}'", "'{Infinity}'", "'{4e38,-4e38}'",
                                   "'{1e-46,1}'", "'{1,NULL}'", "'{65520,1}'", "'{{1,2},{3,4}}'"],
}

# Text input, per type: literals that are valid, malformed or out of range.
LITERALS = {
    "vector": ["[1,2,3]", " [ 1 , 2 , 3 ] ", "[1,2,3", "[]", "[1,,2]", "[1 2]", "[1e39]", "[-1e39]", "[1e-46]",
               "[1e-38]", "[nan]", "[NaN]", "[inf]", "[-Infinity]", "[-0]", "[0x10]", "[1.5e]", "[+1]",
               "1,2,3", "[1,2,3]x", "", "[", "[1.]", "[.5]", "[1e-45]", "[3.4028235e38]", "[3.4028236e38]",
               "[340282356779733661637539395458142568448]"],
    "halfvec": ["[1,2,3]", " [ 1 , 2 ] ", "[]", "[65504]", "[65520]", "[65519.9]", "[-65520]", "[1e-8]",
                "[6e-8]", "[3e-8]", "[nan]", "[inf]", "[-0]", "[1e39]", "[1,,2]", "[0.1]"],
    "sparsevec": ["{1:1,3:2}/5", "{}/2", "{}/0", "{1:1}/0", "{0:1}/2", "{3:1}/2", "{1:1,1:2}/2", "{2:1,1:2}/2",
                  "{1:0}/2", "{1:1e-46,2:1}/2", "{1:1e-45}/2", "{1:1e39}/2", "{1:nan}/2", "{1:inf}/2",
                  "{1:-0}/2", " { 1 : 1 , 2 : 2 } / 2 ", "{1:1}", "{1:1}/", "{1:1}/x", "{1:}/2", "{:1}/2",
                  "{1:1}/2x", "{1:1}/1000000001", "{1:1}/1000000000", "{-1:1}/2", "{2147483648:1}/2",
                  "{1:1,}/2", "{1:1}/-1", "{1:1.5e}/2", "{a:1}/2", "{1:1}/16001"],
}
TYPMODS = {"vector": ["(3)", "(2)", "(0)", "(16000)", "(16001)", "(-1)", "(3,1)", "('a')"],
           "halfvec": ["(3)", "(2)", "(0)", "(16001)"],
           "sparsevec": ["(5)", "(2)", "(0)", "(1000000000)", "(1000000001)"]}

# Differences Quiver makes on purpose: (statement regex, reason). A statement
# matching one may differ; the README lists the same, with the same reasons.
DELIBERATE = [
    (r"0x", "text input reads decimal numbers only; pgvector also takes C's hexadecimal floats "
            "(0x10) because it calls strtof, a form no client or dump writes"),
    (r"array_to_sparsevec\(array_fill\([^)]*ARRAY\[1600[12]\]\)|ARRAY\[1600[12]\]\)::[a-z ]+\[\]::sparsevec",
     "an array cast to sparsevec may have at most 16,000 non-zero elements, as its text input; "
     "pgvector makes larger values that its own input (and so a restore of a dump) refuses"),
    (r"^catalog: function (hnswhandler|ivfflathandler|hnsw_\w+_support|ivfflat_\w+_support)\(internal\)",
     "pgvector's index support functions (arguments of type internal) are its index code's; "
     "Quiver's indexes have handlers of their own (hnsw_handler, ivfflat_handler)"),
    (r"USING hnsw \((w vector_l2_ops|h halfvec_l2_ops)\)",
     "hnsw indexes vector and halfvec of up to 16,000 dimensions (pgvector: 2,000 and 4,000), "
     "storing a vector too large for a page in parts"),
    (r"hnsw\.iterative_scan",
     "hnsw.iterative_scan defaults to strict_order (pgvector: off), so a filtered query returns "
     "its k rows"),
]

# Statements run in order in one session on each server, each answer
# compared: indexes, settings, DDL errors. `{t}` is a table of its own per scenario.
SCENARIOS = []
for type_name, literal, opclasses in (
        ("vector", "'[{i},{j},1]'", ("vector_l2_ops:<->", "vector_ip_ops:<#>", "vector_cosine_ops:<=>", "vector_l1_ops:<+>")),
        ("halfvec", "'[{i},{j},1]'", ("halfvec_l2_ops:<->", "halfvec_ip_ops:<#>", "halfvec_cosine_ops:<=>", "halfvec_l1_ops:<+>")),
        ("sparsevec", "'{{1:{i},2:{j},3:1}}/3'", ("sparsevec_l2_ops:<->", "sparsevec_ip_ops:<#>", "sparsevec_cosine_ops:<=>",
                                              "sparsevec_l1_ops:<+>")),
        ("bit", "'{b}'", ("bit_hamming_ops:<~>", "bit_jaccard_ops:<%>"))):
    for opclass in opclasses:
        name, op = opclass.split(":")
        rows = ", ".join("(" + literal.format(i=i, j=i % 3, b=format(i + 1, "03b")) + ")" for i in range(1, 5))
        dims = "" if type_name == "bit" else "(3)"
        SCENARIOS.append((f"ORDER BY {op} a NULL query, {name}", [
            f"CREATE TABLE {{t}} (id serial, val {type_name}{'(3)' if type_name == 'bit' else dims})",
            f"INSERT INTO {{t}} (val) VALUES {rows}, (NULL)",
            f"CREATE INDEX ON {{t}} USING hnsw (val {name})",
            "SET enable_seqscan = off",
            f"SELECT count(*) FROM (SELECT * FROM {{t}} ORDER BY val {op} (SELECT NULL::{type_name}{dims})) s",
            f"SELECT count(*) FROM (SELECT * FROM {{t}} ORDER BY val {op} (SELECT NULL::{type_name}{dims}) LIMIT 3) s",
            f"SELECT id FROM {{t}} ORDER BY val {op} (SELECT val FROM {{t}} WHERE id = 2) LIMIT 1",
            "RESET enable_seqscan",
        ]))
# ivfflat's classes, on an index whose rows are too few to train on (Quiver
# keeps them pending; pgvector trains one list on them): the same answers.
for type_name, literal, opclasses in (
        ("vector", "'[{i},{j},1]'", ("vector_l2_ops:<->", "vector_ip_ops:<#>", "vector_cosine_ops:<=>")),
        ("halfvec", "'[{i},{j},1]'", ("halfvec_l2_ops:<->", "halfvec_ip_ops:<#>", "halfvec_cosine_ops:<=>")),
        ("bit", "'{b}'", ("bit_hamming_ops:<~>",))):
    for opclass in opclasses:
        name, op = opclass.split(":")
        rows = ", ".join("(" + literal.format(i=i, j=i % 3, b=format(i + 1, "03b")) + ")" for i in range(1, 5))
        SCENARIOS.append((f"ivfflat ORDER BY {op}, {name}", [
            f"CREATE TABLE {{t}} (id serial, val {type_name}(3))",
            f"INSERT INTO {{t}} (val) VALUES {rows}, (NULL)",
            f"CREATE INDEX ON {{t}} USING ivfflat (val {name}) WITH (lists = 1)",
            "SET enable_seqscan = off",
            f"SELECT count(*) FROM (SELECT * FROM {{t}} ORDER BY val {op} (SELECT NULL::{type_name}(3))) s",
            f"SELECT id FROM {{t}} ORDER BY val {op} (SELECT val FROM {{t}} WHERE id = 2) LIMIT 1",
            f"SELECT string_agg(id::text, ',') FROM (SELECT id FROM {{t}} ORDER BY val {op} (SELECT val FROM {{t}} WHERE id = 3), id) s",
            f"INSERT INTO {{t}} (val) VALUES ({literal.format(i=9, j=0, b='111')})",
            f"SELECT count(*) FROM (SELECT * FROM {{t}} ORDER BY val {op} (SELECT val FROM {{t}} WHERE id = 1)) s",
            "RESET enable_seqscan",
        ]))
SCENARIOS.append(("ivfflat options and dimensions", [
    "CREATE TABLE {t} (v vector(3), u vector, w vector(2001), x vector(2000), h halfvec(4001), g halfvec(4000), "
    "s sparsevec(5), b bit(3), r real)",
    *(f"CREATE INDEX ON {{t}} USING ivfflat (v vector_l2_ops) WITH ({o})" for o in (
        "lists = 0", "lists = 1", "lists = 32768", "lists = 32769", "m = 16", "lists = 'x'", "lists = 2.5")),
    "CREATE INDEX ON {t} USING ivfflat (u vector_l2_ops)",
    "CREATE INDEX ON {t} USING ivfflat (w vector_l2_ops)",
    "CREATE INDEX ON {t} USING ivfflat (x vector_l2_ops)",
    "CREATE INDEX ON {t} USING ivfflat (h halfvec_l2_ops)",
    "CREATE INDEX ON {t} USING ivfflat (g halfvec_l2_ops)",
    "CREATE INDEX ON {t} USING ivfflat (v)",
    "CREATE INDEX ON {t} USING ivfflat (v vector_l1_ops)",
    "CREATE INDEX ON {t} USING ivfflat (s sparsevec_l2_ops)",
    "CREATE INDEX ON {t} USING ivfflat (b bit_hamming_ops)",
    "CREATE INDEX ON {t} USING ivfflat (b bit_jaccard_ops)",
    "CREATE INDEX ON {t} USING ivfflat ((v::halfvec(3)) halfvec_cosine_ops)",
    "INSERT INTO {t} (v) VALUES ('[1,2]')",
    "INSERT INTO {t} (v) VALUES ('[1,2,3]'), (NULL)",
    "SELECT string_agg(name || '=' || setting || ' [' || coalesce(min_val, '') || ',' || coalesce(max_val, '') || '] '"
    " || coalesce(array_to_string(enumvals, '/'), '') || ' ' || vartype, '; ' ORDER BY name) "
    "FROM pg_settings WHERE name LIKE 'ivfflat.%'",
    *(f"SET ivfflat.probes = {v}" for v in (0, 1, 32768, 32769, "'x'")),
    *(f"SET ivfflat.max_probes = {v}" for v in (0, 1, 32768, 32769)),
    *(f"SET ivfflat.iterative_scan = {v}" for v in ("off", "relaxed_order", "strict_order", "on")),
]))
SCENARIOS.append(("index options and dimensions", [
    "CREATE TABLE {t} (v vector(3), u vector, w vector(2001), h halfvec(4001), s sparsevec(5), b bit(3), r real)",
    *(f"CREATE INDEX ON {{t}} USING hnsw (v vector_l2_ops) WITH ({o})" for o in (
        "m = 1", "m = 2", "m = 100", "m = 101", "ef_construction = 3", "ef_construction = 4", "ef_construction = 1000",
        "ef_construction = 1001", "m = 16, ef_construction = 31", "m = 16, ef_construction = 32", "lists = 10",
        "foo = 1", "m = 'x'", "m = 2.5")),
    "CREATE INDEX ON {t} USING hnsw (u vector_l2_ops)",
    "CREATE INDEX ON {t} USING hnsw (w vector_l2_ops)",
    "CREATE INDEX ON {t} USING hnsw (h halfvec_l2_ops)",
    "CREATE INDEX ON {t} USING ivfflat (v vector_l2_ops) WITH (lists = 1)",
    "CREATE INDEX ON {t} USING hnsw (v)",
    "CREATE INDEX ON {t} USING hnsw (v halfvec_l2_ops)",
    "CREATE INDEX ON {t} USING hnsw (r float4_ops)",
    "CREATE INDEX ON {t} USING hnsw (s sparsevec_l2_ops)",
    "CREATE INDEX ON {t} USING hnsw (b bit_hamming_ops)",
    "CREATE INDEX ON {t} USING hnsw (b bit_jaccard_ops)",
    "CREATE INDEX ON {t} USING hnsw ((v::halfvec(3)) halfvec_cosine_ops)",
    "INSERT INTO {t} (v) VALUES ('[1,2]')",
    "INSERT INTO {t} (v) VALUES ('[1,2,3]'), (NULL)",
    "SELECT count(*) FROM {t} WHERE v IS NOT NULL",
]))
SCENARIOS.append(("settings", [
    "SELECT '[1,2,3]'::vector <-> '[1,2,3]'",
    "SELECT string_agg(name || '=' || setting || ' [' || coalesce(min_val, '') || ',' || coalesce(max_val, '') || '] '"
    " || coalesce(array_to_string(enumvals, '/'), '') || ' ' || vartype, '; ' ORDER BY name) "
    "FROM pg_settings WHERE name LIKE 'hnsw.%' AND name <> 'hnsw.iterative_scan'",
    "SHOW hnsw.iterative_scan",
    *(f"SET hnsw.ef_search = {v}" for v in (0, 1, 1000, 1001, -1, "'x'")),
    *(f"SET hnsw.max_scan_tuples = {v}" for v in (0, 1)),
    *(f"SET hnsw.scan_mem_multiplier = {v}" for v in (0.5, 1, 1000, 1001)),
    *(f"SET hnsw.iterative_scan = {v}" for v in ("off", "relaxed_order", "strict_order", "on")),
]))

SKIP_ARG_TYPES = {"internal", "cstring", "oid", "cstring[]"}


def catalog(conn):
    """pgvector's callable functions, operators and casts."""
    functions = conn.execute("""
        SELECT p.proname, array(SELECT format_type(t, NULL) FROM unnest(p.proargtypes) t), p.prokind
        FROM pg_proc p JOIN pg_depend d ON d.classid = 'pg_proc'::regclass AND d.objid = p.oid AND d.deptype = 'e'
        JOIN pg_extension e ON e.oid = d.refobjid AND e.extname = 'vector'
        ORDER BY 1, 2""").fetchall()
    operators = conn.execute("""
        SELECT o.oprname, format_type(o.oprleft, NULL), format_type(o.oprright, NULL)
        FROM pg_operator o JOIN pg_depend d ON d.classid = 'pg_operator'::regclass AND d.objid = o.oid AND d.deptype = 'e'
        JOIN pg_extension e ON e.oid = d.refobjid AND e.extname = 'vector'
        ORDER BY 1, 2, 3""").fetchall()
    casts = conn.execute("""
        SELECT format_type(c.castsource, NULL), format_type(c.casttarget, NULL)
        FROM pg_cast c JOIN pg_depend d ON d.classid = 'pg_cast'::regclass AND d.objid = c.oid AND d.deptype = 'e'
        JOIN pg_extension e ON e.oid = d.refobjid AND e.extname = 'vector'
        ORDER BY 1, 2""").fetchall()
    return functions, operators, casts


def typed(value, type_name):
    return f"{value}::{type_name}"


def statements(functions, operators, casts):
    out = []
    for name, args, kind in functions:
        if kind == "a":
            continue
        if any(a in SKIP_ARG_TYPES for a in args) or any(a not in POOLS for a in args):
            if not any(a in SKIP_ARG_TYPES for a in args):
                out.append(("missing pool", f"-- no pool for {name}({', '.join(args)})"))
            continue
        for values in itertools.product(*(POOLS[a] for a in args)):
            call = f"{name}({', '.join(typed(v, a) for v, a in zip(values, args))})"
            out.append((f"{name}({', '.join(args)})", f"SELECT ({call})::text"))
    for name, left, right in operators:
        for a, b in itertools.product(POOLS.get(left, []), POOLS.get(right, [])):
            out.append((f"{left} {name} {right}", f"SELECT ({typed(a, left)} {name} {typed(b, right)})::text"))
    for source, target in casts:
        pool = POOLS["double precision[] as cast"] if source == "double precision[]" else POOLS.get(source, [])
        mods = [""] + TYPMODS.get(target, [])[:2]
        for value, mod in itertools.product(pool, mods):
            out.append((f"{source} -> {target}", f"SELECT ({typed(value, source)}::{target}{mod})::text"))
    for type_name, literals in LITERALS.items():
        for literal in literals:
            quoted = literal.replace("'", "''")
            out.append((f"{type_name} input", f"SELECT '{quoted}'::{type_name}::text"))
        for mod in TYPMODS[type_name]:
            sample = {"vector": "[1,2,3]", "halfvec": "[1,2,3]", "sparsevec": "{1:1}/5"}[type_name]
            out.append((f"{type_name} typmod", f"SELECT '{sample}'::{type_name}{mod}::text"))
    # Aggregates over a few rows, NULLs among them.
    for type_name in ("vector", "halfvec"):
        pool = POOLS[type_name]
        for rows in itertools.chain(((v,) for v in pool), itertools.combinations(pool, 2)):
            values = ", ".join(f"({typed(v, type_name)})" for v in rows)
            for agg in ("avg", "sum"):
                out.append((f"{agg}({type_name})", f"SELECT {agg}(v)::text FROM (VALUES {values}) t(v)"))
    for agg, type_name in (("sum", "sparsevec"),):
        pool = POOLS[type_name]
        for rows in itertools.chain(((v,) for v in pool), itertools.combinations(pool, 2)):
            values = ", ".join(f"({typed(v, type_name)})" for v in rows)
            out.append((f"{agg}({type_name})", f"SELECT {agg}(v)::text FROM (VALUES {values}) t(v)"))
    return out


BACKTRACE = re.compile(r"pgrx|panic|backtrace|^\s*\d+: ", re.M)


def run(conn, sql):
    try:
        cursor = conn.execute(sql)
        row = cursor.fetchone() if cursor.description else None
        return ("ok", str(row[0]) if row and row[0] is not None else None)
    except psycopg.Error as e:
        detail = e.diag.message_detail or ""
        if BACKTRACE.search(detail):
            return ("error", f"{e.sqlstate}: {e.diag.message_primary} (DETAIL with a backtrace: {detail[:80]})")
        return ("error", f"{e.sqlstate}: {e.diag.message_primary}")


NUMBER = re.compile(r"-?(?:\d+\.?\d*(?:e[-+]?\d+)?|Infinity|NaN)")


def same_numbers(a, b):
    """Texts equal but for floats that agree to float4 precision."""
    if a is None or b is None:
        return a == b
    if NUMBER.sub("#", a) != NUMBER.sub("#", b):
        return False
    for x, y in zip(NUMBER.findall(a), NUMBER.findall(b)):
        fx, fy = float(x), float(y)
        if fx == fy or (math.isnan(fx) and math.isnan(fy)):
            continue
        if not math.isclose(fx, fy, rel_tol=2e-6, abs_tol=1e-6):
            return False
    return True


def main():
    pgvector = psycopg.connect(sys.argv[1], autocommit=True)
    quiver = psycopg.connect(sys.argv[2], autocommit=True)
    for conn in (pgvector, quiver):
        conn.execute("SET statement_timeout = '10s'")
        conn.execute("SET extra_float_digits = 0")
    ours = catalog(quiver)
    theirs = catalog(pgvector)
    differences = []
    explained = {}
    for what, mine, other in (("function", ours[0], theirs[0]), ("operator", ours[1], theirs[1]),
                              ("cast", ours[2], theirs[2])):
        key = lambda row: f"{row[0]}({', '.join(row[1])})" if what == "function" else repr(tuple(row))  # noqa: E731
        for item in sorted(set(map(key, other)) - set(map(key, mine))):
            text = f"catalog: {what} {item} of pgvector is missing from Quiver"
            reason = next((reason for pattern, reason in DELIBERATE if re.search(pattern, text)), None)
            if reason:
                explained[reason] = explained.get(reason, 0) + 1
            else:
                differences.append(text)
    todo = statements(*theirs)
    same = deliberate = 0
    for group, sql in todo:
        if sql.startswith("--"):
            differences.append(sql[3:])
            continue
        a, b = run(pgvector, sql), run(quiver, sql)
        if a[0] == b[0] and (a[1] == b[1] or (a[0] == "ok" and same_numbers(a[1], b[1]))):
            same += 1
            continue
        reason = next((reason for pattern, reason in DELIBERATE if re.search(pattern, sql)), None)
        if reason:
            deliberate += 1
            explained[reason] = explained.get(reason, 0) + 1
            continue
        short = lambda r: (r[0], (r[1] or "")[:160] + ("..." if r[1] and len(r[1]) > 160 else ""))  # noqa: E731
        differences.append(f"{sql[:200]}\n    pgvector: {short(a)}\n    quiver:   {short(b)}")
    for number, (name, steps) in enumerate(SCENARIOS):
        table = f"parity_{number}"
        for step in steps:
            sql = step.replace("{t}", table)
            todo.append((name, sql))
            a, b = run(pgvector, sql), run(quiver, sql)
            if a == b or (a[0] == b[0] == "ok" and same_numbers(a[1], b[1])):
                same += 1
                continue
            reason = next((reason for pattern, reason in DELIBERATE if re.search(pattern, sql)), None)
            if reason:
                deliberate += 1
                explained[reason] = explained.get(reason, 0) + 1
                continue
            differences.append(f"[{name}] {sql[:200]}\n    pgvector: {a}\n    quiver:   {b}")
    for line in differences:
        print("DIFFERENT:", line)
    for reason, count in explained.items():
        print(f"deliberate ({count} statements): {reason}")
    print(f"parity: {len(todo)} statements, {same} answered alike, {deliberate} deliberately different, "
          f"{len(differences)} other differences")
    sys.exit(1 if differences else 0)


if __name__ == "__main__":
    main()
