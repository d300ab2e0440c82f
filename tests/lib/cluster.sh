# Throwaway PostgreSQL clusters for tests and the demo. Source this file.
#
# Postgres refuses to run as root, so the cluster belongs to the `postgres`
# user; it listens only on a Unix socket inside its own directory, and trusts
# local connections, so root can connect with -U postgres.

: "${PG_CONFIG:=/usr/lib/postgresql/15/bin/pg_config}"
PG_BINDIR="$("$PG_CONFIG" --bindir)"

as_postgres() {
    if [ "$(id -un)" = postgres ]; then "$@"; else sudo -u postgres -- "$@"; fi
}

# cluster_start DIR PORT [extra postgres.conf lines...]
cluster_start() {
    local dir=$1 port=$2
    shift 2
    mkdir -p "$dir"
    chown postgres:postgres "$dir"
    as_postgres "$PG_BINDIR/initdb" -D "$dir/data" --no-locale -E UTF8 -A trust -U postgres >"$dir/initdb.log" 2>&1 ||
        { cat "$dir/initdb.log"; return 1; }
    {
        echo "listen_addresses = ''"
        echo "unix_socket_directories = '$dir'"
        echo "port = $port"
        echo "fsync = off"
        for line in "$@"; do echo "$line"; done
    } | as_postgres tee -a "$dir/data/postgresql.conf" >/dev/null
    as_postgres "$PG_BINDIR/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w start >/dev/null ||
        { cat "$dir/server.log"; return 1; }
}

# cluster_stop DIR [mode]
cluster_stop() {
    local dir=$1 mode=${2:-fast}
    if [ -f "$dir/data/postmaster.pid" ]; then
        as_postgres "$PG_BINDIR/pg_ctl" -D "$dir/data" -m "$mode" -w stop >/dev/null 2>&1 || true
    fi
}

# cluster_psql DIR PORT DB [psql args...]
cluster_psql() {
    local dir=$1 port=$2 db=$3
    shift 3
    "$PG_BINDIR/psql" -X -v ON_ERROR_STOP=1 -h "$dir" -p "$port" -U postgres -d "$db" "$@"
}

# throwaway_cluster NAME PORT [postgres.conf lines...]: starts a cluster in a
# new directory, CLUSTER_DIR, stopped and removed when the calling shell exits.
throwaway_cluster() {
    local name=$1 port=$2
    shift 2
    CLUSTER_DIR=$(mktemp -d "/tmp/quiver-$name.XXXXXX")
    # shellcheck disable=SC2064 # expand CLUSTER_DIR now
    trap "cluster_stop '$CLUSTER_DIR'; rm -rf '$CLUSTER_DIR'" EXIT
    cluster_start "$CLUSTER_DIR" "$port" "$@"
}

# fashion_mnist_cluster NAME PORT: a throwaway cluster with Quiver, 10,000
# Fashion-MNIST training images in `base` and 100 test images in `queries`.
fashion_mnist_cluster() {
    throwaway_cluster "$1" "$2" "shared_buffers = 256MB" "maintenance_work_mem = 512MB"
    local sql=(cluster_psql "$CLUSTER_DIR" "$2" postgres -q)
    "${sql[@]}" -c "CREATE EXTENSION quiver"
    "${sql[@]}" -c "CREATE TABLE base (id int PRIMARY KEY, category text, embedding vector(784))"
    "${sql[@]}" -c "CREATE TABLE queries (id int PRIMARY KEY, category text, embedding vector(784))"
    python3 examples/fashion_mnist.py --split train --limit 10000 | "${sql[@]}" -c "COPY base FROM STDIN"
    python3 examples/fashion_mnist.py --split test --limit 100 | "${sql[@]}" -c "COPY queries FROM STDIN"
    "${sql[@]}" -c "VACUUM ANALYZE base"
}

# real_data_cluster NAME PORT [postgres.conf lines...]: a throwaway cluster
# with Quiver and two real data sets, each a table and held-out queries:
# `glove` (100,000 GloVe 6B 50-d word vectors, cosine) with `glove_q` (500),
# and `fmnist` (the 60,000 Fashion-MNIST training images, L2) with `fmnist_q`
# (500 test images). Columns: id int, v vector(n). REAL_DATA="glove" or
# "fmnist" loads only that one.
real_data_cluster() {
    local name=$1 port=$2
    shift 2
    throwaway_cluster "$name" "$port" "shared_buffers = 1GB" "maintenance_work_mem = 1GB" "$@"
    local sql=(cluster_psql "$CLUSTER_DIR" "$port" postgres -q)
    "${sql[@]}" -c "CREATE EXTENSION quiver"
    local table dims dataset count
    for table in glove:50:glove:100000 fmnist:784:fashion-mnist:60000; do
        IFS=: read -r table dims dataset count <<<"$table"
        [[ " ${REAL_DATA:-glove fmnist} " == *" $table "* ]] || continue
        "${sql[@]}" -c "CREATE TABLE $table (id int PRIMARY KEY, v vector($dims))" \
                    -c "CREATE TABLE ${table}_q (id int PRIMARY KEY, v vector($dims))"
        python3 tests/lib/datasets.py "$dataset" base --count "$count" | "${sql[@]}" -c "COPY $table FROM STDIN"
        python3 tests/lib/datasets.py "$dataset" queries --count 500 | "${sql[@]}" -c "COPY ${table}_q FROM STDIN"
    done
    "${sql[@]}" -c "VACUUM ANALYZE"
}
