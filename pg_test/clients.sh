#!/usr/bin/env bash
# Quiver installed as `vector` (make install-as-vector) under the client
# libraries and ORMs pgvector users run, through pgvector-python's adapters
# (psycopg 3, psycopg2, asyncpg, pg8000, SQLAlchemy 2, SQLModel, Django,
# Peewee: tests/clients/clients.py), and under LangChain's and LlamaIndex's
# PostgreSQL stores (tests/clients/frameworks.py), which pin other versions of
# pgvector-python and SQLAlchemy and so run in the examples' virtualenv;
# then pgvector-python's own test suite (tests/clients/pgvector_python.sh).
# Quiver must be installed.
set -euo pipefail
cd "$(dirname "$0")/.."
source tests/lib/cluster.sh
source tests/lib/venv.sh

port=${CLIENTS_PORT:-54336}
bash .ci/install_as_vector.sh
throwaway_cluster clients "$port"

status=0
for suite in clients frameworks; do
    if [ $suite = clients ]; then venv=$(clients_venv); else venv=$(examples_venv); fi || exit 1
    (cd tests/clients && "../../$venv/bin/python" $suite.py "$CLUSTER_DIR" "$port") || status=1
done
bash tests/clients/pgvector_python.sh "$(clients_venv)" || status=1
exit $status
