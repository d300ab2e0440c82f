# A coordinator and shard servers on this machine, as throwaway clusters, for
# the scale-out test and demo. Source this file after cluster.sh.
#
# Each shard holds a table `items (id, category, embedding)` with its own
# hnsw index. The coordinator holds `items` partitioned by hash of id, each
# partition a postgres_fdw foreign table on one shard, and `items_all`, every
# row in one local table with its own index: the single server to compare with.

# Settings every server of the setup gets.
SCALEOUT_SETTINGS=("shared_buffers = 256MB" "maintenance_work_mem = 512MB" "max_connections = 40")

# scaleout_start PORT SHARDS: the coordinator on PORT, shard i on PORT + 1 + i,
# all in SCALEOUT_DIR; stopped and removed when the calling shell exits.
scaleout_start() {
    local port=$1 shards=$2 i
    SCALEOUT_DIR=$(mktemp -d /tmp/quiver-scaleout.XXXXXX)
    chmod 755 "$SCALEOUT_DIR"
    SCALEOUT_PORT=$port
    SCALEOUT_SHARDS=$shards
    trap scaleout_stop EXIT
    cluster_start "$SCALEOUT_DIR/coordinator" "$port" "${SCALEOUT_SETTINGS[@]}"
    for ((i = 0; i < shards; i++)); do
        cluster_start "$SCALEOUT_DIR/shard$i" $((port + 1 + i)) "${SCALEOUT_SETTINGS[@]}"
    done
}

scaleout_stop() {
    local dir
    for dir in "$SCALEOUT_DIR"/*/; do
        cluster_stop "${dir%/}" immediate
    done
    rm -rf "$SCALEOUT_DIR"
}

# coordinator [psql args...] and shard I [psql args...]: psql on one server.
coordinator() { cluster_psql "$SCALEOUT_DIR/coordinator" "$SCALEOUT_PORT" postgres "$@"; }
shard() {
    local i=$1
    shift
    cluster_psql "$SCALEOUT_DIR/shard$i" $((SCALEOUT_PORT + 1 + i)) postgres "$@"
}

# scaleout_schema DIMS OPCLASS EF_SEARCH: the tables on every server. The
# shards' hnsw.ef_search comes from the foreign servers' connection options:
# postgres_fdw does not forward the coordinator's SET.
scaleout_schema() {
    local dims=$1 opclass=$2 ef=$3 i
    for ((i = 0; i < SCALEOUT_SHARDS; i++)); do
        shard "$i" -q -c "CREATE EXTENSION quiver" \
            -c "CREATE TABLE items (id int PRIMARY KEY, category int NOT NULL, embedding vector($dims))"
    done
    coordinator -q -c "CREATE EXTENSION quiver" -c "CREATE EXTENSION postgres_fdw" \
        -c "CREATE TABLE items (id int NOT NULL, category int NOT NULL, embedding vector($dims)) PARTITION BY HASH (id)" \
        -c "CREATE TABLE items_all (id int PRIMARY KEY, category int NOT NULL, embedding vector($dims))"
    for ((i = 0; i < SCALEOUT_SHARDS; i++)); do
        # extensions: Quiver's operators and functions may be shipped to the
        # shards; async_capable: shards answer at once where the plan allows
        # (an Append; ORDER BY over partitions is a Merge Append, which is not);
        # fetch_size: rows per round trip, about a query's k; batch_size: rows
        # per remote INSERT. The options reach each shard's session:
        # hnsw.ef_search, and cursor_tuple_fraction, since postgres_fdw reads
        # through a cursor without LIMIT, which a shard would otherwise plan
        # as a sort of every row; jit, which that cost would switch on.
        coordinator -q -c "CREATE SERVER shard$i FOREIGN DATA WRAPPER postgres_fdw OPTIONS (
                host '$SCALEOUT_DIR/shard$i', port '$((SCALEOUT_PORT + 1 + i))', dbname 'postgres',
                extensions 'quiver', async_capable 'true', fetch_size '10', batch_size '1000',
                options '-c hnsw.ef_search=$ef -c cursor_tuple_fraction=0.001 -c jit=off')" \
            -c "CREATE USER MAPPING FOR postgres SERVER shard$i OPTIONS (user 'postgres')" \
            -c "CREATE FOREIGN TABLE items_shard$i PARTITION OF items
                FOR VALUES WITH (MODULUS $SCALEOUT_SHARDS, REMAINDER $i)
                SERVER shard$i OPTIONS (table_name 'items')"
    done
}

# scaleout_index OPCLASS: an hnsw index on every shard and on items_all,
# built after the rows are in (each shard builds its own, in parallel).
scaleout_index() {
    local opclass=$1 i pids=()
    for ((i = 0; i < SCALEOUT_SHARDS; i++)); do
        shard "$i" -q -c "CREATE INDEX items_embedding ON items USING hnsw (embedding $opclass)" \
            -c "ANALYZE items" &
        pids+=($!)
    done
    coordinator -q -c "CREATE INDEX items_all_embedding ON items_all USING hnsw (embedding $opclass)" \
        -c "ANALYZE items_all"
    wait "${pids[@]}"
    # The coordinator's statistics of the foreign partitions (sampled from the
    # shards): without them it guesses a few rows per partition, and may fetch
    # them all to sort them itself instead of asking each shard for its order.
    coordinator -q -c "ANALYZE items"
}

# scaleout_knn_function: on the coordinator, items_knn(query, k, category),
# the k nearest rows over every shard with the shards searching at once:
# PostgreSQL runs the Merge Append of `ORDER BY ... LIMIT` over partitions one
# shard after another, so this sends each shard its query through dblink's
# asynchronous calls (over the same foreign servers) before reading any answer.
scaleout_knn_function() {
    coordinator -q -c "CREATE EXTENSION dblink" -c "
        CREATE FUNCTION items_knn(query vector, k int, category int DEFAULT NULL)
        RETURNS TABLE (id int, distance float8) LANGUAGE plpgsql AS \$\$
        DECLARE
            servers text[] := ARRAY(
                SELECT s.srvname::text FROM pg_inherits i
                JOIN pg_foreign_table t ON t.ftrelid = i.inhrelid
                JOIN pg_foreign_server s ON s.oid = t.ftserver
                WHERE i.inhparent = 'items'::regclass ORDER BY 1);
            shard_sql text := format(
                'SELECT id, embedding <=> %L::vector FROM items WHERE %s ORDER BY embedding <=> %L::vector LIMIT %s',
                query, CASE WHEN category IS NULL THEN 'true' ELSE format('category = %s', category) END, query, k);
            server text;
            ids int[] := '{}';
            distances float8[] := '{}';
        BEGIN
            FOREACH server IN ARRAY servers LOOP
                IF NOT server = ANY (coalesce(dblink_get_connections(), '{}')) THEN
                    PERFORM dblink_connect(server, server);
                END IF;
                PERFORM dblink_send_query(server, shard_sql);
            END LOOP;
            FOREACH server IN ARRAY servers LOOP
                SELECT ids || array_agg(r.id), distances || array_agg(r.distance) INTO ids, distances
                FROM dblink_get_result(server) AS r(id int, distance float8);
                -- The empty result that ends the query, so the connection can take the next.
                PERFORM * FROM dblink_get_result(server) AS r(id int, distance float8);
            END LOOP;
            RETURN QUERY SELECT u.id, u.distance FROM unnest(ids, distances) AS u(id, distance)
                         ORDER BY u.distance LIMIT k;
        END \$\$"
}
