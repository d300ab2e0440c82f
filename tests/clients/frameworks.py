"""RAG frameworks against Quiver installed as `vector`: LangChain's PGVector
(langchain-postgres) and LlamaIndex's PGVectorStore each create the extension
and their tables themselves, store documents with metadata, and retrieve them
by similarity under a metadata filter. A small deterministic embedding (hashed
words) stands in for a model: documents that share words with a question are
near it.

usage: frameworks.py SOCKET_DIR PORT   (databases frameworks_* are created there)
"""
import asyncio
import hashlib
import sys

import numpy as np

SOCKET_DIR, PORT = sys.argv[1], int(sys.argv[2])
DIMS = 64

DOCUMENTS = [
    ("bread", "Knead the dough for bread, let it rise, then bake the bread in a hot oven.", "cooking", 2021),
    ("soup", "A tomato soup simmers with onions and garlic for an hour.", "cooking", 2019),
    ("pasta", "Boil the pasta in salted water and toss it with olive oil.", "cooking", 2023),
    ("oven-repair", "If the oven does not heat, check the heating element and the thermostat.", "repair", 2022),
    ("bike", "Fix a flat bike tire: remove the wheel, patch the tube, pump it up.", "repair", 2020),
    ("faucet", "A dripping faucet needs a new washer; close the water valve first.", "repair", 2018),
    ("rust", "Rust ownership rules let the compiler free memory without a garbage collector.", "programming", 2021),
    ("sql", "A SQL index lets the database find rows without reading the whole table.", "programming", 2024),
    ("bread-history", "Bread was baked in ancient Egypt in clay ovens.", "history", 2017),
]

import checks
from checks import check, run, summary



def embed(text):
    """Hashed bag of words, normalized: the same words, the same direction."""
    vector = np.zeros(DIMS)
    for word in "".join(c.lower() if c.isalnum() else " " for c in text).split():
        digest = hashlib.sha256(word.encode()).digest()
        vector[digest[0] % DIMS] += 1.0 if digest[1] % 2 else -1.0
    norm = np.linalg.norm(vector)
    return (vector / norm if norm else vector).tolist()


def create_database(db):
    checks.create_database(SOCKET_DIR, PORT, db)


def extension_comment(db):
    import psycopg
    with psycopg.connect(f"host={SOCKET_DIR} port={PORT} user=postgres dbname={db}") as conn:
        row = conn.execute("SELECT obj_description(oid, 'pg_extension') FROM pg_extension WHERE extname = 'vector'").fetchone()
        return row[0] if row else None


def index_methods(db):
    import psycopg
    with psycopg.connect(f"host={SOCKET_DIR} port={PORT} user=postgres dbname={db}") as conn:
        return [r[0] for r in conn.execute("SELECT indexdef FROM pg_indexes WHERE indexdef LIKE '%USING hnsw%'")]


