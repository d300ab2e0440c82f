#!/usr/bin/env bash
# A throwaway cluster, 10,000 real Fashion-MNIST images as vectors with their
# category as metadata, and a nearest-neighbour search with a WHERE filter.
# Quiver must be installed (`make demo` does that first).
set -euo pipefail
cd "$(dirname "$0")/.."
source tests/lib/cluster.sh

port=${DEMO_PORT:-54330}
throwaway_cluster demo "$port"
dir=$CLUSTER_DIR
echo "== started a throwaway PostgreSQL cluster in $dir"
sql() { cluster_psql "$dir" "$port" postgres "$@"; }

sql -q <<'SQL'
CREATE EXTENSION quiver;
CREATE TABLE products (id int PRIMARY KEY, category text NOT NULL, embedding vector(784) NOT NULL);
SQL
echo "== loading 10,000 Fashion-MNIST images (28x28 pixels = vector(784))"
python3 examples/fashion_mnist.py --split test --limit 10000 | sql -q -c "COPY products FROM STDIN"
sql -q -c "ANALYZE products"
echo "== building an HNSW index (m = 16, ef_construction = 64)"
sql -c "\\timing on" -c "CREATE INDEX products_embedding ON products USING hnsw (embedding vector_l2_ops) WITH (m = 16, ef_construction = 64)"
sql -c "SELECT category, count(*) FROM products GROUP BY category ORDER BY category"

query="SELECT id, category, round((embedding <-> (SELECT embedding FROM products WHERE id = 0))::numeric, 1) AS l2_distance
FROM products
WHERE category = 'Sneaker'
ORDER BY embedding <-> (SELECT embedding FROM products WHERE id = 0)
LIMIT 5"
# Iterative scans are on by default: the index keeps walking the graph until
# the WHERE filter has let LIMIT rows through (shown explicitly here).
settings="SET hnsw.iterative_scan = strict_order"
echo "== the 5 sneakers that look most like product 0 (an ankle boot)"
echo "$settings;"
echo "$query;"
sql -c "$settings" -c "$query"
echo "== plan"
sql -c "$settings" -c "EXPLAIN (ANALYZE, COSTS OFF, SUMMARY OFF) $query"

echo "== product 0 and its nearest sneaker, as pictures"
best=$(sql -At -q -c "$settings" -c "SELECT id FROM ($query) nearest LIMIT 1")
sql -At -c "SELECT embedding FROM products WHERE id IN (0, $best) ORDER BY id <> 0" | python3 -c '
import sys
images = [list(map(float, line.strip()[1:-1].split(","))) for line in sys.stdin]
shades = " .:-=+*#%@"
for row in range(0, 28, 2):
    print("   ".join("".join(shades[int(img[row * 28 + col] / 256 * len(shades))] for col in range(28)) for img in images))
'
echo "== done; the cluster is stopped and removed"
