#!/usr/bin/env bash
# pgvector-python's own test suite (its sdist's tests/, from PyPI, at the
# version tests/clients/requirements.txt pins) against the drop-in `vector`:
# VENV PORT. Its tests connect to localhost's default port as the login
# user (pg8000 takes no other), to the database pgvector_python_test; so a
# cluster of its own listens there. The sdist ships its tests without the
# two files that make them a package: an empty __init__.py, and a conftest
# that imports numpy (what the tests import from it). Four asyncpg cases
# fail on pgvector 0.8.5 as well (SQLAlchemy's asyncpg dialect, "another
# operation is in progress"); every other case must pass.
set -euo pipefail
cd "$(dirname "$0")/../.."
source tests/lib/cluster.sh
venv=$1
version=$(sed -n 's/^pgvector==//p' tests/clients/requirements.txt)
cache=target/datasets/pgvector-python-$version
if [ ! -d "$cache/tests" ]; then
    rm -rf "$cache" && mkdir -p "$cache"
    "$venv/bin/pip" download -q --disable-pip-version-check --no-deps --no-binary :all: \
        -d "$cache" "pgvector==$version"
    tar xzf "$cache/pgvector-$version.tar.gz" -C "$cache" --strip-components=1
    touch "$cache/tests/__init__.py"
    echo "import numpy" >"$cache/tests/conftest.py"
fi
if (exec 3<>/dev/tcp/127.0.0.1/5432) 2>/dev/null; then
    echo "not ok: pgvector-python's suite needs port 5432 of localhost, which is taken" >&2
    exit 1
fi
throwaway_cluster pgvector-python 5432 "listen_addresses = 'localhost'"
cluster_psql "$CLUSTER_DIR" 5432 postgres -q -c "CREATE ROLE \"$(id -un)\" SUPERUSER LOGIN" \
    -c "CREATE DATABASE pgvector_python_test OWNER \"$(id -un)\""
known="tests/test_sqlalchemy.py::TestSqlalchemyAsync::test_bit[engine2]
tests/test_sqlalchemy.py::TestSqlalchemyAsync::test_sparsevec[engine2]
tests/test_sqlalchemy.py::TestSqlalchemyAsync::test_avg[engine2]
tests/test_sqlalchemy.py::TestSqlalchemyAsyncArray::test_vector_array[engine1]"
report=$(cd "$cache" && PGHOST=localhost PGPORT=5432 "../../../$venv/bin/python" -m pytest -q -p no:cacheprovider -rf 2>&1) || true
summary=$(tail -n 1 <<<"$report")
failed=$(sed -n 's/^FAILED \([^ ]*\).*/\1/p' <<<"$report" | sort)
unexpected=$(comm -23 <(echo "$failed") <(sort <<<"$known") | sed '/^$/d')
passed=$(grep -o '[0-9]* passed' <<<"$summary" | cut -d' ' -f1)
if [ -z "$unexpected" ] && [ "${passed:-0}" -ge 500 ]; then
    echo "ok: pgvector-python $version's test suite on the drop-in: $summary (the failures are the four pgvector fails too)"
else
    echo "not ok: pgvector-python $version's test suite on the drop-in: $summary"
    echo "$report" | tail -n 60
    exit 1
fi
