#!/usr/bin/env python3
"""Repeated crashes under load (tests/soak/run.sh sets up the cluster).

CLIENTS threads write to `items` (insert, update, delete, a few in each
transaction) and run kNN queries; a worker runs VACUUM every 15-30 s. Every
30-90 s of load (fixed seed) the server is killed with SIGKILL: at odd
crashes the postmaster alone (its backends finish the statement they are in,
then exit), at even ones every process of the server at once (a COMMIT in
flight is cut off). The clients are held, the server restarted with pg_ctl,
and then, before they go on:

- every row a client saw COMMIT return for is there with the vector of its
  last committed write, read with index scans off; no deleted or never
  committed row is there; a transaction whose COMMIT was cut off by the crash
  is either wholly there or wholly absent;
- quiver_check_index finds nothing wrong;
- recall@10 at hnsw.ef_search 100 of 100 queries, against exact results, is
  at least 0.95;
- an index scan for a row's own vector returns it, for every row written
  since the last check and 100 older ones;
- the index's bytes per live row stay under twice what they were right after
  the build, so it does not grow without bound.

Each client owns the rows whose id % CLIENTS is its number, so what it knows
committed is exact and no two clients wait on each other.
"""
import argparse
import datetime
import os
import random
import re
import signal
import subprocess
import sys
import threading
import time

import psycopg

INDEX = "items_embedding_idx"
RECALL_MIN = 0.95
GROWTH_MAX = 2.0  # bytes per live row, against right after the build
# Looked up through the index after each recovery: every row written since
# the last check (up to RECENT_MAX), where a crash bites, and some older ones.
RECENT_MAX, SAMPLE_OLDER = 5000, 100
# Server log lines that mean a crash the test did not cause, or damage.
BAD_LOG = re.compile(r"PANIC|TRAP|was terminated by signal|invalid page|corrupt|could not read block")


def is_connection_error(conn, error):
    """A lost server (killed, starting up, in recovery), not a failure."""
    state = getattr(error, "sqlstate", None) or ""
    return (conn is None or conn.broken or conn.closed or state.startswith("08")
            or state.startswith("57P") or isinstance(error, psycopg.OperationalError) and not state)


class Gate:
    """Holds the workers between transactions while the server is down and checked."""

    def __init__(self, workers):
        self.cv = threading.Condition()
        self.open = False
        self.stopped = False
        self.parked = 0
        self.workers = workers

    def wait(self):
        """Returns False when the run is over."""
        with self.cv:
            if self.open:
                return True
            self.parked += 1
            self.cv.notify_all()
            while not self.open and not self.stopped:
                self.cv.wait()
            self.parked -= 1
            return not self.stopped

    def close(self):
        with self.cv:
            self.open = False

    def release(self):
        with self.cv:
            self.open = True
            self.cv.notify_all()

    def stop(self):
        with self.cv:
            self.stopped = True
            self.cv.notify_all()

    def all_parked(self, timeout):
        with self.cv:
            return self.cv.wait_for(lambda: self.parked == self.workers, timeout)


class Worker(threading.Thread):
    def __init__(self, soak, number):
        super().__init__(daemon=True)
        self.soak = soak
        self.conn = None

    def connect(self):
        if self.conn is None:
            try:
                self.conn = psycopg.connect(self.soak.dsn, connect_timeout=5)
            except psycopg.Error:
                time.sleep(0.5)
        return self.conn is not None

    def drop(self):
        if self.conn is not None:
            try:
                self.conn.close()
            except Exception:
                pass
        self.conn = None

    def failed(self, error):
        """After an error: a lost connection is dropped; anything else is recorded."""
        if is_connection_error(self.conn, error):
            self.drop()
        else:
            self.soak.unexpected(f"{type(self).__name__}: {error}")
            try:
                self.conn.rollback()
            except psycopg.Error:
                self.drop()

    def run(self):
        while self.soak.gate.wait():
            if not self.connect():
                continue
            try:
                self.step()
            except psycopg.Error as error:
                self.failed(error)
        self.drop()


