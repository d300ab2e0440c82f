#!/usr/bin/env bash
# make examples [CHECK=1]: the retrieval examples on a throwaway cluster, with
# all-MiniLM-L6-v2 embeddings computed offline: RAG in plain SQL with metadata
# filters, hybrid search (full text and vectors fused by RRF in one query),
# and the same retrieval through LangChain and LlamaIndex on Quiver installed
# as `vector`. With --check each exits 1 unless every question finds its
# document (pg_test/examples.sh). Quiver must be installed.
set -euo pipefail
cd "$(dirname "$0")/.."
source tests/lib/cluster.sh
source tests/lib/venv.sh
check=()
[ "${1:-}" != --check ] || check=(--check)

venv=$(examples_venv)
bash .ci/install_as_vector.sh >/dev/null

port=${EXAMPLES_PORT:-54339}
throwaway_cluster examples "$port"
for db in rag_sql hybrid; do
    cluster_psql "$CLUSTER_DIR" "$port" postgres -q -c "CREATE DATABASE $db"
done
status=0
cd examples
echo "=== RAG in plain SQL (examples/rag_sql.py)"
"../$venv/bin/python" rag_sql.py --dsn "host=$CLUSTER_DIR port=$port user=postgres dbname=rag_sql" "${check[@]}" || status=1
echo
echo "=== hybrid search (examples/hybrid_search.py)"
"../$venv/bin/python" hybrid_search.py --dsn "host=$CLUSTER_DIR port=$port user=postgres dbname=hybrid" "${check[@]}" || status=1
echo
echo "=== LangChain and LlamaIndex (examples/rag_frameworks.py)"
"../$venv/bin/python" rag_frameworks.py --socket "$CLUSTER_DIR" --port "$port" "${check[@]}" || status=1
exit $status