def test_langchain():
    from langchain_core.documents import Document
    from langchain_core.embeddings import Embeddings
    from langchain_postgres import PGVector

    class HashedWords(Embeddings):
        def embed_documents(self, texts):
            return [embed(t) for t in texts]

        def embed_query(self, text):
            return embed(text)

    create_database("frameworks_langchain")
    store = PGVector(
        embeddings=HashedWords(),
        collection_name="notes",
        connection=f"postgresql+psycopg://postgres@/frameworks_langchain?host={SOCKET_DIR}&port={PORT}",
        embedding_length=DIMS,
        use_jsonb=True,
    )
    check("LangChain: PGVector created the extension, and it is Quiver",
          "Quiver" in (extension_comment("frameworks_langchain") or ""))
    store.add_documents([Document(page_content=text, metadata={"name": name, "topic": topic, "year": year})
                         for name, text, topic, year in DOCUMENTS], ids=[name for name, *_ in DOCUMENTS])
    # The index pgvector's documentation suggests for LangChain's table.
    import psycopg
    with psycopg.connect(f"host={SOCKET_DIR} port={PORT} user=postgres dbname=frameworks_langchain",
                         autocommit=True) as conn:
        conn.execute("CREATE INDEX ON langchain_pg_embedding USING hnsw (embedding vector_cosine_ops)")
    found = store.similarity_search("How do I bake bread in the oven?", k=2, filter={"topic": {"$eq": "cooking"}})
    names = [d.metadata["name"] for d in found]
    check("LangChain: a cooking question under a topic filter finds the bread recipe first", names[:1] == ["bread"], str(names))
    check("LangChain: the filter keeps other topics out", all(d.metadata["topic"] == "cooking" for d in found), str(names))
    found = store.similarity_search_with_score("the oven does not heat", k=1, filter={"year": {"$gte": 2020}})
    check("LangChain: a range filter on year and a repair question find the oven repair",
          [d.metadata["name"] for d, _ in found] == ["oven-repair"], str(found))
    store.delete(ids=["oven-repair"])
    found = store.similarity_search("the oven does not heat", k=1, filter={"topic": {"$eq": "repair"}})
    check("LangChain: a deleted document is no longer found", [d.metadata["name"] for d in found] != ["oven-repair"])


def test_llamaindex():
    from llama_index.core.schema import TextNode
    from llama_index.core.vector_stores import (FilterOperator, MetadataFilter, MetadataFilters,
                                                VectorStoreQuery)
    from llama_index.vector_stores.postgres import PGVectorStore

    create_database("frameworks_llamaindex")
    url = f"postgres@/frameworks_llamaindex?host={SOCKET_DIR}&port={PORT}"
    store = PGVectorStore.from_params(
        connection_string=f"postgresql+psycopg2://{url}",
        async_connection_string=f"postgresql+asyncpg://{url}",
        table_name="notes",
        embed_dim=DIMS,
        hnsw_kwargs={"hnsw_m": 16, "hnsw_ef_construction": 64, "hnsw_ef_search": 40,
                     "hnsw_dist_method": "vector_cosine_ops"},
    )
    nodes = [TextNode(text=text, id_=name, metadata={"name": name, "topic": topic, "year": year}, embedding=embed(text))
             for name, text, topic, year in DOCUMENTS]
    store.add(nodes)
    check("LlamaIndex: PGVectorStore created the extension, and it is Quiver",
          "Quiver" in (extension_comment("frameworks_llamaindex") or ""))
    check("LlamaIndex: PGVectorStore created its hnsw index", len(index_methods("frameworks_llamaindex")) == 1,
          str(index_methods("frameworks_llamaindex")))
    query = VectorStoreQuery(query_embedding=embed("How do I bake bread in the oven?"), similarity_top_k=2,
                             filters=MetadataFilters(filters=[MetadataFilter(key="topic", value="cooking")]))
    result = store.query(query)
    names = [n.metadata["name"] for n in result.nodes]
    check("LlamaIndex: a cooking question under a topic filter finds the bread recipe first", names[:1] == ["bread"], str(names))
    check("LlamaIndex: the filter keeps other topics out", all(n.metadata["topic"] == "cooking" for n in result.nodes))
    query = VectorStoreQuery(query_embedding=embed("the oven does not heat"), similarity_top_k=1,
                             filters=MetadataFilters(filters=[MetadataFilter(key="year", value=2020,
                                                                             operator=FilterOperator.GTE)]))
    names = [n.metadata["name"] for n in store.query(query).nodes]
    check("LlamaIndex: a range filter on year and a repair question find the oven repair", names == ["oven-repair"], str(names))
    store.delete_nodes(node_ids=["oven-repair"])
    names = [n.metadata["name"] for n in store.query(query).nodes]
    check("LlamaIndex: a deleted node is no longer found", names != ["oven-repair"], str(names))
    asyncio.run(store.close())


def main():
    run("LangChain", test_langchain)
    run("LlamaIndex", test_llamaindex)
    return summary("frameworks")


if __name__ == "__main__":
    sys.exit(main())