class Client(Worker):
    def __init__(self, soak, number):
        super().__init__(soak, number)
        self.number = number
        self.rng = random.Random(soak.seed * 1000 + number)
        self.rows = {}     # id -> (w, p): rows whose last write is known committed
        self.live = []     # those ids, to pick from
        self.where = {}    # id -> position in live
        self.held = set()  # ids in a transaction whose COMMIT was cut off
        self.uncertain = []  # such transactions: [(id, before, after)], None = absent
        self.written = set()  # ids written since the last check
        self.next_id = 0
        self.writes = 0
        self.counts = dict(rows_written=0, deletes=0, queries=0, transactions=0, lost_in_run=0)

    def new_id(self):
        self.next_id += 1
        # Past every loaded id, and id % clients is still this client's number.
        return (1_000_000 + self.next_id) * self.soak.clients + self.number

    def new_w(self):
        self.writes += 1
        return (self.number + 1) * 1_000_000_000 + self.writes

    def set_row(self, row_id, state):
        """Records a row's committed state (None: absent)."""
        if state is None:
            if row_id in self.rows:
                del self.rows[row_id]
                i = self.where.pop(row_id)
                last = self.live.pop()
                if last != row_id:
                    self.live[i] = last
                    self.where[last] = i
        else:
            if row_id not in self.rows:
                self.where[row_id] = len(self.live)
                self.live.append(row_id)
            self.rows[row_id] = state
            self.written.add(row_id)

    def pick(self, taken):
        for _ in range(20):
            if not self.live:
                return None
            row_id = self.live[self.rng.randrange(len(self.live))]
            if row_id not in taken and row_id not in self.held:
                return row_id
        return None

    def step(self):
        if self.rng.random() < 0.4:
            self.query()
        else:
            self.transaction()

    def query(self):
        q = self.rng.randrange(100)
        with self.conn.cursor() as cur:
            cur.execute("SELECT id FROM items ORDER BY embedding <-> (SELECT embedding FROM queries WHERE id = %s) LIMIT 10", (q,))
            cur.fetchall()
        self.conn.commit()
        self.counts["queries"] += 1

    def transaction(self):
        # Insert 40 %, update 35 %, delete 25 %: the table grows slowly.
        ops = []  # (id, before, after)
        taken = set()
        with self.conn.cursor() as cur:
            for _ in range(self.rng.randint(1, 4)):
                kind = self.rng.random()
                if kind < 0.40:
                    row_id, w, p = self.new_id(), self.new_w(), self.rng.randrange(self.soak.pool)
                    cur.execute("INSERT INTO items (id, w, p, embedding) SELECT %s, %s, %s, soak_vec(embedding, %s) FROM pool WHERE id = %s",
                                (row_id, w, p, w, p))
                    if cur.rowcount != 1:
                        self.soak.unexpected(f"client {self.number}: insert of row {row_id} wrote {cur.rowcount} rows")
                        continue
                    ops.append((row_id, None, (w, p)))
                else:
                    row_id = self.pick(taken)
                    if row_id is None:
                        continue
                    if kind < 0.75:
                        w, p = self.new_w(), self.rng.randrange(self.soak.pool)
                        cur.execute("UPDATE items SET w = %s, p = %s, embedding = (SELECT soak_vec(embedding, %s) FROM pool WHERE id = %s) WHERE id = %s",
                                    (w, p, w, p, row_id))
                        after = (w, p)
                    else:
                        cur.execute("DELETE FROM items WHERE id = %s", (row_id,))
                        after = None
                    if cur.rowcount != 1:
                        # A row this client alone writes, known committed, is gone.
                        self.counts["lost_in_run"] += 1
                        self.soak.unexpected(f"client {self.number}: row {row_id} missing during the run")
                        self.set_row(row_id, None)
                        continue
                    ops.append((row_id, self.rows[row_id], after))
                taken.add(row_id)
        try:
            self.conn.commit()
        except psycopg.Error as error:
            if is_connection_error(self.conn, error):
                # Cut off: committed or not, the check after the restart says which.
                self.uncertain.append(ops)
                self.held.update(row_id for row_id, _, _ in ops)
            raise
        self.applied(ops)

    def applied(self, ops):
        for row_id, _, after in ops:
            self.set_row(row_id, after)
            if after is None:
                self.counts["deletes"] += 1
            else:
                self.counts["rows_written"] += 1
        self.counts["transactions"] += 1


class Vacuumer(Worker):
    def __init__(self, soak):
        super().__init__(soak, -1)
        self.rng = random.Random(soak.seed * 1000 - 1)
        self.due = time.monotonic() + self.rng.uniform(15, 30)
        self.done = 0

    def step(self):
        if time.monotonic() < self.due:
            time.sleep(0.2)
            return
        self.conn.autocommit = True
        # What the index's repair did (a DEBUG2 message), for the log.
        self.conn.execute("SET client_min_messages = debug2")
        summary = []
        handler = lambda notice: summary.append(notice.message_primary)
        self.conn.add_notice_handler(handler)
        started = time.monotonic()
        try:
            self.conn.execute("VACUUM items")
        finally:
            self.conn.remove_notice_handler(handler)
        self.done += 1
        repair = [line for line in summary if "out of the graph" in line]
        print(f"  VACUUM {self.done} took {time.monotonic() - started:.0f} s; {repair[0] if repair else 'no repair'}", flush=True)
        self.due = time.monotonic() + self.rng.uniform(15, 30)


