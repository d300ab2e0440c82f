#!/usr/bin/env bash
# Installs the Quiver build already installed into PG_CONFIG's PostgreSQL a
# second time under the extension name `vector`: the same library, control
# file and scripts, renamed. Refuses to replace pgvector's files unless FORCE=1.
set -euo pipefail
PG_CONFIG=${PG_CONFIG:-/usr/lib/postgresql/15/bin/pg_config}
share=$("$PG_CONFIG" --sharedir)/extension
lib=$("$PG_CONFIG" --pkglibdir)
marker="Quiver, installed as vector"

if [ ! -f "$share/quiver.control" ] || [ ! -f "$lib/quiver.so" ]; then
    echo "install-as-vector: Quiver is not installed in $share (run make install first)" >&2
    exit 1
fi
if [ -f "$share/vector.control" ] && ! grep -qF "$marker" "$share/vector.control" && [ "${FORCE:-}" != 1 ]; then
    echo "install-as-vector: $share/vector.control is not Quiver's: pgvector is installed in this" >&2
    echo "PostgreSQL. Use CREATE EXTENSION quiver in a database of its own, or FORCE=1 to replace" >&2
    echo "pgvector's files (its databases then run on Quiver; REINDEX their hnsw indexes)." >&2
    exit 1
fi

# Scripts of a previous install as vector go, so none is left of another version.
rm -f "$share"/vector--*.sql
for script in "$share"/quiver--*.sql; do
    cp "$script" "$share/vector--${script#"$share"/quiver--}"
done
sed -e "s|\$libdir/quiver|\$libdir/vector|" -e "s|^comment = '\(.*\)'\$|comment = '$marker: \1'|" \
    "$share/quiver.control" >"$share/vector.control"
cp "$lib/quiver.so" "$lib/vector.so"
echo "install-as-vector: CREATE EXTENSION vector now installs Quiver ($share/vector.control)"
