"""Retrieval for RAG in plain SQL: embed documents with all-MiniLM-L6-v2
(offline, examples/minilm.py), store them with metadata, build an HNSW index,
and answer questions with the nearest documents under a metadata filter.

usage: python examples/rag_sql.py [--dsn "host=... port=... dbname=..."] [--check]
"""
import sys

from corpus import QUESTIONS
from docs_table import arguments, load, report, vector_literal
from minilm import MiniLM

QUERY = """
SELECT id, title, topic, year, round((1 - (embedding <=> %(q)s::vector))::numeric, 3) AS similarity
FROM docs
WHERE (%(topic)s::text IS NULL OR topic = %(topic)s)
ORDER BY embedding <=> %(q)s::vector
LIMIT 3"""


def main():
    args = arguments(__doc__)
    model = MiniLM()
    conn = load(args.dsn, args.extension, model)
    failures = 0
    for question, topic, expected in QUESTIONS:
        rows = conn.execute(QUERY, {"q": vector_literal(model.embed([question])[0]), "topic": topic}).fetchall()
        print(f"\nQ: {question}" + (f"  [topic = {topic}]" if topic else ""))
        for id_, title, doc_topic, year, similarity in rows:
            print(f"  {similarity}  #{id_} {title} ({doc_topic}, {year})")
        failures = report([r[0] for r in rows], expected, args.check, failures)
    return 1 if args.check and failures else 0


if __name__ == "__main__":
    sys.exit(main())