class Soak:
    def __init__(self, args):
        self.args = args
        self.seed = args.seed
        self.clients = args.clients
        self.dsn = f"host={args.dir} port={args.port} user=postgres dbname=postgres"
        self.data = os.path.join(args.dir, "data")
        self.log = os.path.join(args.dir, "server.log")
        self.log_offset = os.path.getsize(self.log)
        self.gate = Gate(args.clients + 1)
        self.errors = []
        self.errors_lock = threading.Lock()
        self.checks = []
        self.failures = []
        self.rng = random.Random(args.seed)

    def unexpected(self, message):
        with self.errors_lock:
            self.errors.append(message)

    def as_postgres(self, command):
        return (["sudo", "-u", "postgres", "--"] if os.geteuid() == 0 else []) + command

    def kill(self, whole):
        with open(os.path.join(self.data, "postmaster.pid")) as f:
            pid = int(f.readline())
        # Each server process is a process group of its own, so the children
        # are found by their parent, before it dies and they lose it.
        children = self.children(pid) if whole else []
        os.kill(pid, signal.SIGKILL)
        for child in children:
            try:
                os.kill(child, signal.SIGKILL)
            except ProcessLookupError:
                pass
        return time.monotonic()

    @staticmethod
    def children(pid):
        found = []
        for entry in os.listdir("/proc"):
            if entry.isdigit():
                try:
                    with open(f"/proc/{entry}/stat") as f:
                        # The field after the command (in parentheses) is the state, then the parent.
                        fields = f.read().rsplit(")", 1)[1].split()
                except OSError:
                    continue
                if int(fields[1]) == pid:
                    found.append(int(entry))
        return found

    def start_server(self):
        """pg_ctl start, again while the killed server's backends still hold its shared memory."""
        pg_ctl = os.path.join(self.args.bindir, "pg_ctl")
        deadline = time.monotonic() + 300
        while True:
            done = subprocess.run(self.as_postgres([pg_ctl, "-D", self.data, "-l", self.log, "-w", "-t", "600", "start"]),
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            if done.returncode == 0:
                return
            if time.monotonic() > deadline:
                raise SystemExit("soak: the server does not start again; see server.log")
            time.sleep(1)

    def fail(self, message):
        self.failures.append(message)
        print(f"FAILED: {message}", flush=True)

    def new_log(self):
        with open(self.log, errors="replace") as f:
            f.seek(self.log_offset)
            text = f.read()
        self.log_offset += len(text.encode(errors="replace"))
        return text

    # ---- after each recovery ------------------------------------------------

    def check_index(self, cur):
        try:
            cur.execute("SELECT quiver_check_index(%s::regclass)", (INDEX,))
            return cur.fetchone()[0]
        except psycopg.Error as error:
            return [f"ERROR: {error}"]

    def check(self, label, recovery_s):
        conn = psycopg.connect(self.dsn, autocommit=True)
        cur = conn.cursor()
        result = dict(label=label, recovery_s=recovery_s)
        started = time.monotonic()
        phases = []

        def phase(name):
            phases.append((name, time.monotonic()))

        # The table as it is, read with index scans off.
        for setting in ("enable_indexscan", "enable_indexonlyscan", "enable_bitmapscan"):
            cur.execute(f"SET {setting} = off")
        cur.execute("""SELECT i.id, i.w, i.p, i.embedding = soak_vec(pl.embedding, i.w)
                       FROM items i LEFT JOIN pool pl ON pl.id = i.p""")
        actual = {}
        bad_vectors = 0
        for row_id, w, p, same in cur.fetchall():
            actual[row_id] = (w, p)
            bad_vectors += not same
        clients = self.workers[:self.clients]

        # Transactions cut off by the crash: wholly there or wholly absent.
        resolved = dict(committed=0, rolled_back=0, half=0)
        for client in clients:
            for ops in client.uncertain:
                after = all(actual.get(row_id) == state for row_id, _, state in ops)
                before = all(actual.get(row_id) == state for row_id, state, _ in ops)
                if after:
                    resolved["committed"] += 1
                    client.applied(ops)
                elif before:
                    resolved["rolled_back"] += 1
                else:
                    resolved["half"] += 1
                    self.fail(f"{label}: a transaction cut off by the crash is half there: {ops} vs "
                              f"{[actual.get(row_id) for row_id, _, _ in ops]}")
                    for row_id, _, _ in ops:
                        client.set_row(row_id, actual.get(row_id))
            client.uncertain = []
            client.held = set()

        # Every committed row with its last committed write; nothing else.
        lost = wrong = 0
        expected = 0
        for client in clients:
            for row_id, state in list(client.rows.items()):
                expected += 1
                got = actual.get(row_id)
                if got is None:
                    lost += 1
                elif got != state:
                    wrong += 1
                if got != state:
                    if lost + wrong <= 10:
                        print(f"  row {row_id}: committed (w, p) {state}, found {got}", flush=True)
                    client.set_row(row_id, got)  # go on from what is there
        owned = set()
        for client in clients:
            owned.update(client.rows)
        extra = [row_id for row_id in actual if row_id not in owned]
        for row_id in extra[:10]:
            print(f"  row {row_id}: deleted or never committed, found {actual[row_id]}", flush=True)
        for row_id in extra:
            clients[row_id % self.clients].set_row(row_id, actual[row_id])
        result.update(rows=len(actual), expected=expected, lost=lost + wrong, extra=len(extra),
                      bad_vectors=bad_vectors, **resolved)
        if lost or wrong:
            self.fail(f"{label}: {lost} committed rows missing, {wrong} with another write's vector")
        if extra:
            self.fail(f"{label}: {len(extra)} deleted or never committed rows present")
        if bad_vectors:
            self.fail(f"{label}: {bad_vectors} rows whose vector is not their write's")

        phase("rows")
        # The index, page by page. An ERROR from the check is a problem too.
        problems = self.check_index(cur)
        result["problems"] = len(problems)
        result["after_vacuum"] = "-"
        if problems:
            self.fail(f"{label}: quiver_check_index: {problems[:5]}")
            # Whether a VACUUM clears it tells elements of rows that never
            # committed (VACUUM frees them) from damage that stays.
            cur.execute("VACUUM items")
            after = self.check_index(cur)
            result["after_vacuum"] = len(after)
            print(f"  after a VACUUM, quiver_check_index: {after[:5]}", flush=True)

        phase("check_index")
        # Recall@10 at ef_search 100 against exact results.
        cur.execute("""SELECT q.id, ARRAY(SELECT i.id FROM items i ORDER BY i.embedding <-> q.embedding LIMIT 10)
                       FROM queries q ORDER BY q.id""")
        exact = dict(cur.fetchall())
        for setting in ("enable_indexscan", "enable_indexonlyscan", "enable_bitmapscan"):
            cur.execute(f"RESET {setting}")
        cur.execute("SET enable_seqscan = off")
        cur.execute("SET hnsw.ef_search = 100")
        cur.execute("""SELECT q.id, ARRAY(SELECT i.id FROM items i ORDER BY i.embedding <-> q.embedding LIMIT 10)
                       FROM queries q ORDER BY q.id""")
        hits = sum(len(set(ids) & set(exact[q])) for q, ids in cur.fetchall())
        recall = hits / (10 * len(exact))
        result["recall"] = recall
        if recall < RECALL_MIN:
            self.fail(f"{label}: recall@10 {recall:.3f} < {RECALL_MIN}")

        phase("recall")
        # An index scan for a row's own vector, filtered to that row and
        # continued as far as the graph reaches, must return it.
        recent = sorted(set().union(*(c.written for c in clients)) & actual.keys())
        rng = random.Random(self.seed + len(self.checks))
        sample = rng.sample(recent, min(RECENT_MAX, len(recent)))
        others = sorted(actual.keys() - set(sample))
        sample += rng.sample(others, min(SAMPLE_OLDER, len(others)))
        cur.execute("SET enable_bitmapscan = off")
        cur.execute("SET hnsw.iterative_scan = relaxed_order")
        cur.execute("SET hnsw.max_scan_tuples = 2000000")
        cur.execute("""SELECT coalesce(array_agg(b.id), '{}') FROM items b WHERE b.id = ANY(%s) AND NOT EXISTS (
                           SELECT FROM (SELECT x.id FROM items x WHERE x.id + 0 = b.id
                                        ORDER BY x.embedding <-> b.embedding LIMIT 1) s)""", (sample,))
        missed = cur.fetchone()[0]
        result.update(sampled=len(sample), missed=len(missed))
        if missed:
            self.fail(f"{label}: the index does not return {len(missed)} of {len(sample)} sampled rows: {missed[:10]}")
        for client in clients:
            client.written = set()

        phase("lookups")
        # Size: bytes per live row.
        cur.execute("SELECT pg_relation_size(%s), elements, deleted_elements FROM quiver_index_stats(%s::regclass)",
                    (INDEX, INDEX))
        size, elements, deleted = cur.fetchone()
        result.update(size=size, elements=elements, deleted=deleted, per_row=size / max(len(actual), 1))
        if self.checks and result["per_row"] > GROWTH_MAX * self.checks[0]["per_row"]:
            self.fail(f"{label}: index {result['per_row']:.0f} bytes per live row, more than {GROWTH_MAX}x "
                      f"the {self.checks[0]['per_row']:.0f} after the build")

        # The server log since the last check.
        bad = [line for line in self.new_log().splitlines() if BAD_LOG.search(line)]
        result["bad_log"] = len(bad)
        if bad:
            self.fail(f"{label}: server log: {bad[:5]}")

        conn.close()
        result["check_s"] = time.monotonic() - started
        last, timings = started, []
        for name, at in phases:
            timings.append(f"{name} {at - last:.0f}")
            last = at
        self.checks.append(result)
        print(f"{label}: recovery {recovery_s:.1f} s, {len(actual)} rows ({expected} committed, {lost + wrong} lost, "
              f"{len(extra)} extra), cut-off transactions {resolved['committed']} committed / {resolved['rolled_back']} "
              f"rolled back / {resolved['half']} half, check_index {len(problems)} problems, recall {recall:.3f}, "
              f"index {size / 2**20:.1f} MiB ({result['per_row']:.0f} B/row, {deleted} deleted elements), "
              f"{len(missed)}/{len(sample)} rows looked up missed; checked in {result['check_s']:.0f} s "
              f"({', '.join(timings)})", flush=True)
        return result

    # ---- the run ------------------------------------------------------------

    def run(self):
        args = self.args
        self.pool = None
        with psycopg.connect(self.dsn) as conn:
            self.pool = conn.execute("SELECT count(*) FROM pool").fetchone()[0]
            rows = conn.execute("SELECT id, w, p FROM items").fetchall()
        self.workers = [Client(self, n) for n in range(self.clients)]
        for row_id, w, p in rows:
            self.workers[row_id % self.clients].set_row(row_id, (w, p))
        self.vacuumer = Vacuumer(self)
        self.workers.append(self.vacuumer)
        for worker in self.workers[:self.clients]:
            worker.written = set()
        self.check("after the build", 0.0)

        for worker in self.workers:
            worker.start()
        total = args.minutes * 60
        loaded = 0.0
        crashes = 0
        began = time.monotonic()
        while loaded < total:
            interval = self.rng.uniform(args.min_interval, args.max_interval)
            span = min(interval, total - loaded)
            self.gate.release()
            time.sleep(span)
            loaded += span
            if span < interval:
                self.gate.close()
                if not self.gate.all_parked(600):
                    raise SystemExit("soak: the clients do not stop")
                break
            whole = crashes % 2 == 1
            killed = self.kill(whole)
            self.gate.close()
            crashes += 1
            print(f"crash {crashes}: SIGKILL to {'every server process' if whole else 'the postmaster'} "
                  f"after {loaded / 60:.1f} min of load", flush=True)
            # Backends of the killed server finish their statement first: every
            # COMMIT they answer is committed, so wait for all clients to stop.
            if not self.gate.all_parked(600):
                raise SystemExit("soak: the clients do not stop")
            self.start_server()
            while True:
                try:
                    psycopg.connect(self.dsn, connect_timeout=5).close()
                    break
                except psycopg.Error:
                    time.sleep(0.2)
            self.check(f"crash {crashes}", time.monotonic() - killed)
        final = self.check("end, no crash", 0.0)
        self.gate.stop()
        for worker in self.workers:
            worker.join(60)
        elapsed = time.monotonic() - began

        # After the run: a VACUUM, then the size against a fresh build of the same rows.
        with psycopg.connect(self.dsn, autocommit=True) as conn:
            conn.execute("VACUUM items")
            vacuumed = conn.execute("SELECT pg_relation_size(%s)", (INDEX,)).fetchone()[0]
            conn.execute(f"REINDEX INDEX {INDEX}")
            rebuilt = conn.execute("SELECT pg_relation_size(%s)", (INDEX,)).fetchone()[0]
        if vacuumed > GROWTH_MAX * rebuilt:
            self.fail(f"after the run: the index is {vacuumed} bytes after VACUUM, more than {GROWTH_MAX}x a fresh build ({rebuilt})")
        self.report(crashes, elapsed, loaded, final, vacuumed, rebuilt)
        return not self.failures

    def report(self, crashes, elapsed, loaded, final, vacuumed, rebuilt):
        counts = {key: sum(c.counts[key] for c in self.workers[:self.clients]) for key in self.workers[0].counts}
        crash_checks = [c for c in self.checks if c["label"].startswith("crash")]
        lost = sum(c["lost"] for c in self.checks) + counts["lost_in_run"]
        survived = sum(1 for c in crash_checks)
        lines = [
            "# Soak: repeated crashes under load",
            "",
            f"Measured {datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M} UTC by `make soak` "
            f"(tests/soak/run.sh): PostgreSQL 15, {self.clients} clients and a VACUUM every 15-30 s on "
            f"Fashion-MNIST (784-d, L2, m = 16, ef_construction = 64), the postmaster SIGKILLed every "
            f"{self.args.min_interval:.0f}-{self.args.max_interval:.0f} s of load (seed {self.seed}). "
            f"Each check below ran with the clients held, right after the server came back.",
            "",
            "| check | recovery s | rows | lost | extra | cut-off txns committed / rolled back / half | check_index problems (after a VACUUM) | recall@10 ef 100 | index MiB | bytes/row | deleted elements | rows looked up: missed |",
            "|---|---|---|---|---|---|---|---|---|---|---|---|",
        ]
        for c in self.checks:
            lines.append(f"| {c['label']} | {c['recovery_s']:.1f} | {c['rows']} | {c['lost']} | {c['extra']} | "
                         f"{c['committed']} / {c['rolled_back']} / {c['half']} | {c['problems']} ({c['after_vacuum']}) | {c['recall']:.3f} | "
                         f"{c['size'] / 2**20:.1f} | {c['per_row']:.0f} | {c['deleted']} | {c['missed']} of {c['sampled']} |")
        recalls = [c["recall"] for c in self.checks[1:]]
        lines += [
            "",
            f"- load: {loaded / 60:.1f} min ({elapsed / 60:.1f} min with the checks)",
            f"- rows written (inserts and updates committed): {counts['rows_written']}",
            f"- deletes committed: {counts['deletes']}; transactions: {counts['transactions']}; queries: {counts['queries']}; "
            f"VACUUMs completed: {self.vacuumer.done}",
            f"- crashes survived: {survived}",
            f"- rows lost: {lost}",
            f"- recall@10 at ef_search 100 after recoveries: min {min(recalls):.3f}" if recalls else "- recall: none measured",
            f"- index: {self.checks[0]['size'] / 2**20:.1f} MiB after the build ({self.checks[0]['per_row']:.0f} B/row), "
            f"{final['size'] / 2**20:.1f} MiB at the end ({final['per_row']:.0f} B/row), "
            f"max {max(c['per_row'] for c in self.checks):.0f} B/row (bound {GROWTH_MAX}x the first); "
            f"{vacuumed / 2**20:.1f} MiB after a last VACUUM against {rebuilt / 2**20:.1f} MiB rebuilt by REINDEX",
            f"- unexpected errors seen by clients: {len(self.errors)}" + (f" (first: {self.errors[0]})" if self.errors else ""),
            f"- result: {'PASSED' if not self.failures and not self.errors else 'FAILED'}",
        ]
        for failure in self.failures:
            lines.append(f"  - {failure}")
        text = "\n".join(lines) + "\n"
        print()
        print(text, end="", flush=True)
        os.makedirs(os.path.dirname(os.path.abspath(self.args.report)), exist_ok=True)
        with open(self.args.report, "w") as f:
            f.write(text)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--dir", required=True, help="the cluster's directory (socket, data, server.log)")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--bindir", required=True)
    parser.add_argument("--minutes", type=float, default=10)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--min-interval", type=float, default=30)
    parser.add_argument("--max-interval", type=float, default=90)
    parser.add_argument("--report", default="bench/results/soak.md")
    args = parser.parse_args()
    soak = Soak(args)
    ok = soak.run()
    sys.exit(0 if ok and not soak.errors else 1)


if __name__ == "__main__":
    main()
