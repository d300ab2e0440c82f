#!/usr/bin/env python3
"""Quiver's ivfflat against pgvector's ivfflat (same lists) and hnsw (m 16,
ef_construction 64), side by side in one PostgreSQL 16 server: the targets of
the IVF issue (make bench IVF_ONLY=1, which starts the server; bench/run.sh).

Per dataset: builds in one process (and Quiver's with a worker), index sizes,
a probes sweep against an ef_search sweep with recall@10 over every query and
server time (EXPLAIN ANALYZE's execution time, shared blocks hit and read)
interpolated at recall 0.95 and 0.99; inserts (pgbench, 1 and 8 clients,
128-d) and COPY of 100,000 rows; recall after the table doubled through
inserts; and one memory-bound run (shared_buffers at 1/8 of pgvector's hnsw,
debug_io_direct = data). Writes bench/results/ivfflat.json and ivfflat.md,
which BENCHMARKS.md carries.
"""
import argparse
import datetime
import json
import os
import re
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import bench  # noqa: E402
from bench import K, connect, exact_neighbors, interpolate_qps, load_table  # noqa: E402

OPERATORS = {"cosine": "<=>", "l2": "<->"}
PROBES = [1, 2, 4, 8, 16, 32, 64]
EF_SEARCH = [10, 20, 40, 80, 160, 320]
RECALLS = (0.95, 0.99)


def timed(conn, sql):
    start = time.perf_counter()
    conn.execute(sql)
    return time.perf_counter() - start


def size_of(conn, index):
    return conn.execute(f"SELECT pg_relation_size('{index}')").fetchone()[0]


def build(conn, table, method, opclass, options, workers=0):
    conn.execute(f"DROP INDEX IF EXISTS {table}_{method}")
    conn.execute(f"SET max_parallel_maintenance_workers = {workers}")
    seconds = timed(conn, f"CREATE INDEX {table}_{method} ON {table} USING {method} (embedding {opclass}) "
                          f"WITH ({options})")
    conn.execute("RESET max_parallel_maintenance_workers")
    return seconds, size_of(conn, f"{table}_{method}")


def sweep_point(conn, table, op, setting, value, queries, truth, explain_sample):
    """Recall over every query; server time and buffers over the first
    `explain_sample`, as EXPLAIN ANALYZE reports them."""
    conn.execute(f"SET {setting} = {value}")
    # At high probes the planner may price a sequential scan lower; the
    # sweep measures the index.
    conn.execute("SET enable_seqscan = off")
    sql = f"SELECT id FROM {table} ORDER BY embedding {op} %s LIMIT {K}"
    plan = conn.execute("EXPLAIN " + sql, (queries[0],)).fetchall()
    if not any("Index Scan" in row[0] for row in plan):
        raise RuntimeError(f"the planner did not use the index: {plan}")
    hits = 0
    for q, expected in zip(queries, truth):
        ids = [r[0] for r in conn.execute(sql, (q,), prepare=True).fetchall()]
        hits += len(set(ids) & set(expected.tolist()))
    server, hit, read = [], [], []
    for q in queries[:explain_sample]:
        node = conn.execute("EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) " + sql, (q,)).fetchone()[0][0]
        server.append(node["Execution Time"])
        hit.append(node["Plan"].get("Shared Hit Blocks", 0))
        read.append(node["Plan"].get("Shared Read Blocks", 0))
    return {setting: value, "recall": hits / (K * len(queries)), "server_ms": statistics.median(server),
            "hit_blocks": statistics.mean(hit), "read_blocks": statistics.mean(read)}


def sweeps(runs, queries, truth, explain_sample):
    """runs: label -> (conn, table, op, setting, values). The labels take turns
    at each step, so that neither always meets the warmer cache."""
    curves = {label: [] for label in runs}
    steps = max(len(r[4]) for r in runs.values())
    for step in range(steps):
        labels = list(runs) if step % 2 == 0 else list(runs)[::-1]
        for label in labels:
            conn, table, op, setting, values = runs[label]
            # Past recall 0.999 a curve has shown what it can: the next
            # steps only cost time (seconds a query for pgvector's
            # ivfflat once memory-bound).
            if curves[label] and curves[label][-1]["recall"] >= 0.999:
                continue
            if step < len(values):
                point = sweep_point(conn, table, op, setting, values[step], queries, truth, explain_sample)
                curves[label].append(point)
                print(f"   {label} {setting}={values[step]}: recall {point['recall']:.3f}, "
                      f"{point['server_ms']:.2f} ms, {point['hit_blocks']:.0f} hit {point['read_blocks']:.0f} read",
                      flush=True)
    return curves


