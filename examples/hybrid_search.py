"""Hybrid search: PostgreSQL full-text search and vector similarity fused by
reciprocal rank fusion (RRF) in one SQL query. Keywords match exactly (an
error code), embeddings find what keywords miss (a paraphrase); each document
scores 1 / (60 + rank) in each list it is in.

usage: python examples/hybrid_search.py [--dsn "host=... port=... dbname=..."] [--check]
"""
import sys

from docs_table import arguments, load, report, vector_literal
from minilm import MiniLM

HYBRID = """
WITH semantic AS (
    SELECT id, row_number() OVER (ORDER BY embedding <=> %(q)s::vector) AS rank
    FROM (SELECT id, embedding FROM docs ORDER BY embedding <=> %(q)s::vector LIMIT 20) nearest
), keyword AS (
    SELECT id, row_number() OVER (ORDER BY ts_rank_cd(tsv, query) DESC) AS rank
    FROM docs, websearch_to_tsquery('english', %(text)s) query
    WHERE tsv @@ query
    ORDER BY ts_rank_cd(tsv, query) DESC
    LIMIT 20
)
SELECT d.id, d.title, s.rank AS semantic_rank, k.rank AS keyword_rank,
       round((coalesce(1.0 / (60 + s.rank), 0) + coalesce(1.0 / (60 + k.rank), 0))::numeric, 4) AS rrf
FROM semantic s FULL JOIN keyword k USING (id) JOIN docs d USING (id)
ORDER BY rrf DESC, d.id
LIMIT 5"""

# (search text, the document that should come first)
SEARCHES = [
    ("QX-4471", 24),                                # an error code, which full text matches exactly
    ("which planet has icy rings around it", 13),   # a paraphrase, which only the embeddings match
    ("garlic", 20),                                 # a word both match
]


def main():
    args = arguments(__doc__)
    model = MiniLM()
    conn = load(args.dsn, args.extension, model)
    failures = 0
    for text, expected in SEARCHES:
        rows = conn.execute(HYBRID, {"q": vector_literal(model.embed([text])[0]), "text": text}).fetchall()
        print(f"\nsearch: {text}")
        for id_, title, semantic, keyword, rrf in rows:
            print(f"  {rrf}  #{id_} {title}  (semantic rank {semantic or '-'}, keyword rank {keyword or '-'})")
        failures = report([r[0] for r in rows], expected, args.check, failures)
    return 1 if args.check and failures else 0


if __name__ == "__main__":
    sys.exit(main())
