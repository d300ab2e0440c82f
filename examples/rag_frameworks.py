"""The same retrieval through LangChain (PGVector, langchain-postgres) and
LlamaIndex (PGVectorStore), with the same all-MiniLM-L6-v2 embeddings, on
Quiver installed as `vector` (make install-as-vector): each framework creates
the extension and its table itself, stores the documents with their metadata,
and answers the questions under a metadata filter.

usage: python examples/rag_frameworks.py --socket DIR --port N [--db NAME] [--check]
"""
import argparse
import asyncio
import sys

import psycopg

from corpus import DOCUMENTS, QUESTIONS
from docs_table import report
from minilm import MiniLM


def langchain(url, model, check):
    from langchain_core.documents import Document
    from langchain_core.embeddings import Embeddings
    from langchain_postgres import PGVector

    class MiniLMEmbeddings(Embeddings):
        def embed_documents(self, texts):
            return model.embed(texts).tolist()

        def embed_query(self, text):
            return model.embed([text])[0].tolist()

    store = PGVector(embeddings=MiniLMEmbeddings(), collection_name="corpus", connection=f"postgresql+psycopg://{url}",
                     embedding_length=384, use_jsonb=True, pre_delete_collection=True)
    store.add_documents([Document(page_content=f"{title}. {body}", metadata={"id": i, "topic": topic, "year": year})
                         for i, title, body, topic, year in DOCUMENTS], ids=[str(i) for i, *_ in DOCUMENTS])
    failures = 0
    for question, topic, expected in QUESTIONS:
        found = store.similarity_search_with_score(question, k=3, filter={"topic": {"$eq": topic}} if topic else None)
        print(f"\nLangChain Q: {question}" + (f"  [topic = {topic}]" if topic else ""))
        for document, distance in found:
            print(f"  {1 - distance:.3f}  #{document.metadata['id']} {document.page_content[:60]}")
        failures = report([d.metadata["id"] for d, _ in found], expected, check, failures)
    return failures


def llamaindex(url, model, check):
    from llama_index.core.schema import TextNode
    from llama_index.core.vector_stores import MetadataFilter, MetadataFilters, VectorStoreQuery
    from llama_index.vector_stores.postgres import PGVectorStore

    store = PGVectorStore.from_params(connection_string=f"postgresql+psycopg2://{url}",
                                      async_connection_string=f"postgresql+asyncpg://{url}",
                                      table_name="corpus", embed_dim=384,
                                      hnsw_kwargs={"hnsw_m": 16, "hnsw_ef_construction": 64, "hnsw_ef_search": 40,
                                                   "hnsw_dist_method": "vector_cosine_ops"})
    texts = [f"{title}. {body}" for _, title, body, _, _ in DOCUMENTS]
    store.add([TextNode(text=text, id_=str(i), metadata={"id": i, "topic": topic, "year": year}, embedding=e.tolist())
               for (i, _, _, topic, year), text, e in zip(DOCUMENTS, texts, model.embed(texts))])
    failures = 0
    for question, topic, expected in QUESTIONS:
        filters = MetadataFilters(filters=[MetadataFilter(key="topic", value=topic)]) if topic else None
        result = store.query(VectorStoreQuery(query_embedding=model.embed([question])[0].tolist(), similarity_top_k=3,
                                              filters=filters))
        print(f"\nLlamaIndex Q: {question}" + (f"  [topic = {topic}]" if topic else ""))
        for node, similarity in zip(result.nodes, result.similarities):
            print(f"  {similarity:.3f}  #{node.metadata['id']} {node.text[:60]}")
        failures = report([n.metadata["id"] for n in result.nodes], expected, check, failures)
    asyncio.run(store.close())
    return failures


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--socket", required=True, help="the server's Unix socket directory")
    parser.add_argument("--port", type=int, default=5432)
    parser.add_argument("--db", default="rag_frameworks")
    parser.add_argument("--check", action="store_true")
    args = parser.parse_args()
    with psycopg.connect(f"host={args.socket} port={args.port} user=postgres dbname=postgres", autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (args.db,)).fetchone():
            conn.execute(f'CREATE DATABASE "{args.db}"')
    url = f"postgres@/{args.db}?host={args.socket}&port={args.port}"
    model = MiniLM()
    failures = langchain(url, model, args.check) + llamaindex(url, model, args.check)
    return 1 if args.check and failures else 0


if __name__ == "__main__":
    sys.exit(main())