def at_recall(curve):
    return {str(r): interpolate_qps(curve, r, key="server_ms")[0] for r in RECALLS}


def study_dataset(conns, name, base, queries, metric, lists, explain_sample):
    dims = base.shape[1]
    opclass, op = f"vector_{metric}_ops", OPERATORS[metric]
    truth = exact_neighbors(base, queries, metric)
    q, p = conns["quiver"], conns["pgvector"]
    print(f"== {name}: {len(base)} x {dims}, {metric}, lists = {lists}", flush=True)
    # pgvector's two indexes on two copies of the table, so that the
    # planner has one index to choose per table.
    for conn, table in ((q, name), (p, name), (p, f"{name}_h")):
        load_table(conn, table, base, dims)
    result = {"rows": len(base), "dims": dims, "metric": metric, "lists": lists, "builds": {}}
    builds = result["builds"]
    builds["pgvector hnsw"] = build(p, f"{name}_h", "hnsw", opclass, "m = 16, ef_construction = 64")
    builds["pgvector ivfflat"] = build(p, name, "ivfflat", opclass, f"lists = {lists}")
    builds["quiver ivfflat"] = build(q, name, "ivfflat", opclass, f"lists = {lists}")
    builds["quiver ivfflat, 1 worker"] = build(q, name, "ivfflat", opclass, f"lists = {lists}", workers=1)
    builds["pgvector ivfflat, 1 worker"] = build(p, name, "ivfflat", opclass, f"lists = {lists}", workers=1)
    for label, (seconds, size) in builds.items():
        print(f"   build {label}: {seconds:.2f} s, {size / 2**20:.1f} MiB", flush=True)
    probes = [x for x in PROBES if x <= lists]
    curves = sweeps({"quiver ivfflat": (q, name, op, "ivfflat.probes", probes),
                     "pgvector ivfflat": (p, name, op, "ivfflat.probes", probes),
                     "pgvector hnsw": (p, f"{name}_h", op, "hnsw.ef_search", EF_SEARCH)},
                    queries, truth, explain_sample)
    result["curves"] = curves
    result["at_recall"] = {label: at_recall(curve) for label, curve in curves.items()}
    return result


