#!/usr/bin/env bash
# Quiver installed as `vector` (make install-as-vector) under the client
# libraries and ORMs pgvector users run, through pgvector-python's adapters
# (psycopg 3, psycopg2, asyncpg, pg8000, SQLAlchemy 2, SQLModel, Django,
# Peewee: tests/clients/clients.py), and under LangChain's and LlamaIndex's
# PostgreSQL stores (tests/clients/frameworks.py), which pin other versions of
# pgvector-python and SQLAlchemy and so get a virtualenv of their own.
# Quiver must be installed.
set -euo pipefail
cd "$(dirname "$0")/.."
source tests/lib/cluster.sh
source tests/lib/timing.sh

port=${CLIENTS_PORT:-54336}
bash .ci/install_as_vector.sh
throwaway_cluster clients "$port"

status=0
for suite in clients frameworks; do
    venv=tests/.venv
    requirements=tests/clients/requirements.txt
    if [ $suite = frameworks ]; then
        venv=tests/.venv-frameworks
        requirements=tests/clients/requirements-frameworks.txt
    fi
    make_venv() {
        [ -x "$venv/bin/python" ] || python3 -m venv "$venv"
        # pip checks the pins itself, quickly when they are all there already.
        "$venv/bin/pip" install -q --disable-pip-version-check -r "$requirements"
    }
    timed "pg_test/clients.sh > venv: $requirements" make_venv
    (cd tests/clients && "../../$venv/bin/python" $suite.py "$CLUSTER_DIR" "$port") || status=1
done
exit $status
