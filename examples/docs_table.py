"""Loads examples/corpus.py into PostgreSQL with Quiver: a `docs` table with
metadata, a full-text column and MiniLM embeddings, and an hnsw index."""
import argparse

import psycopg

from corpus import DOCUMENTS
from minilm import MiniLM


def arguments(description):
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--dsn", default="dbname=postgres", help="libpq connection string")
    parser.add_argument("--extension", default="quiver", help="quiver, or vector for the drop-in install")
    parser.add_argument("--check", action="store_true", help="exit 1 unless every question finds its document")
    return parser.parse_args()


def vector_literal(values):
    return "[" + ",".join(f"{x:.7g}" for x in values) + "]"


def load(dsn, extension, model):
    conn = psycopg.connect(dsn, autocommit=True)
    conn.execute(f"CREATE EXTENSION IF NOT EXISTS {extension}")
    conn.execute("DROP TABLE IF EXISTS docs")
    conn.execute("""CREATE TABLE docs (
        id int PRIMARY KEY, title text, body text, topic text, year int,
        tsv tsvector GENERATED ALWAYS AS (to_tsvector('english', title || ' ' || body)) STORED,
        embedding vector(384))""")
    embeddings = model.embed([f"{title}. {body}" for _, title, body, _, _ in DOCUMENTS])
    with conn.cursor() as cur:
        cur.executemany("INSERT INTO docs (id, title, body, topic, year, embedding) VALUES (%s, %s, %s, %s, %s, %s::vector)",
                        [(i, title, body, topic, year, vector_literal(e))
                         for (i, title, body, topic, year), e in zip(DOCUMENTS, embeddings)])
    conn.execute("CREATE INDEX docs_embedding ON docs USING hnsw (embedding vector_cosine_ops)")
    conn.execute("CREATE INDEX docs_tsv ON docs USING gin (tsv)")
    conn.execute("ANALYZE docs")
    return conn


def report(found, expected, check, failures):
    """Prints whether the expected document came first; counts misses."""
    ok = bool(found) and found[0] == expected
    if check:
        print(f"  {'ok' if ok else 'FAILED'}: expected document {expected} first")
    return failures + (0 if ok else 1)


if __name__ == "__main__":
    args = arguments("load the corpus")
    load(args.dsn, args.extension, MiniLM())