def study_memory_bound(args, conns, name, base, queries, metric, lists, explain_sample):
    """The tables of study_dataset, after a restart with shared_buffers at 1/8
    of pgvector's hnsw index and debug_io_direct = data."""
    p = conns["pgvector"]
    hnsw_size = size_of(p, f"{name}_h_hnsw")
    buffers_kb = max(hnsw_size // 8 // 1024, 2048)
    print(f"== memory-bound: {name}, shared_buffers {buffers_kb} kB (pgvector hnsw {hnsw_size / 2**20:.0f} MiB)",
          flush=True)
    restart(args, conns, [f"shared_buffers = '{buffers_kb}kB'", "debug_io_direct = 'data'"])
    truth = exact_neighbors(base, queries, metric)
    op = OPERATORS[metric]
    conns = {ext: connect(args, ext) for ext in conns}
    q, p = conns["quiver"], conns["pgvector"]
    probes = [x for x in PROBES if x <= lists]
    curves = sweeps({"quiver ivfflat": (q, name, op, "ivfflat.probes", probes),
                     "pgvector ivfflat": (p, name, op, "ivfflat.probes", probes),
                     "pgvector hnsw": (p, f"{name}_h", op, "hnsw.ef_search", EF_SEARCH)},
                    queries, truth, explain_sample)
    restart(args, conns, None)
    return {"shared_buffers_kb": buffers_kb, "hnsw_bytes": hnsw_size, "curves": curves,
            "at_recall": {label: at_recall(curve) for label, curve in curves.items()}}


def restart(args, conns, settings):
    """Restarts the server with `settings` in postgresql.auto.conf (None:
    without them)."""
    for conn in conns.values():
        if settings is None:
            conn.execute("ALTER SYSTEM RESET ALL")
        else:
            for line in settings:
                key, value = line.split(" = ")
                conn.execute(f"ALTER SYSTEM SET {key} = {value}")
        break
    for conn in conns.values():
        conn.close()
    bindir = subprocess.run([os.environ.get("PG_CONFIG", "pg_config"), "--bindir"], capture_output=True,
                            text=True, check=True).stdout.strip()
    subprocess.run(["sudo", "-u", "postgres", f"{bindir}/pg_ctl", "-D", f"{args.host}/data", "-l",
                    f"{args.host}/server.log", "-m", "fast", "-w", "restart"], check=True, stdout=subprocess.DEVNULL)


def study_inserts(args, conns, dims=128, start_rows=20_000, seconds=15, copy_rows=100_000):
    """pgbench one-row inserts, 1 and 8 clients, into a table of `start_rows`
    rows with no vector index, pgvector's hnsw, pgvector's ivfflat and
    Quiver's ivfflat (lists 100 on the random start rows), interleaved; then
    COPY of `copy_rows` rows into each."""
    pgbench = Path(subprocess.run([os.environ.get("PG_CONFIG", "pg_config"), "--bindir"], capture_output=True,
                                  text=True, check=True).stdout.strip()) / "pgbench"
    script = Path(args.out) / "insert.sql"
    script.write_text(bench.INSERT_SCRIPT.format(dims=dims))
    kinds = {"no index": ("pgvector", None), "pgvector hnsw": ("pgvector", "hnsw (embedding vector_l2_ops)"),
             "pgvector ivfflat": ("pgvector", "ivfflat (embedding vector_l2_ops) WITH (lists = 100)"),
             "quiver ivfflat": ("quiver", "ivfflat (embedding vector_l2_ops) WITH (lists = 100)")}

    def fresh(label):
        db, index = kinds[label]
        conn = conns[db]
        conn.execute("DROP TABLE IF EXISTS inserts")
        conn.execute(f"CREATE TABLE inserts (id bigserial PRIMARY KEY, embedding vector({dims}))")
        conn.execute(f"INSERT INTO inserts (embedding) SELECT ('[' || array_to_string(array(SELECT random() "
                     f"FROM generate_series(1, {dims}) WHERE g > 0), ',') || ']')::vector "
                     f"FROM generate_series(1, {start_rows}) g")
        if index:
            conn.execute(f"CREATE INDEX ON inserts USING {index}")
        conn.execute("VACUUM ANALYZE inserts")
        return db, conn

    result = {"dims": dims, "start_rows": start_rows, "seconds": seconds, "tps": [], "copy": []}
    print(f"== inserts: {dims}-d random vectors, {start_rows} rows to start, {seconds} s per run", flush=True)
    for clients in (1, 8):
        for label in kinds:
            db, conn = fresh(label)
            run = subprocess.run([str(pgbench), "-n", "-f", str(script), "-T", str(seconds), "-c", str(clients),
                                  "-j", str(min(clients, 2)), "-h", args.host, "-p", str(args.port), "-U", "postgres",
                                  db], capture_output=True, text=True, check=True)
            tps = float(re.search(r"tps = ([0-9.]+)", run.stdout).group(1))
            print(f"   {label}, {clients} clients: {tps:.0f} tps", flush=True)
            result["tps"].append({"index": label, "clients": clients, "tps": tps})
    rows = np.random.default_rng(3).random((copy_rows, dims), dtype=np.float32)
    for label in kinds:
        db, conn = fresh(label)
        start = time.perf_counter()
        with conn.cursor() as cur, cur.copy("COPY inserts (embedding) FROM STDIN WITH (FORMAT BINARY)") as copy:
            copy.set_types(["vector"])
            for v in rows:
                copy.write_row((v,))
        seconds_copy = time.perf_counter() - start
        print(f"   COPY {copy_rows} rows, {label}: {seconds_copy:.1f} s", flush=True)
        result["copy"].append({"index": label, "rows": copy_rows, "seconds": seconds_copy})
        conn.execute("DROP TABLE inserts")
    return result


def study_doubling(conns, base, queries, metric, lists, explain_sample):
    """Each ivfflat built on half the table, the other half inserted, at
    the probes that gave 0.95 on the half: recall then, and after REINDEX."""
    half = len(base) // 2
    opclass, op = f"vector_{metric}_ops", OPERATORS[metric]
    truth_half = exact_neighbors(base[:half], queries, metric)
    truth_full = exact_neighbors(base, queries, metric)
    result = {"rows_at_build": half, "rows_after": len(base), "lists": lists, "runs": {}}
    print(f"== doubling: {half} rows at build, {len(base)} after, lists = {lists}", flush=True)
    for ext, conn in conns.items():
        load_table(conn, "doubling", base[:half], base.shape[1])
        build(conn, "doubling", "ivfflat", opclass, f"lists = {lists}")
        chosen = None
        for probes in PROBES:
            point = sweep_point(conn, "doubling", op, "ivfflat.probes", probes, queries, truth_half, 1)
            if point["recall"] >= 0.95:
                chosen = point
                break
        with conn.cursor() as cur, cur.copy("COPY doubling (id, embedding) FROM STDIN WITH (FORMAT BINARY)") as copy:
            copy.set_types(["int4", "vector"])
            for i, v in enumerate(base[half:]):
                copy.write_row((half + i, v))
        conn.execute("VACUUM ANALYZE doubling")
        probes = chosen["ivfflat.probes"]
        after = sweep_point(conn, "doubling", op, "ivfflat.probes", probes, queries, truth_full, explain_sample)
        conn.execute("REINDEX INDEX doubling_ivfflat")
        reindexed = sweep_point(conn, "doubling", op, "ivfflat.probes", probes, queries, truth_full, explain_sample)
        result["runs"][ext] = {"probes": probes, "recall_at_build": chosen["recall"],
                               "recall_after": after["recall"], "recall_reindexed": reindexed["recall"],
                               "server_ms_after": after["server_ms"], "server_ms_reindexed": reindexed["server_ms"]}
        print(f"   {ext}: probes {probes}: {chosen['recall']:.3f} at build, {after['recall']:.3f} doubled, "
              f"{reindexed['recall']:.3f} after REINDEX", flush=True)
        conn.execute("DROP TABLE doubling")
    return result


def fmt(x, digits=2):
    return "-" if x is None else f"{x:,.{digits}f}"


def ratio(a, b):
    return "-" if a is None or b is None or b == 0 else f"{a / b:.2f}x"


def curve_table(curves):
    lines = ["", "| index | setting | recall | server ms | blocks hit | blocks read |", "|---|---|---|---|---|---|"]
    for label, curve in curves.items():
        for point in curve:
            setting = next(k for k in point if k.endswith("probes") or k.endswith("ef_search"))
            lines.append(f"| {label} | {setting} {point[setting]} | {point['recall']:.3f} | "
                         f"{point['server_ms']:.2f} | {point['hit_blocks']:.0f} | {point['read_blocks']:.0f} |")
    return lines


def write_report(results, path):
    meta = results["meta"]
    lines = ["## ivfflat (make bench IVF_ONLY=1)", "",
             f"{meta['date']}, {meta['machine']['cpu']}, {meta['machine']['cores']} cores, {meta['server']}, "
             f"pgvector {meta['pgvector']}, Quiver {meta['quiver']}. Command: `{meta['command']}`. Settings: "
             f"{meta['settings']}. Each ivfflat at the same `lists` (rows / 1000, pgvector's advice), pgvector's "
             "hnsw at m 16, ef_construction 64. Recall@10 over every query; server time is the median of "
             "EXPLAIN ANALYZE's execution time over the first queries, with the blocks they hit and read.", ""]
    for name, d in results["datasets"].items():
        b = {k: v for k, v in d["builds"].items()}
        lines += [f"### {name}: {d['rows']:,} x {d['dims']}, {d['metric']}, lists = {d['lists']}", "",
                  "| index | build s | size MiB |", "|---|---|---|"]
        for label, (seconds, size) in b.items():
            lines.append(f"| {label} | {seconds:.2f} | {size / 2**20:.1f} |")
        qb, hb, ib = b["quiver ivfflat"], b["pgvector hnsw"], b["pgvector ivfflat"]
        lines += ["", f"Quiver's build (one process) / pgvector's hnsw: {ratio(qb[0], hb[0])} (target at most "
                  f"0.10x); / pgvector's ivfflat: {ratio(qb[0], ib[0])} (target at most 1x); with a worker / "
                  f"without: {ratio(b['quiver ivfflat, 1 worker'][0], qb[0])} (target below 1x). Size / pgvector's "
                  f"hnsw: {ratio(qb[1], hb[1])} (target at most 0.25x).", "",
                  "| recall | Quiver ivfflat ms | pgvector ivfflat ms | pgvector hnsw ms | Q / pg ivfflat "
                  "(target ≤ 0.33x) | Q / pg hnsw (target ≤ 1x) |", "|---|---|---|---|---|---|"]
        at = d["at_recall"]
        for r in RECALLS:
            qv, iv, hv = at["quiver ivfflat"][str(r)], at["pgvector ivfflat"][str(r)], at["pgvector hnsw"][str(r)]
            lines.append(f"| {r} | {fmt(qv)} | {fmt(iv)} | {fmt(hv)} | {ratio(qv, iv)} | {ratio(qv, hv)} |")
        lines += curve_table(d["curves"])
        lines.append("")
    mb = results.get("memory_bound")
    if mb:
        lines += [f"### Memory-bound: {mb['dataset']}, shared_buffers {mb['shared_buffers_kb']:,} kB (1/8 of "
                  f"pgvector's hnsw, {mb['hnsw_bytes'] / 2**20:.0f} MiB), debug_io_direct = data", "",
                  "| recall | Quiver ivfflat ms | pgvector ivfflat ms | pgvector hnsw ms | Q / pg hnsw (target ≤ 0.2x) |",
                  "|---|---|---|---|---|"]
        for r in RECALLS:
            at = mb["at_recall"]
            qv, iv, hv = at["quiver ivfflat"][str(r)], at["pgvector ivfflat"][str(r)], at["pgvector hnsw"][str(r)]
            lines.append(f"| {r} | {fmt(qv)} | {fmt(iv)} | {fmt(hv)} | {ratio(qv, hv)} |")
        lines += curve_table(mb["curves"])
        lines.append("")
    ins = results.get("inserts")
    if ins:
        lines += [f"### Inserts: {ins['dims']}-d random vectors into a table of {ins['start_rows']:,} rows, "
                  f"pgbench {ins['seconds']} s per run, one row per transaction", "",
                  "| index | 1 client tps | 8 clients tps |", "|---|---|---|"]
        tps = {(r["index"], r["clients"]): r["tps"] for r in ins["tps"]}
        for label in dict.fromkeys(r["index"] for r in ins["tps"]):
            lines.append(f"| {label} | {tps[(label, 1)]:.0f} | {tps[(label, 8)]:.0f} |")
        copies = {r["index"]: r["seconds"] for r in ins["copy"]}
        lines += ["", "| index | COPY of 100,000 rows, s |", "|---|---|"]
        lines += [f"| {label} | {s:.1f} |" for label, s in copies.items()]
        q1, q8 = tps[("quiver ivfflat", 1)], tps[("quiver ivfflat", 8)]
        lines += ["", f"Quiver's ivfflat / pgvector's hnsw: {ratio(q1, tps[('pgvector hnsw', 1)])} with 1 client, "
                  f"{ratio(q8, tps[('pgvector hnsw', 8)])} with 8 (target at least 5x); / pgvector's ivfflat: "
                  f"{ratio(q1, tps[('pgvector ivfflat', 1)])}, {ratio(q8, tps[('pgvector ivfflat', 8)])} (target at "
                  f"least 1x); / no index: {ratio(q1, tps[('no index', 1)])}, {ratio(q8, tps[('no index', 8)])} "
                  f"(target at least 0.6x). COPY / pgvector's hnsw: "
                  f"{ratio(copies['quiver ivfflat'], copies['pgvector hnsw'])} (target at most 0.2x).", ""]
    dbl = results.get("doubling")
    if dbl:
        lines += [f"### Recall after the table doubled: built on {dbl['rows_at_build']:,} rows of "
                  f"{dbl['dataset']}, {dbl['rows_after']:,} after COPY, lists = {dbl['lists']}", "",
                  "| index | probes | recall at build | after doubling | after REINDEX |", "|---|---|---|---|---|"]
        for ext, r in dbl["runs"].items():
            lines.append(f"| {ext} ivfflat | {r['probes']} | {r['recall_at_build']:.3f} | {r['recall_after']:.3f} | "
                         f"{r['recall_reindexed']:.3f} |")
        lines.append("")
    left_out = [f"MiniLM (bench/data had no embeddings: {name})" for name in ("minilm-wordnet",)
                if name not in results["datasets"]]
    left_out.append("a set of 1,000,000 rows of 384+ dimensions (pgvector's hnsw build alone would take "
                    "hours on 2 cores)")
    lines += ["Not measured in this run: " + "; ".join(left_out) + ".", ""]
    path.write_text("\n".join(lines))


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host")
    parser.add_argument("--port", type=int)
    parser.add_argument("--settings", default="")
    parser.add_argument("--command", default="make bench IVF_ONLY=1")
    parser.add_argument("--out", default=str(bench.ROOT / "bench" / "results"))
    parser.add_argument("--queries", type=int, default=500)
    parser.add_argument("--explain-sample", type=int, default=50)
    args = parser.parse_args()
    conns = {ext: connect(args, ext) for ext in ("quiver", "pgvector")}
    versions = {ext: conn.execute("SELECT extversion FROM pg_extension WHERE extname = %s",
                                  (bench.EXTENSIONS[ext],)).fetchone()[0] for ext, conn in conns.items()}
    server = conns["quiver"].execute("SELECT version()").fetchone()[0].split(" on ")[0]
    results = {"meta": {"date": datetime.date.today().isoformat(), "machine": bench.machine(), "server": server,
                        "pgvector": versions["pgvector"], "quiver": versions["quiver"], "command": args.command,
                        "settings": args.settings}, "datasets": {}}
    sets = {"minilm-wordnet": (bench.load_sentences, 60_000, "cosine"),
            "fashion-mnist": (bench.load_fashion_mnist, 60_000, "l2"),
            "glove-50": (bench.load_glove, 200_000, "cosine")}
    if not (bench.SENTENCES / "base.f32").exists():
        print("bench: no MiniLM embeddings (python3 bench/sentences.py makes them): left out", flush=True)
        del sets["minilm-wordnet"]
    loaded = {}
    for name, (loader, rows, metric) in sets.items():
        base, queries = loader(rows, args.queries, np.random.default_rng(42))
        loaded[name] = (base, queries, metric)
        results["datasets"][name] = study_dataset(conns, name.replace("-", "_"), base, queries, metric,
                                                  max(rows // 1000, 10), args.explain_sample)
    bound = "minilm-wordnet" if "minilm-wordnet" in loaded else "fashion-mnist"
    base, queries, metric = loaded[bound]
    mb = study_memory_bound(args, conns, bound.replace("-", "_"), base, queries, metric,
                            results["datasets"][bound]["lists"], args.explain_sample)
    results["memory_bound"] = {"dataset": bound, **mb}
    conns = {ext: connect(args, ext) for ext in ("quiver", "pgvector")}
    base, queries, metric = loaded["glove-50"]
    results["doubling"] = {"dataset": "glove-50", **study_doubling(conns, base, queries, metric, 100,
                                                                      args.explain_sample)}
    results["inserts"] = study_inserts(args, conns)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "ivfflat.json").write_text(json.dumps(results, indent=1))
    write_report(results, out / "ivfflat.md")
    print(f"wrote {out}/ivfflat.md", flush=True)


if __name__ == "__main__":
    main()
